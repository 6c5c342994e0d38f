# shellcheck shell=bash disable=SC2034 # BENCH_* are for the benchmark that sources this
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
#                         exports PGHOST, PGUSER=postgres, and EM, TOP;
#                         with huge pages for its shared memory when it can
#                         (bench_hugepages)
#   bench_machine_json    the "machine" member of a benchmark's JSON
#   bench_now             wall-clock seconds, date +%s.%N
#   bench_time NAME CMD   runs CMD (output to $BENCH_LOG/NAME.log), keeps
#                         its wall-clock seconds in BENCH_SECS[NAME] and the
#                         CPU seconds it cost in BENCH_CPU[NAME]: the
#                         client's user + system time and the server's (the
#                         postmaster's own and its reaped children's, so the
#                         backend that served CMD); a failure prints the log
#                         and ends the benchmark
#   bench_load            the 1-minute load average
#
# Wall-clock time is what the targets speak of.  CPU time is printed beside
# it because a shared machine's other work stretches the wall clock of a
# run but hardly its CPU seconds: when the two differ much, the machine was
# busy and the wall-clock figures overstate.
#   bench_step MSG        one line of progress on stderr
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EM=${BENCH_EARMARK:-$TOP/earmark}
PGBIN=${EARMARK_PGBIN:-$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)}
declare -A BENCH_SECS=() BENCH_CPU=()
CLK_TCK=$(getconf CLK_TCK)
BENCH_T=
BENCH_LOG=
BENCH_HP_ADDED=0
BENCH_HUGEPAGES_NOTE="not asked for"

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
	local rc=$? pid cur
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
	# the huge pages go back once the server that held them has stopped:
	# those this run added, so that another run's stay reserved
	if [ "$BENCH_HP_ADDED" -gt 0 ]; then
		cur=$(cat /proc/sys/vm/nr_hugepages)
		echo $((cur > BENCH_HP_ADDED ? cur - BENCH_HP_ADDED : 0)) >/proc/sys/vm/nr_hugepages
	fi
	exit "$rc"
}

# The cluster's shared memory in huge pages, as the README's "Configuring a
# real server" advises (vm.nr_hugepages, with the server's default
# huge_pages = try).  Shared buffers in 4 kB pages cost every new backend a
# page fault per 4 kB it touches: 12,300 faults and about 110 ms for one
# INSERT of the batch's 100,000 payments, paid again by every command, since
# each is a new session.  Root can reserve the pages for the run: as many as
# the running server says it needs (shared_memory_size_in_huge_pages) on top
# of those already reserved, given back by bench_cleanup (only those, so
# that the reservations of others, and of another run, stay).  BENCH_HUGEPAGES=0
# leaves them out.  What happened is in BENCH_HUGEPAGES_NOTE and the JSON.
bench_hugepages() {
	local need before want got pid
	if [ "${BENCH_HUGEPAGES:-1}" = 0 ]; then
		BENCH_HUGEPAGES_NOTE="none: BENCH_HUGEPAGES=0"
		return
	fi
	if [ "$(id -u)" != 0 ] || [ ! -w /proc/sys/vm/nr_hugepages ]; then
		BENCH_HUGEPAGES_NOTE="none: reserving them (vm.nr_hugepages) needs root"
		return
	fi
	need=$(psql -X -A -t -d postgres -c 'SHOW shared_memory_size_in_huge_pages')
	if ! [[ $need =~ ^[0-9]+$ ]] || [ "$need" -le 0 ]; then
		BENCH_HUGEPAGES_NOTE="none: the server gave no size in huge pages ('$need')"
		return
	fi
	before=$(cat /proc/sys/vm/nr_hugepages)
	want=$((before + need))
	echo "$want" >/proc/sys/vm/nr_hugepages
	got=$(cat /proc/sys/vm/nr_hugepages)
	BENCH_HP_ADDED=$((got - before))
	if [ "$got" -lt "$want" ]; then
		BENCH_HUGEPAGES_NOTE="none: the kernel found $BENCH_HP_ADDED of $need free huge pages"
		echo "$before" >/proc/sys/vm/nr_hugepages
		BENCH_HP_ADDED=0
		return
	fi
	bench_run cluster-restart-hugepages sh -c "\"\$1\" db stop && \"\$1\" db start" sh "$EM"
	pid=$(head -n 1 "$BENCH_T/var/pg/postmaster.pid")
	if grep -q '^KernelPageSize: *2048 kB' "/proc/$pid/smaps"; then
		BENCH_HUGEPAGES_NOTE="$need huge pages of 2 MB reserved for the run"
	else
		BENCH_HUGEPAGES_NOTE="none: $need reserved, but the server did not map them"
	fi
}

# bench_machine_json LOAD_BEFORE LOAD_AFTER: the machine a benchmark ran on
# (PGVERSION: the server's version, which the benchmark also prints).
bench_machine_json() {
	printf '  "machine": { "cpus": %d, "postgresql": "%s", "load_before": %s, "load_after": %s, "huge_pages": "%s" },\n' \
		"$(nproc)" "$PGVERSION" "$1" "$2" "$BENCH_HUGEPAGES_NOTE"
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
	bench_hugepages
	bench_step "huge pages for the cluster's shared memory: $BENCH_HUGEPAGES_NOTE"
}

bench_load() {
	cut -d ' ' -f 1 /proc/loadavg
}

# CPU ticks the cluster has used: the postmaster's user and system time and
# that of its children it has reaped (fields 14-17 of /proc/PID/stat).
bench_server_ticks() {
	local pid
	pid=$(head -n 1 "$BENCH_T/var/pg/postmaster.pid")
	awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pid/stat"
}

# bench_time NAME CMD ARGS...: CMD's wall-clock seconds in BENCH_SECS[NAME],
# its CPU seconds, client and server, in BENCH_CPU[NAME].
bench_time() {
	local name=$1 t0 t1 c0 c1 rc=0 TIMEFORMAT='%3U %3S'
	shift
	c0=$(bench_server_ticks)
	t0=$(bench_now)
	{ time "$@" >"$BENCH_LOG/$name.log" 2>&1 </dev/null; } 2>"$BENCH_LOG/$name.time" || rc=$?
	t1=$(bench_now)
	if [ "$rc" -ne 0 ]; then
		echo "bench: step '$name' failed (exit $rc): $*" >&2
		sed 's/^/    /' "$BENCH_LOG/$name.log" >&2
		exit 1
	fi
	# the backend exits after its client; let the postmaster reap it
	sleep 0.5
	c1=$(bench_server_ticks)
	BENCH_SECS[$name]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	BENCH_CPU[$name]=$(awk -v c0="$c0" -v c1="$c1" -v hz="$CLK_TCK" '{ printf "%.2f", $1 + $2 + (c1 - c0) / hz }' \
		"$BENCH_LOG/$name.time")
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
