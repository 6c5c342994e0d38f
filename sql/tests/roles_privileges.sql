-- Roles and privileges (DESIGN section 8, and the DB level of section 4).
--
-- Application roles own nothing and write nothing directly; each write
-- function is executable by the one group role whose job it is and by
-- nobody else, PUBLIC included; every SECURITY DEFINER function is owned
-- by earmark_owner and pins its search_path with pg_temp last; the group
-- roles cannot log in, are no superusers and are not members of the owner
-- or of each other; earmark_public reads no table of the ledger.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(35);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_roles_admin LOGIN;
GRANT earmark_admin TO t_roles_admin;
CREATE ROLE t_roles_clerk LOGIN;
GRANT earmark_clerk TO t_roles_clerk;
CREATE ROLE t_roles_clerk2 LOGIN;
GRANT earmark_clerk TO t_roles_clerk2;
CREATE ROLE t_roles_rev LOGIN;
GRANT earmark_reviewer TO t_roles_rev;
CREATE ROLE t_roles_bk LOGIN;
GRANT earmark_bookkeeper TO t_roles_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_roles_clerk, t_roles_rev and t_roles_bk unless told otherwise.
SET earmark_test.people = 't_roles';
\ir fixture/helpers.psql

-- The book: 2026 from January, two dedicated accounts; F1 and F2 share the
-- first (A2 keeps their cash apart), F3 has the second.  Every fund permits
-- the use category JC (A3); household H0001 has its ID number (H1).
SET ROLE t_roles_admin;
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

SELECT pg_temp.post('B1', '2026-03-02',
	jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 100000, 'F1')),
	'receipt') AS num \gset
SELECT pg_temp.state() AS s0 \gset

CREATE TEMP VIEW app_role AS
SELECT unnest(ARRAY['earmark_clerk', 'earmark_reviewer', 'earmark_bookkeeper', 'earmark_cashier',
                    'earmark_admin', 'earmark_auditor', 'earmark_public'])::name AS rolname;
CREATE TEMP VIEW em_table AS
SELECT c.oid, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'earmark' AND c.relkind IN ('r', 'p', 'v', 'm', 'f');
CREATE TEMP VIEW em_function AS
SELECT p.oid, p.oid::regprocedure::text AS signature, p.proname, p.prosecdef, p.proconfig, p.proowner
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'earmark';

-- The roles themselves -----------------------------------------------------------

SELECT is((SELECT count(*)::int FROM pg_roles WHERE rolname IN (SELECT rolname FROM app_role) OR rolname = 'earmark_owner'), 8,
	'roles: the eight roles of section 8 exist');
SELECT is_empty($$SELECT rolname FROM pg_roles
                   WHERE (rolname IN (SELECT rolname FROM app_role) OR rolname = 'earmark_owner')
                     AND (rolcanlogin OR rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls)$$,
	'roles: no group role can log in or holds a cluster-wide power');
SELECT is_empty($$SELECT a.rolname FROM app_role a WHERE pg_has_role(a.rolname, 'earmark_owner', 'MEMBER')$$,
	'roles: no application role is a member of earmark_owner');
SELECT is_empty($$SELECT a.rolname, b.rolname FROM app_role a, app_role b
                   WHERE a.rolname <> b.rolname AND pg_has_role(a.rolname, b.rolname, 'MEMBER')$$,
	'roles: no application role is a member of another (the jobs stay apart, D6)');

-- Ownership -----------------------------------------------------------------------

SELECT cmp_ok((SELECT count(*)::int FROM em_table), '>=', 15, 'roles: the ledger''s tables are there to check');
SELECT is_empty($$SELECT c.relname FROM pg_class c JOIN app_role a ON a.rolname = pg_get_userbyid(c.relowner)$$,
	'roles: application roles own no tables, views, sequences or indexes');
SELECT is_empty($$SELECT p.proname FROM pg_proc p JOIN app_role a ON a.rolname = pg_get_userbyid(p.proowner)$$,
	'roles: application roles own no functions');
