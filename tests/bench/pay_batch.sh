#!/usr/bin/env bash
# tests/bench/pay_batch.sh: a household payment batch of 100,000 lines,
# checked and posted, next to a plain COPY of the same rows.
#
# The target (DESIGN section 10, flow 4): "A 100,000-line household batch
# checked and posted in at most 5 s on this 2-core machine, printed by a
# benchmark next to a plain COPY of the same rows into an unindexed table
# measured in the same run."  This prints the figures and the ratio; it
# asserts no timing.  It fails only when a step fails.
#
# In a throwaway cluster (tests/bench/lib.sh) it builds a county with
# gen-county.awk: 400 villages, 100,000 households with valid ID numbers and
# bank cards, two funds with their receipts posted, one project covering
# every village, and a beneficiary list of every household published 20
# days before the batch date.  Then, each a separate earmark process timed
# by wall clock, as the people of the office would run them:
#
#   (a) pay batch    clerk: CSV read, COPY into pay_staging, every rule
#                    checked, batch + payments + two draft vouchers written
#   (b) pay review   reviewer, and pay post, bookkeeper: the rules again,
#                    numbering, the hash chain over the 100,001-line voucher,
#                    period balances and kept totals
#   (c) pay export   cashier: the pain.001 file, payments marked sent
#   (d) COPY         psql \copy of batch.csv into an unindexed table of the
#                    same columns in the same database: the floor
#
# Master data is VACUUM ANALYZEd and a CHECKPOINT taken before the timed
# steps: a county's households are loaded long before its batches, so the
# planner has their statistics, and the setup's dirty pages are not written
# inside a measured step.  The steps then run back to back with the
# server's own settings, autovacuum included; whether it re-analyzed
# earmark.line in between is printed, since the plans of review and post
# depend on it.  Beside each wall-clock figure goes the CPU seconds the
# step cost, client and server (lib.sh), which a busy machine disturbs less.
#
# Environment:
#   BENCH_HOUSEHOLDS  lines in the batch (default 100000)
#   BENCH_REPEAT      how many times the timed steps run (default 3, 1 when
#                     profiling), each in a fresh copy of the county (CREATE
#                     DATABASE ... TEMPLATE), its COPY beside it; the figures
#                     are the run whose (a)+(b) is the median, and every run is
#                     printed: the same build on this machine varies by up to
#                     1.4 times from one minute to the next
#   BENCH_OUT         where the JSON goes (default out/bench)
#   BENCH_KEEP_LOGS   a directory to copy the step logs and the server log to
#   BENCH_EXPLAIN=MS  profile instead: auto_explain logs the plan (EXPLAIN
#                     ANALYZE) of every statement of the timed steps slower
#                     than MS, nested ones too, to out/bench/pay_batch.explain.log
#   BENCH_HOLD=FILE   profile by hand: once the county is set up, create FILE
#                     holding the cluster's PGHOST and wait until FILE is removed
#                     (copy database earmark_bench with CREATE DATABASE ...
#                     TEMPLATE to try a step as often as needed)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

N=${BENCH_HOUSEHOLDS:-100000}
OUT=${BENCH_OUT:-$TOP/out/bench}
TARGET_S=5
BOOK=BENCH
case $N in
'' | *[!0-9]*) echo "bench: BENCH_HOUSEHOLDS must be a number, not '$N'" >&2; exit 2 ;;
esac

# Dates from today, so that the run never dates anything in the future and
# the notice period (10 days) has always ended on the batch date.
day() { date -d "$1" +%F; }
BATCH_DATE=$(day 'yesterday')
PUBLISH_DATE=$(day '21 days ago')
APPROVAL_DATE=$(day '80 days ago')
RECEIPT_DATE=$(day '90 days ago')
BOOK_START=$(date -d '120 days ago' +%Y-%m-01)

bench_step "pay_batch: $N households; cluster under ${TMPDIR:-/tmp}"
bench_cluster_start
export PGDATABASE=earmark_bench
bench_run createdb psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $PGDATABASE"
bench_run db-init "$EM" db init

