#!/usr/bin/env bash
# Public notices (公告公示, DESIGN section 7): earmark notice make, publish,
# object and contact.  A notice is made from the ledger and master data for
# a village, a project or the county, as a plan (事前公示) or a result
# (事后公告), in HTML, PDF (A4 and A3), text and XML; each carries the SHA-256
# of its canonical content.  Publishing a plan notice publishes the
# beneficiary lists it names for the same period, and an objection against
# a line of the notice is an objection against its list: the payment gate
# H3 reads both.
#
# Refused, each with the rule named and nothing written: a notice before the
# book has a publisher and hotline; a notice period under 10 days; a notice
# for a project without an approved budget (P1); a list published with a
# village's notice that would not show it whole; an objection for a
# household not on the notice's list; a change to a published notice.
#
# Book E50 (fixtures in tests/fixtures/notices, as e2e/22's book):
# P2026-003 农村危房改造 (approved 2026-05-20, accepted 2026-10-25, budget
# 200,000.00 from ZY2026-01) covers 王家村 610826101201, 张家湾村 and
# 马家坪村; list L2026-WF-01 has H0001 (王建国, two items), H0002, H0005 and
# H0006.  P2026-002 has a budget but no approval.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

# cairo 1.16 keeps ~3 KB per PDF in its font subsetting and fontconfig its
# parsed configuration: leaks of those libraries, not of earmark.
export LSAN_OPTIONS="suppressions=$SRCDIR/tests/fixtures/notices/lsan.supp:print_suppressions=0"

FIX=$SRCDIR/tests/fixtures/notices
XSD=$SRCDIR/reports/schemas/notice.xsd
BOOK=E50
ADMIN=(--user e50_admin --book "$BOOK")
CLERK=(--user e50_clerk --book "$BOOK")
REV=(--user e50_rev --book "$BOOK")
BK=(--user e50_bk --book "$BOOK")

# What a refused notice command must leave as it was.
SNAPSHOT_SQL=$(cat <<'EOF'
SELECT 'notice', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.notice t
UNION ALL SELECT 'notice_list', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.notice_list t
UNION ALL SELECT 'beneficiary_list', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.beneficiary_list t
UNION ALL SELECT 'objection', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.objection t
UNION ALL SELECT 'notice_contact', count(*), md5(coalesce(string_agg(t.publisher || t.hotline, ';'), '')) FROM earmark.notice_contact t;
EOF
)

# The personal data no notice may show (H4): every ID number, bank card and phone.
cut -d, -f4,6,8 "$FIX/household.csv" | tail -n +2 | tr ',' '\n' | grep -v '^$' >secrets

# no_secrets FILE...: none of them appears in any of the files.
no_secrets() {
	! grep -F -f secrets "$@"
}

test_expect_success 'setup: people, book E50, master data, the fund received, list L2026-WF-01' '
	"$EARMARK" user add e50_admin --role admin &&
	"$EARMARK" user add e50_clerk --role clerk &&
	"$EARMARK" user add e50_rev --role reviewer &&
	"$EARMARK" user add e50_bk --role bookkeeper &&
	"$EARMARK" "${ADMIN[@]}" book create "$BOOK" --name "平安县财政衔接推进乡村振兴补助资金" \
		--start 2026-01-01 --accounts "$SRCDIR/config/accounts.csv" &&
	for kind in category bank_account fund village household project project_budget \
		    project_target project_event; do
		"$EARMARK" "${ADMIN[@]}" master import $kind "$FIX/$kind.csv" || exit 1
	done &&
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/receive_zy.csv" --date 2026-03-02 >ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat ref)" &&
	"$EARMARK" "${CLERK[@]}" list create L2026-WF-01 "$FIX/list_wf.csv" --project P2026-003 \
		--title "2026年农村危房改造补助对象公示"
'

# --- refusals ------------------------------------------------------------------

test_expect_success 'notice make before the book has a publisher and hotline is refused, naming the fix' '
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" notice make --project P2026-003 --kind plan \
		--format txt -o n.txt >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: book '\''E50'\'' has no publisher and local supervision hotline for its notices
	hint: an administrator sets them: earmark notice contact --publisher NAME --hotline NUMBER
	EOF
	test_cmp expected err &&
	! test -e n.txt
'