SELECT is_empty($$SELECT n.nspname FROM pg_namespace n JOIN app_role a ON a.rolname = pg_get_userbyid(n.nspowner)
                  UNION ALL
                  SELECT t.typname FROM pg_type t JOIN app_role a ON a.rolname = pg_get_userbyid(t.typowner)$$,
	'roles: application roles own no schemas or types');
SELECT is_empty($$SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'earmark' AND pg_get_userbyid(c.relowner) <> 'earmark_owner'
                  UNION ALL
                  SELECT signature FROM em_function WHERE pg_get_userbyid(proowner) <> 'earmark_owner'
                  UNION ALL
                  SELECT nspname FROM pg_namespace WHERE nspname = 'earmark' AND pg_get_userbyid(nspowner) <> 'earmark_owner'$$,
	'roles: earmark_owner owns the schema and everything in it');

-- Tables ---------------------------------------------------------------------------

SELECT is_empty($$SELECT relname FROM em_table WHERE (has_table_privilege('earmark_public', oid, 'SELECT')
                   OR has_any_column_privilege('earmark_public', oid, 'SELECT'))
                   AND relname <> 'public_notice'$$,
	'roles: earmark_public cannot select any earmark table, nor any column of one, but the published notices');
SELECT is_empty($$SELECT relname FROM em_table WHERE has_table_privilege('public', oid, 'SELECT')$$,
	'roles: PUBLIC cannot select any earmark table');
SELECT is_empty($$SELECT a.rolname, t.relname, p.priv
                    FROM app_role a, em_table t,
                         unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(priv)
                   WHERE has_table_privilege(a.rolname, t.oid, p.priv)
                      OR p.priv IN ('INSERT', 'UPDATE', 'REFERENCES') AND has_any_column_privilege(a.rolname, t.oid, p.priv)
                  EXCEPT  -- the one exception: clerks COPY batches into staging they cannot read
                  SELECT 'earmark_clerk', 'pay_staging', 'INSERT'$$,
	'roles: no application role may write any earmark table, except the clerk''s COPY into pay_staging');
SELECT is_empty($$SELECT a.rolname, c.relname FROM app_role a, pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'earmark' AND c.relkind = 'S'
                     AND (has_sequence_privilege(a.rolname, c.oid, 'USAGE') OR has_sequence_privilege(a.rolname, c.oid, 'UPDATE'))$$,
	'roles: no application role may draw from an earmark sequence');
SELECT is_empty($$SELECT a.rolname FROM app_role a WHERE has_schema_privilege(a.rolname, 'earmark', 'CREATE')
                  UNION ALL
                  SELECT 'PUBLIC on ' || s FROM unnest(ARRAY['earmark', 'public']) s WHERE has_schema_privilege('public', s, 'CREATE')$$,
	'roles: nobody but the owner creates objects in schema earmark, and PUBLIC creates none in public');
SET ROLE earmark_public;
SELECT throws_ok('SELECT count(*) FROM earmark.voucher', '42501', 'permission denied for table voucher',
	'roles: earmark_public cannot read vouchers');
SELECT throws_ok('SELECT count(*) FROM earmark.household', '42501', 'permission denied for table household',
	'roles: earmark_public cannot read households');
SELECT throws_ok('SELECT count(*) FROM earmark.schema_migration', '42501', 'permission denied for table schema_migration',
	'roles: earmark_public cannot read the migration log');
RESET ROLE;
SET ROLE earmark_auditor;
SELECT lives_ok('SELECT count(*) FROM earmark.voucher JOIN earmark.line USING (book_id, voucher_id)',
	'roles: the auditor reads vouchers and lines');
RESET ROLE;

-- Functions -----------------------------------------------------------------------

