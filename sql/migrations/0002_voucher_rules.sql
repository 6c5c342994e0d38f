-- 0002 the voucher rules: D1-D9, A1 and A2 of DESIGN section 4, inside PostgreSQL.
--
-- Writes go through SECURITY DEFINER functions owned by earmark_owner; the
-- application roles have no INSERT, UPDATE or DELETE on any table.  The
-- functions only find rows and ask; the rules themselves sit in triggers
-- on voucher and line, so they hold for every path that writes, the
-- owner's own psql session included:
--
--   line BEFORE INSERT/UPDATE/DELETE   only on drafts, by their preparer (D3); A1; D4 signs
--   voucher BEFORE UPDATE               the state machine: draft -> reviewed
--                                       (D6, D1, D2, D7) -> posted (D6, D7, D1,
--                                       D2, D4, A2, D5 number, D8 chain, balances);
--                                       reviewed -> draft (sent back);
--                                       posted rows never change (D3)
--   voucher BEFORE DELETE, TRUNCATE     only drafts (D3)
--
-- Who acts is earmark.actor(): the caller's current_user, read from the
-- session's role setting because inside a SECURITY DEFINER function
-- current_user is the owner.  It must be a login role (a person), never a
-- group role.
--
-- Posting takes the row lock of the book's chain_head first; that orders
-- all postings of a book (the hash chain is a total order anyway) and so
-- the counters and balances after it never deadlock.
--
-- Errors carry SQLSTATE 'EM' || rule, e.g. EMD02, so that clients and tests
-- can tell the rules apart; the message names the rule, the detail the
-- numbers, the hint the fix.

-- One refusal, before it is raised.  Functions collect these so that a
-- voucher with several problems is refused once, naming all of them.
CREATE TYPE earmark.problem AS (
	sqlstate text, -- EMD02 ...
	message  text, -- primary message, naming the rule
	detail   text, -- numbers and record, or NULL
	hint     text  -- the fix, or NULL
);

-- Raises the collected problems as one error, or returns when there are
-- none (NULL elements, checks that found nothing, are dropped).  The
-- message is summary when given, else the first problem's; with more than
-- one problem the detail lists them all.
CREATE FUNCTION earmark.raise_problems(p earmark.problem[], summary text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	d text;
	i integer;
BEGIN
	SELECT pg_catalog.array_agg(x) INTO p FROM pg_catalog.unnest(p) x WHERE x.sqlstate IS NOT NULL;
	IF p IS NULL OR pg_catalog.cardinality(p) = 0 THEN
		RETURN;
	END IF;
	d := p[1].detail;
	IF pg_catalog.cardinality(p) > 1 OR summary IS NOT NULL THEN
		d := pg_catalog.format('%s problem%s:', pg_catalog.cardinality(p),
		                       CASE WHEN pg_catalog.cardinality(p) > 1 THEN 's' ELSE '' END);
		FOR i IN 1 .. pg_catalog.cardinality(p) LOOP
			d := d || E'\n  ' || p[i].message || COALESCE(' (' || p[i].detail || ')', '');
		END LOOP;
	END IF;
	RAISE EXCEPTION USING ERRCODE = p[1].sqlstate, MESSAGE = COALESCE(summary, p[1].message),
		DETAIL = COALESCE(d, ''), HINT = COALESCE(p[1].hint, '');
END
$$;

-- 1234567 -> '12,345.67'.  Money is printed from bigint, never through float.
CREATE FUNCTION earmark.fmt_fen(fen numeric) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE WHEN fen < 0 THEN '-' ELSE '' END
	       || pg_catalog.to_char(pg_catalog.abs(fen::numeric) / 100, 'FM999,999,999,999,999,990.00')
$$;

-- The acting person: the caller's current_user (D6).
CREATE FUNCTION earmark.actor() RETURNS name
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r text := pg_catalog.current_setting('role');
	a name;
BEGIN
	a := CASE WHEN r IS NULL OR r = 'none' THEN session_user ELSE r::name END;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = a AND rolcanlogin) THEN
		RAISE EXCEPTION 'role ''%'' is a group role, not a person (D6)', a
			USING ERRCODE = 'EMD06',
			      HINT = 'act as your own login role: RESET ROLE, or connect as yourself';
	END IF;
	RETURN a;
END
$$;