for u in admin clerk reviewer bookkeeper cashier; do
	bench_run "user-$u" "$EM" user add "bench_$u" --role "$u"
done
A=(--user bench_admin --book "$BOOK")
C=(--user bench_clerk --book "$BOOK")
R=(--user bench_reviewer --book "$BOOK")
B=(--user bench_bookkeeper --book "$BOOK")
K=(--user bench_cashier --book "$BOOK")

bench_step "generating the county (gen-county.awk)"
D=$BENCH_T/data
mkdir -p "$D"
bench_time gen awk -v out="$D" -v households="$N" -v villages=400 -v seed=20261123 \
	-v receipt_date="$RECEIPT_DATE" -v approval_date="$APPROVAL_DATE" -f "$TOP/tests/bench/gen-county.awk"

bench_step "master data: book, accounts, funds, villages, $N households, project"
bench_run book "$EM" "${A[@]}" book create "$BOOK" --name "平安县衔接资金（基准测试）" --start "$BOOK_START" \
	--accounts "$TOP/config/accounts.csv"
for kind in bank_account:bank_accounts fund:funds village:villages project:projects \
	    project_budget:project_budgets project_target:project_targets project_event:project_events; do
	bench_run "import-${kind%%:*}" "$EM" "${A[@]}" master import "${kind%%:*}" "$D/${kind##*:}.csv"
done
bench_time setup_households "$EM" "${A[@]}" master import household "$D/households.csv"

bench_step "fund receipts: draft, review, post"
for f in ZY-BENCH SJ-BENCH; do
	bench_run "receipt-$f" "$EM" "${C[@]}" voucher draft "$D/receipt_$f.csv" --date "$RECEIPT_DATE" \
		--memo "收到衔接资金 $f" --key "bench-receipt-$f"
	id=$(grep -o '#[0-9]*' "$BENCH_LOG/receipt-$f.log" | head -n 1)
	bench_run "receipt-$f-review" "$EM" "${R[@]}" voucher review "$id"
	bench_run "receipt-$f-post" "$EM" "${B[@]}" voucher post "$id"
done

bench_step "beneficiary list of $N households, published $PUBLISH_DATE"
bench_time setup_list "$EM" "${C[@]}" list create L-BENCH-01 "$D/list.csv" --project P-BENCH-01 \
	--title "产业发展到户奖补对象公示"
bench_run publish "$EM" "${A[@]}" list publish L-BENCH-01 --from "$PUBLISH_DATE" --days 10

# The reference table: batch.csv's columns, no index, no constraint.
bench_run copy-table psql -X -q -v ON_ERROR_STOP=1 -c "CREATE TABLE public.bench_copy (
	household text, amount numeric(14,2), project text, fund text, category text,
	list text, item text, memo text)"
bench_run analyze psql -X -q -v ON_ERROR_STOP=1 -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
REPEAT=${BENCH_REPEAT:-3}
if [ -n "${BENCH_EXPLAIN:-}" ]; then
	# Profiling, not measuring: every statement of the timed steps slower
	# than BENCH_EXPLAIN ms, nested ones inside the earmark.* functions too,
	# logged with its EXPLAIN ANALYZE plan.  The timings then include the
	# instrumentation.
	case $BENCH_EXPLAIN in *[!0-9]*) echo "bench: BENCH_EXPLAIN is milliseconds" >&2; exit 2 ;; esac
	REPEAT=${BENCH_REPEAT:-1}
fi
case $REPEAT in '' | *[!0-9]* | 0) echo "bench: BENCH_REPEAT must be a number above 0, not '$REPEAT'" >&2; exit 2 ;; esac
# explain_on DB: auto_explain for the timed steps in DB (BENCH_EXPLAIN).
explain_on() {
	bench_run "explain-$1" psql -X -q -v ON_ERROR_STOP=1 \
		-c "ALTER DATABASE $1 SET session_preload_libraries = 'auto_explain'" \
		-c "ALTER DATABASE $1 SET auto_explain.log_min_duration = $BENCH_EXPLAIN" \
		-c "ALTER DATABASE $1 SET auto_explain.log_analyze = on" \
		-c "ALTER DATABASE $1 SET auto_explain.log_nested_statements = on" \
		-c "ALTER DATABASE $1 SET auto_explain.log_timing = off" \
		-c "ALTER DATABASE $1 SET log_min_duration_statement = $BENCH_EXPLAIN"
}

