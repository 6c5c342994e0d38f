# tests/e2e/lib.sh: sourced by every end-to-end test, git's t/test-lib.sh in
# miniature.  tests/run-all runs each script with bash and these set:
#   EARMARK      the program under test (the ASan/UBSan build)
#   EARMARK_HOME the throwaway cluster's home
#   PGHOST PGUSER PGDATABASE  a database of the script's own, migrated
#   SRCDIR       the source tree (fixtures: $SRCDIR/tests/fixtures)
#   TEST_TMP     an empty directory of the script's own, also its cwd
#
# A script is a list of steps and ends with test_done:
#
#   . "$SRCDIR/tests/e2e/lib.sh"
#   test_expect_success 'import refuses a bad amount' '
#       test_must_fail "$EARMARK" import bad.csv 2>err &&
#       grep "earmark: error: " err
#   '
#   test_done
#
# Each step runs in a subshell with set -e, its commands chained with &&;
# its output is captured and shown on stderr only when it fails.  Never pipe
# the program's output (`$EARMARK x | grep y`): the pipe's status is grep's
# and a crash goes unseen.  Redirect to a file, then look at the file.

for _var in EARMARK SRCDIR TEST_TMP; do
	if [ -z "${!_var:-}" ]; then
		echo "Bail out! $_var is not set: run this through tests/run-all"
		exit 1
	fi
done
unset _var
cd "$TEST_TMP" || { echo "Bail out! cannot cd to TEST_TMP '$TEST_TMP'"; exit 1; }

test_count=0
test_failures=0

# test_expect_success 'description' 'commands'
test_expect_success() {
	local _desc _body _out _rc _errexit=
	if [ $# -ne 2 ]; then
		echo "Bail out! test_expect_success takes a description and commands, got $# arguments"
		exit 1
	fi
	_desc=${1//$'\n'/ } _body=$2
	test_count=$((test_count + 1))
	_out=$TEST_TMP/.step-$test_count.out
	# set -e does nothing inside a subshell run as a condition (`if (...)`,
	# `(...) || x`), so the subshell runs as a plain command with the
	# caller's errexit suspended around it
	case $- in *e*) _errexit=1; set +e ;; esac
	(
		set -e
		eval "$_body"
	) >"$_out" 2>&1 </dev/null
	_rc=$?
	[ -z "$_errexit" ] || set -e
	if [ "$_rc" -eq 0 ]; then
		echo "ok $test_count - $_desc"
		if [ "${TEST_VERBOSE:-}" = 1 ]; then
			sed 's/^/# /' "$_out" >&2
		fi
	else
		test_failures=$((test_failures + 1))
		echo "not ok $test_count - $_desc"
		{
			echo "# step $test_count failed (exit $_rc): $_desc"
			echo "# commands:"
			printf '%s\n' "$_body" | sed 's/^/#   /'
			echo "# output:"
			sed 's/^/#   /' "$_out"
		} >&2
	fi
	return 0
}

# test_must_fail CMD ARGS...: CMD must fail the ordinary way, exit 1..125.
# Killed by a signal (a sanitizer aborts: 134) or not run at all (126, 127)
# is not the failure the step expects.
test_must_fail() {
	local _rc=0
	"$@" || _rc=$?
	if [ "$_rc" -eq 0 ]; then
		echo "test_must_fail: command succeeded: $*" >&2
		return 1
	elif [ "$_rc" -ge 128 ]; then
		echo "test_must_fail: killed by signal $((_rc - 128)) (exit $_rc): $*" >&2
		return 1
	elif [ "$_rc" -ge 126 ]; then
		echo "test_must_fail: could not run (exit $_rc): $*" >&2
		return 1
	fi
	return 0
}

# test_expect_code N CMD ARGS...: CMD must exit with status N exactly.
test_expect_code() {
	local _want=$1 _rc=0
	shift
	"$@" || _rc=$?
	if [ "$_rc" -ne "$_want" ]; then
		echo "test_expect_code: exit $_rc, expected $_want: $*" >&2
		return 1
	fi
	return 0
}

# test_cmp EXPECTED ACTUAL: the files are equal; diff -u shows how not.
test_cmp() {
	diff -u "$1" "$2"
}

# test_psql ARGS...: psql for checks, unaligned, tuples only, stop at errors.
test_psql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

# test_done: the plan; the script fails when a step did.
test_done() {
	echo "1..$test_count"
	if [ "$test_failures" -gt 0 ]; then
		echo "# failed $test_failures of $test_count"
		exit 1
	fi
	exit 0
}
