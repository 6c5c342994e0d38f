-- D7 (DESIGN section 4): no voucher dated after today, none before its
-- book began, and no posting into a closed period.
--
-- The dates are checked when a draft is made, again at review, and again
-- at posting under the chain-head lock, so a voucher drafted and reviewed
-- while its month was open is still refused once an administrator has
-- closed the month.  Reversals are dated by the same rules.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(27);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_d7_admin LOGIN;
GRANT earmark_admin TO t_d7_admin;
CREATE ROLE t_d7_clerk LOGIN;
GRANT earmark_clerk TO t_d7_clerk;
CREATE ROLE t_d7_clerk2 LOGIN;
GRANT earmark_clerk TO t_d7_clerk2;
CREATE ROLE t_d7_rev LOGIN;
GRANT earmark_reviewer TO t_d7_rev;
CREATE ROLE t_d7_bk LOGIN;
GRANT earmark_bookkeeper TO t_d7_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_d7_clerk, t_d7_rev and t_d7_bk unless told otherwise.
SET earmark_test.people = 't_d7';
\ir fixture/helpers.psql

-- The book: 2026 from January, two dedicated accounts; F1 and F2 share the
-- first (A2 keeps their cash apart), F3 has the second.  Every fund permits
-- the use category JC (A3); household H0001 has its ID number (H1).
SET ROLE t_d7_admin;
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

SELECT pg_temp.post('B1', '2026-01-05',
	jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 100000, 'F1')),
	'January receipt') AS jan \gset
SELECT pg_temp.state() AS s0 \gset

-- The future and the time before the book ------------------------------------

SET ROLE t_d7_clerk;
SELECT throws_ok(format($$SELECT earmark.voucher_draft('B1', %L, '记', 'tomorrow', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', 100, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 100, 'F1')))$$, CURRENT_DATE + 1),
	'EMD07', format('voucher date %s is in the future (D7)', CURRENT_DATE + 1),
	'D7: a voucher dated tomorrow is refused');
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2025-12-31', '记', 'last year', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', 100, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 100, 'F1')))$$,
	'EMD07', 'voucher date 2025-12-31 is before the book began (D7)',
	'D7: a voucher dated before the book began is refused');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'D7: the refused drafts left nothing behind');
SET ROLE t_d7_clerk;
SELECT lives_ok(format($$SELECT earmark.voucher_draft('B1', %L, '记', 'today', 'today',
		jsonb_build_array(pg_temp.ln('5001', 'D', 100, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 100, 'F1')))$$, CURRENT_DATE),
	'D7: a voucher dated today is accepted');
SELECT lives_ok($$SELECT earmark.voucher_draft('B1', '2026-01-01', '记', 'first day', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', 100, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 100, 'F1')))$$,
	'D7: a voucher dated the book''s first day is accepted');
RESET ROLE;
SELECT voucher_id AS today FROM earmark.voucher WHERE idem_key = 'today' \gset
SELECT is(pg_temp.post('B1', CURRENT_DATE,
		jsonb_build_array(pg_temp.ln('5001', 'D', 100, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 100, 'F1')))
		LIKE '记-' || to_char(CURRENT_DATE, 'YYYY-MM') || '-%', true,
	'D7: a voucher dated today posts');
-- a future draft written straight into the table does not get past review
INSERT INTO earmark.voucher (book_id, voucher_date, memo) VALUES (:book_id, CURRENT_DATE + 1, 'direct, tomorrow')
RETURNING voucher_id AS fut \gset
INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, category_id)
SELECT :book_id, :fut, x.no, a.account_id, x.side, 100, f.fund_id, CASE WHEN a.spend THEN c.category_id END
  FROM (VALUES (1, '5001', 'D'), (2, '2302', 'C')) x(no, code, side)
  JOIN earmark.account a ON a.book_id = :book_id AND a.code = x.code
  JOIN earmark.fund f ON f.book_id = :book_id AND f.code = 'F1'
  JOIN earmark.use_category c ON c.book_id = :book_id AND c.code = 'JC';
SELECT pg_temp.state() AS s1 \gset
SET ROLE t_d7_rev;
SELECT throws_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :fut),
	'EMD07', format('voucher date %s is in the future (D7)', CURRENT_DATE + 1),
	'D7 backstop: a future-dated draft written past voucher_draft is refused at review');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'D7: the refused review changed nothing');
SET ROLE t_d7_admin;
SELECT throws_ok(format($$SELECT earmark.book_create('B9', 'future', %L, '[{"code": "5001", "name": "x", "kind": "expense", "normal_side": "D"}]')$$, CURRENT_DATE + 1),
	'EMD07', format('book start %s is in the future (D7)', CURRENT_DATE + 1),
	'D7: a book cannot start in the future');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'D7: the refused book left nothing behind');

-- Closed periods ------------------------------------------------------------

-- Prepared and reviewed in an open March; a draft in April; then both months close.
SET ROLE t_d7_clerk;
SELECT earmark.voucher_draft('B1', '2026-03-10', '记', 'reviewed before the close', NULL,
	jsonb_build_array(pg_temp.ln('5001', 'D', 700, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 700, 'F1'))) AS mar \gset
