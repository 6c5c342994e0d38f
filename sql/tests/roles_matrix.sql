-- The roles matrix (DESIGN section 8, issue 8): what each group role may
-- do, written out here in full and compared with the catalog, so that a
-- GRANT nobody put in this matrix fails the test; then each role tries,
-- as a person in it, the direct SQL an application role must never run
-- (INSERT, UPDATE, DELETE, TRUNCATE on the ledger) and the functions of
-- the other jobs, and is refused; the calls of its own job pass.
--
-- roles_privileges.sql checks the shape of the fences (owner, search_path,
-- PUBLIC, defaults); d6_segregation.sql the person-level rules (D6); this
-- file is the job-by-job table.  earmark_public reads public_notice and
-- nothing else (notices.sql shows what it reads there).
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(37);

-- People: one LOGIN role per job, created inside the transaction so the
-- ROLLBACK removes them, named after this file (roles are cluster-wide).
CREATE ROLE t_rm_clerk LOGIN;
GRANT earmark_clerk TO t_rm_clerk;
CREATE ROLE t_rm_rev LOGIN;
GRANT earmark_reviewer TO t_rm_rev;
CREATE ROLE t_rm_bk LOGIN;
GRANT earmark_bookkeeper TO t_rm_bk;
CREATE ROLE t_rm_cashier LOGIN;
GRANT earmark_cashier TO t_rm_cashier;
CREATE ROLE t_rm_admin LOGIN;
GRANT earmark_admin TO t_rm_admin;
CREATE ROLE t_rm_auditor LOGIN;
GRANT earmark_auditor TO t_rm_auditor;
CREATE ROLE t_rm_board LOGIN;
GRANT earmark_public TO t_rm_board;

SET earmark_test.people = 't_rm';
\ir fixture/helpers.psql

-- The jobs, and the person who holds each here.
CREATE TEMP TABLE job (rolname name PRIMARY KEY, person name NOT NULL, ord integer NOT NULL);
INSERT INTO job VALUES ('earmark_clerk', 't_rm_clerk', 1), ('earmark_reviewer', 't_rm_rev', 2),
	('earmark_bookkeeper', 't_rm_bk', 3), ('earmark_cashier', 't_rm_cashier', 4),
	('earmark_admin', 't_rm_admin', 5), ('earmark_auditor', 't_rm_auditor', 6),
	('earmark_public', 't_rm_board', 7);
GRANT SELECT ON job TO PUBLIC;

-- Runs sql as the person; returns 'ok' or the SQLSTATE it raised.
CREATE FUNCTION pg_temp.try_as(who name, sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	was text := current_setting('role');
	st text;
BEGIN
	PERFORM set_config('role', who, false);
	BEGIN
		EXECUTE sql;
		st := 'ok';
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
	END;
	PERFORM set_config('role', was, false);
	RETURN st;
END
$$;

-- A small book: one fund, one village, one household, a posted receipt.
SET ROLE t_rm_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"},
	{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "source": "bank_accounts.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'category', $$[{"code": "JC", "name": "基础设施", "source": "categories.csv:2"}]$$) AS imported \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2026, "amount_fen": 500000000, "bank_account": "622800000001", "categories": "JC", "source": "funds.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'village', $$[{"code": "610826101201", "name": "东沟村", "township": "城关镇", "source": "villages.csv:2"}]$$) AS imported \gset
SELECT earmark.master_import('B1', 'household', $$[
	{"code": "H0001", "village": "610826101201", "head_name": "张三", "id_no": "610826198003120014", "source": "households.csv:2"}
]$$) AS imported \gset
RESET ROLE;
SELECT pg_temp.post('B1', '2026-03-02',
	jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 100000, 'F1')),
	'receipt', '记', 't_rm_clerk', 't_rm_rev', 't_rm_bk') AS num \gset

-- The owner and the jobs ----------------------------------------------------------

SELECT is((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'earmark_owner'), false,
	'matrix: the schema owner earmark_owner cannot log in');
