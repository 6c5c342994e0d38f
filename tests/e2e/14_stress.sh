#!/usr/bin/env bash
# Concurrency stress (issue 8, item 2): STRESS_CLIENTS clients (default 16)
# run for STRESS_SECONDS seconds (default 15 in `make check`, 60 in `make
# stress`) a random mix of what an office does at month end, all on the
# same few hot funds: vouchers drafted, reviewed and posted (receipts and
# payments, on ZY2026-01 and SJ2026-01, which share one dedicated account,
# and on XJ2026-01, whose cash runs short so that payments race for the
# last yuan), 红字 reversals of posted vouchers, household batches (pay
# batch, review, post, export), reports and signed audit packages.
#
# What may go wrong under load is a rule's refusal: a payment the fund
# cannot cover (A2), a voucher another client reversed first (D4).  Every
# other failure fails the test; in particular no deadlock or serialization
# failure may reach a user: earmark retries the whole transaction
# (ledger/db.h), and the first steps provoke a deadlock inside pay batch
# to see the retry succeed, and, with retrying turned off, the clean error
# a user gets once the attempts are spent.
#
# Afterwards an audit query set written here, plain SQL over the lines and
# vouchers (not earmark's own checks), finds no violation: every voucher
# balanced in total and per fund (D1, D2); period_balance, day_balance,
# fund_spend_day, spend_month and village_month equal to the sums of the
# posted lines; fund_cash equal to the bank lines, and no fund's cash below
# zero at the end of any day (A2); numbers gapless per type and month (D5);
# reversals mirroring their original, each reversed at most once (D4);
# batches whole; the hash chain gapless and verified in C and SQL (D8); the
# audit packages a gapless chain, each file verifying.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/fixtures/audit/lib.sh"

FIX=$SRCDIR/tests/fixtures/e2e/disburse
BOOK=E14
SECS=${STRESS_SECONDS:-15}
CLIENTS=${STRESS_CLIENTS:-16}
SLOTS=20                              # household batches a client may make
PER_BATCH=5                           # households in each
HOUSEHOLDS=$((20 + CLIENTS * SLOTS * PER_BATCH))   # G00001-G00020 for the deadlock steps
ADMIN=(--user e14_admin --book "$BOOK")
REV=(--user e14_rev --book "$BOOK")
BK=(--user e14_bk --book "$BOOK")
AUD=(--user e14_aud --book "$BOOK")
ZY_BANK=622848001122334455
XJ_BANK=621700002233445566

# batch_csv FIRST COUNT: households G<FIRST> .. on list L2026-CY-01, 20.00 each.
batch_csv() {
	echo "household,amount,project,fund,category,list,item,memo"
	for ((h = $1; h < $1 + $2; h++)); do
		printf "G%05d,20.00,P2026-005,ZY2026-01,CY,L2026-CY-01,产业奖补,stress\n" "$h"
	done
}

# voucher_csv FUND AMOUNT RECEIPT: a receipt (1002 D / 4001 C) or a payment
# (5001 D / 1002 C) on FUND's dedicated account.
voucher_csv() {
	local bank=$ZY_BANK cat=JC
	[ "$1" != XJ2026-01 ] || bank=$XJ_BANK
	[ "$1" != SJ2026-01 ] || cat=CY
	echo "account,side,amount,fund,project,village,household,bank_account,category,memo"
	if [ "$3" = 1 ]; then
		echo "1002,D,$2,$1,,,,$bank,,收到资金"
		echo "4001,C,$2,$1,,,,,,收到资金"
	else
		echo "5001,D,$2,$1,,,,,$cat,支出"
		echo "1002,C,$2,$1,,,,$bank,,支出"
	fi
}

# The rows a pay batch writes, for "nothing was written".
BATCH_SQL="SELECT (SELECT count(*) FROM earmark.pay_batch), (SELECT count(*) FROM earmark.household_payment),
	(SELECT count(*) FROM earmark.voucher), (SELECT count(*) FROM earmark.line),
	(SELECT count(*) FROM earmark.pay_staging)"

