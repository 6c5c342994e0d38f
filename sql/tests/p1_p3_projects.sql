-- P1-P3 (DESIGN section 4): money reaches a project only after it is
-- approved and has a performance target (P1); never more than its budget
-- from a fund, changed only by dated revisions, re-approved beyond +10 %
-- (P2); before acceptance never more than the inspected progress plus a
-- 30 % advance once started, and the 3 % retention only after acceptance
-- (P3).
--
-- Spend lines (Dr 5001 / Cr 2302, with the project) are checked at the
-- draft, at review and at posting; the kept totals (project_spend) count
-- what is posted, reversals included.
--   PN has no approval; PL is approved on 1 May; PT has no target (P1).
--   PB (10,000.00 from F1, accepted) is paid up to its budget; a revision
--   to 11,000.00 needs no re-approval, one to 12,000.00 does (P2).
--   PC (100,000.00 from F1) is paid by progress: 10 % inspected before it
--   starts, then +30 % advance, then 80 % inspected (capped at 97 %), the
--   last 3 % after acceptance; a reversal gives the room back (P3).
--   PD's events out of order are refused.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(60);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_p13_admin LOGIN;
GRANT earmark_admin TO t_p13_admin;
CREATE ROLE t_p13_clerk LOGIN;
GRANT earmark_clerk TO t_p13_clerk;
CREATE ROLE t_p13_rev LOGIN;
GRANT earmark_reviewer TO t_p13_rev;
CREATE ROLE t_p13_bk LOGIN;
GRANT earmark_bookkeeper TO t_p13_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_p13_clerk, t_p13_rev and t_p13_bk unless told otherwise.
SET earmark_test.people = 't_p13';
\ir fixture/helpers.psql


-- A payment of amount to project from fund: the expense and the payable.
CREATE FUNCTION pg_temp.pay(project text, amount bigint, fund text DEFAULT 'F1') RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_array(
		pg_temp.ln('5001', 'D', amount, fund, NULL, jsonb_build_object('project', project, 'category', 'JC')),
		pg_temp.ln('2302', 'C', amount, fund, NULL, jsonb_build_object('project', project)))