SELECT is_empty($$SELECT j.rolname FROM job j
                   WHERE pg_has_role(j.rolname, 'earmark_owner', 'MEMBER')
                      OR pg_has_role('earmark_owner', j.rolname, 'MEMBER')$$,
	'matrix: the owner and the jobs are apart: neither is a member of the other');
SELECT is_empty($$SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c
                   WHERE pg_get_userbyid(c.relowner) IN (SELECT rolname FROM job)
                  UNION ALL
                  SELECT p.proname, pg_get_userbyid(p.proowner) FROM pg_proc p
                   WHERE pg_get_userbyid(p.proowner) IN (SELECT rolname FROM job)$$,
	'matrix: no application role owns a table, view, sequence or function anywhere in the database');
SELECT is((SELECT pg_get_userbyid(nspowner)::text FROM pg_namespace WHERE nspname = 'earmark'), 'earmark_owner',
	'matrix: earmark_owner owns the schema');

-- Tables: the full matrix ------------------------------------------------------------
-- Every privilege any job holds on any relation of schema earmark, against
-- the list below.  The office (clerk, reviewer, bookkeeper, cashier, admin)
-- and the auditor read the ledger; personal data is the office's only (H4);
-- the clerk COPYs batches into pay_staging without reading it; the public
-- reads public_notice.  Nothing else, and no job writes any table.

CREATE TEMP TABLE expected_table (relname text, rolname text, priv text);
INSERT INTO expected_table
SELECT t, j.rolname, 'SELECT'
  FROM unnest(ARRAY['account', 'audit_package', 'bank_match', 'bank_statement', 'beneficiary', 'beneficiary_list',
                    'book', 'book_setting', 'budget_revision', 'carry_forward', 'chain_head', 'constraint_message',
                    'day_balance', 'dedicated_account', 'fund', 'fund_cash', 'fund_category', 'fund_spend_day',
                    'household', 'household_cap', 'household_payment', 'household_spend', 'line', 'line_coded',
                    'negative_item', 'negative_list', 'notice', 'notice_contact', 'notice_list', 'objection',
                    'pay_batch', 'payment_return', 'period', 'period_balance', 'project', 'project_budget',
                    'project_claim', 'project_event', 'project_spend', 'project_target', 'project_village',
                    'public_notice', 'refusal', 'spend_month', 'statement_line', 'use_category', 'user_township',
                    'village', 'village_month', 'voucher', 'year_end_balance']) t,
       job j
 WHERE j.rolname <> 'earmark_public';
INSERT INTO expected_table
SELECT 'household_private', rolname, 'SELECT' FROM job WHERE rolname NOT IN ('earmark_auditor', 'earmark_public');
INSERT INTO expected_table VALUES ('pay_staging', 'earmark_clerk', 'INSERT'), ('public_notice', 'earmark_public', 'SELECT');

SELECT set_eq(
	$$SELECT c.relname::text, j.rolname::text, p.priv
	    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, job j,
	         unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p(priv)
	   WHERE n.nspname = 'earmark' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
	     AND (has_table_privilege(j.rolname, c.oid, p.priv)
	          OR p.priv IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
	             AND has_any_column_privilege(j.rolname, c.oid, p.priv))$$,
	'SELECT relname, rolname, priv FROM expected_table',
	'matrix: every table privilege of every job is the one this matrix lists');
SELECT is_empty($$SELECT c.relname, j.rolname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, job j
                   WHERE n.nspname = 'earmark' AND c.relkind = 'S'
                     AND (has_sequence_privilege(j.rolname, c.oid, 'USAGE') OR has_sequence_privilege(j.rolname, c.oid, 'SELECT')
                          OR has_sequence_privilege(j.rolname, c.oid, 'UPDATE'))$$,
	'matrix: no job draws from or reads a sequence');

-- Functions: the full matrix -----------------------------------------------------------
-- Every (function, job) with EXECUTE, against the list below.  Functions in
-- no row are nobody's: the triggers' and the posting internals.