SELECT cmp_ok((SELECT count(*)::int FROM em_function), '>=', 25, 'roles: the functions are there to check');
SELECT is_empty($$SELECT signature FROM em_function WHERE has_function_privilege('public', oid, 'EXECUTE')$$,
	'roles: no function in schema earmark is executable by PUBLIC');
SELECT is_empty($$SELECT signature FROM em_function WHERE has_function_privilege('earmark_public', oid, 'EXECUTE')$$,
	'roles: earmark_public executes no earmark function');
SELECT is_empty($$SELECT signature FROM em_function
                   WHERE prosecdef AND NOT EXISTS (SELECT 1 FROM unnest(proconfig) c WHERE c LIKE 'search_path=%')$$,
	'roles: every SECURITY DEFINER function has a search_path setting');
SELECT is_empty($$SELECT signature, c FROM em_function, unnest(proconfig) c
                   WHERE prosecdef AND c LIKE 'search_path=%' AND c <> 'search_path=pg_catalog, pg_temp'$$,
	'roles: and it is pg_catalog, pg_temp: temporary objects come last and shadow nothing');
SELECT is_empty($$SELECT signature FROM em_function f JOIN pg_roles r ON r.oid = f.proowner
                   WHERE f.prosecdef AND (r.rolsuper OR r.rolname <> 'earmark_owner')$$,
	'roles: every SECURITY DEFINER function runs as earmark_owner, never as a superuser');
SELECT set_eq(
	$$SELECT f.proname::text, a.rolname::text FROM em_function f, app_role a
	   WHERE f.prosecdef AND has_function_privilege(a.rolname, f.oid, 'EXECUTE')$$,
	$$VALUES ('voucher_draft', 'earmark_clerk'), ('voucher_reverse', 'earmark_clerk'), ('voucher_discard', 'earmark_clerk'),
	         ('voucher_review', 'earmark_reviewer'), ('voucher_post', 'earmark_bookkeeper'),
	         ('voucher_reject', 'earmark_reviewer'), ('voucher_reject', 'earmark_bookkeeper'),
	         ('book_create', 'earmark_admin'), ('master_import', 'earmark_admin'), ('period_close', 'earmark_admin'),
	         ('year_end_carry_forward', 'earmark_admin'),  -- 0015: the year end is the admin's, as period close
	         ('list_create', 'earmark_clerk'), ('pay_stage_new', 'earmark_clerk'), ('pay_batch', 'earmark_clerk'),
	         ('project_claim', 'earmark_clerk'), ('fund_interest', 'earmark_clerk'), ('master_import', 'earmark_clerk'),
	         ('objection_record', 'earmark_clerk'), ('objection_record', 'earmark_admin'),
	         ('list_publish', 'earmark_admin'), ('objection_resolve', 'earmark_admin'),
	         ('pay_batch_step', 'earmark_reviewer'), ('pay_batch_step', 'earmark_bookkeeper'),
	         ('payment_export', 'earmark_cashier'), ('payment_settle', 'earmark_cashier'),
	         -- reports (0013): the household ledger masks for the auditor (H4); every job records refusals
	         ('household_ledger', 'earmark_clerk'), ('household_ledger', 'earmark_reviewer'),
	         ('household_ledger', 'earmark_bookkeeper'), ('household_ledger', 'earmark_cashier'),
	         ('household_ledger', 'earmark_admin'), ('household_ledger', 'earmark_auditor'),
	         ('refusal_log', 'earmark_clerk'), ('refusal_log', 'earmark_reviewer'),
	         ('refusal_log', 'earmark_bookkeeper'), ('refusal_log', 'earmark_cashier'),
	         ('refusal_log', 'earmark_admin'), ('refusal_log', 'earmark_auditor'),
	         ('notice_publish', 'earmark_admin'), ('notice_contact_set', 'earmark_admin'),
	         ('notice_object', 'earmark_clerk'), ('notice_object', 'earmark_admin'),
	         -- bank statements (0012): the cashier's; a re-issue is a draft, the clerk's
	         ('statement_import', 'earmark_cashier'), ('statement_match_auto', 'earmark_cashier'),
	         ('statement_match', 'earmark_cashier'), ('statement_unmatch', 'earmark_cashier'),
	         ('payment_reissue', 'earmark_clerk'),
	         -- audit packages (0011): the auditor exports, records and reads households masked
	         ('audit_begin', 'earmark_auditor'), ('audit_record', 'earmark_auditor'),
	         ('audit_households', 'earmark_auditor'),
	         -- township scope (0016): the office evaluates the RLS policies with these
	         ('scope_books', 'earmark_clerk'), ('scope_books', 'earmark_reviewer'), ('scope_books', 'earmark_bookkeeper'),
	         ('scope_books', 'earmark_cashier'), ('scope_books', 'earmark_admin'), ('scope_books', 'earmark_auditor'),
	         ('scope_villages', 'earmark_clerk'), ('scope_villages', 'earmark_reviewer'), ('scope_villages', 'earmark_bookkeeper'),
	         ('scope_villages', 'earmark_cashier'), ('scope_villages', 'earmark_admin'), ('scope_villages', 'earmark_auditor'),
	         ('scope_households', 'earmark_clerk'), ('scope_households', 'earmark_reviewer'), ('scope_households', 'earmark_bookkeeper'),
	         ('scope_households', 'earmark_cashier'), ('scope_households', 'earmark_admin'), ('scope_households', 'earmark_auditor')$$,
	'roles: each write function belongs to exactly the jobs of section 8 that use it');