test_expect_success "setup: people, book $BOOK, three hot funds, $HOUSEHOLDS households on a published list; a CA and a signer" '
	"$EARMARK" user add e14_admin --role admin &&
	"$EARMARK" user add e14_rev --role reviewer &&
	"$EARMARK" user add e14_bk --role bookkeeper &&
	"$EARMARK" user add e14_cash --role cashier &&
	"$EARMARK" user add e14_aud --role auditor &&
	"$EARMARK" user add e14_dl --role clerk &&
	for c in 0 1 2 3; do
		"$EARMARK" user add e14_clerk_$c --role clerk >/dev/null || exit 1
	done &&
	"$EARMARK" "${ADMIN[@]}" book create "$BOOK" --name "e2e 压力测试" --start 2026-01-01 \
		--accounts "$SRCDIR/config/accounts.csv" >/dev/null &&
	for kind in category bank_account fund village project project_budget project_target project_event; do
		"$EARMARK" "${ADMIN[@]}" master import $kind "$FIX/$kind.csv" >/dev/null || exit 1
	done &&
	printf "%s\n" project,kind,date,progress,doc_no,note P2026-005,start,2026-06-05,,,开工 \
		P2026-005,inspection,2026-10-20,100,平乡振验〔2026〕30号, \
		P2026-005,acceptance,2026-10-25,,平乡振验〔2026〕31号, >events.csv &&
	"$EARMARK" "${ADMIN[@]}" master import project_event events.csv >/dev/null &&
	awk -v n=$HOUSEHOLDS '\''BEGIN {
		split("7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2", w, " ")
		print "code,village,head_name,id_no,members,bank_card,bank_cnaps,phone,status" >"households.csv"
		print "household,amount,item" >"list.csv"
		for (i = 1; i <= n; i++) {
			body = sprintf("610826%04d%02d%02d%03d", 1950 + i % 50, 1 + int(i / 50) % 12,
				       1 + int(i / 600) % 28, 900 + int(i / 16800))
			sum = 0
			for (j = 1; j <= 17; j++)
				sum += substr(body, j, 1) * w[j]
			printf "G%05d,610826103301,户主%05d,%s%s,3,622848%013d,103456000011,,脱贫户\n",
				i, i, body, substr("10X98765432", sum % 11 + 1, 1), i >"households.csv"
			printf "G%05d,20.00,产业奖补\n", i >"list.csv"
		}
	}'\'' &&
	"$EARMARK" "${ADMIN[@]}" master import household households.csv >/dev/null &&
	"$EARMARK" --user e14_clerk_0 --book "$BOOK" list create L2026-CY-01 list.csv --project P2026-005 \
		--title "2026年产业奖补到户名单" >/dev/null &&
	"$EARMARK" "${ADMIN[@]}" list publish L2026-CY-01 --from 2026-11-01 --days 10 >/dev/null &&
	voucher_csv XJ2026-01 2000.00 1 >receive_xj.csv &&
	voucher_csv ZY2026-01 100.00 0 >pay_zy.csv &&
	for r in "$FIX/receive_zy.csv 2026-03-02" "$FIX/receive_sj.csv 2026-03-20" "receive_xj.csv 2026-04-08" \
		 "pay_zy.csv 2026-11-02" "pay_zy.csv 2026-11-03"; do
		set -- $r &&
		"$EARMARK" --user e14_clerk_0 --book "$BOOK" voucher draft "$1" --date "$2" >ref &&
		"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" >/dev/null &&
		"$EARMARK" "${BK[@]}" voucher post "$(cat ref)" >/dev/null || exit 1
	done &&
	make_ca ca && make_signer signer ca &&
	test_psql -c "ALTER ROLE e14_dl SET deadlock_timeout = '\''3s'\''" &&
	test_psql -c "SELECT count(*) FROM earmark.voucher WHERE status = '\''posted'\''" >actual &&
	echo 5 >expected &&
	test_cmp expected actual
'

# --- a deadlock, retried ---------------------------------------------------

# lock_cycle: a psql session that takes a SHARE lock on earmark.voucher
# (pay_batch's INSERT of the drafts waits for it), waits until an earmark
# backend waits for that lock, having COPYed its rows into pay_staging,
# then asks for pay_staging itself: a deadlock.  Its own deadlock_timeout is
# 60 s and e14_dl's 3 s, so the server picks earmark's transaction as the
# victim and rolls it back, which lets this session finish.
LOCK_CYCLE_SQL=$(cat <<'EOF'
BEGIN;
SET LOCAL deadlock_timeout = '60s';
LOCK TABLE earmark.voucher IN SHARE MODE;
\! touch locked
DO $$
BEGIN
	FOR i IN 1..600 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_locks
		                   WHERE NOT granted AND relation = 'earmark.voucher'::regclass);
		PERFORM pg_catalog.pg_sleep(0.05);
	END LOOP;
END
$$;
LOCK TABLE earmark.pay_staging IN SHARE MODE;
COMMIT;
EOF
)

# wait_for FILE: up to 30 s for FILE to appear.
wait_for() {
	for _ in $(seq 300); do
		[ ! -e "$1" ] || return 0
		sleep 0.1
	done
	echo "$1 never appeared" >&2
	return 1
}

# deadlocks: the database's count of deadlocks, once it has grown past $1
# (a backend reports its statistics when it ends), or as it is after 10 s.
deadlocks() {
	local n
	for _ in $(seq 100); do
		n=$(test_psql -c "SELECT pg_catalog.pg_stat_clear_snapshot(); SELECT deadlocks FROM pg_catalog.pg_stat_database WHERE datname = pg_catalog.current_database()" | tail -n 1)
		[ "$n" -le "${1:--1}" ] || break
		sleep 0.1
	done
	echo "$n"
}

test_expect_success 'pay batch meets a deadlock: earmark retries the whole transaction and the batch is written once' '
	before=$(deadlocks) &&
	batch_csv 1 10 >dl1.csv &&
	rm -f locked &&
	{ test_psql <<<"$LOCK_CYCLE_SQL" >locker.out 2>locker.err & } &&
	locker=$! &&
	wait_for locked &&
	"$EARMARK" --user e14_dl --book "$BOOK" pay batch dl1.csv --code DL-1 --date 2026-11-20 \
		--key e14-dl-1 >out 2>err &&
	wait "$locker" &&
	! test -s locker.err &&
	echo "batch '\''DL-1'\'': 10 household payments prepared as two drafts; review and post them with earmark pay review / pay post" >expected &&
	test_cmp expected out &&
	! test -s err &&
	after=$(deadlocks "$before") &&
	echo "# deadlocks: $before before, $after after" &&
	test "$after" -gt "$before" &&
	test_psql >actual <<-\EOF &&
	SELECT count(*), sum(p.amount_fen), count(DISTINCT p.household_id)
	  FROM earmark.pay_batch b JOIN earmark.household_payment p USING (book_id, batch_id)
	 WHERE b.code = '\''DL-1'\'';
	SELECT count(*) FROM earmark.pay_staging;
	EOF
	printf "%s\n" "10|20000|10" 0 >expected &&
	test_cmp expected actual
