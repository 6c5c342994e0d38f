#!/usr/bin/env bash
# earmark master import, every kind, with the columns of the disbursement
# work (DESIGN section 5, flow 1): households with their head's ID number,
# bank card and status; funds with the use categories they permit;
# projects with the villages they cover, budgets per fund, targets, events
# and budget revisions; the negative list, household caps and rule
# settings.  What each import wrote is read back from the database.
#
# book create seeds the rule tables from the folder of the chart of
# accounts: config/ gives the categories, negative list version 1, the caps
# and the settings; another folder gives only what it holds, and a bad seed
# file refuses the whole book.  Files come as UTF-8, UTF-8 with a BOM
# (Excel's "CSV UTF-8") and GB18030 (Excel's "CSV" on a Chinese Windows).
#
# H1 on the way in: a 15-digit first-generation ID number is stored in its
# 18-character form, a lowercase x as X; a file with bad numbers (wrong
# check digit, 19990230, a birth date in the future, one number twice) is
# refused whole, every bad line named, and nothing is written.  Personal
# data is read back as the admin, who may read it (H4).
#
# Book E20; fixtures in tests/fixtures/e2e/disburse.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

FIX=$SRCDIR/tests/fixtures/e2e/disburse
BOOK=E20
ADMIN=(--user e20_admin --book "$BOOK")
CLERK=(--user e20_clerk --book "$BOOK")

# What book create seeded: categories, the negative list, caps, settings.
# psql variable book.
SEED_SQL=$(cat <<'EOF'
SELECT c.code, c.name FROM earmark.use_category c JOIN earmark.book b USING (book_id)
 WHERE b.code = :'book' ORDER BY c.code;
SELECT n.version, n.valid_from, n.loaded_by, string_agg(c.code, ' ' ORDER BY c.code)
  FROM earmark.negative_list n JOIN earmark.book b USING (book_id)
  JOIN earmark.negative_item i ON i.book_id = n.book_id AND i.version = n.version
  JOIN earmark.use_category c ON c.book_id = i.book_id AND c.category_id = i.category_id
 WHERE b.code = :'book' GROUP BY n.version, n.valid_from, n.loaded_by ORDER BY n.version;
SELECT c.code, k.year, k.cap_fen FROM earmark.household_cap k JOIN earmark.book b USING (book_id)
  JOIN earmark.use_category c ON c.book_id = k.book_id AND c.category_id = k.category_id
 WHERE b.code = :'book' ORDER BY c.code, k.year;
SELECT s.key, s.value FROM earmark.book_setting s JOIN earmark.book b USING (book_id)
 WHERE b.code = :'book' ORDER BY s.key;
EOF
)

# Dedicated accounts and funds with the categories they permit.
FUND_SQL=$(cat <<'EOF'
SELECT d.account_no, d.bank_name, d.cnaps, d.holder FROM earmark.dedicated_account d
  JOIN earmark.book b USING (book_id) WHERE b.code = 'E20' ORDER BY d.account_no;
SELECT f.code, f.level, f.fund_type, f.year, f.doc_no, f.amount_fen, d.account_no, f.received_on,
       (SELECT string_agg(c.code, ';' ORDER BY c.code) FROM earmark.fund_category fc
          JOIN earmark.use_category c ON c.book_id = fc.book_id AND c.category_id = fc.category_id
         WHERE fc.book_id = f.book_id AND fc.fund_id = f.fund_id)
  FROM earmark.fund f JOIN earmark.book b USING (book_id)
  JOIN earmark.dedicated_account d ON d.book_id = f.book_id AND d.bank_account_id = f.bank_account_id
 WHERE b.code = 'E20' ORDER BY f.code;
EOF
)

