#!/usr/bin/env bash
# A project paid by progress (DESIGN section 5, flow 3) on the command line:
# project event records the approval, start and inspection (P1 keeps them
# in order and out of the future); project revise records budget revisions
# (P2: up to +10 % over the original plan freely, beyond only with a
# re-approval document); project claim (报账) drafts the payable and the
# payment, refused when documents are missing (P4, each named), when the
# receipt count disagrees, when the project is not approved (P1) or when
# the money goes beyond the inspected progress plus the advance (P3); good
# claims are reviewed and posted like any voucher, and a retry with the
# same key is answered with the first claim (D9).  fund interest drafts
# the interest of a dedicated account shared by its funds' balances (A4).
#
# Book E21: ZY2026-01 receives 5,000,000.00 on 2026-03-02 and SJ2026-01
# 1,200,000.00 on 2026-03-20, both into 622848001122334455.  P2026-001
# (budget 1,000,000.00 from ZY2026-01) is approved 2026-04-10, started
# 2026-05-06 and inspected at 40 % on 2026-07-15: before acceptance it may
# be paid 40 % + 30 % advance = 700,000.00.  It is paid 600,000.00 on
# 2026-07-20; its budget is revised to 1,100,000.00 on 2026-08-01 and,
# re-approved, to 1,200,000.00 on 2026-08-10, which allows 840,000.00: it
# is paid 240,000.00 more on 2026-08-20.  P2026-004 is never approved.
# Fixtures in tests/fixtures/e2e/disburse.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

FIX=$SRCDIR/tests/fixtures/e2e/disburse
BOOK=E21
ADMIN=(--user e21_admin --book "$BOOK")
CLERK=(--user e21_clerk --book "$BOOK")
REV=(--user e21_rev --book "$BOOK")
BK=(--user e21_bk --book "$BOOK")
TOMORROW=$(date -d tomorrow +%F)
# The documents of P2026-001's first claim.
DOCS=(--inspection 平乡振验〔2026〕7号 --plan 平乡振用〔2026〕3号 --contract PALQ-2026-015)

# Row counts and digests of every table a project step writes.
SNAPSHOT_SQL=$(cat <<'EOF'
SELECT 'voucher', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.voucher t
UNION ALL SELECT 'line', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.line t
UNION ALL SELECT 'project_event', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.project_event t
UNION ALL SELECT 'budget_revision', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.budget_revision t
UNION ALL SELECT 'project_claim', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.project_claim t
UNION ALL SELECT 'project_spend', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.project_spend t;
EOF
)

EVENTS_SQL=$(cat <<'EOF'
SELECT p.code, e.kind, e.event_date, e.progress_pct, e.doc_no, e.note, e.recorded_by
  FROM earmark.project_event e
  JOIN earmark.project p ON p.book_id = e.book_id AND p.project_id = e.project_id
 ORDER BY p.code, e.event_date, e.kind;
EOF
)

REVISIONS_SQL=$(cat <<'EOF'
SELECT p.code, f.code, r.revised_on, r.amount_fen, r.doc_no, r.reapproval_doc, r.recorded_by
  FROM earmark.budget_revision r
  JOIN earmark.project p ON p.book_id = r.book_id AND p.project_id = r.project_id
  JOIN earmark.fund f ON f.book_id = r.book_id AND f.fund_id = r.fund_id
 ORDER BY r.revised_on, r.revision_id;
EOF
)

test_expect_success 'setup: people, book E21, master data without events, funds received' '
	"$EARMARK" user add e21_admin --role admin &&
	"$EARMARK" user add e21_clerk --role clerk &&
	"$EARMARK" user add e21_rev --role reviewer &&
	"$EARMARK" user add e21_bk --role bookkeeper &&
	"$EARMARK" "${ADMIN[@]}" book create "$BOOK" --name "e2e 平安县专项资金" \
		--start 2026-01-01 --accounts "$SRCDIR/config/accounts.csv" &&
	for kind in category bank_account fund village household project project_budget project_target; do
		"$EARMARK" "${ADMIN[@]}" master import $kind "$FIX/$kind.csv" || exit 1
	done &&
	for r in zy:2026-03-02 sj:2026-03-20; do
		"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/receive_${r%%:*}.csv" --date "${r##*:}" >ref &&
		"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" &&
		"$EARMARK" "${BK[@]}" voucher post "$(cat ref)" || exit 1
	done &&
	test_psql -c "SELECT count(*) FROM earmark.voucher WHERE status = '\''posted'\''" >actual &&
	echo 2 >expected &&
	test_cmp expected actual
