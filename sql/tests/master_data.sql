-- Master data: books, their chart of accounts, and the CSV imports of
-- dedicated accounts, funds, use categories, villages, households and
-- projects (earmark.book_create, earmark.master_import).
--
-- Only an administrator imports.  A file is all or nothing: every row is
-- tried, every bad row is named by its source (file:line) with what the
-- column takes, and if any row is bad nothing of the file is imported.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(31);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_md_admin LOGIN;
GRANT earmark_admin TO t_md_admin;
CREATE ROLE t_md_clerk LOGIN;
GRANT earmark_clerk TO t_md_clerk;
CREATE ROLE t_md_clerk2 LOGIN;
GRANT earmark_clerk TO t_md_clerk2;
CREATE ROLE t_md_rev LOGIN;
GRANT earmark_reviewer TO t_md_rev;
CREATE ROLE t_md_bk LOGIN;
GRANT earmark_bookkeeper TO t_md_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_md_clerk, t_md_rev and t_md_bk unless told otherwise.
SET earmark_test.people = 't_md';
\ir fixture/helpers.psql

-- The book: 2026 from January, two dedicated accounts; F1 and F2 share the
-- first (A2 keeps their cash apart), F3 has the second.  Every fund permits
-- the use category JC (A3); household H0001 has its ID number (H1).
SET ROLE t_md_admin;
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

-- Books -----------------------------------------------------------------------------

SELECT is((SELECT count(*)::int FROM earmark.account WHERE book_id = :book_id), 7, 'book: the chart of accounts is seeded');
SELECT is((SELECT seq || ' ' || encode(hash, 'hex') FROM earmark.chain_head WHERE book_id = :book_id),
	'0 ' || repeat('00', 32), 'book: its chain starts at h(0), 32 zero bytes');
SELECT is((SELECT created_by::text FROM earmark.book WHERE book_id = :book_id), 't_md_admin', 'book: created_by is the acting role');
SELECT pg_temp.state() AS s0 \gset
SET ROLE t_md_admin;
SELECT throws_ok($$SELECT earmark.book_create('B1', 'again', '2026-01-01', '[{"code": "5001", "name": "x", "kind": "expense", "normal_side": "D"}]')$$,
	'EMR02', 'book ''B1'' already exists', 'book: a code is used once');
SELECT throws_ok($$SELECT earmark.book_create('B3', 'no accounts', '2026-01-01', '[]')$$,
	'EMI01', 'book ''B3'' needs a chart of accounts', 'book: a book needs accounts');
SELECT throws_ok($$SELECT earmark.book_create('B3', 'bad account', '2026-01-01', '[{"code": "50", "name": "x", "kind": "expense", "normal_side": "D"}]')$$,
	'23514', NULL, 'book: an account code must be 4, 6, 8 or 10 digits');
SELECT throws_ok($$SELECT earmark.book_create('B3', 'bad kind', '2026-01-01', '[{"code": "5001", "name": "x", "kind": "cost", "normal_side": "D"}]')$$,
	'23514', NULL, 'book: an account kind must be one of the five');
SELECT throws_ok($$SELECT earmark.book_create('no spaces', 'x', '2026-01-01', '[{"code": "5001", "name": "x", "kind": "expense", "normal_side": "D"}]')$$,
	'23514', NULL, 'book: a book code has no spaces');
SET ROLE t_md_clerk;
SELECT throws_ok($$SELECT earmark.book_create('B3', 'by a clerk', '2026-01-01', '[{"code": "5001", "name": "x", "kind": "expense", "normal_side": "D"}]')$$,
	'42501', NULL, 'book: a clerk cannot create books');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'book: the refused books left nothing behind');
SET ROLE t_md_admin;
SELECT lives_ok($$SELECT earmark.book_create('B3', '第三账套', '2026-06-01', '[{"code": "5001", "name": "x", "kind": "expense", "normal_side": "D"}]')$$,
	'book: an administrator creates a book');
