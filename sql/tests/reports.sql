-- The ledgers and reports of 0013, each as of a date.
--
-- Every report's figures are checked against an independent sum over the
-- posted lines (the functions read kept totals for whole months and
-- days, so the two paths must agree on every date tried); each kept total
-- equals its lines; a date before the book began is
-- refused by every report; personal data in the household ledger is
-- masked for the auditor and shown to the office (H4); P5 findings are
-- listed.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(37);

CREATE ROLE t_rp_admin LOGIN;
GRANT earmark_admin TO t_rp_admin;
CREATE ROLE t_rp_clerk LOGIN;
GRANT earmark_clerk TO t_rp_clerk;
CREATE ROLE t_rp_rev LOGIN;
GRANT earmark_reviewer TO t_rp_rev;
CREATE ROLE t_rp_bk LOGIN;
GRANT earmark_bookkeeper TO t_rp_bk;
CREATE ROLE t_rp_aud LOGIN;
GRANT earmark_auditor TO t_rp_aud;

SET earmark_test.people = 't_rp';
\ir fixture/helpers.psql

-- The book from 2024: F0 (county, 2024) on the second dedicated account
-- still holds its 2024 money (a carry-over, P5); F1 (central) pays project
-- P1 by progress and households H0001 (东沟村) and H0002 (西岭村) on list
-- L1 of project PH; F2 (province) has received and spent nothing (idle).
SET ROLE t_rp_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2024-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "2302", "name": "应付账款", "kind": "liability", "normal_side": "C"},
	{"code": "2303", "name": "应付政府补贴款", "kind": "liability", "normal_side": "C"},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"},
	{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "source": "b.csv:2"},
	{"account_no": "622800000002", "bank_name": "县农村信用社", "cnaps": "402100000002", "source": "b.csv:3"}
]$$) AS x \gset
SELECT earmark.master_import('B1', 'category', $$[
	{"code": "JC", "name": "基础设施", "source": "c.csv:2"},
	{"code": "WF", "name": "危房改造", "source": "c.csv:3"}
]$$) AS x \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F0", "name": "县级配套资金", "level": "county", "year": 2024, "amount_fen": 2000000, "bank_account": "622800000002", "categories": "JC", "received_on": "2024-03-01", "source": "f.csv:2"},
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2026, "amount_fen": 8000000, "bank_account": "622800000001", "categories": "JC;WF", "received_on": "2026-01-10", "source": "f.csv:3"},
	{"code": "F2", "name": "省级衔接资金", "level": "province", "year": 2026, "amount_fen": 3000000, "bank_account": "622800000001", "categories": "JC", "received_on": "2026-01-20", "source": "f.csv:4"}
]$$) AS x \gset
SELECT earmark.master_import('B1', 'village', $$[
	{"code": "610826101201", "name": "东沟村", "township": "城关镇", "source": "v.csv:2"},
	{"code": "610826101202", "name": "西岭村", "township": "城关镇", "source": "v.csv:3"}
]$$) AS x \gset
SELECT earmark.master_import('B1', 'household', $$[
	{"code": "H0001", "village": "610826101201", "head_name": "张小三", "id_no": "610826198003120014", "status": "脱贫户", "source": "h.csv:2"},
	{"code": "H0002", "village": "610826101202", "head_name": "李四", "id_no": "610826197501010024", "status": "监测户", "source": "h.csv:3"},
	{"code": "H0003", "village": "610826101202", "head_name": "王五", "id_no": "610826199005050034", "source": "h.csv:4"}
]$$) AS x \gset
SELECT earmark.master_import('B1', 'project', $$[
	{"code": "P1", "name": "东沟村道路硬化", "category": "JC", "villages": "610826101201", "source": "p.csv:2"},
	{"code": "PH", "name": "农村危房改造", "category": "WF", "villages": "610826101201;610826101202", "source": "p.csv:3"}
]$$) AS x \gset
SELECT earmark.master_import('B1', 'project_target', $$[
	{"project": "P1", "kind": "产出", "indicator": "硬化道路", "value": "3.2 公里", "source": "t.csv:2"},
	{"project": "PH", "kind": "产出", "indicator": "改造户数", "value": "2 户", "source": "t.csv:3"}
]$$) AS x \gset
SELECT earmark.master_import('B1', 'project_budget', $$[
	{"project": "P1", "fund": "F1", "amount_fen": 10000000, "source": "pb.csv:2"},
	{"project": "PH", "fund": "F1", "amount_fen": 5000000, "source": "pb.csv:3"}
]$$) AS x \gset
SELECT earmark.master_import('B1', 'project_event', $$[
	{"project": "P1", "kind": "approval", "date": "2026-01-05", "doc_no": "县振发〔2026〕1号", "source": "e.csv:2"},
	{"project": "P1", "kind": "start", "date": "2026-01-10", "source": "e.csv:3"},
	{"project": "PH", "kind": "approval", "date": "2026-01-05", "doc_no": "县振发〔2026〕2号", "source": "e.csv:4"},
	{"project": "PH", "kind": "progress", "date": "2026-10-20", "progress": 40, "source": "e.csv:5"}
]$$) AS x \gset
RESET ROLE;
SET ROLE t_rp_clerk;
SELECT earmark.list_create('B1', 'L1', 'PH', '2026年危房改造第一批', $$[
	{"household": "H0001", "item": "主房", "amount_fen": 3000000, "source": "l1.csv:2"},
	{"household": "H0002", "item": "主房", "amount_fen": 1000000, "source": "l1.csv:3"}]$$) AS x \gset
