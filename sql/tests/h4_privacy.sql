-- H4 (DESIGN section 4) in the database: ID numbers, bank cards and phone
-- numbers (household_private) are read in the finance office only, never
-- by earmark_public or earmark_auditor; outside the office they are shown
-- through the masks of 0005 (ID: first 6 + ******** + last 4; name 张*,
-- 张*三; card ****1234; phone 138****1234).  Staged payment rows
-- (pay_staging) are personal to whoever staged them: clerks write them
-- (COPY, INSERT) but nobody outside the owner reads them, a trigger stamps
-- each row with its writer whatever the row says, and pay_batch takes only
-- the caller's own rows.  (Not row-level security: COPY FROM refuses
-- tables that have it.)
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(28);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_h4p_admin LOGIN;
GRANT earmark_admin TO t_h4p_admin;
CREATE ROLE t_h4p_clerk LOGIN;
GRANT earmark_clerk TO t_h4p_clerk;
CREATE ROLE t_h4p_clerk2 LOGIN;
GRANT earmark_clerk TO t_h4p_clerk2;
CREATE ROLE t_h4p_rev LOGIN;
GRANT earmark_reviewer TO t_h4p_rev;
CREATE ROLE t_h4p_bk LOGIN;
GRANT earmark_bookkeeper TO t_h4p_bk;
CREATE ROLE t_h4p_cashier LOGIN;
GRANT earmark_cashier TO t_h4p_cashier;
CREATE ROLE t_h4p_auditor LOGIN;
GRANT earmark_auditor TO t_h4p_auditor;
CREATE ROLE t_h4p_public LOGIN;
GRANT earmark_public TO t_h4p_public;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_h4p_clerk, t_h4p_rev and t_h4p_bk unless told otherwise.
SET earmark_test.people = 't_h4p';
\ir fixture/helpers.psql


