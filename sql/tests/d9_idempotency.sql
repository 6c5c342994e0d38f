-- D9 (DESIGN section 4): a client-supplied idempotency key per voucher; a
-- retry with the same key returns the first result, a reuse with different
-- content is refused.
--
-- A retry of voucher_draft (same key, same date, type, memo and lines;
-- the "source" of a line is not content) returns the first draft's id and
-- writes nothing, also after it was posted; the same key with another
-- date, memo, type or line is refused (EMD09) and writes nothing.  Keys
-- are per book.  voucher_reverse keeps its own keys the same way.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(23);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_d9_admin LOGIN;
GRANT earmark_admin TO t_d9_admin;
CREATE ROLE t_d9_clerk LOGIN;
GRANT earmark_clerk TO t_d9_clerk;
CREATE ROLE t_d9_clerk2 LOGIN;
GRANT earmark_clerk TO t_d9_clerk2;
CREATE ROLE t_d9_rev LOGIN;
GRANT earmark_reviewer TO t_d9_rev;
CREATE ROLE t_d9_bk LOGIN;
GRANT earmark_bookkeeper TO t_d9_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_d9_clerk, t_d9_rev and t_d9_bk unless told otherwise.
SET earmark_test.people = 't_d9';
\ir fixture/helpers.psql

-- The book: 2026 from January, two dedicated accounts; F1 and F2 share the
-- first (A2 keeps their cash apart), F3 has the second.  Every fund permits
-- the use category JC (A3); household H0001 has its ID number (H1).
SET ROLE t_d9_admin;
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

CREATE FUNCTION pg_temp.lines(amount bigint DEFAULT 12345, src text DEFAULT 'v.csv:2') RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_array(
		pg_temp.ln('5001', 'D', amount, 'F1', NULL, jsonb_build_object('project', 'P2026-001', 'category', 'JC', 'source', src)),
		pg_temp.ln('2302', 'C', amount, 'F1', NULL, jsonb_build_object('source', src)))
$$;

SET ROLE t_d9_clerk;
SELECT earmark.voucher_draft('B1', '2026-03-10', '记', '道路进度款', 'key-1', pg_temp.lines()) AS first \gset
RESET ROLE;
SELECT pg_temp.state() AS s0 \gset

-- Same key, same content: the first answer again --------------------------

SET ROLE t_d9_clerk;
SELECT is(earmark.voucher_draft('B1', '2026-03-10', '记', '道路进度款', 'key-1', pg_temp.lines()), :first::bigint,
	'D9: a retry with the same key and content returns the first id');
SELECT is(earmark.voucher_draft('B1', '2026-03-10', '记', '道路进度款', 'key-1', pg_temp.lines(12345, 'retry.csv:7')), :first::bigint,
	'D9: where the lines came from (source) is not content');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'D9: the retries created nothing');

-- Same key, other content: refused -------------------------------------------

SET ROLE t_d9_clerk;
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', '道路进度款', 'key-1', pg_temp.lines(12346))$$,
	'EMD09', 'idempotency key ''key-1'' was used for other content (D9)',
	'D9: the same key with another amount is refused');
SELECT matches(pg_temp.error_of($$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', '道路进度款', 'key-1', pg_temp.lines(12346))$$),
	format('voucher #%s was created with this key', :first),
	'D9: the refusal names the voucher the key made');
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-11', '记', '道路进度款', 'key-1', pg_temp.lines())$$,
	'EMD09', 'idempotency key ''key-1'' was used for other content (D9)',
	'D9: the same key with another date is refused');
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', '道路进度款 (2)', 'key-1', pg_temp.lines())$$,
	'EMD09', 'idempotency key ''key-1'' was used for other content (D9)',
	'D9: the same key with another memo is refused');
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-10', '转', '道路进度款', 'key-1', pg_temp.lines())$$,
	'EMD09', 'idempotency key ''key-1'' was used for other content (D9)',
	'D9: the same key with another voucher type is refused');
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', '道路进度款', 'key-1',
		pg_temp.lines() || jsonb_build_array(pg_temp.ln('5001', 'D', 1, 'F1', category => 'JC'), pg_temp.ln('2302', 'C', 1, 'F1')))$$,
	'EMD09', 'idempotency key ''key-1'' was used for other content (D9)',
	'D9: the same key with more lines is refused');
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', '道路进度款', 'key 1', pg_temp.lines())$$,
	'23514', NULL,
	'D9: a key with a space in it is refused');
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', '道路进度款', repeat('k', 129), pg_temp.lines())$$,
	'23514', NULL,
	'D9: a key longer than 128 characters is refused');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'D9: the refused reuses created nothing');

-- Other keys, other books ----------------------------------------------------

