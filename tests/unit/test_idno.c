/*
 * Unit tests for ledger/idno.c (H1): accepted numbers with their canonical
 * form, every refusal with its exact message, the 15-digit upgrade, and
 * that out is written only on success.
 *
 * The check digits of the vectors are not copied from idno.c: check_digit
 * below recomputes them from the definition in GB 11643 (weights 2^(17-i)
 * mod 11, the digit (12 - sum) mod 11, 10 written X) without any table, and
 * each vector's literal is compared with it.  sql/tests/h4_personal_data.sql
 * uses the same literals, so the C and SQL twins are held to the same
 * answers.  "Today" is 2026-03-15 throughout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ledger/idno.h"

#define TODAY "2026-03-15"
#define FIX ": copy the number again from the ID card"
#define SHAPE "an ID number has 18 characters: 17 digits and a check digit 0-9 or X"

static char check_digit(const char *first17)
{
	int sum = 0;
	int weight = 1;
	int v;

	/* from the last digit (weight 2^1) back to the first (2^17), all mod 11 */
	for (int i = 16; i >= 0; i--) {
		weight = weight * 2 % 11;
		sum = (sum + (first17[i] - '0') * weight) % 11;
	}
	v = (12 - sum) % 11;
	return v == 10 ? 'X' : (char)('0' + v);
}

/* id's last character must be what check_digit makes of its first 17. */
static void assert_vector(const char *id)
{
	assert_int_equal(strlen(id), 18);
	if (check_digit(id) != id[17])
		fail_msg("vector '%s' should end in %c", id, check_digit(id));
}

static void accept(const char *id, const char *today, const char *canonical)
{
	char out[EM_ID_LEN + 1];
	const char *why = "untouched";

	memset(out, '#', sizeof out);
	if (em_id_check(id, today, out, &why) != 0)
		fail_msg("'%s' refused: %s", id, why);
	assert_string_equal(why, "untouched");
	assert_string_equal(out, canonical);
}

static void refuse(const char *id, const char *today, const char *message)
{
	char out[EM_ID_LEN + 1] = "unchanged";
	const char *why = NULL;

	assert_int_equal(em_id_check(id, today, out, &why), -1);
	assert_non_null(why);
	assert_string_equal(why, message);
	assert_string_equal(out, "unchanged");
}

static void test_vectors(void **state)
{
	static const char *const vectors[] = {
		"11010519491231002X", "44030419900307123X", "320102200002291235",
		"110105199902301237", "110105190002291239", "110105202603161232",
		"110105202603151237", "110105189912311237", "110105190001011231",
		"110105199913011235", "110105199904001238", "110105199904311236",
		"110105199900011236", "110105210002291234", "320102198501011234",
		"110105194902300020", "510108198808084511",
	};

	(void)state;
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++)
		assert_vector(vectors[i]);
}

static void test_accepts(void **state)
{
	(void)state;
	accept("11010519491231002X", TODAY, "11010519491231002X");
	accept("44030419900307123X", TODAY, "44030419900307123X");
	accept("510108198808084511", TODAY, "510108198808084511");
	accept("320102198501011234", TODAY, "320102198501011234");
	accept("320102200002291235", TODAY, "320102200002291235"); /* 2000 is a leap year */
	accept("110105190001011231", TODAY, "110105190001011231"); /* the first day allowed */
	accept("110105202603151237", TODAY, "110105202603151237"); /* born today */
	accept("110105202603161232", "2026-03-16", "110105202603161232");
}

static void test_lowercase_x(void **state)
{
	char buf[EM_ID_LEN + 1] = "11010519491231002x";
	const char *why = NULL;

	(void)state;
	accept("11010519491231002x", TODAY, "11010519491231002X");
	accept("44030419900307123x", TODAY, "44030419900307123X");
	/* out may be the input itself */
	assert_int_equal(em_id_check(buf, TODAY, buf, &why), 0);
	assert_string_equal(buf, "11010519491231002X");
}

static void test_upgrade(void **state)
{
	(void)state;
	accept("110105491231002", TODAY, "11010519491231002X");
	accept("320102850101123", TODAY, "320102198501011234");
	accept("510108880808451", TODAY, "510108198808084511");
	refuse("110105490230002", TODAY, "birth date 19490230 does not exist" FIX);
	refuse("11010549123100X", TODAY, SHAPE);
	refuse("11010549123100x", TODAY, SHAPE);
}

