-- A2 (DESIGN section 4): a fund's cash in its dedicated account never goes
-- below zero.
--
-- F1 and F2 share one dedicated account.  F2 has 10,000.00 in it, F1
-- 1,000.00: F1 cannot pay 2,000.00 although the account holds 11,000.00
-- (EMA02, at posting, and the refusal takes no voucher number); it can pay
-- exactly its 1,000.00, and then not one fen more.  fund_cash is kept at
-- posting and equals the sum of the posted bank lines; its CHECK refuses a
-- negative balance even from the owner.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(27);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_a2_admin LOGIN;
GRANT earmark_admin TO t_a2_admin;
CREATE ROLE t_a2_clerk LOGIN;
GRANT earmark_clerk TO t_a2_clerk;
CREATE ROLE t_a2_clerk2 LOGIN;
GRANT earmark_clerk TO t_a2_clerk2;
CREATE ROLE t_a2_rev LOGIN;
GRANT earmark_reviewer TO t_a2_rev;
CREATE ROLE t_a2_bk LOGIN;
GRANT earmark_bookkeeper TO t_a2_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_a2_clerk, t_a2_rev and t_a2_bk unless told otherwise.
SET earmark_test.people = 't_a2';
\ir fixture/helpers.psql

-- The book: 2026 from January, two dedicated accounts; F1 and F2 share the
-- first (A2 keeps their cash apart), F3 has the second.  Every fund permits
-- the use category JC (A3); household H0001 has its ID number (H1).
SET ROLE t_a2_admin;
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
RESET ROLE;

-- A payment drafted and reviewed, left for the bookkeeper: returns its id.
CREATE FUNCTION pg_temp.payment(lines jsonb, d date DEFAULT '2026-03-10') RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v bigint;
BEGIN
	PERFORM set_config('role', 't_a2_clerk', false);
	v := earmark.voucher_draft('B1', d, '记', 'payment', NULL, lines);
	PERFORM set_config('role', 't_a2_rev', false);
	PERFORM earmark.voucher_review('B1', '#' || v);
	PERFORM set_config('role', 'none', false);
	RETURN v;
END
$$;
CREATE FUNCTION pg_temp.pay(fund text, amount bigint) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_array(pg_temp.ln('2302', 'D', amount, fund),
	                         pg_temp.ln('1002', 'C', amount, fund,
	                                    CASE fund WHEN 'F3' THEN '622800000002' ELSE '622800000001' END))
$$;
CREATE FUNCTION pg_temp.cash(fund text) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT balance_fen FROM earmark.fund_cash JOIN earmark.fund f USING (book_id, fund_id) WHERE f.code = fund
$$;

SELECT pg_temp.post('B1', '2026-03-02',
	jsonb_build_array(pg_temp.ln('1002', 'D', 1000000, 'F2', '622800000001'), pg_temp.ln('4001', 'C', 1000000, 'F2')),
	'F2 receives 10,000.00') AS f2_in \gset
SELECT pg_temp.post('B1', '2026-03-03',
	jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 100000, 'F1')),
	'F1 receives 1,000.00') AS f1_in \gset
SELECT is(pg_temp.cash('F1') || ' ' || pg_temp.cash('F2'), '100000 1000000', 'A2: F1 has 1,000.00 and F2 10,000.00 in the shared account');

-- Beyond the fund's cash ------------------------------------------------------

SELECT pg_temp.payment(pg_temp.pay('F1', 200000)) AS over \gset
SELECT pg_temp.state() AS s0 \gset
SET ROLE t_a2_bk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :over),
	'EMA02', 'fund ''F1'' would overdraw its dedicated account ''622800000001'' (A2)',
	'A2: F1 cannot pay beyond its own cash, though the account holds F2''s money');
SELECT matches(pg_temp.error_of(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :over)),
	'balance before 2026-03-10: 1,000\.00, this voucher -2,000\.00, lowest balance -1,000\.00 on 2026-03-10',
	'A2: the refusal gives the balance before, the payment and the lowest balance');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'A2: the refused payment changed nothing, took no number');

-- Exactly the fund's cash --------------------------------------------------------

SELECT pg_temp.payment(pg_temp.pay('F1', 100000)) AS exact \gset
SET ROLE t_a2_bk;
SELECT is(earmark.voucher_post('B1', '#' || :exact), '记-2026-03-0003', 'A2: F1 pays exactly its cash');
RESET ROLE;
SELECT is(pg_temp.cash('F1'), 0::bigint, 'A2: F1''s cash is now zero');
SELECT is(pg_temp.cash('F2'), 1000000::bigint, 'A2: F2''s cash is untouched');
SELECT pg_temp.payment(pg_temp.pay('F1', 1)) AS fen \gset
SELECT pg_temp.state() AS s1 \gset
SET ROLE t_a2_bk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :fen),
	'EMA02', 'fund ''F1'' would overdraw its dedicated account ''622800000001'' (A2)',
	'A2: then not one fen more');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'A2: the refused fen changed nothing');

-- A fund that never received anything, and a voucher paying from two funds.
SELECT pg_temp.payment(pg_temp.pay('F3', 100)) AS empty \gset
SELECT pg_temp.payment(pg_temp.pay('F2', 50000) || pg_temp.pay('F1', 1)) AS two \gset
SELECT pg_temp.state() AS s2 \gset
SET ROLE t_a2_bk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :empty),
	'EMA02', 'fund ''F3'' would overdraw its dedicated account ''622800000002'' (A2)',
	'A2: a fund without cash cannot pay');
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :two),
	'EMA02', 'fund ''F1'' would overdraw its dedicated account ''622800000001'' (A2)',
	'A2: a voucher paying from two funds is refused when one of them lacks the cash');
RESET ROLE;
SELECT is(pg_temp.state(), :'s2', 'A2: the refused payments changed nothing');