RESET ROLE;
SET ROLE t_rp_admin;
SELECT earmark.list_publish('B1', 'L1', '2026-10-01', NULL) AS x \gset
RESET ROLE;

SELECT pg_temp.post('B1', '2024-03-01', jsonb_build_array(pg_temp.ln('1002', 'D', 2000000, 'F0', '622800000002'), pg_temp.ln('4001', 'C', 2000000, 'F0'))) AS x \gset
SELECT pg_temp.post('B1', '2026-01-10', jsonb_build_array(pg_temp.ln('1002', 'D', 8000000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 8000000, 'F1'))) AS x \gset
SELECT pg_temp.post('B1', '2026-01-20', jsonb_build_array(pg_temp.ln('1002', 'D', 3000000, 'F2', '622800000001'), pg_temp.ln('4001', 'C', 3000000, 'F2'))) AS x \gset
SELECT pg_temp.post('B1', '2026-02-05', jsonb_build_array(pg_temp.ln('5001', 'D', 1200000, 'F1', NULL, '{"project": "P1", "village": "610826101201", "category": "JC"}'), pg_temp.ln('2302', 'C', 1200000, 'F1'))) AS x \gset
SELECT pg_temp.post('B1', '2026-02-25', jsonb_build_array(pg_temp.ln('2302', 'D', 1000000, 'F1'), pg_temp.ln('1002', 'C', 1000000, 'F1', '622800000001'))) AS x \gset
SELECT pg_temp.post('B1', '2026-03-20', jsonb_build_array(pg_temp.ln('5001', 'D', 100000, 'F2', category => 'JC'), pg_temp.ln('2302', 'C', 100000, 'F2'))) AS f2_pay \gset
SET ROLE t_rp_clerk;
SELECT earmark.voucher_reverse('B1', :'f2_pay', '2026-03-25', NULL) AS rv \gset
SET ROLE t_rp_rev;
SELECT earmark.voucher_review('B1', '#' || :rv) AS x \gset
SET ROLE t_rp_bk;
SELECT earmark.voucher_post('B1', '#' || :rv) AS x \gset
RESET ROLE;
SELECT pg_temp.post('B1', '2026-10-15', jsonb_build_array(
	pg_temp.ln('5001', 'D', 3000000, 'F1', NULL, '{"project": "PH", "household": "H0001", "memo": "主房"}', 'WF'),
	pg_temp.ln('5001', 'D', 1000000, 'F1', NULL, '{"project": "PH", "household": "H0002", "memo": "主房"}', 'WF'),
	pg_temp.ln('2303', 'C', 4000000, 'F1'))) AS x \gset
