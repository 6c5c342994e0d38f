/*
 * Unit tests for ledger/csv.c: quoting, line numbers of rows that follow
 * multi-line fields, line endings, byte-order marks, GB18030 (made here
 * with iconv from UTF-8 text), the encoding refusals with their offsets,
 * empty files, and a 100,000-row file against the clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/csv.h"
#include "ledger/error.h"
#include "ledger/strbuf.h"

/* Reads s (NUL terminated) as file "t.csv" and expects success. */
static void read_ok(struct em_csv *csv, const char *s, const char *encoding)
{
	struct em_error err = EM_ERROR_INIT;

	if (em_csv_read_mem(csv, "t.csv", s, strlen(s), encoding, &err) != 0)
		fail_msg("refused: %s (%s)", err.message ? err.message : "?",
			 err.detail ? err.detail : "");
	assert_null(err.message);
	em_error_release(&err);
}

/* Reads len bytes and expects refusal with exactly message (and detail). */
static void read_bad(const char *data, size_t len, const char *encoding, const char *message,
		     const char *detail)
{
	struct em_csv csv = EM_CSV_INIT;
	struct em_error err = EM_ERROR_INIT;

	assert_int_equal(em_csv_read_mem(&csv, "t.csv", data, len, encoding, &err), EM_ERR);
	assert_non_null(err.message);
	assert_string_equal(err.message, message);
	if (detail != NULL) {
		assert_non_null(err.detail);
		assert_string_equal(err.detail, detail);
	}
	/* a refused read leaves nothing behind */
	assert_int_equal(csv.nrows, 0);
	assert_null(csv.rows);
	assert_null(csv.path);
	em_csv_release(&csv);
	em_error_release(&err);
}

static void check_row(const struct em_csv *csv, size_t i, size_t line, size_t nfields, ...)
{
	va_list ap;
	size_t k;

	assert_true(i < csv->nrows);
	assert_int_equal(csv->rows[i].line, line);
	assert_int_equal(csv->rows[i].nfields, nfields);
	va_start(ap, nfields);
	for (k = 0; k < nfields; k++)
		assert_string_equal(csv->rows[i].fields[k], va_arg(ap, const char *));
	va_end(ap);
}

static void test_plain(void **state)
{
	struct em_csv csv = EM_CSV_INIT;

	(void)state;
	read_ok(&csv, "name,amount\nzhang,1.00\nli,2.50\n", NULL);
	assert_string_equal(csv.path, "t.csv");
	assert_string_equal(csv.encoding, "utf-8");
	assert_int_equal(csv.had_bom, 0);
	assert_int_equal(csv.nrows, 3);
	check_row(&csv, 0, 1, 2, "name", "amount");
	check_row(&csv, 1, 2, 2, "zhang", "1.00");
	check_row(&csv, 2, 3, 2, "li", "2.50");
	em_csv_release(&csv);
	assert_null(csv.rows);
	em_csv_release(&csv); /* twice is harmless */

	/* no newline at the end, empty fields, spaces kept as they are */
	read_ok(&csv, "a,,c\n, b ,\nlast,row", "auto");
	assert_int_equal(csv.nrows, 3);
	check_row(&csv, 0, 1, 3, "a", "", "c");
	check_row(&csv, 1, 2, 3, "", " b ", "");
	check_row(&csv, 2, 3, 2, "last", "row");
	em_csv_release(&csv);
}

static void test_bom(void **state)
{
	struct em_csv csv = EM_CSV_INIT;

	(void)state;
	read_ok(&csv, "\xef\xbb\xbf\xe6\x88\xb7\xe4\xb8\xbb,b\n1,2\n", NULL);
	assert_int_equal(csv.had_bom, 1);
	assert_string_equal(csv.encoding, "utf-8");
	assert_int_equal(csv.nrows, 2);
	check_row(&csv, 0, 1, 2, "\xe6\x88\xb7\xe4\xb8\xbb", "b"); /* 户主 */
	check_row(&csv, 1, 2, 2, "1", "2");
	em_csv_release(&csv);

	/* a BOM in front of bytes that are not UTF-8 is not GB18030 either */
	read_bad("\xef\xbb\xbf" "a\n\xd5\xc5\n", 8, NULL, "file 't.csv' is not valid UTF-8",
		 "byte 0xd5 at offset 5 (line 2) is not UTF-8");
	read_bad("\xef\xbb\xbf" "a\n", 5, "gb18030",
		 "file 't.csv' starts with a UTF-8 byte-order mark but was to be read as GB18030",
		 NULL);
}

