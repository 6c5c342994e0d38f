#!/usr/bin/env bash
# tests/bench/notices.sh: public notices (公告公示) made per second, in each
# format, next to the cost of one earmark command that connects and asks
# one query.
#
# The book is the generator's demo county (`earmark generate --scale demo`,
# loaded through the earmark commands by tests/load-book, without the
# refused attempts): 6 villages, 48 households, projects paid by progress
# and household programmes, a year of batches.  Every village, every
# project and the county get a published plan notice (事前公示); then
# `earmark notice make` writes each of them in every format, one process a
# notice, as the office does: HTML, text, XML (schema-valid, with the
# canonical content), PDF (cairo and pango, A4).  The reference is `earmark
# voucher list --month` run as many times: process start, connection, one
# query, output, which every notice also pays.  No target: the figure says
# how long a county's notice board takes to print.
#
# Environment:
#   BENCH_NOTICE_ROUNDS  times each notice is made per format (default 3)
#   BENCH_SEED           the generator's seed (default 20261206)
#   BENCH_OUT            where the JSON goes (default out/bench)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

ROUNDS=${BENCH_NOTICE_ROUNDS:-3}
SEED=${BENCH_SEED:-20261206}
OUT=${BENCH_OUT:-$TOP/out/bench}
case $ROUNDS in '' | *[!0-9]* | 0) echo "bench: BENCH_NOTICE_ROUNDS is a whole number above 0" >&2; exit 2 ;; esac
YEAR=$(($(date +%Y) - 1))

bench_step "notices: demo county of seed $SEED, $ROUNDS rounds; cluster under ${TMPDIR:-/tmp}"
bench_cluster_start
export PGDATABASE=earmark_bench
bench_run createdb psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $PGDATABASE"
bench_run db-init "$EM" db init
G=$BENCH_T/gen
bench_run generate "$EM" generate --scale demo --seed "$SEED" --year "$YEAR" -o "$G"
bench_step "loading the demo county through the earmark commands (tests/load-book)"
bench_time load env EM="$EM" "$TOP/tests/load-book" --users bench --no-refused "$G"
BOOK=$(awk -F '\t' '$1 == "code" { print $2 }' "$G"/*/book.txt)
A=(--user bench_admin --book "$BOOK")

# scopes: every village, every project, the county
mapfile -t SCOPES < <(
	awk -F, 'NR > 1 { print "--village " $1 }' "$G"/*/villages.csv
	awk -F, 'NR > 1 { print "--project " $1 }' "$G"/*/projects.csv
	echo "--county"
)
bench_run contact "$EM" "${A[@]}" notice contact --publisher "绥德县乡村振兴局" --hotline 0912-5612317
for s in "${SCOPES[@]}"; do
	read -r -a scope <<<"$s"
	bench_run "publish${scope[1]:-county}" "$EM" "${A[@]}" notice publish "${scope[@]}" --kind plan \
		--from "$YEAR-12-01" --days 10
done
N=$(( ${#SCOPES[@]} * ROUNDS ))

# make_all FORMAT: every scope ROUNDS times, one earmark process a notice
make_all() {
	local f=$1 r s
	for ((r = 0; r < ROUNDS; r++)); do
		for s in "${SCOPES[@]}"; do
			read -r -a scope <<<"$s"
			"$EM" "${A[@]}" notice make "${scope[@]}" --kind plan --format "$f" -o "$BENCH_T/notice.$f" || return 1
		done
	done
}
reference() {
	local i
	for ((i = 0; i < N; i++)); do
		"$EM" "${A[@]}" voucher list --month "$YEAR-12" >/dev/null || return 1
	done
}

LOAD_BEFORE=$(bench_load)
bench_step "timed: $N notices in each format, and $N reference commands"
bench_time reference reference
for f in html txt xml pdf; do
	bench_time "$f" make_all "$f"
done
LOAD_AFTER=$(bench_load)
bench_run xmllint xmllint --noout --nonet --schema "$TOP/reports/schemas/notice.xsd" "$BENCH_T/notice.xml"

rate() { awk -v n="$N" -v s="$1" 'BEGIN { printf "%.1f", (s > 0 ? n / s : 0) }'; }
PGVERSION=$(psql -X -A -t -c 'SHOW server_version')
mkdir -p "$OUT"
{
	printf '{\n  "benchmark": "notices",\n  "notices_per_format": %d,\n  "scopes": %d,\n' "$N" "${#SCOPES[@]}"
	printf '  "date": "%s",\n  "commit": "%s",\n' "$(date -u +%FT%TZ)" "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	bench_machine_json "$LOAD_BEFORE" "$LOAD_AFTER"
	printf '  "load_seconds": %s,\n' "${BENCH_SECS[load]}"
	printf '  "reference_commands_per_second": %s,\n  "formats": {\n' "$(rate "${BENCH_SECS[reference]}")"
	sep=
	for f in html txt xml pdf; do
		printf '%s    "%s": { "seconds": %s, "cpu_seconds": %s, "notices_per_second": %s }' "$sep" "$f" \
			"${BENCH_SECS[$f]}" "${BENCH_CPU[$f]}" "$(rate "${BENCH_SECS[$f]}")"
		sep=$',\n'
	done
	printf '\n  }\n}\n'
} >"$OUT/notices.json"

echo
echo "notices: ${#SCOPES[@]} published notices (villages, projects, county) of book $BOOK, each made $ROUNDS times" \
     "per format; $(nproc) CPUs; PostgreSQL $PGVERSION"
echo "demo county loaded through the earmark commands in ${BENCH_SECS[load]} s;" \
     "load average (1 min) before the timed steps $LOAD_BEFORE, after $LOAD_AFTER"
echo
printf '%-44s %9s %8s %12s\n' "step ($N each)" seconds "cpu s" "per second"
printf '%-44s %9s %8s %12s\n' ---- ------- ----- ----------
printf '%-44s %9s %8s %12s\n' "reference: earmark voucher list" "${BENCH_SECS[reference]}" "${BENCH_CPU[reference]}" \
	"$(rate "${BENCH_SECS[reference]}")"
for f in html txt xml pdf; do
	printf '%-44s %9s %8s %12s\n' "notice make --format $f" "${BENCH_SECS[$f]}" "${BENCH_CPU[$f]}" \
		"$(rate "${BENCH_SECS[$f]}")"
done
echo
echo "figures: ${OUT#"$TOP"/}/notices.json"
