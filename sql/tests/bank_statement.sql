-- Bank statements and matching (0012; DESIGN flow 4): earmark.statement_import
-- takes a statement of a CNY dedicated account whose balances roll, once
-- (the same again changes nothing); statement_match_auto clears household
-- payments by EndToEndId and drafts a receipt voucher for a returned one
-- (never netted); payment_reissue pays it again from the restored payable;
-- manual match and unmatch record who and when.  A returned payment is
-- not paid to households in the fund statement (0015) until its re-issue
-- is posted, and the household ledger shows the return and the re-issue.
--
-- Refused, nothing written: another account, another currency, balances
-- that do not roll or do not follow the last statement, the same id with
-- other content, overlapping days, an import or match by anyone but a
-- cashier, a re-issue before the return is posted or of a paid payment, a
-- manual match that does not fit, an unmatch of a return, discarding the
-- draft of a return or of a re-issue (EMB03, not a foreign key).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(42);

CREATE ROLE t_bs_admin LOGIN;
GRANT earmark_admin TO t_bs_admin;
CREATE ROLE t_bs_clerk LOGIN;
GRANT earmark_clerk TO t_bs_clerk;
CREATE ROLE t_bs_rev LOGIN;
GRANT earmark_reviewer TO t_bs_rev;
CREATE ROLE t_bs_bk LOGIN;
GRANT earmark_bookkeeper TO t_bs_bk;
CREATE ROLE t_bs_cashier LOGIN;
GRANT earmark_cashier TO t_bs_cashier;
SET earmark_test.people = 't_bs';
\ir fixture/helpers.psql

-- The bank tables as one value, for "nothing was written".
CREATE FUNCTION pg_temp.bank_state() RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT md5(concat_ws('|', pg_temp.state(),
		(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM earmark.bank_statement t),
		(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM earmark.statement_line t),
		(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM earmark.bank_match t),
		(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM earmark.payment_return t)))
$$;
-- A statement of account 622800000001 as posting/statement.c sends it.
CREATE FUNCTION pg_temp.stmt(ref text, opening bigint, closing bigint, lines jsonb,
                             account text DEFAULT '622800000001', currency text DEFAULT 'CNY',
                             f text DEFAULT '2026-11-01', t text DEFAULT '2026-11-20')
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('ref', ref, 'format', 'camt053', 'source', 'test.xml', 'account', account,
	                          'currency', currency, 'from', f, 'to', t, 'opening_fen', opening,
	                          'closing_fen', closing, 'lines', lines)
$$;

SET ROLE t_bs_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "2303", "name": "应付政府补贴款", "kind": "liability", "normal_side": "C"},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"},
	{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "source": "b.csv:2"},
	{"account_no": "622800000002", "bank_name": "县农村信用社", "cnaps": "402100000002", "source": "b.csv:3"}]$$) AS n \gset
SELECT earmark.master_import('B1', 'category', '[{"code": "WF", "name": "危房改造", "source": "c.csv:2"}]') AS n \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2026, "amount_fen": 500000000, "bank_account": "622800000001", "categories": "WF", "source": "f.csv:2"}]$$) AS n \gset
SELECT earmark.master_import('B1', 'village', '[{"code": "610826101201", "name": "东沟村", "source": "v.csv:2"}]') AS n \gset
SELECT earmark.master_import('B1', 'household', $$[
	{"code": "H0001", "village": "610826101201", "head_name": "张三", "id_no": "610826196503120011", "bank_card": "6228480000000000011", "bank_cnaps": "103100000001", "source": "h.csv:2"},
	{"code": "H0002", "village": "610826101201", "head_name": "李四", "id_no": "610826197005200021", "bank_card": "6228480000000000022", "bank_cnaps": "103100000001", "source": "h.csv:3"}]$$) AS n \gset
SELECT earmark.master_import('B1', 'project', '[{"code": "PH", "name": "危房改造到户补助", "category": "WF", "villages": "610826101201", "source": "p.csv:2"}]') AS n \gset
SELECT earmark.master_import('B1', 'project_budget', '[{"project": "PH", "fund": "F1", "amount_fen": 50000000, "source": "pb.csv:2"}]') AS n \gset
SELECT earmark.master_import('B1', 'project_target', '[{"project": "PH", "kind": "产出", "indicator": "户数", "value": "2户", "source": "t.csv:2"}]') AS n \gset
SELECT earmark.master_import('B1', 'project_event', '[{"project": "PH", "kind": "approval", "date": "2026-03-01", "doc_no": "批1号", "source": "e.csv:2"}]') AS n \gset
SET ROLE t_bs_clerk;
SELECT earmark.list_create('B1', 'L1', 'PH', '危房改造名单', $$[
	{"household": "H0001", "item": "主房", "amount_fen": 1000000, "source": "l.csv:2"},
	{"household": "H0002", "item": "主房", "amount_fen": 1500000, "source": "l.csv:3"}]$$) AS n \gset
