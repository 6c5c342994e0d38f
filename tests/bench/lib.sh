# tests/bench/lib.sh: sourced by every benchmark under tests/bench/.
#
# A benchmark measures; it asserts no timing.  It prints its figures and
# writes them as JSON to out/bench/<name>.json, and fails (exit 1) only when
# a step it measures fails, since a figure of a failed step means nothing.
#
# What this gives a benchmark:
#   bench_cluster_start   a throwaway cluster: `earmark db start` under a
#                         mktemp -d home, stopped and removed by a trap
#                         however the script ends (as tests/run-all does);
#                         exports PGHOST, PGUSER=postgres, and EM, TOP
#   bench_now             wall-clock seconds, date +%s.%N
#   bench_time NAME CMD   runs CMD (output to $BENCH_LOG/NAME.log), keeps
#                         its wall-clock seconds in BENCH_SECS[NAME]; a
#                         failure prints the log and ends the benchmark
#   bench_step MSG        one line of progress on stderr
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EM=$TOP/earmark
PGBIN=${EARMARK_PGBIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
declare -A BENCH_SECS=()
BENCH_T=
BENCH_LOG=

bench_step() {
	printf '%s  %s\n' "$(date +%T)" "$*" >&2
}

bench_now() {
	date +%s.%N
}

# pg_ctl as the cluster's owner would run it: PostgreSQL refuses root.
bench_pg_ctl_as_owner() {
	local owner
	owner=$(stat -c %U "$BENCH_T/var/pg")
	if [ "$(id -u)" = 0 ] && [ "$owner" != root ]; then
		(cd / && runuser -u "$owner" -- "$PGBIN/pg_ctl" "$@")
	else
		(cd / && "$PGBIN/pg_ctl" "$@")
	fi
}

# Stops the cluster and removes its home, whatever state the run is in.
bench_cleanup() {
	local rc=$? pid
	set +e
	trap - EXIT INT TERM
	if [ -n "$BENCH_T" ] && [ -d "$BENCH_T" ]; then
		if [ -f "$BENCH_T/var/pg/PG_VERSION" ]; then
			if ! EARMARK_HOME=$BENCH_T "$EM" db stop >/dev/null 2>&1 ||
			   [ -f "$BENCH_T/var/pg/postmaster.pid" ]; then
				echo "earmark db stop failed; stopping the cluster with pg_ctl -m immediate" >&2
				bench_pg_ctl_as_owner -D "$BENCH_T/var/pg" -m immediate -w stop >/dev/null 2>&1
			fi
			# last resort: the postmaster this run started, by its pid
			if [ -f "$BENCH_T/var/pg/postmaster.pid" ]; then
				pid=$(head -n 1 "$BENCH_T/var/pg/postmaster.pid")
				if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
					echo "killing postmaster $pid" >&2
					kill -KILL "$pid"
					sleep 1
				fi
			fi
		fi
		rm -rf "$BENCH_T"
	fi
	exit "$rc"
}

bench_cluster_start() {
	BENCH_T=$(mktemp -d "${TMPDIR:-/tmp}/earmark-bench.XXXXXX")
	BENCH_LOG=$BENCH_T/log
	mkdir -p "$BENCH_LOG"
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	export PGHOST=$BENCH_T/var/run PGPORT=5432 PGUSER=postgres
	unset PGHOSTADDR PGSERVICE PGOPTIONS PGDATA PGDATABASE
	if ! EARMARK_HOME=$BENCH_T "$EM" db start >"$BENCH_LOG/cluster-start.log" 2>&1 </dev/null; then
		echo "bench: earmark db start failed" >&2
		cat "$BENCH_LOG/cluster-start.log" >&2
		[ ! -f "$BENCH_T/var/log/postgresql.log" ] || tail -n 20 "$BENCH_T/var/log/postgresql.log" >&2
		exit 1
	fi
	export EARMARK_HOME=$BENCH_T
}

# bench_time NAME CMD ARGS...: CMD's wall-clock seconds in BENCH_SECS[NAME].
bench_time() {
	local name=$1 t0 t1 rc=0
	shift
	t0=$(bench_now)
	"$@" >"$BENCH_LOG/$name.log" 2>&1 </dev/null || rc=$?
	t1=$(bench_now)
	if [ "$rc" -ne 0 ]; then
		echo "bench: step '$name' failed (exit $rc): $*" >&2
		sed 's/^/    /' "$BENCH_LOG/$name.log" >&2
		exit 1
	fi
	BENCH_SECS[$name]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}

# bench_run NAME CMD ARGS...: a setup step; its output is kept, shown on failure.
bench_run() {
	local name=$1 rc=0
	shift
	"$@" >"$BENCH_LOG/$name.log" 2>&1 </dev/null || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "bench: setup step '$name' failed (exit $rc): $*" >&2
		sed 's/^/    /' "$BENCH_LOG/$name.log" >&2
		exit 1
	fi
}