CREATE TEMP TABLE expected_function (proname text, rolname text);
-- Readers, run with the caller's rights (or masking for the auditor): the office and the auditor.
INSERT INTO expected_function
SELECT f, j.rolname
  FROM unnest(ARRAY['actor', 'bank_account_of', 'bank_journal', 'bank_line_open', 'book_of', 'budget_on',
                    'canon_escape', 'canon_escape_walk', 'canon_line', 'canonical_text', 'carry_forward_lines', 'chain_step',
                    'constraint_text', 'detail_ledger', 'exceptions', 'fmt_fen', 'fmt_pct', 'fund_position',
                    'fund_statement', 'general_ledger', 'household_ledger', 'id_of', 'id_problem', 'id_upgrade',
                    'idle_funds', 'in_office', 'interest_shares', 'is_carry_forward', 'mask_card', 'mask_id',
                    'mask_name', 'mask_phone', 'notice_content', 'notice_find', 'notice_projects', 'notice_row',
                    'project_ledger', 'reconciliation', 'reconciliation_items', 'refusal_log', 'report_book',
                    'report_cum', 'report_fund_spend', 'report_moves', 'report_pct', 'report_ref', 'report_spend',
                    'report_village_spend', 'rule_of', 'scope_books', 'scope_households', 'scope_person',
                    'scope_villages', 'setting', 'side_balance', 'spend_rows', 'trial_balance', 'verify_chain',
                    'village_register', 'voucher_find', 'voucher_lines_many']) f,
       job j
 WHERE j.rolname <> 'earmark_public';
INSERT INTO expected_function VALUES
	-- 制单 and imports
	('voucher_draft', 'earmark_clerk'), ('voucher_reverse', 'earmark_clerk'), ('voucher_discard', 'earmark_clerk'),
	('list_create', 'earmark_clerk'), ('pay_stage_new', 'earmark_clerk'), ('pay_batch', 'earmark_clerk'),
	('project_claim', 'earmark_clerk'), ('fund_interest', 'earmark_clerk'), ('payment_reissue', 'earmark_clerk'),
	('master_import', 'earmark_clerk'),      -- project events only (the function checks the kind)
	('objection_record', 'earmark_clerk'), ('notice_object', 'earmark_clerk'),
	-- 审核
	('voucher_review', 'earmark_reviewer'), ('voucher_reject', 'earmark_reviewer'), ('pay_batch_step', 'earmark_reviewer'),
	-- 记账
	('voucher_post', 'earmark_bookkeeper'), ('voucher_reject', 'earmark_bookkeeper'), ('pay_batch_step', 'earmark_bookkeeper'),
	-- 出纳: payments, statements, reconciliation
	('payment_export', 'earmark_cashier'), ('payment_settle', 'earmark_cashier'), ('statement_import', 'earmark_cashier'),
	('statement_match', 'earmark_cashier'), ('statement_match_auto', 'earmark_cashier'), ('statement_unmatch', 'earmark_cashier'),
	-- master data and periods
	('book_create', 'earmark_admin'), ('master_import', 'earmark_admin'), ('period_close', 'earmark_admin'),
	('year_end_carry_forward', 'earmark_admin'), ('list_publish', 'earmark_admin'),
	('objection_record', 'earmark_admin'), ('objection_resolve', 'earmark_admin'),
	('notice_publish', 'earmark_admin'), ('notice_contact_set', 'earmark_admin'), ('notice_object', 'earmark_admin'),
	-- the auditor exports
	('audit_begin', 'earmark_auditor'), ('audit_households', 'earmark_auditor'), ('audit_record', 'earmark_auditor');

SELECT set_eq(
	$$SELECT p.proname::text, j.rolname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, job j
	   WHERE n.nspname = 'earmark' AND has_function_privilege(j.rolname, p.oid, 'EXECUTE')$$,
	'SELECT proname, rolname FROM expected_function',
	'matrix: every function each job may execute is the one this matrix lists');
SELECT is_empty($$SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                   WHERE n.nspname = 'earmark' AND has_function_privilege('earmark_public', p.oid, 'EXECUTE')$$,
	'matrix: earmark_public executes no earmark function');
SELECT is_empty($$SELECT e.proname FROM expected_function e
                   WHERE NOT EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = 'earmark'::regnamespace AND p.proname = e.proname)$$,
	'matrix: every function the matrix names exists');
