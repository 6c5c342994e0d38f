#!/usr/bin/env bash
# tests/bench/reports.sh: the reports on a book of 10 million lines.
#
# The targets (issue 4, "Speed"): with 10 million lines in a book, the
# trial balance as of any date under 200 ms, a household ledger under
# 20 ms, the fund statement under 500 ms.  This prints each next to two
# references measured in the same run: a plain count(*) over the line
# table (what scanning all lines costs) and a single-row index lookup (the
# floor of any query).  It asserts no timing; it fails only when a step
# fails.
#
# The book is generated set-based in SQL inside the throwaway cluster
# (tests/bench/lib.sh), as the superuser with triggers off
# (session_replication_role = replica): the rules are not what is measured,
# and posting 10 million lines one voucher at a time would take hours.  A
# county of DESIGN section 10: 20 funds in 20 dedicated accounts, 300
# villages, 50,000 households, 2,000 projects; one receipt per fund and
# year; then BENCH_REPORT_LINES / 4 household payments of four lines each
# (Dr 5001 with fund, project, household and category / Cr 2303 / Dr 2303
# / Cr 1002), spread evenly over the days from the book's start (1 January
# four years back) to yesterday.  The kept totals (period_balance, and
# 0013's day_balance, fund_spend_day, spend_month, village_month) are then
# filled from the lines as posting would have kept them, and the tables
# are VACUUM ANALYZEd.
#
# Each query runs BENCH_RUNS times in one psql session (\timing, rows sent
# to the client and dropped); the first run warms the cache and the figures
# are the median and the best of the rest.  The trial balance is asked as
# of the 28th of last month: whole months and 28 days of day balances.
#
# Environment:
#   BENCH_REPORT_LINES  lines in the book (default 10000000)
#   BENCH_RUNS          runs per query (default 7)
#   BENCH_OUT           where the JSON goes (default out/bench)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

N=${BENCH_REPORT_LINES:-10000000}
RUNS=${BENCH_RUNS:-7}
OUT=${BENCH_OUT:-$TOP/out/bench}
BOOK=BENCH
case $N in
'' | *[!0-9]*) echo "bench: BENCH_REPORT_LINES must be a number, not '$N'" >&2; exit 2 ;;
esac
case $RUNS in
'' | *[!0-9]* | 0 | 1) echo "bench: BENCH_RUNS must be a number of at least 2" >&2; exit 2 ;;
esac
if [ "$N" -lt 1000 ]; then
	echo "bench: BENCH_REPORT_LINES must be at least 1000" >&2
	exit 2
fi

BOOK_START=$(date -d "$(date +%Y)-01-01 -4 years" +%F)
LAST_DAY=$(date -d yesterday +%F)
TB_AS_OF=$(date -d "$(date +%Y-%m-01) -1 month" +%Y-%m-28)
AS_OF=$LAST_DAY

bench_step "reports: $N lines; cluster under ${TMPDIR:-/tmp}"
bench_cluster_start
export PGDATABASE=earmark_bench
bench_run createdb psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $PGDATABASE"
bench_run db-init "$EM" db init

q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

bench_step "generating the book set-based in SQL: master data, then $N lines"
bench_time generate q -v lines="$N" -v start="$BOOK_START" -v last="$LAST_DAY" -f "$(dirname "$0")/gen-book.sql"

counts=$(q -c "SELECT (SELECT count(*) FROM earmark.line) || ' ' || (SELECT count(*) FROM earmark.voucher) || ' ' ||
                      (SELECT count(*) FROM earmark.period_balance) || ' ' || (SELECT count(*) FROM earmark.day_balance) || ' ' ||
                      (SELECT count(*) FROM earmark.spend_month)")
read -r LINES VOUCHERS PB DB SM <<<"$counts"
bench_step "book: $LINES lines, $VOUCHERS vouchers; kept: $PB period balances, $DB day balances, $SM spend months"
HOUSEHOLD=H$(printf '%07d' $((7919 * 1001 % 50000 + 1)))
ONE_VOUCHER=$(q -c "SELECT voucher_id FROM earmark.voucher ORDER BY voucher_id DESC LIMIT 1 OFFSET 1000")

# The same answer the reports check in tests: the trial balance balances.
tb=$(q -c "SELECT sum(debit_fen) = sum(credit_fen) FROM earmark.trial_balance('$BOOK', '$TB_AS_OF')")
if [ "$tb" != t ]; then
	echo "bench: the generated book's trial balance does not balance" >&2
	exit 1
fi

# time_query NAME SQL: RUNS runs in one session; "median best" ms of runs 2..RUNS.
time_query() {
	local name=$1 sql=$2 i
	{
		printf '%s\n' '\timing on' '\o /dev/null'
		for ((i = 0; i < RUNS; i++)); do
			printf '%s;\n' "$sql"
		done
	} >"$BENCH_LOG/$name.sql"
	bench_run "$name" psql -X -q -v ON_ERROR_STOP=1 -f "$BENCH_LOG/$name.sql"
	awk '/^Time: / { n++; if (n > 1) print $2 }' "$BENCH_LOG/$name.log" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; printf "%.3f %.3f\n", v[int((NR + 1) / 2)], v[1] }'
}

