#!/usr/bin/env bash
# Bad input, every kind issue 2 names: each is refused with the rule in
# the message (exactly the message, where it does not depend on the clock),
# exit status 1, nothing on stdout, and the ledger exactly as it was: a
# digest of every table earmark writes is taken before and after.  Where a
# rule has a good case next to the bad one (exactly the balance may be
# paid, a retry with the same key is answered), it is shown to pass.
#
# The rules live in the database (DESIGN section 4), so they are also tried
# from psql: no application role may UPDATE or DELETE a posted line, and
# the triggers stop even the superuser.
#
# Book E11: ZY2026-01 receives 5,000,000.00 and XJ2026-01 300,000.00 in
# March; an accrual is posted in April and reversed in May.  Every expense
# line names its use category (A3), the categories coming with the book;
# the projects are approved, with targets and budgets (P1-P3), and the
# greenhouse project's beneficiary list is published on 2026-04-01, so its
# households may be paid from 2026-04-11 (H1-H3).
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

FIX=$SRCDIR/tests/fixtures/e2e
BOOK=E11
ADMIN=(--user e11_admin --book "$BOOK")
CLERK=(--user e11_clerk --book "$BOOK")
REV=(--user e11_rev --book "$BOOK")
BK=(--user e11_bk --book "$BOOK")
# one person with three hats: D6 must still keep them apart
MULTI=(--user e11_multi --book "$BOOK")
HEAD=account,side,amount,fund,project,village,household,bank_account,category,memo
TODAY=$(date +%F)
TOMORROW=$(date -d tomorrow +%F)
GROUPS_=(clerk reviewer bookkeeper cashier admin auditor public)

# One line per table the ledger writes: its row count and a digest of its
# rows, so that "nothing changed" is one test_cmp.
SNAPSHOT_SQL=$(cat <<'EOF'
SELECT 'voucher', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.voucher t
UNION ALL SELECT 'line', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.line t
UNION ALL SELECT 'period_balance', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.period_balance t
UNION ALL SELECT 'fund_cash', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.fund_cash t
UNION ALL SELECT 'voucher_counter', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.voucher_counter t
UNION ALL SELECT 'chain_head', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.chain_head t
UNION ALL SELECT 'period', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.period t;
EOF
)