CREATE FUNCTION earmark.require_role(who name, grp text, what text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NOT pg_catalog.pg_has_role(who, grp, 'USAGE') THEN
		RAISE EXCEPTION 'role ''%'' may not %', who, what
			USING ERRCODE = '42501',
			      DETAIL = pg_catalog.format('%s needs membership in %s', what, grp),
			      HINT = pg_catalog.format('an administrator can grant it: earmark user add %s --role %s',
			                               who, pg_catalog.substr(grp, 9));
	END IF;
END
$$;

CREATE FUNCTION earmark.book_of(p_code text) RETURNS integer
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	b integer;
BEGIN
	SELECT book_id INTO b FROM earmark.book WHERE code = p_code;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown book ''%''', p_code
			USING ERRCODE = 'EMR01',
			      HINT = 'create it with: earmark book create CODE --name NAME --start DATE';
	END IF;
	RETURN b;
END
$$;

-- D7: a voucher date is not in the future, not before the book, not in a closed month.
CREATE FUNCTION earmark.date_problem(b integer, d date) RETURNS earmark.problem
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	start date;
	closed timestamptz;
BEGIN
	IF d > CURRENT_DATE THEN
		RETURN ROW('EMD07', pg_catalog.format('voucher date %s is in the future (D7)', d),
		           pg_catalog.format('today is %s', CURRENT_DATE),
		           'date the voucher on or before today')::earmark.problem;
	END IF;
	SELECT start_date INTO start FROM earmark.book WHERE book_id = b;
	IF d < start THEN
		RETURN ROW('EMD07', pg_catalog.format('voucher date %s is before the book began (D7)', d),
		           pg_catalog.format('the book starts on %s', start), NULL)::earmark.problem;
	END IF;
	SELECT closed_at INTO closed FROM earmark.period
	 WHERE book_id = b AND month = pg_catalog.date_trunc('month', d)::date AND closed_at IS NOT NULL;
	IF FOUND THEN
		RETURN ROW('EMD07', pg_catalog.format('period %s is closed (D7)', pg_catalog.to_char(d, 'YYYY-MM')),
		           pg_catalog.format('closed at %s', closed),
		           'date the voucher in an open period')::earmark.problem;
	END IF;
	RETURN NULL;
END
$$;

-- A1 and D4 for one line.  label names the line in messages ('line 2',
-- 'line 2 (vouchers.csv:3)').  is_reversal: the voucher is a 红字 reversal.
CREATE FUNCTION earmark.line_problems(b integer, label text, p_account_id integer,
                                      p_amount_fen bigint, p_fund_id integer,
                                      p_bank_account_id integer, is_reversal boolean)
RETURNS earmark.problem[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	acc earmark.account;
	f earmark.fund;
	own_no text;
	line_acct_no text;
	probs earmark.problem[] := '{}';
BEGIN
	SELECT * INTO acc FROM earmark.account WHERE book_id = b AND account_id = p_account_id;
	SELECT * INTO f FROM earmark.fund WHERE book_id = b AND fund_id = p_fund_id;
	IF p_amount_fen < 0 AND NOT is_reversal THEN
		probs := probs || ROW('EMD04', pg_catalog.format('%s: negative amount outside a reversal (D4)', label),
		                  pg_catalog.format('amount %s', earmark.fmt_fen(p_amount_fen)),
		                  'amounts are positive; a posted voucher is corrected by earmark voucher reverse')::earmark.problem;
	ELSIF p_amount_fen > 0 AND is_reversal THEN
		probs := probs || ROW('EMD04', pg_catalog.format('%s: a reversal carries negative amounts only (D4)', label),
		                  pg_catalog.format('amount %s', earmark.fmt_fen(p_amount_fen)), NULL)::earmark.problem;
	END IF;
	IF acc.is_bank AND p_bank_account_id IS NULL THEN
		probs := probs || ROW('EMA01', pg_catalog.format('%s: a line on bank account %s needs its dedicated account (A1)', label, acc.code),
		                  NULL, pg_catalog.format('fill the bank_account column with fund ''%s''''s account', f.code))::earmark.problem;
	ELSIF NOT acc.is_bank AND p_bank_account_id IS NOT NULL THEN
		probs := probs || ROW('EMA01', pg_catalog.format('%s: account %s is not a bank account but the line names one (A1)', label, acc.code),
		                  NULL, 'leave bank_account empty on lines that are not on 1002')::earmark.problem;
	ELSIF acc.is_bank AND p_bank_account_id <> f.bank_account_id THEN
		SELECT account_no INTO line_acct_no FROM earmark.dedicated_account
		 WHERE book_id = b AND bank_account_id = p_bank_account_id;
		SELECT account_no INTO own_no FROM earmark.dedicated_account
		 WHERE book_id = b AND bank_account_id = f.bank_account_id;
		probs := probs || ROW('EMA01', pg_catalog.format('%s: bank account ''%s'' is not the dedicated account of fund ''%s'' (A1)', label, line_acct_no, f.code),
		                  pg_catalog.format('fund ''%s'' is held in account ''%s''', f.code, own_no),
		                  'a fund''s cash moves only through its own dedicated account (专户储存)')::earmark.problem;
	END IF;
	RETURN probs;
