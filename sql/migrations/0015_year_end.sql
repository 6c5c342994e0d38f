-- 0015 year-end carry-forward (年末结转), returned payments in the fund
-- statement, and the drafts of returned payments that cannot be discarded
-- (issue 4; DESIGN sections 4 and 5, flow 5).
--
-- Year end, the way 政府会计制度 closes a year: on 31 December every
-- revenue (4xxx) and expense (5xxx) balance, per fund and per every other
-- dimension its lines carry (project, village, household, use category),
-- is closed into 本期盈余 3301, and 3301's balance per fund into 累计盈余
-- 3001.  The new year's revenue and expense then start at zero, and the
-- balance-sheet accounts (with 3001 holding each fund's surplus) carry on.
--
-- The closing voucher is a voucher like any other for the ledger's own
-- invariants: it balances in total and per fund (D1, D2), gets its number
-- at posting (D5), is prepared, reviewed and posted by three people (D6:
-- the administrator who runs earmark.year_end_carry_forward prepares it, a
-- reviewer and a bookkeeper post it; the constraints on earmark.voucher
-- allow no exception and none is made), is dated in an open month (D7) and
-- extends the hash chain (D8).  DESIGN flow 5 ends the month with the
-- period close; the carry-forward is the step before December's close:
-- period_close refuses December while a revenue, expense or 3301 balance
-- is left (EMC01).
--
-- What it is exempt from, and only it: the disbursement rules (A3 use
-- categories, A4 interest shares, P1-P3, H1-H3: spend_problems), because
-- its credits to 5001 and debits to 4604 move balances into net assets,
-- not money to anyone; and the spend totals (project_spend,
-- household_spend, fund_spend_day, spend_month, village_month), so that a
-- project's payments against its budget (P2), a household's per year (H2)
-- and what the reports call paid are not undone by the closing.  The
-- exemption is narrow: a voucher has it only when a row of
-- earmark.carry_forward names it, only year_end_carry_forward writes such
-- rows (no application role may write any table), and at review and at
-- posting (under the chain lock) its lines must be exactly the closing of
-- the year's posted balances as they then stand (EMC02), so no other line
-- can ride on it.  A carry-forward is never reversed (a later posting into
-- the year is closed by another carry-forward); a stale draft is drafted
-- again by the same call.
--
-- Returned payments: the fund statement (and idle funds, which read the
-- same position) counted a household payment the bank returned as paid.
-- Paid to households is now the spend to households less the payments
-- whose return voucher is posted, plus their re-issues once the re-issue's
-- payment voucher is posted (a re-issue returned again is less again).
--
-- Errors: EMC01 period close and carry-forward open items, EMC02 a
-- carry-forward that does not match the balances or is reversed, EMB03 a
-- returned payment's draft discarded.

------------------------------------------------------------------------
-- The carry-forward vouchers.
------------------------------------------------------------------------

-- Which vouchers are a year's carry-forward.  Deleted with its voucher
-- only while that is a draft (discarded or drafted again); a posted
-- voucher is never deleted (D3), so neither is its row.
CREATE TABLE earmark.carry_forward (
	book_id    integer NOT NULL,
	voucher_id bigint NOT NULL,
	year       smallint NOT NULL CHECK (year BETWEEN 2000 AND 2100),
	drafted_by name NOT NULL,
	drafted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (book_id, voucher_id),
	FOREIGN KEY (book_id, voucher_id) REFERENCES earmark.voucher ON DELETE CASCADE
);
CREATE INDEX carry_forward_year ON earmark.carry_forward (book_id, year);

CREATE FUNCTION earmark.carry_forward_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP = 'DELETE' AND NOT EXISTS (SELECT 1 FROM earmark.voucher v WHERE v.book_id = OLD.book_id
	                                      AND v.voucher_id = OLD.voucher_id AND v.status = 'posted') THEN
		RETURN OLD;
	END IF;
	RAISE EXCEPTION 'the record of carry-forward voucher #% cannot be changed (D3)', OLD.voucher_id
		USING ERRCODE = 'EMD03';
END
$$;
CREATE TRIGGER carry_forward_guard BEFORE UPDATE OR DELETE ON earmark.carry_forward
	FOR EACH ROW EXECUTE FUNCTION earmark.carry_forward_guard();
CREATE TRIGGER carry_forward_no_truncate BEFORE TRUNCATE ON earmark.carry_forward
	FOR EACH STATEMENT EXECUTE FUNCTION earmark.no_truncate();

CREATE FUNCTION earmark.is_carry_forward(b integer, v bigint) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT EXISTS (SELECT 1 FROM earmark.carry_forward c WHERE c.book_id = b AND c.voucher_id = v)
$$;

-- The closing of year y as it stands: every posted revenue and expense
-- balance to 31 December per account, fund and dimensions, on the other
-- side; per fund the totals into 3301 (本期盈余), and 3301's whole balance
-- into 3001 (累计盈余).  Each fund balances (D2).  Vouchers not posted are
-- not counted, so a carry-forward draft is not its own input.
CREATE FUNCTION earmark.carry_forward_lines(b integer, y integer)
RETURNS TABLE (line_no integer, account_id integer, side text, amount_fen bigint, fund_id integer,
               project_id integer, village_id integer, household_id integer, category_id integer, memo text)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	last date := pg_catalog.make_date(y, 12, 31);
	acc_surplus integer;   -- 3001
	acc_current integer;   -- 3301
BEGIN
	SELECT a.account_id INTO acc_current FROM earmark.account a WHERE a.book_id = b AND a.code = '3301';
	SELECT a.account_id INTO acc_surplus FROM earmark.account a WHERE a.book_id = b AND a.code = '3001';
	IF acc_current IS NULL OR acc_surplus IS NULL THEN
		RAISE EXCEPTION 'the chart of accounts has no % to carry the year forward into',
			CASE WHEN acc_current IS NULL THEN '3301 本期盈余' ELSE '3001 累计盈余' END USING ERRCODE = 'EMR01',
			HINT = 'the year end closes revenue and expense into 3301 and 3301 into 3001 (政府会计制度); add them with the chart (config/accounts.csv)';
	END IF;
	RETURN QUERY
	WITH bal AS (
		SELECT l.account_id, a.kind, a.code, l.fund_id, l.project_id, l.village_id, l.household_id, l.category_id,
		       pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)::bigint AS bal
		  FROM earmark.voucher v
		  JOIN earmark.line l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id
		  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
		 WHERE v.book_id = b AND v.status = 'posted' AND v.voucher_date <= last
		   AND (a.kind IN ('revenue', 'expense') OR a.account_id = acc_current)
		 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
		HAVING pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END) <> 0
	), per_fund AS (
		SELECT bal.fund_id,
		       COALESCE(pg_catalog.sum(bal.bal) FILTER (WHERE bal.kind = 'revenue'), 0)::bigint AS rev,
		       COALESCE(pg_catalog.sum(bal.bal) FILTER (WHERE bal.kind = 'expense'), 0)::bigint AS exp,
		       COALESCE(pg_catalog.sum(bal.bal) FILTER (WHERE bal.account_id = acc_current), 0)::bigint AS cur
		  FROM bal GROUP BY 1
	), x AS (
		-- 1: each revenue and expense balance closed, on the other side
		SELECT 1 AS step, bal.code, bal.account_id, CASE WHEN bal.bal > 0 THEN 'C' ELSE 'D' END AS side,
		       pg_catalog.abs(bal.bal) AS amount, bal.fund_id, bal.project_id, bal.village_id, bal.household_id,
		       bal.category_id,
		       CASE bal.kind WHEN 'revenue' THEN '结转本期收入' ELSE '结转本期费用' END AS memo
		  FROM bal WHERE bal.kind IN ('revenue', 'expense')
		UNION ALL
		-- 2, 3: their totals per fund into 3301
		SELECT 2, '3301', acc_current, CASE WHEN pf.rev > 0 THEN 'D' ELSE 'C' END, pg_catalog.abs(pf.rev), pf.fund_id,
		       NULL, NULL, NULL, NULL, '结转本期收入'
		  FROM per_fund pf WHERE pf.rev <> 0
		UNION ALL
		SELECT 3, '3301', acc_current, CASE WHEN pf.exp > 0 THEN 'D' ELSE 'C' END, pg_catalog.abs(pf.exp), pf.fund_id,
		       NULL, NULL, NULL, NULL, '结转本期费用'
		  FROM per_fund pf WHERE pf.exp <> 0
		UNION ALL
		-- 4, 5: 3301's balance per fund into 3001
		SELECT 4, '3301', acc_current, CASE WHEN pf.cur + pf.rev + pf.exp > 0 THEN 'C' ELSE 'D' END,
		       pg_catalog.abs(pf.cur + pf.rev + pf.exp), pf.fund_id, NULL, NULL, NULL, NULL, '本期盈余转入累计盈余'
		  FROM per_fund pf WHERE pf.cur + pf.rev + pf.exp <> 0
		UNION ALL
		SELECT 5, '3001', acc_surplus, CASE WHEN pf.cur + pf.rev + pf.exp > 0 THEN 'D' ELSE 'C' END,
		       pg_catalog.abs(pf.cur + pf.rev + pf.exp), pf.fund_id, NULL, NULL, NULL, NULL, '本期盈余转入累计盈余'
		  FROM per_fund pf WHERE pf.cur + pf.rev + pf.exp <> 0
	)
	SELECT (pg_catalog.row_number() OVER (ORDER BY f.code, x.step, x.code, x.project_id, x.village_id,
	                                             x.household_id, x.category_id))::integer,
	       x.account_id, x.side, x.amount, x.fund_id, x.project_id, x.village_id, x.household_id, x.category_id,
	       x.memo
	  FROM x JOIN earmark.fund f ON f.book_id = b AND f.fund_id = x.fund_id
	 ORDER BY 1;
