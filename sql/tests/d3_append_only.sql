-- D3 (DESIGN section 4): posted vouchers and their lines are append-only;
-- drafts may be changed by their preparer only.
--
-- Two walls.  Privileges: no application group role may UPDATE, DELETE,
-- TRUNCATE or INSERT into voucher or line (42501), whatever the row.  The
-- triggers, behind them: even earmark_owner, who owns the tables, and a
-- superuser cannot change, delete or truncate a posted or reviewed voucher
-- or its lines, nor add a line to one (EMD03).  A draft is changed or
-- discarded by its preparer only, through the API (voucher_discard) or,
-- for a privileged session, straight in the tables, lines included.  A
-- reviewed voucher sent back (voucher_reject) is its preparer's draft again.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(103);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_d3_admin LOGIN;
GRANT earmark_admin TO t_d3_admin;
CREATE ROLE t_d3_clerk LOGIN;
GRANT earmark_clerk TO t_d3_clerk;
CREATE ROLE t_d3_clerk2 LOGIN;
GRANT earmark_clerk TO t_d3_clerk2;
CREATE ROLE t_d3_rev LOGIN;
GRANT earmark_reviewer TO t_d3_rev;
CREATE ROLE t_d3_bk LOGIN;
GRANT earmark_bookkeeper TO t_d3_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_d3_clerk, t_d3_rev and t_d3_bk unless told otherwise.
SET earmark_test.people = 't_d3';
\ir fixture/helpers.psql

-- The book: 2026 from January, two dedicated accounts; F1 and F2 share the
-- first (A2 keeps their cash apart), F3 has the second.  Every fund permits
-- the use category JC (A3); household H0001 has its ID number (H1).
SET ROLE t_d3_admin;
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

-- One posted receipt, one reviewed payable, one draft.
SELECT pg_temp.post('B1', '2026-03-02',
	jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 100000, 'F1')),
	'收到中央衔接资金') AS num \gset
SELECT voucher_id AS vid FROM earmark.voucher WHERE number_text = :'num' \gset
SET ROLE t_d3_clerk;
SELECT earmark.voucher_draft('B1', '2026-03-03', '记', 'payable', NULL,
	jsonb_build_array(pg_temp.ln('5001', 'D', 30000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 30000, 'F1'))) AS rvid \gset
SELECT earmark.voucher_draft('B1', '2026-03-04', '记', 'draft', NULL,
	jsonb_build_array(pg_temp.ln('5001', 'D', 20000, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 20000, 'F1'))) AS did \gset
SET ROLE t_d3_rev;
SELECT earmark.voucher_review('B1', '#' || :rvid) AS reviewed \gset
RESET ROLE;
SELECT is(:'num'::text, '记-2026-03-0001', 'setup: the receipt is posted');

SELECT pg_temp.state() AS s0 \gset

-- Privileges: no application role writes the tables -------------------------

