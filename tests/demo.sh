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

say "the book and its master data (admin)"
A=(--user demo_admin --book DEMO)
run "${A[@]}" book create DEMO --name "平安县财政衔接推进乡村振兴补助资金" --start 2026-01-01 \
	--accounts "$TOP/config/accounts.csv"
run "${A[@]}" master import bank_account "$FIX/bank_accounts.csv"
run "${A[@]}" master import category "$FIX/categories.csv"
run "${A[@]}" master import fund "$FIX/funds.csv"
run "${A[@]}" master import village "$FIX/villages.csv"
run "${A[@]}" master import household "$FIX/households.csv"
run "${A[@]}" master import project "$FIX/projects.csv"

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

say "funds arrive in their dedicated accounts (flow 2)"
post_file "$FIX/v1_receive_central.csv" 2026-03-02 "收到中央衔接资金"
post_file "$FIX/v2_receive_province.csv" 2026-03-05 "收到省级衔接资金"
post_file "$FIX/v3_receive_county.csv" 2026-03-06 "收到县级衔接资金"

say "a project paid by progress (flow 3): payable, then payment"
post_file "$FIX/v4_road_payable.csv" 2026-04-10 "王家村产业路 第一期进度款"
post_file "$FIX/v5_road_payment.csv" 2026-04-12 "支付王家村产业路 第一期进度款"

say "households paid directly"
post_file "$FIX/v6_households.csv" 2026-05-20 "食用菌大棚到户补助"

say "refusals: the rules hold inside the database"
echo "-- a voucher that balances in total but moves money between funds (D2):"
refused "${C[@]}" voucher draft "$FIX/bad_cross_fund.csv" --date 2026-05-21
echo "-- the reviewer prepares a voucher and tries to review it too (D6):"
id=$("$EM" "${R[@]}" voucher draft "$FIX/bad_overdraft.csv" --date 2026-05-22 --memo "县级资金超额支付")
refused "${R[@]}" voucher review "$id"
run "${R[@]}" voucher discard "$id"
echo "-- the county fund has 300,000.00 but this pays 400,000.00 (A2):"
id=$("$EM" "${C[@]}" voucher draft "$FIX/bad_overdraft.csv" --date 2026-05-22 --memo "县级资金超额支付")
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

say "a correction is a 红字 reversal, then the right voucher"
rev=$("$EM" "${C[@]}" voucher reverse 记-2026-05-0001 --date 2026-05-25 --key demo-reverse)
echo "$rev"
run "${R[@]}" voucher review "$rev"
run "${B[@]}" voucher post "$rev"
post_file "$FIX/v6_households.csv" 2026-05-26 "食用菌大棚到户补助 (更正后重记)"

say "vouchers"
run "${B[@]}" voucher list
say "试算平衡表"
run "${B[@]}" report trial-balance --as-of 2026-06-30
run "${B[@]}" report trial-balance --as-of 2026-06-30 --fund XJ2026-01
say "the hash chain (D8), recomputed by earmark from the stored vouchers"
run --user demo_auditor --book DEMO ledger verify-chain

cat <<EOF

The demo book is in database earmark_demo of the private cluster. Look around with, e.g.:
  PGHOST=$PGHOST PGDATABASE=earmark_demo ./earmark --user demo_auditor --book DEMO voucher show 记-2026-04-0001
Stop the private PostgreSQL with: ./earmark db stop
EOF
