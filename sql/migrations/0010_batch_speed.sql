-- 0010 household batches at the speed of the bank file: the same rules as
-- 0007 and 0008, checked so that a 100,000-line batch costs set-based
-- passes, not 100,000 of anything.
--
-- What a batch of N lines cost before, and what replaces it:
--
--   per-row foreign keys on line (8),         one statement-level check per
--   household_payment (6) and                 statement (hash anti-joins over
--   household_spend (3): 16 N index probes,   the transition table); masters
--   each through SPI
--                                             the ledger names are never
--                                             deleted (master_keep)
--   the rule queries planned for the 1 row    the voucher's spend lines copied
--   the planner guesses for "lines of this    into a temporary table, ANALYZEd
--   voucher": nested loops over N             when large, that every rule
--                                             query reads (spend_problems)
--   the rules at draft, review and post;      pay_batch checks every line
--   pay_batch checked them a fourth time      itself (file:line messages) and
--                                             tells lines_guard so, once
--   id_problem per line                       ID numbers are checked when
--                                             written (household_private_guard);
--                                             at payment only the birth date
--                                             against the payment's date
--   canon_escape, a PL/pgSQL call per field   an inlinable SQL fast path
--   of the hash chain (6 N calls)
--
-- The foreign keys of line, household_payment and household_spend are
-- replaced, not dropped: no application role may write these tables (0004,
-- 0009); the SECURITY DEFINER functions that do go through the statement
-- triggers below, which refuse an unknown reference with EMR01 (a line's
-- voucher: D3 in lines_guard), and master_keep and voucher_lines_keep
-- refuse deleting a referenced row or moving it to another book, the only
-- ways a reference could dangle afterwards.

------------------------------------------------------------------------
-- Masters the ledger refers to are never deleted.
------------------------------------------------------------------------

CREATE FUNCTION earmark.master_keep() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'rows of earmark.% are never deleted: vouchers and payments refer to them', TG_TABLE_NAME
			USING ERRCODE = 'EMD03',
			      HINT = 'master data stays as it was when the ledger named it; record a change instead';
	END IF;
	RAISE EXCEPTION 'a row of earmark.% cannot move to another book', TG_TABLE_NAME USING ERRCODE = 'EMD03';
