#!/usr/bin/env bash
# earmark db init: forward-only, checksummed migrations (posting/migrate.c).
#
# This script's database is a copy of the template the harness migrated
# from $SRCDIR/sql, so every migration is already applied.  db init again
# applies nothing; a copy of sql/ under $TEST_TMP, passed with
# EARMARK_SQLDIR, plays the part of a later release: a changed applied
# migration stops the run before anything is applied, a new migration is
# applied once and recorded with the sha256 of its file, a failing one
# leaves no trace, a missing applied one is refused.  Whatever the
# migrations made belongs to earmark_owner; the application roles own
# nothing and may write no table directly (DESIGN section 8).
# shellcheck disable=SC2016,SC2034 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

APP_ROLES="'earmark_clerk', 'earmark_reviewer', 'earmark_bookkeeper', 'earmark_cashier', 'earmark_admin', 'earmark_auditor', 'earmark_public'"

# What db init may change: the migration records and the catalog of schema
# earmark (relations, functions, types, with their owners and definitions).
STATE_SQL=$(cat <<'EOF'
SELECT version, name, sha256, applied_at, applied_by FROM earmark.schema_migration ORDER BY version;
SELECT 'relations', count(*), md5(coalesce(string_agg(c.relname || ':' || c.relkind::text || ':' || pg_get_userbyid(c.relowner)
                                                    || ':' || coalesce(array_to_string(c.relacl, ','), ''), ';' ORDER BY c.relname), ''))
  FROM pg_class c WHERE c.relnamespace = 'earmark'::regnamespace;
SELECT 'functions', count(*), md5(coalesce(string_agg(p.oid::regprocedure::text || ':' || pg_get_userbyid(p.proowner)
                                                    || ':' || md5(p.prosrc), ';' ORDER BY p.oid::regprocedure::text), ''))
  FROM pg_proc p WHERE p.pronamespace = 'earmark'::regnamespace;
EOF
)

test_expect_success 'every migration of the source tree is recorded with the sha256 of its file' '
	(cd "$SRCDIR/sql/migrations" && sha256sum [0-9][0-9][0-9][0-9]_*.sql) >sums &&
	while read -r sum file; do
		echo "$((10#${file%%_*}))|$file|$sum" || exit 1
	done <sums >expected &&
	test -s expected &&
	test_psql -c "SELECT version, name, sha256 FROM earmark.schema_migration ORDER BY version" >actual &&
	test_cmp expected actual
'

test_expect_success 'db init on an up-to-date database applies nothing, twice' '
	test_psql -c "$STATE_SQL" >before &&
	"$EARMARK" db init >out &&
	echo "database is up to date ($PGDATABASE)" >expected &&
	test_cmp expected out &&
	"$EARMARK" db init >out &&
	test_cmp expected out &&
	test_psql -c "$STATE_SQL" >after &&
	test_cmp before after
'

