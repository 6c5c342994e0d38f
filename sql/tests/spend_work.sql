-- The spend rules' work table (migration 0020).  The rules (A3, P1-P3,
-- H1-H3, A4) copy the spend lines of the vouchers in hand into
-- pg_temp.em_spend.  earmark.spend_work makes that table once per session,
-- as earmark_owner whoever calls the rules, so that the rules' plans stay
-- cached; so a caller cannot alter it, and a table of that name that
-- earmark did not make is refused, not trusted.  Each call sees its own
-- vouchers' lines only: the lines of the call before are gone.
--
-- And a voucher whose rules passed is recorded with the book's rule epoch
-- (0020, as 0019 did for batches): review and posting run the rules again
-- only when something they read changed since, here a use category the
-- fund no longer permits, in the same transaction as the draft.  A voucher
-- with interest lines is never recorded (A4 reads balances that other
-- postings change), nor one that is not balanced (D1/D2).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(18);
-- Calls of the spend rules are counted.
SET track_functions = 'pl';

CREATE ROLE t_sw_admin LOGIN;
GRANT earmark_admin TO t_sw_admin;
CREATE ROLE t_sw_clerk LOGIN;
GRANT earmark_clerk TO t_sw_clerk;
CREATE ROLE t_sw_rev LOGIN;
GRANT earmark_reviewer TO t_sw_rev;
CREATE ROLE t_sw_bk LOGIN;
GRANT earmark_bookkeeper TO t_sw_bk;

-- The shared helpers (state, ln, error_of, undone, post).
SET earmark_test.people = 't_sw';
\ir fixture/helpers.psql

SET ROLE t_sw_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "2302", "name": "应付账款", "kind": "liability", "normal_side": "C"},
	{"code": "4604", "name": "利息收入", "kind": "revenue", "normal_side": "C"},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"},
	{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "source": "bank_accounts.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'category', $$[
	{"code": "JC", "name": "基础设施", "source": "categories.csv:2"},
	{"code": "CY", "name": "产业发展", "source": "categories.csv:3"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2026, "amount_fen": 500000000, "bank_account": "622800000001", "categories": "JC", "source": "funds.csv:2"}
]$$) AS imported \gset
RESET ROLE;

-- A spend of amount in category cat, owed on 2302.
CREATE FUNCTION pg_temp.spend(amount bigint, cat text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_array(pg_temp.ln('5001', 'D', amount, 'F1', category => cat),
	                         pg_temp.ln('2302', 'C', amount, 'F1'))
$$;
CREATE FUNCTION pg_temp.rule_runs() RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT COALESCE(pg_stat_get_xact_function_calls('earmark.spend_problems_of(integer,bigint[])'::regprocedure), 0)
$$;
CREATE FUNCTION pg_temp.checked(v bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM earmark.batch_checked WHERE voucher_id = v)
$$;
CREATE FUNCTION pg_temp.draft_sql(lines jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT format($q$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', 'spend', NULL, %L)$q$, lines)
$$;

-- Not trusted: a table of that name made by someone else ---------------------

SELECT is(to_regclass('pg_temp.em_spend'), NULL, 'work table: none yet in this session');
SELECT pg_temp.state() AS s0 \gset
SET ROLE t_sw_clerk;
CREATE TEMP TABLE em_spend (voucher_id bigint, line_no integer, fund_id integer, project_id integer,
	village_id integer, household_id integer, category_id integer, voucher_date date, delta bigint);
SELECT throws_ok(pg_temp.draft_sql(pg_temp.spend(100, 'JC')),
	'42P07', 'a temporary table em_spend that earmark did not make is in the way of the spend rules',
	'work table: a clerk''s own em_spend is refused, not used by the rules');
DROP TABLE pg_temp.em_spend;
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'work table: the refused draft wrote nothing');
SET ROLE t_sw_clerk;

-- Made by earmark, once ------------------------------------------------------

SELECT pg_temp.draft_sql(pg_temp.spend(100, 'JC')) AS q \gset
SELECT lives_ok(:'q', 'work table: without it in the way, the spend is drafted');
RESET ROLE;
SELECT is((SELECT relowner::regrole::text FROM pg_class WHERE oid = to_regclass('pg_temp.em_spend')),
	'earmark_owner', 'work table: made by spend_work, it belongs to earmark_owner though a clerk drafted');
SELECT to_regclass('pg_temp.em_spend')::oid AS work_oid \gset
SET ROLE t_sw_clerk;
SELECT throws_ok($$ALTER TABLE pg_temp.em_spend ADD COLUMN x integer$$, '42501', NULL,
	'work table: the clerk cannot alter it');
SELECT throws_ok($$CREATE RULE keep_out AS ON INSERT TO pg_temp.em_spend DO INSTEAD NOTHING$$, '42501', NULL,
	'work table: nor put a rule on it that would hide lines from the rules');

-- Each call sees its own lines only ------------------------------------------

SELECT earmark.voucher_draft('B1', '2026-03-11', '记', 'two spends', NULL,
	pg_temp.spend(200, 'JC') || pg_temp.spend(300, 'JC')) AS second \gset
RESET ROLE;
SELECT is((SELECT count(*) || ' ' || min(voucher_id) || ' ' || max(voucher_id) || ' ' || sum(delta) FROM pg_temp.em_spend),
	'2 ' || :second || ' ' || :second || ' 500',
	'work table: after the second draft it holds that draft''s two spend lines, not the first draft''s');
SELECT is(to_regclass('pg_temp.em_spend')::oid, :'work_oid'::oid,
	'work table: the same table serves the second call (made once per session)');

-- The cached rules still see what they must refuse.
SET ROLE t_sw_clerk;
SELECT throws_ok(pg_temp.draft_sql(pg_temp.spend(100, 'CY')), 'EMA03',
	'line 1: fund ''F1'' does not permit use category ''CY'' (A3)',
	'work table: a later draft in the session is checked on its own lines (A3 refuses CY)');
SELECT lives_ok(pg_temp.draft_sql(pg_temp.spend(100, 'JC')),
	'work table: and a good one after the refusal passes');
RESET ROLE;

-- Checked once, while nothing changes ---------------------------------------

SELECT pg_temp.post('B1', '2026-03-02',
	jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 100000, 'F1')),
	'F1 receives 1,000.00') AS receipt \gset
