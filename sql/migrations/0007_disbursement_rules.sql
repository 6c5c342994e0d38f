-- 0007 the disbursement rules: A3, A4, P1-P3 and H1-H3 of DESIGN section 4,
-- inside PostgreSQL.
--
-- The rules look at the spend lines (account.spend: expenses and advances)
-- and interest lines (account.interest) of a voucher and are checked twice:
--
--   line AFTER INSERT/UPDATE/DELETE, per statement   D3 and A1/D4 as before
--       (these replace 0002's row trigger so that a batch voucher of 100,000
--       lines is checked in a few set-based queries, not 100,000 calls), then
--       spend_problems for the drafts touched: an early refusal
--   voucher BEFORE UPDATE (voucher_rules, after     spend_problems again at
--       voucher_guard by name, so under the           review and at posting,
--       book's chain_head lock)                       then the kept totals
--
-- Reversals (D4) skip the checks: they mirror a voucher that passed them.
-- Kept totals (project_spend, household_spend) include only posted
-- vouchers, so "paid before" is always the posted truth.
--
-- SQLSTATEs: EMA03, EMA04, EMP01-EMP03, EMH01-EMH03.

-- A book's rule setting, or its default (config/rules.csv sets them).
CREATE FUNCTION earmark.setting(b integer, p_key text) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT COALESCE((SELECT value FROM earmark.book_setting WHERE book_id = b AND key = p_key),
	                CASE p_key WHEN 'advance_share_bp' THEN 3000
	                           WHEN 'retention_share_bp' THEN 300
	                           WHEN 'notice_days' THEN 10 END)
$$;

-- P2: a project's budget from a fund on a date: the latest revision in
-- force, else the original plan; NULL when the fund gives it nothing.
-- 30.00 -> '30', 2.50 -> '2.5': shares and progress in messages.
CREATE FUNCTION earmark.fmt_pct(x numeric) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
	SELECT pg_catalog.rtrim(pg_catalog.rtrim(pg_catalog.round(x, 2)::text, '0'), '.') || '%'
$$;

CREATE FUNCTION earmark.budget_on(b integer, p integer, f integer, d date) RETURNS bigint
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT COALESCE((SELECT r.amount_fen FROM earmark.budget_revision r
	                  WHERE r.book_id = b AND r.project_id = p AND r.fund_id = f AND r.revised_on <= d
	                  ORDER BY r.revised_on DESC, r.revision_id DESC LIMIT 1),
	                pb.original_fen)
	  FROM earmark.project_budget pb
	 WHERE pb.book_id = b AND pb.project_id = p AND pb.fund_id = f
$$;

-- A4: interest of amount total_fen on a dedicated account on date d, shared
-- by the funds it holds in proportion to their balances at the end of d;
-- rounding by largest remainder so that the shares add up exactly.
CREATE FUNCTION earmark.interest_shares(b integer, p_bank integer, d date, total_fen bigint)
RETURNS TABLE (fund_id integer, balance_fen bigint, share_fen bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	WITH bal AS (
		SELECT l.fund_id,
		       pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)::bigint AS bal
		  FROM earmark.line l
		  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
		 WHERE l.book_id = b AND l.bank_account_id = p_bank AND v.status = 'posted'
		   AND v.voucher_date <= d
		 GROUP BY l.fund_id
		HAVING pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END) > 0
	), raw AS (
		SELECT bal.fund_id, bal.bal, f.code,
		       total_fen::numeric * bal.bal / pg_catalog.sum(bal.bal) OVER () AS exact
		  FROM bal JOIN earmark.fund f ON f.book_id = b AND f.fund_id = bal.fund_id
	), floored AS (
		SELECT raw.*, pg_catalog.floor(exact)::bigint AS base,
		       total_fen - pg_catalog.sum(pg_catalog.floor(exact)) OVER () AS left_over,
		       pg_catalog.row_number() OVER (ORDER BY exact - pg_catalog.floor(exact) DESC, code) AS rank
		  FROM raw
	)
	SELECT floored.fund_id, floored.bal, floored.base + CASE WHEN rank <= left_over THEN 1 ELSE 0 END
	  FROM floored
$$;

