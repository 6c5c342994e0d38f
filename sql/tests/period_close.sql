-- Period close (0012 replaces 0003's earmark.period_close; DESIGN flow 5,
-- D7): a month closes only when its books are complete.  Refused, listing
-- every open item with its fix (EMC01), nothing written: a draft or a
-- reviewed voucher dated in or before the month (in an open month), a
-- statement line booked by its end not matched.  On close the month's
-- cleared statement lines become reconciled and cannot be unmatched;
-- December closes once the year is carried forward (0015, year_end.sql)
-- and writes every account's balance per fund into year_end_balance,
-- equal to the sums over the posted lines.  Only the administrator closes.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(17);

CREATE ROLE t_pc_admin LOGIN;
GRANT earmark_admin TO t_pc_admin;
CREATE ROLE t_pc_clerk LOGIN;
GRANT earmark_clerk TO t_pc_clerk;
CREATE ROLE t_pc_rev LOGIN;
GRANT earmark_reviewer TO t_pc_rev;
CREATE ROLE t_pc_bk LOGIN;
GRANT earmark_bookkeeper TO t_pc_bk;
CREATE ROLE t_pc_cashier LOGIN;
GRANT earmark_cashier TO t_pc_cashier;
SET earmark_test.people = 't_pc';
\ir fixture/helpers.psql

SET ROLE t_pc_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2025-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "2303", "name": "应付政府补贴款", "kind": "liability", "normal_side": "C"},
	{"code": "3001", "name": "累计盈余", "kind": "net_assets", "normal_side": "C"},
	{"code": "3301", "name": "本期盈余", "kind": "net_assets", "normal_side": "C"},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"},
	{"code": "4604", "name": "利息收入", "kind": "revenue", "normal_side": "C"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "source": "b.csv:2"}]$$) AS n \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2025, "amount_fen": 500000000, "bank_account": "622800000001", "source": "f.csv:2"},
	{"code": "F2", "name": "县级资金", "level": "county", "year": 2025, "amount_fen": 100000000, "bank_account": "622800000001", "source": "f.csv:3"}]$$) AS n \gset
RESET ROLE;
SELECT pg_temp.post('B1', '2025-06-01', jsonb_build_array(
	pg_temp.ln('1002', 'D', 20000000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 20000000, 'F1'),
	pg_temp.ln('1002', 'D', 5000000, 'F2', '622800000001'), pg_temp.ln('4001', 'C', 5000000, 'F2')), '资金到账') AS v1 \gset
SELECT pg_temp.post('B1', '2025-12-20', jsonb_build_array(
	pg_temp.ln('2303', 'D', 300000, 'F1'), pg_temp.ln('1002', 'C', 300000, 'F1', '622800000001')), '支付') AS v2 \gset
SET ROLE t_pc_cashier;
SELECT statement_id AS s1 FROM earmark.statement_import('B1', '622800000001', $${"ref": "DEC", "format": "camt053",
	"account": "622800000001", "currency": "CNY", "from": "2025-12-01", "to": "2025-12-31",
	"opening_fen": 25000000, "closing_fen": 24701234, "lines": [
	{"booking_date": "2025-12-21", "amount_fen": -300000, "reference": "支付"},
	{"booking_date": "2025-12-21", "amount_fen": 1234, "reference": "结息"}]}$$) \gset
SELECT by_amount FROM earmark.statement_match_auto('B1', '622800000001') \gset
RESET ROLE;
-- A draft in November, reviewed in December.
SET ROLE t_pc_clerk;
SELECT earmark.voucher_draft('B1', '2025-11-10', '记', '草稿', NULL, jsonb_build_array(
	pg_temp.ln('2303', 'D', 100, 'F1'), pg_temp.ln('1002', 'C', 100, 'F1', '622800000001'))) AS nov \gset
SELECT earmark.voucher_draft('B1', '2025-12-05', '记', '已审核未记账', NULL, jsonb_build_array(
	pg_temp.ln('2303', 'D', 200, 'F1'), pg_temp.ln('1002', 'C', 200, 'F1', '622800000001'))) AS dec \gset
SET ROLE t_pc_rev;
SELECT earmark.voucher_review('B1', '#' || :dec) AS r \gset
RESET ROLE;

SET ROLE t_pc_admin;
SELECT lives_ok($$SELECT earmark.period_close('B1', '2025-10-01')$$, 'close: October has nothing open and closes');
RESET ROLE;
SELECT pg_temp.state() AS s0 \gset
SET ROLE t_pc_admin;
SELECT throws_ok($$SELECT earmark.period_close('B1', '2025-11-01')$$, 'EMC01',
	'period 2025-11 cannot be closed: 1 open item (EMC01)', 'close: November is refused while a draft is dated in it');
SELECT alike(pg_temp.error_of($$SELECT earmark.period_close('B1', '2025-11-01')$$),
	format('%%voucher #%s dated 2025-11-10 is still a draft (prepared by t_pc_clerk): 草稿%%', :nov),
	'close: the refusal lists the draft');
