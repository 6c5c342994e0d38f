-- Household payment batches (DESIGN section 5, rules H1-H3, D6, D9): the
-- file's rows are staged (pay_stage_new, then COPY or INSERT into
-- pay_staging), earmark.pay_batch checks them all at once and writes the
-- batch, one household_payment per row and two drafts: the payable (转:
-- Dr 5001 per household / Cr 2303 per fund) and the payment (付: Dr 2303 /
-- Cr 1002 per fund).  A reviewer and a bookkeeper review and post both
-- (pay_batch_step); a cashier exports the pain.001 rows, which marks the
-- payments sent, and records the bank's answer.
--
-- Refused: a batch with bad rows, every one named '<source>:<line>: ...'
-- and nothing written, 5,000 rows with one bad row as much as 6; a row
-- of a list not yet disclosed, or one the household objects to (H3); the
-- same idempotency key for other content (EMD09); export before posting
-- (EMS01) or by anyone but a cashier (42501); a payment going back from
-- paid to sent (EMS01); a batch for a project not approved, without a
-- performance target or beyond its budget (P1, P2), or paying a household
-- more for a project than its lists grant, counting what other vouchers
-- paid it (H2); a household twice for one item, which the payments' unique
-- index refuses as they are written, both lines named (0022).  Review and
-- posting do not run the spend rules again while nothing they read has
-- changed since pay_batch checked (0019); an objection or a payment between
-- the batch and its posting is refused at posting.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(94);
-- Calls of the spend rules are counted (pg_temp.rule_runs), to show when
-- review and posting do not run them again (0019).
SET track_functions = 'pl';

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_pb_admin LOGIN;
GRANT earmark_admin TO t_pb_admin;
CREATE ROLE t_pb_clerk LOGIN;
GRANT earmark_clerk TO t_pb_clerk;
CREATE ROLE t_pb_rev LOGIN;
GRANT earmark_reviewer TO t_pb_rev;
CREATE ROLE t_pb_bk LOGIN;
GRANT earmark_bookkeeper TO t_pb_bk;
CREATE ROLE t_pb_cashier LOGIN;
GRANT earmark_cashier TO t_pb_cashier;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_pb_clerk, t_pb_rev and t_pb_bk unless told otherwise.
SET earmark_test.people = 't_pb';
\ir fixture/helpers.psql