-- Every disbursement rule for the non-reversal vouchers vs, as they stand
-- against the posted kept totals.  At most 50 problems are listed.
CREATE FUNCTION earmark.spend_problems(b integer, vs bigint[]) RETURNS earmark.problem[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	probs earmark.problem[] := '{}';
	r record;
	adv integer := earmark.setting(b, 'advance_share_bp');
	ret integer := earmark.setting(b, 'retention_share_bp');
	has_spend boolean;     -- which groups of rules apply to these vouchers' lines
	has_project boolean;
	has_household boolean;
	has_interest boolean;
BEGIN
	-- Which rules have anything to look at: most vouchers have no spend
	-- line, and most spend lines no project or household.
	SELECT COALESCE(pg_catalog.bool_or(a.spend), false),
	       COALESCE(pg_catalog.bool_or(a.spend AND l.project_id IS NOT NULL), false),
	       COALESCE(pg_catalog.bool_or(a.spend AND l.household_id IS NOT NULL), false),
	       COALESCE(pg_catalog.bool_or(a.interest), false)
	  INTO has_spend, has_project, has_household, has_interest
	  FROM earmark.line l
	  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
	  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
	 WHERE l.book_id = b AND l.voucher_id = ANY (vs) AND v.reverses_id IS NULL;

	IF has_spend THEN
		-- A3: every spend line has a use category the fund permits and the
		-- negative list in force on the voucher's date does not name.
		FOR r IN
			SELECT l.line_no, f.code AS fund, c.code AS cat, c.name AS cat_name, nl.version, nl.valid_from,
			       fc.category_id IS NOT NULL AS permitted, ni.category_id IS NOT NULL AS negative,
			       (SELECT pg_catalog.string_agg(c2.code, ', ' ORDER BY c2.code)
			          FROM earmark.fund_category fc2
			          JOIN earmark.use_category c2 ON c2.book_id = fc2.book_id AND c2.category_id = fc2.category_id
			         WHERE fc2.book_id = b AND fc2.fund_id = l.fund_id) AS permits
			  FROM earmark.line l
			  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
			  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
			  JOIN earmark.fund f ON f.book_id = l.book_id AND f.fund_id = l.fund_id
			  LEFT JOIN earmark.use_category c ON c.book_id = l.book_id AND c.category_id = l.category_id
			  LEFT JOIN earmark.fund_category fc
			         ON fc.book_id = l.book_id AND fc.fund_id = l.fund_id AND fc.category_id = l.category_id
			  LEFT JOIN LATERAL (SELECT n.version, n.valid_from FROM earmark.negative_list n
			                      WHERE n.book_id = b AND n.valid_from <= v.voucher_date
			                      ORDER BY n.valid_from DESC LIMIT 1) nl ON true
			  LEFT JOIN earmark.negative_item ni
			         ON ni.book_id = b AND ni.version = nl.version AND ni.category_id = l.category_id
			 WHERE l.book_id = b AND l.voucher_id = ANY (vs) AND v.reverses_id IS NULL AND a.spend
			   AND (l.category_id IS NULL OR fc.category_id IS NULL OR ni.category_id IS NOT NULL)
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
			SELECT DISTINCT ON (p.project_id) l.line_no, p.code, v.voucher_date,
			       EXISTS (SELECT 1 FROM earmark.project_event e
			                WHERE e.book_id = b AND e.project_id = p.project_id AND e.kind = 'approval'
			                  AND e.event_date <= v.voucher_date) AS approved,
			       EXISTS (SELECT 1 FROM earmark.project_target t
			                WHERE t.book_id = b AND t.project_id = p.project_id) AS targeted
			  FROM earmark.line l
			  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
			  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
			  JOIN earmark.project p ON p.book_id = l.book_id AND p.project_id = l.project_id
			 WHERE l.book_id = b AND l.voucher_id = ANY (vs) AND v.reverses_id IS NULL AND a.spend
			 ORDER BY p.project_id, l.line_no
		LOOP
			IF NOT r.approved THEN
				probs := probs || ROW('EMP01', pg_catalog.format('line %s: project ''%s'' is not approved (P1)', r.line_no, r.code),
				                      pg_catalog.format('no approval on or before %s', r.voucher_date),
				                      pg_catalog.format('record its approval first: earmark project event %s approval --doc DOC', r.code))::earmark.problem;
			ELSIF NOT r.targeted THEN
				probs := probs || ROW('EMP01', pg_catalog.format('line %s: project ''%s'' has no performance target (P1)', r.line_no, r.code),
				                      NULL, 'record its 绩效目标 with the project (targets column)')::earmark.problem;
			END IF;
		END LOOP;

		-- P2 and P3, per project and fund: the posted total plus these vouchers.
		FOR r IN
			WITH d AS (
				SELECT l.project_id, l.fund_id, pg_catalog.max(v.voucher_date) AS dt,
				       pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END) AS delta,
				       pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)
				           FILTER (WHERE l.household_id IS NULL) AS cdelta
				  FROM earmark.line l
				  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
				  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
				 WHERE l.book_id = b AND l.voucher_id = ANY (vs) AND v.reverses_id IS NULL AND a.spend
				   AND l.project_id IS NOT NULL
				 GROUP BY l.project_id, l.fund_id
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
		-- ID number, in a village the project covers.
		FOR r IN
			SELECT l.line_no, h.code AS hh, vi.code AS village, p.code AS project, hp.id_no,
			       earmark.id_problem(hp.id_no, v.voucher_date) AS id_bad,
			       l.village_id IS NOT NULL AND l.village_id <> h.village_id AS wrong_village,
			       pv.village_id IS NOT NULL AS covered
			  FROM earmark.line l
			  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
			  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
			  JOIN earmark.household h ON h.book_id = l.book_id AND h.household_id = l.household_id
			  JOIN earmark.village vi ON vi.book_id = h.book_id AND vi.village_id = h.village_id
			  LEFT JOIN earmark.project p ON p.book_id = l.book_id AND p.project_id = l.project_id
			  LEFT JOIN earmark.project_village pv
			         ON pv.book_id = l.book_id AND pv.project_id = l.project_id AND pv.village_id = h.village_id
			  LEFT JOIN earmark.household_private hp
			         ON hp.book_id = h.book_id AND hp.household_id = h.household_id
			 WHERE l.book_id = b AND l.voucher_id = ANY (vs) AND v.reverses_id IS NULL AND a.spend
			   AND (p.project_id IS NULL OR pv.village_id IS NULL OR hp.id_no IS NULL
			        OR earmark.id_problem(hp.id_no, v.voucher_date) IS NOT NULL
			        OR (l.village_id IS NOT NULL AND l.village_id <> h.village_id))
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
				SELECT l.household_id, l.category_id,
				       pg_catalog.date_part('year', v.voucher_date)::smallint AS yr,
				       pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END) AS delta
				  FROM earmark.line l
				  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
				  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
				 WHERE l.book_id = b AND l.voucher_id = ANY (vs) AND v.reverses_id IS NULL AND a.spend
				   AND l.household_id IS NOT NULL AND l.category_id IS NOT NULL
				 GROUP BY 1, 2, 3
			)
			SELECT h.code AS hh, c.code AS cat, c.name AS cat_name, d.yr, d.delta, cap.cap_fen,
			       COALESCE((SELECT pg_catalog.sum(s.spent_fen) FROM earmark.household_spend s
			                  WHERE s.book_id = b AND s.household_id = d.household_id
			                    AND s.category_id = d.category_id AND s.year = d.yr), 0) AS before
			  FROM d
			  JOIN earmark.household_cap cap ON cap.book_id = b AND cap.category_id = d.category_id AND cap.year = d.yr
			  JOIN earmark.household h ON h.book_id = b AND h.household_id = d.household_id
			  JOIN earmark.use_category c ON c.book_id = b AND c.category_id = d.category_id
			 WHERE d.delta > 0
			   AND d.delta + COALESCE((SELECT pg_catalog.sum(s.spent_fen) FROM earmark.household_spend s
			                            WHERE s.book_id = b AND s.household_id = d.household_id
			                              AND s.category_id = d.category_id AND s.year = d.yr), 0) > cap.cap_fen
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
		-- most the recorded cost).
		FOR r IN
			WITH d AS (
				SELECT l.project_id, l.household_id, pg_catalog.max(v.voucher_date) AS dt,
				       pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END) AS delta
				  FROM earmark.line l
				  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
				  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
				 WHERE l.book_id = b AND l.voucher_id = ANY (vs) AND v.reverses_id IS NULL AND a.spend
				   AND l.household_id IS NOT NULL AND l.project_id IS NOT NULL
				 GROUP BY 1, 2
			), g AS (
				SELECT d.*,
				       COALESCE((SELECT pg_catalog.sum(s.spent_fen) FROM earmark.household_spend s
				                  WHERE s.book_id = b AND s.household_id = d.household_id
				                    AND s.project_id = d.project_id), 0) AS before,
				       COALESCE((SELECT pg_catalog.sum(bn.amount_fen)
				                   FROM earmark.beneficiary bn
				                   JOIN earmark.beneficiary_list bl ON bl.book_id = bn.book_id AND bl.list_id = bn.list_id
				                  WHERE bn.book_id = b AND bn.household_id = d.household_id
				                    AND bl.project_id = d.project_id
				                    AND bl.published_on + bl.notice_days <= d.dt
				                    AND NOT EXISTS (SELECT 1 FROM earmark.objection o
				                                     WHERE o.book_id = b AND o.list_id = bl.list_id
				                                       AND o.household_id = d.household_id
				                                       AND (o.resolved_on IS NULL OR o.resolved_on > d.dt))), 0) AS cleared,
				       (SELECT pg_catalog.format('%s|%s|%s|%s', bl.code,
				                   CASE WHEN bl.published_on IS NULL THEN 'unpublished'
				                        WHEN bl.published_on + bl.notice_days > d.dt THEN 'period'
				                        ELSE 'objection' END,
				                   bl.published_on + bl.notice_days,
				                   (SELECT o.raised_on || ': ' || o.reason FROM earmark.objection o
				                     WHERE o.book_id = b AND o.list_id = bl.list_id
				                       AND o.household_id = d.household_id AND (o.resolved_on IS NULL OR o.resolved_on > d.dt)
				                     ORDER BY o.raised_on LIMIT 1))
				          FROM earmark.beneficiary bn
				          JOIN earmark.beneficiary_list bl ON bl.book_id = bn.book_id AND bl.list_id = bn.list_id
				         WHERE bn.book_id = b AND bn.household_id = d.household_id AND bl.project_id = d.project_id
				           AND (bl.published_on IS NULL OR bl.published_on + bl.notice_days > d.dt
				                OR EXISTS (SELECT 1 FROM earmark.objection o
				                            WHERE o.book_id = b AND o.list_id = bl.list_id
				                              AND o.household_id = d.household_id AND (o.resolved_on IS NULL OR o.resolved_on > d.dt)))
				         ORDER BY bl.code LIMIT 1) AS blocked
				  FROM d WHERE d.delta > 0
			)
			SELECT g.*, h.code AS hh, p.code AS project,
			       pg_catalog.split_part(g.blocked, '|', 1) AS list,
			       pg_catalog.split_part(g.blocked, '|', 2) AS why,
			       pg_catalog.split_part(g.blocked, '|', 3) AS payable_from,
			       pg_catalog.split_part(g.blocked, '|', 4) AS objection
			  FROM g
			  JOIN earmark.household h ON h.book_id = b AND h.household_id = g.household_id
			  JOIN earmark.project p ON p.book_id = b AND p.project_id = g.project_id
			 WHERE g.before + g.delta > g.cleared
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
				  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
				  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
				 WHERE l.book_id = b AND l.voucher_id = ANY (vs) AND v.reverses_id IS NULL AND a.interest
				 GROUP BY l.voucher_id, v.voucher_date
			), got AS (
				SELECT l.voucher_id, l.fund_id,
				       pg_catalog.sum(CASE l.side WHEN 'C' THEN l.amount_fen ELSE -l.amount_fen END)::bigint AS fen
				  FROM earmark.line l
				  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
				 WHERE l.book_id = b AND l.voucher_id IN (SELECT voucher_id FROM iv) AND a.interest
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

-- The kept totals, at posting, for all spend lines (reversals included).
CREATE FUNCTION earmark.spend_keep(b integer, v bigint) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
	INSERT INTO earmark.project_spend AS ps (book_id, project_id, fund_id, spent_fen, contract_fen)
	SELECT b, l.project_id, l.fund_id,
	       pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END),
	       COALESCE(pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)
	                    FILTER (WHERE l.household_id IS NULL), 0)
	  FROM earmark.line l JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
	 WHERE l.book_id = b AND l.voucher_id = v AND a.spend AND l.project_id IS NOT NULL
	 GROUP BY l.project_id, l.fund_id
	ON CONFLICT (book_id, project_id, fund_id) DO UPDATE
	   SET spent_fen = ps.spent_fen + EXCLUDED.spent_fen, contract_fen = ps.contract_fen + EXCLUDED.contract_fen;
	INSERT INTO earmark.household_spend AS hs (book_id, household_id, project_id, category_id, year, spent_fen)
	SELECT b, l.household_id, l.project_id, l.category_id, pg_catalog.date_part('year', vo.voucher_date)::smallint,
	       pg_catalog.sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END)
	  FROM earmark.line l
	  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
	  JOIN earmark.voucher vo ON vo.book_id = l.book_id AND vo.voucher_id = l.voucher_id
	 WHERE l.book_id = b AND l.voucher_id = v AND a.spend AND l.household_id IS NOT NULL
	   AND l.project_id IS NOT NULL AND l.category_id IS NOT NULL
	 GROUP BY 2, 3, 4, 5
	ON CONFLICT (book_id, household_id, project_id, category_id, year) DO UPDATE
	   SET spent_fen = hs.spent_fen + EXCLUDED.spent_fen;
