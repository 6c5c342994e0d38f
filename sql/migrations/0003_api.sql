-- 0003 the functions application roles call.
--
-- Each is SECURITY DEFINER (owned by earmark_owner) with a fixed
-- search_path, finds rows by their codes, and writes; the rules run in the
-- triggers of 0002.  EXECUTE is granted per group role in 0004.  Codes in,
-- codes out: clients never see or pass internal ids except a draft's
-- number before it is posted ('#17').

-- A book with its chart of accounts, from config/accounts.csv (as JSON
-- objects: code, name, kind, normal_side, is_bank).
CREATE FUNCTION earmark.book_create(p_code text, p_name text, p_start date, p_accounts jsonb)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_admin', 'create books');
	IF EXISTS (SELECT 1 FROM earmark.book WHERE code = p_code) THEN
		RAISE EXCEPTION 'book ''%'' already exists', p_code USING ERRCODE = 'EMR02';
	END IF;
	IF p_start > CURRENT_DATE THEN
		RAISE EXCEPTION 'book start % is in the future (D7)', p_start USING ERRCODE = 'EMD07';
	END IF;
	INSERT INTO earmark.book (code, name, start_date, created_by)
	VALUES (p_code, p_name, p_start, who) RETURNING book_id INTO b;
	INSERT INTO earmark.account (book_id, code, name, kind, normal_side, is_bank)
	SELECT b, a.code, a.name, a.kind, a.normal_side, COALESCE(a.is_bank, false)
	  FROM pg_catalog.jsonb_to_recordset(p_accounts)
	       AS a(code text, name text, kind text, normal_side text, is_bank boolean);
	IF NOT FOUND THEN
		RAISE EXCEPTION 'book ''%'' needs a chart of accounts', p_code USING ERRCODE = 'EMI01';
	END IF;
	INSERT INTO earmark.chain_head (book_id, seq, hash)
	VALUES (b, 0, pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex'));
	RETURN b;
END
$$;

-- What a violated constraint means, in the words of the file's columns.
CREATE FUNCTION earmark.constraint_text(con text) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT CASE con
	WHEN 'use_category_book_id_code_key' THEN 'the code is already in use'
	WHEN 'use_category_name_check' THEN 'name is empty'
	WHEN 'use_category_code_check' THEN 'code: 1 to 32 letters, digits, ''_'', ''.'' or ''-'''
	WHEN 'dedicated_account_book_id_account_no_key' THEN 'the account number is already registered'
	WHEN 'dedicated_account_account_no_check' THEN 'account_no: 6 to 34 digits or letters'
	WHEN 'dedicated_account_cnaps_check' THEN 'cnaps: the bank''s 12-digit CNAPS code'
	WHEN 'dedicated_account_bank_name_check' THEN 'bank_name is empty'
	WHEN 'fund_book_id_code_key' THEN 'the fund code is already in use'
	WHEN 'fund_code_check' THEN 'code: 1 to 32 letters, digits, ''_'', ''.'' or ''-'''
	WHEN 'fund_level_check' THEN 'level: one of central, province, city, county'
	WHEN 'fund_year_check' THEN 'year: 2000 to 2100'
	WHEN 'fund_amount_fen_check' THEN 'amount may not be negative'
	WHEN 'fund_name_check' THEN 'name is empty'
	WHEN 'village_book_id_code_key' THEN 'the village code is already registered'
	WHEN 'village_code_check' THEN 'code: the 12-digit 统计用区划代码'
	WHEN 'village_name_check' THEN 'name is empty'
	WHEN 'household_book_id_code_key' THEN 'the household code is already registered'
	WHEN 'household_code_check' THEN 'code: 1 to 32 letters, digits, ''_'', ''.'' or ''-'''
	WHEN 'household_head_name_check' THEN 'head_name is empty'
	WHEN 'project_book_id_code_key' THEN 'the project code is already in use'
	WHEN 'project_code_check' THEN 'code: 1 to 32 letters, digits, ''_'', ''.'' or ''-'''
	WHEN 'project_name_check' THEN 'name is empty'
	END
$$;

-- Master data from CSV rows (JSON objects keyed by the header; "source" is
-- 'file.csv:LINE').  Every row is tried; every failure is reported with its
-- source; any failure rolls back the whole file.
CREATE FUNCTION earmark.master_import(p_book text, p_kind text, p_rows jsonb) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	r jsonb;
	probs earmark.problem[] := '{}';
	n integer := 0;
	msg text;
	det text;
	con text;
	ref integer;
	i bigint;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_admin', 'import master data');
	IF p_kind NOT IN ('category', 'bank_account', 'fund', 'village', 'household', 'project') THEN
		RAISE EXCEPTION 'unknown kind of master data ''%''', p_kind USING ERRCODE = 'EMI01',
			HINT = 'one of: category, bank_account, fund, village, household, project';
	END IF;
	FOR r, i IN SELECT x, ord FROM pg_catalog.jsonb_array_elements(p_rows) WITH ORDINALITY AS e(x, ord) LOOP
		BEGIN
			CASE p_kind
			WHEN 'category' THEN
				INSERT INTO earmark.use_category (book_id, code, name)
				VALUES (b, r->>'code', r->>'name');
			WHEN 'bank_account' THEN
				INSERT INTO earmark.dedicated_account (book_id, account_no, bank_name, cnaps)
				VALUES (b, r->>'account_no', r->>'bank_name', r->>'cnaps');
			WHEN 'fund' THEN
				SELECT bank_account_id INTO ref FROM earmark.dedicated_account
				 WHERE book_id = b AND account_no = r->>'bank_account';
				IF NOT FOUND THEN
					RAISE EXCEPTION 'unknown dedicated account ''%''', r->>'bank_account'
						USING ERRCODE = 'EMR01';
				END IF;
				INSERT INTO earmark.fund (book_id, code, name, level, fund_type, year, doc_no,
				                          amount_fen, bank_account_id)
				VALUES (b, r->>'code', r->>'name', r->>'level', COALESCE(r->>'type', ''),
				        (r->>'year')::smallint, COALESCE(r->>'doc_no', ''),
				        (r->>'amount_fen')::bigint, ref);
			WHEN 'village' THEN
				INSERT INTO earmark.village (book_id, code, name, township, county)
				VALUES (b, r->>'code', r->>'name', COALESCE(r->>'township', ''),
				        COALESCE(r->>'county', ''));
			WHEN 'household' THEN
				SELECT village_id INTO ref FROM earmark.village
				 WHERE book_id = b AND code = r->>'village';
				IF NOT FOUND THEN
					RAISE EXCEPTION 'unknown village ''%''', r->>'village' USING ERRCODE = 'EMR01';
				END IF;
				INSERT INTO earmark.household (book_id, code, village_id, head_name)
				VALUES (b, r->>'code', ref, r->>'head_name');
			WHEN 'project' THEN
				ref := NULL;
				IF COALESCE(r->>'category', '') <> '' THEN
					SELECT category_id INTO ref FROM earmark.use_category
					 WHERE book_id = b AND code = r->>'category';
					IF NOT FOUND THEN
						RAISE EXCEPTION 'unknown use category ''%''', r->>'category'
							USING ERRCODE = 'EMR01';
					END IF;
				END IF;
				INSERT INTO earmark.project (book_id, code, name, category_id)
				VALUES (b, r->>'code', r->>'name', ref);
			END CASE;
			n := n + 1;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
			                        con = CONSTRAINT_NAME;
			-- A constraint's own text is for programmers; say what the column takes.
			IF con <> '' THEN
				msg := COALESCE(earmark.constraint_text(con), msg);
				det := NULL;
			END IF;
			probs := probs || ROW('EMI01',
				pg_catalog.format('%s: %s', COALESCE(r->>'source', 'row ' || i), msg),
				NULLIF(det, ''), NULL)::earmark.problem;
		END;
	END LOOP;
	PERFORM earmark.raise_problems(probs,
		pg_catalog.format('%s of %s %s rows refused; nothing was imported',
		                  pg_catalog.cardinality(probs), pg_catalog.jsonb_array_length(p_rows), p_kind));
	RETURN n;
END
$$;

-- A draft from lines given as JSON objects: account, side (D/C),
-- amount_fen, fund, project, village, household, bank_account, category,
-- memo, source.  Returns the draft's id.  With an idempotency key (D9) a
-- retry of the same request returns the first draft; other content under
-- the same key is refused.
CREATE FUNCTION earmark.voucher_draft(p_book text, p_date date, p_vtype text, p_memo text,
                                      p_idem_key text, p_lines jsonb)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	dig bytea;
	v bigint;
	old_dig bytea;
	r record;
	probs earmark.problem[] := '{}';
	lines earmark.line[] := '{}';
BEGIN
	PERFORM earmark.require_role(who, 'earmark_clerk', 'prepare vouchers');
	dig := pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_build_object(
		'date', p_date, 'type', COALESCE(p_vtype, '记'), 'memo', COALESCE(p_memo, ''),
		'lines', (SELECT pg_catalog.jsonb_agg(x - 'source') FROM pg_catalog.jsonb_array_elements(p_lines) x)
		)::text, 'UTF8'));
	IF p_idem_key IS NOT NULL THEN
		SELECT voucher_id, idem_digest INTO v, old_dig
		  FROM earmark.voucher WHERE book_id = b AND idem_key = p_idem_key;
		IF FOUND THEN
			IF old_dig = dig THEN
				RETURN v;
			END IF;
			RAISE EXCEPTION 'idempotency key ''%'' was used for other content (D9)', p_idem_key
				USING ERRCODE = 'EMD09',
				      DETAIL = pg_catalog.format('voucher #%s was created with this key', v),
				      HINT = 'use a new key for a new voucher; a retry must send the same content';
		END IF;
	END IF;

	PERFORM earmark.raise_problems(ARRAY[earmark.date_problem(b, p_date)]);

	IF p_lines IS NULL OR pg_catalog.jsonb_typeof(p_lines) <> 'array'
	   OR pg_catalog.jsonb_array_length(p_lines) < 2 THEN
		RAISE EXCEPTION 'a voucher needs at least two lines (D1)' USING ERRCODE = 'EMD01';
	END IF;
	IF pg_catalog.jsonb_array_length(p_lines) > 999 THEN
		RAISE EXCEPTION 'a voucher has at most 999 lines' USING ERRCODE = 'EMI01',
			DETAIL = pg_catalog.format('it has %s', pg_catalog.jsonb_array_length(p_lines));
	END IF;

	-- Resolve every code first and name every unknown one at once.  (No
	-- temporary table here: a caller could plant one with a trigger that
	-- would then run with the owner's rights.)
	FOR r IN
		SELECT e.ord::smallint AS line_no,
		       'line ' || e.ord || COALESCE(' (' || (e.l->>'source') || ')', '') AS label,
		       e.l->>'account' AS account, e.l->>'side' AS side, e.l->>'amount_fen' AS amount,
		       e.l->>'fund' AS fund, NULLIF(e.l->>'project', '') AS project,
		       NULLIF(e.l->>'village', '') AS village, NULLIF(e.l->>'household', '') AS household,
		       NULLIF(e.l->>'bank_account', '') AS bank_account,
		       NULLIF(e.l->>'category', '') AS category, COALESCE(e.l->>'memo', '') AS memo,
		       a.account_id, f.fund_id, p.project_id, vi.village_id, h.household_id,
		       da.bank_account_id, c.category_id
		  FROM pg_catalog.jsonb_array_elements(p_lines) WITH ORDINALITY AS e(l, ord)
		  LEFT JOIN earmark.account a ON a.book_id = b AND a.code = e.l->>'account'
		  LEFT JOIN earmark.fund f ON f.book_id = b AND f.code = e.l->>'fund'
		  LEFT JOIN earmark.project p ON p.book_id = b AND p.code = NULLIF(e.l->>'project', '')
		  LEFT JOIN earmark.village vi ON vi.book_id = b AND vi.code = NULLIF(e.l->>'village', '')
		  LEFT JOIN earmark.household h ON h.book_id = b AND h.code = NULLIF(e.l->>'household', '')
		  LEFT JOIN earmark.dedicated_account da
		         ON da.book_id = b AND da.account_no = NULLIF(e.l->>'bank_account', '')
		  LEFT JOIN earmark.use_category c ON c.book_id = b AND c.code = NULLIF(e.l->>'category', '')
		 ORDER BY e.ord
	LOOP
		IF r.account_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s: unknown account ''%s''', r.label, r.account),
			                      NULL, 'use a code of the chart of accounts (earmark report trial-balance lists them)')::earmark.problem;
		END IF;
		IF r.fund_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s: unknown fund ''%s''', r.label, COALESCE(r.fund, '')),
			                      NULL, 'every line names the fund it belongs to (D2)')::earmark.problem;
		END IF;
		IF r.project IS NOT NULL AND r.project_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s: unknown project ''%s''', r.label, r.project), NULL, NULL)::earmark.problem;
		END IF;
		IF r.village IS NOT NULL AND r.village_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s: unknown village ''%s''', r.label, r.village), NULL, NULL)::earmark.problem;
		END IF;
		IF r.household IS NOT NULL AND r.household_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s: unknown household ''%s''', r.label, r.household), NULL, NULL)::earmark.problem;
		END IF;
		IF r.bank_account IS NOT NULL AND r.bank_account_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s: unknown bank account ''%s''', r.label, r.bank_account),
			                      NULL, 'bank accounts are the dedicated accounts of the book''s funds')::earmark.problem;
		END IF;
		IF r.category IS NOT NULL AND r.category_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s: unknown use category ''%s''', r.label, r.category), NULL, NULL)::earmark.problem;
		END IF;
		IF r.side IS NULL OR r.side NOT IN ('D', 'C') THEN
			probs := probs || ROW('EMI01', pg_catalog.format('%s: side must be D or C', r.label), NULL, NULL)::earmark.problem;
		END IF;
		IF r.amount IS NULL OR r.amount !~ '^-?[0-9]{1,18}$' THEN
			probs := probs || ROW('EMI01', pg_catalog.format('%s: amount_fen must be a whole number of fen (at most 18 digits)', r.label), NULL, NULL)::earmark.problem;
		ELSIF r.amount::numeric = 0 THEN
			probs := probs || ROW('EMI01', pg_catalog.format('%s: amount is zero', r.label), NULL,
			                      'leave out lines without an amount')::earmark.problem;
		ELSIF r.account_id IS NOT NULL AND r.fund_id IS NOT NULL
		      AND (r.bank_account IS NULL OR r.bank_account_id IS NOT NULL) THEN
			probs := probs || earmark.line_problems(b, r.label, r.account_id, r.amount::bigint,
			                                        r.fund_id, r.bank_account_id, false);
		END IF;
		lines := lines || ROW(b, NULL, r.line_no, r.account_id, r.side,
			CASE WHEN r.amount ~ '^-?[0-9]{1,18}$' THEN r.amount::bigint END,
			r.fund_id, r.project_id, r.village_id, r.household_id, r.bank_account_id,
			r.category_id, r.memo)::earmark.line;
	END LOOP;
	PERFORM earmark.raise_problems(probs);

	INSERT INTO earmark.voucher (book_id, vtype, voucher_date, memo, idem_key, idem_digest,
	                             prepared_by, prepared_at)
	VALUES (b, COALESCE(p_vtype, '记'), p_date, COALESCE(p_memo, ''), p_idem_key,
	        CASE WHEN p_idem_key IS NOT NULL THEN dig END, who, pg_catalog.now())
	ON CONFLICT (book_id, idem_key) DO NOTHING
	RETURNING voucher_id INTO v;
	IF v IS NULL THEN
		-- A concurrent request with the same key won; answer as a retry would.
		RETURN earmark.voucher_draft(p_book, p_date, p_vtype, p_memo, p_idem_key, p_lines);
	END IF;
	INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id,
	                          project_id, village_id, household_id, bank_account_id, category_id, memo)
	SELECT b, v, x.line_no, x.account_id, x.side, x.amount_fen, x.fund_id, x.project_id,
	       x.village_id, x.household_id, x.bank_account_id, x.category_id, x.memo
	  FROM pg_catalog.unnest(lines) x ORDER BY x.line_no;
	PERFORM earmark.raise_problems(earmark.balance_problems(b, v));
	RETURN v;
END
$$;

-- Finds a voucher by '#id' (a draft) or its number ('记-2026-03-0001').
CREATE FUNCTION earmark.voucher_find(b integer, p_ref text) RETURNS earmark.voucher
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v earmark.voucher;
BEGIN
	IF p_ref ~ '^#?[0-9]{1,18}$' THEN
		SELECT * INTO v FROM earmark.voucher WHERE book_id = b AND voucher_id = pg_catalog.ltrim(p_ref, '#')::bigint;
	ELSE
		SELECT * INTO v FROM earmark.voucher WHERE book_id = b AND number_text = p_ref;
	END IF;
	IF v.voucher_id IS NULL THEN
		RAISE EXCEPTION 'unknown voucher ''%''', p_ref USING ERRCODE = 'EMR01',
			HINT = 'name a draft by #ID or a posted voucher by its number; earmark voucher list shows them';
	END IF;
	RETURN v;