END
$$;

-- EMC02 when carry-forward voucher v is not exactly the closing of its
-- year as it stands: lines compared as a multiset of account, side,
-- amount, fund and dimensions (not line numbers or memos).
CREATE FUNCTION earmark.carry_forward_problems(b integer, v bigint) RETURNS earmark.problem[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	y integer;
	diff integer;
BEGIN
	SELECT c.year INTO y FROM earmark.carry_forward c WHERE c.book_id = b AND c.voucher_id = v;
	IF y IS NULL THEN
		RETURN '{}';
	END IF;
	SELECT pg_catalog.count(*) INTO diff FROM (
		(SELECT e.account_id, e.side, e.amount_fen, e.fund_id, e.project_id, e.village_id, e.household_id,
		        e.category_id, NULL::integer AS bank_account_id
		   FROM earmark.carry_forward_lines(b, y) e
		 EXCEPT ALL
		 SELECT l.account_id, l.side, l.amount_fen, l.fund_id, l.project_id, l.village_id, l.household_id,
		        l.category_id, l.bank_account_id
		   FROM earmark.line l WHERE l.book_id = b AND l.voucher_id = v)
		UNION ALL
		(SELECT l.account_id, l.side, l.amount_fen, l.fund_id, l.project_id, l.village_id, l.household_id,
		        l.category_id, l.bank_account_id
		   FROM earmark.line l WHERE l.book_id = b AND l.voucher_id = v
		 EXCEPT ALL
		 SELECT e.account_id, e.side, e.amount_fen, e.fund_id, e.project_id, e.village_id, e.household_id,
		        e.category_id, NULL::integer
		   FROM earmark.carry_forward_lines(b, y) e)) d;
	IF diff <> 0 THEN
		RETURN ARRAY[ROW('EMC02', pg_catalog.format('carry-forward voucher #%s does not match the balances of %s (EMC02)', v, y),
		                 pg_catalog.format('%s lines differ from the closing of the posted revenue, expense and 3301 balances to %s-12-31',
		                                   diff, y),
		                 pg_catalog.format('something was posted into %s after it was drafted: its preparer drafts it again with earmark period carry-forward %s',
		                                   y, y))::earmark.problem];
	END IF;
	RETURN '{}';
END
$$;

-- At review and at posting (after voucher_guard by name, so under the
-- chain lock when posting): a carry-forward must be the closing as it
-- stands.  Vouchers that are not a carry-forward pass untouched.
CREATE FUNCTION earmark.voucher_year_end() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NEW.status <> 'draft' AND earmark.is_carry_forward(OLD.book_id, OLD.voucher_id) THEN
		PERFORM earmark.raise_problems(earmark.carry_forward_problems(OLD.book_id, OLD.voucher_id));
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER voucher_year_end BEFORE UPDATE ON earmark.voucher
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
	EXECUTE FUNCTION earmark.voucher_year_end();

-- A carry-forward is not reversed: its reversal would skip the spend
-- totals it never entered the other way.  What was posted into the year
-- after it is closed by the next carry-forward.
CREATE FUNCTION earmark.voucher_year_end_reversal() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NEW.reverses_id IS NOT NULL AND earmark.is_carry_forward(NEW.book_id, NEW.reverses_id) THEN
		RAISE EXCEPTION 'voucher % is a year-end carry-forward and is not reversed (EMC02)',
			COALESCE((SELECT v.number_text FROM earmark.voucher v WHERE v.book_id = NEW.book_id
			            AND v.voucher_id = NEW.reverses_id), '#' || NEW.reverses_id)
			USING ERRCODE = 'EMC02',
			      HINT = 'correct the year with an ordinary voucher dated in it, then carry the year forward again: earmark period carry-forward YEAR';
	END IF;
	RETURN NEW;
END
$$;
CREATE TRIGGER voucher_year_end_reversal BEFORE INSERT ON earmark.voucher
	FOR EACH ROW WHEN (NEW.reverses_id IS NOT NULL)
	EXECUTE FUNCTION earmark.voucher_year_end_reversal();

------------------------------------------------------------------------
-- The exemption: disbursement rules and spend totals skip a carry-forward.
------------------------------------------------------------------------

-- 0010's spend_problems, unchanged, under another name; spend_problems
-- now passes it every voucher but the carry-forwards, as it already skips
-- reversals.
ALTER FUNCTION earmark.spend_problems(integer, bigint[]) RENAME TO spend_problems_of;
CREATE FUNCTION earmark.spend_problems(b integer, vs bigint[]) RETURNS earmark.problem[]
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	ids bigint[];
BEGIN
	SELECT pg_catalog.array_agg(x.id) INTO ids FROM pg_catalog.unnest(vs) x(id)
	 WHERE NOT EXISTS (SELECT 1 FROM earmark.carry_forward c WHERE c.book_id = b AND c.voucher_id = x.id);
	IF ids IS NULL THEN
		RETURN '{}';
	END IF;
	RETURN earmark.spend_problems_of(b, ids);
END
$$;

ALTER FUNCTION earmark.spend_keep(integer, bigint) RENAME TO spend_keep_of;
CREATE FUNCTION earmark.spend_keep(b integer, v bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NOT earmark.is_carry_forward(b, v) THEN
		PERFORM earmark.spend_keep_of(b, v);
	END IF;
END
$$;

-- 0013's spend lines, without the carry-forwards' (day_balance, which
-- report_keep fills from the lines themselves, keeps them: they are
-- balances).
CREATE OR REPLACE FUNCTION earmark.spend_rows(b integer, vs bigint[], d_from date, d_to date)
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
	   AND NOT EXISTS (SELECT 1 FROM earmark.carry_forward c WHERE c.book_id = b AND c.voucher_id = v.voucher_id)
	 GROUP BY 1, 2, 3, 4, 5
$$;

-- 0013's 到户台账 without the carry-forward's closing lines (they close
-- 5001, they pay nobody), and with a returned payment shown as such: its
-- posted return as a negative row (退回), its re-issue, once posted, as a
-- positive one, so that the household's total is what reached it.
CREATE OR REPLACE FUNCTION earmark.household_ledger(p_book text, p_household text, p_as_of date, p_from date DEFAULT NULL)
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
	SELECT p_household, hname, COALESCE(hid, ''), vcode, x.voucher_date, x.number_text, fu.code, fu.year,
	       pr.code, uc.code, x.amount_fen, x.memo
	  FROM (SELECT v.voucher_date, v.number_text, v.chain_seq, l.line_no, l.fund_id, l.project_id, l.category_id,
	               CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END AS amount_fen,
	               COALESCE(NULLIF(l.memo, ''), v.memo) AS memo
	          FROM earmark.line l
	          JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
	          JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
	         WHERE l.book_id = b AND l.household_id = h AND a.spend
	           AND v.status = 'posted' AND v.voucher_date <= p_as_of
	           AND (p_from IS NULL OR v.voucher_date >= p_from)
	           AND NOT EXISTS (SELECT 1 FROM earmark.carry_forward c WHERE c.book_id = b AND c.voucher_id = v.voucher_id)
	        UNION ALL
	        SELECT rv.voucher_date, rv.number_text, rv.chain_seq, 0, p.fund_id, p.project_id, p.category_id,
	               -p.amount_fen, '退回 returned by the bank: ' || p.end_to_end_id
	          FROM earmark.household_payment p
	          JOIN earmark.payment_return r ON r.book_id = p.book_id AND r.payment_id = p.payment_id
	          JOIN earmark.voucher rv ON rv.book_id = r.book_id AND rv.voucher_id = r.voucher_id
	         WHERE p.book_id = b AND p.household_id = h AND rv.status = 'posted' AND rv.voucher_date <= p_as_of
	           AND (p_from IS NULL OR rv.voucher_date >= p_from)
	        UNION ALL
	        SELECT pv.voucher_date, pv.number_text, pv.chain_seq, 0, p.fund_id, p.project_id, p.category_id,
	               p.amount_fen, '重新支付 re-issued: ' || p.end_to_end_id
	          FROM earmark.payment_return r
	          JOIN earmark.household_payment p ON p.book_id = r.book_id AND p.payment_id = r.reissue_payment_id
	          JOIN earmark.pay_batch pb ON pb.book_id = p.book_id AND pb.batch_id = p.batch_id
	          JOIN earmark.voucher pv ON pv.book_id = pb.book_id AND pv.voucher_id = pb.payment_voucher_id
	         WHERE r.book_id = b AND p.household_id = h AND pv.status = 'posted' AND pv.voucher_date <= p_as_of
	           AND (p_from IS NULL OR pv.voucher_date >= p_from)) x
	  JOIN earmark.fund fu ON fu.book_id = b AND fu.fund_id = x.fund_id
	  LEFT JOIN earmark.project pr ON pr.book_id = b AND pr.project_id = x.project_id
	  LEFT JOIN earmark.use_category uc ON uc.book_id = b AND uc.category_id = x.category_id
	 ORDER BY x.voucher_date, x.chain_seq, x.line_no;
END
$$;

------------------------------------------------------------------------
-- The fund position: received net of the closing, paid net of returns.
------------------------------------------------------------------------

-- Per fund, cumulative to d: received (revenue, net credits, with the
-- carry-forwards' debits to revenue added back: closing a year is no
-- refund), spend to projects and to households, the cash in the dedicated
-- account.  To households: the spend less the payments returned by the
-- bank (their return voucher posted by d), plus the re-issues of returned
-- payments (their payment voucher posted by d).
CREATE OR REPLACE FUNCTION earmark.fund_position(b integer, d date)
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
	), closed AS (
		SELECT l.fund_id, pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)::bigint AS rec
		  FROM earmark.carry_forward cf
		  JOIN earmark.voucher v ON v.book_id = cf.book_id AND v.voucher_id = cf.voucher_id
		  JOIN earmark.line l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id
		  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
		 WHERE cf.book_id = b AND v.status = 'posted' AND v.voucher_date <= d AND a.kind = 'revenue'
		 GROUP BY 1
	), sp AS (
		SELECT s.fund_id,
		       COALESCE(pg_catalog.sum(s.spent_fen) FILTER (WHERE NOT s.to_household), 0)::bigint AS proj,
		       COALESCE(pg_catalog.sum(s.spent_fen) FILTER (WHERE s.to_household), 0)::bigint AS hh
		  FROM earmark.report_fund_spend(b, d) s
		 GROUP BY 1
	), back AS (
		SELECT x.fund_id, pg_catalog.sum(x.amt)::bigint AS amt
		  FROM (SELECT p.fund_id, -p.amount_fen AS amt
		          FROM earmark.payment_return r
		          JOIN earmark.household_payment p ON p.book_id = r.book_id AND p.payment_id = r.payment_id
		          JOIN earmark.voucher rv ON rv.book_id = r.book_id AND rv.voucher_id = r.voucher_id
		         WHERE r.book_id = b AND rv.status = 'posted' AND rv.voucher_date <= d
		        UNION ALL
		        SELECT p.fund_id, p.amount_fen
		          FROM earmark.payment_return r
		          JOIN earmark.household_payment p ON p.book_id = r.book_id AND p.payment_id = r.reissue_payment_id
		          JOIN earmark.pay_batch pb ON pb.book_id = p.book_id AND pb.batch_id = p.batch_id
		          JOIN earmark.voucher pv ON pv.book_id = pb.book_id AND pv.voucher_id = pb.payment_voucher_id
		         WHERE r.book_id = b AND pv.status = 'posted' AND pv.voucher_date <= d) x
		 GROUP BY 1
	)
	SELECT fu.fund_id, COALESCE(cum.rec, 0) + COALESCE(closed.rec, 0), COALESCE(sp.proj, 0),
	       COALESCE(sp.hh, 0) + COALESCE(back.amt, 0), COALESCE(cum.cash, 0)
	  FROM earmark.fund fu
	  LEFT JOIN cum ON cum.fund_id = fu.fund_id
	  LEFT JOIN closed ON closed.fund_id = fu.fund_id
	  LEFT JOIN sp ON sp.fund_id = fu.fund_id
	  LEFT JOIN back ON back.fund_id = fu.fund_id
	 WHERE fu.book_id = b
