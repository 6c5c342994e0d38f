-- 0019: household batches, third pass (issue 3's 5-second target): what
-- pay_batch checked is not checked again while nothing it read has
-- changed; the canonical text is built in one call per line.
--
-- Measured on a 100,000-line batch (tests/bench/pay_batch.sh, auto_explain
-- of the nested statements): after 0017 the posting still spent about a
-- third of its time on the spend rules (spend_problems, 0.9 s) and the
-- review and posting each summed the voucher's lines twice for D1/D2
-- (0.2 s each), all of which pay_batch had decided minutes before on the
-- same lines.
--
-- 1. The rule epoch.  earmark.rule_epoch holds a number per book that
--    goes up with every statement that writes a table the spend rules read
--    (spend_problems_of, budget_on, setting): master data, lists,
--    objections, caps, the negative list, budgets and events, and the kept
--    totals household_spend and project_spend, which every posting with
--    spend lines changes.  Statement triggers with transition tables do
--    it, once per book and transaction (see rule_epoch_bump).  A test
--    (sql/tests/pay_batch.sql) reads the bodies of those functions and
--    fails when a table they name has no such trigger.
--
-- 2. batch_checked.  pay_batch reads the epoch before it reads anything
--    else, checks every line, and records (voucher, epoch, date) for the
--    batch's two vouchers.  spend_problems skips such a voucher while the row is
--    there, the epoch is the same and the voucher keeps its date;
--    balance_problems skips it while the row is there (its lines are the
--    same).  Any change to the voucher's lines deletes the row (a statement
--    trigger on earmark.line), so do discarding and posting it.  Whatever committed
--    after pay_batch read the epoch (an objection, a new negative-list
--    version, another payment to the household) changes the epoch, and
--    review and posting then run every rule again, as before; what
--    committed before it, pay_batch saw.  The review of a batch no longer
--    skips the rules unconditionally (0017): it skips them exactly when
--    posting would, so a reviewer hears of a later objection before
--    signing.
--
-- 3. For the skip to be sound pay_batch must refuse whatever
--    spend_problems_of refuses for the payable voucher's lines, and before
--    0019 it left three rules to the posting: P1 (the project approved by
--    the payment date, with a performance target) and P2 (within the
--    budget of each fund, with what was paid before) are now checked per
--    project and fund; and H2/H3 over all of a project's lists (what was
--    paid to a household for the project before, plus this batch, within
--    what its disclosed lists without open objection grant it in all).
--    The last needs computing only where something was paid before: each
--    batch line is on a disclosed list without objection for the
--    household, within that list's grant for its item, and no two lines
--    pay one household the same item of one project, so the lines of a
--    household alone never exceed the grants their lists add up to.  P3
--    limits only contract payments (lines without a household); A3, H1,
--    the caps of H2 and the lists of H3 pay_batch checked already, with
--    the same conditions.  P1, P2 and H2 over a project's lists are
--    checked once the lines themselves passed, so that a bad line is
--    named once, on its line.
--
-- 4. canonical_text joined each line's eleven fields with 24 text
--    concatenations and escaped six of them; concat_ws builds the line in
--    one call, and only the memo is escaped: the codes cannot hold a
--    backslash or a control character (their CHECK constraints:
--    [A-Za-z0-9_.-], digits, [0-9A-Za-z-]), so escaping them returned them
--    unchanged.  The same text, byte for byte: 0.98 s against 0.38 s for
--    the batch's 100,002 lines; sql/tests/d8_chain.sql's vectors and the
--    chains recomputed by every test show it is the same.
--
-- 5. balance_problems summed the lines twice (the totals, then per fund);
--    once per fund now, the totals from those sums.
--
-- 6. household_payment's CHECK on end_to_end_id was the anchored, bounded
--    regular expression ^[A-Za-z0-9-]{1,35}$, which PostgreSQL's regex
--    engine runs in about 3.5 microseconds: 0.5 s of the 1.3 s that
--    inserting a batch's 100,000 payments took.  The same rule as "no
--    character outside the set, 1 to 35 characters" runs ten times faster;
--    the constraint keeps its name (and its message).
--
-- 7. pay_staging's primary key (staged_by, stage_id, line_no) cost 0.15 s
--    of the 0.4 s COPY of 100,000 rows, for lookups that read a stage
--    whole (the table holds only the rows of batches being made, so
--    reading it through is as quick) and for distinct line numbers, which
--    pay_batch now checks itself.  pay_batch also joins by hash, not by
--    merge: the estimates for empty tables (no payments, objections or
--    kept totals yet) made the planner sort the 100,000 wide rows of the
--    per-line check to merge them with nothing.

