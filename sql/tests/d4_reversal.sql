-- D4 (DESIGN section 4): a correction is a 红字 reversal; only reversals
-- carry negative amounts; a voucher is reversed at most once.
--
-- A receipt and a payable are posted in March and reversed in April:
-- voucher_reverse makes a draft whose lines are the original's with the
-- amounts negated, linked by reverses_id; it goes through review and
-- posting like any voucher, and afterwards the trial balance is back to
-- zero.  Refused: negative amounts outside a reversal (EMD04), positive
-- ones inside, a second reversal, reversing a reversal or a draft, and a
-- reversal whose lines do not mirror the original (checked at posting).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(33);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_d4_admin LOGIN;
GRANT earmark_admin TO t_d4_admin;
CREATE ROLE t_d4_clerk LOGIN;
GRANT earmark_clerk TO t_d4_clerk;
CREATE ROLE t_d4_clerk2 LOGIN;
GRANT earmark_clerk TO t_d4_clerk2;
CREATE ROLE t_d4_rev LOGIN;
GRANT earmark_reviewer TO t_d4_rev;
CREATE ROLE t_d4_bk LOGIN;
GRANT earmark_bookkeeper TO t_d4_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_d4_clerk, t_d4_rev and t_d4_bk unless told otherwise.
SET earmark_test.people = 't_d4';
\ir fixture/helpers.psql

-- The book: 2026 from January, two dedicated accounts; F1 and F2 share the
-- first (A2 keeps their cash apart), F3 has the second.  Every fund permits
-- the use category JC (A3); household H0001 has its ID number (H1).
SET ROLE t_d4_admin;
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

SELECT pg_temp.post('B1', '2026-03-02',
	jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 100000, 'F1')),
	'收到资金') AS recv \gset
SELECT pg_temp.post('B1', '2026-03-03',
	jsonb_build_array(pg_temp.ln('5001', 'D', 30000, 'F1', NULL, '{"project": "P2026-001", "category": "JC", "village": "610826101201", "memo": "进度款"}'),
	                  pg_temp.ln('2302', 'C', 30000, 'F1', NULL, '{"project": "P2026-001"}')),
	'道路工程应付') AS pay \gset
SELECT voucher_id AS recv_id FROM earmark.voucher WHERE number_text = :'recv' \gset
SELECT voucher_id AS pay_id FROM earmark.voucher WHERE number_text = :'pay' \gset
SELECT pg_temp.state() AS s0 \gset

-- Negative amounts outside a reversal ---------------------------------------

SET ROLE t_d4_clerk;
SELECT throws_ok(
	$$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', 'red ink by hand', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', -30000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', -30000, 'F1')))$$,
	'EMD04', 'line 1: negative amount outside a reversal (D4)',
	'D4: negative amounts outside a reversal are refused');
SELECT throws_ok(
	$$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', 'one negative line', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', 30000, 'F1', category => 'JC'), pg_temp.ln('5001', 'D', -10000, 'F1', NULL, '{"source": "v.csv:3"}', category => 'JC'),
		                  pg_temp.ln('2302', 'C', 20000, 'F1')))$$,
	'EMD04', 'line 2 (v.csv:3): negative amount outside a reversal (D4)',
	'D4: one negative line, even in a balanced voucher, is refused and named');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'D4: the refused drafts left nothing behind');
-- the trigger refuses the same for a draft written straight into the tables
INSERT INTO earmark.voucher (book_id, voucher_date, memo) VALUES (:book_id, '2026-03-10', 'direct')
RETURNING voucher_id AS raw \gset
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id)
	SELECT %s, %s, 1, account_id, 'D', -500, (SELECT fund_id FROM earmark.fund WHERE code = 'F1')
	  FROM earmark.account WHERE code = '5001'$$, :book_id, :raw),
	'EMD04', 'line 1: negative amount outside a reversal (D4)',
	'D4 backstop: the line trigger refuses a negative line outside a reversal');
DELETE FROM earmark.voucher WHERE voucher_id = :raw;
SELECT is(pg_temp.state(), :'s0', 'D4: nothing left behind by the direct attempt');

-- Reversing what is not a posted original -----------------------------------

SET ROLE t_d4_clerk;
SELECT earmark.voucher_draft('B1', '2026-03-11', '记', 'still a draft', NULL,
	jsonb_build_array(pg_temp.ln('5001', 'D', 100, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 100, 'F1'))) AS draft \gset
