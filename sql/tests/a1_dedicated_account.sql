-- A1 (DESIGN section 4): a line on a bank account carries its fund and the
-- fund's own dedicated account; a dedicated account holds only special funds.
--
-- Refused (EMA01), by voucher_draft and by the line trigger behind it: a
-- line on 1002 without a dedicated account, a dedicated account on a line
-- that is not on a bank account, and a bank line of one fund on another
-- fund's account.  Several problems in one voucher are named together.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(18);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_a1_admin LOGIN;
GRANT earmark_admin TO t_a1_admin;
CREATE ROLE t_a1_clerk LOGIN;
GRANT earmark_clerk TO t_a1_clerk;
CREATE ROLE t_a1_clerk2 LOGIN;
GRANT earmark_clerk TO t_a1_clerk2;
CREATE ROLE t_a1_rev LOGIN;
GRANT earmark_reviewer TO t_a1_rev;
CREATE ROLE t_a1_bk LOGIN;
GRANT earmark_bookkeeper TO t_a1_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_a1_clerk, t_a1_rev and t_a1_bk unless told otherwise.
SET earmark_test.people = 't_a1';
\ir fixture/helpers.psql

-- The book: 2026 from January, two dedicated accounts; F1 and F2 share the
-- first (A2 keeps their cash apart), F3 has the second.  Every fund permits
-- the use category JC (A3); household H0001 has its ID number (H1).
SET ROLE t_a1_admin;
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

SET ROLE t_a1_clerk;
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-02', '记', 'no account', NULL,
		jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1'), pg_temp.ln('4001', 'C', 100000, 'F1')))$$,
	'EMA01', 'line 1: a line on bank account 1002 needs its dedicated account (A1)',
	'A1: a bank line without its dedicated account is refused');
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-02', '记', 'account on revenue', NULL,
		jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 100000, 'F1', '622800000001')))$$,
	'EMA01', 'line 2: account 4001 is not a bank account but the line names one (A1)',
	'A1: a dedicated account on a line that is not on a bank account is refused');
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-02', '记', 'F1 into F3''s account', NULL,
		jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1', '622800000002'), pg_temp.ln('4001', 'C', 100000, 'F1')))$$,
	'EMA01', 'line 1: bank account ''622800000002'' is not the dedicated account of fund ''F1'' (A1)',
	'A1: a bank line on another fund''s dedicated account is refused');