/* UTF-8 text converted to GB18030 with iconv; caller frees. */
static char *to_gb18030(const char *utf8, size_t *outlen)
{
	iconv_t cd = iconv_open("GB18030", "UTF-8");
	size_t inleft = strlen(utf8);
	size_t cap = inleft * 2 + 8;
	char *out = malloc(cap);
	char *in = (char *)utf8;
	char *outp = out;
	size_t outleft = cap;

	assert_true(cd != (iconv_t)-1);
	assert_non_null(out);
	assert_true(iconv(cd, &in, &inleft, &outp, &outleft) != (size_t)-1);
	assert_int_equal(inleft, 0);
	iconv_close(cd);
	*outlen = cap - outleft;
	return out;
}

static void test_gb18030(void **state)
{
	static const char text[] = "\xe6\x88\xb7\xe4\xb8\xbb,\xe9\x87\x91\xe9\xa2\x9d\n" /* 户主,金额 */
				   "\xe5\xbc\xa0\xe4\xb8\x89,1.00\n";                   /* 张三,1.00 */
	struct em_csv csv = EM_CSV_INIT;
	struct em_error err = EM_ERROR_INIT;
	size_t len;
	char *gb = to_gb18030(text, &len);

	(void)state;
	/* what iconv made: 户 is BB A7 in GB2312, so this is not UTF-8 */
	assert_int_equal(len, 20);
	assert_memory_equal(gb, "\xbb\xa7\xd6\xf7,", 5);

	assert_int_equal(em_csv_read_mem(&csv, "gb.csv", gb, len, NULL, &err), 0);
	assert_string_equal(csv.encoding, "gb18030");
	assert_int_equal(csv.had_bom, 0);
	assert_int_equal(csv.nrows, 2);
	check_row(&csv, 0, 1, 2, "\xe6\x88\xb7\xe4\xb8\xbb", "\xe9\x87\x91\xe9\xa2\x9d");
	check_row(&csv, 1, 2, 2, "\xe5\xbc\xa0\xe4\xb8\x89", "1.00");
	em_csv_release(&csv);

	/* forced gb18030 gives the same; forced utf-8 refuses, naming the byte */
	assert_int_equal(em_csv_read_mem(&csv, "gb.csv", gb, len, "GB18030", &err), 0);
	assert_string_equal(csv.encoding, "gb18030");
	check_row(&csv, 1, 2, 2, "\xe5\xbc\xa0\xe4\xb8\x89", "1.00");
	em_csv_release(&csv);
	read_bad(gb, len, "utf-8", "file 't.csv' is not valid UTF-8",
		 "byte 0xbb at offset 0 (line 1) is not UTF-8");

	/* forced gb18030 on bytes that are not: 0x80 is never GB18030 */
	read_bad("ab\n\x80\n", 5, "gb18030", "file 't.csv' is not valid GB18030",
		 "byte 0x80 at offset 3 (line 2) is not GB18030");
	/* a lead byte cut off by the end of the file */
	read_bad("ab\n\xd5", 4, "gb18030", "file 't.csv' is not valid GB18030",
		 "byte 0xd5 at offset 3 (line 2) is not GB18030");
	free(gb);
	em_error_release(&err);
}

static void test_invalid_encoding(void **state)
{
	(void)state;
	read_bad("x\ny,\xff\n", 6, NULL, "file 't.csv' is neither UTF-8 nor GB18030",
		 "byte 0xff at offset 4 (line 2) is not UTF-8, and byte 0xff at offset 4 "
		 "(line 2) is not GB18030");
	/* valid GB18030 first (张 = D5 C5), then a byte neither accepts */
	read_bad("\xd5\xc5\n1\n2,\x80", 8, "auto", "file 't.csv' is neither UTF-8 nor GB18030",
		 "byte 0xd5 at offset 0 (line 1) is not UTF-8, and byte 0x80 at offset 7 "
		 "(line 3) is not GB18030");
	read_bad("\xff\xfe" "a\0,\0", 6, NULL, "file 't.csv' is UTF-16, not UTF-8 or GB18030",
		 NULL);
	read_bad("a,b\nc\0d\n", 8, NULL, "file 't.csv' contains a NUL byte at line 2",
		 "at byte offset 5; a CSV file holds text only");
	read_bad("a\n", 2, "latin1", "unknown encoding 'latin1' for file 't.csv'", NULL);
}