SELECT earmark.voucher_draft('B1', '2026-04-10', '记', 'drafted before the close', NULL,
	jsonb_build_array(pg_temp.ln('5001', 'D', 800, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 800, 'F1'))) AS apr \gset
SET ROLE t_d7_rev;
SELECT earmark.voucher_review('B1', '#' || :mar) AS reviewed \gset
SET ROLE t_d7_clerk;
SELECT throws_ok($$SELECT earmark.period_close('B1', '2026-03-01')$$, '42501', NULL,
	'D7: a clerk cannot close a period');
SET ROLE earmark_admin;
SELECT throws_ok($$SELECT earmark.period_close('B1', '2026-03-01')$$,
	'EMD06', 'role ''earmark_admin'' is a group role, not a person (D6)',
	'D7: a group role cannot close a period');
SET ROLE t_d7_admin;
-- Since 0012 a month closes only with no unposted voucher dated in or before
-- it (EMC01): January's draft holds February, the reviewed voucher March, the
-- draft April.  The D7 backstop below needs them closed anyway, as the schema
-- owner could: the months are closed by direct INSERT.
SELECT throws_ok($$SELECT earmark.period_close('B1', '2026-02-15')$$, 'EMC01', NULL,
	'D7: February is refused while a January draft is open (EMC01)');
SELECT throws_ok($$SELECT earmark.period_close('B1', '2026-03-01')$$, 'EMC01', NULL,
	'D7: March while a voucher in it is reviewed, not posted');
SELECT throws_ok($$SELECT earmark.period_close('B1', '2026-04-30')$$, 'EMC01', NULL,
	'D7: April while a draft is dated in it');
RESET ROLE;
INSERT INTO earmark.period (book_id, month, closed_at, closed_by)
SELECT :book_id, m::date, now(), 't_d7_admin' FROM unnest(ARRAY['2026-02-01', '2026-03-01', '2026-04-01']) m;
SET ROLE t_d7_admin;
SELECT lives_ok($$SELECT earmark.period_close('B1', '2026-04-01')$$, 'D7: closing a closed month again is harmless');
RESET ROLE;
SELECT is((SELECT string_agg(month || ' ' || closed_by, ', ' ORDER BY month) FROM earmark.period WHERE closed_at IS NOT NULL),
	'2026-02-01 t_d7_admin, 2026-03-01 t_d7_admin, 2026-04-01 t_d7_admin',
	'D7: three months are closed, by the administrator');
SELECT pg_temp.state() AS s2 \gset

SET ROLE t_d7_clerk;
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-02-15', '记', 'into February', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', 100, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 100, 'F1')))$$,
	'EMD07', 'period 2026-02 is closed (D7)',
	'D7: a draft dated in a closed period is refused');
SELECT throws_ok($$SELECT earmark.voucher_reverse('B1', '记-2026-01-0001', '2026-03-31', NULL)$$,
	'EMD07', 'period 2026-03 is closed (D7)',
	'D7: a reversal dated in a closed period is refused');
SET ROLE t_d7_rev;
SELECT throws_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :apr),
	'EMD07', 'period 2026-04 is closed (D7)',
	'D7: a draft of a month closed since cannot be reviewed');
SET ROLE t_d7_bk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :mar),
	'EMD07', 'period 2026-03 is closed (D7)',
	'D7: a voucher reviewed before its month closed cannot be posted after');
RESET ROLE;
SELECT is(pg_temp.state(), :'s2', 'D7: the refusals in closed periods changed nothing');
SELECT is((SELECT status || ' ' || COALESCE(number_text, 'unnumbered') FROM earmark.voucher WHERE voucher_id = :mar),
	'reviewed unnumbered', 'D7: the refused voucher stays reviewed and unnumbered');

-- Open months still work, before and after the closed ones.
SELECT is(pg_temp.post('B1', '2026-05-04',
		jsonb_build_array(pg_temp.ln('5001', 'D', 100, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 100, 'F1'))),
	'记-2026-05-0001', 'D7: a voucher in an open month after the closed ones posts');
SELECT is(pg_temp.post('B1', '2026-01-20',
		jsonb_build_array(pg_temp.ln('5001', 'D', 100, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 100, 'F1'))),
	'记-2026-01-0002', 'D7: January, never closed, is open');
SET ROLE t_d7_clerk;
SELECT lives_ok($$SELECT earmark.voucher_reverse('B1', '记-2026-01-0001', '2026-05-05', NULL)$$,
	'D7: a reversal dated in an open month is accepted');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM earmark.voucher v JOIN earmark.period p
             ON p.book_id = v.book_id AND p.month = date_trunc('month', v.voucher_date) AND p.closed_at IS NOT NULL
            WHERE v.status = 'posted'), 0,
	'D7: no posted voucher is dated in a closed month');

SELECT * FROM finish();
ROLLBACK;
