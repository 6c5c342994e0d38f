-- D6 (DESIGN section 4): preparer ≠ reviewer, preparer ≠ poster, reviewer ≠
-- poster; a cashier may not review; the identities are PostgreSQL roles.
--
-- People who hold two jobs (clerk and reviewer, clerk and bookkeeper,
-- reviewer and bookkeeper) are refused the second step on their own
-- vouchers (EMD06); a cashier who is also a reviewer may not review at all;
-- a group role is no person (EMD06); a role without the job lacks the
-- function (42501).  The stamped names are the acting roles, whatever a
-- writer puts in the columns, and the CHECK constraints hold even with the
-- triggers off.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(31);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_d6_admin LOGIN;
GRANT earmark_admin TO t_d6_admin;
CREATE ROLE t_d6_clerk LOGIN;
GRANT earmark_clerk TO t_d6_clerk;
CREATE ROLE t_d6_clerk2 LOGIN;
GRANT earmark_clerk TO t_d6_clerk2;
CREATE ROLE t_d6_rev LOGIN;
GRANT earmark_reviewer TO t_d6_rev;
CREATE ROLE t_d6_bk LOGIN;
GRANT earmark_bookkeeper TO t_d6_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_d6_clerk, t_d6_rev and t_d6_bk unless told otherwise.
SET earmark_test.people = 't_d6';
\ir fixture/helpers.psql

-- The book: 2026 from January, two dedicated accounts; F1 and F2 share the
-- first (A2 keeps their cash apart), F3 has the second.  Every fund permits
-- the use category JC (A3); household H0001 has its ID number (H1).
SET ROLE t_d6_admin;
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

CREATE ROLE t_d6_clerkrev LOGIN;
GRANT earmark_clerk, earmark_reviewer TO t_d6_clerkrev;
CREATE ROLE t_d6_clerkbk LOGIN;
GRANT earmark_clerk, earmark_bookkeeper TO t_d6_clerkbk;
CREATE ROLE t_d6_revbk LOGIN;
GRANT earmark_reviewer, earmark_bookkeeper TO t_d6_revbk;
CREATE ROLE t_d6_cashier LOGIN;
GRANT earmark_cashier, earmark_reviewer TO t_d6_cashier;

-- Review ---------------------------------------------------------------------

SET ROLE t_d6_clerkrev;
SELECT earmark.voucher_draft('B1', '2026-03-02', '记', 'by clerkrev', NULL,
	jsonb_build_array(pg_temp.ln('5001', 'D', 1000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 1000, 'F1'))) AS a \gset
RESET ROLE;
SELECT pg_temp.state() AS s0 \gset
SET ROLE t_d6_clerkrev;
SELECT throws_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :a), 'EMD06',
	format('you prepared voucher #%s; someone else must review it (D6)', :a),
	'D6: the preparer cannot review, even holding the reviewer role');
SET ROLE t_d6_cashier;
SELECT throws_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :a), 'EMD06',
	'a cashier may not review vouchers (D6)',
	'D6: a cashier cannot review, even holding the reviewer role');
SET ROLE t_d6_clerk;
SELECT throws_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :a), '42501', NULL,
	'D6: a clerk cannot call voucher_review');
SET ROLE t_d6_bk;
SELECT throws_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :a), '42501', NULL,
	'D6: a bookkeeper cannot call voucher_review');
SET ROLE earmark_reviewer;
SELECT throws_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :a), 'EMD06',
	'role ''earmark_reviewer'' is a group role, not a person (D6)',
	'D6: the group role earmark_reviewer is no person and cannot review');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'D6: the refused reviews changed nothing');
SELECT is((SELECT status FROM earmark.voucher WHERE voucher_id = :a), 'draft', 'D6: the voucher is still a draft');
SET ROLE t_d6_rev;
SELECT lives_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :a), 'D6: another person reviews it');
RESET ROLE;
SELECT is((SELECT prepared_by || ' ' || reviewed_by FROM earmark.voucher WHERE voucher_id = :a),
	't_d6_clerkrev t_d6_rev', 'D6: preparer and reviewer are the acting roles');

-- Posting --------------------------------------------------------------------

SET ROLE t_d6_clerkbk;
SELECT earmark.voucher_draft('B1', '2026-03-03', '记', 'by clerkbk', NULL,
	jsonb_build_array(pg_temp.ln('5001', 'D', 2000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 2000, 'F1'))) AS b \gset
SET ROLE t_d6_revbk;
SELECT earmark.voucher_review('B1', '#' || :b) AS reviewed \gset
RESET ROLE;
SELECT pg_temp.state() AS s1 \gset
SET ROLE t_d6_clerkbk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :b), 'EMD06',
	format('you prepared voucher #%s; someone else must post it (D6)', :b),
	'D6: the preparer cannot post, even holding the bookkeeper role');
SET ROLE t_d6_revbk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :b), 'EMD06',
	format('you reviewed voucher #%s; someone else must post it (D6)', :b),
	'D6: the reviewer cannot post, even holding the bookkeeper role');
SET ROLE t_d6_clerk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :b), '42501', NULL,
	'D6: a clerk cannot call voucher_post');
SET ROLE t_d6_rev;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :b), '42501', NULL,
	'D6: a reviewer cannot call voucher_post');
