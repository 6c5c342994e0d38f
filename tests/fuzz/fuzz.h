/*
 * What the libFuzzer targets in tests/fuzz/ share: the entry point's
 * prototype (libFuzzer calls it once per input, from one thread) and a
 * helper that turns the input into a NUL-terminated string, since the
 * parsers under test take C strings.  The targets check invariants with
 * em_fuzz_assert, which aborts, so a broken invariant is a crash that
 * libFuzzer saves like any other.
 */
#ifndef EM_FUZZ_H
#define EM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a string, owned by the caller; NUL bytes end it early. */
static inline char *em_fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#define em_fuzz_assert(cond)                                                              \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                   \
			abort();                                                          \
		}                                                                         \
	} while (0)

#endif
