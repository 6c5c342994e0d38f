-- 0017: household batches, second pass (issue 3's 5-second target).
--
-- Measured on a 100,000-line batch (make bench, pay_batch with
-- BENCH_EXPLAIN): three costs that did no checking at all.
--
-- 1. JIT.  PostgreSQL compiles a statement to machine code when its
--    estimated cost passes jit_above_cost.  The rule queries over a large
--    voucher pass it, and with nested loops disabled (below) every plan's
--    estimate carries the planner's disable_cost, which also passes the
--    inlining and optimisation thresholds: compiling then took longer than
--    running (the canonical text of the batch: 750 ms with JIT, 420 ms
--    without).  The functions of the posting path run without it.  Only
--    the large PL/pgSQL and SQL functions get the setting: a SET clause
--    stops a small SQL function from being inlined and costs a GUC
--    save and restore per call.
--
-- 2. Nested loops over a large voucher.  spend_problems copies the spend
--    lines into em_spend and ANALYZEs it, but the aggregates it groups from
--    that copy (per project and household) are estimated at a few hundred
--    rows, so the planner probes beneficiary and household by index once per
--    line.  For a voucher of more than 1,000 lines voucher_rules now runs
--    the rules and the kept totals with nested loops off (hash joins), and
--    so does report_keep_trigger: spend_problems over the batch took 1.7 s
--    before and 1.1 s after.  A voucher of a few lines keeps the index
--    plans, which are right for it.
--
-- 3. The same rules three times.  A batch's payable voucher is checked line
--    by line when pay_batch drafts it (every error with its file line), and
--    again at posting, under the chain lock, where the check binds (D6: the
--    book changes only by posting).  At review it was checked a third time,
--    which decided nothing the posting check does not decide again.  The
--    review of a batch's payable voucher now skips it; every other voucher
--    is still checked at review, so a reviewer hears of a broken rule
--    before signing.  What changed in between (an objection raised after
--    the batch was drafted, say) is refused at posting, naming the
--    household: sql/tests/pay_batch.sql proves it.
--
-- 4. household_payment_guard called earmark.actor() for every row, a
--    catalogue lookup each: marking a batch's 100,000 payments sent took
--    6 s.  Whoever updates payments does it through a SECURITY DEFINER
--    function that has called actor() once already (and refused a group
--    role, D6); the row trigger stamps the same name without looking it up
--    again.
--
-- 5. pay_staging_stamp, a PL/pgSQL row trigger, stamped each staged row
--    with current_user: 100,000 calls inside the batch's COPY, which took
--    twice a plain COPY's time.  A column default does the same, and the
--    clerks' INSERT privilege now names the columns of the file only, so
--    that nobody stages rows in another's name (h4_privacy proves it).

ALTER FUNCTION earmark.spend_problems(integer, bigint[]) SET jit = off;
ALTER FUNCTION earmark.balance_problems(integer, bigint) SET jit = off;
ALTER FUNCTION earmark.canonical_text(earmark.voucher) SET jit = off;
ALTER FUNCTION earmark.chain_step(bytea, earmark.voucher) SET jit = off;
ALTER FUNCTION earmark.spend_keep(integer, bigint) SET jit = off;
ALTER FUNCTION earmark.report_keep(integer, bigint[]) SET jit = off;
ALTER FUNCTION earmark.lines_guard() SET jit = off;
ALTER FUNCTION earmark.pay_batch(text, bigint, text, date, text, text) SET jit = off;
ALTER FUNCTION earmark.pay_batch_step(text, text, text) SET jit = off;
ALTER FUNCTION earmark.payment_export(text, text) SET jit = off;

-- More than 1,000 lines: a voucher whose rules and kept totals are joined
-- by hash (2. above).
CREATE FUNCTION earmark.large_voucher(b integer, v bigint) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT EXISTS (SELECT 1 FROM earmark.line WHERE book_id = b AND voucher_id = v AND line_no > 1000)
$$;
REVOKE ALL ON FUNCTION earmark.large_voucher(integer, bigint) FROM PUBLIC;

-- The SET clauses restore enable_nestloop when the function returns.
CREATE OR REPLACE FUNCTION earmark.voucher_rules() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET enable_nestloop = on SET jit = off AS $$
BEGIN
	IF earmark.large_voucher(OLD.book_id, OLD.voucher_id) THEN
		PERFORM pg_catalog.set_config('enable_nestloop', 'off', true);
	END IF;
	IF OLD.reverses_id IS NULL AND NEW.status <> 'draft'
	   AND NOT (NEW.status = 'reviewed'
	            AND EXISTS (SELECT 1 FROM earmark.pay_batch pb
	                         WHERE pb.book_id = OLD.book_id AND pb.payable_voucher_id = OLD.voucher_id)) THEN
		PERFORM earmark.raise_problems(earmark.spend_problems(OLD.book_id, ARRAY[OLD.voucher_id]));
	END IF;
	IF NEW.status = 'posted' THEN
		PERFORM earmark.spend_keep(OLD.book_id, OLD.voucher_id);
	END IF;
	RETURN NEW;
END
$$;

-- 0013 says this fires after voucher_rules; by name it fires before it
-- (voucher_guard, voucher_report_keep, voucher_rules).  A refusal by the
-- rules rolls the kept totals back with the posting, so only the order of
-- work differs, not what is kept.
CREATE OR REPLACE FUNCTION earmark.report_keep_trigger() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET enable_nestloop = on SET jit = off AS $$
BEGIN
	IF earmark.large_voucher(NEW.book_id, NEW.voucher_id) THEN
		PERFORM pg_catalog.set_config('enable_nestloop', 'off', true);
	END IF;
	PERFORM earmark.report_keep(NEW.book_id, ARRAY[NEW.voucher_id]);
	RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION earmark.household_payment_guard() RETURNS trigger
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
	-- earmark.actor()'s name, without its per-row catalogue lookup (see 4.)
	NEW.status_by := CASE WHEN pg_catalog.current_setting('role') = 'none' THEN session_user
	                      ELSE pg_catalog.current_setting('role')::name END;
	RETURN NEW;
END
$$;

ALTER TABLE earmark.pay_staging ALTER COLUMN staged_by SET DEFAULT CURRENT_USER;
REVOKE INSERT ON earmark.pay_staging FROM earmark_clerk;
GRANT INSERT (stage_id, line_no, household, amount_fen, project, fund, category, list, item, memo)
	ON earmark.pay_staging TO earmark_clerk;
DROP TRIGGER pay_staging_stamp ON earmark.pay_staging;
DROP FUNCTION earmark.pay_staging_stamp();