# Projects with their villages, budgets, targets, events and revisions.
PROJECT_SQL=$(cat <<'EOF'
SELECT p.code, c.code, p.scale, p.implementing_unit, p.responsible, p.contractor, p.planned_start,
       p.planned_end,
       (SELECT string_agg(v.code, ';' ORDER BY v.code) FROM earmark.project_village pv
          JOIN earmark.village v ON v.book_id = pv.book_id AND v.village_id = pv.village_id
         WHERE pv.book_id = p.book_id AND pv.project_id = p.project_id)
  FROM earmark.project p JOIN earmark.book b USING (book_id)
  LEFT JOIN earmark.use_category c ON c.book_id = p.book_id AND c.category_id = p.category_id
 WHERE b.code = 'E20' ORDER BY p.code;
SELECT p.code, f.code, pb.original_fen FROM earmark.project_budget pb
  JOIN earmark.project p ON p.book_id = pb.book_id AND p.project_id = pb.project_id
  JOIN earmark.fund f ON f.book_id = pb.book_id AND f.fund_id = pb.fund_id
  JOIN earmark.book b ON b.book_id = pb.book_id
 WHERE b.code = 'E20' ORDER BY p.code, f.code;
SELECT p.code, t.target_no, t.kind, t.indicator, t.value FROM earmark.project_target t
  JOIN earmark.project p ON p.book_id = t.book_id AND p.project_id = t.project_id
  JOIN earmark.book b ON b.book_id = t.book_id
 WHERE b.code = 'E20' ORDER BY p.code, t.target_no;
SELECT p.code, e.kind, e.event_date, e.progress_pct, e.doc_no, e.note, e.recorded_by
  FROM earmark.project_event e
  JOIN earmark.project p ON p.book_id = e.book_id AND p.project_id = e.project_id
  JOIN earmark.book b ON b.book_id = e.book_id
 WHERE b.code = 'E20' ORDER BY p.code, e.event_date, e.kind;
SELECT p.code, f.code, r.revised_on, r.amount_fen, r.doc_no, r.reapproval_doc, r.recorded_by
  FROM earmark.budget_revision r
  JOIN earmark.project p ON p.book_id = r.book_id AND p.project_id = r.project_id
  JOIN earmark.fund f ON f.book_id = r.book_id AND f.fund_id = r.fund_id
  JOIN earmark.book b ON b.book_id = r.book_id
 WHERE b.code = 'E20' ORDER BY p.code, r.revised_on;
EOF
)

# Households as the admin reads them, personal data included (H4: the
# office may, the auditor and the public may not).
HOUSEHOLD_SQL=$(cat <<'EOF'
SET ROLE e20_admin;
SELECT h.code, v.code, h.head_name, h.members, h.status, h.status_from, h.status_to,
       p.id_no, p.bank_card, p.bank_cnaps, p.phone
  FROM earmark.household h
  JOIN earmark.book b ON b.book_id = h.book_id
  JOIN earmark.village v ON v.book_id = h.book_id AND v.village_id = h.village_id
  LEFT JOIN earmark.household_private p ON p.book_id = h.book_id AND p.household_id = h.household_id
 WHERE b.code = 'E20' AND h.code LIKE :'like'
 ORDER BY h.code;
EOF
)

# Row counts and digests of the tables a household import writes.
HOUSEHOLD_SNAPSHOT_SQL=$(cat <<'EOF'
SELECT 'household', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.household t
UNION ALL SELECT 'household_private', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.household_private t;
EOF
)

test_expect_success 'setup: people' '
	"$EARMARK" user add e20_admin --role admin &&
	"$EARMARK" user add e20_clerk --role clerk
'

test_expect_success 'book create seeds categories, negative list, caps and settings from config/' '
	"$EARMARK" "${ADMIN[@]}" book create "$BOOK" --name "e2e 平安县专项资金" \
		--start 2026-01-01 --accounts "$SRCDIR/config/accounts.csv" >out 2>err &&
	echo "book '\''E20'\'' created, chart of accounts from $SRCDIR/config/accounts.csv" >expected &&
	test_cmp expected out &&
	! test -s err &&
	test_psql -v book=E20 <<<"$SEED_SQL" >actual &&
	cat >expected <<-\EOF &&
	CY|产业发展
	JC|农村基础设施
	JY|就业帮扶
	JZ|教育帮扶
	NX01|行政事业单位基本支出
	NX02|交通工具及通讯设备
	NX03|楼堂馆所
	NX04|弥补企业亏损
	NX05|城市道路和城市基础设施
	NX06|企业担保金
	NX07|工资津贴补贴奖金
	NX08|偿还债务和垫资
	WF|农村危房改造
	XD|小额信贷贴息
	YL|健康帮扶
	1|2021-01-01|e20_admin|NX01 NX02 NX03 NX04 NX05 NX06 NX07 NX08
	CY|2025|1000000
	CY|2026|1000000
	CY|2027|1000000
	WF|2025|4000000
	WF|2026|4000000
	WF|2027|4000000
	advance_share_bp|3000
	notice_days|10
	retention_share_bp|300
	EOF
	test_cmp expected actual
