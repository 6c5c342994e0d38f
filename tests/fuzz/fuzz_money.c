/*
 * Fuzzes the amount parser (ledger/money.c): any text either parses or is
 * refused with a message; whatever parses prints back, plain and grouped,
 * to text that parses to the same fen (the round trip every report and
 * export relies on).
 */
#include "tests/fuzz/fuzz.h"

#include "ledger/error.h"
#include "ledger/money.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct em_error err = EM_ERROR_INIT;
	char *s;
	int64_t fen = 0, again = 0;
	char plain[EM_MONEY_BUFSZ], grouped[EM_MONEY_BUFSZ];

	if (size > 256)
		return -1;
	s = em_fuzz_str(data, size);
	if (em_money_parse(s, &fen, &err) == 0) {
		em_fuzz_assert(err.message == NULL);
		em_money_format(fen, plain, sizeof(plain));
		em_money_format_grouped(fen, grouped, sizeof(grouped));
		em_fuzz_assert(em_money_parse(plain, &again, &err) == 0 && again == fen);
		em_fuzz_assert(em_money_parse(grouped, &again, &err) == 0 && again == fen);
	} else {
		em_fuzz_assert(err.message != NULL);
	}
	em_error_release(&err);
	free(s);
	return 0;
}
