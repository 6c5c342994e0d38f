#!/usr/bin/env bash
# Crashes (issue 8, item 3): CRASH_ROUNDS rounds (default 6 in `make
# check`, 20 in `make stress`), each killing with SIGKILL, at a random
# moment, either the earmark client or the whole PostgreSQL server while a
# household batch goes through (pay batch with an idempotency key, pay
# review, pay post) or while an audit package is written (audit export).
# Rounds take turns: batch/client, batch/server, export/client,
# export/server.  The moment is drawn from 0 to the time the same work took
# uninterrupted in the setup.
#
# After each round (the server started again, which recovers from its
# WAL): the batch is there whole (every payment, both vouchers, in the same
# state) or not at all; running it again with the same key finishes it and
# it exists exactly once (D9), and a further retry changes nothing; no file
# is at the package's path unless it is a complete package that verifies;
# nothing half-written left in a temporary folder passes audit verify; a
# new export after the crash verifies and follows the last recorded package
# (X1); and the books hold: every voucher balanced in total and per fund
# (D1, D2), kept balances equal to the lines, numbers gapless (D5), the hash
# chain gapless and verified by earmark in C (D8).  A client that loses its
# server says so and exits 1; it never crashes.
#
# Audit export commits its record, then renames the package into place
# (reports/audit_export.c): a package at its path that the book has not
# recorded fails the round.  A kill between writing the package and the
# rename leaves a complete package.asice in the temporary folder, recorded
# or not (killed before or after COMMIT); that is noted, not failed: it is
# not at the path the auditor was given.
#
# The server is killed, so this script runs a cluster of its own (earmark
# db start under a home of its own), never the one tests/run-all shares.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/fixtures/audit/lib.sh"

FIX=$SRCDIR/tests/fixtures/e2e/disburse
BOOK=E16
ROUNDS=${CRASH_ROUNDS:-6}
PER_BATCH=${CRASH_BATCH:-100}       # households in a batch
CLERK=(--user e16_clerk --book "$BOOK")
REV=(--user e16_rev --book "$BOOK")
BK=(--user e16_bk --book "$BOOK")
AUD=(--user e16_aud --book "$BOOK")

# The cluster of this script: short path, as the socket's must be short.
HOME16=$(mktemp -d "${TMPDIR:-/tmp}/em16.XXXXXX") || { echo "Bail out! mktemp failed"; exit 1; }
export EARMARK_HOME=$HOME16 PGHOST=$HOME16/var/run PGPORT=5432 PGUSER=postgres PGDATABASE=earmark
unset PGHOSTADDR PGSERVICE PGOPTIONS

# kill_server: SIGKILL to the postmaster and every process it started, as a
# power cut would stop them.  The postmaster is stopped first, so that it
# forks nothing more while its children are listed; then all are killed by
# their pids and waited for.
kill_server() {
	local pm kids p
	pm=$(head -n 1 "$HOME16/var/pg/postmaster.pid" 2>/dev/null) || return 0
	[[ $pm =~ ^[0-9]+$ ]] && kill -0 "$pm" 2>/dev/null || return 0
	kill -STOP "$pm"
	kids=$(ps -o pid= --ppid "$pm")
	# shellcheck disable=SC2086 # one pid a word
	kill -KILL "$pm" $kids 2>/dev/null
	for p in $pm $kids; do
		for _ in $(seq 200); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.05
		done
	done
}

