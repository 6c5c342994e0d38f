#!/usr/bin/env bash
# The ledgers and reports (issue 4, part 5): every report in every format
# (table, CSV, JSON, printable HTML), checked against sums computed here
# straight from the posted lines with psql; the JSON parsed, the HTML
# parsed by xmllint's HTML parser without a complaint; -o writes a file
# whole or not at all; a date before the book began is refused by every
# report; the household ledger masks names and ID numbers for the auditor
# (H4); and the exceptions log keeps a refused command, with its rule,
# record, user and time, though the refused transaction was rolled back.
#
# Book E60, from the disbursement fixtures (tests/fixtures/e2e/disburse):
# ZY2026-01 receives 5,000,000.00 on 2026-03-02; project P2026-001 is paid
# 100,000.00 by claim on 2026-07-20; list L2026-WF-01 of P2026-003 is
# published on 2026-11-02 and its four households are paid 110,000.00 by
# batch on 2026-11-12.
# shellcheck disable=SC2016,SC2034,SC2317 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

FIX=$SRCDIR/tests/fixtures/e2e/disburse
BOOK=E60
ADMIN=(--user e60_admin --book "$BOOK")
CLERK=(--user e60_clerk --book "$BOOK")
REV=(--user e60_rev --book "$BOOK")
BK=(--user e60_bk --book "$BOOK")
AUD=(--user e60_aud --book "$BOOK")
DOCS=(--inspection 平乡振验〔2026〕7号 --plan 平乡振用〔2026〕3号 --contract PALQ-2026-015)
REPORTS="trial-balance general-ledger detail-ledger bank-journal fund-statement project-ledger village-register household-ledger idle-funds exceptions"
AS_OF=2026-11-23

# extra options a report needs
needs() {
	case $1 in
	household-ledger) echo "--household H0001" ;;
	esac
}

# Posted lines with what the checks need, for psql.
POSTED="(SELECT l.*, v.voucher_date, a.code AS acode, a.normal_side, a.kind, a.is_bank, a.spend, f.code AS fcode,
                CASE WHEN l.side = 'D' THEN l.amount_fen ELSE -l.amount_fen END AS net
           FROM earmark.line l
           JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
           JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
           JOIN earmark.fund f ON f.book_id = l.book_id AND f.fund_id = l.fund_id
          WHERE v.status = 'posted')"
# fen as the CSV prints it: 1234.56
MONEY="FM999999999999990.00"

test_expect_success 'setup: people, book E60, master data, a receipt, a claim and a household batch, posted' '
	"$EARMARK" user add e60_admin --role admin &&
	"$EARMARK" user add e60_clerk --role clerk &&
	"$EARMARK" user add e60_rev --role reviewer &&
	"$EARMARK" user add e60_bk --role bookkeeper &&
	"$EARMARK" user add e60_aud --role auditor &&
	"$EARMARK" "${ADMIN[@]}" book create "$BOOK" --name "e2e 平安县专项资金" \
		--start 2026-01-01 --accounts "$SRCDIR/config/accounts.csv" &&
	for kind in category bank_account fund village household project project_budget \
		    project_target project_event; do
		"$EARMARK" "${ADMIN[@]}" master import $kind "$FIX/$kind.csv" || exit 1
	done &&
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/receive_zy.csv" --date 2026-03-02 >ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat ref)" &&
	"$EARMARK" "${CLERK[@]}" voucher draft "$SRCDIR/tests/fixtures/reports/receive_xj_markup.csv" --date 2026-04-08 >ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat ref)" &&
	"$EARMARK" "${CLERK[@]}" project claim P2026-001 --fund ZY2026-01 --amount 100,000.00 \
		--date 2026-07-20 "${DOCS[@]}" --receipts 61002611 >out &&
	for ref in $(grep -o "#[0-9]*" out); do
		"$EARMARK" "${REV[@]}" voucher review "$ref" &&
		"$EARMARK" "${BK[@]}" voucher post "$ref" || exit 1
	done &&
	"$EARMARK" "${CLERK[@]}" list create L2026-WF-01 "$FIX/list_wf.csv" --project P2026-003 \
		--title "2026年农村危房改造补助对象公示" &&
	"$EARMARK" "${ADMIN[@]}" list publish L2026-WF-01 --from 2026-11-02 --days 10 &&
	"$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_good.csv" --code B60 --date 2026-11-12 &&
	"$EARMARK" "${REV[@]}" pay review B60 &&
	"$EARMARK" "${BK[@]}" pay post B60 &&
	test "$(test_psql -c "SELECT count(*) FROM earmark.voucher WHERE status = '\''posted'\''")" = 6