END
$$;

-- D1 and D2 for a voucher's lines as they stand.
CREATE FUNCTION earmark.balance_problems(b integer, v bigint) RETURNS earmark.problem[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	dr numeric;  -- numeric: a sum of valid bigint amounts may itself overflow bigint
	cr numeric;
	n integer;
	r record;
	probs earmark.problem[] := '{}';
BEGIN
	SELECT pg_catalog.count(*),
	       COALESCE(pg_catalog.sum(amount_fen) FILTER (WHERE side = 'D'), 0),
	       COALESCE(pg_catalog.sum(amount_fen) FILTER (WHERE side = 'C'), 0)
	  INTO n, dr, cr
	  FROM earmark.line WHERE book_id = b AND voucher_id = v;
	IF n < 2 THEN
		RETURN ARRAY[ROW('EMD01', 'a voucher needs at least two lines (D1)',
		                 pg_catalog.format('it has %s', n), NULL)::earmark.problem];
	END IF;
	IF GREATEST(dr, cr) > 9223372036854775807 THEN
		RETURN ARRAY[ROW('EMI01', 'voucher total is too large',
		                 pg_catalog.format('debits %s, credits %s; a voucher total must stay below %s',
		                                   earmark.fmt_fen(dr), earmark.fmt_fen(cr),
		                                   earmark.fmt_fen(9223372036854775807)),
		                 'split it into several vouchers')::earmark.problem];
	END IF;
	IF dr <> cr THEN
		probs := probs || ROW('EMD01', 'voucher does not balance (D1)',
		                  pg_catalog.format('debits %s, credits %s', earmark.fmt_fen(dr), earmark.fmt_fen(cr)),
		                  'the debits and the credits of a voucher must be equal')::earmark.problem;
	END IF;
	FOR r IN
		SELECT f.code,
		       COALESCE(pg_catalog.sum(l.amount_fen) FILTER (WHERE l.side = 'D'), 0) AS d,
		       COALESCE(pg_catalog.sum(l.amount_fen) FILTER (WHERE l.side = 'C'), 0) AS c
		  FROM earmark.line l JOIN earmark.fund f USING (book_id, fund_id)
		 WHERE l.book_id = b AND l.voucher_id = v
		 GROUP BY f.code ORDER BY f.code
	LOOP
		IF r.d <> r.c THEN
			probs := probs || ROW('EMD02', pg_catalog.format('voucher does not balance for fund ''%s'' (D2)', r.code),
			                  pg_catalog.format('debits %s, credits %s', earmark.fmt_fen(r.d), earmark.fmt_fen(r.c)),
			                  'each fund balances on its own; move money between funds only through due-to/due-from accounts')::earmark.problem;
		END IF;
	END LOOP;
	RETURN probs;
END
$$;

-- D4: a reversal is its original's lines with negated amounts, nothing else.
CREATE FUNCTION earmark.reversal_problems(b integer, v bigint, orig bigint) RETURNS earmark.problem[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	o earmark.voucher;
	diff integer;
BEGIN
	SELECT * INTO o FROM earmark.voucher WHERE book_id = b AND voucher_id = orig;
	IF o.status <> 'posted' THEN
		RETURN ARRAY[ROW('EMD04', 'only a posted voucher can be reversed (D4)',
		                 pg_catalog.format('voucher #%s is %s', orig, o.status), NULL)::earmark.problem];
	END IF;
	IF o.reverses_id IS NOT NULL THEN
		RETURN ARRAY[ROW('EMD04', pg_catalog.format('voucher %s is itself a reversal (D4)', o.number_text),
		                 NULL, 'post a new correct voucher instead')::earmark.problem];
	END IF;
	SELECT pg_catalog.count(*) INTO diff FROM (
		(SELECT line_no, account_id, side, -amount_fen, fund_id, project_id, village_id,
		        household_id, bank_account_id, category_id
		   FROM earmark.line WHERE book_id = b AND voucher_id = orig
		 EXCEPT ALL
		 SELECT line_no, account_id, side, amount_fen, fund_id, project_id, village_id,
		        household_id, bank_account_id, category_id
		   FROM earmark.line WHERE book_id = b AND voucher_id = v)
		UNION ALL
		(SELECT line_no, account_id, side, amount_fen, fund_id, project_id, village_id,
		        household_id, bank_account_id, category_id
		   FROM earmark.line WHERE book_id = b AND voucher_id = v
		 EXCEPT ALL
		 SELECT line_no, account_id, side, -amount_fen, fund_id, project_id, village_id,
		        household_id, bank_account_id, category_id
		   FROM earmark.line WHERE book_id = b AND voucher_id = orig)) x;
	IF diff <> 0 THEN
		RETURN ARRAY[ROW('EMD04', pg_catalog.format('reversal does not mirror voucher %s (D4)', o.number_text),
		                 pg_catalog.format('%s lines differ', diff),
		                 'a 红字 reversal repeats every line of the original with the amount negated')::earmark.problem];
	END IF;
	RETURN '{}';
END
$$;

-- D8: the canonical text of a voucher, hashed into the chain.  Defined byte
-- for byte in docs/hash-chain.md; reports/chain.c computes the same bytes
-- independently, and the tests compare the two.
CREATE FUNCTION earmark.canon_escape(s text) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	res text := '';
	c text;
	i integer;
BEGIN
	IF s !~ '[\x01-\x1f\x7f\\]' THEN
		RETURN s;
	END IF;
	FOR i IN 1 .. pg_catalog.length(s) LOOP
		c := pg_catalog.substr(s, i, 1);
		IF c = '\' THEN
			res := res || '\\';
		ELSIF pg_catalog.ascii(c) < 32 OR pg_catalog.ascii(c) = 127 THEN
			res := res || '\x' || pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.ascii(c)), 2, '0');
		ELSE
			res := res || c;
		END IF;
	END LOOP;
	RETURN res;