ALTER TABLE earmark.household_payment DROP CONSTRAINT household_payment_end_to_end_id_check,
	ADD CONSTRAINT household_payment_end_to_end_id_check
	CHECK (end_to_end_id OPERATOR(pg_catalog.!~) '[^A-Za-z0-9-]'
	       AND pg_catalog.length(end_to_end_id) BETWEEN 1 AND 35);
ALTER TABLE earmark.pay_staging DROP CONSTRAINT pay_staging_pkey;

CREATE TABLE earmark.rule_epoch (
	book_id    integer PRIMARY KEY REFERENCES earmark.book (book_id),
	epoch      bigint NOT NULL CHECK (epoch > 0),
	bumped_xid xid8               -- the transaction that last raised it
);
CREATE TABLE earmark.batch_checked (
	book_id      integer NOT NULL,
	voucher_id   bigint NOT NULL,
	epoch        bigint NOT NULL,
	voucher_date date NOT NULL,
	PRIMARY KEY (book_id, voucher_id),
	FOREIGN KEY (book_id, voucher_id) REFERENCES earmark.voucher (book_id, voucher_id) ON DELETE CASCADE
);
REVOKE ALL ON earmark.rule_epoch, earmark.batch_checked FROM PUBLIC;

-- A book that no statement has bumped yet is at epoch 0.
CREATE FUNCTION earmark.rule_epoch_of(b integer) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT COALESCE((SELECT e.epoch FROM earmark.rule_epoch e WHERE e.book_id = b), 0)
$$;
REVOKE ALL ON FUNCTION earmark.rule_epoch_of(integer) FROM PUBLIC;

-- Once per transaction and book: what a transaction changes becomes
-- visible at its commit, all at once, together with its one raise of the
-- epoch.  (An import writes row by row, so raising the epoch on every
-- statement would make one row version per household.)  pay_batch clears
-- bumped_xid when its own transaction raised the epoch before it, so that
-- a change after it in the same transaction raises it again.  Books in
-- ascending order, so two statements lock their rows in one order.
CREATE FUNCTION earmark.rule_epoch_bump() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		INSERT INTO earmark.rule_epoch AS e (book_id, epoch, bumped_xid)
		SELECT DISTINCT o.book_id, 1, pg_catalog.pg_current_xact_id() FROM old_rows o ORDER BY 1
		ON CONFLICT (book_id) DO UPDATE SET epoch = e.epoch + 1, bumped_xid = EXCLUDED.bumped_xid
		 WHERE e.bumped_xid IS DISTINCT FROM EXCLUDED.bumped_xid;
	ELSE
		INSERT INTO earmark.rule_epoch AS e (book_id, epoch, bumped_xid)
		SELECT DISTINCT n.book_id, 1, pg_catalog.pg_current_xact_id() FROM new_rows n ORDER BY 1
		ON CONFLICT (book_id) DO UPDATE SET epoch = e.epoch + 1, bumped_xid = EXCLUDED.bumped_xid
		 WHERE e.bumped_xid IS DISTINCT FROM EXCLUDED.bumped_xid;
	END IF;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION earmark.rule_epoch_bump() FROM PUBLIC;

DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['account', 'book_setting', 'budget_revision', 'project_budget', 'negative_list',
	                         'negative_item', 'fund', 'use_category', 'fund_category', 'dedicated_account',
	                         'project', 'project_event', 'project_target', 'project_village', 'village',
	                         'household', 'household_private', 'household_cap', 'beneficiary_list',
	                         'beneficiary', 'objection', 'household_spend', 'project_spend'] LOOP
		EXECUTE pg_catalog.format('CREATE TRIGGER %I AFTER INSERT ON earmark.%I REFERENCING NEW TABLE AS new_rows '
		                          'FOR EACH STATEMENT EXECUTE FUNCTION earmark.rule_epoch_bump()', t || '_rule_epoch_i', t);
		EXECUTE pg_catalog.format('CREATE TRIGGER %I AFTER UPDATE ON earmark.%I REFERENCING NEW TABLE AS new_rows '
		                          'FOR EACH STATEMENT EXECUTE FUNCTION earmark.rule_epoch_bump()', t || '_rule_epoch_u', t);
		EXECUTE pg_catalog.format('CREATE TRIGGER %I AFTER DELETE ON earmark.%I REFERENCING OLD TABLE AS old_rows '
		                          'FOR EACH STATEMENT EXECUTE FUNCTION earmark.rule_epoch_bump()', t || '_rule_epoch_d', t);
	END LOOP;
