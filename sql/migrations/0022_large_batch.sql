-- 0022: a household batch of 100,000 lines checked and posted within its
-- 5 seconds (issue 3, DESIGN section 10, flow 4), with every check it had.
--
-- Measured per statement with pg_stat_statements (track = all) over
-- tests/bench/pay_batch.sh's county, `pay batch` of 100,000 lines, on the
-- 2-core machine (load 1 to 4, so the figures are rough):
--
-- 1. pay_batch ANALYZEd the staged rows (115 to 140 ms) and its em_pay work
--    table (130 to 150 ms) with the server's statistics target, 100: a
--    sample of 30,000 rows each, about a seventh of the batch's checking
--    time.  The statistics are there so that the planner joins the batch to
--    households by hash and sizes its groupings, which needs row counts and
--    numbers of distinct values, not fine histograms: with a target of 10
--    each ANALYZE samples 3,000 rows and takes 15 to 40 ms, and the plans
--    stay the same (hash joins and hash aggregates throughout).  The same
--    for spend_work's ANALYZE of em_spend, which a large voucher drafted by
--    hand runs.  default_statistics_target is read only by ANALYZE.
--
-- 2. H2's "the same household twice for one item in a batch" grouped all
--    100,000 lines by household, project and item and joined the groups
--    back, on every batch: 200 ms of the 600 to 1,000 ms of the rules query.
--    The unique index household_payment_once (0006) refuses the same thing
--    when the payments are written.  So the checks run first without that
--    grouping, and a second time with it (dups) when they refuse any line,
--    so that every problem is still named at once and in line order, or
--    when household_payment_once refuses the payments, so that the message
--    names both lines as before.  Nothing is written twice: the writes are
--    in the block of the checks, and a refusal rolls the block back.
--
-- 3. The statement triggers that stand in for the foreign keys of
--    household_payment and line (0010) joined the batch's 100,000 payments
--    and 100,000 lines to households, projects, funds, categories, lists,
--    villages and accounts again: 250 ms.  pay_batch resolved every one of
--    those references itself, in this book, a moment before (em_pay's
--    joins by code, the accounts by code, the village of the household,
--    the dedicated account of the fund; a line without one is refused),
--    and masters are never deleted or moved to another book (0010's
--    master_keep).  So while pay_batch writes them it records its
--    transaction in refs_resolved, and the triggers skip the references
--    query; the row is deleted as soon as the writes are done, so no other
--    statement of the transaction is spared, and no job can write the
--    table.  Every other writer is checked as before; D3, A1 and D4 are
--    checked for the batch as before.
--
-- Tried and left out, measured the same way:
-- - canonical_text (D8) with format() instead of concat_ws: the same bytes,
--   30 % faster as a bare query, no difference inside the function.
-- - household_spend kept by MERGE instead of INSERT ... ON CONFLICT: 180 ms
--   faster for a first batch, but it joins by hash (large vouchers run with
--   nested loops off) and so reads every row of the book's household_spend,
--   which for a county in its fifth year costs more than it saves; with
--   nested loops on, it planned a 50-second nested loop from stale
--   statistics.
-- - D9's digest query without its count(DISTINCT line_no) (left to the
--   payments' unique key): under 10 ms of its 290.
-- - household_spend's new keys by a plain INSERT after probing the index,
--   ON CONFLICT only for the keys already there: no faster.

------------------------------------------------------------------------
-- 3. The references pay_batch resolved itself.
------------------------------------------------------------------------

-- A transaction in which pay_batch is writing rows whose references it
-- resolved.  UNLOGGED: a row never outlives its transaction.  No job may
-- read or write it; pay_batch (SECURITY DEFINER) does, and the statement
-- triggers read it as the function that fired them.
CREATE UNLOGGED TABLE earmark.refs_resolved (
	xid xid8 PRIMARY KEY
);
REVOKE ALL ON earmark.refs_resolved FROM PUBLIC;

CREATE FUNCTION earmark.refs_resolved() RETURNS boolean
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN EXISTS (SELECT 1 FROM earmark.refs_resolved WHERE xid = pg_catalog.pg_current_xact_id());
END
$$;
REVOKE ALL ON FUNCTION earmark.refs_resolved() FROM PUBLIC;

