-- Year-end carry-forward (年末结转, 0015; DESIGN flow 5, D1-D8, A3, A4, P2).
--
-- earmark.year_end_carry_forward drafts the closing of a year: every
-- revenue and expense balance per fund and dimensions into 3301 本期盈余,
-- 3301 per fund into 3001 累计盈余, one voucher (转, 31 December), which a
-- reviewer and a bookkeeper post (D6).  Refused while anything of the year
-- is unposted or unmatched (EMC01), by anyone but the administrator.  It
-- alone is exempt from the disbursement rules (a clerk's voucher with the
-- same lines is refused by A4) and from the spend totals (P2's project
-- spend, the fund statement); at review and posting its lines must be the
-- closing as it stands (EMC02); it is never reversed.  Twice changes
-- nothing; a stale draft is drafted again, and what is posted into the
-- year after the carry-forward is closed by a second one.  December closes only once the year is carried forward, and
-- closes the whole year; the trial balance of 1 January shows revenue and
-- expense at zero and each fund's surplus in 3001, checked against an
-- independent sum over the lines.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(36);

CREATE ROLE t_ye_admin LOGIN;
GRANT earmark_admin TO t_ye_admin;
CREATE ROLE t_ye_clerk LOGIN;
GRANT earmark_clerk TO t_ye_clerk;
CREATE ROLE t_ye_rev LOGIN;
GRANT earmark_reviewer TO t_ye_rev;
CREATE ROLE t_ye_bk LOGIN;
GRANT earmark_bookkeeper TO t_ye_bk;
SET earmark_test.people = 't_ye';
\ir fixture/helpers.psql

-- The year-end tables as one value, for "nothing changed".
CREATE FUNCTION pg_temp.ye_state() RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT md5(concat_ws('|', pg_temp.state(),
		(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM earmark.carry_forward t),
		(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM earmark.year_end_balance t),
		(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM earmark.fund_spend_day t),
		(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM earmark.spend_month t)))
$$;

SET ROLE t_ye_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2025-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "2302", "name": "应付账款", "kind": "liability", "normal_side": "C"},
	{"code": "3001", "name": "累计盈余", "kind": "net_assets", "normal_side": "C"},
	{"code": "3301", "name": "本期盈余", "kind": "net_assets", "normal_side": "C"},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"},
	{"code": "4604", "name": "利息收入", "kind": "revenue", "normal_side": "C"},
	{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "source": "b.csv:2"}]$$) AS x \gset
SELECT earmark.master_import('B1', 'category', '[{"code": "JC", "name": "基础设施", "source": "c.csv:2"}]') AS x \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2025, "amount_fen": 50000000, "bank_account": "622800000001", "categories": "JC", "source": "f.csv:2"},
	{"code": "F2", "name": "县级资金", "level": "county", "year": 2025, "amount_fen": 10000000, "bank_account": "622800000001", "categories": "JC", "source": "f.csv:3"}]$$) AS x \gset
SELECT earmark.master_import('B1', 'village', '[{"code": "610826101201", "name": "东沟村", "source": "v.csv:2"}]') AS x \gset
SELECT earmark.master_import('B1', 'project', '[{"code": "P1", "name": "东沟村道路硬化", "category": "JC", "villages": "610826101201", "source": "p.csv:2"}]') AS x \gset
SELECT earmark.master_import('B1', 'project_target', '[{"project": "P1", "kind": "产出", "indicator": "硬化道路", "value": "3 公里", "source": "t.csv:2"}]') AS x \gset
SELECT earmark.master_import('B1', 'project_budget', '[{"project": "P1", "fund": "F1", "amount_fen": 10000000, "source": "pb.csv:2"}]') AS x \gset
SELECT earmark.master_import('B1', 'project_event', $$[
	{"project": "P1", "kind": "approval", "date": "2025-02-01", "doc_no": "县振发〔2025〕1号", "source": "e.csv:2"},
	{"project": "P1", "kind": "start", "date": "2025-02-10", "source": "e.csv:3"}]$$) AS x \gset
RESET ROLE;

SELECT pg_temp.post('B1', '2025-03-01', jsonb_build_array(
	pg_temp.ln('1002', 'D', 20000000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 20000000, 'F1'),
	pg_temp.ln('1002', 'D', 5000000, 'F2', '622800000001'), pg_temp.ln('4001', 'C', 5000000, 'F2')), '资金到账') AS x \gset