END
$$;

CREATE FUNCTION earmark.voucher_review(p_book text, p_ref text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v earmark.voucher := earmark.voucher_find(earmark.book_of(p_book), p_ref);
BEGIN
	IF v.status <> 'draft' THEN
		RAISE EXCEPTION 'voucher % is already %', p_ref, v.status USING ERRCODE = 'EMS01';
	END IF;
	UPDATE earmark.voucher SET status = 'reviewed'
	 WHERE book_id = v.book_id AND voucher_id = v.voucher_id;
	RETURN v.voucher_id;
END
$$;

-- Posts a reviewed voucher and returns its number.  Posting a voucher that
-- is already posted returns its number again, so a retry after a lost
-- connection is harmless.
CREATE FUNCTION earmark.voucher_post(p_book text, p_ref text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v earmark.voucher := earmark.voucher_find(earmark.book_of(p_book), p_ref);
	num text;
BEGIN
	IF v.status = 'posted' THEN
		RETURN v.number_text;
	END IF;
	IF v.status <> 'reviewed' THEN
		RAISE EXCEPTION 'voucher % is a draft that has not been reviewed (D6)', p_ref
			USING ERRCODE = 'EMD06', HINT = 'a reviewer reviews it first: earmark voucher review';
	END IF;
	UPDATE earmark.voucher SET status = 'posted'
	 WHERE book_id = v.book_id AND voucher_id = v.voucher_id
	RETURNING number_text INTO num;
	RETURN num;
END
$$;

-- A 红字 reversal draft of a posted voucher: the same lines, amounts negated (D4).
CREATE FUNCTION earmark.voucher_reverse(p_book text, p_ref text, p_date date, p_idem_key text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	o earmark.voucher := earmark.voucher_find(b, p_ref);
	dig bytea;
	v bigint;
	prev earmark.voucher;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_clerk', 'prepare vouchers');
	dig := pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_build_object(
		'reverse', o.voucher_id, 'date', p_date)::text, 'UTF8'));
	IF p_idem_key IS NOT NULL THEN
		SELECT voucher_id INTO v FROM earmark.voucher
		 WHERE book_id = b AND idem_key = p_idem_key AND idem_digest = dig;
		IF FOUND THEN
			RETURN v;
		END IF;
		IF EXISTS (SELECT 1 FROM earmark.voucher WHERE book_id = b AND idem_key = p_idem_key) THEN
			RAISE EXCEPTION 'idempotency key ''%'' was used for other content (D9)', p_idem_key
				USING ERRCODE = 'EMD09';
		END IF;
	END IF;
	IF o.status <> 'posted' THEN
		RAISE EXCEPTION 'voucher % is not posted; a draft is discarded, not reversed (D4)', p_ref
			USING ERRCODE = 'EMD04', HINT = 'earmark voucher discard removes a draft';
	END IF;
	IF o.reverses_id IS NOT NULL THEN
		RAISE EXCEPTION 'voucher % is itself a reversal (D4)', o.number_text USING ERRCODE = 'EMD04',
			HINT = 'post a new correct voucher instead';
	END IF;
	SELECT * INTO prev FROM earmark.voucher WHERE book_id = b AND reverses_id = o.voucher_id;
	IF FOUND THEN
		RAISE EXCEPTION 'voucher % is already reversed (D4)', o.number_text USING ERRCODE = 'EMD04',
			DETAIL = pg_catalog.format('by %s', COALESCE(prev.number_text, 'draft #' || prev.voucher_id)),
			HINT = 'a voucher is reversed at most once';
	END IF;
	PERFORM earmark.raise_problems(ARRAY[earmark.date_problem(b, p_date)]);
	INSERT INTO earmark.voucher (book_id, vtype, voucher_date, memo, reverses_id, idem_key,
	                             idem_digest, prepared_by, prepared_at)
	VALUES (b, o.vtype, p_date, '冲销 ' || o.number_text || CASE WHEN o.memo <> '' THEN ' ' || o.memo ELSE '' END,
	        o.voucher_id, p_idem_key, CASE WHEN p_idem_key IS NOT NULL THEN dig END, who, pg_catalog.now())
	RETURNING voucher_id INTO v;
	INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id,
	                          project_id, village_id, household_id, bank_account_id, category_id, memo)
	SELECT b, v, line_no, account_id, side, -amount_fen, fund_id, project_id, village_id,
	       household_id, bank_account_id, category_id, memo
	  FROM earmark.line WHERE book_id = b AND voucher_id = o.voucher_id;
	RETURN v;
