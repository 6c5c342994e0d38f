#!/usr/bin/env bash
# Fuzzing in `make check` (issue 8, item 4): every libFuzzer target of
# tests/fuzz/ (CSV reader, import row parsers, bank CSV statements,
# camt.053, amounts, ID numbers, the audit package verifier) is built with
# clang (make fuzzers; `make check` has built them already) and run for
# FUZZ_CHECK_SECONDS (default 4) each, about 30 s in all.  Each run first
# replays the target's seed corpus tests/fuzz/corpus/NAME/, which holds
# every input that once crashed it, so a fixed bug that comes back fails
# here at once.  A crash, leak, sanitizer report or broken invariant fails
# the step; its input is kept in build/fuzz/crashes/NAME/ (tests/fuzz/run).
# `make fuzz` runs the same targets for FUZZ_SECONDS (300) each.
# Needs no database.
# shellcheck disable=SC2016 # steps are single-quoted strings that lib.sh evaluates
. "$SRCDIR/tests/e2e/lib.sh"

FUZZ_CHECK_SECONDS=${FUZZ_CHECK_SECONDS:-4}
targets=()
for f in "$SRCDIR"/tests/fuzz/fuzz_*.c; do
	n=${f##*/fuzz_}
	targets+=("${n%.c}")
done

test_expect_success "the fuzz targets build with clang (${#targets[@]} of them)" '
	test ${#targets[@]} -ge 7 &&
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$SRCDIR" -j2 fuzzers &&
	for n in "${targets[@]}"; do
		test -x "$SRCDIR/build/fuzz/fuzz_$n" || exit 1
	done
'

for n in "${targets[@]}"; do
	test_expect_success "fuzz_$n: seeds and past crashes replayed, then ${FUZZ_CHECK_SECONDS}s of fuzzing, no crash" '
		# the report of a crash (tests/fuzz/run prints its head) goes into the step output
		if ! FUZZ_SECONDS=$FUZZ_CHECK_SECONDS FUZZ_WORK=$TEST_TMP/corpus FUZZ_LOGS=$TEST_TMP/log \
			"$SRCDIR/tests/fuzz/run" "$n" >out; then
			cat out
			exit 1
		fi
		cat out &&
		grep -q "^fuzz_$n: ok, [0-9]* runs" out
	'
done

test_done
