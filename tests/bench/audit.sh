#!/usr/bin/env bash
# tests/bench/audit.sh: the signed audit package of a book of a million
# lines, exported and verified, next to sha256sum over the same bytes.
#
# The targets (issue 5, "Speed and memory"): 1,000,000 lines exported and
# signed at 200,000 lines/s or more with peak memory at most 64 MiB;
# verification at the same rate and memory; both printed next to sha256sum
# over the same files in the same run.  This prints the figures; it asserts
# no timing and fails only when a step fails.
#
# The book is gen-book.sql's (the county of reports.sh), then its hash chain
# is made real (set-based, see bench_chain below) with the canonical text
# posting would have hashed, so that verification recomputes it (D8).  The signer is an ECDSA
# P-256 key under a throwaway CA made here with openssl.  Peak memory is the
# largest resident set of the earmark process (getrusage of the child, by
# python3).
#
# Environment:
#   BENCH_AUDIT_LINES  lines in the book (default 1000000)
#   BENCH_OUT          where the JSON goes (default out/bench)
#   BENCH_HOLD=FILE    profile by hand: once the book and keys are made,
#                      write FILE (the cluster's PGHOST and the commands'
#                      arguments) and wait until FILE is removed
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

N=${BENCH_AUDIT_LINES:-1000000}
OUT=${BENCH_OUT:-$TOP/out/bench}
BOOK=BENCH
case $N in
'' | *[!0-9]*) echo "bench: BENCH_AUDIT_LINES must be a number, not '$N'" >&2; exit 2 ;;
esac
BOOK_START=$(date -d "$(date +%Y)-01-01 -1 years" +%F)
LAST_DAY=$(date -d yesterday +%F)

bench_step "audit: $N lines; cluster under ${TMPDIR:-/tmp}"
bench_cluster_start
export PGDATABASE=earmark_bench
bench_run createdb psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE DATABASE $PGDATABASE"
bench_run db-init "$EM" db init
bench_run user-auditor "$EM" user add bench_auditor --role auditor

