#!/usr/bin/env bash
# The voucher's life on the command line: a clerk drafts from CSV, a
# reviewer reviews, a bookkeeper posts; show and list print what the
# database holds; the trial balance (table and CSV) agrees with sums taken
# straight from earmark.line; the hash chain verifies; a 红字 reversal takes
# the books back to where they were and a voucher is reversed only once; a
# clerk discards a draft of their own and of nobody else; --help, unknown
# commands and unknown options exit as documented.
#
# earmark writes CSV as RFC 4180 says, lines ending in CRLF; expected CSV
# files are written with LF here and turned into CRLF with sed before the
# comparison, so the line ends are checked too.
#
# The book E10 has two receipts in March, an accrual and a payment (type 付)
# in April, and the payment's reversal in May.  Its use categories come
# with the book (config/use_categories.csv); the road project is approved,
# has its target and budget and has started, so the accrual may be paid
# (A3, P1-P3).
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

FIX=$SRCDIR/tests/fixtures/e2e
BOOK=E10
ADMIN=(--user e10_admin --book "$BOOK")
CLERK=(--user e10_clerk --book "$BOOK")
CLERK2=(--user e10_clerk2 --book "$BOOK")
REV=(--user e10_rev --book "$BOOK")
BK=(--user e10_bk --book "$BOOK")

# The trial balance as CSV, computed from posted lines alone: no
# period_balance, no earmark.trial_balance.  psql variables: as_of, fund
# ('' for all funds).
TB_SQL=$(cat <<'EOF'
WITH s AS (
	SELECT a.code, a.name,
	       sum(CASE WHEN l.side = 'D' THEN l.amount_fen ELSE 0 END) AS d,
	       sum(CASE WHEN l.side = 'C' THEN l.amount_fen ELSE 0 END) AS c
	  FROM earmark.line l
	  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id
	  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
	  JOIN earmark.fund f ON f.book_id = l.book_id AND f.fund_id = l.fund_id
	 WHERE v.status = 'posted' AND v.voucher_date <= :'as_of'::date
	   AND (:'fund' = '' OR f.code = :'fund')
	 GROUP BY a.code, a.name
), r AS (
	SELECT code, name, d, c, greatest(d - c, 0) AS bd, greatest(c - d, 0) AS bc
	  FROM s WHERE d <> 0 OR c <> 0
), m AS (
	SELECT 1 AS k, code AS o,
	       code || ',' || name || ',' || to_char(d / 100.0, 'FM999999999999999990.00') || ','
	       || to_char(c / 100.0, 'FM999999999999999990.00') || ','
	       || to_char(bd / 100.0, 'FM999999999999999990.00') || ','
	       || to_char(bc / 100.0, 'FM999999999999999990.00') AS x
	  FROM r
	UNION ALL
	SELECT 2, '',
	       ',合计 total,' || to_char(coalesce(sum(d), 0) / 100.0, 'FM999999999999999990.00') || ','
	       || to_char(coalesce(sum(c), 0) / 100.0, 'FM999999999999999990.00') || ','
	       || to_char(coalesce(sum(bd), 0) / 100.0, 'FM999999999999999990.00') || ','
	       || to_char(coalesce(sum(bc), 0) / 100.0, 'FM999999999999999990.00')
	  FROM r
)
SELECT 'code,account,debit,credit,balance_debit,balance_credit'
UNION ALL
(SELECT x FROM m ORDER BY k, o);
EOF
)

# One line per table the ledger writes: its row count and a digest of its
# rows, so that "nothing changed" is one test_cmp.
SNAPSHOT_SQL=$(cat <<'EOF'
SELECT 'voucher', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.voucher t
UNION ALL SELECT 'line', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.line t
UNION ALL SELECT 'period_balance', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.period_balance t
UNION ALL SELECT 'fund_cash', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.fund_cash t
UNION ALL SELECT 'voucher_counter', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.voucher_counter t
UNION ALL SELECT 'chain_head', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.chain_head t;
EOF
)

