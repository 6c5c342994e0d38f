-- Township scope (issue 8, migration 0016): a person scoped to townships
-- (the first 9 digits of a village's 统计用区划代码) reads only their
-- villages' rows, by row-level security, and writes only those: every
-- SECURITY DEFINER write (household import, beneficiary lists, objections,
-- payment batches, vouchers with a village or household, review and
-- posting) is refused for a row outside the scope (EMT01, T1) naming the
-- village and the fix.  A person with no scope in the book (the county
-- office) sees and writes everything.  Only the database administrator
-- sets a scope.  earmark_public still reads the published notices only.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(56);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.  _clerk,
-- _rev2 and _admin2 are township officers of 城关镇 (610826101); the
-- others are the county office.
CREATE ROLE t_rls_admin LOGIN;
GRANT earmark_admin TO t_rls_admin;
CREATE ROLE t_rls_admin2 LOGIN;
GRANT earmark_admin TO t_rls_admin2;
CREATE ROLE t_rls_clerk LOGIN;
GRANT earmark_clerk TO t_rls_clerk;
CREATE ROLE t_rls_clerk2 LOGIN;
GRANT earmark_clerk TO t_rls_clerk2;
CREATE ROLE t_rls_rev LOGIN;
GRANT earmark_reviewer TO t_rls_rev;
CREATE ROLE t_rls_rev2 LOGIN;
GRANT earmark_reviewer TO t_rls_rev2;
CREATE ROLE t_rls_bk LOGIN;
GRANT earmark_bookkeeper TO t_rls_bk;
CREATE ROLE t_rls_auditor LOGIN;
GRANT earmark_auditor TO t_rls_auditor;
CREATE ROLE t_rls_board LOGIN;
GRANT earmark_public TO t_rls_board;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_rls_clerk2, t_rls_rev and t_rls_bk here (the county office).
SET earmark_test.people = 't_rls';
\ir fixture/helpers.psql

-- Stages batch rows as the person, returns the stage id.
CREATE FUNCTION pg_temp.stage(who text, rows jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	was text := current_setting('role');
	st bigint;
BEGIN
	PERFORM set_config('role', who, false);
	st := earmark.pay_stage_new();
	INSERT INTO earmark.pay_staging (stage_id, line_no, household, amount_fen, project, fund, category, list, item)
	SELECT st, (r->>'line_no')::integer, r->>'household', (r->>'amount_fen')::bigint, 'PH', 'F1', 'WF', 'L1', '主房'
	  FROM jsonb_array_elements(rows) r;
	PERFORM set_config('role', was, false);
	RETURN st;
END
$$;
-- The hint of the error sql raises.
CREATE FUNCTION pg_temp.hint_of(sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	h text;
BEGIN
	EXECUTE sql;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
	RETURN h;
END
$$;
-- What the person sees of a table, as 'code,code,...'.
CREATE FUNCTION pg_temp.seen(who text, sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	was text := current_setting('role');
	r text;
BEGIN
	PERFORM set_config('role', who, false);
	EXECUTE sql INTO r;
	PERFORM set_config('role', was, false);
	RETURN COALESCE(r, '');
END
$$;

-- The book: 城关镇 610826101 (东沟村, 北沟村) and 河口镇 610826102 (西沟村).
SET ROLE t_rls_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "2303", "name": "应付政府补贴款", "kind": "liability", "normal_side": "C"},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"},
	{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "source": "bank_accounts.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'category', $$[{"code": "WF", "name": "危房改造", "source": "categories.csv:2"}]$$) AS imported \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2026, "amount_fen": 500000000, "bank_account": "622800000001", "categories": "WF", "source": "funds.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'village', $$[
	{"code": "610826101201", "name": "东沟村", "township": "城关镇", "source": "villages.csv:2"},
	{"code": "610826101202", "name": "北沟村", "township": "城关镇", "source": "villages.csv:3"},
	{"code": "610826102203", "name": "西沟村", "township": "河口镇", "source": "villages.csv:4"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'household', $$[
	{"code": "H0001", "village": "610826101201", "head_name": "张三", "id_no": "610826196503120011", "bank_card": "6228480000000000011", "bank_cnaps": "103100000001", "source": "households.csv:2"},
	{"code": "H0002", "village": "610826101202", "head_name": "李四", "id_no": "610826197005200021", "bank_card": "6228480000000000022", "bank_cnaps": "103100000001", "source": "households.csv:3"},
	{"code": "H0003", "village": "610826102203", "head_name": "王五", "id_no": "610826195811040035", "bank_card": "6230000000000000033", "bank_cnaps": "103100000001", "source": "households.csv:4"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project', $$[
	{"code": "PH", "name": "危房改造到户补助", "category": "WF", "villages": "610826101201;610826101202;610826102203", "source": "projects.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_budget', $$[{"project": "PH", "fund": "F1", "amount_fen": 50000000, "source": "budgets.csv:2"}]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_target', $$[{"project": "PH", "kind": "产出", "indicator": "改造户数", "value": "≥3户", "source": "targets.csv:2"}]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_event', $$[
	{"project": "PH", "kind": "approval", "date": "2026-03-01", "doc_no": "县住建〔2026〕1号", "source": "events.csv:2"}
]$$) AS imported \gset
SET ROLE t_rls_clerk2;
SELECT earmark.list_create('B1', 'L1', 'PH', '2026年危房改造第一批', $$[
	{"household": "H0001", "item": "主房", "amount_fen": 1000000, "source": "l1.csv:2"},
	{"household": "H0002", "item": "主房", "amount_fen": 1000000, "source": "l1.csv:3"},
	{"household": "H0003", "item": "主房", "amount_fen": 1000000, "source": "l1.csv:4"}
]$$) AS listed \gset
SET ROLE t_rls_admin;
SELECT earmark.list_publish('B1', 'L1', '2026-10-01', NULL) AS published \gset
RESET ROLE;
SELECT pg_temp.post('B1', '2026-09-01', jsonb_build_array(
	pg_temp.ln('1002', 'D', 20000000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 20000000, 'F1')),
	'资金到账', '记', 't_rls_clerk2') AS receipt \gset
-- One posted spend line per household, by the county office.
SELECT pg_temp.post('B1', '2026-10-15', jsonb_build_array(
	pg_temp.ln('5001', 'D', 100, 'F1', NULL, '{"project": "PH", "household": "H0001"}', 'WF'),
	pg_temp.ln('5001', 'D', 100, 'F1', NULL, '{"project": "PH", "household": "H0003"}', 'WF'),
	pg_temp.ln('1002', 'C', 200, 'F1', '622800000001')), '到户', '记', 't_rls_clerk2') AS spend \gset

-- Setting a scope ------------------------------------------------------------------

SELECT is(earmark.user_scope('B1', 't_rls_clerk', ARRAY['610826101']), 1,
	'T1: the administrator scopes a clerk to 城关镇');
SELECT is(earmark.user_scope('B1', 't_rls_rev2', ARRAY['610826101', '610826101']), 1,
	'T1: a township named twice is kept once');
SELECT is(earmark.user_scope('B1', 't_rls_admin2', ARRAY['610826101']), 1,
	'T1: a township''s administrator is scoped too');
SELECT throws_ok($$SELECT earmark.user_scope('B1', 't_rls_nobody', ARRAY['610826101'])$$,
	'EMR01', 'user ''t_rls_nobody'' does not exist', 'T1: an unknown user is refused');
SELECT throws_ok($$SELECT earmark.user_scope('B1', 't_rls_clerk', ARRAY['61082610'])$$,
	'EMI01', 'invalid township code ''61082610'' (T1)', 'T1: a township code has 9 digits');
SELECT throws_ok($$SELECT earmark.user_scope('B1', 't_rls_clerk', ARRAY['610826109'])$$,
	'EMR01', 'no village of book ''B1'' lies in township ''610826109'' (T1)',
	'T1: a township without villages in the book is refused (a typo would hide everything)');
SELECT throws_ok($$SELECT earmark.user_scope('B1', 't_rls_auditor', ARRAY['610826101'])$$,
	'EMT01', 'an auditor or the public board cannot be scoped to townships (T1)',
	'T1: an auditor reads the whole book and cannot be scoped');
SELECT is((SELECT string_agg(person || ':' || township, ' ' ORDER BY person) FROM earmark.user_township),
	't_rls_admin2:610826101 t_rls_clerk:610826101 t_rls_rev2:610826101',
	'T1: the refused scopes changed nothing');
SET ROLE t_rls_admin;
SELECT throws_ok($$SELECT earmark.user_scope('B1', 't_rls_admin', '{}')$$,
	'42501', 'permission denied for function user_scope',
	'T1: an earmark administrator cannot set scopes (nor widen their own)');
SET ROLE t_rls_clerk;
SELECT throws_ok($$SELECT earmark.user_scope('B1', 't_rls_clerk', '{}')$$,
	'42501', 'permission denied for function user_scope',
	'T1: a scoped clerk cannot unscope themselves');
RESET ROLE;

-- Reading --------------------------------------------------------------------------

SELECT is(pg_temp.seen('t_rls_clerk', 'SELECT string_agg(code, '','' ORDER BY code) FROM earmark.village'),
	'610826101201,610826101202', 'read: the scoped clerk sees their township''s villages only');
SELECT is(pg_temp.seen('t_rls_clerk', 'SELECT string_agg(code, '','' ORDER BY code) FROM earmark.household'),
	'H0001,H0002', 'read: the scoped clerk sees their villages'' households only');
SELECT is(pg_temp.seen('t_rls_clerk', format('SELECT string_agg(code, '','') FROM earmark.household WHERE household_id = %s',
	(SELECT household_id FROM earmark.household WHERE code = 'H0003'))),
	'', 'read: another township''s household is not there, even by its id');
SELECT is(pg_temp.seen('t_rls_clerk', 'SELECT string_agg(h.code, '','' ORDER BY h.code) FROM earmark.household_private p JOIN earmark.household h USING (book_id, household_id)'),
	'H0001,H0002', 'read: personal data of their households only (H4 and T1)');
SELECT is(pg_temp.seen('t_rls_clerk', 'SELECT count(*)::text FROM earmark.household_private'), '2',
	'read: the other township''s personal data is not counted either');
SELECT is(pg_temp.seen('t_rls_clerk', 'SELECT string_agg(household, '','' ORDER BY household) FROM earmark.beneficiary b JOIN earmark.household h USING (book_id, household_id) CROSS JOIN LATERAL (SELECT h.code AS household) x'),
	'H0001,H0002', 'read: beneficiary list lines of their households only');
SELECT is(pg_temp.seen('t_rls_clerk', $$SELECT string_agg(account || ':' || COALESCE(household, '-'), ',' ORDER BY voucher_id, line_no) FROM earmark.line_coded$$),
	'1002:-,4001:-,5001:H0001,1002:-', 'read: lines of their households and the county''s lines (no village or household), not the other township''s');
SELECT is(pg_temp.seen('t_rls_clerk', 'SELECT string_agg(h.code, '','') FROM earmark.household_spend s JOIN earmark.household h USING (book_id, household_id)'),
	'H0001', 'read: kept household totals of their households only');
SELECT is(pg_temp.seen('t_rls_clerk', 'SELECT string_agg(person, '','') FROM earmark.user_township'),
	't_rls_clerk', 'read: a township officer sees their own scope, not the others''');
SELECT is(pg_temp.seen('t_rls_clerk2', 'SELECT string_agg(code, '','' ORDER BY code) FROM earmark.household'),
	'H0001,H0002,H0003', 'read: the county office sees every household');
SELECT is(pg_temp.seen('t_rls_clerk2', 'SELECT count(*)::text FROM earmark.line'), '5',
	'read: the county office sees every line');
SELECT is(pg_temp.seen('t_rls_clerk2', 'SELECT count(*)::text FROM earmark.user_township'), '3',
	'read: the county office sees every scope');
SELECT is(pg_temp.seen('t_rls_auditor', 'SELECT string_agg(code, '','' ORDER BY code) FROM earmark.household'),
	'H0001,H0002,H0003', 'read: the auditor sees every household');
SELECT is(pg_temp.seen('t_rls_clerk', $$SELECT string_agg(code || ':' || households, ',' ORDER BY code) FROM earmark.village_register('B1', '2026-12-01')$$),
	'610826101201:1,610826101202:1', 'read: the village register of a scoped clerk lists their villages');
SET ROLE t_rls_clerk;
SELECT throws_ok($$SELECT * FROM earmark.household_ledger('B1', 'H0003', '2026-12-01')$$,
	'EMT01', 'household H0003 in village 610826102203 is outside the townships of ''t_rls_clerk'' (T1 township scope)',
	'read: the household ledger (SECURITY DEFINER) refuses another township''s household');
SELECT is((SELECT sum(amount_fen)::int FROM earmark.household_ledger('B1', 'H0001', '2026-12-01')), 100,
	'read: and shows one of their own');
RESET ROLE;
-- A scoped person who switches to the group role keeps their scope.
SET SESSION AUTHORIZATION t_rls_clerk;
SET ROLE earmark_clerk;
SELECT is((SELECT string_agg(code, ',' ORDER BY code) FROM earmark.household), 'H0001,H0002',
	'read: SET ROLE earmark_clerk does not escape the scope');
RESET ROLE;
RESET SESSION AUTHORIZATION;

-- Writing: refused outside the scope ---------------------------------------------------

SELECT pg_temp.state() AS s0 \gset
SET ROLE t_rls_clerk;
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-10-15', '记', '', NULL, jsonb_build_array(
	pg_temp.ln('5001', 'D', 100, 'F1', NULL, '{"project": "PH", "household": "H0003"}', 'WF'),
	pg_temp.ln('1002', 'C', 100, 'F1', '622800000001')))$$,
	'EMT01', 'voucher line 1 (household H0003) in village 610826102203 西沟村 is outside the townships of ''t_rls_clerk'' (T1 township scope)',
	'write: a voucher line for another township''s household is refused');
SELECT is(pg_temp.error_of($$SELECT earmark.voucher_draft('B1', '2026-10-15', '记', '', NULL, jsonb_build_array(
	pg_temp.ln('5001', 'D', 100, 'F1', NULL, '{"project": "PH", "village": "610826102203"}', 'WF'),
	pg_temp.ln('1002', 'C', 100, 'F1', '622800000001')))$$),
	E'EMT01: voucher line 1 in village 610826102203 西沟村 is outside the townships of ''t_rls_clerk'' (T1 township scope)\n1 row outside 610826101: voucher line 1 in village 610826102203 西沟村',
	'write: so is a line naming another township''s village, with the count and the rows in the detail');
SELECT is(pg_temp.error_of($$SELECT earmark.list_create('B1', 'L9', 'PH', '第二批', '[
	{"household": "H0002", "item": "厨房", "amount_fen": 1000, "source": "l9.csv:2"},
	{"household": "H0003", "item": "厨房", "amount_fen": 1000, "source": "l9.csv:3"}]')$$),
	E'EMT01: 1 of 2 list rows refused; nothing was kept\n1 problem:\n  l9.csv:3: household H0003 on list L9 in village 610826102203 西沟村 is outside the townships of ''t_rls_clerk'' (T1 township scope)',
	'write: a beneficiary list with another township''s household is refused, naming its file line');
SELECT throws_ok($$SELECT earmark.objection_record('B1', 'L1', 'H0003', '2026-10-03', '不符合条件')$$,
	'EMT01', 'an objection for household H0003 in village 610826102203 西沟村 is outside the townships of ''t_rls_clerk'' (T1 township scope)',
	'write: an objection for another township''s household is refused');
RESET ROLE;
SELECT pg_temp.stage('t_rls_clerk', '[{"line_no": 2, "household": "H0001", "amount_fen": 999900},
                                      {"line_no": 3, "household": "H0003", "amount_fen": 999900}]') AS st1 \gset
SET ROLE t_rls_clerk;
SELECT throws_ok(format($$SELECT earmark.pay_batch('B1', %s, 'B-9', '2026-10-20', NULL, 'rls.csv')$$, :st1),
	'EMT01', 'rls.csv:3: household H0003 in village 610826102203 西沟村 is outside the townships of ''t_rls_clerk'' (T1 township scope)',
	'write: a payment batch with another township''s household is refused, naming its file line');
SELECT is(pg_temp.hint_of(format($$SELECT earmark.pay_batch('B1', %s, 'B-9', '2026-10-20', NULL, 'rls.csv')$$, :st1)),
	'''t_rls_clerk'' works only in township 610826101: leave these rows to the county office, or have the database administrator widen the scope: earmark user scope t_rls_clerk --township CODE[,CODE...]',
	'write: the refusal says what to do');
RESET ROLE;
SET ROLE t_rls_admin2;
SELECT is(pg_temp.error_of($$SELECT earmark.master_import('B1', 'household', '[
	{"code": "H0009", "village": "610826102203", "head_name": "周九", "id_no": "610826198003120014", "source": "hh.csv:2"}]')$$),
	E'EMT01: 1 of 1 household rows refused; nothing was imported\n1 problem:\n  hh.csv:2: household H0009 in village 610826102203 西沟村 is outside the townships of ''t_rls_admin2'' (T1 township scope) (1 row outside 610826101: household H0009 in village 610826102203 西沟村)',
	'write: a township administrator cannot import another township''s household');
SELECT is(pg_temp.error_of($$SELECT earmark.master_import('B1', 'village', '[
	{"code": "610826102299", "name": "新村", "township": "河口镇", "source": "v.csv:2"}]')$$),
	E'EMT01: 1 of 1 village rows refused; nothing was imported\n1 problem:\n  v.csv:2: village 610826102299 新村 is outside the townships of ''t_rls_admin2'' (T1 township scope) (1 row outside 610826101: village 610826102299 新村)',
	'write: nor create a village in another township');
RESET ROLE;
-- A draft of the county office's with a line of 河口镇: the scoped reviewer may not review it.
SET ROLE t_rls_clerk2;
SELECT earmark.voucher_draft('B1', '2026-10-15', '记', '河口镇', NULL, jsonb_build_array(
	pg_temp.ln('5001', 'D', 100, 'F1', NULL, '{"project": "PH", "household": "H0003"}', 'WF'),
	pg_temp.ln('1002', 'C', 100, 'F1', '622800000001'))) AS other_draft \gset
RESET ROLE;
SELECT pg_temp.state() AS s1 \gset
SET ROLE t_rls_rev2;
SELECT throws_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :other_draft),
	'EMT01', format('voucher #%s line 1 in village 610826102203 西沟村 is outside the townships of ''t_rls_rev2'' (T1 township scope)', :other_draft),
	'write: a scoped reviewer cannot review a voucher of another township');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'write: every refusal left the ledger as it was');

-- Writing: inside the scope ------------------------------------------------------

SET ROLE t_rls_clerk;
SELECT lives_ok($$SELECT earmark.list_create('B1', 'L2', 'PH', '第二批', '[
	{"household": "H0002", "item": "厨房", "amount_fen": 1000, "source": "l2.csv:2"}]')$$,
	'write: a list of their own households is accepted');
SELECT lives_ok($$SELECT earmark.objection_record('B1', 'L1', 'H0002', '2026-10-03', '待核实')$$,
	'write: an objection for their own household is accepted');
SELECT earmark.voucher_draft('B1', '2026-10-15', '记', '东沟村', NULL, jsonb_build_array(
	pg_temp.ln('5001', 'D', 100, 'F1', NULL, '{"project": "PH", "household": "H0001", "village": "610826101201"}', 'WF'),
	pg_temp.ln('1002', 'C', 100, 'F1', '622800000001'))) AS own_draft \gset
SELECT ok(:own_draft > 0, 'write: a voucher for their own household and village is drafted');
RESET ROLE;
SET ROLE t_rls_rev2;
SELECT lives_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :own_draft),
	'write: a scoped reviewer reviews a voucher of their township');
RESET ROLE;
SELECT pg_temp.stage('t_rls_clerk', '[{"line_no": 2, "household": "H0001", "amount_fen": 999900}]') AS st2 \gset
SET ROLE t_rls_clerk;
SELECT is(earmark.pay_batch('B1', :st2, 'B-1', '2026-10-20', NULL, 'rls.csv'), 'B-1',
	'write: a payment batch of their own households is accepted');
RESET ROLE;
SET ROLE t_rls_admin2;
SELECT is(earmark.master_import('B1', 'household', '[
	{"code": "H0010", "village": "610826101202", "head_name": "吴十", "id_no": "610826198003120014", "source": "hh.csv:2"}]'), 1,
	'write: a township administrator imports a household of their township');
RESET ROLE;
SELECT pg_temp.stage('t_rls_clerk2', '[{"line_no": 2, "household": "H0003", "amount_fen": 999900}]') AS st3 \gset
SET ROLE t_rls_clerk2;
SELECT is(earmark.pay_batch('B1', :st3, 'B-3', '2026-10-20', NULL, 'county.csv'), 'B-3',
	'write: the county office pays any township''s household');
RESET ROLE;
SELECT is(pg_temp.seen('t_rls_clerk', 'SELECT string_agg(h.code, '','' ORDER BY h.code) FROM earmark.household_payment p JOIN earmark.household h USING (book_id, household_id)'),
	'H0001', 'read: the scoped clerk sees their batch''s payment, not the county''s to 河口镇');
-- Unscoping: the administrator gives the clerk the county back.
SELECT is(earmark.user_scope('B1', 't_rls_clerk', '{}'), 0, 'T1: an empty scope is the county office');
SELECT is(pg_temp.seen('t_rls_clerk', 'SELECT string_agg(code, '','' ORDER BY code) FROM earmark.household'),
	'H0001,H0002,H0003,H0010', 'read: unscoped again, the clerk sees every household');

-- The fences themselves ------------------------------------------------------------

SELECT set_eq($$SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = 'earmark' AND c.relrowsecurity$$,
	ARRAY['village', 'household', 'household_private', 'household_spend', 'household_payment', 'beneficiary',
	      'objection', 'village_month', 'line', 'user_township'],
	'fence: row-level security is on for the township''s tables');
SELECT is_empty($$SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'earmark' AND c.relforcerowsecurity$$,
	'fence: not forced, so the rules and the chain (run as the owner) see every row');
SELECT is((SELECT relrowsecurity FROM pg_class WHERE oid = 'earmark.pay_staging'::regclass), false,
	'fence: the batch staging table has none (COPY refuses it; pay_batch reads only the caller''s rows)');
SELECT is_empty($$SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'earmark' AND c.relrowsecurity
                     AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'township_scope')$$,
	'fence: each of them has the township_scope policy');

CREATE FUNCTION pg_temp.plan_of(who text, sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	was text := current_setting('role');
	r text;
	p text := '';
BEGIN
	PERFORM set_config('role', who, false);
	FOR r IN EXECUTE 'EXPLAIN ' || sql LOOP
		p := p || r || E'\n';
	END LOOP;
	PERFORM set_config('role', was, false);
	RETURN p;
END
$$;
SELECT ok(p ~ 'InitPlan 1 ' AND p ~ 'hashed SubPlan 2' AND p ~ 'hashed SubPlan 3'
          AND p ~ '^Index Scan using line_book_household',
	'fence: a policy reads the scope once per query (an InitPlan and hashed SubPlans), and the index is still used')
  FROM pg_temp.plan_of('t_rls_rev2', 'SELECT * FROM earmark.line WHERE book_id = 1 AND household_id = 1') p;

-- The public ---------------------------------------------------------------------

SET ROLE t_rls_board;
SELECT throws_ok('SELECT count(*) FROM earmark.household', '42501', 'permission denied for table household',
	'public: the board cannot read households, scoped or not');
SELECT throws_ok('SELECT count(*) FROM earmark.user_township', '42501', 'permission denied for table user_township',
	'public: nor who is scoped to what');
SELECT lives_ok('SELECT count(*) FROM earmark.public_notice', 'public: it reads the published notices');
RESET ROLE;
SELECT is_empty($$SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'earmark' AND c.relkind IN ('r', 'v', 'p', 'm')
                     AND has_table_privilege('earmark_public', c.oid, 'SELECT') AND c.relname <> 'public_notice'$$,
	'public: earmark_public reads public_notice and nothing else');

SELECT * FROM finish();
ROLLBACK;
