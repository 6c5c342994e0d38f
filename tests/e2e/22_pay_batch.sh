#!/usr/bin/env bash
# Households paid in a batch (DESIGN section 5, flow 4): a clerk makes the
# beneficiary list (受益名单), the admin discloses it (公示, H3), a villager
# objects and the admin resolves it; pay batch refuses, all or nothing and
# naming the file and line, a batch paid before the notice period is over,
# with an open objection, to a household outside the project's villages
# (H1), beyond the household cap (H2), in a use the fund does not permit
# (A3), to an unknown household, with a bad amount or a household twice.
# A good batch is reviewed and posted as two vouchers, written by the
# cashier as an ISO 20022 pain.001.001.03 file that the schema accepts,
# whose counts, control sums, end-to-end ids and debtor account agree with
# the database; a payment is then settled.  A retry with the batch's key
# answers the first batch (D9).
#
# At the county's scale (DESIGN section 10): 50,000 generated households
# with valid GB 11643 numbers, imported once, on one list; a batch of
# 50,000 lines with one bad line in the middle is refused whole, that line
# named, nothing written.
#
# Book E22: ZY2026-01 (622848001122334455, permits CY, JC, WF) receives
# 5,000,000.00 on 2026-03-02; P2026-003 农村危房改造 (WF, budget
# 200,000.00 from ZY2026-01) covers villages 610826101201, 610826101202
# and 610826102204 and was approved on 2026-05-20.  List L2026-WF-01 is
# published 2026-11-02 for 10 days: payable from 2026-11-12.  The cap for
# WF is 40,000.00 per household and year (config/household_caps.csv).
# Fixtures in tests/fixtures/e2e/disburse.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

FIX=$SRCDIR/tests/fixtures/e2e/disburse
XSD=$SRCDIR/tests/fixtures/iso20022/pain.001.001.03.xsd
BOOK=E22
ADMIN=(--user e22_admin --book "$BOOK")
CLERK=(--user e22_clerk --book "$BOOK")
REV=(--user e22_rev --book "$BOOK")
BK=(--user e22_bk --book "$BOOK")
CASH=(--user e22_cash --book "$BOOK")
TOMORROW=$(date -d tomorrow +%F)

# Row counts and digests of every table a list or batch step writes;
# pay_staging must be empty after every command, whatever it answered.
SNAPSHOT_SQL=$(cat <<'EOF'
SELECT 'voucher', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.voucher t
UNION ALL SELECT 'line', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.line t
UNION ALL SELECT 'pay_batch', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.pay_batch t
UNION ALL SELECT 'household_payment', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.household_payment t
UNION ALL SELECT 'pay_staging', count(*), '' FROM earmark.pay_staging t
UNION ALL SELECT 'beneficiary_list', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.beneficiary_list t
UNION ALL SELECT 'beneficiary', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.beneficiary t
UNION ALL SELECT 'objection', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.objection t;
EOF
)

# Only counts, for the 50,000-line batch.
COUNT_SQL=$(cat <<'EOF'
SELECT (SELECT count(*) FROM earmark.voucher), (SELECT count(*) FROM earmark.line),
       (SELECT count(*) FROM earmark.pay_batch), (SELECT count(*) FROM earmark.household_payment),
       (SELECT count(*) FROM earmark.pay_staging);
EOF
)

