-- 0020: single vouchers (issue 7's posting benchmark), and what a
-- posting of a few lines paid for in every call.
--
-- Measured with tests/bench/posting.sh (BENCH_HOLD, auto_explain of the
-- nested statements of one 4-line voucher at one client): drafting took
-- 7 ms, reviewing 4.4 ms and posting 13 ms, against 0.5 ms for a
-- TPC-B-like transaction.  Three things took most of it:
--
-- 1. The spend rules made their work table em_spend afresh in every call
--    (CREATE TEMP TABLE ... ON COMMIT DROP, then DROP).  That writes the
--    catalog, and every statement that reads the new table is planned
--    again, in each of the three calls per voucher: 3.5 ms a call.  The
--    table is now made once per session, by spend_work, as earmark_owner
--    (so no caller can own it, change it or put a rule or trigger on it;
--    spend_work refuses a table of that name that earmark_owner did not
--    make), ON COMMIT DELETE ROWS, and emptied at the start of each call;
--    the rules' plans stay cached for the session.  200 calls for one
--    voucher: 4.4 ms a call before, 0.6 ms after.
--
-- 2. canonical_text was planned afresh on every call (force_custom_plan,
--    0010), so that a voucher of more than a thousand lines is always
--    joined to its codes by hash.  Only such a voucher now switches to
--    custom plans (set_config, restored on return by the function's own
--    SET); a voucher of a few lines uses the cached plan: 2.5 ms a posting.
--
-- 3. A2 read every posted line of the fund dated on or after the
--    voucher, twice, so a posting cost more with every voucher of the
--    same day (1.5 ms each after 700 vouchers, growing).  When nothing of
--    the fund on a bank account is dated after the voucher (day_balance
--    says so; posting in date order, the common case), the only day-end
--    balance the voucher changes is its own day's, the fund's cash now
--    plus the voucher; the lines are read only for a voucher dated before
--    a posted one.
--
-- 4. PostgreSQL 15 parses and plans a LANGUAGE sql function that it cannot
--    inline (a SET clause, SECURITY DEFINER, a subquery) on every call;
--    PL/pgSQL keeps the plan for the session.  setting (6 calls a voucher),
--    batch_unchanged (6), large_voucher (3), is_carry_forward (3),
--    rule_epoch_of, chain_step and spend_rows are now PL/pgSQL with the
--    same queries.  spend_rows and report_keep took "vs IS NULL OR
--    voucher_id = ANY (vs)", which no cached plan can use an index for, so
--    PostgreSQL planned them afresh every time; the posting's case (the
--    vouchers given) and the reports' or backfill's (a date range, or all)
--    are now separate statements.  Over 300 vouchers (track_functions):
--    batch_unchanged 0.2 ms a call before, 0.015 after; spend_rows 1.45 ms,
--    then 0.56.
--
-- 5. A voucher's spend rules ran three times, at the draft, the review and
--    the posting, though between them nothing they read had usually
--    changed.  0019's record of a batch's check now serves every voucher:
--    spend_problems reads the book's rule epoch before the rules read
--    anything, and when they find nothing it records the voucher with that
--    epoch and its date (voucher_checked).  Review and posting then skip
--    the spend rules while the epoch and the date are the same, and D1/D2
--    while the lines are (0019's batch_unchanged; a change to the lines
--    drops the record, and so does the posting).  As in pay_batch, a
--    transaction that raised the epoch itself clears its mark first, so a
--    later change in the same transaction raises it again.  Not recorded:
--    a voucher with interest lines (A4 shares the interest by the funds'
--    balances, which other postings change without raising the epoch),
--    and a batch's vouchers, which pay_batch records itself.

------------------------------------------------------------------------
-- 1. The spend rules' work table, once per session.
------------------------------------------------------------------------

-- Makes pg_temp.em_spend when the session has none, empties it, or
-- (analyze) gathers its statistics.  SECURITY DEFINER: the table belongs to
-- earmark_owner whoever calls the rules, so only earmark can alter it; its
-- rows are anyone's in the session (the rules run as their caller), and
-- they are gone at commit.
CREATE FUNCTION earmark.spend_work(p_analyze boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	t regclass := pg_catalog.to_regclass('pg_temp.em_spend');
BEGIN
	IF t IS NULL THEN
		CREATE TEMP TABLE em_spend (
			voucher_id bigint NOT NULL,
			line_no integer NOT NULL,
			fund_id integer NOT NULL,
			project_id integer,
			village_id integer,
			household_id integer,
			category_id integer,
			voucher_date date NOT NULL,
			delta bigint NOT NULL
		) ON COMMIT DELETE ROWS;
		GRANT SELECT, INSERT ON em_spend TO PUBLIC;
		RETURN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_class c
	                WHERE c.oid = t AND c.relkind = 'r' AND c.relowner = current_user::regrole) THEN
		RAISE EXCEPTION 'a temporary table em_spend that earmark did not make is in the way of the spend rules'
			USING ERRCODE = '42P07', HINT = 'drop it (DROP TABLE pg_temp.em_spend) or use a new session';
	END IF;
	IF p_analyze THEN
		ANALYZE em_spend;
	ELSE
		DELETE FROM em_spend;
	END IF;