'

test_expect_success 'with retrying turned off the same deadlock is a clean error and nothing is written' '
	before=$(deadlocks) &&
	batch_csv 11 10 >dl2.csv &&
	test_psql -c "$BATCH_SQL" >rows.before &&
	rm -f locked &&
	{ test_psql <<<"$LOCK_CYCLE_SQL" >locker.out 2>locker.err & } &&
	locker=$! &&
	wait_for locked &&
	test_expect_code 1 env EARMARK_DB_ATTEMPTS=1 "$EARMARK" --user e14_dl --book "$BOOK" \
		pay batch dl2.csv --code DL-2 --date 2026-11-20 --key e14-dl-2 >out 2>err &&
	wait "$locker" &&
	cat >expected <<-\EOF &&
	earmark: error: deadlock detected
	detail: gave up after 1 attempt, each rolled back whole: nothing of this command was written
	hint: other sessions were changing the same records at the same time; run the command again
	EOF
	test_cmp expected err &&
	! test -s out &&
	test "$(deadlocks "$before")" -gt "$before" &&
	test_psql -c "$BATCH_SQL" >rows.after &&
	test_cmp rows.before rows.after
'

test_expect_success 'run again as the hint says, the same batch goes through' '
	"$EARMARK" --user e14_dl --book "$BOOK" pay batch dl2.csv --code DL-2 --date 2026-11-20 \
		--key e14-dl-2 >out 2>err &&
	! test -s err &&
	"$EARMARK" "${REV[@]}" pay review DL-1 >/dev/null &&
	"$EARMARK" "${BK[@]}" pay post DL-1 >/dev/null &&
	test_psql -c "SELECT count(*) FROM earmark.pay_batch WHERE code IN ('\''DL-1'\'', '\''DL-2'\'')" >actual &&
	echo 2 >expected &&
	test_cmp expected actual
'