END
$$;

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['account', 'fund', 'project', 'village', 'household', 'dedicated_account',
	                         'use_category', 'beneficiary_list', 'pay_batch']
	LOOP
		EXECUTE pg_catalog.format('CREATE TRIGGER master_keep_delete BEFORE DELETE ON earmark.%I
			FOR EACH STATEMENT EXECUTE FUNCTION earmark.master_keep()', t);
		EXECUTE pg_catalog.format('CREATE TRIGGER master_keep_book BEFORE UPDATE OF book_id ON earmark.%I
			FOR EACH ROW WHEN (OLD.book_id IS DISTINCT FROM NEW.book_id) EXECUTE FUNCTION earmark.master_keep()', t);
	END LOOP;
END
$$;

ALTER TABLE earmark.line
	DROP CONSTRAINT line_book_id_voucher_id_fkey,
	DROP CONSTRAINT line_book_id_account_id_fkey,
	DROP CONSTRAINT line_book_id_bank_account_id_fkey,
	DROP CONSTRAINT line_book_id_category_id_fkey,
	DROP CONSTRAINT line_book_id_fund_id_fkey,
	DROP CONSTRAINT line_book_id_household_id_fkey,
	DROP CONSTRAINT line_book_id_project_id_fkey,
	DROP CONSTRAINT line_book_id_village_id_fkey;
-- household_spend is written by spend_keep alone, from posted lines whose
-- references were checked when they were written.
ALTER TABLE earmark.household_spend
	DROP CONSTRAINT household_spend_book_id_category_id_fkey,
	DROP CONSTRAINT household_spend_book_id_household_id_fkey,
	DROP CONSTRAINT household_spend_book_id_project_id_fkey;
ALTER TABLE earmark.household_payment
	DROP CONSTRAINT household_payment_book_id_batch_id_fkey,
	DROP CONSTRAINT household_payment_book_id_category_id_fkey,
	DROP CONSTRAINT household_payment_book_id_fund_id_fkey,
	DROP CONSTRAINT household_payment_book_id_household_id_fkey,
	DROP CONSTRAINT household_payment_book_id_list_id_fkey,
	DROP CONSTRAINT household_payment_book_id_project_id_fkey;

-- A line's voucher: lines_guard refuses lines of a voucher that is not a
-- draft or is gone (D3), and a voucher is deleted only as a draft whose
-- lines went first (voucher_discard).
CREATE FUNCTION earmark.voucher_lines_keep() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM earmark.line WHERE book_id = OLD.book_id AND voucher_id = OLD.voucher_id) THEN
		RAISE EXCEPTION 'voucher #% still has lines', OLD.voucher_id USING ERRCODE = 'EMD03',
			HINT = 'a draft is discarded with its lines: earmark voucher discard';
	END IF;
	RETURN OLD;
END
$$;
CREATE TRIGGER voucher_lines_keep BEFORE DELETE ON earmark.voucher
	FOR EACH ROW EXECUTE FUNCTION earmark.voucher_lines_keep();

-- H3 looks up open objections by list and household.
CREATE INDEX objection_open ON earmark.objection (book_id, list_id, household_id) WHERE resolved_on IS NULL;

------------------------------------------------------------------------
-- line: D3, references, A1/D4 per statement; the spend rules for drafts.
------------------------------------------------------------------------

-- 0007's lines_guard with the references checked here and the account
-- kinds read once.  The payable voucher of a payment batch skips the
-- draft-time spend check: pay_batch has just checked every line of it
-- (with the file's line numbers), and review and posting check it again,
-- as for every voucher.  Only pay_batch makes pay_batch rows.
CREATE OR REPLACE FUNCTION earmark.lines_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name;
	ids bigint[];
	b integer;
	r record;
	probs earmark.problem[] := '{}';
	banks integer[];
BEGIN
	IF TG_OP = 'INSERT' THEN
		SELECT pg_catalog.array_agg(DISTINCT voucher_id), pg_catalog.min(book_id) INTO ids, b FROM new_lines;
	ELSIF TG_OP = 'DELETE' THEN
		SELECT pg_catalog.array_agg(DISTINCT voucher_id), pg_catalog.min(book_id) INTO ids, b FROM old_lines;
	ELSE
		SELECT pg_catalog.array_agg(DISTINCT x.voucher_id), pg_catalog.min(x.book_id) INTO ids, b
		  FROM (SELECT book_id, voucher_id FROM old_lines UNION SELECT book_id, voucher_id FROM new_lines) x;
		IF EXISTS (SELECT 1 FROM old_lines o FULL JOIN new_lines n USING (book_id, voucher_id, line_no)
		            WHERE o.book_id IS NULL OR n.book_id IS NULL) THEN
			RAISE EXCEPTION 'a line cannot move to another voucher or number (D3)' USING ERRCODE = 'EMD03';
		END IF;
	END IF;
	IF ids IS NULL THEN
		RETURN NULL;
	END IF;
	IF (SELECT pg_catalog.count(DISTINCT book_id) FROM earmark.voucher WHERE voucher_id = ANY (ids)) > 1 THEN
		RAISE EXCEPTION 'one statement may change the lines of one book only' USING ERRCODE = 'EMD03';
	END IF;

	-- D3: drafts only (whoever asks), then by their preparer only.
	FOR r IN SELECT x.id, v.status, v.number_text
	           FROM pg_catalog.unnest(ids) x(id)
	           LEFT JOIN earmark.voucher v ON v.book_id = b AND v.voucher_id = x.id
	          WHERE v.status IS DISTINCT FROM 'draft'
	          ORDER BY x.id LIMIT 1
	LOOP
		RAISE EXCEPTION 'lines of voucher % cannot be changed: it is % (D3)',
			COALESCE(r.number_text, '#' || r.id), COALESCE(r.status, 'gone')
			USING ERRCODE = 'EMD03',
			      HINT = 'posted vouchers are append-only; correct one with earmark voucher reverse';
	END LOOP;
	who := earmark.actor();
	FOR r IN SELECT v.voucher_id AS id, v.prepared_by FROM earmark.voucher v
	          WHERE v.book_id = b AND v.voucher_id = ANY (ids) AND v.prepared_by <> who
	          ORDER BY v.voucher_id LIMIT 1
	LOOP
		RAISE EXCEPTION 'draft #% belongs to ''%'' (D3)', r.id, r.prepared_by
			USING ERRCODE = 'EMD03', DETAIL = 'drafts may be changed by their preparer only';
	END LOOP;
	IF TG_OP = 'DELETE' THEN
		RETURN NULL;
	END IF;

	-- Every reference names a row of this book (what the foreign keys did).
	FOR r IN
		SELECT n.line_no,
		       CASE WHEN a.account_id IS NULL THEN 'account'
		            WHEN f.fund_id IS NULL THEN 'fund'
		            WHEN n.project_id IS NOT NULL AND p.project_id IS NULL THEN 'project'
		            WHEN n.village_id IS NOT NULL AND vi.village_id IS NULL THEN 'village'
		            WHEN n.household_id IS NOT NULL AND h.household_id IS NULL THEN 'household'
		            WHEN n.bank_account_id IS NOT NULL AND da.bank_account_id IS NULL THEN 'dedicated account'
		            ELSE 'use category' END AS what
		  FROM new_lines n
		  LEFT JOIN earmark.account a ON a.book_id = n.book_id AND a.account_id = n.account_id
		  LEFT JOIN earmark.fund f ON f.book_id = n.book_id AND f.fund_id = n.fund_id
		  LEFT JOIN earmark.project p ON p.book_id = n.book_id AND p.project_id = n.project_id
		  LEFT JOIN earmark.village vi ON vi.book_id = n.book_id AND vi.village_id = n.village_id
		  LEFT JOIN earmark.household h ON h.book_id = n.book_id AND h.household_id = n.household_id
		  LEFT JOIN earmark.dedicated_account da
		         ON da.book_id = n.book_id AND da.bank_account_id = n.bank_account_id
		  LEFT JOIN earmark.use_category c ON c.book_id = n.book_id AND c.category_id = n.category_id
		 WHERE a.account_id IS NULL OR f.fund_id IS NULL
		    OR (n.project_id IS NOT NULL AND p.project_id IS NULL)
		    OR (n.village_id IS NOT NULL AND vi.village_id IS NULL)
		    OR (n.household_id IS NOT NULL AND h.household_id IS NULL)
		    OR (n.bank_account_id IS NOT NULL AND da.bank_account_id IS NULL)
		    OR (n.category_id IS NOT NULL AND c.category_id IS NULL)
		 ORDER BY n.voucher_id, n.line_no LIMIT 1
	LOOP
		RAISE EXCEPTION 'line %: unknown %', r.line_no, r.what USING ERRCODE = 'EMR01',
			DETAIL = 'every line names an account, a fund and its dimensions of the same book';
	END LOOP;

	-- A1 and D4: find the offending lines set-based, then say why with
	-- 0002's line_problems.
	SELECT pg_catalog.array_agg(account_id) INTO banks FROM earmark.account WHERE book_id = b AND is_bank;
	FOR r IN
		SELECT n.line_no, n.account_id, n.amount_fen, n.fund_id, n.bank_account_id,
		       v.reverses_id IS NOT NULL AS is_reversal
		  FROM new_lines n
		  JOIN earmark.voucher v ON v.book_id = n.book_id AND v.voucher_id = n.voucher_id
		 WHERE (n.amount_fen < 0) <> (v.reverses_id IS NOT NULL)
		    OR (n.account_id = ANY (banks)
		        AND n.bank_account_id IS DISTINCT FROM (SELECT f.bank_account_id FROM earmark.fund f
		                                                 WHERE f.book_id = n.book_id AND f.fund_id = n.fund_id))
		    OR (n.bank_account_id IS NOT NULL AND NOT n.account_id = ANY (COALESCE(banks, '{}')))
		 ORDER BY n.voucher_id, n.line_no LIMIT 50
	LOOP
		probs := probs || earmark.line_problems(b, 'line ' || r.line_no, r.account_id, r.amount_fen,
		                                        r.fund_id, r.bank_account_id, r.is_reversal);
	END LOOP;
	PERFORM earmark.raise_problems(probs);
	IF NOT EXISTS (SELECT 1 FROM earmark.pay_batch pb WHERE pb.book_id = b AND ARRAY[pb.payable_voucher_id] = ids) THEN
		PERFORM earmark.raise_problems(earmark.spend_problems(b, ids));
	END IF;
	RETURN NULL;
END
$$;

------------------------------------------------------------------------
-- household_payment: references per statement.
------------------------------------------------------------------------

CREATE FUNCTION earmark.household_payment_refs() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT n.end_to_end_id,
		       CASE WHEN pb.batch_id IS NULL THEN 'payment batch'
		            WHEN h.household_id IS NULL THEN 'household'
		            WHEN p.project_id IS NULL THEN 'project'
		            WHEN f.fund_id IS NULL THEN 'fund'
		            WHEN c.category_id IS NULL THEN 'use category'
		            ELSE 'beneficiary list' END AS what
		  FROM new_payments n
		  LEFT JOIN earmark.pay_batch pb ON pb.book_id = n.book_id AND pb.batch_id = n.batch_id
		  LEFT JOIN earmark.household h ON h.book_id = n.book_id AND h.household_id = n.household_id
		  LEFT JOIN earmark.project p ON p.book_id = n.book_id AND p.project_id = n.project_id
		  LEFT JOIN earmark.fund f ON f.book_id = n.book_id AND f.fund_id = n.fund_id
		  LEFT JOIN earmark.use_category c ON c.book_id = n.book_id AND c.category_id = n.category_id
		  LEFT JOIN earmark.beneficiary_list bl ON bl.book_id = n.book_id AND bl.list_id = n.list_id
		 WHERE pb.batch_id IS NULL OR h.household_id IS NULL OR p.project_id IS NULL
		    OR f.fund_id IS NULL OR c.category_id IS NULL OR bl.list_id IS NULL
		 LIMIT 1
	LOOP
		RAISE EXCEPTION 'payment %: unknown %', r.end_to_end_id, r.what USING ERRCODE = 'EMR01';
	END LOOP;
	RETURN NULL;
END
$$;

CREATE TRIGGER household_payment_refs AFTER INSERT ON earmark.household_payment
	REFERENCING NEW TABLE AS new_payments
	FOR EACH STATEMENT EXECUTE FUNCTION earmark.household_payment_refs();

------------------------------------------------------------------------
-- The spend rules over a temporary copy of the lines.
------------------------------------------------------------------------

-- The same rules and messages as 0007's spend_problems.  The spend lines of
-- the vouchers (reversals skipped) are copied once into em_spend, with
-- their date and signed amount; above a thousand lines the copy is
-- ANALYZEd, so that the planner joins 100,000 lines to households by hash,
-- not by 100,000 probes.  CREATE without IF NOT EXISTS: a table of that
-- name that someone else made fails the call instead of being trusted.
CREATE OR REPLACE FUNCTION earmark.spend_problems(b integer, vs bigint[]) RETURNS earmark.problem[]
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp SET work_mem = '64MB' AS $$
DECLARE
	probs earmark.problem[] := '{}';
	r record;
	adv integer := earmark.setting(b, 'advance_share_bp');
	ret integer := earmark.setting(b, 'retention_share_bp');
	ids bigint[];          -- the vouchers that are not reversals
	ids_spend bigint[];    -- those of them with spend lines
	dates date[];
	spend_accts integer[];     -- account ids by kind
	interest_accts integer[];
	n bigint;
	has_project boolean;
	has_household boolean;
	has_interest boolean;
BEGIN
	SELECT pg_catalog.array_agg(voucher_id), pg_catalog.array_agg(voucher_date) INTO ids, dates
	  FROM earmark.voucher WHERE book_id = b AND voucher_id = ANY (vs) AND reverses_id IS NULL;
	IF ids IS NULL THEN
		RETURN probs;
	END IF;
	SELECT pg_catalog.array_agg(account_id) FILTER (WHERE spend), pg_catalog.array_agg(account_id) FILTER (WHERE interest)
	  INTO spend_accts, interest_accts FROM earmark.account WHERE book_id = b;
	has_interest := EXISTS (SELECT 1 FROM earmark.line l
	                         WHERE l.book_id = b AND l.voucher_id = ANY (ids) AND l.account_id = ANY (interest_accts));
	IF NOT EXISTS (SELECT 1 FROM earmark.line l
	                WHERE l.book_id = b AND l.voucher_id = ANY (ids) AND l.account_id = ANY (spend_accts)) THEN
		IF NOT has_interest THEN
			RETURN probs;
		END IF;
		ids_spend := '{}';
	ELSE
		ids_spend := ids;
	END IF;

	CREATE TEMP TABLE em_spend ON COMMIT DROP AS
	SELECT l.voucher_id, l.line_no, l.fund_id, l.project_id, l.village_id, l.household_id, l.category_id,
	       v.voucher_date, CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END AS delta
	  FROM earmark.line l
	  JOIN ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(dates)) AS v(voucher_id, voucher_date) ON v.voucher_id = l.voucher_id
	 WHERE l.book_id = b AND l.voucher_id = ANY (ids_spend) AND l.account_id = ANY (spend_accts);
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n > 1000 THEN
		ANALYZE em_spend;
	END IF;
	SELECT pg_catalog.bool_or(project_id IS NOT NULL), pg_catalog.bool_or(household_id IS NOT NULL)
	  INTO has_project, has_household FROM em_spend;

	IF n > 0 THEN
		-- A3: every spend line has a use category the fund permits and the
		-- negative list in force on the voucher's date does not name.
		FOR r IN
			WITH nl AS (
				SELECT d.voucher_date, x.version, x.valid_from
				  FROM (SELECT DISTINCT voucher_date FROM em_spend) d
				  LEFT JOIN LATERAL (SELECT n.version, n.valid_from FROM earmark.negative_list n
				                      WHERE n.book_id = b AND n.valid_from <= d.voucher_date
				                      ORDER BY n.valid_from DESC LIMIT 1) x ON true
			)
			SELECT l.line_no, f.code AS fund, c.code AS cat, c.name AS cat_name, nl.version, nl.valid_from,
			       fc.category_id IS NOT NULL AS permitted, ni.category_id IS NOT NULL AS negative,
			       (SELECT pg_catalog.string_agg(c2.code, ', ' ORDER BY c2.code)
			          FROM earmark.fund_category fc2
			          JOIN earmark.use_category c2 ON c2.book_id = fc2.book_id AND c2.category_id = fc2.category_id
			         WHERE fc2.book_id = b AND fc2.fund_id = l.fund_id) AS permits
			  FROM em_spend l
			  JOIN nl ON nl.voucher_date = l.voucher_date
			  JOIN earmark.fund f ON f.book_id = b AND f.fund_id = l.fund_id
			  LEFT JOIN earmark.use_category c ON c.book_id = b AND c.category_id = l.category_id
			  LEFT JOIN earmark.fund_category fc
			         ON fc.book_id = b AND fc.fund_id = l.fund_id AND fc.category_id = l.category_id
			  LEFT JOIN earmark.negative_item ni
			         ON ni.book_id = b AND ni.version = nl.version AND ni.category_id = l.category_id
			 WHERE l.category_id IS NULL OR fc.category_id IS NULL OR ni.category_id IS NOT NULL
			 ORDER BY l.voucher_id, l.line_no LIMIT 50
		LOOP
			IF r.cat IS NULL THEN
				probs := probs || ROW('EMA03', pg_catalog.format('line %s: a spending line needs its use category (A3)', r.line_no),
				                      NULL, pg_catalog.format('name one that fund ''%s'' permits: %s', r.fund, COALESCE(r.permits, 'none yet')))::earmark.problem;
			ELSIF r.negative THEN
				probs := probs || ROW('EMA03', pg_catalog.format('line %s: use category ''%s'' (%s) is on the negative list (A3)', r.line_no, r.cat, r.cat_name),
				                      pg_catalog.format('负面清单 version %s, in force from %s', r.version, r.valid_from),
				                      'special funds may not pay for it (专款专用); pay it from the general budget')::earmark.problem;
			ELSE
				probs := probs || ROW('EMA03', pg_catalog.format('line %s: fund ''%s'' does not permit use category ''%s'' (A3)', r.line_no, r.fund, r.cat),
				                      pg_catalog.format('fund ''%s'' permits: %s', r.fund, COALESCE(r.permits, 'nothing')),
				                      'pay it from a fund whose allocation permits this use')::earmark.problem;
			END IF;
		END LOOP;
	END IF;

	IF has_project THEN
		-- P1: money reaches a project only after its approval, with a target.
		FOR r IN
			SELECT s.line_no, p.code, s.voucher_date,
			       EXISTS (SELECT 1 FROM earmark.project_event e
			                WHERE e.book_id = b AND e.project_id = p.project_id AND e.kind = 'approval'
			                  AND e.event_date <= s.voucher_date) AS approved,
			       EXISTS (SELECT 1 FROM earmark.project_target t
			                WHERE t.book_id = b AND t.project_id = p.project_id) AS targeted
			  FROM (SELECT DISTINCT ON (project_id) project_id, line_no, voucher_date
			          FROM em_spend WHERE project_id IS NOT NULL
			         ORDER BY project_id, line_no) s
			  JOIN earmark.project p ON p.book_id = b AND p.project_id = s.project_id
			 ORDER BY p.project_id
		LOOP
			IF NOT r.approved THEN
				probs := probs || ROW('EMP01', pg_catalog.format('line %s: project ''%s'' is not approved (P1)', r.line_no, r.code),
				                      pg_catalog.format('no approval on or before %s', r.voucher_date),
				                      pg_catalog.format('record its approval first: earmark project event %s approval --doc DOC', r.code))::earmark.problem;
			ELSIF NOT r.targeted THEN
				probs := probs || ROW('EMP01', pg_catalog.format('line %s: project ''%s'' has no performance target (P1)', r.line_no, r.code),
				                      NULL, 'record its 绩效目标: earmark master import project_target FILE.csv')::earmark.problem;
			END IF;
		END LOOP;

		-- P2 and P3, per project and fund: the posted total plus these vouchers.
		FOR r IN
			WITH d AS (
				SELECT project_id, fund_id, pg_catalog.max(voucher_date) AS dt, pg_catalog.sum(delta) AS delta,
				       pg_catalog.sum(delta) FILTER (WHERE household_id IS NULL) AS cdelta
				  FROM em_spend WHERE project_id IS NOT NULL
				 GROUP BY project_id, fund_id
			)
			SELECT p.code AS project, f.code AS fund, d.dt, d.delta, COALESCE(d.cdelta, 0) AS cdelta,
			       COALESCE(ps.spent_fen, 0) AS before, COALESCE(ps.contract_fen, 0) AS cbefore,
			       earmark.budget_on(b, d.project_id, d.fund_id, d.dt) AS budget,
			       (SELECT pg_catalog.max(e.progress_pct) FROM earmark.project_event e
			         WHERE e.book_id = b AND e.project_id = d.project_id AND e.kind = 'inspection'
			           AND e.event_date <= d.dt) AS progress,
			       (SELECT pg_catalog.min(e.event_date) FROM earmark.project_event e
			         WHERE e.book_id = b AND e.project_id = d.project_id AND e.kind = 'start'
			           AND e.event_date <= d.dt) AS started,
			       EXISTS (SELECT 1 FROM earmark.project_event e
			                WHERE e.book_id = b AND e.project_id = d.project_id AND e.kind = 'acceptance'
			                  AND e.event_date <= d.dt) AS accepted
			  FROM d
			  JOIN earmark.project p ON p.book_id = b AND p.project_id = d.project_id
			  JOIN earmark.fund f ON f.book_id = b AND f.fund_id = d.fund_id
			  LEFT JOIN earmark.project_spend ps
			         ON ps.book_id = b AND ps.project_id = d.project_id AND ps.fund_id = d.fund_id
			 WHERE d.delta > 0
			 ORDER BY p.code, f.code
		LOOP
			IF r.budget IS NULL THEN
				probs := probs || ROW('EMP02', pg_catalog.format('project ''%s'' has no budget from fund ''%s'' (P2)', r.project, r.fund),
				                      NULL, 'a project is paid only from the funds its approved budget names')::earmark.problem;
				CONTINUE;
			END IF;
			IF r.before + r.delta > r.budget THEN
				probs := probs || ROW('EMP02', pg_catalog.format('payments to project ''%s'' from fund ''%s'' would exceed its budget (P2)', r.project, r.fund),
				                      pg_catalog.format('budget %s on %s, paid before %s, this voucher %s, total %s',
				                                        earmark.fmt_fen(r.budget), r.dt, earmark.fmt_fen(r.before),
				                                        earmark.fmt_fen(r.delta), earmark.fmt_fen(r.before + r.delta)),
				                      'a larger budget needs an approved revision: earmark project revise')::earmark.problem;
				CONTINUE;
			END IF;
			IF NOT r.accepted AND r.cdelta > 0 THEN
				DECLARE
					by_progress numeric := r.budget * COALESCE(r.progress, 0) / 100
					                       + CASE WHEN r.started IS NOT NULL THEN r.budget * adv / 10000.0 ELSE 0 END;
					by_retention numeric := r.budget * (10000 - ret) / 10000.0;
					lim bigint := pg_catalog.floor(LEAST(by_progress, by_retention, r.budget));
				BEGIN
					IF r.cbefore + r.cdelta > lim THEN
						probs := probs || ROW('EMP03',
							CASE WHEN by_retention <= by_progress
							     THEN pg_catalog.format('the retention (质保金) of project ''%s'' is paid only after acceptance (P3)', r.project)
							     ELSE pg_catalog.format('payment to project ''%s'' from fund ''%s'' goes beyond its inspected progress and advance (P3)', r.project, r.fund) END,
							pg_catalog.format('budget %s, inspected progress %s, advance %s (%s), retention %s: at most %s before acceptance; paid before %s, this voucher %s',
							                  earmark.fmt_fen(r.budget), earmark.fmt_pct(COALESCE(r.progress, 0)),
							                  earmark.fmt_pct(adv / 100.0), CASE WHEN r.started IS NULL THEN 'not started' ELSE 'started ' || r.started END,
							                  earmark.fmt_pct(ret / 100.0), earmark.fmt_fen(lim), earmark.fmt_fen(r.cbefore), earmark.fmt_fen(r.cdelta)),
							'record the inspection of the progress (earmark project event P inspection --progress N) or the acceptance first')::earmark.problem;
					END IF;
				END;
			END IF;
		END LOOP;
	END IF;

	IF has_household THEN
		-- H1: a household payment goes to a registered household with a valid
		-- ID number, in a village the project covers.  The number was checked
		-- in full when it was written (household_private_guard); here only
		-- its birth date against the payment's date.
		FOR r IN
			SELECT l.line_no, h.code AS hh, vi.code AS village, p.code AS project, hp.id_no,
			       earmark.id_problem(hp.id_no, l.voucher_date) AS id_bad,
			       l.village_id IS NOT NULL AND l.village_id <> h.village_id AS wrong_village,
			       pv.village_id IS NOT NULL AS covered
			  FROM em_spend l
			  JOIN earmark.household h ON h.book_id = b AND h.household_id = l.household_id
			  JOIN earmark.village vi ON vi.book_id = b AND vi.village_id = h.village_id
			  LEFT JOIN earmark.project p ON p.book_id = b AND p.project_id = l.project_id
			  LEFT JOIN earmark.project_village pv
			         ON pv.book_id = b AND pv.project_id = l.project_id AND pv.village_id = h.village_id
			  LEFT JOIN earmark.household_private hp ON hp.book_id = b AND hp.household_id = h.household_id
			 WHERE p.project_id IS NULL OR pv.village_id IS NULL OR hp.id_no IS NULL
			    OR pg_catalog.substr(hp.id_no, 7, 8) > pg_catalog.to_char(l.voucher_date, 'YYYYMMDD')
			    OR (l.village_id IS NOT NULL AND l.village_id <> h.village_id)
			 ORDER BY l.voucher_id, l.line_no LIMIT 50
		LOOP
			IF r.project IS NULL THEN
				probs := probs || ROW('EMH01', pg_catalog.format('line %s: the payment to household ''%s'' names no project (H1)', r.line_no, r.hh),
				                      NULL, 'a household is paid for a project that covers its village')::earmark.problem;
			ELSIF NOT r.covered THEN
				probs := probs || ROW('EMH01', pg_catalog.format('line %s: household ''%s'' lives in village %s, which project ''%s'' does not cover (H1)', r.line_no, r.hh, r.village, r.project),
				                      NULL, 'pay households only in the villages of the project')::earmark.problem;
			ELSIF r.wrong_village THEN
				probs := probs || ROW('EMH01', pg_catalog.format('line %s: household ''%s'' lives in village %s, not in the village the line names (H1)', r.line_no, r.hh, r.village),
				                      NULL, NULL)::earmark.problem;
			ELSIF r.id_no IS NULL THEN
				probs := probs || ROW('EMH01', pg_catalog.format('line %s: household ''%s'' has no ID number on record (H1)', r.line_no, r.hh),
				                      NULL, 'import the household with its head''s ID number')::earmark.problem;
			ELSE
				probs := probs || ROW('EMH01', pg_catalog.format('line %s: household ''%s'' has an invalid ID number (H1)', r.line_no, r.hh),
				                      pg_catalog.format('%s: %s', earmark.mask_id(r.id_no), r.id_bad), NULL)::earmark.problem;
			END IF;
		END LOOP;

		-- H2 caps, per household, use category and year.
		FOR r IN
			WITH d AS (
				SELECT household_id, category_id, pg_catalog.date_part('year', voucher_date)::smallint AS yr,
				       pg_catalog.sum(delta) AS delta
				  FROM em_spend WHERE household_id IS NOT NULL AND category_id IS NOT NULL
				 GROUP BY 1, 2, 3
			), s AS (
				SELECT d.household_id, d.category_id, d.yr, pg_catalog.sum(hs.spent_fen) AS spent
				  FROM d JOIN earmark.household_spend hs
				    ON hs.book_id = b AND hs.household_id = d.household_id AND hs.category_id = d.category_id
				   AND hs.year = d.yr
				 GROUP BY 1, 2, 3
			)
			SELECT h.code AS hh, c.code AS cat, c.name AS cat_name, d.yr, d.delta, cap.cap_fen,
			       COALESCE(s.spent, 0) AS before
			  FROM d
			  JOIN earmark.household_cap cap ON cap.book_id = b AND cap.category_id = d.category_id AND cap.year = d.yr
			  LEFT JOIN s ON s.household_id = d.household_id AND s.category_id = d.category_id AND s.yr = d.yr
			  JOIN earmark.household h ON h.book_id = b AND h.household_id = d.household_id
			  JOIN earmark.use_category c ON c.book_id = b AND c.category_id = d.category_id
			 WHERE d.delta > 0 AND d.delta + COALESCE(s.spent, 0) > cap.cap_fen
			 ORDER BY h.code LIMIT 50
		LOOP
			probs := probs || ROW('EMH02', pg_catalog.format('household ''%s'' would get more than the cap for %s (%s) in %s (H2)', r.hh, r.cat, r.cat_name, r.yr),
			                      pg_catalog.format('cap %s, paid before %s, this voucher %s', earmark.fmt_fen(r.cap_fen),
			                                        earmark.fmt_fen(r.before), earmark.fmt_fen(r.delta)),
			                      'the caps per household and year are in config/household_caps.csv')::earmark.problem;
		END LOOP;

		-- H3 and the rest of H2, per project and household: paid only what a
		-- beneficiary list, disclosed for its full notice period without an
		-- open objection for the household, grants (at most once per item, at
		-- most the recorded cost).  Why a household is blocked is looked up
		-- only for those that are.
		FOR r IN
			WITH d AS (
				SELECT project_id, household_id, pg_catalog.max(voucher_date) AS dt, pg_catalog.sum(delta) AS delta
				  FROM em_spend WHERE household_id IS NOT NULL AND project_id IS NOT NULL
				 GROUP BY 1, 2
			), paid AS (
				SELECT d.project_id, d.household_id, pg_catalog.sum(hs.spent_fen) AS spent
				  FROM d JOIN earmark.household_spend hs
				    ON hs.book_id = b AND hs.household_id = d.household_id AND hs.project_id = d.project_id
				 GROUP BY 1, 2
			), cleared AS (
				SELECT d.project_id, d.household_id, pg_catalog.sum(bn.amount_fen) AS amount_fen
				  FROM d
				  JOIN earmark.beneficiary_list bl
				    ON bl.book_id = b AND bl.project_id = d.project_id AND bl.published_on + bl.notice_days <= d.dt
				  JOIN earmark.beneficiary bn
				    ON bn.book_id = b AND bn.list_id = bl.list_id AND bn.household_id = d.household_id
				 WHERE NOT EXISTS (SELECT 1 FROM earmark.objection o
				                    WHERE o.book_id = b AND o.list_id = bl.list_id AND o.household_id = d.household_id
				                      AND (o.resolved_on IS NULL OR o.resolved_on > d.dt))
				 GROUP BY 1, 2
			), g AS (
				SELECT d.*, COALESCE(paid.spent, 0) AS before, COALESCE(cl.amount_fen, 0) AS cleared
				  FROM d
				  LEFT JOIN paid ON paid.project_id = d.project_id AND paid.household_id = d.household_id
				  LEFT JOIN cleared cl ON cl.project_id = d.project_id AND cl.household_id = d.household_id
				 WHERE d.delta > 0
			), bad AS (
				SELECT g.*,
				       (SELECT pg_catalog.format('%s|%s|%s|%s', bl.code,
				                   CASE WHEN bl.published_on IS NULL THEN 'unpublished'
				                        WHEN bl.published_on + bl.notice_days > g.dt THEN 'period'
				                        ELSE 'objection' END,
				                   bl.published_on + bl.notice_days,
				                   (SELECT o.raised_on || ': ' || o.reason FROM earmark.objection o
				                     WHERE o.book_id = b AND o.list_id = bl.list_id
				                       AND o.household_id = g.household_id AND (o.resolved_on IS NULL OR o.resolved_on > g.dt)
				                     ORDER BY o.raised_on LIMIT 1))
				          FROM earmark.beneficiary bn
				          JOIN earmark.beneficiary_list bl ON bl.book_id = bn.book_id AND bl.list_id = bn.list_id
				         WHERE bn.book_id = b AND bn.household_id = g.household_id AND bl.project_id = g.project_id
				           AND (bl.published_on IS NULL OR bl.published_on + bl.notice_days > g.dt
				                OR EXISTS (SELECT 1 FROM earmark.objection o
				                            WHERE o.book_id = b AND o.list_id = bl.list_id
				                              AND o.household_id = g.household_id AND (o.resolved_on IS NULL OR o.resolved_on > g.dt)))
				         ORDER BY bl.code LIMIT 1) AS blocked
				  FROM g WHERE g.before + g.delta > g.cleared
			)
			SELECT bad.*, h.code AS hh, p.code AS project,
			       pg_catalog.split_part(bad.blocked, '|', 1) AS list,
			       pg_catalog.split_part(bad.blocked, '|', 2) AS why,
			       pg_catalog.split_part(bad.blocked, '|', 3) AS payable_from,
			       pg_catalog.split_part(bad.blocked, '|', 4) AS objection
			  FROM bad
			  JOIN earmark.household h ON h.book_id = b AND h.household_id = bad.household_id
			  JOIN earmark.project p ON p.book_id = b AND p.project_id = bad.project_id
			 ORDER BY h.code LIMIT 50
		LOOP
			IF r.blocked IS NOT NULL AND r.why = 'unpublished' THEN
				probs := probs || ROW('EMH03', pg_catalog.format('household ''%s'': beneficiary list ''%s'' has not been disclosed (H3)', r.hh, r.list),
				                      NULL, 'publish the list on the village notice board first: earmark list publish')::earmark.problem;
			ELSIF r.blocked IS NOT NULL AND r.why = 'period' THEN
				probs := probs || ROW('EMH03', pg_catalog.format('household ''%s'': the notice period of list ''%s'' has not ended (H3)', r.hh, r.list),
				                      pg_catalog.format('payable from %s; the payment is dated %s', r.payable_from, r.dt),
				                      '公示无异议后拨付: pay after the notice period')::earmark.problem;
			ELSIF r.blocked IS NOT NULL THEN
				probs := probs || ROW('EMH03', pg_catalog.format('household ''%s'' has an unresolved objection on list ''%s'' (H3)', r.hh, r.list),
				                      pg_catalog.format('raised %s', r.objection),
				                      'resolve the objection first: earmark list resolve')::earmark.problem;
			ELSIF r.cleared = 0 THEN
				probs := probs || ROW('EMH03', pg_catalog.format('household ''%s'' is on no beneficiary list of project ''%s'' (H3)', r.hh, r.project),
				                      NULL, 'a household is paid only as a disclosed beneficiary list says')::earmark.problem;
			ELSE
				probs := probs || ROW('EMH02', pg_catalog.format('household ''%s'' would be paid more for project ''%s'' than its beneficiary list grants (H2)', r.hh, r.project),
				                      pg_catalog.format('granted %s, paid before %s, this voucher %s', earmark.fmt_fen(r.cleared),
				                                        earmark.fmt_fen(r.before), earmark.fmt_fen(r.delta)),
				                      'the same household is not paid twice for the same item')::earmark.problem;
			END IF;
		END LOOP;
	END IF;
	DROP TABLE em_spend;

	IF has_interest THEN
		-- A4: interest on a dedicated account is the income of the funds in it,
		-- shared by their balances.
		FOR r IN
			WITH iv AS (
				SELECT l.voucher_id, v.voucher_date,
				       pg_catalog.sum(CASE l.side WHEN 'C' THEN l.amount_fen ELSE -l.amount_fen END)::bigint AS total,
				       (SELECT pg_catalog.min(l2.bank_account_id) FROM earmark.line l2
				         WHERE l2.book_id = b AND l2.voucher_id = l.voucher_id) AS bank,
				       (SELECT pg_catalog.count(DISTINCT l2.bank_account_id) FROM earmark.line l2
				         WHERE l2.book_id = b AND l2.voucher_id = l.voucher_id) AS nbanks
				  FROM earmark.line l
				  JOIN ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(dates)) AS v(voucher_id, voucher_date) ON v.voucher_id = l.voucher_id
				 WHERE l.book_id = b AND l.voucher_id = ANY (ids) AND l.account_id = ANY (interest_accts)
				 GROUP BY l.voucher_id, v.voucher_date
			), got AS (
				SELECT l.voucher_id, l.fund_id,
				       pg_catalog.sum(CASE l.side WHEN 'C' THEN l.amount_fen ELSE -l.amount_fen END)::bigint AS fen
				  FROM earmark.line l
				 WHERE l.book_id = b AND l.voucher_id IN (SELECT voucher_id FROM iv) AND l.account_id = ANY (interest_accts)
				 GROUP BY 1, 2
			)
			SELECT iv.voucher_id, iv.nbanks, da.account_no, f.code AS fund,
			       COALESCE(x.expected, 0) AS expected, COALESCE(x.booked, 0) AS booked
			  FROM iv
			  LEFT JOIN earmark.dedicated_account da ON da.book_id = b AND da.bank_account_id = iv.bank
			  CROSS JOIN LATERAL (
				SELECT COALESCE(s.fund_id, g.fund_id) AS fund_id, s.share_fen AS expected, g.fen AS booked
				  FROM earmark.interest_shares(b, iv.bank, iv.voucher_date, iv.total) s
				  FULL JOIN (SELECT got.fund_id, got.fen FROM got WHERE got.voucher_id = iv.voucher_id) g
				    ON g.fund_id = s.fund_id) x
			  LEFT JOIN earmark.fund f ON f.book_id = b AND f.fund_id = x.fund_id
			 WHERE iv.nbanks <> 1 OR COALESCE(x.expected, 0) <> COALESCE(x.booked, 0)
			 ORDER BY f.code
		LOOP
			IF r.nbanks IS DISTINCT FROM 1 THEN
				probs := probs || ROW('EMA04', 'interest is received into exactly one dedicated account (A4)',
				                      NULL, 'book the interest of each dedicated account on its own voucher')::earmark.problem;
			ELSE
				probs := probs || ROW('EMA04', pg_catalog.format('interest of dedicated account ''%s'' is not shared by the funds'' balances (A4)', r.account_no),
				                      pg_catalog.format('fund ''%s'': by balance %s, booked %s', r.fund,
				                                        earmark.fmt_fen(r.expected), earmark.fmt_fen(r.booked)),
				                      'earmark fund interest computes the shares')::earmark.problem;
			END IF;
		END LOOP;
	END IF;
	RETURN probs;
