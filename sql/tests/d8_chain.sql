-- D8 (DESIGN section 4, docs/hash-chain.md): each posted voucher extends its
-- book's hash chain, h(n) = SHA-256(h(n-1) || T(n)), h(0) = 32 zero bytes.
--
-- Postings get chain_seq 1..n; every stored link follows from the one
-- before; chain_head holds the last; earmark.verify_chain recomputes it all
-- and finds nothing wrong.  The canonical text matches the test vectors of
-- docs/hash-chain.md byte for byte.  Then the owner turns the triggers off
-- and rewrites history in several ways (each undone by a savepoint): each
-- time verify_chain names the first link that no longer holds.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(26);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_d8_admin LOGIN;
GRANT earmark_admin TO t_d8_admin;
CREATE ROLE t_d8_clerk LOGIN;
GRANT earmark_clerk TO t_d8_clerk;
CREATE ROLE t_d8_clerk2 LOGIN;
GRANT earmark_clerk TO t_d8_clerk2;
CREATE ROLE t_d8_rev LOGIN;
GRANT earmark_reviewer TO t_d8_rev;
CREATE ROLE t_d8_bk LOGIN;
GRANT earmark_bookkeeper TO t_d8_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_d8_clerk, t_d8_rev and t_d8_bk unless told otherwise.
SET earmark_test.people = 't_d8';
\ir fixture/helpers.psql