'

test_expect_success 'book create reads the rule files of the chart'\''s own folder and skips missing ones' '
	mkdir chart &&
	cp "$SRCDIR/config/accounts.csv" chart/ &&
	printf "key,value\nnotice_days,20\n" >chart/rules.csv &&
	"$EARMARK" --user e20_admin book create E20B --name "另一账套" --start 2026-01-01 \
		--accounts chart/accounts.csv >out &&
	echo "book '\''E20B'\'' created, chart of accounts from chart/accounts.csv" >expected &&
	test_cmp expected out &&
	test_psql -v book=E20B <<<"$SEED_SQL" >actual &&
	echo "notice_days|20" >expected &&
	test_cmp expected actual
'

test_expect_success 'a bad seed file refuses the whole book' '
	mkdir chart2 &&
	cp "$SRCDIR/config/accounts.csv" chart2/ &&
	printf "key,value\nnotice_days,5\nadvance_share_bp,3000\n" >chart2/rules.csv &&
	test_expect_code 1 "$EARMARK" --user e20_admin book create E20C --name "坏账套" --start 2026-01-01 \
		--accounts chart2/accounts.csv >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: 1 of 2 setting rows refused; nothing was imported
	detail: 1 problem:
	  chart2/rules.csv:2: notice_days: at least 10 (H3)
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "SELECT count(*) FROM earmark.book WHERE code = '\''E20C'\''" >actual &&
	echo 0 >expected &&
	test_cmp expected actual
'

test_expect_success 'master import of every kind says how many rows it imported' '
	for kind in category bank_account fund village household project project_budget \
		    project_target project_event budget_revision negative_list household_cap setting; do
		"$EARMARK" "${ADMIN[@]}" master import $kind "$FIX/$kind.csv" || exit 1
	done >out 2>err &&
	cat >expected <<-EOF &&
	imported 2 category rows from $FIX/category.csv
	imported 2 bank_account rows from $FIX/bank_account.csv
	imported 3 fund rows from $FIX/fund.csv
	imported 5 village rows from $FIX/village.csv
	imported 8 household rows from $FIX/household.csv
	imported 5 project rows from $FIX/project.csv
	imported 5 project_budget rows from $FIX/project_budget.csv
	imported 7 project_target rows from $FIX/project_target.csv
	imported 8 project_event rows from $FIX/project_event.csv
	imported 2 budget_revision rows from $FIX/budget_revision.csv
	imported 3 negative_list rows from $FIX/negative_list.csv
	imported 2 household_cap rows from $FIX/household_cap.csv
	imported 2 setting rows from $FIX/setting.csv
	EOF
	test_cmp expected out &&
	! test -s err
'

test_expect_success 'bank accounts keep their holder; funds their dedicated account and permitted uses' '
	test_psql <<<"$FUND_SQL" >actual &&
	cat >expected <<-\EOF &&
	621700002233445566|中国建设银行平安县支行|105456000022|平安县财政局县级衔接资金专户
	622848001122334455|中国农业银行平安县支行|103456000011|平安县财政局衔接资金专户
	SJ2026-01|province|衔接资金|2026|陕财农〔2026〕12号|120000000|622848001122334455|2026-03-20|CY;TS;WF
	XJ2026-01|county|衔接资金|2026|平财发〔2026〕3号|30000000|621700002233445566|2026-04-08|JC;JY
	ZY2026-01|central|衔接资金|2026|财农〔2026〕1号|500000000|622848001122334455|2026-03-02|CY;JC;WF
	EOF
	test_cmp expected actual
'