END
$$;

-- The kept totals at posting, read with the spend accounts as a list
-- rather than a join planned for one line.
CREATE OR REPLACE FUNCTION earmark.spend_keep(b integer, v bigint) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	spend_accts integer[];
	yr smallint;
BEGIN
	SELECT pg_catalog.array_agg(account_id) INTO spend_accts FROM earmark.account WHERE book_id = b AND spend;
	SELECT pg_catalog.date_part('year', voucher_date)::smallint INTO yr
	  FROM earmark.voucher WHERE book_id = b AND voucher_id = v;
	INSERT INTO earmark.project_spend AS ps (book_id, project_id, fund_id, spent_fen, contract_fen)
	SELECT b, l.project_id, l.fund_id,
	       pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END),
	       COALESCE(pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)
	                    FILTER (WHERE l.household_id IS NULL), 0)
	  FROM earmark.line l
	 WHERE l.book_id = b AND l.voucher_id = v AND l.account_id = ANY (spend_accts) AND l.project_id IS NOT NULL
	 GROUP BY l.project_id, l.fund_id
	ON CONFLICT (book_id, project_id, fund_id) DO UPDATE
	   SET spent_fen = ps.spent_fen + EXCLUDED.spent_fen, contract_fen = ps.contract_fen + EXCLUDED.contract_fen;
	INSERT INTO earmark.household_spend AS hs (book_id, household_id, project_id, category_id, year, spent_fen)
	SELECT b, l.household_id, l.project_id, l.category_id, yr,
	       pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)
	  FROM earmark.line l
	 WHERE l.book_id = b AND l.voucher_id = v AND l.account_id = ANY (spend_accts) AND l.household_id IS NOT NULL
	   AND l.project_id IS NOT NULL AND l.category_id IS NOT NULL
	 GROUP BY 2, 3, 4
	ON CONFLICT (book_id, household_id, project_id, category_id, year) DO UPDATE
	   SET spent_fen = hs.spent_fen + EXCLUDED.spent_fen;