cleanup16() {
	"$EARMARK" db stop >/dev/null 2>&1 || kill_server
	kill_server
	rm -rf "$HOME16"
}
trap cleanup16 EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# kill_client PID: PID is the subshell running a flow; it is stopped (so it
# starts no next step), then it and the earmark it runs get SIGKILL.
kill_client() {
	local kids
	kill -STOP "$1" 2>/dev/null || return 0
	kids=$(ps -o pid= --ppid "$1")
	# shellcheck disable=SC2086 # one pid a word
	kill -KILL "$1" $kids 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# no_earmark_sessions: up to 60 s for the server to end the sessions of
# killed clients (a backend finishes its statement first).
no_earmark_sessions() {
	local n
	for _ in $(seq 600); do
		n=$(test_psql -c "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = 'earmark'")
		[ "$n" != 0 ] || return 0
		sleep 0.1
	done
	echo "earmark sessions still open: $n" >&2
	return 1
}

# batch_csv R: the households of round R's batch, G(R*PER_BATCH+1) on.
batch_csv() {
	echo "household,amount,project,fund,category,list,item,memo"
	for ((h = $1 * PER_BATCH + 1; h <= ($1 + 1) * PER_BATCH; h++)); do
		printf "G%05d,20.00,P2026-005,ZY2026-01,CY,L2026-CY-01,产业奖补,crash\n" "$h"
	done
}

# flow_batch R: round R's batch through to posted, one earmark at a time.
flow_batch() {
	"$EARMARK" "${CLERK[@]}" pay batch "b$1.csv" --code "C$1" --date 2026-11-20 --key "e16-$1" &&
	"$EARMARK" "${REV[@]}" pay review "C$1" &&
	"$EARMARK" "${BK[@]}" pay post "C$1"
}

# flow_export R: round R's audit package.
flow_export() {
	"$EARMARK" "${AUD[@]}" audit export --from 2026-01-01 --to 2026-11-30 --key signer.key \
		--cert signer.pem -o "p$1.asice"
}

# ms: milliseconds since the epoch.
ms() {
	echo $(($(date +%s%N) / 1000000))
}

# The books as an independent audit sees them: each line a count of
# violations, 0 when all hold.
BOOKS_SQL=$(cat <<'EOF'
SELECT count(*) FROM (SELECT 1 FROM earmark.line GROUP BY book_id, voucher_id
	HAVING sum(CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END) <> 0 OR count(*) < 2) d1;
SELECT count(*) FROM (SELECT 1 FROM earmark.line GROUP BY book_id, voucher_id, fund_id
	HAVING sum(CASE side WHEN 'D' THEN amount_fen ELSE -amount_fen END) <> 0) d2;
WITH l AS (SELECT l.book_id, date_trunc('month', v.voucher_date)::date AS month, l.account_id, l.fund_id,
                  sum(l.amount_fen) FILTER (WHERE l.side = 'D') AS d, sum(l.amount_fen) FILTER (WHERE l.side = 'C') AS c
             FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
            WHERE v.status = 'posted' GROUP BY 1, 2, 3, 4)
SELECT count(*) FROM l FULL JOIN earmark.period_balance k USING (book_id, month, account_id, fund_id)
 WHERE coalesce(l.d, 0) <> coalesce(k.debit_fen, 0) OR coalesce(l.c, 0) <> coalesce(k.credit_fen, 0);
WITH l AS (SELECT l.book_id, v.voucher_date AS day, l.account_id, l.fund_id,
                  sum(l.amount_fen) FILTER (WHERE l.side = 'D') AS d, sum(l.amount_fen) FILTER (WHERE l.side = 'C') AS c
             FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
            WHERE v.status = 'posted' GROUP BY 1, 2, 3, 4)
SELECT count(*) FROM l FULL JOIN earmark.day_balance k USING (book_id, day, account_id, fund_id)
 WHERE coalesce(l.d, 0) <> coalesce(k.debit_fen, 0) OR coalesce(l.c, 0) <> coalesce(k.credit_fen, 0);
WITH l AS (SELECT l.book_id, l.fund_id, l.bank_account_id, sum(CASE l.side WHEN 'D' THEN l.amount_fen ELSE -l.amount_fen END) AS cash
             FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
            WHERE v.status = 'posted' AND l.bank_account_id IS NOT NULL GROUP BY 1, 2, 3)
SELECT count(*) FROM l FULL JOIN earmark.fund_cash k USING (book_id, fund_id, bank_account_id)
 WHERE l.cash IS DISTINCT FROM k.balance_fen OR k.balance_fen < 0;
SELECT count(*) FROM (SELECT 1 FROM earmark.voucher WHERE status = 'posted' GROUP BY book_id, vtype, month
	HAVING min(number) <> 1 OR max(number) <> count(*)) d5;
SELECT count(*) FROM earmark.voucher_counter c
  FULL JOIN (SELECT book_id, vtype, month, max(number) AS n FROM earmark.voucher
              WHERE status = 'posted' GROUP BY 1, 2, 3) v USING (book_id, vtype, month)
 WHERE c.last_number IS DISTINCT FROM v.n;
SELECT ((SELECT count(*) FROM earmark.voucher WHERE status = 'posted') <> h.seq
     OR (SELECT count(DISTINCT chain_seq) FROM earmark.voucher WHERE chain_seq BETWEEN 1 AND h.seq) <> h.seq)::int
  FROM earmark.chain_head h;
SELECT count(*) FROM earmark.pay_staging;
EOF
)

# books_hold: BOOKS_SQL finds nothing and earmark recomputes the chain.
books_hold() {
	test_psql <<<"$BOOKS_SQL" >books.actual &&
	printf "%s\n" 0 0 0 0 0 0 0 0 0 >books.expected &&
	test_cmp books.expected books.actual &&
	"$EARMARK" "${AUD[@]}" ledger verify-chain >chain.out &&
	grep "^hash chain of book 'E16' verifies: " chain.out
}

# batch_state R: "absent", or "whole <status>" when batch C<R> has its
# PER_BATCH payments, each of its households once, and both vouchers, in
# the same status, carrying their sums; else "broken ...".
batch_state() {
	test_psql -v code="C$1" -v n="$PER_BATCH" <<-\EOF
	SELECT CASE
	  WHEN b.batch_id IS NULL THEN 'absent'
	  WHEN a.status = p.status
	   AND (SELECT count(*) FROM earmark.household_payment h WHERE h.book_id = b.book_id AND h.batch_id = b.batch_id) = :n
	   AND (SELECT sum(amount_fen) FROM earmark.line l WHERE l.book_id = b.book_id AND l.voucher_id = a.voucher_id AND l.side = 'D') = 2000 * :n
	   AND (SELECT sum(amount_fen) FROM earmark.line l WHERE l.book_id = b.book_id AND l.voucher_id = p.voucher_id AND l.side = 'C') = 2000 * :n
	  THEN 'whole ' || a.status
	  ELSE 'broken ' || coalesce(a.status, '-') || ' ' || coalesce(p.status, '-') END
	  FROM (SELECT 1) one
	  LEFT JOIN earmark.pay_batch b ON b.code = :'code'
	  LEFT JOIN earmark.voucher a ON a.book_id = b.book_id AND a.voucher_id = b.payable_voucher_id
	  LEFT JOIN earmark.voucher p ON p.book_id = b.book_id AND p.voucher_id = b.payment_voucher_id;
	EOF
}

test_expect_success "setup: a cluster of its own, book $BOOK, $((ROUNDS + 1)) x $PER_BATCH households on a published list, a CA and a signer" '
	"$EARMARK" db start >/dev/null &&
	"$EARMARK" db init >/dev/null &&
	"$EARMARK" user add e16_admin --role admin >/dev/null &&
	"$EARMARK" user add e16_clerk --role clerk >/dev/null &&
	"$EARMARK" user add e16_rev --role reviewer >/dev/null &&
	"$EARMARK" user add e16_bk --role bookkeeper >/dev/null &&
	"$EARMARK" user add e16_aud --role auditor >/dev/null &&
	"$EARMARK" --user e16_admin --book "$BOOK" book create "$BOOK" --name "e2e 断电测试" --start 2026-01-01 \
		--accounts "$SRCDIR/config/accounts.csv" >/dev/null &&
	for kind in category bank_account fund village project project_budget project_target project_event; do
		"$EARMARK" --user e16_admin --book "$BOOK" master import $kind "$FIX/$kind.csv" >/dev/null || exit 1
	done &&
	printf "%s\n" project,kind,date,progress,doc_no,note P2026-005,start,2026-06-05,,,开工 \
		P2026-005,inspection,2026-10-20,100,平乡振验〔2026〕30号, \
		P2026-005,acceptance,2026-10-25,,平乡振验〔2026〕31号, >events.csv &&
	"$EARMARK" --user e16_admin --book "$BOOK" master import project_event events.csv >/dev/null &&
	awk -v n=$(((ROUNDS + 1) * PER_BATCH)) '\''BEGIN {
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
	"$EARMARK" --user e16_admin --book "$BOOK" master import household households.csv >/dev/null &&
	"$EARMARK" "${CLERK[@]}" list create L2026-CY-01 list.csv --project P2026-005 --title "产业奖补到户名单" >/dev/null &&
	"$EARMARK" --user e16_admin --book "$BOOK" list publish L2026-CY-01 --from 2026-11-01 --days 10 >/dev/null &&
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/receive_zy.csv" --date 2026-03-02 >ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" >/dev/null &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat ref)" >/dev/null &&
	make_ca ca && make_signer signer ca &&
	books_hold
'

test_expect_success 'uninterrupted, a batch and an audit package take this long (the range of the kill)' '
	batch_csv 0 >b0.csv &&
	t0=$(ms) && flow_batch 0 >flow.out && t1=$(ms) &&
	flow_export 0 >flow.out && t2=$(ms) &&
	echo $((t1 - t0)) >batch.ms && echo $((t2 - t1)) >export.ms &&
	echo "# batch $(cat batch.ms) ms, export $(cat export.ms) ms" &&
	test "$(batch_state 0)" = "whole posted" &&
	"$EARMARK" audit verify p0.asice --ca ca.pem >/dev/null
'

# round R WHAT VICTIM: one crash.  Runs in the step: starts the flow in the
# background, kills VICTIM at a random moment, starts the server again when
# it was the one killed, and leaves the flow's exit status in flow.rc.
crash() {
	local r=$1 what=$2 victim=$3 span delay fpid rc=0
	span=$(cat "$what.ms")
	delay=$((RANDOM * (span + span / 4) / 32768))
	echo "# round $r: $what, $victim killed after $delay ms of about $span"
	rm -f "p$r.asice"
	(
		"flow_$what" "$r"
	) >flow.out 2>flow.err &
	fpid=$!
	sleep "$(printf "%d.%03d" $((delay / 1000)) $((delay % 1000)))"
	if [ "$victim" = client ]; then
		kill_client "$fpid"
		echo killed >flow.rc
	else
		kill_server
		wait "$fpid" || rc=$?
		echo "$rc" >flow.rc
		"$EARMARK" db start >/dev/null
	fi &&
	no_earmark_sessions &&
	echo "# flow: exit $(cat flow.rc); $(head -n 1 flow.err)"
}

# A client whose server died mid-command: exit 0 (it finished first) or 1
# with earmark's own error, never a crash (a signal, a sanitizer's 134).
client_clean() {
	case $(cat flow.rc) in
	killed | 0) return 0 ;;
	1) grep -q "^earmark: error: " flow.err ;;
	*) echo "client exit $(cat flow.rc)" >&2; cat flow.err >&2; return 1 ;;
	esac
}

