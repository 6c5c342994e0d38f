#!/usr/bin/env bash
# Year end (年末结转, issue 4 item 4; DESIGN flow 5): December closes only
# once the year is carried forward.  `earmark period carry-forward 2025`
# (administrator) drafts one voucher closing every revenue and expense
# balance per fund and dimension into 3301 本期盈余 and 3301 into 3001
# 累计盈余; a reviewer and a bookkeeper post it (D6); it is numbered (D5)
# and in the hash chain (D8, recomputed by verify-chain); asking twice
# changes nothing; it is never reversed.  Then December closes, with it
# the whole year, and the trial balance of 1 January 2026 shows revenue
# and expense at zero and each fund's surplus in 3001, compared with a sum
# over the lines computed here with psql.
#
# Book E43 starts on 2025-01-01 (a year that has ended): ZY2026-01 receives
# 5,000,000.00 and SJ2026-01 1,200,000.00; ZY2026-01 spends 120,000.00 (JC)
# and 30,000.00 (CY).
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

BOOK=E43
P=e43
. "$SRCDIR/tests/fixtures/bank/setup.sh"
YFIX=$SRCDIR/tests/fixtures/year_end

test_expect_success 'setup: book E43 from 2025-01-01, two receipts and two expenses posted in 2025' '
	for r in admin clerk reviewer bookkeeper; do
		case $r in reviewer) n=rev ;; bookkeeper) n=bk ;; *) n=$r ;; esac
		"$EARMARK" user add "${P}_$n" --role $r >/dev/null || exit 1
	done &&
	"$EARMARK" "${ADMIN[@]}" book create "$BOOK" --name "e2e 平安县专项资金" \
		--start 2025-01-01 --accounts "$SRCDIR/config/accounts.csv" >/dev/null &&
	for kind in category bank_account fund; do
		"$EARMARK" "${ADMIN[@]}" master import $kind "$DIS/$kind.csv" >/dev/null || exit 1
	done &&
	post_voucher "$DIS/receive_zy.csv" 2025-03-02 >/dev/null &&
	post_voucher "$DIS/receive_sj.csv" 2025-03-20 >/dev/null &&
	post_voucher "$YFIX/expense_zy.csv" 2025-06-10 >/dev/null &&
	post_voucher "$YFIX/expense_zy_cy.csv" 2025-09-15 >/dev/null
'

test_expect_success 'December is refused until the year is carried forward, naming each balance' '
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" period close 2025-12 >out 2>err &&
	! test -s out &&
	cat >expected <<-EOF &&
	earmark: error: period 2025-12 cannot be closed: 3 open items (EMC01)
	detail: 3 problems:
	  2025 is not carried forward: 4001 财政拨款收入 of fund '\''SJ2026-01'\'' holds 1,200,000.00 (贷)
	  2025 is not carried forward: 4001 财政拨款收入 of fund '\''ZY2026-01'\'' holds 5,000,000.00 (贷)
	  2025 is not carried forward: 5001 业务活动费用 of fund '\''ZY2026-01'\'' holds 150,000.00 (借)
	hint: earmark period carry-forward 2025 drafts the year-end voucher (年末结转); a reviewer and a bookkeeper post it, then close December
	EOF
	test_cmp expected err
'

test_expect_success 'only the administrator carries forward; a year not ended, or not a year, is refused' '
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" period carry-forward 2025 2>err &&
	grep -E "^earmark: error: (permission denied for function year_end_carry_forward|'\''e43_clerk'\'' may not run '\''period carry-forward'\'')" err &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" period carry-forward 2026 2>err &&
	grep "^earmark: error: voucher date 2026-12-31 is in the future (D7)$" err &&
	test_expect_code 2 "$EARMARK" "${ADMIN[@]}" period carry-forward 25 2>err &&
	grep "^earmark: error: year '\''25'\'' is not YYYY$" err &&
	test "$(test_psql -c "SELECT count(*) FROM earmark.carry_forward")" = 0
'

test_expect_success 'the carry-forward is drafted once: asking again answers the same draft' '
	"$EARMARK" "${ADMIN[@]}" period carry-forward 2025 >out &&
	cf=$(sed -n "s/.*: #\([0-9]*\) .*/\1/p" out) && test -n "$cf" && echo "#$cf" >cf.ref &&
	echo "year-end carry-forward of 2025 drafted: #$cf (11 lines, dated 2025-12-31); a reviewer and a bookkeeper review and post it, then: earmark period close 2025-12" >expected &&
	test_cmp expected out &&
	"$EARMARK" "${ADMIN[@]}" period carry-forward 2025 >out &&
	grep "^year-end carry-forward of 2025 was drafted before: #$cf (11 lines" out &&
	test "$(test_psql -c "SELECT count(*) FROM earmark.voucher WHERE status = '\''draft'\''")" = 1