test_expect_success 'setup: people, book E10 and its master data' '
	"$EARMARK" user add e10_admin --role admin &&
	"$EARMARK" user add e10_clerk --role clerk &&
	"$EARMARK" user add e10_clerk2 --role clerk &&
	"$EARMARK" user add e10_rev --role reviewer &&
	"$EARMARK" user add e10_bk --role bookkeeper &&
	"$EARMARK" "${ADMIN[@]}" book create "$BOOK" --name "e2e 平安县专项资金" \
		--start 2026-01-01 --accounts "$SRCDIR/config/accounts.csv" >out &&
	echo "book '\''E10'\'' created, chart of accounts from $SRCDIR/config/accounts.csv" >expected &&
	test_cmp expected out &&
	for kind in bank_account fund village household project project_target project_budget \
		project_event; do
		"$EARMARK" "${ADMIN[@]}" master import $kind "$FIX/$kind.csv" || exit 1
	done &&
	test_psql -c "SELECT count(*) FROM earmark.fund" >actual &&
	echo 3 >expected &&
	test_cmp expected actual
'

test_expect_success 'a clerk drafts a voucher from CSV and is told its draft number' '
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_receive_zy.csv" --date 2026-03-02 \
		--memo 收到中央衔接资金 >out 2>err &&
	! test -s err &&
	grep -x "#[1-9][0-9]*" out &&
	cp out zy.ref &&
	test_psql -v id="$(cut -c2- zy.ref)" >actual <<-\EOF &&
	SELECT status, vtype, voucher_date, memo, prepared_by, reviewed_by IS NULL, number IS NULL
	  FROM earmark.voucher WHERE voucher_id = :id;
	SELECT line_no, side, amount_fen, memo FROM earmark.line WHERE voucher_id = :id ORDER BY line_no;
	EOF
	cat >expected <<-\EOF &&
	draft|记|2026-03-02|收到中央衔接资金|e10_clerk|t|t
	1|D|500000000|收到中央衔接资金
	2|C|500000000|收到中央衔接资金
	EOF
	test_cmp expected actual
'

test_expect_success 'the draft is listed as a draft and is not yet in the trial balance' '
	"$EARMARK" "${CLERK[@]}" voucher list --status draft --format csv >actual &&
	cat >expected <<-EOF &&
	ref,number,date,status,amount,memo,prepared_by,reviewed_by,posted_by
	$(cat zy.ref),,2026-03-02,draft,5000000.00,收到中央衔接资金,e10_clerk,,
	EOF
	sed -i "s/\$/\r/" expected &&
	test_cmp expected actual &&
	"$EARMARK" "${CLERK[@]}" voucher list --status posted --format csv >actual &&
	printf "ref,number,date,status,amount,memo,prepared_by,reviewed_by,posted_by\r\n" >expected &&
	test_cmp expected actual &&
	"$EARMARK" "${BK[@]}" report trial-balance --as-of 2026-11-23 --format csv >actual &&
	cat >expected <<-\EOF &&
	code,account,debit,credit,balance_debit,balance_credit
	,合计 total,0.00,0.00,0.00,0.00
	EOF
	sed -i "s/\$/\r/" expected &&
	test_cmp expected actual
'

test_expect_success 'a reviewer reviews the draft' '
	"$EARMARK" "${REV[@]}" voucher review "$(cat zy.ref)" >out &&
	echo "reviewed $(cat zy.ref)" >expected &&
	test_cmp expected out &&
	test_psql -c "SELECT status, reviewed_by, number IS NULL FROM earmark.voucher
	              WHERE voucher_id = $(cut -c2- zy.ref)" >actual &&
	echo "reviewed|e10_rev|t" >expected &&
	test_cmp expected actual
'

test_expect_success 'a bookkeeper posts it and is told the first number of March' '
	"$EARMARK" "${BK[@]}" voucher post "$(cat zy.ref)" >out 2>err &&
	echo 记-2026-03-0001 >expected &&
	test_cmp expected out &&
	! test -s err &&
	test_psql -c "SELECT status, number, number_text, posted_by, chain_seq, month
	              FROM earmark.voucher WHERE voucher_id = $(cut -c2- zy.ref)" >actual &&
	echo "posted|1|记-2026-03-0001|e10_bk|1|2026-03-01" >expected &&
	test_cmp expected actual
