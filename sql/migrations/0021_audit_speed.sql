-- 0021: the audit export's selection, counted from an index (issue 5's
-- 200,000 lines/s).
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
