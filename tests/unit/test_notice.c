/*
 * Unit tests for reports/notice.c: the canonical content is parsed
 * strictly (a record of an unknown type or shape, a bad escape, an amount
 * that is no integer of fen, a missing header or end are refused), text
 * from the ledger is escaped in HTML and XML (a project named like a script
 * stays text), every format carries the digest, and the digest is SHA-256.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <libxml/parser.h>

#include "ledger/error.h"
#include "ledger/strbuf.h"
#include "reports/notice.h"

/*
 * LeakSanitizer's hook: cairo 1.16 keeps ~3 KB of font subsetting per PDF
 * and fontconfig its parsed configuration; leaks of theirs, not ours
 * (tests/fixtures/notices/lsan.supp says the same for the e2e tests).
 */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libcairo.so\nleak:libfontconfig.so\n";
}

#define HEAD                                                                                        \
	"earmark-notice\t1\n"                                                                       \
	"book\tB1\t测试县专项资金\n"                                                                \
	"kind\tplan\t事前公示\n"                                                                    \
	"scope\tproject\tP1\t<script>alert(1)</script>\t城关镇\t测试县\n"                           \
	"title\t<script>alert(1)</script>公示\n"                                                    \
	"period\t2026-10-01\t2026-10-10\t10\n"                                                      \
	"publisher\t县乡村振兴局\t2026-10-01\n"                                                     \
	"hotline\t12317\t0916-1234567\n"                                                            \
	"chain\t1\t0000000000000000000000000000000000000000000000000000000000000000\n"
#define PROJECT                                                                                     \
	"project\tP1\t<script>alert(1)</script>\t危房改造\t规模 & \"引号\"\t\t县住建局\t孙丽\t\t" \
	"住房安全\t2026-05-01\t2026-11-30\n"                                                        \
	"place\tP1\t610826101201\t东沟村\t城关镇\n"                                                 \
	"fund\tP1\tF1\t中央衔接资金\tcentral\t财农〔2026〕1号\t50000000\n"                          \
	"target\tP1\t1\t产出\t改造户数\t2户\n"                                                      \
	"progress\tP1\t2026-03-01\t县住建〔2026〕1号\t\t\t\t\t0\n"                                  \
	"beneficiary\tP1\tL1\tH0001\t张*国\t东沟村\t4\t脱贫户\tD级\t\t4000000\n"                    \
	"total\tP1\t1\t4000000\n"
#define GOOD HEAD PROJECT "end\n"

static void render_ok(enum em_notice_format fmt, struct em_strbuf *out)
{
	struct em_error err = EM_ERROR_INIT;

	assert_int_equal(em_notice_render(GOOD, fmt, EM_PAPER_A4, 0, out, &err), 0);
	assert_null(err.message);
	assert_true(out->len > 0);
}