'

test_expect_success 'posting a posted voucher again answers its number and changes nothing' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat zy.ref)" >out &&
	echo 记-2026-03-0001 >expected &&
	test_cmp expected out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'voucher show by number prints the header and the lines' '
	"$EARMARK" "${CLERK[@]}" voucher show 记-2026-03-0001 >out &&
	test_psql -c "SELECT encode(chain_hash, '\''hex'\'') FROM earmark.voucher
	              WHERE number_text = '\''记-2026-03-0001'\''" >hash &&
	grep -x "[0-9a-f]\{64\}" hash &&
	cat >expected <<-EOF &&
	voucher $(cat zy.ref) 记-2026-03-0001  2026-03-02  记  posted
	memo: 收到中央衔接资金
	prepared by e10_clerk, reviewed by e10_rev, posted by e10_bk
	chain hash $(cat hash)

	EOF
	head -n 5 out >actual &&
	test_cmp expected actual &&
	grep "^   1  1002     D     5,000,000.00  ZY2026-01 .* 622848001122334455 .*收到中央衔接资金\$" out &&
	grep "^   2  4001     C     5,000,000.00  ZY2026-01 .*收到中央衔接资金\$" out
'

test_expect_success 'voucher show --format csv is the same by number and by draft reference' '
	"$EARMARK" "${CLERK[@]}" voucher show 记-2026-03-0001 --format csv >by-number &&
	"$EARMARK" "${CLERK[@]}" voucher show "$(cat zy.ref)" --format csv >by-ref &&
	cat >expected <<-\EOF &&
	line,account,side,amount,fund,project,village,household,bank_account,category,memo
	1,1002,D,5000000.00,ZY2026-01,,,,622848001122334455,,收到中央衔接资金
	2,4001,C,5000000.00,ZY2026-01,,,,,,收到中央衔接资金
	EOF
	sed -i "s/\$/\r/" expected &&
	test_cmp expected by-number &&
	test_cmp expected by-ref
'

test_expect_success 'a second receipt and an accrual are posted with the next numbers of their months' '
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_receive_xj.csv" --date 2026-03-05 \
		--memo 收到县级衔接资金 >xj.ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat xj.ref)" &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat xj.ref)" >out &&
	echo 记-2026-03-0002 >expected &&
	test_cmp expected out &&
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_accrue_road.csv" --date 2026-04-10 \
		--memo "王家村产业路 第一期进度款" >accrue.ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat accrue.ref)" &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat accrue.ref)" >out &&
	echo 记-2026-04-0001 >expected &&
	test_cmp expected out
'

test_expect_success 'the trial balance before the payment is kept for the reversal below' '
	"$EARMARK" "${BK[@]}" report trial-balance --as-of 2026-11-23 --format csv >tb-before-payment.csv &&
	test_psql -v as_of=2026-11-23 -v fund= <<<"$TB_SQL" >expected &&
	sed -i "s/\$/\r/" expected &&
	test_cmp expected tb-before-payment.csv
'

test_expect_success 'a payment of type 付 is numbered on its own: 付-2026-04-0001' '
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_pay_road.csv" --date 2026-04-12 --type 付 \
		--memo "支付王家村产业路 第一期进度款" >pay.ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat pay.ref)" &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat pay.ref)" >out &&
	echo 付-2026-04-0001 >expected &&
	test_cmp expected out &&
	test_psql -c "SELECT f.code, c.balance_fen FROM earmark.fund_cash c
	              JOIN earmark.fund f USING (book_id, fund_id) ORDER BY f.code" >actual &&
	cat >expected <<-\EOF &&
	XJ2026-01|30000000
	ZY2026-01|488000000
	EOF
	test_cmp expected actual
'