SET ROLE earmark_clerk;
SELECT throws_ok(format($$UPDATE earmark.voucher SET memo = 'x' WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_clerk cannot UPDATE a posted voucher');
SELECT throws_ok(format($$DELETE FROM earmark.voucher WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_clerk cannot DELETE a posted voucher');
SELECT throws_ok('TRUNCATE earmark.voucher CASCADE', '42501', NULL,
	'D3: earmark_clerk cannot TRUNCATE voucher');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_clerk cannot UPDATE a posted line');
SELECT throws_ok(format($$DELETE FROM earmark.line WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_clerk cannot DELETE a posted line');
SELECT throws_ok('TRUNCATE earmark.line', '42501', NULL,
	'D3: earmark_clerk cannot TRUNCATE line');
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id)
	SELECT book_id, voucher_id, 3, account_id, side, amount_fen, fund_id FROM earmark.line WHERE voucher_id = %s AND line_no = 1$$, :vid),
	'42501', NULL, 'D3: earmark_clerk cannot INSERT a line into a posted voucher');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s$$, :did), '42501', NULL,
	'D3: earmark_clerk cannot UPDATE even a draft''s lines directly');
RESET ROLE;

SET ROLE earmark_reviewer;
SELECT throws_ok(format($$UPDATE earmark.voucher SET memo = 'x' WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_reviewer cannot UPDATE a posted voucher');
SELECT throws_ok(format($$DELETE FROM earmark.voucher WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_reviewer cannot DELETE a posted voucher');
SELECT throws_ok('TRUNCATE earmark.voucher CASCADE', '42501', NULL,
	'D3: earmark_reviewer cannot TRUNCATE voucher');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_reviewer cannot UPDATE a posted line');
SELECT throws_ok(format($$DELETE FROM earmark.line WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_reviewer cannot DELETE a posted line');
SELECT throws_ok('TRUNCATE earmark.line', '42501', NULL,
	'D3: earmark_reviewer cannot TRUNCATE line');
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id)
	SELECT book_id, voucher_id, 3, account_id, side, amount_fen, fund_id FROM earmark.line WHERE voucher_id = %s AND line_no = 1$$, :vid),
	'42501', NULL, 'D3: earmark_reviewer cannot INSERT a line into a posted voucher');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s$$, :did), '42501', NULL,
	'D3: earmark_reviewer cannot UPDATE even a draft''s lines directly');
RESET ROLE;

SET ROLE earmark_bookkeeper;
SELECT throws_ok(format($$UPDATE earmark.voucher SET memo = 'x' WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_bookkeeper cannot UPDATE a posted voucher');
SELECT throws_ok(format($$DELETE FROM earmark.voucher WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_bookkeeper cannot DELETE a posted voucher');
SELECT throws_ok('TRUNCATE earmark.voucher CASCADE', '42501', NULL,
	'D3: earmark_bookkeeper cannot TRUNCATE voucher');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_bookkeeper cannot UPDATE a posted line');
SELECT throws_ok(format($$DELETE FROM earmark.line WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_bookkeeper cannot DELETE a posted line');
SELECT throws_ok('TRUNCATE earmark.line', '42501', NULL,
	'D3: earmark_bookkeeper cannot TRUNCATE line');
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id)
	SELECT book_id, voucher_id, 3, account_id, side, amount_fen, fund_id FROM earmark.line WHERE voucher_id = %s AND line_no = 1$$, :vid),
	'42501', NULL, 'D3: earmark_bookkeeper cannot INSERT a line into a posted voucher');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s$$, :did), '42501', NULL,
	'D3: earmark_bookkeeper cannot UPDATE even a draft''s lines directly');
RESET ROLE;

SET ROLE earmark_cashier;
SELECT throws_ok(format($$UPDATE earmark.voucher SET memo = 'x' WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_cashier cannot UPDATE a posted voucher');
SELECT throws_ok(format($$DELETE FROM earmark.voucher WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_cashier cannot DELETE a posted voucher');
SELECT throws_ok('TRUNCATE earmark.voucher CASCADE', '42501', NULL,
	'D3: earmark_cashier cannot TRUNCATE voucher');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_cashier cannot UPDATE a posted line');
SELECT throws_ok(format($$DELETE FROM earmark.line WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_cashier cannot DELETE a posted line');
SELECT throws_ok('TRUNCATE earmark.line', '42501', NULL,
	'D3: earmark_cashier cannot TRUNCATE line');
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id)
	SELECT book_id, voucher_id, 3, account_id, side, amount_fen, fund_id FROM earmark.line WHERE voucher_id = %s AND line_no = 1$$, :vid),
	'42501', NULL, 'D3: earmark_cashier cannot INSERT a line into a posted voucher');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s$$, :did), '42501', NULL,
	'D3: earmark_cashier cannot UPDATE even a draft''s lines directly');
RESET ROLE;

SET ROLE earmark_admin;
SELECT throws_ok(format($$UPDATE earmark.voucher SET memo = 'x' WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_admin cannot UPDATE a posted voucher');
SELECT throws_ok(format($$DELETE FROM earmark.voucher WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_admin cannot DELETE a posted voucher');
SELECT throws_ok('TRUNCATE earmark.voucher CASCADE', '42501', NULL,
	'D3: earmark_admin cannot TRUNCATE voucher');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_admin cannot UPDATE a posted line');
SELECT throws_ok(format($$DELETE FROM earmark.line WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_admin cannot DELETE a posted line');
SELECT throws_ok('TRUNCATE earmark.line', '42501', NULL,
	'D3: earmark_admin cannot TRUNCATE line');
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id)
	SELECT book_id, voucher_id, 3, account_id, side, amount_fen, fund_id FROM earmark.line WHERE voucher_id = %s AND line_no = 1$$, :vid),
	'42501', NULL, 'D3: earmark_admin cannot INSERT a line into a posted voucher');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s$$, :did), '42501', NULL,
	'D3: earmark_admin cannot UPDATE even a draft''s lines directly');
RESET ROLE;

SET ROLE earmark_auditor;
SELECT throws_ok(format($$UPDATE earmark.voucher SET memo = 'x' WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_auditor cannot UPDATE a posted voucher');
SELECT throws_ok(format($$DELETE FROM earmark.voucher WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_auditor cannot DELETE a posted voucher');
SELECT throws_ok('TRUNCATE earmark.voucher CASCADE', '42501', NULL,
	'D3: earmark_auditor cannot TRUNCATE voucher');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_auditor cannot UPDATE a posted line');
SELECT throws_ok(format($$DELETE FROM earmark.line WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_auditor cannot DELETE a posted line');
SELECT throws_ok('TRUNCATE earmark.line', '42501', NULL,
	'D3: earmark_auditor cannot TRUNCATE line');
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id)
	SELECT book_id, voucher_id, 3, account_id, side, amount_fen, fund_id FROM earmark.line WHERE voucher_id = %s AND line_no = 1$$, :vid),
	'42501', NULL, 'D3: earmark_auditor cannot INSERT a line into a posted voucher');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s$$, :did), '42501', NULL,
	'D3: earmark_auditor cannot UPDATE even a draft''s lines directly');
RESET ROLE;

SET ROLE earmark_public;
SELECT throws_ok(format($$UPDATE earmark.voucher SET memo = 'x' WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_public cannot UPDATE a posted voucher');
SELECT throws_ok(format($$DELETE FROM earmark.voucher WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_public cannot DELETE a posted voucher');
SELECT throws_ok('TRUNCATE earmark.voucher CASCADE', '42501', NULL,
	'D3: earmark_public cannot TRUNCATE voucher');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_public cannot UPDATE a posted line');
SELECT throws_ok(format($$DELETE FROM earmark.line WHERE voucher_id = %s$$, :vid), '42501', NULL,
	'D3: earmark_public cannot DELETE a posted line');
SELECT throws_ok('TRUNCATE earmark.line', '42501', NULL,
	'D3: earmark_public cannot TRUNCATE line');
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id)
	SELECT book_id, voucher_id, 3, account_id, side, amount_fen, fund_id FROM earmark.line WHERE voucher_id = %s AND line_no = 1$$, :vid),
	'42501', NULL, 'D3: earmark_public cannot INSERT a line into a posted voucher');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s$$, :did), '42501', NULL,
	'D3: earmark_public cannot UPDATE even a draft''s lines directly');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'D3: the application roles changed nothing');

-- The triggers: the owner and a superuser are refused too -----------------

SET ROLE earmark_owner;
SELECT throws_ok(format($$UPDATE earmark.voucher SET memo = 'rewritten' WHERE voucher_id = %s$$, :vid),
	'EMD03', 'posted voucher 记-2026-03-0001 cannot be changed (D3)',
	'D3: the owner cannot UPDATE a posted voucher');
SELECT throws_ok(format($$UPDATE earmark.voucher SET status = 'draft' WHERE voucher_id = %s$$, :vid),
	'EMD03', 'posted voucher 记-2026-03-0001 cannot be changed (D3)',
	'D3: the owner cannot take a posted voucher back to draft');
SELECT throws_ok(format($$DELETE FROM earmark.voucher WHERE voucher_id = %s$$, :vid),
	'EMD03', 'voucher 记-2026-03-0001 cannot be deleted: it is posted (D3)',
	'D3: the owner cannot DELETE a posted voucher');
SELECT throws_ok('TRUNCATE earmark.voucher CASCADE',
	'EMD03', 'table earmark.voucher cannot be truncated (D3)',
	'D3: the owner cannot TRUNCATE voucher (with its lines)');
SELECT throws_ok('TRUNCATE earmark.voucher', '0A000', NULL,
	'D3: the owner cannot TRUNCATE voucher alone either (lines reference it)');
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s AND line_no = 1$$, :vid),
	'EMD03', 'lines of voucher 记-2026-03-0001 cannot be changed: it is posted (D3)',
	'D3: the owner cannot UPDATE a posted line');
SELECT throws_ok(format($$UPDATE earmark.line SET memo = 'x' WHERE voucher_id = %s AND line_no = 2$$, :vid),
	'EMD03', 'lines of voucher 记-2026-03-0001 cannot be changed: it is posted (D3)',
	'D3: the owner cannot change even a posted line''s memo');
SELECT throws_ok(format($$DELETE FROM earmark.line WHERE voucher_id = %s$$, :vid),
	'EMD03', 'lines of voucher 记-2026-03-0001 cannot be changed: it is posted (D3)',
	'D3: the owner cannot DELETE a posted line');
SELECT throws_ok('TRUNCATE earmark.line',
	'EMD03', 'table earmark.line cannot be truncated (D3)',
	'D3: the owner cannot TRUNCATE line');
SELECT throws_ok(format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id)
	SELECT book_id, voucher_id, 3, account_id, side, amount_fen, fund_id FROM earmark.line WHERE voucher_id = %s AND line_no = 1$$, :vid),
	'EMD03', 'lines of voucher 记-2026-03-0001 cannot be changed: it is posted (D3)',
	'D3: the owner cannot INSERT a line into a posted voucher');