test_expect_success 'setup: people, book E11, master data, a published beneficiary list, two receipts and an accrual' '
	"$EARMARK" user add e11_admin --role admin &&
	"$EARMARK" user add e11_clerk --role clerk &&
	"$EARMARK" user add e11_rev --role reviewer &&
	"$EARMARK" user add e11_bk --role bookkeeper &&
	"$EARMARK" user add e11_multi --role clerk,reviewer,bookkeeper &&
	"$EARMARK" "${ADMIN[@]}" book create "$BOOK" --name "e2e 坏输入" --start 2026-01-01 \
		--accounts "$SRCDIR/config/accounts.csv" &&
	for kind in bank_account fund village household project project_target project_budget \
		project_event; do
		"$EARMARK" "${ADMIN[@]}" master import $kind "$FIX/$kind.csv" || exit 1
	done &&
	"$EARMARK" "${CLERK[@]}" list create L2026-002 "$FIX/list_p2026_002.csv" --project P2026-002 \
		--title 李家沟村食用菌大棚到户补助名单 &&
	"$EARMARK" "${ADMIN[@]}" list publish L2026-002 --from 2026-04-01 &&
	for v in v_receive_zy.csv:2026-03-02 v_receive_xj.csv:2026-03-05 v_accrue_road.csv:2026-04-10; do
		"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/${v%%:*}" --date ${v##*:} >ref &&
		"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" &&
		"$EARMARK" "${BK[@]}" voucher post "$(cat ref)" >>numbers || exit 1
	done &&
	printf "%s\n" 记-2026-03-0001 记-2026-03-0002 记-2026-04-0001 >expected &&
	test_cmp expected numbers
'

test_expect_success 'an unbalanced voucher is refused (D1)' '
	printf "%s\n" "$HEAD" "5001,D,100.00,ZY2026-01,,,,,JC,x" "2302,C,90.00,ZY2026-01,,,,,,x" >d1.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft d1.csv --date 2026-04-15 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: voucher does not balance (D1)
	detail: 2 problems:
	  voucher does not balance (D1) (debits 100.00, credits 90.00)
	  voucher does not balance for fund '\''ZY2026-01'\'' (D2) (debits 100.00, credits 90.00)
	hint: the debits and the credits of a voucher must be equal
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a voucher balanced in total but not per fund is refused (D2)' '
	printf "%s\n" "$HEAD" "5001,D,100.00,ZY2026-01,,,,,JC,x" "2302,C,100.00,SJ2026-01,,,,,,x" >d2.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft d2.csv --date 2026-04-15 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: voucher does not balance for fund '\''SJ2026-01'\'' (D2)
	detail: 2 problems:
	  voucher does not balance for fund '\''SJ2026-01'\'' (D2) (debits 0.00, credits 100.00)
	  voucher does not balance for fund '\''ZY2026-01'\'' (D2) (debits 100.00, credits 0.00)
	hint: each fund balances on its own; move money between funds only through due-to/due-from accounts
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'an amount of 0 is refused' '
	printf "%s\n" "$HEAD" "5001,D,100.00,ZY2026-01,,,,,JC,x" "2302,C,100.00,ZY2026-01,,,,,,x" \
		"5001,D,0.00,ZY2026-01,,,,,JC,x" >zero.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft zero.csv --date 2026-04-15 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: line 3 (zero.csv:4): amount is zero
	hint: leave out lines without an amount
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a negative amount outside a reversal is refused (D4)' '
	printf "%s\n" "$HEAD" "5001,D,100.00,ZY2026-01,,,,,JC,x" "2302,C,100.00,ZY2026-01,,,,,,x" \
		"5001,D,-5.00,ZY2026-01,,,,,JC,x" >neg.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft neg.csv --date 2026-04-15 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: line 3 (neg.csv:4): negative amount outside a reversal (D4)
	detail: amount -5.00
	hint: amounts are positive; a posted voucher is corrected by earmark voucher reverse
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'an amount with three decimals is refused with its line' '
	printf "%s\n" "$HEAD" "5001,D,1.234,ZY2026-01,,,,,JC,x" "2302,C,1.23,ZY2026-01,,,,,,x" >dec3.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft dec3.csv --date 2026-04-15 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: file '\''dec3.csv'\'' has 1 problem; nothing was imported
	detail:   line 2: invalid amount '\''1.234'\'' (an amount has at most two decimals (fen))
	hint: fix the lines named and run the command again
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'an amount that is not a number is refused with its line' '
	printf "%s\n" "$HEAD" "5001,D,1.00,ZY2026-01,,,,,JC,x" "2302,C,abc,ZY2026-01,,,,,,x" >nan.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft nan.csv --date 2026-04-15 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: file '\''nan.csv'\'' has 1 problem; nothing was imported
	detail:   line 3: invalid amount '\''abc'\'' (unexpected character '\''a'\'' at position 1)
	hint: fix the lines named and run the command again
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'an amount beyond int64 fen is refused with its line' '
	printf "%s\n" "$HEAD" "5001,D,99999999999999999999,ZY2026-01,,,,,JC,x" \
		"2302,C,99999999999999999999,ZY2026-01,,,,,,x" >huge.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft huge.csv --date 2026-04-15 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: file '\''huge.csv'\'' has 2 problems; nothing was imported
	detail:   line 2: amount '\''99999999999999999999'\'' is too large (amounts lie between -92233720368547758.08 and 92233720368547758.07)
	  line 3: amount '\''99999999999999999999'\'' is too large (amounts lie between -92233720368547758.08 and 92233720368547758.07)
	hint: fix the lines named and run the command again
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

# Each amount fits, their sum does not: 10 x 9,999,999,999,999,999.99 is
# beyond int64 fen.  DESIGN section 3: overflow is an error, and a refusal
# says which rule and which numbers, not PostgreSQL's "bigint out of range".
test_expect_success 'a voucher whose total overflows int64 fen is refused with a message of its own' '
	{
		echo "$HEAD" &&
		for i in 1 2 3 4 5 6 7 8 9 10; do echo "5001,D,9999999999999999.99,ZY2026-01,,,,,JC,x"; done &&
		for i in 1 2 3 4 5 6 7 8 9 10; do echo "2302,C,9999999999999999.99,ZY2026-01,,,,,,x"; done
	} >sum-overflow.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft sum-overflow.csv --date 2026-04-15 \
		>out 2>err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after &&
	cat err &&
	! grep "bigint out of range" err &&
	grep "^earmark: error: .*too large" err
'

test_expect_success 'an unknown account is refused with its line' '
	printf "%s\n" "$HEAD" "9999,D,1.00,ZY2026-01,,,,,,x" "2302,C,1.00,ZY2026-01,,,,,,x" >acct.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft acct.csv --date 2026-04-15 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: line 1 (acct.csv:2): unknown account '\''9999'\''
	hint: use a code of the chart of accounts (earmark report trial-balance lists them)
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'an unknown fund is refused with its line' '
	printf "%s\n" "$HEAD" "5001,D,1.00,ZY2026-01,,,,,JC,x" "2302,C,1.00,NOFUND,,,,,,x" >fund.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft fund.csv --date 2026-04-15 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: line 2 (fund.csv:3): unknown fund '\''NOFUND'\''
	hint: every line names the fund it belongs to (D2)
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'an unknown bank account is refused with its line' '
	printf "%s\n" "$HEAD" "5001,D,1.00,ZY2026-01,,,,,JC,x" \
		"1002,C,1.00,ZY2026-01,,,,000000000000,,x" >bank.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft bank.csv --date 2026-04-15 >out 2>err &&
	head -n 1 err >actual &&
	echo "earmark: error: line 2 (bank.csv:3): unknown bank account '\''000000000000'\''" >expected &&
	test_cmp expected actual &&
	grep -x "hint: bank accounts are the dedicated accounts of the book'\''s funds" err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a bank line on another fund'\''s dedicated account is refused (A1)' '
	printf "%s\n" "$HEAD" "5001,D,1.00,XJ2026-01,,,,,JC,x" \
		"1002,C,1.00,XJ2026-01,,,,622848001122334455,,x" >a1.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft a1.csv --date 2026-04-15 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: line 2 (a1.csv:3): bank account '\''622848001122334455'\'' is not the dedicated account of fund '\''XJ2026-01'\'' (A1)
	detail: fund '\''XJ2026-01'\'' is held in account '\''621700002233445566'\''
	hint: a fund'\''s cash moves only through its own dedicated account (专户储存)
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a line on the bank account without its dedicated account is refused (A1)' '
	printf "%s\n" "$HEAD" "5001,D,1.00,XJ2026-01,,,,,JC,x" "1002,C,1.00,XJ2026-01,,,,,,x" >a1-none.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft a1-none.csv --date 2026-04-15 \
		>out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: line 2 (a1-none.csv:3): a line on bank account 1002 needs its dedicated account (A1)
	hint: fill the bank_account column with fund '\''XJ2026-01'\'''\''s account
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'an overdraft of the dedicated account is refused at posting (A2)' '
	printf "%s\n" "$HEAD" "5001,D,300000.01,XJ2026-01,,,,,JC,x" \
		"1002,C,300000.01,XJ2026-01,,,,621700002233445566,,x" >a2.csv &&
	"$EARMARK" "${CLERK[@]}" voucher draft a2.csv --date 2026-04-15 >a2.ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat a2.ref)" &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${BK[@]}" voucher post "$(cat a2.ref)" >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: fund '\''XJ2026-01'\'' would overdraw its dedicated account '\''621700002233445566'\'' (A2)
	detail: balance before 2026-04-15: 300,000.00, this voucher -300,000.01, lowest balance -0.01 on 2026-04-15
	hint: a fund pays only from money it has received into its own account, on or before the payment'\''s date
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'paying exactly the balance posts and leaves the fund 0.00 (A2)' '
	printf "%s\n" "$HEAD" "5001,D,300000.00,XJ2026-01,,,,,JC,x" \
		"1002,C,300000.00,XJ2026-01,,,,621700002233445566,,x" >a2-exact.csv &&
	"$EARMARK" "${CLERK[@]}" voucher draft a2-exact.csv --date 2026-04-15 >ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat ref)" >out &&
	echo 记-2026-04-0002 >expected &&
	test_cmp expected out &&
	test_psql -c "SELECT c.balance_fen FROM earmark.fund_cash c JOIN earmark.fund f USING (book_id, fund_id)
	              WHERE f.code = '\''XJ2026-01'\''" >actual &&
	echo 0 >expected &&
	test_cmp expected actual