-- The book: 2026 from January, two dedicated accounts; F1 and F2 share the
-- first (A2 keeps their cash apart), F3 has the second.  Every fund permits
-- the use category JC (A3); household H0001 has its ID number (H1).
SET ROLE t_d8_admin;
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
-- P1-P3: the project is approved, has a target and a budget from F1, and
-- has started, so it may be paid up to the 30 % advance before inspection.
SELECT earmark.master_import('B1', 'project_target', $$[
	{"project": "P2026-001", "kind": "产出", "indicator": "硬化道路", "value": "3.2 公里", "source": "project_targets.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_budget', $$[
	{"project": "P2026-001", "fund": "F1", "amount_fen": 10000000, "source": "project_budgets.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_event', $$[
	{"project": "P2026-001", "kind": "approval", "date": "2026-01-05", "doc_no": "县振发〔2026〕1号", "source": "project_events.csv:2"},
	{"project": "P2026-001", "kind": "start", "date": "2026-01-10", "source": "project_events.csv:3"}
]$$) AS imported \gset
RESET ROLE;

SELECT pg_temp.post('B1', '2026-03-02',
	jsonb_build_array(pg_temp.ln('1002', 'D', 100000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 100000, 'F1')),
	'收到中央衔接资金') AS n1 \gset
SELECT pg_temp.post('B1', '2026-03-04',
	jsonb_build_array(pg_temp.ln('5001', 'D', 30000, 'F1', NULL, '{"project": "P2026-001", "category": "JC"}'),
	                  pg_temp.ln('2302', 'C', 30000, 'F1', NULL, '{"memo": "back\\slash"}')),
	E'tab\there') AS n2 \gset
SELECT pg_temp.post('B1', '2026-03-03',
	jsonb_build_array(pg_temp.ln('1002', 'D', 5000, 'F3', '622800000002'), pg_temp.ln('4001', 'C', 5000, 'F3')),
	E'two\nlines') AS n3 \gset
SET ROLE t_d8_clerk;
SELECT earmark.voucher_draft('B1', '2026-03-05', '记', 'a draft', NULL,
	jsonb_build_array(pg_temp.ln('5001', 'D', 100, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 100, 'F1'))) AS draft \gset
RESET ROLE;

-- The chain as posted ---------------------------------------------------------

SELECT results_eq($$SELECT chain_seq, number_text FROM earmark.voucher WHERE status = 'posted' ORDER BY chain_seq$$,
	$$VALUES (1::bigint, '记-2026-03-0001'::text), (2, '记-2026-03-0002'), (3, '记-2026-03-0003')$$,
	'D8: postings are chained 1, 2, 3 in posting order');
SELECT is((SELECT chain_seq FROM earmark.voucher WHERE voucher_id = :draft), NULL,
	'D8: a draft is not in the chain');
SELECT is((SELECT encode(chain_hash, 'hex') FROM earmark.voucher WHERE chain_seq = 1),
	(SELECT encode(sha256(decode(repeat('00', 32), 'hex') || convert_to(earmark.canonical_text(v), 'UTF8')), 'hex')
	   FROM earmark.voucher v WHERE chain_seq = 1),
	'D8: h(1) = SHA-256(32 zero bytes || T(1))');
SELECT is((SELECT count(*)::int FROM earmark.voucher v JOIN earmark.voucher p
             ON p.book_id = v.book_id AND p.chain_seq = v.chain_seq - 1
            WHERE v.chain_hash <> sha256(p.chain_hash || convert_to(earmark.canonical_text(v), 'UTF8'))), 0,
	'D8: every h(n) = SHA-256(h(n-1) || T(n))');
SELECT is((SELECT seq || ' ' || encode(hash, 'hex') FROM earmark.chain_head WHERE book_id = :book_id),
	(SELECT chain_seq || ' ' || encode(chain_hash, 'hex') FROM earmark.voucher WHERE chain_seq = 3),
	'D8: chain_head holds the last link');
SELECT is((SELECT vouchers || ' ' || COALESCE(first_bad::text, 'none') FROM earmark.verify_chain('B1')), '3 none',
	'D8: verify_chain counts three vouchers and finds no bad link');
SELECT is((SELECT head FROM earmark.verify_chain('B1')), (SELECT hash FROM earmark.chain_head WHERE book_id = :book_id),
	'D8: the recomputed head equals chain_head');
SELECT matches((SELECT earmark.canonical_text(v) FROM earmark.voucher v WHERE chain_seq = 2),
	E'\nmemo\ttab\\\\x09here\n.*\tback\\\\\\\\slash\n$',
	'D8: TAB and backslash are escaped in the canonical text');
SELECT matches((SELECT earmark.canonical_text(v) FROM earmark.voucher v WHERE chain_seq = 3),
	E'\nmemo\ttwo\\\\x0alines\n',
	'D8: LF is escaped in the canonical text');

-- The test vectors of docs/hash-chain.md --------------------------------------

SET ROLE t_d8_admin;
SELECT earmark.book_create('DEMO', '演示', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"}]$$) AS demo \gset
SELECT earmark.master_import('DEMO', 'bank_account', '[{"account_no": "622848001122334455", "bank_name": "农行", "cnaps": "103100000001"}]') AS n \gset
SELECT earmark.master_import('DEMO', 'fund', '[{"code": "ZY2026-01", "name": "中央衔接", "level": "central", "year": 2026, "amount_fen": 500000000, "bank_account": "622848001122334455"}]') AS n \gset
SELECT earmark.master_import('DEMO', 'category', '[{"code": "JC", "name": "基础设施"}]') AS n \gset
SELECT earmark.master_import('DEMO', 'project', '[{"code": "P2026-001", "name": "道路", "category": "JC"}]') AS n \gset
SELECT earmark.master_import('DEMO', 'village', '[{"code": "610826101201", "name": "东沟村"}]') AS n \gset
SELECT earmark.master_import('DEMO', 'household', '[{"code": "H0001", "village": "610826101201", "head_name": "张三"}]') AS n \gset
RESET ROLE;
SELECT pg_temp.post('DEMO', '2026-03-02',
	jsonb_build_array(pg_temp.ln('1002', 'D', 500000000, 'ZY2026-01', '622848001122334455', '{"memo": "收到资金"}'),
	                  pg_temp.ln('4001', 'C', 500000000, 'ZY2026-01', NULL, '{"memo": "收到资金"}')),
	'收到中央衔接资金') AS vec1 \gset
SELECT voucher_id AS vec1_id FROM earmark.voucher WHERE book_id = :demo AND number_text = :'vec1' \gset
-- Vector 2's lines: the reversal's, with every dimension on line 1.  The
-- superuser prepares it and edits its own draft.
SELECT earmark.voucher_reverse('DEMO', :'vec1', '2026-03-05', NULL) AS vec2_id \gset
UPDATE earmark.line l
   SET project_id = (SELECT project_id FROM earmark.project WHERE book_id = :demo AND code = 'P2026-001'),
       village_id = (SELECT village_id FROM earmark.village WHERE book_id = :demo AND code = '610826101201'),
       household_id = (SELECT household_id FROM earmark.household WHERE book_id = :demo AND code = 'H0001'),
       category_id = (SELECT category_id FROM earmark.use_category WHERE book_id = :demo AND code = 'JC'),
       memo = E'a\\b'
 WHERE voucher_id = :vec2_id AND line_no = 1;
UPDATE earmark.line SET memo = '' WHERE voucher_id = :vec2_id AND line_no = 2;

-- The voucher rows as the vectors have them (people and times are the vectors').
CREATE TEMP TABLE vec AS
SELECT 1 AS n, ROW(book_id, voucher_id, '记', '2026-03-02', '收到中央衔接资金', 'posted', NULL, NULL, NULL,
           'clerk1', prepared_at, 'rev1', now(), 'bk1', '2026-03-02 08:15:30.123456+00', '2026-03-01', 1,
           '记-2026-03-0001', 1, NULL)::earmark.voucher AS v
  FROM earmark.voucher WHERE voucher_id = :vec1_id
UNION ALL
SELECT 2, ROW(book_id, voucher_id, '记', '2026-03-05', E'冲销 记-2026-03-0001\tline\\two\nend', 'posted', reverses_id,
           NULL, NULL, 'clerk1', prepared_at, 'rev1', now(), 'bk1', '2026-03-05 00:00:00+00', '2026-03-01', 2,
           '记-2026-03-0002', 2, NULL)::earmark.voucher
  FROM earmark.voucher WHERE voucher_id = :vec2_id;

SELECT is((SELECT earmark.canonical_text(v) FROM vec WHERE n = 1),
	E'earmark-voucher-v1\n'
	'book\tDEMO\n'
	'seq\t1\n'
	'number\t记-2026-03-0001\n'
	'type\t记\n'
	'date\t2026-03-02\n'
	'reverses\t\n'
	'memo\t收到中央衔接资金\n'
	'prepared_by\tclerk1\n'
	'reviewed_by\trev1\n'
	'posted_by\tbk1\n'
	'posted_at\t2026-03-02T08:15:30.123456Z\n'
	'line\t1\t1002\tD\t500000000\tZY2026-01\t\t\t\t622848001122334455\t\t收到资金\n'
	'line\t2\t4001\tC\t500000000\tZY2026-01\t\t\t\t\t\t收到资金\n',
	'D8: the canonical text of vector 1, byte for byte');
SELECT is((SELECT encode(earmark.chain_step(decode(repeat('00', 32), 'hex'), v), 'hex') FROM vec WHERE n = 1),
	'818ce80996750a7e9af41e079234ad653db3ee790555096db25bf9fcdcd998a6',
	'D8: h(1) of vector 1');
SELECT is((SELECT earmark.canonical_text(v) FROM vec WHERE n = 2),
	E'earmark-voucher-v1\n'
	'book\tDEMO\n'
	'seq\t2\n'
	'number\t记-2026-03-0002\n'
	'type\t记\n'
	'date\t2026-03-05\n'
	'reverses\t记-2026-03-0001\n'
	'memo\t冲销 记-2026-03-0001\\x09line\\\\two\\x0aend\n'
	'prepared_by\tclerk1\n'
	'reviewed_by\trev1\n'
	'posted_by\tbk1\n'
	'posted_at\t2026-03-05T00:00:00.000000Z\n'
	'line\t1\t1002\tD\t-500000000\tZY2026-01\tP2026-001\t610826101201\tH0001\t622848001122334455\tJC\ta\\\\b\n'
	'line\t2\t4001\tC\t-500000000\tZY2026-01\t\t\t\t\t\t\n',
	'D8: the canonical text of vector 2 (a reversal, with escapes), byte for byte');
SELECT is((SELECT encode(earmark.chain_step(decode('818ce80996750a7e9af41e079234ad653db3ee790555096db25bf9fcdcd998a6', 'hex'), v), 'hex')
             FROM vec WHERE n = 2),
	'4a8653a28bec36dc15f7f0f145f1b2efd46e0f7c636b7e0c69a7ddc74d9c8099',
	'D8: h(2) of vector 2');

-- Refusals: links are not rewritten with the triggers on -----------------------

SELECT pg_temp.state() AS s0 \gset
SET ROLE earmark_owner;
SELECT throws_ok($$UPDATE earmark.voucher SET chain_hash = sha256('x') WHERE chain_seq = 2 AND book_id = (SELECT book_id FROM earmark.book WHERE code = 'B1')$$,
	'EMD03', 'posted voucher 记-2026-03-0002 cannot be changed (D3)',
	'D8: the owner cannot rewrite a link while the triggers are on');
SET ROLE earmark_auditor;
SELECT throws_ok($$UPDATE earmark.chain_head SET seq = 0$$, '42501', NULL,
	'D8: an application role cannot touch chain_head');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'D8: the refused rewrites changed nothing');

-- Tampering with the triggers off: verify_chain finds it --------------------
-- Each case in a savepoint; its findings kept in psql variables, tested after.

SAVEPOINT tamper;
SET ROLE earmark_owner;
ALTER TABLE earmark.voucher DISABLE TRIGGER USER;
UPDATE earmark.voucher SET memo = '改过的摘要' WHERE book_id = :book_id AND chain_seq = 2;
ALTER TABLE earmark.voucher ENABLE TRIGGER USER;
RESET ROLE;
SELECT vouchers || ' ' || COALESCE(first_bad::text, 'none') AS memo_found FROM earmark.verify_chain('B1') \gset
SELECT vouchers || ' ' || COALESCE(first_bad::text, 'none') AS memo_other_book FROM earmark.verify_chain('DEMO') \gset
ROLLBACK TO SAVEPOINT tamper;

SET ROLE earmark_owner;
ALTER TABLE earmark.line DISABLE TRIGGER USER;
UPDATE earmark.line SET amount_fen = amount_fen + 1
 WHERE book_id = :book_id AND voucher_id = (SELECT voucher_id FROM earmark.voucher WHERE book_id = :book_id AND chain_seq = 1);
ALTER TABLE earmark.line ENABLE TRIGGER USER;
RESET ROLE;
SELECT vouchers || ' ' || COALESCE(first_bad::text, 'none') AS line_found FROM earmark.verify_chain('B1') \gset
ROLLBACK TO SAVEPOINT tamper;

SET ROLE earmark_owner;
ALTER TABLE earmark.voucher DISABLE TRIGGER USER;
ALTER TABLE earmark.line DISABLE TRIGGER USER;
DELETE FROM earmark.line WHERE book_id = :book_id
   AND voucher_id = (SELECT voucher_id FROM earmark.voucher WHERE book_id = :book_id AND chain_seq = 3);
DELETE FROM earmark.voucher WHERE book_id = :book_id AND chain_seq = 3;
ALTER TABLE earmark.line ENABLE TRIGGER USER;
ALTER TABLE earmark.voucher ENABLE TRIGGER USER;
RESET ROLE;
SELECT vouchers || ' ' || COALESCE(first_bad::text, 'none') AS delete_found FROM earmark.verify_chain('B1') \gset
ROLLBACK TO SAVEPOINT tamper;

-- rewrite voucher 2 and recompute its own link, but not the next one
SET ROLE earmark_owner;
ALTER TABLE earmark.voucher DISABLE TRIGGER USER;
UPDATE earmark.voucher SET memo = '改过的摘要' WHERE book_id = :book_id AND chain_seq = 2;
UPDATE earmark.voucher v SET chain_hash = sha256(p.chain_hash || convert_to(earmark.canonical_text(v), 'UTF8'))
  FROM earmark.voucher p WHERE v.book_id = :book_id AND v.chain_seq = 2 AND p.book_id = :book_id AND p.chain_seq = 1;
ALTER TABLE earmark.voucher ENABLE TRIGGER USER;
RESET ROLE;
SELECT vouchers || ' ' || COALESCE(first_bad::text, 'none') AS relinked_found FROM earmark.verify_chain('B1') \gset
ROLLBACK TO SAVEPOINT tamper;

SET ROLE earmark_owner;
UPDATE earmark.chain_head SET seq = seq + 1 WHERE book_id = :book_id;
RESET ROLE;
SELECT vouchers || ' ' || COALESCE(first_bad::text, 'none') AS head_found FROM earmark.verify_chain('B1') \gset
ROLLBACK TO SAVEPOINT tamper;
RELEASE SAVEPOINT tamper;

SELECT is(:'memo_found'::text, '3 2', 'D8: a rewritten memo of voucher 2 is found at seq 2');
SELECT is(:'memo_other_book'::text, '1 none', 'D8: another book''s chain is not affected');
SELECT is(:'line_found'::text, '3 1', 'D8: a rewritten amount of voucher 1 is found at seq 1');
SELECT is(:'delete_found'::text, '2 3', 'D8: a deleted last voucher is found: chain_head no longer follows');
SELECT is(:'relinked_found'::text, '3 3', 'D8: a rewritten voucher with its own link recomputed is found at the next link');
SELECT is(:'head_found'::text, '3 4', 'D8: a chain_head that runs ahead is found');
SELECT is((SELECT count(*)::int FROM pg_trigger
            WHERE tgrelid IN ('earmark.voucher'::regclass, 'earmark.line'::regclass)
              AND NOT tgisinternal AND tgenabled <> 'O'), 0,
	'D8: the triggers are enabled again');
SELECT is((SELECT vouchers || ' ' || COALESCE(first_bad::text, 'none') FROM earmark.verify_chain('B1')), '3 none',
	'D8: with the tampering undone the chain holds again');
SELECT is(pg_temp.post('B1', '2026-03-06',
		jsonb_build_array(pg_temp.ln('5001', 'D', 100, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 100, 'F1'))),
	'记-2026-03-0004', 'D8: a fourth voucher posts');
SELECT is((SELECT vouchers || ' ' || COALESCE(first_bad::text, 'none') || ' ' || (head = (SELECT hash FROM earmark.chain_head WHERE book_id = :book_id))
             FROM earmark.verify_chain('B1')), '4 none true',
	'D8: and extends the chain, which still verifies');

SELECT * FROM finish();
ROLLBACK;