SELECT throws_ok(format($$INSERT INTO earmark.voucher (book_id, voucher_date, status, reviewed_by, posted_by)
	VALUES (%s, '2026-03-05', 'posted', 'a', 'b')$$, :book_id),
	'EMD03', 'a voucher is born a draft (D3)',
	'D3: the owner cannot INSERT a voucher that is already posted');
-- a reviewed voucher is frozen as well
SELECT throws_ok(format($$UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = %s AND line_no = 1$$, :rvid),
	'EMD03', format('lines of voucher #%s cannot be changed: it is reviewed (D3)', :rvid),
	'D3: the owner cannot UPDATE a reviewed voucher''s line');
SELECT throws_ok(format($$DELETE FROM earmark.voucher WHERE voucher_id = %s$$, :rvid),
	'EMD03', format('voucher #%s cannot be deleted: it is reviewed (D3)', :rvid),
	'D3: the owner cannot DELETE a reviewed voucher');
RESET ROLE;
-- A superuser acting as a person: the same.
SELECT throws_ok(format($$UPDATE earmark.voucher SET memo = 'rewritten' WHERE voucher_id = %s$$, :vid),
	'EMD03', 'posted voucher 记-2026-03-0001 cannot be changed (D3)',
	'D3: a superuser cannot UPDATE a posted voucher');