SELECT pg_temp.post('B1', '2026-10-16', jsonb_build_array(pg_temp.ln('2303', 'D', 4000000, 'F1'), pg_temp.ln('1002', 'C', 4000000, 'F1', '622800000001'))) AS x \gset
-- a draft counts for nothing
SET ROLE t_rp_clerk;
SELECT earmark.voucher_draft('B1', '2026-11-02', '记', 'draft', NULL,
	jsonb_build_array(pg_temp.ln('2302', 'D', 777, 'F1'), pg_temp.ln('1002', 'C', 777, 'F1', '622800000001'))) AS draft \gset
RESET ROLE;

-- Independent sums over the posted lines ------------------------------------------------

CREATE TEMP VIEW posted AS
SELECT l.*, v.voucher_date, a.code AS acode, a.normal_side, a.kind, a.is_bank, a.spend, f.code AS fcode,
       CASE WHEN l.side = 'D' THEN l.amount_fen ELSE 0 END AS d,
       CASE WHEN l.side = 'C' THEN l.amount_fen ELSE 0 END AS c,
       CASE WHEN l.side = 'D' THEN l.amount_fen ELSE -l.amount_fen END AS net
  FROM earmark.line l
  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
  JOIN earmark.fund f ON f.book_id = l.book_id AND f.fund_id = l.fund_id
 WHERE v.status = 'posted';

CREATE TEMP TABLE dates AS
SELECT unnest(ARRAY['2024-01-01', '2024-03-01', '2025-12-31', '2026-01-15', '2026-02-28', '2026-03-01',
                    '2026-03-22', '2026-03-31', '2026-10-15', '2026-10-31', '2026-11-23']::date[]) AS d;
CREATE TEMP TABLE ranges AS
SELECT * FROM (VALUES ('2024-01-01'::date, '2026-11-23'::date), ('2026-01-01', '2026-12-31'),
                      ('2026-01-15', '2026-03-22'), ('2026-02-01', '2026-02-28'), ('2026-03-21', '2026-03-21'),
                      ('2026-02-10', '2026-10-31'), ('2024-03-02', '2026-01-10')) r(f, t);

-- The kept totals ---------------------------------------------------------------------------

SELECT set_eq(
	$$SELECT book_id, day, account_id, fund_id, debit_fen, credit_fen, line_count FROM earmark.day_balance$$,
	$$SELECT book_id, voucher_date, account_id, fund_id, sum(d)::bigint AS d, sum(c)::bigint AS c, count(*) FROM posted GROUP BY 1, 2, 3, 4$$,
	'day_balance: equals the posted lines per day, account and fund');
SELECT set_eq(
	$$SELECT book_id, day, fund_id, to_household, spent_fen, line_count FROM earmark.fund_spend_day$$,
	$$SELECT book_id, voucher_date, fund_id, household_id IS NOT NULL, sum(net)::bigint, count(*) FROM posted WHERE spend GROUP BY 1, 2, 3, 4$$,
	'fund_spend_day: equals the posted spend lines per day, fund and household flag');
SELECT set_eq(
	$$SELECT book_id, month, fund_id, project_id, to_household, spent_fen, line_count FROM earmark.spend_month$$,
	$$SELECT book_id, date_trunc('month', voucher_date)::date, fund_id, project_id, household_id IS NOT NULL, sum(net)::bigint, count(*)
	    FROM posted WHERE spend GROUP BY 1, 2, 3, 4, 5$$,
	'spend_month: equals the posted spend lines per month, fund, project and household flag');
SELECT set_eq(
	$$SELECT book_id, month, village_id, to_household, spent_fen, line_count FROM earmark.village_month$$,
	$$SELECT p.book_id, date_trunc('month', p.voucher_date)::date, COALESCE(h.village_id, p.village_id), p.household_id IS NOT NULL,
	         sum(p.net)::bigint, count(*)
	    FROM posted p LEFT JOIN earmark.household h ON h.book_id = p.book_id AND h.household_id = p.household_id
	   WHERE p.spend AND COALESCE(h.village_id, p.village_id) IS NOT NULL GROUP BY 1, 2, 3, 4$$,
	'village_month: equals the posted spend lines per month, village (the household''s) and household flag');

-- 总账 ---------------------------------------------------------------------------------

