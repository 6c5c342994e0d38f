-- 0013 the ledgers and reports, the exceptions log (issue 4; DESIGN
-- sections 1, 4 P5, 5 and 10).
--
-- Every report is as of a date and never scans all lines: sums come from
-- kept totals (period_balance, and day_balance, fund_spend_day, spend_month
-- and village_month below); where a report needs lines, only those of the
-- days it covers are read, through the voucher date index, and a report on
-- one project, village or household reads that dimension's lines through
-- its own index.  earmark.trial_balance (0003) is replaced to read the days
-- of its last month from day_balance instead of the lines.  A date before the book
-- began is refused (EMI01), as earmark.trial_balance does.
--
-- The report functions run with the caller's rights (the office and the
-- auditor read the ledger, 0004/0009), except the household ledger, which
-- reads personal data and masks it (H4) for every role outside the office.
--
-- The exceptions log (refusal) records every command the rules refused,
-- written by earmark after the refused transaction rolled back, so the log
-- survives the rollback.  Its writer stamps the person (session_user) and
-- the time (the server's clock) itself; nobody may change or delete a row.

-- Reports by village read the lines of one village.
CREATE INDEX line_book_village ON earmark.line (book_id, village_id) WHERE village_id IS NOT NULL;

-- Kept totals beside period_balance, written at posting by one trigger,
-- so that no report as of a date reads the lines of the month it falls in
-- (day_balance) and the spend reports read months and days, not lines:
--   day_balance     per day, account and fund (period_balance by day)
--   fund_spend_day  spend (account.spend: expenses and advances) per day,
--                   fund and whether it went to a household
--   spend_month     spend per month, fund and project (NULL: none)
--   village_month   spend per month and village: the household's village
--                   for a household line, else the line's own
-- Invariant of each: equal to the sum of the posted lines it covers (spend
-- D positive, C negative).
CREATE TABLE earmark.day_balance (
	book_id    integer NOT NULL,
	day        date NOT NULL,
	account_id integer NOT NULL,
	fund_id    integer NOT NULL,
	debit_fen  bigint NOT NULL,
	credit_fen bigint NOT NULL,
	line_count bigint NOT NULL,
	PRIMARY KEY (book_id, day, account_id, fund_id),
	FOREIGN KEY (book_id, account_id) REFERENCES earmark.account,
	FOREIGN KEY (book_id, fund_id) REFERENCES earmark.fund
);
CREATE TABLE earmark.fund_spend_day (
	book_id      integer NOT NULL,
	day          date NOT NULL,
	fund_id      integer NOT NULL,
	to_household boolean NOT NULL,
	spent_fen    bigint NOT NULL,
	line_count   bigint NOT NULL,
	PRIMARY KEY (book_id, day, fund_id, to_household),
	FOREIGN KEY (book_id, fund_id) REFERENCES earmark.fund
);
CREATE TABLE earmark.spend_month (
	book_id      integer NOT NULL,
	month        date NOT NULL,
	fund_id      integer NOT NULL,
	project_id   integer,
	to_household boolean NOT NULL,
	spent_fen    bigint NOT NULL,
	line_count   bigint NOT NULL,
	UNIQUE NULLS NOT DISTINCT (book_id, month, fund_id, project_id, to_household),
	FOREIGN KEY (book_id, fund_id) REFERENCES earmark.fund,
	FOREIGN KEY (book_id, project_id) REFERENCES earmark.project
);
CREATE TABLE earmark.village_month (
	book_id      integer NOT NULL,
	month        date NOT NULL,
	village_id   integer NOT NULL,
	to_household boolean NOT NULL,
	spent_fen    bigint NOT NULL,
	line_count   bigint NOT NULL,
	PRIMARY KEY (book_id, month, village_id, to_household),
	FOREIGN KEY (book_id, village_id) REFERENCES earmark.village
);

-- The spend lines of some vouchers (or of a book's posted vouchers in a
-- date range) per day, fund, project, village and household flag.
CREATE FUNCTION earmark.spend_rows(b integer, vs bigint[], d_from date, d_to date)
RETURNS TABLE (day date, fund_id integer, project_id integer, village_id integer,
               to_household boolean, spent_fen bigint, line_count bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT v.voucher_date, l.fund_id, l.project_id, COALESCE(h.village_id, l.village_id),
	       l.household_id IS NOT NULL,
	       pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)::bigint,
	       pg_catalog.count(*)
	  FROM earmark.voucher v
	  JOIN earmark.line l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id
	  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
	  LEFT JOIN earmark.household h ON h.book_id = l.book_id AND h.household_id = l.household_id
	 WHERE v.book_id = b AND a.spend
	   AND (vs IS NULL OR v.voucher_id = ANY (vs))
	   AND (vs IS NOT NULL OR (v.status = 'posted' AND v.voucher_date BETWEEN d_from AND d_to))
	 GROUP BY 1, 2, 3, 4, 5
$$;

-- Adds the lines of vouchers vs (or of all posted vouchers of book b when
-- vs is NULL: the backfill) to the four kept totals.
CREATE FUNCTION earmark.report_keep(b integer, vs bigint[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	INSERT INTO earmark.day_balance AS db (book_id, day, account_id, fund_id, debit_fen, credit_fen, line_count)
	SELECT b, v.voucher_date, l.account_id, l.fund_id,
	       COALESCE(pg_catalog.sum(l.amount_fen) FILTER (WHERE l.side = 'D'), 0),
	       COALESCE(pg_catalog.sum(l.amount_fen) FILTER (WHERE l.side = 'C'), 0), pg_catalog.count(*)
	  FROM earmark.voucher v JOIN earmark.line l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id
	 WHERE v.book_id = b AND (vs IS NULL AND v.status = 'posted' OR v.voucher_id = ANY (vs))
	 GROUP BY 2, 3, 4
	ON CONFLICT (book_id, day, account_id, fund_id) DO UPDATE
	   SET debit_fen = db.debit_fen + EXCLUDED.debit_fen, credit_fen = db.credit_fen + EXCLUDED.credit_fen,
	       line_count = db.line_count + EXCLUDED.line_count;
	WITH s AS (
		SELECT * FROM earmark.spend_rows(b, vs, '-infinity', 'infinity')
	), f AS (
		INSERT INTO earmark.fund_spend_day AS t (book_id, day, fund_id, to_household, spent_fen, line_count)
		SELECT b, s.day, s.fund_id, s.to_household, pg_catalog.sum(s.spent_fen), pg_catalog.sum(s.line_count)
		  FROM s GROUP BY 2, 3, 4
		ON CONFLICT (book_id, day, fund_id, to_household) DO UPDATE
		   SET spent_fen = t.spent_fen + EXCLUDED.spent_fen, line_count = t.line_count + EXCLUDED.line_count
	), p AS (
		INSERT INTO earmark.spend_month AS t (book_id, month, fund_id, project_id, to_household, spent_fen, line_count)
		SELECT b, pg_catalog.date_trunc('month', s.day)::date, s.fund_id, s.project_id, s.to_household,
		       pg_catalog.sum(s.spent_fen), pg_catalog.sum(s.line_count)
		  FROM s GROUP BY 2, 3, 4, 5
		ON CONFLICT (book_id, month, fund_id, project_id, to_household) DO UPDATE
		   SET spent_fen = t.spent_fen + EXCLUDED.spent_fen, line_count = t.line_count + EXCLUDED.line_count
	)
	INSERT INTO earmark.village_month AS t (book_id, month, village_id, to_household, spent_fen, line_count)
	SELECT b, pg_catalog.date_trunc('month', s.day)::date, s.village_id, s.to_household,
	       pg_catalog.sum(s.spent_fen), pg_catalog.sum(s.line_count)
	  FROM s WHERE s.village_id IS NOT NULL GROUP BY 2, 3, 4
	ON CONFLICT (book_id, month, village_id, to_household) DO UPDATE
	   SET spent_fen = t.spent_fen + EXCLUDED.spent_fen, line_count = t.line_count + EXCLUDED.line_count;
END
$$;

CREATE FUNCTION earmark.report_keep_trigger() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	PERFORM earmark.report_keep(NEW.book_id, ARRAY[NEW.voucher_id]);
	RETURN NEW;
END
$$;

-- Named to fire after voucher_guard and voucher_rules (triggers fire by
-- name): the posting has been checked and numbered by then.
CREATE TRIGGER voucher_report_keep BEFORE UPDATE ON earmark.voucher
	FOR EACH ROW WHEN (OLD.status <> 'posted' AND NEW.status = 'posted')
	EXECUTE FUNCTION earmark.report_keep_trigger();

-- Books posted before this migration.
SELECT earmark.report_keep(book_id, NULL) FROM earmark.book;

-- The book of a report as of a date; a date before the book began, or a
-- range that ends before it starts, is refused.
CREATE FUNCTION earmark.report_book(p_book text, p_as_of date, p_from date DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	b integer := earmark.book_of(p_book);
	start date;
BEGIN
	SELECT start_date INTO start FROM earmark.book WHERE book_id = b;
	IF p_as_of IS NULL OR p_as_of < start THEN
		RAISE EXCEPTION 'date % is before the book began', p_as_of USING ERRCODE = 'EMI01',
			DETAIL = pg_catalog.format('book ''%s'' starts on %s', p_book, start),
			HINT = pg_catalog.format('ask for a date on or after %s', start);
	END IF;
	IF p_from IS NOT NULL AND p_from > p_as_of THEN
		RAISE EXCEPTION 'the report''s range ends (%) before it starts (%)', p_as_of, p_from
			USING ERRCODE = 'EMI01', HINT = '--from must be on or before --to / --as-of';
	END IF;
	RETURN b;
END
$$;

-- Cumulative debits and credits per account and fund from the book's start
-- to d (inclusive): whole months from period_balance, the days of d's
-- month from day_balance.  No line is read.
CREATE FUNCTION earmark.report_cum(b integer, d date)
RETURNS TABLE (account_id integer, fund_id integer, d_fen bigint, c_fen bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT m.account_id, m.fund_id, pg_catalog.sum(m.dd)::bigint, pg_catalog.sum(m.cc)::bigint
	  FROM (SELECT pb.account_id, pb.fund_id, pb.debit_fen AS dd, pb.credit_fen AS cc
	          FROM earmark.period_balance pb
	         WHERE pb.book_id = b AND pb.month < pg_catalog.date_trunc('month', d)::date
	        UNION ALL
	        SELECT db.account_id, db.fund_id, db.debit_fen, db.credit_fen
	          FROM earmark.day_balance db
	         WHERE db.book_id = b AND db.day >= pg_catalog.date_trunc('month', d)::date AND db.day <= d) m
	 GROUP BY 1, 2
$$;

-- Cumulative spend per fund and household flag to d, from fund_spend_day.
CREATE FUNCTION earmark.report_fund_spend(b integer, d date)
RETURNS TABLE (fund_id integer, to_household boolean, spent_fen bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT s.fund_id, s.to_household, pg_catalog.sum(s.spent_fen)::bigint
	  FROM earmark.fund_spend_day s
	 WHERE s.book_id = b AND s.day <= d
	 GROUP BY 1, 2
$$;

-- Cumulative spend per fund, project and household flag to d: whole
-- months from spend_month, d's month from its lines.
CREATE FUNCTION earmark.report_spend(b integer, d date)
RETURNS TABLE (fund_id integer, project_id integer, to_household boolean, spent_fen bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT s.fund_id, s.project_id, s.to_household, pg_catalog.sum(s.spent_fen)::bigint
	  FROM (SELECT sm.fund_id, sm.project_id, sm.to_household, sm.spent_fen
	          FROM earmark.spend_month sm
	         WHERE sm.book_id = b AND sm.month < pg_catalog.date_trunc('month', d)::date
	        UNION ALL
	        SELECT r.fund_id, r.project_id, r.to_household, r.spent_fen
	          FROM earmark.spend_rows(b, NULL, pg_catalog.date_trunc('month', d)::date, d) r) s
	 GROUP BY 1, 2, 3
$$;

-- Cumulative spend per village and household flag to d, as report_spend.
CREATE FUNCTION earmark.report_village_spend(b integer, d date)
RETURNS TABLE (village_id integer, to_household boolean, spent_fen bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT s.village_id, s.to_household, pg_catalog.sum(s.spent_fen)::bigint
	  FROM (SELECT vm.village_id, vm.to_household, vm.spent_fen
	          FROM earmark.village_month vm
	         WHERE vm.book_id = b AND vm.month < pg_catalog.date_trunc('month', d)::date
	        UNION ALL
	        SELECT r.village_id, r.to_household, r.spent_fen
	          FROM earmark.spend_rows(b, NULL, pg_catalog.date_trunc('month', d)::date, d) r
	         WHERE r.village_id IS NOT NULL) s
	 GROUP BY 1, 2
$$;

-- Movements per account and month within [d_from, d_to], narrowed by fund,
-- project, village and household (NULL: all).  Without a project, village
-- or household, whole months come from period_balance and only the lines of
-- the months the range cuts into are read; with one, that dimension's lines
-- are read through its index.
CREATE FUNCTION earmark.report_moves(b integer, d_from date, d_to date, f integer, p integer,
                                     vi integer, h integer)
RETURNS TABLE (account_id integer, month date, d_fen bigint, c_fen bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	-- the whole months inside the range: [full_from, full_to)
	full_from date := CASE WHEN d_from = pg_catalog.date_trunc('month', d_from)::date THEN d_from
	                       ELSE (pg_catalog.date_trunc('month', d_from) + interval '1 month')::date END;
	full_to date := CASE WHEN (d_to + 1) = pg_catalog.date_trunc('month', d_to + 1)::date THEN d_to + 1
	                     ELSE pg_catalog.date_trunc('month', d_to)::date END;
BEGIN
	IF d_from > d_to THEN
		RETURN;
	END IF;
	IF h IS NOT NULL OR p IS NOT NULL OR vi IS NOT NULL THEN
		RETURN QUERY
		SELECT l.account_id, pg_catalog.date_trunc('month', v.voucher_date)::date,
		       COALESCE(pg_catalog.sum(l.amount_fen) FILTER (WHERE l.side = 'D'), 0)::bigint,
		       COALESCE(pg_catalog.sum(l.amount_fen) FILTER (WHERE l.side = 'C'), 0)::bigint
		  FROM earmark.line l
		  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
		 WHERE l.book_id = b
		   AND (h IS NULL OR l.household_id = h) AND (p IS NULL OR l.project_id = p)
		   AND (vi IS NULL OR l.village_id = vi) AND (f IS NULL OR l.fund_id = f)
		   AND v.status = 'posted' AND v.voucher_date BETWEEN d_from AND d_to
		 GROUP BY 1, 2;
		RETURN;
	END IF;
	RETURN QUERY
	SELECT m.account_id, m.month, pg_catalog.sum(m.dd)::bigint, pg_catalog.sum(m.cc)::bigint
	  FROM (SELECT pb.account_id, pb.month, pb.debit_fen AS dd, pb.credit_fen AS cc
	          FROM earmark.period_balance pb
	         WHERE pb.book_id = b AND pb.month >= full_from AND pb.month < full_to
	           AND (f IS NULL OR pb.fund_id = f)
	        UNION ALL
	        SELECT l.account_id, pg_catalog.date_trunc('month', v.voucher_date)::date,
	               CASE WHEN l.side = 'D' THEN l.amount_fen ELSE 0 END,
	               CASE WHEN l.side = 'C' THEN l.amount_fen ELSE 0 END
	          FROM earmark.voucher v
	          JOIN earmark.line l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id
	         WHERE v.book_id = b AND v.status = 'posted'
	           AND ((v.voucher_date >= d_from AND v.voucher_date < LEAST(full_from, d_to + 1))
	                OR (v.voucher_date >= GREATEST(full_to, d_from) AND v.voucher_date <= d_to))
	           AND (f IS NULL OR l.fund_id = f)) m
	 GROUP BY 1, 2;
END
$$;

-- The ids of a report's filters; an unknown code is refused (EMR01).
CREATE FUNCTION earmark.report_ref(b integer, p_kind text, p_code text) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE WHEN p_code IS NULL THEN NULL ELSE earmark.id_of(b, p_kind, p_code) END
$$;

-- A balance on the account's normal side.
CREATE FUNCTION earmark.side_balance(normal_side text, d bigint, c bigint) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE WHEN normal_side = 'D' THEN d - c ELSE c - d END
$$;

-- 总账: per account (code or its prefix) and month of [p_from, p_to], the
-- opening balance, the month's debits and credits and the closing
-- balance, on the account's normal side (方向 借/贷).  Narrowed by fund,
-- project, village or household.
CREATE FUNCTION earmark.general_ledger(p_book text, p_from date, p_to date, p_account text DEFAULT NULL,
                                       p_fund text DEFAULT NULL, p_project text DEFAULT NULL,
                                       p_village text DEFAULT NULL, p_household text DEFAULT NULL)
RETURNS TABLE (code text, name text, side text, month text, opening_fen bigint, debit_fen bigint,
               credit_fen bigint, closing_fen bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	b integer := earmark.report_book(p_book, p_to, p_from);
	start date;
	f integer := earmark.report_ref(b, 'fund', p_fund);
	p integer := earmark.report_ref(b, 'project', p_project);
	vi integer := earmark.report_ref(b, 'village', p_village);
	h integer := earmark.report_ref(b, 'household', p_household);
	d_from date;
BEGIN
	SELECT start_date INTO start FROM earmark.book WHERE book_id = b;
	d_from := GREATEST(COALESCE(p_from, pg_catalog.date_trunc('year', p_to)::date), start);
	RETURN QUERY
	WITH op AS (
		SELECT o.account_id, pg_catalog.sum(o.d_fen)::bigint AS d, pg_catalog.sum(o.c_fen)::bigint AS c
		  FROM earmark.report_moves(b, start, d_from - 1, f, p, vi, h) o GROUP BY 1
	), mv AS (
		SELECT * FROM earmark.report_moves(b, d_from, p_to, f, p, vi, h)
	), acc AS (
		SELECT a.account_id, a.code, a.name, a.normal_side
		  FROM earmark.account a
		 WHERE a.book_id = b AND (p_account IS NULL OR a.code LIKE p_account || '%')
		   AND (a.account_id IN (SELECT account_id FROM op WHERE d <> 0 OR c <> 0)
		        OR a.account_id IN (SELECT account_id FROM mv))
	), months AS (
		SELECT acc.*, m::date AS month,
		       COALESCE(mv.d_fen, 0) AS d, COALESCE(mv.c_fen, 0) AS c
		  FROM acc
		  CROSS JOIN pg_catalog.generate_series(pg_catalog.date_trunc('month', d_from),
		                                        pg_catalog.date_trunc('month', p_to), interval '1 month') m
		  LEFT JOIN mv ON mv.account_id = acc.account_id AND mv.month = m::date
	), run AS (
		SELECT months.*,
		       earmark.side_balance(months.normal_side, COALESCE(op.d, 0), COALESCE(op.c, 0))
		       + pg_catalog.sum(earmark.side_balance(months.normal_side, months.d, months.c))
		             OVER (PARTITION BY months.account_id ORDER BY months.month) AS closing
		  FROM months LEFT JOIN op ON op.account_id = months.account_id
	)
	SELECT run.code, run.name, CASE run.normal_side WHEN 'D' THEN '借' ELSE '贷' END,
	       pg_catalog.to_char(run.month, 'YYYY-MM'),
	       (run.closing - earmark.side_balance(run.normal_side, run.d, run.c))::bigint,
	       run.d, run.c, run.closing::bigint
	  FROM run
	 WHERE run.d <> 0 OR run.c <> 0 OR run.closing <> 0   -- no empty months
	 ORDER BY run.code, run.month;
END
$$;

-- 明细账: every posted line of the accounts (code or prefix) in [p_from,
-- p_to], after an opening row per account, with the running balance on the
-- account's normal side; a line's other side is empty (NULL), as on paper.  Narrowed by fund, project, village or household.
CREATE FUNCTION earmark.detail_ledger(p_book text, p_from date, p_to date, p_account text DEFAULT NULL,
                                      p_fund text DEFAULT NULL, p_project text DEFAULT NULL,
                                      p_village text DEFAULT NULL, p_household text DEFAULT NULL)
RETURNS TABLE (code text, name text, voucher_date date, number text, memo text, fund text,
               project text, village text, household text, debit_fen bigint, credit_fen bigint,
               side text, balance_fen bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	b integer := earmark.report_book(p_book, p_to, p_from);
	start date;
	f integer := earmark.report_ref(b, 'fund', p_fund);
	p integer := earmark.report_ref(b, 'project', p_project);
	vi integer := earmark.report_ref(b, 'village', p_village);
	h integer := earmark.report_ref(b, 'household', p_household);
	d_from date;
BEGIN
	SELECT start_date INTO start FROM earmark.book WHERE book_id = b;
	d_from := GREATEST(COALESCE(p_from, pg_catalog.date_trunc('year', p_to)::date), start);
	RETURN QUERY
	WITH op AS (
		SELECT o.account_id, pg_catalog.sum(o.d_fen)::bigint AS d, pg_catalog.sum(o.c_fen)::bigint AS c
		  FROM earmark.report_moves(b, start, d_from - 1, f, p, vi, h) o GROUP BY 1
	), ln AS (
		SELECT l.account_id, v.voucher_date, v.number_text, v.chain_seq, l.line_no,
		       COALESCE(NULLIF(l.memo, ''), v.memo) AS memo, l.fund_id, l.project_id, l.village_id,
		       l.household_id,
		       CASE WHEN l.side = 'D' THEN l.amount_fen ELSE 0 END AS d,
		       CASE WHEN l.side = 'C' THEN l.amount_fen ELSE 0 END AS c
		  FROM earmark.voucher v
		  JOIN earmark.line l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id
		 WHERE v.book_id = b AND v.status = 'posted' AND v.voucher_date BETWEEN d_from AND p_to
		   AND (f IS NULL OR l.fund_id = f) AND (p IS NULL OR l.project_id = p)
		   AND (vi IS NULL OR l.village_id = vi) AND (h IS NULL OR l.household_id = h)
	), acc AS (
		SELECT a.account_id, a.code, a.name, a.normal_side
		  FROM earmark.account a
		 WHERE a.book_id = b AND (p_account IS NULL OR a.code LIKE p_account || '%')
		   AND (a.account_id IN (SELECT account_id FROM op WHERE d <> 0 OR c <> 0)
		        OR a.account_id IN (SELECT account_id FROM ln))
	), rows AS (
		SELECT acc.account_id, acc.code, acc.name, acc.normal_side, 0 AS k, NULL::date AS voucher_date,
		       NULL::text AS number_text, 0::bigint AS chain_seq, 0 AS line_no, '期初余额 opening' AS memo,
		       NULL::integer AS fund_id, NULL::integer AS project_id, NULL::integer AS village_id,
		       NULL::integer AS household_id, COALESCE(op.d, 0) AS d, COALESCE(op.c, 0) AS c
		  FROM acc LEFT JOIN op ON op.account_id = acc.account_id
		UNION ALL
		SELECT acc.account_id, acc.code, acc.name, acc.normal_side, 1, ln.voucher_date, ln.number_text,
		       ln.chain_seq, ln.line_no, ln.memo, ln.fund_id, ln.project_id, ln.village_id,
		       ln.household_id, ln.d, ln.c
		  FROM acc JOIN ln ON ln.account_id = acc.account_id
	)
	SELECT r.code, r.name, r.voucher_date, r.number_text, r.memo, fu.code, pr.code, vg.code, hh.code,
	       CASE WHEN r.k = 1 THEN NULLIF(r.d, 0) END, CASE WHEN r.k = 1 THEN NULLIF(r.c, 0) END,
	       CASE r.normal_side WHEN 'D' THEN '借' ELSE '贷' END,
	       pg_catalog.sum(earmark.side_balance(r.normal_side, r.d, r.c))
	           OVER (PARTITION BY r.account_id ORDER BY r.k, r.voucher_date, r.chain_seq, r.line_no)::bigint
	  FROM rows r
	  LEFT JOIN earmark.fund fu ON fu.book_id = b AND fu.fund_id = r.fund_id
	  LEFT JOIN earmark.project pr ON pr.book_id = b AND pr.project_id = r.project_id
	  LEFT JOIN earmark.village vg ON vg.book_id = b AND vg.village_id = r.village_id
	  LEFT JOIN earmark.household hh ON hh.book_id = b AND hh.household_id = r.household_id
	 ORDER BY r.code, r.k, r.voucher_date, r.chain_seq, r.line_no;
END
$$;

-- 银行存款日记账: per dedicated account, the opening balance and every posted
-- bank line in [p_from, p_to] with the running balance.  By A1 a fund's
-- bank lines are on its own dedicated account, so the opening balance is
-- its funds' bank balances from period_balance.
CREATE FUNCTION earmark.bank_journal(p_book text, p_from date, p_to date, p_account_no text DEFAULT NULL)
RETURNS TABLE (account_no text, bank_name text, voucher_date date, number text, memo text, fund text,
               receipt_fen bigint, payment_fen bigint, balance_fen bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	b integer := earmark.report_book(p_book, p_to, p_from);
	start date;
	da_id integer := earmark.report_ref(b, 'dedicated account', p_account_no);
	d_from date;
BEGIN
	SELECT start_date INTO start FROM earmark.book WHERE book_id = b;
	d_from := GREATEST(COALESCE(p_from, pg_catalog.date_trunc('year', p_to)::date), start);
	RETURN QUERY
	WITH op AS (
		SELECT fu.bank_account_id, pg_catalog.sum(o.d_fen - o.c_fen)::bigint AS bal
		  FROM earmark.report_cum(b, d_from - 1) o
		  JOIN earmark.account a ON a.book_id = b AND a.account_id = o.account_id AND a.is_bank
		  JOIN earmark.fund fu ON fu.book_id = b AND fu.fund_id = o.fund_id
		 WHERE d_from > start
		 GROUP BY 1
	), ln AS (
		SELECT l.bank_account_id, v.voucher_date, v.number_text, v.chain_seq, l.line_no,
		       COALESCE(NULLIF(l.memo, ''), v.memo) AS memo, l.fund_id,
		       CASE WHEN l.side = 'D' THEN l.amount_fen ELSE 0 END AS d,
		       CASE WHEN l.side = 'C' THEN l.amount_fen ELSE 0 END AS c
		  FROM earmark.voucher v
		  JOIN earmark.line l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id
		 WHERE v.book_id = b AND v.status = 'posted' AND v.voucher_date BETWEEN d_from AND p_to
		   AND l.bank_account_id IS NOT NULL
	), rows AS (
		SELECT da.bank_account_id, 0 AS k, NULL::date AS voucher_date, NULL::text AS number_text,
		       0::bigint AS chain_seq, 0 AS line_no, '期初余额 opening' AS memo, NULL::integer AS fund_id,
		       COALESCE(op.bal, 0) AS d, 0::bigint AS c
		  FROM earmark.dedicated_account da LEFT JOIN op ON op.bank_account_id = da.bank_account_id
		 WHERE da.book_id = b
		UNION ALL
		SELECT ln.bank_account_id, 1, ln.voucher_date, ln.number_text, ln.chain_seq, ln.line_no, ln.memo,
		       ln.fund_id, ln.d, ln.c
		  FROM ln
	)
	SELECT da.account_no, da.bank_name, r.voucher_date, r.number_text, r.memo, fu.code,
	       CASE WHEN r.k = 1 THEN NULLIF(r.d, 0) END, CASE WHEN r.k = 1 THEN NULLIF(r.c, 0) END,
	       pg_catalog.sum(r.d - r.c) OVER (PARTITION BY r.bank_account_id
	                                       ORDER BY r.k, r.voucher_date, r.chain_seq, r.line_no)::bigint
	  FROM rows r
	  JOIN earmark.dedicated_account da ON da.book_id = b AND da.bank_account_id = r.bank_account_id
	  LEFT JOIN earmark.fund fu ON fu.book_id = b AND fu.fund_id = r.fund_id
	 WHERE da_id IS NULL OR r.bank_account_id = da_id
	 ORDER BY da.account_no, r.k, r.voucher_date, r.chain_seq, r.line_no;
END
$$;

-- Per fund, cumulative to d: received (revenue, net credits), spend to
-- projects (without a household) and to households, and the cash in the
-- dedicated account.
CREATE FUNCTION earmark.fund_position(b integer, d date)
RETURNS TABLE (fund_id integer, received_fen bigint, projects_fen bigint, households_fen bigint,
               cash_fen bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	WITH cum AS (
		SELECT c.fund_id,
		       COALESCE(pg_catalog.sum(c.c_fen - c.d_fen) FILTER (WHERE a.kind = 'revenue'), 0)::bigint AS rec,
		       COALESCE(pg_catalog.sum(c.d_fen - c.c_fen) FILTER (WHERE a.is_bank), 0)::bigint AS cash
		  FROM earmark.report_cum(b, d) c
		  JOIN earmark.account a ON a.book_id = b AND a.account_id = c.account_id
		 GROUP BY 1
	), sp AS (
		SELECT s.fund_id,
		       COALESCE(pg_catalog.sum(s.spent_fen) FILTER (WHERE NOT s.to_household), 0)::bigint AS proj,
		       COALESCE(pg_catalog.sum(s.spent_fen) FILTER (WHERE s.to_household), 0)::bigint AS hh
		  FROM earmark.report_fund_spend(b, d) s
		 GROUP BY 1
	)
	SELECT fu.fund_id, COALESCE(cum.rec, 0), COALESCE(sp.proj, 0), COALESCE(sp.hh, 0), COALESCE(cum.cash, 0)
	  FROM earmark.fund fu
	  LEFT JOIN cum ON cum.fund_id = fu.fund_id
	  LEFT JOIN sp ON sp.fund_id = fu.fund_id
	 WHERE fu.book_id = b
$$;

-- A share as a percentage with two decimals ('45.20%'); '' without a base.
CREATE FUNCTION earmark.report_pct(part bigint, whole bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE WHEN whole IS NULL OR whole = 0 THEN ''
	            ELSE pg_catalog.to_char(pg_catalog.round(part::numeric * 100 / whole, 2), 'FM9999990.00') || '%' END
$$;

-- 资金收支情况表 as of a date: per fund, then per level (中央, 省级, 市级,
-- 县级; 小计) and in total (合计): allocated (the allocation document's amount), received, spent on
-- projects, paid to households, the balance in the dedicated account, and
-- the execution rate 支出进度 = (projects + households) / allocated.
CREATE FUNCTION earmark.fund_statement(p_book text, p_as_of date)
RETURNS TABLE (level text, fund text, name text, year smallint, allocated_fen bigint, received_fen bigint,
               projects_fen bigint, households_fen bigint, balance_fen bigint, rate text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	b integer := earmark.report_book(p_book, p_as_of);
BEGIN
	RETURN QUERY
	WITH x AS (
		SELECT fu.level, fu.code, fu.name, fu.year, fu.amount_fen AS alloc, fp.received_fen AS rec,
		       fp.projects_fen AS proj, fp.households_fen AS hh, fp.cash_fen AS cash,
		       CASE fu.level WHEN 'central' THEN 1 WHEN 'province' THEN 2 WHEN 'city' THEN 3 ELSE 4 END AS lv
		  FROM earmark.fund_position(b, p_as_of) fp
		  JOIN earmark.fund fu ON fu.book_id = b AND fu.fund_id = fp.fund_id
	), g AS (
		SELECT x.lv, x.level, x.code, pg_catalog.max(x.name) AS name, pg_catalog.max(x.year) AS year,
		       pg_catalog.sum(x.alloc)::bigint AS alloc, pg_catalog.sum(x.rec)::bigint AS rec,
		       pg_catalog.sum(x.proj)::bigint AS proj, pg_catalog.sum(x.hh)::bigint AS hh,
		       pg_catalog.sum(x.cash)::bigint AS cash,
		       GROUPING(x.lv, x.level, x.code) AS gr
		  FROM x
		 GROUP BY GROUPING SETS ((x.lv, x.level, x.code), (x.lv, x.level), ())
	)
	SELECT CASE g.gr WHEN 7 THEN '合计 total'
	       ELSE CASE g.level WHEN 'central' THEN '中央' WHEN 'province' THEN '省级' WHEN 'city' THEN '市级'
	                         ELSE '县级' END END,
	       CASE g.gr WHEN 0 THEN g.code WHEN 1 THEN '小计 subtotal' ELSE '' END,
	       CASE g.gr WHEN 0 THEN g.name ELSE '' END,
	       CASE g.gr WHEN 0 THEN g.year END,
	       g.alloc, g.rec, g.proj, g.hh, g.cash, earmark.report_pct(g.proj + g.hh, g.alloc)
	  FROM g
	 ORDER BY COALESCE(g.lv, 9), g.gr, g.code;
END
$$;

-- 项目台账 as of a date: per project and fund, the budget in force (P2),
-- the stage and the last recorded progress, the spend and what remains.
CREATE FUNCTION earmark.project_ledger(p_book text, p_as_of date, p_fund text DEFAULT NULL)
RETURNS TABLE (project text, name text, fund text, stage text, progress text, budget_fen bigint,
               paid_fen bigint, households_fen bigint, remaining_fen bigint, rate text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	b integer := earmark.report_book(p_book, p_as_of);
	f integer := earmark.report_ref(b, 'fund', p_fund);
BEGIN
	RETURN QUERY
	WITH sp AS (
		SELECT s.project_id, s.fund_id, pg_catalog.sum(s.spent_fen)::bigint AS paid,
		       COALESCE(pg_catalog.sum(s.spent_fen) FILTER (WHERE s.to_household), 0)::bigint AS hh
		  FROM earmark.report_spend(b, p_as_of) s
		 WHERE s.project_id IS NOT NULL
		 GROUP BY 1, 2
	), keys AS (
		SELECT pb.project_id, pb.fund_id FROM earmark.project_budget pb WHERE pb.book_id = b
		UNION
		SELECT sp.project_id, sp.fund_id FROM sp
	), x AS (
		SELECT pr.code AS project, pr.name, fu.code AS fund,
		       (SELECT CASE e.kind WHEN 'acceptance' THEN '已验收 accepted' WHEN 'start' THEN '在建 started'
		                           WHEN 'approval' THEN '已批复 approved' ELSE '在建 started' END
		          FROM earmark.project_event e
		         WHERE e.book_id = b AND e.project_id = k.project_id AND e.event_date <= p_as_of
		           AND e.kind IN ('approval', 'start', 'acceptance', 'inspection', 'progress')
		         ORDER BY CASE e.kind WHEN 'acceptance' THEN 3 WHEN 'approval' THEN 1 ELSE 2 END DESC
		         LIMIT 1) AS stage,
		       (SELECT earmark.fmt_pct(e.progress_pct)
		          FROM earmark.project_event e
		         WHERE e.book_id = b AND e.project_id = k.project_id AND e.event_date <= p_as_of
		           AND e.kind IN ('progress', 'inspection')
		         ORDER BY e.event_date DESC, e.event_id DESC LIMIT 1) AS progress,
		       COALESCE(earmark.budget_on(b, k.project_id, k.fund_id, p_as_of), 0) AS budget,
		       COALESCE(sp.paid, 0) AS paid, COALESCE(sp.hh, 0) AS hh
		  FROM keys k
		  JOIN earmark.project pr ON pr.book_id = b AND pr.project_id = k.project_id
		  JOIN earmark.fund fu ON fu.book_id = b AND fu.fund_id = k.fund_id
		  LEFT JOIN sp ON sp.project_id = k.project_id AND sp.fund_id = k.fund_id
		 WHERE f IS NULL OR k.fund_id = f
	)
	SELECT x.project, x.name, x.fund, COALESCE(x.stage, '未批复 not approved'), COALESCE(x.progress, ''),
	       x.budget, x.paid, x.hh, x.budget - x.paid, earmark.report_pct(x.paid, x.budget)
	  FROM x
	 ORDER BY x.project, x.fund;
END
$$;

-- 村册 as of a date: per village, its households (and how many are 脱贫户 /
-- 监测户), the projects that cover it, and the spend to its households and
-- on lines that name it.
CREATE FUNCTION earmark.village_register(p_book text, p_as_of date)
RETURNS TABLE (code text, name text, township text, households bigint, poverty_exited bigint,
               monitored bigint, projects bigint, households_fen bigint, projects_fen bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	b integer := earmark.report_book(p_book, p_as_of);
BEGIN
	RETURN QUERY
	WITH sp AS (
		SELECT s.village_id,
		       COALESCE(pg_catalog.sum(s.spent_fen) FILTER (WHERE s.to_household), 0)::bigint AS hh,
		       COALESCE(pg_catalog.sum(s.spent_fen) FILTER (WHERE NOT s.to_household), 0)::bigint AS proj
		  FROM earmark.report_village_spend(b, p_as_of) s
		 GROUP BY 1
	), hc AS (
		SELECT h.village_id, pg_catalog.count(*) AS n,
		       pg_catalog.count(*) FILTER (WHERE h.status = '脱贫户') AS exited,
		       pg_catalog.count(*) FILTER (WHERE h.status = '监测户') AS monitored
		  FROM earmark.household h WHERE h.book_id = b GROUP BY 1
	), pc AS (
		SELECT pv.village_id, pg_catalog.count(*) AS n
		  FROM earmark.project_village pv WHERE pv.book_id = b GROUP BY 1
	)
	SELECT vg.code, vg.name, vg.township, COALESCE(hc.n, 0), COALESCE(hc.exited, 0),
	       COALESCE(hc.monitored, 0), COALESCE(pc.n, 0), COALESCE(sp.hh, 0), COALESCE(sp.proj, 0)
	  FROM earmark.village vg
	  LEFT JOIN hc ON hc.village_id = vg.village_id
	  LEFT JOIN pc ON pc.village_id = vg.village_id
	  LEFT JOIN sp ON sp.village_id = vg.village_id
	 WHERE vg.book_id = b
	 ORDER BY vg.code;
END
$$;

-- Does the caller work in the finance office (H4: personal data shown
-- unmasked)?  The acting role is the SET ROLE one, else the session's.
CREATE FUNCTION earmark.in_office() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT pg_catalog.bool_or(pg_catalog.pg_has_role(who, g, 'USAGE'))
	  FROM (SELECT CASE WHEN pg_catalog.current_setting('role') IN ('', 'none') THEN session_user
	                    ELSE pg_catalog.current_setting('role')::name END AS who) w,
	       pg_catalog.unnest(ARRAY['earmark_clerk', 'earmark_reviewer', 'earmark_bookkeeper',
	                               'earmark_cashier', 'earmark_admin']) g
$$;

-- 到户台账: every payment (spend line) to one household as of a date, across
-- funds and years, reversals as negative amounts.  SECURITY DEFINER to read
-- the ID number for the auditor too, who sees it (and the name) masked, as
-- does everyone outside the office (H4).  Reads the household's lines
-- through line_book_household.
CREATE FUNCTION earmark.household_ledger(p_book text, p_household text, p_as_of date, p_from date DEFAULT NULL)
RETURNS TABLE (household text, head_name text, id_no text, village text, voucher_date date, number text,
               fund text, year smallint, project text, category text, amount_fen bigint, memo text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	b integer := earmark.report_book(p_book, p_as_of, p_from);
	h integer := earmark.id_of(b, 'household', p_household);
	office boolean := earmark.in_office();
	hname text;
	hid text;
	vcode text;
BEGIN
	SELECT CASE WHEN office THEN hh.head_name ELSE earmark.mask_name(hh.head_name) END,
	       CASE WHEN office THEN hp.id_no ELSE earmark.mask_id(hp.id_no) END, vg.code
	  INTO hname, hid, vcode
	  FROM earmark.household hh
	  JOIN earmark.village vg ON vg.book_id = hh.book_id AND vg.village_id = hh.village_id
	  LEFT JOIN earmark.household_private hp ON hp.book_id = hh.book_id AND hp.household_id = hh.household_id
	 WHERE hh.book_id = b AND hh.household_id = h;
	RETURN QUERY
	SELECT p_household, hname, COALESCE(hid, ''), vcode, v.voucher_date, v.number_text, fu.code, fu.year,
	       pr.code, uc.code,
	       CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END,
	       COALESCE(NULLIF(l.memo, ''), v.memo)
	  FROM earmark.line l
	  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
	  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
	  JOIN earmark.fund fu ON fu.book_id = l.book_id AND fu.fund_id = l.fund_id
	  LEFT JOIN earmark.project pr ON pr.book_id = l.book_id AND pr.project_id = l.project_id
	  LEFT JOIN earmark.use_category uc ON uc.book_id = l.book_id AND uc.category_id = l.category_id
	 WHERE l.book_id = b AND l.household_id = h AND a.spend
	   AND v.status = 'posted' AND v.voucher_date <= p_as_of
	   AND (p_from IS NULL OR v.voucher_date >= p_from)
	 ORDER BY v.voucher_date, v.chain_seq, l.line_no;
END
$$;

-- P5 as of a date (REPORT level: listed, not blocked):
--   idle       money received more than 60 days before the date and not
--              spent by it (预算法 Art. 52): received up to date - 60 days
--              (no more than is received to date: a later reversal counts),
--              less all spend to date, when positive
--   carryover  a fund of a year at least two years before the date's that
--              still holds cash (结转两年以上, to be returned)
--   no_progress a project paid (spend to date) with no progress,
--              inspection or acceptance record on or before the date
CREATE FUNCTION earmark.idle_funds(p_book text, p_as_of date)
RETURNS TABLE (finding text, fund text, project text, since date, days integer, amount_fen bigint, note text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	b integer := earmark.report_book(p_book, p_as_of);
	start date;
BEGIN
	SELECT start_date INTO start FROM earmark.book WHERE book_id = b;
	RETURN QUERY
	WITH now_pos AS (
		SELECT * FROM earmark.fund_position(b, p_as_of)
	), old_rec AS (
		SELECT fp.fund_id, fp.received_fen
		  FROM earmark.fund_position(b, p_as_of - 60) fp
		 WHERE p_as_of - 60 >= start
	), proj AS (
		SELECT s.project_id, pg_catalog.sum(s.spent_fen)::bigint AS paid
		  FROM earmark.report_spend(b, p_as_of) s
		 WHERE s.project_id IS NOT NULL
		 GROUP BY 1
	)
	SELECT * FROM (
		SELECT 'idle'::text, fu.code, NULL::text, fu.received_on,
		       (p_as_of - fu.received_on)::integer,
		       (LEAST(o.received_fen, np.received_fen) - np.projects_fen - np.households_fen)::bigint,
		       '到位超过60天未支出 received over 60 days ago, not spent (P5)'::text
		  FROM old_rec o
		  JOIN now_pos np ON np.fund_id = o.fund_id
		  JOIN earmark.fund fu ON fu.book_id = b AND fu.fund_id = o.fund_id
		 WHERE LEAST(o.received_fen, np.received_fen) - np.projects_fen - np.households_fen > 0
		UNION ALL
		SELECT 'carryover', fu.code, NULL, pg_catalog.make_date(fu.year, 12, 31),
		       (p_as_of - pg_catalog.make_date(fu.year, 12, 31))::integer, np.cash_fen,
		       pg_catalog.format('%s 年资金结转两年以上，应收回 carried over %s years, to be returned (P5)',
		                         fu.year, pg_catalog.date_part('year', p_as_of)::integer - fu.year)
		  FROM now_pos np
		  JOIN earmark.fund fu ON fu.book_id = b AND fu.fund_id = np.fund_id
		 WHERE np.cash_fen > 0 AND pg_catalog.date_part('year', p_as_of)::integer - fu.year >= 2
		UNION ALL
		SELECT 'no_progress', NULL, pr.code, NULL, NULL, pj.paid,
		       '已支付但无进度记录 paid without a progress record (P5)'
		  FROM proj pj
		  JOIN earmark.project pr ON pr.book_id = b AND pr.project_id = pj.project_id
		 WHERE pj.paid > 0
		   AND NOT EXISTS (SELECT 1 FROM earmark.project_event e
		                    WHERE e.book_id = b AND e.project_id = pj.project_id AND e.event_date <= p_as_of
		                      AND e.kind IN ('progress', 'inspection', 'acceptance'))
	) r
	ORDER BY 1, 2, 3;
END
$$;

-- The exceptions log ------------------------------------------------------------------

-- One row per refused command.  The book is the code the command named (it
-- may be unknown, hence no foreign key); refused_by and refused_at are set
-- by refusal_log from the session, never taken from the caller.
CREATE TABLE earmark.refusal (
	refusal_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	book       text,
	refused_at timestamptz NOT NULL,
	refused_by name NOT NULL,
	sqlstate   text NOT NULL CHECK (sqlstate ~ '^[0-9A-Z]{5}$'),
	rule       text NOT NULL,
	command    text NOT NULL DEFAULT '',
	record     text NOT NULL DEFAULT '',
	message    text NOT NULL,
	detail     text NOT NULL DEFAULT ''
);
CREATE INDEX refusal_book_at ON earmark.refusal (book, refused_at);

-- The rule a SQLSTATE names: EMA02 -> A2, EMD07 -> D7, EMH03 -> H3; the
-- classes that are no invariant by their kind.
CREATE FUNCTION earmark.rule_of(p_sqlstate text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE
	WHEN p_sqlstate ~ '^EM[ADHPX][0-9]{2}$' THEN
		pg_catalog.substr(p_sqlstate, 3, 1) || pg_catalog.ltrim(pg_catalog.substr(p_sqlstate, 4), '0')
	WHEN p_sqlstate LIKE 'EMI%' THEN 'input'
	WHEN p_sqlstate LIKE 'EMR%' THEN 'reference'
	WHEN p_sqlstate LIKE 'EMS%' THEN 'state'
	WHEN p_sqlstate = '42501' THEN 'privilege'
	ELSE p_sqlstate END
$$;

CREATE FUNCTION earmark.refusal_log(p_book text, p_sqlstate text, p_command text, p_record text,
                                    p_message text, p_detail text)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	INSERT INTO earmark.refusal (book, refused_at, refused_by, sqlstate, rule, command, record, message, detail)
	VALUES (pg_catalog.left(p_book, 64), pg_catalog.clock_timestamp(), session_user, p_sqlstate,
	        earmark.rule_of(p_sqlstate), pg_catalog.left(COALESCE(p_command, ''), 200),
	        pg_catalog.left(COALESCE(p_record, ''), 1000), pg_catalog.left(COALESCE(p_message, ''), 4000),
	        pg_catalog.left(COALESCE(p_detail, ''), 4000))
	RETURNING refusal_id
$$;

CREATE FUNCTION earmark.refusal_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RAISE EXCEPTION 'the exceptions log is append-only: % refused', TG_OP USING ERRCODE = 'EMD03',
		HINT = 'refusals are recorded, never changed or removed';
END
$$;
CREATE TRIGGER refusal_guard BEFORE UPDATE OR DELETE ON earmark.refusal
	FOR EACH ROW EXECUTE FUNCTION earmark.refusal_guard();
CREATE TRIGGER refusal_no_truncate BEFORE TRUNCATE ON earmark.refusal
	FOR EACH STATEMENT EXECUTE FUNCTION earmark.no_truncate();

-- 例外情况: every refused command of the book in [p_from, p_to] (by the
-- server's clock), then the P5 findings as of p_to.
CREATE FUNCTION earmark.exceptions(p_book text, p_from date, p_to date)
RETURNS TABLE (at text, refused_by text, rule text, sqlstate text, command text, record text,
               message text, detail text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	b integer := earmark.report_book(p_book, p_to, p_from);
	start date;
BEGIN
	SELECT start_date INTO start FROM earmark.book WHERE book_id = b;
	RETURN QUERY
	SELECT * FROM (
		SELECT pg_catalog.to_char(r.refused_at, 'YYYY-MM-DD HH24:MI:SS TZ') AS at, r.refused_by::text,
		       r.rule, r.sqlstate, r.command, r.record, r.message, r.detail
		  FROM earmark.refusal r
		 WHERE r.book = p_book
		   AND r.refused_at >= COALESCE(p_from, start)::timestamptz
		   AND r.refused_at < (p_to + 1)::timestamptz
		 ORDER BY r.refused_at, r.refusal_id) refused
	UNION ALL
	SELECT * FROM (
		SELECT p_to::text, '', 'P5', '', 'report idle-funds', COALESCE(i.fund, i.project),
		       i.note, earmark.fmt_fen(i.amount_fen)
		  FROM earmark.idle_funds(p_book, p_to) i) p5;
END
$$;

-- 0003's trial balance, the same answer from kept totals only: whole
-- months from period_balance, the days of the as-of month from
-- day_balance, so its cost does not depend on how many lines a month holds.
CREATE OR REPLACE FUNCTION earmark.trial_balance(p_book text, p_as_of date, p_fund text DEFAULT NULL)
RETURNS TABLE (code text, name text, kind text, normal_side text,
               debit_fen bigint, credit_fen bigint, balance_debit_fen bigint, balance_credit_fen bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	b integer := earmark.book_of(p_book);
	start date;
	f integer;
BEGIN
	SELECT start_date INTO start FROM earmark.book WHERE book_id = b;
	IF p_as_of < start THEN
		RAISE EXCEPTION 'date % is before the book began', p_as_of USING ERRCODE = 'EMI01',
			DETAIL = pg_catalog.format('book ''%s'' starts on %s', p_book, start);
	END IF;
	IF p_fund IS NOT NULL THEN
		SELECT fund_id INTO f FROM earmark.fund WHERE book_id = b AND fund.code = p_fund;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'unknown fund ''%''', p_fund USING ERRCODE = 'EMR01';
		END IF;
	END IF;
	RETURN QUERY
	WITH s AS (
		SELECT c.account_id, pg_catalog.sum(c.d_fen)::bigint AS d, pg_catalog.sum(c.c_fen)::bigint AS c
		  FROM earmark.report_cum(b, p_as_of) c
		 WHERE f IS NULL OR c.fund_id = f
		 GROUP BY 1
	)
	SELECT a.code, a.name, a.kind, a.normal_side, s.d, s.c,
	       GREATEST(s.d - s.c, 0), GREATEST(s.c - s.d, 0)
	  FROM s JOIN earmark.account a ON a.book_id = b AND a.account_id = s.account_id
	 WHERE s.d <> 0 OR s.c <> 0
	 ORDER BY a.code;
END
$$;

-- Who may do what ------------------------------------------------------------------

GRANT SELECT ON earmark.day_balance, earmark.fund_spend_day, earmark.spend_month, earmark.village_month,
	earmark.refusal
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin,
	   earmark_auditor;
GRANT EXECUTE ON FUNCTION earmark.id_of(integer, text, text),
	earmark.spend_rows(integer, bigint[], date, date),
	earmark.report_book(text, date, date), earmark.report_cum(integer, date),
	earmark.report_spend(integer, date), earmark.report_fund_spend(integer, date),
	earmark.report_village_spend(integer, date),
	earmark.report_moves(integer, date, date, integer, integer, integer, integer),
	earmark.report_ref(integer, text, text), earmark.side_balance(text, bigint, bigint),
	earmark.report_pct(bigint, bigint), earmark.fund_position(integer, date),
	earmark.in_office(), earmark.rule_of(text),
	earmark.general_ledger(text, date, date, text, text, text, text, text),
	earmark.detail_ledger(text, date, date, text, text, text, text, text),
	earmark.bank_journal(text, date, date, text),
	earmark.fund_statement(text, date), earmark.project_ledger(text, date, text),
	earmark.village_register(text, date), earmark.household_ledger(text, text, date, date),
	earmark.idle_funds(text, date), earmark.exceptions(text, date, date),
	earmark.refusal_log(text, text, text, text, text, text)
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin,
	   earmark_auditor;