SET ROLE t_bs_admin;
SELECT earmark.list_publish('B1', 'L1', '2026-10-01', NULL) AS payable \gset
RESET ROLE;
SELECT pg_temp.post('B1', '2026-09-01', jsonb_build_array(
	pg_temp.ln('1002', 'D', 20000000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 20000000, 'F1')), '资金到账') AS receipt \gset
SET ROLE t_bs_clerk;
SELECT earmark.pay_stage_new() AS st \gset
INSERT INTO earmark.pay_staging (stage_id, line_no, household, amount_fen, project, fund, category, list, item)
VALUES (:st, 2, 'H0001', 1000000, 'PH', 'F1', 'WF', 'L1', '主房'), (:st, 3, 'H0002', 1500000, 'PH', 'F1', 'WF', 'L1', '主房');
SELECT earmark.pay_batch('B1', :st, 'B-001', '2026-11-16', NULL, 'pay.csv') AS batch \gset
SET ROLE t_bs_rev;
SELECT earmark.pay_batch_step('B1', 'B-001', 'review') AS r \gset
SET ROLE t_bs_bk;
SELECT earmark.pay_batch_step('B1', 'B-001', 'post') AS r \gset
SET ROLE t_bs_cashier;
SELECT count(*) AS exported FROM earmark.payment_export('B1', 'B-001') \gset
RESET ROLE;

-- The statement: both payments out, H0002's back (RtrInf), and 1.23 interest.
\set lines '[{"booking_date": "2026-11-17", "amount_fen": -1000000, "end_to_end_id": "B-001-000002", "reference": "补助"}, {"booking_date": "2026-11-17", "amount_fen": -1500000, "end_to_end_id": "B-001-000003", "reference": "补助"}, {"booking_date": "2026-11-19", "amount_fen": 1500000, "end_to_end_id": "B-001-000003", "returned": true, "return_reason": "AC04"}, {"booking_date": "2026-11-20", "amount_fen": 123, "reference": "结息"}]'

-- Refusals -------------------------------------------------------------------

SELECT pg_temp.bank_state() AS s0 \gset
SET ROLE t_bs_cashier;
SELECT throws_ok(format('SELECT * FROM earmark.statement_import(%L, %L, %L)', 'B1', '622800000001',
	pg_temp.stmt('S1', 20000000, 19000123, :'lines', account => '622800000002')),
	'EMB01', 'statement S1 is for account ''622800000002'', not ''622800000001'' (EMB01 account)',
	'import: a statement of another account is refused');
SELECT throws_ok(format('SELECT * FROM earmark.statement_import(%L, %L, %L)', 'B1', '622800000001',
	pg_temp.stmt('S1', 20000000, 19000123, :'lines', currency => 'EUR')),
	'EMB01', 'statement S1 is in EUR, but dedicated account ''622800000001'' keeps CNY (EMB01 currency)',
	'import: a statement in another currency is refused');
SELECT throws_ok(format('SELECT * FROM earmark.statement_import(%L, %L, %L)', 'B1', '622800000001',
	pg_temp.stmt('S1', 20000000, 19000124, :'lines')),
	'EMB01', 'statement S1 does not roll: opening 200,000.00 + entries -9,998.77 <> closing 190,001.24 (EMB01 balances)',
	'import: balances that do not roll are refused');
SELECT throws_ok(format('SELECT * FROM earmark.statement_import(%L, %L, %L)', 'B1', '622800000009',
	pg_temp.stmt('S1', 20000000, 19000123, :'lines', account => '622800000009')),
	'EMR01', 'unknown dedicated account ''622800000009''', 'import: an unknown account is refused');
RESET ROLE;
SET ROLE t_bs_clerk;
SELECT throws_ok(format('SELECT * FROM earmark.statement_import(%L, %L, %L)', 'B1', '622800000001',
	pg_temp.stmt('S1', 20000000, 19000123, :'lines')), '42501', 'permission denied for function statement_import',
	'import: a clerk may not import statements');
RESET ROLE;
SELECT is(pg_temp.bank_state(), :'s0', 'import: the refusals wrote nothing');

-- Import, twice ------------------------------------------------------------------