SELECT is_empty($$SELECT f.signature, a.rolname FROM em_function f, app_role a
                   WHERE f.proname IN ('post_into', 'line_guard', 'voucher_guard', 'voucher_insert_guard',
                                       'voucher_delete_guard', 'no_truncate', 'raise_problems', 'require_role')
                     AND has_function_privilege(a.rolname, f.oid, 'EXECUTE')$$,
	'roles: no application role calls the posting internals or the triggers'' functions');
SET ROLE earmark_clerk;
SELECT throws_ok($$SELECT earmark.voucher_post('B1', '#1')$$, '42501', 'permission denied for function voucher_post',
	'roles: earmark_clerk cannot call voucher_post');
RESET ROLE;
SET ROLE earmark_auditor;
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-03', '记', '', NULL, '[]')$$, '42501',
	'permission denied for function voucher_draft',
	'roles: the auditor cannot prepare vouchers');
SELECT throws_ok($$SELECT earmark.master_import('B1', 'fund', '[]')$$, '42501',
	'permission denied for function master_import',
	'roles: the auditor cannot import master data');
SELECT lives_ok($$SELECT * FROM earmark.trial_balance('B1', '2026-03-31')$$,
	'roles: the auditor reads the trial balance');
SELECT lives_ok($$SELECT * FROM earmark.verify_chain('B1')$$,
	'roles: the auditor verifies the chain');
RESET ROLE;
SET ROLE earmark_public;
SELECT throws_ok($$SELECT * FROM earmark.trial_balance('B1', '2026-03-31')$$, '42501',
	'permission denied for function trial_balance',
	'roles: earmark_public cannot call trial_balance');
RESET ROLE;
SET ROLE t_roles_admin;
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-03', '记', '', NULL, '[]')$$, '42501', NULL,
	'roles: an administrator is no clerk');
RESET ROLE;

SELECT is(pg_temp.state(), :'s0', 'roles: the refused calls changed nothing');

-- What the owner adds later is not executable by PUBLIC either (default privileges).
SET ROLE earmark_owner;
CREATE FUNCTION earmark.t_roles_probe() RETURNS integer LANGUAGE sql AS 'SELECT 1';
RESET ROLE;
SELECT is(has_function_privilege('public', 'earmark.t_roles_probe()', 'EXECUTE'), false,
	'roles: a function the owner creates later is not executable by PUBLIC');

SELECT * FROM finish();
ROLLBACK;