for r in $(seq 1 "$ROUNDS"); do
	case $(((r - 1) % 4)) in
	0) what=batch victim=client ;;
	1) what=batch victim=server ;;
	2) what=export victim=client ;;
	3) what=export victim=server ;;
	esac
	if [ "$what" = batch ]; then
		test_expect_success "round $r: $victim killed inside a batch; it is whole or absent, a retry with its key finishes it once, the books hold" '
			batch_csv $r >b$r.csv &&
			crash $r batch $victim &&
			client_clean &&
			state=$(batch_state $r) &&
			echo "# after the crash: $state" &&
			case $state in absent | "whole draft" | "whole reviewed" | "whole posted") ;; *) exit 1 ;; esac &&
			books_hold &&
			"$EARMARK" "${CLERK[@]}" pay batch "b$r.csv" --code "C$r" --date 2026-11-20 --key "e16-$r" >retry.out &&
			echo "batch '\''C$r'\'': $PER_BATCH household payments prepared as two drafts; review and post them with earmark pay review / pay post" >expected &&
			test_cmp expected retry.out &&
			if [ "$(batch_state $r)" = "whole draft" ]; then "$EARMARK" "${REV[@]}" pay review "C$r" >/dev/null; fi &&
			if [ "$(batch_state $r)" = "whole reviewed" ]; then "$EARMARK" "${BK[@]}" pay post "C$r" >/dev/null; fi &&
			test "$(batch_state $r)" = "whole posted" &&
			"$EARMARK" "${CLERK[@]}" pay batch "b$r.csv" --code "C$r" --date 2026-11-20 --key "e16-$r" >retry.out &&
			test_cmp expected retry.out &&
			test_psql -c "SELECT count(*), count(DISTINCT v.chain_seq) FROM earmark.pay_batch b
				JOIN earmark.voucher v ON v.book_id = b.book_id AND v.voucher_id IN (b.payable_voucher_id, b.payment_voucher_id)
				WHERE b.idem_key = '\''e16-$r'\'' AND v.status = '\''posted'\''" >actual &&
			echo "2|2" >expected &&
			test_cmp expected actual &&
			books_hold
		'
	else
		test_expect_success "round $r: $victim killed inside an audit export; no half-written package looks complete, a new export follows the last, the books hold" '
			crash $r export $victim &&
			client_clean &&
			if [ -e p$r.asice ]; then
				"$EARMARK" audit verify p$r.asice --ca ca.pem >verify.out &&
				d=$(unzip -p p$r.asice META-INF/signatures001.xml | sha256sum | cut -d" " -f1) &&
				n=$(test_psql -c "SELECT count(*) FROM earmark.audit_package WHERE signature_digest = decode('\''$d'\'', '\''hex'\'')") &&
				case $n in
				1) echo "# p$r.asice is complete and recorded" ;;
				*) echo "p$r.asice is at its path but the book has not recorded it" >&2; false ;;
				esac
			fi &&
			for f in $(find . -path "./p$r.asice.tmp*" -type f); do
				if "$EARMARK" audit verify "$f" --ca ca.pem >verify.out 2>&1; then
					test "$(basename "$f")" = package.asice &&
					echo "# NOTE $f is a complete package left in the temporary folder: killed before its rename"
				else
					echo "# left in a temporary folder, refused by audit verify: $f"
				fi || exit 1
			done &&
			books_hold &&
			flow_export "$r-again" >again.out &&
			"$EARMARK" audit verify "p$r-again.asice" --ca ca.pem >/dev/null &&
			d=$(unzip -p "p$r-again.asice" META-INF/signatures001.xml | sha256sum | cut -d" " -f1) &&
			test_psql >actual <<-EOF &&
			SELECT p.package_no = (SELECT max(package_no) FROM earmark.audit_package),
			       p.prev_digest = q.signature_digest
			  FROM earmark.audit_package p
			  JOIN earmark.audit_package q ON q.book_id = p.book_id AND q.package_no = p.package_no - 1
			 WHERE p.signature_digest = decode('\''$d'\'', '\''hex'\'');
			EOF
			echo "t|t" >expected &&
			test_cmp expected actual
		'
	fi