SELECT throws_ok(format($$DELETE FROM earmark.line WHERE voucher_id = %s$$, :vid),
	'EMD03', 'lines of voucher 记-2026-03-0001 cannot be changed: it is posted (D3)',
	'D3: a superuser cannot DELETE a posted line');
SELECT throws_ok(format($$UPDATE earmark.voucher SET memo = 'edited after review' WHERE voucher_id = %s$$, :rvid),
	'EMD03', format('voucher #%s cannot be edited once reviewed (D3)', :rvid),
	'D3: a superuser cannot edit a reviewed voucher');
SELECT is(pg_temp.state(), :'s0', 'D3: the owner and the superuser changed nothing');
SET ROLE t_d3_clerk;
SELECT throws_ok(format($$SELECT earmark.voucher_discard('B1', '%s')$$, :'num'),
	'EMD03', 'voucher 记-2026-03-0001 is posted and cannot be discarded (D3)',
	'D3: a posted voucher cannot be discarded');
RESET ROLE;

-- Drafts: their preparer's only ---------------------------------------------

SET ROLE t_d3_clerk2;
SELECT throws_ok(format($$SELECT earmark.voucher_discard('B1', '#%s')$$, :did),
	'EMD03', format('draft #%s belongs to ''t_d3_clerk'' (D3)', :did),
	'D3: another clerk cannot discard the draft');