static void test_digest(void **state)
{
	char hex[65];

	(void)state;
	em_notice_digest("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_txt(void **state)
{
	struct em_strbuf out = EM_STRBUF_INIT;
	char hex[65];

	(void)state;
	render_ok(EM_NOTICE_TXT, &out);
	em_notice_digest(GOOD, strlen(GOOD), hex);
	assert_non_null(strstr(out.buf, hex));
	assert_non_null(strstr(out.buf, "公示期：2026-10-01 至 2026-10-10（共 10 天）"));
	assert_non_null(strstr(out.buf, "监督举报电话：12317"));
	assert_non_null(strstr(out.buf, "H0001 | 张*国 | 东沟村 | 4 | 脱贫户 | D级 | — | 40,000.00"));
	assert_null(strstr(out.buf, "草稿"));
	em_strbuf_release(&out);
}

static void test_html_escapes(void **state)
{
	struct em_strbuf out = EM_STRBUF_INIT;

	(void)state;
	render_ok(EM_NOTICE_HTML, &out);
	assert_null(strstr(out.buf, "<script"));
	assert_non_null(strstr(out.buf, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_non_null(strstr(out.buf, "规模 &amp; &quot;引号&quot;"));
	assert_non_null(strstr(out.buf, "<svg class=\"qr\""));
	em_strbuf_release(&out);
}

static void test_xml_well_formed(void **state)
{
	struct em_strbuf out = EM_STRBUF_INIT;
	xmlDocPtr doc;

	(void)state;
	render_ok(EM_NOTICE_XML, &out);
	doc = xmlReadMemory(out.buf, (int)out.len, "notice.xml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
	assert_non_null(doc);
	xmlFreeDoc(doc);
	assert_non_null(strstr(out.buf, "amount=\"40000.00\""));
	assert_non_null(strstr(out.buf, "&lt;script&gt;"));
	em_strbuf_release(&out);
}

static void test_pdf(void **state)
{
	struct em_strbuf out = EM_STRBUF_INIT;
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	render_ok(EM_NOTICE_PDF, &out);
	assert_memory_equal(out.buf, "%PDF-", 5);
	em_strbuf_release(&out);
	assert_int_equal(em_notice_render(GOOD, EM_NOTICE_PDF, EM_PAPER_A3, 1, &out, &err), 0);
	assert_memory_equal(out.buf, "%PDF-", 5);
	em_strbuf_release(&out);
	em_notice_cleanup();
}

static void refused(const char *content, const char *message)
{
	struct em_strbuf out = EM_STRBUF_INIT;
	struct em_error err = EM_ERROR_INIT;

	assert_int_equal(em_notice_render(content, EM_NOTICE_TXT, EM_PAPER_A4, 0, &out, &err), EM_ERR);
	assert_string_equal(err.message, message);
	assert_int_equal(out.len, 0);
	em_error_release(&err);
	em_strbuf_release(&out);
}

static void test_refused(void **state)
{
	(void)state;
	refused("", "notice content is not canonical at line 1");
	refused(HEAD PROJECT, "notice content is not canonical at line 1");              /* no end */
	refused("earmark-notice\t2\nend\n", "notice content is not canonical at line 1"); /* version */
	refused(HEAD "typed\tby hand\n" PROJECT "end\n", "notice content is not canonical at line 10");
	refused(HEAD "total\tP1\t1\n" "end\n", "notice content is not canonical at line 10");
	refused(HEAD "total\tP1\t1\t12.5\n" "end\n", "notice content is not canonical at line 10");
	refused(HEAD "title\ta\\xb\n" "end\n", "notice content is not canonical at line 10");
	refused(HEAD "fund\tP1\tF1\tn\tcentral\td\t1234567890123456789\n" "end\n",
		"notice content is not canonical at line 10");
}

static void test_parse_args(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	enum em_notice_format fmt;
	enum em_notice_paper paper;

	(void)state;
	assert_int_equal(em_notice_format_parse("pdf", &fmt, &err), 0);
	assert_int_equal(fmt, EM_NOTICE_PDF);
	assert_int_equal(em_notice_format_parse("docx", &fmt, &err), EM_ERR_USAGE);
	em_error_release(&err);
	assert_int_equal(em_notice_paper_parse(NULL, &paper, &err), 0);
	assert_int_equal(paper, EM_PAPER_A4);
	assert_int_equal(em_notice_paper_parse("A3", &paper, &err), 0);
	assert_int_equal(paper, EM_PAPER_A3);
	assert_int_equal(em_notice_paper_parse("letter", &paper, &err), EM_ERR_USAGE);
	em_error_release(&err);
	assert_int_equal(em_board_listen_check("127.0.0.1:8080", &err), 0);
	assert_int_equal(em_board_listen_check("127.0.0.1:0", &err), EM_ERR_USAGE);
	em_error_release(&err);
	assert_int_equal(em_board_listen_check("localhost:80", &err), EM_ERR_USAGE);
	em_error_release(&err);
	assert_int_equal(em_board_listen_check("8080", &err), EM_ERR_USAGE);
	em_error_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_txt),
		cmocka_unit_test(test_html_escapes),
		cmocka_unit_test(test_xml_well_formed),
		cmocka_unit_test(test_pdf),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_parse_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
