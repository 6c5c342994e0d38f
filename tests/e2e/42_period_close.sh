#!/usr/bin/env bash
# Period close (DESIGN flow 5, D7): the administrator closes a month only
# when its books are complete.  Refused, listing every open item with the
# fix, nothing written: a voucher dated in or before the month still a
# draft, or reviewed and not posted; a statement line booked by its end
# not matched (the interest).  Once they are posted and matched the month
# closes, its cleared statement lines become reconciled, and then an
# unmatch, a statement with entries in the month and a voucher dated in it
# are refused (D7).  Only the administrator closes.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

BOOK=E42
P=e42
. "$SRCDIR/tests/fixtures/bank/setup.sh"
STMT=$BFIX/stmt_close_2026_11.xml

test_expect_success 'setup: a payment posted on 2026-11-10, another drafted; the statement imported and matched' '
	bank_setup_light &&
	post_voucher "$BFIX/pay_payable.csv" 2026-11-10 >/dev/null &&
	"$EARMARK" "${CLERK[@]}" voucher draft "$BFIX/pay_payable.csv" --date 2026-11-12 --memo 未记账的支付 >draft.ref &&
	"$EARMARK" "${CASH[@]}" statement import "$STMT" --account $ZY >/dev/null &&
	"$EARMARK" "${CASH[@]}" statement match --account $ZY >out &&
	grep "^matched 0 by end-to-end id and 1 by amount and date; 0 returned payments drafted as receipt vouchers; 1 line left uncleared$" out
'

test_expect_success 'October has nothing open and closes' '
	"$EARMARK" "${ADMIN[@]}" period close 2026-10 >out &&
	echo "period 2026-10 closed" >expected &&
	test_cmp expected out
'

test_expect_success 'November is refused while a voucher is a draft and a statement line unmatched, both listed' '
	test_psql -c "SELECT count(*) FROM earmark.period WHERE closed_at IS NOT NULL" >before &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" period close 2026-11 >out 2>err &&
	! test -s out &&
	cat >expected <<-EOF &&
	earmark: error: period 2026-11 cannot be closed: 2 open items (EMC01)
	detail: 2 problems:
	  voucher $(cat draft.ref) dated 2026-11-12 is still a draft (prepared by e42_clerk): 未记账的支付
	  statement line 1:2 of account $ZY booked 2026-11-20, 1,234.56 结息, is not matched
	hint: review and post it, or discard it: earmark voucher review / voucher post / voucher discard
	EOF
	test_cmp expected err &&
	test_psql -c "SELECT count(*) FROM earmark.period WHERE closed_at IS NOT NULL" >after &&
	test_cmp before after
'

test_expect_success 'a reviewed voucher is open too; only the administrator closes' '
	"$EARMARK" "${REV[@]}" voucher review "$(cat draft.ref)" >/dev/null &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" period close 2026-11 2>err &&
	grep "voucher $(cat draft.ref) dated 2026-11-12 is still reviewed, not posted" err &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" period close 2026-11 2>err &&
	grep -E "^earmark: error: (permission denied for function period_close|'\''e42_cash'\'' may not run '\''period close'\'')" err
'

test_expect_success 'all posted and matched, November closes; its statement lines are reconciled' '
	"$EARMARK" "${BK[@]}" voucher post "$(cat draft.ref)" >/dev/null &&
	"$EARMARK" "${CLERK[@]}" fund interest $ZY --amount 1,234.56 --date 2026-11-20 >out &&
	review_post "#$(sed "s/.*#//" out)" >/dev/null &&
	"$EARMARK" "${CASH[@]}" statement match --account $ZY >out &&
	grep "1 by amount and date" out &&
	"$EARMARK" "${ADMIN[@]}" period close 2026-11 >out &&
	echo "period 2026-11 closed" >expected &&
	test_cmp expected out &&
	test_psql -c "SELECT string_agg(DISTINCT status, chr(44)) FROM earmark.statement_line" >actual &&
	echo reconciled >expected &&
	test_cmp expected actual
'

test_expect_success 'after the close: unmatch, a statement into the month and a voucher dated in it are refused (D7)' '
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement unmatch 1:1 2>err &&
	echo "earmark: error: statement line 1:1 is reconciled in a closed period (D7)" >expected &&
	head -n 1 err >actual && test_cmp expected actual &&
	sed "s/2026-11-C/2026-11-D/; s/5000234.56/5000469.12/; s/5000000.00/5000234.56/; s/2026-11-[0-2][0-9]/2026-11-21/g" "$STMT" >late.xml &&
	"$EARMARK" statement check late.xml >/dev/null &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement import late.xml --account $ZY 2>err &&
	grep "^earmark: error: statement 622848001122334455-2026-11-D has entries in closed period 2026-11 (D7)$" err &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft "$BFIX/pay_payable.csv" --date 2026-11-21 2>err &&
	grep "period 2026-11 is closed (D7)" err
'

test_done
