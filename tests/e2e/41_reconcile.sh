#!/usr/bin/env bash
# Matching and the 余额调节表 (DESIGN flows 4 and 5).  After the November
# statement of 622848001122334455 is imported, statement match clears the
# four household payments of batch B2026-11-01 by their end-to-end ids
# (payments become paid), and the returned payment of H0006 (RtrInf AC04)
# is not netted: the payment becomes returned and a receipt voucher is
# drafted (收: Dr 1002 / Cr 2303 H0006), which a reviewer and a bookkeeper
# post; the clerk then re-issues the payment (pay reissue: 付 Dr 2303 / Cr
# 1002, batch R<id>, new end-to-end id), exported as pain.001.  The
# interest is matched by hand once booked; manual match and unmatch
# record who and when.  The reconciliation as of 2026-11-22 has items in
# transit both ways (province funds booked, not yet at the bank; the
# re-issue paid in the book, not yet at the bank; the interest at the bank,
# not yet booked) and the adjusted balances agree; every figure is checked
# against an independent sum over the lines.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

BOOK=E41
P=e41
. "$SRCDIR/tests/fixtures/bank/setup.sh"
STMT=$BFIX/stmt_2026_11.xml

test_expect_success 'setup: batch exported, the November statement imported' '
	bank_setup &&
	"$EARMARK" "${CASH[@]}" statement import "$STMT" --account $ZY >/dev/null
'

test_expect_success 'automatic matching: four by end-to-end id, one return drafted, the interest left' '
	"$EARMARK" "${CASH[@]}" statement match --account $ZY >out 2>err &&
	cat >expected <<-EOF &&
	matched 4 by end-to-end id and 0 by amount and date; 1 returned payment drafted as receipt vouchers; 1 line left uncleared
	returned payments: review and post their receipt vouchers, then earmark pay reissue END-TO-END-ID
	see them with earmark statement list --account $ZY --status uncleared
	EOF
	test_cmp expected out && ! test -s err &&
	test_psql >actual <<-\EOF &&
	SELECT end_to_end_id, status, status_by FROM earmark.household_payment ORDER BY end_to_end_id;
	SELECT line_no, status, (SELECT method || chr(32) || matched_by FROM earmark.bank_match m WHERE m.statement_id = l.statement_id AND m.line_no = l.line_no AND m.unmatched_at IS NULL) FROM earmark.statement_line l ORDER BY line_no;
	EOF
	cat >expected <<-\EOF &&
	B2026-11-01-000002|paid|e41_cash
	B2026-11-01-000003|paid|e41_cash
	B2026-11-01-000004|paid|e41_cash
	B2026-11-01-000005|returned|e41_cash
	1|cleared|end_to_end e41_cash
	2|cleared|end_to_end e41_cash
	3|cleared|end_to_end e41_cash
	4|cleared|end_to_end e41_cash
	5|cleared|return e41_cash
	6|uncleared|
	EOF
	test_cmp expected actual
'

test_expect_success 'the return is a draft receipt voucher, not netted: Dr 1002 / Cr 2303 of the household' '
	test_psql -c "SELECT voucher_id FROM earmark.payment_return" >ret.id &&
	test_psql >actual <<-EOF &&
	SELECT vtype, status, voucher_date, prepared_by FROM earmark.voucher WHERE voucher_id = $(cat ret.id);
	SELECT account, side, amount_fen, fund, coalesce(household, chr(45)), coalesce(bank_account, chr(45)) FROM earmark.line_coded WHERE voucher_id = $(cat ret.id) ORDER BY line_no;
	EOF
	cat >expected <<-EOF &&
	收|draft|2026-11-19|e41_cash
	1002|D|1500000|ZY2026-01|-|$ZY
	2303|C|1500000|ZY2026-01|H0006|-
	EOF
	test_cmp expected actual
'

test_expect_success 'matching again changes nothing' '
	test_psql -c "SELECT count(*) FROM earmark.bank_match; SELECT count(*) FROM earmark.voucher" >before &&
	"$EARMARK" "${CASH[@]}" statement match --account $ZY >out &&
	grep "^matched 0 by end-to-end id and 0 by amount and date; 0 returned payments" out &&
	test_psql -c "SELECT count(*) FROM earmark.bank_match; SELECT count(*) FROM earmark.voucher" >after &&
	test_cmp before after
'

test_expect_success 'a re-issue before the return is posted is refused (EMB03)' '
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay reissue B2026-11-01-000005 --date 2026-11-21 2>err &&
	cat >expected <<-EOF &&
	earmark: error: the return of payment B2026-11-01-000005 is not posted yet (EMB03)
	detail: its receipt voucher #$(cat ret.id) is draft
	hint: a reviewer and a bookkeeper review and post #$(cat ret.id) first: the payable stands again only then
	EOF
	test_cmp expected err &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay reissue B2026-11-01-000004 --date 2026-11-21 2>err &&
	grep "^earmark: error: payment B2026-11-01-000004 is paid, not returned by the bank (EMB03)$" err
