-- Public notices (DESIGN section 7, migration 0014) and the rules they
-- carry at the DB level: a notice period is at least 10 days and at least
-- the book's notice_days (H3); a notice discloses only projects approved
-- with a budget (P1); it is made by earmark.notice_content, stored with the
-- SHA-256 of its content and never changes; its content shows names masked
-- and no ID number, bank card or phone (H4); publishing a plan notice
-- publishes its beneficiary lists for the same period, and an objection to
-- a line of the notice is one the payment gate H3 reads; earmark_public
-- reads published notices and nothing else.
--
-- PH (危房改造, 东沟村 and 西沟村) is approved on 1 March with 500,000.00
-- from F1; PX has a budget but no approval.  List L1 has H0001 (东沟村) and
-- H0002 (西沟村); list L2 only H0001.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(34);

CREATE ROLE t_notice_admin LOGIN;
GRANT earmark_admin TO t_notice_admin;
CREATE ROLE t_notice_clerk LOGIN;
GRANT earmark_clerk TO t_notice_clerk;
CREATE ROLE t_notice_rev LOGIN;
GRANT earmark_reviewer TO t_notice_rev;
CREATE ROLE t_notice_bk LOGIN;
GRANT earmark_bookkeeper TO t_notice_bk;
CREATE ROLE t_notice_board LOGIN;
GRANT earmark_public TO t_notice_board;

SET earmark_test.people = 't_notice';
\ir fixture/helpers.psql

-- Notices, lists and objections as one value: a refusal leaves it as it was.
CREATE FUNCTION pg_temp.nstate() RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT md5(concat_ws('|',
		(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM earmark.notice t),
		(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM earmark.notice_list t),
		(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM earmark.notice_contact t),
		(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM earmark.beneficiary_list t),
		(SELECT string_agg(t::text, ',' ORDER BY t::text) FROM earmark.objection t)))
$$;