RESET ROLE;
SET ROLE t_d3_rev;
SELECT throws_ok(format($$SELECT earmark.voucher_discard('B1', '#%s')$$, :did),
	'42501', NULL,
	'D3: a reviewer cannot discard drafts at all');
RESET ROLE;
-- A superuser is a person too (postgres), but not this draft's preparer.
SELECT throws_ok(format($$UPDATE earmark.voucher SET memo = 'not mine' WHERE voucher_id = %s$$, :did),
	'EMD03', format('draft #%s belongs to ''t_d3_clerk'' (D3)', :did),
	'D3: someone else cannot edit the draft''s memo');
SELECT throws_ok(format($$DELETE FROM earmark.voucher WHERE voucher_id = %s$$, :did),
	'EMD03', format('draft #%s belongs to ''t_d3_clerk'' (D3)', :did),
	'D3: someone else cannot delete the draft');
SELECT is(pg_temp.state(), :'s0', 'D3: the refused draft edits changed nothing');
-- The lines of a draft are the draft: the same rule holds for them.
SELECT throws_ok(format('SELECT pg_temp.undone(%L)', format($$UPDATE earmark.line SET amount_fen = 99 WHERE voucher_id = %s$$, :did)),
	'EMD03', NULL,
	'D3: someone else cannot change the draft''s lines');
SELECT throws_ok(format('SELECT pg_temp.undone(%L)', format($$DELETE FROM earmark.line WHERE voucher_id = %s AND line_no = 2$$, :did)),
	'EMD03', NULL,
	'D3: someone else cannot delete the draft''s lines');
SELECT throws_ok(format('SELECT pg_temp.undone(%L)', format($$INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id)
	SELECT book_id, voucher_id, 3, account_id, side, amount_fen, fund_id FROM earmark.line WHERE voucher_id = %s AND line_no = 1$$, :did)),
	'EMD03', NULL,
	'D3: someone else cannot add lines to the draft');
-- The owner is no person (D6): it may not touch a draft, as it may not the voucher row.
SET ROLE earmark_owner;
SELECT throws_ok(format($$UPDATE earmark.voucher SET memo = 'owner' WHERE voucher_id = %s$$, :did),
	'EMD06', 'role ''earmark_owner'' is a group role, not a person (D6)',
	'D3: the owner cannot edit a draft');
SELECT throws_ok(format('SELECT pg_temp.undone(%L)', format($$UPDATE earmark.line SET amount_fen = 99 WHERE voucher_id = %s$$, :did)),
	'EMD06', 'role ''earmark_owner'' is a group role, not a person (D6)',
	'D3: the owner cannot change a draft''s lines');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'D3: the refused line changes changed nothing');

-- The preparer can.  The superuser's own draft shows the trigger's side of it.
SELECT earmark.voucher_draft('B1', '2026-03-06', '记', 'mine', NULL,
	jsonb_build_array(pg_temp.ln('5001', 'D', 500, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 500, 'F1'))) AS mine \gset