static void test_utf8_strict(void **state)
{
	struct em_csv csv = EM_CSV_INIT;

	(void)state;
	/* overlong '/', surrogate, above U+10FFFF, lone continuation, cut short */
	read_bad("a\xc0\xaf\n", 4, "utf-8", "file 't.csv' is not valid UTF-8",
		 "byte 0xc0 at offset 1 (line 1) is not UTF-8");
	read_bad("a\xe0\x80\xaf\n", 5, "utf-8", "file 't.csv' is not valid UTF-8",
		 "byte 0xe0 at offset 1 (line 1) is not UTF-8");
	read_bad("ok\n\xed\xa0\x80\n", 7, "utf-8", "file 't.csv' is not valid UTF-8",
		 "byte 0xed at offset 3 (line 2) is not UTF-8");
	read_bad("\xf4\x90\x80\x80", 4, "utf-8", "file 't.csv' is not valid UTF-8",
		 "byte 0xf4 at offset 0 (line 1) is not UTF-8");
	read_bad("\xf0\x80\x80\xaf", 4, "utf-8", "file 't.csv' is not valid UTF-8", NULL);
	read_bad("a\x80", 2, "utf-8", "file 't.csv' is not valid UTF-8",
		 "byte 0x80 at offset 1 (line 1) is not UTF-8");
	read_bad("a\xe6\x88", 3, "utf-8", "file 't.csv' is not valid UTF-8",
		 "byte 0xe6 at offset 1 (line 1) is not UTF-8");
	/* the largest code points of each length are fine */
	read_ok(&csv, "\x7f,\xdf\xbf,\xef\xbf\xbf,\xf4\x8f\xbf\xbf,\xf0\x9f\x98\x80\n", "utf-8");
	assert_string_equal(csv.encoding, "utf-8");
	check_row(&csv, 0, 1, 5, "\x7f", "\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf",
		  "\xf0\x9f\x98\x80");
	em_csv_release(&csv);
}

static void test_quoting(void **state)
{
	struct em_csv csv = EM_CSV_INIT;

	(void)state;
	read_ok(&csv, "\"a,b\",c\n\"say \"\"hi\"\"\",\"\"\n\"\"\"\",x\n", NULL);
	assert_int_equal(csv.nrows, 3);
	check_row(&csv, 0, 1, 2, "a,b", "c");
	check_row(&csv, 1, 2, 2, "say \"hi\"", "");
	check_row(&csv, 2, 3, 2, "\"", "x");
	em_csv_release(&csv);
}

static void test_quoted_newlines(void **state)
{
	struct em_csv csv = EM_CSV_INIT;

	(void)state;
	read_ok(&csv,
		"h1,h2\n"
		"\"two\nlines\",z\n"        /* lines 2-3 */
		"next,\"three\n\nlines\"\n" /* lines 4-6 */
		"\n"                        /* line 7 blank */
		"last,row\n",               /* line 8 */
		NULL);
	assert_int_equal(csv.nrows, 4);
	check_row(&csv, 0, 1, 2, "h1", "h2");
	check_row(&csv, 1, 2, 2, "two\nlines", "z");
	check_row(&csv, 2, 4, 2, "next", "three\n\nlines");
	check_row(&csv, 3, 8, 2, "last", "row");
	em_csv_release(&csv);

	/* the same with CRLF: the CR inside quotes is data, outside it is not */
	read_ok(&csv, "h1,h2\r\n\"two\r\nlines\",z\r\n\r\nlast,row\r\n", NULL);
	assert_int_equal(csv.nrows, 3);
	check_row(&csv, 0, 1, 2, "h1", "h2");
	check_row(&csv, 1, 2, 2, "two\r\nlines", "z");
	check_row(&csv, 2, 5, 2, "last", "row");
	em_csv_release(&csv);

	/* a row starting with a quote right after a multi-line one */
	read_ok(&csv, "\"a\nb\"\n\"c\nd\",e\nf\n", NULL);
	assert_int_equal(csv.nrows, 3);
	check_row(&csv, 0, 1, 1, "a\nb");
	check_row(&csv, 1, 3, 2, "c\nd", "e");
	check_row(&csv, 2, 5, 1, "f");
	em_csv_release(&csv);
}