test_expect_success 'households keep ID number, bank card, phone and status; old ID numbers come out 18 long (H1)' '
	test_psql -v like="H000%" <<<"$HOUSEHOLD_SQL" >actual &&
	cat >expected <<-\EOF &&
	H0001|610826101201|王建国|4|脱贫户|2019||610826196503120214|6228480011223301234|103456000011|13812341234
	H0002|610826101201|王秀英|3|监测户|2024||610826197208050422|6228480011223305678|103456000011|13923452345
	H0003|610826102203|李长生|2|脱贫户|2018||61082619580119011X|6217000022334409876|105456000022|13634563456
	H0004|610826102203|李二娃|5|脱贫户|2019|2025|610826198104270636|6217000022334401122|105456000022|15845674567
	H0005|610826101202|张有田|4|监测户|2025||610826196909300354|6228480011223309911|103456000011|13756785678
	H0006|610826102204|马春花|3|脱贫户|2020||610826197506160240|6228480011223307733|103456000011|15967896789
	H0007|610826101202|张老汉|1|一般户|||610826194306150319|||
	H0008|610826102204|马小军|2|一般户|||61082619700101001X|6228480011223300088|103456000011|0912-5551234
	EOF
	test_cmp expected actual
'

test_expect_success 'the 15-digit number is stored upgraded, as earmark.id_upgrade gives it' '
	test_psql >actual <<-\EOF &&
	SET ROLE e20_admin;
	SELECT p.id_no = earmark.id_upgrade('\''610826430615031'\''), earmark.id_problem(p.id_no, DATE '\''2026-11-23'\'') IS NULL,
	       earmark.mask_id(p.id_no)
	  FROM earmark.household_private p
	  JOIN earmark.household h ON h.book_id = p.book_id AND h.household_id = p.household_id
	  JOIN earmark.book b ON b.book_id = h.book_id
	 WHERE b.code = '\''E20'\'' AND h.code = '\''H0007'\'';
	EOF
	echo "t|t|610826********0319" >expected &&
	test_cmp expected actual
'

test_expect_success 'projects keep their villages, details, budgets, targets, events and revisions' '
	test_psql <<<"$PROJECT_SQL" >actual &&
	cat >expected <<-\EOF &&
	P2026-001|JC|硬化道路3.2公里，宽4.5米|平安县乡村振兴局|刘明|平安路桥工程有限公司|2026-05-01|2026-10-31|610826101201
	P2026-002|CY|新建食用菌大棚20座|河口镇人民政府|赵强|平安农业开发有限公司|2026-05-15|2026-09-30|610826102203;610826102204
	P2026-003|WF|改造C、D级危房4户|平安县住房和城乡建设局|孙丽||2026-06-01|2026-11-30|610826101201;610826101202;610826102204
	P2026-004|JC|新修灌溉渠1.5公里|城关镇人民政府|周平|平安水利工程有限公司|2026-08-01|2026-12-31|610826101202
	P2026-005|CY|全村脱贫户发展产业奖补|高家堡镇人民政府|吴刚||2026-06-01|2026-12-31|610826103301
	P2026-001|ZY2026-01|100000000
	P2026-002|SJ2026-01|30000000
	P2026-003|ZY2026-01|20000000
	P2026-004|XJ2026-01|15000000
	P2026-005|ZY2026-01|100000000
	P2026-001|1|产出|硬化道路里程|≥3.2公里
	P2026-001|2|效益|受益脱贫人口|≥60人
	P2026-002|1|产出|新建大棚数量|20座
	P2026-003|1|产出|改造危房户数|4户
	P2026-003|2|满意度|受益群众满意度|≥95%
	P2026-004|1|产出|新修灌溉渠长度|1.5公里
	P2026-005|1|产出|奖补户数|50000户
	P2026-001|approval|2026-04-10||平乡振发〔2026〕21号|县级项目库入库并批复|e20_admin
	P2026-001|start|2026-05-06|||开工|e20_admin
	P2026-001|inspection|2026-07-15|40.00|平乡振验〔2026〕7号|中期检查：路基完成|e20_admin
	P2026-003|approval|2026-05-20||平建发〔2026〕5号||e20_admin
	P2026-003|start|2026-06-03||||e20_admin
	P2026-003|inspection|2026-10-20|100.00|平建验〔2026〕11号|逐户验收合格|e20_admin
	P2026-003|acceptance|2026-10-25||平建验〔2026〕12号|竣工验收|e20_admin
	P2026-005|approval|2026-06-01||平乡振发〔2026〕40号||e20_admin
	P2026-001|ZY2026-01|2026-08-01|108000000|平乡振调〔2026〕2号||e20_admin
	P2026-003|ZY2026-01|2026-09-01|26000000|平建调〔2026〕1号|平建发〔2026〕9号|e20_admin
	EOF
	test_cmp expected actual