RESET ROLE;

-- Imports: who, what, where -----------------------------------------------------

SELECT pg_temp.state() AS s1 \gset
SET ROLE t_md_clerk;
SELECT throws_ok($$SELECT earmark.master_import('B1', 'village', '[{"code": "610826101202", "name": "西沟村"}]')$$,
	'42501', NULL, 'import: a clerk cannot import master data');
SET ROLE t_md_admin;
SELECT throws_ok($$SELECT earmark.master_import('NOPE', 'village', '[{"code": "610826101202", "name": "西沟村"}]')$$,
	'EMR01', 'unknown book ''NOPE''', 'import: into an unknown book is refused');
SELECT throws_ok($$SELECT earmark.master_import('B1', 'villages', '[{"code": "610826101202", "name": "西沟村"}]')$$,
	'EMI01', 'unknown kind of master data ''villages''', 'import: an unknown kind is refused');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'import: the refused imports left nothing behind');

-- A file with two bad rows: both named, nothing imported ---------------------

SET ROLE t_md_admin;
SELECT throws_ok($$SELECT earmark.master_import('B1', 'fund', '[
		{"code": "F4", "name": "良好", "level": "city", "year": 2026, "amount_fen": 100, "bank_account": "622800000001", "source": "funds.csv:2"},
		{"code": "F5", "name": "坏级别", "level": "town", "year": 2026, "amount_fen": 100, "bank_account": "622800000001", "source": "funds.csv:3"},
		{"code": "F6", "name": "坏账户", "level": "city", "year": 2026, "amount_fen": 100, "bank_account": "999999", "source": "funds.csv:4"}]')$$,
	'EMI01', '2 of 3 fund rows refused; nothing was imported',
	'import: a file with two bad rows is refused as a whole');
SELECT is(pg_temp.error_of($$SELECT earmark.master_import('B1', 'fund', '[
		{"code": "F4", "name": "良好", "level": "city", "year": 2026, "amount_fen": 100, "bank_account": "622800000001", "source": "funds.csv:2"},
		{"code": "F5", "name": "坏级别", "level": "town", "year": 2026, "amount_fen": 100, "bank_account": "622800000001", "source": "funds.csv:3"},
		{"code": "F6", "name": "坏账户", "level": "city", "year": 2026, "amount_fen": 100, "bank_account": "999999", "source": "funds.csv:4"}]')$$),
	E'EMI01: 2 of 3 fund rows refused; nothing was imported\n'
	'2 problems:\n'
	'  funds.csv:3: level: one of central, province, city, county\n'
	'  funds.csv:4: unknown dedicated account ''999999''',
	'import: the refusal names both bad rows by their source, with what the column takes');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'import: nothing of the refused file was imported, not even its good row');
SELECT is((SELECT count(*)::int FROM earmark.fund WHERE code = 'F4'), 0, 'import: F4, the good row, is not there');

