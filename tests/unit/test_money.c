/*
 * Unit tests for ledger/money.c: every accepted and refused form in
 * money.h, the INT64 boundaries one fen either side, the exact messages,
 * and that printing then parsing returns the same value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ledger/error.h"
#include "ledger/money.h"

static int64_t parse_ok(const char *s)
{
	struct em_error err = EM_ERROR_INIT;
	int64_t fen = 12345; /* a value no test expects, to see it is written */
	int rc = em_money_parse(s, &fen, &err);

	if (rc != 0)
		fail_msg("'%s' refused: %s (%s)", s, err.message ? err.message : "?",
			 err.detail ? err.detail : "");
	assert_null(err.message);
	em_error_release(&err);
	return fen;
}

/* Refuses s with exactly message and detail; fen must stay untouched. */
static void parse_bad(const char *s, const char *message, const char *detail)
{
	struct em_error err = EM_ERROR_INIT;
	int64_t fen = 777;

	assert_int_equal(em_money_parse(s, &fen, &err), EM_ERR);
	assert_int_equal(fen, 777);
	assert_non_null(err.message);
	assert_string_equal(err.message, message);
	if (detail != NULL) {
		assert_non_null(err.detail);
		assert_string_equal(err.detail, detail);
	}
	em_error_release(&err);
}

static void test_accepts(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("0"), 0);
	assert_int_equal(parse_ok("7"), 700);
	assert_int_equal(parse_ok("1234.56"), 123456);
	assert_int_equal(parse_ok("1,234.56"), 123456);
	assert_int_equal(parse_ok("1,234,567.89"), 123456789);
	assert_int_equal(parse_ok("123,456"), 12345600);
	assert_int_equal(parse_ok("1.5"), 150);
	assert_int_equal(parse_ok("1.50"), 150);
	assert_int_equal(parse_ok("1.05"), 105);
	assert_int_equal(parse_ok("0.5"), 50);
	assert_int_equal(parse_ok("0.01"), 1);
	assert_int_equal(parse_ok("-0.5"), -50);
	assert_int_equal(parse_ok("-0.01"), -1);
	assert_int_equal(parse_ok("-1,234.56"), -123456);
	assert_int_equal(parse_ok("-0"), 0);
	assert_int_equal(parse_ok("-0.00"), 0);
	assert_int_equal(parse_ok("007"), 700);
}

static void test_boundaries(void **state)
{
	(void)state;
	assert_true(parse_ok("92233720368547758.07") == INT64_MAX);
	assert_true(parse_ok("92,233,720,368,547,758.07") == INT64_MAX);
	assert_true(parse_ok("-92233720368547758.08") == INT64_MIN);
	assert_true(parse_ok("-92,233,720,368,547,758.08") == INT64_MIN);
	assert_true(parse_ok("-92233720368547758.07") == INT64_MIN + 1);
	assert_true(parse_ok("92233720368547758.06") == INT64_MAX - 1);

	parse_bad("92233720368547758.08", "amount '92233720368547758.08' is too large",
		  "amounts lie between -92233720368547758.08 and 92233720368547758.07");
	parse_bad("-92233720368547758.09", "amount '-92233720368547758.09' is too large", NULL);
	parse_bad("92233720368547759", "amount '92233720368547759' is too large", NULL);
	parse_bad("99999999999999999999", "amount '99999999999999999999' is too large", NULL);
	parse_bad("184467440737095516.16", "amount '184467440737095516.16' is too large", NULL);
	parse_bad("1844674407370955161600000000",
		  "amount '1844674407370955161600000000' is too large", NULL);
}