SELECT lives_ok(format($$UPDATE earmark.voucher SET memo = 'mine, edited', voucher_date = '2026-03-07' WHERE voucher_id = %s$$, :mine),
	'D3: the preparer edits the draft');
SELECT lives_ok(format($$UPDATE earmark.line SET amount_fen = 700 WHERE voucher_id = %s$$, :mine),
	'D3: the preparer edits the draft''s lines');
SELECT is((SELECT v.memo || ' ' || v.voucher_date || ' ' || sum(l.amount_fen)
             FROM earmark.voucher v JOIN earmark.line l USING (book_id, voucher_id)
            WHERE v.voucher_id = :mine GROUP BY v.memo, v.voucher_date),
	'mine, edited 2026-03-07 1400', 'D3: the edits are kept');
SELECT lives_ok(format($$DELETE FROM earmark.line WHERE voucher_id = %1$s; DELETE FROM earmark.voucher WHERE voucher_id = %1$s$$, :mine),
	'D3: the preparer deletes the draft');
SET ROLE t_d3_clerk;
SELECT lives_ok(format($$SELECT earmark.voucher_discard('B1', '#%s')$$, :did),
	'D3: the preparer discards the draft');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM earmark.voucher WHERE voucher_id IN (:did, :mine))
        + (SELECT count(*)::int FROM earmark.line WHERE voucher_id IN (:did, :mine)), 0,
	'D3: the discarded drafts are gone with their lines');
SELECT is((SELECT count(*)::int FROM earmark.voucher WHERE voucher_id IN (:vid, :rvid)), 2,
	'D3: the posted and the reviewed voucher are still there');

-- Sent back: a reviewed voucher goes back to its preparer as a draft --------

SELECT pg_temp.state() AS s1 \gset
SET ROLE t_d3_clerk;
SELECT throws_ok(format($$SELECT earmark.voucher_reject('B1', '#%s')$$, :rvid), '42501', NULL,
	'D3: a clerk cannot send a voucher back');
SET ROLE earmark_reviewer;
SELECT throws_ok(format($$SELECT earmark.voucher_reject('B1', '#%s')$$, :rvid),
	'EMD06', 'role ''earmark_reviewer'' is a group role, not a person (D6)',
	'D3: a group role cannot send a voucher back');
SET ROLE t_d3_rev;
SELECT throws_ok(format($$SELECT earmark.voucher_reject('B1', %L)$$, :'num'),
	'EMS01', 'voucher 记-2026-03-0001 is posted; only a reviewed voucher can be sent back',
	'D3: a posted voucher cannot be sent back');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'D3: the refused send-backs changed nothing');
SET ROLE t_d3_rev;
SELECT lives_ok(format($$SELECT earmark.voucher_reject('B1', '#%s')$$, :rvid), 'D3: the reviewer sends the reviewed voucher back');
RESET ROLE;
SELECT is((SELECT concat_ws(' ', status, prepared_by, COALESCE(reviewed_by, '-'), COALESCE(reviewed_at::text, '-'), COALESCE(number_text, '-'))
             FROM earmark.voucher WHERE voucher_id = :rvid),
	'draft t_d3_clerk - - -', 'D3: it is its preparer''s draft again, with no reviewer');
SET ROLE t_d3_clerk2;
SELECT throws_ok(format($$SELECT earmark.voucher_discard('B1', '#%s')$$, :rvid),
	'EMD03', format('draft #%s belongs to ''t_d3_clerk'' (D3)', :rvid),
	'D3: another clerk still cannot discard it');
SET ROLE t_d3_clerk;
SELECT lives_ok(format($$SELECT earmark.voucher_discard('B1', '#%s')$$, :rvid), 'D3: its preparer can');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM earmark.voucher), 1, 'D3: only the posted voucher is left');

SELECT * FROM finish();
ROLLBACK;
