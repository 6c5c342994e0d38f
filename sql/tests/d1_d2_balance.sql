-- D1 and D2 (DESIGN section 4): every voucher balances, in total and per fund.
--
-- voucher_draft refuses an unbalanced voucher (EMD01), a voucher of fewer
-- than two lines (EMD01) and one that balances in total but not per fund
-- (EMD02), and leaves nothing behind.  The triggers are the backstop: a
-- draft written straight into the tables by a superuser, bypassing
-- voucher_draft, is refused at review.  A voucher balanced per fund, across
-- several funds, passes and posts; afterwards every posted voucher balances.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(24);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_d1_admin LOGIN;
GRANT earmark_admin TO t_d1_admin;
CREATE ROLE t_d1_clerk LOGIN;
GRANT earmark_clerk TO t_d1_clerk;
CREATE ROLE t_d1_clerk2 LOGIN;
GRANT earmark_clerk TO t_d1_clerk2;
CREATE ROLE t_d1_rev LOGIN;
GRANT earmark_reviewer TO t_d1_rev;
CREATE ROLE t_d1_bk LOGIN;
GRANT earmark_bookkeeper TO t_d1_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_d1_clerk, t_d1_rev and t_d1_bk unless told otherwise.
SET earmark_test.people = 't_d1';
\ir fixture/helpers.psql

-- The book: 2026 from January, two dedicated accounts; F1 and F2 share the
-- first (A2 keeps their cash apart), F3 has the second.  Every fund permits
-- the use category JC (A3); household H0001 has its ID number (H1).
SET ROLE t_d1_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "1218", "name": "其他应收款", "kind": "asset", "normal_side": "D"},
	{"code": "2302", "name": "应付账款", "kind": "liability", "normal_side": "C"},
	{"code": "2303", "name": "应付政府补贴款", "kind": "liability", "normal_side": "C"},
	{"code": "2307", "name": "其他应付款", "kind": "liability", "normal_side": "C"},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"},
	{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "source": "bank_accounts.csv:2"},
	{"account_no": "622800000002", "bank_name": "县农村信用社", "cnaps": "402100000002", "source": "bank_accounts.csv:3"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'category', $$[
	{"code": "JC", "name": "基础设施", "source": "categories.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2026, "amount_fen": 500000000, "bank_account": "622800000001", "categories": "JC", "source": "funds.csv:2"},
	{"code": "F2", "name": "省级衔接资金", "level": "province", "year": 2026, "amount_fen": 300000000, "bank_account": "622800000001", "categories": "JC", "source": "funds.csv:3"},
	{"code": "F3", "name": "县级配套资金", "level": "county", "year": 2026, "amount_fen": 100000000, "bank_account": "622800000002", "categories": "JC", "source": "funds.csv:4"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'village', $$[
	{"code": "610826101201", "name": "东沟村", "township": "城关镇", "source": "villages.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'household', $$[
	{"code": "H0001", "village": "610826101201", "head_name": "张三", "id_no": "610826198003120014", "source": "households.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project', $$[
	{"code": "P2026-001", "name": "东沟村道路硬化", "category": "JC", "villages": "610826101201", "source": "projects.csv:2"}
]$$) AS imported \gset
RESET ROLE;

SELECT pg_temp.state() AS s0 \gset

-- D1 through the API -------------------------------------------------------

SET ROLE t_d1_clerk;
SELECT throws_ok(
	$$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', 'unbalanced', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', 10000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 9000, 'F1')))$$,
	'EMD01', 'voucher does not balance (D1)',
	'D1: a voucher whose debits and credits differ is refused');
SELECT matches(pg_temp.error_of(
	$$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', 'unbalanced', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', 10000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 9000, 'F1')))$$),
	'debits 100\.00, credits 90\.00',
	'D1: the refusal names both totals');
SELECT throws_ok(
	$$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', 'one line', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', 10000, 'F1', category => 'JC')))$$,
	'EMD01', 'a voucher needs at least two lines (D1)',
	'D1: a voucher with one line is refused');
SELECT throws_ok(
	$$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', 'no lines', NULL, '[]')$$,
	'EMD01', 'a voucher needs at least two lines (D1)',
	'D1: a voucher without lines is refused');
