-- The exceptions log (earmark.refusal, 0013).
--
-- earmark.refusal_log records a refused command; the server, not the
-- caller, says who (session_user) and when (its clock), and the rule comes
-- from the SQLSTATE.  Every application role of the office and the auditor
-- may record, the public may not; nobody may change or remove a record,
-- not even the owner (triggers as backstop).  The exceptions report lists
-- the records of its book and range.  That a record outlives the refused
-- transaction is earmark's part (it records after the rollback, in a
-- transaction of its own) and is tested end to end in e2e/60_reports.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(16);

CREATE ROLE t_rl_admin LOGIN;
GRANT earmark_admin TO t_rl_admin;
CREATE ROLE t_rl_clerk LOGIN;
GRANT earmark_clerk TO t_rl_clerk;
CREATE ROLE t_rl_rev LOGIN;
GRANT earmark_reviewer TO t_rl_rev;
CREATE ROLE t_rl_bk LOGIN;
GRANT earmark_bookkeeper TO t_rl_bk;

SET earmark_test.people = 't_rl';
\ir fixture/helpers.psql

SET ROLE t_rl_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"}
]$$) AS book_id \gset
RESET ROLE;

-- The rule a SQLSTATE names -------------------------------------------------------------

SELECT results_eq($$SELECT earmark.rule_of(s) FROM unnest(ARRAY['EMA02', 'EMD07', 'EMH03', 'EMP02', 'EMD10',
                                                                  'EMI01', 'EMR01', 'EMS01', '42501', '23505']) s$$,
	$$VALUES ('A2'::text), ('D7'), ('H3'), ('P2'), ('D10'), ('input'), ('reference'), ('state'), ('privilege'), ('23505')$$,
	'rule_of: EMA02 is A2, EMD07 D7; input, reference, state and privilege by class; others as they are');

-- Recording -------------------------------------------------------------------------------

SET ROLE t_rl_clerk;
SELECT lives_ok($$SELECT earmark.refusal_log('B1', 'EMD06', 'voucher post', '#7', 'the preparer may not post (D6)', 'voucher #7 was prepared by t_rl_clerk')$$,
	'refusal_log: a clerk records a refusal');
RESET ROLE;
SELECT results_eq($$SELECT book, refused_by::text, sqlstate, rule, command, record, message, detail FROM earmark.refusal$$,
	$$VALUES ('B1'::text, session_user::text, 'EMD06'::text, 'D6'::text, 'voucher post'::text, '#7'::text,
	          'the preparer may not post (D6)'::text, 'voucher #7 was prepared by t_rl_clerk'::text)$$,
	'refusal_log: the row holds the rule, the record, the message and the session''s user');
SELECT ok((SELECT refused_at >= now() AND refused_at <= clock_timestamp() FROM earmark.refusal),
	'refusal_log: the time is the server''s clock at the call');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'earmark' AND p.proname = 'refusal_log'
              AND (p.proargnames::text[] && ARRAY['p_user', 'p_at', 'p_time', 'p_who'])), 0,
	'refusal_log: the caller cannot pass a user or a time');
SELECT lives_ok($$SELECT earmark.refusal_log(NULL, 'EMR01', 'report fund-statement', '', 'unknown book ''NOPE''', NULL)$$,
	'refusal_log: a refusal without a book (unknown book) is recorded too');
SELECT throws_ok($$SELECT earmark.refusal_log('B1', 'bad', 'x', '', 'm', '')$$, '23514', NULL,
	'refusal_log: a malformed SQLSTATE is refused');

-- Who may record --------------------------------------------------------------------------

SELECT is_empty($$SELECT r FROM unnest(ARRAY['earmark_clerk', 'earmark_reviewer', 'earmark_bookkeeper', 'earmark_cashier',
                                             'earmark_admin', 'earmark_auditor']) r
                   WHERE NOT has_function_privilege(r, 'earmark.refusal_log(text, text, text, text, text, text)', 'EXECUTE')$$,
	'refusal_log: every application role of the office and the auditor may record');
SET ROLE earmark_public;
SELECT throws_ok($$SELECT earmark.refusal_log('B1', 'EMD06', 'x', '', 'm', '')$$, '42501',
	'permission denied for function refusal_log', 'refusal_log: the public may not');
RESET ROLE;

-- Nobody changes the log ----------------------------------------------------------------------

SET ROLE t_rl_admin;
SELECT throws_ok($$UPDATE earmark.refusal SET message = 'nothing happened'$$, '42501',
	'permission denied for table refusal', 'log: an application role cannot update it');
SELECT throws_ok($$DELETE FROM earmark.refusal$$, '42501',
	'permission denied for table refusal', 'log: an application role cannot delete from it');
SELECT throws_ok($$INSERT INTO earmark.refusal (book, refused_at, refused_by, sqlstate, rule, message)
                   VALUES ('B1', '2020-01-01', 'someone', 'EMD06', 'D6', 'forged')$$, '42501',
	'permission denied for table refusal', 'log: an application role cannot write a row of its own choosing');
RESET ROLE;
SET ROLE earmark_owner;
SELECT throws_ok($$UPDATE earmark.refusal SET message = 'nothing happened'$$, 'EMD03',
	'the exceptions log is append-only: UPDATE refused', 'log: not even the owner updates it');
SELECT throws_ok($$DELETE FROM earmark.refusal$$, 'EMD03',
	'the exceptions log is append-only: DELETE refused', 'log: not even the owner deletes from it');
SELECT throws_ok($$TRUNCATE earmark.refusal$$, 'EMD03',
	'table earmark.refusal cannot be truncated (D3)', 'log: not even the owner truncates it');
RESET ROLE;

-- The exceptions report -------------------------------------------------------------------------

SET ROLE t_rl_bk;
SELECT results_eq($$SELECT rule, command, record, refused_by, message FROM earmark.exceptions('B1', NULL, CURRENT_DATE) WHERE rule <> 'P5'$$,
	$$VALUES ('D6'::text, 'voucher post'::text, '#7'::text, session_user::text COLLATE "default", 'the preparer may not post (D6)'::text)$$,
	'exceptions: the book''s refusals with rule, record, user (and time)');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