$$;

------------------------------------------------------------------------
-- Drafts of a returned payment or a batch are not discarded alone.
------------------------------------------------------------------------

-- Discarding the receipt voucher of a returned payment would leave the
-- return and its bank match pointing at nothing, and a batch's voucher
-- would leave the batch and its payments; the foreign keys refused that
-- with a bare message.  Refused here, naming what holds the draft and
-- what to do instead.  Fires after voucher_delete_guard (D3: only drafts,
-- only by their preparer) by name.
CREATE FUNCTION earmark.voucher_discard_keep() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r record;
BEGIN
	SELECT p.end_to_end_id, hh.code AS household, r0.statement_id || ':' || r0.line_no AS line INTO r
	  FROM earmark.payment_return r0
	  JOIN earmark.household_payment p ON p.book_id = r0.book_id AND p.payment_id = r0.payment_id
	  JOIN earmark.household hh ON hh.book_id = p.book_id AND hh.household_id = p.household_id
	 WHERE r0.book_id = OLD.book_id AND r0.voucher_id = OLD.voucher_id;
	IF FOUND THEN
		RAISE EXCEPTION 'draft #% is the receipt of payment % returned by the bank and cannot be discarded (EMB03)',
			OLD.voucher_id, r.end_to_end_id USING ERRCODE = 'EMB03',
			DETAIL = pg_catalog.format('statement line %s shows the money of household %s back in the account; the book must show it too (a returned payment is never netted)',
			                           r.line, r.household),
			HINT = pg_catalog.format('a reviewer and a bookkeeper review and post #%s; if the bank''s return was matched wrongly, post it and reverse it (earmark voucher reverse)',
			                         OLD.voucher_id);
	END IF;
	SELECT pb.code, pb.source INTO r FROM earmark.pay_batch pb
	 WHERE pb.book_id = OLD.book_id AND (pb.payable_voucher_id = OLD.voucher_id OR pb.payment_voucher_id = OLD.voucher_id)
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'draft #% belongs to payment batch ''%'' and cannot be discarded on its own (%)',
			OLD.voucher_id, r.code, CASE WHEN r.source LIKE 'reissue of %' THEN 'EMB03' ELSE 'D3' END
			USING ERRCODE = CASE WHEN r.source LIKE 'reissue of %' THEN 'EMB03' ELSE 'EMD03' END,
			DETAIL = pg_catalog.format('the batch''s household payments are recorded with it (%s)', r.source),
			HINT = pg_catalog.format('review and post the batch (earmark pay review %s, pay post %s); a posted voucher is corrected by earmark voucher reverse',
			                         r.code, r.code);
	END IF;
	RETURN OLD;
