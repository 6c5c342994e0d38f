#!/usr/bin/env bash
# The public notice board (earmark serve, DESIGN section 7): published
# notices for anyone, on a role that reads them and nothing else.
#
# The board runs on loopback on a free port for the whole script and is
# stopped by a trap however the script ends.  Headless Chromium opens a
# village notice, saves a screenshot and dumps the rendered DOM: the project
# name, the amounts and the masked names are there, no ID number, bank card
# or phone.  The PDF and XML the board serves are checked with pdftotext
# and the XSD; the check page accepts a published digest and refuses a
# changed one.  Bad requests, each refused without harm: "..", encoded
# traversal, an overlong URL, overlong headers, a body, unknown digests.
# The board refuses to start on a role that is more than public, hides
# database errors from the client (logging them), and keeps answering while
# the ledger is written and after its database sessions are killed.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

export LSAN_OPTIONS="suppressions=$SRCDIR/tests/fixtures/notices/lsan.supp:print_suppressions=0"

FIX=$SRCDIR/tests/fixtures/notices
XSD=$SRCDIR/reports/schemas/notice.xsd
BOOK=E51
ADMIN=(--user e51_admin --book "$BOOK")
CLERK=(--user e51_clerk --book "$BOOK")
REV=(--user e51_rev --book "$BOOK")
BK=(--user e51_bk --book "$BOOK")

cut -d, -f4,6,8 "$FIX/household.csv" | tail -n +2 | tr ',' '\n' | grep -v '^$' >secrets

test_expect_success 'setup: people, book E51, master data, the village notice of 王家村 published' '
	"$EARMARK" user add e51_admin --role admin &&
	"$EARMARK" user add e51_clerk --role clerk &&
	"$EARMARK" user add e51_rev --role reviewer &&
	"$EARMARK" user add e51_bk --role bookkeeper &&
	"$EARMARK" user add e51_board --role public &&
	"$EARMARK" "${ADMIN[@]}" book create "$BOOK" --name "平安县财政衔接推进乡村振兴补助资金" \
		--start 2026-01-01 --accounts "$SRCDIR/config/accounts.csv" &&
	for kind in category bank_account fund village household project project_budget \
		    project_target project_event; do
		"$EARMARK" "${ADMIN[@]}" master import $kind "$FIX/$kind.csv" || exit 1
	done &&
	"$EARMARK" "${CLERK[@]}" list create L2026-WF-01 "$FIX/list_wf.csv" --project P2026-003 \
		--title "2026年农村危房改造补助对象公示" &&
	"$EARMARK" "${ADMIN[@]}" notice contact --publisher 平安县乡村振兴局 --hotline 0916-1234567 &&
	"$EARMARK" "${ADMIN[@]}" notice publish --village 610826101201 --kind plan --from 2026-11-02 >out &&
	sed -n "s/.*digest \([0-9a-f]\{64\}\)$/\1/p" out >digest &&
	test -s digest
'

test_expect_success 'serve refuses a role that is more than public, and a bad --listen' '
	test_expect_code 1 "$EARMARK" --user e51_admin serve --listen 127.0.0.1:1 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: role '\''e51_admin'\'' may not run the public board
	detail: the board'\''s role is a member of earmark_public and of no other earmark role; it is a member of earmark_admin
	hint: create one: earmark user add board --role public; then earmark --user board serve
	EOF
	test_cmp expected err &&
	test_expect_code 2 "$EARMARK" --user e51_board serve --listen 127.0.0.1:http 2>err &&
	grep "^earmark: error: cannot listen on '\''127.0.0.1:http'\''" err
'

# The board, for the rest of the script: a free port, stopped by the trap.
BOARD_PID=
stop_board() {
	if [ -n "$BOARD_PID" ]; then
		kill -TERM "$BOARD_PID" 2>/dev/null
		wait "$BOARD_PID" 2>/dev/null
		echo $? >"$TEST_TMP/board.rc"
		BOARD_PID=
	fi
}
trap stop_board EXIT
for try in 1 2 3 4 5; do
	PORT=$((20000 + RANDOM % 30000))
	"$EARMARK" --user e51_board serve --listen "127.0.0.1:$PORT" >board.out 2>board.err &
	BOARD_PID=$!
	for _ in $(seq 1 50); do
		grep -q "^public notice board on" board.out 2>/dev/null && break
		kill -0 "$BOARD_PID" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "^public notice board on" board.out 2>/dev/null && break
	wait "$BOARD_PID" 2>/dev/null
	BOARD_PID=
