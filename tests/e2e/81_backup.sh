#!/usr/bin/env bash
# Backups (issue 8, item 5): a book is dumped with pg_dump (custom format)
# and restored with pg_restore into a fresh, empty database of the same
# cluster, exactly as README "Backups" tells a county's IT to do it; the
# roles are cluster-wide, so they are already there (on a new server they
# come first, from pg_dumpall --roles-only).  After the restore:
#   - `earmark db init` finds the database up to date and applies nothing;
#   - the same rows: vouchers, lines, balances, counters, the chain head;
#   - `earmark ledger verify-chain` recomputes the chain (D8);
#   - `earmark audit verify` of the last package still passes, and the
#     package record is there, so the next export names it (X1);
#   - a new voucher posts with the next gapless number of its month (D5)
#     and links onto the restored chain head (D8);
#   - the original database is untouched.
# The pitfall is tested too: restoring into a database that `earmark db
# init` already migrated is refused (the objects exist), and nothing of the
# book gets there.
#
# Book E81 (the e2e fixtures): three vouchers in March and April 2026.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/fixtures/audit/lib.sh"

FIX=$SRCDIR/tests/fixtures/e2e
BOOK=E81
ADMIN=(--user e81_admin --book "$BOOK")
CLERK=(--user e81_clerk --book "$BOOK")
REV=(--user e81_rev --book "$BOOK")
BK=(--user e81_bk --book "$BOOK")
AUD=(--user e81_aud --book "$BOOK")
ORIG=$PGDATABASE
RESTORED=${PGDATABASE}_restored
CLASH=${PGDATABASE}_clash

# post FILE DATE: a voucher drafted, reviewed and posted; its number in posted.
post() {
	"$EARMARK" "${CLERK[@]}" voucher draft "$1" --date "$2" >ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" >/dev/null &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat ref)" >posted
}

# state DB: what a backup must carry, one line per fact.
STATE_SQL="
SELECT 'voucher', number_text, status, encode(chain_hash, 'hex') FROM earmark.voucher ORDER BY voucher_id;
SELECT 'lines', count(*), sum(amount_fen) FROM earmark.line;
SELECT 'head', seq, encode(hash, 'hex') FROM earmark.chain_head;
SELECT 'counter', vtype, month, last_number FROM earmark.voucher_counter ORDER BY 2, 3;
SELECT 'package', package_no, encode(signature_digest, 'hex') FROM earmark.audit_package ORDER BY 2;
SELECT 'migration', version, sha256 FROM earmark.schema_migration ORDER BY 2;"
state() {
	test_psql -d "$1" -c "$STATE_SQL"
}

# The restored databases are the script's own; run-all drops only $ORIG.
drop_extra() {
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$RESTORED\" WITH (FORCE)" \
		-c "DROP DATABASE IF EXISTS \"$CLASH\" WITH (FORCE)" >/dev/null 2>&1 || true
}
drop_extra
trap drop_extra EXIT

test_expect_success 'setup: book E81, three posted vouchers, a signed audit package' '
	"$EARMARK" user add e81_admin --role admin &&
	"$EARMARK" user add e81_clerk --role clerk &&
	"$EARMARK" user add e81_rev --role reviewer &&
	"$EARMARK" user add e81_bk --role bookkeeper &&
	"$EARMARK" user add e81_aud --role auditor &&
	"$EARMARK" "${ADMIN[@]}" book create "$BOOK" --name "e2e 平安县专项资金" \
		--start 2026-01-01 --accounts "$SRCDIR/config/accounts.csv" >/dev/null &&
	for kind in bank_account fund village household project project_target project_budget \
		project_event; do
		"$EARMARK" "${ADMIN[@]}" master import $kind "$FIX/$kind.csv" >/dev/null || exit 1
	done &&
	post "$FIX/v_receive_zy.csv" 2026-03-02 &&
	post "$FIX/v_receive_xj.csv" 2026-03-05 &&
	post "$FIX/v_accrue_road.csv" 2026-04-10 &&
	echo "记-2026-04-0001" >expected && test_cmp expected posted &&
	make_ca ca && make_signer signer ca &&
	"$EARMARK" "${AUD[@]}" audit export --from 2026-03-01 --to 2026-04-30 \
		--key signer.key --cert signer.pem -o p1.asice >/dev/null &&
	"$EARMARK" "${CLERK[@]}" ledger verify-chain >out &&
	grep "^hash chain of book .E81. verifies: 3 vouchers" out
'

test_expect_success 'pg_dump writes the database in custom format' '
	pg_dump --format=custom --file=book.dump "$ORIG" &&
	pg_restore --list book.dump >toc &&
	grep -q "TABLE DATA earmark voucher " toc &&
	grep -q "TABLE DATA earmark chain_head " toc &&
	grep -q "TABLE DATA earmark audit_package " toc &&
	grep -q "TRIGGER earmark voucher" toc
