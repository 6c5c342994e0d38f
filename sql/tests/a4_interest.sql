-- A4 (DESIGN section 4): interest earned on a dedicated account is income
-- of the funds it holds, shared by their balances, never of the general
-- budget.
--
-- Account 622800000001 holds F1 (3,000.00), F2 (5,000.00) and F4
-- (7,000.00); F5 is held there too but has nothing, and F3 has its own
-- account, empty.  Interest of 10.01 is 200.2, 333.67 and 467.13 fen by the
-- balances: floored 200 + 333 + 467 = 1000, and the one fen left goes to
-- the largest remainder, F2.  earmark.fund_interest drafts exactly that,
-- and it goes through review and posting.  Refused (EMA04): an interest
-- voucher that gives all of it to one fund, or any to a fund without a
-- balance; interest where no fund has money; and at posting, an interest
-- draft whose shares no longer match because a payment of the same day
-- was posted after it was drafted.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(21);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_a4_admin LOGIN;
GRANT earmark_admin TO t_a4_admin;
CREATE ROLE t_a4_clerk LOGIN;
GRANT earmark_clerk TO t_a4_clerk;
CREATE ROLE t_a4_rev LOGIN;
GRANT earmark_reviewer TO t_a4_rev;
CREATE ROLE t_a4_bk LOGIN;
GRANT earmark_bookkeeper TO t_a4_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_a4_clerk, t_a4_rev and t_a4_bk unless told otherwise.
SET earmark_test.people = 't_a4';
\ir fixture/helpers.psql


-- Interest lines as a clerk might type them: per fund, Dr 1002 / Cr 4604.
CREATE FUNCTION pg_temp.interest(shares jsonb, bank text DEFAULT '622800000001') RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_agg(x ORDER BY k, side DESC)
	  FROM jsonb_each_text(shares) s(k, v),
	       LATERAL (VALUES ('D', pg_temp.ln('1002', 'D', v::bigint, k, bank)),
	                       ('C', pg_temp.ln('4604', 'C', v::bigint, k))) l(side, x)