'

test_expect_success 'a voucher dated tomorrow is refused (D7)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_accrue_road.csv" \
		--date "$TOMORROW" >out 2>err &&
	cat >expected <<-EOF &&
	earmark: error: voucher date $TOMORROW is in the future (D7)
	detail: today is $TODAY
	hint: date the voucher on or before today
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a voucher dated before the book began is refused (D7)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_accrue_road.csv" \
		--date 2025-12-31 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: voucher date 2025-12-31 is before the book began (D7)
	detail: the book starts on 2026-01-01
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a voucher dated in a closed period is refused (D7)' '
	"$EARMARK" "${ADMIN[@]}" period close 2026-01 >out &&
	echo "period 2026-01 closed" >expected &&
	test_cmp expected out &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_accrue_road.csv" \
		--date 2026-01-20 >out 2>err &&
	sed -n "1p;3p" err >actual &&
	cat >expected <<-\EOF &&
	earmark: error: period 2026-01 is closed (D7)
	hint: date the voucher in an open period
	EOF
	test_cmp expected actual &&
	sed -n 2p err >detail &&
	grep "^detail: closed at 2026-" detail &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a voucher reviewed before its period closed cannot be posted after (D7)' '
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_accrue_road.csv" --date 2026-02-10 >feb.ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat feb.ref)" &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" period close 2026-02 2>err &&
	grep "^earmark: error: period 2026-02 cannot be closed: 1 open item (EMC01)$" err &&
	test_psql -c "INSERT INTO earmark.period (book_id, month, closed_at, closed_by) SELECT book_id, '\''2026-02-01'\'', now(), '\''e11_admin'\'' FROM earmark.book WHERE code = '\''$BOOK'\''" &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${BK[@]}" voucher post "$(cat feb.ref)" >out 2>err &&
	head -n 1 err >actual &&
	echo "earmark: error: period 2026-02 is closed (D7)" >expected &&
	test_cmp expected actual &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'reviewing one'\''s own voucher is refused (D6)' '
	"$EARMARK" "${MULTI[@]}" voucher draft "$FIX/v_accrue_road.csv" --date 2026-04-16 >own.ref &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${MULTI[@]}" voucher review "$(cat own.ref)" >out 2>err &&
	cat >expected <<-EOF &&
	earmark: error: you prepared voucher $(cat own.ref); someone else must review it (D6)
	detail: preparer and reviewer are both '\''e11_multi'\''
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'posting one'\''s own voucher is refused (D6)' '
	"$EARMARK" "${REV[@]}" voucher review "$(cat own.ref)" &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${MULTI[@]}" voucher post "$(cat own.ref)" >out 2>err &&
	cat >expected <<-EOF &&
	earmark: error: you prepared voucher $(cat own.ref); someone else must post it (D6)
	detail: preparer '\''e11_multi'\'', reviewer '\''e11_rev'\'', poster '\''e11_multi'\''
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'posting a voucher one reviewed is refused (D6)' '
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_accrue_road.csv" --date 2026-04-16 >rv.ref &&
	"$EARMARK" "${MULTI[@]}" voucher review "$(cat rv.ref)" &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${MULTI[@]}" voucher post "$(cat rv.ref)" >out 2>err &&
	cat >expected <<-EOF &&
	earmark: error: you reviewed voucher $(cat rv.ref); someone else must post it (D6)
	detail: preparer '\''e11_clerk'\'', reviewer '\''e11_multi'\'', poster '\''e11_multi'\''
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'posting a draft nobody reviewed is refused (D6)' '
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_accrue_road.csv" --date 2026-04-16 >nr.ref &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${BK[@]}" voucher post "$(cat nr.ref)" >out 2>err &&
	cat >expected <<-EOF &&
	earmark: error: voucher $(cat nr.ref) is a draft that has not been reviewed (D6)
	hint: a reviewer reviews it first: earmark voucher review
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'user add will not make a cashier a reviewer later (D6)' '
	"$EARMARK" user add e11_cashier --role cashier &&
	test_expect_code 1 "$EARMARK" user add e11_cashier --role reviewer >out 2>err &&
	grep "earmark: error: a cashier may not review vouchers (D6)" err
