#!/usr/bin/env bash
# Bank statement import (DESIGN flow 4): a cashier imports the dedicated
# account's camt.053.001.02 statement or the bank's CSV export (column
# mapping config/bank_csv.conf, UTF-8 or GB18030).  The reader is safe: a
# DOCTYPE or entity is refused before any parser runs (no network, no
# expansion), malformed XML and schema errors are refused with the line.
# The ISO 20022 samples (EUR, IBANs) are all read and valid except
# camt053.v2.wrong.xml; earmark keeps CNY only (DESIGN section 3), so
# importing them into a CNY dedicated account is refused by name.  Refused,
# nothing written: a statement of another account, another currency,
# balances that do not roll, a statement overlapping one imported, a CSV
# with missing columns or a running balance that jumps, an import by a
# clerk.  The same statement imported twice changes nothing.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

BOOK=E40
P=e40
. "$SRCDIR/tests/fixtures/bank/setup.sh"
SAMPLES=$SRCDIR/tests/fixtures/iso20022/samples
STMT=$BFIX/stmt_2026_11.xml

SNAPSHOT_SQL=$(cat <<'SQL'
SELECT 'bank_statement', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.bank_statement t
UNION ALL SELECT 'statement_line', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.statement_line t
UNION ALL SELECT 'bank_match', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.bank_match t
UNION ALL SELECT 'voucher', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.voucher t;
SQL
)

test_expect_success 'setup: book E40 with its funds and dedicated accounts' '
	bank_setup_light
'

test_expect_success 'statement check reads every ISO 20022 sample but camt053.v2.wrong.xml' '
	for f in all-balance-types five.decimals minimal multi.statement; do
		"$EARMARK" statement check "$SAMPLES/camt053.v2.$f.xml" >out 2>err || exit 1
		grep "well-formed and valid" out && ! test -s err || exit 1
	done &&
	grep -c "^statement 25[34]EURNL26VAYB8060476890: account NL26VAYB8060476890, EUR" out >n &&
	echo 2 >expected && test_cmp expected n &&
	test_expect_code 1 "$EARMARK" statement check "$SAMPLES/camt053.v2.wrong.xml" >out 2>err &&
	! test -s out &&
	cat >expected <<-EOF &&
	earmark: error: statement '\''$SAMPLES/camt053.v2.wrong.xml'\'' is not a valid camt.053.001.02 document
	detail: line 3: Element '\''{urn:iso:std:iso:20022:tech:xsd:camt.053.001.02}BkToCstmrStmt'\'': Missing child element(s). Expected is ( {urn:iso:std:iso:20022:tech:xsd:camt.053.001.02}Stmt ).
	hint: earmark reads ISO 20022 camt.053.001.02 (BkToCstmrStmt); ask the bank for that format
	EOF
	test_cmp expected err
'

test_expect_success 'the EUR samples are refused for a CNY dedicated account, by rule, nothing written' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	for f in all-balance-types five.decimals minimal multi.statement; do
		test_expect_code 1 "$EARMARK" "${CASH[@]}" statement import "$SAMPLES/camt053.v2.$f.xml" --account $ZY 2>err || exit 1
		grep "^earmark: error: statement .* is for account .*, not '\''$ZY'\'' (EMB01 account)$" err || exit 1
	done &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a statement of another account is refused (EMB01 account)' '
	sed "s/<Id>$ZY<\/Id>/<Id>$XJ<\/Id>/" "$STMT" >other.xml &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement import other.xml --account $ZY >out 2>err &&
	cat >expected <<-EOF &&
	earmark: error: statement '\''622848001122334455-2026-11-A'\'' in other.xml is for account '\''$XJ'\'', not '\''$ZY'\'' (EMB01 account)
	hint: import it into the dedicated account it belongs to: --account NO
	EOF
	test_cmp expected err && ! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a statement in another currency is refused (EMB01 currency)' '
	sed "s/CNY/EUR/g" "$STMT" >eur.xml &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement import eur.xml --account $ZY 2>err &&
	cat >expected <<-EOF &&
	earmark: error: statement '\''622848001122334455-2026-11-A'\'' in eur.xml is in EUR, but dedicated account '\''$ZY'\'' keeps CNY (EMB01 currency)
	detail: earmark keeps money in CNY fen only (DESIGN section 3)
	hint: ask the bank for the statement of the CNY dedicated account
	EOF
	test_cmp expected err &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement import "$SAMPLES/camt053.v2.minimal.xml" --account NL26VAYB8060476890 2>err &&
	grep "^earmark: error: statement .* is in several currencies" err