test_expect_success 'notice contact: a hotline that is no number is refused; a good one is kept' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" notice contact --publisher 平安县乡村振兴局 \
		--hotline "call us" 2>err &&
	grep "^earmark: error: publisher or hotline refused" err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" notice contact --publisher x --hotline 0916-1234567 2>err &&
	grep -x "earmark: error: '\''e50_clerk'\'' may not run '\''notice contact'\'': it needs the admin role" err &&
	"$EARMARK" "${ADMIN[@]}" notice contact --publisher 平安县乡村振兴局 --hotline 0916-1234567 >out &&
	echo "notices of book '\''E50'\'' are published by 平安县乡村振兴局, local hotline 0916-1234567" >expected &&
	test_cmp expected out
'

test_expect_success 'a notice for a project without an approved budget is refused (P1), make and publish' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" notice make --project P2026-002 --kind plan \
		--format html -o n.html 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: project '\''P2026-002'\'' has no approved budget on 2026-11-02 (P1)
	detail: a notice discloses a project approved (立项批复) with a budget per fund
	hint: record the approval (earmark project event CODE approval) and the budget first
	EOF
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" notice make --project P2026-002 --kind plan \
		--from 2026-11-02 --format html -o n.html 2>err &&
	test_cmp expected err &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" notice publish --project P2026-002 --kind plan \
		--from 2026-11-02 2>err &&
	test_cmp expected err &&
	! test -e n.html &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a notice period under 10 days is refused (H3); the list stays unpublished' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" notice publish --project P2026-003 --kind plan \
		--from 2026-11-02 --days 9 --list L2026-WF-01 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: a notice period of 9 days is too short (H3)
	detail: the notice period is at least 10 days
	hint: 公示期不少于10天: publish for 10 days or more
	EOF
	test_cmp expected err &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" notice make --project P2026-003 --kind plan \
		--from 2026-11-02 --days 9 --format txt -o n.txt 2>err &&
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a village notice may not publish a list with households of other villages (H3)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" notice publish --village 610826101201 --kind plan \
		--from 2026-11-02 --list L2026-WF-01 2>err &&
	grep "^earmark: error: list '\''L2026-WF-01'\'' has households outside village 610826101201" err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'publishing is the administrator'\''s job' '
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" notice publish --project P2026-003 --kind plan \
		--from 2026-11-02 2>err &&
	grep -x "earmark: error: '\''e50_clerk'\'' may not run '\''notice publish'\'': it needs the admin role" err
'

# --- a draft, then the published notice -----------------------------------------

test_expect_success 'notice make without a published notice writes a draft that says so' '
	"$EARMARK" "${ADMIN[@]}" notice make --project P2026-003 --kind plan --from 2026-11-02 \
		--format txt -o draft.txt >out &&
	grep "^draft.txt: draft (not published: the board will not confirm it) notice, digest [0-9a-f]\{64\}$" out &&
	grep "草稿：本公告尚未发布" draft.txt &&
	grep "公示期：2026-11-02 至 2026-11-11（共 10 天）" draft.txt
'

test_expect_success 'notice publish: the project'\''s plan notice publishes its list for the same period' '
	"$EARMARK" "${ADMIN[@]}" notice publish --project P2026-003 --kind plan --from 2026-11-02 \
		--list L2026-WF-01 >out &&
	digest=$(test_psql -c "SELECT digest FROM earmark.notice") &&
	echo "notice #$(test_psql -c "SELECT notice_id FROM earmark.notice") published from 2026-11-02, digest $digest" >expected &&
	test_cmp expected out &&
	echo "$digest" >digest &&
	test_psql >actual <<-\EOF &&
	SELECT n.kind, n.scope, n.scope_code, n.published_on, n.notice_days, n.published_by, l.code,
	       l.published_on, l.notice_days, l.published_by
	  FROM earmark.notice n JOIN earmark.notice_list nl USING (book_id, notice_id)
	  JOIN earmark.beneficiary_list l USING (book_id, list_id);
	SELECT digest = encode(sha256(convert_to(content, '\''UTF8'\'')), '\''hex'\'') FROM earmark.notice;
	EOF
	cat >expected <<-\EOF &&
	plan|project|P2026-003|2026-11-02|10|e50_admin|L2026-WF-01|2026-11-02|10|e50_admin
	t
	EOF
	test_cmp expected actual
'