END
$$;

-- Sends a reviewed voucher back to its preparer as a draft.
CREATE FUNCTION earmark.voucher_reject(p_book text, p_ref text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v earmark.voucher := earmark.voucher_find(earmark.book_of(p_book), p_ref);
BEGIN
	IF v.status <> 'reviewed' THEN
		RAISE EXCEPTION 'voucher % is %; only a reviewed voucher can be sent back', p_ref, v.status
			USING ERRCODE = 'EMS01';
	END IF;
	UPDATE earmark.voucher SET status = 'draft'
	 WHERE book_id = v.book_id AND voucher_id = v.voucher_id;
	RETURN v.voucher_id;
END
$$;

-- Removes one's own draft.
CREATE FUNCTION earmark.voucher_discard(p_book text, p_ref text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	v earmark.voucher := earmark.voucher_find(earmark.book_of(p_book), p_ref);
BEGIN
	PERFORM earmark.require_role(earmark.actor(), 'earmark_clerk', 'discard drafts');
	IF v.status <> 'draft' THEN
		RAISE EXCEPTION 'voucher % is % and cannot be discarded (D3)', p_ref, v.status
			USING ERRCODE = 'EMD03';
	END IF;
	IF earmark.actor() <> v.prepared_by THEN
		RAISE EXCEPTION 'draft % belongs to ''%'' (D3)', p_ref, v.prepared_by
			USING ERRCODE = 'EMD03', DETAIL = 'drafts may be changed by their preparer only';
	END IF;
	DELETE FROM earmark.line WHERE book_id = v.book_id AND voucher_id = v.voucher_id;
	DELETE FROM earmark.voucher WHERE book_id = v.book_id AND voucher_id = v.voucher_id;
END
$$;

-- Locks a month (D7).  Takes the chain head lock so no posting races it.
-- The month-end checks (drafts, reconciliation) come with period close.
CREATE FUNCTION earmark.period_close(p_book text, p_month date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	m date := pg_catalog.date_trunc('month', p_month)::date;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_admin', 'close periods');
	PERFORM 1 FROM earmark.chain_head WHERE book_id = b FOR UPDATE;
	INSERT INTO earmark.period AS p (book_id, month, closed_at, closed_by)
	VALUES (b, m, pg_catalog.now(), who)
	ON CONFLICT (book_id, month) DO UPDATE SET closed_at = EXCLUDED.closed_at, closed_by = EXCLUDED.closed_by
	 WHERE p.closed_at IS NULL;
END
$$;

-- 试算平衡表 as of a date: cumulative debits and credits per account and
-- the balance on its side.  Whole months come from period_balance; only the
-- lines of the as-of month itself are read.  p_fund narrows to one fund
-- (each fund balances on its own, D2).
CREATE FUNCTION earmark.trial_balance(p_book text, p_as_of date, p_fund text DEFAULT NULL)
RETURNS TABLE (code text, name text, kind text, normal_side text,
               debit_fen bigint, credit_fen bigint, balance_debit_fen bigint, balance_credit_fen bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	b integer := earmark.book_of(p_book);
	start date;
	f integer;
	m date := pg_catalog.date_trunc('month', p_as_of)::date;
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
	WITH mv AS (
		SELECT pb.account_id, pb.debit_fen AS d, pb.credit_fen AS c
		  FROM earmark.period_balance pb
		 WHERE pb.book_id = b AND pb.month < m AND (f IS NULL OR pb.fund_id = f)
		UNION ALL
		SELECT l.account_id,
		       CASE WHEN l.side = 'D' THEN l.amount_fen ELSE 0 END,
		       CASE WHEN l.side = 'C' THEN l.amount_fen ELSE 0 END
		  FROM earmark.voucher v
		  JOIN earmark.line l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id
		 WHERE v.book_id = b AND v.status = 'posted'
		   AND v.voucher_date >= m AND v.voucher_date <= p_as_of
		   AND (f IS NULL OR l.fund_id = f)
	), s AS (
		SELECT mv.account_id, pg_catalog.sum(mv.d)::bigint AS d, pg_catalog.sum(mv.c)::bigint AS c
		  FROM mv GROUP BY mv.account_id
	)
	SELECT a.code, a.name, a.kind, a.normal_side, s.d, s.c,
	       GREATEST(s.d - s.c, 0), GREATEST(s.c - s.d, 0)
	  FROM s JOIN earmark.account a ON a.book_id = b AND a.account_id = s.account_id
	 WHERE s.d <> 0 OR s.c <> 0
	 ORDER BY a.code;
END
$$;

-- The chain recomputed from the rows: how many vouchers, and the first
-- sequence number whose stored hash does not follow (NULL when it holds).
CREATE FUNCTION earmark.verify_chain(p_book text)
RETURNS TABLE (vouchers bigint, head bytea, first_bad bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	b integer := earmark.book_of(p_book);
	h bytea := pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex');
	v earmark.voucher;
	n bigint := 0;
BEGIN
	first_bad := NULL;
	FOR v IN SELECT * FROM earmark.voucher WHERE book_id = b AND status = 'posted' ORDER BY chain_seq LOOP
		n := n + 1;
		h := earmark.chain_step(h, v);
		IF first_bad IS NULL AND (v.chain_seq <> n OR v.chain_hash <> h) THEN
			first_bad := n;
		END IF;
	END LOOP;
	IF first_bad IS NULL AND EXISTS (SELECT 1 FROM earmark.chain_head c
	                                  WHERE c.book_id = b AND (c.seq <> n OR c.hash <> h)) THEN
		first_bad := n + 1;
	END IF;
	vouchers := n;
	head := h;
	RETURN NEXT;
END
$$;
