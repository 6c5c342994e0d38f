#!/usr/bin/env bash
# Concurrency (issue 2): 8 clients post E13_PER_CLIENT vouchers each
# (default 250) on the same fund and dedicated account at the same time,
# with pgbench and tests/fixtures/e2e/concurrent_post.sql.  Each voucher is
# drafted by a clerk of its own client, reviewed and posted by two other
# people; receipts and payments alternate at random over ten months and
# three voucher types.  A large receipt posted first covers every payment,
# so none may be refused.
#
# Afterwards the books must be exactly what the posted lines say: no
# failed transaction; 8N+1 vouchers, all posted; numbers gapless per type
# and month (D5) and a gapless chain (D8); every voucher balanced in total
# (D1) and per fund (D2); period_balance equal to the sums of the lines;
# fund_cash equal to the sum of the bank lines and never negative (A2);
# the hash chain verified by earmark in C and by earmark.verify_chain in SQL.
# Every check is an independent query over earmark.line and earmark.voucher.
# 2,000 vouchers in some 30 counters race as hard as 8,000 did, at a
# quarter of the time; the mixed workload (reversals, batches, reports,
# audit packages, a provoked deadlock) is tests/e2e/14_stress.sh.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

FIX=$SRCDIR/tests/fixtures/e2e
BOOK=E13
N=${E13_PER_CLIENT:-250}
CLIENTS=8
TOTAL=$((CLIENTS * N + 1))
MAX_PAY=50000        # fen: no payment is larger than 500.00
# the first receipt covers every payment there could be, and 1,000.00 more
FIRST_FEN=$((CLIENTS * N * MAX_PAY + 100000))
FIRST=$(printf "%d.%02d" $((FIRST_FEN / 100)) $((FIRST_FEN % 100)))
PGBENCH=$(pg_config --bindir)/pgbench

test_expect_success "setup: people, book E13, fund ZY2026-01 and its first receipt of $FIRST" '
	"$EARMARK" user add e13_admin --role admin &&
	"$EARMARK" user add e13_rev --role reviewer &&
	"$EARMARK" user add e13_bk --role bookkeeper &&
	for i in $(seq 0 $((CLIENTS - 1))); do
		"$EARMARK" user add e13_clerk_$i --role clerk || exit 1
	done &&
	"$EARMARK" --user e13_admin book create "$BOOK" --name "e2e 并发" --start 2026-01-01 \
		--accounts "$SRCDIR/config/accounts.csv" &&
	"$EARMARK" --user e13_admin --book "$BOOK" master import bank_account "$FIX/bank_account.csv" &&
	"$EARMARK" --user e13_admin --book "$BOOK" master import fund "$FIX/fund.csv" &&
	printf "%s\n" account,side,amount,fund,project,village,household,bank_account,category,memo \
		"1002,D,$FIRST,ZY2026-01,,,,622848001122334455,,x" "4001,C,$FIRST,ZY2026-01,,,,,,x" >first.csv &&
	"$EARMARK" --user e13_clerk_0 --book "$BOOK" voucher draft first.csv --date 2026-01-01 >ref &&
	"$EARMARK" --user e13_rev --book "$BOOK" voucher review "$(cat ref)" &&
	"$EARMARK" --user e13_bk --book "$BOOK" voucher post "$(cat ref)" >out &&
	echo 记-2026-01-0001 >expected &&
	test_cmp expected out
'

test_expect_success "$CLIENTS clients post $N vouchers each at once on the same fund, none failing" '
	start=$(date +%s) &&
	"$PGBENCH" -n -c $CLIENTS -j 2 -t $N -f "$FIX/concurrent_post.sql" \
		-D book="$BOOK" -D clerk=e13_clerk_ -D reviewer=e13_rev -D bookkeeper=e13_bk \
		-D fund=ZY2026-01 -D bank=622848001122334455 -D max_pay=$MAX_PAY \
		>pgbench.out 2>pgbench.err &&
	echo $(($(date +%s) - start)) >seconds &&
	cat pgbench.out pgbench.err &&
	grep -x "number of transactions actually processed: $((CLIENTS * N))/$((CLIENTS * N))" pgbench.out &&
	grep -x "number of failed transactions: 0 (0.000%)" pgbench.out &&
	! grep -i -e "aborted" -e "error" pgbench.err