END
$$;
REVOKE ALL ON FUNCTION earmark.spend_work(boolean) FROM PUBLIC;

-- 0010's rules (0015 renamed them spend_problems_of, 0017 turned JIT off),
-- over the session's em_spend.
CREATE OR REPLACE FUNCTION earmark.spend_problems_of(b integer, vs bigint[]) RETURNS earmark.problem[]
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp SET work_mem = '64MB' SET jit = off AS $$
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

	PERFORM earmark.spend_work(false);
	INSERT INTO em_spend (voucher_id, line_no, fund_id, project_id, village_id, household_id, category_id,
	                      voucher_date, delta)
	SELECT l.voucher_id, l.line_no, l.fund_id, l.project_id, l.village_id, l.household_id, l.category_id,
	       v.voucher_date, CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END AS delta
	  FROM earmark.line l
	  JOIN ROWS FROM (pg_catalog.unnest(ids), pg_catalog.unnest(dates)) AS v(voucher_id, voucher_date) ON v.voucher_id = l.voucher_id
	 WHERE l.book_id = b AND l.voucher_id = ANY (ids_spend) AND l.account_id = ANY (spend_accts);
	GET DIAGNOSTICS n = ROW_COUNT;
	IF n > 1000 THEN
		PERFORM earmark.spend_work(true);
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

------------------------------------------------------------------------
-- 2. The canonical text planned once per session for a short voucher.
------------------------------------------------------------------------

-- As in 0019, the same bytes; force_custom_plan only above a thousand lines.
CREATE OR REPLACE FUNCTION earmark.canonical_text(v earmark.voucher) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = auto SET enable_nestloop = on SET work_mem = '64MB' SET jit = off AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM earmark.line
	            WHERE book_id = v.book_id AND voucher_id = v.voucher_id AND line_no > 1000) THEN
		PERFORM pg_catalog.set_config('enable_nestloop', 'off', true);
		PERFORM pg_catalog.set_config('plan_cache_mode', 'force_custom_plan', true);
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
			         pg_catalog.concat_ws(E'\t', 'line', l.line_no, l.account, l.side, l.amount_fen, l.fund,
			                              COALESCE(l.project, ''), COALESCE(l.village, ''),
			                              COALESCE(l.household, ''), COALESCE(l.bank_account, ''),
			                              COALESCE(l.category, ''), earmark.canon_escape(l.memo)) || E'\n',
			         '' ORDER BY l.line_no)
			  FROM earmark.line_coded l
			 WHERE l.book_id = v.book_id AND l.voucher_id = v.voucher_id), '')
		  FROM earmark.book bk
		  LEFT JOIN earmark.voucher o ON o.book_id = v.book_id AND o.voucher_id = v.reverses_id
		 WHERE bk.book_id = v.book_id
	);
END
$$;

------------------------------------------------------------------------
-- 3. A2 without the day's lines when the voucher is the latest.
------------------------------------------------------------------------

-- 0002's posting, with A2's shortcut; the rest is unchanged.
CREATE OR REPLACE FUNCTION earmark.post_into(INOUT v earmark.voucher, who name)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	head earmark.chain_head;
	r record;
	n integer;
	later_fen bigint;
	low_fen bigint;
	low_day date;
	has_later boolean;
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
		-- Posted in date order (the common case), no posted movement of the
		-- fund on a bank account is dated after this voucher, and the only
		-- day-end balance it changes is its own day's: the fund's cash now
		-- plus this voucher.  day_balance, kept at every posting, says so
		-- without reading the day's lines (A1: a fund's bank lines are all in
		-- its one dedicated account).
		SELECT COALESCE(pg_catalog.bool_or(db.day > v.voucher_date), false),
		       COALESCE(pg_catalog.sum(db.debit_fen - db.credit_fen) FILTER (WHERE db.day = v.voucher_date), 0)::bigint
		  INTO has_later, later_fen
		  FROM earmark.day_balance db
		  JOIN earmark.account a ON a.book_id = db.book_id AND a.account_id = db.account_id
		 WHERE db.book_id = v.book_id AND db.day >= v.voucher_date AND db.fund_id = r.fund_id AND a.is_bank;
		IF NOT has_later THEN
			low_day := v.voucher_date;
			low_fen := r.total_fen + r.delta_fen;
		ELSE
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
		END IF;
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

