-- The kept balances and the trial balance (试算平衡表).
--
-- period_balance (per book, month, account and fund) and fund_cash (per
-- fund and dedicated account) are kept at posting; both must always equal
-- what the posted lines say, and drafts and reviewed vouchers count for
-- nothing.  earmark.trial_balance reads whole months from period_balance
-- and the as-of month from the lines: for every date it must agree with a
-- sum over the lines, balance in total and per fund, and it refuses a date
-- before the book began.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(15);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_tb_admin LOGIN;
GRANT earmark_admin TO t_tb_admin;
CREATE ROLE t_tb_clerk LOGIN;
GRANT earmark_clerk TO t_tb_clerk;
CREATE ROLE t_tb_clerk2 LOGIN;
GRANT earmark_clerk TO t_tb_clerk2;
CREATE ROLE t_tb_rev LOGIN;
GRANT earmark_reviewer TO t_tb_rev;
CREATE ROLE t_tb_bk LOGIN;
GRANT earmark_bookkeeper TO t_tb_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_tb_clerk, t_tb_rev and t_tb_bk unless told otherwise.
SET earmark_test.people = 't_tb';
\ir fixture/helpers.psql

-- The book: 2026 from January, two dedicated accounts; F1 and F2 share the
-- first (A2 keeps their cash apart), F3 has the second.  Every fund permits
-- the use category JC (A3); household H0001 has its ID number (H1).
SET ROLE t_tb_admin;
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
-- P1-P3: the project is approved, has a target and a budget from F1, and
-- has started, so it may be paid up to the 30 % advance before inspection.
SELECT earmark.master_import('B1', 'project_target', $$[
	{"project": "P2026-001", "kind": "产出", "indicator": "硬化道路", "value": "3.2 公里", "source": "project_targets.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_budget', $$[
	{"project": "P2026-001", "fund": "F1", "amount_fen": 10000000, "source": "project_budgets.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_event', $$[
	{"project": "P2026-001", "kind": "approval", "date": "2026-01-05", "doc_no": "县振发〔2026〕1号", "source": "project_events.csv:2"},
	{"project": "P2026-001", "kind": "start", "date": "2026-01-10", "source": "project_events.csv:3"}
]$$) AS imported \gset
RESET ROLE;

-- The trial balance straight from the posted lines, for comparison.
CREATE FUNCTION pg_temp.tb_from_lines(as_of date, fund text DEFAULT NULL)
RETURNS TABLE (code text, debit_fen bigint, credit_fen bigint, balance_debit_fen bigint, balance_credit_fen bigint)
LANGUAGE sql STABLE AS $$
	SELECT a.code, s.d, s.c, GREATEST(s.d - s.c, 0), GREATEST(s.c - s.d, 0)
	  FROM (SELECT l.account_id,
	               COALESCE(sum(l.amount_fen) FILTER (WHERE l.side = 'D'), 0)::bigint AS d,
	               COALESCE(sum(l.amount_fen) FILTER (WHERE l.side = 'C'), 0)::bigint AS c
	          FROM earmark.line l
	          JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
	          JOIN earmark.fund f ON f.book_id = l.book_id AND f.fund_id = l.fund_id
	         WHERE v.book_id = (SELECT book_id FROM earmark.book WHERE code = 'B1')
	           AND v.status = 'posted' AND v.voucher_date <= as_of AND (fund IS NULL OR f.code = fund)
	         GROUP BY l.account_id) s
	  JOIN earmark.account a ON a.account_id = s.account_id
	 WHERE s.d <> 0 OR s.c <> 0
	 ORDER BY a.code
$$;

-- January to March: receipts, payables, payments, a reversal; plus a draft
-- and a reviewed voucher that must count for nothing.
SELECT pg_temp.post('B1', '2026-01-10', jsonb_build_array(pg_temp.ln('1002', 'D', 5000000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 5000000, 'F1'))) AS x \gset
SELECT pg_temp.post('B1', '2026-01-20', jsonb_build_array(pg_temp.ln('1002', 'D', 3000000, 'F2', '622800000001'), pg_temp.ln('4001', 'C', 3000000, 'F2'))) AS x \gset
SELECT pg_temp.post('B1', '2026-02-05', jsonb_build_array(pg_temp.ln('5001', 'D', 1200000, 'F1', NULL, '{"project": "P2026-001", "category": "JC"}'), pg_temp.ln('2302', 'C', 1200000, 'F1'))) AS x \gset
SELECT pg_temp.post('B1', '2026-02-25', jsonb_build_array(pg_temp.ln('2302', 'D', 1000000, 'F1'), pg_temp.ln('1002', 'C', 1000000, 'F1', '622800000001'))) AS x \gset
SELECT pg_temp.post('B1', '2026-03-03', jsonb_build_array(pg_temp.ln('1002', 'D', 800000, 'F3', '622800000002'), pg_temp.ln('4001', 'C', 800000, 'F3'))) AS x \gset
SELECT pg_temp.post('B1', '2026-03-15', jsonb_build_array(pg_temp.ln('5001', 'D', 300000, 'F2', category => 'JC'), pg_temp.ln('2303', 'C', 300000, 'F2'),
                                                          pg_temp.ln('2303', 'D', 300000, 'F2'), pg_temp.ln('1002', 'C', 300000, 'F2', '622800000001'))) AS x \gset
SELECT pg_temp.post('B1', '2026-03-20', jsonb_build_array(pg_temp.ln('5001', 'D', 100000, 'F3', category => 'JC'), pg_temp.ln('2302', 'C', 100000, 'F3'))) AS f3_pay \gset
SET ROLE t_tb_clerk;
SELECT earmark.voucher_reverse('B1', :'f3_pay', '2026-03-25', NULL) AS rv \gset
SELECT earmark.voucher_draft('B1', '2026-03-26', '记', 'draft', NULL,
	jsonb_build_array(pg_temp.ln('5001', 'D', 777, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 777, 'F1'))) AS draft \gset
SELECT earmark.voucher_draft('B1', '2026-03-27', '记', 'reviewed', NULL,
	jsonb_build_array(pg_temp.ln('2302', 'D', 999, 'F1'), pg_temp.ln('1002', 'C', 999, 'F1', '622800000001'))) AS reviewed \gset
SET ROLE t_tb_rev;
SELECT earmark.voucher_review('B1', '#' || :rv) AS x \gset
SELECT earmark.voucher_review('B1', '#' || :reviewed) AS x \gset
SET ROLE t_tb_bk;
SELECT earmark.voucher_post('B1', '#' || :rv) AS x \gset
RESET ROLE;

-- The kept balances ---------------------------------------------------------------

SELECT set_eq(
	$$SELECT book_id, month, account_id, fund_id, debit_fen, credit_fen, line_count FROM earmark.period_balance$$,
	$$SELECT v.book_id, date_trunc('month', v.voucher_date)::date AS month, l.account_id, l.fund_id,
	         COALESCE(sum(l.amount_fen) FILTER (WHERE l.side = 'D'), 0)::bigint AS d,
	         COALESCE(sum(l.amount_fen) FILTER (WHERE l.side = 'C'), 0)::bigint AS c, count(*) AS n
	    FROM earmark.voucher v JOIN earmark.line l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id
	   WHERE v.status = 'posted'
	   GROUP BY 1, 2, 3, 4$$,
	'balances: period_balance equals the sum of the posted lines, per month, account and fund');
SELECT set_eq(
	$$SELECT fund_id, bank_account_id, balance_fen FROM earmark.fund_cash$$,
	$$SELECT l.fund_id, l.bank_account_id, sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)::bigint
	    FROM earmark.voucher v JOIN earmark.line l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id
	   WHERE v.status = 'posted' AND l.bank_account_id IS NOT NULL
	   GROUP BY 1, 2$$,
	'balances: fund_cash equals the sum of the posted bank lines, per fund and account');
SELECT results_eq($$SELECT f.code, fc.balance_fen FROM earmark.fund_cash fc JOIN earmark.fund f USING (book_id, fund_id) ORDER BY 1$$,
	$$VALUES ('F1'::text, 4000000::bigint), ('F2', 2700000), ('F3', 800000)$$,
	'balances: the funds hold 40,000.00, 27,000.00 and 8,000.00');
SELECT is((SELECT pb.debit_fen || ' ' || pb.line_count FROM earmark.period_balance pb
             JOIN earmark.account a ON a.book_id = pb.book_id AND a.account_id = pb.account_id
             JOIN earmark.fund f ON f.book_id = pb.book_id AND f.fund_id = pb.fund_id
            WHERE a.code = '5001' AND f.code = 'F3' AND pb.month = '2026-03-01'), '0 2',
	'balances: F3''s March expense and its 红字 reversal net to zero, both lines counted');

-- The trial balance ------------------------------------------------------------------

SELECT results_eq($$SELECT code, debit_fen, credit_fen, balance_debit_fen, balance_credit_fen FROM earmark.trial_balance('B1', '2026-03-31')$$,
	$$VALUES ('1002'::text, 8800000::bigint, 1300000::bigint, 7500000::bigint, 0::bigint),
	         ('2302', 1000000, 1200000, 0, 200000),
	         ('2303', 300000, 300000, 0, 0),
	         ('4001', 0, 8800000, 0, 8800000),
	         ('5001', 1500000, 0, 1500000, 0)$$,
	'trial balance: the end of March, worked out by hand');
SELECT results_eq($$SELECT d, t.code, t.debit_fen, t.credit_fen, t.balance_debit_fen, t.balance_credit_fen
                      FROM unnest(ARRAY['2026-01-01', '2026-01-15', '2026-01-31', '2026-02-24', '2026-02-28', '2026-03-19',
                                        '2026-03-20', '2026-03-24', '2026-03-31', '2026-04-30', '2026-11-01']::date[]) d,
                           earmark.trial_balance('B1', d) t
                     ORDER BY d, t.code$$,
	$$SELECT d, t.* FROM unnest(ARRAY['2026-01-01', '2026-01-15', '2026-01-31', '2026-02-24', '2026-02-28', '2026-03-19',
	                                  '2026-03-20', '2026-03-24', '2026-03-31', '2026-04-30', '2026-11-01']::date[]) d,
	                     pg_temp.tb_from_lines(d) t
	   ORDER BY d, t.code$$,
	'trial balance: on every date it equals the sum of the posted lines up to that date');
SELECT results_eq($$SELECT f, t.code, t.debit_fen, t.credit_fen FROM unnest(ARRAY['F1', 'F2', 'F3']) f,
                          earmark.trial_balance('B1', '2026-03-31', f) t ORDER BY f, t.code$$,
	$$SELECT f, t.code, t.debit_fen, t.credit_fen FROM unnest(ARRAY['F1', 'F2', 'F3']) f,
	         pg_temp.tb_from_lines('2026-03-31', f) t ORDER BY f, t.code$$,
	'trial balance: per fund it equals the sum of that fund''s posted lines');
SELECT is_empty($$SELECT f FROM unnest(ARRAY[NULL, 'F1', 'F2', 'F3']) f, unnest(ARRAY['2026-01-31', '2026-02-28', '2026-03-31']::date[]) d
                   WHERE (SELECT sum(debit_fen) <> sum(credit_fen) OR sum(balance_debit_fen) <> sum(balance_credit_fen)
                            FROM earmark.trial_balance('B1', d, f))$$,
	'trial balance: it balances at every month end, in total and for every fund (D2)');
SELECT is((SELECT balance_debit_fen FROM earmark.trial_balance('B1', '2026-03-31', 'F1') WHERE code = '1002'),
	(SELECT balance_fen FROM earmark.fund_cash JOIN earmark.fund f USING (book_id, fund_id) WHERE f.code = 'F1'),
	'trial balance: a fund''s bank balance equals its fund_cash');
SELECT is_empty($$SELECT * FROM earmark.trial_balance('B1', '2026-03-31', 'F3') WHERE code IN ('5001', '2302')$$,
	'trial balance: the reversed F3 payable is gone');
SELECT is_empty($$SELECT * FROM earmark.trial_balance('B1', '2026-01-09')$$,
	'trial balance: before the first voucher it is empty');

-- Refusals -----------------------------------------------------------------------------

SELECT throws_ok($$SELECT * FROM earmark.trial_balance('B1', '2025-12-31')$$,
	'EMI01', 'date 2025-12-31 is before the book began',
	'trial balance: a date before the book began is refused');
SELECT throws_ok($$SELECT * FROM earmark.trial_balance('B1', '2026-03-31', 'NOPE')$$,
	'EMR01', 'unknown fund ''NOPE''',
	'trial balance: an unknown fund is refused');
SELECT throws_ok($$SELECT * FROM earmark.trial_balance('NOPE', '2026-03-31')$$,
	'EMR01', 'unknown book ''NOPE''',
	'trial balance: an unknown book is refused');
SET ROLE earmark_auditor;
SELECT lives_ok($$SELECT * FROM earmark.trial_balance('B1', '2026-01-01')$$,
	'trial balance: the book''s first day is accepted');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
