-- 余额调节表 (0012; DESIGN flow 5): earmark.reconciliation and
-- reconciliation_items for a dedicated account as of a date.  Items in
-- transit both ways: bank in / out not yet in the book (interest, a fee),
-- book in / out not yet at the bank (a receipt and a payment at month
-- end).  Every figure is checked against an independent sum over the rows;
-- the adjusted balances agree, as of the month end and mid-month, and still
-- after an unmatch (which moves an item to both sides).  A date before the
-- book began is refused.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(12);

CREATE ROLE t_rc_admin LOGIN;
GRANT earmark_admin TO t_rc_admin;
CREATE ROLE t_rc_clerk LOGIN;
GRANT earmark_clerk TO t_rc_clerk;
CREATE ROLE t_rc_rev LOGIN;
GRANT earmark_reviewer TO t_rc_rev;
CREATE ROLE t_rc_bk LOGIN;
GRANT earmark_bookkeeper TO t_rc_bk;
CREATE ROLE t_rc_cashier LOGIN;
GRANT earmark_cashier TO t_rc_cashier;
CREATE ROLE t_rc_auditor LOGIN;
GRANT earmark_auditor TO t_rc_auditor;
SET earmark_test.people = 't_rc';
\ir fixture/helpers.psql

SET ROLE t_rc_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "2303", "name": "应付政府补贴款", "kind": "liability", "normal_side": "C"},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "source": "b.csv:2"}]$$) AS n \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2026, "amount_fen": 500000000, "bank_account": "622800000001", "source": "f.csv:2"}]$$) AS n \gset
RESET ROLE;
-- Before the first statement; during October; at its end (not yet at the bank).
SELECT pg_temp.post('B1', '2026-09-01', jsonb_build_array(pg_temp.ln('1002', 'D', 20000000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 20000000, 'F1')), '资金到账') AS v1 \gset
SELECT pg_temp.post('B1', '2026-10-05', jsonb_build_array(pg_temp.ln('1002', 'D', 5000000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 5000000, 'F1')), '资金到账二') AS v2 \gset
SELECT pg_temp.post('B1', '2026-10-19', jsonb_build_array(pg_temp.ln('2303', 'D', 300000, 'F1'), pg_temp.ln('1002', 'C', 300000, 'F1', '622800000001')), '支付') AS v3 \gset
SELECT pg_temp.post('B1', '2026-10-30', jsonb_build_array(pg_temp.ln('1002', 'D', 800000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 800000, 'F1')), '资金到账三') AS v4 \gset
SELECT pg_temp.post('B1', '2026-10-31', jsonb_build_array(pg_temp.ln('2303', 'D', 70000, 'F1'), pg_temp.ln('1002', 'C', 70000, 'F1', '622800000001')), '月末支付') AS v5 \gset
SET ROLE t_rc_cashier;
SELECT statement_id AS s1 FROM earmark.statement_import('B1', '622800000001', $${"ref": "OCT", "format": "camt053",
	"account": "622800000001", "currency": "CNY", "from": "2026-10-01", "to": "2026-10-31",
	"opening_fen": 20000000, "closing_fen": 24695634, "lines": [
	{"booking_date": "2026-10-05", "amount_fen": 5000000, "reference": "拨款"},
	{"booking_date": "2026-10-20", "amount_fen": -300000, "reference": "支付"},
	{"booking_date": "2026-10-25", "amount_fen": 1234, "reference": "结息"},
	{"booking_date": "2026-10-28", "amount_fen": -5600, "reference": "手续费"}]}$$) \gset
SELECT results_eq($$SELECT by_end_to_end, by_amount, returned, uncleared FROM earmark.statement_match_auto('B1', '622800000001')$$,
	$$VALUES (0, 2, 0, 2)$$, 'reconcile: the receipt and the payment match by amount within the window');
RESET ROLE;

-- The same figures from the rows alone.
CREATE FUNCTION pg_temp.independent(d date) RETURNS TABLE (book bigint, bank bigint, bank_in bigint, bank_out bigint,
                                                           book_in bigint, book_out bigint)
