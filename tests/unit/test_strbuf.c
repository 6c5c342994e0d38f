/*
 * Unit tests for ledger/strbuf.c and ledger/error.c: buf is never NULL and
 * always terminated, growth across many appends, formatted appends larger
 * than the first guess, detach, the sanitizer, and that setting an error
 * replaces (and may quote) what was there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/strbuf.h"

static void test_empty(void **state)
{
	struct em_strbuf sb = EM_STRBUF_INIT;
	struct em_strbuf sb2;
	char *s;
	size_t len = 99;

	(void)state;
	assert_non_null(sb.buf);
	assert_string_equal(sb.buf, "");
	assert_int_equal(sb.len, 0);
	em_strbuf_init(&sb2);
	assert_true(sb2.buf == em_strbuf_empty);
	em_strbuf_reset(&sb); /* on the shared empty string: must not write */
	em_strbuf_release(&sb);
	assert_non_null(sb.buf);
	/* detaching an empty buffer still gives memory the caller can free */
	s = em_strbuf_detach(&sb, &len);
	assert_non_null(s);
	assert_true(s != em_strbuf_empty);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	assert_true(sb.buf == em_strbuf_empty);
}

static void test_append(void **state)
{
	struct em_strbuf sb = EM_STRBUF_INIT;
	char *s;
	size_t len;
	int i;

	(void)state;
	em_strbuf_adds(&sb, "abc");
	em_strbuf_addc(&sb, '-');
	em_strbuf_add(&sb, "xyz\0hidden", 3);
	em_strbuf_add(&sb, "", 0);
	assert_string_equal(sb.buf, "abc-xyz");
	assert_int_equal(sb.len, 7);
	assert_true(sb.alloc > sb.len);

	em_strbuf_reset(&sb);
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.buf, "");
	for (i = 0; i < 10000; i++)
		em_strbuf_addc(&sb, (char)('a' + i % 26));
	assert_int_equal(sb.len, 10000);
	assert_int_equal(sb.buf[9999], 'a' + 9999 % 26);
	assert_int_equal(sb.buf[10000], '\0');
	assert_int_equal(strlen(sb.buf), 10000);

	s = em_strbuf_detach(&sb, &len);
	assert_int_equal(len, 10000);
	assert_int_equal(strlen(s), 10000);
	free(s);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.alloc, 0);
	assert_string_equal(sb.buf, "");
}

static void test_addf(void **state)
{
	struct em_strbuf sb = EM_STRBUF_INIT;
	char big[1000];

	(void)state;
	em_strbuf_addf(&sb, "%d-%s", 42, "x");
	assert_string_equal(sb.buf, "42-x");
	/* longer than the room the first attempt has */
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	em_strbuf_addf(&sb, "[%s]", big);
	assert_int_equal(sb.len, 4 + 2 + 999);
	assert_int_equal(sb.buf[5], 'q');
	assert_int_equal(sb.buf[sb.len - 1], ']');
	assert_int_equal(sb.buf[sb.len], '\0');
	em_strbuf_addf(&sb, "%s", "");
	assert_int_equal(sb.len, 4 + 2 + 999);
	em_strbuf_release(&sb);
}

static void test_sanitized(void **state)
{
	struct em_strbuf sb = EM_STRBUF_INIT;

	(void)state;
	em_strbuf_add_sanitized(&sb, "a\tb\nc\x7f" "d", 40);
	assert_string_equal(sb.buf, "a?b?c?d");
	em_strbuf_reset(&sb);
	/* C1 control U+0085 and a stray byte; CJK kept */
	em_strbuf_add_sanitized(&sb, "x\xc2\x85y\xfe\xe5\xbc\xa0", 40);
	assert_string_equal(sb.buf, "x?y?\xe5\xbc\xa0");
	em_strbuf_reset(&sb);
	em_strbuf_add_sanitized(&sb, "0123456789", 10);
	assert_string_equal(sb.buf, "0123456789");
	em_strbuf_reset(&sb);
	em_strbuf_add_sanitized(&sb, "0123456789a", 10);
	assert_string_equal(sb.buf, "0123456789...");
	em_strbuf_reset(&sb);
	/* cut before a character that would cross the limit */
	em_strbuf_add_sanitized(&sb, "ab\xe5\xbc\xa0", 4);
	assert_string_equal(sb.buf, "ab...");
	em_strbuf_release(&sb);
}

static void test_error(void **state)
{
	struct em_error err = EM_ERROR_INIT;

	(void)state;
	assert_int_equal(em_error_set(&err, "bad voucher '%s'", "V-1"), EM_ERR);
	em_error_detail(&err, "line %d", 3);
	em_error_hint(&err, "fix it");
	assert_string_equal(err.message, "bad voucher 'V-1'");
	assert_string_equal(err.detail, "line 3");
	assert_string_equal(err.hint, "fix it");
	/* replacing may quote the old text, which is freed only after */
	em_error_detail(&err, "%s, and more", err.detail);
	assert_string_equal(err.detail, "line 3, and more");
	/* a new message clears detail, hint and SQLSTATE */
	memcpy(err.sqlstate, "23505", 6);
	assert_int_equal(em_error_set(&err, "second"), EM_ERR);
	assert_string_equal(err.message, "second");
	assert_null(err.detail);
	assert_null(err.hint);
	assert_string_equal(err.sqlstate, "");
	em_error_release(&err);
	assert_null(err.message);
	em_error_release(&err);
	/* NULL err: only the return code */
	assert_int_equal(em_error_set(NULL, "x"), EM_ERR);
	em_error_detail(NULL, "x");
}

static void test_error_from_libpq(void **state)
{
	struct em_error err = EM_ERROR_INIT;
	PGresult *res;
	PGconn *conn;

	(void)state;
	/* a result libpq made itself has no fields, only its status */
	res = PQmakeEmptyPGresult(NULL, PGRES_FATAL_ERROR);
	assert_non_null(res);
	assert_int_equal(em_error_from_result(&err, res), EM_ERR);
	assert_string_equal(err.message, "unexpected result status PGRES_FATAL_ERROR from the server");
	assert_null(err.detail);
	assert_string_equal(err.sqlstate, "");
	PQclear(res);
	assert_int_equal(em_error_from_result(&err, NULL), EM_ERR);
	assert_string_equal(err.message, "no result from the server");

	assert_int_equal(em_error_from_conn(&err, NULL, NULL), EM_ERR);
	assert_string_equal(err.message, "could not connect to the database");
	assert_non_null(err.detail);

	/* a socket directory that does not exist fails without any server */
	conn = PQconnectdb("host=/nonexistent/earmark-test port=1 connect_timeout=2");
	assert_non_null(conn);
	assert_int_equal(PQstatus(conn), CONNECTION_BAD);
	assert_int_equal(em_error_from_conn(&err, conn, "could not connect to the ledger database"), EM_ERR);
	assert_string_equal(err.message, "could not connect to the ledger database");
	assert_non_null(err.detail);
	assert_non_null(strstr(err.detail, "/nonexistent/earmark-test"));
	assert_int_not_equal(err.detail[strlen(err.detail) - 1], '\n');
	PQfinish(conn);
	em_error_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_addf),
		cmocka_unit_test(test_sanitized),
		cmocka_unit_test(test_error),
		cmocka_unit_test(test_error_from_libpq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