SELECT results_eq(
	$$SELECT r.f, r.t, g.code, g.month, g.debit_fen, g.credit_fen FROM ranges r, earmark.general_ledger('B1', r.f, r.t) g
	   WHERE g.debit_fen <> 0 OR g.credit_fen <> 0 ORDER BY 1, 2, 3, 4$$,
	$$SELECT r.f, r.t, p.acode, to_char(p.voucher_date, 'YYYY-MM'), sum(p.d)::bigint, sum(p.c)::bigint
	    FROM ranges r JOIN posted p ON p.voucher_date BETWEEN r.f AND r.t
	   GROUP BY 1, 2, 3, 4 HAVING sum(p.d) <> 0 OR sum(p.c) <> 0 ORDER BY 1, 2, 3, 4$$,
	'general ledger: each month''s debits and credits equal the lines, for every range');
SELECT results_eq(
	$$SELECT r.f, r.t, g.code, g.closing_fen FROM ranges r, earmark.general_ledger('B1', r.f, r.t) g
	   WHERE g.month = to_char(r.t, 'YYYY-MM') ORDER BY 1, 2, 3$$,
	$$SELECT r.f, r.t, p.acode, sum(CASE p.normal_side WHEN 'D' THEN p.net ELSE -p.net END)::bigint
	    FROM ranges r JOIN posted p ON p.voucher_date <= r.t
	   GROUP BY 1, 2, 3 HAVING sum(p.d) FILTER (WHERE p.voucher_date >= date_trunc('month', r.t)) <> 0
	                        OR sum(p.c) FILTER (WHERE p.voucher_date >= date_trunc('month', r.t)) <> 0
	                        OR sum(CASE p.normal_side WHEN 'D' THEN p.net ELSE -p.net END) <> 0
	   ORDER BY 1, 2, 3$$,
	'general ledger: the closing balance equals all lines to the end date, on the normal side');
SELECT is_empty(
	$$SELECT * FROM (SELECT code, month, opening_fen, closing_fen,
	                        lag(closing_fen) OVER (PARTITION BY code ORDER BY month) AS prev
	                   FROM earmark.general_ledger('B1', '2026-01-01', '2026-11-23')) g
	   WHERE prev IS NOT NULL AND prev <> opening_fen$$,
	'general ledger: each month opens with the last month''s closing balance');
SELECT results_eq(
	$$SELECT g.code, g.month, g.debit_fen, g.credit_fen FROM earmark.general_ledger('B1', '2026-01-01', '2026-11-23', '5001', p_fund => 'F1') g
	   WHERE g.debit_fen <> 0 OR g.credit_fen <> 0 ORDER BY 1, 2$$,
	$$VALUES ('5001'::text, '2026-02'::text, 1200000::bigint, 0::bigint), ('5001', '2026-10', 4000000, 0)$$,
	'general ledger: by account and fund');
SELECT results_eq(
	$$SELECT d, g.code, g.debit_fen, g.credit_fen, g.closing_fen
	    FROM unnest(ARRAY['PH', 'P1']) d, earmark.general_ledger('B1', '2026-01-01', '2026-11-23', p_project => d) g
	   WHERE g.debit_fen <> 0 OR g.credit_fen <> 0 ORDER BY 1, 2$$,
	$$SELECT pr.code, p.acode, sum(p.d)::bigint, sum(p.c)::bigint, sum(CASE p.normal_side WHEN 'D' THEN p.net ELSE -p.net END)::bigint
	    FROM posted p JOIN earmark.project pr ON pr.book_id = p.book_id AND pr.project_id = p.project_id
	   GROUP BY 1, 2 ORDER BY 1, 2$$,
	'general ledger: by project, from the project''s lines');
SELECT results_eq(
	$$SELECT g.code, g.debit_fen FROM earmark.general_ledger('B1', '2026-10-01', '2026-10-31', p_household => 'H0002') g$$,
	$$VALUES ('5001'::text, 1000000::bigint)$$,
	'general ledger: by household');