SELECT is_empty($$SELECT p.proname FROM pg_proc p
                   WHERE p.pronamespace = 'earmark'::regnamespace AND p.prosecdef
                     AND p.proname IN ('user_scope', 'scope_guard', 'scope_refuse')
                     AND EXISTS (SELECT 1 FROM job j WHERE has_function_privilege(j.rolname, p.oid, 'EXECUTE'))$$,
	'matrix: nobody''s job sets a township scope (the database administrator does)');

-- Direct SQL: refused for every job ---------------------------------------------------

-- What each job might type in psql; every one must fail with 42501.
CREATE TEMP TABLE attempt (sql text);
INSERT INTO attempt VALUES
	('INSERT INTO earmark.voucher (book_id, voucher_date, prepared_by, prepared_at) VALUES (1, ''2026-03-03'', current_user, now())'),
	('UPDATE earmark.voucher SET memo = ''changed''' ),
	('DELETE FROM earmark.voucher WHERE status = ''draft'''),
	('INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id) VALUES (1, 1, 99, 1, ''D'', 1, 1)'),
	('UPDATE earmark.line SET amount_fen = amount_fen + 1'),
	('DELETE FROM earmark.line'),
	('TRUNCATE earmark.line'),
	('UPDATE earmark.period_balance SET debit_fen = 0'),
	('UPDATE earmark.fund_cash SET balance_fen = balance_fen + 100'),
	('UPDATE earmark.chain_head SET seq = 0'),
	('INSERT INTO earmark.period (book_id, month, closed_at, closed_by) VALUES (1, ''2026-02-01'', now(), current_user)'),
	('UPDATE earmark.household SET head_name = ''改名'''),
	('DELETE FROM earmark.household_private'),
	('UPDATE earmark.household_payment SET status = ''paid'''),
	('INSERT INTO earmark.user_township (book_id, person, township) VALUES (1, current_user, ''610826101'')'),
	('DELETE FROM earmark.user_township'),
	('UPDATE earmark.refusal SET message = '''''),
	('INSERT INTO earmark.notice_contact (book_id, publisher, hotline) VALUES (1, ''x'', ''12345'')'),
	('SELECT earmark.post_into(v, current_user) FROM earmark.voucher v LIMIT 1'),
	('SELECT earmark.user_scope(''B1'', current_user, ''{}'')');

SELECT pg_temp.state() AS s0 \gset
SELECT is_empty(format($$SELECT j.person, a.sql, pg_temp.try_as(j.person, a.sql) AS got FROM job j, attempt a
                         WHERE j.rolname = %L AND pg_temp.try_as(j.person, a.sql) <> '42501'$$, r),
	format('direct SQL: %s cannot write the ledger, the scopes or the logs, nor call the internals', r))
  FROM (SELECT rolname AS r FROM job ORDER BY ord) x;
SELECT is(pg_temp.state(), :'s0', 'direct SQL: the refused statements changed nothing');

-- Each job's own calls pass; the others' are refused ----------------------------------

SELECT is(pg_temp.try_as('t_rm_clerk', $$SELECT earmark.voucher_draft('B1', '2026-03-03', '记', 'clerk', NULL,
	jsonb_build_array(pg_temp.ln('5001', 'D', 100, 'F1', category => 'JC'), pg_temp.ln('1002', 'C', 100, 'F1', '622800000001')))$$),
	'ok', 'clerk: drafts a voucher');
SELECT max(voucher_id) AS draft FROM earmark.voucher \gset
SELECT is(string_agg(f || '=' || pg_temp.try_as('t_rm_clerk', sql), ' ' ORDER BY f),
	'audit_begin=42501 pay_batch_step=42501 payment_export=42501 period_close=42501 statement_match_auto=42501 voucher_post=42501 voucher_review=42501',
	'clerk: cannot review, post, pay out, match statements, close periods or export audits')
  FROM (VALUES ('voucher_review', format($$SELECT earmark.voucher_review('B1', '#%s')$$, :draft)),
               ('voucher_post', format($$SELECT earmark.voucher_post('B1', '#%s')$$, :draft)),
               ('pay_batch_step', $$SELECT earmark.pay_batch_step('B1', 'B-1', 'review')$$),
               ('payment_export', $$SELECT * FROM earmark.payment_export('B1', 'B-1')$$),
               ('statement_match_auto', $$SELECT * FROM earmark.statement_match_auto('B1', '622800000001', 5)$$),
               ('period_close', $$SELECT earmark.period_close('B1', '2026-01-01')$$),
               ('audit_begin', $$SELECT * FROM earmark.audit_begin('B1')$$)) c(f, sql);

SELECT is(string_agg(f || '=' || pg_temp.try_as('t_rm_rev', sql), ' ' ORDER BY f),
	'master_import=42501 voucher_draft=42501 voucher_post=42501',
	'reviewer: cannot draft, post or import')
  FROM (VALUES ('voucher_draft', $$SELECT earmark.voucher_draft('B1', '2026-03-03', '记', '', NULL, '[]')$$),
               ('voucher_post', format($$SELECT earmark.voucher_post('B1', '#%s')$$, :draft)),
               ('master_import', $$SELECT earmark.master_import('B1', 'category', '[]')$$)) c(f, sql);
SELECT is(pg_temp.try_as('t_rm_rev', format($$SELECT earmark.voucher_review('B1', '#%s')$$, :draft)), 'ok',
	'reviewer: reviews it');

SELECT is(string_agg(f || '=' || pg_temp.try_as('t_rm_bk', sql), ' ' ORDER BY f),
	'payment_export=42501 voucher_draft=42501 voucher_review=42501',
	'bookkeeper: cannot draft, review or pay out')
  FROM (VALUES ('voucher_draft', $$SELECT earmark.voucher_draft('B1', '2026-03-03', '记', '', NULL, '[]')$$),
               ('voucher_review', format($$SELECT earmark.voucher_review('B1', '#%s')$$, :draft)),
               ('payment_export', $$SELECT * FROM earmark.payment_export('B1', 'B-1')$$)) c(f, sql);
SELECT is(pg_temp.try_as('t_rm_bk', format($$SELECT earmark.voucher_post('B1', '#%s')$$, :draft)), 'ok',
	'bookkeeper: posts it');

SELECT is(string_agg(f || '=' || pg_temp.try_as('t_rm_cashier', sql), ' ' ORDER BY f),
	'pay_batch=42501 voucher_draft=42501 voucher_post=42501 voucher_review=42501',
	'cashier: cannot draft, review (D6) or post, nor prepare batches')
  FROM (VALUES ('voucher_draft', $$SELECT earmark.voucher_draft('B1', '2026-03-03', '记', '', NULL, '[]')$$),
               ('voucher_review', format($$SELECT earmark.voucher_review('B1', '#%s')$$, :draft)),
               ('voucher_post', format($$SELECT earmark.voucher_post('B1', '#%s')$$, :draft)),
               ('pay_batch', $$SELECT earmark.pay_batch('B1', 1, 'B-1', '2026-03-03', NULL, 'x.csv')$$)) c(f, sql);
SELECT is(pg_temp.try_as('t_rm_cashier', $$SELECT * FROM earmark.statement_match_auto('B1', '622800000001', 5)$$), 'ok',
	'cashier: matches the bank statements');
SELECT is(pg_temp.try_as('t_rm_cashier', $$INSERT INTO earmark.pay_staging (stage_id, line_no) VALUES (1, 1)$$), '42501',
	'cashier: cannot stage payment batches (the clerk''s)');

SELECT is(string_agg(f || '=' || pg_temp.try_as('t_rm_admin', sql), ' ' ORDER BY f),
	'statement_match_auto=42501 voucher_draft=42501 voucher_post=42501 voucher_review=42501',
	'admin: cannot draft, review, post or match statements')
  FROM (VALUES ('voucher_draft', $$SELECT earmark.voucher_draft('B1', '2026-03-03', '记', '', NULL, '[]')$$),
               ('voucher_review', format($$SELECT earmark.voucher_review('B1', '#%s')$$, :draft)),
               ('voucher_post', format($$SELECT earmark.voucher_post('B1', '#%s')$$, :draft)),
               ('statement_match_auto', $$SELECT * FROM earmark.statement_match_auto('B1', '622800000001', 5)$$)) c(f, sql);
SELECT is(pg_temp.try_as('t_rm_admin', $$SELECT earmark.master_import('B1', 'category', '[{"code": "CY", "name": "产业发展", "source": "c.csv:2"}]')$$), 'ok',
	'admin: imports master data');
SELECT is(pg_temp.try_as('t_rm_admin', $$SELECT earmark.period_close('B1', '2026-01-01')$$), 'ok',
	'admin: closes a period');

SELECT is(string_agg(f || '=' || pg_temp.try_as('t_rm_auditor', sql), ' ' ORDER BY f),
	'household_private=42501 master_import=42501 period_close=42501 voucher_draft=42501 voucher_reverse=42501',
	'auditor: cannot draft, reverse, import, close, or read personal data (H4)')
  FROM (VALUES ('voucher_draft', $$SELECT earmark.voucher_draft('B1', '2026-03-03', '记', '', NULL, '[]')$$),
               ('voucher_reverse', format($$SELECT earmark.voucher_reverse('B1', %L, '2026-03-04', NULL)$$, :'num')),
               ('master_import', $$SELECT earmark.master_import('B1', 'category', '[]')$$),
               ('period_close', $$SELECT earmark.period_close('B1', '2026-02-01')$$),
               ('household_private', $$SELECT * FROM earmark.household_private$$)) c(f, sql);
SELECT is(pg_temp.try_as('t_rm_auditor', $$SELECT * FROM earmark.trial_balance('B1', '2026-03-31')$$) || ' '
          || pg_temp.try_as('t_rm_auditor', $$SELECT * FROM earmark.verify_chain('B1')$$) || ' '
          || pg_temp.try_as('t_rm_auditor', $$SELECT * FROM earmark.audit_households('B1')$$),
	'ok ok ok', 'auditor: reads the trial balance, verifies the chain, reads households masked for the export');

-- earmark_public: the published notices and nothing else ------------------------------

SELECT is(pg_temp.try_as('t_rm_board', 'SELECT count(*) FROM earmark.public_notice'), 'ok',
	'public: reads the published notices');
SELECT is_empty($$SELECT c.relname, pg_temp.try_as('t_rm_board', format('SELECT 1 FROM earmark.%I LIMIT 1', c.relname))
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'earmark' AND c.relkind IN ('r', 'p', 'v', 'm') AND c.relname <> 'public_notice'
                     AND pg_temp.try_as('t_rm_board', format('SELECT 1 FROM earmark.%I LIMIT 1', c.relname)) <> '42501'$$,
	'public: every other table and view of earmark is refused (42501), one by one');
SELECT is(string_agg(f || '=' || pg_temp.try_as('t_rm_board', sql), ' ' ORDER BY f),
	'household_ledger=42501 mask_id=42501 trial_balance=42501 voucher_draft=42501',
	'public: calls no earmark function, not even a reader')
  FROM (VALUES ('voucher_draft', $$SELECT earmark.voucher_draft('B1', '2026-03-03', '记', '', NULL, '[]')$$),
               ('trial_balance', $$SELECT * FROM earmark.trial_balance('B1', '2026-03-31')$$),
               ('household_ledger', $$SELECT * FROM earmark.household_ledger('B1', 'H0001', '2026-03-31')$$),
               ('mask_id', $$SELECT earmark.mask_id('610826198003120014')$$)) c(f, sql);
SELECT is(pg_temp.try_as('t_rm_board', 'SELECT count(*) FROM earmark.public_notice WHERE published_on > CURRENT_DATE'), 'ok',
	'public: the view itself holds only what is published (its WHERE is the owner''s, not the reader''s)');
SELECT is((SELECT count(*)::int FROM pg_views WHERE schemaname = 'earmark' AND viewname = 'public_notice'
             AND definition LIKE '%published_on <= CURRENT_DATE%'), 1,
	'public: public_notice shows notices from their publication day on');

SELECT * FROM finish();
ROLLBACK;