'

test_expect_success 'a cashier granted reviewer in psql still may not review (D6)' '
	test_psql -c "GRANT earmark_reviewer TO e11_cashier" &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" --user e11_cashier --book "$BOOK" voucher review "$(cat nr.ref)" \
		>out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: a cashier may not review vouchers (D6)
	detail: role '\''e11_cashier'\'' is a member of earmark_cashier
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'setup: a login role for each application group role' '
	for g in "${GROUPS_[@]}"; do
		"$EARMARK" user add e11_sql_$g --role $g || exit 1
	done &&
	test_psql -c "SELECT count(*) FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
	              WHERE v.status = '\''posted'\''" >posted-lines &&
	echo 8 >expected &&
	test_cmp expected posted-lines
'

for g in "${GROUPS_[@]}"; do
	test_expect_success "psql as a member of earmark_$g: UPDATE and DELETE of posted lines are denied (D3)" '
		test_psql -c "$SNAPSHOT_SQL" >before &&
		test_must_fail psql -X -q -v ON_ERROR_STOP=1 -U e11_sql_$g \
			-c "UPDATE earmark.line SET amount_fen = 1" >out 2>err &&
		grep -x "ERROR:  permission denied for table line" err &&
		test_must_fail psql -X -q -v ON_ERROR_STOP=1 -U e11_sql_$g \
			-c "DELETE FROM earmark.line" >out 2>err &&
		grep -x "ERROR:  permission denied for table line" err &&
		test_must_fail psql -X -q -v ON_ERROR_STOP=1 -U e11_sql_$g \
			-c "UPDATE earmark.voucher SET memo = memo || '\''!'\''" >out 2>err &&
		grep -x "ERROR:  permission denied for table voucher" err &&
		test_must_fail psql -X -q -v ON_ERROR_STOP=1 -U e11_sql_$g \
			-c "DELETE FROM earmark.voucher" >out 2>err &&
		grep -x "ERROR:  permission denied for table voucher" err &&
		test_must_fail psql -X -q -v ON_ERROR_STOP=1 -U e11_sql_$g \
			-c "TRUNCATE earmark.line" >out 2>err &&
		grep -x "ERROR:  permission denied for table line" err &&
		test_psql -c "$SNAPSHOT_SQL" >after &&
		test_cmp before after
	'