'

test_expect_success 'categories, negative list version 2, household caps and settings are imported beside the seeded ones' '
	test_psql -v book=E20 <<<"$SEED_SQL" >actual &&
	cat >expected <<-\EOF &&
	CY|产业发展
	HJ|人居环境整治
	JC|农村基础设施
	JY|就业帮扶
	JZ|教育帮扶
	NX01|行政事业单位基本支出
	NX02|交通工具及通讯设备
	NX03|楼堂馆所
	NX04|弥补企业亏损
	NX05|城市道路和城市基础设施
	NX06|企业担保金
	NX07|工资津贴补贴奖金
	NX08|偿还债务和垫资
	NX09|购置公务用车
	TS|特色产业
	WF|农村危房改造
	XD|小额信贷贴息
	YL|健康帮扶
	1|2021-01-01|e20_admin|NX01 NX02 NX03 NX04 NX05 NX06 NX07 NX08
	2|2026-07-01|e20_admin|NX07 NX08 NX09
	CY|2025|1000000
	CY|2026|1000000
	CY|2027|1000000
	JY|2026|500000
	TS|2026|800000
	WF|2025|4000000
	WF|2026|4000000
	WF|2027|4000000
	advance_share_bp|2000
	notice_days|15
	retention_share_bp|300
	EOF
	test_cmp expected actual
'

test_expect_success 'a household file in UTF-8 with a BOM is read (the BOM is not part of the first column)' '
	"$EARMARK" "${ADMIN[@]}" master import household "$FIX/household_bom.csv" >out 2>err &&
	echo "imported 2 household rows from $FIX/household_bom.csv" >expected &&
	test_cmp expected out &&
	! test -s err &&
	test_psql -v like="H01%" <<<"$HOUSEHOLD_SQL" >actual &&
	cat >expected <<-\EOF &&
	H0101|610826101201|王春生|3|脱贫户|2019||610826197707070057|6228480011223301011|103456000011|13811110101
	H0102|610826102203|李秋菊|2|监测户|2024||610826196606060066|6217000022334401022|105456000022|13811110102
	EOF
	test_cmp expected actual
'

test_expect_success 'a household file in GB18030 with Chinese headers is read' '
	iconv -f UTF-8 -t GB18030 "$FIX/household_cn.csv" >gb.csv &&
	test_must_fail iconv -f UTF-8 -t UTF-8 gb.csv >/dev/null 2>&1 &&
	"$EARMARK" "${ADMIN[@]}" master import household gb.csv >out 2>err &&
	echo "imported 2 household rows from gb.csv" >expected &&
	test_cmp expected out &&
	! test -s err &&
	test_psql -v like="H02%" <<<"$HOUSEHOLD_SQL" >actual &&
	cat >expected <<-\EOF &&
	H0201|610826101202|张冬梅|1|脱贫户|2016||610826195505050075|6228480011223302011|103456000011|13822220201
	H0202|610826102204|马夏至|6|一般户|||610826198508150083|6228480011223302022|103456000011|13822220202
	EOF
	test_cmp expected actual
'

test_expect_success 'a GB18030 file read as --encoding utf-8 is refused, naming the byte' '
	test_psql -c "$HOUSEHOLD_SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" master import household gb.csv --encoding utf-8 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: file '\''gb.csv'\'' is not valid UTF-8
	detail: byte 0xbb at offset 0 (line 1) is not UTF-8
	hint: save the file from the spreadsheet as '\''CSV UTF-8'\''
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$HOUSEHOLD_SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a household file with bad ID numbers is refused whole, every bad line named (H1)' '
	test_psql -c "$HOUSEHOLD_SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" master import household "$FIX/household_bad.csv" >out 2>err &&
	! test -s out &&
	test_psql -c "$HOUSEHOLD_SNAPSHOT_SQL" >after &&
	test_cmp before after &&
	test_psql -c "SELECT count(*) FROM earmark.household WHERE code LIKE '\''H03%'\''" >actual &&
	echo 0 >expected &&
	test_cmp expected actual &&
	cat >expected <<-EOF &&
	earmark: error: file '\''$FIX/household_bad.csv'\'' has 4 problems; nothing was imported
	detail:   line 3: id_no '\''610826199205100031'\'': check digit is 1, the first 17 digits give 2: copy the number again from the ID card
	  line 4: id_no '\''610826199902300012'\'': birth date 19990230 does not exist: copy the number again from the ID card
	  line 5: id_no '\''610826209902010013'\'': birth date 20990201 is in the future: copy the number again from the ID card
	  line 7: id_no '\''610826196008080040'\'': the same ID number as line 6 (H1)
	hint: fix the lines named and run the command again
	EOF
	test_cmp expected err
