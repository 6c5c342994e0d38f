#!/usr/bin/env bash
# The roles matrix end to end (DESIGN section 8, issue 8): one person per
# job, each running a representative command of their own job, which
# works, and the commands of the other jobs, which are refused with a
# clean earmark error naming the person, the command and the role it
# needs (never a bare "permission denied"), exit 1, nothing written, and
# recorded in the exceptions log.
#
#   clerk       drafts vouchers, lists and batches; does not review or post
#   reviewer    reviews; bookkeeper posts; neither drafts
#   cashier     matches statements, exports payment files; never reviews (D6)
#   admin       master data, lists published, periods closed; no vouchers
#   auditor     reads, verifies and exports the audit package; writes nothing
#   public      the published notices only (public_notice), nothing else
#
# Then the township scope (migration 0016): a clerk added with
# --township 610826101 (城关镇) sees only its villages' households and
# cannot pay a batch naming a household of 河口镇 (T1); `user scope
# --county` gives the county back.
#
# Book E15, fixtures of tests/fixtures/e2e/disburse (see 22_pay_batch.sh):
# L2026-WF-01 published 2026-11-02 for 10 days; batch_good.csv pays H0001,
# H0002, H0005 (城关镇) and H0006 (马家坪村, 河口镇).
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/fixtures/audit/lib.sh"

FIX=$SRCDIR/tests/fixtures/e2e/disburse
BOOK=E15
ACCT=622848001122334455
ADMIN=(--user e15_admin --book "$BOOK")
CLERK=(--user e15_clerk --book "$BOOK")
REV=(--user e15_rev --book "$BOOK")
BK=(--user e15_bk --book "$BOOK")
CASH=(--user e15_cash --book "$BOOK")
AUD=(--user e15_aud --book "$BOOK")
BOARD=(--user e15_board --book "$BOOK")
TCLERK=(--user e15_tclerk --book "$BOOK")

# Everything a refused command could have written.
SNAPSHOT_SQL=$(cat <<'EOF'
SELECT 'voucher', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.voucher t
UNION ALL SELECT 'line', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.line t
UNION ALL SELECT 'pay_batch', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.pay_batch t
UNION ALL SELECT 'household_payment', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.household_payment t
UNION ALL SELECT 'household', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.household t
UNION ALL SELECT 'beneficiary_list', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.beneficiary_list t
UNION ALL SELECT 'period', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.period t
UNION ALL SELECT 'notice', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.notice t
UNION ALL SELECT 'audit_package', count(*), md5(coalesce(string_agg(t::text, ';' ORDER BY t::text), '')) FROM earmark.audit_package t;
EOF
)

# refused WHO NEEDS CMD...: the command fails with exit 1, its error names
# the person and the job it needs, says no raw "permission denied", and
# changes nothing.
refused() {
	local who=$1 needs=$2
	shift 2
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" --user "$who" --book "$BOOK" "$@" >out 2>err &&
	head -1 err >first &&
	if ! grep -q -e "^earmark: error: '$who' may not run '.*': it needs the .*$needs" \
	             -e "^earmark: error: role '$who' may not " first; then
		echo "not the refusal expected for $who ($needs):" && cat err && return 1
	fi &&
	if grep -q "permission denied" err; then
		echo "raw permission error:" && cat err && return 1
	fi &&
	grep -q "^hint: .*earmark user add $who --role " err &&
	! test -s out &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
}

test_expect_success 'setup: one person per job, book E15, master data, funds received, a published list' '
	"$EARMARK" user add e15_admin --role admin &&
	"$EARMARK" user add e15_clerk --role clerk &&
	"$EARMARK" user add e15_rev --role reviewer &&
	"$EARMARK" user add e15_bk --role bookkeeper &&
	"$EARMARK" user add e15_cash --role cashier &&
	"$EARMARK" user add e15_aud --role auditor &&
	"$EARMARK" user add e15_board --role public &&
	"$EARMARK" "${ADMIN[@]}" book create "$BOOK" --name "e2e 平安县专项资金" \
		--start 2026-01-01 --accounts "$SRCDIR/config/accounts.csv" >/dev/null &&
	for kind in category bank_account fund village household project project_budget \
		    project_target project_event; do
		"$EARMARK" "${ADMIN[@]}" master import $kind "$FIX/$kind.csv" >/dev/null || exit 1
	done &&
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/receive_zy.csv" --date 2026-03-02 >ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" >/dev/null &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat ref)" >/dev/null &&
	"$EARMARK" "${CLERK[@]}" list create L2026-WF-01 "$FIX/list_wf.csv" --project P2026-003 \
		--title "2026年农村危房改造补助对象公示" >/dev/null &&
	"$EARMARK" "${ADMIN[@]}" list publish L2026-WF-01 --from 2026-11-02 --days 10 >/dev/null &&
	make_ca ca && make_signer signer ca