done

test_expect_success 'even the superuser cannot change or delete a posted voucher: the triggers refuse (D3)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	id=$(test_psql -c "SELECT voucher_id FROM earmark.voucher WHERE number_text = '\''记-2026-03-0001'\''") &&
	test_must_fail test_psql -c "UPDATE earmark.line SET amount_fen = 1 WHERE voucher_id = $id" 2>err &&
	grep "ERROR:  lines of voucher 记-2026-03-0001 cannot be changed: it is posted (D3)" err &&
	test_must_fail test_psql -c "DELETE FROM earmark.line WHERE voucher_id = $id" 2>err &&
	grep "ERROR:  lines of voucher 记-2026-03-0001 cannot be changed: it is posted (D3)" err &&
	test_must_fail test_psql -c "UPDATE earmark.voucher SET memo = '\''x'\'' WHERE voucher_id = $id" 2>err &&
	grep "ERROR:  posted voucher 记-2026-03-0001 cannot be changed (D3)" err &&
	test_must_fail test_psql -c "DELETE FROM earmark.voucher WHERE voucher_id = $id" 2>err &&
	grep "ERROR:  voucher 记-2026-03-0001 cannot be deleted: it is posted (D3)" err &&
	test_must_fail test_psql -c "TRUNCATE earmark.line" 2>err &&
	grep "ERROR:  table earmark.line cannot be truncated (D3)" err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a second reversal is refused while the first is a draft (D4)' '
	"$EARMARK" "${CLERK[@]}" voucher reverse 记-2026-04-0001 --date 2026-05-06 >rev.ref &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher reverse 记-2026-04-0001 --date 2026-05-06 \
		>out 2>err &&
	cat >expected <<-EOF &&
	earmark: error: voucher 记-2026-04-0001 is already reversed (D4)
	detail: by draft $(cat rev.ref)
	hint: a voucher is reversed at most once
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a second reversal is refused once the first is posted (D4)' '
	"$EARMARK" "${REV[@]}" voucher review "$(cat rev.ref)" &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat rev.ref)" >out &&
	echo 记-2026-05-0001 >expected &&
	test_cmp expected out &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher reverse 记-2026-04-0001 --date 2026-05-07 \
		>out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: voucher 记-2026-04-0001 is already reversed (D4)
	detail: by 记-2026-05-0001
	hint: a voucher is reversed at most once
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'an idempotency key reused with the same content returns the same draft (D9)' '
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_accrue_road.csv" --date 2026-04-20 \
		--memo 第二期 --key e11-key-1 >first &&
	grep -x "#[1-9][0-9]*" first &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_accrue_road.csv" --date 2026-04-20 \
		--memo 第二期 --key e11-key-1 >second &&
	test_cmp first second &&
	cp "$FIX/v_accrue_road.csv" retry-under-another-name.csv &&
	"$EARMARK" "${CLERK[@]}" voucher draft retry-under-another-name.csv --date 2026-04-20 \
		--memo 第二期 --key e11-key-1 >third &&
	test_cmp first third &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'an idempotency key reused with other content is refused (D9)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_accrue_road.csv" \
		--date 2026-04-21 --memo 第二期 --key e11-key-1 >out 2>err &&
	cat >expected <<-EOF &&
	earmark: error: idempotency key '\''e11-key-1'\'' was used for other content (D9)
	detail: voucher $(cat first) was created with this key
	hint: use a new key for a new voucher; a retry must send the same content
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_pay_road.csv" \
		--date 2026-04-20 --memo 第二期 --key e11-key-1 2>err &&
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a CSV row with the wrong number of fields is refused, its line named' '
	printf "%s\n" "$HEAD" "5001,D,1.00,ZY2026-01,,,,,JC,x" "2302,C,1.00,ZY2026-01,,,,,x" >cols.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft cols.csv --date 2026-04-15 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: file '\''cols.csv'\'' has 1 problem; nothing was imported
	detail:   line 3: 9 fields where the header has 10
	hint: fix the lines named and run the command again
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a CSV file with a UTF-8 byte-order mark is accepted' '
	printf "\357\273\277" >bom.csv &&
	cat "$FIX/v_accrue_road.csv" >>bom.csv &&
	"$EARMARK" "${CLERK[@]}" voucher draft bom.csv --date 2026-04-22 >bom.ref &&
	"$EARMARK" "${CLERK[@]}" voucher show "$(cat bom.ref)" --format csv >actual &&
	cat >expected <<-\EOF &&
	line,account,side,amount,fund,project,village,household,bank_account,category,memo
	1,5001,D,120000.00,ZY2026-01,P2026-001,610826101201,,,JC,王家村产业路硬化 第一期进度款
	2,2302,C,120000.00,ZY2026-01,P2026-001,610826101201,,,JC,应付平安路桥公司
	EOF
	sed -i "s/\$/\r/" expected &&
	test_cmp expected actual
