-- 0018: what two sessions doing the same thing at the same moment meet
-- (both found by tests/e2e/14_stress.sh, 16 clients at once).
--
-- 1. Two audit exports of one book.  An export reads the book in one
--    REPEATABLE READ transaction whose snapshot is taken when audit_begin
--    starts, before its advisory lock waits for another export of the same
--    book to finish.  The second export then names as its predecessor (X1)
--    the package before the first one's, and its INSERT met the first one's
--    package number: a raw unique violation.  audit_record now says what
--    happened as a serialization failure (40001), which the client answers
--    by running the whole export again on a fresh snapshot (ledger/db.c's
--    whole-transaction retry, reports/audit_export.c), so that the second
--    package follows the first.

CREATE OR REPLACE FUNCTION earmark.audit_record(p_book text, p_from date, p_to date, p_chain_seq bigint,
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
	BEGIN
		INSERT INTO earmark.audit_package (book_id, package_no, period_from, period_to, chain_seq,
		                                   chain_hash, prev_digest, signature_digest, exported_by)
		VALUES (b, COALESCE(last_no, 0) + 1, p_from, p_to, p_chain_seq,
		        pg_catalog.decode(p_chain_hash, 'hex'), pg_catalog.decode(p_prev, 'hex'),
		        pg_catalog.decode(p_signature, 'hex'), who);
	EXCEPTION WHEN unique_violation THEN
		RAISE EXCEPTION 'another audit export of book ''%'' recorded package no. % first (X1)',
			p_book, COALESCE(last_no, 0) + 1
			USING ERRCODE = '40001',
			      HINT = 'export again: the new package will follow that one';
	END;
	RETURN COALESCE(last_no, 0) + 1;
END
$$;

-- 2. Two clerks reversing one voucher at the same moment: both pass the D4
-- check above (neither sees the other's reversal yet) and the second's
-- INSERT met the unique (book_id, reverses_id) as a raw constraint error
-- It is now D4's own message; the
-- same race on an idempotency key is a serialization failure, which the
-- client retries and then answers with the first session's voucher (D9).
CREATE OR REPLACE FUNCTION earmark.voucher_reverse(p_book text, p_ref text, p_date date, p_idem_key text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	o earmark.voucher := earmark.voucher_find(b, p_ref);
	dig bytea;
	v bigint;
	prev earmark.voucher;
	cname text;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_clerk', 'prepare vouchers');
	dig := pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_build_object(
		'reverse', o.voucher_id, 'date', p_date)::text, 'UTF8'));
	IF p_idem_key IS NOT NULL THEN
		SELECT voucher_id INTO v FROM earmark.voucher
		 WHERE book_id = b AND idem_key = p_idem_key AND idem_digest = dig;
		IF FOUND THEN
			RETURN v;
		END IF;
		IF EXISTS (SELECT 1 FROM earmark.voucher WHERE book_id = b AND idem_key = p_idem_key) THEN
			RAISE EXCEPTION 'idempotency key ''%'' was used for other content (D9)', p_idem_key
				USING ERRCODE = 'EMD09';
		END IF;
	END IF;
	IF o.status <> 'posted' THEN
		RAISE EXCEPTION 'voucher % is not posted; a draft is discarded, not reversed (D4)', p_ref
			USING ERRCODE = 'EMD04', HINT = 'earmark voucher discard removes a draft';
	END IF;
	IF o.reverses_id IS NOT NULL THEN
		RAISE EXCEPTION 'voucher % is itself a reversal (D4)', o.number_text USING ERRCODE = 'EMD04',
			HINT = 'post a new correct voucher instead';
	END IF;
	SELECT * INTO prev FROM earmark.voucher WHERE book_id = b AND reverses_id = o.voucher_id;
	IF FOUND THEN
		RAISE EXCEPTION 'voucher % is already reversed (D4)', o.number_text USING ERRCODE = 'EMD04',
			DETAIL = pg_catalog.format('by %s', COALESCE(prev.number_text, 'draft #' || prev.voucher_id)),
			HINT = 'a voucher is reversed at most once';
	END IF;
	PERFORM earmark.raise_problems(ARRAY[earmark.date_problem(b, p_date)]);
	BEGIN
		INSERT INTO earmark.voucher (book_id, vtype, voucher_date, memo, reverses_id, idem_key,
		                             idem_digest, prepared_by, prepared_at)
		VALUES (b, o.vtype, p_date, '冲销 ' || o.number_text || CASE WHEN o.memo <> '' THEN ' ' || o.memo ELSE '' END,
		        o.voucher_id, p_idem_key, CASE WHEN p_idem_key IS NOT NULL THEN dig END, who, pg_catalog.now())
		RETURNING voucher_id INTO v;
	EXCEPTION WHEN unique_violation THEN
		-- Another session reversed it (or used the key) since the checks
		-- above read the book.
		GET STACKED DIAGNOSTICS cname = CONSTRAINT_NAME;
		IF cname = 'voucher_book_id_reverses_id_key' THEN
			RAISE EXCEPTION 'voucher % is already reversed (D4)', o.number_text USING ERRCODE = 'EMD04',
				DETAIL = 'by a reversal another session made at the same moment',
				HINT = 'a voucher is reversed at most once';
		END IF;
		RAISE EXCEPTION 'another session used idempotency key ''%'' at the same moment (D9)', p_idem_key
			USING ERRCODE = '40001', HINT = 'run the command again: it then answers that session''s voucher';
	END;
	INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id,
	                          project_id, village_id, household_id, bank_account_id, category_id, memo)
	SELECT b, v, line_no, account_id, side, -amount_fen, fund_id, project_id, village_id,
	       household_id, bank_account_id, category_id, memo
	  FROM earmark.line WHERE book_id = b AND voucher_id = o.voucher_id;
	RETURN v;
END
$$;