RESET ROLE;
SELECT pg_temp.state() AS s1 \gset
SET ROLE t_d4_clerk;
SELECT throws_ok(format($$SELECT earmark.voucher_reverse('B1', '#%s', '2026-04-01', NULL)$$, :draft),
	'EMD04', format('voucher #%s is not posted; a draft is discarded, not reversed (D4)', :draft),
	'D4: a draft cannot be reversed');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'D4: the refused reversal of a draft left nothing behind');

-- The reversal of the payable -----------------------------------------------

SET ROLE t_d4_clerk;
SELECT lives_ok(format($$SELECT earmark.voucher_reverse('B1', '%s', '2026-04-10', 'rev-pay')$$, :'pay'),
	'D4: the clerk drafts the reversal of a posted voucher');
RESET ROLE;
SELECT voucher_id AS rv FROM earmark.voucher WHERE idem_key = 'rev-pay' \gset
SELECT is((SELECT reverses_id FROM earmark.voucher WHERE voucher_id = :rv), :pay_id::bigint,
	'D4: the reversal is linked to its original');
SELECT is((SELECT memo FROM earmark.voucher WHERE voucher_id = :rv), '冲销 记-2026-03-0002 道路工程应付',
	'D4: the reversal''s memo names the original');
SELECT is((SELECT status || ' ' || COALESCE(number_text, 'unnumbered') FROM earmark.voucher WHERE voucher_id = :rv),
	'draft unnumbered', 'D4: the reversal starts as an unnumbered draft');
SELECT bag_eq(
	format($$SELECT line_no, account_id, side, amount_fen, fund_id, project_id, village_id, household_id,
	                bank_account_id, category_id, memo FROM earmark.line WHERE voucher_id = %s$$, :rv),
	format($$SELECT line_no, account_id, side, -amount_fen, fund_id, project_id, village_id, household_id,
	                bank_account_id, category_id, memo FROM earmark.line WHERE voucher_id = %s$$, :pay_id),
	'D4: the reversal''s lines are the original''s with the amounts negated, every dimension kept');

-- A second reversal while the first is still a draft.
SELECT pg_temp.state() AS s2 \gset
SET ROLE t_d4_clerk2;
SELECT throws_ok(format($$SELECT earmark.voucher_reverse('B1', '%s', '2026-04-11', NULL)$$, :'pay'),
	'EMD04', 'voucher 记-2026-03-0002 is already reversed (D4)',
	'D4: a voucher with a reversal in progress cannot be reversed again');
SELECT matches(pg_temp.error_of(format($$SELECT earmark.voucher_reverse('B1', '%s', '2026-04-11', NULL)$$, :'pay')),
	format('by draft #%s', :rv), 'D4: the refusal names the reversal in progress');
RESET ROLE;
SELECT is(pg_temp.state(), :'s2', 'D4: the refused second reversal left nothing behind');

SET ROLE t_d4_rev;
SELECT lives_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :rv), 'D4: the reversal is reviewed');
SET ROLE t_d4_bk;
SELECT is(earmark.voucher_post('B1', '#' || :rv), '记-2026-04-0001', 'D4: the reversal posts with its own number');
RESET ROLE;
SELECT is((SELECT sum(amount_fen)::bigint FROM earmark.line WHERE voucher_id IN (:pay_id, :rv) AND side = 'D'), 0::bigint,
	'D4: original and reversal cancel');

-- After posting: no second reversal, no reversal of the reversal.
SELECT pg_temp.state() AS s3 \gset
SET ROLE t_d4_clerk;
SELECT throws_ok(format($$SELECT earmark.voucher_reverse('B1', '%s', '2026-04-12', NULL)$$, :'pay'),
	'EMD04', 'voucher 记-2026-03-0002 is already reversed (D4)',
	'D4: a voucher is reversed at most once');
SELECT throws_ok($$SELECT earmark.voucher_reverse('B1', '记-2026-04-0001', '2026-04-12', NULL)$$,
	'EMD04', 'voucher 记-2026-04-0001 is itself a reversal (D4)',
	'D4: a reversal cannot be reversed');
RESET ROLE;
SELECT is(pg_temp.state(), :'s3', 'D4: the refused reversals left nothing behind');
-- The unique key is the backstop for "at most once".
SELECT throws_ok(format($$INSERT INTO earmark.voucher (book_id, voucher_date, reverses_id) VALUES (%s, '2026-04-12', %s)$$, :book_id, :pay_id),
	'23505', NULL,
	'D4 backstop: a second voucher reversing the same original violates the unique key');