SELECT results_eq(
	$$SELECT g.code, g.debit_fen FROM earmark.general_ledger('B1', '2026-01-01', '2026-11-23', p_village => '610826101201') g
	   WHERE g.debit_fen <> 0$$,
	$$VALUES ('5001'::text, 1200000::bigint)$$,
	'general ledger: by village (lines that name it)');

-- 明细账 -------------------------------------------------------------------------------

SELECT results_eq(
	$$SELECT r.f, r.t, count(*) FILTER (WHERE dl.voucher_date IS NOT NULL), sum(dl.debit_fen)::bigint, sum(dl.credit_fen)::bigint
	    FROM ranges r, earmark.detail_ledger('B1', r.f, r.t) dl GROUP BY 1, 2 ORDER BY 1, 2$$,
	$$SELECT r.f, r.t, count(p.line_no), sum(p.d)::bigint, sum(p.c)::bigint
	    FROM ranges r LEFT JOIN posted p ON p.voucher_date BETWEEN r.f AND r.t GROUP BY 1, 2 ORDER BY 1, 2$$,
	'detail ledger: every line of the range, and only those, with their amounts');
SELECT results_eq(
	$$SELECT DISTINCT ON (dl.code) dl.code, dl.balance_fen
	    FROM (SELECT *, row_number() OVER () AS n FROM earmark.detail_ledger('B1', '2026-03-01', '2026-10-31')) dl
	   ORDER BY dl.code, dl.n DESC$$,
	$$SELECT p.acode, sum(CASE p.normal_side WHEN 'D' THEN p.net ELSE -p.net END)::bigint
	    FROM posted p WHERE p.voucher_date <= '2026-10-31' GROUP BY 1 ORDER BY 1$$,
	'detail ledger: each account''s running balance ends at its balance on the end date');
SELECT results_eq(
	$$SELECT dl.memo, dl.balance_fen FROM earmark.detail_ledger('B1', '2026-03-01', '2026-03-31', '1002') dl$$,
	$$VALUES ('期初余额 opening'::text, 12000000::bigint)$$,
	'detail ledger: a month without lines shows the opening balance only');
SELECT results_eq(
	$$SELECT dl.voucher_date, dl.household, dl.debit_fen FROM earmark.detail_ledger('B1', '2026-01-01', '2026-11-23', '5001', p_household => 'H0001') dl
	   WHERE dl.voucher_date IS NOT NULL$$,
	$$VALUES ('2026-10-15'::date, 'H0001'::text, 3000000::bigint)$$,
	'detail ledger: by household');

-- 银行存款日记账 -------------------------------------------------------------------------

SELECT results_eq(
	$$SELECT DISTINCT ON (b.account_no) b.account_no, b.balance_fen
	    FROM (SELECT *, row_number() OVER () AS n FROM earmark.bank_journal('B1', '2026-02-01', '2026-11-23')) b
	   ORDER BY b.account_no, b.n DESC$$,
	$$SELECT da.account_no, COALESCE(sum(p.net), 0)::bigint FROM earmark.dedicated_account da
	    LEFT JOIN posted p ON p.bank_account_id = da.bank_account_id AND p.voucher_date <= '2026-11-23'
	   GROUP BY 1 ORDER BY 1$$,
	'bank journal: each dedicated account ends at the sum of its bank lines');
SELECT results_eq(
	$$SELECT b.account_no, b.balance_fen FROM earmark.bank_journal('B1', '2026-02-01', '2026-11-23') b WHERE b.voucher_date IS NULL ORDER BY 1$$,
	$$VALUES ('622800000001'::text, 11000000::bigint), ('622800000002', 2000000)$$,
	'bank journal: the opening balances on 2026-02-01, by hand');
SELECT results_eq(
	$$SELECT b.voucher_date, b.receipt_fen, b.payment_fen FROM earmark.bank_journal('B1', '2026-01-01', '2026-11-23', '622800000001') b
	   WHERE b.voucher_date IS NOT NULL$$,
	$$VALUES ('2026-01-10'::date, 8000000::bigint, NULL::bigint), ('2026-01-20', 3000000, NULL),
	         ('2026-02-25', NULL, 1000000), ('2026-10-16', NULL, 4000000)$$,
	'bank journal: one account''s receipts and payments in order');

