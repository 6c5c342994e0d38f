/*
 * Fuzzes the CSV reader (ledger/csv.c) in each of its encodings: the
 * first byte picks auto, UTF-8 or GB18030, the rest is the file.  Whatever
 * it accepts must be well-formed: rows with fields that are NUL-terminated
 * UTF-8 and line numbers that never go backwards.
 */
#include "tests/fuzz/fuzz.h"

#include "ledger/csv.h"
#include "ledger/error.h"

static const char *const encodings[] = { NULL, "auto", "utf-8", "gb18030" };

/* Minimal UTF-8 well-formedness: the lengths and continuation bytes. */
static int utf8_ok(const unsigned char *s)
{
	while (*s) {
		size_t n = *s < 0x80 ? 1 : (*s & 0xe0) == 0xc0 ? 2 : (*s & 0xf0) == 0xe0 ? 3
			 : (*s & 0xf8) == 0xf0 ? 4 : 0;

		if (n == 0)
			return 0;
		for (size_t i = 1; i < n; i++)
			if ((s[i] & 0xc0) != 0x80)
				return 0;
		s += n;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct em_csv csv = EM_CSV_INIT;
	struct em_error err = EM_ERROR_INIT;
	size_t last = 0;

	if (size < 1 || size > 65536)
		return -1;
	if (em_csv_read_mem(&csv, "fuzz.csv", (const char *)data + 1, size - 1,
			    encodings[data[0] % 4], &err) == 0) {
		em_fuzz_assert(err.message == NULL);
		for (size_t r = 0; r < csv.nrows; r++) {
			em_fuzz_assert(csv.rows[r].line >= 1 && csv.rows[r].line >= last);
			last = csv.rows[r].line;
			for (size_t f = 0; f < csv.rows[r].nfields; f++)
				em_fuzz_assert(utf8_ok((const unsigned char *)csv.rows[r].fields[f]));
		}
	} else {
		em_fuzz_assert(err.message != NULL);
	}
	em_csv_release(&csv);
	em_error_release(&err);
	return 0;
}