END
$$;

------------------------------------------------------------------------
-- The hash chain's escaping, inlinable.
------------------------------------------------------------------------

-- 0002's canon_escape walks a string character by character, a PL/pgSQL
-- call for each of the six text fields of every line.  Almost no field has
-- anything to escape: this SQL function, inlined into canonical_text,
-- returns those as they are and calls the walk only for the rest.  Same
-- results, so the chain of every posted voucher is unchanged.
ALTER FUNCTION earmark.canon_escape(text) RENAME TO canon_escape_walk;
CREATE FUNCTION earmark.canon_escape(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN s OPERATOR(pg_catalog.!~) '[\x01-\x1f\x7f\\]' THEN s ELSE earmark.canon_escape_walk(s) END
$$;
REVOKE ALL ON FUNCTION earmark.canon_escape(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION earmark.canon_escape(text), earmark.canon_escape_walk(text)
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin,
	   earmark_auditor;

------------------------------------------------------------------------
-- pay_batch: the same checks, joined once; only bad lines are looped over.
------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION earmark.pay_batch(p_book text, p_stage bigint, p_code text, p_date date,
                                  p_idem_key text, p_source text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET work_mem = '64MB' AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	dig bytea;
	old earmark.pay_batch;
	probs earmark.problem[] := '{}';
	r record;
	n integer;
	payable bigint;
	payment bigint;
	batch integer;
	pfx text := COALESCE(NULLIF(p_source, ''), 'batch') || ':';
	yr smallint := pg_catalog.date_part('year', p_date);
	neg_version integer;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_clerk', 'prepare payment batches');
	-- Rows a crashed client left behind (UNLOGGED: a server crash empties it anyway).
	DELETE FROM earmark.pay_staging WHERE staged_at < pg_catalog.now() - interval '1 day';
	SELECT pg_catalog.count(*) INTO n FROM earmark.pay_staging WHERE stage_id = p_stage AND staged_by = who;
	IF n = 0 THEN
		RAISE EXCEPTION 'payment batch has no rows' USING ERRCODE = 'EMI01';
	END IF;
	SELECT pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.string_agg(
	           pg_catalog.concat_ws(E'\t', household, amount_fen, project, fund, category, list, item, memo),
	           E'\n' ORDER BY line_no) || E'\n' || p_date || E'\n' || p_code, 'UTF8'))
	  INTO dig FROM earmark.pay_staging WHERE stage_id = p_stage AND staged_by = who;
	IF p_idem_key IS NOT NULL THEN
		SELECT * INTO old FROM earmark.pay_batch WHERE book_id = b AND idem_key = p_idem_key;
		IF FOUND THEN
			IF old.idem_digest = dig THEN
				DELETE FROM earmark.pay_staging WHERE stage_id = p_stage AND staged_by = who;
				RETURN old.code;
			END IF;
			RAISE EXCEPTION 'idempotency key ''%'' was used for another batch (D9)', p_idem_key
				USING ERRCODE = 'EMD09', DETAIL = pg_catalog.format('batch %s was created with this key', old.code);
		END IF;
	END IF;
	IF EXISTS (SELECT 1 FROM earmark.pay_batch WHERE book_id = b AND code = p_code) THEN
		RAISE EXCEPTION 'payment batch ''%'' already exists', p_code USING ERRCODE = 'EMI01',
			HINT = 'give the batch a new code';
	END IF;
	PERFORM earmark.raise_problems(ARRAY[earmark.date_problem(b, p_date)]);
	IF n > 1000 THEN
		ANALYZE earmark.pay_staging;  -- hash joins to households, not n probes
	END IF;
	SELECT nl.version INTO neg_version FROM earmark.negative_list nl
	 WHERE nl.book_id = b AND nl.valid_from <= p_date ORDER BY nl.valid_from DESC LIMIT 1;

	-- Resolve every code once; the rules below read this.
	CREATE TEMP TABLE em_pay ON COMMIT DROP AS
	SELECT s.line_no, s.household, s.amount_fen, s.project, s.fund, s.category, s.list,
	       COALESCE(s.item, '') AS item, COALESCE(s.memo, '') AS memo,
	       h.household_id, h.village_id, h.code AS hh_code, p.project_id, f.fund_id, f.bank_account_id,
	       c.category_id, bl.list_id, bl.project_id AS list_project
	  FROM earmark.pay_staging s
	  LEFT JOIN earmark.household h ON h.book_id = b AND h.code = s.household
	  LEFT JOIN earmark.project p ON p.book_id = b AND p.code = s.project
	  LEFT JOIN earmark.fund f ON f.book_id = b AND f.code = s.fund
	  LEFT JOIN earmark.use_category c ON c.book_id = b AND c.code = s.category
	  LEFT JOIN earmark.beneficiary_list bl ON bl.book_id = b AND bl.code = s.list
	 WHERE s.stage_id = p_stage AND s.staged_by = who;
	ANALYZE em_pay;

	-- Per line: codes, the list, the village, the ID, the category; only
	-- the lines with a problem come back to the loop below.
	FOR r IN
		WITH x AS (
			SELECT e.*, pv.village_id IS NOT NULL AS covered, hp.id_no,
			       bn.amount_fen AS granted, fc.category_id IS NOT NULL AS permitted,
			       ni.category_id IS NOT NULL AS negative,
			       pg_catalog.count(*) OVER (PARTITION BY e.household_id, e.project_id, e.item) AS dup,
			       hpay.end_to_end_id AS paid_by, bl.published_on, bl.published_on + bl.notice_days AS payable_from,
			       o.objection, cap.cap_fen, c.name AS cat_name,
			       pg_catalog.sum(e.amount_fen) OVER (PARTITION BY e.household_id, e.category_id) AS cap_delta,
			       COALESCE(hs.spent, 0) AS cap_before
			  FROM em_pay e
			  LEFT JOIN earmark.household_cap cap
			         ON cap.book_id = b AND cap.category_id = e.category_id AND cap.year = yr
			  LEFT JOIN earmark.use_category c ON c.book_id = b AND c.category_id = e.category_id
			  LEFT JOIN earmark.beneficiary_list bl ON bl.book_id = b AND bl.list_id = e.list_id
			  LEFT JOIN earmark.project_village pv
			         ON pv.book_id = b AND pv.project_id = e.project_id AND pv.village_id = e.village_id
			  LEFT JOIN earmark.household_private hp ON hp.book_id = b AND hp.household_id = e.household_id
			  LEFT JOIN earmark.beneficiary bn
			         ON bn.book_id = b AND bn.list_id = e.list_id AND bn.household_id = e.household_id AND bn.item = e.item
			  LEFT JOIN earmark.fund_category fc
			         ON fc.book_id = b AND fc.fund_id = e.fund_id AND fc.category_id = e.category_id
			  LEFT JOIN earmark.negative_item ni
			         ON ni.book_id = b AND ni.version = neg_version AND ni.category_id = e.category_id
			  LEFT JOIN earmark.household_payment hpay
			         ON hpay.book_id = b AND hpay.project_id = e.project_id AND hpay.household_id = e.household_id
			        AND hpay.item = e.item AND hpay.status <> 'returned'
			  LEFT JOIN (SELECT DISTINCT ON (ob.list_id, ob.household_id) ob.list_id, ob.household_id,
			                    ob.raised_on || ': ' || ob.reason AS objection
			               FROM earmark.objection ob
			              WHERE ob.book_id = b AND (ob.resolved_on IS NULL OR ob.resolved_on > p_date)
			              ORDER BY ob.list_id, ob.household_id, ob.raised_on) o
			         ON o.list_id = e.list_id AND o.household_id = e.household_id
			  LEFT JOIN (SELECT s.household_id, s.category_id, pg_catalog.sum(s.spent_fen) AS spent
			               FROM earmark.household_spend s
			              WHERE s.book_id = b AND s.year = yr AND s.household_id IN (SELECT household_id FROM em_pay)
			              GROUP BY 1, 2) hs
			         ON hs.household_id = e.household_id AND hs.category_id = e.category_id
		)
		SELECT x.*, earmark.id_problem(x.id_no, p_date) AS id_bad
		  FROM x
		 WHERE (x.amount_fen > 0 AND x.household_id IS NOT NULL AND x.project_id IS NOT NULL
		        AND x.fund_id IS NOT NULL AND x.category_id IS NOT NULL AND NOT x.negative AND x.permitted
		        AND x.list_project = x.project_id AND x.granted IS NOT NULL AND x.published_on IS NOT NULL
		        AND x.payable_from <= p_date AND x.objection IS NULL AND x.amount_fen <= x.granted
		        AND x.covered AND pg_catalog.substr(x.id_no, 7, 8) <= pg_catalog.to_char(p_date, 'YYYYMMDD')
		        AND x.dup = 1 AND x.paid_by IS NULL
		        AND (x.cap_fen IS NULL OR x.cap_before + x.cap_delta <= x.cap_fen)) IS NOT TRUE
		 ORDER BY x.line_no
	LOOP
		IF pg_catalog.cardinality(probs) >= 50 THEN
			EXIT;
		END IF;
		IF r.amount_fen IS NULL OR r.amount_fen <= 0 THEN
			probs := probs || ROW('EMI01', pg_catalog.format('%s%s: amount must be above zero', pfx, r.line_no), NULL, NULL)::earmark.problem;
		END IF;
		IF r.household_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s%s: unknown household ''%s''', pfx, r.line_no, COALESCE(r.household, '')), NULL, NULL)::earmark.problem;
		END IF;
		IF r.project_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s%s: unknown project ''%s''', pfx, r.line_no, COALESCE(r.project, '')), NULL, NULL)::earmark.problem;
		END IF;
		IF r.fund_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s%s: unknown fund ''%s''', pfx, r.line_no, COALESCE(r.fund, '')), NULL, NULL)::earmark.problem;
		END IF;
		IF r.category_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s%s: unknown use category ''%s''', pfx, r.line_no, COALESCE(r.category, '')), NULL, NULL)::earmark.problem;
		ELSIF r.negative THEN
			probs := probs || ROW('EMA03', pg_catalog.format('%s%s: use category ''%s'' is on the negative list (A3)', pfx, r.line_no, r.category), NULL, NULL)::earmark.problem;
		ELSIF r.fund_id IS NOT NULL AND NOT r.permitted THEN
			probs := probs || ROW('EMA03', pg_catalog.format('%s%s: fund ''%s'' does not permit use category ''%s'' (A3)', pfx, r.line_no, r.fund, r.category), NULL, NULL)::earmark.problem;
		END IF;
		IF r.list_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s%s: unknown beneficiary list ''%s''', pfx, r.line_no, COALESCE(r.list, '')), NULL, NULL)::earmark.problem;
		ELSIF r.project_id IS NOT NULL AND r.list_project <> r.project_id THEN
			probs := probs || ROW('EMH03', pg_catalog.format('%s%s: list ''%s'' belongs to another project (H3)', pfx, r.line_no, r.list), NULL, NULL)::earmark.problem;
		ELSIF r.household_id IS NOT NULL AND r.granted IS NULL THEN
			probs := probs || ROW('EMH03', pg_catalog.format('%s%s: household ''%s'' is not on list ''%s'' for item ''%s'' (H3)', pfx, r.line_no, r.household, r.list, r.item), NULL,
			                      'a household is paid only as its disclosed beneficiary list says')::earmark.problem;
		ELSIF r.published_on IS NULL THEN
			probs := probs || ROW('EMH03', pg_catalog.format('%s%s: beneficiary list ''%s'' has not been disclosed (H3)', pfx, r.line_no, r.list), NULL,
			                      'publish the list on the village notice board first: earmark list publish')::earmark.problem;
		ELSIF r.payable_from > p_date THEN
			probs := probs || ROW('EMH03', pg_catalog.format('%s%s: the notice period of list ''%s'' has not ended (H3)', pfx, r.line_no, r.list),
			                      pg_catalog.format('payable from %s; the payment is dated %s', r.payable_from, p_date),
			                      '公示无异议后拨付: pay after the notice period')::earmark.problem;
		ELSIF r.objection IS NOT NULL THEN
			probs := probs || ROW('EMH03', pg_catalog.format('%s%s: household ''%s'' has an unresolved objection on list ''%s'' (H3)', pfx, r.line_no, r.household, r.list),
			                      pg_catalog.format('raised %s', r.objection), 'resolve the objection first: earmark list resolve')::earmark.problem;
		ELSIF r.amount_fen > r.granted THEN
			probs := probs || ROW('EMH02', pg_catalog.format('%s%s: household ''%s'' is granted %s on list ''%s'', not %s (H2)', pfx, r.line_no, r.household,
			                      earmark.fmt_fen(r.granted), r.list, earmark.fmt_fen(r.amount_fen)), NULL, NULL)::earmark.problem;
		END IF;
		IF r.household_id IS NOT NULL AND r.project_id IS NOT NULL AND NOT r.covered THEN
			probs := probs || ROW('EMH01', pg_catalog.format('%s%s: household ''%s'' is in a village project ''%s'' does not cover (H1)', pfx, r.line_no, r.household, r.project), NULL, NULL)::earmark.problem;
		END IF;
		IF r.household_id IS NOT NULL AND r.id_no IS NULL THEN
			probs := probs || ROW('EMH01', pg_catalog.format('%s%s: household ''%s'' has no ID number on record (H1)', pfx, r.line_no, r.household), NULL, NULL)::earmark.problem;
		ELSIF r.household_id IS NOT NULL AND r.id_bad IS NOT NULL THEN
			probs := probs || ROW('EMH01', pg_catalog.format('%s%s: household ''%s'' has an invalid ID number (H1)', pfx, r.line_no, r.household), r.id_bad, NULL)::earmark.problem;
		END IF;
		IF r.household_id IS NOT NULL AND r.paid_by IS NULL AND r.cap_fen IS NOT NULL
		   AND r.cap_before + r.cap_delta > r.cap_fen THEN
			probs := probs || ROW('EMH02', pg_catalog.format('%s%s: household ''%s'' would get more than the cap for %s (%s) in %s (H2)',
			                      pfx, r.line_no, r.household, r.category, r.cat_name, pg_catalog.date_part('year', p_date)),
			                      pg_catalog.format('cap %s, paid before %s, this voucher %s', earmark.fmt_fen(r.cap_fen),
			                                        earmark.fmt_fen(r.cap_before), earmark.fmt_fen(r.cap_delta)),
			                      'the caps per household and year are in config/household_caps.csv')::earmark.problem;
		END IF;
		IF r.household_id IS NOT NULL AND r.dup > 1 THEN
			probs := probs || ROW('EMH02', pg_catalog.format('%s%s: household ''%s'' appears more than once for item ''%s'' of project ''%s'' (H2)', pfx, r.line_no, r.household, r.item, r.project), NULL, NULL)::earmark.problem;
		END IF;
		IF r.paid_by IS NOT NULL THEN
			probs := probs || ROW('EMH02', pg_catalog.format('%s%s: household ''%s'' was already paid for item ''%s'' of project ''%s'' (H2)', pfx, r.line_no, r.household, r.item, r.project),
			                      pg_catalog.format('payment %s', r.paid_by), 'the same household is not paid twice for the same item')::earmark.problem;
		END IF;
	END LOOP;
	PERFORM earmark.raise_problems(probs,
		pg_catalog.format('payment batch refused: %s%s problem%s; nothing was written',
		                  CASE WHEN pg_catalog.cardinality(probs) >= 50 THEN 'at least ' ELSE '' END,
		                  pg_catalog.cardinality(probs), CASE WHEN pg_catalog.cardinality(probs) = 1 THEN '' ELSE 's' END));

	-- The batch and its vouchers.  Every line of the payable voucher was
	-- checked above, so lines_guard skips its draft-time spend check of it;
	-- review and posting check it again against the kept totals.
	INSERT INTO earmark.voucher (book_id, vtype, voucher_date, memo, prepared_by, prepared_at)
	VALUES (b, '转', p_date, '到户补助 ' || p_code || ' 应付', who, pg_catalog.now()) RETURNING voucher_id INTO payable;
	INSERT INTO earmark.voucher (book_id, vtype, voucher_date, memo, prepared_by, prepared_at)
	VALUES (b, '付', p_date, '到户补助 ' || p_code || ' 支付', who, pg_catalog.now()) RETURNING voucher_id INTO payment;
	INSERT INTO earmark.pay_batch (book_id, code, pay_date, source, payable_voucher_id, payment_voucher_id,
	                               idem_key, idem_digest, created_by)
	VALUES (b, p_code, p_date, COALESCE(p_source, ''), payable, payment, p_idem_key,
	        CASE WHEN p_idem_key IS NOT NULL THEN dig END, who)
	RETURNING batch_id INTO batch;
	INSERT INTO earmark.household_payment (book_id, batch_id, line_no, household_id, project_id, fund_id,
	                                       category_id, list_id, item, amount_fen, end_to_end_id, status_by)
	SELECT b, batch, e.line_no, e.household_id, e.project_id, e.fund_id, e.category_id, e.list_id, e.item,
	       e.amount_fen, pg_catalog.left(p_code, 24) || '-' || pg_catalog.lpad(e.line_no::text, 6, '0'), who
	  FROM em_pay e;

	-- Payable: Dr 5001 per household, Cr 2303 per fund.
	INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id,
	                          project_id, village_id, household_id, category_id, memo)
	SELECT b, payable, pg_catalog.row_number() OVER (ORDER BY x.ord, x.k1, x.k2)::integer, x.account_id, x.side,
	       x.amount_fen, x.fund_id, x.project_id, x.village_id, x.household_id, x.category_id, x.memo
	  FROM (SELECT 1 AS ord, e.line_no AS k1, 0 AS k2, a.account_id, 'D' AS side, e.amount_fen, e.fund_id,
	               e.project_id, e.village_id, e.household_id, e.category_id,
	               pg_catalog.left(COALESCE(NULLIF(e.memo, ''), '到户补助') || ' ' || e.hh_code, 200) AS memo
	          FROM em_pay e JOIN earmark.account a ON a.book_id = b AND a.code = '5001'
	        UNION ALL
	        SELECT 2, e.fund_id, 0, a.account_id, 'C', pg_catalog.sum(e.amount_fen)::bigint, e.fund_id,
	               NULL, NULL, NULL, NULL, '应付到户补助 ' || p_code
	          FROM em_pay e JOIN earmark.account a ON a.book_id = b AND a.code = '2303'
	         GROUP BY e.fund_id, a.account_id) x;
	-- Payment: Dr 2303 / Cr 1002 per fund, from its dedicated account.
	INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id,
	                          bank_account_id, memo)
	SELECT b, payment, pg_catalog.row_number() OVER (ORDER BY x.fund_id, x.side DESC)::integer, x.account_id,
	       x.side, x.amount_fen, x.fund_id, x.bank_account_id, '支付到户补助 ' || p_code
	  FROM (SELECT e.fund_id, a.account_id, a.code, CASE a.code WHEN '2303' THEN 'D' ELSE 'C' END AS side,
	               pg_catalog.sum(e.amount_fen)::bigint AS amount_fen,
	               CASE WHEN a.is_bank THEN pg_catalog.min(e.bank_account_id) END AS bank_account_id
	          FROM em_pay e JOIN earmark.account a ON a.book_id = b AND a.code IN ('2303', '1002')
	         GROUP BY e.fund_id, a.account_id, a.code, a.is_bank) x;
	PERFORM earmark.raise_problems(earmark.balance_problems(b, payable));
	PERFORM earmark.raise_problems(earmark.balance_problems(b, payment));
	DELETE FROM earmark.pay_staging WHERE stage_id = p_stage AND staged_by = who;
	DROP TABLE em_pay;
	RETURN p_code;
END
$$;

------------------------------------------------------------------------
-- Per voucher: the balance by fund and the canonical text, for any size.
------------------------------------------------------------------------

-- D1/D2 as in 0002; the lines are summed per fund before the fund's code
-- is joined, so a 100,000-line voucher is one pass, not 100,000 joins.
CREATE OR REPLACE FUNCTION earmark.balance_problems(b integer, v bigint) RETURNS earmark.problem[]
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
		SELECT f.code, x.d, x.c
		  FROM (SELECT l.fund_id,
		               COALESCE(pg_catalog.sum(l.amount_fen) FILTER (WHERE l.side = 'D'), 0) AS d,
		               COALESCE(pg_catalog.sum(l.amount_fen) FILTER (WHERE l.side = 'C'), 0) AS c
		          FROM earmark.line l
		         WHERE l.book_id = b AND l.voucher_id = v
		         GROUP BY l.fund_id) x
		  JOIN earmark.fund f ON f.book_id = b AND f.fund_id = x.fund_id
		 ORDER BY f.code
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

-- D8's canonical text as in 0002, the same text.  For a voucher of more
-- than a thousand lines the planner, which expects a voucher to have a few,
-- is kept from joining its lines to their codes one by one: the lines are
-- hashed against the code tables instead.  Planned afresh on every call
-- (force_custom_plan), so that the setting always applies; the function's
-- own SET restores it on return.
CREATE OR REPLACE FUNCTION earmark.canonical_text(v earmark.voucher) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan SET enable_nestloop = on SET work_mem = '64MB' AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM earmark.line
	            WHERE book_id = v.book_id AND voucher_id = v.voucher_id AND line_no > 1000) THEN
		PERFORM pg_catalog.set_config('enable_nestloop', 'off', true);
	END IF;
	RETURN (
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
	);
END
$$;