'

# --- clerk ------------------------------------------------------------------

test_expect_success 'clerk: drafts a voucher (制单)' '
	"$EARMARK" "${CLERK[@]}" voucher draft "$FIX/receive_sj.csv" --date 2026-03-05 >draft &&
	grep -q "^#[0-9][0-9]*$" draft
'

test_expect_success 'clerk: cannot review, post, export payments, match statements, close periods or import villages' '
	refused e15_clerk reviewer voucher review "$(cat draft)" &&
	refused e15_clerk bookkeeper voucher post "$(cat draft)" &&
	refused e15_clerk cashier statement match --account "$ACCT" &&
	refused e15_clerk admin period close 2026-01 &&
	refused e15_clerk admin master import village "$FIX/village.csv" &&
	refused e15_clerk admin list publish L2026-WF-01 --from 2026-11-02
'

test_expect_success 'clerk: the refusal reads as a job, not a grant' '
	test_expect_code 1 "$EARMARK" "${CLERK[@]}" voucher post "$(cat draft)" 2>err &&
	cat >expected <<-EOF &&
	earmark: error: '\''e15_clerk'\'' may not run '\''voucher post'\'': it needs the bookkeeper role
	detail: function earmark.voucher_post is granted to: bookkeeper (DESIGN section 8)
	hint: a person of that job runs it; or the database administrator grants it: earmark user add e15_clerk --role bookkeeper
	EOF
	test_cmp expected err
'

# --- reviewer and bookkeeper ----------------------------------------------------

test_expect_success 'reviewer: cannot draft, post or pay' '
	refused e15_rev clerk voucher draft "$FIX/receive_sj.csv" --date 2026-03-05 &&
	refused e15_rev bookkeeper voucher post "$(cat draft)" &&
	refused e15_rev clerk pay batch "$FIX/batch_good.csv" --code B-REV --date 2026-11-16
'

test_expect_success 'reviewer: reviews (审核)' '
	"$EARMARK" "${REV[@]}" voucher review "$(cat draft)" >out &&
	test_psql -c "SELECT status, reviewed_by FROM earmark.voucher WHERE voucher_id = $(tr -d "#" <draft)" >actual &&
	echo "reviewed|e15_rev" >expected &&
	test_cmp expected actual
'

test_expect_success 'bookkeeper: cannot draft or match statements' '
	refused e15_bk clerk voucher draft "$FIX/receive_sj.csv" --date 2026-03-05 &&
	refused e15_bk cashier statement match --account "$ACCT"
'

test_expect_success 'bookkeeper: posts (记账)' '
	"$EARMARK" "${BK[@]}" voucher post "$(cat draft)" >number &&
	grep -q "^收-2026-03-[0-9][0-9][0-9][0-9]$\|^记-2026-03-[0-9][0-9][0-9][0-9]$" number
'

# --- township scope (T1), before the batch ------------------------------------------

test_expect_success 'user add --township: a clerk of 城关镇 (610826101); a bad township is refused' '
	test_expect_code 1 "$EARMARK" --book "$BOOK" user add e15_bad --role clerk --township 610826199 2>err &&
	grep -q "^earmark: error: no village of book '\''E15'\'' lies in township '\''610826199'\'' (T1)$" err &&
	test_psql -c "SELECT count(*) FROM pg_roles WHERE rolname = '\''e15_bad'\''" >actual &&
	echo 0 >expected && test_cmp expected actual &&
	test_expect_code 1 "$EARMARK" --book "$BOOK" user add e15_aud --role auditor --township 610826101 2>err &&
	grep -q "cannot be scoped to townships (T1)" err &&
	"$EARMARK" --book "$BOOK" user add e15_tclerk --role clerk --township 610826101 >out &&
	grep -q "^user '\''e15_tclerk'\'' works in townships 610826101 of book '\''E15'\''$" out