LOAD_BEFORE=$(bench_load)
bench_step "timed: references, then the reports ($RUNS runs each)"
declare -A MED BEST
for spec in \
	"count_lines|SELECT count(*) FROM earmark.line" \
	"index_lookup|SELECT * FROM earmark.line WHERE book_id = (SELECT book_id FROM earmark.book WHERE code = '$BOOK') AND voucher_id = $ONE_VOUCHER AND line_no = 1" \
	"trial_balance|SELECT * FROM earmark.trial_balance('$BOOK', '$TB_AS_OF')" \
	"household_ledger|SELECT * FROM earmark.household_ledger('$BOOK', '$HOUSEHOLD', '$AS_OF')" \
	"fund_statement|SELECT * FROM earmark.fund_statement('$BOOK', '$AS_OF')"; do
	name=${spec%%|*}
	read -r "MED[$name]" "BEST[$name]" < <(time_query "$name" "${spec#*|}")
done
LOAD_AFTER=$(bench_load)
HH_ROWS=$(q -c "SELECT count(*) FROM earmark.household_ledger('$BOOK', '$HOUSEHOLD', '$AS_OF')")

# One report end to end, as a person runs it: the earmark process, connect,
# query, format.
bench_time cli_fund_statement "$EM" --book "$BOOK" report fund-statement --as-of "$AS_OF" --format csv

PGVERSION=$(psql -X -A -t -c 'SHOW server_version')
target() { case $1 in trial_balance) echo 200 ;; household_ledger) echo 20 ;; fund_statement) echo 500 ;; *) echo null ;; esac; }
mkdir -p "$OUT"
{
	printf '{\n  "benchmark": "reports",\n  "lines": %d,\n  "vouchers": %d,\n' "$LINES" "$VOUCHERS"
	printf '  "period_balance_rows": %d,\n  "day_balance_rows": %d,\n  "spend_month_rows": %d,\n' "$PB" "$DB" "$SM"
	printf '  "date": "%s",\n  "trial_balance_as_of": "%s",\n  "as_of": "%s",\n' "$(date -u +%FT%TZ)" "$TB_AS_OF" "$AS_OF"
	printf '  "household": "%s",\n  "household_ledger_rows": %d,\n' "$HOUSEHOLD" "$HH_ROWS"
	bench_machine_json "$LOAD_BEFORE" "$LOAD_AFTER"
	printf '  "commit": "%s",\n' "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	printf '  "generate_seconds": %s,\n  "runs": %d,\n  "queries_ms": {\n' "${BENCH_SECS[generate]}" "$RUNS"
	sep=
	for k in count_lines index_lookup trial_balance household_ledger fund_statement; do
		t=$(target $k)
		within=
		if [ "$t" != null ]; then
			within=$(awk -v m="${MED[$k]}" -v t="$t" 'BEGIN { printf ", \"within_target\": %s", m <= t ? "true" : "false" }')
		fi
		printf '%s    "%s": { "median": %s, "best": %s, "target": %s%s }' "$sep" "$k" "${MED[$k]}" "${BEST[$k]}" "$t" "$within"
		sep=$',\n'
	done
	printf '\n  },\n  "cli_fund_statement_seconds": %s\n}\n' "${BENCH_SECS[cli_fund_statement]}"
} >"$OUT/reports.json"

echo
echo "reports: $LINES lines, $VOUCHERS vouchers in book $BOOK; $(nproc) CPUs; PostgreSQL $PGVERSION"
echo "generated in ${BENCH_SECS[generate]} s; load average (1 min) before the timed queries $LOAD_BEFORE, after $LOAD_AFTER"
echo
printf '%-44s %10s %10s %10s  %s\n' "query ($RUNS runs, first dropped)" "median ms" "best ms" "target ms" ""
printf '%-44s %10s %10s %10s  %s\n' "-----" "---------" "-------" "---------" ""
for k in count_lines index_lookup trial_balance household_ledger fund_statement; do
	case $k in
	count_lines) label="reference: count(*) over all lines" ;;
	index_lookup) label="reference: one line by its key" ;;
	trial_balance) label="trial balance as of $TB_AS_OF" ;;
	household_ledger) label="household ledger $HOUSEHOLD ($HH_ROWS rows)" ;;
	fund_statement) label="fund statement as of $AS_OF" ;;
	esac
	t=$(target $k)
	verdict=
	[ "$t" = null ] || verdict=$(awk -v m="${MED[$k]}" -v t="$t" 'BEGIN { print m <= t ? "within" : "OVER" }')
	printf '%-44s %10s %10s %10s  %s\n' "$label" "${MED[$k]}" "${BEST[$k]}" "${t/null/-}" "$verdict"
done
echo
echo "end to end: earmark report fund-statement --format csv took ${BENCH_SECS[cli_fund_statement]} s (process, connection, query, output)"
echo "figures: ${OUT#"$TOP"/}/reports.json"