'

test_expect_success 'the return posted, the clerk re-issues the payment; it is posted and exported' '
	review_post "#$(cat ret.id)" >/dev/null &&
	"$EARMARK" "${CLERK[@]}" pay reissue B2026-11-01-000005 --date 2026-11-21 >out 2>err &&
	grep "^payment B2026-11-01-000005 re-issued as R[0-9]*-000001 in batch R[0-9]*: draft #[0-9]* (付: Dr 2303 / Cr 1002)" out &&
	! test -s err &&
	sed "s/.*in batch \(R[0-9]*\):.*/\1/" out >batch &&
	sed "s/.*draft \(#[0-9]*\) .*/\1/" out >re.ref &&
	review_post "$(cat re.ref)" >/dev/null &&
	"$EARMARK" "${CASH[@]}" pay export "$(cat batch)" -o re.xml >out &&
	xmllint --noout --nonet --schema "$SRCDIR/tests/fixtures/iso20022/pain.001.001.03.xsd" re.xml &&
	grep "<EndToEndId>$(cat batch)-000001</EndToEndId>" re.xml &&
	test_psql >actual <<-EOF &&
	SELECT account, side, amount_fen, coalesce(household, chr(45)) FROM earmark.line_coded WHERE voucher_id = $(cat re.ref | tr -d "#") ORDER BY line_no;
	SELECT h.code, p.status, p.amount_fen FROM earmark.household_payment p JOIN earmark.household h USING (book_id, household_id) WHERE p.end_to_end_id = '\''$(cat batch)-000001'\'';
	EOF
	cat >expected <<-\EOF &&
	2303|D|1500000|H0006
	1002|C|1500000|-
	H0006|sent|1500000
	EOF
	test_cmp expected actual &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay reissue B2026-11-01-000005 --date 2026-11-21 2>err &&
	grep "^earmark: error: payment B2026-11-01-000005 was re-issued already as $(cat batch)-000001$" err
'

test_expect_success 'province funds are booked on 2026-11-20, not yet on a statement' '
	sed "s/ZY2026-01/SJ2026-01/; s/5,000,000.00/1,200,000.00/; s/中央/省级/" "$DIS/receive_zy.csv" >receive_sj.csv &&
	post_voucher receive_sj.csv 2026-11-20 >/dev/null
'

RECON_SQL=$(cat <<'SQL'
SELECT book_fen, bank_fen, bank_in_fen, bank_out_fen, book_in_fen, book_out_fen, adjusted_book_fen, adjusted_bank_fen, agrees
  FROM earmark.reconciliation('E41', '622848001122334455', '2026-11-22');
SQL
)
# The same figures from the rows alone: lines on the account and statement entries.
INDEPENDENT_SQL=$(cat <<'SQL'
SELECT (SELECT sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END) FROM earmark.line l
          JOIN earmark.voucher v USING (book_id, voucher_id) JOIN earmark.dedicated_account d USING (book_id, bank_account_id)
         WHERE d.account_no = '622848001122334455' AND v.status = 'posted' AND v.voucher_date <= '2026-11-22'),
       (SELECT min(opening_fen) FROM earmark.bank_statement) + (SELECT sum(amount_fen) FROM earmark.statement_line l
          JOIN earmark.bank_statement s USING (book_id, statement_id) WHERE s.format = 'camt053');
SQL
)

test_expect_success 'the reconciliation has items in transit both ways and agrees' '
	"$EARMARK" "${CASH[@]}" report reconciliation --account $ZY --as-of 2026-11-22 >out 2>err &&
	! test -s err &&
	grep "^单位账面余额 book balance .* 6,090,000.00 *$" out &&
	grep "^加: 银行已收、单位未收 bank in, not in book  *2026-11-20 *[0-9]*:6  *结息  *1,234.56 *$" out &&
	grep "^调节后单位余额 adjusted book balance .* 6,091,234.56 *$" out &&
	grep "^银行对账单余额 bank balance .* 4,906,234.56 *$" out &&
	grep "^加: 单位已收、银行未收 book in, not at bank  *2026-11-20 .*收到省级衔接资金 *1,200,000.00 *$" out &&
	grep "^减: 单位已付、银行未付 book out, not at bank  *2026-11-21 .*重新支付.* *-15,000.00 *$" out &&
	grep "^调节后银行余额 adjusted bank balance .* 6,091,234.56 *$" out &&
	grep "^agree: the adjusted balances are equal" out &&
	test_psql -c "$RECON_SQL" >actual &&
	echo "609000000|490623456|123456|0|120000000|-1500000|609123456|609123456|t" >expected &&
	test_cmp expected actual &&
	test_psql -c "$INDEPENDENT_SQL" >actual &&
	echo "609000000|490623456" >expected &&
	test_cmp expected actual
'

