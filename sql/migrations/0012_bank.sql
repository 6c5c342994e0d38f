-- 0012 bank statements, matching, returned payments, 余额调节表, period close.
--
-- DESIGN flows 4 and 5.  A statement of a dedicated account (camt.053 or a
-- bank's CSV, parsed by posting/camt053.c and posting/statement.c) is
-- imported whole or not at all: its account and currency (CNY only, DESIGN
-- section 3) must be the account's, its balances must roll (opening +
-- entries = closing, and opening = the previous statement's closing), and
-- the same statement imported again changes nothing.  Each statement line
-- is uncleared, cleared (matched to a posted or drafted book line on that
-- account) or reconciled (cleared and its month closed).
--
-- Matching: by EndToEndId first (the household payments of 0006, written
-- into pain.001 by posting/pain001.c), then by amount, a date window and
-- the reference; manual match and unmatch record who and when, an unmatch
-- keeps the old row.  A returned payment (RtrInf) is never netted: it
-- marks the household payment returned and drafts a receipt voucher (收:
-- Dr 1002 the fund's dedicated account / Cr 2303 the household), which a
-- reviewer and a bookkeeper post under the normal rules; the payable to
-- the household stands again, and earmark.payment_reissue pays it anew
-- from that payable (付: Dr 2303 / Cr 1002) as a one-payment batch.
--
-- Period close (replacing 0003's) refuses while vouchers dated in or
-- before the month are unposted or statement lines booked by its end are
-- uncleared, listing them; closing December carries the year's closing
-- balances forward (year_end_balance).
--
-- Errors: EMB01 statement (account, currency, balances, duplicates),
-- EMB02 matching, EMB03 returned payments, EMC01 period close; plus the
-- earlier EMI01 input, EMR01 unknown reference, EMS01 state.

CREATE TABLE earmark.bank_statement (
	book_id         integer NOT NULL REFERENCES earmark.book,
	statement_id    integer GENERATED ALWAYS AS IDENTITY,
	bank_account_id integer NOT NULL,
	stmt_ref        text NOT NULL CHECK (stmt_ref <> '' AND pg_catalog.length(stmt_ref) <= 140),
	format          text NOT NULL CHECK (format IN ('camt053', 'csv')),
	source          text NOT NULL DEFAULT '',   -- file name, for people
	currency        text NOT NULL CHECK (currency = 'CNY'),
	from_date       date NOT NULL,
	to_date         date NOT NULL,
	opening_fen     bigint NOT NULL,
	closing_fen     bigint NOT NULL,
	digest          bytea NOT NULL,             -- sha256 of what was imported: same ref, same content
	imported_by     name NOT NULL,
	imported_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (book_id, statement_id),
	UNIQUE (book_id, bank_account_id, stmt_ref),
	FOREIGN KEY (book_id, bank_account_id) REFERENCES earmark.dedicated_account,
	CHECK (from_date <= to_date)
);

-- One entry of a statement.  amount_fen is signed from the account's side:
-- positive money in (CRDT), negative money out (DBIT).
CREATE TABLE earmark.statement_line (
	book_id       integer NOT NULL,
	statement_id  integer NOT NULL,
	line_no       integer NOT NULL CHECK (line_no > 0),
	booking_date  date NOT NULL,
	value_date    date,
	amount_fen    bigint NOT NULL CHECK (amount_fen <> 0),
	end_to_end_id text,
	reference     text NOT NULL DEFAULT '',
	counterparty  text NOT NULL DEFAULT '',
	description   text NOT NULL DEFAULT '',
	bank_ref      text NOT NULL DEFAULT '',    -- AcctSvcrRef / the bank's serial number
	returned      boolean NOT NULL DEFAULT false, -- RtrInf: a payment that came back
	return_reason text,
	status        text NOT NULL DEFAULT 'uncleared' CHECK (status IN ('uncleared', 'cleared', 'reconciled')),
	PRIMARY KEY (book_id, statement_id, line_no),
	FOREIGN KEY (book_id, statement_id) REFERENCES earmark.bank_statement
);
CREATE INDEX statement_line_e2e ON earmark.statement_line (book_id, end_to_end_id)
	WHERE end_to_end_id IS NOT NULL;

-- A statement line matched to a book line on the same dedicated account,
-- amount_fen of it (signed like the statement line).  Rows are never
-- deleted: an unmatch stamps unmatched_by/at.  Several statement lines may
-- clear one book line (a batch paid per household), and one statement line
-- several book lines of one voucher (interest shared by the funds, A4).
CREATE TABLE earmark.bank_match (
	book_id         integer NOT NULL,
	match_id        bigint GENERATED ALWAYS AS IDENTITY,
	statement_id    integer NOT NULL,
	line_no         integer NOT NULL,
	voucher_id      bigint NOT NULL,
	voucher_line_no smallint NOT NULL,
	amount_fen      bigint NOT NULL CHECK (amount_fen <> 0),
	payment_id      bigint,                   -- the household payment, when by EndToEndId
	method          text NOT NULL CHECK (method IN ('end_to_end', 'amount', 'manual', 'return')),
	matched_by      name NOT NULL,
	matched_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
	unmatched_by    name,
	unmatched_at    timestamptz,
	PRIMARY KEY (book_id, match_id),
	FOREIGN KEY (book_id, statement_id, line_no) REFERENCES earmark.statement_line,
	-- the voucher, not the line: earmark.line stays unreferenced, so TRUNCATE
	-- meets its D3 trigger first; the functions check the line exists
	FOREIGN KEY (book_id, voucher_id) REFERENCES earmark.voucher,
	FOREIGN KEY (book_id, payment_id) REFERENCES earmark.household_payment,
	CHECK ((unmatched_by IS NULL) = (unmatched_at IS NULL))
);
CREATE UNIQUE INDEX bank_match_active ON earmark.bank_match (book_id, statement_id, line_no, voucher_id, voucher_line_no)
	WHERE unmatched_at IS NULL;
CREATE INDEX bank_match_voucher ON earmark.bank_match (book_id, voucher_id, voucher_line_no)
	WHERE unmatched_at IS NULL;
-- Bank-account lines are what reconciliation reads.
CREATE INDEX line_book_bank ON earmark.line (book_id, bank_account_id) WHERE bank_account_id IS NOT NULL;

-- A household payment that came back, the receipt voucher that put the
-- money back on the books, and the payment that re-issued it.
CREATE TABLE earmark.payment_return (
	book_id            integer NOT NULL,
	payment_id         bigint NOT NULL,
	statement_id       integer NOT NULL,
	line_no            integer NOT NULL,
	reason             text NOT NULL DEFAULT '',
	voucher_id         bigint NOT NULL,       -- 收: Dr 1002 / Cr 2303
	reissue_payment_id bigint,
	recorded_by        name NOT NULL,
	recorded_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (book_id, payment_id),
	UNIQUE (book_id, statement_id, line_no),
	UNIQUE (book_id, reissue_payment_id),
	FOREIGN KEY (book_id, payment_id) REFERENCES earmark.household_payment,
	FOREIGN KEY (book_id, statement_id, line_no) REFERENCES earmark.statement_line,
	FOREIGN KEY (book_id, voucher_id) REFERENCES earmark.voucher,
	FOREIGN KEY (book_id, reissue_payment_id) REFERENCES earmark.household_payment
);

-- 年末结转 of balances: every account's balance per fund at the end of a
-- closed year (debit positive), written when December closes; the next
-- year opens from it.
CREATE TABLE earmark.year_end_balance (
	book_id     integer NOT NULL,
	year        smallint NOT NULL,
	account_id  integer NOT NULL,
	fund_id     integer NOT NULL,
	balance_fen bigint NOT NULL,
	closed_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
	closed_by   name NOT NULL,
	PRIMARY KEY (book_id, year, account_id, fund_id),
	FOREIGN KEY (book_id, account_id) REFERENCES earmark.account,
	FOREIGN KEY (book_id, fund_id) REFERENCES earmark.fund
);

------------------------------------------------------------------------
-- Import.
------------------------------------------------------------------------

-- The dedicated account by number, or EMR01.
CREATE FUNCTION earmark.bank_account_of(b integer, p_account_no text) RETURNS earmark.dedicated_account
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	da earmark.dedicated_account;
BEGIN
	SELECT * INTO da FROM earmark.dedicated_account WHERE book_id = b AND account_no = p_account_no;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown dedicated account ''%''', p_account_no USING ERRCODE = 'EMR01',
			HINT = 'the bank accounts are master data: earmark master import bank_accounts FILE.csv';
	END IF;
	RETURN da;
END
$$;

-- p_stmt: {ref, format, source, account, currency, from, to, opening_fen,
-- closing_fen, lines: [{booking_date, value_date, amount_fen, end_to_end_id,
-- reference, counterparty, description, bank_ref, returned, return_reason}]}
-- as posting/statement.c builds it.  Returns the statement's id, its line
-- count and whether it was there already.
CREATE FUNCTION earmark.statement_import(p_book text, p_account_no text, p_stmt jsonb)
RETURNS TABLE (statement_id integer, line_count integer, already boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	da earmark.dedicated_account;
	old earmark.bank_statement;
	prev earmark.bank_statement;
	dig bytea;
	ref text := p_stmt->>'ref';
	cur text := p_stmt->>'currency';
	opening bigint := (p_stmt->>'opening_fen')::bigint;
	closing bigint := (p_stmt->>'closing_fen')::bigint;
	total numeric;
	n integer;
	sid integer;
	closed text;
	bad text;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_cashier', 'import bank statements');
	da := earmark.bank_account_of(b, p_account_no);
	IF COALESCE(ref, '') = '' OR opening IS NULL OR closing IS NULL
	   OR pg_catalog.jsonb_typeof(p_stmt->'lines') IS DISTINCT FROM 'array' THEN
		RAISE EXCEPTION 'statement without an id, balances or lines' USING ERRCODE = 'EMI01';
	END IF;
	IF p_stmt->>'account' IS DISTINCT FROM da.account_no THEN
		RAISE EXCEPTION 'statement % is for account ''%'', not ''%'' (EMB01 account)', ref,
			COALESCE(p_stmt->>'account', '(none)'), da.account_no USING ERRCODE = 'EMB01',
			HINT = 'import it into the dedicated account it belongs to: --account NO';
	END IF;
	IF cur IS DISTINCT FROM 'CNY' THEN
		RAISE EXCEPTION 'statement % is in %, but dedicated account ''%'' keeps CNY (EMB01 currency)', ref,
			COALESCE(cur, '(none)'), da.account_no USING ERRCODE = 'EMB01',
			DETAIL = 'earmark keeps money in CNY fen only (DESIGN section 3)',
			HINT = 'ask the bank for the statement of the CNY dedicated account';
	END IF;
	dig := pg_catalog.sha256(pg_catalog.convert_to((p_stmt - 'source')::text, 'UTF8'));
	SELECT * INTO old FROM earmark.bank_statement s
	 WHERE s.book_id = b AND s.bank_account_id = da.bank_account_id AND s.stmt_ref = ref;
	IF FOUND THEN
		IF old.digest <> dig THEN
			RAISE EXCEPTION 'statement % of account ''%'' was imported on % with other content (EMB01 duplicate)',
				ref, da.account_no, old.imported_at::date USING ERRCODE = 'EMB01',
				HINT = 'a bank statement does not change; ask the bank which one is right';
		END IF;
		RETURN QUERY SELECT old.statement_id,
			(SELECT pg_catalog.count(*)::integer FROM earmark.statement_line l
			  WHERE l.book_id = b AND l.statement_id = old.statement_id), true;
		RETURN;
	END IF;
	SELECT pg_catalog.sum((x->>'amount_fen')::numeric), pg_catalog.count(*) INTO total, n
	  FROM pg_catalog.jsonb_array_elements(p_stmt->'lines') x;
	IF opening + COALESCE(total, 0) <> closing THEN
		RAISE EXCEPTION 'statement % does not roll: opening % + entries % <> closing % (EMB01 balances)', ref,
			earmark.fmt_fen(opening), earmark.fmt_fen(COALESCE(total, 0)), earmark.fmt_fen(closing)
			USING ERRCODE = 'EMB01', DETAIL = pg_catalog.format('%s entries', n),
			HINT = 'the file is incomplete or altered; ask the bank for it again';
	END IF;
	-- Another statement covering part of the same days would count entries twice.
	SELECT * INTO prev FROM earmark.bank_statement s
	 WHERE s.book_id = b AND s.bank_account_id = da.bank_account_id
	   AND (p_stmt->>'from')::date < s.to_date AND (p_stmt->>'to')::date > s.from_date
	 ORDER BY s.from_date LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'statement % (% to %) overlaps statement % (% to %) of account ''%'' (EMB01 duplicate)', ref,
			p_stmt->>'from', p_stmt->>'to', prev.stmt_ref, prev.from_date, prev.to_date, da.account_no
			USING ERRCODE = 'EMB01',
			HINT = 'import each day of an account once: the same export again changes nothing, another export of the same days is refused';
	END IF;
	-- The previous statement of the account must end where this one begins.
	SELECT * INTO prev FROM earmark.bank_statement s
	 WHERE s.book_id = b AND s.bank_account_id = da.bank_account_id AND s.to_date <= (p_stmt->>'from')::date
	 ORDER BY s.to_date DESC, s.statement_id DESC LIMIT 1;
	IF FOUND AND prev.closing_fen <> opening THEN
		RAISE EXCEPTION 'statement % opens with %, but statement % closed with % (EMB01 balances)', ref,
			earmark.fmt_fen(opening), prev.stmt_ref, earmark.fmt_fen(prev.closing_fen) USING ERRCODE = 'EMB01',
			DETAIL = pg_catalog.format('account %s, previous statement to %s', da.account_no, prev.to_date),
			HINT = 'a statement is missing in between; import the statements in order';
	END IF;
	SELECT pg_catalog.string_agg(DISTINCT pg_catalog.to_char(p.month, 'YYYY-MM'), ', ') INTO closed
	  FROM pg_catalog.jsonb_array_elements(p_stmt->'lines') x
	  JOIN earmark.period p ON p.book_id = b AND p.closed_at IS NOT NULL
	   AND p.month = pg_catalog.date_trunc('month', (x->>'booking_date')::date)::date;
	IF closed IS NOT NULL THEN
		RAISE EXCEPTION 'statement % has entries in closed period % (D7)', ref, closed USING ERRCODE = 'EMD07',
			HINT = 'a closed month was reconciled; its statements are in already';
	END IF;
	SELECT pg_catalog.string_agg(pg_catalog.format('entry %s booked %s', o, x->>'booking_date'), ', ' ORDER BY o) INTO bad
	  FROM pg_catalog.jsonb_array_elements(p_stmt->'lines') WITH ORDINALITY AS t(x, o)
	 WHERE (x->>'booking_date')::date > CURRENT_DATE OR (x->>'booking_date')::date < (SELECT start_date FROM earmark.book WHERE book_id = b);
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'statement % has entries outside the book''s dates (D7)', ref USING ERRCODE = 'EMD07',
			DETAIL = bad, HINT = 'entries are booked between the book''s start and today';
	END IF;
	INSERT INTO earmark.bank_statement (book_id, bank_account_id, stmt_ref, format, source, currency, from_date,
	                                    to_date, opening_fen, closing_fen, digest, imported_by)
	VALUES (b, da.bank_account_id, ref, COALESCE(p_stmt->>'format', 'camt053'), COALESCE(p_stmt->>'source', ''),
	        cur, (p_stmt->>'from')::date, (p_stmt->>'to')::date, opening, closing, dig, who)
	RETURNING bank_statement.statement_id INTO sid;
	INSERT INTO earmark.statement_line (book_id, statement_id, line_no, booking_date, value_date, amount_fen,
	                                    end_to_end_id, reference, counterparty, description, bank_ref, returned,
	                                    return_reason)
	SELECT b, sid, o::integer, (x->>'booking_date')::date, (x->>'value_date')::date, (x->>'amount_fen')::bigint,
	       NULLIF(x->>'end_to_end_id', ''), COALESCE(x->>'reference', ''), COALESCE(x->>'counterparty', ''),
	       COALESCE(x->>'description', ''), COALESCE(x->>'bank_ref', ''), COALESCE((x->>'returned')::boolean, false),
	       NULLIF(x->>'return_reason', '')
	  FROM pg_catalog.jsonb_array_elements(p_stmt->'lines') WITH ORDINALITY AS t(x, o);
	RETURN QUERY SELECT sid, n, false;
END
$$;

------------------------------------------------------------------------
-- Matching.
------------------------------------------------------------------------

-- What is left of a book line on a bank account after the statement lines
-- matched to it: signed like statement amounts (Dr 1002 is money in).
CREATE FUNCTION earmark.bank_line_open(b integer, v bigint, ln integer) RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT (CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)
	       - COALESCE((SELECT pg_catalog.sum(m.amount_fen)::bigint
	                     FROM earmark.bank_match m
	                    WHERE m.book_id = b AND m.voucher_id = v AND m.voucher_line_no = ln
	                      AND m.unmatched_at IS NULL), 0)
	  FROM earmark.line l WHERE l.book_id = b AND l.voucher_id = v AND l.line_no = ln
$$;

-- A returned payment: the household payment becomes returned and a receipt
-- voucher (收, draft) puts the money back on the fund's dedicated account
-- against the payable to the household; the statement line is matched to
-- its bank line.  Returns the voucher id.
CREATE FUNCTION earmark.payment_return_record(b integer, who name, sl earmark.statement_line,
                                              hp earmark.household_payment, da earmark.dedicated_account)
RETURNS bigint
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v bigint;
	hh text;
BEGIN
	SELECT code INTO hh FROM earmark.household WHERE book_id = b AND household_id = hp.household_id;
	UPDATE earmark.household_payment SET status = 'returned' WHERE book_id = b AND payment_id = hp.payment_id;
	INSERT INTO earmark.voucher (book_id, vtype, voucher_date, memo, prepared_by, prepared_at)
	VALUES (b, '收', sl.booking_date,
	        pg_catalog.left(pg_catalog.format('退回到户补助 %s %s %s', hp.end_to_end_id, hh, COALESCE(sl.return_reason, '')), 200),
	        who, pg_catalog.now())
	RETURNING voucher_id INTO v;
	INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, bank_account_id, memo)
	SELECT b, v, 1, a.account_id, 'D', hp.amount_fen, hp.fund_id, da.bank_account_id, '退回 ' || hp.end_to_end_id
	  FROM earmark.account a WHERE a.book_id = b AND a.code = '1002';
	INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, project_id,
	                          household_id, memo)
	SELECT b, v, 2, a.account_id, 'C', hp.amount_fen, hp.fund_id, hp.project_id, hp.household_id,
	       '应付到户补助 ' || hh || ' 重新支付'
	  FROM earmark.account a WHERE a.book_id = b AND a.code = '2303';
	PERFORM earmark.raise_problems(earmark.balance_problems(b, v));
	INSERT INTO earmark.payment_return (book_id, payment_id, statement_id, line_no, reason, voucher_id, recorded_by)
	VALUES (b, hp.payment_id, sl.statement_id, sl.line_no, COALESCE(sl.return_reason, ''), v, who);
	INSERT INTO earmark.bank_match (book_id, statement_id, line_no, voucher_id, voucher_line_no, amount_fen, payment_id, method, matched_by)
	VALUES (b, sl.statement_id, sl.line_no, v, 1, sl.amount_fen, hp.payment_id, 'return', who);
	UPDATE earmark.statement_line SET status = 'cleared'
	 WHERE book_id = b AND statement_id = sl.statement_id AND line_no = sl.line_no;
	RETURN v;
END
$$;

-- Automatic matching of a dedicated account's uncleared statement lines:
-- by EndToEndId against household payments, then by amount within
-- p_window days and, among several candidates, the reference.  Lines it
-- cannot place stay uncleared for a person to match.
CREATE FUNCTION earmark.statement_match_auto(p_book text, p_account_no text, p_window integer DEFAULT 5)
RETURNS TABLE (by_end_to_end integer, by_amount integer, returned integer, uncleared integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	da earmark.dedicated_account;
	sl earmark.statement_line;
	hp earmark.household_payment;
	bl record;
	n_e2e integer := 0;
	n_amt integer := 0;
	n_ret integer := 0;
	cands integer;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_cashier', 'match bank statements');
	da := earmark.bank_account_of(b, p_account_no);
	IF p_window IS NULL OR p_window < 0 OR p_window > 60 THEN
		RAISE EXCEPTION 'date window of % days is out of range', p_window USING ERRCODE = 'EMI01',
			HINT = 'use 0 to 60 days';
	END IF;
	FOR sl IN
		SELECT l.* FROM earmark.statement_line l
		  JOIN earmark.bank_statement s USING (book_id, statement_id)
		 WHERE l.book_id = b AND s.bank_account_id = da.bank_account_id AND l.status = 'uncleared'
		 ORDER BY l.booking_date, l.statement_id, l.line_no
		 FOR UPDATE OF l
	LOOP
		-- 1. EndToEndId of a household payment of this account's funds.
		IF sl.end_to_end_id IS NOT NULL THEN
			SELECT p.* INTO hp FROM earmark.household_payment p
			  JOIN earmark.fund f ON f.book_id = p.book_id AND f.fund_id = p.fund_id
			 WHERE p.book_id = b AND p.end_to_end_id = sl.end_to_end_id AND f.bank_account_id = da.bank_account_id
			 FOR UPDATE OF p;
			IF FOUND THEN
				IF (sl.returned OR sl.amount_fen > 0) AND sl.amount_fen = hp.amount_fen
				   AND hp.status IN ('sent', 'paid')
				   AND NOT EXISTS (SELECT 1 FROM earmark.payment_return r WHERE r.book_id = b AND r.payment_id = hp.payment_id) THEN
					PERFORM earmark.payment_return_record(b, who, sl, hp, da);
					n_ret := n_ret + 1;
					CONTINUE;
				ELSIF NOT sl.returned AND sl.amount_fen = -hp.amount_fen AND hp.status IN ('sent', 'paid', 'returned') THEN
					SELECT l.voucher_id, l.line_no INTO bl
					  FROM earmark.pay_batch pb
					  JOIN earmark.line l ON l.book_id = pb.book_id AND l.voucher_id = pb.payment_voucher_id
					 WHERE pb.book_id = b AND pb.batch_id = hp.batch_id AND l.fund_id = hp.fund_id
					   AND l.bank_account_id = da.bank_account_id AND l.side = 'C'
					 LIMIT 1;
					IF FOUND AND NOT EXISTS (SELECT 1 FROM earmark.bank_match m WHERE m.book_id = b
					                           AND m.payment_id = hp.payment_id AND m.method = 'end_to_end'
					                           AND m.unmatched_at IS NULL) THEN
						IF hp.status = 'sent' THEN
							UPDATE earmark.household_payment SET status = 'paid'
							 WHERE book_id = b AND payment_id = hp.payment_id;
						END IF;
						INSERT INTO earmark.bank_match (book_id, statement_id, line_no, voucher_id, voucher_line_no,
						                                amount_fen, payment_id, method, matched_by)
						VALUES (b, sl.statement_id, sl.line_no, bl.voucher_id, bl.line_no, sl.amount_fen, hp.payment_id,
						        'end_to_end', who);
						UPDATE earmark.statement_line SET status = 'cleared'
						 WHERE book_id = b AND statement_id = sl.statement_id AND line_no = sl.line_no;
						n_e2e := n_e2e + 1;
						CONTINUE;
					END IF;
				END IF;
			END IF;
		END IF;
		IF sl.returned THEN
			CONTINUE;   -- a return that names no payment of ours is for a person to look at
		END IF;
		-- 2. Amount and date window: a posted bank line on this account with
		-- exactly this amount open and nothing matched to it yet.
		SELECT pg_catalog.count(*) INTO cands
		  FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
		 WHERE l.book_id = b AND l.bank_account_id = da.bank_account_id AND v.status = 'posted'
		   AND v.voucher_date BETWEEN sl.booking_date - p_window AND sl.booking_date + p_window
		   AND (CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END) = sl.amount_fen
		   AND NOT EXISTS (SELECT 1 FROM earmark.bank_match m WHERE m.book_id = b AND m.voucher_id = l.voucher_id
		                     AND m.voucher_line_no = l.line_no AND m.unmatched_at IS NULL);
		IF cands = 0 THEN
			-- 2b. One voucher whose open lines on the account add up to it
			-- (interest shared by the funds of the account, A4).
			SELECT x.voucher_id, pg_catalog.count(*) OVER () AS n INTO bl
			  FROM (SELECT l.voucher_id, pg_catalog.min(v.voucher_date) AS d
			          FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
			         WHERE l.book_id = b AND l.bank_account_id = da.bank_account_id AND v.status = 'posted'
			           AND v.voucher_date BETWEEN sl.booking_date - p_window AND sl.booking_date + p_window
			           AND earmark.bank_line_open(b, l.voucher_id, l.line_no) <> 0
			         GROUP BY l.voucher_id
			        HAVING pg_catalog.count(*) > 1
			           AND pg_catalog.sum(earmark.bank_line_open(b, l.voucher_id, l.line_no)) = sl.amount_fen
			           AND pg_catalog.bool_and(pg_catalog.sign(earmark.bank_line_open(b, l.voucher_id, l.line_no))
			                                   = pg_catalog.sign(sl.amount_fen))) x
			 ORDER BY x.d, x.voucher_id LIMIT 1;
			IF FOUND AND bl.n = 1 THEN
				INSERT INTO earmark.bank_match (book_id, statement_id, line_no, voucher_id, voucher_line_no, amount_fen,
				                                method, matched_by)
				SELECT b, sl.statement_id, sl.line_no, l.voucher_id, l.line_no,
				       earmark.bank_line_open(b, l.voucher_id, l.line_no), 'amount', who
				  FROM earmark.line l
				 WHERE l.book_id = b AND l.voucher_id = bl.voucher_id AND l.bank_account_id = da.bank_account_id
				   AND earmark.bank_line_open(b, l.voucher_id, l.line_no) <> 0;
				UPDATE earmark.statement_line SET status = 'cleared'
				 WHERE book_id = b AND statement_id = sl.statement_id AND line_no = sl.line_no;
				n_amt := n_amt + 1;
			END IF;
			CONTINUE;
		END IF;
		-- 3. Among several, the one whose number or memo the reference names.
		SELECT l.voucher_id, l.line_no, pg_catalog.count(*) OVER () AS n INTO bl
		  FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
		 WHERE l.book_id = b AND l.bank_account_id = da.bank_account_id AND v.status = 'posted'
		   AND v.voucher_date BETWEEN sl.booking_date - p_window AND sl.booking_date + p_window
		   AND (CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END) = sl.amount_fen
		   AND NOT EXISTS (SELECT 1 FROM earmark.bank_match m WHERE m.book_id = b AND m.voucher_id = l.voucher_id
		                     AND m.voucher_line_no = l.line_no AND m.unmatched_at IS NULL)
		   AND (cands = 1 OR (sl.reference <> '' AND (pg_catalog.strpos(v.memo || ' ' || l.memo, sl.reference) > 0
		                                                OR pg_catalog.strpos(sl.reference, v.number_text) > 0)))
		 ORDER BY pg_catalog.abs(v.voucher_date - sl.booking_date), v.voucher_id, l.line_no
		 LIMIT 1;
		IF NOT FOUND OR bl.n <> 1 THEN
			CONTINUE;
		END IF;
		INSERT INTO earmark.bank_match (book_id, statement_id, line_no, voucher_id, voucher_line_no, amount_fen, method, matched_by)
		VALUES (b, sl.statement_id, sl.line_no, bl.voucher_id, bl.line_no, sl.amount_fen, 'amount', who);
		UPDATE earmark.statement_line SET status = 'cleared'
		 WHERE book_id = b AND statement_id = sl.statement_id AND line_no = sl.line_no;
		n_amt := n_amt + 1;
	END LOOP;
	RETURN QUERY SELECT n_e2e, n_amt, n_ret,
		(SELECT pg_catalog.count(*)::integer FROM earmark.statement_line l
		   JOIN earmark.bank_statement s USING (book_id, statement_id)
		  WHERE l.book_id = b AND s.bank_account_id = da.bank_account_id AND l.status = 'uncleared');
END
$$;

-- The statement line 'S:L' (statement id and line) of a book, locked.
CREATE FUNCTION earmark.statement_line_find(b integer, p_ref text) RETURNS earmark.statement_line
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	sl earmark.statement_line;
BEGIN
	IF p_ref !~ '^[0-9]{1,9}:[0-9]{1,9}$' THEN
		RAISE EXCEPTION 'statement line ''%'' is not STATEMENT:LINE', p_ref USING ERRCODE = 'EMI01',
			HINT = 'earmark statement list --account NO shows them, e.g. 3:12';
	END IF;
	SELECT * INTO sl FROM earmark.statement_line
	 WHERE book_id = b AND statement_id = pg_catalog.split_part(p_ref, ':', 1)::integer
	   AND line_no = pg_catalog.split_part(p_ref, ':', 2)::integer
	 FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown statement line ''%''', p_ref USING ERRCODE = 'EMR01',
			HINT = 'earmark statement list --account NO shows them';
	END IF;
	RETURN sl;
END
$$;

-- A person's match of statement line p_line ('S:L') to line p_vline of
-- voucher p_voucher ('#12' or '付-2026-11-0003'), or with p_vline NULL to
-- all of that voucher's open lines on the account (interest shared by
-- funds).  The book lines must be on the statement's account, posted, in
-- the same direction, with at least (one line) or exactly (all lines) the
-- statement line's amount still open.
CREATE FUNCTION earmark.statement_match(p_book text, p_line text, p_voucher text, p_vline integer)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	sl earmark.statement_line;
	v earmark.voucher;
	acct integer;
	open_fen bigint;
	n integer;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_cashier', 'match bank statements');
	sl := earmark.statement_line_find(b, p_line);
	SELECT bank_account_id INTO acct FROM earmark.bank_statement WHERE book_id = b AND statement_id = sl.statement_id;
	v := earmark.voucher_find(b, p_voucher);
	IF sl.status <> 'uncleared' THEN
		RAISE EXCEPTION 'statement line % is % already (EMB02)', p_line, sl.status USING ERRCODE = 'EMB02',
			HINT = 'unmatch it first: earmark statement unmatch ' || p_line;
	END IF;
	IF p_vline IS NOT NULL AND NOT EXISTS (SELECT 1 FROM earmark.line WHERE book_id = b AND voucher_id = v.voucher_id AND line_no = p_vline) THEN
		RAISE EXCEPTION 'voucher % has no line %', p_voucher, p_vline USING ERRCODE = 'EMR01';
	END IF;
	CREATE TEMP TABLE em_bm ON COMMIT DROP AS
	SELECT l.line_no, earmark.bank_line_open(b, l.voucher_id, l.line_no) AS open_fen
	  FROM earmark.line l
	 WHERE l.book_id = b AND l.voucher_id = v.voucher_id AND l.bank_account_id = acct
	   AND (l.line_no = p_vline OR p_vline IS NULL);
	IF p_vline IS NULL THEN
		DELETE FROM em_bm WHERE em_bm.open_fen = 0;
	END IF;
	SELECT pg_catalog.count(*), COALESCE(pg_catalog.sum(em_bm.open_fen), 0)::bigint INTO n, open_fen FROM em_bm;
	IF n = 0 THEN
		DROP TABLE em_bm;
		RAISE EXCEPTION '% of voucher % is not on the statement''s dedicated account (EMB02)',
			CASE WHEN p_vline IS NULL THEN 'no open line' ELSE 'line ' || p_vline END, p_voucher
			USING ERRCODE = 'EMB02', HINT = 'match a line of 1002 on the same bank account';
	END IF;
	IF v.status <> 'posted' THEN
		DROP TABLE em_bm;
		RAISE EXCEPTION 'voucher % is % and not yet in the bank journal (EMB02)', p_voucher, v.status
			USING ERRCODE = 'EMB02', HINT = 'a reviewer and a bookkeeper review and post it first';
	END IF;
	IF (p_vline IS NOT NULL AND (pg_catalog.sign(open_fen) <> pg_catalog.sign(sl.amount_fen)
	                             OR pg_catalog.abs(sl.amount_fen) > pg_catalog.abs(open_fen)))
	   OR (p_vline IS NULL AND (open_fen <> sl.amount_fen
	                            OR EXISTS (SELECT 1 FROM em_bm WHERE pg_catalog.sign(em_bm.open_fen) <> pg_catalog.sign(sl.amount_fen)))) THEN
		DROP TABLE em_bm;
		RAISE EXCEPTION 'statement line % of % does not fit % of voucher % (EMB02)', p_line,
			earmark.fmt_fen(sl.amount_fen), CASE WHEN p_vline IS NULL THEN 'the open lines' ELSE 'line ' || p_vline END,
			p_voucher USING ERRCODE = 'EMB02',
			DETAIL = pg_catalog.format('the book has %s still open there (money in positive, out negative)', earmark.fmt_fen(open_fen)),
			HINT = 'match a book line of the same direction and at least the same amount, or book the difference (fees, interest) first';
	END IF;
	INSERT INTO earmark.bank_match (book_id, statement_id, line_no, voucher_id, voucher_line_no, amount_fen, method, matched_by)
	SELECT b, sl.statement_id, sl.line_no, v.voucher_id, em_bm.line_no,
	       CASE WHEN p_vline IS NULL THEN em_bm.open_fen ELSE sl.amount_fen END, 'manual', who
	  FROM em_bm;
	DROP TABLE em_bm;
	UPDATE earmark.statement_line SET status = 'cleared'
	 WHERE book_id = b AND statement_id = sl.statement_id AND line_no = sl.line_no;
END
$$;

-- Undoes a match, keeping the row with who and when.  A reconciled line
-- (its month closed) and a returned payment (its voucher exists) stay.
CREATE FUNCTION earmark.statement_unmatch(p_book text, p_line text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	sl earmark.statement_line;
	m earmark.bank_match;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_cashier', 'match bank statements');
	sl := earmark.statement_line_find(b, p_line);
	IF sl.status = 'reconciled' THEN
		RAISE EXCEPTION 'statement line % is reconciled in a closed period (D7)', p_line USING ERRCODE = 'EMD07',
			HINT = 'a closed month stays as it was reconciled';
	END IF;
	SELECT * INTO m FROM earmark.bank_match
	 WHERE book_id = b AND statement_id = sl.statement_id AND line_no = sl.line_no AND unmatched_at IS NULL
	 ORDER BY match_id LIMIT 1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'statement line % is not matched', p_line USING ERRCODE = 'EMB02';
	END IF;
	IF m.method = 'return' THEN
		RAISE EXCEPTION 'statement line % is a returned payment with its own voucher #% (EMB03)', p_line, m.voucher_id
			USING ERRCODE = 'EMB03',
			HINT = 'a wrong return is corrected by reversing its voucher (earmark voucher reverse), not by unmatching';
	END IF;
	UPDATE earmark.bank_match SET unmatched_by = who, unmatched_at = pg_catalog.now()
	 WHERE book_id = b AND statement_id = sl.statement_id AND line_no = sl.line_no AND unmatched_at IS NULL;
	UPDATE earmark.statement_line SET status = 'uncleared'
	 WHERE book_id = b AND statement_id = sl.statement_id AND line_no = sl.line_no;
END
$$;

------------------------------------------------------------------------
-- Returned payments.
------------------------------------------------------------------------

-- Pays a returned household payment again from the payable its return
-- voucher restored: a one-payment batch 'R<payment id>' whose payable is
-- the return voucher and whose payment is a new draft (付: Dr 2303 / Cr
-- 1002), and a new household payment, issued.  The draft is reviewed and
-- posted like any voucher, then exported with earmark pay export.
CREATE FUNCTION earmark.payment_reissue(p_book text, p_e2e text, p_date date)
RETURNS TABLE (batch text, end_to_end_id text, voucher text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	hp earmark.household_payment;
	r earmark.payment_return;
	rv earmark.voucher;
	f earmark.fund;
	code text;
	v bigint;
	batch_id integer;
	np bigint;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_clerk', 'prepare payments');
	PERFORM earmark.raise_problems(ARRAY[earmark.date_problem(b, p_date)]);
	SELECT * INTO hp FROM earmark.household_payment p WHERE p.book_id = b AND p.end_to_end_id = p_e2e FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown payment ''%''', p_e2e USING ERRCODE = 'EMR01';
	END IF;
	SELECT * INTO r FROM earmark.payment_return x WHERE x.book_id = b AND x.payment_id = hp.payment_id FOR UPDATE;
	IF hp.status <> 'returned' OR NOT FOUND THEN
		RAISE EXCEPTION 'payment % is %, not returned by the bank (EMB03)', p_e2e, hp.status USING ERRCODE = 'EMB03',
			HINT = 'only a payment the bank statement shows returned is paid again';
	END IF;
	IF r.reissue_payment_id IS NOT NULL THEN
		RAISE EXCEPTION 'payment % was re-issued already as %', p_e2e,
			(SELECT x.end_to_end_id FROM earmark.household_payment x WHERE x.book_id = b AND x.payment_id = r.reissue_payment_id)
			USING ERRCODE = 'EMB03';
	END IF;
	SELECT * INTO rv FROM earmark.voucher x WHERE x.book_id = b AND x.voucher_id = r.voucher_id;
	IF rv.status <> 'posted' THEN
		RAISE EXCEPTION 'the return of payment % is not posted yet (EMB03)', p_e2e USING ERRCODE = 'EMB03',
			DETAIL = pg_catalog.format('its receipt voucher #%s is %s', rv.voucher_id, rv.status),
			HINT = 'a reviewer and a bookkeeper review and post #' || rv.voucher_id || ' first: the payable stands again only then';
	END IF;
	IF p_date < rv.voucher_date THEN
		RAISE EXCEPTION 'a re-issue dated % is before the return on %', p_date, rv.voucher_date USING ERRCODE = 'EMI01';
	END IF;
	SELECT * INTO f FROM earmark.fund x WHERE x.book_id = b AND x.fund_id = hp.fund_id;
	code := 'R' || hp.payment_id;
	INSERT INTO earmark.voucher (book_id, vtype, voucher_date, memo, prepared_by, prepared_at)
	VALUES (b, '付', p_date, pg_catalog.left('重新支付到户补助 ' || p_e2e || ' ' || code, 200), who, pg_catalog.now())
	RETURNING voucher_id INTO v;
	INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, project_id,
	                          household_id, memo)
	SELECT b, v, 1, a.account_id, 'D', hp.amount_fen, hp.fund_id, hp.project_id, hp.household_id, '重新支付 ' || p_e2e
	  FROM earmark.account a WHERE a.book_id = b AND a.code = '2303';
	INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id, bank_account_id, memo)
	SELECT b, v, 2, a.account_id, 'C', hp.amount_fen, hp.fund_id, f.bank_account_id, '重新支付 ' || p_e2e
	  FROM earmark.account a WHERE a.book_id = b AND a.code = '1002';
	PERFORM earmark.raise_problems(earmark.balance_problems(b, v));
	INSERT INTO earmark.pay_batch (book_id, code, pay_date, source, payable_voucher_id, payment_voucher_id, created_by)
	VALUES (b, code, p_date, 'reissue of ' || p_e2e, r.voucher_id, v, who)
	RETURNING pay_batch.batch_id INTO batch_id;
	INSERT INTO earmark.household_payment (book_id, batch_id, line_no, household_id, project_id, fund_id, category_id,
	                                       list_id, item, amount_fen, end_to_end_id, status_by)
	VALUES (b, batch_id, 1, hp.household_id, hp.project_id, hp.fund_id, hp.category_id, hp.list_id, hp.item,
	        hp.amount_fen, code || '-000001', who)
	RETURNING payment_id INTO np;
	UPDATE earmark.payment_return SET reissue_payment_id = np WHERE book_id = b AND payment_id = hp.payment_id;
	RETURN QUERY SELECT code, code || '-000001', '#' || v;
END
$$;

------------------------------------------------------------------------
-- 余额调节表.
------------------------------------------------------------------------

-- The items in transit of a dedicated account as of a date, both ways:
--   bank_in   银行已收、单位未收   statement credits not yet matched to a posted book line
--   bank_out  银行已付、单位未付   statement debits not yet matched
--   book_in   单位已收、银行未收   book receipts (Dr 1002) not yet on a statement
--   book_out  单位已付、银行未付   book payments (Cr 1002) not yet on a statement
-- Book lines count from the first statement's start: before it, the
-- statement's opening balance stands for them.
CREATE FUNCTION earmark.reconciliation_items(p_book text, p_account_no text, p_as_of date)
RETURNS TABLE (kind text, item_date date, ref text, description text, amount_fen bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	b integer := earmark.book_of(p_book);
	da earmark.dedicated_account := earmark.bank_account_of(b, p_account_no);
	first_day date;
BEGIN
	SELECT pg_catalog.min(s.from_date) INTO first_day FROM earmark.bank_statement s
	 WHERE s.book_id = b AND s.bank_account_id = da.bank_account_id;
	RETURN QUERY
	SELECT CASE WHEN sl.amount_fen > 0 THEN 'bank_in' ELSE 'bank_out' END, sl.booking_date,
	       sl.statement_id || ':' || sl.line_no,
	       pg_catalog.concat_ws(' ', NULLIF(sl.end_to_end_id, ''), NULLIF(sl.reference, ''), NULLIF(sl.counterparty, ''),
	                            NULLIF(sl.description, ''), CASE WHEN sl.returned THEN '退回 returned' END),
	       sl.amount_fen
	  FROM earmark.statement_line sl
	  JOIN earmark.bank_statement s USING (book_id, statement_id)
	 WHERE sl.book_id = b AND s.bank_account_id = da.bank_account_id AND sl.booking_date <= p_as_of
	   AND NOT (EXISTS (SELECT 1 FROM earmark.bank_match m
	                     WHERE m.book_id = b AND m.statement_id = sl.statement_id AND m.line_no = sl.line_no
	                       AND m.unmatched_at IS NULL)
	            AND NOT EXISTS (SELECT 1 FROM earmark.bank_match m
	                     JOIN earmark.voucher v ON v.book_id = m.book_id AND v.voucher_id = m.voucher_id
	                    WHERE m.book_id = b AND m.statement_id = sl.statement_id AND m.line_no = sl.line_no
	                      AND m.unmatched_at IS NULL AND (v.status <> 'posted' OR v.voucher_date > p_as_of)))
	UNION ALL
	SELECT CASE WHEN x.open_fen > 0 THEN 'book_in' ELSE 'book_out' END, x.voucher_date, x.ref, x.memo, x.open_fen
	  FROM (SELECT v.voucher_date, v.number_text || ':' || l.line_no AS ref, pg_catalog.btrim(v.memo || ' ' || l.memo) AS memo,
	               (CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)
	               - COALESCE((SELECT pg_catalog.sum(m.amount_fen)::bigint
	                             FROM earmark.bank_match m
	                             JOIN earmark.statement_line sl USING (book_id, statement_id, line_no)
	                            WHERE m.book_id = b AND m.voucher_id = l.voucher_id AND m.voucher_line_no = l.line_no
	                              AND m.unmatched_at IS NULL AND sl.booking_date <= p_as_of), 0) AS open_fen
	          FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
	         WHERE l.book_id = b AND l.bank_account_id = da.bank_account_id AND v.status = 'posted'
	           AND v.voucher_date <= p_as_of AND v.voucher_date >= COALESCE(first_day, p_as_of + 1)) x
	 WHERE x.open_fen <> 0
	 ORDER BY 1, 2, 3;
END
$$;

-- The 余额调节表's figures: the book balance of the account (posted lines
-- on 1002 with this bank account, to the date), the bank balance (the first
-- statement's opening plus every entry booked to the date), the items in
-- transit of each kind, both adjusted balances and whether they agree.
CREATE FUNCTION earmark.reconciliation(p_book text, p_account_no text, p_as_of date)
RETURNS TABLE (book_fen bigint, bank_fen bigint, bank_in_fen bigint, bank_out_fen bigint, book_in_fen bigint,
               book_out_fen bigint, adjusted_book_fen bigint, adjusted_bank_fen bigint, agrees boolean,
               statements integer, last_statement date)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	b integer := earmark.book_of(p_book);
	da earmark.dedicated_account := earmark.bank_account_of(b, p_account_no);
	start date;
	bk bigint;
	bank bigint;
	i record;
	n integer;
	last date;
BEGIN
	SELECT start_date INTO start FROM earmark.book WHERE book_id = b;
	IF p_as_of < start THEN
		RAISE EXCEPTION 'date % is before the book began', p_as_of USING ERRCODE = 'EMI01',
			DETAIL = pg_catalog.format('book ''%s'' starts on %s', p_book, start);
	END IF;
	SELECT COALESCE(pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END), 0)::bigint INTO bk
	  FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
	 WHERE l.book_id = b AND l.bank_account_id = da.bank_account_id AND v.status = 'posted' AND v.voucher_date <= p_as_of;
	SELECT pg_catalog.count(*) FILTER (WHERE s.from_date <= p_as_of), pg_catalog.max(s.to_date) FILTER (WHERE s.from_date <= p_as_of)
	  INTO n, last
	  FROM earmark.bank_statement s WHERE s.book_id = b AND s.bank_account_id = da.bank_account_id;
	SELECT COALESCE((SELECT s.opening_fen FROM earmark.bank_statement s
	                  WHERE s.book_id = b AND s.bank_account_id = da.bank_account_id
	                  ORDER BY s.from_date, s.statement_id LIMIT 1), 0)
	       + COALESCE((SELECT pg_catalog.sum(sl.amount_fen) FROM earmark.statement_line sl
	                     JOIN earmark.bank_statement s USING (book_id, statement_id)
	                    WHERE sl.book_id = b AND s.bank_account_id = da.bank_account_id AND sl.booking_date <= p_as_of), 0)
	  INTO bank;
	SELECT COALESCE(pg_catalog.sum(x.amount_fen) FILTER (WHERE x.kind = 'bank_in'), 0)::bigint AS bi,
	       COALESCE(pg_catalog.sum(x.amount_fen) FILTER (WHERE x.kind = 'bank_out'), 0)::bigint AS bo,
	       COALESCE(pg_catalog.sum(x.amount_fen) FILTER (WHERE x.kind = 'book_in'), 0)::bigint AS ki,
	       COALESCE(pg_catalog.sum(x.amount_fen) FILTER (WHERE x.kind = 'book_out'), 0)::bigint AS ko
	  INTO i FROM earmark.reconciliation_items(p_book, p_account_no, p_as_of) x;
	RETURN QUERY SELECT bk, bank, i.bi, i.bo, i.ki, i.ko, bk + i.bi + i.bo, bank + i.ki + i.ko,
	                    bk + i.bi + i.bo = bank + i.ki + i.ko, n, last;
END
$$;

------------------------------------------------------------------------
-- Period close and year end.
------------------------------------------------------------------------

-- Locks a month (D7) once its books are complete: no voucher dated in or
-- before it unposted, no statement line booked by its end uncleared.
-- Every problem is listed at once.  Cleared statement lines of the month
-- become reconciled; closing December carries every account's balance per
-- fund forward into year_end_balance (the new year's opening balances).
CREATE OR REPLACE FUNCTION earmark.period_close(p_book text, p_month date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	m date := pg_catalog.date_trunc('month', p_month)::date;
	last date := (pg_catalog.date_trunc('month', p_month) + interval '1 month - 1 day')::date;
	probs earmark.problem[] := '{}';
	r record;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_admin', 'close periods');
	PERFORM 1 FROM earmark.chain_head WHERE book_id = b FOR UPDATE;
	IF EXISTS (SELECT 1 FROM earmark.period WHERE book_id = b AND month = m AND closed_at IS NOT NULL) THEN
		RETURN;   -- closing a closed month again is harmless
	END IF;
	FOR r IN
		SELECT v.voucher_id, v.status, v.voucher_date, v.memo, v.prepared_by FROM earmark.voucher v
		 WHERE v.book_id = b AND v.status <> 'posted' AND v.voucher_date <= last
		   AND NOT EXISTS (SELECT 1 FROM earmark.period p WHERE p.book_id = b AND p.closed_at IS NOT NULL
		                     AND p.month = pg_catalog.date_trunc('month', v.voucher_date)::date)
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
	PERFORM earmark.raise_problems(probs,
		CASE WHEN pg_catalog.cardinality(probs) > 0 THEN
			pg_catalog.format('period %s cannot be closed: %s open item%s (EMC01)', pg_catalog.to_char(m, 'YYYY-MM'),
			                  pg_catalog.cardinality(probs), CASE WHEN pg_catalog.cardinality(probs) = 1 THEN '' ELSE 's' END)
		END);
	INSERT INTO earmark.period AS p (book_id, month, closed_at, closed_by)
	VALUES (b, m, pg_catalog.now(), who)
	ON CONFLICT (book_id, month) DO UPDATE SET closed_at = EXCLUDED.closed_at, closed_by = EXCLUDED.closed_by
	 WHERE p.closed_at IS NULL;
	-- Year end: each account's balance per fund carried into the new year.
	IF pg_catalog.date_part('month', m) = 12 THEN
		INSERT INTO earmark.year_end_balance (book_id, year, account_id, fund_id, balance_fen, closed_by)
		SELECT b, pg_catalog.date_part('year', m)::smallint, pb.account_id, pb.fund_id,
		       pg_catalog.sum(pb.debit_fen - pb.credit_fen)::bigint, who
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
-- Grants (DESIGN section 8): statements and matching are the cashier's,
-- the re-issue draft the clerk's; every office role reads.
------------------------------------------------------------------------

REVOKE ALL ON earmark.bank_statement, earmark.statement_line, earmark.bank_match, earmark.payment_return,
	earmark.year_end_balance FROM PUBLIC;
GRANT SELECT ON earmark.bank_statement, earmark.statement_line, earmark.bank_match, earmark.payment_return,
	earmark.year_end_balance
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin, earmark_auditor;
REVOKE ALL ON FUNCTION earmark.bank_account_of(integer, text), earmark.bank_line_open(integer, bigint, integer),
	earmark.payment_return_record(integer, name, earmark.statement_line, earmark.household_payment, earmark.dedicated_account),
	earmark.statement_line_find(integer, text)
	FROM PUBLIC;
GRANT EXECUTE ON FUNCTION earmark.bank_account_of(integer, text), earmark.bank_line_open(integer, bigint, integer),
	earmark.reconciliation(text, text, date), earmark.reconciliation_items(text, text, date)
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin, earmark_auditor;
GRANT EXECUTE ON FUNCTION earmark.statement_import(text, text, jsonb),
	earmark.statement_match_auto(text, text, integer), earmark.statement_match(text, text, text, integer),
	earmark.statement_unmatch(text, text)
	TO earmark_cashier;
GRANT EXECUTE ON FUNCTION earmark.payment_reissue(text, text, date) TO earmark_clerk;