END
$$;

CREATE FUNCTION earmark.canonical_text(v earmark.voucher) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT 'earmark-voucher-v1' || E'\n'
	    || 'book' || E'\t' || earmark.canon_escape(bk.code) || E'\n'
	    || 'seq' || E'\t' || v.chain_seq || E'\n'
	    || 'number' || E'\t' || v.number_text || E'\n'
	    || 'type' || E'\t' || v.vtype || E'\n'
	    || 'date' || E'\t' || pg_catalog.to_char(v.voucher_date, 'YYYY-MM-DD') || E'\n'
	    || 'reverses' || E'\t' || COALESCE(o.number_text, '') || E'\n'
	    || 'memo' || E'\t' || earmark.canon_escape(v.memo) || E'\n'
	    || 'prepared_by' || E'\t' || earmark.canon_escape(v.prepared_by) || E'\n'
	    || 'reviewed_by' || E'\t' || earmark.canon_escape(v.reviewed_by) || E'\n'
	    || 'posted_by' || E'\t' || earmark.canon_escape(v.posted_by) || E'\n'
	    || 'posted_at' || E'\t'
	    || pg_catalog.to_char(v.posted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || E'\n'
	    || COALESCE((
		SELECT pg_catalog.string_agg(
		         'line' || E'\t' || l.line_no || E'\t' || l.account || E'\t' || l.side || E'\t'
		         || l.amount_fen || E'\t' || earmark.canon_escape(l.fund) || E'\t'
		         || earmark.canon_escape(COALESCE(l.project, '')) || E'\t'
		         || COALESCE(l.village, '') || E'\t'
		         || earmark.canon_escape(COALESCE(l.household, '')) || E'\t'
		         || earmark.canon_escape(COALESCE(l.bank_account, '')) || E'\t'
		         || earmark.canon_escape(COALESCE(l.category, '')) || E'\t'
		         || earmark.canon_escape(l.memo) || E'\n', '' ORDER BY l.line_no)
		  FROM earmark.line_coded l
		 WHERE l.book_id = v.book_id AND l.voucher_id = v.voucher_id), '')
	  FROM earmark.book bk
	  LEFT JOIN earmark.voucher o ON o.book_id = v.book_id AND o.voucher_id = v.reverses_id
	 WHERE bk.book_id = v.book_id
$$;

-- h(n) = SHA-256(h(n-1) || canonical text), h(0) = 32 zero bytes.
CREATE FUNCTION earmark.chain_step(prev bytea, v earmark.voucher) RETURNS bytea
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT pg_catalog.sha256(prev || pg_catalog.convert_to(earmark.canonical_text(v), 'UTF8'))
$$;

------------------------------------------------------------------------
-- Triggers: the backstop every writer passes.
------------------------------------------------------------------------

CREATE FUNCTION earmark.line_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v earmark.voucher;
	r earmark.line;
BEGIN
	r := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
	SELECT * INTO v FROM earmark.voucher WHERE book_id = r.book_id AND voucher_id = r.voucher_id;
	IF v.status IS DISTINCT FROM 'draft' THEN
		RAISE EXCEPTION 'lines of voucher % cannot be changed: it is % (D3)',
			COALESCE(v.number_text, '#' || r.voucher_id), COALESCE(v.status, 'gone')
			USING ERRCODE = 'EMD03',
			      HINT = 'posted vouchers are append-only; correct one with earmark voucher reverse';
	END IF;
	IF earmark.actor() <> v.prepared_by THEN
		RAISE EXCEPTION 'draft #% belongs to ''%'' (D3)', v.voucher_id, v.prepared_by
			USING ERRCODE = 'EMD03', DETAIL = 'drafts may be changed by their preparer only';
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	PERFORM earmark.raise_problems(earmark.line_problems(
		NEW.book_id, 'line ' || NEW.line_no, NEW.account_id, NEW.amount_fen, NEW.fund_id,
		NEW.bank_account_id, v.reverses_id IS NOT NULL));
	RETURN NEW;
END
$$;

CREATE TRIGGER line_guard BEFORE INSERT OR UPDATE OR DELETE ON earmark.line
	FOR EACH ROW EXECUTE FUNCTION earmark.line_guard();

CREATE FUNCTION earmark.no_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RAISE EXCEPTION 'table earmark.% cannot be truncated (D3)', TG_TABLE_NAME
		USING ERRCODE = 'EMD03';
END
$$;

CREATE TRIGGER line_no_truncate BEFORE TRUNCATE ON earmark.line
	FOR EACH STATEMENT EXECUTE FUNCTION earmark.no_truncate();
CREATE TRIGGER voucher_no_truncate BEFORE TRUNCATE ON earmark.voucher
	FOR EACH STATEMENT EXECUTE FUNCTION earmark.no_truncate();

CREATE FUNCTION earmark.voucher_delete_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF OLD.status <> 'draft' THEN
		RAISE EXCEPTION 'voucher % cannot be deleted: it is % (D3)',
			COALESCE(OLD.number_text, '#' || OLD.voucher_id), OLD.status
			USING ERRCODE = 'EMD03',
			      HINT = 'posted vouchers are append-only; correct one with earmark voucher reverse';
	END IF;
	IF earmark.actor() <> OLD.prepared_by THEN
		RAISE EXCEPTION 'draft #% belongs to ''%'' (D3)', OLD.voucher_id, OLD.prepared_by
			USING ERRCODE = 'EMD03', DETAIL = 'drafts may be changed by their preparer only';
	END IF;
	RETURN OLD;
END
$$;

CREATE TRIGGER voucher_delete_guard BEFORE DELETE ON earmark.voucher
	FOR EACH ROW EXECUTE FUNCTION earmark.voucher_delete_guard();

-- The posting: number, chain, balances.  Called from voucher_guard with the
-- chain head locked; fills NEW's posting columns.
CREATE FUNCTION earmark.post_into(INOUT v earmark.voucher, who name)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	head earmark.chain_head;
	r record;
	n integer;
	later_fen bigint;
	low_fen bigint;
	low_day date;
BEGIN
	SELECT * INTO head FROM earmark.chain_head WHERE book_id = v.book_id FOR UPDATE;

	-- D7 again under the lock, so that a period closing now is seen.
	PERFORM earmark.raise_problems(ARRAY[earmark.date_problem(v.book_id, v.voucher_date)]);

	-- A2: no fund's cash in its dedicated account below zero, on any day.
	-- For each fund this voucher takes cash from, the day-end balance is
	-- followed from the voucher's date on: the balance before that day, this
	-- voucher, and the posted movements of each day.  Only lines dated on or
	-- after the voucher are read; the balance before comes from fund_cash.
	FOR r IN
		SELECT f.code AS fund, da.account_no, d.fund_id, d.bank_account_id, d.delta_fen,
		       COALESCE(fc.balance_fen, 0)::bigint AS total_fen
		  FROM (SELECT fund_id, bank_account_id,
		               pg_catalog.sum(CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END)::bigint AS delta_fen
		          FROM earmark.line
		         WHERE book_id = v.book_id AND voucher_id = v.voucher_id AND bank_account_id IS NOT NULL
		         GROUP BY fund_id, bank_account_id) d
		  JOIN earmark.fund f ON f.book_id = v.book_id AND f.fund_id = d.fund_id
		  JOIN earmark.dedicated_account da
		    ON da.book_id = v.book_id AND da.bank_account_id = d.bank_account_id
		  LEFT JOIN earmark.fund_cash fc
		    ON fc.book_id = v.book_id AND fc.fund_id = d.fund_id AND fc.bank_account_id = d.bank_account_id
		 WHERE d.delta_fen < 0
		 ORDER BY f.code
	LOOP
		SELECT COALESCE(pg_catalog.sum(x.amt), 0)::bigint INTO later_fen
		  FROM (SELECT CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END AS amt
		          FROM earmark.voucher o
		          JOIN earmark.line l ON l.book_id = o.book_id AND l.voucher_id = o.voucher_id
		         WHERE o.book_id = v.book_id AND o.status = 'posted' AND o.voucher_date >= v.voucher_date
		           AND l.fund_id = r.fund_id AND l.bank_account_id = r.bank_account_id) x;
		-- The balance at the end of each day from the voucher's date on.
		SELECT y.dt, r.total_fen - later_fen + r.delta_fen + y.run INTO low_day, low_fen
		  FROM (SELECT x.dt, pg_catalog.sum(x.amt) OVER (ORDER BY x.dt)::bigint AS run
		          FROM (SELECT z.dt, pg_catalog.sum(z.amt) AS amt
		                  FROM (SELECT o.voucher_date AS dt,
		                               CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END AS amt
		                          FROM earmark.voucher o
		                          JOIN earmark.line l ON l.book_id = o.book_id AND l.voucher_id = o.voucher_id
		                         WHERE o.book_id = v.book_id AND o.status = 'posted'
		                           AND o.voucher_date >= v.voucher_date
		                           AND l.fund_id = r.fund_id AND l.bank_account_id = r.bank_account_id
		                        UNION ALL
		                        SELECT v.voucher_date, 0) z
		                 GROUP BY z.dt) x) y
		 ORDER BY 2, 1 LIMIT 1;
		IF low_fen < 0 THEN
			RAISE EXCEPTION 'fund ''%'' would overdraw its dedicated account ''%'' (A2)', r.fund, r.account_no
				USING ERRCODE = 'EMA02',
				      DETAIL = pg_catalog.format('balance before %s: %s, this voucher %s, lowest balance %s on %s',
				                                 v.voucher_date, earmark.fmt_fen(r.total_fen - later_fen),
				                                 earmark.fmt_fen(r.delta_fen), earmark.fmt_fen(low_fen), low_day),
				      HINT = 'a fund pays only from money it has received into its own account, on or before the payment''s date';
		END IF;
	END LOOP;

	-- D5: the next number of this book, type and month; the counter row lock
	-- and the transaction make it gapless.
	v.month := pg_catalog.date_trunc('month', v.voucher_date)::date;
	INSERT INTO earmark.voucher_counter AS c (book_id, vtype, month, last_number)
	VALUES (v.book_id, v.vtype, v.month, 1)
	ON CONFLICT (book_id, vtype, month) DO UPDATE SET last_number = c.last_number + 1
	RETURNING last_number INTO n;
	v.number := n;
	v.number_text := v.vtype || '-' || pg_catalog.to_char(v.month, 'YYYY-MM') || '-'
	                 || CASE WHEN n < 10000 THEN pg_catalog.lpad(n::text, 4, '0') ELSE n::text END;
	v.posted_by := who;
	v.posted_at := pg_catalog.now();
	v.status := 'posted';

	-- D8
	v.chain_seq := head.seq + 1;
	v.chain_hash := earmark.chain_step(head.hash, v);
	UPDATE earmark.chain_head SET seq = v.chain_seq, hash = v.chain_hash WHERE book_id = v.book_id;

	INSERT INTO earmark.period_balance AS pb (book_id, month, account_id, fund_id,
	                                          debit_fen, credit_fen, line_count)
	SELECT v.book_id, v.month, account_id, fund_id,
	       COALESCE(pg_catalog.sum(amount_fen) FILTER (WHERE side = 'D'), 0),
	       COALESCE(pg_catalog.sum(amount_fen) FILTER (WHERE side = 'C'), 0),
	       pg_catalog.count(*)
	  FROM earmark.line WHERE book_id = v.book_id AND voucher_id = v.voucher_id
	 GROUP BY account_id, fund_id
	ON CONFLICT (book_id, month, account_id, fund_id) DO UPDATE
	   SET debit_fen = pb.debit_fen + EXCLUDED.debit_fen,
	       credit_fen = pb.credit_fen + EXCLUDED.credit_fen,
	       line_count = pb.line_count + EXCLUDED.line_count;

	-- UPDATE first, then INSERT what is new: INSERT ... ON CONFLICT would
	-- test the CHECK (balance >= 0) on the bare delta before it saw the row.
	UPDATE earmark.fund_cash fc SET balance_fen = fc.balance_fen + d.delta_fen
	  FROM (SELECT fund_id, bank_account_id,
	               pg_catalog.sum(CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END)::bigint AS delta_fen
	          FROM earmark.line
	         WHERE book_id = v.book_id AND voucher_id = v.voucher_id AND bank_account_id IS NOT NULL
	         GROUP BY fund_id, bank_account_id) d
	 WHERE fc.book_id = v.book_id AND fc.fund_id = d.fund_id AND fc.bank_account_id = d.bank_account_id;
	INSERT INTO earmark.fund_cash (book_id, fund_id, bank_account_id, balance_fen)
	SELECT v.book_id, l.fund_id, l.bank_account_id,
	       pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)
	  FROM earmark.line l
	 WHERE l.book_id = v.book_id AND l.voucher_id = v.voucher_id AND l.bank_account_id IS NOT NULL
	   AND NOT EXISTS (SELECT 1 FROM earmark.fund_cash fc
	                    WHERE fc.book_id = v.book_id AND fc.fund_id = l.fund_id
	                      AND fc.bank_account_id = l.bank_account_id)
	 GROUP BY l.fund_id, l.bank_account_id;