SELECT throws_ok($$SELECT earmark.period_close('B1', '2025-12-01')$$, 'EMC01',
	'period 2025-12 cannot be closed: 5 open items (EMC01)',
	'close: December is refused: two vouchers unposted, the interest unmatched, the year not carried forward');
SELECT is(pg_temp.error_of($$SELECT earmark.period_close('B1', '2025-12-01')$$),
	E'EMC01: period 2025-12 cannot be closed: 5 open items (EMC01)\n5 problems:\n'
	|| format(E'  voucher #%s dated 2025-11-10 is still a draft (prepared by t_pc_clerk): 草稿\n', :nov)
	|| format(E'  voucher #%s dated 2025-12-05 is still reviewed, not posted (prepared by t_pc_clerk): 已审核未记账\n', :dec)
	|| format(E'  statement line %s:2 of account 622800000001 booked 2025-12-21, 12.34 结息, is not matched\n', :s1)
	|| E'  2025 is not carried forward: 4001 财政拨款收入 of fund ''F1'' holds 200,000.00 (贷)\n'
	|| E'  2025 is not carried forward: 4001 财政拨款收入 of fund ''F2'' holds 50,000.00 (贷)',
	'close: every open item is named, with the numbers');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'close: the refusals closed nothing');
SET ROLE t_pc_cashier;
SELECT throws_ok($$SELECT earmark.period_close('B1', '2025-12-01')$$, '42501', NULL, 'close: a cashier cannot close');
RESET ROLE;

-- Complete the books: post the reviewed voucher, book and match the interest.
SET ROLE t_pc_bk;
SELECT earmark.voucher_post('B1', '#' || :dec) AS r \gset
RESET ROLE;
SET ROLE t_pc_clerk;
SELECT earmark.fund_interest('B1', '622800000001', '2025-12-21', 1234, NULL) AS v3 \gset
SET ROLE t_pc_rev;
SELECT earmark.voucher_review('B1', '#' || :v3) AS r \gset
SET ROLE t_pc_bk;
SELECT earmark.voucher_post('B1', '#' || :v3) AS r \gset
RESET ROLE;
SET ROLE t_pc_cashier;
SELECT results_eq($$SELECT by_amount, uncleared FROM earmark.statement_match_auto('B1', '622800000001')$$,
	$$VALUES (1, 0)$$, 'close: the interest booked, it matches');
SET ROLE t_pc_admin;
SELECT throws_ok($$SELECT earmark.period_close('B1', '2025-12-01')$$, 'EMC01', NULL,
	'close: December is still refused while November has a draft');
RESET ROLE;
SET ROLE t_pc_clerk;
SELECT lives_ok(format($$SELECT earmark.voucher_discard('B1', '#%s')$$, :nov), 'close: the November draft is discarded');
SET ROLE t_pc_admin;
SELECT lives_ok($$SELECT earmark.period_close('B1', '2025-11-01')$$, 'close: November closes');
SELECT throws_like($$SELECT earmark.period_close('B1', '2025-12-01')$$, 'period 2025-12 cannot be closed: 4 open items (EMC01)',
	'close: December is refused until the year is carried forward (year_end.sql has the rest)');
SELECT voucher_id AS cf FROM earmark.year_end_carry_forward('B1', 2025) \gset
SET ROLE t_pc_rev;
SELECT earmark.voucher_review('B1', '#' || :cf) AS r \gset
SET ROLE t_pc_bk;
SELECT earmark.voucher_post('B1', '#' || :cf) AS r \gset
SET ROLE t_pc_admin;
SELECT lives_ok($$SELECT earmark.period_close('B1', '2025-12-01')$$, 'close: December closes, the year carried forward');
RESET ROLE;
SELECT is((SELECT string_agg(DISTINCT status, ',') FROM earmark.statement_line), 'reconciled',
	'close: the month''s statement lines are reconciled');
SET ROLE t_pc_cashier;
SELECT throws_ok(format('SELECT earmark.statement_unmatch(%L, %L)', 'B1', :s1 || ':1'), 'EMD07',
	format('statement line %s:1 is reconciled in a closed period (D7)', :s1), 'close: a reconciled line stays matched');
RESET ROLE;
SELECT results_eq($$SELECT a.code, f.code, y.balance_fen FROM earmark.year_end_balance y
                      JOIN earmark.account a USING (book_id, account_id) JOIN earmark.fund f USING (book_id, fund_id)
                     WHERE y.year = 2025 ORDER BY 1, 2$$,
	$$SELECT a.code, f.code, sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)::bigint
	    FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
	    JOIN earmark.account a USING (book_id, account_id) JOIN earmark.fund f USING (book_id, fund_id)
	   WHERE v.status = 'posted' AND v.voucher_date <= '2025-12-31' GROUP BY 1, 2 ORDER BY 1, 2$$,
	'year end: closing December carries each account''s balance per fund forward, equal to the lines');
SET ROLE t_pc_clerk;
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2025-12-31', '记', '', NULL, '[]')$$, 'EMD07', NULL,
	'close: nothing is dated in a closed month (D7)');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