q() { psql -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

bench_step "generating the book (gen-book.sql), then its hash chain"
bench_run generate q -v lines="$N" -v start="$BOOK_START" -v last="$LAST_DAY" -f "$(dirname "$0")/gen-book.sql"
# The chain, set-based: one query gives every voucher's canonical text (the
# text of earmark.canonical_text, 0002/0010, built over all lines at once),
# python folds h(n) = SHA-256(h(n-1) || text) in chain order per book, and
# one UPDATE stores the hashes.  (A PL/pgSQL loop calling chain_step per
# voucher took about 50 minutes for a million lines.)  That the texts are
# the canonical ones is proved twice below: the server's own
# earmark.canonical_text on a sample of vouchers, and `ledger
# verify-chain`, which recomputes the whole chain with the C
# implementation (ledger/canon.c); `audit verify` recomputes it again from
# the package (D8).
cat >"$BENCH_T/texts.sql" <<'EOF'
COPY (
SELECT v.book_id, v.voucher_id,
       pg_catalog.encode(pg_catalog.convert_to(
	'earmark-voucher-v1' || E'\n'
	|| 'book' || E'\t' || earmark.canon_escape(bk.code) || E'\n'
	|| 'seq' || E'\t' || v.chain_seq || E'\n'
	|| 'number' || E'\t' || v.number_text || E'\n'
	|| 'type' || E'\t' || v.vtype || E'\n'
	|| 'date' || E'\t' || pg_catalog.to_char(v.voucher_date, 'YYYY-MM-DD') || E'\n'
	|| 'reverses' || E'\t' || COALESCE(o.number_text, '') || E'\n'
	|| 'memo' || E'\t' || earmark.canon_escape(v.memo) || E'\n'
	|| 'prepared_by' || E'\t' || earmark.canon_escape(v.prepared_by) || E'\n'
	|| 'reviewed_by' || E'\t' || earmark.canon_escape(v.reviewed_by) || E'\n'
	|| 'posted_by' || E'\t' || earmark.canon_escape(v.posted_by) || E'\n'
	|| 'posted_at' || E'\t'
	|| pg_catalog.to_char(v.posted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || E'\n'
	|| COALESCE(lt.t, ''), 'UTF8'), 'hex')
  FROM earmark.voucher v
  JOIN earmark.book bk ON bk.book_id = v.book_id
  LEFT JOIN earmark.voucher o ON o.book_id = v.book_id AND o.voucher_id = v.reverses_id
  LEFT JOIN (SELECT l.book_id, l.voucher_id,
                    pg_catalog.string_agg(
	         'line' || E'\t' || l.line_no || E'\t' || l.account || E'\t' || l.side || E'\t'
	         || l.amount_fen || E'\t' || earmark.canon_escape(l.fund) || E'\t'
	         || earmark.canon_escape(COALESCE(l.project, '')) || E'\t'
	         || COALESCE(l.village, '') || E'\t'
	         || earmark.canon_escape(COALESCE(l.household, '')) || E'\t'
	         || earmark.canon_escape(COALESCE(l.bank_account, '')) || E'\t'
	         || earmark.canon_escape(COALESCE(l.category, '')) || E'\t'
	         || earmark.canon_escape(l.memo) || E'\n', '' ORDER BY l.line_no) AS t
               FROM earmark.line_coded l GROUP BY l.book_id, l.voucher_id) lt
         ON lt.book_id = v.book_id AND lt.voucher_id = v.voucher_id
 WHERE v.chain_seq IS NOT NULL
 ORDER BY v.book_id, v.chain_seq) TO STDOUT
EOF
cat >"$BENCH_T/fold.py" <<'EOF'
import hashlib, sys
book, prev = None, None
heads = {}
out = sys.stdout
for row in sys.stdin:
    b, v, text = row.rstrip("\n").split("\t")
    if b != book:
        book, prev = b, bytes(32)
    prev = hashlib.sha256(prev + bytes.fromhex(text)).digest()
    heads[b] = prev
    out.write("%s\t%s\t\\\\x%s\n" % (b, v, prev.hex()))
for b, h in heads.items():
    sys.stderr.write("%s\t%s\n" % (b, h.hex()))
EOF
bench_chain() {
	q -f "$BENCH_T/texts.sql" | python3 "$BENCH_T/fold.py" >"$BENCH_T/hashes.tsv" 2>"$BENCH_T/heads.tsv"
	q <<EOF
SET session_replication_role = replica;
BEGIN;
CREATE TEMP TABLE h (book_id integer, voucher_id bigint, hash bytea);
\\copy h FROM '$BENCH_T/hashes.tsv'
UPDATE earmark.voucher v SET chain_hash = h.hash FROM h WHERE v.book_id = h.book_id AND v.voucher_id = h.voucher_id;
CREATE TEMP TABLE hd (book_id integer, hash text);
\\copy hd FROM '$BENCH_T/heads.tsv'
UPDATE earmark.chain_head c SET hash = pg_catalog.decode(hd.hash, 'hex') FROM hd WHERE c.book_id = hd.book_id;
-- the texts are the server's canonical ones: a sample checked against
-- earmark.canonical_text's chain step (D8)
DO \$\$
DECLARE bad bigint;
BEGIN
	SELECT count(*) INTO bad
	  FROM (SELECT v AS vr, lag(v.chain_hash) OVER (PARTITION BY v.book_id ORDER BY v.chain_seq) AS prev
	          FROM earmark.voucher v WHERE v.chain_seq IS NOT NULL) s
	 WHERE s.prev IS NOT NULL AND (s.vr).voucher_id % 997 = 0
	   AND earmark.chain_step(s.prev, s.vr) IS DISTINCT FROM (s.vr).chain_hash;
	IF bad > 0 THEN
		RAISE EXCEPTION 'bench: % sampled vouchers differ from earmark.chain_step', bad;
	END IF;
END
\$\$;
COMMIT;
VACUUM ANALYZE earmark.voucher;
CHECKPOINT;
EOF
}
bench_run chain bench_chain
bench_run verify-chain "$EM" --book "$BOOK" ledger verify-chain
read -r LINES VOUCHERS <<<"$(q -c "SELECT (SELECT count(*) FROM earmark.line) || ' ' || (SELECT count(*) FROM earmark.voucher)")"

bench_step "a throwaway CA and an ECDSA P-256 signer"
K=$BENCH_T/keys
mkdir -p "$K"
bench_run ca openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$K/ca.key" \
	-out "$K/ca.pem" -days 2 -subj "/C=CN/O=earmark bench/CN=bench CA" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
bench_run signer-csr openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$K/signer.key" \
	-out "$K/signer.csr" -subj "/C=CN/O=earmark bench/CN=bench_auditor"
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' >"$K/signer.ext"
bench_run signer openssl x509 -req -in "$K/signer.csr" -CA "$K/ca.pem" -CAkey "$K/ca.key" -CAcreateserial \
	-days 2 -extfile "$K/signer.ext" -out "$K/signer.pem"

# The cluster's own processes, without any backend: the count of the
# postmaster's children once nothing is connected.  A backend's CPU time
# reaches the postmaster's counters (bench_server_ticks) only once it has
# exited and been reaped, which can be after its client has: peak waits for
# that (at most 5 s) inside the timed step, so that each step's server CPU
# is its own and not the next step's.
PM=$(head -n 1 "$BENCH_T/var/pg/postmaster.pid")
children() { pgrep -c -P "$PM" || true; }

# peak NAME CMD...: runs CMD timed (bench_time) and puts its peak RSS in
# PEAK[NAME] (KB), then waits for the cluster's backends to be gone.
declare -A PEAK
peak() {
	local name=$1
	shift
	bench_time "$name" /usr/bin/python3 -c '
import os, resource, subprocess, sys, time
rc = subprocess.run(sys.argv[4:]).returncode
with open(sys.argv[1], "w") as f:
    f.write("%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
pm, base = sys.argv[2], int(sys.argv[3])
def children():
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as s:
                    if s.read().rsplit(")", 1)[1].split()[1] == pm:
                        n += 1
            except OSError:
                pass
    return n
for _ in range(500):
    if children() <= base:
        break
    time.sleep(0.01)
sys.exit(rc)' "$BENCH_LOG/$name.peak" "$PM" "$BASE_CHILDREN" "$@"
	PEAK[$name]=$(cat "$BENCH_LOG/$name.peak")
}

PKG=$BENCH_T/bench.asice
if [ -n "${BENCH_HOLD:-}" ]; then
	printf 'export PGHOST=%s PGPORT=%s PGUSER=%s EARMARK_HOME=%s PGDATABASE=%s\nK=%s\nFROM=%s\nTO=%s\n' \
		"$PGHOST" "$PGPORT" "$PGUSER" "$EARMARK_HOME" "$PGDATABASE" "$K" "$BOOK_START" "$LAST_DAY" >"$BENCH_HOLD"
	bench_step "holding the cluster until $BENCH_HOLD is removed"
	while [ -e "$BENCH_HOLD" ]; do sleep 2; done
fi
sleep 1
BASE_CHILDREN=$(children)
for _ in 1 2 3; do
	sleep 1
	n=$(children)
	[ "$n" -ge "$BASE_CHILDREN" ] || BASE_CHILDREN=$n
done
LOAD_BEFORE=$(bench_load)
bench_step "timed: audit export, audit verify, sha256sum"
peak export "$EM" --user bench_auditor --book "$BOOK" audit export --from "$BOOK_START" --to "$LAST_DAY" \
	--key "$K/signer.key" --cert "$K/signer.pem" -o "$PKG"
peak verify "$EM" audit verify "$PKG" --ca "$K/ca.pem"
mkdir -p "$BENCH_T/unpacked"
bench_run unzip unzip -q "$PKG" -d "$BENCH_T/unpacked"
bench_time sha256_package sha256sum "$PKG"
bench_time sha256_files find "$BENCH_T/unpacked" -type f -exec sha256sum {} +
LOAD_AFTER=$(bench_load)
BYTES=$(stat -c %s "$PKG")
UNPACKED=$(du -sb "$BENCH_T/unpacked" | cut -f 1)

rate() { awk -v n="$LINES" -v s="$1" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
PGVERSION=$(psql -X -A -t -c 'SHOW server_version')
mkdir -p "$OUT"
{
	printf '{\n  "benchmark": "audit",\n  "lines": %d,\n  "vouchers": %d,\n' "$LINES" "$VOUCHERS"
	printf '  "package_bytes": %d,\n  "unpacked_bytes": %d,\n' "$BYTES" "$UNPACKED"
	printf '  "date": "%s",\n  "commit": "%s",\n' "$(date -u +%FT%TZ)" "$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	bench_machine_json "$LOAD_BEFORE" "$LOAD_AFTER"
	for k in export verify; do
		printf '  "%s": { "seconds": %s, "cpu_seconds": %s, "lines_per_second": %s, "peak_mib": %s, "target_lines_per_second": 200000, "target_peak_mib": 64 },\n' \
			"$k" "${BENCH_SECS[$k]}" "${BENCH_CPU[$k]}" "$(rate "${BENCH_SECS[$k]}")" "$(mib "${PEAK[$k]}")"
	done
	printf '  "sha256sum_package_seconds": %s,\n  "sha256sum_files_seconds": %s\n}\n' \
		"${BENCH_SECS[sha256_package]}" "${BENCH_SECS[sha256_files]}"
} >"$OUT/audit.json"

echo
echo "audit: $LINES lines, $VOUCHERS vouchers; package $BYTES bytes ($UNPACKED unpacked); $(nproc) CPUs; PostgreSQL $PGVERSION"
echo "load average (1 min) before the timed steps $LOAD_BEFORE, after $LOAD_AFTER"
echo
printf '%-36s %9s %8s %10s %9s  %s\n' step seconds "cpu s" "lines/s" "peak MiB" "target: 200000 lines/s, 64 MiB"
printf '%-36s %9s %8s %10s %9s\n' ---- ------- ----- ------- --------
for k in export verify; do
	verdict=$(awk -v r="$(rate "${BENCH_SECS[$k]}")" -v m="$(mib "${PEAK[$k]}")" \
		'BEGIN { print (r >= 200000 && m <= 64) ? "within" : "OVER" }')
	printf '%-36s %9s %8s %10s %9s  %s\n' "audit $k" "${BENCH_SECS[$k]}" "${BENCH_CPU[$k]}" \
		"$(rate "${BENCH_SECS[$k]}")" "$(mib "${PEAK[$k]}")" "$verdict"
done
printf '%-36s %9s\n' "reference: sha256sum of the package" "${BENCH_SECS[sha256_package]}"
printf '%-36s %9s\n' "reference: sha256sum of its files" "${BENCH_SECS[sha256_files]}"
echo
echo "figures: ${OUT#"$TOP"/}/audit.json"