'
if [ -s seconds ]; then
	echo "# pgbench: $((CLIENTS * N)) vouchers drafted, reviewed and posted by $CLIENTS clients in $(cat seconds) s"
fi

test_expect_success "exactly $TOTAL vouchers, all posted, each with its three people" '
	test_psql >actual <<-\EOF &&
	SELECT status, count(*) FROM earmark.voucher GROUP BY status;
	SELECT count(*) FROM earmark.voucher
	 WHERE prepared_by = reviewed_by OR posted_by IN (prepared_by, reviewed_by)
	    OR reviewed_by <> '\''e13_rev'\'' OR posted_by <> '\''e13_bk'\'';
	EOF
	printf "%s\n" "posted|$TOTAL" 0 >expected &&
	test_cmp expected actual
'

test_expect_success 'voucher numbers are gapless per type and month (D5)' '
	test_psql >actual <<-\EOF &&
	SELECT count(*) FROM (
		SELECT vtype, month FROM earmark.voucher WHERE status = '\''posted'\''
		 GROUP BY vtype, month
		HAVING min(number) <> 1 OR max(number) <> count(*) OR count(DISTINCT number) <> count(*)) bad;
	SELECT count(*) FROM earmark.voucher_counter c
	  FULL JOIN (SELECT book_id, vtype, month, max(number) AS n FROM earmark.voucher
	              WHERE status = '\''posted'\'' GROUP BY 1, 2, 3) v USING (book_id, vtype, month)
	 WHERE c.last_number IS DISTINCT FROM v.n;
	SELECT count(*) FROM earmark.voucher
	 WHERE number_text <> vtype || '\''-'\'' || to_char(month, '\''YYYY-MM'\'') || '\''-'\'' || lpad(number::text, 4, '\''0'\'')
	    OR month <> date_trunc('\''month'\'', voucher_date);
	SELECT count(DISTINCT (vtype, month)) > 1 FROM earmark.voucher;
	EOF
	printf "%s\n" 0 0 0 t >expected &&
	test_cmp expected actual
'

test_expect_success "the chain positions run 1 to $TOTAL without a gap (D8)" '
	test_psql -c "SELECT min(chain_seq), max(chain_seq), count(DISTINCT chain_seq) FROM earmark.voucher" \
		-c "SELECT seq FROM earmark.chain_head" >actual &&
	printf "%s\n" "1|$TOTAL|$TOTAL" $TOTAL >expected &&
	test_cmp expected actual
'

test_expect_success 'every voucher balances in total (D1) and per fund (D2)' '
	test_psql >actual <<-\EOF &&
	SELECT count(*) FROM (
		SELECT voucher_id FROM earmark.line GROUP BY voucher_id
		HAVING sum(CASE side WHEN '\''D'\'' THEN amount_fen ELSE -amount_fen END) <> 0
		    OR count(*) < 2) bad;
	SELECT count(*) FROM (
		SELECT voucher_id, fund_id FROM earmark.line GROUP BY voucher_id, fund_id
		HAVING sum(CASE side WHEN '\''D'\'' THEN amount_fen ELSE -amount_fen END) <> 0) bad;
	SELECT count(*) FROM earmark.voucher v
	 WHERE NOT EXISTS (SELECT 1 FROM earmark.line l WHERE l.book_id = v.book_id AND l.voucher_id = v.voucher_id);
	SELECT count(*) FROM earmark.line;
	EOF
	printf "%s\n" 0 0 0 $((2 * TOTAL)) >expected &&
	test_cmp expected actual
'