-- Backstops at posting, for reversals written past voucher_reverse --------
-- The superuser drafts (it is a person) and edits its own drafts in the tables.

-- a "reversal" of the reversal (its lines can only be negative, like
-- every reversal's): refused at posting
INSERT INTO earmark.voucher (book_id, voucher_date, memo, reverses_id) VALUES (:book_id, '2026-04-13', 'reverse the reversal', :rv)
RETURNING voucher_id AS rr \gset
INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, project_id, village_id, category_id, memo)
SELECT book_id, :rr, line_no, account_id, side, amount_fen, fund_id, project_id, village_id, category_id, memo
  FROM earmark.line WHERE voucher_id = :rv;
SET ROLE t_d4_rev;
SELECT earmark.voucher_review('B1', '#' || :rr) AS reviewed \gset
RESET ROLE;
SELECT pg_temp.state() AS s4 \gset
SET ROLE t_d4_bk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :rr),
	'EMD04', 'voucher 记-2026-04-0001 is itself a reversal (D4)',
	'D4 backstop: posting a reversal of a reversal is refused');
RESET ROLE;
SELECT is(pg_temp.state(), :'s4', 'D4: the refused posting changed nothing');

-- a reversal of the receipt whose lines do not mirror it
SELECT earmark.voucher_reverse('B1', :'recv', '2026-04-14', NULL) AS bad \gset
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 50000 WHERE voucher_id = %s$$, :bad),
	'EMD04', 'line 1: a reversal carries negative amounts only (D4)',
	'D4: a positive line in a reversal is refused');
UPDATE earmark.line SET amount_fen = -40000 WHERE voucher_id = :bad;
SET ROLE t_d4_rev;
SELECT earmark.voucher_review('B1', '#' || :bad) AS reviewed \gset
RESET ROLE;
SELECT pg_temp.state() AS s5 \gset
SET ROLE t_d4_bk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :bad),
	'EMD04', 'reversal does not mirror voucher 记-2026-03-0001 (D4)',
	'D4: a reversal whose amounts differ from the original is refused at posting');
RESET ROLE;
SELECT is(pg_temp.state(), :'s5', 'D4: the refused posting changed nothing');

-- Trial balance: back to zero once both vouchers are reversed -------------

SELECT is((SELECT count(*)::int FROM earmark.trial_balance('B1', '2026-03-31') WHERE code IN ('5001', '2302')), 2,
	'D4: in March the payable is in the trial balance');
SELECT is((SELECT count(*)::int FROM earmark.trial_balance('B1', '2026-04-30') WHERE code IN ('5001', '2302')), 0,
	'D4: from April, with its reversal, it is gone');

-- The March receipt of F1 now has a (reviewed, unpostable) reversal and so
-- cannot be reversed again: a fresh receipt of F3 is received and reversed.
SELECT pg_temp.post('B1', '2026-03-20',
	jsonb_build_array(pg_temp.ln('1002', 'D', 25000, 'F3', '622800000002'), pg_temp.ln('4001', 'C', 25000, 'F3')),
	'县级配套') AS recv3 \gset
SET ROLE t_d4_clerk;
SELECT earmark.voucher_reverse('B1', :'recv3', '2026-04-15', NULL) AS rv3 \gset
SET ROLE t_d4_rev;
SELECT earmark.voucher_review('B1', '#' || :rv3) AS reviewed \gset
SET ROLE t_d4_bk;
SELECT lives_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :rv3), 'D4: the reversal of a receipt posts');
RESET ROLE;
SELECT is((SELECT balance_fen FROM earmark.fund_cash fc JOIN earmark.fund f USING (book_id, fund_id) WHERE f.code = 'F3'), 0::bigint,
	'D4: the reversed receipt leaves the fund''s cash at zero');
SELECT is_empty($$SELECT * FROM earmark.trial_balance('B1', '2026-04-30', 'F3')$$,
	'D4: fund F3''s trial balance is back to zero');
SELECT results_eq($$SELECT code, debit_fen, credit_fen FROM earmark.trial_balance('B1', '2026-04-30')$$,
	$$VALUES ('1002'::text, 100000::bigint, 0::bigint), ('4001', 0, 100000)$$,
	'D4: the whole trial balance holds only the unreversed receipt');

SELECT * FROM finish();
ROLLBACK;