SET ROLE t_bs_cashier;
SELECT results_eq(format('SELECT line_count, already FROM earmark.statement_import(%L, %L, %L)', 'B1', '622800000001',
	pg_temp.stmt('S1', 20000000, 19000123, :'lines')), $$VALUES (4, false)$$, 'import: a good statement is taken');
RESET ROLE;
SELECT pg_temp.bank_state() AS s1 \gset
SET ROLE t_bs_cashier;
SELECT results_eq(format('SELECT line_count, already FROM earmark.statement_import(%L, %L, %L)', 'B1', '622800000001',
	pg_temp.stmt('S1', 20000000, 19000123, :'lines')), $$VALUES (4, true)$$, 'import: the same again answers the first');
RESET ROLE;
SELECT is(pg_temp.bank_state(), :'s1', 'import: the same statement twice changes nothing');
SET ROLE t_bs_cashier;
SELECT throws_like(format('SELECT * FROM earmark.statement_import(%L, %L, %L)', 'B1', '622800000001',
	pg_temp.stmt('S1', 20000000, 17500000, '[{"booking_date": "2026-11-17", "amount_fen": -2500000}]')),
	'statement S1 of account ''622800000001'' was imported on % with other content (EMB01 duplicate)',
	'import: the same id with other content is refused');
SELECT throws_ok(format('SELECT * FROM earmark.statement_import(%L, %L, %L)', 'B1', '622800000001',
	pg_temp.stmt('S2', 19000123, 19000123, '[]', f => '2026-11-10', t => '2026-11-21')),
	'EMB01', 'statement S2 (2026-11-10 to 2026-11-21) overlaps statement S1 (2026-11-01 to 2026-11-20) of account ''622800000001'' (EMB01 duplicate)',
	'import: a statement over days already imported is refused');
SELECT throws_ok(format('SELECT * FROM earmark.statement_import(%L, %L, %L)', 'B1', '622800000001',
	pg_temp.stmt('S2', 18000000, 18000100, '[{"booking_date": "2026-11-21", "amount_fen": 100}]', f => '2026-11-21', t => '2026-11-21')),
	'EMB01', 'statement S2 opens with 180,000.00, but statement S1 closed with 190,001.23 (EMB01 balances)',
	'import: a statement must open where the last one closed');
RESET ROLE;
SELECT is(pg_temp.bank_state(), :'s1', 'import: those refusals wrote nothing');
SELECT is((SELECT string_agg(status, ',' ORDER BY line_no) FROM earmark.statement_line), 'uncleared,uncleared,uncleared,uncleared',
	'import: the lines start uncleared');

-- Automatic matching -------------------------------------------------------------

SET ROLE t_bs_clerk;
SELECT throws_ok($$SELECT * FROM earmark.statement_match_auto('B1', '622800000001')$$, '42501',
	'permission denied for function statement_match_auto', 'match: only a cashier matches');
SET ROLE t_bs_cashier;
SELECT results_eq($$SELECT * FROM earmark.statement_match_auto('B1', '622800000001')$$,
	$$VALUES (2, 0, 1, 1)$$, 'match: two by end-to-end id, one return, the interest left');
RESET ROLE;
SELECT results_eq($$SELECT end_to_end_id, status FROM earmark.household_payment ORDER BY end_to_end_id$$,
	$$VALUES ('B-001-000002', 'paid'), ('B-001-000003', 'returned')$$, 'match: payments paid, and returned');
SELECT voucher_id AS ret FROM earmark.payment_return \gset
SELECT is((SELECT vtype || ':' || status || ':' || prepared_by FROM earmark.voucher WHERE voucher_id = :ret), '收:draft:t_bs_cashier',
	'return: a receipt voucher is drafted, not netted');
SELECT is((SELECT string_agg(account || ':' || side || ':' || amount_fen || ':' || coalesce(household, '-') || ':' || coalesce(bank_account, '-'), ' ' ORDER BY line_no)
             FROM earmark.line_coded WHERE voucher_id = :ret),
	'1002:D:1500000:-:622800000001 2303:C:1500000:H0002:-', 'return: Dr 1002 the account / Cr 2303 the household');
SELECT is((SELECT string_agg(line_no || ':' || status, ',' ORDER BY line_no) FROM earmark.statement_line),
	'1:cleared,2:cleared,3:cleared,4:uncleared', 'match: the matched lines are cleared');