END
$$;
CREATE TRIGGER voucher_discard_keep BEFORE DELETE ON earmark.voucher
	FOR EACH ROW EXECUTE FUNCTION earmark.voucher_discard_keep();

------------------------------------------------------------------------
-- Period close with the year end.
------------------------------------------------------------------------

-- The open items of the books up to day last (0012's checks): vouchers
-- dated up to it, in an open month, not posted; statement lines booked up
-- to it not matched.  The carry-forward drafts of year skip_year are not
-- counted (the carry-forward itself replaces them).  At most 50 of each.
CREATE FUNCTION earmark.period_open_items(b integer, last date, skip_year integer DEFAULT NULL)
RETURNS earmark.problem[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	probs earmark.problem[] := '{}';
	r record;
BEGIN
	FOR r IN
		SELECT v.voucher_id, v.status, v.voucher_date, v.memo, v.prepared_by FROM earmark.voucher v
		 WHERE v.book_id = b AND v.status <> 'posted' AND v.voucher_date <= last
		   AND NOT EXISTS (SELECT 1 FROM earmark.period p WHERE p.book_id = b AND p.closed_at IS NOT NULL
		                     AND p.month = pg_catalog.date_trunc('month', v.voucher_date)::date)
		   AND NOT EXISTS (SELECT 1 FROM earmark.carry_forward c WHERE c.book_id = b AND c.voucher_id = v.voucher_id
		                     AND c.year = skip_year)
		 ORDER BY v.voucher_date, v.voucher_id LIMIT 50
	LOOP
		probs := probs || ROW('EMC01', pg_catalog.format('voucher #%s dated %s is still %s (prepared by %s)%s',
		                      r.voucher_id, r.voucher_date, CASE r.status WHEN 'draft' THEN 'a draft' ELSE 'reviewed, not posted' END,
		                      r.prepared_by, CASE WHEN r.memo <> '' THEN ': ' || r.memo ELSE '' END),
		                      NULL, 'review and post it, or discard it: earmark voucher review / voucher post / voucher discard')::earmark.problem;
	END LOOP;
	FOR r IN
		SELECT sl.statement_id, sl.line_no, sl.booking_date, sl.amount_fen, da.account_no,
		       pg_catalog.concat_ws(' ', sl.end_to_end_id, NULLIF(sl.reference, ''), NULLIF(sl.counterparty, '')) AS what
		  FROM earmark.statement_line sl
		  JOIN earmark.bank_statement s USING (book_id, statement_id)
		  JOIN earmark.dedicated_account da ON da.book_id = s.book_id AND da.bank_account_id = s.bank_account_id
		 WHERE sl.book_id = b AND sl.status = 'uncleared' AND sl.booking_date <= last
		 ORDER BY sl.booking_date, sl.statement_id, sl.line_no LIMIT 50
	LOOP
		probs := probs || ROW('EMC01', pg_catalog.format('statement line %s:%s of account %s booked %s, %s %s, is not matched',
		                      r.statement_id, r.line_no, r.account_no, r.booking_date, earmark.fmt_fen(r.amount_fen), r.what),
		                      NULL, 'book what the bank did and match it: earmark statement match --account '
		                            || r.account_no || ' (or by hand: statement match ' || r.statement_id || ':' || r.line_no
		                            || ' VOUCHER LINE)')::earmark.problem;
	END LOOP;
	RETURN probs;
END
$$;

-- Drafts year y's carry-forward voucher (转, dated y-12-31, prepared by
-- the administrator who asks; a reviewer and a bookkeeper post it, D6).
-- Refused (EMC01) while anything dated in the year or before is unposted
-- or a statement line unmatched, listing them; in a closed December or a
-- future one (D7).  Twice changes nothing: a draft that still matches the
-- balances is answered again; one that no longer does (something was
-- posted into the year since) is drafted again by its preparer; when
-- nothing is left to close (posted already), no voucher is made.
CREATE FUNCTION earmark.year_end_carry_forward(p_book text, p_year integer)
RETURNS TABLE (voucher_id bigint, line_count integer, already boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	last date;
	old earmark.voucher;
	probs earmark.problem[];
	v bigint;
	n integer;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_admin', 'carry a year forward');
	IF p_year IS NULL OR p_year < 2000 OR p_year > 2100 THEN
		RAISE EXCEPTION 'year % is out of range', p_year USING ERRCODE = 'EMI01', HINT = 'a year like 2025';
	END IF;
	last := pg_catalog.make_date(p_year, 12, 31);
	PERFORM 1 FROM earmark.chain_head WHERE book_id = b FOR UPDATE;
	PERFORM earmark.raise_problems(ARRAY[earmark.date_problem(b, last)]);
	probs := earmark.period_open_items(b, last, p_year);
	PERFORM earmark.raise_problems(probs,
		CASE WHEN pg_catalog.cardinality(probs) > 0 THEN
			pg_catalog.format('year %s cannot be carried forward: %s open item%s (EMC01)', p_year,
			                  pg_catalog.cardinality(probs), CASE WHEN pg_catalog.cardinality(probs) = 1 THEN '' ELSE 's' END)
		END);
	-- A draft of the year already: the same again, or drafted anew.
	FOR old IN
		SELECT x.* FROM earmark.voucher x
		  JOIN earmark.carry_forward c ON c.book_id = x.book_id AND c.voucher_id = x.voucher_id
		 WHERE x.book_id = b AND c.year = p_year AND x.status <> 'posted'
		 ORDER BY x.voucher_id
	LOOP
		IF pg_catalog.cardinality(earmark.carry_forward_problems(b, old.voucher_id)) = 0 THEN
			RETURN QUERY SELECT old.voucher_id,
				(SELECT pg_catalog.count(*)::integer FROM earmark.line l WHERE l.book_id = b AND l.voucher_id = old.voucher_id),
				true;
			RETURN;
		END IF;
		IF old.status <> 'draft' OR old.prepared_by <> who THEN
			RAISE EXCEPTION 'carry-forward voucher #% of % no longer matches the year''s balances (EMC02)', old.voucher_id, p_year
				USING ERRCODE = 'EMC02',
				DETAIL = pg_catalog.format('it is %s, prepared by %s; something was posted into %s after it was drafted',
				                           CASE old.status WHEN 'draft' THEN 'a draft' ELSE 'reviewed' END, old.prepared_by, p_year),
				HINT = pg_catalog.format('%s%s runs earmark period carry-forward %s again, which drafts it anew',
				                         CASE WHEN old.status = 'reviewed' THEN 'send it back (earmark voucher reject #' || old.voucher_id || '), then ' ELSE '' END,
				                         old.prepared_by, p_year);
		END IF;
		DELETE FROM earmark.line l WHERE l.book_id = b AND l.voucher_id = old.voucher_id;
		DELETE FROM earmark.voucher x WHERE x.book_id = b AND x.voucher_id = old.voucher_id;
	END LOOP;
	IF NOT EXISTS (SELECT 1 FROM earmark.carry_forward_lines(b, p_year)) THEN
		RETURN;   -- nothing left to close
	END IF;
	INSERT INTO earmark.voucher (book_id, vtype, voucher_date, memo, prepared_by, prepared_at)
	VALUES (b, '转', last, pg_catalog.format('年末结转 %s: 收入、费用转入本期盈余，本期盈余转入累计盈余', p_year),
	        who, pg_catalog.now())
	RETURNING earmark.voucher.voucher_id INTO v;
	INSERT INTO earmark.carry_forward (book_id, voucher_id, year, drafted_by) VALUES (b, v, p_year, who);
	INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, project_id,
	                          village_id, household_id, category_id, memo)
	SELECT b, v, e.line_no, e.account_id, e.side, e.amount_fen, e.fund_id, e.project_id, e.village_id,
	       e.household_id, e.category_id, e.memo
	  FROM earmark.carry_forward_lines(b, p_year) e;
	GET DIAGNOSTICS n = ROW_COUNT;
	PERFORM earmark.raise_problems(earmark.balance_problems(b, v));
	RETURN QUERY SELECT v, n, false;
END
$$;

-- 0012's period close, with the year end: December closes only when the
-- year is carried forward (no revenue, expense or 3301 balance left per
-- fund, from the kept period balances), and closes with it every month of
-- the year still open (their items were checked: nothing is open up to 31
-- December), so that nothing can be dated into a carried-forward year.
CREATE OR REPLACE FUNCTION earmark.period_close(p_book text, p_month date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	m date := pg_catalog.date_trunc('month', p_month)::date;
	last date := (pg_catalog.date_trunc('month', p_month) + interval '1 month - 1 day')::date;
	y integer := pg_catalog.date_part('year', p_month)::integer;
	year_end boolean := pg_catalog.date_part('month', p_month) = 12;
	probs earmark.problem[];
	r record;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_admin', 'close periods');
	PERFORM 1 FROM earmark.chain_head WHERE book_id = b FOR UPDATE;
	IF EXISTS (SELECT 1 FROM earmark.period WHERE book_id = b AND month = m AND closed_at IS NOT NULL) THEN
		RETURN;   -- closing a closed month again is harmless
	END IF;
	probs := earmark.period_open_items(b, last);
	IF year_end THEN
		FOR r IN
			SELECT a.code, a.name, f.code AS fund, pg_catalog.sum(pb.debit_fen - pb.credit_fen)::bigint AS bal
			  FROM earmark.period_balance pb
			  JOIN earmark.account a ON a.book_id = pb.book_id AND a.account_id = pb.account_id
			  JOIN earmark.fund f ON f.book_id = pb.book_id AND f.fund_id = pb.fund_id
			 WHERE pb.book_id = b AND pb.month <= m AND (a.kind IN ('revenue', 'expense') OR a.code = '3301')
			 GROUP BY a.code, a.name, f.code
			HAVING pg_catalog.sum(pb.debit_fen - pb.credit_fen) <> 0
			 ORDER BY f.code, a.code LIMIT 50
		LOOP
			probs := probs || ROW('EMC01', pg_catalog.format('%s is not carried forward: %s %s of fund ''%s'' holds %s (%s)',
			                      y, r.code, r.name, r.fund, earmark.fmt_fen(pg_catalog.abs(r.bal)),
			                      CASE WHEN r.bal > 0 THEN '借' ELSE '贷' END),
			                      NULL, pg_catalog.format('earmark period carry-forward %s drafts the year-end voucher (年末结转); a reviewer and a bookkeeper post it, then close December',
			                                              y))::earmark.problem;
		END LOOP;
	END IF;
	PERFORM earmark.raise_problems(probs,
		CASE WHEN pg_catalog.cardinality(probs) > 0 THEN
			pg_catalog.format('period %s cannot be closed: %s open item%s (EMC01)', pg_catalog.to_char(m, 'YYYY-MM'),
			                  pg_catalog.cardinality(probs), CASE WHEN pg_catalog.cardinality(probs) = 1 THEN '' ELSE 's' END)
		END);
	INSERT INTO earmark.period AS p (book_id, month, closed_at, closed_by)
	SELECT b, mm::date, pg_catalog.now(), who
	  FROM pg_catalog.generate_series(CASE WHEN year_end THEN GREATEST(pg_catalog.make_date(y, 1, 1),
	                                           (SELECT pg_catalog.date_trunc('month', bk.start_date)::date
	                                              FROM earmark.book bk WHERE bk.book_id = b))
	                                       ELSE m END,
	                                  m, interval '1 month') mm
	ON CONFLICT (book_id, month) DO UPDATE SET closed_at = EXCLUDED.closed_at, closed_by = EXCLUDED.closed_by
	 WHERE p.closed_at IS NULL;
	-- Year end: each account's balance per fund at the end of the year, the
	-- new year's opening balances (revenue and expense zero by now).
	IF year_end THEN
		INSERT INTO earmark.year_end_balance (book_id, year, account_id, fund_id, balance_fen, closed_by)
		SELECT b, y::smallint, pb.account_id, pb.fund_id, pg_catalog.sum(pb.debit_fen - pb.credit_fen)::bigint, who
		  FROM earmark.period_balance pb
		 WHERE pb.book_id = b AND pb.month <= m
		 GROUP BY pb.account_id, pb.fund_id
		ON CONFLICT DO NOTHING;
	END IF;
	UPDATE earmark.statement_line sl SET status = 'reconciled'
	  FROM earmark.bank_statement s
	 WHERE s.book_id = sl.book_id AND s.statement_id = sl.statement_id
	   AND sl.book_id = b AND sl.status = 'cleared' AND sl.booking_date <= last;
END
$$;

------------------------------------------------------------------------
-- Grants.
------------------------------------------------------------------------

REVOKE ALL ON earmark.carry_forward FROM PUBLIC;
GRANT SELECT ON earmark.carry_forward
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin, earmark_auditor;
REVOKE ALL ON FUNCTION earmark.carry_forward_guard(), earmark.is_carry_forward(integer, bigint),
	earmark.carry_forward_lines(integer, integer), earmark.carry_forward_problems(integer, bigint),
	earmark.voucher_year_end(), earmark.voucher_year_end_reversal(), earmark.spend_problems(integer, bigint[]),
	earmark.spend_keep(integer, bigint), earmark.voucher_discard_keep(),
	earmark.period_open_items(integer, date, integer), earmark.year_end_carry_forward(text, integer)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION earmark.is_carry_forward(integer, bigint), earmark.carry_forward_lines(integer, integer)
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin, earmark_auditor;
GRANT EXECUTE ON FUNCTION earmark.year_end_carry_forward(text, integer) TO earmark_admin;