# xp FILE PATH...: the value of /Document/CstmrCdtTrfInitn/PATH in a
# pain.001 file, whatever prefix its namespace has; PATH is element names
# joined by '/', an XPath function such as count may wrap it (xp FILE
# count PmtInf/CdtTrfTxInf).
xp() {
	local file=$1 fn=string path expr='/*[local-name()="Document"]/*[local-name()="CstmrCdtTrfInitn"]' e
	if [ $# -eq 3 ]; then
		fn=$2
	fi
	path=${!#}
	for e in ${path//\// }; do
		expr+="/*[local-name()=\"$e\"]"
	done
	xmllint --xpath "$fn($expr)" "$file"
}

test_expect_success 'setup: people, book E22, master data with project events, funds received' '
	"$EARMARK" user add e22_admin --role admin &&
	"$EARMARK" user add e22_clerk --role clerk &&
	"$EARMARK" user add e22_rev --role reviewer &&
	"$EARMARK" user add e22_bk --role bookkeeper &&
	"$EARMARK" user add e22_cash --role cashier &&
	"$EARMARK" "${ADMIN[@]}" book create "$BOOK" --name "e2e 平安县专项资金" \
		--start 2026-01-01 --accounts "$SRCDIR/config/accounts.csv" &&
	for kind in category bank_account fund village household project project_budget \
		    project_target project_event; do
		"$EARMARK" "${ADMIN[@]}" master import $kind "$FIX/$kind.csv" || exit 1
	done &&
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/receive_zy.csv" --date 2026-03-02 >ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat ref)"
'

# --- beneficiary lists -----------------------------------------------------

test_expect_success 'list create: a list names only households of the project'\''s villages (H1)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" list create L2026-WF-01 "$FIX/list_outside.csv" \
		--project P2026-003 --title "2026年农村危房改造补助对象公示" >out 2>err &&
	cat >expected <<-EOF &&
	earmark: error: 1 of 2 list rows refused; nothing was kept
	detail: 1 problem:
	  $FIX/list_outside.csv:3: household '\''H0003'\'' is not in a village of the list'\''s project (H1)
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'list create: a clerk prepares the list, not yet published' '
	"$EARMARK" "${CLERK[@]}" list create L2026-WF-01 "$FIX/list_wf.csv" --project P2026-003 \
		--title "2026年农村危房改造补助对象公示" >out 2>err &&
	echo "beneficiary list '\''L2026-WF-01'\'' with 5 households, not yet published" >expected &&
	test_cmp expected out &&
	! test -s err &&
	test_psql >actual <<-\EOF &&
	SELECT l.code, p.code, l.title, l.created_by, l.published_on IS NULL FROM earmark.beneficiary_list l
	  JOIN earmark.project p ON p.book_id = l.book_id AND p.project_id = l.project_id;
	SELECT h.code, b.item, b.amount_fen, b.cost_fen, b.standard FROM earmark.beneficiary b
	  JOIN earmark.household h ON h.book_id = b.book_id AND h.household_id = b.household_id
	 ORDER BY h.code, b.item;
	EOF
	cat >expected <<-\EOF &&
	L2026-WF-01|P2026-003|2026年农村危房改造补助对象公示|e22_clerk|t
	H0001|D级危房改造|4000000|5200000|D级每户不超过40000元
	H0001|厨厕改造|300000|350000|每户不超过3000元
	H0002|C级危房加固|1500000|1850000|C级每户不超过15000元
	H0005|D级危房改造|4000000|4730000|D级每户不超过40000元
	H0006|C级危房加固|1500000|1620000|C级每户不超过15000元
	EOF
	test_cmp expected actual
'

test_expect_success 'list create: a list code used twice is refused by name, not by constraint' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" list create L2026-WF-01 "$FIX/list_wf.csv" \
		--project P2026-003 --title "重复" 2>err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after &&
	! grep "violates unique constraint" err &&
	grep "L2026-WF-01" err
'

test_expect_success 'list publish: under 10 days, in the future or by a clerk is refused (H3)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" list publish L2026-WF-01 --from 2026-11-02 --days 7 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: a notice period of 7 days is too short (H3)
	detail: the notice period is at least 10 days
	hint: 公示期不少于10天: publish for 10 days or more
	EOF
	test_cmp expected err &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" list publish L2026-WF-01 --from "$TOMORROW" 2>err &&
	echo "earmark: error: publication date $TOMORROW is in the future" >expected &&
	test_cmp expected err &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" list publish L2026-WF-01 --from 2026-11-02 2>err &&
	grep -x "earmark: error: '\''e22_clerk'\'' may not run '\''list publish'\'': it needs the admin role" err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'list publish: the admin discloses the list; it is payable after 10 days' '
	"$EARMARK" "${ADMIN[@]}" list publish L2026-WF-01 --from 2026-11-02 --days 10 >out &&
	echo "published; households on it may be paid from 2026-11-12" >expected &&
	test_cmp expected out &&
	test_psql -c "SELECT published_on, notice_days, published_by FROM earmark.beneficiary_list" >actual &&
	echo "2026-11-02|10|e22_admin" >expected &&
	test_cmp expected actual
'

test_expect_success 'list object: a villager'\''s objection against H0005 is recorded; others are refused' '
	"$EARMARK" "${CLERK[@]}" list object L2026-WF-01 H0005 --date 2026-11-05 \
		--reason "反映该户房屋已由子女新建" >out &&
	grep -x "objection recorded; the household is not paid until it is resolved (H3): #[1-9][0-9]*" out &&
	sed "s/^.*#//" out >objection.id &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" list object L2026-WF-01 H0003 --date 2026-11-05 \
		--reason "不在名单上" 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: household '\''H0003'\'' is not on list '\''L2026-WF-01'\''
	hint: an objection is raised against a line of a published list
	EOF
	test_cmp expected err &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" list object L2026-WF-01 H0001 --date 2026-11-01 \
		--reason "公示前" 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: objection dated 2026-11-01 is outside the list'\''s publication
	detail: list '\''L2026-WF-01'\'' was published on 2026-11-02
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

# --- pay batch: refusals ---------------------------------------------------

test_expect_success 'pay batch before the notice period is over is refused, each line named (H3)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_good.csv" --code B2026-11-01 \
		--date 2026-11-06 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: payment batch refused: 4 problems; nothing was written
	detail: 4 problems:
	  batch_good.csv:2: the notice period of list '\''L2026-WF-01'\'' has not ended (H3) (payable from 2026-11-12; the payment is dated 2026-11-06)
	  batch_good.csv:3: the notice period of list '\''L2026-WF-01'\'' has not ended (H3) (payable from 2026-11-12; the payment is dated 2026-11-06)
	  batch_good.csv:4: the notice period of list '\''L2026-WF-01'\'' has not ended (H3) (payable from 2026-11-12; the payment is dated 2026-11-06)
	  batch_good.csv:5: the notice period of list '\''L2026-WF-01'\'' has not ended (H3) (payable from 2026-11-12; the payment is dated 2026-11-06)
	hint: 公示无异议后拨付: pay after the notice period
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'pay batch with an open objection is refused, that line named (H3)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_good.csv" --code B2026-11-01 \
		--date 2026-11-16 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: payment batch refused: 1 problem; nothing was written
	detail: 1 problem:
	  batch_good.csv:4: household '\''H0005'\'' has an unresolved objection on list '\''L2026-WF-01'\'' (H3) (raised 2026-11-05: 反映该户房屋已由子女新建)
	hint: resolve the objection first: earmark list resolve
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'list resolve: only the admin resolves an objection, once' '
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" list resolve "$(cat objection.id)" --date 2026-11-10 \
		--resolution "经入户核实，异议不成立" 2>err &&
	grep -x "earmark: error: '\''e22_clerk'\'' may not run '\''list resolve'\'': it needs the admin role" err &&
	"$EARMARK" "${ADMIN[@]}" list resolve "$(cat objection.id)" --date 2026-11-10 \
		--resolution "经入户核实，原房屋为D级危房，子女在外务工未新建，异议不成立" >out &&
	echo "objection resolved" >expected &&
	test_cmp expected out &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" list resolve "$(cat objection.id)" --date 2026-11-10 \
		--resolution "再次" 2>err &&
	echo "earmark: error: no open objection #$(cat objection.id)" >expected &&
	test_cmp expected err &&
	test_psql -c "SELECT resolved_on, resolved_by FROM earmark.objection" >actual &&
	echo "2026-11-10|e22_admin" >expected &&
	test_cmp expected actual
'

test_expect_success 'pay batch names every bad line at once: village (H1), category (A3), amount, duplicate (H2)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_bad.csv" --code B2026-11-01 \
		--date 2026-11-16 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: payment batch refused: 6 problems; nothing was written
	detail: 6 problems:
	  batch_bad.csv:3: household '\''H0003'\'' is not on list '\''L2026-WF-01'\'' for item '\''C级危房加固'\'' (H3)
	  batch_bad.csv:3: household '\''H0003'\'' is in a village project '\''P2026-003'\'' does not cover (H1)
	  batch_bad.csv:4: fund '\''XJ2026-01'\'' does not permit use category '\''WF'\'' (A3)
	  batch_bad.csv:5: amount must be above zero
	  batch_bad.csv:6: household '\''H0006'\'' appears more than once for item '\''C级危房加固'\'' of project '\''P2026-003'\'' (H2)
	  batch_bad.csv:7: household '\''H0006'\'' appears more than once for item '\''C级危房加固'\'' of project '\''P2026-003'\'' (H2)
	hint: a household is paid only as its disclosed beneficiary list says
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'pay batch to an unknown household names that line, once' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_unknown.csv" --code B2026-11-01 \
		--date 2026-11-16 >out 2>err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after &&
	cat >expected <<-\EOF &&
	earmark: error: payment batch refused: 1 problem; nothing was written
	detail: 1 problem:
	  batch_unknown.csv:3: unknown household '\''H9999'\''
	EOF
	test_cmp expected err
'

test_expect_success 'pay batch with an amount that is no amount names the line' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_amount.csv" --code B2026-11-01 \
		--date 2026-11-16 >out 2>err &&
	cat >expected <<-EOF &&
	earmark: error: file '\''$FIX/batch_amount.csv'\'' has 1 problem; nothing was imported
	detail:   line 3: amount: invalid amount '\''1.5万'\'': an amount is written with the ASCII digits 0-9 only
	hint: fix the lines named and run the command again
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'pay batch beyond the household cap is refused, nothing written (H2)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_cap.csv" --code B2026-11-01 \
		--date 2026-11-16 >out 2>cap.err &&
	! test -s out &&
	grep "household '\''H0001'\'' would get more than the cap for WF (农村危房改造) in 2026 (H2)" cap.err &&
	grep "cap 40,000.00, paid before 0.00, this voucher 43,000.00" cap.err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'pay batch beyond the household cap names the file lines (H2)' '
	grep "batch_cap.csv:[23]: .*H0001.*cap.*(H2)" cap.err
'

# --- a good batch ----------------------------------------------------------

test_expect_success 'a good batch is prepared as two drafts, its payments issued, memos kept whole' '
	"$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_good.csv" --code B2026-11-01 --date 2026-11-16 \
		--key e22-batch-1 >out 2>err &&
	echo "batch '\''B2026-11-01'\'': 4 household payments prepared as two drafts; review and post them with earmark pay review / pay post" >expected &&
	test_cmp expected out &&
	! test -s err &&
	test_psql >actual <<-\EOF &&
	SELECT b.code, b.pay_date, b.source, b.idem_key, b.created_by, v1.vtype, v1.status, v2.vtype, v2.status
	  FROM earmark.pay_batch b
	  JOIN earmark.voucher v1 ON v1.book_id = b.book_id AND v1.voucher_id = b.payable_voucher_id
	  JOIN earmark.voucher v2 ON v2.book_id = b.book_id AND v2.voucher_id = b.payment_voucher_id;
	SELECT p.line_no, h.code, p.amount_fen, p.item, p.end_to_end_id, p.status FROM earmark.household_payment p
	  JOIN earmark.household h ON h.book_id = p.book_id AND h.household_id = p.household_id
	 ORDER BY p.line_no;
	SELECT count(*) FROM earmark.pay_staging;
	SELECT l.line_no, replace(replace(l.memo, chr(9), $$<TAB>$$), chr(10), $$<LF>$$) FROM earmark.line l
	  JOIN earmark.pay_batch b ON b.book_id = l.book_id AND b.payable_voucher_id = l.voucher_id
	 WHERE l.household_id IS NOT NULL ORDER BY l.line_no;
	EOF
	cat >expected <<-\EOF &&
	B2026-11-01|2026-11-16|batch_good.csv|e22-batch-1|e22_clerk|转|draft|付|draft
	2|H0001|4000000|D级危房改造|B2026-11-01-000002|issued
	3|H0002|1500000|C级危房加固|B2026-11-01-000003|issued
	4|H0005|4000000|D级危房改造|B2026-11-01-000004|issued
	5|H0006|1500000|C级危房加固|B2026-11-01-000005|issued
	0
	1|危房改造补助 H0001
	2|危房改造补助 H0002
	3|危房改造补助 H0005
	4|加固\补助<TAB>第二期<LF>复核 H0006
	EOF
	test_cmp expected actual
'

test_expect_success 'the batch again with the same key answers the first batch and writes nothing (D9)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	"$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_good.csv" --code B2026-11-01 --date 2026-11-16 \
		--key e22-batch-1 >again &&
	test_cmp out again &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_good.csv" --code B2026-11-09 \
		--date 2026-11-16 --key e22-batch-1 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: idempotency key '\''e22-batch-1'\'' was used for another batch (D9)
	detail: batch B2026-11-01 was created with this key
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'pay export before the batch is posted is refused and writes no file' '
	test_expect_code 1 "$EARMARK" "${CASH[@]}" pay export B2026-11-01 -o early.xml 2>err &&
	grep -x "earmark: error: payment batch '\''B2026-11-01'\'' is not posted" err &&
	grep -x "detail: its vouchers: #[0-9]* draft, #[0-9]* draft" err &&
	! test -e early.xml &&
	"$EARMARK" "${REV[@]}" pay review B2026-11-01 >out &&
	grep -x "reviewed #[0-9]* #[0-9]*" out &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" pay export B2026-11-01 -o early.xml 2>err &&
	grep -x "detail: its vouchers: #[0-9]* reviewed, #[0-9]* reviewed" err &&
	! test -e early.xml &&
	test_psql -c "SELECT DISTINCT status FROM earmark.household_payment" >actual &&
	echo issued >expected &&
	test_cmp expected actual
'

test_expect_success 'pay post posts both vouchers of the batch' '
	"$EARMARK" "${BK[@]}" pay post B2026-11-01 >out &&
	echo "posted 转-2026-11-0001 付-2026-11-0001" >expected &&
	test_cmp expected out &&
	"$EARMARK" "${BK[@]}" voucher show 付-2026-11-0001 --format csv >actual &&
	cat >expected <<-\EOF &&
	line,account,side,amount,fund,project,village,household,bank_account,category,memo
	1,2303,D,110000.00,ZY2026-01,,,,,,支付到户补助 B2026-11-01
	2,1002,C,110000.00,ZY2026-01,,,,622848001122334455,,支付到户补助 B2026-11-01
	EOF
	sed -i "s/\$/\r/" expected &&
	test_cmp expected actual
'

test_expect_success 'a clerk may not export the payment file' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay export B2026-11-01 -o clerk.xml 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: '\''e22_clerk'\'' may not run '\''pay export'\'': it needs the cashier role
	detail: function earmark.payment_export is granted to: cashier (DESIGN section 8)
	hint: a person of that job runs it; or the database administrator grants it: earmark user add e22_clerk --role cashier
	EOF
	test_cmp expected err &&
	! test -e clerk.xml &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'the cashier exports the batch as pain.001; its payments are sent' '
	"$EARMARK" "${CASH[@]}" pay export B2026-11-01 -o out.xml >out 2>err &&
	echo "out.xml: 4 payments, 110,000.00, pain.001.001.03; payments are now sent" >expected &&
	test_cmp expected out &&
	! test -s err &&
	test_psql -c "SELECT status, count(*) FROM earmark.household_payment GROUP BY status" \
		-c "SELECT exported_by, exported_at IS NOT NULL FROM earmark.pay_batch" >actual &&
	printf "sent|4\ne22_cash|t\n" >expected &&
	test_cmp expected actual
'

test_expect_success 'the pain.001 file is valid against the ISO 20022 schema' '
	xmllint --noout --nonet --schema "$XSD" out.xml
'

test_expect_success 'the file'\''s counts and control sums agree with the batch' '
	{
		xp out.xml GrpHdr/MsgId &&
		xp out.xml GrpHdr/NbOfTxs &&
		xp out.xml GrpHdr/CtrlSum &&
		xp out.xml count PmtInf &&
		xp out.xml PmtInf/NbOfTxs &&
		xp out.xml PmtInf/CtrlSum &&
		xp out.xml PmtInf/ReqdExctnDt &&
		xp out.xml count PmtInf/CdtTrfTxInf
	} >actual &&
	test_psql >expected <<-\EOF &&
	SELECT '\''E22-'\'' || b.code FROM earmark.pay_batch b;
	SELECT count(*) FROM earmark.household_payment;
	SELECT to_char(sum(amount_fen) / 100.0, '\''FM999999999990.00'\'') FROM earmark.household_payment;
	SELECT 1;
	SELECT count(*) FROM earmark.household_payment;
	SELECT to_char(sum(amount_fen) / 100.0, '\''FM999999999990.00'\'') FROM earmark.household_payment;
	SELECT pay_date FROM earmark.pay_batch;
	SELECT count(*) FROM earmark.household_payment;
	EOF
	cat >literal <<-\EOF &&
	E22-B2026-11-01
	4
	110000.00
	1
	4
	110000.00
	2026-11-16
	4
	EOF
	test_cmp literal expected &&
	test_cmp expected actual
'

test_expect_success 'one EndToEndId per payment, with its amount and the household'\''s card' '
	xmllint --xpath "//*[local-name()=\"CdtTrfTxInf\"]/*[local-name()=\"PmtId\"]/*[local-name()=\"EndToEndId\"]/text()
		| //*[local-name()=\"CdtTrfTxInf\"]/*[local-name()=\"Amt\"]/*[local-name()=\"InstdAmt\"]/text()
		| //*[local-name()=\"CdtTrfTxInf\"]/*[local-name()=\"CdtrAcct\"]/*[local-name()=\"Id\"]/*[local-name()=\"Othr\"]/*[local-name()=\"Id\"]/text()" \
		out.xml >actual &&
	test_psql >expected <<-\EOF &&
	SELECT x FROM (
	  SELECT p.end_to_end_id AS k, 1 AS o, p.end_to_end_id AS x FROM earmark.household_payment p
	  UNION ALL SELECT p.end_to_end_id, 2, to_char(p.amount_fen / 100.0, '\''FM999999999990.00'\'') FROM earmark.household_payment p
	  UNION ALL SELECT p.end_to_end_id, 3, hp.bank_card FROM earmark.household_payment p
	    JOIN earmark.household_private hp ON hp.book_id = p.book_id AND hp.household_id = p.household_id
	) y ORDER BY k, o;
	EOF
	test_cmp expected actual &&
	grep -c "<EndToEndId>" out.xml >count &&
	echo 4 >expected &&
	test_cmp expected count &&
	grep -o "<EndToEndId>[^<]*</EndToEndId>" out.xml >ids &&
	sort -u ids >uniq &&
	test_cmp ids uniq
'

test_expect_success 'the debtor account is the fund'\''s dedicated account, with its bank and holder' '
	{
		xp out.xml PmtInf/DbtrAcct/Id/Othr/Id &&
		xp out.xml PmtInf/DbtrAcct/Ccy &&
		xp out.xml PmtInf/DbtrAgt/FinInstnId/ClrSysMmbId/MmbId &&
		xp out.xml PmtInf/Dbtr/Nm
	} >actual &&
	test_psql >expected <<-\EOF &&
	SELECT d.account_no, '\''CNY'\'', d.cnaps, d.holder FROM earmark.fund f
	  JOIN earmark.dedicated_account d ON d.book_id = f.book_id AND d.bank_account_id = f.bank_account_id
	 WHERE f.code = '\''ZY2026-01'\'';
	EOF
	tr "|" "\n" <expected >expected.lines &&
	printf "622848001122334455\nCNY\n103456000011\n平安县财政局衔接资金专户\n" >literal &&
	test_cmp literal expected.lines &&
	test_cmp expected.lines actual
'

test_expect_success 'exporting again gives the same file' '
	"$EARMARK" "${CASH[@]}" pay export B2026-11-01 -o again.xml >out &&
	test_cmp out.xml again.xml
'

test_expect_success 'pay settle records the bank'\''s answer for one payment; only the cashier, only forward' '
	"$EARMARK" "${CASH[@]}" pay settle B2026-11-01-000002 --status paid >out &&
	echo "payment recorded" >expected &&
	test_cmp expected out &&
	test_psql -c "SELECT end_to_end_id, status, status_by FROM earmark.household_payment ORDER BY 1" >actual &&
	cat >expected <<-\EOF &&
	B2026-11-01-000002|paid|e22_cash
	B2026-11-01-000003|sent|e22_cash
	B2026-11-01-000004|sent|e22_cash
	B2026-11-01-000005|sent|e22_cash
	EOF
	test_cmp expected actual &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay settle B2026-11-01-000003 --status paid 2>err &&
	grep -x "earmark: error: '\''e22_clerk'\'' may not run '\''pay settle'\'': it needs the cashier role" err &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" pay settle B2026-11-01-000099 --status paid 2>err &&
	echo "earmark: error: unknown payment '\''B2026-11-01-000099'\''" >expected &&
	test_cmp expected err &&
	test_expect_code 1 "$EARMARK" "${CASH[@]}" pay settle B2026-11-01-000002 --status sent 2>err &&
	echo "earmark: error: a payment is settled as paid or returned, not sent" >expected &&
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'the same households are not paid twice for the same item (H2)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_good.csv" --code B2026-11-02 \
		--date 2026-11-20 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: payment batch refused: 4 problems; nothing was written
	detail: 4 problems:
	  batch_good.csv:2: household '\''H0001'\'' was already paid for item '\''D级危房改造'\'' of project '\''P2026-003'\'' (H2) (payment B2026-11-01-000002)
	  batch_good.csv:3: household '\''H0002'\'' was already paid for item '\''C级危房加固'\'' of project '\''P2026-003'\'' (H2) (payment B2026-11-01-000003)
	  batch_good.csv:4: household '\''H0005'\'' was already paid for item '\''D级危房改造'\'' of project '\''P2026-003'\'' (H2) (payment B2026-11-01-000004)
	  batch_good.csv:5: household '\''H0006'\'' was already paid for item '\''C级危房加固'\'' of project '\''P2026-003'\'' (H2) (payment B2026-11-01-000005)
	hint: the same household is not paid twice for the same item
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

# --- a county's batch: 50,000 households -------------------------------------

# 50,000 households G00001..G50000 of 高家堡村 with valid GB 11643 numbers
# (birth dates 1950-1999, sequence 900-902, the check digit computed here),
# one list of 产业奖补 20.00 each, and the batch that pays it.  P2026-005
# (CY, budget 1,000,000.00 from ZY2026-01, approved 2026-06-01) covers the
# village; it came with the fixtures.
test_expect_success 'setup: 50,000 households imported once, on one published list' '
	awk -v n=50000 '\''BEGIN {
		split("7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2", w, " ")
		print "code,village,head_name,id_no,members,bank_card,bank_cnaps,phone,status" >"big_households.csv"
		print "household,amount,item" >"big_list.csv"
		print "household,amount,project,fund,category,list,item,memo" >"big_batch.csv"
		for (i = 1; i <= n; i++) {
			k = i % 16800
			body = sprintf("610826%04d%02d%02d%03d", 1950 + k % 50, 1 + int(k / 50) % 12,
				       1 + int(k / 600), 900 + int(i / 16800))
			sum = 0
			for (j = 1; j <= 17; j++)
				sum += substr(body, j, 1) * w[j]
			code = sprintf("G%05d", i)
			printf "%s,610826103301,户主%05d,%s%s,3,622848%013d,103456000011,,脱贫户\n",
				code, i, body, substr("10X98765432", sum % 11 + 1, 1), i >"big_households.csv"
			printf "%s,20.00,产业奖补\n", code >"big_list.csv"
			printf "%s,20.00,P2026-005,ZY2026-01,CY,L2026-CY-01,产业奖补,\n", code >"big_batch.csv"
		}
	}'\'' &&
	"$EARMARK" "${ADMIN[@]}" master import household big_households.csv >out &&
	echo "imported 50000 household rows from big_households.csv" >expected &&
	test_cmp expected out &&
	"$EARMARK" "${CLERK[@]}" list create L2026-CY-01 big_list.csv --project P2026-005 \
		--title "2026年产业奖补到户名单" >out &&
	"$EARMARK" "${ADMIN[@]}" list publish L2026-CY-01 --from 2026-11-01 --days 10 >>out &&
	cat >expected <<-\EOF &&
	beneficiary list '\''L2026-CY-01'\'' with 50000 households, not yet published
	published; households on it may be paid from 2026-11-11
	EOF
	test_cmp expected out &&
	test_psql >actual <<-\EOF &&
	SELECT count(*), count(DISTINCT p.id_no), count(*) FILTER (WHERE earmark.id_problem(p.id_no, DATE '\''2026-11-23'\'') IS NULL)
	  FROM earmark.household h
	  JOIN earmark.household_private p ON p.book_id = h.book_id AND p.household_id = h.household_id
	  JOIN earmark.village v ON v.book_id = h.book_id AND v.village_id = h.village_id
	 WHERE v.code = '\''610826103301'\'';
	EOF
	echo "50000|50000|50000" >expected &&
	test_cmp expected actual
'

test_expect_success 'a batch of 50,000 lines with one bad line in the middle is refused whole, naming it' '
	awk -F, -v OFS=, "NR == 25001 { \$2 = \"200.00\" } { print }" big_batch.csv >big_bad.csv &&
	test_psql <<<"$COUNT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay batch big_bad.csv --code B2026-11-50 \
		--date 2026-11-20 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: payment batch refused: 1 problem; nothing was written
	detail: 1 problem:
	  big_bad.csv:25001: household '\''G25000'\'' is granted 20.00 on list '\''L2026-CY-01'\'', not 200.00 (H2)
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql <<<"$COUNT_SQL" >after &&
	test_cmp before after
'

# pay batch sends the rows to the server while it reads the file (issue 3):
# a problem near the end of a long file is found after the first megabytes
# went into the COPY, which is then aborted.  The server log shows how far
# the COPY had got; nothing may be left staged or written.
test_expect_success 'a 50,000-line file with a bad amount on its last line: its rows were streamed, then the whole file refused' '
	awk -F, -v OFS=, "NR == 50001 { \$2 = \"1.5万\" } { print }" big_batch.csv >big_tail.csv &&
	test_psql <<<"$COUNT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay batch big_tail.csv --code B2026-11-51 \
		--date 2026-11-20 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: file '\''big_tail.csv'\'' has 1 problem; nothing was imported
	detail:   line 50001: amount: invalid amount '\''1.5万'\'': an amount is written with the ASCII digits 0-9 only
	hint: fix the lines named and run the command again
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql <<<"$COUNT_SQL" >after &&
	test_cmp before after &&
	grep -A 1 "COPY from stdin failed: the batch file was refused" "$EARMARK_HOME/var/log/postgresql.log" |
		sed -n "s/.*CONTEXT:  COPY pay_staging, line \([0-9]*\).*/\1/p" >copied &&
	awk "\$1 > 10000 { ok = 1 } END { exit !ok }" copied
'

test_done
