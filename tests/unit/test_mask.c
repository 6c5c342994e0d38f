/*
 * Unit tests for ledger/mask.c (H4): the examples of DESIGN section 4, the
 * lengths at which each rule changes, text that is not what its column
 * says, and bytes that are not UTF-8, which must be counted one character
 * each and never copied.  Every vector in valid UTF-8 is repeated in
 * sql/tests/h4_personal_data.sql for the SQL twins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ledger/mask.h"
#include "ledger/strbuf.h"

/*
 * Masks in after a prefix already in the buffer, to see that the functions
 * append and leave what was there alone.
 */
static void check(void (*mask)(struct em_strbuf *, const char *), const char *in,
		  const char *want)
{
	struct em_strbuf sb = EM_STRBUF_INIT;

	em_strbuf_adds(&sb, "<");
	mask(&sb, in);
	assert_true(sb.len >= 1);
	assert_true(strlen(sb.buf) == sb.len);
	assert_string_equal(sb.buf + 1, want);
	assert_true(sb.buf[0] == '<');
	em_strbuf_release(&sb);
}

static void test_id(void **state)
{
	(void)state;
	check(em_mask_id, "11010519491231002X", "110105********002X");
	check(em_mask_id, "11010519491231002x", "110105********002x");
	check(em_mask_id, "510108198808084511", "510108********4511");
	check(em_mask_id, "110105491231002", "110105*****1002");
	check(em_mask_id, "", "");
	check(em_mask_id, "1101051949123100", "****************");
	check(em_mask_id, "11010519491231002X1", "*******************");
	check(em_mask_id, "11010519491231002A", "******************");
	check(em_mask_id, "X1010519491231002X", "******************");
	check(em_mask_id, "11010549123100X", "***************");
	/* a name typed into the ID column, 18 characters long, shows nothing */
	check(em_mask_id, "张三张三张三张三张三张三张三张三张三", "******************");
	check(em_mask_id, "张三", "**");
	check(em_mask_id, NULL, "");
}

static void test_name(void **state)
{
	(void)state;
	check(em_mask_name, "", "");
	check(em_mask_name, "张", "*");
	check(em_mask_name, "张三", "张*");
	check(em_mask_name, "张小三", "张*三");
	check(em_mask_name, "欧阳小明", "欧**明");
	check(em_mask_name, "阿依古丽·买买提", "阿******提");
	check(em_mask_name, "L", "*");
	check(em_mask_name, "Li", "L*");
	check(em_mask_name, "Wang Fang", "W*******g");
	check(em_mask_name, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80*"); /* 4-byte characters */
	check(em_mask_name, NULL, "");
}

static void test_name_bad_utf8(void **state)
{
	(void)state;
	check(em_mask_name, "\xff", "*");
	check(em_mask_name, "\xff三", "**");
	check(em_mask_name, "张\xff", "张*");
	check(em_mask_name, "张\xff三", "张*三");
	check(em_mask_name, "\xe5\xbc", "**");                 /* 张 cut short */
	check(em_mask_name, "张\xe5\xbc", "张**");
	check(em_mask_name, "\xe5\xbc张", "**张");
	check(em_mask_name, "\xe5\xbc\xa0\xe5\xbc", "张**");   /* a whole one, then a cut one */
	check(em_mask_name, "\xc0\xaf", "**");                 /* overlong '/' */
	check(em_mask_name, "\xed\xa0\x80", "***");            /* a surrogate */
	check(em_mask_name, "\xf4\x90\x80\x80", "****");       /* past U+10FFFF */
	check(em_mask_name, "\x80\x80\x80", "***");            /* continuation bytes alone */
	check(em_mask_name, "\xf0\x9f\x98", "***");            /* 4-byte cut at 3 */
}

static void test_card(void **state)
{
	(void)state;
	check(em_mask_card, "6222021234567890123", "****0123");
	check(em_mask_card, "6222021234567890", "****7890");
	check(em_mask_card, "62220212", "****0212");
	check(em_mask_card, "6222021", "*******");
	check(em_mask_card, "1234", "****");
	check(em_mask_card, "", "");
	check(em_mask_card, "6222 0212 3456 7890", "****7890");
	check(em_mask_card, "622202123456789X", "****************");
	check(em_mask_card, "6222021234567890 ", "*****************");
	check(em_mask_card, "卡号12345678", "****5678");
	check(em_mask_card, "卡号1234", "******");
	check(em_mask_card, "\xff\xff\xff\xff" "1234", "****1234");
	check(em_mask_card, "\xff\xff\xff" "1234", "*******");
	check(em_mask_card, NULL, "");
}

static void test_phone(void **state)
{
	(void)state;
	check(em_mask_phone, "13812341234", "138****1234");
	check(em_mask_phone, "19900001111", "199****1111");
	check(em_mask_phone, "23812341234", "*******1234");
	check(em_mask_phone, "1381234123", "******4123");
	check(em_mask_phone, "138123412345", "********2345");
	check(em_mask_phone, "0571-88881234", "*********1234");
	check(em_mask_phone, "+8613812341234", "**********1234");
	check(em_mask_phone, "电话12345", "***2345");
	check(em_mask_phone, "12345", "*2345");
	check(em_mask_phone, "1234", "****");
	check(em_mask_phone, "123", "***");
	check(em_mask_phone, "", "");
	check(em_mask_phone, "\xff\xff\xff\xff\xff", "*****");
	check(em_mask_phone, "1381234123\xff", "*******123*");
	check(em_mask_phone, NULL, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_name_bad_utf8),
		cmocka_unit_test(test_card),
		cmocka_unit_test(test_phone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
