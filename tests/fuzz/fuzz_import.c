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
 * means a message and nothing produced.  For COPY, the streaming form
 * (em_csv_read_mem_each with em_import_copy_row, what pay batch uses) gives
 * the same rows, hands on exactly those rows and nothing after a problem,
 * and refuses with the same message and detail.
 */
#include "tests/fuzz/fuzz.h"

#include "ledger/csv.h"
#include "ledger/error.h"
#include "ledger/strbuf.h"
#include "posting/import.h"

static const struct em_column_table *const tables[] = { &em_voucher_file, &em_pay_file, &em_household_file };

static void collect(void *arg, const char *rows, size_t len)
{
	em_strbuf_add(arg, rows, len);
}

static int same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The streaming form against what the whole-file form gave (ret, out, err). */
static void check_stream(const uint8_t *data, size_t size, const struct em_column_table *t, int ret,
			 const struct em_strbuf *out, size_t nrows, const struct em_error *err)
{
	struct em_csv csv = EM_CSV_INIT;
	struct em_error serr = EM_ERROR_INIT;
	struct em_strbuf sent = EM_STRBUF_INIT, rows = EM_STRBUF_INIT;
	struct em_import *im = em_import_copy_start(t->cols, t->ncols, collect, &sent);
	size_t n = 0;
	int sret;

	sret = em_csv_read_mem_each(&csv, "fuzz.csv", (const char *)data + 1, size - 1, NULL,
				    em_import_copy_row, im, &serr);
	if (sret == 0)
		sret = em_import_copy_finish(im, &csv, &rows, &n, &serr);
	em_fuzz_assert(sret == ret);
	if (ret == 0) {
		em_fuzz_assert(n == nrows && rows.len == out->len && memcmp(rows.buf, out->buf, out->len) == 0);
		em_fuzz_assert(sent.len == out->len && memcmp(sent.buf, out->buf, out->len) == 0);
	} else {
		em_fuzz_assert(same(serr.message, err->message) && same(serr.detail, err->detail));
		/* what was handed on before the problem is a prefix of whole rows */
		em_fuzz_assert(sent.len == 0 || sent.buf[sent.len - 1] == '\n');
	}
	em_import_free(im);
	em_csv_release(&csv);
	em_error_release(&serr);
	em_strbuf_release(&sent);
	em_strbuf_release(&rows);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct em_csv csv = EM_CSV_INIT;
	struct em_error err = EM_ERROR_INIT;
	struct em_strbuf out = EM_STRBUF_INIT;
	size_t nrows = 0;
	int t, copy, ret;

	if (size < 1 || size > 65536)
		return -1;
	t = data[0] % 3;
	copy = (data[0] / 3) % 2;
	if (em_csv_read_mem(&csv, "fuzz.csv", (const char *)data + 1, size - 1, NULL, &err) != 0) {
		if (copy)
			check_stream(data, size, tables[t], EM_ERR, &out, 0, &err);
		goto out;
	}
	ret = (copy ? em_import_csv_copy : em_import_csv_json)(&csv, tables[t]->cols, tables[t]->ncols,
							      &out, &nrows, &err);
	if (copy)
		check_stream(data, size, tables[t], ret, &out, nrows, &err);
	if (ret == 0) {
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