------------------------------------------------------------------------
-- 4. SQL functions that were planned on every call, in PL/pgSQL.
------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION earmark.setting(b integer, p_key text) RETURNS integer
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN COALESCE((SELECT value FROM earmark.book_setting WHERE book_id = b AND key = p_key),
	                CASE p_key WHEN 'advance_share_bp' THEN 3000
	                           WHEN 'retention_share_bp' THEN 300
	                           WHEN 'notice_days' THEN 10 END);
END
$$;

CREATE OR REPLACE FUNCTION earmark.is_carry_forward(b integer, v bigint) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN EXISTS (SELECT 1 FROM earmark.carry_forward c WHERE c.book_id = b AND c.voucher_id = v);
END
$$;

CREATE OR REPLACE FUNCTION earmark.large_voucher(b integer, v bigint) RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN EXISTS (SELECT 1 FROM earmark.line WHERE book_id = b AND voucher_id = v AND line_no > 1000);
END
$$;

CREATE OR REPLACE FUNCTION earmark.rule_epoch_of(b integer) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN COALESCE((SELECT e.epoch FROM earmark.rule_epoch e WHERE e.book_id = b), 0);
END
$$;

CREATE OR REPLACE FUNCTION earmark.batch_unchanged(b integer, v bigint, rules boolean) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN EXISTS (SELECT 1 FROM earmark.batch_checked c
	                 JOIN earmark.voucher vo ON vo.book_id = c.book_id AND vo.voucher_id = c.voucher_id
	                WHERE c.book_id = b AND c.voucher_id = v
	                  AND (NOT rules OR (vo.voucher_date = c.voucher_date AND c.epoch = earmark.rule_epoch_of(b))));
END
$$;

CREATE OR REPLACE FUNCTION earmark.chain_step(prev bytea, v earmark.voucher) RETURNS bytea
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
BEGIN
	RETURN pg_catalog.sha256(prev || pg_catalog.convert_to(earmark.canonical_text(v), 'UTF8'));
END
$$;

-- 0015's spend rows (no carry-forward), the two cases apart: the
-- posting's vouchers by their key, a report's range by date.
CREATE OR REPLACE FUNCTION earmark.spend_rows(b integer, vs bigint[], d_from date, d_to date)
RETURNS TABLE (day date, fund_id integer, project_id integer, village_id integer,
               to_household boolean, spent_fen bigint, line_count bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF vs IS NOT NULL THEN
		RETURN QUERY
		SELECT v.voucher_date, l.fund_id, l.project_id, COALESCE(h.village_id, l.village_id),
		       l.household_id IS NOT NULL,
		       pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)::bigint,
		       pg_catalog.count(*)
		  FROM earmark.voucher v
		  JOIN earmark.line l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id
		  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
		  LEFT JOIN earmark.household h ON h.book_id = l.book_id AND h.household_id = l.household_id
		 WHERE v.book_id = b AND v.voucher_id = ANY (vs) AND a.spend
		   AND NOT EXISTS (SELECT 1 FROM earmark.carry_forward c WHERE c.book_id = b AND c.voucher_id = v.voucher_id)
		 GROUP BY 1, 2, 3, 4, 5;
		RETURN;
	END IF;
	RETURN QUERY
	SELECT v.voucher_date, l.fund_id, l.project_id, COALESCE(h.village_id, l.village_id),
	       l.household_id IS NOT NULL,
	       pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)::bigint,
	       pg_catalog.count(*)
	  FROM earmark.voucher v
	  JOIN earmark.line l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id
	  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
	  LEFT JOIN earmark.household h ON h.book_id = l.book_id AND h.household_id = l.household_id
	 WHERE v.book_id = b AND v.status = 'posted' AND v.voucher_date BETWEEN d_from AND d_to AND a.spend
	   AND NOT EXISTS (SELECT 1 FROM earmark.carry_forward c WHERE c.book_id = b AND c.voucher_id = v.voucher_id)
	 GROUP BY 1, 2, 3, 4, 5;
END
$$;