static void test_line_endings(void **state)
{
	struct em_csv csv = EM_CSV_INIT;

	(void)state;
	read_ok(&csv, "a,b\r\nc,d\r\n", NULL);
	assert_int_equal(csv.nrows, 2);
	check_row(&csv, 0, 1, 2, "a", "b");
	check_row(&csv, 1, 2, 2, "c", "d");
	em_csv_release(&csv);

	/* old Mac: a lone CR ends a line too */
	read_ok(&csv, "a\rb\r\rc", NULL);
	assert_int_equal(csv.nrows, 3);
	check_row(&csv, 0, 1, 1, "a");
	check_row(&csv, 1, 2, 1, "b");
	check_row(&csv, 2, 4, 1, "c");
	em_csv_release(&csv);

	/* blank lines in the middle produce no row but count as lines */
	read_ok(&csv, "\n\na\n\nb\n", NULL);
	assert_int_equal(csv.nrows, 2);
	check_row(&csv, 0, 3, 1, "a");
	check_row(&csv, 1, 5, 1, "b");
	em_csv_release(&csv);
}

static void test_empty(void **state)
{
	static const char *const inputs[] = { "", "\xef\xbb\xbf", "\n", "\n\n\r\n\r\n",
					      "\xef\xbb\xbf\r\n\r\n", ",,\n , \n" };
	struct em_csv csv = EM_CSV_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		read_ok(&csv, inputs[i], NULL);
		assert_int_equal(csv.nrows, 0);
		assert_string_equal(csv.encoding, "utf-8");
		em_csv_release(&csv);
	}
}

static void test_trailing_blank(void **state)
{
	struct em_csv csv = EM_CSV_INIT;

	(void)state;
	/* spreadsheets leave ",,," rows and blank lines after the data */
	read_ok(&csv, "a,b\n1,2\n\n\n,\n  \n\r\n", NULL);
	assert_int_equal(csv.nrows, 2);
	check_row(&csv, 1, 2, 2, "1", "2");
	em_csv_release(&csv);
	/* an empty row in the middle stays: the caller refuses it by line */
	read_ok(&csv, "a,b\n,\n1,2\n", NULL);
	assert_int_equal(csv.nrows, 3);
	check_row(&csv, 1, 2, 2, "", "");
	em_csv_release(&csv);
}

static void test_unterminated(void **state)
{
	static const char s[] = "a,b\n1,\"oops\n2,3\n4,5\n";

	(void)state;
	read_bad(s, strlen(s), NULL, "unterminated quoted field in file 't.csv' at line 2",
		 "the row starting at line 2 opens a quote that is never closed before the end "
		 "of the file");
	read_bad("\"", 1, NULL, "unterminated quoted field in file 't.csv' at line 1", NULL);
}

static void test_malformed_quotes(void **state)
{
	static const char a[] = "a,b\nc,5\" pipe\n";
	static const char b[] = "a,b\n\"x\ny\"z,1\n";

	(void)state;
	read_bad(a, strlen(a), NULL, "malformed quoting in file 't.csv' at line 2",
		 "a quote character inside a field that does not start with a quote");
	read_bad(b, strlen(b), NULL, "malformed quoting in file 't.csv' at line 3",
		 "text after the closing quote of a field");
}

static void test_name_sanitized(void **state)
{
	struct em_csv csv = EM_CSV_INIT;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	assert_int_equal(em_csv_read_mem(&csv, "evil\n\x1b[31m.csv", "\"", 1, NULL, &err),
			 EM_ERR);
	assert_string_equal(err.message,
			    "unterminated quoted field in file 'evil??[31m.csv' at line 1");
	em_error_release(&err);
}

static char *temp_file(const char *data, size_t len)
{
	char *path = strdup("/tmp/earmark-test-csv-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_read_file(void **state)
{
	struct em_csv csv = EM_CSV_INIT;
	struct em_error err = EM_ERROR_INIT;
	char *path = temp_file("\xef\xbb\xbfx,y\r\n1,2\r\n", 13);
	int fd;

	(void)state;
	assert_int_equal(em_csv_read_file(&csv, path, NULL, &err), 0);
	assert_string_equal(csv.path, path);
	assert_int_equal(csv.had_bom, 1);
	assert_int_equal(csv.nrows, 2);
	check_row(&csv, 1, 2, 2, "1", "2");
	em_csv_release(&csv);

	/* over 256 MiB is refused before it is read (a sparse file) */
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)256 * 1024 * 1024 + 1), 0);
	close(fd);
	assert_int_equal(em_csv_read_file(&csv, path, NULL, &err), EM_ERR);
	assert_non_null(strstr(err.message, "is too large"));
	assert_string_equal(err.detail, "it has 268435457 bytes; the limit is 268435456 (256 MiB)");
	assert_int_equal(csv.nrows, 0);
	unlink(path);

	assert_int_equal(em_csv_read_file(&csv, path, NULL, &err), EM_ERR);
	assert_non_null(strstr(err.message, "could not open file '/tmp/earmark-test-csv-"));
	assert_string_equal(err.detail, "No such file or directory");
	assert_int_equal(em_csv_read_file(&csv, "/tmp", NULL, &err), EM_ERR);
	assert_string_equal(err.message, "could not read file '/tmp'");
	free(path);
	em_error_release(&err);
}