SET ROLE t_d9_clerk;
SELECT isnt(earmark.voucher_draft('B1', '2026-03-10', '记', '道路进度款', 'key-2', pg_temp.lines()), :first::bigint,
	'D9: the same content under a new key is a new voucher');
RESET ROLE;
SET ROLE t_d9_admin;
SELECT earmark.book_create('B2', '另一账套', '2026-01-01',
	'[{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"},
	  {"code": "2302", "name": "应付账款", "kind": "liability", "normal_side": "C"}]') AS b2 \gset
SELECT earmark.master_import('B2', 'bank_account', '[{"account_no": "622800000009", "bank_name": "农行", "cnaps": "103100000009"}]') AS n \gset
SELECT earmark.master_import('B2', 'category', '[{"code": "JC", "name": "基础设施"}]') AS n \gset
SELECT earmark.master_import('B2', 'fund', '[{"code": "F1", "name": "中央", "level": "central", "year": 2026, "amount_fen": 1, "bank_account": "622800000009", "categories": "JC"}]') AS n \gset
SELECT earmark.master_import('B2', 'project', '[{"code": "P2026-001", "name": "道路"}]') AS n \gset
SELECT earmark.master_import('B2', 'project_target', '[{"project": "P2026-001", "kind": "产出", "indicator": "道路", "value": "1 公里"}]') AS n \gset
SELECT earmark.master_import('B2', 'project_budget', '[{"project": "P2026-001", "fund": "F1", "amount_fen": 1000000}]') AS n \gset
SELECT earmark.master_import('B2', 'project_event', '[{"project": "P2026-001", "kind": "approval", "date": "2026-01-05", "doc_no": "B2-1"},
	{"project": "P2026-001", "kind": "start", "date": "2026-01-10"}]') AS n \gset
SET ROLE t_d9_clerk;
SELECT earmark.voucher_draft('B2', '2026-03-10', '记', '道路进度款', 'key-1', pg_temp.lines()) AS other \gset
RESET ROLE;
SELECT is((SELECT book_id FROM earmark.voucher WHERE voucher_id = :other), :b2,
	'D9: a key is per book: the same key in another book makes that book''s voucher');
SELECT is((SELECT count(*)::int FROM earmark.voucher WHERE idem_key = 'key-1'), 2,
	'D9: one voucher per book under the key');

-- After posting the retry still answers with the first voucher ---------------

SET ROLE t_d9_rev;
SELECT earmark.voucher_review('B1', '#' || :first) AS reviewed \gset
SET ROLE t_d9_bk;
SELECT earmark.voucher_post('B1', '#' || :first) AS num \gset
RESET ROLE;
SELECT pg_temp.state() AS s1 \gset
SET ROLE t_d9_clerk;
SELECT is(earmark.voucher_draft('B1', '2026-03-10', '记', '道路进度款', 'key-1', pg_temp.lines()), :first::bigint,
	'D9: a retry after posting returns the posted voucher');
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', '道路进度款', 'key-1', pg_temp.lines(1))$$,
	'EMD09', 'idempotency key ''key-1'' was used for other content (D9)',
	'D9: a reuse after posting is still refused');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'D9: neither wrote anything');

-- Reversals ----------------------------------------------------------------------

SET ROLE t_d9_clerk;
SELECT earmark.voucher_reverse('B1', :'num', '2026-03-20', 'rev-1') AS rv \gset
RESET ROLE;
SELECT pg_temp.state() AS s2 \gset
SET ROLE t_d9_clerk;
SELECT is(earmark.voucher_reverse('B1', :'num', '2026-03-20', 'rev-1'), :rv::bigint,
	'D9: a retried reversal returns the first reversal');
SELECT throws_ok(format($$SELECT earmark.voucher_reverse('B1', %L, '2026-03-21', 'rev-1')$$, :'num'),
	'EMD09', 'idempotency key ''rev-1'' was used for other content (D9)',
	'D9: the reversal''s key with another date is refused');
SELECT throws_ok(format($$SELECT earmark.voucher_reverse('B1', %L, '2026-03-20', 'key-2')$$, :'num'),
	'EMD09', 'idempotency key ''key-2'' was used for other content (D9)',
	'D9: a draft''s key cannot be reused for a reversal');
SELECT throws_ok($$SELECT earmark.voucher_draft('B1', '2026-03-10', '记', '道路进度款', 'rev-1', pg_temp.lines())$$,
	'EMD09', 'idempotency key ''rev-1'' was used for other content (D9)',
	'D9: a reversal''s key cannot be reused for a draft');
RESET ROLE;
SELECT is(pg_temp.state(), :'s2', 'D9: the reversal retries and reuses wrote nothing');

SELECT * FROM finish();
ROLLBACK;