'

# --- project event -------------------------------------------------------

test_expect_success 'project event: nothing happens to a project before its approval (P1)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project event P2026-001 start --date 2026-05-06 >out 2>err &&
	! test -s out &&
	grep "project '\''P2026-001'\'' is not approved on 2026-05-06 (P1)" err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'project event: the refusal is the rule'\''s own message and hint, not an import report' '
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project event P2026-001 start --date 2026-05-06 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: project '\''P2026-001'\'' is not approved on 2026-05-06 (P1)
	hint: record the approval (立项批复) first
	EOF
	test_cmp expected err
'

test_expect_success 'project event: a clerk records the approval, the start and an inspection' '
	"$EARMARK" "${CLERK[@]}" project event P2026-001 approval --date 2026-04-10 \
		--doc 平乡振发〔2026〕21号 --note 县级项目库入库并批复 >out &&
	"$EARMARK" "${CLERK[@]}" project event P2026-001 start --date 2026-05-06 --note 开工 >>out &&
	"$EARMARK" "${CLERK[@]}" project event P2026-001 inspection --date 2026-07-15 --progress 40 \
		--doc 平乡振验〔2026〕7号 --note 中期检查：路基完成 >>out &&
	cat >expected <<-\EOF &&
	project '\''P2026-001'\'': approval recorded on 2026-04-10
	project '\''P2026-001'\'': start recorded on 2026-05-06
	project '\''P2026-001'\'': inspection recorded on 2026-07-15
	EOF
	test_cmp expected out &&
	test_psql <<<"$EVENTS_SQL" >actual &&
	cat >expected <<-\EOF &&
	P2026-001|approval|2026-04-10||平乡振发〔2026〕21号|县级项目库入库并批复|e21_clerk
	P2026-001|start|2026-05-06|||开工|e21_clerk
	P2026-001|inspection|2026-07-15|40.00|平乡振验〔2026〕7号|中期检查：路基完成|e21_clerk
	EOF
	test_cmp expected actual
'

test_expect_success 'project event refuses a second approval, a future date, a progress without percentage or above 100, an unknown kind' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project event P2026-001 approval --date 2026-04-11 \
		--doc 平乡振发〔2026〕99号 2>err &&
	grep "the project already has this event" err &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project event P2026-001 progress --date "$TOMORROW" \
		--progress 50 2>err &&
	grep "project event dated $TOMORROW is in the future" err &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project event P2026-001 inspection --date 2026-08-15 \
		--doc 平乡振验〔2026〕8号 2>err &&
	grep "progress and inspection events need progress (0-100), the others none" err &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project event P2026-001 progress --date 2026-08-15 \
		--progress 130 2>err &&
	grep "progress: 0 to 100" err &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project event P2026-001 finish --date 2026-08-15 2>err &&
	grep "kind: one of approval, start, progress, inspection, acceptance" err &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project event P2026-009 approval --date 2026-08-15 \
		--doc X 2>err &&
	grep "unknown project '\''P2026-009'\''" err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'project event: a reviewer may not record events' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${REV[@]}" project event P2026-001 progress --date 2026-08-15 \
		--progress 50 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: '\''e21_rev'\'' may not run '\''project event'\'': it needs the clerk or admin role
	detail: function earmark.master_import is granted to: clerk or admin (DESIGN section 8)
	hint: a person of that job runs it; or the database administrator grants it: earmark user add e21_rev --role clerk
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

# --- project claim ---------------------------------------------------------