-- A reversal that takes back money already spent.
SELECT pg_temp.payment(pg_temp.pay('F2', 600000)) AS spent \gset
SET ROLE t_a2_bk;
SELECT lives_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :spent), 'A2: F2 pays 6,000.00');
SET ROLE t_a2_clerk;
SELECT earmark.voucher_reverse('B1', :'f2_in', '2026-03-20', NULL) AS rv \gset
SET ROLE t_a2_rev;
SELECT earmark.voucher_review('B1', '#' || :rv) AS reviewed \gset
RESET ROLE;
SELECT pg_temp.state() AS s3 \gset
SET ROLE t_a2_bk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :rv),
	'EMA02', 'fund ''F2'' would overdraw its dedicated account ''622800000001'' (A2)',
	'A2: reversing a receipt whose money is partly spent is refused');
RESET ROLE;
SELECT is(pg_temp.state(), :'s3', 'A2: the refused reversal changed nothing');

-- The CHECK behind the trigger ----------------------------------------------------

SET ROLE earmark_owner;
SELECT throws_ok($$UPDATE earmark.fund_cash SET balance_fen = -1 WHERE fund_id = (SELECT fund_id FROM earmark.fund WHERE code = 'F2')$$,
	'23514', NULL,
	'A2 backstop: the owner cannot set a fund''s cash below zero');
SELECT throws_ok($$INSERT INTO earmark.fund_cash (book_id, fund_id, bank_account_id, balance_fen)
	SELECT book_id, fund_id, bank_account_id, -100 FROM earmark.fund WHERE code = 'F3'$$,
	'23514', NULL,
	'A2 backstop: nor insert a negative balance');
SET ROLE earmark_cashier;
SELECT throws_ok($$UPDATE earmark.fund_cash SET balance_fen = balance_fen + 100$$, '42501', NULL,
	'A2: the cashier cannot write fund_cash');
RESET ROLE;
SELECT is(pg_temp.state(), :'s3', 'A2: the refused writes changed nothing');

-- fund_cash is the sum of the posted bank lines ----------------------------

SELECT results_eq(
	$$SELECT fund_id, bank_account_id, balance_fen FROM earmark.fund_cash ORDER BY 1, 2$$,
	$$SELECT l.fund_id, l.bank_account_id,
	         sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)::bigint
	    FROM earmark.line l JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
	   WHERE v.status = 'posted' AND l.bank_account_id IS NOT NULL
	   GROUP BY 1, 2 ORDER BY 1, 2$$,
	'A2: fund_cash equals the sum of the posted bank lines');
SELECT is((SELECT count(*)::int FROM earmark.fund_cash WHERE balance_fen < 0), 0, 'A2: no fund''s cash is below zero');

-- Cash by date ---------------------------------------------------------------------
-- The check above is on the balance at posting time.  Money received on the
-- 20th does not pay a voucher dated the 10th: by the books, the fund's cash
-- would be negative from the 10th to the 20th.
SELECT pg_temp.post('B1', '2026-04-20',
	jsonb_build_array(pg_temp.ln('1002', 'D', 5000, 'F3', '622800000002'), pg_temp.ln('4001', 'C', 5000, 'F3')),
	'F3 receives 50.00 on 20 April') AS f3_in \gset
SELECT pg_temp.payment(pg_temp.pay('F3', 5000), '2026-04-10') AS early \gset
SET ROLE t_a2_bk;
SELECT throws_ok(format('SELECT pg_temp.undone(%L)', format($$SELECT earmark.voucher_post('B1', '#%s')$$, :early)),
	'EMA02', NULL,
	'A2: a payment dated before the fund received the money is refused');
RESET ROLE;
SELECT pg_temp.payment(pg_temp.pay('F3', 5000), '2026-04-20') AS same_day \gset
SET ROLE t_a2_bk;
SELECT lives_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :same_day),
	'A2: the same payment dated the day the money arrived passes');
RESET ROLE;
SELECT pg_temp.payment(pg_temp.pay('F3', 1), '2026-04-19') AS before_gone \gset
SET ROLE t_a2_bk;
SELECT throws_ok(format('SELECT pg_temp.undone(%L)', format($$SELECT earmark.voucher_post('B1', '#%s')$$, :before_gone)),
	'EMA02', NULL,
	'A2: a back-dated payment that would leave a later day negative is refused');
RESET ROLE;

-- Posting in date order, A2 reads the kept day balances instead of the
-- day's lines (0020); the refusal says the same: the balance before the
-- day, not counting what the day brought.
SELECT pg_temp.post('B1', '2026-04-21',
	jsonb_build_array(pg_temp.ln('1002', 'D', 100, 'F3', '622800000002'), pg_temp.ln('4001', 'C', 100, 'F3')),
	'F3 receives 1.00 on 21 April') AS f3_in2 \gset
SELECT pg_temp.payment(pg_temp.pay('F3', 200), '2026-04-21') AS two_of_one \gset
SET ROLE t_a2_bk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :two_of_one),
	'EMA02', 'fund ''F3'' would overdraw its dedicated account ''622800000002'' (A2)',
	'A2: the latest voucher paying more than the fund holds is refused');
SELECT matches(pg_temp.error_of(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :two_of_one)),
	'balance before 2026-04-21: 0\.00, this voucher -2\.00, lowest balance -1\.00 on 2026-04-21',
	'A2: the refusal counts the day''s receipt in the lowest balance, not in the balance before the day');
RESET ROLE;
SELECT pg_temp.payment(pg_temp.pay('F3', 100), '2026-04-21') AS one_of_one \gset
SET ROLE t_a2_bk;
SELECT lives_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :one_of_one),
	'A2: the latest voucher paying exactly what the fund holds passes');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