$$;

CREATE FUNCTION earmark.voucher_rules() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF OLD.reverses_id IS NULL AND NEW.status <> 'draft' THEN
		PERFORM earmark.raise_problems(earmark.spend_problems(OLD.book_id, ARRAY[OLD.voucher_id]));
	END IF;
	IF NEW.status = 'posted' THEN
		PERFORM earmark.spend_keep(OLD.book_id, OLD.voucher_id);
	END IF;
	RETURN NEW;
END
$$;

-- Named to fire after voucher_guard (triggers fire by name), which has
-- checked the state change and, at posting, taken the chain_head lock.
CREATE TRIGGER voucher_rules BEFORE UPDATE ON earmark.voucher
	FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
	EXECUTE FUNCTION earmark.voucher_rules();

-- 0002's row trigger on line, set-based: D3 (drafts only, by their
-- preparer), A1 and D4 signs, then the disbursement rules for the drafts.
DROP TRIGGER line_guard ON earmark.line;
DROP FUNCTION earmark.line_guard();

CREATE FUNCTION earmark.lines_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name;
	ids bigint[];
	b integer;
	r record;
	probs earmark.problem[] := '{}';
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

	-- A1 and D4: find the offending lines set-based, then say why with
	-- 0002's line_problems.
	FOR r IN
		SELECT n.line_no, n.account_id, n.amount_fen, n.fund_id, n.bank_account_id,
		       v.reverses_id IS NOT NULL AS is_reversal
		  FROM new_lines n
		  JOIN earmark.voucher v ON v.book_id = n.book_id AND v.voucher_id = n.voucher_id
		  JOIN earmark.account a ON a.book_id = n.book_id AND a.account_id = n.account_id
		  JOIN earmark.fund f ON f.book_id = n.book_id AND f.fund_id = n.fund_id
		 WHERE (n.amount_fen < 0) <> (v.reverses_id IS NOT NULL)
		    OR (a.is_bank AND n.bank_account_id IS DISTINCT FROM f.bank_account_id)
		    OR (NOT a.is_bank AND n.bank_account_id IS NOT NULL)
		 ORDER BY n.voucher_id, n.line_no LIMIT 50
	LOOP
		probs := probs || earmark.line_problems(b, 'line ' || r.line_no, r.account_id, r.amount_fen,
		                                        r.fund_id, r.bank_account_id, r.is_reversal);
	END LOOP;
	PERFORM earmark.raise_problems(probs);
	PERFORM earmark.raise_problems(earmark.spend_problems(b, ids));
	RETURN NULL;