test_expect_success 'voucher list shows every voucher in date order' '
	"$EARMARK" "${CLERK[@]}" voucher list --format csv >actual &&
	cat >expected <<-EOF &&
	ref,number,date,status,amount,memo,prepared_by,reviewed_by,posted_by
	$(cat zy.ref),记-2026-03-0001,2026-03-02,posted,5000000.00,收到中央衔接资金,e10_clerk,e10_rev,e10_bk
	$(cat xj.ref),记-2026-03-0002,2026-03-05,posted,300000.00,收到县级衔接资金,e10_clerk,e10_rev,e10_bk
	$(cat accrue.ref),记-2026-04-0001,2026-04-10,posted,120000.00,王家村产业路 第一期进度款,e10_clerk,e10_rev,e10_bk
	$(cat pay.ref),付-2026-04-0001,2026-04-12,posted,120000.00,支付王家村产业路 第一期进度款,e10_clerk,e10_rev,e10_bk
	EOF
	sed -i "s/\$/\r/" expected &&
	test_cmp expected actual &&
	"$EARMARK" "${CLERK[@]}" voucher list --month 2026-03 --format csv >actual &&
	head -n 3 expected >expected-march &&
	test_cmp expected-march actual &&
	"$EARMARK" "${CLERK[@]}" voucher list >table &&
	grep "^ *$(cat pay.ref)  付-2026-04-0001  2026-04-12  posted  *120,000.00  支付王家村产业路" table
'

test_expect_success 'trial balance CSV: every row and the totals agree with sums over earmark.line' '
	"$EARMARK" "${BK[@]}" report trial-balance --as-of 2026-11-23 --format csv >actual &&
	cat >expected <<-\EOF &&
	code,account,debit,credit,balance_debit,balance_credit
	1002,银行存款,5300000.00,120000.00,5180000.00,0.00
	2302,应付账款,120000.00,120000.00,0.00,0.00
	4001,财政拨款收入,0.00,5300000.00,0.00,5300000.00
	5001,业务活动费用,120000.00,0.00,120000.00,0.00
	,合计 total,5540000.00,5540000.00,5300000.00,5300000.00
	EOF
	sed -i "s/\$/\r/" expected &&
	test_cmp expected actual &&
	test_psql -v as_of=2026-11-23 -v fund= <<<"$TB_SQL" >independent &&
	sed -i "s/\$/\r/" independent &&
	test_cmp independent actual &&
	test_psql >totals <<-\EOF &&
	SELECT sum(amount_fen) FILTER (WHERE side = '\''D'\''), sum(amount_fen) FILTER (WHERE side = '\''C'\'')
	  FROM earmark.line l JOIN earmark.voucher v USING (book_id, voucher_id)
	 WHERE v.status = '\''posted'\'';
	EOF
	echo "554000000|554000000" >expected-totals &&
	test_cmp expected-totals totals
'

test_expect_success 'trial balance as of a day inside a month and per fund agrees with earmark.line' '
	for as_of in 2026-03-01 2026-03-04 2026-03-31 2026-04-10 2026-04-11 2026-04-12 2026-11-23; do
		for fund in "" ZY2026-01 SJ2026-01 XJ2026-01; do
			"$EARMARK" "${BK[@]}" report trial-balance --as-of $as_of ${fund:+--fund $fund} \
				--format csv >actual &&
			test_psql -v as_of=$as_of -v fund=$fund <<<"$TB_SQL" >expected &&
			sed -i "s/\$/\r/" expected &&
			test_cmp expected actual || exit 1
		done
	done
'

test_expect_success 'trial balance table: totals line and the balanced verdict' '
	"$EARMARK" "${BK[@]}" report trial-balance --as-of 2026-11-23 >out &&
	head -n 1 out >actual &&
	echo "试算平衡表 trial balance  book E10  as of 2026-11-23" >expected &&
	test_cmp expected actual &&
	grep "^      合计 total    5,540,000.00  5,540,000.00   5,300,000.00    5,300,000.00\$" out &&
	tail -n 1 out >actual &&
	echo "balanced: debits equal credits" >expected &&
	test_cmp expected actual &&
	"$EARMARK" "${BK[@]}" report trial-balance --as-of 2026-11-23 --fund XJ2026-01 >out &&
	head -n 1 out >actual &&
	echo "试算平衡表 trial balance  book E10  as of 2026-11-23  fund XJ2026-01" >expected &&
	test_cmp expected actual
