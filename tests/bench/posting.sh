#!/usr/bin/env bash
# tests/bench/posting.sh: single vouchers of 2 to 6 lines posted by 1, 4 and
# 8 clients, next to pgbench's built-in TPC-B-like script on the same
# cluster with the same settings and duration.
#
# The target (issue 7): single-voucher posting at 8 clients at least half
# of pgbench's TPC-B-like rate.  This prints the figures and the ratios; it
# asserts no timing and fails only when a step fails.
#
# Each earmark transaction of pgbench (tests/bench/posting.pgbench) is one
# voucher through earmark's real posting path, the SQL API the CLI calls:
# earmark.voucher_draft as the clerk, voucher_review as the reviewer,
# voucher_post as the bookkeeper (SET ROLE between them, as three people
# would; D6), so every rule runs: D1-D9, A1-A3 on the draft, the review
# and under the book's posting lock, numbering, the hash chain, the kept
# balances.  A voucher pays 1 to 5 households' 产业奖补 (Dr 5001 per
# village, category CY) from one of two funds' dedicated account (Cr 1002):
# 2 to 6 lines, 4 on average.  pgbench's TPC-B-like transaction is five
# statements in one transaction (three UPDATEs, a SELECT, an INSERT) at
# scale BENCH_PGBENCH_SCALE (default 10, at least the clients, as pgbench
# advises).  Both run with -M prepared for BENCH_POST_SECONDS each, the
# same client counts, one after the other on one cluster.
#
# All clients post into one book, as one county's office does: posting
# takes the book's chain-head lock (D5 numbers, D8 chain), so a book's
# postings are serial by design.  A last run posts with 8 clients into 8
# books (8 counties on one server), where they are not.  After the runs the
# chain of every book is recomputed by `earmark ledger verify-chain`, and
# the number of posted vouchers must equal what pgbench counted.
#
# Environment:
#   BENCH_POST_SECONDS   seconds per run (default 30)
#   BENCH_POST_CLIENTS   client counts (default "1 4 8")
#   BENCH_PGBENCH_SCALE  pgbench -i scale (default 10)
#   BENCH_OUT            where the JSON goes (default out/bench)
#   BENCH_HOLD=FILE      profile by hand: once the books are made, write the
#                        cluster's settings to FILE and wait until it is removed
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

SECS=${BENCH_POST_SECONDS:-30}
CLIENTS=${BENCH_POST_CLIENTS:-1 4 8}
SCALE=${BENCH_PGBENCH_SCALE:-10}
OUT=${BENCH_OUT:-$TOP/out/bench}
BOOKS=8
for v in "$SECS" "$SCALE" $CLIENTS; do
	case $v in '' | *[!0-9]* | 0) echo "bench: BENCH_POST_* and BENCH_PGBENCH_SCALE are whole numbers above 0" >&2; exit 2 ;; esac
done
PGBENCH=$PGBIN/pgbench
if [ ! -x "$PGBENCH" ]; then
	echo "bench: $PGBENCH not found (Debian package postgresql-15, which has the server)" >&2
	exit 1
fi

START=$(date -d "$(date +%Y-%m-01) -2 months" +%F)
RECEIPT=$(date -d "$START +1 day" +%F)

bench_step "posting: ${SECS}s per run, clients $CLIENTS; cluster under ${TMPDIR:-/tmp}"
bench_cluster_start
export PGDATABASE=earmark_bench
bench_run createdb psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $PGDATABASE"
bench_run db-init "$EM" db init
for u in admin clerk reviewer bookkeeper; do
	bench_run "user-$u" "$EM" user add "bench_$u" --role "$u"
done

q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

# Books B1..B8: one dedicated account, two funds of 1,000,000,000.00
# received, six villages.  The book's own rule tables come from config/.
D=$BENCH_T/data
mkdir -p "$D"
cat >"$D/bank_accounts.csv" <<EOF
account_no,bank_name,cnaps,holder
622848001100000001,中国农业银行绥德县支行,103826000010,绥德县财政局衔接资金专户
EOF
cat >"$D/funds.csv" <<EOF
code,name,level,type,year,doc_no,amount,bank_account,categories,received_on
F1,中央财政衔接推进乡村振兴补助资金,central,衔接资金,${START:0:4},财农〔${START:0:4}〕1号,1000000000.00,622848001100000001,CY;JC,$RECEIPT
F2,省级财政衔接推进乡村振兴补助资金,province,衔接资金,${START:0:4},陕财办农〔${START:0:4}〕2号,1000000000.00,622848001100000001,CY;JC,$RECEIPT
EOF
{
	echo "code,name,township,county"
	for v in 1 2 3 4 5 6; do echo "61082610020$v,村$v,城关镇,绥德县"; done
} >"$D/villages.csv"
for f in F1 F2; do
	printf 'account,side,amount,fund,project,village,household,bank_account,category,memo\n%s\n%s\n' \
		"1002,D,1000000000.00,$f,,,,622848001100000001,,收到" "4001,C,1000000000.00,$f,,,,,,收到" >"$D/receipt-$f.csv"