-- 资金收支情况表 -------------------------------------------------------------------------

SELECT results_eq(
	$$SELECT dt.d, s.fund, s.received_fen, s.projects_fen, s.households_fen, s.balance_fen
	    FROM dates dt, earmark.fund_statement('B1', dt.d) s WHERE s.name <> '' ORDER BY 1, 2$$,
	$$SELECT dt.d, f.code,
	         COALESCE((SELECT sum(-p.net) FROM posted p WHERE p.fund_id = f.fund_id AND p.kind = 'revenue' AND p.voucher_date <= dt.d), 0)::bigint,
	         COALESCE((SELECT sum(p.net) FROM posted p WHERE p.fund_id = f.fund_id AND p.spend AND p.household_id IS NULL AND p.voucher_date <= dt.d), 0)::bigint,
	         COALESCE((SELECT sum(p.net) FROM posted p WHERE p.fund_id = f.fund_id AND p.spend AND p.household_id IS NOT NULL AND p.voucher_date <= dt.d), 0)::bigint,
	         COALESCE((SELECT sum(p.net) FROM posted p WHERE p.fund_id = f.fund_id AND p.is_bank AND p.voucher_date <= dt.d), 0)::bigint
	    FROM dates dt, earmark.fund f ORDER BY 1, 2$$,
	'fund statement: received, spent on projects, paid to households and the balance equal the lines on every date');
SELECT results_eq(
	$$SELECT level, fund, allocated_fen, received_fen, projects_fen, households_fen, balance_fen, rate FROM earmark.fund_statement('B1', '2026-11-23')$$,
	$$VALUES ('中央'::text, 'F1'::text, 8000000::bigint, 8000000::bigint, 1200000::bigint, 4000000::bigint, 3000000::bigint, '65.00%'::text),
	         ('中央', '小计 subtotal', 8000000, 8000000, 1200000, 4000000, 3000000, '65.00%'),
	         ('省级', 'F2', 3000000, 3000000, 0, 0, 3000000, '0.00%'),
	         ('省级', '小计 subtotal', 3000000, 3000000, 0, 0, 3000000, '0.00%'),
	         ('县级', 'F0', 2000000, 2000000, 0, 0, 2000000, '0.00%'),
	         ('县级', '小计 subtotal', 2000000, 2000000, 0, 0, 2000000, '0.00%'),
	         ('合计 total', '', 13000000, 13000000, 1200000, 4000000, 8000000, '40.00%')$$,
	'fund statement: per fund, subtotal per level and total, with the execution rate, by hand');

-- 项目台账 -------------------------------------------------------------------------------

SELECT results_eq(
	$$SELECT dt.d, pl.project, pl.fund, pl.paid_fen, pl.households_fen FROM dates dt, earmark.project_ledger('B1', dt.d) pl ORDER BY 1, 2, 3$$,
	$$SELECT dt.d, pr.code, f.code,
	         COALESCE((SELECT sum(p.net) FROM posted p WHERE p.project_id = pb.project_id AND p.fund_id = pb.fund_id AND p.spend AND p.voucher_date <= dt.d), 0)::bigint,
	         COALESCE((SELECT sum(p.net) FROM posted p WHERE p.project_id = pb.project_id AND p.fund_id = pb.fund_id AND p.spend AND p.household_id IS NOT NULL AND p.voucher_date <= dt.d), 0)::bigint
	    FROM dates dt, earmark.project_budget pb
	    JOIN earmark.project pr ON pr.book_id = pb.book_id AND pr.project_id = pb.project_id
	    JOIN earmark.fund f ON f.book_id = pb.book_id AND f.fund_id = pb.fund_id ORDER BY 1, 2, 3$$,
	'project ledger: paid per project and fund equals the spend lines on every date');
SELECT results_eq(
	$$SELECT project, stage, progress, budget_fen, paid_fen, remaining_fen, rate FROM earmark.project_ledger('B1', '2026-11-23')$$,
	$$VALUES ('P1'::text, '在建 started'::text, ''::text, 10000000::bigint, 1200000::bigint, 8800000::bigint, '12.00%'::text),
	         ('PH', '在建 started', '40%', 5000000, 4000000, 1000000, '80.00%')$$,
	'project ledger: stage, progress, budget, paid and remaining, by hand');