'

test_expect_success 'ledger verify-chain recomputes the chain in C and agrees with SQL' '
	"$EARMARK" "${CLERK[@]}" ledger verify-chain >out &&
	test_psql -c "SELECT seq, encode(hash, '\''hex'\'') FROM earmark.chain_head" >head &&
	echo "hash chain of book '\''E10'\'' verifies: 4 vouchers, head $(cut -d"|" -f2 head)" >expected &&
	test_cmp expected out &&
	test_psql -c "SELECT vouchers, encode(head, '\''hex'\''), first_bad IS NULL
	              FROM earmark.verify_chain('\''E10'\'')" >actual &&
	echo "4|$(cut -d"|" -f2 head)|t" >expected &&
	test_cmp expected actual
'

test_expect_success 'a clerk drafts the 红字 reversal of the payment: same lines, negated' '
	"$EARMARK" "${CLERK[@]}" voucher reverse 付-2026-04-0001 --date 2026-05-06 >rev.ref 2>err &&
	grep -x "#[1-9][0-9]*" rev.ref &&
	! test -s err &&
	"$EARMARK" "${CLERK[@]}" voucher show "$(cat rev.ref)" --format csv >actual &&
	cat >expected <<-\EOF &&
	line,account,side,amount,fund,project,village,household,bank_account,category,memo
	1,2302,D,-120000.00,ZY2026-01,P2026-001,610826101201,,,JC,支付第一期进度款
	2,1002,C,-120000.00,ZY2026-01,P2026-001,610826101201,,622848001122334455,JC,支付第一期进度款
	EOF
	sed -i "s/\$/\r/" expected &&
	test_cmp expected actual &&
	test_psql -c "SELECT v.status, v.vtype, v.memo, o.number_text FROM earmark.voucher v
	              JOIN earmark.voucher o ON o.book_id = v.book_id AND o.voucher_id = v.reverses_id
	              WHERE v.voucher_id = $(cut -c2- rev.ref)" >actual &&
	echo "draft|付|冲销 付-2026-04-0001 支付王家村产业路 第一期进度款|付-2026-04-0001" >expected &&
	test_cmp expected actual
'

test_expect_success 'the reversal is reviewed and posted as 付-2026-05-0001' '
	"$EARMARK" "${REV[@]}" voucher review "$(cat rev.ref)" &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat rev.ref)" >out &&
	echo 付-2026-05-0001 >expected &&
	test_cmp expected out &&
	"$EARMARK" "${CLERK[@]}" voucher show 付-2026-05-0001 >out &&
	grep -x "reverses 付-2026-04-0001" out
'

test_expect_success 'after the reversal the trial balance is back to before the payment' '
	"$EARMARK" "${BK[@]}" report trial-balance --as-of 2026-11-23 --format csv >actual &&
	test_cmp tb-before-payment.csv actual &&
	test_psql -v as_of=2026-11-23 -v fund= <<<"$TB_SQL" >independent &&
	sed -i "s/\$/\r/" independent &&
	test_cmp independent actual &&
	test_psql -c "SELECT f.code, c.balance_fen FROM earmark.fund_cash c
	              JOIN earmark.fund f USING (book_id, fund_id) ORDER BY f.code" >actual &&
	cat >expected <<-\EOF &&
	XJ2026-01|30000000
	ZY2026-01|500000000
	EOF
	test_cmp expected actual
'

