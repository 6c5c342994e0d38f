/*
 * Unit tests for the statement readers that need no database
 * (posting/statement.c, posting/camt053.c): the regressions fuzz_bankcsv
 * found, where amounts and balances near the int64 limit wrapped around
 * (signed overflow, undefined behaviour) instead of being refused, each
 * with its exact message; the good bank CSV of the fixtures next to them;
 * and em_camt053_parse, the in-memory reader the fuzzer drives, giving the
 * same statements as em_camt053_read on the file and the same refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/error.h"
#include "ledger/strbuf.h"
#include "posting/statement.h"

#define TOP EM_SQLDIR "/.."
#define MAPPING TOP "/config/bank_csv.conf"
#define XSD TOP "/config/iso20022/camt.053.001.02.xsd"
#define HEADER "交易日期,本方账号,币种,摘要,对方户名,支出金额,收入金额,余额,客户参考号,流水号,退汇原因\n"

static char path[64];

static int setup(void **state)
{
	int fd;

	(void)state;
	strcpy(path, "/tmp/earmark-test-stmt-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void write_csv(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/* The CSV text must be refused with message (after "PATH:") and detail. */
static void csv_bad(const char *text, const char *message, const char *detail)
{
	struct em_stmt_file f = EM_STMT_FILE_INIT;
	struct em_error err = EM_ERROR_INIT;
	struct em_strbuf want = EM_STRBUF_INIT;

	write_csv(text);
	assert_int_equal(em_stmt_csv_read(&f, path, MAPPING, NULL, &err), EM_ERR);
	em_strbuf_addf(&want, "%s:%s", path, message);
	assert_non_null(err.message);
	assert_string_equal(err.message, want.buf);
	if (detail != NULL) {
		assert_non_null(err.detail);
		assert_string_equal(err.detail, detail);
	}
	em_stmt_file_release(&f);
	em_error_release(&err);
	em_strbuf_release(&want);
}

static void test_csv_good(void **state)
{
	struct em_stmt_file f = EM_STMT_FILE_INIT;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	assert_int_equal(em_stmt_csv_read(&f, TOP "/tests/fixtures/bank/xj_2026_11.csv", MAPPING,
					  NULL, &err), 0);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.stmts[0].nlines, 2);
	assert_int_equal(f.stmts[0].opening_fen, 0);
	assert_int_equal(f.stmts[0].closing_fen, 30005678);
	assert_int_equal(em_stmt_check(&f, "621700002233445566", &err), 0);
	em_stmt_file_release(&f);

	/* the largest amounts that still add up are read */
	write_csv(HEADER "2026-11-05,6217,CNY,,,,92233720368547758.07,92233720368547758.07,,,\n"
			 "2026-11-06,6217,CNY,,,92233720368547758.07,,0.00,,,\n");
	assert_int_equal(em_stmt_csv_read(&f, path, MAPPING, NULL, &err), 0);
	assert_int_equal(f.stmts[0].closing_fen, 0);
	assert_int_equal(em_stmt_check(&f, "6217", &err), 0);
	em_stmt_file_release(&f);
	em_error_release(&err);
}

static void test_csv_overflow(void **state)
{
	static const char too_large[] = "2: the amounts and balances are too large to add up";
	static const char range[] = "earmark keeps fen in 64 bits, up to 92,233,720,368,547,758.07";

	(void)state;
	/* a debit of -INT64_MIN fen cannot be negated */
	csv_bad(HEADER "2026-11-05,6217,CNY,,,-92233720368547758.08,,5,,,\n", too_large, range);
	/* credit - debit beyond int64 */
	csv_bad(HEADER "2026-11-05,6217,CNY,,,92233720368547758.07,-92233720368547758.08,5,,,\n",
		too_large, range);
	/* the opening balance (balance - amount) beyond int64 */
	csv_bad(HEADER "2026-11-05,6217,CNY,,,0.01,,92233720368547758.07,,,\n", too_large, range);
	/* previous balance + entry beyond int64 does not roll */
	csv_bad(HEADER "2026-11-05,6217,CNY,,,,92233720368547758.07,92233720368547758.07,,,\n"
		       "2026-11-06,6217,CNY,,,,92233720368547758.07,1,,,\n",
		"3: balances do not roll (EMB01 balances)",
		"previous balance 92,233,720,368,547,758.07 + entry 92,233,720,368,547,758.07 "
		"<> balance 1.00");
}

/*
 * A file is untrusted: what a message shows of its fields is cut to 40
 * bytes at a character boundary, control characters as '?'.
 */
static void test_csv_echo_safe(void **state)
{
	struct em_stmt_file f = EM_STMT_FILE_INIT;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	csv_bad(HEADER "2026\x1b]0;x\x07-11-05,6217,CNY,,,,5,5,,,\n",
		"2: '2026?]0;x?-11-05' is not a date", NULL);
	csv_bad(HEADER "2026-11-05,6217,CNY,,,,5,5,,,\n"
		       "2026-11-06,\x1b[2J6218\t\x01\x7f" "0123456789012345678901234567890123456789,CNY,,,,5,10,,,\n",
		"3: account '?[2J6218???01234567890123456789012345678...' differs from the first row's '6217'",
		NULL);
	/* an account or statement id from the file, in em_stmt_check's refusal */
	write_csv(HEADER "2026-11-05,\x1b[31m6217,CNY,,,,5,5,,,\n");
	assert_int_equal(em_stmt_csv_read(&f, path, MAPPING, NULL, &err), 0);
	assert_int_equal(em_stmt_check(&f, "6217", &err), EM_ERR);
	assert_non_null(strstr(err.message, "is for account '?[31m6217', not '6217' (EMB01 account)"));
	assert_null(strchr(err.message, '\x1b'));
	em_stmt_file_release(&f);
	em_error_release(&err);
}

