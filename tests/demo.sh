#!/usr/bin/env bash
# make demo: earmark's main job on a private local PostgreSQL.
#
# Starts the private cluster under ./var (creating it the first time) and
# applies the migrations in its own database earmark_demo (recreated on
# every run, so the demo never touches the database "earmark" where your own
# books live).  First a realistic year: `earmark generate --scale demo`
# writes a year of 绥德县 (610826) to out/generated/, and tests/load-book
# loads it as book C610826 through the earmark commands, every step as the
# county's people would run it, then every attempt the rules must refuse;
# its trial balance is printed and its hash chain verified.  Then the
# hand-written sample county 平安县 (book DEMO, tests/fixtures/demo/): a
# person for each role, a book, dedicated accounts, funds of all four
# levels, villages, households and projects; vouchers go through draft
# (clerk), review (reviewer) and post (bookkeeper); refusals show the rules
# at work with exact amounts; then statements, reports, notices and the
# signed audit package to out/.
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

say "a generated county: a year of 绥德县 (610826) from earmark generate, loaded through the earmark commands"
# Seed 7, last year: the same files on every run.  The loader runs one
# earmark process per step as suide_admin, _clerk, _reviewer, _bookkeeper
# and _cashier (fund receipts, 报账 claims, beneficiary lists published
# before their batches, batches posted and exported as pain.001 to
# out/generated/610826/out/, quarterly interest, the bank's statements
# imported and matched, the returned payment re-issued, months closed),
# then every line of refused.tsv, each of which must be refused for its
# own rule.  Any step that fails, or an attempt that passes, stops the demo.
GEN=$TOP/out/generated
GEN_YEAR=$(($(date +%Y) - 1))
rm -rf "$GEN"
mkdir -p "$TOP/out"
printf '$ earmark generate --scale demo --seed 7 --year %s -o out/generated\n' "$GEN_YEAR"
"$EM" generate --scale demo --seed 7 --year "$GEN_YEAR" -o "$GEN"
GEN_BOOK=$(awk -F '\t' '$1 == "code" { print $2 }' "$GEN/610826/book.txt")
printf '$ tests/load-book --users suide out/generated\n'
"$TOP/tests/load-book" --users suide "$GEN"
G=(--user suide_bookkeeper --book "$GEN_BOOK")
run "${G[@]}" report trial-balance --as-of "$GEN_YEAR-12-31"
run "${G[@]}" report fund-statement --as-of "$GEN_YEAR-12-31"
run "${G[@]}" ledger verify-chain

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

# --- bank statements, reconciliation, period close (issue 4) ---