$$;
CREATE FUNCTION pg_temp.draft_sql(d date, lines jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT format($q$SELECT earmark.voucher_draft('B1', %L, '收', '专户利息', NULL, %L)$q$, d, lines)
$$;
-- The lines of a voucher as 'account:side:fund:amount', in order.
CREATE FUNCTION pg_temp.lines_of(v bigint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT string_agg(account || ':' || side || ':' || fund || ':' || amount_fen, ' ' ORDER BY line_no)
	  FROM earmark.line_coded WHERE voucher_id = v
$$;
-- earmark.interest_shares by codes: account 622800000001 on d.
CREATE FUNCTION pg_temp.shares(d date, total bigint)
RETURNS TABLE (fund text, balance_fen bigint, share_fen bigint)
LANGUAGE sql STABLE AS $$
	SELECT f.code, s.balance_fen, s.share_fen
	  FROM earmark.dedicated_account da
	  CROSS JOIN LATERAL earmark.interest_shares(da.book_id, da.bank_account_id, d, total) s
	  JOIN earmark.fund f ON f.book_id = da.book_id AND f.fund_id = s.fund_id
	 WHERE da.account_no = '622800000001'
	 ORDER BY f.code
$$;
CREATE FUNCTION pg_temp.cash(fund text) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT COALESCE((SELECT balance_fen FROM earmark.fund_cash JOIN earmark.fund f USING (book_id, fund_id)
	                  WHERE f.code = fund), 0)
$$;

SET ROLE t_a4_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "2302", "name": "应付账款", "kind": "liability", "normal_side": "C"},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"},
	{"code": "4604", "name": "利息收入", "kind": "revenue", "normal_side": "C"},
	{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "source": "bank_accounts.csv:2"},
	{"account_no": "622800000002", "bank_name": "县农村信用社", "cnaps": "402100000002", "source": "bank_accounts.csv:3"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'category', $$[
	{"code": "CY", "name": "产业发展", "source": "categories.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2026, "amount_fen": 300000, "bank_account": "622800000001", "categories": "CY", "source": "funds.csv:2"},
	{"code": "F2", "name": "省级衔接资金", "level": "province", "year": 2026, "amount_fen": 500000, "bank_account": "622800000001", "categories": "CY", "source": "funds.csv:3"},
	{"code": "F3", "name": "县级配套资金", "level": "county", "year": 2026, "amount_fen": 100000, "bank_account": "622800000002", "categories": "CY", "source": "funds.csv:4"},
	{"code": "F4", "name": "市级衔接资金", "level": "city", "year": 2026, "amount_fen": 700000, "bank_account": "622800000001", "categories": "CY", "source": "funds.csv:5"},
	{"code": "F5", "name": "以工代赈资金", "level": "central", "year": 2026, "amount_fen": 100000, "bank_account": "622800000001", "categories": "CY", "source": "funds.csv:6"}
]$$) AS imported \gset
RESET ROLE;

SELECT pg_temp.post('B1', '2026-03-02', jsonb_build_array(
	pg_temp.ln('1002', 'D', 300000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 300000, 'F1'),
	pg_temp.ln('1002', 'D', 500000, 'F2', '622800000001'), pg_temp.ln('4001', 'C', 500000, 'F2'),
	pg_temp.ln('1002', 'D', 800000, 'F4', '622800000001'), pg_temp.ln('4001', 'C', 800000, 'F4')),
	'资金到账') AS receipt \gset
-- F4 spent 1,000.00 of its 8,000.00 through the account: its balance is what it has left.
SELECT pg_temp.post('B1', '2026-03-20', jsonb_build_array(
	pg_temp.ln('2302', 'D', 100000, 'F4'), pg_temp.ln('1002', 'C', 100000, 'F4', '622800000001')),
	'支付') AS payment \gset

-- The shares --------------------------------------------------------------------

SELECT results_eq($$SELECT * FROM pg_temp.shares('2026-03-31', 1001)$$,
	$$VALUES ('F1', 300000::bigint, 200::bigint), ('F2', 500000, 334), ('F4', 700000, 467)$$,
	'A4: 10.01 over 3,000.00, 5,000.00 and 7,000.00: floors 200, 333, 467 and the fen left to the largest remainder');
SELECT results_eq($$SELECT fund, share_fen FROM pg_temp.shares('2026-03-31', 1)$$,
	$$VALUES ('F1', 0::bigint), ('F2', 0), ('F4', 1)$$,
	'A4: one fen goes to the fund with the largest remainder');
SELECT results_eq($$SELECT fund, share_fen FROM pg_temp.shares('2026-03-02', 1001)$$,
	$$VALUES ('F1', 188::bigint), ('F2', 313), ('F4', 500)$$,
	'A4: balances are those at the end of the day: on 2 March F4 had not paid yet');
SELECT is((SELECT sum(share_fen)::bigint FROM pg_temp.shares('2026-03-31', n)), n::bigint,
	format('A4: the shares of %s fen add up to it exactly', n))
  FROM (VALUES (2), (999), (123456789)) x(n);

-- The good case: fund_interest drafts it, review and posting take it --------------

SET ROLE t_a4_clerk;
SELECT earmark.fund_interest('B1', '622800000001', '2026-03-31', 1001, 'interest-2026-03') AS iv \gset
RESET ROLE;
SELECT is(pg_temp.lines_of(:iv),
	'1002:D:F1:200 4604:C:F1:200 1002:D:F2:334 4604:C:F2:334 1002:D:F4:467 4604:C:F4:467',
	'A4: fund_interest drafts Dr 1002 / Cr 4604 per fund, by balance');
SET ROLE t_a4_rev;
SELECT lives_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :iv), 'A4: the interest draft passes review');
SET ROLE t_a4_bk;
SELECT is(earmark.voucher_post('B1', '#' || :iv), '收-2026-03-0001', 'A4: and posting');
RESET ROLE;
SELECT is(pg_temp.cash('F1') || ' ' || pg_temp.cash('F2') || ' ' || pg_temp.cash('F4') || ' ' || pg_temp.cash('F5'),
	'300200 500334 700467 0', 'A4: each fund''s cash grew by its share, F5 (no balance) got nothing');
SELECT is((SELECT sum(credit_fen - debit_fen)::bigint FROM earmark.period_balance pb
             JOIN earmark.account a USING (book_id, account_id) WHERE a.code = '4604'),
	1001::bigint, 'A4: the interest income is the whole 10.01');

-- Refused ------------------------------------------------------------------------