'

test_expect_success 'every report in every format: exit 0, nothing on stderr, JSON parses, HTML parses clean' '
	for r in $REPORTS; do
		for f in table csv json html; do
			"$EARMARK" "${BK[@]}" report $r --as-of $AS_OF $(needs $r) --format $f >$r.$f 2>err ||
				{ echo "report $r --format $f failed"; cat err; exit 1; }
			! test -s err || { echo "report $r --format $f wrote to stderr"; cat err; exit 1; }
			test -s $r.$f || { echo "report $r --format $f is empty"; exit 1; }
		done &&
		python3 -m json.tool $r.json >/dev/null || { echo "$r.json does not parse"; exit 1; }
		xmllint --html --noout $r.html 2>lint || exit 1
		! test -s lint || { echo "$r.html:"; cat lint; exit 1; }
		grep -q "<html lang=\"zh-CN\">" $r.html && grep -q "@page { size: A4" $r.html &&
		grep -q "<meta charset=\"utf-8\">" $r.html || { echo "$r.html lacks lang, A4 or charset"; exit 1; }
		! grep -q -i -e "<link" -e "<script" -e "src=" $r.html || { echo "$r.html is not self-contained"; exit 1; }
	done
'

test_expect_success 'the formats agree: the JSON rows are the CSV rows, and the HTML has as many' '
	for r in $REPORTS; do
		python3 - $r <<-\PY || exit 1
		import csv, json, re, sys
		r = sys.argv[1]
		doc = json.load(open(r + ".json"))
		rows = list(csv.reader(open(r + ".csv", newline="", encoding="utf-8")))
		keys = [c["key"] for c in doc["columns"]]
		assert rows[0] == keys, (r, rows[0], keys)
		assert [[row[k] for k in keys] for row in doc["rows"]] == rows[1:], r
		assert doc["report"] == r and doc["book"] == "E60", r
		html = open(r + ".html", encoding="utf-8").read()
		assert html.count("<tr") == len(rows), (r, html.count("<tr"), len(rows))
		PY
	done
'

test_expect_success 'text from the database is escaped: HTML shows markup as text, JSON and CSV keep it whole' '
	"$EARMARK" "${BK[@]}" report detail-ledger --from 2026-04-01 --to 2026-04-30 --fund XJ2026-01 --format html >esc.html &&
	grep -F "<td>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 1,2 县级配套</td>" esc.html &&
	! grep -F "<script>" esc.html &&
	"$EARMARK" "${BK[@]}" report detail-ledger --from 2026-04-01 --to 2026-04-30 --fund XJ2026-01 --format json >esc.json &&
	python3 -c "import json, sys; d = json.load(open(\"esc.json\")); assert sum(r[\"memo\"] == \"<script>alert(\\\"x\\\")</script> & 1,2 县级配套\" for r in d[\"rows\"]) == 2, d[\"rows\"]" &&
	"$EARMARK" "${BK[@]}" report detail-ledger --from 2026-04-01 --to 2026-04-30 --fund XJ2026-01 --format csv >esc.csv &&
	grep -F ",\"<script>alert(\"\"x\"\")</script> & 1,2 县级配套\"," esc.csv
'