test_expect_success 'the reconciliation in CSV and JSON carries the same figures' '
	"$EARMARK" "${CASH[@]}" report reconciliation --account $ZY --as-of 2026-11-22 --format csv >out.csv &&
	grep "^调节后银行余额 adjusted bank balance,2026-11-22,,,6091234.56" out.csv &&
	"$EARMARK" "${CASH[@]}" report reconciliation --account $ZY --as-of 2026-11-22 --format json >out.json &&
	grep -c "6091234.56" out.json
'

test_expect_success 'a manual match with the wrong amount or an unposted voucher is refused (EMB02)' '
	test_psql -c "SELECT statement_id || chr(58) || line_no FROM earmark.statement_line WHERE line_no = 6 AND amount_fen = 123456" >int.line &&
	"$EARMARK" "${CASH[@]}" statement list --account $ZY --status uncleared >out &&
	grep "^$(cat int.line) .*2026-11-20 .*1,234.56 .*uncleared" out &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement match "$(cat int.line)" "$(cat re.ref)" 2 2>err &&
	grep "^earmark: error: statement line $(cat int.line) of 1,234.56 does not fit line 2 of voucher $(cat re.ref) (EMB02)$" err &&
	"$EARMARK" "${CLERK[@]}" fund interest $ZY --amount 1,234.56 --date 2026-11-20 >out &&
	sed "s/.*#//" out >int.id &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement match "$(cat int.line)" "#$(cat int.id)" 1 2>err &&
	grep "^earmark: error: voucher #$(cat int.id) is draft and not yet in the bank journal (EMB02)$" err
'

test_expect_success 'the interest booked, the cashier matches it by hand; who and when are kept, unmatch too' '
	review_post "#$(cat int.id)" >/dev/null &&
	test_psql -c "SELECT min(line_no) FROM earmark.line_coded WHERE voucher_id = $(cat int.id) AND account = '\''1002'\''" >int.vline &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement match "$(cat int.line)" "#$(cat int.id)" "$(cat int.vline)" 2>err &&
	grep "^earmark: error: statement line $(cat int.line) of 1,234.56 does not fit line $(cat int.vline) of voucher #$(cat int.id) (EMB02)$" err &&
	grep "^detail: the book has 242.67 still open there" err &&
	"$EARMARK" "${CASH[@]}" statement match "$(cat int.line)" "#$(cat int.id)" >out &&
	grep "^statement line $(cat int.line) matched to voucher #$(cat int.id)$" out &&
	"$EARMARK" "${CASH[@]}" statement unmatch "$(cat int.line)" >out &&
	grep "^statement line $(cat int.line) unmatched; it is uncleared again$" out &&
	"$EARMARK" "${CASH[@]}" statement match --account $ZY >out &&
	grep "^matched 0 by end-to-end id and 1 by amount and date" out &&
	test_psql -c "SELECT method, amount_fen, matched_by, matched_at IS NOT NULL, coalesce(unmatched_by, chr(45)), unmatched_at IS NOT NULL FROM earmark.bank_match WHERE line_no = 6 ORDER BY match_id" >actual &&
	cat >expected <<-\EOF &&
	manual|24267|e41_cash|t|e41_cash|t
	manual|99189|e41_cash|t|e41_cash|t
	amount|24267|e41_cash|t|-|f
	amount|99189|e41_cash|t|-|f
	EOF
	test_cmp expected actual &&
	"$EARMARK" "${CASH[@]}" statement list --account $ZY >out &&
	grep "^$(cat int.line) .*1,234.56 *cleared .*-2026-11-[0-9]*:1 .*-2026-11-[0-9]*:[0-9] *e41_cash (amount)" out
'

test_expect_success 'a return cannot be unmatched: its voucher is reversed instead (EMB03)' '
	test_psql -c "SELECT statement_id || chr(58) || line_no FROM earmark.statement_line WHERE returned" >ret.line &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" statement unmatch "$(cat ret.line)" 2>err &&
	grep "^earmark: error: statement line $(cat ret.line) is a returned payment with its own voucher #$(cat ret.id) (EMB03)$" err
'

test_expect_success 'with the interest booked and matched the reconciliation still agrees, one way fewer' '
	test_psql -c "$RECON_SQL" >actual &&
	echo "609123456|490623456|0|0|120000000|-1500000|609123456|609123456|t" >expected &&
	test_cmp expected actual
'

test_expect_success 'a reconciliation that does not agree says so and fails' '
	test_psql -c "UPDATE earmark.bank_statement SET opening_fen = opening_fen + 100" &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" report reconciliation --account $ZY --as-of 2026-11-22 >out 2>err &&
	grep "^DO NOT AGREE" out &&
	grep "^earmark: error: the reconciliation of account '\''$ZY'\'' as of 2026-11-22 does not agree$" err &&
	test_psql -c "UPDATE earmark.bank_statement SET opening_fen = opening_fen - 100"
'

test_expect_success 'a reconciliation before the book began is refused' '
	test_expect_code 1 "$EARMARK" "${CASH[@]}" report reconciliation --account $ZY --as-of 2025-12-31 2>err &&
	grep "^earmark: error: date 2025-12-31 is before the book began$" err
'

test_done