-- An ID number from its first 17 digits and the GB 11643 check digit.
CREATE FUNCTION pg_temp.idno(first17 text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT first17 || substr('10X98765432', (SELECT sum(substr(first17, i, 1)::integer
	                                                    * (ARRAY[7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])[i])
	                                           FROM generate_series(1, 17) i)::integer % 11 + 1, 1)
$$;
-- Stages rows (line_no, household, amount_fen, fund, item) as the clerk,
-- for project PH, category WF and list L1 unless a row says otherwise;
-- returns the stage id.
CREATE FUNCTION pg_temp.stage(rows jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	was text := current_setting('role');
	st bigint;
BEGIN
	PERFORM set_config('role', 't_pb_clerk', false);
	st := earmark.pay_stage_new();
	INSERT INTO earmark.pay_staging (stage_id, line_no, household, amount_fen, project, fund, category, list, item, memo)
	SELECT st, (r->>'line_no')::integer, r->>'household', (r->>'amount_fen')::bigint, COALESCE(r->>'project', 'PH'),
	       r->>'fund', COALESCE(r->>'category', 'WF'), COALESCE(r->>'list', 'L1'), COALESCE(r->>'item', '主房'), r->>'memo'
	  FROM jsonb_array_elements(rows) r;
	PERFORM set_config('role', was, false);
	RETURN st;
END
$$;
-- How often the spend rules ran in this transaction.
CREATE FUNCTION pg_temp.rule_runs() RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT COALESCE(pg_stat_get_xact_function_calls('earmark.spend_problems_of(integer,bigint[])'::regprocedure), 0)
$$;
-- The lines of a voucher as 'account:side:fund:household:amount'.
CREATE FUNCTION pg_temp.lines_of(v bigint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT string_agg(account || ':' || side || ':' || fund || ':' || COALESCE(household, '-') || ':' || amount_fen,
	                  ' ' ORDER BY line_no)
	  FROM earmark.line_coded WHERE voucher_id = v
$$;

SET ROLE t_pb_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "2303", "name": "应付政府补贴款", "kind": "liability", "normal_side": "C"},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"},
	{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "holder": "测试县财政局衔接资金专户", "source": "bank_accounts.csv:2"},
	{"account_no": "622800000002", "bank_name": "县农村信用社", "cnaps": "402100000002", "source": "bank_accounts.csv:3"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'category', $$[
	{"code": "WF", "name": "危房改造", "source": "categories.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2026, "amount_fen": 500000000, "bank_account": "622800000001", "categories": "WF", "source": "funds.csv:2"},
	{"code": "F2", "name": "县级配套资金", "level": "county", "year": 2026, "amount_fen": 100000000, "bank_account": "622800000002", "categories": "WF", "source": "funds.csv:3"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'village', $$[
	{"code": "610826101201", "name": "东沟村", "township": "城关镇", "source": "villages.csv:2"},
	{"code": "610826102203", "name": "西沟村", "township": "城关镇", "source": "villages.csv:3"},
	{"code": "610826103205", "name": "南沟村", "township": "城关镇", "source": "villages.csv:4"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'household', $$[
	{"code": "H0001", "village": "610826101201", "head_name": "张三", "id_no": "610826196503120011", "bank_card": "6228480000000000011", "bank_cnaps": "103100000001", "source": "households.csv:2"},
	{"code": "H0002", "village": "610826101201", "head_name": "李四", "id_no": "610826197005200021", "bank_card": "6228480000000000022", "bank_cnaps": "103100000001", "source": "households.csv:3"},
	{"code": "H0003", "village": "610826102203", "head_name": "王五", "id_no": "610826195811040035", "bank_card": "6230000000000000033", "bank_cnaps": "402100000002", "source": "households.csv:4"},
	{"code": "H0004", "village": "610826102203", "head_name": "赵六", "id_no": "61082619820817004X", "bank_card": "6228480000000000044", "bank_cnaps": "103100000001", "source": "households.csv:5"},
	{"code": "H0005", "village": "610826101201", "head_name": "钱七", "id_no": "610826199102030051", "bank_card": "6228480000000000055", "bank_cnaps": "103100000001", "source": "households.csv:6"},
	{"code": "H0006", "village": "610826103205", "head_name": "孙八", "id_no": "610826197509090065", "bank_card": "6228480000000000066", "bank_cnaps": "103100000001", "source": "households.csv:7"}
]$$) AS imported \gset
-- 5,000 households in 东沟村 for the large batch: HB00001 ...
SELECT earmark.master_import('B1', 'household', (
	SELECT jsonb_agg(jsonb_build_object('code', 'HB' || lpad(i::text, 5, '0'), 'village', '610826101201',
	                                    'head_name', '农户' || i,
	                                    'id_no', pg_temp.idno('610826' || to_char(date '1940-01-01' + i, 'YYYYMMDD') || '001'),
	                                    'bank_card', '62284800' || lpad(i::text, 11, '0'), 'bank_cnaps', '103100000001',
	                                    'source', 'households_b.csv:' || (i + 1)) ORDER BY i)
	  FROM generate_series(1, 5000) i)) AS imported_big \gset
SELECT earmark.master_import('B1', 'project', $$[
	{"code": "PH", "name": "危房改造到户补助", "category": "WF", "villages": "610826101201;610826102203", "source": "projects.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_budget', $$[
	{"project": "PH", "fund": "F1", "amount_fen": 50000000, "source": "budgets.csv:2"},
	{"project": "PH", "fund": "F2", "amount_fen": 50000000, "source": "budgets.csv:3"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_target', $$[
	{"project": "PH", "kind": "产出", "indicator": "改造户数", "value": "≥10户", "source": "targets.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_event', $$[
	{"project": "PH", "kind": "approval", "date": "2026-03-01", "doc_no": "县住建〔2026〕1号", "source": "events.csv:2"}
]$$) AS imported \gset
SET ROLE t_pb_clerk;
SELECT earmark.list_create('B1', 'L1', 'PH', '2026年危房改造第一批', $$[
	{"household": "H0001", "item": "主房", "amount_fen": 1000000, "source": "l1.csv:2"},
	{"household": "H0002", "item": "主房", "amount_fen": 1500000, "source": "l1.csv:3"},
	{"household": "H0003", "item": "主房", "amount_fen": 2000000, "source": "l1.csv:4"},
	{"household": "H0004", "item": "主房", "amount_fen": 500000, "source": "l1.csv:5"},
	{"household": "H0005", "item": "主房", "amount_fen": 1000000, "source": "l1.csv:6"}
]$$) AS listed \gset
SELECT earmark.list_create('B1', 'L5', 'PH', '2026年危房改造（东沟村）', (
	SELECT jsonb_agg(jsonb_build_object('household', 'HB' || lpad(i::text, 5, '0'), 'item', '主房',
	                                    'amount_fen', 1000, 'source', 'l5.csv:' || (i + 1)) ORDER BY i)
	  FROM generate_series(1, 5000) i)) AS listed_big \gset
-- L2 is never published; L3 is, but H0005 objects to it.  Both grant a
-- kitchen (厨房) to households that L1 grants a main house.
SELECT earmark.list_create('B1', 'L2', 'PH', '2026年危房改造（厨房）', $$[
	{"household": "H0004", "item": "厨房", "amount_fen": 100000, "source": "l2.csv:2"}]$$) AS listed \gset
SELECT earmark.list_create('B1', 'L3', 'PH', '2026年危房改造（厨房二）', $$[
	{"household": "H0005", "item": "厨房", "amount_fen": 100000, "source": "l3.csv:2"}]$$) AS listed \gset
SET ROLE t_pb_admin;
SELECT earmark.list_publish('B1', 'L1', '2026-10-01', NULL) AS payable \gset
SELECT earmark.list_publish('B1', 'L3', '2026-10-01', NULL) AS payable \gset
SELECT earmark.list_publish('B1', 'L5', '2026-10-01', NULL) AS payable \gset
SELECT earmark.objection_record('B1', 'L3', 'H0005', '2026-10-03', '厨房已由其他项目补助') AS objection \gset
RESET ROLE;
SELECT pg_temp.post('B1', '2026-09-01', jsonb_build_array(
	pg_temp.ln('1002', 'D', 20000000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 20000000, 'F1'),
	pg_temp.ln('1002', 'D', 10000000, 'F2', '622800000002'), pg_temp.ln('4001', 'C', 10000000, 'F2')),
	'资金到账') AS receipt \gset
SELECT is(:imported_big + :listed_big, 10000, 'batch: 5,000 households are registered and listed on L5');

-- A good batch ---------------------------------------------------------------------

SELECT pg_temp.stage($$[
	{"line_no": 2, "household": "H0001", "amount_fen": 1000000, "fund": "F1", "memo": "主房加固"},
	{"line_no": 3, "household": "H0002", "amount_fen": 1500000, "fund": "F1"},
	{"line_no": 4, "household": "H0003", "amount_fen": 2000000, "fund": "F2"}]$$) AS st1 \gset
SET ROLE t_pb_clerk;
SELECT is(earmark.pay_batch('B1', :st1, 'B-001', '2026-10-20', 'pay-2026-10-001', 'pay_2026_10.csv'), 'B-001',
	'batch: a good batch of three rows is accepted');
RESET ROLE;
SELECT payable_voucher_id AS payable, payment_voucher_id AS payment FROM earmark.pay_batch WHERE code = 'B-001' \gset
SELECT is((SELECT string_agg(vtype || ':' || status || ':' || prepared_by, ' ' ORDER BY voucher_id)
             FROM earmark.voucher WHERE voucher_id IN (:payable, :payment)),
	'转:draft:t_pb_clerk 付:draft:t_pb_clerk', 'batch: it makes two drafts, prepared by the clerk');
SELECT is(pg_temp.lines_of(:payable),
	'5001:D:F1:H0001:1000000 5001:D:F1:H0002:1500000 5001:D:F2:H0003:2000000 2303:C:F1:-:2500000 2303:C:F2:-:2000000',
	'batch: the payable is Dr 5001 per household, Cr 2303 per fund');
SELECT is(pg_temp.lines_of(:payment),
	'2303:D:F1:-:2500000 1002:C:F1:-:2500000 2303:D:F2:-:2000000 1002:C:F2:-:2000000',
	'batch: the payment is Dr 2303 / Cr 1002 per fund');
SELECT results_eq($$SELECT p.line_no, h.code, p.amount_fen, p.item, p.end_to_end_id, p.status
                      FROM earmark.household_payment p JOIN earmark.household h USING (book_id, household_id)
                     ORDER BY p.line_no$$,
	$$VALUES (2, 'H0001', 1000000::bigint, '主房', 'B-001-000002', 'issued'),
	         (3, 'H0002', 1500000::bigint, '主房', 'B-001-000003', 'issued'),
	         (4, 'H0003', 2000000::bigint, '主房', 'B-001-000004', 'issued')$$,
	'batch: one household_payment per row, issued, named by its line');
SELECT is((SELECT count(*)::int FROM earmark.pay_staging), 0, 'batch: the staged rows are gone');

-- D9: the same key -----------------------------------------------------------------

SELECT pg_temp.state() AS s0 \gset
SELECT pg_temp.stage($$[
	{"line_no": 2, "household": "H0001", "amount_fen": 1000000, "fund": "F1", "memo": "主房加固"},
	{"line_no": 3, "household": "H0002", "amount_fen": 1500000, "fund": "F1"},
	{"line_no": 4, "household": "H0003", "amount_fen": 2000000, "fund": "F2"}]$$) AS st2 \gset
SET ROLE t_pb_clerk;
SELECT is(earmark.pay_batch('B1', :st2, 'B-001', '2026-10-20', 'pay-2026-10-001', 'pay_2026_10.csv'), 'B-001',
	'D9: a retry with the same key and rows returns the first batch');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'D9: the retry wrote nothing');
SELECT pg_temp.stage($$[
	{"line_no": 2, "household": "H0001", "amount_fen": 1000000, "fund": "F1", "memo": "主房加固"},
	{"line_no": 3, "household": "H0002", "amount_fen": 1400000, "fund": "F1"},
	{"line_no": 4, "household": "H0003", "amount_fen": 2000000, "fund": "F2"}]$$) AS st3 \gset
SET ROLE t_pb_clerk;
SELECT throws_ok(format($$SELECT earmark.pay_batch('B1', %s, 'B-001', '2026-10-20', 'pay-2026-10-001', 'pay_2026_10.csv')$$, :st3),
	'EMD09', 'idempotency key ''pay-2026-10-001'' was used for another batch (D9)',
	'D9: the same key with other rows is refused');
SELECT is(pg_temp.error_of(format($$SELECT earmark.pay_batch('B1', %s, 'B-001', '2026-10-20', 'pay-2026-10-001', 'pay_2026_10.csv')$$, :st3)),
	E'EMD09: idempotency key ''pay-2026-10-001'' was used for another batch (D9)\nbatch B-001 was created with this key',
	'D9: the refusal names the batch the key made');
SELECT throws_ok(format($$SELECT earmark.pay_batch('B1', %s, 'B-001', '2026-10-20', NULL, 'pay_2026_10.csv')$$, :st3),
	'EMI01', 'payment batch ''B-001'' already exists',
	'batch: a code is used once');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'D9: the refusals wrote nothing');

-- Export before posting, review and posting ------------------------------------------

SET ROLE t_pb_cashier;
SELECT throws_ok($$SELECT * FROM earmark.payment_export('B1', 'B-001')$$,
	'EMS01', 'payment batch ''B-001'' is not posted',
	'export: a batch is not paid out before it is posted');
SELECT is(pg_temp.error_of($$SELECT * FROM earmark.payment_export('B1', 'B-001')$$),
	format(E'EMS01: payment batch ''B-001'' is not posted\nits vouchers: #%s draft, #%s draft', :payable, :payment),
	'export: the refusal gives the vouchers'' state');
SET ROLE t_pb_clerk;
SELECT throws_ok($$SELECT earmark.pay_batch_step('B1', 'B-001', 'review')$$,
	'42501', 'permission denied for function pay_batch_step',
	'D6: the clerk who made the batch cannot review it');
SET ROLE t_pb_bk;
SELECT throws_ok($$SELECT earmark.pay_batch_step('B1', 'B-001', 'post')$$,
	'EMD06', format('voucher #%s is a draft that has not been reviewed (D6)', :payable),
	'D6: nor is it posted before review');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'batch: the refusals changed nothing');

SET ROLE t_pb_rev;
SELECT is(earmark.pay_batch_step('B1', 'B-001', 'review'), format('#%s #%s', :payable, :payment),
	'batch: the reviewer reviews both vouchers');
SELECT throws_ok($$SELECT earmark.pay_batch_step('B1', 'B-001', 'post')$$,
	'42501', 'role ''t_pb_rev'' may not post vouchers',
	'D6: the reviewer cannot post them');
SET ROLE t_pb_cashier;
SELECT throws_ok($$SELECT * FROM earmark.payment_export('B1', 'B-001')$$,
	'EMS01', 'payment batch ''B-001'' is not posted',
	'export: nor is a reviewed batch paid out');
SET ROLE t_pb_bk;
SELECT is(earmark.pay_batch_step('B1', 'B-001', 'post'), '转-2026-10-0001 付-2026-10-0001',
	'batch: the bookkeeper posts both');
RESET ROLE;
SELECT is((SELECT string_agg(reviewed_by || '/' || posted_by, ' ' ORDER BY voucher_id) FROM earmark.voucher
            WHERE voucher_id IN (:payable, :payment)),
	't_pb_rev/t_pb_bk t_pb_rev/t_pb_bk', 'batch: each voucher was reviewed and posted by its own person');
SELECT is((SELECT string_agg(f.code || '=' || fc.balance_fen, ' ' ORDER BY f.code) FROM earmark.fund_cash fc
             JOIN earmark.fund f USING (book_id, fund_id)),
	'F1=17500000 F2=8000000', 'batch: the funds paid from their own accounts');

-- Export --------------------------------------------------------------------------------

SET ROLE t_pb_clerk;
SELECT throws_ok($$SELECT * FROM earmark.payment_export('B1', 'B-001')$$,
	'42501', 'permission denied for function payment_export',
	'export: only a cashier exports payment files');
SET ROLE t_pb_cashier;
CREATE TEMP TABLE exported AS SELECT * FROM earmark.payment_export('B1', 'B-001');
RESET ROLE;
SELECT results_eq($$SELECT pmt_inf_id, debtor_account, debtor_name, count(*)::int, sum(amount_fen)::bigint
                      FROM exported GROUP BY 1, 2, 3 ORDER BY 1$$,
	$$VALUES ('B1-B-001-1', '622800000001', '测试县财政局衔接资金专户', 2, 2500000::bigint),
	         ('B1-B-001-2', '622800000002', '测试县专项资金', 1, 2000000::bigint)$$,
	'export: one payment block per dedicated account, with its NbOfTxs and sum');
SELECT is((SELECT count(*)::int || ' ' || sum(amount_fen) || ' ' || min(msg_id) || ' ' || max(msg_id) || ' ' || min(execution_date)
             FROM exported),
	'3 4500000 B1-B-001 B1-B-001 2026-10-20', 'export: the file has 3 transactions, 45,000.00, one MsgId, the pay date');
SELECT results_eq($$SELECT end_to_end_id, creditor_name, creditor_account, creditor_cnaps, amount_fen, remittance
                      FROM exported ORDER BY end_to_end_id$$,
	$$VALUES ('B-001-000002', '张三', '6228480000000000011', '103100000001', 1000000::bigint, 'PH 危房改造到户补助 资金:F1 主房'),
	         ('B-001-000003', '李四', '6228480000000000022', '103100000001', 1500000::bigint, 'PH 危房改造到户补助 资金:F1 主房'),
	         ('B-001-000004', '王五', '6230000000000000033', '402100000002', 2000000::bigint, 'PH 危房改造到户补助 资金:F2 主房')$$,
	'export: each transaction pays the household''s card');
SELECT is((SELECT string_agg(status || '/' || status_by, ' ' ORDER BY line_no) FROM earmark.household_payment),
	'sent/t_pb_cashier sent/t_pb_cashier sent/t_pb_cashier', 'export: the payments are marked sent, by the cashier');
SET ROLE t_pb_cashier;
SELECT results_eq($$SELECT * FROM earmark.payment_export('B1', 'B-001') ORDER BY end_to_end_id$$,
	$$SELECT * FROM exported ORDER BY end_to_end_id$$,
	'export: exporting again gives the same file');

-- The bank's answer ------------------------------------------------------------------------

SELECT lives_ok($$SELECT earmark.payment_settle('B1', 'B-001-000002', 'paid')$$, 'settle: H0001''s payment is paid');
SELECT lives_ok($$SELECT earmark.payment_settle('B1', 'B-001-000004', 'returned')$$, 'settle: H0003''s payment came back');
RESET ROLE;
SELECT is((SELECT string_agg(status, ' ' ORDER BY line_no) FROM earmark.household_payment), 'paid sent returned',
	'settle: sent -> paid and sent -> returned');
SELECT pg_temp.state() AS s1 \gset
SET ROLE t_pb_cashier;
SELECT throws_ok($$SELECT earmark.payment_settle('B1', 'B-001-000004', 'paid')$$,
	'EMS01', 'payment B-001-000004 cannot go from returned to paid',
	'settle: a returned payment is not paid');
SELECT throws_ok($$SELECT earmark.payment_settle('B1', 'B-001-000003', 'sent')$$,
	'EMI01', 'a payment is settled as paid or returned, not sent',
	'settle: the bank answers paid or returned');
SET ROLE earmark_owner;
SELECT throws_ok($$UPDATE earmark.household_payment SET status = 'sent' WHERE end_to_end_id = 'B-001-000002'$$,
	'EMS01', 'payment B-001-000002 cannot go from paid to sent',
	'settle: not even the owner takes a paid payment back to sent');
SELECT throws_ok($$UPDATE earmark.household_payment SET amount_fen = 1 WHERE end_to_end_id = 'B-001-000003'$$,
	'EMD03', 'payment B-001-000003 cannot change, only its status (D3)',
	'settle: nor changes its amount');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'settle: the refusals changed nothing');

-- A batch with bad rows ------------------------------------------------------------------------

SELECT pg_temp.stage($$[
	{"line_no": 2, "household": "H0004", "amount_fen": 500000, "fund": "F1"},
	{"line_no": 3, "household": "H9999", "amount_fen": 100000, "fund": "F1"},
	{"line_no": 4, "household": "H0001", "amount_fen": 1000000, "fund": "F1"},
	{"line_no": 5, "household": "H0005", "amount_fen": 1200000, "fund": "F1"},
	{"line_no": 6, "household": "H0005", "amount_fen": 0, "fund": "F1", "item": "厨房"},
	{"line_no": 7, "household": "H0006", "amount_fen": 100000, "fund": "F1"}]$$) AS st4 \gset
SELECT pg_temp.state() AS s2 \gset
SET ROLE t_pb_clerk;
SELECT throws_ok(format($$SELECT earmark.pay_batch('B1', %s, 'B-002', '2026-10-21', 'pay-2026-10-002', 'pay_bad.csv')$$, :st4),
	'EMR01', 'payment batch refused: 7 problems; nothing was written',
	'batch: a batch with bad rows is refused whole');
SELECT is(pg_temp.error_of(format($$SELECT earmark.pay_batch('B1', %s, 'B-002', '2026-10-21', 'pay-2026-10-002', 'pay_bad.csv')$$, :st4)),
	E'EMR01: payment batch refused: 7 problems; nothing was written\n7 problems:\n'
	'  pay_bad.csv:3: unknown household ''H9999''\n'
	'  pay_bad.csv:4: household ''H0001'' was already paid for item ''主房'' of project ''PH'' (H2) (payment B-001-000002)\n'
	'  pay_bad.csv:5: household ''H0005'' is granted 10,000.00 on list ''L1'', not 12,000.00 (H2)\n'
	'  pay_bad.csv:6: amount must be above zero\n'
	'  pay_bad.csv:6: household ''H0005'' is not on list ''L1'' for item ''厨房'' (H3)\n'
	'  pay_bad.csv:7: household ''H0006'' is not on list ''L1'' for item ''主房'' (H3)\n'
	'  pay_bad.csv:7: household ''H0006'' is in a village project ''PH'' does not cover (H1)',
	'batch: the refusal names every bad row by its file line, and only those');
RESET ROLE;
SELECT is(pg_temp.state(), :'s2', 'batch: the refused batch wrote nothing');

-- H3 is per line too: the list a row names must be disclosed, its notice
-- period over and no objection open for the household, even where another
-- list of the project (L1) grants the household enough.  (pg_temp.undone:
-- should the batch be accepted, it is undone.)
SELECT pg_temp.stage($$[
	{"line_no": 2, "household": "H0004", "amount_fen": 100000, "fund": "F1", "list": "L2", "item": "厨房"},
	{"line_no": 3, "household": "H0005", "amount_fen": 100000, "fund": "F1", "list": "L3", "item": "厨房"}]$$) AS st5 \gset
SET ROLE t_pb_clerk;
SELECT throws_ok(format('SELECT pg_temp.undone(%L)',
		format($$SELECT earmark.pay_batch('B1', %s, 'B-003', '2026-10-21', NULL, 'pay_h3.csv')$$, :st5)),
	'EMH03', 'payment batch refused: 2 problems; nothing was written',
	'H3: a batch does not pay a row of an undisclosed list, or of a list the household objects to');
SELECT matches(pg_temp.error_of(format('SELECT pg_temp.undone(%L)',
		format($$SELECT earmark.pay_batch('B1', %s, 'B-003', '2026-10-21', NULL, 'pay_h3.csv')$$, :st5))),
	'\n  pay_h3\.csv:2: [^\n]*''L2''[^\n]*\(H3\)\n  pay_h3\.csv:3: [^\n]*''L3''[^\n]*\(H3\)',
	'H3: the refusal names both rows by their file lines');
RESET ROLE;
SELECT is(pg_temp.state(), :'s2', 'H3: the refused batch wrote nothing');

-- H2: one household twice for one item, and nothing else wrong.  The
-- checks leave that to household_payment_once when the payments are
-- written (0022); its refusal rolls the writes back, and the checks run
-- again counting duplicates, to name both lines.
SELECT pg_temp.stage($$[
	{"line_no": 2, "household": "H0004", "amount_fen": 100000, "fund": "F1"},
	{"line_no": 3, "household": "H0004", "amount_fen": 100000, "fund": "F1"}]$$) AS st6 \gset
SET ROLE t_pb_clerk;
SELECT is(pg_temp.error_of(format('SELECT pg_temp.undone(%L)',
		format($$SELECT earmark.pay_batch('B1', %s, 'B-004', '2026-10-21', 'pay-dup', 'pay_dup.csv')$$, :st6))),
	E'EMH02: payment batch refused: 2 problems; nothing was written\n2 problems:\n'
	'  pay_dup.csv:2: household ''H0004'' appears more than once for item ''主房'' of project ''PH'' (H2)\n'
	'  pay_dup.csv:3: household ''H0004'' appears more than once for item ''主房'' of project ''PH'' (H2)',
	'H2: a household twice for one item is refused by the payments'' unique index, both lines named');
RESET ROLE;
SELECT is(pg_temp.state(), :'s2', 'H2: the batch refused at its writes wrote nothing');

-- 5,000 rows -----------------------------------------------------------------------------------

SELECT pg_temp.stage((SELECT jsonb_agg(jsonb_build_object('line_no', i + 1, 'household', 'HB' || lpad(i::text, 5, '0'),
                                                          'amount_fen', CASE i WHEN 3333 THEN 1001 ELSE 1000 END,
                                                          'fund', 'F1', 'list', 'L5'))
                        FROM generate_series(1, 5000) i)) AS big \gset
SELECT pg_temp.state() AS s3 \gset
SET ROLE t_pb_clerk;
SELECT is(pg_temp.error_of(format($$SELECT earmark.pay_batch('B1', %s, 'B-100', '2026-10-23', 'pay-2026-10-100', 'big.csv')$$, :big)),
	E'EMH02: payment batch refused: 1 problem; nothing was written\n1 problem:\n'
	'  big.csv:3334: household ''HB03333'' is granted 10.00 on list ''L5'', not 10.01 (H2)',
	'batch: 5,000 rows with one bad row are refused whole, naming that row');
RESET ROLE;
SELECT is(pg_temp.state(), :'s3', 'batch: the refused 5,000 rows wrote nothing');
SELECT pg_temp.stage((SELECT jsonb_agg(jsonb_build_object('line_no', i + 1, 'household', 'HB' || lpad(i::text, 5, '0'),
                                                          'amount_fen', 1000, 'fund', 'F1', 'list', 'L5'))
                        FROM generate_series(1, 5000) i)) AS big2 \gset
SET ROLE t_pb_clerk;
SELECT is(earmark.pay_batch('B1', :big2, 'B-101', '2026-10-23', 'pay-2026-10-101', 'big.csv'), 'B-101',
	'batch: the corrected 5,000 rows are accepted');
RESET ROLE;
SELECT pg_temp.rule_runs() AS runs0 \gset
SET ROLE t_pb_rev;
SELECT lives_ok($$SELECT earmark.pay_batch_step('B1', 'B-101', 'review')$$, 'batch: and reviewed');
SET ROLE t_pb_bk;
SELECT is(earmark.pay_batch_step('B1', 'B-101', 'post'), '转-2026-10-0002 付-2026-10-0002', 'batch: and posted');
RESET ROLE;
SELECT is(pg_temp.rule_runs() - :runs0, 1::bigint,
	'batch: nothing the rules read changed since pay_batch checked the 5,000 rows, so review and posting ran them once only, for the payment voucher after the payable''s posting changed the kept totals (0019)');
SELECT is_empty($$SELECT 1 FROM earmark.batch_checked c JOIN earmark.pay_batch b
                     ON b.book_id = c.book_id AND c.voucher_id IN (b.payable_voucher_id, b.payment_voucher_id)
                  WHERE b.code = 'B-101'$$,
	'batch: once posted, its vouchers are no longer marked as checked (a posted voucher never changes, D3)');
RESET ROLE;
SELECT is((SELECT count(*)::int || ' ' || sum(amount_fen) FROM earmark.household_payment p
             JOIN earmark.pay_batch b USING (book_id, batch_id) WHERE b.code = 'B-101'),
	'5000 5000000', 'batch: 5,000 payments of 10.00');
SELECT is((SELECT vouchers || ' ' || COALESCE(first_bad::text, 'none') FROM earmark.verify_chain('B1')),
	(SELECT count(*) || ' none' FROM earmark.voucher WHERE book_id = :book_id AND status = 'posted'),
	'batch: the chain recomputes over the 5,000-payment voucher (its canonical text planned for its size, 0020) and the short ones (the session''s cached plan) alike (D8)');
SELECT is((SELECT earmark.canonical_text(v) FROM earmark.voucher v JOIN earmark.pay_batch b
              ON b.book_id = v.book_id AND v.voucher_id = b.payable_voucher_id WHERE b.code = 'B-101'),
	(SELECT 'earmark-voucher-v1' || E'\n' || 'book' || E'\t' || bk.code || E'\n' || 'seq' || E'\t' || v.chain_seq || E'\n'
	        || 'number' || E'\t' || v.number_text || E'\n' || 'type' || E'\t' || v.vtype || E'\n'
	        || 'date' || E'\t' || to_char(v.voucher_date, 'YYYY-MM-DD') || E'\n' || 'reverses' || E'\t' || E'\n'
	        || 'memo' || E'\t' || earmark.canon_escape(v.memo) || E'\n'
	        || 'prepared_by' || E'\t' || v.prepared_by || E'\n' || 'reviewed_by' || E'\t' || v.reviewed_by || E'\n'
	        || 'posted_by' || E'\t' || v.posted_by || E'\n'
	        || 'posted_at' || E'\t' || to_char(v.posted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || E'\n'
	        || (SELECT string_agg(concat_ws(E'\t', 'line', l.line_no, l.account, l.side, l.amount_fen, l.fund,
	                                        COALESCE(l.project, ''), COALESCE(l.village, ''), COALESCE(l.household, ''),
	                                        COALESCE(l.bank_account, ''), COALESCE(l.category, ''),
	                                        earmark.canon_escape(l.memo)) || E'\n', '' ORDER BY l.line_no)
	              FROM earmark.line_coded l WHERE l.book_id = v.book_id AND l.voucher_id = v.voucher_id)
	   FROM earmark.voucher v JOIN earmark.pay_batch b ON b.book_id = v.book_id AND v.voucher_id = b.payable_voucher_id
	   JOIN earmark.book bk ON bk.book_id = v.book_id WHERE b.code = 'B-101'),
	'batch: the canonical text of the 5,000-line voucher, its lines read as many and their codes joined to them (0024), is byte for byte the one line_coded gives (D8)');


-- A large voucher is checked at posting like a small one (0010 copies its
-- lines into an ANALYZEd table above 1,000 lines, 0017 joins them by hash):
-- a kitchen list for 1,500 households, a batch, reviewed as pay_batch
-- checked it, then an objection.  The objection changes what the rules read
-- (the rule epoch of 0019), so the posting checks every rule again, refuses
-- and names the household.
SET ROLE t_pb_clerk;
SELECT earmark.list_create('B1', 'L6', 'PH', '2026年危房改造（东沟村厨房）', (
	SELECT jsonb_agg(jsonb_build_object('household', 'HB' || lpad(i::text, 5, '0'), 'item', '厨房',
	                                    'amount_fen', 500, 'source', 'l6.csv:' || (i + 1)) ORDER BY i)
	  FROM generate_series(1, 1500) i)) AS listed_l6 \gset
SET ROLE t_pb_admin;
SELECT earmark.list_publish('B1', 'L6', '2026-10-01', NULL) AS payable \gset
RESET ROLE;
SELECT pg_temp.stage((SELECT jsonb_agg(jsonb_build_object('line_no', i + 1, 'household', 'HB' || lpad(i::text, 5, '0'),
                                                          'amount_fen', 500, 'fund', 'F2', 'list', 'L6', 'item', '厨房'))
                        FROM generate_series(1, 1500) i)) AS big3 \gset
SET ROLE t_pb_clerk;
SELECT is(earmark.pay_batch('B1', :big3, 'B-102', '2026-10-23', NULL, 'kitchen.csv'), 'B-102',
	'batch: 1,500 kitchen payments are accepted');
RESET ROLE;
SELECT pg_temp.rule_runs() AS runs1 \gset
SET ROLE t_pb_rev;
SELECT lives_ok($$SELECT earmark.pay_batch_step('B1', 'B-102', 'review')$$,
	'batch: the unchanged batch is reviewed');
RESET ROLE;
SELECT is(pg_temp.rule_runs() - :runs1, 0::bigint,
	'batch: without running the rules pay_batch checked (0019)');
SET ROLE t_pb_admin;
SELECT earmark.objection_record('B1', 'L6', 'HB00777', '2026-10-05', '厨房未改造') AS objection6 \gset
RESET ROLE;
SELECT pg_temp.state() AS s4 \gset
SET ROLE t_pb_bk;
SELECT is(pg_temp.error_of($$SELECT earmark.pay_batch_step('B1', 'B-102', 'post')$$),
	E'EMH03: household ''HB00777'' has an unresolved objection on list ''L6'' (H3)\nraised 2026-10-05: 厨房未改造',
	'H3: an objection raised after the batch was reviewed stops its 1,500-line voucher at posting');
RESET ROLE;
SELECT is(pg_temp.state(), :'s4', 'H3: the refused posting changed nothing');
SELECT is((SELECT status FROM earmark.voucher v JOIN earmark.pay_batch b
            ON b.book_id = v.book_id AND v.voucher_id = b.payable_voucher_id WHERE b.code = 'B-102'),
	'reviewed', 'H3: the batch stays reviewed, to be posted once the objection is resolved');
-- A change to the lines of a checked voucher (only possible here with the
-- D3 guard switched off) drops the record of the check.
ALTER TABLE earmark.line DISABLE TRIGGER lines_guard_update;
UPDATE earmark.line SET memo = memo || ' ' WHERE voucher_id = (SELECT payable_voucher_id FROM earmark.pay_batch WHERE code = 'B-102') AND line_no = 1;
ALTER TABLE earmark.line ENABLE TRIGGER lines_guard_update;
SELECT is_empty($$SELECT 1 FROM earmark.batch_checked c JOIN earmark.pay_batch b
                     ON b.book_id = c.book_id AND c.voucher_id = b.payable_voucher_id WHERE b.code = 'B-102'$$,
	'0019: a voucher whose lines changed is no longer taken as pay_batch checked it');

-- What pay_batch checks so that posting need not (0019): P1 and P2 per
-- project and fund, H2 over all the lists of a project.
SET ROLE t_pb_admin;
SELECT earmark.master_import('B1', 'project', $$[
	{"code": "PN", "name": "东沟村院墙", "category": "WF", "villages": "610826101201", "source": "projects.csv:3"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_budget', $$[
	{"project": "PN", "fund": "F1", "amount_fen": 150000, "source": "budgets.csv:4"}
]$$) AS imported \gset
SET ROLE t_pb_clerk;
SELECT earmark.list_create('B1', 'LN', 'PN', '2026年院墙', $$[
	{"household": "H0001", "item": "院墙", "amount_fen": 100000, "source": "ln.csv:2"},
	{"household": "H0002", "item": "院墙", "amount_fen": 100000, "source": "ln.csv:3"},
	{"household": "H0002", "item": "院门", "amount_fen": 50000, "source": "ln.csv:4"}]$$) AS listed \gset
SET ROLE t_pb_admin;
SELECT earmark.list_publish('B1', 'LN', '2026-10-01', NULL) AS payable \gset
RESET ROLE;
SELECT pg_temp.stage($$[
	{"line_no": 2, "household": "H0001", "amount_fen": 100000, "project": "PN", "fund": "F1", "list": "LN", "item": "院墙"},
	{"line_no": 3, "household": "H0002", "amount_fen": 100000, "project": "PN", "fund": "F1", "list": "LN", "item": "院墙"}]$$) AS st6 \gset
SELECT (SELECT count(*) FROM earmark.voucher) || ' ' || (SELECT count(*) FROM earmark.household_payment) AS s5 \gset
SET ROLE t_pb_clerk;
SELECT is(pg_temp.error_of(format($$SELECT earmark.pay_batch('B1', %s, 'B-200', '2026-10-23', NULL, 'wall.csv')$$, :st6)),
	E'EMP01: payment batch refused: 2 problems; nothing was written\n2 problems:\n'
	'  wall.csv:2: project ''PN'' is not approved (P1) (no approval on or before 2026-10-23)\n'
	'  payments to project ''PN'' from fund ''F1'' would exceed its budget (P2) (budget 1,500.00 on 2026-10-23, paid before 0.00, this batch 2,000.00, total 2,000.00)',
	'P1, P2: a batch for a project not approved, beyond its budget, is refused by pay_batch, not first at posting');
SET ROLE t_pb_admin;
SELECT earmark.master_import('B1', 'project_event', $$[
	{"project": "PN", "kind": "approval", "date": "2026-10-02", "doc_no": "县住建〔2026〕9号", "source": "events.csv:3"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'budget_revision', $$[
	{"project": "PN", "fund": "F1", "date": "2026-10-02", "amount_fen": 400000, "doc_no": "县住建〔2026〕10号",
	 "reapproval_doc": "县政府〔2026〕3号", "source": "revisions.csv:2"}
]$$) AS imported \gset
SET ROLE t_pb_clerk;
SELECT is(pg_temp.error_of(format($$SELECT earmark.pay_batch('B1', %s, 'B-200', '2026-10-23', NULL, 'wall.csv')$$, :st6)),
	E'EMP01: payment batch refused: 1 problem; nothing was written\n1 problem:\n'
	'  wall.csv:2: project ''PN'' has no performance target (P1)',
	'P1: approved and within its revised budget, but without a performance target, it is still refused');
RESET ROLE;
SELECT is((SELECT count(*) FROM earmark.voucher) || ' ' || (SELECT count(*) FROM earmark.household_payment), :'s5',
	'P1, P2: the refused batches wrote nothing');
SET ROLE t_pb_admin;
SELECT earmark.master_import('B1', 'project_target', $$[
	{"project": "PN", "kind": "产出", "indicator": "院墙米数", "value": "≥100米", "source": "targets.csv:3"}
]$$) AS imported \gset
SET ROLE t_pb_clerk;
SELECT is(earmark.pay_batch('B1', :st6, 'B-200', '2026-10-23', NULL, 'wall.csv'), 'B-200',
	'P1, P2: with its approval, budget and target the batch is accepted');
SET ROLE t_pb_rev;
SELECT lives_ok($$SELECT earmark.pay_batch_step('B1', 'B-200', 'review')$$, 'H2: the batch for H0001 and H0002 is reviewed');
-- Then H0002 is paid 1,200.00 for PN on a voucher of its own, which its
-- lists allow (nothing was paid for PN yet; LN grants it 1,500.00 in all):
-- the kept totals change, and with them the rule epoch.  Posting the
-- batch checks again and refuses: H0002 would get 2,200.00.
RESET ROLE;
SELECT pg_temp.post('B1', '2026-10-23', jsonb_build_array(
	pg_temp.ln('5001', 'D', 120000, 'F1', NULL, (SELECT jsonb_build_object('project', 'PN', 'household', 'H0002')), 'WF'),
	pg_temp.ln('1002', 'C', 120000, 'F1', '622800000001')), '院墙补助') AS wall_voucher \gset
SET ROLE t_pb_bk;
SELECT is(pg_temp.error_of($$SELECT earmark.pay_batch_step('B1', 'B-200', 'post')$$),
	E'EMH02: household ''H0002'' would be paid more for project ''PN'' than its beneficiary list grants (H2)\ngranted 1,500.00, paid before 1,200.00, this voucher 1,000.00',
	'H2: a payment posted between the batch and its posting is seen at posting');
RESET ROLE;
-- And a batch paying H0002 the other item LN grants (院门, 500.00) now
-- counts what was paid before, over all the lists of the project, at
-- pay_batch: 1,200.00 + 500.00 is more than 1,500.00.
SELECT pg_temp.stage($$[
	{"line_no": 2, "household": "H0002", "amount_fen": 50000, "project": "PN", "fund": "F1", "list": "LN", "item": "院门"}]$$) AS st7 \gset
SET ROLE t_pb_clerk;
SELECT is(pg_temp.error_of(format($$SELECT pg_temp.undone(format('SELECT earmark.pay_batch(''B1'', %s, ''B-201'', ''2026-10-23'', NULL, ''wall2.csv'')', %s))$$, :st7, :st7)),
	E'EMH02: payment batch refused: 1 problem; nothing was written\n1 problem:\n'
	'  wall2.csv:2: household ''H0002'' would be paid more for project ''PN'' than its beneficiary lists grant (H2) (granted 1,500.00, paid before 1,200.00, this batch 500.00)',
	'H2: pay_batch counts what the household was paid for the project before, on any voucher');
RESET ROLE;

-- Every table the spend rules read bumps the rule epoch when written (0019),
-- so that a change to any of them makes posting check a batch again.
SELECT is_empty($$
	WITH src AS (SELECT string_agg(p.prosrc, ' ') AS s FROM pg_proc p
	              WHERE p.pronamespace = 'earmark'::regnamespace
	                AND p.proname IN ('spend_problems_of', 'budget_on', 'setting', 'id_problem')),
	     named AS (SELECT DISTINCT m[1] AS t FROM src, regexp_matches(src.s, 'earmark\.([a-z_]+)', 'g') m)
	SELECT c.relname FROM named JOIN pg_class c ON c.relname = named.t AND c.relnamespace = 'earmark'::regnamespace
	 WHERE c.relkind = 'r' AND c.relname NOT IN ('voucher', 'line')
	   AND (SELECT count(*) FROM pg_trigger g
	         WHERE g.tgrelid = c.oid AND g.tgfoid = 'earmark.rule_epoch_bump()'::regprocedure) <> 3$$,
	'0019: every table the spend rules read (but the voucher''s own lines) bumps the rule epoch on insert, update and delete');
-- Every other voucher is still checked at review too (a3_use_categories:
-- a draft made before a negative-list version is refused at review).

-- What the foreign keys did, per statement (0010) -----------------------------------------

-- The batches above ran in this transaction; while each wrote its rows, the
-- triggers trusted its own resolution of their references (0022), and the
-- mark is gone once the rows are written: the refusals below are in the
-- same transaction.
SELECT is((SELECT count(*) FROM earmark.refs_resolved), 0::bigint,
	'refs: no batch of this transaction left its mark behind (0022)');
INSERT INTO earmark.voucher (book_id, voucher_date, memo) VALUES (:book_id, '2026-10-24', 'direct') RETURNING voucher_id AS raw \gset
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, household_id)
		SELECT %s, %s, 1, account_id, 'D', 100, (SELECT fund_id FROM earmark.fund WHERE code = 'F1'), -1
		  FROM earmark.account WHERE code = '5001'$$, :book_id, :raw),
	'EMR01', 'line 1: unknown household',
	'refs: a line naming a household that does not exist is refused');
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id)
		SELECT %s, %s, 2, account_id, 'C', 100, -1 FROM earmark.account WHERE code = '2303'$$, :book_id, :raw),
	'EMR01', 'line 2: unknown fund',
	'refs: so is a line of an unknown fund');
SELECT lives_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id)
		SELECT %s, %s, 1, account_id, 'C', 100, (SELECT fund_id FROM earmark.fund WHERE code = 'F1')
		  FROM earmark.account WHERE code = '2303'$$, :book_id, :raw),
	'refs: a line whose references exist is written');
SELECT throws_ok(format('DELETE FROM earmark.voucher WHERE voucher_id = %s', :raw),
	'EMD03', format('voucher #%s still has lines', :raw),
	'refs: a draft is not deleted from under its lines');
DELETE FROM earmark.line WHERE voucher_id = :raw;
SELECT lives_ok(format('DELETE FROM earmark.voucher WHERE voucher_id = %s', :raw),
	'refs: without them it is');
SELECT throws_ok($$DELETE FROM earmark.household WHERE code = 'H0006'$$,
	'EMD03', 'rows of earmark.household are never deleted: vouchers and payments refer to them',
	'refs: a household is never deleted');
SELECT throws_ok($$UPDATE earmark.fund SET book_id = book_id + 1 WHERE code = 'F1'$$,
	'EMD03', 'a row of earmark.fund cannot move to another book',
	'refs: nor does a fund move to another book');
SELECT lives_ok($$UPDATE earmark.fund SET name = name WHERE code = 'F1'$$,
	'refs: a master row is still updated in place');
SELECT throws_ok($$INSERT INTO earmark.household_payment (book_id, batch_id, line_no, household_id, project_id, fund_id,
	                                                   category_id, list_id, item, amount_fen, end_to_end_id, status_by)
	SELECT book_id, batch_id, 99999, household_id, project_id, fund_id, category_id, -1, 'x', 1, 'B-101-099999', 'x'
	  FROM earmark.household_payment LIMIT 1$$,
	'EMR01', 'payment B-101-099999: unknown beneficiary list',
	'refs: a payment of an unknown list is refused');
-- The end-to-end id's CHECK, rewritten in 0019 without the bounded regex:
-- letters, digits and '-', 1 to 35 of them.
SELECT throws_ok(format($$INSERT INTO earmark.household_payment (book_id, batch_id, line_no, household_id, project_id, fund_id,
	                                                   category_id, list_id, item, amount_fen, end_to_end_id, status_by)
	SELECT book_id, batch_id, 99999, household_id, project_id, fund_id, category_id, list_id, 'x', 1, %L, 'x'
	  FROM earmark.household_payment LIMIT 1$$, e2e),
	'23514', NULL, format('pain.001: an end-to-end id %s is refused', why))
  FROM (VALUES ('B-101 099999', 'with a space'), ('B-101-099999' || E'\n', 'with a newline'),
               (repeat('A', 36), 'of 36 characters'), ('', 'that is empty'), ('B-101-0999９9', 'with a full-width digit')) t(e2e, why);
SELECT lives_ok($$INSERT INTO earmark.household_payment (book_id, batch_id, line_no, household_id, project_id, fund_id,
	                                                  category_id, list_id, item, amount_fen, end_to_end_id, status_by)
	SELECT book_id, batch_id, 99999, household_id, project_id, fund_id, category_id, list_id, 'x', 1, repeat('A-9', 11) || 'zy', 'x'
	  FROM earmark.household_payment LIMIT 1$$,
	'pain.001: one of 35 letters, digits and hyphens is written');
-- Staged rows with one line number twice (only a hand-made stage can have
-- them: earmark numbers the file's lines) are refused before anything else.
SELECT pg_temp.stage($$[
	{"line_no": 2, "household": "H0004", "amount_fen": 100, "fund": "F1"},
	{"line_no": 2, "household": "H0005", "amount_fen": 100, "fund": "F1"}]$$) AS st9 \gset
SET ROLE t_pb_clerk;
SELECT is(pg_temp.error_of(format($$SELECT earmark.pay_batch('B1', %s, 'B-300', '2026-10-23', NULL, 'dup.csv')$$, :st9)),
	E'EMI01: payment batch rows must have distinct line numbers\n2 rows, 1 line numbers',
	'batch: a stage with a line number twice is refused');
RESET ROLE;

-- The hash chain's escaping: the inlined fast path gives what the walk gives.
SELECT is(earmark.canon_escape(x), earmark.canon_escape_walk(x), format('D8: canon_escape(%L) is unchanged', x))
  FROM unnest(ARRAY['plain 到户补助', E'back\\slash', E'tab\there', E'del\x7f', NULL]) x;
SELECT is(earmark.canon_escape(E'a\\b\x01'), E'a\\\\b\\x01', 'D8: a backslash and a control character are escaped');

SELECT * FROM finish();
ROLLBACK;