test_expect_success 'fund statement: every figure of every fund equals a sum over the lines' '
	"$EARMARK" "${BK[@]}" report fund-statement --as-of $AS_OF --format csv >fs.raw && tr -d "\r" <fs.raw >fs.csv &&
	awk -F, "NR > 1 && \$3 != \"\" { print \$2 \"|\" \$6 \"|\" \$7 \"|\" \$8 \"|\" \$9 }" fs.csv >actual &&
	test_psql >expected <<-EOF &&
	SELECT f.code,
	       to_char(COALESCE((SELECT sum(-p.net) FROM $POSTED p WHERE p.fund_id = f.fund_id AND p.kind = '\''revenue'\''), 0) / 100.0, '\''$MONEY'\''),
	       to_char(COALESCE((SELECT sum(p.net) FROM $POSTED p WHERE p.fund_id = f.fund_id AND p.spend AND p.household_id IS NULL), 0) / 100.0, '\''$MONEY'\''),
	       to_char(COALESCE((SELECT sum(p.net) FROM $POSTED p WHERE p.fund_id = f.fund_id AND p.spend AND p.household_id IS NOT NULL), 0) / 100.0, '\''$MONEY'\''),
	       to_char(COALESCE((SELECT sum(p.net) FROM $POSTED p WHERE p.fund_id = f.fund_id AND p.is_bank), 0) / 100.0, '\''$MONEY'\'')
	  FROM earmark.fund f
	 ORDER BY CASE f.level WHEN '\''central'\'' THEN 1 WHEN '\''province'\'' THEN 2 WHEN '\''city'\'' THEN 3 ELSE 4 END, f.code;
	EOF
	test_cmp expected actual &&
	grep "^中央,ZY2026-01,.*,5000000.00,5000000.00,100000.00,110000.00,4790000.00,4.20%\$" fs.csv &&
	grep "^合计 total,,,,6500000.00,5001000.00,100000.00,110000.00,4791000.00,3.23%\$" fs.csv
'

test_expect_success 'trial balance and general ledger: closing balances equal the lines; the ledger''s totals balance' '
	"$EARMARK" "${BK[@]}" report general-ledger --from 2026-01-01 --to $AS_OF --format csv >gl.raw && tr -d "\r" <gl.raw >gl.csv &&
	awk -F, "NR > 1 && \$4 == \"2026-11\" && \$8 != \"0.00\" { print \$1 \"|\" \$8 }" gl.csv >actual &&
	test_psql >expected <<-EOF &&
	SELECT acode, to_char(sum(CASE normal_side WHEN '\''D'\'' THEN net ELSE -net END) / 100.0, '\''$MONEY'\'')
	  FROM $POSTED p GROUP BY 1 HAVING sum(net) <> 0 ORDER BY 1;
	EOF
	test_cmp expected actual &&
	tail -n 1 gl.csv >actual &&
	test_psql -c "SELECT '\'',合计 total,,,,'\'' || to_char(sum(amount_fen) / 200.0, '\''$MONEY'\'') || '\'','\''
	                     || to_char(sum(amount_fen) / 200.0, '\''$MONEY'\'') || '\'','\'' FROM $POSTED p" >expected &&
	test_cmp expected actual
'

test_expect_success 'general and detail ledger by dimension: a project, a household' '
	"$EARMARK" "${BK[@]}" report general-ledger --from 2026-01-01 --to $AS_OF --project P2026-001 \
		--account 5001 --format csv >gl-p.raw && tr -d "\r" <gl-p.raw >gl-p.csv &&
	grep "^5001,业务活动费用,借,2026-07,0.00,100000.00,0.00,100000.00" gl-p.csv &&
	"$EARMARK" "${BK[@]}" report detail-ledger --from 2026-11-01 --to $AS_OF --household H0005 --format csv >dl-h.raw && tr -d "\r" <dl-h.raw >dl-h.csv &&
	awk -F, "NR > 1 && \$3 != \"\" { n++; s += \$10 } END { print n, s }" dl-h.csv >actual &&
	test_psql -c "SELECT count(*) || '\'' '\'' || (sum(amount_fen) / 100)::bigint FROM $POSTED p JOIN earmark.household h
	               ON h.book_id = p.book_id AND h.household_id = p.household_id WHERE h.code = '\''H0005'\''" >expected &&
	test_cmp expected actual
'

