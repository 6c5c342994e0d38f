#!/usr/bin/env bash
# Secrets (issue 8, item 6).
#
# The signing key of `earmark audit export` may be an encrypted PEM; its
# passphrase comes from EARMARK_KEY_PASSPHRASE or, with a terminal, from a
# prompt that does not echo; there is no command-line option for it, so it
# is never in an argument list (ps).  The right passphrase signs, a wrong
# one or none is refused naming the key and the fix, and the passphrase is
# in no output, no argument list, no server log and no table.
#
# A configuration file holding a password (conninfo or admin_conninfo with
# password= or sslpassword=, in keyword or URI form) is refused when group
# or others can read it, and so is a password file its connection strings
# name (passfile=): the message names the file, its mode and `chmod 600`;
# nothing connects.  At 0600 the same files work.  ledger/config.c;
# tests/unit/test_config.c has the cases one by one.
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"
. "$SRCDIR/tests/fixtures/audit/lib.sh"

FIX=$SRCDIR/tests/fixtures/e2e
BOOK=E82
ADMIN=(--user e82_admin --book "$BOOK")
CLERK=(--user e82_clerk --book "$BOOK")
REV=(--user e82_rev --book "$BOOK")
BK=(--user e82_bk --book "$BOOK")
AUD=(--user e82_aud --book "$BOOK")
# secrets unlike anything else in the run, so that a grep finds only a leak
PW="kp-82-$RANDOM-horse-battery"
WRONG="kp-82-$RANDOM-wrong-staple"
CPW="cp-82-$RANDOM-conf-secret"
SERVER_LOG=$EARMARK_HOME/var/log/postgresql.log

post() {
	"$EARMARK" "${CLERK[@]}" voucher draft "$1" --date "$2" >ref &&
	"$EARMARK" "${REV[@]}" voucher review "$(cat ref)" >/dev/null &&
	"$EARMARK" "${BK[@]}" voucher post "$(cat ref)" >/dev/null
}

# export_sampled NAME=VALUE... : audit export of March-April to $OUT_PKG, in the
# background, sampling every process's argument list (what ps shows) while it
# runs.  The variables are exported in a subshell that then execs earmark, so
# that no argument list but the test's own ever holds a value (`env NAME=VALUE
# earmark` would show it in env's, for the moment before its exec).
export_sampled() {
	local pid n=0 rc=0
	(
		export "$@"
		exec "$EARMARK" "${AUD[@]}" audit export --from 2026-03-01 --to 2026-04-30 \
			--key enc.key --cert signer.pem -o "$OUT_PKG"
	) >out 2>err </dev/null &
	pid=$!
	: >ps.out
	while kill -0 "$pid" 2>/dev/null && [ $n -lt 3000 ]; do
		ps -eo args >>ps.out 2>/dev/null || true
		n=$((n + 1))
	done
	wait "$pid" || rc=$?
	return $rc
}

# no_leak SECRET: the secret is nowhere earmark or the server could have put it.
no_leak() {
	! grep -r -F -e "$1" out err ps.out &&
	pg_dump "$PGDATABASE" >dump.sql &&
	! grep -F -e "$1" dump.sql &&
	if [ -r "$SERVER_LOG" ]; then ! grep -F -e "$1" "$SERVER_LOG"; fi
}

test_expect_success 'setup: book E82 with two posted vouchers; a CA, a signer, its key encrypted' '
	"$EARMARK" user add e82_admin --role admin &&
	"$EARMARK" user add e82_clerk --role clerk &&
	"$EARMARK" user add e82_rev --role reviewer &&
	"$EARMARK" user add e82_bk --role bookkeeper &&
	"$EARMARK" user add e82_aud --role auditor &&
	"$EARMARK" "${ADMIN[@]}" book create "$BOOK" --name "e2e 平安县专项资金" \
		--start 2026-01-01 --accounts "$SRCDIR/config/accounts.csv" >/dev/null &&
	for kind in bank_account fund village household project project_target project_budget \
		project_event; do
		"$EARMARK" "${ADMIN[@]}" master import $kind "$FIX/$kind.csv" >/dev/null || exit 1
	done &&
	post "$FIX/v_receive_zy.csv" 2026-03-02 &&
	post "$FIX/v_accrue_road.csv" 2026-04-10 &&
	make_ca ca && make_signer signer ca &&
	openssl pkey -in signer.key -aes256 -passout "pass:$PW" -out enc.key &&
	rm signer.key &&
	! openssl pkey -in enc.key -passin pass: -noout 2>/dev/null &&
	openssl pkey -in enc.key -passin "pass:$PW" -noout
