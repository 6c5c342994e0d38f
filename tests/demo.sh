#!/usr/bin/env bash
# make demo: earmark's main job on a private local PostgreSQL.
#
# Starts the private cluster under ./var (creating it the first time),
# applies the migrations, and in its own database earmark_demo (recreated on
# every run, so the demo never touches the database "earmark" where your own
# books live) sets up the sample county 平安县: a person for each role, a
# book, dedicated accounts, funds of three levels, villages, households and
# projects.  Then vouchers go through draft (clerk), review (reviewer) and
# post (bookkeeper); two refusals show the rules at work; the trial balance
# is printed and the hash chain verified.
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=$PWD
FIX=$TOP/tests/fixtures/demo
export EARMARK_HOME=$TOP
EM=$TOP/earmark

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ earmark %s\n' "$*"; "$EM" "$@"; }
# A step that must be refused: show the message, stop the demo if it passed.
refused() {
	printf '$ earmark %s\n' "$*"
	if "$EM" "$@"; then
		echo "demo: expected a refusal, but the command succeeded" >&2
		exit 1
	fi
}

say "private PostgreSQL under var/"
"$EM" db start
# Admin steps run as the cluster's superuser; the rest as the demo's people.
export PGHOST=$TOP/var/run PGUSER=postgres
psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS earmark_demo' -c 'CREATE DATABASE earmark_demo'
export PGDATABASE=earmark_demo
"$EM" db init

say "people: one login role per person, in the group roles of DESIGN section 8"
# demo_reviewer also prepares vouchers: in a small office people wear two
# hats, and D6 still keeps them from reviewing their own.
for u in demo_admin:admin demo_clerk:clerk demo_reviewer:reviewer,clerk demo_bookkeeper:bookkeeper \
	 demo_cashier:cashier demo_auditor:auditor; do
	run user add "${u%%:*}" --role "${u##*:}"
done

say "the book, its rule tables from config/, and its master data (admin)"
A=(--user demo_admin --book DEMO)
run "${A[@]}" book create DEMO --name "平安县财政衔接推进乡村振兴补助资金" --start 2026-01-01 \
	--accounts "$TOP/config/accounts.csv"
for kind in bank_account:bank_accounts fund:funds village:villages household:households \
	    project:projects project_budget:project_budgets project_target:project_targets; do
	run "${A[@]}" master import "${kind%%:*}" "$FIX/${kind##*:}.csv"
done

C=(--user demo_clerk --book DEMO)
R=(--user demo_reviewer --book DEMO)
B=(--user demo_bookkeeper --book DEMO)

# draft (clerk) -> review (reviewer) -> post (bookkeeper)
post_file() {
	local file=$1 date=$2 memo=$3 id
	printf '$ earmark voucher draft %s --date %s\n' "${file##*/}" "$date"
	id=$("$EM" "${C[@]}" voucher draft "$file" --date "$date" --memo "$memo" --key "demo-$date-${file##*/}")
	echo "$id"
	run "${R[@]}" voucher review "$id"
	run "${B[@]}" voucher post "$id"
}

say "funds arrive in their dedicated accounts (flow 2): central, province, city, county"
post_file "$FIX/v1_receive_central.csv" 2026-03-02 "收到中央衔接资金"
post_file "$FIX/v2_receive_province.csv" 2026-03-20 "收到省级衔接资金"
post_file "$FIX/v4_receive_city.csv" 2026-04-01 "收到市级衔接资金"
post_file "$FIX/v3_receive_county.csv" 2026-04-08 "收到县级衔接资金"

say "projects: approval, start, inspections and acceptance (P1, P3)"
run "${C[@]}" master import project_event "$FIX/project_events.csv"

# draft ids from a claim's answer ("claim 1: payable #5, payment #6")
review_and_post() {
	local id
	for id in $(printf '%s\n' "$1" | grep -o '#[0-9]*'); do
		run "${R[@]}" voucher review "$id"
		run "${B[@]}" voucher post "$id"
	done
}

say "a project paid by progress (flow 3): 报账 with its documents"
echo "-- a claim without its inspection record and receipts (P4):"
refused "${C[@]}" project claim P2026-001 --fund ZY2026-01 --amount 600,000.00 --date 2026-07-20 \
	--plan 平乡振用〔2026〕3号 --contract PALQ-2026-015
echo "-- inspected progress 40 % plus the 30 % advance allow 700,000.00 of the 1,000,000.00 budget (P3):"
refused "${C[@]}" project claim P2026-001 --fund ZY2026-01 --amount 800,000.00 --date 2026-07-20 \
	--inspection 平乡振验〔2026〕7号 --plan 平乡振用〔2026〕3号 --contract PALQ-2026-015 \
	--receipts 61002611,61002612
printf '$ earmark project claim P2026-001 --amount 600,000.00 ...\n'
out=$("$EM" "${C[@]}" project claim P2026-001 --fund ZY2026-01 --amount 600,000.00 --date 2026-07-20 \
	--inspection 平乡振验〔2026〕7号 --plan 平乡振用〔2026〕3号 --contract PALQ-2026-015 \
	--receipts 61002611,61002612 --receipt-count 2 --key demo-claim-1)
echo "$out"
review_and_post "$out"