say "the bank's November statement of 622848001122334455 (camt.053), with one payment returned"
# The bank's file, written here from what was paid: every payment of batch
# B2026-11-01 debited on 2026-11-17 with its end-to-end id, and the last
# one back on 2026-11-19 (RtrInf AC04: the household's account is closed).
mkdir -p "$TOP/out/statements"
STMT=$TOP/out/statements/622848001122334455-2026-11.xml
opening=$(psql -X -A -t -c "SELECT COALESCE(sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END), 0)
  FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
  JOIN earmark.dedicated_account d USING (book_id, bank_account_id) JOIN earmark.book bk USING (book_id)
 WHERE bk.code = 'DEMO' AND d.account_no = '622848001122334455' AND v.status = 'posted' AND v.voucher_date < '2026-11-16'")
fen() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }
{
	entries=""
	total=0
	while IFS='|' read -r e2e amt name; do
		total=$((total - amt))
		entries+="<Ntry><Amt Ccy=\"CNY\">$(fen "$amt")</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-11-17</Dt></BookgDt><BkTxCd><Prtry><Cd>TRF</Cd></Prtry></BkTxCd><NtryDtls><TxDtls><Refs><EndToEndId>$e2e</EndToEndId></Refs><RltdPties><Cdtr><Nm>$name</Nm></Cdtr></RltdPties></TxDtls></NtryDtls></Ntry>"
		last="$e2e|$amt|$name"
	done < <(psql -X -A -t -c "SELECT p.end_to_end_id, p.amount_fen, h.head_name FROM earmark.household_payment p
	  JOIN earmark.pay_batch b USING (book_id, batch_id) JOIN earmark.household h USING (book_id, household_id)
	  JOIN earmark.book bk USING (book_id)
	 WHERE bk.code = 'DEMO' AND b.code = 'B2026-11-01' ORDER BY p.end_to_end_id")
	IFS='|' read -r e2e amt name <<<"$last"
	total=$((total + amt))
	entries+="<Ntry><Amt Ccy=\"CNY\">$(fen "$amt")</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-11-19</Dt></BookgDt><BkTxCd><Prtry><Cd>RTRN</Cd></Prtry></BkTxCd><NtryDtls><TxDtls><Refs><EndToEndId>$e2e</EndToEndId></Refs><RltdPties><Dbtr><Nm>$name</Nm></Dbtr></RltdPties><RmtInf><Ustrd>退汇 收款账户已销户</Ustrd></RmtInf><RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>"
	printf '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>DEMO-STMT-2026-11</MsgId><CreDtTm>2026-11-21T06:00:00+08:00</CreDtTm></GrpHdr><Stmt><Id>622848001122334455-2026-11</Id><CreDtTm>2026-11-21T06:00:00+08:00</CreDtTm><FrToDt><FrDtTm>2026-11-16T00:00:00+08:00</FrDtTm><ToDtTm>2026-11-20T23:59:59+08:00</ToDtTm></FrToDt><Acct><Id><Othr><Id>622848001122334455</Id></Othr></Id><Ccy>CNY</Ccy></Acct>'
	printf '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-15</Dt></Dt></Bal>' "$(fen "$opening")"
	printf '<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CNY">%s</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-20</Dt></Dt></Bal>' "$(fen $((opening + total)))"
	printf '%s</Stmt></BkToCstmrStmt></Document>\n' "$entries"
} >"$STMT"
K=(--user demo_cashier --book DEMO)
run statement check "$STMT"
refused "${K[@]}" statement import "$TOP/tests/fixtures/iso20022/samples/camt053.v2.minimal.xml" --account 622848001122334455
run "${K[@]}" statement import "$STMT" --account 622848001122334455
run "${K[@]}" statement import "$STMT" --account 622848001122334455
say "matching: by end-to-end id; the returned payment becomes a receipt voucher, never netted"
run "${K[@]}" statement match --account 622848001122334455
run "${K[@]}" statement list --account 622848001122334455
ret=$(psql -X -A -t -c "SELECT r.voucher_id FROM earmark.payment_return r JOIN earmark.household_payment p USING (book_id, payment_id) JOIN earmark.book bk USING (book_id) WHERE bk.code = 'DEMO' AND p.end_to_end_id = '$e2e'")
run "${B[@]}" voucher show "#$ret"
say "余额调节表 before the return is posted: the bank has the money back, the book not yet"
run "${K[@]}" report reconciliation --account 622848001122334455 --as-of 2026-11-20
refused "${A[@]}" period close 2026-11
run "${R[@]}" voucher review "#$ret"
run "${B[@]}" voucher post "#$ret"
say "the payable to the household stands again: the clerk re-issues the payment"
out=$("$EM" "${C[@]}" pay reissue "$e2e" --date 2026-11-21)
echo "$out"
re=$(sed 's/.*draft \(#[0-9]*\) .*/\1/' <<<"$out")
rb=$(sed 's/.*in batch \(R[0-9]*\):.*/\1/' <<<"$out")
run "${R[@]}" voucher review "$re"
run "${B[@]}" voucher post "$re"
run "${K[@]}" pay export "$rb" -o "$TOP/out/payments/$rb.xml"
say "余额调节表 as of 2026-11-21: the re-issue is paid in the book, not yet at the bank; the adjusted balances agree"
run "${K[@]}" report reconciliation --account 622848001122334455 --as-of 2026-11-21
"$EM" "${K[@]}" report reconciliation --account 622848001122334455 --as-of 2026-11-21 --format html \
	-o "$TOP/out/statements/reconciliation-622848001122334455-2026-11-21.html"
echo "out/statements/reconciliation-622848001122334455-2026-11-21.html"

# --- reports to out/reports/ (issue 4) ---

say "reports of the sample county to out/reports/ (CSV, JSON, printable HTML), as the auditor sees them"
# Run as the auditor: read-only, and the household ledger comes out masked
# (H4), so the files may leave the office.  The refusal shows the rule for
# a date before the book began; the exceptions report lists the demo's
# refusals with their rule, record, user and time.
mkdir -p "$TOP/out/reports"
AU=(--user demo_auditor --book DEMO)
refused "${AU[@]}" report fund-statement --as-of 2025-12-31
for r in trial-balance general-ledger detail-ledger bank-journal fund-statement project-ledger \
	 village-register household-ledger idle-funds exceptions; do
	extra=()
	case $r in
	household-ledger) extra=(--household H0001) ;;
	general-ledger | detail-ledger | bank-journal | exceptions) extra=(--from 2026-01-01) ;;
	esac
	for f in csv json html; do
		"$EM" "${AU[@]}" report "$r" --as-of 2026-11-23 "${extra[@]}" --format "$f" -o "$TOP/out/reports/$r.$f"
	done
	echo "out/reports/$r.{csv,json,html}"