test_expect_success 'notice publish again with nothing changed answers the same notice' '
	"$EARMARK" "${ADMIN[@]}" notice publish --project P2026-003 --kind plan --from 2026-11-02 >out &&
	grep "digest $(cat digest)$" out &&
	test "$(test_psql -c "SELECT count(*) FROM earmark.notice")" = 1
'

test_expect_success 'a published notice cannot change, not even for the superuser (trigger)' '
	test_must_fail test_psql -c "UPDATE earmark.notice SET title = '\''x'\''" 2>err &&
	grep "a published notice cannot change (H3)" err &&
	test_must_fail test_psql -c "DELETE FROM earmark.notice" 2>err &&
	grep "a published notice cannot change (H3)" err
'

# --- every format ------------------------------------------------------------------

test_expect_success 'notice make writes the published notice in every format, each with its digest' '
	for f in html txt xml pdf; do
		"$EARMARK" "${ADMIN[@]}" notice make --project P2026-003 --kind plan --format $f -o p.$f >out &&
		echo "p.$f: published notice, digest $(cat digest)" >expected &&
		test_cmp expected out || exit 1
	done &&
	"$EARMARK" "${ADMIN[@]}" notice make --project P2026-003 --kind plan --format pdf --paper A3 -o p3.pdf &&
	grep -F "$(cat digest)" p.html p.txt p.xml &&
	grep -c "<svg class=\"qr\"" p.html >count && echo 1 >expected && test_cmp expected count &&
	! grep "草稿" p.txt
'

test_expect_success 'pdftotext of the A4 and A3 PDF has every field of DESIGN section 7 in Chinese' '
	pdfinfo p.pdf >info && grep "^Page size:.*(A4)" info &&
	pdfinfo p3.pdf >info && grep "^Page size:.*(A3)" info &&
	for pdf in p.pdf p3.pdf; do
		pdftotext -layout $pdf p.pdf.txt &&
		for field in 农村危房改造财政衔接资金项目计划及受益对象公示 公告类型 事前公示 项目名称 建设地点 \
			     城关镇王家村 建设内容及规模 改造C、D级危房4户 补助标准 资金来源及金额 \
			     中央财政衔接推进乡村振兴补助资金 财农〔2026〕1号 200,000.00 实施期限 实施单位 \
			     平安县住房和城乡建设局 责任人 孙丽 施工单位 绩效目标 改造危房户数 受益对象 王*国 \
			     40,000.00 联农带农机制 住房安全有保障 完成情况 2026-10-25 已支出金额 公示期 \
			     2026-11-02 2026-11-11 12317 0916-1234567 公示单位 平安县乡村振兴局 公示日期 \
			     账簿哈希链 公告校验码; do
			grep -F -q "$field" p.pdf.txt || { echo "$pdf lacks $field"; exit 1; }
		done &&
		tr -d " \n" <p.pdf.txt >flat && grep -F -q "$(cat digest)" flat || exit 1
	done
'

test_expect_success 'the XML validates against reports/schemas/notice.xsd and its content hashes to the digest' '
	xmllint --noout --nonet --schema "$XSD" p.xml &&
	xmllint --xpath "string(/*[local-name()=\"Notice\"]/*[local-name()=\"CanonicalContent\"])" p.xml >b64 &&
	base64 -d b64 >content &&
	sha256sum <content >sum &&
	echo "$(cat digest)  -" >expected &&
	test_cmp expected sum &&
	test_psql -c "SELECT content FROM earmark.notice" >db-content &&
	printf "\n" >>content &&
	test_cmp db-content content &&
	xmllint --xpath "string(//*[local-name()=\"Digest\"])" p.xml >x && echo "$(cat digest)" >expected &&
	test_cmp expected x
'

test_expect_success 'no notice shows an ID number, bank card or phone; names are masked (H4)' '
	pdftotext p.pdf p.pdf.txt &&
	no_secrets p.html p.txt p.xml p.pdf.txt content draft.txt &&
	grep -F "王*国" p.txt && grep -F "王*英" p.txt && grep -F "张*田" p.txt && grep -F "马*花" p.txt &&
	! grep -F "王建国" p.txt p.html content &&
	! grep -F "马春花" p.txt p.html content
'