test_expect_success 'bank journal: the running balance ends at the dedicated account''s cash' '
	"$EARMARK" "${BK[@]}" report bank-journal --from 2026-01-01 --to $AS_OF --bank-account 622848001122334455 \
		--format csv >bj.raw && tr -d "\r" <bj.raw >bj.csv &&
	awk -F, "NR > 1 && \$1 != \"\" { b = \$9 } END { print b }" bj.csv >actual &&
	test_psql -c "SELECT to_char(sum(net) / 100.0, '\''$MONEY'\'') FROM $POSTED p WHERE p.is_bank AND p.fcode IN ('\''ZY2026-01'\'', '\''SJ2026-01'\'')" >expected &&
	test_cmp expected actual
'

test_expect_success 'project ledger and village register: paid equals the spend lines' '
	"$EARMARK" "${BK[@]}" report project-ledger --as-of $AS_OF --format csv >pl.raw && tr -d "\r" <pl.raw >pl.csv &&
	awk -F, "NR > 1 && \$1 != \"\" && \$7 != \"0.00\" { print \$1 \"|\" \$3 \"|\" \$7 }" pl.csv >actual &&
	test_psql >expected <<-EOF &&
	SELECT pr.code, p.fcode, to_char(sum(p.net) / 100.0, '\''$MONEY'\'') FROM $POSTED p
	  JOIN earmark.project pr ON pr.book_id = p.book_id AND pr.project_id = p.project_id
	 WHERE p.spend GROUP BY 1, 2 ORDER BY 1, 2;
	EOF
	test_cmp expected actual &&
	"$EARMARK" "${BK[@]}" report village-register --as-of $AS_OF --format csv >vr.raw && tr -d "\r" <vr.raw >vr.csv &&
	awk -F, "NR > 1 && \$1 != \"\" && \$8 != \"0.00\" { print \$1 \"|\" \$8 }" vr.csv >actual &&
	test_psql >expected <<-EOF &&
	SELECT vg.code, to_char(sum(p.net) / 100.0, '\''$MONEY'\'') FROM $POSTED p
	  JOIN earmark.household h ON h.book_id = p.book_id AND h.household_id = p.household_id
	  JOIN earmark.village vg ON vg.book_id = h.book_id AND vg.village_id = h.village_id
	 WHERE p.spend GROUP BY 1 ORDER BY 1;
	EOF
	test_cmp expected actual
'

test_expect_success 'household ledger: the office sees the name and ID, the auditor sees them masked (H4)' '
	"$EARMARK" "${CLERK[@]}" report household-ledger --household H0001 --as-of $AS_OF --format csv >office.csv &&
	grep "^H0001,王建国,610826196503120214,610826101201,2026-11-12,.*,ZY2026-01,2026,P2026-003,WF,40000.00," office.csv &&
	"$EARMARK" "${AUD[@]}" report household-ledger --household H0001 --as-of $AS_OF --format csv >aud.csv &&
	grep "^H0001,王\*国,610826\*\*\*\*\*\*\*\*0214,610826101201,2026-11-12," aud.csv &&
	! grep -e 王建国 -e 196503120214 aud.csv &&
	"$EARMARK" "${AUD[@]}" report household-ledger --household H0001 --as-of $AS_OF --format html >aud.html &&
	! grep -e 王建国 -e 196503120214 aud.html &&
	test_expect_code 2 "$EARMARK" "${AUD[@]}" report household-ledger --as-of $AS_OF 2>err &&
	grep "earmark: error: report household-ledger needs --household" err
'

test_expect_success 'idle funds (P5): received more than 60 days ago and not spent' '
	"$EARMARK" "${BK[@]}" report idle-funds --as-of $AS_OF --format csv >idle.raw && tr -d "\r" <idle.raw >idle.csv &&
	grep "^idle,ZY2026-01,,2026-03-02,266,4790000.00," idle.csv
'

test_expect_success 'a report for a date before the book began is refused by every report, naming the first day' '
	for r in $REPORTS; do
		test_expect_code 1 "$EARMARK" "${BK[@]}" report $r --as-of 2025-12-31 $(needs $r) >out 2>err || exit 1
		! test -s out || { echo "report $r printed"; exit 1; }
		head -n 2 err >actual &&
		printf "%s\n" "earmark: error: date 2025-12-31 is before the book began" \
			"detail: book '\''E60'\'' starts on 2026-01-01" >expected &&
		test_cmp expected actual || exit 1
	done