$$;
CREATE FUNCTION pg_temp.draft_sql(d date, lines jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT format($q$SELECT earmark.voucher_draft('B1', %L, '转', '工程款', NULL, %L)$q$, d, lines)
$$;
-- Master data rows of one kind, imported as the clerk (events, revisions
-- and targets are the clerk's), as SQL text for throws_ok and lives_ok.
CREATE FUNCTION pg_temp.import_sql(kind text, rows jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT format($q$SELECT earmark.master_import('B1', %L, %L)$q$, kind, rows)
$$;
-- project_spend of a project from F1 as 'spent contract'.
CREATE FUNCTION pg_temp.spent(project text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT COALESCE((SELECT ps.spent_fen || ' ' || ps.contract_fen FROM earmark.project_spend ps
	                   JOIN earmark.project p USING (book_id, project_id)
	                   JOIN earmark.fund f USING (book_id, fund_id)
	                  WHERE p.code = project AND f.code = 'F1'), 'none')
$$;

SET ROLE t_p13_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "2302", "name": "应付账款", "kind": "liability", "normal_side": "C"},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"},
	{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "source": "bank_accounts.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'category', $$[
	{"code": "JC", "name": "基础设施", "source": "categories.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2026, "amount_fen": 500000000, "bank_account": "622800000001", "categories": "JC", "source": "funds.csv:2"},
	{"code": "F2", "name": "省级衔接资金", "level": "province", "year": 2026, "amount_fen": 300000000, "bank_account": "622800000001", "categories": "JC", "source": "funds.csv:3"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'village', $$[
	{"code": "610826101201", "name": "东沟村", "township": "城关镇", "source": "villages.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project', $$[
	{"code": "PN", "name": "未批复项目", "category": "JC", "villages": "610826101201", "source": "projects.csv:2"},
	{"code": "PL", "name": "五月批复项目", "category": "JC", "villages": "610826101201", "source": "projects.csv:3"},
	{"code": "PT", "name": "无绩效目标项目", "category": "JC", "villages": "610826101201", "source": "projects.csv:4"},
	{"code": "PB", "name": "东沟村道路硬化", "category": "JC", "villages": "610826101201", "source": "projects.csv:5"},
	{"code": "PC", "name": "东沟村饮水工程", "category": "JC", "villages": "610826101201", "source": "projects.csv:6"},
	{"code": "PD", "name": "东沟村桥梁", "category": "JC", "villages": "610826101201", "source": "projects.csv:7"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_budget', $$[
	{"project": "PN", "fund": "F1", "amount_fen": 10000000, "source": "budgets.csv:2"},
	{"project": "PL", "fund": "F1", "amount_fen": 10000000, "source": "budgets.csv:3"},
	{"project": "PT", "fund": "F1", "amount_fen": 10000000, "source": "budgets.csv:4"},
	{"project": "PB", "fund": "F1", "amount_fen": 1000000, "source": "budgets.csv:5"},
	{"project": "PC", "fund": "F1", "amount_fen": 10000000, "source": "budgets.csv:6"},
	{"project": "PD", "fund": "F1", "amount_fen": 10000000, "source": "budgets.csv:7"}
]$$) AS imported \gset
RESET ROLE;
SET ROLE t_p13_clerk;
SELECT earmark.master_import('B1', 'project_target', $$[
	{"project": "PN", "kind": "产出", "indicator": "道路长度", "value": "≥2公里", "source": "targets.csv:2"},
	{"project": "PL", "kind": "产出", "indicator": "道路长度", "value": "≥2公里", "source": "targets.csv:3"},
	{"project": "PB", "kind": "产出", "indicator": "道路长度", "value": "≥2公里", "source": "targets.csv:4"},
	{"project": "PB", "kind": "满意度", "indicator": "群众满意度", "value": "≥90%", "source": "targets.csv:5"},
	{"project": "PC", "kind": "效益", "indicator": "受益人口", "value": "≥500人", "source": "targets.csv:6"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_event', $$[
	{"project": "PL", "kind": "approval", "date": "2026-05-01", "doc_no": "县发改〔2026〕5号", "source": "events.csv:2"},
	{"project": "PL", "kind": "start", "date": "2026-05-01", "source": "events.csv:3"},
	{"project": "PT", "kind": "approval", "date": "2026-03-01", "doc_no": "县发改〔2026〕3号", "source": "events.csv:4"},
	{"project": "PT", "kind": "start", "date": "2026-03-01", "source": "events.csv:5"},
	{"project": "PB", "kind": "approval", "date": "2026-03-01", "doc_no": "县发改〔2026〕1号", "source": "events.csv:6"},
	{"project": "PB", "kind": "start", "date": "2026-03-02", "source": "events.csv:7"},
	{"project": "PB", "kind": "acceptance", "date": "2026-03-05", "doc_no": "验收〔2026〕1号", "source": "events.csv:8"},
	{"project": "PC", "kind": "approval", "date": "2026-06-01", "doc_no": "县发改〔2026〕6号", "source": "events.csv:9"}
]$$) AS imported \gset
RESET ROLE;

-- P1 -----------------------------------------------------------------------------

SELECT pg_temp.state() AS s0 \gset
SET ROLE t_p13_clerk;
SELECT throws_ok(pg_temp.draft_sql('2026-04-15', pg_temp.pay('PN', 100000)),
	'EMP01', 'line 1: project ''PN'' is not approved (P1)',
	'P1: a project without approval gets nothing');
SELECT matches(pg_temp.error_of(pg_temp.draft_sql('2026-04-15', pg_temp.pay('PN', 100000))),
	'line 1: project ''PN'' is not approved \(P1\) \(no approval on or before 2026-04-15\)',
	'P1: the refusal gives the date');
SELECT throws_ok(pg_temp.draft_sql('2026-04-30', pg_temp.pay('PL', 100000)),
	'EMP01', 'line 1: project ''PL'' is not approved (P1)',
	'P1: nor a project approved after the voucher''s date');
SELECT throws_ok(pg_temp.draft_sql('2026-04-15', pg_temp.pay('PT', 100000)),
	'EMP01', 'line 1: project ''PT'' has no performance target (P1)',
	'P1: nor an approved project without a performance target');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'P1: the refused drafts wrote nothing');

SELECT is(pg_temp.post('B1', '2026-05-01', pg_temp.pay('PL', 100000)), '记-2026-05-0001',
	'P1: PL is paid on the day of its approval');
SET ROLE t_p13_clerk;
SELECT lives_ok(pg_temp.import_sql('project_target', $$[
	{"project": "PT", "kind": "产出", "indicator": "灌溉面积", "value": "≥300亩", "source": "targets.csv:7"}]$$),
	'P1: PT gets its target');
RESET ROLE;
SELECT is(pg_temp.post('B1', '2026-04-15', pg_temp.pay('PT', 100000)), '记-2026-04-0001',
	'P1: PT is paid once it has a target');

-- P2 -----------------------------------------------------------------------------

SELECT pg_temp.state() AS s1 \gset
SET ROLE t_p13_clerk;
SELECT throws_ok(pg_temp.draft_sql('2026-03-10', pg_temp.pay('PB', 1000001)),
	'EMP02', 'payments to project ''PB'' from fund ''F1'' would exceed its budget (P2)',
	'P2: one fen beyond the budget is refused');
SELECT is(pg_temp.error_of(pg_temp.draft_sql('2026-03-10', pg_temp.pay('PB', 1000001))),
	E'EMP02: payments to project ''PB'' from fund ''F1'' would exceed its budget (P2)\n'
	'budget 10,000.00 on 2026-03-10, paid before 0.00, this voucher 10,000.01, total 10,000.01',
	'P2: the refusal gives the budget and the payments');
SELECT throws_ok(pg_temp.draft_sql('2026-03-10', pg_temp.pay('PB', 100000, 'F2')),
	'EMP02', 'project ''PB'' has no budget from fund ''F2'' (P2)',
	'P2: a fund that gives the project no budget cannot pay it');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'P2: the refused drafts wrote nothing');

SELECT is(pg_temp.post('B1', '2026-03-10', pg_temp.pay('PB', 600000) || pg_temp.pay('PB', 400000)),
	'记-2026-03-0001', 'P2: exactly the budget passes');
SELECT is(pg_temp.spent('PB'), '1000000 1000000', 'P2: project_spend keeps the posted total');
SELECT pg_temp.state() AS s2 \gset
SET ROLE t_p13_clerk;
SELECT throws_ok(pg_temp.draft_sql('2026-03-11', pg_temp.pay('PB', 1)),
	'EMP02', 'payments to project ''PB'' from fund ''F1'' would exceed its budget (P2)',
	'P2: then not one fen more');
RESET ROLE;
SELECT is(pg_temp.state(), :'s2', 'P2: the refused draft wrote nothing');

-- A revision within +10 % needs no re-approval.
SET ROLE t_p13_clerk;
SELECT lives_ok(pg_temp.import_sql('budget_revision', $$[
	{"project": "PB", "fund": "F1", "date": "2026-04-01", "amount_fen": 1100000, "doc_no": "县财〔2026〕7号", "source": "revisions.csv:2"}]$$),
	'P2: a revision to 11,000.00 (+10 %) is recorded without re-approval');
SELECT throws_ok(pg_temp.draft_sql('2026-03-31', pg_temp.pay('PB', 100000)),
	'EMP02', 'payments to project ''PB'' from fund ''F1'' would exceed its budget (P2)',
	'P2: a payment dated before the revision is held to the original budget');
RESET ROLE;
SELECT is(pg_temp.post('B1', '2026-04-01', pg_temp.pay('PB', 100000)), '记-2026-04-0002',
	'P2: from the revision''s date the larger budget is paid');

-- Beyond +10 % it needs its re-approval.
SELECT pg_temp.state() AS s3 \gset
SET ROLE t_p13_clerk;
SELECT throws_ok(pg_temp.import_sql('budget_revision', $$[
	{"project": "PB", "fund": "F1", "date": "2026-04-10", "amount_fen": 1200000, "doc_no": "县财〔2026〕9号", "source": "revisions.csv:3"}]$$),
	'EMP02', '1 of 1 budget_revision rows refused; nothing was imported',
	'P2: a revision to 12,000.00 (+20 %) without re-approval is refused at import');
SELECT is(pg_temp.error_of(pg_temp.import_sql('budget_revision', $$[
	{"project": "PB", "fund": "F1", "date": "2026-04-10", "amount_fen": 1100001, "doc_no": "县财〔2026〕9号", "source": "revisions.csv:3"}]$$)),
	E'EMP02: 1 of 1 budget_revision rows refused; nothing was imported\n1 problem:\n'
	'  revisions.csv:3: budget of project ''PB'' more than 10% over the original plan needs re-approval (P2) (original 10,000.00, revised 11,000.01 (+10.0%))',
	'P2: so is one fen beyond +10 %, named by its file line');
SELECT throws_ok(pg_temp.draft_sql('2026-04-10', pg_temp.pay('PB', 100000)),
	'EMP02', 'payments to project ''PB'' from fund ''F1'' would exceed its budget (P2)',
	'P2: the larger payment is refused without the revision');
RESET ROLE;
SELECT is(pg_temp.state(), :'s3', 'P2: the refused revisions and payment wrote nothing');
SET ROLE t_p13_clerk;
SELECT lives_ok(pg_temp.import_sql('budget_revision', $$[
	{"project": "PB", "fund": "F1", "date": "2026-04-10", "amount_fen": 1200000, "doc_no": "县财〔2026〕9号",
	 "reapproval_doc": "县政府〔2026〕2号", "source": "revisions.csv:3"}]$$),
	'P2: with its re-approval document the revision to 12,000.00 is recorded');
RESET ROLE;
SELECT is(pg_temp.post('B1', '2026-04-10', pg_temp.pay('PB', 100000)), '记-2026-04-0003',
	'P2: and the larger payment passes');
SELECT is(pg_temp.spent('PB'), '1200000 1200000', 'P2: PB has had its revised budget');

-- P3 -----------------------------------------------------------------------------

-- Before the start only inspected progress counts: a reported 50 % does not.
SET ROLE t_p13_clerk;
SELECT lives_ok(pg_temp.import_sql('project_event', $$[
	{"project": "PC", "kind": "progress", "date": "2026-06-05", "progress": 50, "source": "events.csv:10"},
	{"project": "PC", "kind": "inspection", "date": "2026-06-05", "progress": 10, "note": "基础完成", "source": "events.csv:11"}]$$),
	'P3: PC reports 50 % and is inspected at 10 % before it starts');
RESET ROLE;
SELECT pg_temp.state() AS s4 \gset
SET ROLE t_p13_clerk;
SELECT throws_ok(pg_temp.draft_sql('2026-06-06', pg_temp.pay('PC', 1000001)),
	'EMP03', 'payment to project ''PC'' from fund ''F1'' goes beyond its inspected progress and advance (P3)',
	'P3: before the start, one fen beyond the inspected 10 % is refused');
SELECT is(pg_temp.error_of(pg_temp.draft_sql('2026-06-06', pg_temp.pay('PC', 1000001))),
	E'EMP03: payment to project ''PC'' from fund ''F1'' goes beyond its inspected progress and advance (P3)\n'
	'budget 100,000.00, inspected progress 10%, advance 30% (not started), retention 3%: '
	'at most 10,000.00 before acceptance; paid before 0.00, this voucher 10,000.01',
	'P3: the refusal gives the budget, progress, advance, retention and limit');
RESET ROLE;
SELECT is(pg_temp.state(), :'s4', 'P3: the refused draft wrote nothing');
SELECT is(pg_temp.post('B1', '2026-06-06', pg_temp.pay('PC', 1000000)), '记-2026-06-0001',
	'P3: the inspected 10 % is paid before the start');

-- Started: plus the 30 % advance.
SET ROLE t_p13_clerk;
SELECT lives_ok(pg_temp.import_sql('project_event', $$[
	{"project": "PC", "kind": "start", "date": "2026-06-10", "source": "events.csv:12"}]$$),
	'P3: PC starts on 10 June');
SELECT throws_ok(pg_temp.draft_sql('2026-06-09', pg_temp.pay('PC', 100000)),
	'EMP03', 'payment to project ''PC'' from fund ''F1'' goes beyond its inspected progress and advance (P3)',
	'P3: no advance for a payment dated before the start');
RESET ROLE;
SELECT is(pg_temp.post('B1', '2026-06-10', pg_temp.pay('PC', 3000000)), '记-2026-06-0002',
	'P3: from the start, inspected 10 % plus the 30 % advance is paid');
SELECT pg_temp.state() AS s5 \gset
SET ROLE t_p13_clerk;
SELECT throws_ok(pg_temp.draft_sql('2026-06-11', pg_temp.pay('PC', 1)),
	'EMP03', 'payment to project ''PC'' from fund ''F1'' goes beyond its inspected progress and advance (P3)',
	'P3: then not one fen more');
SELECT is(pg_temp.error_of(pg_temp.draft_sql('2026-06-11', pg_temp.pay('PC', 1))),
	E'EMP03: payment to project ''PC'' from fund ''F1'' goes beyond its inspected progress and advance (P3)\n'
	'budget 100,000.00, inspected progress 10%, advance 30% (started 2026-06-10), retention 3%: '
	'at most 40,000.00 before acceptance; paid before 40,000.00, this voucher 0.01',
	'P3: the refusal counts what was paid before');
RESET ROLE;
SELECT is(pg_temp.state(), :'s5', 'P3: the refused drafts wrote nothing');

-- Inspected at 80 %: 110 %, but the 3 % retention waits for acceptance.
SET ROLE t_p13_clerk;
SELECT lives_ok(pg_temp.import_sql('project_event', $$[
	{"project": "PC", "kind": "inspection", "date": "2026-07-01", "progress": 80, "source": "events.csv:13"}]$$),
	'P3: PC is inspected at 80 %');
RESET ROLE;
SELECT is(pg_temp.post('B1', '2026-07-02', pg_temp.pay('PC', 5700000)), '记-2026-07-0001',
	'P3: paid up to 97 % of the budget');
SELECT pg_temp.state() AS s6 \gset
SET ROLE t_p13_clerk;
SELECT throws_ok(pg_temp.draft_sql('2026-07-03', pg_temp.pay('PC', 1)),
	'EMP03', 'the retention (质保金) of project ''PC'' is paid only after acceptance (P3)',
	'P3: the 3 % retention is refused before acceptance');
SELECT is(pg_temp.error_of(pg_temp.draft_sql('2026-07-03', pg_temp.pay('PC', 300000))),
	E'EMP03: the retention (质保金) of project ''PC'' is paid only after acceptance (P3)\n'
	'budget 100,000.00, inspected progress 80%, advance 30% (started 2026-06-10), retention 3%: '
	'at most 97,000.00 before acceptance; paid before 97,000.00, this voucher 3,000.00',
	'P3: the refusal names the retention');
RESET ROLE;
SELECT is(pg_temp.state(), :'s6', 'P3: the refused drafts wrote nothing');

-- A reviewed draft is checked again at posting: the room went meanwhile.
SELECT is(pg_temp.spent('PC'), '9700000 9700000', 'P3: PC has had 97,000.00');
SET ROLE t_p13_clerk;
SELECT lives_ok(pg_temp.import_sql('project_event', $$[
	{"project": "PC", "kind": "acceptance", "date": "2026-08-01", "doc_no": "验收〔2026〕8号", "source": "events.csv:14"}]$$),
	'P3: PC is accepted on 1 August');
RESET ROLE;
SELECT is(pg_temp.post('B1', '2026-08-02', pg_temp.pay('PC', 300000)), '记-2026-08-0001',
	'P3: after acceptance the retention is paid');
SELECT is(pg_temp.spent('PC'), '10000000 10000000', 'P3: PC has had its whole budget');

-- Reversal -------------------------------------------------------------------------

SELECT pg_temp.state() AS s7 \gset
SET ROLE t_p13_clerk;
SELECT throws_ok(pg_temp.draft_sql('2026-08-10', pg_temp.pay('PC', 1)),
	'EMP02', 'payments to project ''PC'' from fund ''F1'' would exceed its budget (P2)',
	'P2: after acceptance the budget still caps PC');
SELECT earmark.voucher_reverse('B1', '记-2026-08-0001', '2026-08-10', NULL) AS rv \gset
SET ROLE t_p13_rev;
SELECT lives_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :rv), 'reversal: the 红字 reversal of the retention passes review');
SET ROLE t_p13_bk;
SELECT is(earmark.voucher_post('B1', '#' || :rv), '记-2026-08-0002', 'reversal: and posting');
RESET ROLE;
SELECT is(pg_temp.spent('PC'), '9700000 9700000', 'reversal: project_spend is back to 97,000.00');
SELECT is(pg_temp.post('B1', '2026-08-11', pg_temp.pay('PC', 300000)), '记-2026-08-0003',
	'reversal: the room it gave back is paid again');
SELECT is(pg_temp.spent('PC'), '10000000 10000000', 'reversal: and PC is at its budget again');

-- Out of order -----------------------------------------------------------------------

SELECT pg_temp.state() AS s8 \gset
SET ROLE t_p13_clerk;
SELECT throws_ok(pg_temp.import_sql('project_event', $$[
	{"project": "PD", "kind": "start", "date": "2026-06-01", "source": "events.csv:20"}]$$),
	'EMP01', '1 of 1 project_event rows refused; nothing was imported',
	'events: a project cannot start before it is approved');
SELECT is(pg_temp.error_of(pg_temp.import_sql('project_event', $$[
	{"project": "PD", "kind": "approval", "date": "2026-06-05", "doc_no": "县发改〔2026〕9号", "source": "events.csv:20"},
	{"project": "PD", "kind": "start", "date": "2026-06-03", "source": "events.csv:21"}]$$)),
	E'EMP01: 1 of 2 project_event rows refused; nothing was imported\n1 problem:\n'
	'  events.csv:21: project ''PD'' is not approved on 2026-06-03 (P1)',
	'events: a start dated before the approval in the same file is refused, naming its line');
SELECT throws_ok(pg_temp.import_sql('project_event', $$[
	{"project": "PD", "kind": "approval", "date": "2026-06-05", "doc_no": "县发改〔2026〕9号", "source": "events.csv:20"},
	{"project": "PD", "kind": "acceptance", "date": "2026-06-20", "doc_no": "验收〔2026〕9号", "source": "events.csv:21"}]$$),
	'EMP03', '1 of 2 project_event rows refused; nothing was imported',
	'events: a project cannot be accepted before it started');
SELECT throws_ok(pg_temp.import_sql('project_event', format($$[
	{"project": "PD", "kind": "approval", "date": "%s", "doc_no": "县发改〔2026〕9号", "source": "events.csv:20"}]$$, CURRENT_DATE + 1)::jsonb),
	'EMD07', '1 of 1 project_event rows refused; nothing was imported',
	'events: nor dated in the future');
SELECT throws_ok(pg_temp.import_sql('project_event', $$[
	{"project": "PB", "kind": "approval", "date": "2026-03-01", "doc_no": "县发改〔2026〕1号", "source": "events.csv:20"}]$$),
	'EMI01', '1 of 1 project_event rows refused; nothing was imported',
	'events: a project is approved once');
SELECT throws_ok(pg_temp.import_sql('project_event', $$[
	{"project": "PD", "kind": "approval", "date": "2026-06-05", "source": "events.csv:20"}]$$),
	'EMI01', '1 of 1 project_event rows refused; nothing was imported',
	'events: an approval needs its document');
RESET ROLE;
SELECT is(pg_temp.state(), :'s8', 'events: the refused imports wrote nothing');
SET ROLE t_p13_clerk;
SELECT lives_ok(pg_temp.import_sql('project_event', $$[
	{"project": "PD", "kind": "approval", "date": "2026-06-01", "doc_no": "县发改〔2026〕9号", "source": "events.csv:20"},
	{"project": "PD", "kind": "start", "date": "2026-06-03", "source": "events.csv:21"},
	{"project": "PD", "kind": "acceptance", "date": "2026-06-20", "doc_no": "验收〔2026〕9号", "source": "events.csv:22"}]$$),
	'events: approval, start and acceptance in order are recorded');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
