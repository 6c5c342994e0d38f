/*
 * Fuzzes the row parsers that sit on the CSV reader (posting/import.c):
 * the header-to-column matching, money columns, normalisers, uniqueness
 * within a file, and both outputs, the JSON rows voucher drafts and master
 * imports send and the COPY text payment batches send.  The column tables
 * are those posting/voucher.c, posting/pay.c and posting/admin.c read their
 * files with (posting/import.h); the first byte of the input picks the
 * table and the output, the rest is the file.
 *
 * Invariants: success means no error and, for JSON, a text that starts
 * with '[' and ends with ']'; for COPY, one line per data row; failure
 * means a message and nothing produced.
 */
#include "tests/fuzz/fuzz.h"

#include "ledger/csv.h"
#include "ledger/error.h"
#include "ledger/strbuf.h"
#include "posting/import.h"

static const struct em_column_table *const tables[] = { &em_voucher_file, &em_pay_file, &em_household_file };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct em_csv csv = EM_CSV_INIT;
	struct em_error err = EM_ERROR_INIT;
	struct em_strbuf out = EM_STRBUF_INIT;
	size_t nrows = 0;
	int t, copy;

	if (size < 1 || size > 65536)
		return -1;
	t = data[0] % 3;
	copy = (data[0] / 3) % 2;
	if (em_csv_read_mem(&csv, "fuzz.csv", (const char *)data + 1, size - 1, NULL, &err) != 0)
		goto out;
	if ((copy ? em_import_csv_copy : em_import_csv_json)(&csv, tables[t]->cols, tables[t]->ncols,
							     &out, &nrows, &err) == 0) {
		em_fuzz_assert(err.message == NULL);
		em_fuzz_assert(nrows >= 1 && nrows < csv.nrows);
		if (copy) {
			size_t lines = 0;

			for (size_t i = 0; i < out.len; i++)
				lines += out.buf[i] == '\n';
			em_fuzz_assert(lines == nrows);
		} else {
			em_fuzz_assert(out.len >= 2 && out.buf[0] == '[' && out.buf[out.len - 1] == ']');
		}
	} else {
		em_fuzz_assert(err.message != NULL);
	}
out:
	em_csv_release(&csv);
	em_error_release(&err);
	em_strbuf_release(&out);
	return 0;
}