done
run "${AU[@]}" report fund-statement --as-of 2026-11-23
run "${AU[@]}" report idle-funds --as-of 2026-11-23

# --- public notices to out/notices/ (issue 6) ---

say "public notices (公告公示) of the sample county in every format, to out/notices/"
# Made from the ledger and master data, never typed: the 事前公示 of 王家村
# and of the county, the 事后公告 of the housing project once its households
# are paid.  Names masked, no ID numbers or bank cards (H4); each carries the
# SHA-256 of its content, printed and as a QR code, for the board's check page.
run "${A[@]}" notice contact --publisher 平安县乡村振兴局 --hotline 0916-3212317
echo "-- a notice period of 7 days is too short (H3):"
refused "${A[@]}" notice publish --village 610826101201 --kind plan --from 2026-11-02 --days 7
run "${A[@]}" notice publish --village 610826101201 --kind plan --from 2026-11-02
run "${A[@]}" notice publish --project P2026-003 --kind result --from 2026-11-20
run "${A[@]}" notice publish --county --kind plan --from 2026-11-20
mkdir -p "$TOP/out/notices"
for n in "village-610826101201-plan:--village 610826101201 --kind plan" \
	 "project-P2026-003-result:--project P2026-003 --kind result" \
	 "county-plan:--county --kind plan"; do
	read -r -a scope <<<"${n#*:}"
	for f in html txt xml pdf; do
		run "${A[@]}" notice make "${scope[@]}" --format "$f" -o "$TOP/out/notices/${n%%:*}.$f"
	done
	run "${A[@]}" notice make "${scope[@]}" --format pdf --paper A3 -o "$TOP/out/notices/${n%%:*}-A3.pdf"
	xmllint --noout --nonet --schema "$TOP/reports/schemas/notice.xsd" "$TOP/out/notices/${n%%:*}.xml"
done
"$EM" user add demo_board --role public >/dev/null
echo "-- the public board: ./earmark --user demo_board serve --listen 127.0.0.1:8080 (PGDATABASE=earmark_demo)"

# --- signed audit package to out/audit/ (issue 5) ---

say "the signed audit package of 2026 to out/audit/, verified by earmark and by xmlsec1 (DESIGN section 6)"
# A demo CA and the auditor's signing key, made once under var/demo-ca/ with
# openssl (never committed); the CA's certificate goes beside the package.
DEMO_CA=$TOP/var/demo-ca
mkdir -p "$DEMO_CA" "$TOP/out/audit"
if [ ! -s "$DEMO_CA/signer.pem" ]; then
	openssl req -x509 -newkey rsa:3072 -nodes -keyout "$DEMO_CA/ca.key" -out "$DEMO_CA/ca.pem" \
		-days 3650 -utf8 -subj "/C=CN/O=平安县/CN=earmark demo CA" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
	openssl req -newkey rsa:3072 -nodes -keyout "$DEMO_CA/signer.key" -out "$DEMO_CA/signer.csr" \
		-utf8 -subj "/C=CN/O=平安县审计局/CN=demo_auditor" 2>/dev/null
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' >"$DEMO_CA/signer.ext"
	openssl x509 -req -in "$DEMO_CA/signer.csr" -CA "$DEMO_CA/ca.pem" -CAkey "$DEMO_CA/ca.key" \
		-CAcreateserial -days 825 -extfile "$DEMO_CA/signer.ext" -out "$DEMO_CA/signer.pem" 2>/dev/null