# The same cycle around statement import: SHARE on statement_line (the
# entries' INSERT waits for it, the statement's row already inserted), then
# SHARE on bank_statement.  e14_dlcash, a cashier, has the 3 s timeout.
STMT_LOCK_CYCLE_SQL=${LOCK_CYCLE_SQL//earmark.voucher/earmark.statement_line}
STMT_LOCK_CYCLE_SQL=${STMT_LOCK_CYCLE_SQL//earmark.pay_staging/earmark.bank_statement}
STMT_SQL="SELECT (SELECT count(*) FROM earmark.bank_statement), (SELECT count(*) FROM earmark.statement_line)"

# stmt_csv DAY: a one-entry bank CSV of 621700002233445566 on 2026-11-DAY, opening 0.00.
stmt_csv() {
	echo "交易日期,本方账号,币种,摘要,对方户名,支出金额,收入金额,余额,客户参考号,流水号,退汇原因"
	echo "2026-11-$1,621700002233445566,CNY,结息,,,1.23,1.23,,DL$1,"
}

test_expect_success 'statement import meets a deadlock: the whole import is retried and written once' '
	"$EARMARK" user add e14_dlcash --role cashier >/dev/null &&
	test_psql -c "ALTER ROLE e14_dlcash SET deadlock_timeout = '\''3s'\''" &&
	stmt_csv 25 >stmt25.csv &&
	before=$(deadlocks) &&
	rm -f locked &&
	{ test_psql <<<"$STMT_LOCK_CYCLE_SQL" >locker.out 2>locker.err & } &&
	locker=$! &&
	wait_for locked &&
	"$EARMARK" --user e14_dlcash --book "$BOOK" statement import stmt25.csv \
		--account 621700002233445566 >out 2>err &&
	wait "$locker" &&
	! test -s locker.err &&
	echo "stmt25.csv: 1 statement with 1 entries imported into account 621700002233445566; match them with earmark statement match --account 621700002233445566" >expected &&
	test_cmp expected out &&
	! test -s err &&
	after=$(deadlocks "$before") &&
	echo "# deadlocks: $before before, $after after" &&
	test "$after" -gt "$before" &&
	test_psql -c "$STMT_SQL" >actual &&
	echo "1|1" >expected &&
	test_cmp expected actual
'

test_expect_success 'with retrying turned off the statement import deadlock is a clean error, nothing written' '
	stmt_csv 26 | sed "s/1.23,1.23/1.23,2.46/" >stmt26.csv &&
	before=$(deadlocks) &&
	test_psql -c "$STMT_SQL" >rows.before &&
	rm -f locked &&
	{ test_psql <<<"$STMT_LOCK_CYCLE_SQL" >locker.out 2>locker.err & } &&
	locker=$! &&
	wait_for locked &&
	test_expect_code 1 env EARMARK_DB_ATTEMPTS=1 "$EARMARK" --user e14_dlcash --book "$BOOK" \
		statement import stmt26.csv --account 621700002233445566 >out 2>err &&
	wait "$locker" &&
	cat >expected <<-\EOF &&
	earmark: error: deadlock detected
	detail: gave up after 1 attempt, each rolled back whole: nothing of this command was written
	hint: other sessions were changing the same records at the same time; run the command again
	EOF
	test_cmp expected err &&
	! test -s out &&
	test "$(deadlocks "$before")" -gt "$before" &&
	test_psql -c "$STMT_SQL" >rows.after &&
	test_cmp rows.before rows.after
'

# --- the stress ------------------------------------------------------------

# call OP EARMARK-ARGS...: runs earmark for client $c; appends "OP STATUS"
# to client.$c/ops and, when it failed, the command and its stderr to
# client.$c/fail, one block each, starting with "## ".
call() {
	local op=$1 rc=0
	shift
	"$EARMARK" "$@" >"$w/out" 2>"$w/err" || rc=$?
	echo "$op $rc" >>"$w/ops"
	if [ "$rc" -ne 0 ]; then
		{ echo "## client $c, $op, exit $rc: $*"; cat "$w/err"; } >>"$w/fail"
	fi
	return "$rc"
}

# worker C DEADLINE: client C's loop until DEADLINE (seconds since the epoch).  Of 100 draws, 40 are a
# voucher, 10 a reversal, 15 a batch, 25 a report and 10 an audit package;
# client C's first operation is kind C mod 5, so that every kind runs.
worker() {
	local c=$1 w=client.$1 i=0 kind funds=(ZY2026-01 SJ2026-01 XJ2026-01) fund amount ref num slot=0
	local first=(0 40 50 65 90)
	local clerk=(--user "e14_clerk_$(($1 % 4))" --book "$BOOK")
	RANDOM=$((c * 7919 + 17))
	mkdir -p "$w"
	: >"$w/ops"
	while [ "$(date +%s)" -lt "$2" ]; do
		i=$((i + 1))
		if [ "$i" -eq 1 ]; then kind=${first[c % 5]}; else kind=$((RANDOM % 100)); fi
		case $kind in
		[0-9] | [1-3][0-9])  # a voucher: one in four a receipt
			fund=${funds[RANDOM % 3]}
			if [ "$fund" = XJ2026-01 ]; then amount=$((RANDOM % 30000 + 1)); else amount=$((RANDOM % 50000 + 1)); fi
			voucher_csv "$fund" "$((amount / 100)).$(printf %02d $((amount % 100)))" \
				$((RANDOM % 4 == 0)) >"$w/v.csv"
			call draft "${clerk[@]}" voucher draft "$w/v.csv" --date "2026-11-$(printf %02d $((RANDOM % 28 + 1)))" \
				--key "e14-$c-$i" && ref=$(cat "$w/out") &&
			call review "${REV[@]}" voucher review "$ref" &&
			call post "${BK[@]}" voucher post "$ref" || true
			;;
		4[0-9])  # a 红字 reversal of a posted voucher, not a batch's
			num=$(test_psql -c "SELECT v.number_text FROM earmark.voucher v
				 WHERE v.status = 'posted' AND v.reverses_id IS NULL AND v.chain_seq > 3
				   AND NOT EXISTS (SELECT 1 FROM earmark.voucher r WHERE r.book_id = v.book_id AND r.reverses_id = v.voucher_id)
				   AND NOT EXISTS (SELECT 1 FROM earmark.pay_batch b WHERE b.book_id = v.book_id
				                    AND v.voucher_id IN (b.payable_voucher_id, b.payment_voucher_id))
				 ORDER BY pg_catalog.random() LIMIT 1")
			[ -n "$num" ] || { echo "reverse none" >>"$w/ops"; continue; }
			call reverse "${clerk[@]}" voucher reverse "$num" --key "e14-$c-$i" && ref=$(cat "$w/out") &&
			call review "${REV[@]}" voucher review "$ref" &&
			call post "${BK[@]}" voucher post "$ref" || true
			;;
		5[0-9] | 6[0-4])  # a household batch, through to its pain.001 file
			[ "$slot" -lt "$SLOTS" ] || continue
			batch_csv $((21 + (c * SLOTS + slot) * PER_BATCH)) "$PER_BATCH" >"$w/b.csv"
			slot=$((slot + 1))
			call batch "${clerk[@]}" pay batch "$w/b.csv" --code "S$c-$slot" --date 2026-11-20 \
				--key "e14-b-$c-$slot" &&
			call review "${REV[@]}" pay review "S$c-$slot" &&
			call post "${BK[@]}" pay post "S$c-$slot" &&
			call export --user e14_cash --book "$BOOK" pay export "S$c-$slot" -o "$w/S$c-$slot.xml" || true
			;;
		6[5-9] | [78][0-9])  # a report, as the auditor
			case $((RANDOM % 5)) in
			0) call report "${AUD[@]}" report trial-balance --as-of 2026-11-30 --format csv ;;
			1) call report "${AUD[@]}" report fund-statement --as-of 2026-11-30 ;;
			2) call report "${AUD[@]}" report detail-ledger --from 2026-11-01 --to 2026-11-30 --fund XJ2026-01 ;;
			3) call report "${AUD[@]}" report bank-journal --from 2026-11-01 --to 2026-11-30 ;;
			4) call report "${AUD[@]}" ledger verify-chain ;;
			esac || true
			;;
		*)  # a signed audit package
			call export "${AUD[@]}" audit export --from 2026-01-01 --to 2026-11-30 \
				--key signer.key --cert signer.pem -o "$w/p$i.asice" || true
			;;
		esac
	done
}