SET ROLE earmark_bookkeeper;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :b), 'EMD06',
	'role ''earmark_bookkeeper'' is a group role, not a person (D6)',
	'D6: the group role earmark_bookkeeper is no person and cannot post');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'D6: the refused postings changed nothing');
SET ROLE t_d6_bk;
SELECT is(earmark.voucher_post('B1', '#' || :b), '记-2026-03-0001', 'D6: a third person posts it');
SELECT is(earmark.voucher_post('B1', '#' || :a), '记-2026-03-0002', 'D6: and the first one');
RESET ROLE;
SELECT is((SELECT string_agg(concat_ws(' ', prepared_by, reviewed_by, posted_by), '; ' ORDER BY number)
             FROM earmark.voucher WHERE voucher_id IN (:a, :b)),
	't_d6_clerkbk t_d6_revbk t_d6_bk; t_d6_clerkrev t_d6_rev t_d6_bk',
	'D6: the three stamps are three roles, the ones that acted');

-- Preparing: only people with the clerk's job ---------------------------------

SELECT pg_temp.state() AS s2 \gset
SET ROLE earmark_clerk;
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-04', '记', 'group', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', 1000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 1000, 'F1')))$$,
	'EMD06', 'role ''earmark_clerk'' is a group role, not a person (D6)',
	'D6: SET ROLE earmark_clerk is no person and cannot prepare');
SET ROLE t_d6_rev;
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-04', '记', 'reviewer', NULL,
		jsonb_build_array(pg_temp.ln('5001', 'D', 1000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 1000, 'F1')))$$,
	'42501', NULL,
	'D6: a reviewer cannot call voucher_draft');
SET ROLE earmark_owner;
SELECT throws_ok(format($$INSERT INTO earmark.voucher (book_id, voucher_date) VALUES (%s, '2026-03-04')$$, :book_id),
	'EMD06', 'role ''earmark_owner'' is a group role, not a person (D6)',
	'D6: the schema owner is no person and cannot prepare even in the table');
RESET ROLE;
SELECT is(pg_temp.state(), :'s2', 'D6: the refused drafts left nothing behind');

-- Stamps come from the session, not from what the writer says ----------------

INSERT INTO earmark.voucher (book_id, voucher_date, prepared_by, prepared_at)
VALUES (:book_id, '2026-03-05', 't_d6_rev', '2000-01-01') RETURNING voucher_id AS c \gset
SELECT is((SELECT prepared_by::text || ' ' || (prepared_at = now()) FROM earmark.voucher WHERE voucher_id = :c),
	'postgres true', 'D6: prepared_by and prepared_at are stamped by the database, not taken from the writer');
SELECT throws_ok(format($$UPDATE earmark.voucher SET prepared_by = 't_d6_clerk' WHERE voucher_id = %s$$, :c),
	'EMD03', format('voucher #%s cannot change its identity or preparer (D3)', :c),
	'D6: the preparer cannot be rewritten');
-- A superuser may post (pg_has_role is true for it), but whom the row names
-- as reviewer is not the writer's to say.
SET ROLE t_d6_clerk;
SELECT earmark.voucher_draft('B1', '2026-03-06', '记', 'by clerk', NULL,
	jsonb_build_array(pg_temp.ln('5001', 'D', 400, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 400, 'F1'))) AS d \gset
SET ROLE t_d6_rev;
SELECT earmark.voucher_review('B1', '#' || :d) AS reviewed \gset
RESET ROLE;
SELECT throws_ok(format('SELECT pg_temp.undone(%L)',
		format($$UPDATE earmark.voucher SET status = 'posted', reviewed_by = 't_d6_clerk2' WHERE voucher_id = %s$$, :d)),
	'EMD03', NULL,
	'D6: the reviewer cannot be rewritten when posting');
SELECT is((SELECT reviewed_by::text FROM earmark.voucher WHERE voucher_id = :d),
	't_d6_rev', 'D6: the voucher still names its real reviewer');
SELECT lives_ok(format($$UPDATE earmark.voucher SET status = 'posted' WHERE voucher_id = %s$$, :d),
	'D6: posting it plainly works');
SELECT is((SELECT concat_ws(' ', prepared_by, reviewed_by, posted_by) FROM earmark.voucher WHERE voucher_id = :d),
	't_d6_clerk t_d6_rev postgres', 'D6: and names the three who acted');

-- The constraints hold with the triggers off ---------------------------------

SET ROLE earmark_owner;
ALTER TABLE earmark.voucher DISABLE TRIGGER USER;
SELECT throws_ok(format($$UPDATE earmark.voucher SET reviewed_by = prepared_by WHERE voucher_id = %s$$, :a),
	'23514', NULL,
	'D6 backstop: a CHECK refuses reviewer = preparer');
SELECT throws_ok(format($$UPDATE earmark.voucher SET posted_by = prepared_by WHERE voucher_id = %s$$, :a),
	'23514', NULL,
	'D6 backstop: a CHECK refuses poster = preparer');
SELECT throws_ok(format($$UPDATE earmark.voucher SET posted_by = reviewed_by WHERE voucher_id = %s$$, :a),
	'23514', NULL,
	'D6 backstop: a CHECK refuses poster = reviewer');
ALTER TABLE earmark.voucher ENABLE TRIGGER USER;
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
