-- 0021: the audit export's selection, counted from an index (issue 5's
-- 200,000 lines/s); and an auditor who sees only some townships refused
-- at the start (at the end of this file).
--
-- `earmark audit export` first counts the period's posted vouchers (the
-- ledger's NumberOfEntries, written before the entries) and finds the
-- first and last chain position among them: the entries' COPY then walks
-- the chain (UNIQUE (book_id, chain_seq)) between those two positions, in
-- chain order, with no sort of the period (reports/audit_export.c).  With
-- only voucher_book_date that count visits every voucher of the period in
-- the heap to read its status and chain_seq: 0.1 to 0.7 s for 250,000
-- vouchers, depending on what the cache holds.  This index holds the
-- posted vouchers only, by book and date, with their chain position, so the
-- count, min and max are an index-only scan.
--
-- Status is already in an index's predicate (voucher_book_status, 0001),
-- so a status change was never a HOT update: posting pays one more index
-- entry per voucher, not a lost HOT update.

CREATE INDEX voucher_posted_date ON earmark.voucher (book_id, voucher_date) INCLUDE (chain_seq)
	WHERE status = 'posted';

-- An audit package covers the whole book (DESIGN section 6).  An auditor
-- limited to some townships (0016's township scope) sees only their lines,
-- so the export stopped late, with the kept totals disagreeing with the
-- lines it could read; it is now refused at the start, saying why.
CREATE OR REPLACE FUNCTION earmark.audit_begin(p_book text)
RETURNS TABLE (package_no integer, signature_digest text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
BEGIN
	PERFORM earmark.require_role(who, 'earmark_auditor', 'export an audit package');
	IF b = ANY (earmark.scope_books()) THEN
		RAISE EXCEPTION 'an audit package covers the whole book, and ''%'' sees only some townships of book ''%'' (township scope)',
			who, p_book
			USING ERRCODE = 'EMT01',
			      HINT = pg_catalog.format('have an auditor of the whole county export it, or give ''%s'' the county back: earmark user scope %s --county',
			                               who, who);
	END IF;
	PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('earmark.audit_package'), b);
	RETURN QUERY
	SELECT COALESCE(max(p.package_no), 0),
	       (SELECT pg_catalog.encode(q.signature_digest, 'hex') FROM earmark.audit_package q
	         WHERE q.book_id = b ORDER BY q.package_no DESC LIMIT 1)
	  FROM earmark.audit_package p WHERE p.book_id = b;
END
$$;