SET ROLE t_h4p_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "2303", "name": "应付政府补贴款", "kind": "liability", "normal_side": "C"},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"},
	{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "source": "bank_accounts.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'category', $$[
	{"code": "WF", "name": "危房改造", "source": "categories.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2026, "amount_fen": 500000000, "bank_account": "622800000001", "categories": "WF", "source": "funds.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'village', $$[
	{"code": "610826101201", "name": "东沟村", "township": "城关镇", "source": "villages.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'household', $$[
	{"code": "H0001", "village": "610826101201", "head_name": "张三", "id_no": "610826196503120011", "bank_card": "6228480000000000011", "bank_cnaps": "103100000001", "phone": "13812341234", "source": "households.csv:2"},
	{"code": "H0002", "village": "610826101201", "head_name": "欧阳小明", "id_no": "61082619820817004X", "bank_card": "6228480000000000022", "bank_cnaps": "103100000001", "phone": "0912-3456789", "source": "households.csv:3"},
	{"code": "H0003", "village": "610826101201", "head_name": "李小四", "id_no": "610826197005200021", "source": "households.csv:4"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project', $$[
	{"code": "PH", "name": "危房改造到户补助", "category": "WF", "villages": "610826101201", "source": "projects.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_budget', $$[
	{"project": "PH", "fund": "F1", "amount_fen": 50000000, "source": "budgets.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_target', $$[
	{"project": "PH", "kind": "产出", "indicator": "改造户数", "value": "≥10户", "source": "targets.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_event', $$[
	{"project": "PH", "kind": "approval", "date": "2026-03-01", "doc_no": "县住建〔2026〕1号", "source": "events.csv:2"}
]$$) AS imported \gset
SET ROLE t_h4p_clerk;
SELECT earmark.list_create('B1', 'L1', 'PH', '2026年危房改造第一批', $$[
	{"household": "H0001", "item": "主房", "amount_fen": 1000000, "source": "l1.csv:2"},
	{"household": "H0002", "item": "主房", "amount_fen": 1500000, "source": "l1.csv:3"},
	{"household": "H0003", "item": "主房", "amount_fen": 2000000, "source": "l1.csv:4"}
]$$) AS listed \gset
SET ROLE t_h4p_admin;
SELECT earmark.list_publish('B1', 'L1', '2026-10-01', NULL) AS payable \gset
RESET ROLE;

-- household_private: the office only --------------------------------------------------

SET ROLE t_h4p_public;
SELECT throws_ok($$SELECT id_no FROM earmark.household_private$$,
	'42501', 'permission denied for table household_private',
	'H4: earmark_public cannot read ID numbers');
SELECT throws_ok($$SELECT count(*) FROM earmark.household_private$$,
	'42501', 'permission denied for table household_private',
	'H4: nor even count the rows');
SET ROLE t_h4p_auditor;
SELECT throws_ok($$SELECT id_no, bank_card, phone FROM earmark.household_private$$,
	'42501', 'permission denied for table household_private',
	'H4: nor can the auditor');
SELECT throws_ok($$SELECT earmark.mask_id(id_no) FROM earmark.household_private$$,
	'42501', 'permission denied for table household_private',
	'H4: not even through a mask');
SET ROLE t_h4p_public;
SELECT throws_ok($$SELECT * FROM earmark.pay_staging$$,
	'42501', 'permission denied for table pay_staging',
	'H4: earmark_public cannot read staged payments');
SET ROLE t_h4p_auditor;
SELECT throws_ok($$SELECT * FROM earmark.pay_staging$$,
	'42501', 'permission denied for table pay_staging',
	'H4: nor can the auditor');
RESET ROLE;

SET ROLE t_h4p_clerk;
SELECT is((SELECT count(*)::int FROM earmark.household_private), 3, 'H4: the office''s clerk reads household_private');
SET ROLE t_h4p_rev;
SELECT is((SELECT count(*)::int FROM earmark.household_private), 3, 'H4: the office''s reviewer reads household_private');
SET ROLE t_h4p_bk;
SELECT is((SELECT count(*)::int FROM earmark.household_private), 3, 'H4: the office''s bookkeeper reads household_private');
SET ROLE t_h4p_cashier;
SELECT is((SELECT count(*)::int FROM earmark.household_private), 3, 'H4: the office''s cashier reads household_private');
SET ROLE t_h4p_admin;
SELECT is((SELECT count(*)::int FROM earmark.household_private), 3, 'H4: the office''s administrator reads household_private');
RESET ROLE;

-- Masked, for outside the office -----------------------------------------------------

SET ROLE t_h4p_clerk;
SELECT results_eq($$SELECT h.code, earmark.mask_name(h.head_name), earmark.mask_id(p.id_no),
                           earmark.mask_card(p.bank_card), earmark.mask_phone(p.phone)
                      FROM earmark.household h
                      JOIN earmark.household_private p USING (book_id, household_id)
                     ORDER BY h.code$$,
	$$VALUES ('H0001', '张*', '610826********0011', '****0011', '138****1234'),
	         ('H0002', '欧**明', '610826********004X', '****0022', '********6789'),
	         ('H0003', '李*四', '610826********0021', '', '')$$,
	'H4: a notice made in the office shows names, ID numbers, cards and phones masked');
SET ROLE t_h4p_auditor;
SELECT results_eq($$SELECT h.code, earmark.mask_name(h.head_name) FROM earmark.household h ORDER BY h.code$$,
	$$VALUES ('H0001', '张*'), ('H0002', '欧**明'), ('H0003', '李*四')$$,
	'H4: the auditor masks the names it reads');
RESET ROLE;

-- pay_staging: one's own rows ------------------------------------------------------------

SET ROLE t_h4p_clerk;
SELECT earmark.pay_stage_new() AS st \gset
SELECT lives_ok(format($$INSERT INTO earmark.pay_staging (stage_id, line_no, household, amount_fen, project, fund, category, list, item)
                          VALUES (%1$s, 2, 'H0001', 1000000, 'PH', 'F1', 'WF', 'L1', '主房'),
                                 (%1$s, 3, 'H0002', 1500000, 'PH', 'F1', 'WF', 'L1', '主房')$$, :st),
	'staging: a clerk stages rows');
SELECT throws_ok($$SELECT count(*) FROM earmark.pay_staging$$,
	'42501', 'permission denied for table pay_staging',
	'staging: and cannot read them back');
SELECT throws_ok(format($$INSERT INTO earmark.pay_staging (stage_id, line_no, household, amount_fen, staged_at)
                          VALUES (%s, 4, 'H0003', 1, '2000-01-01')$$, :st),
	'42501', 'permission denied for table pay_staging',
	'staging: nor date it');
RESET ROLE;
SELECT is((SELECT string_agg(line_no || ':' || staged_by, ' ' ORDER BY line_no) FROM earmark.pay_staging WHERE stage_id = :st),
	'2:t_h4p_clerk 3:t_h4p_clerk', 'staging: the rows are stamped with the clerk who wrote them');
SELECT pg_temp.state() AS s0 \gset
SELECT string_agg(t::text, ',' ORDER BY t::text) AS staged FROM earmark.pay_staging t \gset
SET ROLE t_h4p_clerk2;
SELECT throws_ok(format($$SELECT household, amount_fen FROM earmark.pay_staging WHERE stage_id = %s$$, :st),
	'42501', 'permission denied for table pay_staging',
	'staging: another clerk cannot read them');
SELECT throws_ok(format($$UPDATE earmark.pay_staging SET amount_fen = 1 WHERE stage_id = %s$$, :st),
	'42501', 'permission denied for table pay_staging',
	'staging: nor change them');
SELECT throws_ok(format($$DELETE FROM earmark.pay_staging WHERE stage_id = %s$$, :st),
	'42501', 'permission denied for table pay_staging',
	'staging: nor delete them');
SELECT throws_ok(format($$SELECT earmark.pay_batch('B1', %s, 'B-X', '2026-10-20', NULL, 'theirs.csv')$$, :st),
	'EMI01', 'payment batch has no rows',
	'staging: nor make a batch of them');
SET ROLE t_h4p_rev;
SELECT throws_ok($$SELECT count(*) FROM earmark.pay_staging$$,
	'42501', 'permission denied for table pay_staging',
	'staging: a reviewer cannot read staged rows either');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'staging: the refusals changed nothing');
SELECT is((SELECT string_agg(t::text, ',' ORDER BY t::text) FROM earmark.pay_staging t), :'staged',
	'staging: the first clerk''s rows are as staged');

-- A row in the first clerk's stage, claiming to be the first clerk's: the
-- clerks' INSERT privilege does not cover staged_by (0017), which its
-- default fills with the writer.
SET ROLE t_h4p_clerk2;
SELECT throws_ok(format($$INSERT INTO earmark.pay_staging (stage_id, line_no, household, amount_fen, project, fund,
                                                          category, list, item, staged_by)
                          VALUES (%s, 4, 'H0003', 2000000, 'PH', 'F1', 'WF', 'L1', '主房', 't_h4p_clerk')$$, :st),
	'42501', 'permission denied for table pay_staging',
	'staging: a clerk cannot stage a row in another clerk''s name');
INSERT INTO earmark.pay_staging (stage_id, line_no, household, amount_fen, project, fund, category, list, item)
VALUES (:st, 4, 'H0003', 2000000, 'PH', 'F1', 'WF', 'L1', '主房');
RESET ROLE;
SET ROLE t_h4p_clerk;
SELECT is(earmark.pay_batch('B1', :st, 'B-001', '2026-10-20', NULL, 'mine.csv'), 'B-001',
	'staging: the first clerk makes its batch');
RESET ROLE;
SELECT is((SELECT string_agg(h.code, ' ' ORDER BY p.line_no) FROM earmark.household_payment p
             JOIN earmark.household h USING (book_id, household_id)),
	'H0001 H0002', 'staging: from its own rows only');
SELECT is((SELECT string_agg(line_no || ':' || staged_by, ' ') FROM earmark.pay_staging), '4:t_h4p_clerk2',
	'staging: the second clerk''s row is left alone');

SELECT * FROM finish();
ROLLBACK;