done
URL=http://127.0.0.1:$PORT

# get PATH [curl options]: status code on stdout, body in body, headers in headers.
get() {
	local path=$1
	shift
	curl -s -g --path-as-is --max-time 30 -o body -D headers -w "%{http_code}\n" "$@" "$URL$path"
}

test_expect_success 'the board listens on loopback' '
	test -n "$BOARD_PID" &&
	echo "public notice board on $URL/ (stop with Ctrl-C)" >expected &&
	test_cmp expected board.out
'

test_expect_success 'the index lists the notice by township and village, with a Content-Security-Policy' '
	get / >code && echo 200 >expected && test_cmp expected code &&
	grep "<h2>城关镇</h2>" body && grep "<h3>王家村</h3>" body &&
	grep -F "/notice/$(cat digest).html" body &&
	grep -F "/notice/$(cat digest).pdf" body &&
	grep -F "/notice/$(cat digest).xml" body &&
	grep -i "^Content-Security-Policy: default-src '\''none'\''; .*frame-ancestors '\''none'\''" headers &&
	grep -i "^X-Content-Type-Options: nosniff" headers
'

test_expect_success 'headless Chromium renders the village notice: project, amounts, masked names, no personal data' '
	timeout 90 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
		--no-first-run --user-data-dir="$TEST_TMP/chromium" --window-size=1240,1754 \
		--screenshot="$TEST_TMP/notice.png" --dump-dom "$URL/notice/$(cat digest).html" >dom.html 2>chromium.err &&
	test -s notice.png && test "$(head -c 4 notice.png | tail -c 3)" = PNG &&
	for text in 王家村财政衔接资金项目计划及受益对象公示 王家村产业路硬化 农村危房改造 1,000,000.00 \
		    200,000.00 40,000.00 15,000.00 58,000.00 王*国 王*英 12317 0916-1234567 "$(cat digest)"; do
		grep -F -q "$text" dom.html || { echo "the rendered page lacks $text"; exit 1; }
	done &&
	! grep -F -f secrets dom.html &&
	! grep -F -e 王建国 -e 王秀英 dom.html
'

test_expect_success 'the PDF from the board (A4, or A3 when asked) has the fields in Chinese; its XML validates' '
	get "/notice/$(cat digest).pdf" >code && echo 200 >expected && test_cmp expected code &&
	grep -i "^Content-Type: application/pdf" headers &&
	mv body n.pdf && pdftotext n.pdf n.txt &&
	for field in 公告类型 事前公示 王家村产业路硬化 建设地点 补助标准 资金来源及金额 实施单位 责任人 \
		     绩效目标 受益对象 王*国 联农带农机制 完成情况 公示期 12317 公示单位 公示日期 公告校验码; do
		grep -F -q "$field" n.txt || { echo "PDF lacks $field"; exit 1; }
	done &&
	! grep -F -f secrets n.txt &&
	pdfinfo n.pdf >info && grep "^Page size:.*(A4)" info &&
	get "/notice/$(cat digest).pdf?paper=A3" >code && test_cmp expected code &&
	mv body n3.pdf && pdfinfo n3.pdf >info && grep "^Page size:.*(A3)" info &&
	get "/notice/$(cat digest).xml" >code && test_cmp expected code &&
	mv body n.xml && xmllint --noout --nonet --schema "$XSD" n.xml &&
	get "/notice/$(cat digest).txt" >code && test_cmp expected code &&
	grep "公告类型：事前公示" body
'

test_expect_success 'the check page accepts the published digest, typed with capitals and spaces too' '
	get "/check?d=$(cat digest)" >code && echo 200 >expected && test_cmp expected code &&
	grep "核验通过" body && grep -F "王家村财政衔接资金项目计划及受益对象公示" body &&
	d=$(cat digest) &&
	get "/check?d=%20$(echo "${d:0:32}" | tr a-f A-F)%20${d:32}" >code && test_cmp expected code &&
	grep "核验通过" body
'

test_expect_success 'the check page refuses a changed digest, and one that is no digest' '
	d=$(cat digest) &&
	last=${d:63} && if [ "$last" = 0 ]; then new=1; else new=0; fi &&
	get "/check?d=${d:0:63}$new" >code && echo 404 >expected && test_cmp expected code &&
	grep "未通过核验" body && ! grep "核验通过" body &&
	get "/check?d=xyz" >code && echo 400 >expected && test_cmp expected code &&
	grep "校验码格式不对" body &&
	get "/check" >code && echo 200 >expected && test_cmp expected code &&
	grep "<form" body
'