'

test_expect_success 'a GB18030 CSV as Excel writes it is accepted and its Chinese stored as UTF-8' '
	iconv -f UTF-8 -t GB18030 "$FIX/v_households_cn.csv" >gb-lf.csv &&
	sed "s/\$/\r/" gb-lf.csv >gb.csv &&
	test_must_fail iconv -f UTF-8 -t UTF-8 gb.csv >/dev/null 2>&1 &&
	"$EARMARK" "${CLERK[@]}" voucher draft gb.csv --date 2026-04-23 --memo 食用菌大棚到户补助 >gb.ref &&
	test_psql -c "SELECT memo FROM earmark.voucher WHERE voucher_id = $(cut -c2- gb.ref)" \
		-c "SELECT line_no, side, amount_fen, memo FROM earmark.line
		    WHERE voucher_id = $(cut -c2- gb.ref) ORDER BY line_no" >actual &&
	cat >expected <<-\EOF &&
	食用菌大棚到户补助
	1|D|300000|食用菌大棚到户补助 李长生
	2|D|150050|食用菌大棚到户补助 王建国
	3|C|450050|到户补助 批量支付（农行）
	EOF
	test_cmp expected actual &&
	"$EARMARK" "${CLERK[@]}" voucher draft gb.csv --encoding gb18030 --date 2026-04-23 >gb2.ref &&
	test_psql -c "SELECT string_agg(memo, '\''/'\'' ORDER BY line_no) FROM earmark.line
	              WHERE voucher_id = $(cut -c2- gb2.ref)" >actual &&
	echo "食用菌大棚到户补助 李长生/食用菌大棚到户补助 王建国/到户补助 批量支付（农行）" >expected &&
	test_cmp expected actual