SELECT pg_temp.rule_runs() AS runs0 \gset
SELECT pg_temp.post('B1', '2026-03-12',
	jsonb_build_array(pg_temp.ln('5001', 'D', 500, 'F1', category => 'JC'),
	                  pg_temp.ln('1002', 'C', 500, 'F1', '622800000001')), 'paid') AS paid \gset
SELECT is(pg_temp.rule_runs() - :runs0, 1::bigint,
	'once per voucher: drafted, reviewed and posted with nothing changed between, the spend rules ran once, at the draft');

SET ROLE t_sw_clerk;
SELECT earmark.voucher_draft('B1', '2026-03-12', '记', 'to review', NULL,
	jsonb_build_array(pg_temp.ln('5001', 'D', 700, 'F1', category => 'JC'),
	                  pg_temp.ln('1002', 'C', 700, 'F1', '622800000001'))) AS later \gset
RESET ROLE;
SELECT ok(pg_temp.checked(:later), 'once per voucher: the draft is recorded as checked');
-- The fund's permitted categories change after the draft, in the same
-- transaction as the draft (and as the imports before it, which raised the
-- epoch already): the change raises it again.
SELECT pg_temp.rule_runs() AS runs1 \gset
SET ROLE earmark_owner;
DELETE FROM earmark.fund_category
 WHERE fund_id = (SELECT fund_id FROM earmark.fund WHERE code = 'F1')
   AND category_id = (SELECT category_id FROM earmark.use_category WHERE code = 'JC');
RESET ROLE;
SET ROLE t_sw_rev;
SELECT throws_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :later), 'EMA03',
	'line 1: fund ''F1'' does not permit use category ''JC'' (A3)',
	'once per voucher: a change to what the rules read since the draft makes the review run them again, and refuse');
RESET ROLE;
SELECT is(pg_temp.rule_runs() - :runs1, 1::bigint, 'once per voucher: the review ran the rules (once)');

-- Never recorded: interest lines (A4), an unbalanced voucher (D1/D2).
SET ROLE t_sw_clerk;
SELECT earmark.voucher_draft('B1', '2026-03-31', '记', 'interest', NULL,
	jsonb_build_array(pg_temp.ln('1002', 'D', 10, 'F1', '622800000001'), pg_temp.ln('4604', 'C', 10, 'F1'))) AS interest \gset
RESET ROLE;
SELECT ok(NOT pg_temp.checked(:interest), 'once per voucher: a voucher with interest lines is not recorded: A4 is checked again at review and posting');
SET ROLE t_sw_clerk;
SELECT throws_ok(pg_temp.draft_sql(jsonb_build_array(pg_temp.ln('2302', 'D', 100, 'F1'),
	                                                   pg_temp.ln('1002', 'C', 99, 'F1', '622800000001'))), 'EMD01', NULL,
	'once per voucher: an unbalanced draft is still refused (D1), the record notwithstanding');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM earmark.batch_checked c JOIN earmark.voucher v USING (book_id, voucher_id)
            WHERE v.status = 'posted'), 0,
	'once per voucher: no posted voucher stays recorded');

SELECT * FROM finish();
ROLLBACK;