'

test_expect_success 'a file'\''s text in a problem is cut to 40 bytes, control characters as ?, nothing imported' '
	esc=$(printf "\033") &&
	xs=$(printf "x%.0s" $(seq 100)) &&
	{ echo "$(sed -n 1p "$FIX/household_bad.csv"),${esc}[2J备注$xs" &&
	  sed -n 2p "$FIX/household_bad.csv" | sed "s/,610826198203040027,/,${esc}[31m610826198203040027,/;s/\$/,note/"; } >esc.csv &&
	test_psql -c "$HOUSEHOLD_SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" master import household esc.csv >out 2>err &&
	! test -s out && ! grep -q "$esc" err &&
	head -n 2 err >actual &&
	cat >expected <<-\EOF &&
	earmark: error: file '\''esc.csv'\'' has 2 problems; nothing was imported
	detail:   line 1: unknown column '\''?[2J备注xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'\''
	EOF
	test_cmp expected actual &&
	grep "^  line 2: id_no '\''?\[31m610826198203040027'\'': " err &&
	test_psql -c "$HOUSEHOLD_SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'the same ID number twice in a file is refused before the database is asked (H1)' '
	sed -n "1p;6,7p" "$FIX/household_bad.csv" >dup.csv &&
	test_psql -c "$HOUSEHOLD_SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" master import household dup.csv >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: file '\''dup.csv'\'' has 1 problem; nothing was imported
	detail:   line 3: id_no '\''610826196008080040'\'': the same ID number as line 2 (H1)
	hint: fix the lines named and run the command again
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$HOUSEHOLD_SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'an ID number registered by an earlier file is refused by the database, naming the line (H1)' '
	sed -n "1p;6p" "$FIX/household_bad.csv" >first.csv &&
	sed -n "1p;7p" "$FIX/household_bad.csv" >dup.csv &&
	"$EARMARK" "${ADMIN[@]}" master import household first.csv >out &&
	test_psql -c "$HOUSEHOLD_SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" master import household dup.csv >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: 1 of 1 household rows refused; nothing was imported
	detail: 1 problem:
	  dup.csv:2: ID number 610826********0040 is already registered for household '\''H0305'\'' (H1)
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$HOUSEHOLD_SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'an ID number already registered for another household is refused (H1)' '
	sed -n 1p "$FIX/household_bad.csv" >again.csv &&
	echo "H0309,610826101201,王重复,610826196503120214,1,,,,一般户" >>again.csv &&
	test_psql -c "$HOUSEHOLD_SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" master import household again.csv >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: 1 of 1 household rows refused; nothing was imported
	detail: 1 problem:
	  again.csv:2: ID number 610826********0214 is already registered for household '\''H0001'\'' (H1)
	EOF
	test_cmp expected err &&
	test_psql -c "$HOUSEHOLD_SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a clerk may not import households; an unknown kind is named' '
	test_psql -c "$HOUSEHOLD_SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" master import household "$FIX/household_bom.csv" 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: role '\''e20_clerk'\'' may not import master data
	detail: import master data needs membership in earmark_admin
	hint: an administrator can grant it: earmark user add e20_clerk --role admin
	EOF
	test_cmp expected err &&
	test_expect_code 1 "$EARMARK" "${ADMIN[@]}" master import households "$FIX/household_bom.csv" 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: unknown kind of master data '\''households'\''
	hint: one of: category, bank_account, fund, village, household, project, project_budget, project_target, project_event, budget_revision, negative_list, household_cap, setting
	EOF
	test_cmp expected err &&
	test_psql -c "$HOUSEHOLD_SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_done