'

test_expect_success 'a wrong passphrase is refused naming the key and the fix; no package, no leak' '
	OUT_PKG=wrong.asice &&
	test_expect_code 1 export_sampled EARMARK_KEY_PASSPHRASE="$WRONG" &&
	cat >expected <<-\EOF &&
	earmark: error: could not read private key '\''enc.key'\''
	detail: the key is encrypted and the passphrase did not open it
	hint: a PEM private key; for an encrypted one set EARMARK_KEY_PASSPHRASE
	EOF
	test_cmp expected err &&
	! test -e wrong.asice &&
	no_leak "$WRONG"
'

test_expect_success 'no passphrase and no terminal to ask on: refused saying so' '
	test_expect_code 1 env -u EARMARK_KEY_PASSPHRASE "$EARMARK" "${AUD[@]}" audit export \
		--from 2026-03-01 --to 2026-04-30 --key enc.key --cert signer.pem -o none.asice \
		>out 2>err </dev/null &&
	sed -n 2p err >detail &&
	echo "detail: the key is encrypted; EARMARK_KEY_PASSPHRASE is not set and there is no terminal to ask for the passphrase" >expected &&
	test_cmp expected detail &&
	! test -e none.asice
'

test_expect_success 'the passphrase has no command-line option, so it is never in ps' '
	test_expect_code 2 "$EARMARK" "${AUD[@]}" audit export --from 2026-03-01 --to 2026-04-30 \
		--key enc.key --cert signer.pem --passphrase "$PW" -o opt.asice >out 2>err &&
	! test -e opt.asice
'

test_expect_success 'the right passphrase from EARMARK_KEY_PASSPHRASE signs; it is in no output, ps, log or table' '
	OUT_PKG=p1.asice &&
	export_sampled EARMARK_KEY_PASSPHRASE="$PW" &&
	grep -q "^p1.asice: audit package no. 1 of book .E82." out &&
	test -s ps.out &&
	no_leak "$PW" &&
	env -u PGHOST -u PGDATABASE -u PGUSER "$EARMARK" audit verify p1.asice --ca ca.pem >vout &&
	tail -1 vout >last && echo "p1.asice: package verifies" >expected && test_cmp expected last
'

test_expect_success 'at a terminal the passphrase is asked for, without echo, and signs' '
	mkfifo typed
	# the background job is script alone, started once the FIFO is there
	script -q -e -f -c "env -u EARMARK_KEY_PASSPHRASE $EARMARK --user e82_aud --book $BOOK audit export --from 2026-04-01 --to 2026-04-30 --key enc.key --cert signer.pem -o p2.asice" \
		/dev/null <typed >tty.out 2>&1 &
	pid=$!
	exec 3>typed &&
	n=0 &&
	until grep -q "passphrase for the signing key:" tty.out 2>/dev/null; do
		n=$((n + 1)) && test $n -lt 600 && sleep 0.1 || exit 1
	done &&
	printf "%s\n" "$PW" >&3 &&
	wait $pid &&
	exec 3>&- &&
	grep -q "p2.asice: audit package no. 2 of book .E82." tty.out &&
	! grep -F -e "$PW" tty.out &&
	env -u PGHOST -u PGDATABASE -u PGUSER "$EARMARK" audit verify p2.asice --ca ca.pem >vout
'

test_expect_success 'an unencrypted key still signs, with a warning naming it and how to encrypt it' '
	(export EARMARK_KEY_PASSPHRASE="$PW" &&
	 exec openssl pkey -in enc.key -passin env:EARMARK_KEY_PASSPHRASE -out plain.key) &&
	env -u EARMARK_KEY_PASSPHRASE "$EARMARK" "${AUD[@]}" audit export --from 2026-04-01 \
		--to 2026-04-30 --key plain.key --cert signer.pem -o p3.asice >out 2>err </dev/null &&
	grep -q "^p3.asice: audit package no. 3 of book .E82." out &&
	cat >expected <<-\EOF &&
	earmark: warning: signing key '\''plain.key'\'' is not encrypted: whoever can read the file can sign audit packages
	hint: encrypt it with openssl pkey -in plain.key -aes256 -out plain.key.enc, use --key plain.key.enc with the passphrase in EARMARK_KEY_PASSPHRASE, and delete the plain key
	EOF
	test_cmp expected err &&
	env -u PGHOST -u PGDATABASE -u PGUSER "$EARMARK" audit verify p3.asice --ca ca.pem >vout &&
	(export EARMARK_KEY_PASSPHRASE="$PW" &&
	 exec "$EARMARK" "${AUD[@]}" audit export --from 2026-04-01 --to 2026-04-30 \
		--key enc.key --cert signer.pem -o p4.asice) >out 2>err </dev/null &&
	grep -q "^p4.asice: audit package no. 4 of book .E82." out &&
	! test -s err