/* What em_csv_read_mem_each handed on: each row's index and its fields then. */
struct handed {
	size_t n;
	size_t r[16];
	size_t line[16];
	size_t nfields[16];
};

static void hand(const struct em_csv *csv, size_t r, void *arg)
{
	struct handed *h = arg;

	assert_true(h->n < 16);
	assert_true(r < csv->nrows);
	h->r[h->n] = r;
	h->line[h->n] = csv->rows[r].line;
	h->nfields[h->n] = csv->rows[r].nfields;
	h->n++;
}

static void test_read_each(void **state)
{
	/* header; a row; a blank row (kept: text follows it); a row with a
	 * quoted newline; blank rows at the end (dropped, never handed on) */
	static const char text[] = "a,b\n1,2\n,\n\"x\ny\",3\n , \n,\n";
	static const char bad[] = "a,b\n1,2\n3,\"4\n";
	struct em_csv csv = EM_CSV_INIT;
	struct em_error err = EM_ERROR_INIT;
	struct handed h = { 0 };

	(void)state;
	assert_int_equal(em_csv_read_mem_each(&csv, "t.csv", text, strlen(text), NULL, hand, &h, &err), 0);
	assert_int_equal(csv.nrows, 4);
	assert_int_equal(h.n, 4);
	for (size_t i = 0; i < h.n; i++) {
		assert_int_equal(h.r[i], i); /* every row, in order, once */
		assert_int_equal(h.line[i], csv.rows[i].line);
		assert_int_equal(h.nfields[i], 2); /* whole when handed on */
	}
	check_row(&csv, 3, 4, 2, "x\ny", "3");
	em_csv_release(&csv);

	/* a refusal after some rows: those were handed on, the table is empty */
	memset(&h, 0, sizeof(h));
	assert_int_equal(em_csv_read_mem_each(&csv, "t.csv", bad, strlen(bad), NULL, hand, &h, &err),
			 EM_ERR);
	assert_string_equal(err.message, "unterminated quoted field in file 't.csv' at line 3");
	assert_int_equal(h.n, 2);
	assert_int_equal(csv.nrows, 0);
	em_error_release(&err);
}

static void test_large(void **state)
{
	struct em_strbuf sb = EM_STRBUF_INIT;
	struct em_csv csv = EM_CSV_INIT;
	struct em_error err = EM_ERROR_INIT;
	clock_t t0;
	double secs;
	int i;

	(void)state;
	em_strbuf_adds(&sb, "\xe6\x88\xb7\xe4\xb8\xbb,id,amount,note\r\n");
	for (i = 0; i < 100000; i++)
		em_strbuf_addf(&sb, "\xe5\xbc\xa0%d,1101010010%08d,%d.%02d,\"note, %d\"\r\n", i, i,
			       i, i % 100, i);
	t0 = clock();
	assert_int_equal(em_csv_read_mem(&csv, "big.csv", sb.buf, sb.len, NULL, &err), 0);
	secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_int_equal(csv.nrows, 100001);
	check_row(&csv, 100000, 100001, 4, "\xe5\xbc\xa0" "99999", "110101001000099999",
		  "99999.99", "note, 99999");
	em_csv_release(&csv);
	em_strbuf_release(&sb);
	print_message("100,001 rows in %.3f s\n", secs);
	assert_true(secs < 1.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_gb18030),
		cmocka_unit_test(test_invalid_encoding),
		cmocka_unit_test(test_utf8_strict),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_quoted_newlines),
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_trailing_blank),
		cmocka_unit_test(test_unterminated),
		cmocka_unit_test(test_malformed_quotes),
		cmocka_unit_test(test_name_sanitized),
		cmocka_unit_test(test_read_file),
		cmocka_unit_test(test_read_each),
		cmocka_unit_test(test_large),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