SELECT throws_ok(
	$$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', 'one line, twice', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', 10000, 'F1', category => 'JC'), pg_temp.ln('5001', 'D', 10000, 'F1', category => 'JC')))$$,
	'EMD01', 'voucher does not balance (D1)',
	'D1: two debits and no credit are refused');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'D1: the refused vouchers left nothing behind');

-- D2 through the API -------------------------------------------------------

SET ROLE t_d1_clerk;
SELECT throws_ok(
	$$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', 'crosses funds', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', 10000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 10000, 'F2')))$$,
	'EMD02', 'voucher does not balance for fund ''F1'' (D2)',
	'D2: a voucher balanced in total but not per fund is refused');
SELECT matches(pg_temp.error_of(
	$$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', 'crosses funds', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', 10000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 10000, 'F2')))$$),
	E'^EMD02: .*\n2 problems:\n.*fund ''F1''.*debits 100\\.00, credits 0\\.00.*\n.*fund ''F2''.*debits 0\\.00, credits 100\\.00',
	'D2: the refusal names every fund that does not balance, with its totals');
SELECT throws_ok(
	$$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', 'balanced in three funds but not in each', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', 10000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 5000, 'F1'),
		                  pg_temp.ln('5001', 'D', 5000, 'F3', category => 'JC'), pg_temp.ln('2302', 'C', 10000, 'F3')))$$,
	'EMD02', 'voucher does not balance for fund ''F1'' (D2)',
	'D2: each fund must balance even when the totals do');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'D2: the refused vouchers left nothing behind');

-- The good cases ------------------------------------------------------------

SET ROLE t_d1_clerk;
SELECT lives_ok(
	$$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', 'two funds, each balanced', 'd1-good',
		jsonb_build_array(pg_temp.ln('5001', 'D', 10000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 10000, 'F1'),
		                  pg_temp.ln('5001', 'D', 2500, 'F2', category => 'JC'), pg_temp.ln('5001', 'D', 2500, 'F2', category => 'JC'),
		                  pg_temp.ln('2302', 'C', 5000, 'F2')))$$,
	'D1, D2: a voucher balanced per fund across two funds is accepted');
RESET ROLE;
SELECT voucher_id AS good FROM earmark.voucher WHERE idem_key = 'd1-good' \gset
SELECT is((SELECT count(*)::int FROM earmark.line WHERE voucher_id = :good), 5,
	'D1, D2: all five lines were stored');
SET ROLE t_d1_rev;
SELECT lives_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :good),
	'D1, D2: the balanced voucher passes review');
SET ROLE t_d1_bk;
SELECT is(earmark.voucher_post('B1', '#' || :good), '记-2026-03-0001',
	'D1, D2: the balanced voucher posts');
RESET ROLE;
SELECT is(pg_temp.post('B1', '2026-03-11',
		jsonb_build_array(pg_temp.ln('1002', 'D', 50000, 'F3', '622800000002'), pg_temp.ln('4001', 'C', 50000, 'F3'))),
	'记-2026-03-0002', 'D1: a two-line receipt posts');

-- The triggers are the backstop ---------------------------------------------
-- A superuser (a person here: postgres logs in) writes drafts straight into
-- the tables, past voucher_draft; the reviewer's review must still refuse.
-- Their expense lines carry the use category JC, as A3 wants of them.

INSERT INTO earmark.voucher (book_id, voucher_date, memo) VALUES (:book_id, '2026-03-12', 'direct, unbalanced')
RETURNING voucher_id AS raw_unbal \gset
INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, category_id)
SELECT :book_id, :raw_unbal, x.no, a.account_id, x.side, x.amount, f.fund_id, CASE WHEN a.spend THEN c.category_id END
  FROM (VALUES (1, '5001', 'D', 10000), (2, '2302', 'C', 9999)) x(no, code, side, amount)
  JOIN earmark.account a ON a.book_id = :book_id AND a.code = x.code
  JOIN earmark.fund f ON f.book_id = :book_id AND f.code = 'F1'
  JOIN earmark.use_category c ON c.book_id = :book_id AND c.code = 'JC';
