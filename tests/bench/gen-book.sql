-- tests/bench/gen-book.sql: a county's book, set-based, for the benchmarks
-- (reports.sh, audit.sh).  psql variables: lines (about how many lines),
-- start and last (the first and last day).  As the superuser with triggers
-- off (session_replication_role = replica): the rules are not what is
-- measured.  What posting keeps is filled from the lines; the hash chain is
-- NOT real (chain_hash is a placeholder): audit.sh recomputes it.
SET session_replication_role = replica;
SET maintenance_work_mem = '256MB';
BEGIN;
INSERT INTO earmark.book (code, name, start_date, created_by)
VALUES ('BENCH', '平安县衔接资金（报表基准测试）', :'start', current_user) RETURNING book_id AS b \gset
INSERT INTO earmark.account (book_id, code, name, kind, normal_side, is_bank) VALUES
	(:b, '1002', '银行存款', 'asset', 'D', true), (:b, '2302', '应付账款', 'liability', 'C', false),
	(:b, '2303', '应付政府补贴款', 'liability', 'C', false), (:b, '4001', '财政拨款收入', 'revenue', 'C', false),
	(:b, '5001', '业务活动费用', 'expense', 'D', false);
INSERT INTO earmark.use_category (book_id, code, name) VALUES (:b, 'CY', '产业发展');
INSERT INTO earmark.dedicated_account (book_id, account_no, bank_name, cnaps, holder)
SELECT :b, '6228480011' || lpad(k::text, 8, '0'), '中国农业银行平安县支行', '103456000011', '平安县财政局专户'
  FROM generate_series(1, 20) k;
INSERT INTO earmark.fund (book_id, code, name, level, year, amount_fen, bank_account_id, received_on)
SELECT :b, 'F' || lpad(k::text, 2, '0'), '衔接资金' || k,
       (ARRAY['central', 'province', 'city', 'county'])[1 + k % 4], extract(year FROM :'start'::date)::int + k % 4,
       100000000000, da.bank_account_id, :'start'::date
  FROM generate_series(1, 20) k
  JOIN earmark.dedicated_account da ON da.book_id = :b AND da.account_no = '6228480011' || lpad(k::text, 8, '0');
INSERT INTO earmark.village (book_id, code, name, township)
SELECT :b, '610826' || lpad((100 + v / 20)::text, 3, '0') || lpad((200 + v % 20)::text, 3, '0'), '村' || v, '镇' || v / 20
  FROM generate_series(0, 299) v;
INSERT INTO earmark.household (book_id, code, village_id, head_name)
SELECT :b, 'H' || lpad(h::text, 7, '0'), (SELECT min(village_id) FROM earmark.village WHERE book_id = :b) + h % 300, '王建国'
  FROM generate_series(1, 50000) h;
INSERT INTO earmark.household_private (book_id, household_id, id_no)
SELECT :b, household_id, '610826' || lpad(household_id::text, 11, '0') || '0' FROM earmark.household WHERE book_id = :b;
INSERT INTO earmark.project (book_id, code, name, category_id)
SELECT :b, 'P' || lpad(p::text, 4, '0'), '项目' || p, (SELECT category_id FROM earmark.use_category WHERE book_id = :b)
  FROM generate_series(1, 2000) p;
INSERT INTO earmark.project_budget (book_id, project_id, fund_id, original_fen)
SELECT :b, p.project_id, f.fund_id, 1000000000
  FROM earmark.project p JOIN earmark.fund f ON f.book_id = p.book_id AND f.fund_id = (SELECT min(fund_id) FROM earmark.fund WHERE book_id = :b) + p.project_id % 20
 WHERE p.book_id = :b;

-- Ids and numbers of the vouchers to come: receipts first (one per fund and
-- year), then the payments.
CREATE TEMP TABLE ids AS
SELECT (SELECT account_id FROM earmark.account WHERE book_id = :b AND code = '1002') AS bank,
       (SELECT account_id FROM earmark.account WHERE book_id = :b AND code = '2303') AS payable,
       (SELECT account_id FROM earmark.account WHERE book_id = :b AND code = '4001') AS revenue,
       (SELECT account_id FROM earmark.account WHERE book_id = :b AND code = '5001') AS expense,
       (SELECT category_id FROM earmark.use_category WHERE book_id = :b) AS cat,
       (SELECT min(fund_id) FROM earmark.fund WHERE book_id = :b) AS fund0,
       (SELECT min(household_id) FROM earmark.household WHERE book_id = :b) AS hh0,
       (SELECT min(project_id) FROM earmark.project WHERE book_id = :b) AS proj0,
       :'last'::date - :'start'::date + 1 AS days,
       (:lines / 4)::bigint AS payments;
