/*
 * em_error: how library code reports failure.
 *
 * Library code (ledger/, posting/, reports/) never prints or exits.  A
 * function that fails returns a negative value and fills a struct em_error
 * with a primary message (lowercase, no full stop), an optional detail and
 * hint, and a SQLSTATE when the database refused.  earmark.c prints it as
 *   earmark: error: <message>
 *   detail: <detail>
 *   hint: <hint>
 * following PostgreSQL's error message style guide.
 */
#ifndef EM_ERROR_H
#define EM_ERROR_H

#include <libpq-fe.h>

/* return codes: 0 ok, negative failure */
#define EM_ERR -1       /* refused or failed: exit 1 */
#define EM_ERR_USAGE -2 /* bad command line: exit 2 */

struct em_error {
	char *message;  /* primary message, NULL when no error */
	char *detail;   /* NULL or more facts: numbers, record */
	char *hint;     /* NULL or what would fix it */
	char sqlstate[6]; /* "" or the SQLSTATE the server sent */
};

#define EM_ERROR_INIT { NULL, NULL, NULL, "" }

/* Sets the primary message (printf style); detail and hint are cleared. */
int em_error_set(struct em_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void em_error_detail(struct em_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void em_error_hint(struct em_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Copies the server's message, detail, hint and SQLSTATE out of a failed result. */
int em_error_from_result(struct em_error *err, const PGresult *res);
/*
 * Copies a connection-level failure: message what ("could not connect to
 * the database"; NULL means that one), detail PQerrorMessage(conn) trimmed.
 */
int em_error_from_conn(struct em_error *err, PGconn *conn, const char *what);
void em_error_release(struct em_error *err);

#endif