END
$$;

-- Lines written, changed or deleted: the voucher is no longer as checked.
-- (pay_batch records its check after writing the lines.)
CREATE FUNCTION earmark.batch_unchecked() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM earmark.batch_checked) THEN
		RETURN NULL;
	END IF;
	IF TG_OP = 'DELETE' THEN
		DELETE FROM earmark.batch_checked c
		 USING (SELECT DISTINCT o.book_id, o.voucher_id FROM old_rows o) x
		 WHERE c.book_id = x.book_id AND c.voucher_id = x.voucher_id;
	ELSE
		DELETE FROM earmark.batch_checked c
		 USING (SELECT DISTINCT n.book_id, n.voucher_id FROM new_rows n) x
		 WHERE c.book_id = x.book_id AND c.voucher_id = x.voucher_id;
	END IF;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION earmark.batch_unchecked() FROM PUBLIC;
CREATE TRIGGER line_batch_unchecked_i AFTER INSERT ON earmark.line REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION earmark.batch_unchecked();
CREATE TRIGGER line_batch_unchecked_u AFTER UPDATE ON earmark.line REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION earmark.batch_unchecked();
CREATE TRIGGER line_batch_unchecked_d AFTER DELETE ON earmark.line REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION earmark.batch_unchecked();

-- The voucher is as pay_batch checked it: its lines (the row is there) and,
-- with rules, everything the spend rules read (the epoch) and its date.
CREATE FUNCTION earmark.batch_unchanged(b integer, v bigint, rules boolean) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT EXISTS (SELECT 1 FROM earmark.batch_checked c
	                 JOIN earmark.voucher vo ON vo.book_id = c.book_id AND vo.voucher_id = c.voucher_id
	                WHERE c.book_id = b AND c.voucher_id = v
	                  AND (NOT rules OR (vo.voucher_date = c.voucher_date AND c.epoch = earmark.rule_epoch_of(b))))
$$;
REVOKE ALL ON FUNCTION earmark.batch_unchanged(integer, bigint, boolean) FROM PUBLIC;

-- 0015's wrapper, which also skips a batch voucher as pay_batch checked it.
CREATE OR REPLACE FUNCTION earmark.spend_problems(b integer, vs bigint[]) RETURNS earmark.problem[]
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
	ids bigint[];
BEGIN
	SELECT pg_catalog.array_agg(x.id) INTO ids FROM pg_catalog.unnest(vs) x(id)
	 WHERE NOT EXISTS (SELECT 1 FROM earmark.carry_forward c WHERE c.book_id = b AND c.voucher_id = x.id)
	   AND NOT earmark.batch_unchanged(b, x.id, true);
	IF ids IS NULL THEN
		RETURN '{}';
	END IF;
	RETURN earmark.spend_problems_of(b, ids);
END
$$;

-- 0017's trigger without its review exception: spend_problems decides.
CREATE OR REPLACE FUNCTION earmark.voucher_rules() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET enable_nestloop = on SET jit = off AS $$
BEGIN
	IF earmark.large_voucher(OLD.book_id, OLD.voucher_id) THEN
		PERFORM pg_catalog.set_config('enable_nestloop', 'off', true);
	END IF;
	IF OLD.reverses_id IS NULL AND NEW.status <> 'draft' THEN
		PERFORM earmark.raise_problems(earmark.spend_problems(OLD.book_id, ARRAY[OLD.voucher_id]));
	END IF;
	IF NEW.status = 'posted' THEN
		PERFORM earmark.spend_keep(OLD.book_id, OLD.voucher_id);
		-- Checked for the last time: a posted voucher never changes (D3).
		DELETE FROM earmark.batch_checked WHERE book_id = OLD.book_id AND voucher_id = OLD.voucher_id;
	END IF;
	RETURN NEW;
END
$$;