test_expect_success 'an unknown digest is 404, a notice path that is no digest is 400' '
	get "/notice/$(printf "%064d" 0).html" >code && echo 404 >expected && test_cmp expected code &&
	get "/notice/$(cat digest).exe" >code && test_cmp expected code &&
	get "/notice/ABC.html" >code && echo 400 >expected && test_cmp expected code
'

test_expect_success 'path traversal is refused: "..", encoded, backslash, double slash' '
	echo 400 >expected &&
	for p in "/notice/../../etc/passwd" "/../etc/passwd" "/notice/%2e%2e/%2e%2e/etc/passwd" \
		 "/%2E%2E/%2E%2E/etc/passwd" "/notice/..%2fetc%2fpasswd" "/notice/%252e%252e/x" \
		 "/notice\\..\\x" "//etc/passwd"; do
		get "$p" >code && test_cmp expected code || { echo "not refused: $p"; exit 1; }
		! grep "root:" body || exit 1
	done
'

test_expect_success 'overlong URLs and headers, bodies and other methods are refused' '
	get "/notice/$(head -c 3000 /dev/zero | tr "\0" a)" >code && echo 414 >expected && test_cmp expected code &&
	get "/?q=$(head -c 40000 /dev/zero | tr "\0" a)" >code && grep -x "414\|431" code &&
	get / -H "X-Big: $(head -c 20000 /dev/zero | tr "\0" a)" >code && echo 431 >expected && test_cmp expected code &&
	get / -X POST --data x=1 >code && echo 405 >expected && test_cmp expected code &&
	get / -X DELETE >code && test_cmp expected code &&
	get / -X GET --data-binary x=1 >code && echo 413 >expected && test_cmp expected code &&
	get / >code && echo 200 >expected && test_cmp expected code
'

test_expect_success 'database errors are logged for the operator and never shown to the client' '
	test_psql -c "REVOKE SELECT ON earmark.public_notice FROM earmark_public" &&
	get / >code &&
	test_psql -c "GRANT SELECT ON earmark.public_notice TO earmark_public" &&
	echo 503 >expected && test_cmp expected code &&
	grep "暂时无法访问" body &&
	! grep -i -e "permission" -e "public_notice" -e "earmark\." body &&
	grep "^earmark serve: index: permission denied for view public_notice" board.err &&
	get / >code && echo 200 >expected && test_cmp expected code
'

test_expect_success 'the board keeps serving while the ledger is written, in parallel, and after its sessions are killed' '
	(
		for i in 1 2 3; do
			id=$("$EARMARK" "${CLERK[@]}" voucher draft "$FIX/receive_zy.csv" --date 2026-03-0$i) &&
			"$EARMARK" "${REV[@]}" voucher review "$id" >/dev/null &&
			"$EARMARK" "${BK[@]}" voucher post "$id" >/dev/null || exit 1
		done
	) >writer.out 2>&1 &
	writer=$! &&
	for i in $(seq 1 20); do
		get "/notice/$(cat digest).html" >code && echo 200 >expected && test_cmp expected code || exit 1
	done &&
	for i in 1 2 3 4 5 6; do
		curl -s -o /dev/null -w "%{http_code}\n" --max-time 60 "$URL/notice/$(cat digest).pdf" >par.$i &
	done &&
	wait $writer &&
	wait &&
	cat par.* >codes && printf "200\n200\n200\n200\n200\n200\n" >expected6 && test_cmp expected6 codes &&
	test "$(test_psql -c "SELECT count(*) FROM earmark.voucher WHERE status = '\''posted'\''")" = 3 &&
	test_psql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '\''e51_board'\''" >/dev/null &&
	get / >code && test_cmp expected code &&
	"$EARMARK" "${ADMIN[@]}" notice publish --project P2026-003 --kind plan --from 2026-11-02 \
		--list L2026-WF-01 >out &&
	sed -n "s/.*digest \([0-9a-f]\{64\}\)$/\1/p" out >digest2 &&
	get / >code && test_cmp expected code &&
	grep -F "/notice/$(cat digest2).html" body &&
	get "/notice/$(cat digest2).txt" >code && test_cmp expected code &&
	grep "账簿哈希链：共 3 张凭证" body
'

stop_board

test_expect_success 'the board stops cleanly on SIGTERM' '
	echo 0 >expected && test_cmp expected board.rc &&
	tail -n 1 board.out >last && echo "board stopped" >expected && test_cmp expected last &&
	! grep -e "AddressSanitizer" -e "LeakSanitizer" -e "runtime error" board.err
'

test_done