test_expect_success 'project claim names every missing document (P4) and writes nothing' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project claim P2026-001 --fund ZY2026-01 \
		--amount 600,000.00 --date 2026-07-20 --plan 平乡振用〔2026〕3号 --contract PALQ-2026-015 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: the claim for project '\''P2026-001'\'' lacks its documents (P4)
	detail: missing: inspection record (--inspection), receipts (--receipts NO,NO,...)
	hint: a reimbursement (报账) carries the inspection record, spending plan, receipts and contract
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project claim P2026-001 --fund ZY2026-01 \
		--amount 600,000.00 --date 2026-07-20 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: the claim for project '\''P2026-001'\'' lacks its documents (P4)
	detail: missing: inspection record (--inspection), spending plan (--plan), contract (--contract), receipts (--receipts NO,NO,...)
	hint: a reimbursement (报账) carries the inspection record, spending plan, receipts and contract
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'project claim refuses a receipt count that disagrees with the receipts listed (P4)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project claim P2026-001 --fund ZY2026-01 \
		--amount 600,000.00 --date 2026-07-20 "${DOCS[@]}" --receipts 61002611,61002612 \
		--receipt-count 3 >out 2>err &&
	echo "earmark: error: the claim says 3 receipts but lists 2 (P4)" >expected &&
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'project claim for a project that is not approved is refused (P1)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project claim P2026-004 --fund XJ2026-01 \
		--amount 50,000.00 --date 2026-08-20 --inspection 城关验〔2026〕1号 --plan 城关用〔2026〕1号 \
		--contract PASL-2026-003 --receipts 61009001 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: line 1: project '\''P2026-004'\'' is not approved (P1)
	detail: 2 problems:
	  line 1: project '\''P2026-004'\'' is not approved (P1) (no approval on or before 2026-08-20)
	  payment to project '\''P2026-004'\'' from fund '\''XJ2026-01'\'' goes beyond its inspected progress and advance (P3) (budget 150,000.00, inspected progress 0%, advance 30% (not started), retention 3%: at most 0.00 before acceptance; paid before 0.00, this voucher 50,000.00)
	hint: record its approval first: earmark project event P2026-004 approval --doc DOC
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'project claim beyond the inspected progress plus the advance is refused (P3)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project claim P2026-001 --fund ZY2026-01 \
		--amount 800,000.00 --date 2026-07-20 "${DOCS[@]}" --receipts 61002611,61002612 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: payment to project '\''P2026-001'\'' from fund '\''ZY2026-01'\'' goes beyond its inspected progress and advance (P3)
	detail: budget 1,000,000.00, inspected progress 40%, advance 30% (started 2026-05-06), retention 3%: at most 700,000.00 before acceptance; paid before 0.00, this voucher 800,000.00
	hint: record the inspection of the progress (earmark project event P inspection --progress N) or the acceptance first
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'a good claim drafts the payable (转) and the payment (付) and records its documents' '
	"$EARMARK" "${CLERK[@]}" project claim P2026-001 --fund ZY2026-01 --amount 600,000.00 \
		--date 2026-07-20 "${DOCS[@]}" --receipts 61002611,61002612 --receipt-count 2 \
		--key e21-claim-1 >out 2>err &&
	! test -s err &&
	grep -x "claim [1-9][0-9]*: payable #[1-9][0-9]*, payment #[1-9][0-9]* (drafts: review and post them)" out &&
	cp out claim1.out &&
	sed "s/^.*payable \(#[0-9]*\), payment \(#[0-9]*\).*\$/\1/" out >payable1.ref &&
	sed "s/^.*payable \(#[0-9]*\), payment \(#[0-9]*\).*\$/\2/" out >payment1.ref &&
	"$EARMARK" "${CLERK[@]}" voucher show "$(cat payable1.ref)" --format csv >actual &&
	"$EARMARK" "${CLERK[@]}" voucher show "$(cat payment1.ref)" --format csv >>actual &&
	cat >expected <<-\EOF &&
	line,account,side,amount,fund,project,village,household,bank_account,category,memo
	1,5001,D,600000.00,ZY2026-01,P2026-001,,,,JC,报账 王家村产业路硬化
	2,2302,C,600000.00,ZY2026-01,P2026-001,,,,,应付 平安路桥工程有限公司
	line,account,side,amount,fund,project,village,household,bank_account,category,memo
	1,2302,D,600000.00,ZY2026-01,P2026-001,,,,,支付 平安路桥工程有限公司
	2,1002,C,600000.00,ZY2026-01,P2026-001,,,622848001122334455,,支付 平安路桥工程有限公司
	EOF
	sed -i "s/\$/\r/" expected &&
	test_cmp expected actual &&
	test_psql >actual <<-EOF &&
	SELECT v.voucher_id, v.vtype, v.status, v.voucher_date, v.memo, v.prepared_by
	  FROM earmark.voucher v WHERE v.voucher_id IN ($(cut -c2- payable1.ref), $(cut -c2- payment1.ref))
	 ORDER BY v.voucher_id;
	SELECT p.code, f.code, c.amount_fen, c.claim_date, c.inspection_doc, c.plan_doc, c.contract_doc,
	       c.receipts, c.idem_key, c.created_by
	  FROM earmark.project_claim c
	  JOIN earmark.project p ON p.book_id = c.book_id AND p.project_id = c.project_id
	  JOIN earmark.fund f ON f.book_id = c.book_id AND f.fund_id = c.fund_id;
	EOF
	cat >expected <<-EOF &&
	$(cut -c2- payable1.ref)|转|draft|2026-07-20|王家村产业路硬化 报账 应付平安路桥工程有限公司|e21_clerk
	$(cut -c2- payment1.ref)|付|draft|2026-07-20|王家村产业路硬化 报账 支付平安路桥工程有限公司|e21_clerk
	P2026-001|ZY2026-01|60000000|2026-07-20|平乡振验〔2026〕7号|平乡振用〔2026〕3号|PALQ-2026-015|{61002611,61002612}|e21-claim-1|e21_clerk
	EOF
	test_cmp expected actual