test_expect_success 'period_balance equals the sums of the posted lines per month, account and fund' '
	test_psql >actual <<-\EOF &&
	WITH l AS (
		SELECT v.book_id, v.month, l.account_id, l.fund_id,
		       sum(l.amount_fen) FILTER (WHERE l.side = '\''D'\'') AS d,
		       sum(l.amount_fen) FILTER (WHERE l.side = '\''C'\'') AS c,
		       count(*) AS n
		  FROM earmark.line l
		  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
		 WHERE v.status = '\''posted'\''
		 GROUP BY 1, 2, 3, 4)
	SELECT count(*) FROM l FULL JOIN earmark.period_balance pb USING (book_id, month, account_id, fund_id)
	 WHERE coalesce(l.d, 0) IS DISTINCT FROM pb.debit_fen
	    OR coalesce(l.c, 0) IS DISTINCT FROM pb.credit_fen
	    OR l.n IS DISTINCT FROM pb.line_count;
	SELECT count(*) > 1 FROM earmark.period_balance;
	EOF
	printf "%s\n" 0 t >expected &&
	test_cmp expected actual
'

test_expect_success 'fund_cash equals the sum of the bank lines and is not negative (A2)' '
	test_psql >actual <<-\EOF &&
	WITH l AS (
		SELECT l.book_id, l.fund_id, l.bank_account_id,
		       sum(CASE l.side WHEN '\''D'\'' THEN l.amount_fen ELSE -l.amount_fen END) AS cash
		  FROM earmark.line l
		  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
		 WHERE v.status = '\''posted'\'' AND l.bank_account_id IS NOT NULL
		 GROUP BY 1, 2, 3)
	SELECT count(*) FROM l FULL JOIN earmark.fund_cash fc USING (book_id, fund_id, bank_account_id)
	 WHERE l.cash IS DISTINCT FROM fc.balance_fen;
	SELECT count(*), min(balance_fen) >= 0 FROM earmark.fund_cash;
	SELECT count(*) FROM earmark.line l JOIN earmark.fund f USING (book_id, fund_id)
	 WHERE f.code <> '\''ZY2026-01'\'';
	EOF
	printf "%s\n" 0 "1|t" 0 >expected &&
	test_cmp expected actual
'

test_expect_success 'the trial balance of the book balances and its totals agree with the lines' '
	"$EARMARK" --user e13_rev --book "$BOOK" report trial-balance --as-of 2026-11-23 --format csv >tb.csv &&
	tr -d "\r" <tb.csv >tb-lf.csv &&
	sed -n "s/^,合计 total,\([^,]*\),\([^,]*\),.*/\1,\2/p" tb-lf.csv >actual &&
	test_psql >expected <<-\EOF &&
	SELECT to_char(sum(amount_fen) FILTER (WHERE side = '\''D'\'') / 100.0, '\''FM999999999999990.00'\'')
	       || '\'','\'' ||
	       to_char(sum(amount_fen) FILTER (WHERE side = '\''C'\'') / 100.0, '\''FM999999999999990.00'\'')
	  FROM earmark.line;
	EOF
	test_cmp expected actual
'

test_expect_success 'earmark ledger verify-chain recomputes the whole chain in C' '
	"$EARMARK" --user e13_rev --book "$BOOK" ledger verify-chain >out &&
	test_psql -c "SELECT encode(hash, '\''hex'\'') FROM earmark.chain_head" >head &&
	echo "hash chain of book '\''E13'\'' verifies: $TOTAL vouchers, head $(cat head)" >expected &&
	test_cmp expected out
'

test_expect_success 'earmark.verify_chain recomputes it in SQL and finds no bad link' '
	test_psql -c "SELECT vouchers, encode(head, '\''hex'\''), first_bad IS NULL
	              FROM earmark.verify_chain('\''E13'\'')" >actual &&
	echo "$TOTAL|$(cat head)|t" >expected &&
	test_cmp expected actual
'

test_done