test_expect_success "$CLIENTS clients for $SECS s: vouchers, reversals, batches, reports and audit packages at once" '
	deadline=$(($(date +%s) + SECS)) &&
	for c in $(seq 0 $((CLIENTS - 1))); do
		worker "$c" "$deadline" &
	done &&
	wait &&
	cat client.*/ops >ops &&
	awk "{ n[\$1]++; if (\$2 == 0) ok[\$1]++ } END { for (k in n) printf \"# %s: %d run, %d succeeded\\n\", k, n[k], ok[k] }" ops | sort &&
	for op in draft review post reverse batch export report; do
		grep -q "^$op 0\$" ops || { echo "no $op succeeded" >&2; exit 1; }
	done
'

test_expect_success 'no command crashed: every exit status is 0 or a refusal (1)' '
	! grep -v -e " [01]\$" -e "^reverse none\$" ops
'

test_expect_success 'no deadlock or serialization failure reached a user' '
	cat client.*/fail >fail 2>/dev/null || : >fail &&
	! grep -i -e "deadlock" -e "could not serialize" -e "40001" -e "40P01" fail
'

test_expect_success 'every refusal is a rule'\''s: a fund that cannot pay (A2) or a voucher reversed already (D4)' '
	awk "/^## / { if (h != \"\") print h \" | \" e; h = \$0; e = \"\"; next }
	     e == \"\" { e = \$0 } END { if (h != \"\") print h \" | \" e }" fail >refusals &&
	sed -n "s/^.*| //p" refusals | sed "s/[0-9]\\{1,\\}/N/g" | sort | uniq -c | sed "s/^/# /" &&
	! grep -v -e "| earmark: error: fund .* would overdraw its dedicated account .* (A2)\$" \
		-e "| earmark: error: voucher .* is already reversed (D4)\$" refusals
'

# --- the audit query set -----------------------------------------------------

test_expect_success 'every voucher balances in total (D1) and per fund (D2), and has two lines or more' '
	test_psql >actual <<-\EOF &&
	SELECT count(*) FROM (
		SELECT voucher_id FROM earmark.line GROUP BY book_id, voucher_id
		HAVING sum(CASE side WHEN '\''D'\'' THEN amount_fen ELSE -amount_fen END) <> 0 OR count(*) < 2) bad;
	SELECT count(*) FROM (
		SELECT 1 FROM earmark.line GROUP BY book_id, voucher_id, fund_id
		HAVING sum(CASE side WHEN '\''D'\'' THEN amount_fen ELSE -amount_fen END) <> 0) bad;
	SELECT count(*) FROM earmark.voucher v
	 WHERE NOT EXISTS (SELECT 1 FROM earmark.line l WHERE l.book_id = v.book_id AND l.voucher_id = v.voucher_id);
	EOF
	printf "%s\n" 0 0 0 >expected &&
	test_cmp expected actual
'

test_expect_success 'period_balance and day_balance equal the sums of the posted lines' '
	test_psql >actual <<-\EOF &&
	CREATE TEMP VIEW pl AS
	SELECT l.*, v.voucher_date, date_trunc('\''month'\'', v.voucher_date)::date AS month
	  FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id) WHERE v.status = '\''posted'\'';
	WITH l AS (
		SELECT book_id, month, account_id, fund_id, sum(amount_fen) FILTER (WHERE side = '\''D'\'') AS d,
		       sum(amount_fen) FILTER (WHERE side = '\''C'\'') AS c, count(*) AS n
		  FROM pl GROUP BY 1, 2, 3, 4)
	SELECT count(*) FROM l FULL JOIN earmark.period_balance k USING (book_id, month, account_id, fund_id)
	 WHERE coalesce(l.d, 0) <> coalesce(k.debit_fen, 0) OR coalesce(l.c, 0) <> coalesce(k.credit_fen, 0)
	    OR coalesce(l.n, 0) <> coalesce(k.line_count, 0);
	WITH l AS (
		SELECT book_id, voucher_date AS day, account_id, fund_id, sum(amount_fen) FILTER (WHERE side = '\''D'\'') AS d,
		       sum(amount_fen) FILTER (WHERE side = '\''C'\'') AS c, count(*) AS n
		  FROM pl GROUP BY 1, 2, 3, 4)
	SELECT count(*) FROM l FULL JOIN earmark.day_balance k USING (book_id, day, account_id, fund_id)
	 WHERE coalesce(l.d, 0) <> coalesce(k.debit_fen, 0) OR coalesce(l.c, 0) <> coalesce(k.credit_fen, 0)
	    OR coalesce(l.n, 0) <> coalesce(k.line_count, 0);
	SELECT count(*) > 10, count(DISTINCT voucher_date) > 3 FROM pl;
	EOF
	printf "%s\n" 0 0 "t|t" >expected &&
	test_cmp expected actual
'