static void test_refuses(void **state)
{
	(void)state;
	parse_bad("", "invalid amount ''", "the amount is empty");
	parse_bad(" 1", "invalid amount ' 1'", "an amount has no spaces");
	parse_bad("1 ", "invalid amount '1 '", "an amount has no spaces");
	parse_bad("1 000", "invalid amount '1 000'", "an amount has no spaces");
	parse_bad("+1", "invalid amount '+1'",
		  "an amount has no '+' sign; a positive amount has no sign at all");
	parse_bad("1e3", "invalid amount '1e3'", "an amount has no exponent");
	parse_bad("1E3", "invalid amount '1E3'", "an amount has no exponent");
	parse_bad(".5", "invalid amount '.5'", "a decimal point needs a digit before it");
	parse_bad("-.5", "invalid amount '-.5'", "a decimal point needs a digit before it");
	parse_bad("5.", "invalid amount '5.'", "a decimal point needs a digit after it");
	parse_bad(".", "invalid amount '.'", "a decimal point needs a digit before it");
	parse_bad("-", "invalid amount '-'", "the amount has no digits");
	parse_bad("--1", "invalid amount '--1'", "a '-' sign may only lead the amount");
	parse_bad("1-", "invalid amount '1-'", "a '-' sign may only lead the amount");
	parse_bad("1.234", "invalid amount '1.234'", "an amount has at most two decimals (fen)");
	parse_bad("1.2.3", "invalid amount '1.2.3'", "an amount has at most one decimal point");
	parse_bad("1.2,3", "invalid amount '1.2,3'",
		  "a thousands separator may not follow the decimal point");
	parse_bad("1,23", "invalid amount '1,23'",
		  "thousands separators must split the whole part into groups of three digits");
	parse_bad("12,345,67", "invalid amount '12,345,67'",
		  "thousands separators must split the whole part into groups of three digits");
	parse_bad("1234,567", "invalid amount '1234,567'",
		  "thousands separators must split the whole part into groups of three digits");
	parse_bad(",123", "invalid amount ',123'",
		  "thousands separators must split the whole part into groups of three digits");
	parse_bad("1,,234", "invalid amount '1,,234'",
		  "thousands separators must split the whole part into groups of three digits");
	parse_bad("1,234,", "invalid amount '1,234,'",
		  "thousands separators must split the whole part into groups of three digits");
	parse_bad("1,234.", "invalid amount '1,234.'", "a decimal point needs a digit after it");
	/* full-width digits １２ */
	parse_bad("\xef\xbc\x91\xef\xbc\x92", "invalid amount '\xef\xbc\x91\xef\xbc\x92'",
		  "an amount is written with the ASCII digits 0-9 only");
	parse_bad("12a", "invalid amount '12a'", "unexpected character 'a' at position 3");
	parse_bad("1_000", "invalid amount '1_000'", "unexpected character '_' at position 2");
	parse_bad("\xc2\xa5" "12", "invalid amount '\xc2\xa5" "12'",
		  "an amount is written with the ASCII digits 0-9 only");
}

static void test_hint(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	int64_t fen = 0;

	(void)state;
	assert_int_equal(em_money_parse("1.234", &fen, &err), EM_ERR);
	assert_string_equal(err.message, "invalid amount '1.234'");
	assert_string_equal(err.detail, "an amount has at most two decimals (fen)");
	assert_string_equal(err.hint, "write amounts as 1234.56 or 1,234.56");
	/* a second failure replaces the first entirely */
	assert_int_equal(em_money_parse("99999999999999999999", &fen, &err), EM_ERR);
	assert_string_equal(err.message, "amount '99999999999999999999' is too large");
	assert_null(err.hint);
	em_error_release(&err);
	assert_null(err.message);
	/* NULL input is refused like the empty string, never dereferenced */
	assert_int_equal(em_money_parse(NULL, &fen, &err), EM_ERR);
	assert_string_equal(err.detail, "the amount is empty");
	em_error_release(&err);
}

static void test_echo_sanitized(void **state)
{
	(void)state;
	/* control characters become '?', long text is cut at 40 bytes */
	parse_bad("1\x01" "2", "invalid amount '1?2'", "an amount has no control characters");
	parse_bad("1\n", "invalid amount '1?'", "an amount has no spaces");
	parse_bad("1234567890123456789012345678901234567890123x",
		  "invalid amount '1234567890123456789012345678901234567890...'",
		  "unexpected character 'x' at position 44");
	/* a multi-byte character is never cut in half: 13 x 3 bytes = 39 */
	parse_bad("\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80"
		  "\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80"
		  "\xe4\xb8\x80\xe4\xb8\x80",
		  "invalid amount '\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80"
		  "\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80\xe4\xb8\x80"
		  "\xe4\xb8\x80\xe4\xb8\x80...'",
		  NULL);
	/* an invalid UTF-8 byte is not echoed raw */
	parse_bad("\xff" "1", "invalid amount '?1'", NULL);
}