'

test_expect_success 'its lines: revenue and expense closed per fund and category, into 3301, and 3301 into 3001' '
	test_psql -c "SELECT account || '\'' '\'' || side || '\'' '\'' || amount_fen || '\'' '\'' || fund || '\'' '\'' || COALESCE(category, '\''-'\'')
	               FROM earmark.line_coded WHERE voucher_id = $(tr -d "#" <cf.ref)" >lines &&
	sort lines >actual &&
	sort >expected <<-EOF &&
	4001 D 120000000 SJ2026-01 -
	3301 C 120000000 SJ2026-01 -
	3301 D 120000000 SJ2026-01 -
	3001 C 120000000 SJ2026-01 -
	4001 D 500000000 ZY2026-01 -
	5001 C 12000000 ZY2026-01 JC
	5001 C 3000000 ZY2026-01 CY
	3301 C 500000000 ZY2026-01 -
	3301 D 15000000 ZY2026-01 -
	3301 D 485000000 ZY2026-01 -
	3001 C 485000000 ZY2026-01 -
	EOF
	test_cmp expected actual
'

test_expect_success 'a reviewer and a bookkeeper post it (D6): numbered, in the hash chain; then nothing is left' '
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" voucher review "$(cat cf.ref)" 2>err &&
	review_post "$(cat cf.ref)" >out &&
	echo 转-2025-12-0001 >expected && test_cmp expected out &&
	"$EARMARK" "${ADMIN[@]}" period carry-forward 2025 >out &&
	echo "2025 has nothing left to carry forward: revenue and expense are closed" >expected &&
	test_cmp expected out &&
	"$EARMARK" "${BK[@]}" ledger verify-chain >out &&
	grep "^hash chain of book '\''E43'\'' verifies: 5 vouchers, head $(test_psql -c "SELECT encode(hash, '\''hex'\'') FROM earmark.chain_head")$" out
'

test_expect_success 'a carry-forward is never reversed (EMC02)' '
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher reverse 转-2025-12-0001 --date 2025-12-31 2>err &&
	grep "^earmark: error: voucher 转-2025-12-0001 is a year-end carry-forward and is not reversed (EMC02)$" err
'

test_expect_success 'December closes, and with it the year; twice changes nothing' '
	"$EARMARK" "${ADMIN[@]}" period close 2025-12 >out &&
	echo "period 2025-12 closed" >expected && test_cmp expected out &&
	test "$(test_psql -c "SELECT count(*) FROM earmark.period WHERE closed_at IS NOT NULL AND month < '\''2026-01-01'\''")" = 12 &&
	test_psql -c "SELECT md5(string_agg(t::text, '\'','\'' ORDER BY t::text)) FROM earmark.period t" >before &&
	"$EARMARK" "${ADMIN[@]}" period close 2025-12 >/dev/null &&
	test_psql -c "SELECT md5(string_agg(t::text, '\'','\'' ORDER BY t::text)) FROM earmark.period t" >after &&
	test_cmp before after &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft "$YFIX/expense_zy.csv" --date 2025-05-05 2>err &&
	grep "period 2025-05 is closed (D7)" err
'

test_expect_success 'the trial balance of 1 January 2026: revenue and expense zero, 3001 the surplus per fund, as the lines say' '
	for f in ZY2026-01 SJ2026-01; do
		"$EARMARK" "${BK[@]}" report trial-balance --as-of 2026-01-01 --fund $f --format csv >tb.raw &&
		tr -d "\r" <tb.raw >tb.csv &&
		! grep -E "^(3301|4001|4604|5001),.*,[1-9][0-9.]*,[0-9.]*$|^(3301|4001|4604|5001),.*,[0-9.]*,[1-9][0-9.]*$" tb.csv &&
		test_psql -c "SELECT to_char(sum(CASE l.side WHEN '\''C'\'' THEN l.amount_fen ELSE -l.amount_fen END) / 100.0, '\''FM999999999990.00'\'')
		               FROM earmark.line_coded l JOIN earmark.voucher v USING (book_id, voucher_id)
		              WHERE v.status = '\''posted'\'' AND l.fund = '\''$f'\'' AND l.account ~ '\''^[45]'\''
		                AND v.voucher_id NOT IN (SELECT voucher_id FROM earmark.carry_forward)" >surplus &&
		grep "^3001,.*,$(cat surplus)$" tb.csv || exit 1
	done
'

test_done