SELECT pg_temp.post('B1', '2025-04-01', jsonb_build_array(
	pg_temp.ln('5001', 'D', 2000000, 'F1', NULL, '{"project": "P1", "village": "610826101201"}', 'JC'),
	pg_temp.ln('1002', 'C', 2000000, 'F1', '622800000001')), '道路工程进度款') AS x \gset
SELECT pg_temp.post('B1', '2025-05-01', jsonb_build_array(
	pg_temp.ln('5001', 'D', 700000, 'F2', category => 'JC'), pg_temp.ln('2302', 'C', 700000, 'F2')), '县级支出') AS x \gset
SET ROLE t_ye_clerk;
SELECT earmark.fund_interest('B1', '622800000001', '2025-06-21', 12345, NULL) AS iv \gset
SET ROLE t_ye_rev;
SELECT earmark.voucher_review('B1', '#' || :iv) AS x \gset
SET ROLE t_ye_bk;
SELECT earmark.voucher_post('B1', '#' || :iv) AS x \gset
SET ROLE t_ye_clerk;
SELECT earmark.voucher_draft('B1', '2025-11-10', '记', '未记账', NULL, jsonb_build_array(
	pg_temp.ln('2302', 'D', 100, 'F2'), pg_temp.ln('1002', 'C', 100, 'F2', '622800000001'))) AS nov \gset
RESET ROLE;