SELECT pg_temp.state() AS s0 \gset
SET ROLE t_a4_clerk;
SELECT throws_ok(pg_temp.draft_sql('2026-04-30', pg_temp.interest('{"F1": 1001}')),
	'EMA04', 'interest of dedicated account ''622800000001'' is not shared by the funds'' balances (A4)',
	'A4: interest given all to one fund is refused');
SELECT is(pg_temp.error_of(pg_temp.draft_sql('2026-04-30', pg_temp.interest('{"F1": 1001}'))),
	E'EMA04: interest of dedicated account ''622800000001'' is not shared by the funds'' balances (A4)\n'
	'3 problems:\n'
	'  interest of dedicated account ''622800000001'' is not shared by the funds'' balances (A4) (fund ''F1'': by balance 2.00, booked 10.01)\n'
	'  interest of dedicated account ''622800000001'' is not shared by the funds'' balances (A4) (fund ''F2'': by balance 3.34, booked 0.00)\n'
	'  interest of dedicated account ''622800000001'' is not shared by the funds'' balances (A4) (fund ''F4'': by balance 4.67, booked 0.00)',
	'A4: the refusal gives each fund''s share by balance and what was booked');
SELECT throws_ok(pg_temp.draft_sql('2026-04-30', pg_temp.interest('{"F1": 200, "F2": 334, "F4": 466, "F5": 1}')),
	'EMA04', 'interest of dedicated account ''622800000001'' is not shared by the funds'' balances (A4)',
	'A4: a fen given to a fund without a balance is refused');
SELECT is(pg_temp.error_of(pg_temp.draft_sql('2026-04-30', pg_temp.interest('{"F1": 200, "F2": 334, "F4": 466, "F5": 1}'))),
	E'EMA04: interest of dedicated account ''622800000001'' is not shared by the funds'' balances (A4)\n'
	'2 problems:\n'
	'  interest of dedicated account ''622800000001'' is not shared by the funds'' balances (A4) (fund ''F4'': by balance 4.67, booked 4.66)\n'
	'  interest of dedicated account ''622800000001'' is not shared by the funds'' balances (A4) (fund ''F5'': by balance 0.00, booked 0.01)',
	'A4: the refusal names both funds');

-- No balance.
SELECT throws_ok($$SELECT earmark.fund_interest('B1', '622800000002', '2026-03-31', 500, NULL)$$,
	'EMA04', 'no fund has money in dedicated account ''622800000002'' on 2026-03-31 (A4)',
	'A4: fund_interest refuses interest on an account whose funds have no balance');
SELECT throws_ok($$SELECT earmark.fund_interest('B1', '622800000001', '2026-03-01', 500, NULL)$$,
	'EMA04', 'no fund has money in dedicated account ''622800000001'' on 2026-03-01 (A4)',
	'A4: nor on a day before any money arrived');
SELECT matches(pg_temp.error_of(pg_temp.draft_sql('2026-03-31', pg_temp.interest('{"F3": 500}', '622800000002'))),
	'^EMA04: (interest of dedicated account ''622800000002'' is not shared by the funds'' balances|no fund has money in dedicated account ''622800000002'' on 2026-03-31) \(A4\)',
	'A4: a hand-made interest voucher on an account without balances is refused, naming the account');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'A4: the refusals wrote nothing');

-- At posting: the balances of the day moved after the draft ---------------------

SET ROLE t_a4_clerk;
SELECT earmark.fund_interest('B1', '622800000001', '2026-04-30', 1001, NULL) AS iv2 \gset
SET ROLE t_a4_rev;
SELECT earmark.voucher_review('B1', '#' || :iv2) AS reviewed \gset
RESET ROLE;
SELECT pg_temp.post('B1', '2026-04-30', jsonb_build_array(
	pg_temp.ln('2302', 'D', 100000, 'F4'), pg_temp.ln('1002', 'C', 100000, 'F4', '622800000001')),
	'支付') AS payment2 \gset
SELECT pg_temp.state() AS s1 \gset
SET ROLE t_a4_bk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :iv2),
	'EMA04', 'interest of dedicated account ''622800000001'' is not shared by the funds'' balances (A4)',
	'A4: an interest draft whose shares a later payment of the same day changed is refused at posting');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'A4: the refused posting changed nothing');

SELECT * FROM finish();
ROLLBACK;