'

test_expect_success 'the claim'\''s drafts are reviewed and posted; the project'\''s spend is kept (P2, P3)' '
	"$EARMARK" "${REV[@]}" voucher review "$(cat payable1.ref)" &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat payment1.ref)" &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat payable1.ref)" >out &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat payment1.ref)" >>out &&
	printf "转-2026-07-0001\n付-2026-07-0001\n" >expected &&
	test_cmp expected out &&
	test_psql -c "SELECT spent_fen, contract_fen FROM earmark.project_spend" >actual &&
	echo "60000000|60000000" >expected &&
	test_cmp expected actual
'

test_expect_success 'the claim again with the same key answers the first claim and writes nothing (D9)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	"$EARMARK" "${CLERK[@]}" project claim P2026-001 --fund ZY2026-01 --amount 600,000.00 \
		--date 2026-07-20 "${DOCS[@]}" --receipts 61002611,61002612 --receipt-count 2 \
		--key e21-claim-1 >out &&
	test_cmp claim1.out out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project claim P2026-001 --fund ZY2026-01 \
		--amount 60,000.00 --date 2026-07-20 "${DOCS[@]}" --receipts 61002611 --key e21-claim-1 2>err &&
	echo "earmark: error: idempotency key '\''e21-claim-1'\'' was used for another claim (D9)" >expected &&
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

# --- project revise ----------------------------------------------------------

test_expect_success 'project revise: up to +10 % over the original plan needs no re-approval (P2)' '
	"$EARMARK" "${CLERK[@]}" project revise P2026-001 --fund ZY2026-01 --amount 1,100,000.00 \
		--doc 平乡振调〔2026〕2号 --date 2026-08-01 >out 2>err &&
	echo "budget of project '\''P2026-001'\'' from fund '\''ZY2026-01'\'' is 1,100,000.00 from 2026-08-01" >expected &&
	test_cmp expected out &&
	! test -s err &&
	test_psql <<<"$REVISIONS_SQL" >actual &&
	echo "P2026-001|ZY2026-01|2026-08-01|110000000|平乡振调〔2026〕2号||e21_clerk" >expected &&
	test_cmp expected actual
'

test_expect_success 'project revise: beyond +10 % without --reapproval is refused and writes nothing (P2)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project revise P2026-001 --fund ZY2026-01 \
		--amount 1,200,000.00 --doc 平乡振调〔2026〕4号 --date 2026-08-10 >out 2>err &&
	! test -s out &&
	grep "budget of project '\''P2026-001'\'' more than 10% over the original plan needs re-approval (P2)" err &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project revise P2026-001 --fund ZY2026-01 \
		--amount 1,100,000.01 --doc 平乡振调〔2026〕4号 --date 2026-08-10 2>err &&
	grep "needs re-approval (P2)" err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'project revise: the P2 refusal is the rule'\''s own message, detail and hint' '
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project revise P2026-001 --fund ZY2026-01 \
		--amount 1,200,000.00 --doc 平乡振调〔2026〕4号 --date 2026-08-10 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: budget of project '\''P2026-001'\'' more than 10% over the original plan needs re-approval (P2)
	detail: original 1,000,000.00, revised 1,200,000.00 (+20.0%)
	hint: name the re-approval document: --reapproval DOC
	EOF
	test_cmp expected err
'

test_expect_success 'project revise: a revision dated in the future is refused (D7)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project revise P2026-001 --fund ZY2026-01 \
		--amount 1,050,000.00 --doc 平乡振调〔2026〕5号 --date "$TOMORROW" 2>err &&
	grep "budget revision dated $TOMORROW is in the future" err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'project revise: a fund that gives the project no budget is refused by name, not by constraint' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project revise P2026-001 --fund XJ2026-01 \
		--amount 100,000.00 --doc 平乡振调〔2026〕5号 --date 2026-08-10 2>err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after &&
	! grep "violates foreign key constraint" err &&
	grep "P2026-001" err &&
	grep "XJ2026-01" err