SET ROLE t_notice_admin;
SELECT earmark.book_create('B1', '测试县专项资金', '2026-01-01', $$[
	{"code": "1002", "name": "银行存款", "kind": "asset", "normal_side": "D", "is_bank": true},
	{"code": "2303", "name": "应付政府补贴款", "kind": "liability", "normal_side": "C"},
	{"code": "4001", "name": "财政拨款收入", "kind": "revenue", "normal_side": "C"},
	{"code": "5001", "name": "业务活动费用", "kind": "expense", "normal_side": "D"}
]$$) AS book_id \gset
SELECT earmark.master_import('B1', 'bank_account', $$[
	{"account_no": "622800000001", "bank_name": "农业银行县支行", "cnaps": "103100000001", "source": "bank_accounts.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'category', $$[{"code": "WF", "name": "危房改造", "source": "c.csv:2"}]$$) AS imported \gset
SELECT earmark.master_import('B1', 'fund', $$[
	{"code": "F1", "name": "中央衔接资金", "level": "central", "year": 2026, "doc_no": "财农〔2026〕1号", "amount_fen": 500000000, "bank_account": "622800000001", "categories": "WF", "source": "funds.csv:2"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'household_cap', $$[{"category": "WF", "year": 2026, "cap_fen": 4000000, "source": "caps.csv:2"}]$$) AS imported \gset
SELECT earmark.master_import('B1', 'village', $$[
	{"code": "610826101201", "name": "东沟村", "township": "城关镇", "county": "测试县", "source": "villages.csv:2"},
	{"code": "610826102203", "name": "西沟村", "township": "城关镇", "county": "测试县", "source": "villages.csv:3"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'household', $$[
	{"code": "H0001", "village": "610826101201", "head_name": "张建国", "id_no": "610826196503120214", "bank_card": "6228480011223301234", "bank_cnaps": "103456000011", "phone": "13812341234", "source": "h.csv:2"},
	{"code": "H0002", "village": "610826102203", "head_name": "李秀英", "id_no": "610826197208050422", "bank_card": "6228480011223305678", "bank_cnaps": "103456000011", "phone": "13923452345", "source": "h.csv:3"},
	{"code": "H0003", "village": "610826101201", "head_name": "王五", "id_no": "610826195811040035", "source": "h.csv:4"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project', $$[
	{"code": "PH", "name": "危房改造到户补助", "category": "WF", "villages": "610826101201;610826102203", "scale": "改造危房2户", "implementing_unit": "县住建局", "responsible": "孙丽", "benefit_mechanism": "住房安全有保障", "source": "p.csv:2"},
	{"code": "PX", "name": "未批复项目", "category": "WF", "villages": "610826101201", "source": "p.csv:3"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_budget', $$[
	{"project": "PH", "fund": "F1", "amount_fen": 50000000, "source": "b.csv:2"},
	{"project": "PX", "fund": "F1", "amount_fen": 10000000, "source": "b.csv:3"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_target', $$[
	{"project": "PH", "kind": "产出", "indicator": "改造户数", "value": "2户", "source": "t.csv:2"},
	{"project": "PX", "kind": "产出", "indicator": "户数", "value": "1户", "source": "t.csv:3"}
]$$) AS imported \gset
SELECT earmark.master_import('B1', 'project_event', $$[
	{"project": "PH", "kind": "approval", "date": "2026-03-01", "doc_no": "县住建〔2026〕1号", "source": "e.csv:2"}
]$$) AS imported \gset
RESET ROLE;
SET ROLE t_notice_clerk;
SELECT earmark.list_create('B1', 'L1', 'PH', '危房改造补助对象', $$[
	{"household": "H0001", "amount_fen": 4000000, "item": "D级", "source": "l.csv:2"},
	{"household": "H0002", "amount_fen": 1500000, "item": "C级", "source": "l.csv:3"}]$$) AS n \gset
SELECT earmark.list_create('B1', 'L2', 'PH', '危房改造补助对象（东沟村）', $$[
	{"household": "H0001", "amount_fen": 300000, "item": "厨厕", "source": "l2.csv:2"}]$$) AS n \gset
RESET ROLE;
SELECT pg_temp.post('B1', '2026-03-02',
	jsonb_build_array(pg_temp.ln('1002', 'D', 500000000, 'F1', '622800000001'), pg_temp.ln('4001', 'C', 500000000, 'F1')),
	'receipt') AS num \gset

-- Who publishes, and the hotline ---------------------------------------------------

SELECT throws_ok($$SELECT earmark.notice_content('B1', 'plan', 'project', 'PH', '2026-10-01', NULL)$$,
	'EMR01', 'book ''B1'' has no publisher and local supervision hotline for its notices',
	'notice: none before the book has a publisher and a hotline');
SET ROLE t_notice_admin;
SELECT throws_ok($$SELECT earmark.notice_contact_set('B1', '县乡村振兴局', 'ring us')$$, 'EMI01',
	'publisher or hotline refused', 'notice: a hotline that is no number is refused');
SELECT lives_ok($$SELECT earmark.notice_contact_set('B1', '县乡村振兴局', '0916-1234567')$$,
	'notice: the administrator sets the publisher and the local hotline');
RESET ROLE;
SET ROLE t_notice_clerk;
SELECT throws_ok($$SELECT earmark.notice_contact_set('B1', 'x', '0916-1234567')$$, '42501', NULL,
	'notice: a clerk does not set them');
RESET ROLE;

-- H3: the notice period ------------------------------------------------------------

SELECT pg_temp.nstate() AS n0 \gset
SELECT throws_ok($$SELECT earmark.notice_content('B1', 'plan', 'project', 'PH', '2026-10-01', 9)$$,
	'EMH03', 'a notice period of 9 days is too short (H3)', 'H3: a notice period of 9 days is refused');
SELECT lives_ok($$SELECT earmark.notice_content('B1', 'plan', 'project', 'PH', '2026-10-01', 10)$$,
	'H3: 10 days are enough');
SET ROLE t_notice_admin;
SELECT earmark.master_import('B1', 'setting', $$[{"key": "notice_days", "value": 15, "source": "s.csv:2"}]$$) AS n \gset
SELECT throws_ok($$SELECT earmark.notice_publish('B1', 'plan', 'project', 'PH', '2026-10-01', 12, 'L1')$$,
	'EMH03', 'a notice period of 12 days is too short (H3)', 'H3: the book''s notice_days (15) is the minimum');
RESET ROLE;
SELECT is(pg_temp.nstate(), :'n0', 'H3: the refused notice published nothing, not the list either');
SELECT is((SELECT count(*)::int FROM earmark.notice), 0, 'H3: no notice row either');
SELECT matches(earmark.notice_content('B1', 'plan', 'project', 'PH', '2026-10-01', NULL),
	E'\nperiod\t2026-10-01\t2026-10-15\t15\n', 'H3: without a period the notice takes the book''s 15 days');

-- P1: only approved projects with a budget -------------------------------------------

SELECT throws_ok($$SELECT earmark.notice_content('B1', 'plan', 'project', 'PX', '2026-10-01', NULL)$$,
	'EMP01', 'project ''PX'' has no approved budget on 2026-10-01 (P1)',
	'P1: a notice for a project without an approved budget is refused');
SELECT throws_ok($$SELECT earmark.notice_content('B1', 'plan', 'project', 'PH', '2026-02-01', NULL)$$,
	'EMP01', 'project ''PH'' has no approved budget on 2026-02-01 (P1)',
	'P1: nor before its approval');
SELECT unalike(earmark.notice_content('B1', 'plan', 'village', '610826101201', '2026-10-01', NULL),
	E'%\nproject\tPX\t%', 'P1: a village notice leaves out the unapproved project');

-- The content: every field, masked (H4) ----------------------------------------------

SELECT earmark.notice_content('B1', 'plan', 'project', 'PH', '2026-10-01', NULL) AS c \gset
SELECT matches(:'c'::text, E'^earmark-notice\t1\nbook\tB1\t测试县专项资金\nkind\tplan\t事前公示\nscope\tproject\tPH\t危房改造到户补助\t城关镇\t测试县\n',
	'content: the header names book, kind and scope');
SELECT matches(:'c'::text, E'\nhotline\t12317\t0916-1234567\n', 'content: the national hotline 12317 and the local one');
SELECT matches(:'c'::text, E'\nchain\t1\t[0-9a-f]{64}\n', 'content: the hash-chain head as it stood (one voucher)');
SELECT matches(:'c'::text, E'\nfund\tPH\tF1\t中央衔接资金\tcentral\t财农〔2026〕1号\t50000000\n', 'content: fund source and amount');
SELECT matches(:'c'::text, E'\nbeneficiary\tPH\tL1\tH0001\t张\\*国\t东沟村\t1\t一般户\tD级\t\t4000000\n',
	'content: a beneficiary, the name masked (H4)');
SELECT is(:'c' ~ '610826196503120214|6228480011223301234|13812341234|张建国|李秀英|0422|5678', false,
	'content: no ID number, bank card, phone or full name (H4)');
SELECT matches(earmark.notice_content('B1', 'result', 'county', 'B1', '2026-10-01', NULL),
	E'\nkind\tresult\t事后公告\n.*\ntotal\tPH\t0\t0\nend\n$', 'content: a result notice of the county, nothing paid yet');

-- Publishing, and the lists with it -------------------------------------------------

SET ROLE t_notice_clerk;
SELECT throws_ok($$SELECT earmark.notice_publish('B1', 'plan', 'project', 'PH', '2026-10-01', NULL, 'L1')$$,
	'42501', NULL, 'notice: a clerk does not publish');
RESET ROLE;
SET ROLE t_notice_admin;
SELECT throws_ok($$SELECT earmark.notice_publish('B1', 'plan', 'village', '610826101201', '2026-10-01', NULL, 'L1')$$,
	'EMH03', 'list ''L1'' has households outside village 610826101201 and would not be disclosed whole (H3)',
	'H3: a village''s notice does not publish a list with households of other villages');
SELECT lives_ok($$SELECT earmark.notice_publish('B1', 'plan', 'project', 'PH', '2026-10-01', NULL, 'L1')$$,
	'notice: the project''s plan notice is published with list L1');
RESET ROLE;
SELECT is((SELECT format('%s %s %s %s', l.published_on, l.notice_days, n.published_on, n.notice_days)
             FROM earmark.notice n JOIN earmark.notice_list nl USING (book_id, notice_id)
             JOIN earmark.beneficiary_list l USING (book_id, list_id) WHERE l.code = 'L1'),
	'2026-10-01 15 2026-10-01 15', 'H3: the list is published for the notice''s period');
SELECT is((SELECT content FROM earmark.notice), :'c'::text, 'notice: the stored content is what notice_content makes');
SELECT throws_ok($$UPDATE earmark.notice SET title = 'x'$$, 'EMH03', 'a published notice cannot change (H3)',
	'notice: a published notice never changes, not for its owner either');
SELECT throws_ok($$INSERT INTO earmark.notice (book_id, kind, scope, scope_code, title, content, digest, published_on, notice_days, published_by)
                   SELECT book_id, 'plan', 'county', 'B1', 't', 'typed', repeat('0', 64), '2026-10-01', 10, 'x' FROM earmark.book$$,
	'23514', NULL, 'notice: a digest that is not the SHA-256 of the content is refused');

-- Objections on the notice; the payment gate reads them (H3) ---------------------------

SELECT notice_id AS nid, digest AS dig FROM earmark.notice \gset
SET ROLE t_notice_clerk;
SELECT throws_ok(format($$SELECT earmark.notice_object('B1', '#%s', 'H0003', '2026-10-03', '不在名单')$$, :nid),
	'EMH03', format('household ''H0003'' is not on the beneficiary list of notice #%s (H3)', :nid),
	'H3: an objection for a household not on the notice''s list is refused');
SELECT throws_ok(format($$SELECT earmark.notice_object('B1', '#%s', 'H0009', '2026-10-03', '不在名单')$$, :nid),
	'EMR01', NULL, 'H3: an objection for an unknown household is refused');
SELECT throws_ok($$SELECT earmark.notice_object('B1', '#999', 'H0001', '2026-10-03', 'x')$$,
	'EMR01', 'no published notice ''#999''', 'H3: an objection to an unknown notice is refused');
SELECT lives_ok(format($$SELECT earmark.notice_object('B1', %L, 'H0002', '2026-10-03', '反映情况不实')$$, :'dig'),
	'H3: an objection to H0002 on the notice, by its digest');
RESET ROLE;
SELECT throws_ok($$SELECT pg_temp.undone($q$SELECT pg_temp.post('B1', '2026-10-20', jsonb_build_array(
		pg_temp.ln('5001', 'D', 1500000, 'F1', NULL, '{"project": "PH", "household": "H0002"}', 'WF'),
		pg_temp.ln('2303', 'C', 1500000, 'F1', NULL, '{"project": "PH"}')))$q$)$$,
	'EMH03', NULL, 'H3: the household with an open objection on the notice is not paid');

-- earmark_public: published notices and nothing else --------------------------------

SET ROLE t_notice_board;
SELECT is((SELECT format('%s %s %s', kind, scope, digest = :'dig') FROM earmark.public_notice), 'plan project t',
	'public: the board''s role reads the published notice');
SELECT throws_ok($$SELECT count(*) FROM earmark.notice$$, '42501', 'permission denied for table notice',
	'public: but not the notice table itself, nor anything else');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
