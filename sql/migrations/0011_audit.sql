-- 0011 signed audit packages (DESIGN section 6).
--
-- Every package `earmark audit export` writes is recorded here with the
-- SHA-256 of its META-INF/signatures001.xml, and each package names the
-- previous package's digest in its control.xml: the packages of a book form
-- a chain, so an auditor holding package n can prove that package n+1 was
-- made after it and from the same books.  The rule (named X1 here) lives in
-- audit_record: a package is recorded only when it names the digest of the
-- book's last package (none for the first), under a per-book lock taken by
-- audit_begin, so two exports at once cannot both claim the same parent.
--
-- The auditor reads households only through audit_households, which masks
-- the head's name, the ID number and the bank card (H4); earmark_auditor
-- has no SELECT on household_private (0009).

CREATE TABLE earmark.audit_package (
	book_id          integer NOT NULL REFERENCES earmark.book,
	package_no       integer NOT NULL CHECK (package_no > 0),   -- 1, 2, 3 ... per book
	period_from      date NOT NULL,
	period_to        date NOT NULL,
	chain_seq        bigint NOT NULL CHECK (chain_seq >= 0),    -- the chain head it carries (D8)
	chain_hash       bytea NOT NULL CHECK (pg_catalog.length(chain_hash) = 32),
	prev_digest      bytea CHECK (pg_catalog.length(prev_digest) = 32),
	signature_digest bytea NOT NULL UNIQUE CHECK (pg_catalog.length(signature_digest) = 32),
	exported_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
	exported_by      name NOT NULL,
	PRIMARY KEY (book_id, package_no),
	CHECK (period_to >= period_from),
	CHECK ((package_no = 1) = (prev_digest IS NULL))
);

-- Recorded packages never change (as D3 for vouchers).
CREATE FUNCTION earmark.audit_package_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RAISE EXCEPTION 'audit packages are append-only (X1)' USING ERRCODE = 'EMX01',
		HINT = 'export a new package; it names the last one';
END
$$;
CREATE TRIGGER audit_package_append_only BEFORE UPDATE OR DELETE ON earmark.audit_package
	FOR EACH ROW EXECUTE FUNCTION earmark.audit_package_guard();
CREATE TRIGGER audit_package_no_truncate BEFORE TRUNCATE ON earmark.audit_package
	FOR EACH STATEMENT EXECUTE FUNCTION earmark.audit_package_guard();

-- Starts an export: takes the book's audit lock for the rest of the
-- transaction and answers the last package's number and signature digest
-- (hex), or 0 and NULL before the first.
CREATE FUNCTION earmark.audit_begin(p_book text)
RETURNS TABLE (package_no integer, signature_digest text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
BEGIN
	PERFORM earmark.require_role(who, 'earmark_auditor', 'export an audit package');
	PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('earmark.audit_package'), b);
	RETURN QUERY
	SELECT COALESCE(max(p.package_no), 0),
	       (SELECT pg_catalog.encode(q.signature_digest, 'hex') FROM earmark.audit_package q
	         WHERE q.book_id = b ORDER BY q.package_no DESC LIMIT 1)
	  FROM earmark.audit_package p WHERE p.book_id = b;
END
$$;

-- Records a written package (X1): it must name the last package's digest.
CREATE FUNCTION earmark.audit_record(p_book text, p_from date, p_to date, p_chain_seq bigint,
                                     p_chain_hash text, p_prev text, p_signature text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	last_no integer;
	last_digest text;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_auditor', 'export an audit package');
	PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('earmark.audit_package'), b);
	SELECT p.package_no, pg_catalog.encode(p.signature_digest, 'hex') INTO last_no, last_digest
	  FROM earmark.audit_package p WHERE p.book_id = b ORDER BY p.package_no DESC LIMIT 1;
	IF p_prev IS DISTINCT FROM last_digest THEN
		RAISE EXCEPTION 'audit package does not name the last package of book ''%'' (X1)', p_book
			USING ERRCODE = 'EMX01',
			      DETAIL = pg_catalog.format('it names %s; the last package (no. %s) is %s',
			                                 COALESCE(p_prev, 'none'), COALESCE(last_no, 0),
			                                 COALESCE(last_digest, 'none')),
			      HINT = 'export again: each package names the signature digest of the one before';
	END IF;
	INSERT INTO earmark.audit_package (book_id, package_no, period_from, period_to, chain_seq,
	                                   chain_hash, prev_digest, signature_digest, exported_by)
	VALUES (b, COALESCE(last_no, 0) + 1, p_from, p_to, p_chain_seq,
	        pg_catalog.decode(p_chain_hash, 'hex'), pg_catalog.decode(p_prev, 'hex'),
	        pg_catalog.decode(p_signature, 'hex'), who);
	RETURN COALESCE(last_no, 0) + 1;
END
$$;

-- Households as the package shows them: personal data masked (H4).
CREATE FUNCTION earmark.audit_households(p_book text)
RETURNS TABLE (code text, village text, head_name text, id_no text, bank_card text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
BEGIN
	PERFORM earmark.require_role(who, 'earmark_auditor', 'export an audit package');
	RETURN QUERY
	SELECT h.code, v.code, earmark.mask_name(h.head_name), earmark.mask_id(hp.id_no),
	       earmark.mask_card(NULLIF(hp.bank_card, ''))
	  FROM earmark.household h
	  JOIN earmark.village v ON v.book_id = h.book_id AND v.village_id = h.village_id
	  LEFT JOIN earmark.household_private hp
	         ON hp.book_id = h.book_id AND hp.household_id = h.household_id
	 WHERE h.book_id = b
	 ORDER BY h.code;
END
$$;

REVOKE ALL ON earmark.audit_package FROM PUBLIC;
REVOKE ALL ON FUNCTION earmark.audit_begin(text), earmark.audit_households(text),
	earmark.audit_record(text, date, date, bigint, text, text, text),
	earmark.audit_package_guard() FROM PUBLIC;
GRANT SELECT ON earmark.audit_package
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin,
	   earmark_auditor;
GRANT EXECUTE ON FUNCTION earmark.audit_begin(text), earmark.audit_households(text),
	earmark.audit_record(text, date, date, bigint, text, text, text)
	TO earmark_auditor;
