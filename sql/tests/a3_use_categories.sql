-- A3 (DESIGN section 4): every spend line (an expense, or an advance on
-- 1214) names a use category that its fund permits and that the negative
-- list (负面清单) in force on the voucher's date does not name.
--
-- F1 permits CY, JC, JT and even XZ; F2 permits JC only.  The negative
-- list is versioned: version 1 from 2026-01-01 names XZ and LT, version 2
-- from 2026-06-01 adds JT, so JT is paid on 31 May and refused from 1 June.
-- Refused (EMA03, at the draft and nothing written): a spend line without
-- a category, a category the fund does not permit, a category on the list
-- in force, even one the fund permits.  The rules run again at review and
-- at posting: version 3, loaded after a draft was made and in force from a
-- day on or before the draft's date, stops it at posting (no number taken);
-- a draft dated before version 3 still posts.  Reversals skip the check.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(26);

-- People: one LOGIN role per person, created inside the transaction so the
-- ROLLBACK removes them, and named after this file because roles are
-- cluster-wide and files may run side by side in one cluster.
CREATE ROLE t_a3_admin LOGIN;
GRANT earmark_admin TO t_a3_admin;
CREATE ROLE t_a3_clerk LOGIN;
GRANT earmark_clerk TO t_a3_clerk;
CREATE ROLE t_a3_rev LOGIN;
GRANT earmark_reviewer TO t_a3_rev;
CREATE ROLE t_a3_bk LOGIN;
GRANT earmark_bookkeeper TO t_a3_bk;

-- The shared helpers (state, ln, error_of, undone, post); post acts as
-- t_a3_clerk, t_a3_rev and t_a3_bk unless told otherwise.
SET earmark_test.people = 't_a3';
\ir fixture/helpers.psql


-- A spend of amount from fund on account (5001 unless told) in category
-- cat (none when NULL), owed to the supplier on 2302.
CREATE FUNCTION pg_temp.spend(fund text, amount bigint, cat text, account text DEFAULT '5001')
RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_array(
		pg_temp.ln(account, 'D', amount, fund, NULL, jsonb_strip_nulls(jsonb_build_object('category', cat))),
		pg_temp.ln('2302', 'C', amount, fund))
$$;
-- The call that drafts lines on d, as text for throws_ok and lives_ok.
CREATE FUNCTION pg_temp.draft_sql(d date, lines jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT format($q$SELECT earmark.voucher_draft('B1', %L, '记', 'A3', NULL, %L)$q$, d, lines)
$$;
-- A voucher drafted and reviewed, left for the bookkeeper: returns its id.
CREATE FUNCTION pg_temp.reviewed(d date, lines jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v bigint;
BEGIN
	PERFORM set_config('role', 't_a3_clerk', false);
	v := earmark.voucher_draft('B1', d, '记', 'A3', NULL, lines);
	PERFORM set_config('role', 't_a3_rev', false);
	PERFORM earmark.voucher_review('B1', '#' || v);
	PERFORM set_config('role', 'none', false);
	RETURN v;
END
$$;

-- The book: 2026 from January, one dedicated account for F1 and F2.
SET ROLE t_a3_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "1214", "name": "预付账款", "kind": "asset", "normal_side": "D"},
	{"code": "2302", "name": "应付账款", "kind": "liability", "normal_side": "C"},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"},
	{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "source": "bank_accounts.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'category', $$[
	{"code": "CY", "name": "产业发展", "source": "categories.csv:2"},
	{"code": "JC", "name": "基础设施", "source": "categories.csv:3"},
	{"code": "JT", "name": "交通工具及通讯设备", "source": "categories.csv:4"},
	{"code": "XZ", "name": "行政事业单位基本支出", "source": "categories.csv:5"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2026, "amount_fen": 500000000, "bank_account": "622800000001", "categories": "CY;JC;JT;XZ", "source": "funds.csv:2"},
	{"code": "F2", "name": "省级衔接资金", "level": "province", "year": 2026, "amount_fen": 300000000, "bank_account": "622800000001", "categories": "JC", "source": "funds.csv:3"}
]$$) AS imported \gset
-- LT is not a category yet: the list brings it with its name.
SELECT earmark.master_import('B1', 'negative_list', $$[
	{"version": 1, "valid_from": "2026-01-01", "category": "XZ", "source": "negative_list_2026.csv:2"},
	{"version": 1, "valid_from": "2026-01-01", "category": "LT", "name": "楼堂馆所", "source": "negative_list_2026.csv:3"},
	{"version": 2, "valid_from": "2026-06-01", "category": "XZ", "source": "negative_list_2026b.csv:2"},
	{"version": 2, "valid_from": "2026-06-01", "category": "LT", "source": "negative_list_2026b.csv:3"},
	{"version": 2, "valid_from": "2026-06-01", "category": "JT", "source": "negative_list_2026b.csv:4"}
]$$) AS imported \gset
RESET ROLE;
SELECT is(:imported, 5, 'A3: two versions of the negative list are loaded');
SELECT is((SELECT string_agg(c.code, ',' ORDER BY c.code) FROM earmark.fund_category fc
             JOIN earmark.use_category c USING (book_id, category_id)
             JOIN earmark.fund f USING (book_id, fund_id) WHERE f.code = 'F1'),
	'CY,JC,JT,XZ', 'A3: the fund import fills fund_category from its categories column');

