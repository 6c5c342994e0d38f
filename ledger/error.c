/*
 * em_error: filling the error a library function hands back to earmark.c.
 *
 * Invariant: each of message, detail and hint is NULL or a heap string
 * owned by the struct; setting one frees what was there, and the new text
 * is formatted before the old one is freed, so an argument may quote the
 * field it replaces.  sqlstate is always NUL terminated.  A NULL err is
 * accepted and ignored, so a caller that only wants the return code may
 * pass NULL.
 */
#include "ledger/error.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/strbuf.h"

static void em_error_replace(char **field, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void em_error_replace(char **field, const char *fmt, va_list ap)
{
	struct em_strbuf sb = EM_STRBUF_INIT;

	em_strbuf_vaddf(&sb, fmt, ap);
	free(*field);
	*field = em_strbuf_detach(&sb, NULL);
}

int em_error_set(struct em_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return EM_ERR;
	va_start(ap, fmt);
	em_error_replace(&err->message, fmt, ap);
	va_end(ap);
	free(err->detail);
	err->detail = NULL;
	free(err->hint);
	err->hint = NULL;
	err->sqlstate[0] = '\0';
	return EM_ERR;
}

void em_error_detail(struct em_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	em_error_replace(&err->detail, fmt, ap);
	va_end(ap);
}

void em_error_hint(struct em_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	em_error_replace(&err->hint, fmt, ap);
	va_end(ap);
}

/* Copies s without a leading "ERROR:  "/"FATAL:  " and trailing blanks. */
static char *em_error_trimmed(const char *s)
{
	static const char *const prefixes[] = { "ERROR:  ", "FATAL:  ", "PANIC:  " };
	struct em_strbuf sb = EM_STRBUF_INIT;
	size_t i;
	size_t len;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (strncmp(s, prefixes[i], n) == 0) {
			s += n;
			break;
		}
	}
	len = strlen(s);
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' ||
			   s[len - 1] == '\t'))
		len--;
	em_strbuf_add(&sb, s, len);
	return em_strbuf_detach(&sb, NULL);
}

int em_error_from_result(struct em_error *err, const PGresult *res)
{
	const char *primary;
	const char *detail;
	const char *hint;
	const char *sqlstate;
	char *msg = NULL;

	if (err == NULL)
		return EM_ERR;
	if (res == NULL) {
		em_error_set(err, "no result from the server");
		em_error_detail(err, "the server closed the connection, or memory ran out");
		goto out;
	}
	primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (primary != NULL && primary[0] != '\0') {
		em_error_set(err, "%s", primary);
	} else {
		msg = em_error_trimmed(PQresultErrorMessage(res));
		if (msg[0] != '\0')
			em_error_set(err, "%s", msg);
		else
			em_error_set(err, "unexpected result status %s from the server",
				     PQresStatus(PQresultStatus(res)));
	}
	detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	if (detail != NULL)
		em_error_detail(err, "%s", detail);
	hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	if (hint != NULL)
		em_error_hint(err, "%s", hint);
	sqlstate = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (sqlstate != NULL) {
		size_t n = strnlen(sqlstate, sizeof(err->sqlstate) - 1);

		memcpy(err->sqlstate, sqlstate, n);
		err->sqlstate[n] = '\0';
	}
out:
	free(msg);
	return EM_ERR;
}

/*
 * what is the whole primary message ("could not connect to the database",
 * "lost the connection to the database"); NULL means the former.  libpq's
 * own text, which may span lines, goes into the detail.
 */
int em_error_from_conn(struct em_error *err, PGconn *conn, const char *what)
{
	char *msg = NULL;

	if (err == NULL)
		return EM_ERR;
	em_error_set(err, "%s", what != NULL ? what : "could not connect to the database");
	if (conn == NULL) {
		em_error_detail(err, "out of memory allocating the connection");
		goto out;
	}
	msg = em_error_trimmed(PQerrorMessage(conn));
	if (msg[0] != '\0')
		em_error_detail(err, "%s", msg);
out:
	free(msg);
	return EM_ERR;
}

void em_error_release(struct em_error *err)
{
	if (err == NULL)
		return;
	free(err->message);
	free(err->detail);
	free(err->hint);
	err->message = NULL;
	err->detail = NULL;
	err->hint = NULL;
	err->sqlstate[0] = '\0';
}