'

test_expect_success 'a statement whose balances do not roll is refused (EMB01 balances)' '
	sed "s/4906234.56/4906234.65/" "$STMT" >roll.xml &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement import roll.xml --account $ZY 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: statement '\''622848001122334455-2026-11-A'\'' in roll.xml does not roll: opening 5,000,000.00 + entries -93,765.44 <> closing 4,906,234.65 (EMB01 balances)
	detail: 6 entries
	hint: the file is incomplete or altered; ask the bank for it again
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a DOCTYPE or entity is refused before parsing, without network, in UTF-16 too' '
	{ echo "<?xml version=\"1.0\"?>"; echo "<!DOCTYPE Document [<!ENTITY x SYSTEM \"http://127.0.0.1:9/x\"><!ENTITY y SYSTEM \"file:///etc/passwd\">]>"; sed 1d "$STMT" | sed "s/结息/\&x;\&y;/"; } >doctype.xml &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement import doctype.xml --account $ZY >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: statement '\''doctype.xml'\'' has a DOCTYPE or ENTITY declaration and is refused (safe XML)
	detail: camt.053 has no DTD; declarations could expand entities or reach the network
	hint: use the statement file as the bank sent it, without a DOCTYPE
	EOF
	test_cmp expected err && ! test -s out &&
	{ echo "<?xml version=\"1.0\"?>"; echo "<!DOCTYPE lol [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"; sed 1d "$STMT"; } >laughs.xml &&
	test_expect_code 1 "$EARMARK" statement check laughs.xml 2>err &&
	grep "has a DOCTYPE or ENTITY declaration and is refused (safe XML)" err &&
	sed "s/encoding=\"UTF-8\"/encoding=\"UTF-16\"/" doctype.xml | iconv -f UTF-8 -t UTF-16 >utf16.xml &&
	test_expect_code 1 "$EARMARK" statement check utf16.xml 2>err &&
	grep "^earmark: error: statement '\''utf16.xml'\'' is not UTF-8 text and is refused (safe XML)$" err
'

test_expect_success 'malformed XML is refused with its line' '
	head -n 40 "$STMT" >broken.xml &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement import broken.xml --account $ZY >out 2>err &&
	head -n 1 err >actual &&
	echo "earmark: error: statement '\''broken.xml'\'' is not well-formed XML" >expected &&
	test_cmp expected actual &&
	grep "^detail: line [0-9]*: " err &&
	grep "^hint: ask the bank for the file again" err && ! test -s out
'

test_expect_success 'a clerk may not import statements' '
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" statement import "$STMT" --account $ZY 2>err &&
	grep -E "^earmark: error: (permission denied for function statement_import|'\''e40_clerk'\'' may not run '\''statement import'\'')" err
'

test_expect_success 'the cashier imports the November statement; its lines are uncleared' '
	"$EARMARK" "${CASH[@]}" statement import "$STMT" --account $ZY >out 2>err &&
	echo "$STMT: 1 statement with 6 entries imported into account $ZY; match them with earmark statement match --account $ZY" >expected &&
	test_cmp expected out && ! test -s err &&
	test_psql >actual <<-\EOF &&
	SELECT s.stmt_ref, s.format, s.currency, s.from_date, s.to_date, s.opening_fen, s.closing_fen, s.imported_by FROM earmark.bank_statement s;
	SELECT line_no, booking_date, amount_fen, coalesce(end_to_end_id, chr(45)), returned, coalesce(return_reason, chr(45)), status FROM earmark.statement_line ORDER BY line_no;
	EOF
	cat >expected <<-\EOF &&
	622848001122334455-2026-11-A|camt053|CNY|2026-11-01|2026-11-20|500000000|490623456|e40_cash
	1|2026-11-17|-4000000|B2026-11-01-000002|f|-|uncleared
	2|2026-11-17|-1500000|B2026-11-01-000003|f|-|uncleared
	3|2026-11-17|-4000000|B2026-11-01-000004|f|-|uncleared
	4|2026-11-17|-1500000|B2026-11-01-000005|f|-|uncleared
	5|2026-11-19|1500000|B2026-11-01-000005|t|AC04|uncleared
	6|2026-11-20|123456|-|f|-|uncleared
	EOF
	test_cmp expected actual