'

test_expect_success 'quoted CSV fields holding commas, quotes and newlines are accepted' '
	cat >quoted.csv <<-\EOF &&
	account,side,amount,fund,project,village,household,bank_account,category,memo
	5001,D,"1,000.00",ZY2026-01,,,,,JC,"a, b"
	2302,C,"1,000.00",ZY2026-01,,,,,,"line one
	line two, ""quoted"""
	EOF
	"$EARMARK" "${CLERK[@]}" voucher draft quoted.csv --date 2026-04-24 >q.ref &&
	test_psql -c "SELECT line_no || '\'':'\'' || amount_fen || '\'':'\'' || memo FROM earmark.line
	              WHERE voucher_id = $(cut -c2- q.ref) ORDER BY line_no" >actual &&
	printf "%s\n" "1:100000:a, b" "2:100000:line one" "line two, \"quoted\"" >expected &&
	test_cmp expected actual
'

test_expect_success 'an empty CSV file is refused' '
	: >empty.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft empty.csv --date 2026-04-15 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: file '\''empty.csv'\'' is empty
	hint: the first row names the columns, then one row per record
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a CSV file with a header and no rows is refused' '
	echo "$HEAD" >header-only.csv &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft header-only.csv --date 2026-04-15 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: file '\''header-only.csv'\'' has 1 problem; nothing was imported
	detail:   the file has a header but no rows
	hint: fix the lines named and run the command again
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a CSV file with several bad lines names all of them at once' '
	cat >several.csv <<-\EOF &&
	account,side,amount,fund,project,village,household,bank_account,category,memo
	5001,D,1.0x,ZY2026-01,,,,,JC,x
	2302,C,1.00,ZY2026-01,,,,,x
	2302,C,1.00,ZY2026-01,,,,,,"a memo over
	two lines"
	2302,X,1.00,ZY2026-01,,,,,,x
	2302,C,1.234,ZY2026-01,,,,,,x
	EOF
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft several.csv --date 2026-04-15 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: file '\''several.csv'\'' has 4 problems; nothing was imported
	detail:   line 2: invalid amount '\''1.0x'\'' (unexpected character '\''x'\'' at position 4)
	  line 3: 9 fields where the header has 10
	  line 6: side '\''X'\'': side is D (借, debit) or C (贷, credit)
	  line 7: invalid amount '\''1.234'\'' (an amount has at most two decimals (fen))
	hint: fix the lines named and run the command again
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'lines the database refuses are all named at once, with file and line' '
	cat >several-db.csv <<-\EOF &&
	account,side,amount,fund,project,village,household,bank_account,category,memo
	9999,D,1.00,ZY2026-01,,,,,,x
	2302,C,1.00,NOFUND,,,,,,x
	5001,D,-1.00,ZY2026-01,,,,,JC,x
	5001,D,1.00,ZY2026-01,NOPROJ,,,,JC,x
	EOF
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft several-db.csv --date 2026-04-15 \
		>out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: line 1 (several-db.csv:2): unknown account '\''9999'\''
	detail: 4 problems:
	  line 1 (several-db.csv:2): unknown account '\''9999'\''
	  line 2 (several-db.csv:3): unknown fund '\''NOFUND'\''
	  line 3 (several-db.csv:4): negative amount outside a reversal (D4) (amount -1.00)
	  line 4 (several-db.csv:5): unknown project '\''NOPROJ'\''
	hint: use a code of the chart of accounts (earmark report trial-balance lists them)
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'after all the refusals the chain still verifies' '
	"$EARMARK" "${CLERK[@]}" ledger verify-chain >out &&
	grep "^hash chain of book '\''E11'\'' verifies: 5 vouchers, head [0-9a-f]\{64\}\$" out
'

test_done