-- 村册 ----------------------------------------------------------------------------------

SELECT results_eq(
	$$SELECT code, households, poverty_exited, monitored, projects, households_fen, projects_fen FROM earmark.village_register('B1', '2026-11-23')$$,
	$$VALUES ('610826101201'::text, 1::bigint, 1::bigint, 0::bigint, 2::bigint, 3000000::bigint, 1200000::bigint),
	         ('610826101202', 2, 0, 1, 1, 1000000, 0)$$,
	'village register: households, projects and spend per village, by hand');
SELECT results_eq(
	$$SELECT dt.d, vr.code, vr.households_fen FROM dates dt, earmark.village_register('B1', dt.d) vr ORDER BY 1, 2$$,
	$$SELECT dt.d, vg.code,
	         COALESCE((SELECT sum(p.net) FROM posted p JOIN earmark.household h ON h.book_id = p.book_id AND h.household_id = p.household_id
	                    WHERE h.village_id = vg.village_id AND p.spend AND p.voucher_date <= dt.d), 0)::bigint
	    FROM dates dt, earmark.village vg ORDER BY 1, 2$$,
	'village register: paid to each village''s households equals its households'' lines on every date');

-- 到户台账 (H4) ---------------------------------------------------------------------------

SET ROLE t_rp_clerk;
SELECT results_eq(
	$$SELECT household, head_name, id_no, village, voucher_date, fund, project, category, amount_fen FROM earmark.household_ledger('B1', 'H0001', '2026-11-23')$$,
	$$VALUES ('H0001'::text, '张小三'::text, '610826198003120014'::text, '610826101201'::text, '2026-10-15'::date, 'F1'::text, 'PH'::text, 'WF'::text, 3000000::bigint)$$,
	'household ledger: the office sees the name and ID number');
RESET ROLE;
SET ROLE t_rp_aud;
SELECT results_eq(
	$$SELECT head_name, id_no, amount_fen FROM earmark.household_ledger('B1', 'H0001', '2026-11-23')$$,
	$$VALUES ('张*三'::text, '610826********0014'::text, 3000000::bigint)$$,
	'household ledger: the auditor sees them masked (H4)');
SELECT is_empty($$SELECT * FROM earmark.household_ledger('B1', 'H0001', '2026-10-14')$$,
	'household ledger: as of a date before the payment it is empty');
RESET ROLE;
SELECT results_eq(
	$$SELECT h.code, sum(hl.amount_fen)::bigint FROM earmark.household h, earmark.household_ledger('B1', h.code, '2026-11-23') hl GROUP BY 1 ORDER BY 1$$,
	$$SELECT h.code, sum(p.net)::bigint FROM posted p JOIN earmark.household h ON h.book_id = p.book_id AND h.household_id = p.household_id
	   WHERE p.spend GROUP BY 1 ORDER BY 1$$,
	'household ledger: each household''s total equals its spend lines');
SET ROLE earmark_public;
SELECT throws_ok($$SELECT * FROM earmark.household_ledger('B1', 'H0001', '2026-11-23')$$, '42501',
	'permission denied for function household_ledger', 'household ledger: the public cannot call it');
RESET ROLE;

-- P5 -----------------------------------------------------------------------------------

SELECT results_eq(
	$$SELECT finding, fund, project, amount_fen FROM earmark.idle_funds('B1', '2026-11-23')$$,
	$$VALUES ('carryover'::text, 'F0'::text, NULL::text, 2000000::bigint),
	         ('idle', 'F0', NULL, 2000000), ('idle', 'F1', NULL, 2800000), ('idle', 'F2', NULL, 3000000),
	         ('no_progress', NULL, 'P1', 1200000)$$,
	'idle funds: carry-over of a 2024 fund, money received over 60 days ago and unspent, a project paid without progress');
SELECT results_eq(
	$$SELECT finding, fund, amount_fen FROM earmark.idle_funds('B1', '2026-02-01')$$,
	$$VALUES ('carryover'::text, 'F0'::text, 2000000::bigint), ('idle', 'F0', 2000000)$$,
	'idle funds: as of an earlier date, F1 and F2 are not yet 60 days old and nothing was paid');