test_expect_success 'fund_spend_day, spend_month and village_month equal the posted spend lines' '
	test_psql >actual <<-\EOF &&
	CREATE TEMP VIEW sl AS
	SELECT l.book_id, v.voucher_date AS day, date_trunc('\''month'\'', v.voucher_date)::date AS month,
	       l.fund_id, l.project_id, coalesce(h.village_id, l.village_id) AS village_id,
	       l.household_id IS NOT NULL AS to_household,
	       CASE l.side WHEN '\''D'\'' THEN l.amount_fen ELSE -l.amount_fen END AS fen
	  FROM earmark.line l
	  JOIN earmark.voucher v USING (book_id, voucher_id)
	  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
	  LEFT JOIN earmark.household h ON h.book_id = l.book_id AND h.household_id = l.household_id
	 WHERE v.status = '\''posted'\'' AND (a.kind = '\''expense'\'' OR a.code LIKE '\''1214%'\'');
	WITH l AS (SELECT book_id, day, fund_id, to_household, sum(fen) AS s, count(*) AS n FROM sl GROUP BY 1, 2, 3, 4)
	SELECT count(*) FROM l FULL JOIN earmark.fund_spend_day k USING (book_id, day, fund_id, to_household)
	 WHERE coalesce(l.s, 0) <> coalesce(k.spent_fen, 0) OR coalesce(l.n, 0) <> coalesce(k.line_count, 0);
	WITH l AS (SELECT book_id, month, fund_id, project_id, to_household, sum(fen) AS s, count(*) AS n FROM sl GROUP BY 1, 2, 3, 4, 5)
	SELECT count(*) FROM l FULL JOIN earmark.spend_month k
	    ON k.book_id = l.book_id AND k.month = l.month AND k.fund_id = l.fund_id
	   AND k.project_id IS NOT DISTINCT FROM l.project_id AND k.to_household = l.to_household
	 WHERE coalesce(l.s, 0) <> coalesce(k.spent_fen, 0) OR coalesce(l.n, 0) <> coalesce(k.line_count, 0);
	WITH l AS (SELECT book_id, month, village_id, to_household, sum(fen) AS s, count(*) AS n FROM sl
	            WHERE village_id IS NOT NULL GROUP BY 1, 2, 3, 4)
	SELECT count(*) FROM l FULL JOIN earmark.village_month k USING (book_id, month, village_id, to_household)
	 WHERE coalesce(l.s, 0) <> coalesce(k.spent_fen, 0) OR coalesce(l.n, 0) <> coalesce(k.line_count, 0);
	SELECT count(*) FILTER (WHERE to_household) > 0, count(*) FILTER (WHERE NOT to_household) > 0 FROM sl;
	EOF
	printf "%s\n" 0 0 0 "t|t" >expected &&
	test_cmp expected actual
'

test_expect_success 'fund_cash equals the bank lines, and no fund'\''s cash is below zero at the end of any day (A2)' '
	test_psql >actual <<-\EOF &&
	CREATE TEMP VIEW bl AS
	SELECT l.book_id, l.fund_id, l.bank_account_id, v.voucher_date AS day,
	       sum(CASE l.side WHEN '\''D'\'' THEN l.amount_fen ELSE -l.amount_fen END) AS fen
	  FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
	 WHERE v.status = '\''posted'\'' AND l.bank_account_id IS NOT NULL
	 GROUP BY 1, 2, 3, 4;
	WITH l AS (SELECT book_id, fund_id, bank_account_id, sum(fen) AS cash FROM bl GROUP BY 1, 2, 3)
	SELECT count(*) FROM l FULL JOIN earmark.fund_cash k USING (book_id, fund_id, bank_account_id)
	 WHERE l.cash IS DISTINCT FROM k.balance_fen;
	SELECT count(*) FROM (
		SELECT sum(fen) OVER (PARTITION BY book_id, fund_id, bank_account_id ORDER BY day) AS cash FROM bl) d
	 WHERE cash < 0;
	SELECT count(*) FROM earmark.fund_cash;
	EOF
	printf "%s\n" 0 0 3 >expected &&
	test_cmp expected actual &&
	test_psql -c "SELECT f.code, k.balance_fen FROM earmark.fund_cash k JOIN earmark.fund f USING (book_id, fund_id) ORDER BY 1" |
		sed "s/^/# cash /"
'

test_expect_success 'voucher numbers are gapless per type and month, and the counters agree (D5)' '
	test_psql >actual <<-\EOF &&
	SELECT count(*) FROM (
		SELECT 1 FROM earmark.voucher WHERE status = '\''posted'\'' GROUP BY book_id, vtype, month
		HAVING min(number) <> 1 OR max(number) <> count(*) OR count(DISTINCT number) <> count(*)) bad;
	SELECT count(*) FROM earmark.voucher_counter c
	  FULL JOIN (SELECT book_id, vtype, month, max(number) AS n FROM earmark.voucher
	              WHERE status = '\''posted'\'' GROUP BY 1, 2, 3) v USING (book_id, vtype, month)
	 WHERE c.last_number IS DISTINCT FROM v.n;
	SELECT count(*) FROM earmark.voucher
	 WHERE status = '\''posted'\'' AND (month <> date_trunc('\''month'\'', voucher_date)
	    OR number_text <> vtype || '\''-'\'' || to_char(month, '\''YYYY-MM'\'') || '\''-'\'' || lpad(number::text, 4, '\''0'\''));
	SELECT count(DISTINCT (vtype, month)) > 3 FROM earmark.voucher WHERE status = '\''posted'\'';
	EOF
	printf "%s\n" 0 0 0 t >expected &&
	test_cmp expected actual
'