q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -c "$1"; }
if [ -n "${BENCH_HOLD:-}" ]; then
	printf 'export PGHOST=%s PGPORT=%s PGUSER=%s EARMARK_HOME=%s\nD=%s\nBATCH_DATE=%s\n' \
		"$PGHOST" "$PGPORT" "$PGUSER" "$EARMARK_HOME" "$D" "$BATCH_DATE" >"$BENCH_HOLD"
	bench_step "holding the cluster until $BENCH_HOLD is removed"
	while [ -e "$BENCH_HOLD" ]; do sleep 2; done
fi
# Autovacuum may re-analyze earmark.line between the timed steps (the batch
# adds 100,000 rows to it); the plans of review and post change when it
# does, so the run says whether it happened.
autoanalyzed() { q "SELECT autoanalyze_count FROM pg_catalog.pg_stat_user_tables WHERE relid = 'earmark.line'::regclass"; }
funds=$(awk -F, 'NR > 1 && !seen[$4]++ { n++ } END { print n + 0 }' "$D/batch.csv")
[ -z "${BENCH_EXPLAIN:-}" ] || explain_from=$(wc -l <"$BENCH_T/var/log/postgresql.log")
LOAD_BEFORE=$(bench_load)
LINE_AUTOANALYZED=0
for r in $(seq 1 "$REPEAT"); do
	# Each run in its own copy of the county, with nothing in it but what the
	# setup left; the template's dirty pages written first.
	export PGDATABASE=earmark_bench_r$r
	bench_run "copy-db-$r" psql -X -q -v ON_ERROR_STOP=1 -d postgres \
		-c "CREATE DATABASE $PGDATABASE TEMPLATE earmark_bench STRATEGY FILE_COPY" -c 'CHECKPOINT'
	[ -z "${BENCH_EXPLAIN:-}" ] || explain_on "$PGDATABASE"
	analyzed_before=$(autoanalyzed)
	bench_step "run $r of $REPEAT, timed: COPY of batch.csv into an unindexed table"
	bench_time "copy_$r" psql -X -q -v ON_ERROR_STOP=1 \
		-c "\\copy public.bench_copy FROM '$D/batch.csv' WITH (FORMAT csv, HEADER true)"
	bench_step "run $r of $REPEAT, timed: pay batch (check + drafts)"
	bench_time "batch_$r" "$EM" "${C[@]}" pay batch "$D/batch.csv" --code B-BENCH-01 --date "$BATCH_DATE" \
		--key bench-batch-1
	bench_step "run $r of $REPEAT, timed: pay review"
	bench_time "review_$r" "$EM" "${R[@]}" pay review B-BENCH-01
	bench_step "run $r of $REPEAT, timed: pay post"
	bench_time "post_$r" "$EM" "${B[@]}" pay post B-BENCH-01
	bench_step "run $r of $REPEAT, timed: pay export (pain.001)"
	bench_time "export_$r" "$EM" "${K[@]}" pay export B-BENCH-01 -o "$BENCH_T/pain001.xml"
	LINE_AUTOANALYZED=$((LINE_AUTOANALYZED + $(autoanalyzed) - analyzed_before))

	# The run counts only if everything landed: N payments sent, N copied
	# rows, the two vouchers posted with N + F and 2F lines (F funds), N
	# transactions in the file.
	counts=$(q "SELECT (SELECT count(*) FROM public.bench_copy) || ' ' ||
	                   (SELECT count(*) FROM earmark.household_payment WHERE status = 'sent') || ' ' ||
	                   (SELECT count(*) FROM earmark.line l JOIN earmark.pay_batch b
	                        ON b.book_id = l.book_id AND l.voucher_id IN (b.payable_voucher_id, b.payment_voucher_id)
	                      JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
	                     WHERE v.status = 'posted')")
	txs=$(grep -o '<CdtTrfTxInf>' "$BENCH_T/pain001.xml" | wc -l || true)
	read -r copied sent lines <<<"$counts"
	if [ "$copied" != "$N" ] || [ "$sent" != "$N" ] || [ "$lines" != "$((N + 3 * funds))" ] || [ "$txs" != "$N" ]; then
		echo "bench: run $r: the batch did not land whole: copied $copied, sent $sent, posted lines $lines," \
		     "pain.001 transactions $txs; expected $N, $N, $((N + 3 * funds)), $N" >&2
		exit 1
	fi
	# One line per step: key, wall seconds, CPU seconds.
	for k in copy batch review post export; do
		printf '%s %s %s\n' "$k" "${BENCH_SECS[${k}_$r]}" "${BENCH_CPU[${k}_$r]}"
	done >"$BENCH_LOG/figures_$r"
done
LOAD_AFTER=$(bench_load)

if [ -n "${BENCH_EXPLAIN:-}" ]; then
	mkdir -p "$OUT"
	tail -n "+$((explain_from + 1))" "$BENCH_T/var/log/postgresql.log" >"$OUT/pay_batch.explain.log"
fi

# --- the figures ----------------------------------------------------------

# Per run, in run order: the run, its (a)+(b) and its COPY; then the run
# whose (a)+(b) is the median (the lower of the middle two for an even
# count): its steps are the figures, so that they and their COPY come from
# one run.
RUNS=$(for r in $(seq 1 "$REPEAT"); do
	awk -v r="$r" '{ w[$1] = $2 } END { printf "%s %.3f %.3f\n", r, w["batch"] + w["review"] + w["post"], w["copy"] }' \
		"$BENCH_LOG/figures_$r"
done)
MEDIAN_RUN=$(sort -k2,2n <<<"$RUNS" | awk -v n="$REPEAT" 'NR == int((n + 1) / 2) { print $1 }')
cp "$BENCH_LOG/figures_$MEDIAN_RUN" "$BENCH_LOG/figures"

# figures table|json: the steps, (b) as one, and (a)+(b) against the target.
figures() {
	awk -v n="$N" -v target="$TARGET_S" -v mode="$1" '
	{ wall[$1] = $2; cpu[$1] = $3 }
	function row(key, label, w, c) {
		if (mode == "table")
			printf "%-34s %8.3f %8.2f %10.0f %8.1fx\n", label, w, c, n / w, w / wall["copy"]
		else
			printf "%s    \"%s\": { \"seconds\": %.3f, \"cpu_seconds\": %.2f, \"rows_per_second\": %.0f, \"ratio_to_copy\": %.2f }",
			       sep, key, w, c, n / w, w / wall["copy"]
		sep = ",\n"
	}
	END {
		if (mode == "table") {
			printf "%-34s %8s %8s %10s %9s\n", "step", "seconds", "cpu s", "rows/s", "vs COPY"
			printf "%-34s %8s %8s %10s %9s\n", "----", "-------", "-----", "------", "-------"
		}
		row("copy", "(d) COPY, unindexed table", wall["copy"], cpu["copy"])
		row("batch", "(a) pay batch: check + drafts", wall["batch"], cpu["batch"])
		row("review", "(b) pay review", wall["review"], cpu["review"])
		row("post", "(b) pay post", wall["post"], cpu["post"])
		row("review_post", "(b) review + post", wall["review"] + wall["post"], cpu["review"] + cpu["post"])
		row("export", "(c) pay export: pain.001", wall["export"], cpu["export"])
		ab = wall["batch"] + wall["review"] + wall["post"]
		abc = cpu["batch"] + cpu["review"] + cpu["post"]
		row("checked_and_posted", "(a)+(b) checked and posted", ab, abc)
		if (mode == "table") {
			printf "\n(a)+(b): %.3f s for %d lines; target %d s: %s (%.1fx the target, %.0fx COPY)\n",
			       ab, n, target, ab <= target ? "within" : "OVER", ab / target, ab / wall["copy"]
		} else {
			printf "\n  },\n  \"checked_and_posted_seconds\": %.3f,\n  \"target_seconds\": %d,\n", ab, target
			printf "  \"within_target\": %s,\n", ab <= target ? "true" : "false"
		}
	}' "$BENCH_LOG/figures"
}

PGVERSION=$(psql -X -A -t -c 'SHOW server_version')
mkdir -p "$OUT"
{
	printf '{\n  "benchmark": "pay_batch",\n  "lines": %d,\n' "$N"
	printf '  "date": "%s",\n  "batch_date": "%s",\n' "$(date -u +%FT%TZ)" "$BATCH_DATE"
	bench_machine_json "$LOAD_BEFORE" "$LOAD_AFTER"
	printf '  "commit": "%s",\n' "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	printf '  "setup_seconds": { "generate": %s, "households_import": %s, "list_create": %s },\n' \
		"${BENCH_SECS[gen]}" "${BENCH_SECS[setup_households]}" "${BENCH_SECS[setup_list]}"
	printf '  "line_autoanalyzed_during_steps": %s,\n' "$([ "$LINE_AUTOANALYZED" -gt 0 ] && echo true || echo false)"
	# every run: (a)+(b) and the COPY beside it; "steps" are the median run's
	printf '  "runs": [%s],\n  "median_run": %d,\n' "$(awk '{ printf "%s{ \"checked_and_posted_seconds\": %s, \"copy_seconds\": %s }",
		(NR > 1 ? ", " : ""), $2, $3 }' <<<"$RUNS")" "$MEDIAN_RUN"
	printf '  "steps": {\n'
	figures json
	printf '  "profiled": %s\n}\n' "$([ -n "${BENCH_EXPLAIN:-}" ] && echo true || echo false)"
} >"$OUT/pay_batch.json"

echo
echo "pay_batch: $N household payments; $(nproc) CPUs; PostgreSQL $PGVERSION"
echo "setup, not timed against the target: $N households imported in ${BENCH_SECS[setup_households]} s," \
     "the beneficiary list in ${BENCH_SECS[setup_list]} s"
echo "load average (1 min) before the timed steps $LOAD_BEFORE, after $LOAD_AFTER"
if [ "$REPEAT" -gt 1 ]; then
	echo "$REPEAT runs, each in a fresh copy of the county; (a)+(b) and the COPY beside it, in run order:"
	awk -v m="$MEDIAN_RUN" '{ printf "  run %d: %s s, COPY %s s%s\n", $1, $2, $3,
		($1 == m ? " (the median: the figures below)" : "") }' <<<"$RUNS"