SELECT results_eq(
	$$SELECT dt.d, i.finding, i.fund, i.amount_fen FROM dates dt, earmark.idle_funds('B1', dt.d) i
	   WHERE i.finding IN ('idle', 'carryover') ORDER BY 1, 2, 3$$,
	$$WITH x AS (
		SELECT dt.d, f.code, f.year,
		       (SELECT COALESCE(sum(-p.net), 0) FROM posted p WHERE p.fund_id = f.fund_id AND p.kind = 'revenue' AND p.voucher_date <= dt.d - 60) AS rec_old,
		       (SELECT COALESCE(sum(-p.net), 0) FROM posted p WHERE p.fund_id = f.fund_id AND p.kind = 'revenue' AND p.voucher_date <= dt.d) AS rec,
		       (SELECT COALESCE(sum(p.net), 0) FROM posted p WHERE p.fund_id = f.fund_id AND p.spend AND p.voucher_date <= dt.d) AS spent,
		       (SELECT COALESCE(sum(p.net), 0) FROM posted p WHERE p.fund_id = f.fund_id AND p.is_bank AND p.voucher_date <= dt.d) AS cash
		  FROM dates dt, earmark.fund f)
	  SELECT d, 'idle'::text, code, (LEAST(rec_old, rec) - spent)::bigint FROM x
	   WHERE d - 60 >= '2024-01-01' AND LEAST(rec_old, rec) - spent > 0
	  UNION ALL
	  SELECT d, 'carryover', code, cash::bigint FROM x WHERE cash > 0 AND extract(year FROM d) - year >= 2
	  ORDER BY 1, 2, 3$$,
	'idle funds: idle money and carry-overs equal an independent sum over the lines on every date');
SELECT results_eq(
	$$SELECT rule, record FROM earmark.exceptions('B1', '2026-01-01', '2026-11-23') WHERE rule = 'P5' ORDER BY record$$,
	$$VALUES ('P5'::text, 'F0'::text), ('P5', 'F0'), ('P5', 'F1'), ('P5', 'F2'), ('P5', 'P1')$$,
	'exceptions: the P5 findings are listed');

-- Dates before the book ------------------------------------------------------------------

SELECT is(pg_temp.error_of($$SELECT * FROM earmark.fund_statement('B1', '2023-12-31')$$),
	E'EMI01: date 2023-12-31 is before the book began\nbook ''B1'' starts on 2024-01-01',
	'before the book: the fund statement is refused, naming the book''s first day');
SELECT is_empty($$SELECT q FROM unnest(ARRAY[
	$q$SELECT * FROM earmark.general_ledger('B1', '2023-01-01', '2023-12-31')$q$,
	$q$SELECT * FROM earmark.detail_ledger('B1', NULL, '2023-12-31')$q$,
	$q$SELECT * FROM earmark.bank_journal('B1', NULL, '2023-12-31')$q$,
	$q$SELECT * FROM earmark.project_ledger('B1', '2023-12-31')$q$,
	$q$SELECT * FROM earmark.village_register('B1', '2023-12-31')$q$,
	$q$SELECT * FROM earmark.household_ledger('B1', 'H0001', '2023-12-31')$q$,
	$q$SELECT * FROM earmark.idle_funds('B1', '2023-12-31')$q$,
	$q$SELECT * FROM earmark.exceptions('B1', NULL, '2023-12-31')$q$]) q
	WHERE pg_temp.error_of(q) NOT LIKE 'EMI01: date 2023-12-31 is before the book began%'$$,
	'before the book: every other report is refused the same way (EMI01)');
SELECT throws_ok($$SELECT * FROM earmark.general_ledger('B1', '2026-03-01', '2026-02-01')$$, 'EMI01',
	'the report''s range ends (2026-02-01) before it starts (2026-03-01)',
	'a range that ends before it starts is refused');
SELECT lives_ok($$SELECT * FROM earmark.fund_statement('B1', '2024-01-01')$$,
	'the book''s first day is accepted');

SELECT * FROM finish();
ROLLBACK;