done
bench_step "books B1..B$BOOKS: funds received; pgbench -i -s $SCALE"
for ((b = 1; b <= BOOKS; b++)); do
	A=(--user bench_admin --book "B$b")
	bench_run "book-$b" "$EM" "${A[@]}" book create "B$b" --name "基准测试账套$b" --start "$START" \
		--accounts "$TOP/config/accounts.csv"
	for kind in bank_account:bank_accounts fund:funds village:villages; do
		bench_run "import-$b-${kind%%:*}" "$EM" "${A[@]}" master import "${kind%%:*}" "$D/${kind##*:}.csv"
	done
	for f in F1 F2; do
		bench_run "receipt-$b-$f" "$EM" --user bench_clerk --book "B$b" voucher draft "$D/receipt-$f.csv" \
			--date "$RECEIPT" --key "receipt-$f"
		id=$(grep -o '#[0-9]*' "$BENCH_LOG/receipt-$b-$f.log" | head -n 1)
		bench_run "review-$b-$f" "$EM" --user bench_reviewer --book "B$b" voucher review "$id"
		bench_run "post-$b-$f" "$EM" --user bench_bookkeeper --book "B$b" voucher post "$id"
	done
done
bench_run pgbench-init "$PGBENCH" -i -q -s "$SCALE" "$PGDATABASE"
bench_run analyze psql -X -q -v ON_ERROR_STOP=1 -c 'VACUUM ANALYZE' -c 'CHECKPOINT'
if [ -n "${BENCH_HOLD:-}" ]; then
	printf 'export PGHOST=%s PGPORT=%s PGUSER=%s EARMARK_HOME=%s PGDATABASE=%s\n' \
		"$PGHOST" "$PGPORT" "$PGUSER" "$EARMARK_HOME" "$PGDATABASE" >"$BENCH_HOLD"
	bench_step "holding the cluster until $BENCH_HOLD is removed"
	while [ -e "$BENCH_HOLD" ]; do sleep 2; done
fi

# pgbench NAME CLIENTS ARGS...: one timed run; tps and mean latency in TPS[NAME], LAT[NAME]
declare -A TPS LAT TX
run_pgbench() {
	local name=$1 c=$2
	shift 2
	bench_step "timed: $name, $c client(s), ${SECS}s"
	bench_time "$name" "$PGBENCH" -n -M prepared -r -c "$c" -j "$c" -T "$SECS" --max-tries=10 "$@" "$PGDATABASE"
	TPS[$name]=$(awk '/^tps = / { printf "%.1f", $3; exit }' "$BENCH_LOG/$name.log")
	LAT[$name]=$(awk '/^latency average = / { print $4; exit }' "$BENCH_LOG/$name.log")
	TX[$name]=$(awk '/^number of transactions actually processed: / { print $6; exit }' "$BENCH_LOG/$name.log")
	if [ -z "${TPS[$name]}" ] || grep -q '^number of failed transactions: [1-9]' "$BENCH_LOG/$name.log"; then
		echo "bench: pgbench run '$name' failed" >&2
		sed 's/^/    /' "$BENCH_LOG/$name.log" >&2
		exit 1
	fi
}

# step_ms NAME FUNCTION: mean ms of the statement calling earmark.FUNCTION (pgbench -r)
step_ms() {
	awk -v f="earmark.$2(" 'index($0, f) && $1 ~ /^[0-9.]+$/ { print $1; exit }' "$BENCH_LOG/$1.log"
}

LOAD_BEFORE=$(bench_load)
for c in $CLIENTS; do
	run_pgbench "tpcb_$c" "$c" -b tpcb-like
	run_pgbench "earmark_$c" "$c" -f "$TOP/tests/bench/posting.pgbench" -D books=1
done
run_pgbench "earmark_books_$BOOKS" "$BOOKS" -f "$TOP/tests/bench/posting.pgbench" -D books="$BOOKS"
LOAD_AFTER=$(bench_load)

# Every posting is real: the chains recompute and the counts agree.
posted=0
for ((b = 1; b <= BOOKS; b++)); do
	bench_run "verify-chain-$b" "$EM" --book "B$b" ledger verify-chain
done
posted=$(q -c "SELECT count(*) FROM earmark.voucher WHERE status = 'posted' AND memo = '基准测试'")
lines=$(q -c "SELECT count(*) FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id) WHERE v.memo = '基准测试'")
want=0
for k in "${!TX[@]}"; do
	[[ $k == earmark_* ]] && want=$((want + TX[$k]))
done
if [ "$posted" != "$want" ]; then
	echo "bench: $posted vouchers posted, pgbench counted $want" >&2
	exit 1
fi

