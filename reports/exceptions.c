/*
 * The exceptions log's writer.  A command the rules refused has had its
 * transaction rolled back, with everything it wrote; the refusal itself is
 * then recorded by earmark.refusal_log in a transaction of its own on the
 * same connection, so the log survives the rollback.  The server stamps
 * who (session_user) and when (its clock); the client gives only what was
 * refused and why.  Called from earmark.c's one error path.
 *
 * Only the office and the auditor record (0013 grants refusal_log to them).
 * The public role (earmark_public, the notice board's) holds no job in the
 * ledger and reads published notices only (DESIGN section 8); letting it
 * write into the office's log would let an internet-facing role fill it.
 * So the privilege is asked first, and a role without it records nothing:
 * calling the function anyway would only add a permission error, logged
 * by the server, on top of the refusal the person must see.
 */
#include <string.h>

#include "ledger/db.h"
#include "ledger/error.h"
#include "reports/reports.h"

int em_refusal_log(PGconn *conn, const char *book, const struct em_error *refused,
		   const char *command, const char *record, struct em_error *err)
{
	const char *params[6] = { book, refused->sqlstate, command, record,
				  refused->message ? refused->message : "", refused->detail };
	PGresult *res;

	if (!conn || PQstatus(conn) != CONNECTION_OK)
		return em_error_set(err, "no connection to record the refusal on");
	switch (PQtransactionStatus(conn)) {
	case PQTRANS_IDLE:
		break;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		/* the refused transaction is still open: end it first */
		if (em_db_command(conn, "ROLLBACK", 0, NULL, err) < 0)
			return EM_ERR;
		break;
	default:
		/* a command or COPY still running: nothing safe to send */
		return em_error_set(err, "the connection is busy; the refusal was not recorded");
	}
	res = em_db_exec(conn,
			 "SELECT pg_catalog.has_function_privilege("
			 "'earmark.refusal_log(text, text, text, text, text, text)', 'EXECUTE')",
			 0, NULL, PGRES_TUPLES_OK, 1, err);
	if (!res)
		return EM_ERR;
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		PQclear(res);
		return 1;   /* not this role's to record */
	}
	PQclear(res);
	res = em_db_exec(conn, "SELECT earmark.refusal_log($1, $2, $3, $4, $5, $6)", 6, params,
			 PGRES_TUPLES_OK, 1, err);
	if (!res)
		return EM_ERR;
	PQclear(res);
	return 0;
}