done

test_expect_success 'after every round: each batch once and posted, the packages a gapless chain, the books hold' '
	test_psql >actual <<-EOF &&
	SELECT count(*), count(*) FILTER (WHERE a.status = '\''posted'\'' AND p.status = '\''posted'\'')
	  FROM earmark.pay_batch b
	  JOIN earmark.voucher a ON a.book_id = b.book_id AND a.voucher_id = b.payable_voucher_id
	  JOIN earmark.voucher p ON p.book_id = b.book_id AND p.voucher_id = b.payment_voucher_id;
	SELECT count(*), count(DISTINCT household_id) FROM earmark.household_payment;
	SELECT count(*) FROM earmark.audit_package p
	  LEFT JOIN earmark.audit_package q ON q.book_id = p.book_id AND q.package_no = p.package_no - 1
	 WHERE p.prev_digest IS DISTINCT FROM q.signature_digest;
	EOF
	nb=$(ls b*.csv | wc -l) &&
	printf "%s\n" "$nb|$nb" "$((nb * PER_BATCH))|$((nb * PER_BATCH))" 0 >expected &&
	test_cmp expected actual &&
	books_hold
'

# server_tunables: the GLIBC_TUNABLES the running postmaster was started with.
server_tunables() {
	tr "\0" "\n" <"/proc/$(head -n 1 "$HOME16/var/pg/postmaster.pid")/environ" | grep "^GLIBC_TUNABLES=" || true
}

# ledger/pgctl.c: the server asks for transparent huge pages for its own
# memory (glibc.malloc.hugetlb), unless whoever starts it set tunables.
test_expect_success 'db start gives the server glibc.malloc.hugetlb=1, and keeps tunables the caller set' '
	"$EARMARK" db stop >/dev/null &&
	env -u GLIBC_TUNABLES "$EARMARK" db start >/dev/null &&
	server_tunables >actual &&
	echo "GLIBC_TUNABLES=glibc.malloc.hugetlb=1" >expected &&
	test_cmp expected actual &&
	"$EARMARK" db stop >/dev/null &&
	GLIBC_TUNABLES=glibc.malloc.hugetlb=0 "$EARMARK" db start >/dev/null &&
	server_tunables >actual &&
	echo "GLIBC_TUNABLES=glibc.malloc.hugetlb=0" >expected &&
	test_cmp expected actual &&
	test_psql -c "SELECT 1" >/dev/null
'

test_done