-- A draft reviewed and posted by two people; returns its number.
CREATE FUNCTION pg_temp.post_as(book text, ref text, rev text, bk text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	was text := current_setting('role');
	num text;
BEGIN
	PERFORM set_config('role', rev, false);
	PERFORM earmark.voucher_review(book, ref);
	PERFORM set_config('role', bk, false);
	num := earmark.voucher_post(book, ref);
	PERFORM set_config('role', was, false);
	RETURN num;
END
$$;

-- Independent sums over the posted lines, without the carry-forwards.
CREATE TEMP VIEW posted AS
SELECT l.*, v.voucher_date, a.code AS acode, a.kind, a.spend, a.is_bank, f.code AS fcode,
       CASE WHEN l.side = 'D' THEN l.amount_fen ELSE -l.amount_fen END AS net,
       EXISTS (SELECT 1 FROM earmark.carry_forward c WHERE c.book_id = l.book_id AND c.voucher_id = l.voucher_id) AS cf
  FROM earmark.line l
  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
  JOIN earmark.fund f ON f.book_id = l.book_id AND f.fund_id = l.fund_id
 WHERE v.status = 'posted';

-- Refusals -------------------------------------------------------------------------

SELECT pg_temp.ye_state() AS s0 \gset
SET ROLE t_ye_admin;
SELECT throws_ok($$SELECT * FROM earmark.year_end_carry_forward('B1', 2025)$$, 'EMC01',
	'year 2025 cannot be carried forward: 1 open item (EMC01)', 'carry-forward: refused while a voucher of the year is a draft');
SELECT alike(pg_temp.error_of($$SELECT * FROM earmark.period_close('B1', '2025-12-01')$$),
	E'EMC01: period 2025-12 cannot be closed: 7 open items (EMC01)\n7 problems:\n'
	|| format(E'  voucher #%s dated 2025-11-10 is still a draft (prepared by t_ye_clerk): 未记账\n', :nov)
	|| E'  2025 is not carried forward: 4001 财政拨款收入 of fund ''F1'' holds 200,000.00 (贷)\n%',
	'close: December is refused while the year is not carried forward, naming the balances');
SELECT throws_ok($$SELECT * FROM earmark.year_end_carry_forward('B1', 2027)$$, 'EMD07', NULL,
	'carry-forward: a year that has not ended is refused (D7)');
SET ROLE t_ye_clerk;
SELECT throws_ok($$SELECT * FROM earmark.year_end_carry_forward('B1', 2025)$$, '42501',
	'permission denied for function year_end_carry_forward', 'carry-forward: only the administrator drafts it');
RESET ROLE;
SELECT is(pg_temp.ye_state(), :'s0', 'carry-forward: the refusals wrote nothing');

-- The draft ---------------------------------------------------------------------------

SET ROLE t_ye_clerk;
SELECT earmark.voucher_discard('B1', '#' || :nov) AS x \gset
SET ROLE t_ye_admin;
SELECT voucher_id AS cf, line_count AS cf_n FROM earmark.year_end_carry_forward('B1', 2025) \gset
RESET ROLE;
SELECT is((SELECT vtype || ' ' || voucher_date || ' ' || status || ' ' || prepared_by FROM earmark.voucher WHERE voucher_id = :cf),
	'转 2025-12-31 draft t_ye_admin', 'carry-forward: a 转 draft dated 31 December, prepared by the administrator');
SELECT set_eq(
	format($$SELECT account, fund, project, village, category, CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END
	           FROM earmark.line_coded WHERE voucher_id = %s AND account NOT IN ('3301', '3001')$$, :cf),
	$$SELECT p.acode, p.fcode, pr.code AS project, vg.code AS village, uc.code AS category, -sum(p.net)::bigint
	    FROM posted p
	    LEFT JOIN earmark.project pr ON pr.book_id = p.book_id AND pr.project_id = p.project_id
	    LEFT JOIN earmark.village vg ON vg.book_id = p.book_id AND vg.village_id = p.village_id
	    LEFT JOIN earmark.use_category uc ON uc.book_id = p.book_id AND uc.category_id = p.category_id
	   WHERE p.kind IN ('revenue', 'expense') GROUP BY 1, 2, 3, 4, 5 HAVING sum(p.net) <> 0$$,
	'carry-forward: each revenue and expense balance per fund and dimension closed on the other side');
SELECT set_eq(
	format($$SELECT account, fund, CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END
	           FROM earmark.line_coded WHERE voucher_id = %s AND account IN ('3301', '3001')$$, :cf),
	$$SELECT '3301' AS account, p.fcode, sum(p.net)::bigint AS net FROM posted p WHERE p.kind = 'revenue' GROUP BY 2
	  UNION ALL SELECT '3301', p.fcode, sum(p.net)::bigint FROM posted p WHERE p.kind = 'expense' GROUP BY 2
	  UNION ALL SELECT '3301', p.fcode, -sum(p.net)::bigint FROM posted p WHERE p.kind IN ('revenue', 'expense') GROUP BY 2
	  UNION ALL SELECT '3001', p.fcode, sum(p.net)::bigint FROM posted p WHERE p.kind IN ('revenue', 'expense') GROUP BY 2$$,
	'carry-forward: per fund, revenue and expense into 3301, and 3301 into 3001');
SELECT is_empty(format($$SELECT fund FROM earmark.line_coded WHERE voucher_id = %s GROUP BY fund
                        HAVING sum(CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END) <> 0$$, :cf),
	'carry-forward: each fund balances (D2)');
RESET ROLE;
SELECT pg_temp.ye_state() AS s1 \gset
SET ROLE t_ye_admin;
SELECT results_eq($$SELECT voucher_id, already FROM earmark.year_end_carry_forward('B1', 2025)$$,
	format('VALUES (%s::bigint, true)', :cf), 'carry-forward: asked again, the same draft is answered');
RESET ROLE;
SELECT is(pg_temp.ye_state(), :'s1', 'carry-forward: twice changes nothing');

-- The exemption is the carry-forward's alone: a clerk's voucher with the
-- same lines is refused by the disbursement rules (A4: interest not shared
-- by balance).
SET ROLE t_ye_clerk;
SELECT alike(pg_temp.error_of(format($$SELECT earmark.voucher_draft('B1', '2025-12-31', '转', 'by hand', NULL,
	(SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('account', account, 'side', side, 'amount_fen', amount_fen,
	        'fund', fund, 'project', project, 'village', village, 'category', category)) ORDER BY line_no)
	   FROM earmark.line_coded WHERE voucher_id = %s))$$, :cf)), 'EMA04: %',
	'exemption: the same lines drafted by a clerk are refused (A4)');
RESET ROLE;

-- Stale: something posted into December after the draft -------------------------------------

SELECT pg_temp.post('B1', '2025-12-20', jsonb_build_array(
	pg_temp.ln('5001', 'D', 50000, 'F2', category => 'JC'), pg_temp.ln('2302', 'C', 50000, 'F2')), '年底支出') AS x \gset
SET ROLE t_ye_rev;
SELECT throws_ok(format('SELECT earmark.voucher_review(%L, %L)', 'B1', '#' || :cf), 'EMC02',
	format('carry-forward voucher #%s does not match the balances of 2025 (EMC02)', :cf),
	'review: a carry-forward that no longer matches the balances is refused');