SELECT matches(pg_temp.error_of($$SELECT earmark.voucher_draft('B1', '2026-03-02', '记', 'F1 into F3''s account', NULL,
		jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1', '622800000002'), pg_temp.ln('4001', 'C', 100000, 'F1')))$$),
	'fund ''F1'' is held in account ''622800000001''',
	'A1: the refusal names the fund''s own account');
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-02', '记', 'unknown account', NULL,
		jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1', '999999999'), pg_temp.ln('4001', 'C', 100000, 'F1')))$$,
	'EMR01', 'line 1: unknown bank account ''999999999''',
	'A1: a bank account that is no dedicated account of the book is refused');
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-02', '记', 'no fund', NULL,
		jsonb_build_array(pg_temp.ln('1002', 'D', 100000, NULL, '622800000001'), pg_temp.ln('4001', 'C', 100000, 'F1')))$$,
	'EMR01', 'line 1: unknown fund ''''',
	'A1: a bank line without a fund is refused: the account holds only special funds');
SELECT matches(pg_temp.error_of($$SELECT earmark.voucher_draft('B1', '2026-03-02', '记', 'two wrongs', NULL,
		jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1'), pg_temp.ln('4001', 'C', 100000, 'F1', '622800000001', '{"source": "v.csv:9"}')))$$),
	E'^EMA01: .*\n2 problems:\n  line 1: .*needs its dedicated account \\(A1\\)\n  line 2 \\(v\\.csv:9\\): account 4001 is not a bank account',
	'A1: two problems in one voucher are both named, with their source');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'A1: the refused drafts left nothing behind');

-- The line trigger refuses the same in a draft written past voucher_draft.
INSERT INTO earmark.voucher (book_id, voucher_date, memo) VALUES (:book_id, '2026-03-02', 'direct') RETURNING voucher_id AS raw \gset
SELECT pg_temp.state() AS s1 \gset
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id)
		SELECT %s, %s, 1, account_id, 'D', 100, (SELECT fund_id FROM earmark.fund WHERE code = 'F1')
		  FROM earmark.account WHERE code = '1002'$$, :book_id, :raw),
	'EMA01', 'line 1: a line on bank account 1002 needs its dedicated account (A1)',
	'A1 backstop: the trigger refuses a bank line without a dedicated account');
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, bank_account_id)
		SELECT %s, %s, 1, account_id, 'D', 100, (SELECT fund_id FROM earmark.fund WHERE code = 'F1'),
		       (SELECT bank_account_id FROM earmark.dedicated_account WHERE account_no = '622800000002')
		  FROM earmark.account WHERE code = '1002'$$, :book_id, :raw),
	'EMA01', 'line 1: bank account ''622800000002'' is not the dedicated account of fund ''F1'' (A1)',
	'A1 backstop: the trigger refuses a bank line on another fund''s account');
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, bank_account_id)
		SELECT %s, %s, 1, account_id, 'D', 100, (SELECT fund_id FROM earmark.fund WHERE code = 'F1'),
		       (SELECT bank_account_id FROM earmark.dedicated_account WHERE account_no = '622800000001')
		  FROM earmark.account WHERE code = '5001'$$, :book_id, :raw),
	'EMA01', 'line 1: account 5001 is not a bank account but the line names one (A1)',
	'A1 backstop: the trigger refuses a dedicated account on a line not on a bank account');
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, bank_account_id)
		SELECT %s, %s, 1, account_id, 'D', 100, NULL,
		       (SELECT bank_account_id FROM earmark.dedicated_account WHERE account_no = '622800000001')
		  FROM earmark.account WHERE code = '1002'$$, :book_id, :raw),
	'23502', NULL,
	'A1 backstop: a line without a fund violates NOT NULL');
SELECT is(pg_temp.state(), :'s1', 'A1: the refused lines left nothing behind');
DELETE FROM earmark.voucher WHERE voucher_id = :raw;

-- The good case ------------------------------------------------------------------

SET ROLE t_a1_clerk;
SELECT lives_ok($$SELECT earmark.voucher_draft('B1', '2026-03-02', '记', 'F1 into its own account', 'good',
		jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 100000, 'F1')))$$,
	'A1: a bank line on the fund''s own dedicated account is accepted');
RESET ROLE;
SELECT voucher_id AS good FROM earmark.voucher WHERE idem_key = 'good' \gset
SET ROLE t_a1_rev;
SELECT earmark.voucher_review('B1', '#' || :good) AS reviewed \gset
SET ROLE t_a1_bk;
SELECT is(earmark.voucher_post('B1', '#' || :good), '记-2026-03-0001', 'A1: and posts');
RESET ROLE;
SELECT is(pg_temp.post('B1', '2026-03-03',
		jsonb_build_array(pg_temp.ln('1002', 'D', 7000, 'F2', '622800000001'), pg_temp.ln('4001', 'C', 7000, 'F2'))),
	'记-2026-03-0002', 'A1: two funds may share one dedicated account, each on its own line');
SELECT results_eq($$SELECT f.code, da.account_no, fc.balance_fen FROM earmark.fund_cash fc
                    JOIN earmark.fund f USING (book_id, fund_id) JOIN earmark.dedicated_account da ON da.book_id = fc.book_id AND da.bank_account_id = fc.bank_account_id
                   ORDER BY f.code$$,
	$$VALUES ('F1'::text, '622800000001'::text, 100000::bigint), ('F2', '622800000001', 7000)$$,
	'A1: the cash is kept per fund and dedicated account');
SELECT is((SELECT count(*)::int FROM earmark.line l
             JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
             JOIN earmark.fund f ON f.book_id = l.book_id AND f.fund_id = l.fund_id
            WHERE a.is_bank AND l.bank_account_id IS DISTINCT FROM f.bank_account_id
               OR NOT a.is_bank AND l.bank_account_id IS NOT NULL), 0,
	'A1: every stored bank line is on its fund''s dedicated account, and only bank lines name one');

SELECT * FROM finish();
ROLLBACK;