static void test_check_digit(void **state)
{
	(void)state;
	refuse("110105194912310025", TODAY,
	       "check digit is 5, the first 17 digits give X" FIX);
	refuse("110105194912310021", TODAY,
	       "check digit is 1, the first 17 digits give X" FIX);
	refuse("510108198808084510", TODAY,
	       "check digit is 0, the first 17 digits give 1" FIX);
	refuse("51010819880808451X", TODAY,
	       "check digit is X, the first 17 digits give 1" FIX);
	refuse("51010819880808451x", TODAY,
	       "check digit is X, the first 17 digits give 1" FIX);
	/* two digits swapped: the classic typo */
	refuse("510108198808084151", TODAY,
	       "check digit is 1, the first 17 digits give 9" FIX);
}

static void test_birth_date(void **state)
{
	(void)state;
	refuse("110105199902301237", TODAY, "birth date 19990230 does not exist" FIX);
	/* 1900 is divisible by 100 and not by 400: no 29 February */
	refuse("110105190002291239", TODAY, "birth date 19000229 does not exist" FIX);
	refuse("110105210002291234", "2200-01-01", "birth date 21000229 does not exist" FIX);
	refuse("110105199913011235", TODAY, "birth date 19991301 does not exist" FIX);
	refuse("110105199900011236", TODAY, "birth date 19990001 does not exist" FIX);
	refuse("110105199904001238", TODAY, "birth date 19990400 does not exist" FIX);
	refuse("110105199904311236", TODAY, "birth date 19990431 does not exist" FIX);
	refuse("110105202603161232", TODAY, "birth date 20260316 is in the future" FIX);
	refuse("110105189912311237", TODAY, "birth date 18991231 is before 1900" FIX);
	/* the date is judged before the check digit: it says where the typo is */
	refuse("110105199902301230", TODAY, "birth date 19990230 does not exist" FIX);
}

static void test_shape(void **state)
{
	(void)state;
	refuse("", TODAY, SHAPE);
	refuse("11010519491231002", TODAY, SHAPE);     /* 17 */
	refuse("11010519491231002X1", TODAY, SHAPE);   /* 19 */
	refuse("1101051949123100", TODAY, SHAPE);      /* 16 */
	refuse("11010549123100", TODAY, SHAPE);        /* 14 */
	refuse("11010519491231002A", TODAY, SHAPE);
	refuse("1101051949123100XX", TODAY, SHAPE);
	refuse("X1010519491231002X", TODAY, SHAPE);
	refuse("1101051949123100 X", TODAY, SHAPE);
	refuse(" 11010519491231002X", TODAY, SHAPE);
	refuse("11010519491231002X ", TODAY, SHAPE);
	refuse("110105-19491231-002X", TODAY, SHAPE);
	refuse("\xef\xbc\x91" "1010519491231002X", TODAY, SHAPE); /* full-width 1 */
	refuse("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
	       TODAY, SHAPE);
	refuse(NULL, TODAY, SHAPE);
}

static void test_today(void **state)
{
	static const char today_bad[] = "today's date is missing or not YYYY-MM-DD";

	(void)state;
	refuse("11010519491231002X", NULL, today_bad);
	refuse("11010519491231002X", "", today_bad);
	refuse("11010519491231002X", "20260315", today_bad);
	refuse("11010519491231002X", "2026-3-15", today_bad);
	refuse("11010519491231002X", "2026/03/15", today_bad);
	refuse("11010519491231002X", "2026-03-15T00", today_bad);
}

static void test_why_optional(void **state)
{
	char out[EM_ID_LEN + 1];

	(void)state;
	assert_int_equal(em_id_check("110105194912310025", TODAY, out, NULL), -1);
	assert_int_equal(em_id_check("11010519491231002X", TODAY, out, NULL), 0);
	assert_string_equal(out, "11010519491231002X");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_lowercase_x),
		cmocka_unit_test(test_upgrade),
		cmocka_unit_test(test_check_digit),
		cmocka_unit_test(test_birth_date),
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_today),
		cmocka_unit_test(test_why_optional),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
