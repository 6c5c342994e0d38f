/*
 * Fuzzes the ID number check (ledger/idno.c, rule H1): any text is either
 * refused with a reason, leaving out untouched, or becomes an 18-character
 * canonical number that is itself accepted unchanged (idempotent).  The
 * first byte picks "today" so that the birth-date bounds move too.
 */
#include "tests/fuzz/fuzz.h"

#include "ledger/idno.h"

static const char *const todays[] = { "2026-12-06", "1900-01-01", "2000-02-29", "9999-12-31" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[EM_ID_LEN + 1], again[EM_ID_LEN + 1];
	const char *why = NULL;
	const char *today;
	char *s;

	if (size < 1 || size > 64)
		return -1;
	today = todays[data[0] % 4];
	s = em_fuzz_str(data + 1, size - 1);
	memset(out, '#', sizeof(out));
	if (em_id_check(s, today, out, &why) == 0) {
		em_fuzz_assert(strlen(out) == EM_ID_LEN);
		em_fuzz_assert(em_id_check(out, today, again, &why) == 0);
		em_fuzz_assert(strcmp(out, again) == 0);
		/* in place, as the header allows */
		memcpy(again, out, sizeof(again));
		em_fuzz_assert(em_id_check(again, today, again, &why) == 0);
		em_fuzz_assert(strcmp(out, again) == 0);
	} else {
		em_fuzz_assert(why != NULL && why[0] != '\0');
		for (size_t i = 0; i < sizeof(out); i++)
			em_fuzz_assert(out[i] == '#');
	}
	free(s);
	return 0;
}
