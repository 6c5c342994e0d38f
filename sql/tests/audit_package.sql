-- Audit packages in the database (migration 0011, rule X1 and H4).
--
-- Each exported package is recorded with the SHA-256 of its signature
-- file; audit_record accepts a package only when it names the digest of
-- the book's last package (none for the first), so the packages of a book
-- form a chain an auditor can follow; recorded packages never change.  Only
-- an auditor exports.  audit_households shows households with the head's
-- name, ID number and bank card masked (H4), the only way the auditor
-- reads them.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(13);

CREATE ROLE t_ap_admin LOGIN;
GRANT earmark_admin TO t_ap_admin;
CREATE ROLE t_ap_aud LOGIN;
GRANT earmark_auditor TO t_ap_aud;
CREATE ROLE t_ap_clerk LOGIN;
GRANT earmark_clerk TO t_ap_clerk;

SET ROLE t_ap_admin;
SELECT earmark.book_create('AP', '测试县专项资金', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"}
]$$) AS book_id \gset
SELECT earmark.master_import('AP', 'village', $$[
	{"code": "610826101201", "name": "东沟村", "township": "城关镇", "source": "villages.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('AP', 'household', $$[
	{"code": "H0001", "village": "610826101201", "head_name": "张三丰", "id_no": "610826198003120014",
	 "bank_card": "6228480402564890018", "bank_cnaps": "103100000001", "source": "households.csv:2"},
	{"code": "H0002", "village": "610826101201", "head_name": "李四", "id_no": "61082619680315351X", "source": "households.csv:3"}
]$$) AS imported \gset
RESET ROLE;

\set d1 '''1111111111111111111111111111111111111111111111111111111111111111'''
\set d2 '''2222222222222222222222222222222222222222222222222222222222222222'''
\set head '''0000000000000000000000000000000000000000000000000000000000000000'''

SET ROLE t_ap_clerk;
SELECT throws_ok($$SELECT * FROM earmark.audit_begin('AP')$$, '42501',
	'permission denied for function audit_begin', 'X1: a clerk does not export audit packages');
SELECT throws_ok($$SELECT * FROM earmark.audit_households('AP')$$, '42501',
	'permission denied for function audit_households', 'H4: a clerk does not read the auditor''s households');
RESET ROLE;

SET ROLE t_ap_aud;
SELECT results_eq($$SELECT package_no, signature_digest FROM earmark.audit_begin('AP')$$,
	$$VALUES (0, NULL::text)$$, 'X1: before the first package there is no last one');
SELECT throws_ok(format($$SELECT earmark.audit_record('AP', '2026-03-01', '2026-03-31', 0, %s, %s, %s)$$,
	:'head', :'d2', :'d1'), 'EMX01', 'audit package does not name the last package of book ''AP'' (X1)',
	'X1: the first package names no previous one');
SELECT is(earmark.audit_record('AP', '2026-03-01', '2026-03-31', 0, :head, NULL, :d1), 1,
	'X1: the first package is recorded as no. 1');
SELECT results_eq($$SELECT package_no, signature_digest FROM earmark.audit_begin('AP')$$,
	format($$VALUES (1, %s::text)$$, :'d1'), 'X1: audit_begin answers the last package''s digest');
SELECT throws_ok(format($$SELECT earmark.audit_record('AP', '2026-04-01', '2026-04-30', 0, %s, NULL, %s)$$,
	:'head', :'d2'), 'EMX01', 'audit package does not name the last package of book ''AP'' (X1)',
	'X1: a second package that names none is refused');
SELECT throws_ok(format($$SELECT earmark.audit_record('AP', '2026-04-01', '2026-04-30', 0, %s, %s, %s)$$,
	:'head', :'d2', :'d2'), 'EMX01', 'audit package does not name the last package of book ''AP'' (X1)',
	'X1: a second package that names another digest is refused');
SELECT is(earmark.audit_record('AP', '2026-04-01', '2026-04-30', 0, :head, :d1, :d2), 2,
	'X1: a package naming the last one is recorded as the next');
SELECT throws_ok($$DELETE FROM earmark.audit_package$$, '42501', NULL,
	'X1: the auditor cannot delete recorded packages');
SELECT results_eq($$SELECT code, village, head_name, id_no, bank_card FROM earmark.audit_households('AP')$$,
	$$VALUES ('H0001', '610826101201', '张*丰', '610826********0014', '****0018'),
	         ('H0002', '610826101201', '李*', '610826********351X', NULL)$$,
	'H4: the auditor reads households masked');
RESET ROLE;

SELECT throws_ok($$UPDATE earmark.audit_package SET period_to = '2026-05-31'$$, 'EMX01',
	'audit packages are append-only (X1)', 'X1: not even the owner changes a recorded package');
SELECT is((SELECT string_agg(format('%s %s %s', package_no, COALESCE(encode(prev_digest, 'hex'), '-'), exported_by), ';'
                              ORDER BY package_no) FROM earmark.audit_package),
	'1 - t_ap_aud;2 ' || :d1 || ' t_ap_aud', 'X1: the chain of packages as recorded');

SELECT * FROM finish();
ROLLBACK;
