-- D5 (DESIGN section 4): voucher numbers are gapless per book, voucher type
-- and month (记-2026-03-0001), assigned at posting, never reused.
--
-- Drafts and reviewed vouchers carry no number; posting gives the next one
-- of the voucher's type and month, in posting order; other types, months
-- and books count on their own.  A posting that is refused (here by A2)
-- consumes no number, and posting again a posted voucher returns its number
-- without taking another.  The unique key refuses a number used twice.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(26);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_d5_admin LOGIN;
GRANT earmark_admin TO t_d5_admin;
CREATE ROLE t_d5_clerk LOGIN;
GRANT earmark_clerk TO t_d5_clerk;
CREATE ROLE t_d5_clerk2 LOGIN;
GRANT earmark_clerk TO t_d5_clerk2;
CREATE ROLE t_d5_rev LOGIN;
GRANT earmark_reviewer TO t_d5_rev;
CREATE ROLE t_d5_bk LOGIN;
GRANT earmark_bookkeeper TO t_d5_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_d5_clerk, t_d5_rev and t_d5_bk unless told otherwise.
SET earmark_test.people = 't_d5';
\ir fixture/helpers.psql

-- The book: 2026 from January, two dedicated accounts; F1 and F2 share the
-- first (A2 keeps their cash apart), F3 has the second.  Every fund permits
-- the use category JC (A3); household H0001 has its ID number (H1).
SET ROLE t_d5_admin;
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

-- Drafted and reviewed: still no number.
SET ROLE t_d5_clerk;
SELECT earmark.voucher_draft('B1', '2026-03-02', '记', 'receipt', NULL,
	jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 100000, 'F1'))) AS v1 \gset
RESET ROLE;
SELECT is((SELECT ROW(number, number_text, month)::text FROM earmark.voucher WHERE voucher_id = :v1), '(,,)',
	'D5: a draft has no number');
SET ROLE t_d5_rev;
SELECT earmark.voucher_review('B1', '#' || :v1) AS reviewed \gset
RESET ROLE;
SELECT is((SELECT ROW(number, number_text, month)::text FROM earmark.voucher WHERE voucher_id = :v1), '(,,)',
	'D5: a reviewed voucher has no number');
SELECT is_empty('SELECT * FROM earmark.voucher_counter', 'D5: no number is taken before the first posting');
SET ROLE t_d5_bk;
SELECT is(earmark.voucher_post('B1', '#' || :v1), '记-2026-03-0001', 'D5: the first posting of March is 记-2026-03-0001');
RESET ROLE;
SELECT is((SELECT ROW(number, number_text, month)::text FROM earmark.voucher WHERE voucher_id = :v1), '(1,记-2026-03-0001,2026-03-01)',
	'D5: the number is stored with its month');

SELECT is(pg_temp.post('B1', '2026-03-15',
		jsonb_build_array(pg_temp.ln('5001', 'D', 1000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 1000, 'F1'))),
	'记-2026-03-0002', 'D5: the second is 0002');
SELECT is(pg_temp.post('B1', '2026-03-01',
		jsonb_build_array(pg_temp.ln('5001', 'D', 1000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 1000, 'F1'))),
	'记-2026-03-0003', 'D5: numbers follow posting order, not voucher dates');
SELECT is(pg_temp.post('B1', '2026-04-01',
		jsonb_build_array(pg_temp.ln('5001', 'D', 1000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 1000, 'F1'))),
	'记-2026-04-0001', 'D5: a new month starts at 0001');
SELECT is(pg_temp.post('B1', '2026-03-16',
		jsonb_build_array(pg_temp.ln('1002', 'D', 500, 'F3', '622800000002'), pg_temp.ln('4001', 'C', 500, 'F3')),
		'收款', '收'),
	'收-2026-03-0001', 'D5: another voucher type counts on its own');
SELECT is(pg_temp.post('B1', '2026-03-17',
		jsonb_build_array(pg_temp.ln('5001', 'D', 1000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 1000, 'F1'))),
	'记-2026-03-0004', 'D5: March 记 goes on at 0004 after the others');

-- A refused posting takes no number ------------------------------------------

SET ROLE t_d5_clerk;
SELECT earmark.voucher_draft('B1', '2026-03-18', '记', 'pays more than F2 has', NULL,
	jsonb_build_array(pg_temp.ln('2302', 'D', 1000, 'F2'), pg_temp.ln('1002', 'C', 1000, 'F2', '622800000001'))) AS over \gset
SET ROLE t_d5_rev;
SELECT earmark.voucher_review('B1', '#' || :over) AS reviewed \gset
RESET ROLE;
SELECT pg_temp.state() AS s0 \gset
SET ROLE t_d5_bk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :over), 'EMA02', NULL,
	'D5: a posting refused by A2 ...');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'D5: ... changes nothing, the counter included');
