#!/usr/bin/env bash
# The harness itself: the database this script was given is reachable, the
# private cluster keeps the promise of ledger/pgctl.h (a Unix socket in a
# mode 0700 directory, no TCP), and earmark sees it running.  When this
# fails, every other end-to-end failure is suspect.
# shellcheck disable=SC2016 # steps are single-quoted: lib.sh evaluates them
. "$SRCDIR/tests/e2e/lib.sh"

test_expect_success 'psql reaches the database of this test' '
	test_psql -c "SELECT current_database()" >actual &&
	echo "$PGDATABASE" >expected &&
	test_cmp expected actual
'

test_expect_success 'the database was copied from the migrated template' '
	test_psql -d postgres -c "SELECT count(*) FROM pg_catalog.pg_database
	                          WHERE datname = '\''earmark_template'\''" >actual &&
	echo 1 >expected &&
	test_cmp expected actual
'

test_expect_success 'the server listens on no TCP address' '
	test_psql -c "SHOW listen_addresses" >actual &&
	echo >expected &&
	test_cmp expected actual &&
	test_must_fail psql -X -h 127.0.0.1 -d "$PGDATABASE" -c "SELECT 1" >out 2>err
'

test_expect_success 'the socket directory is mode 0700' '
	stat -c %a "$PGHOST" >actual &&
	echo 700 >expected &&
	test_cmp expected actual
'

# with PGHOST and friends set, earmark would talk about the configured
# server; without them it looks at the private cluster under EARMARK_HOME
test_expect_success 'earmark db status reports the private server running' '
	env -u PGHOST -u PGPORT -u PGDATABASE -u PGUSER "$EARMARK" db status >out 2>err &&
	grep -i "running" out &&
	! grep -i -e "not running" -e "stopped" out
'

test_done