'

# --- configuration files --------------------------------------------------

CONNINFO="host=$PGHOST port=${PGPORT:-5432} dbname=$PGDATABASE user=${PGUSER:-postgres}"

test_expect_success 'a configuration file with a password that others can read is refused, naming file, mode and fix' '
	printf "[database]\nconninfo = %s password=%s\n" "$CONNINFO" "$CPW" >pw.conf &&
	chmod 644 pw.conf &&
	test_expect_code 1 "$EARMARK" --config pw.conf db status >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: configuration file '\''pw.conf'\'' holding a password is readable by others
	detail: its mode is 0644; only its owner may have access
	hint: chmod 600 pw.conf
	EOF
	test_cmp expected err &&
	! test -s out &&
	! grep -F -e "$CPW" out err &&
	chmod 640 pw.conf &&
	test_expect_code 1 "$EARMARK" --config pw.conf db status >out 2>err &&
	grep -x "detail: its mode is 0640; only its owner may have access" err
'

test_expect_success 'the same file at 0600 connects' '
	chmod 600 pw.conf &&
	"$EARMARK" --config pw.conf db status >out 2>err &&
	grep -q "^configured server: .* database $PGDATABASE" out &&
	! grep -F -e "$CPW" out err
'

test_expect_success 'the admin connection too, in URI form: user add refused at 0604, runs at 0600' '
	printf "[database]\nadmin_conninfo = postgresql://%s:%s@/%s?host=%s\n" \
		"${PGUSER:-postgres}" "$CPW" "$PGDATABASE" "$PGHOST" >admin.conf &&
	chmod 604 admin.conf &&
	test_expect_code 1 "$EARMARK" --config admin.conf user add e82_extra --role clerk >out 2>err &&
	grep -x "hint: chmod 600 admin.conf" err &&
	test_psql -c "SELECT count(*) FROM pg_roles WHERE rolname = '\''e82_extra'\''" >n &&
	echo 0 >expected && test_cmp expected n &&
	chmod 600 admin.conf &&
	"$EARMARK" --config admin.conf user add e82_extra --role clerk >out &&
	test_psql -c "SELECT count(*) FROM pg_roles WHERE rolname = '\''e82_extra'\''" >n &&
	echo 1 >expected && test_cmp expected n
'

test_expect_success 'the default configuration file under EARMARK_HOME is held to the same rule' '
	mkdir -p home/config &&
	cp pw.conf home/config/earmark.conf &&
	chmod 644 home/config/earmark.conf &&
	test_expect_code 1 env EARMARK_HOME="$TEST_TMP/home" "$EARMARK" db status >out 2>err &&
	grep -x "hint: chmod 600 $TEST_TMP/home/config/earmark.conf" err &&
	chmod 600 home/config/earmark.conf &&
	env EARMARK_HOME="$TEST_TMP/home" "$EARMARK" db status >out
'

test_expect_success 'a password file named by passfile= must be private too; the file naming it need not be' '
	printf "*:*:*:*:%s\n" "$CPW" >pgpass &&
	chmod 644 pgpass &&
	printf "[database]\nconninfo = %s passfile=%s\n" "$CONNINFO" "$TEST_TMP/pgpass" >pf.conf &&
	chmod 644 pf.conf &&
	test_expect_code 1 "$EARMARK" --config pf.conf db status >out 2>err &&
	cat >expected <<-EOF &&
	earmark: error: password file '\''$TEST_TMP/pgpass'\'' is readable by others
	detail: its mode is 0644; only its owner may have access; the configuration file '\''pf.conf'\'' names it (passfile)
	hint: chmod 600 $TEST_TMP/pgpass
	EOF
	test_cmp expected err &&
	! grep -F -e "$CPW" out err &&
	chmod 600 pgpass &&
	"$EARMARK" --config pf.conf db status >out &&
	grep -q "^configured server: " out
'

test_done