fi
echo
figures table
# The steps run one process at a time, so on an idle machine their wall
# clock is close to their CPU seconds; far beyond them, something else ran.
if awk '$1 ~ /^(batch|review|post)$/ { w += $2; c += $3 } END { exit !(w > 1.25 * c) }' "$BENCH_LOG/figures"; then
	echo "note: (a)+(b) took far longer on the wall clock than its CPU seconds: the machine" \
	     "was busy with other work, and the wall-clock figures overstate"
fi
if [ "$LINE_AUTOANALYZED" -gt 0 ]; then
	echo "note: autovacuum analyzed earmark.line during the timed steps; review and post were" \
	     "planned with its fresh statistics, so they may be faster than in a run where it did not"
fi
echo
echo "figures: ${OUT#"$TOP"/}/pay_batch.json"
if [ -n "${BENCH_EXPLAIN:-}" ]; then
	echo "plans of statements over $BENCH_EXPLAIN ms: ${OUT#"$TOP"/}/pay_batch.explain.log" \
	     "(EXPLAIN ANALYZE was on: the timings above include its overhead)"
fi
if [ -n "${BENCH_KEEP_LOGS:-}" ]; then
	mkdir -p "$BENCH_KEEP_LOGS"
	cp -r "$BENCH_LOG"/. "$BENCH_KEEP_LOGS"/
	cp "$BENCH_T/var/log/postgresql.log" "$BENCH_KEEP_LOGS"/ 2>/dev/null || true
fi