static void test_format(void **state)
{
	char buf[EM_MONEY_BUFSZ];

	(void)state;
	assert_string_equal(em_money_format(0, buf, sizeof(buf)), "0.00");
	assert_string_equal(em_money_format(1, buf, sizeof(buf)), "0.01");
	assert_string_equal(em_money_format(-1, buf, sizeof(buf)), "-0.01");
	assert_string_equal(em_money_format(150, buf, sizeof(buf)), "1.50");
	assert_string_equal(em_money_format(123456, buf, sizeof(buf)), "1234.56");
	assert_string_equal(em_money_format(-123456789, buf, sizeof(buf)), "-1234567.89");
	assert_string_equal(em_money_format(INT64_MAX, buf, sizeof(buf)), "92233720368547758.07");
	assert_string_equal(em_money_format(INT64_MIN, buf, sizeof(buf)), "-92233720368547758.08");
	/* 24 bytes, as money.h promises, are enough for the plain form */
	{
		char small[24];

		assert_string_equal(em_money_format(INT64_MIN, small, sizeof(small)),
				    "-92233720368547758.08");
	}
	/* too small a buffer truncates, never overruns */
	{
		char tiny[5];

		assert_string_equal(em_money_format(123456, tiny, sizeof(tiny)), "1234");
	}
}

static void test_format_grouped(void **state)
{
	char buf[EM_MONEY_BUFSZ];

	(void)state;
	assert_string_equal(em_money_format_grouped(0, buf, sizeof(buf)), "0.00");
	assert_string_equal(em_money_format_grouped(-1, buf, sizeof(buf)), "-0.01");
	assert_string_equal(em_money_format_grouped(99999, buf, sizeof(buf)), "999.99");
	assert_string_equal(em_money_format_grouped(100000, buf, sizeof(buf)), "1,000.00");
	assert_string_equal(em_money_format_grouped(123456789, buf, sizeof(buf)), "1,234,567.89");
	assert_string_equal(em_money_format_grouped(-123456789, buf, sizeof(buf)),
			    "-1,234,567.89");
	assert_string_equal(em_money_format_grouped(12345678900, buf, sizeof(buf)),
			    "123,456,789.00");
	assert_string_equal(em_money_format_grouped(INT64_MAX, buf, sizeof(buf)),
			    "92,233,720,368,547,758.07");
	assert_string_equal(em_money_format_grouped(INT64_MIN, buf, sizeof(buf)),
			    "-92,233,720,368,547,758.08");
}

static void test_round_trip(void **state)
{
	static const int64_t values[] = {
		0, 1, -1, 9, 10, 99, 100, 101, 999, 1000, 99999, 100000, 123456789,
		-123456789, 1000000000000, INT64_MAX, INT64_MAX - 1, INT64_MIN, INT64_MIN + 1,
	};
	char buf[EM_MONEY_BUFSZ];
	size_t i;
	uint64_t x = 0x9e3779b97f4a7c15u;
	int n;

	(void)state;
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		assert_true(parse_ok(em_money_format(values[i], buf, sizeof(buf))) == values[i]);
		assert_true(parse_ok(em_money_format_grouped(values[i], buf, sizeof(buf))) ==
			    values[i]);
	}
	/* pseudo-random values across the whole range (xorshift64) */
	for (n = 0; n < 20000; n++) {
		int64_t v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = (int64_t)(x >> (n % 64)); /* implementation-defined, fine on gcc */
		if (n % 2 && v > 0)
			v = -v;
		assert_true(parse_ok(em_money_format(v, buf, sizeof(buf))) == v);
		assert_true(parse_ok(em_money_format_grouped(v, buf, sizeof(buf))) == v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_hint),
		cmocka_unit_test(test_echo_sanitized),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_grouped),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