SET ROLE t_ye_admin;
SELECT voucher_id AS cf2 FROM earmark.year_end_carry_forward('B1', 2025) \gset
RESET ROLE;
SELECT ok(:cf2 <> :cf AND NOT EXISTS (SELECT 1 FROM earmark.voucher WHERE voucher_id = :cf),
	'carry-forward: the stale draft is drafted again by its preparer');

-- Review and post (D6), then nothing is left --------------------------------------------------

SET ROLE t_ye_rev;
SELECT lives_ok(format('SELECT earmark.voucher_review(%L, %L)', 'B1', '#' || :cf2), 'review: a reviewer reviews the carry-forward');
SET ROLE t_ye_bk;
SELECT is(earmark.voucher_post('B1', '#' || :cf2), '转-2025-12-0001', 'post: a bookkeeper posts it, numbered (D5)');
RESET ROLE;
SELECT ok((SELECT chain_seq = (SELECT seq FROM earmark.chain_head) AND prepared_by = 't_ye_admin' AND reviewed_by = 't_ye_rev'
                  AND posted_by = 't_ye_bk' FROM earmark.voucher WHERE voucher_id = :cf2),
	'post: three people (D6), and the head of the hash chain (D8)');
SELECT pg_temp.ye_state() AS s2 \gset
SET ROLE t_ye_admin;
SELECT is_empty($$SELECT * FROM earmark.year_end_carry_forward('B1', 2025)$$, 'carry-forward: once posted, nothing is left to carry');
RESET ROLE;
SELECT is(pg_temp.ye_state(), :'s2', 'carry-forward: and asking again changes nothing');

-- Spend totals and reports are not undone by the closing ---------------------------------------

SELECT results_eq($$SELECT spent_fen FROM earmark.project_spend$$, $$VALUES (2000000::bigint)$$,
	'P2: the project''s payments stay what was paid');
SELECT results_eq(
	$$SELECT s.fund, s.received_fen, s.projects_fen, s.households_fen, s.balance_fen FROM earmark.fund_statement('B1', '2026-01-01') s
	   WHERE s.name <> '' ORDER BY 1$$,
	$$SELECT f.code,
	         COALESCE((SELECT sum(-p.net) FROM posted p WHERE p.fund_id = f.fund_id AND p.kind = 'revenue' AND NOT p.cf), 0)::bigint,
	         COALESCE((SELECT sum(p.net) FROM posted p WHERE p.fund_id = f.fund_id AND p.spend AND NOT p.cf), 0)::bigint,
	         0::bigint,
	         COALESCE((SELECT sum(p.net) FROM posted p WHERE p.fund_id = f.fund_id AND p.is_bank), 0)::bigint
	    FROM earmark.fund f ORDER BY 1$$,
	'fund statement: received and spent in the new year are what the lines received and spent');

SELECT results_eq($$SELECT project, fund, paid_fen FROM earmark.project_ledger('B1', '2026-01-01')$$,
	$$SELECT 'P1'::text, 'F1'::text, (SELECT sum(p.net) FROM posted p WHERE p.spend AND p.project_id IS NOT NULL AND NOT p.cf)::bigint$$,
	'project ledger: paid to the project stays what its lines paid');
SELECT results_eq($$SELECT code, projects_fen FROM earmark.village_register('B1', '2026-01-01')$$,
	$$SELECT '610826101201'::text, (SELECT sum(p.net) FROM posted p WHERE p.spend AND p.village_id IS NOT NULL AND NOT p.cf)::bigint$$,
	'village register: spent in the village stays what its lines spent');

-- The new year opens with revenue and expense at zero, the surplus in 3001.
SELECT is_empty($$SELECT code FROM earmark.trial_balance('B1', '2026-01-01')
                   WHERE code IN ('3301', '4001', '4604', '5001') AND (balance_debit_fen <> 0 OR balance_credit_fen <> 0)$$,
	'trial balance of 1 January: revenue, expense and 3301 are zero');