'

test_expect_success 'township clerk: a batch with a household of 河口镇 is refused, naming the line (T1)' '
	test_psql -c "$SNAPSHOT_SQL" >before &&
	test_expect_code 1 "$EARMARK" "${TCLERK[@]}" pay batch "$FIX/batch_good.csv" --code B-T1 --date 2026-11-16 2>err &&
	grep -q "^earmark: error: .*batch_good.csv:5: household H0006 in village 610826102204 马家坪村 is outside the townships of '\''e15_tclerk'\'' (T1 township scope)$" err &&
	grep -q "^hint: .*earmark user scope e15_tclerk --township" err &&
	test_psql -c "$SNAPSHOT_SQL" >after &&
	test_cmp before after
'

# --- a batch through the jobs ---------------------------------------------------

test_expect_success 'clerk: prepares a payment batch; reviewer and bookkeeper pass it' '
	"$EARMARK" "${CLERK[@]}" pay batch "$FIX/batch_good.csv" --code B2026-11-01 --date 2026-11-16 >/dev/null &&
	refused e15_clerk reviewer pay review B2026-11-01 &&
	"$EARMARK" "${REV[@]}" pay review B2026-11-01 >/dev/null &&
	refused e15_rev bookkeeper pay post B2026-11-01 &&
	"$EARMARK" "${BK[@]}" pay post B2026-11-01 >/dev/null
'

# --- cashier ----------------------------------------------------------------------

test_expect_success 'cashier: cannot draft, review (D6) or post' '
	refused e15_cash clerk voucher draft "$FIX/receive_sj.csv" --date 2026-03-05 &&
	refused e15_cash reviewer pay review B2026-11-01 &&
	refused e15_cash bookkeeper pay post B2026-11-01 &&
	refused e15_cash admin period close 2026-01
'

test_expect_success 'cashier: exports the payment file and matches statements (出纳)' '
	"$EARMARK" "${CASH[@]}" pay export B2026-11-01 -o pay.xml >/dev/null &&
	test -s pay.xml &&
	"$EARMARK" "${CASH[@]}" statement match --account "$ACCT" >/dev/null
'

test_expect_success 'clerk and others: only the cashier exports payments' '
	refused e15_clerk cashier pay export B2026-11-01 -o no.xml &&
	refused e15_admin cashier pay export B2026-11-01 -o no.xml &&
	! test -e no.xml
'

# --- admin ------------------------------------------------------------------------

test_expect_success 'admin: cannot draft, review or post' '
	refused e15_admin clerk voucher draft "$FIX/receive_sj.csv" --date 2026-03-05 &&
	refused e15_admin reviewer voucher review "#1" &&
	refused e15_admin bookkeeper voucher post "#1"
'

test_expect_success 'admin: master data and periods' '
	printf "code,name\nZZ,测试用途\n" >cat.csv &&
	"$EARMARK" "${ADMIN[@]}" master import category cat.csv >/dev/null &&
	"$EARMARK" "${ADMIN[@]}" period close 2026-01 >/dev/null &&
	test_psql -c "SELECT count(*) FROM earmark.period WHERE closed_at IS NOT NULL" >actual &&
	echo 1 >expected &&
	test_cmp expected actual
'

# --- auditor ----------------------------------------------------------------------

test_expect_success 'auditor: cannot draft, import, close periods, publish or export payments' '
	refused e15_aud clerk voucher draft "$FIX/receive_sj.csv" --date 2026-03-05 &&
	refused e15_aud admin master import category cat.csv &&
	refused e15_aud admin period close 2026-02 &&
	refused e15_aud admin notice publish --project P2026-003 --kind plan --from 2026-11-02 &&
	refused e15_aud cashier pay export B2026-11-01 -o no.xml
'

test_expect_success 'auditor: reads, verifies and exports' '
	"$EARMARK" "${AUD[@]}" report trial-balance --as-of 2026-11-30 --format csv -o tb.csv >/dev/null &&
	test -s tb.csv &&
	"$EARMARK" "${AUD[@]}" ledger verify-chain >/dev/null &&
	"$EARMARK" "${AUD[@]}" audit export --from 2026-03-01 --to 2026-11-30 \
		--key signer.key --cert signer.pem -o e15.asice >/dev/null &&
	"$EARMARK" audit verify e15.asice --ca ca.pem >/dev/null