LANGUAGE sql STABLE AS $$
	WITH bl AS (SELECT l.voucher_id, l.line_no, v.voucher_date,
	                   CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END AS amt
	              FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
	             WHERE l.bank_account_id IS NOT NULL AND v.status = 'posted' AND v.voucher_date <= d),
	     sl AS (SELECT s.statement_id, s.line_no, s.amount_fen,
	                   EXISTS (SELECT 1 FROM earmark.bank_match m WHERE m.statement_id = s.statement_id
	                             AND m.line_no = s.line_no AND m.unmatched_at IS NULL) AS matched
	              FROM earmark.statement_line s WHERE s.booking_date <= d)
	SELECT (SELECT sum(amt) FROM bl)::bigint,
	       ((SELECT opening_fen FROM earmark.bank_statement) + COALESCE((SELECT sum(amount_fen) FROM sl), 0))::bigint,
	       COALESCE((SELECT sum(amount_fen) FROM sl WHERE NOT matched AND amount_fen > 0), 0)::bigint,
	       COALESCE((SELECT sum(amount_fen) FROM sl WHERE NOT matched AND amount_fen < 0), 0)::bigint,
	       COALESCE((SELECT sum(amt) FROM bl WHERE voucher_date >= '2026-10-01' AND amt > 0 AND NOT EXISTS (
	           SELECT 1 FROM earmark.bank_match m JOIN earmark.statement_line s USING (book_id, statement_id, line_no)
	            WHERE m.voucher_id = bl.voucher_id AND m.voucher_line_no = bl.line_no AND m.unmatched_at IS NULL AND s.booking_date <= d)), 0)::bigint,
	       COALESCE((SELECT sum(amt) FROM bl WHERE voucher_date >= '2026-10-01' AND amt < 0 AND NOT EXISTS (
	           SELECT 1 FROM earmark.bank_match m JOIN earmark.statement_line s USING (book_id, statement_id, line_no)
	            WHERE m.voucher_id = bl.voucher_id AND m.voucher_line_no = bl.line_no AND m.unmatched_at IS NULL AND s.booking_date <= d)), 0)::bigint
$$;

SET ROLE t_rc_auditor;
SELECT results_eq($$SELECT book_fen, bank_fen, bank_in_fen, bank_out_fen, book_in_fen, book_out_fen, adjusted_book_fen,
                           adjusted_bank_fen, agrees FROM earmark.reconciliation('B1', '622800000001', '2026-10-31')$$,
	$$VALUES (25430000::bigint, 24695634::bigint, 1234::bigint, -5600::bigint, 800000::bigint, -70000::bigint,
	          25425634::bigint, 25425634::bigint, true)$$,
	'reconcile: as of the month end, items in transit both ways, the adjusted balances agree (the auditor reads it)');
RESET ROLE;
SELECT results_eq($$SELECT book_fen, bank_fen, bank_in_fen, bank_out_fen, book_in_fen, book_out_fen
                      FROM earmark.reconciliation('B1', '622800000001', '2026-10-31')$$,
	$$SELECT * FROM pg_temp.independent('2026-10-31')$$, 'reconcile: every figure equals an independent sum over the rows');
SELECT results_eq($$SELECT kind, item_date, amount_fen FROM earmark.reconciliation_items('B1', '622800000001', '2026-10-31')$$,
	$$VALUES ('bank_in', '2026-10-25'::date, 1234::bigint), ('bank_out', '2026-10-28'::date, -5600::bigint),
	         ('book_in', '2026-10-30'::date, 800000::bigint), ('book_out', '2026-10-31'::date, -70000::bigint)$$,
	'reconcile: the items in transit, each with its date and amount');
SELECT results_eq($$SELECT book_fen, bank_fen, bank_in_fen + bank_out_fen + book_in_fen + book_out_fen, agrees
                      FROM earmark.reconciliation('B1', '622800000001', '2026-10-15')$$,
	$$VALUES (25000000::bigint, 25000000::bigint, 0::bigint, true)$$, 'reconcile: mid-month nothing is in transit');
SELECT results_eq($$SELECT book_fen, bank_fen, bank_in_fen, bank_out_fen, book_in_fen, book_out_fen
                      FROM earmark.reconciliation('B1', '622800000001', '2026-10-19')$$,
	$$SELECT * FROM pg_temp.independent('2026-10-19')$$, 'reconcile: the payment booked on the 19th is in transit on the 19th');
SELECT is((SELECT book_out_fen FROM earmark.reconciliation('B1', '622800000001', '2026-10-19')), -300000::bigint,
	'reconcile: as book out, not at the bank');

SELECT statement_id || ':1' AS l1 FROM earmark.statement_line WHERE line_no = 1 \gset
SET ROLE t_rc_cashier;
SELECT lives_ok(format('SELECT earmark.statement_unmatch(%L, %L)', 'B1', :'l1'), 'reconcile: the cashier unmatches the receipt');
RESET ROLE;
SELECT results_eq($$SELECT bank_in_fen, book_in_fen, agrees FROM earmark.reconciliation('B1', '622800000001', '2026-10-31')$$,
	$$VALUES (5001234::bigint, 5800000::bigint, true)$$, 'reconcile: unmatched, it is in transit both ways and still agrees');
SELECT results_eq($$SELECT book_fen, bank_fen, bank_in_fen, bank_out_fen, book_in_fen, book_out_fen
                      FROM earmark.reconciliation('B1', '622800000001', '2026-10-31')$$,
	$$SELECT * FROM pg_temp.independent('2026-10-31')$$, 'reconcile: and equals the independent sums');
SELECT throws_ok($$SELECT * FROM earmark.reconciliation('B1', '622800000001', '2025-12-31')$$, 'EMI01',
	'date 2025-12-31 is before the book began', 'reconcile: a date before the book began is refused');
SELECT throws_ok($$SELECT * FROM earmark.reconciliation('B1', '622899999999', '2026-10-31')$$, 'EMR01',
	'unknown dedicated account ''622899999999''', 'reconcile: an unknown account is refused');

SELECT * FROM finish();
ROLLBACK;