END
$$;

CREATE FUNCTION earmark.voucher_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name;
	label text := COALESCE(OLD.number_text, '#' || OLD.voucher_id);
BEGIN
	IF OLD.status = 'posted' THEN
		RAISE EXCEPTION 'posted voucher % cannot be changed (D3)', label
			USING ERRCODE = 'EMD03',
			      HINT = 'posted vouchers are append-only; correct one with earmark voucher reverse';
	END IF;
	IF (NEW.book_id, NEW.voucher_id, NEW.reverses_id, NEW.idem_key, NEW.idem_digest,
	    NEW.prepared_by, NEW.prepared_at)
	   IS DISTINCT FROM (OLD.book_id, OLD.voucher_id, OLD.reverses_id, OLD.idem_key,
	                     OLD.idem_digest, OLD.prepared_by, OLD.prepared_at) THEN
		RAISE EXCEPTION 'voucher % cannot change its identity or preparer (D3)', label
			USING ERRCODE = 'EMD03';
	END IF;
	who := earmark.actor();

	IF OLD.status = 'draft' AND NEW.status = 'draft' THEN
		IF who <> OLD.prepared_by THEN
			RAISE EXCEPTION 'draft % belongs to ''%'' (D3)', label, OLD.prepared_by
				USING ERRCODE = 'EMD03', DETAIL = 'drafts may be changed by their preparer only';
		END IF;
		RETURN NEW;
	END IF;

	IF (NEW.vtype, NEW.voucher_date, NEW.memo) IS DISTINCT FROM (OLD.vtype, OLD.voucher_date, OLD.memo) THEN
		RAISE EXCEPTION 'voucher % cannot be edited once reviewed (D3)', label USING ERRCODE = 'EMD03';
	END IF;

	IF OLD.status = 'draft' AND NEW.status = 'reviewed' THEN
		PERFORM earmark.require_role(who, 'earmark_reviewer', 'review vouchers');
		IF pg_catalog.pg_has_role(who, 'earmark_cashier', 'MEMBER') THEN
			RAISE EXCEPTION 'a cashier may not review vouchers (D6)' USING ERRCODE = 'EMD06',
				DETAIL = pg_catalog.format('role ''%s'' is a member of earmark_cashier', who);
		END IF;
		IF who = OLD.prepared_by THEN
			RAISE EXCEPTION 'you prepared voucher %; someone else must review it (D6)', label
				USING ERRCODE = 'EMD06', DETAIL = pg_catalog.format('preparer and reviewer are both ''%s''', who);
		END IF;
		PERFORM earmark.raise_problems(ARRAY[earmark.date_problem(OLD.book_id, OLD.voucher_date)]);
		PERFORM earmark.raise_problems(earmark.balance_problems(OLD.book_id, OLD.voucher_id));
		NEW.reviewed_by := who;
		NEW.reviewed_at := pg_catalog.now();
		RETURN NEW;
	END IF;

	IF OLD.status = 'reviewed' AND NEW.status = 'posted' THEN
		IF (NEW.reviewed_by, NEW.reviewed_at) IS DISTINCT FROM (OLD.reviewed_by, OLD.reviewed_at) THEN
			RAISE EXCEPTION 'voucher % cannot change its reviewer (D3)', label USING ERRCODE = 'EMD03';
		END IF;
		PERFORM earmark.require_role(who, 'earmark_bookkeeper', 'post vouchers');
		IF who = OLD.prepared_by OR who = OLD.reviewed_by THEN
			RAISE EXCEPTION 'you % voucher %; someone else must post it (D6)',
				CASE WHEN who = OLD.prepared_by THEN 'prepared' ELSE 'reviewed' END, label
				USING ERRCODE = 'EMD06',
				      DETAIL = pg_catalog.format('preparer ''%s'', reviewer ''%s'', poster ''%s''',
				                                 OLD.prepared_by, OLD.reviewed_by, who);
		END IF;
		PERFORM earmark.raise_problems(earmark.balance_problems(OLD.book_id, OLD.voucher_id));
		IF OLD.reverses_id IS NOT NULL THEN
			PERFORM earmark.raise_problems(earmark.reversal_problems(OLD.book_id, OLD.voucher_id, OLD.reverses_id));
		END IF;
		NEW := earmark.post_into(NEW, who);
		RETURN NEW;
	END IF;

	IF OLD.status = 'reviewed' AND NEW.status = 'draft' THEN
		-- Sent back: a reviewer or the bookkeeper who cannot post it returns
		-- it to its preparer, who corrects or discards it.
		IF NOT (pg_catalog.pg_has_role(who, 'earmark_reviewer', 'USAGE')
		        OR pg_catalog.pg_has_role(who, 'earmark_bookkeeper', 'USAGE')) THEN
			PERFORM earmark.require_role(who, 'earmark_reviewer', 'send vouchers back');
		END IF;
		NEW.reviewed_by := NULL;
		NEW.reviewed_at := NULL;
		RETURN NEW;
	END IF;

	RAISE EXCEPTION 'voucher % cannot go from % to %', label, OLD.status, NEW.status
		USING ERRCODE = 'EMS01', HINT = 'vouchers go draft -> reviewed -> posted';
END
$$;

CREATE TRIGGER voucher_guard BEFORE UPDATE ON earmark.voucher
	FOR EACH ROW EXECUTE FUNCTION earmark.voucher_guard();

CREATE FUNCTION earmark.voucher_insert_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NEW.status <> 'draft' OR NEW.posted_by IS NOT NULL OR NEW.chain_hash IS NOT NULL
	   OR NEW.number IS NOT NULL THEN
		RAISE EXCEPTION 'a voucher is born a draft (D3)' USING ERRCODE = 'EMD03',
			HINT = 'review and post it with earmark voucher review / post';
	END IF;
	NEW.prepared_by := earmark.actor();
	NEW.prepared_at := pg_catalog.now();
	RETURN NEW;
END
$$;

CREATE TRIGGER voucher_insert_guard BEFORE INSERT ON earmark.voucher
	FOR EACH ROW EXECUTE FUNCTION earmark.voucher_insert_guard();