'

test_expect_success '-o FILE writes the report whole; a refused report leaves no file' '
	"$EARMARK" "${BK[@]}" report fund-statement --as-of $AS_OF --format html -o fs-out.html >out &&
	! test -s out && test_cmp fund-statement.html fs-out.html &&
	test_expect_code 1 "$EARMARK" "${BK[@]}" report fund-statement --as-of 2025-12-31 -o never.html 2>err &&
	! test -e never.html && ! test -e never.html.tmp &&
	"$EARMARK" "${BK[@]}" report trial-balance --as-of $AS_OF --format json -o tb.json &&
	python3 -m json.tool tb.json >/dev/null
'

test_expect_success 'exceptions: a refused pay batch is logged with rule, record and user, though its transaction rolled back' '
	test_psql -c "SELECT count(*) FROM earmark.pay_batch" >batches-before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_good.csv" --code B60-EARLY --date 2026-11-05 2>err &&
	grep "(H3)" err &&
	test_psql -c "SELECT count(*) FROM earmark.pay_batch" >batches-after &&
	test_cmp batches-before batches-after &&
	test_psql -c "SELECT refused_by, rule, command, record, book FROM earmark.refusal WHERE command = '\''pay batch'\''" >actual &&
	echo "e60_clerk|H3|pay batch|$FIX/batch_good.csv|E60" >expected &&
	test_cmp expected actual &&
	"$EARMARK" "${AUD[@]}" report exceptions --from 2026-01-01 --to $(date +%F) --format csv >exc.raw && tr -d "\r" <exc.raw >exc.csv &&
	grep ",e60_clerk,H3,EMH03,pay batch,$FIX/batch_good.csv," exc.csv &&
	grep ",e60_bk,input,EMI01,report fund-statement,," exc.csv &&
	grep "^$(date +%F),,P5,,report idle-funds,ZY2026-01," exc.csv
'

test_expect_success 'exceptions: a refusal by a role without the job is logged; the logger cannot be misused to hide the error' '
	test_expect_code 1 "$EARMARK" "${AUD[@]}" voucher draft "$FIX/receive_zy.csv" --date 2026-03-02 2>err &&
	grep -E "^earmark: error: (permission denied for function voucher_draft|'\''e60_aud'\'' may not run '\''voucher draft'\'')" err &&
	test "$(test_psql -c "SELECT rule || '\''|'\'' || refused_by FROM earmark.refusal WHERE command = '\''voucher draft'\''")" = "privilege|e60_aud"
'

# The notice board's role (earmark_public) reads published notices only: it
# has no job in the ledger and does not write into the office's log.  Its
# refused command shows the refusal, and only that: no permission error of
# refusal_log on top, neither to the person nor in the server's log.
test_expect_success 'exceptions: the public role'\''s refusal is shown once and not logged, with no error on top' '
	"$EARMARK" user add e60_board --role public >/dev/null &&
	LOG=$EARMARK_HOME/var/log/postgresql.log && test -f "$LOG" &&
	grep -c "permission denied for function refusal_log" "$LOG" >log-before || : &&
	test_psql -c "SELECT count(*) FROM earmark.refusal" >before &&
	test_expect_code 1 "$EARMARK" --user e60_board --book "$BOOK" period close 2026-11 >out 2>err &&
	! test -s out &&
	grep -c "^earmark: error: " err >n && echo 1 >expected && test_cmp expected n &&
	grep -E "^earmark: error: (permission denied for function period_close|'\''e60_board'\'' may not run '\''period close'\'')" err &&
	! grep refusal err &&
	test_psql -c "SELECT count(*) FROM earmark.refusal" >after &&
	test_cmp before after &&
	grep -c "permission denied for function refusal_log" "$LOG" >log-after || : &&
	test_cmp log-before log-after
'

test_done