'

test_expect_success 'project revise: beyond +10 % with --reapproval is recorded (P2)' '
	"$EARMARK" "${CLERK[@]}" project revise P2026-001 --fund ZY2026-01 --amount 1,200,000.00 \
		--doc 平乡振调〔2026〕4号 --reapproval 平乡振发〔2026〕30号 --date 2026-08-10 >out &&
	echo "budget of project '\''P2026-001'\'' from fund '\''ZY2026-01'\'' is 1,200,000.00 from 2026-08-10" >expected &&
	test_cmp expected out &&
	test_psql <<<"$REVISIONS_SQL" >actual &&
	cat >expected <<-\EOF &&
	P2026-001|ZY2026-01|2026-08-01|110000000|平乡振调〔2026〕2号||e21_clerk
	P2026-001|ZY2026-01|2026-08-10|120000000|平乡振调〔2026〕4号|平乡振发〔2026〕30号|e21_clerk
	EOF
	test_cmp expected actual &&
	test_psql >actual <<-\EOF &&
	SELECT d, earmark.budget_on(p.book_id, p.project_id, f.fund_id, d::date)
	  FROM earmark.project p JOIN earmark.fund f ON f.book_id = p.book_id AND f.code = '\''ZY2026-01'\''
	 CROSS JOIN (VALUES ('\''2026-07-31'\''), ('\''2026-08-01'\''), ('\''2026-08-10'\'')) x(d)
	 WHERE p.code = '\''P2026-001'\'' ORDER BY d;
	EOF
	cat >expected <<-\EOF &&
	2026-07-31|100000000
	2026-08-01|110000000
	2026-08-10|120000000
	EOF
	test_cmp expected actual
'

test_expect_success 'after the revision P3 allows 70 % of the revised budget: 240,000.01 more is refused, 240,000.00 is paid' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" project claim P2026-001 --fund ZY2026-01 \
		--amount 240,000.01 --date 2026-08-20 "${DOCS[@]}" --receipts 61002688 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: payment to project '\''P2026-001'\'' from fund '\''ZY2026-01'\'' goes beyond its inspected progress and advance (P3)
	detail: budget 1,200,000.00, inspected progress 40%, advance 30% (started 2026-05-06), retention 3%: at most 840,000.00 before acceptance; paid before 600,000.00, this voucher 240,000.01
	hint: record the inspection of the progress (earmark project event P inspection --progress N) or the acceptance first
	EOF
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after &&
	"$EARMARK" "${CLERK[@]}" project claim P2026-001 --fund ZY2026-01 --amount 240,000.00 \
		--date 2026-08-20 "${DOCS[@]}" --receipts 61002688 --key e21-claim-2 >out &&
	for ref in $(grep -o "#[0-9]*" out); do
		"$EARMARK" "${REV[@]}" voucher review "$ref" >/dev/null &&
		"$EARMARK" "${BK[@]}" voucher post "$ref" || exit 1
	done >posted &&
	printf "转-2026-08-0001\n付-2026-08-0001\n" >expected &&
	test_cmp expected posted &&
	test_psql -c "SELECT spent_fen, contract_fen FROM earmark.project_spend" >actual &&
	echo "84000000|84000000" >expected &&
	test_cmp expected actual
'

# --- fund interest -----------------------------------------------------------

test_expect_success 'fund interest on an account with no money in it is refused (A4)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" fund interest 621700002233445566 --amount 100.00 \
		--date 2026-09-21 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: no fund has money in dedicated account '\''621700002233445566'\'' on 2026-09-21 (A4)
	hint: interest is shared by the balances of the funds the account holds
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" fund interest 622848001122334455 --amount 0.00 \
		--date 2026-09-21 2>err &&
	echo "earmark: error: interest must be above zero" >expected &&
	test_cmp expected err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

test_expect_success 'interest booked by hand to one fund is refused: it belongs to the funds by balance (A4)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher draft "$FIX/interest_by_hand.csv" \
		--date 2026-09-21 >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: interest of dedicated account '\''622848001122334455'\'' is not shared by the funds'\'' balances (A4)
	detail: 2 problems:
	  interest of dedicated account '\''622848001122334455'\'' is not shared by the funds'\'' balances (A4) (fund '\''SJ2026-01'\'': by balance 773.91, booked 0.00)
	  interest of dedicated account '\''622848001122334455'\'' is not shared by the funds'\'' balances (A4) (fund '\''ZY2026-01'\'': by balance 2,682.87, booked 3,456.78)
	hint: earmark fund interest computes the shares
	EOF
	test_cmp expected err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