END
$$;

CREATE TRIGGER lines_guard_insert AFTER INSERT ON earmark.line
	REFERENCING NEW TABLE AS new_lines
	FOR EACH STATEMENT EXECUTE FUNCTION earmark.lines_guard();
CREATE TRIGGER lines_guard_update AFTER UPDATE ON earmark.line
	REFERENCING OLD TABLE AS old_lines NEW TABLE AS new_lines
	FOR EACH STATEMENT EXECUTE FUNCTION earmark.lines_guard();
CREATE TRIGGER lines_guard_delete AFTER DELETE ON earmark.line
	REFERENCING OLD TABLE AS old_lines
	FOR EACH STATEMENT EXECUTE FUNCTION earmark.lines_guard();

-- H1: ID numbers upgraded to 18 characters and checked on the way in;
-- one person, one household.
CREATE FUNCTION earmark.household_private_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	why text;
	other text;
BEGIN
	NEW.id_no := earmark.id_upgrade(pg_catalog.btrim(NEW.id_no));
	why := earmark.id_problem(NEW.id_no, CURRENT_DATE);
	IF why IS NOT NULL THEN
		RAISE EXCEPTION 'invalid ID number % (H1)', earmark.mask_id(NEW.id_no)
			USING ERRCODE = 'EMH01', DETAIL = why,
			      HINT = 'copy the 18-character number from the 居民身份证 (GB 11643)';
	END IF;
	SELECT h.code INTO other FROM earmark.household_private p
	  JOIN earmark.household h ON h.book_id = p.book_id AND h.household_id = p.household_id
	 WHERE p.book_id = NEW.book_id AND p.id_no = NEW.id_no AND p.household_id <> NEW.household_id;
	IF FOUND THEN
		RAISE EXCEPTION 'ID number % is already registered for household ''%'' (H1)', earmark.mask_id(NEW.id_no), other
			USING ERRCODE = 'EMH01', HINT = 'one person belongs to one household; correct the number or the household';
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER household_private_guard BEFORE INSERT OR UPDATE ON earmark.household_private
	FOR EACH ROW EXECUTE FUNCTION earmark.household_private_guard();