test_expect_success 'a village notice shows only that village'\''s households' '
	"$EARMARK" "${ADMIN[@]}" notice make --village 610826101201 --kind plan --from 2026-11-02 \
		--format txt -o v.txt &&
	grep -F "王*国" v.txt && grep -F "王*英" v.txt &&
	! grep -F "张*田" v.txt && ! grep -F "马*花" v.txt &&
	grep "公示范围：王家村（村级公示），平安县城关镇" v.txt
'

# --- objections and the payment gate (H3) --------------------------------------------

test_expect_success 'notice object: a household not on the notice'\''s list is refused (H3)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" notice object "$(cat digest)" H0003 \
		--reason "不应列入" --date 2026-11-05 2>err &&
	cat >expected <<-EOF &&
	earmark: error: household '\''H0003'\'' is not on the beneficiary list of notice #$(test_psql -c "SELECT notice_id FROM earmark.notice") (H3)
	hint: an objection is raised against a line of a published list
	EOF
	test_cmp expected err &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" notice object "#99" H0002 --reason x --date 2026-11-05 2>err &&
	grep "^earmark: error: no published notice '\''#99'\''" err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'notice object: an objection to H0002 on the notice blocks its payment (H3)' '
	"$EARMARK" "${CLERK[@]}" notice object "$(cat digest)" H0002 --reason "反映该户已新建住房" \
		--date 2026-11-05 >out &&
	obj=$(test_psql -c "SELECT objection_id FROM earmark.objection") &&
	echo "objection recorded; the household is not paid until it is resolved (H3): #$obj" >expected &&
	test_cmp expected out &&
	echo "$obj" >objection &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_good.csv" --code B2026-11-01 \
		--date 2026-11-16 2>err &&
	grep "household '\''H0002'\'' has an unresolved objection on list '\''L2026-WF-01'\'' (H3)" err
'

test_expect_success 'the payment gate reads the notice period: paying inside it is refused (H3)' '
	"$EARMARK" "${ADMIN[@]}" notice object --resolve "$(cat objection)" --date 2026-11-08 \
		--resolution "经入户核实，异议不成立" >out &&
	echo "objection resolved; H3 lets the household be paid again" >expected &&
	test_cmp expected out &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_good.csv" --code B2026-11-01 \
		--date 2026-11-10 2>err &&
	grep "the notice period of list '\''L2026-WF-01'\'' has not ended (H3)" err &&
	"$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_good.csv" --code B2026-11-01 --date 2026-11-16 &&
	"$EARMARK" "${REV[@]}" pay review B2026-11-01 &&
	"$EARMARK" "${BK[@]}" pay post B2026-11-01
'

test_expect_success 'the result notice (事后公告) shows the payments and the amount spent, masked' '
	"$EARMARK" "${ADMIN[@]}" notice publish --project P2026-003 --kind result --from 2026-11-20 >out &&
	grep "^notice #[0-9]* published from 2026-11-20, digest [0-9a-f]\{64\}$" out &&
	"$EARMARK" "${ADMIN[@]}" notice make --project P2026-003 --kind result --format txt -o r.txt &&
	grep "公告类型：事后公告" r.txt &&
	grep "完成情况：已于 2026-10-25 竣工验收（平建验〔2026〕12号）" r.txt &&
	grep "已支出金额：110,000.00 元" r.txt &&
	grep "合计 | 4 户 |  |  |  |  |  | 110,000.00" r.txt &&
	grep "账簿哈希链：共 3 张凭证" r.txt &&
	no_secrets r.txt
'

test_expect_success 'the county notice lists every approved project, and the county scope takes no code' '
	"$EARMARK" "${ADMIN[@]}" notice make --county --kind plan --from 2026-11-20 --format xml -o c.xml &&
	xmllint --noout --nonet --schema "$XSD" c.xml &&
	xmllint --xpath "count(//*[local-name()=\"Project\"])" c.xml >n && echo 3 >expected &&
	test_cmp expected n &&
	test_expect_code 2 "$EARMARK" "${ADMIN[@]}" notice make --county=x --kind plan --format xml -o c.xml 2>err &&
	grep "option '\''--county'\'' takes no value" err &&
	test_expect_code 2 "$EARMARK" "${ADMIN[@]}" notice make --village 610826101201 --county --kind plan \
		--format xml -o c.xml 2>err &&
	grep "name one of --village CODE, --project CODE or --county" err
'

test_done
