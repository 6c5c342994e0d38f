-- H1-H3 (DESIGN section 4): money for households.
--
-- H1: a household payment goes to a registered household of a village the
-- project covers, with a valid ID number (GB 11643: check digit, a real
-- birth date, not in the future); one ID number, one household; a 15-digit
-- number is kept in its 18-character form.  H2: at most the cap per
-- household, use category and year (危房改造 WF: 40,000.00 in 2026), and
-- never more than the beneficiary lists grant (not paid twice for an
-- item).  H3: paid only after the list was disclosed (公示) for its notice
-- period, with no open objection for the household; a notice period is at
-- least 10 days; a published list does not change.
--
-- PH (危房改造, villages 东沟村 and 西沟村) pays from F1.  List L1 is
-- published on 1 October for 10 days: payable from 11 October.  List L2 is
-- never published.  Payments are Dr 5001 (household, project, WF) / Cr 2303.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(53);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_h13_admin LOGIN;
GRANT earmark_admin TO t_h13_admin;
CREATE ROLE t_h13_clerk LOGIN;
GRANT earmark_clerk TO t_h13_clerk;
CREATE ROLE t_h13_rev LOGIN;
GRANT earmark_reviewer TO t_h13_rev;
CREATE ROLE t_h13_bk LOGIN;
GRANT earmark_bookkeeper TO t_h13_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_h13_clerk, t_h13_rev and t_h13_bk unless told otherwise.
SET earmark_test.people = 't_h13';
\ir fixture/helpers.psql