-- P2: a revision beyond 10 % over the original plan needs re-approval.
CREATE FUNCTION earmark.budget_revision_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	orig bigint;
	pcode text;
BEGIN
	SELECT pb.original_fen, p.code INTO orig, pcode
	  FROM earmark.project_budget pb JOIN earmark.project p USING (book_id, project_id)
	 WHERE pb.book_id = NEW.book_id AND pb.project_id = NEW.project_id AND pb.fund_id = NEW.fund_id;
	IF NEW.revised_on > CURRENT_DATE THEN
		RAISE EXCEPTION 'budget revision dated % is in the future', NEW.revised_on USING ERRCODE = 'EMD07';
	END IF;
	IF NEW.amount_fen * 10 > orig * 11 AND NEW.reapproval_doc = '' THEN
		RAISE EXCEPTION 'budget of project ''%'' more than 10%% over the original plan needs re-approval (P2)', pcode
			USING ERRCODE = 'EMP02',
			      DETAIL = pg_catalog.format('original %s, revised %s (+%s%%)', earmark.fmt_fen(orig),
			                                 earmark.fmt_fen(NEW.amount_fen),
			                                 pg_catalog.round((NEW.amount_fen - orig) * 100.0 / orig, 1)),
			      HINT = 'name the re-approval document: --reapproval DOC';
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER budget_revision_guard BEFORE INSERT ON earmark.budget_revision
	FOR EACH ROW EXECUTE FUNCTION earmark.budget_revision_guard();