fi
# The signing key is kept encrypted (AES-256), as a real auditor's should be;
# the demo keeps its random passphrase beside it in var/ (mode 0600), where a
# real signer would type it or keep it elsewhere.  earmark reads it from
# EARMARK_KEY_PASSPHRASE (or asks at a terminal) and never prints it.
if openssl pkey -in "$DEMO_CA/signer.key" -passin pass: -noout 2>/dev/null; then
	(umask 077 && openssl rand -hex 24 >"$DEMO_CA/signer.pass")
	openssl pkey -in "$DEMO_CA/signer.key" -aes256 -passout "file:$DEMO_CA/signer.pass" \
		-out "$DEMO_CA/signer.key.enc" && mv "$DEMO_CA/signer.key.enc" "$DEMO_CA/signer.key"
fi
cp "$DEMO_CA/ca.pem" "$TOP/out/audit/demo-ca.pem"
rm -f "$TOP/out/audit/DEMO-2026.asice"
EARMARK_KEY_PASSPHRASE=$(cat "$DEMO_CA/signer.pass") \
	run --user demo_auditor --book DEMO audit export --from 2026-01-01 --to 2026-12-31 \
	--key "$DEMO_CA/signer.key" --cert "$DEMO_CA/signer.pem" -o "$TOP/out/audit/DEMO-2026.asice"
signer_fp=$(openssl x509 -in "$DEMO_CA/signer.pem" -noout -fingerprint -sha256 | sed 's/.*=//')
run audit verify "$TOP/out/audit/DEMO-2026.asice" --ca "$TOP/out/audit/demo-ca.pem" --signer "$signer_fp"
echo "-- the same with stock tools, in the unpacked package:"
rm -rf "$TOP/var/audit-unpacked" && mkdir -p "$TOP/var/audit-unpacked"
(
	cd "$TOP/var/audit-unpacked"
	unzip -q "$TOP/out/audit/DEMO-2026.asice"
	# the variables keep xmlsec1 from trusting OpenSSL's default CAs besides --trusted-pem
	echo '$ SSL_CERT_FILE=/dev/null SSL_CERT_DIR=/nonexistent xmlsec1 --verify --enabled-key-data x509 --trusted-pem demo-ca.pem META-INF/signatures001.xml'
	SSL_CERT_FILE=/dev/null SSL_CERT_DIR=/nonexistent \
		xmlsec1 --verify --enabled-key-data x509 --trusted-pem "$TOP/out/audit/demo-ca.pem" \
		META-INF/signatures001.xml
	for f in ledger balances control; do
		echo "\$ xmllint --stream --nonet --noout --schema schemas/$f.xsd $f.xml"
		xmllint --stream --nonet --noout --schema "schemas/$f.xsd" "$f.xml"
	done
)
echo "out/audit/DEMO-2026.asice, out/audit/demo-ca.pem"

cat <<EOF

The demo books are in database earmark_demo of the private cluster: DEMO (平安县, by hand) and
$GEN_BOOK (绥德县, generated in out/generated/). Look around with, e.g.:
  PGHOST=$PGHOST PGDATABASE=earmark_demo ./earmark --user demo_auditor --book DEMO voucher show 转-2026-11-0001
  PGHOST=$PGHOST PGDATABASE=earmark_demo ./earmark --user demo_auditor --book $GEN_BOOK voucher list --month $GEN_YEAR-05
Stop the private PostgreSQL with: ./earmark db stop
EOF