/* A statement whose entries add up beyond int64 does not roll, and says so. */
static void test_check_overflow(void **state)
{
	struct em_stmt_line lines[2];
	struct em_stmt s;
	struct em_stmt_file f = EM_STMT_FILE_INIT;
	struct em_error err = EM_ERROR_INIT;
	struct em_strbuf out = EM_STRBUF_INIT;
	char ref[] = "S1", acct[] = "6217", ccy[] = "CNY", src[] = "t.xml";

	(void)state;
	memset(lines, 0, sizeof(lines));
	memset(&s, 0, sizeof(s));
	lines[0].amount_fen = INT64_MAX;
	lines[1].amount_fen = INT64_MAX;
	s.ref = ref;
	s.account = acct;
	s.currency = ccy;
	s.opening_fen = 0;
	s.closing_fen = -2; /* what INT64_MAX + INT64_MAX wraps to */
	s.has_opening = s.has_closing = 1;
	s.nlines = 2;
	s.lines = lines;
	f.format = "camt053";
	f.source = src;
	f.n = 1;
	f.stmts = &s;
	assert_int_equal(em_stmt_check(&f, "6217", &err), EM_ERR);
	assert_non_null(strstr(err.message, "does not roll"));
	em_stmt_describe(&f, &out);
	assert_non_null(strstr(out.buf, "balances DO NOT roll"));
	em_error_release(&err);
	em_strbuf_release(&out);
}

static void read_file(const char *name, struct em_strbuf *sb)
{
	FILE *f = fopen(name, "rb");
	char buf[4096];
	size_t n;

	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		em_strbuf_add(sb, buf, n);
	fclose(f);
}

static void test_camt053_parse_is_read(void **state)
{
	static const char *const files[] = { TOP "/tests/fixtures/bank/stmt_2026_11.xml",
					     TOP "/tests/fixtures/bank/stmt_close_2026_11.xml" };

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct em_stmt_file a = EM_STMT_FILE_INIT, b = EM_STMT_FILE_INIT;
		struct em_error err = EM_ERROR_INIT;
		struct em_strbuf raw = EM_STRBUF_INIT, da = EM_STRBUF_INIT, db = EM_STRBUF_INIT;

		read_file(files[i], &raw);
		assert_int_equal(em_camt053_read(&a, files[i], XSD, &err), 0);
		assert_int_equal(em_camt053_parse(&b, files[i], raw.buf, raw.len, XSD, NULL, &err), 0);
		em_stmt_describe(&a, &da);
		em_stmt_describe(&b, &db);
		assert_true(da.len > 0);
		assert_string_equal(da.buf, db.buf);
		assert_string_equal(a.source, b.source);
		em_stmt_file_release(&a);
		em_stmt_file_release(&b);
		em_strbuf_release(&raw);
		em_strbuf_release(&da);
		em_strbuf_release(&db);
		em_error_release(&err);
	}
}

static void test_camt053_parse_refuses(void **state)
{
	static const char doctype[] = "<?xml version=\"1.0\"?>\n<!DOCTYPE d [<!ENTITY e \"x\">]><d>&e;</d>";
	static const char nul[] = "<d>\0</d>";
	struct em_stmt_file f = EM_STMT_FILE_INIT;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	assert_int_equal(em_camt053_parse(&f, "m.xml", doctype, sizeof(doctype) - 1, XSD, NULL, &err),
			 EM_ERR);
	assert_string_equal(err.message, "statement 'm.xml' has a DOCTYPE or ENTITY declaration and "
					 "is refused (safe XML)");
	em_stmt_file_release(&f);
	assert_int_equal(em_camt053_parse(&f, "m.xml", nul, sizeof(nul) - 1, XSD, NULL, &err), EM_ERR);
	assert_string_equal(err.message, "statement 'm.xml' is not UTF-8 text and is refused (safe XML)");
	em_stmt_file_release(&f);
	assert_int_equal(em_camt053_parse(&f, "m.xml", "<d><e></d>", 10, XSD, NULL, &err), EM_ERR);
	assert_string_equal(err.message, "statement 'm.xml' is not well-formed XML");
	em_stmt_file_release(&f);
	assert_int_equal(em_camt053_parse(&f, "m.xml", "<d/>", 4, XSD, NULL, &err), EM_ERR);
	assert_string_equal(err.message, "statement 'm.xml' is not a valid camt.053.001.02 document");
	em_stmt_file_release(&f);
	em_error_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_csv_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv_echo_safe, setup, teardown),
		cmocka_unit_test(test_check_overflow),
		cmocka_unit_test(test_camt053_parse_is_read),
		cmocka_unit_test(test_camt053_parse_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