-- The project's life in order: approved, then started, then accepted;
-- nothing dated in the future.
CREATE FUNCTION earmark.project_event_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	approved date;
	pcode text;
BEGIN
	SELECT code INTO pcode FROM earmark.project WHERE book_id = NEW.book_id AND project_id = NEW.project_id;
	IF NEW.event_date > CURRENT_DATE THEN
		RAISE EXCEPTION 'project event dated % is in the future', NEW.event_date USING ERRCODE = 'EMD07';
	END IF;
	IF NEW.kind <> 'approval' THEN
		SELECT event_date INTO approved FROM earmark.project_event
		 WHERE book_id = NEW.book_id AND project_id = NEW.project_id AND kind = 'approval';
		IF approved IS NULL OR approved > NEW.event_date THEN
			RAISE EXCEPTION 'project ''%'' is not approved on % (P1)', pcode, NEW.event_date
				USING ERRCODE = 'EMP01', HINT = 'record the approval (立项批复) first';
		END IF;
	END IF;
	IF NEW.kind = 'acceptance' AND NOT EXISTS (
		SELECT 1 FROM earmark.project_event WHERE book_id = NEW.book_id AND project_id = NEW.project_id
		   AND kind = 'start' AND event_date <= NEW.event_date) THEN
		RAISE EXCEPTION 'project ''%'' cannot be accepted before it started', pcode USING ERRCODE = 'EMP03';
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER project_event_guard BEFORE INSERT ON earmark.project_event
	FOR EACH ROW EXECUTE FUNCTION earmark.project_event_guard();

-- A beneficiary list is fixed once published (what was disclosed is what is
-- paid), and names only households of the villages its project covers (H1).
CREATE FUNCTION earmark.beneficiary_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	l earmark.beneficiary_list;
	r earmark.beneficiary := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
	hcode text;