-- A payment of amount to household for project PH (unless told), WF.
CREATE FUNCTION pg_temp.pay(household text, amount bigint, project text DEFAULT 'PH', more jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_array(
		pg_temp.ln('5001', 'D', amount, 'F1', NULL,
		           jsonb_strip_nulls(jsonb_build_object('project', project, 'household', household, 'category', 'WF')) || more),
		pg_temp.ln('2303', 'C', amount, 'F1', NULL, jsonb_strip_nulls(jsonb_build_object('project', project))))
$$;
CREATE FUNCTION pg_temp.draft_sql(d date, lines jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT format($q$SELECT earmark.voucher_draft('B1', %L, '转', '到户补助', NULL, %L)$q$, d, lines)
$$;
CREATE FUNCTION pg_temp.import_sql(kind text, rows jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT format($q$SELECT earmark.master_import('B1', %L, %L)$q$, kind, rows)
$$;

SET ROLE t_h13_admin;
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
SELECT earmark.master_import('B1', 'household_cap', $$[
	{"category": "WF", "year": 2026, "cap_fen": 4000000, "source": "household_caps.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'village', $$[
	{"code": "610826101201", "name": "东沟村", "township": "城关镇", "source": "villages.csv:2"},
	{"code": "610826102203", "name": "西沟村", "township": "城关镇", "source": "villages.csv:3"},
	{"code": "610826103205", "name": "南沟村", "township": "城关镇", "source": "villages.csv:4"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project', $$[
	{"code": "PH", "name": "危房改造到户补助", "category": "WF", "villages": "610826101201;610826102203", "source": "projects.csv:2"}
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
RESET ROLE;

-- H1 at import: ID numbers ---------------------------------------------------------

SELECT pg_temp.state() AS s0 \gset
SET ROLE t_h13_admin;
SELECT throws_ok(pg_temp.import_sql('household', $$[
	{"code": "H0001", "village": "610826101201", "head_name": "张三", "id_no": "610826196503120011", "source": "households.csv:2"},
	{"code": "H0002", "village": "610826101201", "head_name": "李四", "id_no": "610826198806060087", "source": "households.csv:3"},
	{"code": "H0003", "village": "610826101201", "head_name": "王五", "id_no": "610826199902300013", "source": "households.csv:4"},
	{"code": "H0004", "village": "610826101201", "head_name": "赵六", "id_no": "610826209901010029", "source": "households.csv:5"}]$$),
	'EMH01', '3 of 4 household rows refused; nothing was imported',
	'H1: a household file with invalid ID numbers is refused whole');
SELECT is(pg_temp.error_of(pg_temp.import_sql('household', $$[
	{"code": "H0001", "village": "610826101201", "head_name": "张三", "id_no": "610826196503120011", "source": "households.csv:2"},
	{"code": "H0002", "village": "610826101201", "head_name": "李四", "id_no": "610826198806060087", "source": "households.csv:3"},
	{"code": "H0003", "village": "610826101201", "head_name": "王五", "id_no": "610826199902300013", "source": "households.csv:4"},
	{"code": "H0004", "village": "610826101201", "head_name": "赵六", "id_no": "610826209901010029", "source": "households.csv:5"}]$$)),
	E'EMH01: 3 of 4 household rows refused; nothing was imported\n3 problems:\n'
	'  households.csv:3: invalid ID number 610826********0087 (H1) (check digit is 7, the first 17 digits give 6: copy the number again from the ID card)\n'
	'  households.csv:4: invalid ID number 610826********0013 (H1) (birth date 19990230 does not exist: copy the number again from the ID card)\n'
	'  households.csv:5: invalid ID number 610826********0029 (H1) (birth date 20990101 is in the future: copy the number again from the ID card)',
	'H1: every bad ID number is named by its file line, masked, with what is wrong');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'H1: the refused file imported nothing');

SET ROLE t_h13_admin;
SELECT lives_ok(pg_temp.import_sql('household', $$[
	{"code": "H0001", "village": "610826101201", "head_name": "张三", "id_no": "610826650312001", "source": "households.csv:2"},
	{"code": "H0002", "village": "610826101201", "head_name": "李四", "id_no": "610826197005200021", "source": "households.csv:3"},
	{"code": "H0003", "village": "610826103205", "head_name": "王五", "id_no": "610826195811040035", "source": "households.csv:4"},
	{"code": "H0004", "village": "610826102203", "head_name": "赵六", "id_no": "61082619820817004x", "source": "households.csv:5"},
	{"code": "H0006", "village": "610826101201", "head_name": "孙八", "source": "households.csv:6"},
	{"code": "H0007", "village": "610826102203", "head_name": "周九", "id_no": "610826197509090065", "source": "households.csv:7"}]$$),
	'H1: valid ID numbers (one in the old 15-digit form, one with a small x) are imported');
RESET ROLE;
SELECT is((SELECT string_agg(h.code || ':' || p.id_no, ' ' ORDER BY h.code) FROM earmark.household_private p
             JOIN earmark.household h USING (book_id, household_id) WHERE h.code IN ('H0001', 'H0004')),
	'H0001:610826196503120011 H0004:61082619820817004X',
	'H1: the 15-digit number is kept upgraded to 18 characters, x as X');
SELECT pg_temp.state() AS s1 \gset
SET ROLE t_h13_admin;
SELECT throws_ok(pg_temp.import_sql('household', $$[
	{"code": "H0008", "village": "610826101201", "head_name": "吴十", "id_no": "610826197005200021", "source": "households2.csv:2"}]$$),
	'EMH01', '1 of 1 household rows refused; nothing was imported',
	'H1: an ID number already registered for another household is refused');
SELECT is(pg_temp.error_of(pg_temp.import_sql('household', $$[
	{"code": "H0008", "village": "610826101201", "head_name": "吴十", "id_no": "610826196503120011", "source": "households2.csv:2"},
	{"code": "H0009", "village": "610826101201", "head_name": "郑十一", "id_no": "610826197207070093", "source": "households2.csv:3"},
	{"code": "H0010", "village": "610826102203", "head_name": "冯十二", "id_no": "610826197207070093", "source": "households2.csv:4"}]$$)),
	E'EMH01: 2 of 3 household rows refused; nothing was imported\n2 problems:\n'
	'  households2.csv:2: ID number 610826********0011 is already registered for household ''H0001'' (H1)\n'
	'  households2.csv:4: ID number 610826********0093 is already registered for household ''H0009'' (H1)',
	'H1: the same ID number, in the 18-character form of a 15-digit one or twice in one file, names the household that has it');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'H1: the refused files imported nothing');

-- Beneficiary lists and their disclosure (H3) -----------------------------------

SET ROLE t_h13_clerk;
SELECT is(earmark.list_create('B1', 'L1', 'PH', '2026年危房改造第一批', $$[
	{"household": "H0001", "item": "主房", "amount_fen": 3000000, "cost_fen": 5000000, "standard": "C级", "source": "l1.csv:2"},
	{"household": "H0001", "item": "厨房", "amount_fen": 2000000, "source": "l1.csv:3"},
	{"household": "H0002", "item": "主房", "amount_fen": 1000000, "source": "l1.csv:4"},
	{"household": "H0006", "item": "主房", "amount_fen": 500000, "source": "l1.csv:5"},
	{"household": "H0007", "item": "主房", "amount_fen": 1000000, "source": "l1.csv:6"}]$$), 5,
	'H3: list L1 is made with five lines');
SELECT is(earmark.list_create('B1', 'L2', 'PH', '2026年危房改造第二批', $$[
	{"household": "H0004", "item": "主房", "amount_fen": 1000000, "source": "l2.csv:2"}]$$), 1,
	'H3: list L2 with one');
RESET ROLE;
SELECT pg_temp.state() AS s2 \gset
SET ROLE t_h13_clerk;
SELECT throws_ok($$SELECT earmark.list_create('B1', 'L3', 'PH', '2026年危房改造第三批', '[
	{"household": "H0003", "item": "主房", "amount_fen": 1000000, "source": "l3.csv:2"}]')$$,
	'EMH01', '1 of 1 list rows refused; nothing was kept',
	'H1: a list cannot name a household of a village the project does not cover');
SELECT is(pg_temp.error_of($$SELECT earmark.list_create('B1', 'L3', 'PH', '2026年危房改造第三批', '[
	{"household": "H0003", "item": "主房", "amount_fen": 1000000, "source": "l3.csv:2"},
	{"household": "H0004", "item": "主房", "amount_fen": 3000000, "cost_fen": 2000000, "source": "l3.csv:3"}]')$$),
	E'EMH01: 2 of 2 list rows refused; nothing was kept\n2 problems:\n'
	'  l3.csv:2: household ''H0003'' is not in a village of the list''s project (H1)\n'
	'  l3.csv:3: amount is above the recorded cost (H2)',
	'H1, H2: the list''s bad rows are named by their file lines');
RESET ROLE;
SELECT is(pg_temp.state(), :'s2', 'H3: the refused lists kept nothing');

SET ROLE t_h13_admin;
SELECT throws_ok($$SELECT earmark.list_publish('B1', 'L1', '2026-10-01', 9)$$,
	'EMH03', 'a notice period of 9 days is too short (H3)',
	'H3: a notice period under 10 days is refused');
SELECT throws_ok(format($$SELECT earmark.list_publish('B1', 'L1', %L, NULL)$$, CURRENT_DATE + 1),
	'EMD07', format('publication date %s is in the future', CURRENT_DATE + 1),
	'H3: a list is not published ahead of time');
SELECT throws_ok($$SELECT earmark.objection_record('B1', 'L1', 'H0001', '2026-09-30', '面积不符')$$,
	'EMH03', 'objection dated 2026-09-30 is outside the list''s publication',
	'H3: no objection to an unpublished list');
RESET ROLE;
SELECT is(pg_temp.state(), :'s2', 'H3: the refused publications changed nothing');
SET ROLE t_h13_admin;
SELECT is(earmark.list_publish('B1', 'L1', '2026-10-01', NULL), '2026-10-11'::date,
	'H3: L1 published on 1 October for the default 10 days is payable from 11 October');
SET ROLE t_h13_clerk;
SELECT earmark.objection_record('B1', 'L1', 'H0007', '2026-10-05', '面积不符') AS objection \gset
RESET ROLE;
SELECT pg_temp.state() AS s3 \gset
SET ROLE t_h13_clerk;
SELECT throws_ok($$SELECT earmark.objection_record('B1', 'L1', 'H0004', '2026-10-05', '不在名单')$$,
	'EMH03', 'household ''H0004'' is not on list ''L1''',
	'H3: an objection names a household on the list');
RESET ROLE;

-- A published list does not change.
SET ROLE t_h13_admin;
SELECT throws_ok($$SELECT earmark.list_publish('B1', 'L1', '2026-10-02', 15)$$,
	'EMS01', 'list ''L1'' was already published on 2026-10-01',
	'H3: a list is published once');
SET ROLE earmark_owner;
SELECT throws_ok($$UPDATE earmark.beneficiary SET amount_fen = 4000000
                    WHERE list_id = (SELECT list_id FROM earmark.beneficiary_list WHERE code = 'L1') AND item = '主房'$$,
	'EMH03', 'beneficiary list ''L1'' was published on 2026-10-01 and cannot change (H3)',
	'H3: not even the owner changes an amount of a published list');
SELECT throws_ok($$INSERT INTO earmark.beneficiary (book_id, list_id, household_id, item, amount_fen)
                   SELECT l.book_id, l.list_id, h.household_id, '厢房', 100000
                     FROM earmark.beneficiary_list l, earmark.household h WHERE l.code = 'L1' AND h.code = 'H0002'$$,
	'EMH03', 'beneficiary list ''L1'' was published on 2026-10-01 and cannot change (H3)',
	'H3: nor adds a line to it');
SELECT throws_ok($$DELETE FROM earmark.beneficiary
                    WHERE list_id = (SELECT list_id FROM earmark.beneficiary_list WHERE code = 'L1')$$,
	'EMH03', 'beneficiary list ''L1'' was published on 2026-10-01 and cannot change (H3)',
	'H3: nor takes lines off it');
-- (pg_temp.undone: should the change be accepted, it is undone, so that the
-- tests after it see the list as published.)
SELECT throws_ok($$SELECT pg_temp.undone('UPDATE earmark.beneficiary_list SET published_on = ''2026-09-01'' WHERE code = ''L1''')$$,
	'EMH03', 'beneficiary list ''L1'' was published on 2026-10-01 and cannot change (H3)',
	'H3: nor moves its publication back to shorten the notice period');
SELECT throws_ok($$SELECT pg_temp.undone('UPDATE earmark.beneficiary_list SET published_on = NULL, notice_days = NULL, published_by = NULL WHERE code = ''L1''')$$,
	'EMH03', 'beneficiary list ''L1'' was published on 2026-10-01 and cannot change (H3)',
	'H3: nor withdraws it');
RESET ROLE;
SELECT is(pg_temp.state(), :'s3', 'H3: the published list is as it was disclosed');

-- Payments: H1 -----------------------------------------------------------------------

SET ROLE t_h13_clerk;
SELECT throws_ok(pg_temp.draft_sql('2026-10-12', pg_temp.pay('H0003', 1000000)),
	'EMH01', 'line 1: household ''H0003'' lives in village 610826103205, which project ''PH'' does not cover (H1)',
	'H1: a household of a village the project does not cover is not paid');
SELECT throws_ok(pg_temp.draft_sql('2026-10-12', pg_temp.pay('H0006', 500000)),
	'EMH01', 'line 1: household ''H0006'' has no ID number on record (H1)',
	'H1: nor a household without an ID number, though it is on the list');
SELECT throws_ok(pg_temp.draft_sql('2026-10-12', pg_temp.pay('H0001', 3000000, NULL)),
	'EMH01', 'line 1: the payment to household ''H0001'' names no project (H1)',
	'H1: nor a household payment without a project');
SELECT throws_ok(pg_temp.draft_sql('2026-10-12', pg_temp.pay('H0001', 3000000, 'PH', '{"village": "610826102203"}')),
	'EMH01', 'line 1: household ''H0001'' lives in village 610826101201, not in the village the line names (H1)',
	'H1: nor a line naming another village than the household''s');
RESET ROLE;
SELECT is(pg_temp.state(), :'s3', 'H1: the refused drafts wrote nothing');

-- H3 -----------------------------------------------------------------------------------

SET ROLE t_h13_clerk;
SELECT throws_ok(pg_temp.draft_sql('2026-10-12', pg_temp.pay('H0004', 1000000)),
	'EMH03', 'household ''H0004'': beneficiary list ''L2'' has not been disclosed (H3)',
	'H3: a household on an unpublished list is not paid');
SELECT throws_ok(pg_temp.draft_sql('2026-10-10', pg_temp.pay('H0002', 1000000)),
	'EMH03', 'household ''H0002'': the notice period of list ''L1'' has not ended (H3)',
	'H3: nor before the notice period is over');
SELECT is(pg_temp.error_of(pg_temp.draft_sql('2026-10-10', pg_temp.pay('H0002', 1000000))),
	E'EMH03: household ''H0002'': the notice period of list ''L1'' has not ended (H3)\npayable from 2026-10-11; the payment is dated 2026-10-10',
	'H3: the refusal says from when it is payable');
SELECT throws_ok(pg_temp.draft_sql('2026-10-12', pg_temp.pay('H0007', 1000000)),
	'EMH03', 'household ''H0007'' has an unresolved objection on list ''L1'' (H3)',
	'H3: nor a household with an open objection');
SELECT is(pg_temp.error_of(pg_temp.draft_sql('2026-10-12', pg_temp.pay('H0007', 1000000))),
	E'EMH03: household ''H0007'' has an unresolved objection on list ''L1'' (H3)\nraised 2026-10-05: 面积不符',
	'H3: the refusal gives the objection');
RESET ROLE;
SELECT is(pg_temp.state(), :'s3', 'H3: the refused drafts wrote nothing');

SELECT is(pg_temp.post('B1', '2026-10-11', pg_temp.pay('H0002', 1000000)), '记-2026-10-0001',
	'H3: H0002 is paid on the first day after the notice period');

SET ROLE t_h13_admin;
SELECT lives_ok(format($$SELECT earmark.objection_resolve('B1', %s, '2026-10-15', '经核实面积无误')$$, :objection),
	'H3: the objection is resolved on 15 October');
RESET ROLE;
SELECT pg_temp.state() AS s4 \gset
SET ROLE t_h13_clerk;
SELECT throws_ok(format('SELECT pg_temp.undone(%L)', pg_temp.draft_sql('2026-10-14', pg_temp.pay('H0007', 1000000))),
	'EMH03', 'household ''H0007'' has an unresolved objection on list ''L1'' (H3)',
	'H3: a payment dated while the objection was still open is refused');
RESET ROLE;
SELECT is(pg_temp.state(), :'s4', 'H3: the refused draft wrote nothing');
SELECT is(pg_temp.post('B1', '2026-10-15', pg_temp.pay('H0007', 1000000)), '记-2026-10-0002',
	'H3: from the day the objection is resolved the household is paid');

-- H2 -----------------------------------------------------------------------------------

SELECT is(pg_temp.post('B1', '2026-10-12', pg_temp.pay('H0001', 3000000)), '记-2026-10-0003',
	'H2: H0001 is paid 30,000.00 for its main house');
SELECT pg_temp.state() AS s5 \gset
SET ROLE t_h13_clerk;
SELECT throws_ok(pg_temp.draft_sql('2026-10-13', pg_temp.pay('H0001', 2000000)),
	'EMH02', 'household ''H0001'' would get more than the cap for WF (危房改造) in 2026 (H2)',
	'H2: the kitchen''s 20,000.00 the list grants would take H0001 beyond the yearly cap');
SELECT is(pg_temp.error_of(pg_temp.draft_sql('2026-10-13', pg_temp.pay('H0001', 2000000))),
	E'EMH02: household ''H0001'' would get more than the cap for WF (危房改造) in 2026 (H2)\ncap 40,000.00, paid before 30,000.00, this voucher 20,000.00',
	'H2: the refusal gives the cap and the payments');
SELECT throws_ok(pg_temp.draft_sql('2026-10-13', pg_temp.pay('H0002', 1000000)),
	'EMH02', 'household ''H0002'' would be paid more for project ''PH'' than its beneficiary list grants (H2)',
	'H2: a household already paid for its item is not paid again');
SELECT is(pg_temp.error_of(pg_temp.draft_sql('2026-10-13', pg_temp.pay('H0002', 1000000))),
	E'EMH02: household ''H0002'' would be paid more for project ''PH'' than its beneficiary list grants (H2)\ngranted 10,000.00, paid before 10,000.00, this voucher 10,000.00',
	'H2: the refusal gives what was granted and paid');
SELECT throws_ok(pg_temp.draft_sql('2026-10-13', pg_temp.pay('H0002', 600000) || pg_temp.pay('H0002', 600000)),
	'EMH02', 'household ''H0002'' would be paid more for project ''PH'' than its beneficiary list grants (H2)',
	'H2: nor twice in one voucher');
RESET ROLE;
SELECT is(pg_temp.state(), :'s5', 'H2: the refused drafts wrote nothing');
SELECT is(pg_temp.post('B1', '2026-10-13', pg_temp.pay('H0001', 1000000)), '记-2026-10-0004',
	'H2: H0001 is paid up to the cap exactly');
SELECT is((SELECT spent_fen FROM earmark.household_spend hs JOIN earmark.household h USING (book_id, household_id)
            WHERE h.code = 'H0001' AND hs.year = 2026), 4000000::bigint,
	'H2: household_spend keeps what H0001 was paid in 2026');

-- A reviewed payment meets an objection raised before it was posted.
SELECT pg_temp.state() AS s6 \gset
SET ROLE t_h13_admin;
SELECT earmark.master_import('B1', 'household', $$[
	{"code": "H0011", "village": "610826101201", "head_name": "陈十三", "id_no": "610826199102030051", "source": "households3.csv:2"}]$$) AS imported \gset
SET ROLE t_h13_clerk;
SELECT earmark.list_create('B1', 'L4', 'PH', '2026年危房改造补充', $$[
	{"household": "H0011", "item": "主房", "amount_fen": 1000000, "source": "l4.csv:2"}]$$) AS n \gset
SET ROLE t_h13_admin;
SELECT earmark.list_publish('B1', 'L4', '2026-11-01', 10) AS payable \gset
SET ROLE t_h13_clerk;
SELECT earmark.voucher_draft('B1', '2026-11-12', '转', '到户补助', NULL, pg_temp.pay('H0011', 1000000)) AS late \gset
SET ROLE t_h13_rev;
SELECT earmark.voucher_review('B1', '#' || :late) AS reviewed \gset
SET ROLE t_h13_admin;
SELECT earmark.objection_record('B1', 'L4', 'H0011', '2026-11-10', '非本村常住') AS objection2 \gset
RESET ROLE;
SELECT pg_temp.state() AS s7 \gset
SET ROLE t_h13_bk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :late),
	'EMH03', 'household ''H0011'' has an unresolved objection on list ''L4'' (H3)',
	'H3: an objection recorded after review stops the payment at posting');
RESET ROLE;
SELECT is(pg_temp.state(), :'s7', 'H3: the refused posting changed nothing');

SELECT * FROM finish();
ROLLBACK;