test_expect_success 'every reversal mirrors its original line by line, and none is reversed twice (D4)' '
	test_psql >actual <<-\EOF &&
	SELECT count(*) FROM earmark.voucher r
	  JOIN earmark.voucher o ON o.book_id = r.book_id AND o.voucher_id = r.reverses_id
	 WHERE o.status <> '\''posted'\'' OR EXISTS (
		(SELECT line_no, account_id, side, -amount_fen, fund_id, project_id, village_id, household_id, bank_account_id, category_id
		   FROM earmark.line WHERE book_id = o.book_id AND voucher_id = o.voucher_id
		 EXCEPT
		 SELECT line_no, account_id, side, amount_fen, fund_id, project_id, village_id, household_id, bank_account_id, category_id
		   FROM earmark.line WHERE book_id = r.book_id AND voucher_id = r.voucher_id)
		UNION ALL
		(SELECT line_no, account_id, side, amount_fen, fund_id, project_id, village_id, household_id, bank_account_id, category_id
		   FROM earmark.line WHERE book_id = r.book_id AND voucher_id = r.voucher_id
		 EXCEPT
		 SELECT line_no, account_id, side, -amount_fen, fund_id, project_id, village_id, household_id, bank_account_id, category_id
		   FROM earmark.line WHERE book_id = o.book_id AND voucher_id = o.voucher_id));
	SELECT count(*) FROM (SELECT 1 FROM earmark.voucher WHERE reverses_id IS NOT NULL
	                       GROUP BY book_id, reverses_id HAVING count(*) > 1) twice;
	SELECT count(*) FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
	 WHERE l.amount_fen < 0 AND v.reverses_id IS NULL;
	SELECT count(*) > 0 FROM earmark.voucher WHERE reverses_id IS NOT NULL AND status = '\''posted'\'';
	EOF
	printf "%s\n" 0 0 0 t >expected &&
	test_cmp expected actual
'

test_expect_success 'every batch is whole: its payments, both vouchers with the same status, each household once' '
	test_psql >actual <<-\EOF &&
	SELECT count(*) FROM earmark.pay_batch b
	  JOIN earmark.voucher a ON a.book_id = b.book_id AND a.voucher_id = b.payable_voucher_id
	  JOIN earmark.voucher p ON p.book_id = b.book_id AND p.voucher_id = b.payment_voucher_id
	 WHERE a.status <> p.status
	    OR (SELECT count(*) FROM earmark.household_payment h WHERE h.book_id = b.book_id AND h.batch_id = b.batch_id) <> 5
	       AND b.code NOT LIKE '\''DL-%'\''
	    OR (SELECT sum(amount_fen) FROM earmark.household_payment h WHERE h.book_id = b.book_id AND h.batch_id = b.batch_id)
	       <> (SELECT sum(amount_fen) FROM earmark.line l WHERE l.book_id = b.book_id AND l.voucher_id = b.payable_voucher_id AND l.side = '\''D'\'')
	    OR (SELECT sum(amount_fen) FROM earmark.household_payment h WHERE h.book_id = b.book_id AND h.batch_id = b.batch_id)
	       <> (SELECT sum(amount_fen) FROM earmark.line l WHERE l.book_id = b.book_id AND l.voucher_id = b.payment_voucher_id AND l.side = '\''C'\'');
	SELECT count(*) FROM (SELECT 1 FROM earmark.household_payment GROUP BY book_id, household_id, item HAVING count(*) > 1) twice;
	SELECT count(*) FROM earmark.pay_staging;
	SELECT count(*) FROM earmark.household_payment p JOIN earmark.pay_batch b USING (book_id, batch_id)
	 WHERE (p.status = '\''sent'\'') <> (b.exported_at IS NOT NULL);
	EOF
	printf "%s\n" 0 0 0 0 >expected &&
	test_cmp expected actual &&
	for x in client.*/S*.xml; do
		[ -e "$x" ] || continue
		xmllint --noout --schema "$SRCDIR/tests/fixtures/iso20022/pain.001.001.03.xsd" "$x" 2>>xsd.err || exit 1
	done
'

test_expect_success 'the hash chain runs 1 to N without a gap and verifies in C and in SQL (D8)' '
	test_psql -c "SELECT count(*), min(chain_seq), max(chain_seq), count(DISTINCT chain_seq) FROM earmark.voucher WHERE status = '\''posted'\''" \
		-c "SELECT seq FROM earmark.chain_head" >actual &&
	n=$(head -n 1 actual | cut -d"|" -f1) &&
	printf "%s\n" "$n|1|$n|$n" "$n" >expected &&
	test_cmp expected actual &&
	"$EARMARK" "${AUD[@]}" ledger verify-chain >out &&
	head=$(test_psql -c "SELECT encode(hash, '\''hex'\'') FROM earmark.chain_head") &&
	echo "hash chain of book '\''E14'\'' verifies: $n vouchers, head $head" >expected &&
	test_cmp expected out &&
	test_psql -c "SELECT vouchers, encode(head, '\''hex'\''), first_bad IS NULL FROM earmark.verify_chain('\''E14'\'')" >actual &&
	echo "$n|$head|t" >expected &&
	test_cmp expected actual
'

test_expect_success 'the audit packages form a gapless chain and every package written verifies' '
	test_psql >actual <<-\EOF &&
	SELECT count(*) FROM earmark.audit_package p
	  LEFT JOIN earmark.audit_package q ON q.book_id = p.book_id AND q.package_no = p.package_no - 1
	 WHERE p.prev_digest IS DISTINCT FROM q.signature_digest;
	SELECT count(*) = max(package_no) FROM earmark.audit_package;
	EOF
	printf "%s\n" 0 t >expected &&
	test_cmp expected actual &&
	test_psql -c "SELECT encode(signature_digest, '\''hex'\'') FROM earmark.audit_package ORDER BY 1" >recorded &&
	: >written &&
	for p in client.*/p*.asice; do
		[ -e "$p" ] || continue
		"$EARMARK" audit verify "$p" --ca ca.pem >verify.out 2>&1 || { cat verify.out; exit 1; }
		unzip -p "$p" META-INF/signatures001.xml | sha256sum | cut -d" " -f1 >>written
	done &&
	sort written >written.sorted &&
	echo "# $(wc -l <recorded) packages recorded, $(wc -l <written) written" &&
	test_cmp recorded written.sorted