BEGIN
	SELECT * INTO l FROM earmark.beneficiary_list WHERE book_id = r.book_id AND list_id = r.list_id;
	IF l.published_on IS NOT NULL THEN
		RAISE EXCEPTION 'beneficiary list ''%'' was published on % and cannot change (H3)', l.code, l.published_on
			USING ERRCODE = 'EMH03', HINT = 'make a new list and disclose it for its own notice period';
	END IF;
	IF TG_OP <> 'DELETE' THEN
		SELECT h.code INTO hcode FROM earmark.household h
		 WHERE h.book_id = r.book_id AND h.household_id = r.household_id
		   AND NOT EXISTS (SELECT 1 FROM earmark.project_village pv
		                    WHERE pv.book_id = h.book_id AND pv.project_id = l.project_id
		                      AND pv.village_id = h.village_id);
		IF FOUND THEN
			RAISE EXCEPTION 'household ''%'' is not in a village of the list''s project (H1)', hcode
				USING ERRCODE = 'EMH01';
		END IF;
		RETURN NEW;
	END IF;
	RETURN OLD;
END
$$;

CREATE TRIGGER beneficiary_guard BEFORE INSERT OR UPDATE OR DELETE ON earmark.beneficiary
	FOR EACH ROW EXECUTE FUNCTION earmark.beneficiary_guard();

-- Payments move issued -> sent -> paid | returned; paid may still come back.
CREATE FUNCTION earmark.household_payment_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF (NEW.book_id, NEW.payment_id, NEW.batch_id, NEW.line_no, NEW.household_id, NEW.project_id,
	    NEW.fund_id, NEW.category_id, NEW.list_id, NEW.item, NEW.amount_fen, NEW.end_to_end_id)
	   IS DISTINCT FROM
	   (OLD.book_id, OLD.payment_id, OLD.batch_id, OLD.line_no, OLD.household_id, OLD.project_id,
	    OLD.fund_id, OLD.category_id, OLD.list_id, OLD.item, OLD.amount_fen, OLD.end_to_end_id) THEN
		RAISE EXCEPTION 'payment % cannot change, only its status (D3)', OLD.end_to_end_id USING ERRCODE = 'EMD03';
	END IF;
	IF NEW.status <> OLD.status AND (OLD.status, NEW.status) NOT IN
	   (('issued', 'sent'), ('sent', 'paid'), ('sent', 'returned'), ('paid', 'returned')) THEN
		RAISE EXCEPTION 'payment % cannot go from % to %', OLD.end_to_end_id, OLD.status, NEW.status
			USING ERRCODE = 'EMS01', HINT = 'payments go issued -> sent -> paid or returned';
	END IF;
	NEW.status_at := pg_catalog.now();
	NEW.status_by := earmark.actor();
	RETURN NEW;
END
$$;

CREATE TRIGGER household_payment_guard BEFORE UPDATE ON earmark.household_payment
	FOR EACH ROW EXECUTE FUNCTION earmark.household_payment_guard();

-- Staged batch rows belong to whoever inserted them: the stamp is not the
-- client's to choose.
CREATE FUNCTION earmark.pay_staging_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	NEW.staged_by := current_user;
	NEW.staged_at := pg_catalog.now();
	RETURN NEW;
END
$$;

CREATE TRIGGER pay_staging_stamp BEFORE INSERT OR UPDATE ON earmark.pay_staging
	FOR EACH ROW EXECUTE FUNCTION earmark.pay_staging_stamp();

-- What was disclosed is what is paid: a published list's header does not change.
CREATE FUNCTION earmark.beneficiary_list_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF OLD.published_on IS NOT NULL THEN
		RAISE EXCEPTION 'beneficiary list ''%'' was published on % and cannot change (H3)', OLD.code, OLD.published_on
			USING ERRCODE = 'EMH03', HINT = 'make a new list and disclose it for its own notice period';
	END IF;
	IF TG_OP = 'DELETE' THEN
		RETURN OLD;
	END IF;
	RETURN NEW;
END
$$;

CREATE TRIGGER beneficiary_list_guard BEFORE UPDATE OR DELETE ON earmark.beneficiary_list
	FOR EACH ROW EXECUTE FUNCTION earmark.beneficiary_list_guard();