'

test_expect_success 'restoring over a database that db init already migrated is refused' '
	createdb "$CLASH" &&
	PGDATABASE=$CLASH "$EARMARK" db init >out &&
	test_must_fail pg_restore --exit-on-error --single-transaction --dbname="$CLASH" book.dump \
		2>err &&
	grep "already exists" err &&
	test_psql -d "$CLASH" -c "SELECT count(*) FROM earmark.book" >actual &&
	echo 0 >expected && test_cmp expected actual
'

test_expect_success 'pg_restore into a fresh database; db init then applies nothing' '
	createdb "$RESTORED" &&
	pg_restore --exit-on-error --single-transaction --dbname="$RESTORED" book.dump &&
	PGDATABASE=$RESTORED "$EARMARK" db init >out &&
	echo "database is up to date ($RESTORED)" >expected &&
	test_cmp expected out
'

test_expect_success 'the restored database holds the same vouchers, lines, counters, chain head and packages' '
	state "$ORIG" >before &&
	state "$RESTORED" >after &&
	test_cmp before after &&
	grep -c "^voucher|" after >n && echo 3 >expected && test_cmp expected n
'

test_expect_success 'the hash chain verifies on the restored database (D8)' '
	PGDATABASE=$RESTORED "$EARMARK" "${CLERK[@]}" ledger verify-chain >out &&
	test_psql -d "$RESTORED" -c "SELECT encode(hash, '\''hex'\'') FROM earmark.chain_head" >head &&
	echo "hash chain of book '\''E81'\'' verifies: 3 vouchers, head $(cat head)" >expected &&
	test_cmp expected out
'

test_expect_success 'the last audit package still verifies, and is recorded in the restored book' '
	env -u PGHOST -u PGDATABASE -u PGUSER "$EARMARK" audit verify p1.asice --ca ca.pem >out &&
	! grep "^FAIL" out &&
	unzip -p p1.asice META-INF/signatures001.xml | sha256sum | cut -d" " -f1 >expected &&
	test_psql -d "$RESTORED" -c "SELECT encode(signature_digest, '\''hex'\'') FROM earmark.audit_package" >actual &&
	test_cmp expected actual
'

test_expect_success 'a voucher posted after the restore takes the next number (D5) and links onto the restored head (D8)' '
	test_psql -d "$RESTORED" -c "SELECT seq, encode(hash, '\''hex'\'') FROM earmark.chain_head" >old_head &&
	PGDATABASE=$RESTORED post "$FIX/v_pay_road.csv" 2026-04-12 &&
	echo "记-2026-04-0002" >expected && test_cmp expected posted &&
	test_psql -d "$RESTORED" -c "SELECT chain_seq FROM earmark.voucher WHERE number_text = '\''记-2026-04-0002'\''" >seq &&
	echo $(( $(cut -d"|" -f1 old_head) + 1 )) >expected && test_cmp expected seq &&
	PGDATABASE=$RESTORED "$EARMARK" "${CLERK[@]}" ledger verify-chain >out &&
	grep "^hash chain of book .E81. verifies: 4 vouchers" out &&
	test_psql -d "$RESTORED" -c "SELECT encode(hash, '\''hex'\'') FROM earmark.chain_head" >head &&
	test_psql -d "$RESTORED" -c "SELECT encode(pg_catalog.sha256(decode('\''$(cut -d"|" -f2 old_head)'\'', '\''hex'\'')
		|| convert_to(earmark.canonical_text(v), '\''UTF8'\'')), '\''hex'\'')
		FROM earmark.voucher v WHERE number_text = '\''记-2026-04-0002'\''" >recomputed &&
	test_cmp head recomputed
'

test_expect_success 'the next package from the restored book names the last one (X1) and verifies' '
	PGDATABASE=$RESTORED "$EARMARK" "${AUD[@]}" audit export --from 2026-04-11 --to 2026-04-30 \
		--key signer.key --cert signer.pem -o p2.asice >out &&
	unzip -p p1.asice META-INF/signatures001.xml | sha256sum | cut -d" " -f1 >d1 &&
	echo "previous package $(cat d1)" >expected && sed -n 3p out >actual && test_cmp expected actual &&
	env -u PGHOST -u PGDATABASE -u PGUSER "$EARMARK" audit verify p2.asice --ca ca.pem >out &&
	grep -x "previous package: $(cat d1)" out
'

test_expect_success 'the original database is untouched by dump and restore' '
	state "$ORIG" >now &&
	test_cmp before now &&
	"$EARMARK" "${CLERK[@]}" ledger verify-chain >out &&
	grep "^hash chain of book .E81. verifies: 3 vouchers" out
'

test_done