SELECT results_eq(
	$$SELECT f.code, t.balance_credit_fen FROM earmark.fund f, earmark.trial_balance('B1', '2026-01-01', f.code) t
	   WHERE t.code = '3001' ORDER BY 1$$,
	$$SELECT p.fcode, -sum(p.net)::bigint FROM posted p WHERE p.kind IN ('revenue', 'expense') AND NOT p.cf GROUP BY 1 ORDER BY 1$$,
	'trial balance of 1 January: 3001 holds each fund''s revenue less expense, from the lines');

-- Never reversed --------------------------------------------------------------------------

SET ROLE t_ye_clerk;
SELECT throws_ok($$SELECT earmark.voucher_reverse('B1', '转-2025-12-0001', '2025-12-31', NULL)$$, 'EMC02',
	'voucher 转-2025-12-0001 is a year-end carry-forward and is not reversed (EMC02)',
	'reverse: a carry-forward is not reversed');
RESET ROLE;

SET ROLE earmark_owner;
SELECT throws_ok($$UPDATE earmark.carry_forward SET year = 2024$$, 'EMD03', NULL,
	'record: which voucher carried a year forward is not changed, not even by the owner');
SELECT throws_ok(format('DELETE FROM earmark.carry_forward WHERE voucher_id = %s', :cf2), 'EMD03', NULL,
	'record: nor deleted while its voucher is posted');
RESET ROLE;

-- Posted into the year after the carry-forward: December waits for a second one.
SELECT pg_temp.post('B1', '2025-12-30', jsonb_build_array(
	pg_temp.ln('5001', 'D', 100, 'F2', category => 'JC'), pg_temp.ln('2302', 'C', 100, 'F2')), '年底补记') AS x \gset
SET ROLE t_ye_admin;
SELECT alike(pg_temp.error_of($$SELECT earmark.period_close('B1', '2025-12-01')$$),
	E'EMC01: period 2025-12 cannot be closed: 1 open item (EMC01)\n%2025 is not carried forward: 5001 业务活动费用 of fund ''F2'' holds 1.00 (借)',
	'close: what was posted after the carry-forward keeps December open');
SELECT voucher_id AS cf3, line_count AS cf3_n FROM earmark.year_end_carry_forward('B1', 2025) \gset
RESET ROLE;
SELECT is((SELECT string_agg(account || ' ' || side || ' ' || amount_fen || ' ' || fund, ', ' ORDER BY line_no)
             FROM earmark.line_coded WHERE voucher_id = :cf3),
	'5001 C 100 F2, 3301 D 100 F2, 3301 C 100 F2, 3001 D 100 F2',
	'carry-forward: a second one closes only what is left');
SELECT pg_temp.post_as('B1', '#' || :cf3, 't_ye_rev', 't_ye_bk') AS x \gset
SELECT is_empty($$SELECT code FROM earmark.trial_balance('B1', '2026-01-01')
                   WHERE code IN ('3301', '4001', '4604', '5001') AND (balance_debit_fen <> 0 OR balance_credit_fen <> 0)$$,
	'trial balance of 1 January: zero again after the second carry-forward');

-- December closes, and with it the year -----------------------------------------------------

SET ROLE t_ye_admin;
SELECT lives_ok($$SELECT earmark.period_close('B1', '2025-12-01')$$, 'close: December closes once the year is carried forward');
RESET ROLE;
SELECT is((SELECT count(*)::integer FROM earmark.period WHERE closed_at IS NOT NULL AND month BETWEEN '2025-01-01' AND '2025-12-01'), 12,
	'close: closing December closes every month of the year');
SELECT results_eq(
	$$SELECT a.code, f.code, y.balance_fen FROM earmark.year_end_balance y
	    JOIN earmark.account a USING (book_id, account_id) JOIN earmark.fund f USING (book_id, fund_id)
	   WHERE y.year = 2025 AND y.balance_fen <> 0 ORDER BY 1, 2$$,
	$$SELECT p.acode, p.fcode, sum(p.net)::bigint FROM posted p GROUP BY 1, 2 HAVING sum(p.net) <> 0 ORDER BY 1, 2$$,
	'year end: the balances carried into 2026 equal the lines, revenue and expense at zero');
SELECT pg_temp.ye_state() AS s3 \gset
SET ROLE t_ye_admin;
SELECT lives_ok($$SELECT earmark.period_close('B1', '2025-12-01')$$, 'close: closing December again');
RESET ROLE;
SELECT is(pg_temp.ye_state(), :'s3', 'close: closing the year twice changes nothing');

SELECT * FROM finish();
ROLLBACK;