test_expect_success 'a second reversal of the payment is refused and changes nothing (D4)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher reverse 付-2026-04-0001 --date 2026-05-07 \
		>out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: voucher 付-2026-04-0001 is already reversed (D4)
	detail: by 付-2026-05-0001
	hint: a voucher is reversed at most once
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'the reversal itself cannot be reversed (D4)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher reverse 付-2026-05-0001 --date 2026-05-07 \
		2>err &&
	cat >expected <<-\EOF &&
	earmark: error: voucher 付-2026-05-0001 is itself a reversal (D4)
	hint: post a new correct voucher instead
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'the chain still verifies after the reversal' '
	"$EARMARK" "${CLERK[@]}" ledger verify-chain >out &&
	test_psql -c "SELECT encode(hash, '\''hex'\'') FROM earmark.chain_head" >head &&
	echo "hash chain of book '\''E10'\'' verifies: 5 vouchers, head $(cat head)" >expected &&
	test_cmp expected out
'

test_expect_success 'a clerk discards a draft of their own' '
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_accrue_road.csv" --date 2026-05-08 >own.ref &&
	"$EARMARK" "${CLERK[@]}" voucher discard "$(cat own.ref)" >out &&
	echo "discarded $(cat own.ref)" >expected &&
	test_cmp expected out &&
	test_psql -c "SELECT count(*) FROM earmark.voucher WHERE voucher_id = $(cut -c2- own.ref)" \
		-c "SELECT count(*) FROM earmark.line WHERE voucher_id = $(cut -c2- own.ref)" >actual &&
	printf "0\n0\n" >expected &&
	test_cmp expected actual
'

test_expect_success 'another clerk cannot discard that draft (D3)' '
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_accrue_road.csv" --date 2026-05-08 >other.ref &&
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK2[@]}" voucher discard "$(cat other.ref)" 2>err &&
	cat >expected <<-EOF &&
	earmark: error: draft $(cat other.ref) belongs to '\''e10_clerk'\'' (D3)
	detail: drafts may be changed by their preparer only
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a posted voucher cannot be discarded (D3)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher discard 记-2026-03-0001 2>err &&
	echo "earmark: error: voucher 记-2026-03-0001 is posted and cannot be discarded (D3)" >expected &&
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'earmark --help and a command'\''s --help exit 0 and print usage' '
	"$EARMARK" --help >out 2>err &&
	head -n 1 out >actual &&
	echo "usage: earmark [--config FILE] [--user ROLE] [--book CODE] <command> [options]" >expected &&
	test_cmp expected actual &&
	grep "^  voucher draft  " out &&
	"$EARMARK" voucher draft --help >out 2>err &&
	head -n 1 out >actual &&
	echo "usage: earmark voucher draft FILE.csv [--date YYYY-MM-DD] [--memo TEXT] [--type 记|收|付|转] [--key KEY] [--encoding E]" >expected &&
	test_cmp expected actual &&
	! test -s err &&
	"$EARMARK" report trial-balance -h >out &&
	grep "^usage: earmark report trial-balance " out
'

test_expect_success 'earmark without a command prints the usage and exits 2' '
	test_expect_code 2 "$EARMARK" >out 2>err &&
	grep "^usage: earmark " err &&
	! test -s out
'

test_expect_success 'an unknown command exits 2 and names it' '
	test_expect_code 2 "$EARMARK" voucher frobnicate >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: unknown command '\''voucher frobnicate'\''
	hint: '\''earmark --help'\'' lists the commands
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_expect_code 2 "$EARMARK" frobnicate 2>err &&
	grep -x "earmark: error: unknown command '\''frobnicate'\''" err
'

test_expect_success 'an unknown option exits 2, names it and changes nothing' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 2 "$EARMARK" "${CLERK[@]}" voucher draft "$FIX/v_receive_zy.csv" \
		--date 2026-03-02 --bogus 1 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: unknown option '\''--bogus'\''
	hint: usage: earmark voucher draft FILE.csv [--date YYYY-MM-DD] [--memo TEXT] [--type 记|收|付|转] [--key KEY] [--encoding E]
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_expect_code 2 "$EARMARK" "${CLERK[@]}" voucher post 2>err &&
	grep -x "earmark: error: missing argument" err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_done