PGVERSION=$(psql -X -A -t -c 'SHOW server_version')
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
# CPU ms (client and server, lib.sh) per transaction of a run: what a busy
# machine disturbs least
cpu_ms() { awk -v c="${BENCH_CPU[$1]}" -v n="${TX[$1]}" 'BEGIN { printf "%.2f", (n > 0 ? 1000 * c / n : 0) }'; }
LAST=${CLIENTS##* }
mkdir -p "$OUT"
{
	printf '{\n  "benchmark": "posting",\n  "seconds_per_run": %d,\n  "pgbench_scale": %d,\n' "$SECS" "$SCALE"
	printf '  "vouchers_posted": %d,\n  "lines_posted": %d,\n' "$posted" "$lines"
	printf '  "date": "%s",\n  "commit": "%s",\n' "$(date -u +%FT%TZ)" "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	bench_machine_json "$LOAD_BEFORE" "$LOAD_AFTER"
	printf '  "runs": {\n'
	sep=
	for c in $CLIENTS; do
		printf '%s    "%s": { "clients": %d, "books": 1, "earmark_vouchers_per_second": %s, "earmark_latency_ms": %s, "tpcb_tps": %s, "tpcb_latency_ms": %s, "ratio": %s, "earmark_cpu_ms_per_voucher": %s, "tpcb_cpu_ms_per_transaction": %s, "cpu_ratio": %s }' \
			"$sep" "$c" "$c" "${TPS[earmark_$c]}" "${LAT[earmark_$c]}" "${TPS[tpcb_$c]}" "${LAT[tpcb_$c]}" \
			"$(ratio "${TPS[earmark_$c]}" "${TPS[tpcb_$c]}")" "$(cpu_ms "earmark_$c")" "$(cpu_ms "tpcb_$c")" \
			"$(ratio "$(cpu_ms "tpcb_$c")" "$(cpu_ms "earmark_$c")")"
		sep=$',\n'
	done
	printf '\n  },\n  "books_%d": { "clients": %d, "earmark_vouchers_per_second": %s, "earmark_latency_ms": %s, "tpcb_tps_same_clients": %s, "ratio": %s },\n' \
		"$BOOKS" "$BOOKS" "${TPS[earmark_books_$BOOKS]}" "${LAT[earmark_books_$BOOKS]}" "${TPS[tpcb_$LAST]:-null}" \
		"$(ratio "${TPS[earmark_books_$BOOKS]}" "${TPS[tpcb_$LAST]:-0}")"
	printf '  "step_ms": {\n'
	sep=
	for c in $CLIENTS; do
		printf '%s    "%s": { "draft": %s, "review": %s, "post": %s }' "$sep" "$c" "$(step_ms "earmark_$c" voucher_draft)" \
			"$(step_ms "earmark_$c" voucher_review)" "$(step_ms "earmark_$c" voucher_post)"
		sep=$',\n'
	done
	printf '\n  },\n'
	printf '  "target": { "clients": 8, "min_ratio": 0.5 }\n}\n'
} >"$OUT/posting.json"

echo
echo "posting: vouchers of 2-6 lines (draft, review, post) vs pgbench TPC-B-like (scale $SCALE); ${SECS}s per run;" \
     "$(nproc) CPUs; PostgreSQL $PGVERSION"
echo "load average (1 min) before the runs $LOAD_BEFORE, after $LOAD_AFTER; $posted vouchers ($lines lines) posted and chained"
echo
printf '%-30s %14s %12s %12s %12s %8s %14s\n' "clients" "vouchers/s" "latency ms" "TPC-B tps" "latency ms" "ratio" "CPU ms/tx"
printf '%-30s %14s %12s %12s %12s %8s %14s\n' "-------" "----------" "----------" "---------" "----------" "-----" "---------"
for c in $CLIENTS; do
	printf '%-30s %14s %12s %12s %12s %8s %14s\n' "$c, one book" "${TPS[earmark_$c]}" "${LAT[earmark_$c]}" \
		"${TPS[tpcb_$c]}" "${LAT[tpcb_$c]}" "$(ratio "${TPS[earmark_$c]}" "${TPS[tpcb_$c]}")" \
		"$(cpu_ms "earmark_$c") / $(cpu_ms "tpcb_$c")"
done
printf '%-30s %14s %12s %12s %12s %8s\n' "$BOOKS, one book each" "${TPS[earmark_books_$BOOKS]}" \
	"${LAT[earmark_books_$BOOKS]}" "${TPS[tpcb_$LAST]:--}" "${LAT[tpcb_$LAST]:--}" \
	"$(ratio "${TPS[earmark_books_$BOOKS]}" "${TPS[tpcb_$LAST]:-0}")"
echo
echo "mean ms per call (pgbench -r), one book:"
for c in $CLIENTS; do
	printf '  %s client(s): voucher_draft %s, voucher_review %s, voucher_post %s\n' "$c" \
		"$(step_ms "earmark_$c" voucher_draft)" "$(step_ms "earmark_$c" voucher_review)" "$(step_ms "earmark_$c" voucher_post)"
done
echo
echo "CPU ms/tx: CPU milliseconds, client and server, per voucher / per TPC-B-like transaction"
echo "target: at 8 clients at least 0.50 of TPC-B-like (a voucher is three transactions: draft, review, post)"
echo "figures: ${OUT#"$TOP"/}/posting.json"