'

test_expect_success 'the trial balance balances and its totals are the lines'\'' sums' '
	"$EARMARK" "${AUD[@]}" report trial-balance --as-of 2026-11-30 --format csv >tb.csv &&
	tr -d "\r" <tb.csv | sed -n "s/^,合计 total,\([^,]*\),\([^,]*\),.*/\1,\2/p" >actual &&
	test_psql >expected <<-\EOF &&
	SELECT to_char(sum(amount_fen) FILTER (WHERE side = '\''D'\'') / 100.0, '\''FM999999999999990.00'\'') || '\'','\'' ||
	       to_char(sum(amount_fen) FILTER (WHERE side = '\''C'\'') / 100.0, '\''FM999999999999990.00'\'')
	  FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
	 WHERE v.status = '\''posted'\'' AND v.voucher_date <= '\''2026-11-30'\'';
	EOF
	test_cmp expected actual
'

# --- two exports at once ------------------------------------------------------

# Two exports wait for the book's audit lock (X1, audit_begin in 0011),
# held here by psql; each began its REPEATABLE READ snapshot before the lock
# was granted, so the second does not see the package the first recorded
# and names the same parent.  audit_record refuses it as a serialization
# failure (0018) and the client runs the whole export again (audit_export.c):
# both are written, one naming the other.
test_expect_success 'two audit exports at once: both written, numbered one after the other (X1)' '
	rm -f locked &&
	{ test_psql >gate.out 2>&1 <<-\EOF &
	BEGIN;
	SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('\''earmark.audit_package'\''), earmark.book_of('\''E14'\''));
	\! touch locked
	DO $$
	BEGIN
		FOR i IN 1..600 LOOP
			EXIT WHEN (SELECT count(*) FROM pg_catalog.pg_locks WHERE locktype = '\''advisory'\'' AND NOT granted) >= 2;
			PERFORM pg_catalog.pg_sleep(0.05);
		END LOOP;
	END
	$$;
	COMMIT;
	EOF
	} &&
	gate=$! &&
	wait_for locked &&
	{ "$EARMARK" "${AUD[@]}" audit export --from 2026-01-01 --to 2026-11-30 --key signer.key \
		--cert signer.pem -o x1.asice >x1.out 2>x1.err & } && a=$! &&
	{ "$EARMARK" "${AUD[@]}" audit export --from 2026-01-01 --to 2026-11-30 --key signer.key \
		--cert signer.pem -o x2.asice >x2.out 2>x2.err & } && b=$! &&
	wait "$gate" &&
	ra=0 && rb=0 && { wait "$a" || ra=$?; } && { wait "$b" || rb=$?; } &&
	cat x1.err x2.err &&
	test "$ra$rb" = 00 &&
	"$EARMARK" audit verify x1.asice --ca ca.pem >v1.out &&
	"$EARMARK" audit verify x2.asice --ca ca.pem >v2.out &&
	test_psql -A -t -c "SELECT count(*) FROM earmark.audit_package p JOIN earmark.audit_package q
	                     ON q.book_id = p.book_id AND q.package_no = p.package_no + 1
	                    AND q.prev_digest = p.signature_digest
	                    WHERE p.book_id = earmark.book_of('\''E14'\'')
	                      AND q.package_no = (SELECT max(package_no) FROM earmark.audit_package)" >linked &&
	echo 1 >expected &&
	test_cmp expected linked
'

# Two clerks reverse one voucher at the same moment: the first's reversal
# is held uncommitted by psql while the second's command runs; both passed
# the D4 check, and the second's INSERT waits on the unique index, then met
# it as a raw constraint error.  It is D4's own refusal (0018).
test_expect_success 'two reversals of one voucher at once: the second is refused by D4, not by a constraint' '
	num=$(test_psql -c "SELECT v.number_text FROM earmark.voucher v
		 WHERE v.status = '\''posted'\'' AND v.reverses_id IS NULL AND v.chain_seq > 3
		   AND NOT EXISTS (SELECT 1 FROM earmark.voucher r WHERE r.book_id = v.book_id AND r.reverses_id = v.voucher_id)
		   AND NOT EXISTS (SELECT 1 FROM earmark.pay_batch b WHERE b.book_id = v.book_id
		                    AND v.voucher_id IN (b.payable_voucher_id, b.payment_voucher_id))
		 ORDER BY v.chain_seq LIMIT 1") &&
	test -n "$num" &&
	rm -f held &&
	{ test_psql >holder.out 2>&1 <<-EOF &
	BEGIN;
	SET ROLE e14_clerk_1;
	SELECT earmark.voucher_reverse('\''$BOOK'\'', '\''$num'\'', CURRENT_DATE, NULL);
	\\! touch held
	SELECT pg_catalog.pg_sleep(2);
	COMMIT;
	EOF
	} &&
	holder=$! &&
	wait_for held &&
	test_expect_code 1 "$EARMARK" --user e14_clerk_2 --book "$BOOK" voucher reverse "$num" >out 2>err &&
	wait "$holder" &&
	cat err &&
	grep "^earmark: error: voucher $num is already reversed (D4)\$" err &&
	test_psql -c "SELECT count(*) FROM earmark.voucher r JOIN earmark.voucher v
	              ON v.book_id = r.book_id AND v.voucher_id = r.reverses_id WHERE v.number_text = '\''$num'\''" >n &&
	echo 1 >expected &&
	test_cmp expected n
'

test_done