-- Money in: lines that spend nothing need no category.
SELECT lives_ok($$SELECT pg_temp.post('B1', '2026-02-01',
	jsonb_build_array(pg_temp.ln('1002', 'D', 10000000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 10000000, 'F1'),
	                  pg_temp.ln('1002', 'D', 10000000, 'F2', '622800000001'), pg_temp.ln('4001', 'C', 10000000, 'F2')),
	'资金到账')$$,
	'A3: a receipt has no spend line and needs no category');

-- Missing category ------------------------------------------------------------

SELECT pg_temp.state() AS s0 \gset
SET ROLE t_a3_clerk;
SELECT throws_ok(pg_temp.draft_sql('2026-03-10', pg_temp.spend('F1', 50000, NULL)),
	'EMA03', 'line 1: a spending line needs its use category (A3)',
	'A3: an expense line without a use category is refused at the draft');
SELECT is(pg_temp.error_of(pg_temp.draft_sql('2026-03-10',
		jsonb_build_array(pg_temp.ln('1214', 'D', 50000, 'F1'), pg_temp.ln('1002', 'C', 50000, 'F1', '622800000001')))),
	E'EMA03: line 1: a spending line needs its use category (A3)\n',
	'A3: so is an advance (预付账款 1214) without one');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'A3: the refused drafts wrote nothing');

-- Not permitted by the fund ----------------------------------------------------

SET ROLE t_a3_clerk;
SELECT throws_ok(pg_temp.draft_sql('2026-03-10', pg_temp.spend('F2', 50000, 'CY')),
	'EMA03', 'line 1: fund ''F2'' does not permit use category ''CY'' (A3)',
	'A3: a category the fund does not permit is refused');
SELECT is(pg_temp.error_of(pg_temp.draft_sql('2026-03-10', pg_temp.spend('F2', 50000, 'CY'))),
	E'EMA03: line 1: fund ''F2'' does not permit use category ''CY'' (A3)\nfund ''F2'' permits: JC',
	'A3: the refusal says what the fund permits');
SELECT throws_ok(pg_temp.draft_sql('2026-03-10',
		pg_temp.spend('F1', 1000, 'JC') || pg_temp.spend('F2', 2000, 'CY', '1214')),
	'EMA03', 'line 3: fund ''F2'' does not permit use category ''CY'' (A3)',
	'A3: the refusal names the offending line of a longer voucher');
RESET ROLE;
SELECT is(pg_temp.state(), :'s0', 'A3: the refused drafts wrote nothing');

-- The good case ----------------------------------------------------------------

SELECT is(pg_temp.post('B1', '2026-03-10', pg_temp.spend('F1', 50000, 'CY') || pg_temp.spend('F2', 20000, 'JC')),
	'记-2026-03-0001', 'A3: permitted categories off the list pass draft, review and posting');
SELECT is((SELECT string_agg(account || ':' || fund || ':' || COALESCE(category, '-'), ' ' ORDER BY line_no)
             FROM earmark.line_coded lc JOIN earmark.voucher v USING (book_id, voucher_id)
            WHERE v.number_text = '记-2026-03-0001'),
	'5001:F1:CY 2302:F1:- 5001:F2:JC 2302:F2:-', 'A3: the posted lines keep their categories');

-- The negative list, by version -------------------------------------------------

SELECT pg_temp.state() AS s1 \gset
SET ROLE t_a3_clerk;
SELECT throws_ok(pg_temp.draft_sql('2026-03-10', pg_temp.spend('F1', 50000, 'XZ')),
	'EMA03', 'line 1: use category ''XZ'' (行政事业单位基本支出) is on the negative list (A3)',
	'A3: a category on the negative list is refused, though the fund names it');
SELECT is(pg_temp.error_of(pg_temp.draft_sql('2026-03-10', pg_temp.spend('F1', 50000, 'XZ'))),
	E'EMA03: line 1: use category ''XZ'' (行政事业单位基本支出) is on the negative list (A3)\n负面清单 version 1, in force from 2026-01-01',
	'A3: the refusal names the version in force');