-- The return draft is not discarded (it would orphan the return and its
-- match): the refusal says why and what to do, not a foreign key.
GRANT earmark_clerk TO t_bs_cashier;
SET ROLE t_bs_cashier;
SELECT throws_ok(format('SELECT earmark.voucher_discard(%L, %L)', 'B1', '#' || :ret), 'EMB03',
	format('draft #%s is the receipt of payment B-001-000003 returned by the bank and cannot be discarded (EMB03)', :ret),
	'return: its draft cannot be discarded, by name of the rule');
SELECT alike(pg_temp.error_of(format('SELECT earmark.voucher_discard(%L, %L)', 'B1', '#' || :ret)),
	'%statement line %:3 shows the money of household H0002 back in the account%',
	'return: the refusal names the statement line and the household');
RESET ROLE;
REVOKE earmark_clerk FROM t_bs_cashier;
SELECT pg_temp.bank_state() AS s2 \gset
SET ROLE t_bs_cashier;
SELECT results_eq($$SELECT * FROM earmark.statement_match_auto('B1', '622800000001')$$,
	$$VALUES (0, 0, 0, 1)$$, 'match: again, nothing more');
RESET ROLE;
SELECT is(pg_temp.bank_state(), :'s2', 'match: matching twice changes nothing');

-- Re-issue -----------------------------------------------------------------------

SET ROLE t_bs_clerk;
SELECT throws_ok($$SELECT * FROM earmark.payment_reissue('B1', 'B-001-000003', '2026-11-21')$$, 'EMB03',
	'the return of payment B-001-000003 is not posted yet (EMB03)', 'reissue: refused before the return is posted');
SELECT throws_ok($$SELECT * FROM earmark.payment_reissue('B1', 'B-001-000002', '2026-11-21')$$, 'EMB03',
	'payment B-001-000002 is paid, not returned by the bank (EMB03)', 'reissue: a paid payment is not paid again');
-- Paid to households (资金收支情况表) against the money that left the
-- payable 2303 through the bank: its debits, less the credits of return
-- vouchers (the payable restored).
CREATE TEMP VIEW paid_out AS
SELECT d, COALESCE((SELECT sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)
                      FROM earmark.line_coded l JOIN earmark.voucher v USING (book_id, voucher_id)
                     WHERE v.status = 'posted' AND v.voucher_date <= d AND l.account = '2303'
                       AND (l.side = 'D' OR v.voucher_id IN (SELECT voucher_id FROM earmark.payment_return))), 0)::bigint AS fen
  FROM unnest(ARRAY['2026-11-16', '2026-11-19', '2026-11-21']::date[]) d;
SELECT results_eq($$SELECT s.households_fen, s.balance_fen FROM earmark.fund_statement('B1', '2026-11-19') s WHERE s.fund = 'F1'$$,
	$$VALUES (2500000::bigint, 17500000::bigint)$$, 'fund statement: before the return is posted, both payments count as paid');
SET ROLE t_bs_rev;
SELECT earmark.voucher_review('B1', '#' || :ret) AS r \gset
SET ROLE t_bs_bk;
SELECT earmark.voucher_post('B1', '#' || :ret) AS r \gset
RESET ROLE;
SELECT results_eq($$SELECT s.received_fen, s.households_fen, s.balance_fen FROM earmark.fund_statement('B1', '2026-11-19') s WHERE s.fund = 'F1'$$,
	$$VALUES (20000000::bigint, 1000000::bigint, 19000000::bigint)$$,
	'fund statement: the returned payment is not paid to households; received less paid is the balance');
SET ROLE t_bs_clerk;
SET ROLE t_bs_clerk;
SELECT results_eq(format('SELECT batch, end_to_end_id FROM earmark.payment_reissue(%L, %L, %L)', 'B1', 'B-001-000003', '2026-11-21'),
	format('VALUES (%L, %L)', 'R' || (SELECT payment_id FROM earmark.household_payment WHERE end_to_end_id = 'B-001-000003'),
	       'R' || (SELECT payment_id FROM earmark.household_payment WHERE end_to_end_id = 'B-001-000003') || '-000001'),
	'reissue: a one-payment batch R<id> with a new end-to-end id');
RESET ROLE;
SELECT payment_voucher_id AS rev FROM earmark.pay_batch WHERE code LIKE 'R%' \gset
SELECT is((SELECT string_agg(account || ':' || side || ':' || amount_fen || ':' || coalesce(household, '-'), ' ' ORDER BY line_no)
             FROM earmark.line_coded WHERE voucher_id = :rev),
	'2303:D:1500000:H0002 1002:C:1500000:-', 'reissue: 付 Dr 2303 the household / Cr 1002, from the restored payable');