INSERT INTO earmark.voucher (book_id, voucher_date, memo) VALUES (:book_id, '2026-03-12', 'direct, one line')
RETURNING voucher_id AS raw_one \gset
INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, category_id)
SELECT :book_id, :raw_one, 1, a.account_id, 'D', 10000, f.fund_id, c.category_id
  FROM earmark.account a JOIN earmark.fund f ON f.book_id = a.book_id AND f.code = 'F1'
  JOIN earmark.use_category c ON c.book_id = a.book_id AND c.code = 'JC'
 WHERE a.book_id = :book_id AND a.code = '5001';
INSERT INTO earmark.voucher (book_id, voucher_date, memo) VALUES (:book_id, '2026-03-12', 'direct, crosses funds')
RETURNING voucher_id AS raw_cross \gset
INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, category_id)
SELECT :book_id, :raw_cross, x.no, a.account_id, x.side, 7000, f.fund_id, CASE WHEN a.spend THEN c.category_id END
  FROM (VALUES (1, '5001', 'D', 'F1'), (2, '2302', 'C', 'F3')) x(no, code, side, fund)
  JOIN earmark.account a ON a.book_id = :book_id AND a.code = x.code
  JOIN earmark.fund f ON f.book_id = :book_id AND f.code = x.fund
  JOIN earmark.use_category c ON c.book_id = :book_id AND c.code = 'JC';

SELECT pg_temp.state() AS s1 \gset
SET ROLE t_d1_rev;
SELECT throws_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :raw_unbal),
	'EMD01', 'voucher does not balance (D1)',
	'D1 backstop: an unbalanced draft written past voucher_draft is refused at review');
SELECT throws_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :raw_one),
	'EMD01', 'a voucher needs at least two lines (D1)',
	'D1 backstop: a one-line draft written past voucher_draft is refused at review');
SELECT throws_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :raw_cross),
	'EMD02', 'voucher does not balance for fund ''F1'' (D2)',
	'D2 backstop: a draft crossing funds written past voucher_draft is refused at review');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'D1, D2 backstop: the refused reviews changed nothing');
SELECT is((SELECT count(*)::int FROM earmark.voucher
            WHERE voucher_id IN (:raw_unbal, :raw_one, :raw_cross) AND status = 'draft'), 3,
	'D1, D2 backstop: the refused drafts are still drafts');
-- The superuser mends its own draft; then it passes.
UPDATE earmark.line SET amount_fen = 10000 WHERE voucher_id = :raw_unbal AND line_no = 2;
SET ROLE t_d1_rev;
SELECT lives_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :raw_unbal),
	'D1 backstop: the mended draft passes review');
RESET ROLE;

-- Overflow is an error, never a wrapped sum.
SET ROLE t_d1_clerk;
SELECT throws_ok(
	$$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', 'overflow', NULL,
		(SELECT jsonb_agg(pg_temp.ln('5001', 'D', 999999999999999999, 'F1', category => 'JC')) FROM generate_series(1, 10))
		|| jsonb_build_array(pg_temp.ln('2302', 'C', 100, 'F1')))$$,
	'EMI01', 'voucher total is too large',
	'D1: debits that overflow bigint are refused by name');
RESET ROLE;

-- Whatever is posted balances -------------------------------------------------

SELECT is((SELECT count(*)::int FROM (
		SELECT l.voucher_id
		  FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
		 WHERE v.status <> 'draft'
		 GROUP BY l.voucher_id
		HAVING sum(l.amount_fen) FILTER (WHERE side = 'D') IS DISTINCT FROM
		       sum(l.amount_fen) FILTER (WHERE side = 'C')) x), 0,
	'D1: every reviewed or posted voucher balances');
SELECT is((SELECT count(*)::int FROM (
		SELECT l.voucher_id, l.fund_id
		  FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
		 WHERE v.status <> 'draft'
		 GROUP BY l.voucher_id, l.fund_id
		HAVING COALESCE(sum(l.amount_fen) FILTER (WHERE side = 'D'), 0) <>
		       COALESCE(sum(l.amount_fen) FILTER (WHERE side = 'C'), 0)) x), 0,
	'D2: every reviewed or posted voucher balances per fund');

SELECT * FROM finish();
ROLLBACK;