-- D1/D2 as in 0010, the lines summed once (per fund).
CREATE OR REPLACE FUNCTION earmark.balance_problems(b integer, v bigint) RETURNS earmark.problem[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
	dr numeric := 0;  -- numeric: a sum of valid bigint amounts may itself overflow bigint
	cr numeric := 0;
	n bigint := 0;
	r record;
	probs earmark.problem[] := '{}';
BEGIN
	IF earmark.batch_unchanged(b, v, false) THEN
		RETURN probs;
	END IF;
	FOR r IN
		SELECT f.code, x.n, x.d, x.c
		  FROM (SELECT l.fund_id, pg_catalog.count(*) AS n,
		               COALESCE(pg_catalog.sum(l.amount_fen) FILTER (WHERE l.side = 'D'), 0) AS d,
		               COALESCE(pg_catalog.sum(l.amount_fen) FILTER (WHERE l.side = 'C'), 0) AS c
		          FROM earmark.line l
		         WHERE l.book_id = b AND l.voucher_id = v
		         GROUP BY l.fund_id) x
		  LEFT JOIN earmark.fund f ON f.book_id = b AND f.fund_id = x.fund_id
		 ORDER BY f.code
	LOOP
		n := n + r.n;
		dr := dr + r.d;
		cr := cr + r.c;
		IF r.d <> r.c THEN
			probs := probs || ROW('EMD02', pg_catalog.format('voucher does not balance for fund ''%s'' (D2)', r.code),
			                  pg_catalog.format('debits %s, credits %s', earmark.fmt_fen(r.d), earmark.fmt_fen(r.c)),
			                  'each fund balances on its own; move money between funds only through due-to/due-from accounts')::earmark.problem;
		END IF;
	END LOOP;
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
		probs := ROW('EMD01', 'voucher does not balance (D1)',
		             pg_catalog.format('debits %s, credits %s', earmark.fmt_fen(dr), earmark.fmt_fen(cr)),
		             'the debits and the credits of a voucher must be equal')::earmark.problem || probs;
	END IF;
	RETURN probs;
END
$$;

-- D8's canonical text as in 0010, the same bytes (4. above).
CREATE OR REPLACE FUNCTION earmark.canonical_text(v earmark.voucher) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan SET enable_nestloop = on SET work_mem = '64MB' SET jit = off AS $$
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
-- pay_batch as in 0010, with P1, P2 and H2/H3 over a project's lists
-- (3. above), and its check recorded (2. above).
------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION earmark.pay_batch(p_book text, p_stage bigint, p_code text, p_date date,
                                  p_idem_key text, p_source text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET work_mem = '64MB'
SET jit = off SET enable_mergejoin = off AS $$
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

	-- Per line: codes, the list, the village, the ID, the category; only
	-- the lines with a problem come back to the loop below.
	FOR r IN
		WITH x AS (
			SELECT e.*, pv.village_id IS NOT NULL AS covered, hp.id_no,
			       bn.amount_fen AS granted, fc.category_id IS NOT NULL AS permitted,
			       ni.category_id IS NOT NULL AS negative,
			       dd.n AS dup,
			       hpay.end_to_end_id AS paid_by, bl.published_on, bl.published_on + bl.notice_days AS payable_from,
			       o.objection, cap.cap_fen, c.name AS cat_name,
			       cd.delta AS cap_delta,
			       COALESCE(hs.spent, 0) AS cap_before
			  FROM em_pay e
			  -- Per household the same item twice, and the batch's sum per use
			  -- category: grouped over the narrow rows and joined back by hash,
			  -- not windows that sort the wide ones (0019).
			  LEFT JOIN (SELECT household_id, project_id, item, pg_catalog.count(*) AS n
			               FROM em_pay GROUP BY 1, 2, 3) dd
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
	-- Every spend rule of the payable voucher's lines was checked above (the
	-- payment voucher has no spend lines), and both balances: recorded, so
	-- that review and posting need not repeat them while nothing they read
	-- has changed (0019).
	INSERT INTO earmark.batch_checked (book_id, voucher_id, epoch, voucher_date)
	VALUES (b, payable, ep, p_date), (b, payment, ep, p_date);
	-- This stage, and rows a crashed client left behind (UNLOGGED: a server
	-- crash empties it anyway), in one pass.
	DELETE FROM earmark.pay_staging
	 WHERE (stage_id = p_stage AND staged_by = who) OR staged_at < pg_catalog.now() - interval '1 day';
	DROP TABLE em_pay;
	RETURN p_code;
END
$$;
