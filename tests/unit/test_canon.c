/*
 * The canonical voucher text and the chain step against the vectors of
 * docs/hash-chain.md, which were computed with Python's hashlib: if C and
 * the document disagree, one of them is wrong and auditors' tools would be
 * too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ledger/canon.h"
#include "ledger/strbuf.h"

static const char text1[] =
	"earmark-voucher-v1\n"
	"book\tDEMO\n"
	"seq\t1\n"
	"number\t记-2026-03-0001\n"
	"type\t记\n"
	"date\t2026-03-02\n"
	"reverses\t\n"
	"memo\t收到中央衔接资金\n"
	"prepared_by\tclerk1\n"
	"reviewed_by\trev1\n"
	"posted_by\tbk1\n"
	"posted_at\t2026-03-02T08:15:30.123456Z\n"
	"line\t1\t1002\tD\t500000000\tZY2026-01\t\t\t\t622848001122334455\t\t收到资金\n"
	"line\t2\t4001\tC\t500000000\tZY2026-01\t\t\t\t\t\t收到资金\n"
;

static const char text2[] =
	"earmark-voucher-v1\n"
	"book\tDEMO\n"
	"seq\t2\n"
	"number\t记-2026-03-0002\n"
	"type\t记\n"
	"date\t2026-03-05\n"
	"reverses\t记-2026-03-0001\n"
	"memo\t冲销 记-2026-03-0001\\x09line\\\\two\\x0aend\n"
	"prepared_by\tclerk1\n"
	"reviewed_by\trev1\n"
	"posted_by\tbk1\n"
	"posted_at\t2026-03-05T00:00:00.000000Z\n"
	"line\t1\t1002\tD\t-500000000\tZY2026-01\tP2026-001\t610826101201\tH0001\t622848001122334455\tJC\ta\\\\b\n"
	"line\t2\t4001\tC\t-500000000\tZY2026-01\t\t\t\t\t\t\n"
;

static const char hash1[] = "818ce80996750a7e9af41e079234ad653db3ee790555096db25bf9fcdcd998a6";
static const char hash2[] = "4a8653a28bec36dc15f7f0f145f1b2efd46e0f7c636b7e0c69a7ddc74d9c8099";

/* 2026-03-02T08:15:30.123456Z */
#define AT1 (INT64_C(1772439330) * 1000000 + 123456)
/* 2026-03-05T00:00:00Z */
#define AT2 (INT64_C(1772668800) * 1000000)

static void build1(struct em_strbuf *sb)
{
	struct em_canon_voucher v = { "DEMO", 1, "记-2026-03-0001", "记", "2026-03-02", "",
				      "收到中央衔接资金", "clerk1", "rev1", "bk1", AT1 };
	struct em_canon_line l1 = { 1, "1002", "D", 500000000, "ZY2026-01", "", "", "",
				    "622848001122334455", "", "收到资金" };
	struct em_canon_line l2 = { 2, "4001", "C", 500000000, "ZY2026-01", "", "", "", "", "",
				    "收到资金" };

	em_canon_header(sb, &v);
	em_canon_line(sb, &l1);
	em_canon_line(sb, &l2);
}

static void build2(struct em_strbuf *sb)
{
	struct em_canon_voucher v = { "DEMO", 2, "记-2026-03-0002", "记", "2026-03-05",
				      "记-2026-03-0001", "冲销 记-2026-03-0001\tline\\two\nend",
				      "clerk1", "rev1", "bk1", AT2 };
	struct em_canon_line l1 = { 1, "1002", "D", -500000000, "ZY2026-01", "P2026-001",
				    "610826101201", "H0001", "622848001122334455", "JC", "a\\b" };
	struct em_canon_line l2 = { 2, "4001", "C", -500000000, "ZY2026-01", NULL, NULL, NULL,
				    NULL, NULL, "" };

	em_canon_header(sb, &v);
	em_canon_line(sb, &l1);
	em_canon_line(sb, &l2);
}

static void test_text_vector1(void **state)
{
	struct em_strbuf sb = EM_STRBUF_INIT;

	(void)state;
	build1(&sb);
	assert_string_equal(sb.buf, text1);
	em_strbuf_release(&sb);
}

static void test_text_vector2_escapes(void **state)
{
	struct em_strbuf sb = EM_STRBUF_INIT;

	(void)state;
	build2(&sb);
	assert_string_equal(sb.buf, text2);
	em_strbuf_release(&sb);
}

static void test_chain_vectors(void **state)
{
	unsigned char h0[EM_HASH_LEN] = { 0 };
	unsigned char h1[EM_HASH_LEN], h2[EM_HASH_LEN];
	char hex[2 * EM_HASH_LEN + 1];
	struct em_strbuf sb = EM_STRBUF_INIT;

	(void)state;
	build1(&sb);
	assert_int_equal(em_canon_step(h0, sb.buf, sb.len, h1), 0);
	em_canon_hex(h1, hex);
	assert_string_equal(hex, hash1);
	em_strbuf_reset(&sb);
	build2(&sb);
	assert_int_equal(em_canon_step(h1, sb.buf, sb.len, h2), 0);
	em_canon_hex(h2, hex);
	assert_string_equal(hex, hash2);
	em_strbuf_release(&sb);
}

static void test_one_byte_changes_the_hash(void **state)
{
	unsigned char h0[EM_HASH_LEN] = { 0 };
	unsigned char h1[EM_HASH_LEN];
	char hex[2 * EM_HASH_LEN + 1];
	struct em_strbuf sb = EM_STRBUF_INIT;

	(void)state;
	build1(&sb);
	sb.buf[sb.len - 2] ^= 1;
	assert_int_equal(em_canon_step(h0, sb.buf, sb.len, h1), 0);
	em_canon_hex(h1, hex);
	assert_string_not_equal(hex, hash1);
	em_strbuf_release(&sb);
}

static void test_escape(void **state)
{
	struct em_strbuf sb = EM_STRBUF_INIT;

	(void)state;
	em_canon_escape(&sb, "a\\b\tc\nd\re\x7f\x01张");
	assert_string_equal(sb.buf, "a\\\\b\\x09c\\x0ad\\x0de\\x7f\\x01张");
	em_strbuf_release(&sb);
}

static void test_sha256_hex(void **state)
{
	char hex[2 * EM_HASH_LEN + 1];

	(void)state;
	/* sha256 of "abc", FIPS 180-2 appendix B.1 */
	assert_int_equal(em_sha256_hex("abc", 3, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_vector1),
		cmocka_unit_test(test_text_vector2_escapes),
		cmocka_unit_test(test_chain_vectors),
		cmocka_unit_test(test_one_byte_changes_the_hash),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_sha256_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