SELECT throws_ok(pg_temp.draft_sql('2026-06-01', pg_temp.spend('F1', 50000, 'JT')),
	'EMA03', 'line 1: use category ''JT'' (交通工具及通讯设备) is on the negative list (A3)',
	'A3: JT, added by version 2, is refused from the day version 2 is in force');
SELECT is(pg_temp.error_of(pg_temp.draft_sql('2026-11-23', pg_temp.spend('F1', 50000, 'JT'))),
	E'EMA03: line 1: use category ''JT'' (交通工具及通讯设备) is on the negative list (A3)\n负面清单 version 2, in force from 2026-06-01',
	'A3: and on every later day, by version 2');
RESET ROLE;
SELECT is(pg_temp.state(), :'s1', 'A3: the refused drafts wrote nothing');
SELECT is(pg_temp.post('B1', '2026-05-31', pg_temp.spend('F1', 30000, 'JT')),
	'记-2026-05-0001', 'A3: JT dated the day before version 2 passes (version 1 does not name it)');

-- A reversal mirrors a voucher that passed: it is not checked again.
SET ROLE t_a3_clerk;
SELECT earmark.voucher_reverse('B1', '记-2026-05-0001', '2026-06-10', NULL) AS rv \gset
SET ROLE t_a3_rev;
SELECT earmark.voucher_review('B1', '#' || :rv) AS reviewed \gset
SET ROLE t_a3_bk;
SELECT is(earmark.voucher_post('B1', '#' || :rv), '记-2026-06-0001',
	'A3: the JT voucher is reversed in June, when JT is on the list');
RESET ROLE;

-- A new version after the draft -------------------------------------------------
-- Drafted and reviewed while CY was allowed; version 3, loaded afterwards
-- and in force from 1 September, names CY.  The voucher of 10 September is
-- stopped at posting; one of 31 August is not.

SELECT pg_temp.reviewed('2026-09-10', pg_temp.spend('F1', 40000, 'CY')) AS late \gset
SELECT pg_temp.reviewed('2026-08-31', pg_temp.spend('F1', 40000, 'CY')) AS early \gset
SET ROLE t_a3_clerk;
SELECT earmark.voucher_draft('B1', '2026-09-15', '记', 'A3', NULL, pg_temp.spend('F1', 40000, 'CY')) AS unreviewed \gset
SET ROLE t_a3_admin;
SELECT earmark.master_import('B1', 'negative_list', $$[
	{"version": 3, "valid_from": "2026-09-01", "category": "XZ", "source": "negative_list_2026c.csv:2"},
	{"version": 3, "valid_from": "2026-09-01", "category": "LT", "source": "negative_list_2026c.csv:3"},
	{"version": 3, "valid_from": "2026-09-01", "category": "JT", "source": "negative_list_2026c.csv:4"},
	{"version": 3, "valid_from": "2026-09-01", "category": "CY", "source": "negative_list_2026c.csv:5"}
]$$) AS imported \gset
RESET ROLE;
SELECT pg_temp.state() AS s2 \gset
SET ROLE t_a3_bk;
SELECT throws_ok(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :late),
	'EMA03', 'line 1: use category ''CY'' (产业发展) is on the negative list (A3)',
	'A3: a reviewed voucher is refused at posting when the list in force on its date changed since');
SELECT is(pg_temp.error_of(format($$SELECT earmark.voucher_post('B1', '#%s')$$, :late)),
	E'EMA03: line 1: use category ''CY'' (产业发展) is on the negative list (A3)\n负面清单 version 3, in force from 2026-09-01',
	'A3: by version 3');
SET ROLE t_a3_rev;
SELECT throws_ok(format($$SELECT earmark.voucher_review('B1', '#%s')$$, :unreviewed),
	'EMA03', 'line 1: use category ''CY'' (产业发展) is on the negative list (A3)',
	'A3: and a draft made before version 3 is refused at review');
RESET ROLE;
SELECT is(pg_temp.state(), :'s2', 'A3: the refused posting and review changed nothing and took no number');
SELECT is((SELECT status FROM earmark.voucher WHERE voucher_id = :late), 'reviewed', 'A3: the refused voucher is still reviewed');
SET ROLE t_a3_bk;
SELECT is(earmark.voucher_post('B1', '#' || :early), '记-2026-08-0001',
	'A3: the CY voucher dated before version 3 is in force still posts');
RESET ROLE;
SELECT is(pg_temp.post('B1', '2026-09-10', pg_temp.spend('F1', 40000, 'JC')), '记-2026-09-0001',
	'A3: on 10 September F1 still pays JC, which version 3 does not name');

SELECT * FROM finish();
ROLLBACK;