SELECT is((SELECT status || ' ' || COALESCE(number_text, 'unnumbered') FROM earmark.voucher WHERE voucher_id = :over),
	'reviewed unnumbered', 'D5: the refused voucher stays reviewed and unnumbered');
SET ROLE t_d5_clerk;
SELECT earmark.voucher_draft('B1', '2026-03-18', '记', 'not yet reviewed', NULL,
	jsonb_build_array(pg_temp.ln('5001', 'D', 1000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 1000, 'F1'))) AS unrev \gset
RESET ROLE;
SELECT pg_temp.state() AS s0 \gset
SET ROLE t_d5_bk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :unrev), 'EMD06',
	format('voucher #%s is a draft that has not been reviewed (D6)', :unrev),
	'D5: posting an unreviewed draft is refused ...');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'D5: ... and takes no number either');
SELECT is(pg_temp.post('B1', '2026-03-19',
		jsonb_build_array(pg_temp.ln('5001', 'D', 1000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 1000, 'F1'))),
	'记-2026-03-0005', 'D5: the next posting gets 0005: no gap where the refusals were');

-- Posting again returns the same number --------------------------------------

SELECT pg_temp.state() AS s1 \gset
SET ROLE t_d5_bk;
SELECT is(earmark.voucher_post('B1', '记-2026-03-0002'), '记-2026-03-0002',
	'D5: posting a posted voucher again returns its number');
SELECT is(earmark.voucher_post('B1', '#' || :v1), '记-2026-03-0001',
	'D5: also when it is named by its id');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'D5: the repeated postings took no number');

-- Another book counts on its own -------------------------------------------

SET ROLE t_d5_admin;
SELECT earmark.book_create('B2', '另一账套', '2026-01-01',
	'[{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"},
	  {"code": "2302", "name": "应付账款", "kind": "liability", "normal_side": "C"}]') AS b2 \gset
SELECT earmark.master_import('B2', 'bank_account', '[{"account_no": "622800000009", "bank_name": "农行", "cnaps": "103100000009"}]') AS n \gset
SELECT earmark.master_import('B2', 'category', '[{"code": "JC", "name": "基础设施"}]') AS n \gset
SELECT earmark.master_import('B2', 'fund', '[{"code": "F1", "name": "中央", "level": "central", "year": 2026, "amount_fen": 1, "bank_account": "622800000009", "categories": "JC"}]') AS n \gset
RESET ROLE;
SELECT is(pg_temp.post('B2', '2026-03-20',
		jsonb_build_array(pg_temp.ln('5001', 'D', 1000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 1000, 'F1'))),
	'记-2026-03-0001', 'D5: another book starts its own 记-2026-03 at 0001');

-- Gapless and unique, all in all ---------------------------------------------

SELECT is((SELECT count(*)::int FROM (
		SELECT number, row_number() OVER (PARTITION BY book_id, vtype, month ORDER BY number) AS expected
		  FROM earmark.voucher WHERE status = 'posted') x
		 WHERE number <> expected), 0,
	'D5: per book, type and month the numbers are 1..n');
SELECT is((SELECT count(*)::int FROM earmark.voucher
            WHERE status = 'posted'
              AND number_text <> vtype || '-' || to_char(voucher_date, 'YYYY-MM') || '-' || lpad(number::text, 4, '0')), 0,
	'D5: every number reads type-YYYY-MM-NNNN of its own date');
SELECT results_eq($$SELECT book_id, vtype, month, last_number FROM earmark.voucher_counter ORDER BY 1, 2, 3$$,
	$$SELECT book_id, vtype, month, max(number) FROM earmark.voucher WHERE status = 'posted' GROUP BY 1, 2, 3 ORDER BY 1, 2, 3$$,
	'D5: each counter stands at the last number used');

-- Never reused: the owner, with the triggers off, still meets the unique keys.
SET ROLE earmark_owner;
ALTER TABLE earmark.voucher DISABLE TRIGGER USER;
SELECT throws_ok($$UPDATE earmark.voucher SET number = 1, number_text = '记-2026-03-0001'
                    WHERE book_id = (SELECT book_id FROM earmark.book WHERE code = 'B1') AND number_text = '记-2026-03-0002'$$,
	'23505', NULL,
	'D5 backstop: a number cannot be used twice');
SELECT throws_ok($$UPDATE earmark.voucher SET number_text = '记-2026-03-0001'
                    WHERE book_id = (SELECT book_id FROM earmark.book WHERE code = 'B1') AND number_text = '记-2026-03-0003'$$,
	'23505', NULL,
	'D5 backstop: a number text cannot be used twice');
ALTER TABLE earmark.voucher ENABLE TRIGGER USER;
SELECT throws_ok($$UPDATE earmark.voucher SET number = 9 WHERE number_text = '记-2026-03-0002'$$,
	'EMD03', 'posted voucher 记-2026-03-0002 cannot be changed (D3)',
	'D5: with the triggers on, a number cannot be changed at all');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
