#!/usr/bin/env bash
# Realistic books (issue 7): `earmark generate` writes a county's year as the
# files earmark's own commands read, deterministic by seed, and
# tests/load-book loads them through those commands.
#
# The demo scale is generated three times: twice with seed 7 (the same
# bytes), once with seed 8 (other bytes).  Seed 7 is then loaded whole:
# master data, fund receipts, 报账 claims, beneficiary lists published
# before their batches, batches posted and exported, quarterly interest,
# the bank's statements imported and matched (every line clears, the
# returned payment is posted and re-issued), eleven months closed; then
# every attempt of refused.tsv is refused for its own rule (ID check digit,
# village code, D2, A3, A2, D7, P4, P3, P2, H3, H2).  The database then
# agrees with the files: households, payments, statement lines all
# cleared, every voucher posted but the overdraft the bookkeeper could not
# post (A2), the chain recomputes, the trial balance balances.  Bad command
# lines are refused: an unknown scale, a directory that is not empty.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

YEAR=$(($(date +%Y) - 1))
BOOK=C610826
C=$TEST_TMP/a/610826

test_expect_success 'generate the demo scale twice with one seed and once with another' '
	"$EARMARK" generate --scale demo --seed 7 --year "$YEAR" -o a >out-a &&
	"$EARMARK" generate --scale demo --seed 7 --year "$YEAR" -o b >out-b &&
	"$EARMARK" generate --scale demo --seed 8 --year "$YEAR" -o c >out-c &&
	grep "demo scale, seed 7, year $YEAR: 1 county, 6 villages, 48 households" out-a &&
	test -s a/manifest.txt && test -s "$C/steps.tsv" && test -s "$C/refused.tsv"
'

test_expect_success 'the same seed gives the same bytes' '
	diff -r a b
'

test_expect_success 'another seed gives other books' '
	test_must_fail diff -rq a c >diff-ac &&
	grep households.csv diff-ac && grep steps.tsv diff-ac
'

test_expect_success 'the files are what the issue lists' '
	test "$(grep -Ec "^610826[0-9]{6}," "$C/villages.csv")" = 6 &&
	test "$(grep -Ec "^H[0-9]{6},610826[0-9]{6},[^,]+,61[0-9]{15}[0-9X]," "$C/households.csv")" = 48 &&
	cut -d , -f 3 "$C/funds.csv" >levels && grep -x central levels && grep -x province levels &&
	grep -x city levels && grep -x county levels && grep "〔" "$C/funds.csv" &&
	cut -d , -f 2 "$C/project_events.csv" | sort -u >kinds &&
	printf "%s\n" acceptance approval inspection kind start >want && test_cmp want kinds &&
	grep -c "	batch	" "$C/steps.tsv" >batches && test "$(cat batches)" -ge 4 &&
	grep -l "<RtrInf>" "$C"/statements/*.xml &&
	test "$(grep -vc "^#" "$C/refused.tsv")" -eq 13
'

test_expect_success 'bad command lines are refused' '
	test_expect_code 2 "$EARMARK" generate --scale city --seed 1 -o d 2>err-scale &&
	grep "unknown scale" err-scale &&
	test_expect_code 2 "$EARMARK" generate --scale demo --seed x1 -o d 2>err-seed &&
	test_must_fail "$EARMARK" generate --scale demo --seed 7 --year "$YEAR" -o a 2>err-dir &&
	grep "is not empty" err-dir
'

test_expect_success 'the demo scale loads through the earmark commands, and every refused attempt is refused' '
	{ EM=$EARMARK "$SRCDIR/tests/load-book" --users g70 a >load.out 2>load.err || { cat load.out load.err; exit 1; }; } &&
	grep "C610826: 11 attempts refused" load.out &&
	for r in "check digit" 12 "(D2)" "(A3)" "(A2)" "(D7)" "(P4)" "(P3)" "(P2)" "(H3)" "(H2)"; do
		grep -F "refused as expected ($r)" load.out || exit 1
	done
'

test_expect_success 'the book agrees with the files' '
	test "$(test_psql -c "SELECT count(*) FROM earmark.household h JOIN earmark.book b USING (book_id) WHERE b.code = '\''$BOOK'\''")" = 48 &&
	cat "$C"/batches/*.csv | grep -vc "^household," >lines &&
	test "$(test_psql -c "SELECT count(*) FROM earmark.household_payment p JOIN earmark.pay_batch t USING (book_id, batch_id) WHERE t.code LIKE '\''B%'\''")" = "$(cat lines)" &&
	test "$(test_psql -c "SELECT count(*) FROM earmark.statement_line s WHERE NOT EXISTS (SELECT 1 FROM earmark.bank_match m WHERE m.book_id = s.book_id AND m.statement_id = s.statement_id AND m.line_no = s.line_no AND m.unmatched_at IS NULL)")" = 0 &&
	test "$(test_psql -c "SELECT count(*) FROM earmark.payment_return")" = 1 &&
	test "$(test_psql -c "SELECT count(*) FROM earmark.statement_line")" -gt 50 &&
	test "$(test_psql -c "SELECT count(*) FROM earmark.voucher WHERE status <> '\''posted'\''")" = 1 &&
	"$EARMARK" --book "$BOOK" ledger verify-chain >chain &&
	"$EARMARK" --book "$BOOK" report trial-balance --as-of "$YEAR-12-31" --format csv -o tb.csv &&
	test -s tb.csv
'

test_done