------------------------------------------------------------------------
-- pay_batch as in 0019, with 1., 2. and 3.
------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION earmark.pay_batch(p_book text, p_stage bigint, p_code text, p_date date,
                                  p_idem_key text, p_source text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET work_mem = '64MB'
SET jit = off SET enable_mergejoin = off SET default_statistics_target = 10 AS $$
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
	ep bigint;
	distinct_lines integer;
	dups boolean := false;  -- H2's duplicate lines counted by the checks (0022)
	failed text;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_clerk', 'prepare payment batches');
	-- The rule epoch before anything is read (see the head of 0019): a
	-- change that commits after this is a reason to check again at posting.
	ep := earmark.rule_epoch_of(b);
	UPDATE earmark.rule_epoch SET bumped_xid = NULL
	 WHERE book_id = b AND bumped_xid = pg_catalog.pg_current_xact_id_if_assigned();
	-- The rows are counted and hashed (D9) in one pass over the stage.
	SELECT pg_catalog.count(*), pg_catalog.count(DISTINCT line_no),
	       pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.string_agg(
	           pg_catalog.concat_ws(E'\t', household, amount_fen, project, fund, category, list, item, memo),
	           E'\n' ORDER BY line_no) || E'\n' || p_date || E'\n' || p_code, 'UTF8'))
	  INTO n, distinct_lines, dig
	  FROM earmark.pay_staging WHERE stage_id = p_stage AND staged_by = who;
	IF n = 0 THEN
		RAISE EXCEPTION 'payment batch has no rows' USING ERRCODE = 'EMI01';
	END IF;
	IF distinct_lines <> n THEN  -- what pay_staging's primary key said (7. above)
		RAISE EXCEPTION 'payment batch rows must have distinct line numbers' USING ERRCODE = 'EMI01',
			DETAIL = pg_catalog.format('%s rows, %s line numbers', n, distinct_lines);
	END IF;
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

	-- The checks and the writes, once; a second time (dups) when a line is
	-- refused or household_payment_once finds a household paid twice for
	-- one item in this batch (see the head of 0022).
	<<checking>>
	LOOP
		BEGIN
			probs := '{}';
			-- Per line: codes, the list, the village, the ID, the category; only
			-- the lines with a problem come back to the loop below.
			FOR r IN
				WITH x AS (
					SELECT e.*, pv.village_id IS NOT NULL AS covered, hp.id_no,
					       bn.amount_fen AS granted, fc.category_id IS NOT NULL AS permitted,
					       ni.category_id IS NOT NULL AS negative,
					       COALESCE(dd.n, 1) AS dup,
					       hpay.end_to_end_id AS paid_by, bl.published_on, bl.published_on + bl.notice_days AS payable_from,
					       o.objection, cap.cap_fen, c.name AS cat_name,
					       cd.delta AS cap_delta,
					       COALESCE(hs.spent, 0) AS cap_before
					  FROM em_pay e
					  -- Per household the same item twice (on the second pass only,
					  -- 0022), and the batch's sum per use category: grouped over the
					  -- narrow rows and joined back by hash, not windows that sort the
					  -- wide ones (0019).
					  LEFT JOIN (SELECT household_id, project_id, item, pg_catalog.count(*) AS n
					               FROM em_pay WHERE dups GROUP BY 1, 2, 3) dd
					         ON dd.household_id = e.household_id AND dd.project_id = e.project_id AND dd.item = e.item
					  LEFT JOIN (SELECT household_id, category_id, pg_catalog.sum(amount_fen) AS delta
					               FROM em_pay GROUP BY 1, 2) cd
					         ON cd.household_id = e.household_id AND cd.category_id = e.category_id
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
				IF NOT dups THEN
					-- A line is refused: check again with the duplicates
					-- counted, so that every problem is named at once, in
					-- line order.
					dups := true;
					CONTINUE checking;
				END IF;
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
			-- H2/H3 over all the lists of a project (0019): what was paid to a
			-- household for the project before, plus this batch, within what its
			-- disclosed lists without an open objection grant it.  Only where
			-- something was paid before can this fail (see the head of 0019), so
			-- the lists are summed for those households only; and only once the
			-- lines themselves passed, so that no line is refused twice for one
			-- payment.
			IF pg_catalog.cardinality(probs) = 0 THEN
				FOR r IN
					WITH d AS (
						SELECT e.household_id, e.project_id, pg_catalog.min(e.line_no) AS line_no,
						       pg_catalog.sum(e.amount_fen) AS delta
						  FROM em_pay e
						 WHERE e.household_id IS NOT NULL AND e.project_id IS NOT NULL
						 GROUP BY 1, 2
					), paid AS (
						SELECT d.household_id, d.project_id, d.line_no, d.delta, pg_catalog.sum(hs.spent_fen) AS before
						  FROM d JOIN earmark.household_spend hs
						    ON hs.book_id = b AND hs.household_id = d.household_id AND hs.project_id = d.project_id
						 GROUP BY 1, 2, 3, 4
						HAVING pg_catalog.sum(hs.spent_fen) > 0
					), cleared AS (
						SELECT paid.household_id, paid.project_id, pg_catalog.sum(bn.amount_fen) AS amount_fen
						  FROM paid
						  JOIN earmark.beneficiary_list bl
						    ON bl.book_id = b AND bl.project_id = paid.project_id AND bl.published_on + bl.notice_days <= p_date
						  JOIN earmark.beneficiary bn
						    ON bn.book_id = b AND bn.list_id = bl.list_id AND bn.household_id = paid.household_id
						 WHERE NOT EXISTS (SELECT 1 FROM earmark.objection o
						                    WHERE o.book_id = b AND o.list_id = bl.list_id AND o.household_id = paid.household_id
						                      AND (o.resolved_on IS NULL OR o.resolved_on > p_date))
						 GROUP BY 1, 2
					)
					SELECT paid.line_no, h.code AS household, p.code AS project, paid.before, paid.delta,
					       COALESCE(cl.amount_fen, 0) AS cleared
					  FROM paid
					  LEFT JOIN cleared cl ON cl.household_id = paid.household_id AND cl.project_id = paid.project_id
					  JOIN earmark.household h ON h.book_id = b AND h.household_id = paid.household_id
					  JOIN earmark.project p ON p.book_id = b AND p.project_id = paid.project_id
					 WHERE paid.before + paid.delta > COALESCE(cl.amount_fen, 0)
					 ORDER BY paid.line_no LIMIT 50
				LOOP
					probs := probs || ROW('EMH02', pg_catalog.format('%s%s: household ''%s'' would be paid more for project ''%s'' than its beneficiary lists grant (H2)',
					                      pfx, r.line_no, r.household, r.project),
					                      pg_catalog.format('granted %s, paid before %s, this batch %s', earmark.fmt_fen(r.cleared),
					                                        earmark.fmt_fen(r.before), earmark.fmt_fen(r.delta)),
					                      'the same household is not paid twice for the same item')::earmark.problem;
				END LOOP;
			END IF;

			-- P1 and P2 per project and fund (0019), as spend_problems words them;
			-- also only once the lines passed (a wrong amount or fund on one line
			-- would otherwise be named twice, once more as the project's total).
			IF pg_catalog.cardinality(probs) = 0 THEN
				FOR r IN
					SELECT d.line_no, p.code AS project, f.code AS fund, d.delta,
					       EXISTS (SELECT 1 FROM earmark.project_event ev
					                WHERE ev.book_id = b AND ev.project_id = d.project_id AND ev.kind = 'approval'
					                  AND ev.event_date <= p_date) AS approved,
					       EXISTS (SELECT 1 FROM earmark.project_target t
					                WHERE t.book_id = b AND t.project_id = d.project_id) AS targeted,
					       earmark.budget_on(b, d.project_id, d.fund_id, p_date) AS budget,
					       COALESCE(ps.spent_fen, 0) AS before
					  FROM (SELECT e.project_id, e.fund_id, pg_catalog.min(e.line_no) AS line_no, pg_catalog.sum(e.amount_fen) AS delta
					          FROM em_pay e WHERE e.project_id IS NOT NULL AND e.fund_id IS NOT NULL
					         GROUP BY 1, 2) d
					  JOIN earmark.project p ON p.book_id = b AND p.project_id = d.project_id
					  JOIN earmark.fund f ON f.book_id = b AND f.fund_id = d.fund_id
					  LEFT JOIN earmark.project_spend ps ON ps.book_id = b AND ps.project_id = d.project_id AND ps.fund_id = d.fund_id
					 ORDER BY p.code, f.code
				LOOP
					IF NOT r.approved THEN
						probs := probs || ROW('EMP01', pg_catalog.format('%s%s: project ''%s'' is not approved (P1)', pfx, r.line_no, r.project),
						                      pg_catalog.format('no approval on or before %s', p_date),
						                      pg_catalog.format('record its approval first: earmark project event %s approval --doc DOC', r.project))::earmark.problem;
					ELSIF NOT r.targeted THEN
						probs := probs || ROW('EMP01', pg_catalog.format('%s%s: project ''%s'' has no performance target (P1)', pfx, r.line_no, r.project),
						                      NULL, 'record its 绩效目标: earmark master import project_target FILE.csv')::earmark.problem;
					END IF;
					IF r.budget IS NULL THEN
						probs := probs || ROW('EMP02', pg_catalog.format('project ''%s'' has no budget from fund ''%s'' (P2)', r.project, r.fund),
						                      NULL, 'a project is paid only from the funds its approved budget names')::earmark.problem;
					ELSIF r.before + r.delta > r.budget THEN
						probs := probs || ROW('EMP02', pg_catalog.format('payments to project ''%s'' from fund ''%s'' would exceed its budget (P2)', r.project, r.fund),
						                      pg_catalog.format('budget %s on %s, paid before %s, this batch %s, total %s',
						                                        earmark.fmt_fen(r.budget), p_date, earmark.fmt_fen(r.before),
						                                        earmark.fmt_fen(r.delta), earmark.fmt_fen(r.before + r.delta)),
						                      'a larger budget needs an approved revision: earmark project revise')::earmark.problem;
					END IF;
				END LOOP;
			END IF;
			PERFORM earmark.raise_problems(probs,
				pg_catalog.format('payment batch refused: %s%s problem%s; nothing was written',
				                  CASE WHEN pg_catalog.cardinality(probs) >= 50 THEN 'at least ' ELSE '' END,
				                  pg_catalog.cardinality(probs), CASE WHEN pg_catalog.cardinality(probs) = 1 THEN '' ELSE 's' END));

			-- The batch and its vouchers.  Every line of the payable voucher was
			-- checked above, so lines_guard skips its draft-time spend check of it.
			INSERT INTO earmark.voucher (book_id, vtype, voucher_date, memo, prepared_by, prepared_at)
			VALUES (b, '转', p_date, '到户补助 ' || p_code || ' 应付', who, pg_catalog.now()) RETURNING voucher_id INTO payable;
			INSERT INTO earmark.voucher (book_id, vtype, voucher_date, memo, prepared_by, prepared_at)
			VALUES (b, '付', p_date, '到户补助 ' || p_code || ' 支付', who, pg_catalog.now()) RETURNING voucher_id INTO payment;
			INSERT INTO earmark.pay_batch (book_id, code, pay_date, source, payable_voucher_id, payment_voucher_id,
			                               idem_key, idem_digest, created_by)
			VALUES (b, p_code, p_date, COALESCE(p_source, ''), payable, payment, p_idem_key,
			        CASE WHEN p_idem_key IS NOT NULL THEN dig END, who)
			RETURNING batch_id INTO batch;
			-- The references of the payments and lines below are em_pay's, resolved
			-- above in this book, and the accounts by code in this book: the
			-- statement triggers need not join them again (3. at the head of 0022).
			INSERT INTO earmark.refs_resolved (xid) VALUES (pg_catalog.pg_current_xact_id());
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
			DELETE FROM earmark.refs_resolved WHERE xid = pg_catalog.pg_current_xact_id();
			PERFORM earmark.raise_problems(earmark.balance_problems(b, payable));
			PERFORM earmark.raise_problems(earmark.balance_problems(b, payment));
			-- Every spend rule of the payable voucher's lines was checked above (the
			-- payment voucher has no spend lines), and both balances: recorded, so
			-- that review and posting need not repeat them while nothing they read
			-- has changed (0019).
			INSERT INTO earmark.batch_checked (book_id, voucher_id, epoch, voucher_date)
			VALUES (b, payable, ep, p_date), (b, payment, ep, p_date);
			EXIT checking;
		EXCEPTION WHEN unique_violation THEN
			GET STACKED DIAGNOSTICS failed = CONSTRAINT_NAME;
			IF dups OR failed IS DISTINCT FROM 'household_payment_once' THEN
				RAISE;
			END IF;
			dups := true;
		END;
	END LOOP;
	-- This stage, and rows a crashed client left behind (UNLOGGED: a server
	-- crash empties it anyway), in one pass.
	DELETE FROM earmark.pay_staging
	 WHERE (stage_id = p_stage AND staged_by = who) OR staged_at < pg_catalog.now() - interval '1 day';
	DROP TABLE em_pay;
	RETURN p_code;
END
$$;

-- 1. for the spend rules' work table.
ALTER FUNCTION earmark.spend_work(boolean) SET default_statistics_target = 10;

-- 0010's statement triggers (0017 turned JIT off for lines_guard), with 3.
CREATE OR REPLACE FUNCTION earmark.lines_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
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

	-- Every reference names a row of this book (what the foreign keys did),
	-- unless pay_batch resolved them itself (refs_resolved, 0022).
	IF NOT earmark.refs_resolved() THEN
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
	END IF;

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

CREATE OR REPLACE FUNCTION earmark.household_payment_refs() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	r record;
BEGIN
	IF earmark.refs_resolved() THEN
		RETURN NULL;
	END IF;
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