test_expect_success 'setup: a copy of sql/ and the number of the next migration' '
	cp -R "$SRCDIR/sql" "$TEST_TMP/sql" &&
	(cd sql/migrations && ls [0-9][0-9][0-9][0-9]_*.sql) >files &&
	last=$(tail -n 1 files) &&
	printf "%04d\n" $((10#${last%%_*} + 1)) >next &&
	head -n 1 files >first-migration &&
	grep -x "[0-9]\{4\}" next
'

test_expect_success 'a changed applied migration is refused before anything is applied' '
	first=$(cat first-migration) &&
	probe=$(cat next)_e12_probe.sql &&
	echo "CREATE TABLE earmark.e12_probe (id integer PRIMARY KEY, note text NOT NULL);" \
		>"sql/migrations/$probe" &&
	old=$(sha256sum <"sql/migrations/$first") &&
	echo "-- a comment added after the migration was applied" >>"sql/migrations/$first" &&
	new=$(sha256sum <"sql/migrations/$first") &&
	test_psql -c "$STATE_SQL" >before &&
	test_expect_code 1 env EARMARK_SQLDIR="$TEST_TMP/sql" "$EARMARK" db init >out 2>err &&
	cat >expected <<-EOF &&
	earmark: error: migration '\''$first'\'' has changed since it was applied
	detail: applied sha256 ${old%% *}, file sha256 ${new%% *}
	hint: migrations are forward-only: restore the file and put the change in a new migration
	EOF
	grep -v "^NOTICE: " err >actual &&
	test_cmp expected actual &&
	! test -s out &&
	test_psql -c "$STATE_SQL" >after &&
	test_cmp before after &&
	test_psql -c "SELECT to_regclass('\''earmark.e12_probe'\'') IS NULL" >actual &&
	echo t >expected &&
	test_cmp expected actual
'

test_expect_success 'with the file restored, the new migration is applied once and recorded with its sha256' '
	first=$(cat first-migration) &&
	probe=$(cat next)_e12_probe.sql &&
	cp "$SRCDIR/sql/migrations/$first" "sql/migrations/$first" &&
	EARMARK_SQLDIR="$TEST_TMP/sql" "$EARMARK" db init >out &&
	cat >expected <<-EOF &&
	applied $probe
	database is up to date ($PGDATABASE)
	EOF
	test_cmp expected out &&
	sum=$(sha256sum <"sql/migrations/$probe") &&
	test_psql -c "SELECT version, name, sha256, applied_by FROM earmark.schema_migration
	              WHERE version = $((10#$(cat next)))" >actual &&
	echo "$((10#$(cat next)))|$probe|${sum%% *}|postgres" >expected &&
	test_cmp expected actual &&
	test_psql -c "SELECT pg_get_userbyid(relowner) FROM pg_class
	              WHERE oid = '\''earmark.e12_probe'\''::regclass" >actual &&
	echo earmark_owner >expected &&
	test_cmp expected actual
'

test_expect_success 'running db init again on the copy applies nothing' '
	test_psql -c "$STATE_SQL" >before &&
	EARMARK_SQLDIR="$TEST_TMP/sql" "$EARMARK" db init >out &&
	echo "database is up to date ($PGDATABASE)" >expected &&
	test_cmp expected out &&
	test_psql -c "$STATE_SQL" >after &&
	test_cmp before after &&
	test_psql -c "SELECT count(*) FROM earmark.schema_migration WHERE name LIKE '\''%_e12_probe.sql'\''" >actual &&
	echo 1 >expected &&
	test_cmp expected actual
'

test_expect_success 'a migration that fails is rolled back and not recorded' '
	broken=$(printf "%04d" $((10#$(cat next) + 1)))_e12_broken.sql &&
	printf "%s\n" "CREATE TABLE earmark.e12_half (id integer);" "SELECT 1 / 0;" \
		>"sql/migrations/$broken" &&
	test_psql -c "$STATE_SQL" >before &&
	test_expect_code 1 env EARMARK_SQLDIR="$TEST_TMP/sql" "$EARMARK" db init >out 2>err &&
	grep -x "earmark: error: $broken failed: division by zero" err &&
	test_psql -c "$STATE_SQL" >after &&
	test_cmp before after &&
	test_psql -c "SELECT to_regclass('\''earmark.e12_half'\'') IS NULL" >actual &&
	echo t >expected &&
	test_cmp expected actual &&
	rm "sql/migrations/$broken"
'

test_expect_success 'an applied migration missing from the directory is refused' '
	probe=$(cat next)_e12_probe.sql &&
	mv "sql/migrations/$probe" "$probe" &&
	test_psql -c "$STATE_SQL" >before &&
	test_expect_code 1 env EARMARK_SQLDIR="$TEST_TMP/sql" "$EARMARK" db init >out 2>err &&
	cat >expected <<-EOF &&
	earmark: error: applied migration '\''$probe'\'' is missing from '\''$TEST_TMP/sql/migrations'\''
	hint: migrations are forward-only: restore the file
	EOF
	grep -v "^NOTICE: " err >actual &&
	test_cmp expected actual &&
	test_psql -c "$STATE_SQL" >after &&
	test_cmp before after &&
	mv "$probe" "sql/migrations/$probe"
'

test_expect_success 'an application role cannot run db init' '
	"$EARMARK" user add e12_admin --role admin &&
	test_psql -c "$STATE_SQL" >before &&
	test_expect_code 1 "$EARMARK" --user e12_admin db init >out 2>err &&
	cat >expected <<-\EOF &&
	earmark: error: roles.sql failed: must have admin option on role "earmark_owner"
	hint: db init needs a role that may create roles and schemas
	EOF
	test_cmp expected err &&
	test_psql -c "$STATE_SQL" >after &&
	test_cmp before after
'

test_expect_success 'earmark_owner owns the schema and everything in it, and cannot log in' '
	test_psql >actual <<-\EOF &&
	SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = '\''earmark'\'';
	SELECT count(*) FROM pg_class WHERE relnamespace = '\''earmark'\''::regnamespace
	   AND pg_get_userbyid(relowner) <> '\''earmark_owner'\'';
	SELECT count(*) FROM pg_proc WHERE pronamespace = '\''earmark'\''::regnamespace
	   AND pg_get_userbyid(proowner) <> '\''earmark_owner'\'';
	SELECT count(*) FROM pg_type WHERE typnamespace = '\''earmark'\''::regnamespace
	   AND pg_get_userbyid(typowner) <> '\''earmark_owner'\'';
	SELECT rolcanlogin FROM pg_roles WHERE rolname = '\''earmark_owner'\'';
	EOF
	printf "%s\n" earmark_owner 0 0 0 f >expected &&
	test_cmp expected actual &&
	test_psql -c "SELECT count(*) FROM pg_class WHERE relnamespace = '\''earmark'\''::regnamespace
	              AND relkind IN ('\''r'\'', '\''p'\'')" >tables &&
	test "$(cat tables)" -gt 10
'

test_expect_success 'application roles own no tables, functions, types or schemas in this database' '
	test_psql >actual <<-EOF &&
	SELECT count(*) FROM pg_class WHERE pg_get_userbyid(relowner) IN ($APP_ROLES);
	SELECT count(*) FROM pg_proc WHERE pg_get_userbyid(proowner) IN ($APP_ROLES);
	SELECT count(*) FROM pg_type WHERE pg_get_userbyid(typowner) IN ($APP_ROLES);
	SELECT count(*) FROM pg_namespace WHERE pg_get_userbyid(nspowner) IN ($APP_ROLES);
	SELECT count(*) FROM pg_roles WHERE rolname IN ($APP_ROLES) AND (rolcanlogin OR rolsuper OR rolcreaterole OR rolcreatedb);
	EOF
	printf "%s\n" 0 0 0 0 0 >expected &&
	test_cmp expected actual
'

# The one exception: clerks COPY payment batches into the staging table,
# which they cannot read, into the file's columns only (its default stamps
# each row with its writer, 0017).  Column grants count as well.
test_expect_success 'application roles may not INSERT, UPDATE, DELETE or TRUNCATE any table of earmark' '
	echo "earmark_clerk INSERT pay_staging" >expected &&
	test_psql >actual <<-EOF &&
	SELECT r || '\'' '\'' || p || '\'' '\'' || c.relname
	  FROM pg_class c,
	       unnest(ARRAY[$APP_ROLES]) AS r,
	       unnest(ARRAY['\''INSERT'\'', '\''UPDATE'\'', '\''DELETE'\'', '\''TRUNCATE'\'', '\''REFERENCES'\'', '\''TRIGGER'\'']) AS p
	 WHERE c.relnamespace = '\''earmark'\''::regnamespace AND c.relkind IN ('\''r'\'', '\''p'\'', '\''v'\'')
	   AND CASE WHEN p IN ('\''INSERT'\'', '\''UPDATE'\'', '\''REFERENCES'\'')
	            THEN has_any_column_privilege(r, c.oid, p) ELSE has_table_privilege(r, c.oid, p) END
	 ORDER BY 1;
	EOF
	test_cmp expected actual
'

test_done