'

test_expect_success 'only the auditor exports the audit package' '
	refused e15_admin auditor audit export --from 2026-03-01 --to 2026-11-30 \
		--key signer.key --cert signer.pem -o no.asice &&
	! test -e no.asice
'

# --- public -----------------------------------------------------------------------

test_expect_success 'public: no voucher, report, household or command of the office' '
	refused e15_board clerk voucher list &&
	refused e15_board auditor report trial-balance --as-of 2026-11-30 &&
	refused e15_board auditor report household-ledger --household H0001 --as-of 2026-11-30 &&
	refused e15_board clerk voucher draft "$FIX/receive_sj.csv" --date 2026-03-05
'

test_expect_success 'public: reads the published notices and nothing else, in psql too' '
	"$EARMARK" "${ADMIN[@]}" notice contact --publisher 平安县乡村振兴局 --hotline 0916-1234567 >/dev/null &&
	"$EARMARK" "${ADMIN[@]}" notice publish --project P2026-003 --kind plan --from 2026-11-02 >/dev/null &&
	test_psql -U e15_board -c "SELECT count(*) FROM earmark.public_notice" >actual &&
	echo 1 >expected &&
	test_cmp expected actual &&
	test_must_fail test_psql -U e15_board -c "SELECT count(*) FROM earmark.notice" 2>err &&
	grep -q "permission denied for table notice" err &&
	test_must_fail test_psql -U e15_board -c "SELECT count(*) FROM earmark.household_private" 2>err &&
	test_must_fail test_psql -U e15_board -c "SELECT earmark.mask_id('\''610826196503120214'\'')" 2>err
'

# --- the exceptions log ----------------------------------------------------------

# The board's own refusals are not logged: earmark_public may call no
# function, refusal_log included.
test_expect_success 'every refusal of the office above is in the exceptions log as a privilege refusal' '
	test_psql -c "SELECT count(*) > 20, bool_and(rule = '\''privilege'\''), count(DISTINCT refused_by) = 6
	                FROM earmark.refusal WHERE sqlstate = '\''42501'\''" >actual &&
	echo "t|t|t" >expected &&
	test_cmp expected actual
'

# --- township scope (T1), after the batch -------------------------------------------


test_expect_success 'township clerk: sees only 城关镇 households, in psql too' '
	test_psql -U e15_tclerk -c "SELECT string_agg(code, '\'','\'' ORDER BY code) FROM earmark.household" >actual &&
	echo "H0001,H0002,H0005,H0007" >expected &&
	test_cmp expected actual &&
	test_psql -U e15_tclerk -c "SELECT count(*) FROM earmark.household_payment" >actual &&
	echo 3 >expected &&
	test_cmp expected actual
'


test_expect_success 'township clerk: the hash chain is the county'\''s to verify (T1)' '
	test_expect_code 1 "$EARMARK" "${TCLERK[@]}" ledger verify-chain >out 2>err &&
	cat >expected <<-EOF &&
	earmark: error: '\''ledger verify-chain'\'' needs the whole book: a township officer sees only their townships (T1)
	detail: you work in townships 610826101 of book '\''E15'\''
	hint: the county office or the auditor runs it
	EOF
	test_cmp expected err &&
	! test -s out
'

test_expect_success 'user scope --county: the county back; the scope is not the clerk'\''s to change' '
	test_expect_code 2 "$EARMARK" --book "$BOOK" user scope e15_tclerk 2>err &&
	"$EARMARK" --book "$BOOK" user scope e15_tclerk --county >out &&
	grep -q "works for the whole county" out &&
	test_psql -U e15_tclerk -c "SELECT count(*) FROM earmark.household" >actual &&
	test_psql -c "SELECT count(*) FROM earmark.household" >expected &&
	test_cmp expected actual &&
	test_must_fail test_psql -U e15_tclerk -c "SELECT earmark.user_scope('\''E15'\'', '\''e15_tclerk'\'', '\''{}'\'')" 2>err &&
	grep -q "permission denied for function user_scope" err
'

test_done