'

test_expect_success 'importing the same statement twice changes nothing' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	"$EARMARK" "${CASH[@]}" statement import "$STMT" --account $ZY >out 2>err &&
	echo "$STMT: imported before, nothing changed" >expected &&
	test_cmp expected out && ! test -s err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'the same statement id with other content, or another of the same days, is refused' '
	sed "s/结息/利息/" "$STMT" >changed.xml &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement import changed.xml --account $ZY 2>err &&
	grep "^earmark: error: statement 622848001122334455-2026-11-A of account '\''$ZY'\'' was imported on .* with other content (EMB01 duplicate)$" err &&
	sed "s/2026-11-A/2026-11-B/" "$STMT" >again.xml &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement import again.xml --account $ZY 2>err &&
	grep "^earmark: error: statement 622848001122334455-2026-11-B (2026-11-01 to 2026-11-20) overlaps statement 622848001122334455-2026-11-A (2026-11-01 to 2026-11-20) of account '\''$ZY'\'' (EMB01 duplicate)$" err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

# --- the bank's CSV ---------------------------------------------------------

test_expect_success 'a CSV statement in GB18030 is imported with the configured mapping; UTF-8 again is the same' '
	iconv -f UTF-8 -t GB18030 "$BFIX/xj_2026_11.csv" >xj_gb.csv &&
	"$EARMARK" "${CASH[@]}" statement import xj_gb.csv --account $XJ >out 2>err &&
	grep "^xj_gb.csv: 1 statement with 2 entries imported into account $XJ" out && ! test -s err &&
	test_psql -c "SELECT l.booking_date, l.amount_fen, l.reference, l.bank_ref FROM earmark.statement_line l JOIN earmark.bank_statement s USING (book_id, statement_id) WHERE s.format = '\''csv'\'' ORDER BY l.line_no" >actual &&
	cat >expected <<-\EOF &&
	2026-11-10|30000000|县级衔接资金拨入|CCB20261110001
	2026-11-20|5678|结息|CCB20261120001
	EOF
	test_cmp expected actual &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	"$EARMARK" "${CASH[@]}" statement import "$BFIX/xj_2026_11.csv" --account $XJ >out &&
	grep "imported before, nothing changed" out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a CSV without the columns its mapping needs is refused, naming them' '
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement import "$BFIX/xj_no_balance.csv" --account $XJ 2>err &&
	cat >expected <<-EOF &&
	earmark: error: $BFIX/xj_no_balance.csv: the statement lacks columns the mapping needs
	detail: missing: '\''余额'\'' (balance) (mapping $SRCDIR/config/bank_csv.conf)
	hint: export the statement with these columns, or fix the mapping in $SRCDIR/config/bank_csv.conf
	EOF
	test_cmp expected err
'

test_expect_success 'a CSV whose running balance jumps is refused with its line (EMB01 balances)' '
	sed "s/\"300,056.78\"/\"300,065.78\"/" "$BFIX/xj_2026_11.csv" >jump.csv &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement import jump.csv --account $XJ 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: jump.csv:3: balances do not roll (EMB01 balances)
	detail: previous balance 300,000.00 + entry 56.78 <> balance 300,065.78
	hint: the export is incomplete or out of order; export the whole period again
	EOF
	test_cmp expected err
'

test_expect_success 'a CSV field that is not a date is shown cut to 40 bytes, control characters as ?, nothing written' '
	# an ANSI escape (ESC [31m) and 200 characters of 3 bytes: the message
	# shows the first 40 bytes of the field, cut between characters, then ...
	esc=$(printf "\033") &&
	long=$(printf "日%.0s" $(seq 200)) &&
	{ head -n 1 "$BFIX/xj_2026_11.csv" &&
	  sed -n 2p "$BFIX/xj_2026_11.csv" | sed "s/^2026-11-10,/${esc}[31m$long,/"; } >baddate.csv &&
	grep -c "$esc" baddate.csv >n && echo 1 >expected && test_cmp expected n &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement import baddate.csv --account $XJ >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: baddate.csv:2: '\''?[31m日日日日日日日日日日日...'\'' is not a date
	hint: dates are YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD
	EOF
	test_cmp expected err && ! test -s out &&
	! grep -q "$esc" err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after &&
	test_expect_code 1 "$EARMARK" statement check baddate.csv 2>err &&
	test_cmp expected err
'

test_done