SET ROLE t_bs_clerk;
SELECT throws_like($$SELECT * FROM earmark.payment_reissue('B1', 'B-001-000003', '2026-11-21')$$,
	'payment B-001-000003 was re-issued already as R%', 'reissue: once only');
SELECT throws_like(format('SELECT earmark.voucher_discard(%L, %L)', 'B1', '#' || :rev),
	format('draft #%s belongs to payment batch ''R%%'' and cannot be discarded on its own (EMB03)', :rev),
	'reissue: its draft is not discarded on its own either');
RESET ROLE;
SELECT results_eq($$SELECT s.households_fen FROM earmark.fund_statement('B1', '2026-11-21') s WHERE s.fund = 'F1'$$,
	$$VALUES (1000000::bigint)$$, 'fund statement: a re-issue not yet posted is not paid');
SET ROLE t_bs_rev;
SELECT earmark.voucher_review('B1', '#' || :rev) AS r \gset
SET ROLE t_bs_bk;
SELECT earmark.voucher_post('B1', '#' || :rev) AS r \gset
RESET ROLE;
SELECT results_eq($$SELECT s.households_fen, s.balance_fen FROM earmark.fund_statement('B1', '2026-11-21') s WHERE s.fund = 'F1'$$,
	$$VALUES (2500000::bigint, 17500000::bigint)$$, 'fund statement: once the re-issue is posted it is paid');
SELECT results_eq(
	$$SELECT p.d, s.households_fen FROM paid_out p, earmark.fund_statement('B1', p.d) s WHERE s.fund = 'F1' ORDER BY 1$$,
	$$SELECT d, fen FROM paid_out ORDER BY 1$$,
	'fund statement: paid to households equals the payable''s money out through the bank, net of returns, on each date');
SELECT results_eq($$SELECT voucher_date, amount_fen, memo FROM earmark.household_ledger('B1', 'H0002', '2026-11-21')$$,
	$$VALUES ('2026-11-16'::date, 1500000::bigint, '到户补助 H0002'::text),
	         ('2026-11-19', -1500000, '退回 returned by the bank: B-001-000003'),
	         ('2026-11-21', 1500000, '重新支付 re-issued: ' || (SELECT end_to_end_id FROM earmark.household_payment WHERE end_to_end_id LIKE 'R%'))$$,
	'household ledger: the payment, its return and its re-issue');

-- Manual match and unmatch ----------------------------------------------------------

SELECT statement_id || ':' || line_no AS int_line FROM earmark.statement_line WHERE line_no = 4 \gset
SELECT payment_voucher_id AS pay_v FROM earmark.pay_batch WHERE code = 'B-001' \gset
SELECT statement_id || ':' || line_no AS ret_line FROM earmark.statement_line WHERE line_no = 3 \gset
SET ROLE t_bs_cashier;
SELECT throws_ok(format('SELECT earmark.statement_match(%L, %L, %L, 2)', 'B1', :'int_line', '#' || :pay_v), 'EMB02',
	format('statement line %s of 1.23 does not fit line 2 of voucher #%s (EMB02)', :'int_line', :pay_v),
	'manual: money in does not fit a payment out');
SELECT throws_ok(format('SELECT earmark.statement_unmatch(%L, %L)', 'B1', :'ret_line'), 'EMB03',
	format('statement line %s is a returned payment with its own voucher #%s (EMB03)', :'ret_line', :ret),
	'unmatch: a return is reversed, not unmatched');
RESET ROLE;
SELECT pg_temp.post('B1', '2026-11-20', jsonb_build_array(
	pg_temp.ln('1002', 'D', 123, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 123, 'F1')), '结息') AS interest \gset
SET ROLE t_bs_cashier;
SELECT lives_ok(format('SELECT earmark.statement_match(%L, %L, %L, 1)', 'B1', :'int_line', :'interest'),
	'manual: the cashier matches the interest to its voucher');
SELECT lives_ok(format('SELECT earmark.statement_unmatch(%L, %L)', 'B1', :'int_line'), 'unmatch: and undoes it');
RESET ROLE;
SELECT is((SELECT string_agg(method || ':' || matched_by || ':' || coalesce(unmatched_by::text, '-') || ':' || (matched_at IS NOT NULL), ',')
             FROM earmark.bank_match WHERE line_no = 4),
	'manual:t_bs_cashier:t_bs_cashier:true', 'unmatch: who matched and who unmatched stay on the row');
SELECT is((SELECT status FROM earmark.statement_line WHERE line_no = 4), 'uncleared', 'unmatch: the line is uncleared again');

SELECT * FROM finish();
ROLLBACK;