say "households paid in a batch (flow 4): beneficiary list, notice period, objection, batch, pain.001"
run "${C[@]}" list create L2026-WF-01 "$FIX/list_wf.csv" --project P2026-003 --title "2026年农村危房改造补助对象公示"
echo "-- a notice period of 7 days is too short (H3):"
refused "${A[@]}" list publish L2026-WF-01 --from 2026-11-02 --days 7
run "${A[@]}" list publish L2026-WF-01 --from 2026-11-02 --days 10
echo "-- paying on 2026-11-06, before the notice period has ended (H3):"
refused "${C[@]}" pay batch "$FIX/batch_wf.csv" --code B2026-11-01 --date 2026-11-06
echo "-- a villager objects to H0005 during the notice period; until it is resolved H0005 cannot be paid:"
obj=$("$EM" "${C[@]}" list object L2026-WF-01 H0005 --date 2026-11-05 --reason "反映该户房屋已由子女新建")
echo "$obj"
refused "${C[@]}" pay batch "$FIX/batch_wf.csv" --code B2026-11-01 --date 2026-11-16
run "${A[@]}" list resolve "${obj##*#}" --date 2026-11-10 --resolution "经入户核实，原房屋为D级危房，子女在外务工未新建，异议不成立"
run "${C[@]}" pay batch "$FIX/batch_wf.csv" --code B2026-11-01 --date 2026-11-16 --key demo-batch-1
run --user demo_reviewer --book DEMO pay review B2026-11-01
run "${B[@]}" pay post B2026-11-01
mkdir -p "$TOP/out/payments"
run --user demo_cashier --book DEMO pay export B2026-11-01 -o "$TOP/out/payments/B2026-11-01.xml"
printf '$ xmllint --noout --nonet --schema pain.001.001.03.xsd out/payments/B2026-11-01.xml\n'
xmllint --noout --nonet --schema "$TOP/tests/fixtures/iso20022/pain.001.001.03.xsd" "$TOP/out/payments/B2026-11-01.xml"
echo "-- the same household for the same item again (H2):"
refused "${C[@]}" pay batch "$FIX/batch_wf.csv" --code B2026-11-02 --date 2026-11-20

say "interest on the shared dedicated account belongs to its funds, by balance (A4)"
out=$("$EM" "${C[@]}" fund interest 622848001122334455 --amount 3,456.78 --date 2026-09-21 --key demo-interest-q3)
echo "$out"
run "${R[@]}" voucher review "#${out##*#}"
run "${B[@]}" voucher post "#${out##*#}"

say "refusals: the rules hold inside the database"
echo "-- a voucher that balances in total but moves money between funds (D2):"
refused "${C[@]}" voucher draft "$FIX/bad_cross_fund.csv" --date 2026-11-20
echo "-- wages of township staff are on the negative list (A3):"
refused "${C[@]}" voucher draft "$FIX/bad_negative_list.csv" --date 2026-11-20
echo "-- the reviewer prepares a voucher and tries to review it too (D6):"
id=$("$EM" "${R[@]}" voucher draft "$FIX/bad_overdraft.csv" --date 2026-11-20 --memo "县级资金超额支付")
refused "${R[@]}" voucher review "$id"
run "${R[@]}" voucher discard "$id"
echo "-- the county fund has 300,000.00 but this pays 400,000.00 (A2):"
id=$("$EM" "${C[@]}" voucher draft "$FIX/bad_overdraft.csv" --date 2026-11-20 --memo "县级资金超额支付")
run "${R[@]}" voucher review "$id"
refused "${B[@]}" voucher post "$id"
echo "-- the bookkeeper sends it back; the clerk discards it"
run "${B[@]}" voucher reject "$id"
run "${C[@]}" voucher discard "$id"
echo "-- a posted line edited in psql by the bookkeeper (D3):"
printf '$ psql -U demo_bookkeeper -c "UPDATE earmark.line SET amount_fen = 1"\n'
if psql -X -q -U demo_bookkeeper -c "UPDATE earmark.line SET amount_fen = 1"; then
	echo "demo: the update of a posted line succeeded" >&2
	exit 1
fi
echo "-- the auditor reads the ledger but not the households' ID numbers (H4):"
printf '$ psql -U demo_auditor -c "SELECT id_no FROM earmark.household_private"\n'
if psql -X -q -U demo_auditor -c "SELECT id_no FROM earmark.household_private"; then
	echo "demo: the auditor read personal data" >&2
	exit 1
fi

say "a correction is a 红字 reversal, then the right voucher"
rev=$("$EM" "${C[@]}" voucher reverse 收-2026-09-0001 --date 2026-09-30 --key demo-reverse)
echo "$rev"
run "${R[@]}" voucher review "$rev"
run "${B[@]}" voucher post "$rev"
out=$("$EM" "${C[@]}" fund interest 622848001122334455 --amount 3,465.87 --date 2026-09-21 --key demo-interest-q3b)
echo "$out"
run "${R[@]}" voucher review "#${out##*#}"
run "${B[@]}" voucher post "#${out##*#}"

say "vouchers"
run "${B[@]}" voucher list
say "试算平衡表"
run "${B[@]}" report trial-balance --as-of 2026-11-23
run "${B[@]}" report trial-balance --as-of 2026-11-23 --fund ZY2026-01
say "the hash chain (D8), recomputed by earmark from the stored vouchers"
run --user demo_auditor --book DEMO ledger verify-chain

cat <<EOF

The demo book is in database earmark_demo of the private cluster. Look around with, e.g.:
  PGHOST=$PGHOST PGDATABASE=earmark_demo ./earmark --user demo_auditor --book DEMO voucher show 转-2026-11-0001
Stop the private PostgreSQL with: ./earmark db stop
EOF