-- 0013's kept totals; the backfill (vs NULL) names the posted vouchers, so
-- that one statement with the vouchers by key serves both.
CREATE OR REPLACE FUNCTION earmark.report_keep(b integer, vs bigint[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF vs IS NULL THEN
		SELECT pg_catalog.array_agg(voucher_id) INTO vs FROM earmark.voucher WHERE book_id = b AND status = 'posted';
	END IF;
	INSERT INTO earmark.day_balance AS db (book_id, day, account_id, fund_id, debit_fen, credit_fen, line_count)
	SELECT b, v.voucher_date, l.account_id, l.fund_id,
	       COALESCE(pg_catalog.sum(l.amount_fen) FILTER (WHERE l.side = 'D'), 0),
	       COALESCE(pg_catalog.sum(l.amount_fen) FILTER (WHERE l.side = 'C'), 0), pg_catalog.count(*)
	  FROM earmark.voucher v JOIN earmark.line l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id
	 WHERE v.book_id = b AND v.voucher_id = ANY (vs)
	 GROUP BY 2, 3, 4
	ON CONFLICT (book_id, day, account_id, fund_id) DO UPDATE
	   SET debit_fen = db.debit_fen + EXCLUDED.debit_fen, credit_fen = db.credit_fen + EXCLUDED.credit_fen,
	       line_count = db.line_count + EXCLUDED.line_count;
	WITH s AS (
		SELECT * FROM earmark.spend_rows(b, COALESCE(vs, '{}'), '-infinity', 'infinity')
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

------------------------------------------------------------------------
-- 5. Every voucher's check recorded, as 0019 did a batch's.
------------------------------------------------------------------------

-- The epoch the rules are about to read under (0019's rule_epoch_of),
-- after clearing this transaction's own mark, so that a change later in it
-- raises the epoch again (as pay_batch does).
CREATE FUNCTION earmark.rule_epoch_read(b integer) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	UPDATE earmark.rule_epoch SET bumped_xid = NULL
	 WHERE book_id = b AND bumped_xid = pg_catalog.pg_current_xact_id_if_assigned();
	RETURN earmark.rule_epoch_of(b);
END
$$;
REVOKE ALL ON FUNCTION earmark.rule_epoch_read(integer) FROM PUBLIC;

-- Vouchers vs of book b passed the spend rules at epoch e: recorded as
-- batch_unchanged reads it, that is with D1/D2 holding too (balance_problems
-- skips a recorded voucher), but for a voucher with interest lines (A4 reads
-- balances the epoch does not follow), a batch's (pay_batch records those)
-- and a posted one (never checked again).
CREATE FUNCTION earmark.voucher_checked(b integer, vs bigint[], e bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT vo.voucher_id, vo.voucher_date FROM earmark.voucher vo
		 WHERE vo.book_id = b AND vo.voucher_id = ANY (vs) AND vo.status <> 'posted'
		   AND NOT EXISTS (SELECT 1 FROM earmark.pay_batch pb
		                    WHERE pb.book_id = b AND vo.voucher_id IN (pb.payable_voucher_id, pb.payment_voucher_id))
		   AND NOT EXISTS (SELECT 1 FROM earmark.line l
		                     JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
		                    WHERE l.book_id = b AND l.voucher_id = vo.voucher_id AND a.interest)
	LOOP
		IF pg_catalog.cardinality(earmark.balance_problems(b, r.voucher_id)) = 0 THEN
			INSERT INTO earmark.batch_checked AS c (book_id, voucher_id, epoch, voucher_date)
			VALUES (b, r.voucher_id, e, r.voucher_date)
			ON CONFLICT (book_id, voucher_id) DO UPDATE SET epoch = EXCLUDED.epoch, voucher_date = EXCLUDED.voucher_date;
		END IF;
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION earmark.voucher_checked(integer, bigint[], bigint) FROM PUBLIC;

-- 0019's wrapper, recording what passed.
CREATE OR REPLACE FUNCTION earmark.spend_problems(b integer, vs bigint[]) RETURNS earmark.problem[]
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
	ids bigint[];
	e bigint;
	probs earmark.problem[];
BEGIN
	SELECT pg_catalog.array_agg(x.id) INTO ids FROM pg_catalog.unnest(vs) x(id)
	 WHERE NOT EXISTS (SELECT 1 FROM earmark.carry_forward c WHERE c.book_id = b AND c.voucher_id = x.id)
	   AND NOT earmark.batch_unchanged(b, x.id, true);
	IF ids IS NULL THEN
		RETURN '{}';
	END IF;
	e := earmark.rule_epoch_read(b);
	probs := earmark.spend_problems_of(b, ids);
	IF pg_catalog.cardinality(probs) = 0 THEN
		PERFORM earmark.voucher_checked(b, ids, e);
	END IF;
	RETURN probs;
END
$$;
