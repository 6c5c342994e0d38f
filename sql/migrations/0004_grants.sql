-- 0004 who may do what (DESIGN section 8).
--
-- Application roles own nothing and write nothing directly: no INSERT,
-- UPDATE, DELETE or TRUNCATE on any table.  Readers in the office get
-- SELECT on the ledger; earmark_public gets nothing here (it will read
-- published notices only).  Functions are not executable by PUBLIC: each
-- write function goes to the one group role whose job it is.

REVOKE ALL ON ALL TABLES IN SCHEMA earmark FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA earmark FROM PUBLIC;
-- Not IN SCHEMA: per-schema defaults only add to the global ones, which grant EXECUTE to PUBLIC.
ALTER DEFAULT PRIVILEGES FOR ROLE earmark_owner REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;

GRANT USAGE ON SCHEMA earmark TO earmark_clerk, earmark_reviewer, earmark_bookkeeper,
	earmark_cashier, earmark_admin, earmark_auditor, earmark_public;

GRANT SELECT ON earmark.book, earmark.account, earmark.use_category, earmark.dedicated_account,
	earmark.fund, earmark.village, earmark.household, earmark.project, earmark.period,
	earmark.voucher, earmark.line, earmark.line_coded, earmark.period_balance, earmark.fund_cash,
	earmark.chain_head
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin,
	   earmark_auditor;

-- Read helpers, run with the caller's rights.
GRANT EXECUTE ON FUNCTION earmark.fmt_fen(numeric), earmark.actor(), earmark.book_of(text),
	earmark.trial_balance(text, date, text), earmark.verify_chain(text),
	earmark.canonical_text(earmark.voucher), earmark.canon_escape(text),
	earmark.chain_step(bytea, earmark.voucher), earmark.voucher_find(integer, text)
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin,
	   earmark_auditor;

GRANT EXECUTE ON FUNCTION earmark.voucher_draft(text, date, text, text, text, jsonb),
	earmark.voucher_reverse(text, text, date, text), earmark.voucher_discard(text, text)
	TO earmark_clerk;
GRANT EXECUTE ON FUNCTION earmark.voucher_review(text, text) TO earmark_reviewer;
GRANT EXECUTE ON FUNCTION earmark.voucher_reject(text, text) TO earmark_reviewer, earmark_bookkeeper;
GRANT EXECUTE ON FUNCTION earmark.voucher_post(text, text) TO earmark_bookkeeper;
GRANT EXECUTE ON FUNCTION earmark.book_create(text, text, date, jsonb),
	earmark.master_import(text, text, jsonb), earmark.period_close(text, date)
	TO earmark_admin;