CREATE TEMP TABLE vgen AS
SELECT i, d, kind, fund
  FROM (SELECT k AS i, (:'start'::date + (k - 1) / 20 * 365) AS d, 'R' AS kind, (k - 1) % 20 AS fund
          FROM generate_series(1, 20 * ((:'last'::date - :'start'::date) / 365 + 1)) k
         WHERE :'start'::date + (k - 1) / 20 * 365 <= :'last'::date
        UNION ALL
        SELECT 1000 + k, :'start'::date + ((k - 1) * (SELECT days FROM ids) / (SELECT payments FROM ids))::int, 'P', k % 20
          FROM generate_series(1, (SELECT payments FROM ids)) k) g;
INSERT INTO earmark.voucher (book_id, voucher_id, vtype, voucher_date, memo, status, prepared_by, prepared_at,
                             reviewed_by, reviewed_at, posted_by, posted_at, month, number, number_text,
                             chain_seq, chain_hash)
OVERRIDING SYSTEM VALUE
SELECT :b, i, '记', d, CASE kind WHEN 'R' THEN '收到资金' ELSE '到户补助' END, 'posted',
       'bench_clerk', now(), 'bench_reviewer', now(), 'bench_bookkeeper', now(),
       date_trunc('month', d)::date, n, '记-' || to_char(d, 'YYYY-MM') || '-' || lpad(n::text, 6, '0'),
       row_number() OVER (ORDER BY d, i), sha256(int8send(i))
  FROM (SELECT *, row_number() OVER (PARTITION BY date_trunc('month', d) ORDER BY d, i) AS n FROM vgen) v;
INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, project_id,
                          household_id, bank_account_id, category_id, memo)
SELECT :b, v.i, ln,
       CASE WHEN v.kind = 'R' THEN CASE ln WHEN 1 THEN ids.bank ELSE ids.revenue END
            ELSE CASE ln WHEN 1 THEN ids.expense WHEN 4 THEN ids.bank ELSE ids.payable END END,
       CASE WHEN ln IN (1, 3) THEN 'D' ELSE 'C' END,
       CASE WHEN v.kind = 'R' THEN 50000000000 ELSE 1000 + (v.i % 5000) * 100 END,
       ids.fund0 + v.fund,
       CASE WHEN v.kind = 'P' AND ln = 1 THEN ids.proj0 + (v.i * 7) % 2000 END,
       CASE WHEN v.kind = 'P' AND ln = 1 THEN ids.hh0 + (v.i * 7919) % 50000 END,
       CASE WHEN (v.kind = 'R' AND ln = 1) OR (v.kind = 'P' AND ln = 4) THEN f.bank_account_id END,
       CASE WHEN v.kind = 'P' AND ln = 1 THEN ids.cat END,
       ''
  FROM vgen v CROSS JOIN ids
  JOIN earmark.fund f ON f.book_id = :b AND f.fund_id = ids.fund0 + v.fund
  CROSS JOIN LATERAL generate_series(1, CASE v.kind WHEN 'R' THEN 2 ELSE 4 END) ln;
-- What posting keeps (0002, 0013).
INSERT INTO earmark.period_balance (book_id, month, account_id, fund_id, debit_fen, credit_fen, line_count)
SELECT :b, date_trunc('month', v.voucher_date)::date, l.account_id, l.fund_id,
       COALESCE(sum(l.amount_fen) FILTER (WHERE l.side = 'D'), 0), COALESCE(sum(l.amount_fen) FILTER (WHERE l.side = 'C'), 0),
       count(*)
  FROM earmark.line l JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
 WHERE l.book_id = :b GROUP BY 1, 2, 3, 4;
SELECT earmark.report_keep(:b, NULL);
INSERT INTO earmark.chain_head (book_id, seq, hash)
SELECT :b, count(*), sha256('bench') FROM earmark.voucher WHERE book_id = :b;
COMMIT;
VACUUM ANALYZE;
CHECKPOINT;