# On 2026-09-21 the account holds ZY2026-01 4,160,000.00 (5,000,000.00
# less 840,000.00 paid) and SJ2026-01 1,200,000.00: of 3,456.78,
# 345678 * 4160000 / 5360000 = 268287.40 and 345678 * 1200000 / 5360000 =
# 77390.60 fen; the fen left over by the floors goes to the larger
# remainder, SJ2026-01.
test_expect_success 'fund interest drafts the interest shared by the funds'\'' balances (A4)' '
	"$EARMARK" "${CLERK[@]}" fund interest 622848001122334455 --amount 3,456.78 --date 2026-09-21 \
		--key e21-interest-q3 >out 2>err &&
	! test -s err &&
	grep -x "interest drafted, shared by the funds'\'' balances (A4): #[1-9][0-9]*" out &&
	sed "s/^.*: //" out >interest.ref &&
	"$EARMARK" "${CLERK[@]}" voucher show "$(cat interest.ref)" --format csv >actual &&
	cat >expected <<-\EOF &&
	line,account,side,amount,fund,project,village,household,bank_account,category,memo
	1,1002,D,773.91,SJ2026-01,,,,622848001122334455,,"利息 按余额 1,200,000.00 分摊"
	2,4604,C,773.91,SJ2026-01,,,,,,专户利息收入
	3,1002,D,2682.87,ZY2026-01,,,,622848001122334455,,"利息 按余额 4,160,000.00 分摊"
	4,4604,C,2682.87,ZY2026-01,,,,,,专户利息收入
	EOF
	sed -i "s/\$/\r/" expected &&
	test_cmp expected actual &&
	"$EARMARK" "${CLERK[@]}" fund interest 622848001122334455 --amount 3,456.78 --date 2026-09-21 \
		--key e21-interest-q3 >again &&
	test_cmp out again
'

test_expect_success 'the interest is reviewed and posted; each fund'\''s trial balance shows its share' '
	"$EARMARK" "${REV[@]}" voucher review "$(cat interest.ref)" &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat interest.ref)" >out &&
	echo 收-2026-09-0001 >expected &&
	test_cmp expected out &&
	"$EARMARK" "${BK[@]}" report trial-balance --as-of 2026-11-23 --fund SJ2026-01 --format csv >actual &&
	cat >expected <<-\EOF &&
	code,account,debit,credit,balance_debit,balance_credit
	1002,银行存款,1200773.91,0.00,1200773.91,0.00
	4001,财政拨款收入,0.00,1200000.00,0.00,1200000.00
	4604,利息收入,0.00,773.91,0.00,773.91
	,合计 total,1200773.91,1200773.91,1200773.91,1200773.91
	EOF
	sed -i "s/\$/\r/" expected &&
	test_cmp expected actual &&
	"$EARMARK" "${BK[@]}" report trial-balance --as-of 2026-11-23 --fund ZY2026-01 --format csv >actual &&
	cat >expected <<-\EOF &&
	code,account,debit,credit,balance_debit,balance_credit
	1002,银行存款,5002682.87,840000.00,4162682.87,0.00
	2302,应付账款,840000.00,840000.00,0.00,0.00
	4001,财政拨款收入,0.00,5000000.00,0.00,5000000.00
	4604,利息收入,0.00,2682.87,0.00,2682.87
	5001,业务活动费用,840000.00,0.00,840000.00,0.00
	,合计 total,6682682.87,6682682.87,5002682.87,5002682.87
	EOF
	sed -i "s/\$/\r/" expected &&
	test_cmp expected actual
'

test_expect_success 'a reviewer may not draft interest; the chain still verifies' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${REV[@]}" fund interest 622848001122334455 --amount 1.00 \
		--date 2026-09-21 2>err &&
	grep -x "earmark: error: '\''e21_rev'\'' may not run '\''fund interest'\'': it needs the clerk role" err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after &&
	"$EARMARK" "${BK[@]}" ledger verify-chain >out &&
	grep "^hash chain of book '\''E21'\'' verifies: 7 vouchers, head [0-9a-f]\{64\}\$" out
'

test_done