SET ROLE t_md_admin;
SELECT matches(pg_temp.error_of($$SELECT earmark.master_import('B1', 'village', '[
		{"code": "61082610120", "name": "短码村", "source": "villages.csv:2"},
		{"code": "610826101201", "name": "东沟村", "source": "villages.csv:3"},
		{"code": "610826101203", "name": "", "source": "villages.csv:4"}]')$$),
	E'^EMI01: 3 of 3 village rows refused.*\n  villages\\.csv:2: code: the 12-digit 统计用区划代码\n'
	'  villages\\.csv:3: the village code is already registered\n  villages\\.csv:4: name is empty$',
	'import: a bad code, a duplicate and an empty name are each explained');
SELECT matches(pg_temp.error_of($$SELECT earmark.master_import('B1', 'household', '[
		{"code": "H0002", "village": "999999999999", "head_name": "李四", "source": "households.csv:2"},
		{"code": "H0001", "village": "610826101201", "head_name": "张三", "source": "households.csv:3"}]')$$),
	E'\n  households\\.csv:2: unknown village ''999999999999''\n  households\\.csv:3: the household code is already registered$',
	'import: an unknown village and a duplicate household are named');
SELECT matches(pg_temp.error_of($$SELECT earmark.master_import('B1', 'bank_account', '[
		{"account_no": "6228 0000", "bank_name": "农行", "cnaps": "103100000001", "source": "b.csv:2"},
		{"account_no": "622800000005", "bank_name": "农行", "cnaps": "1031", "source": "b.csv:3"}]')$$),
	E'\n  b\\.csv:2: account_no: 6 to 34 digits or letters\n  b\\.csv:3: cnaps: the bank''s 12-digit CNAPS code$',
	'import: a bad account number and a bad CNAPS code are named');
SELECT matches(pg_temp.error_of($$SELECT earmark.master_import('B1', 'project', '[
		{"code": "P2026-002", "name": "水渠", "category": "NOPE", "source": "projects.csv:2"}]')$$),
	E'\n  projects\\.csv:2: unknown use category ''NOPE''$',
	'import: a project''s unknown category is named');
-- Without a source the rows are named by their place in the file.
SELECT matches(pg_temp.error_of($$SELECT earmark.master_import('B1', 'category', '[
		{"code": "CY", "name": "产业发展"},
		{"code": "bad code", "name": "x"},
		{"code": "bad code 2", "name": "y"}]')$$),
	E'\n  row 2: code: [^\n]*\n  row 3: code: [^\n]*$',
	'import: rows without a source are named by their row number');
SELECT matches(pg_temp.error_of($$SELECT earmark.master_import('B1', 'category', '[
		{"code": "CY", "name": "", "source": "categories.csv:2"}]')$$),
	E'\n  categories\\.csv:2: name is empty$',
	'import: a category without a name is explained like the other kinds');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'import: none of the refused files left anything behind');

-- Good imports ----------------------------------------------------------------------

SET ROLE t_md_admin;
SELECT is(earmark.master_import('B1', 'fund', '[
		{"code": "F4", "name": "市级资金", "level": "city", "type": "衔接", "year": 2026, "doc_no": "市财〔2026〕3号", "amount_fen": 2500000, "bank_account": "622800000002", "source": "funds.csv:2"},
		{"code": "F5", "name": "县级资金", "level": "county", "year": 2026, "amount_fen": 0, "bank_account": "622800000002", "source": "funds.csv:3"}]'),
	2, 'import: a good file imports every row and says how many');
SELECT is(earmark.master_import('B1', 'village', '[{"code": "610826101202", "name": "西沟村", "township": "城关镇", "county": "测试县"}]'),
	1, 'import: villages');
SELECT is(earmark.master_import('B1', 'household', '[{"code": "H0002", "village": "610826101202", "head_name": "李四"}]'),
	1, 'import: households');
SELECT is(earmark.master_import('B1', 'project', '[{"code": "P2026-002", "name": "水渠", "category": "JC"}, {"code": "P2026-003", "name": "无类别"}]'),
	2, 'import: projects, with and without a category');
RESET ROLE;
SELECT results_eq($$SELECT f.code, f.level, f.fund_type, f.year::int, f.doc_no, f.amount_fen, da.account_no
                     FROM earmark.fund f JOIN earmark.dedicated_account da ON da.book_id = f.book_id AND da.bank_account_id = f.bank_account_id
                    WHERE f.code IN ('F4', 'F5') ORDER BY f.code$$,
	$$VALUES ('F4'::text, 'city'::text, '衔接'::text, 2026, '市财〔2026〕3号'::text, 2500000::bigint, '622800000002'::text),
	         ('F5', 'county', '', 2026, '', 0, '622800000002')$$,
	'import: the funds are stored as given, with their dedicated account');

SELECT * FROM finish();
ROLLBACK;
