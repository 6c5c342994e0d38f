/*
 * The year-end carry-forward's client side.  Everything it keeps lives in
 * the database (0015): which vouchers, their lines computed from the
 * posted balances, the exemption from the disbursement rules and its
 * check at review and posting.  Here the year is checked for shape and the
 * one call's answer read.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/db.h"
#include "ledger/error.h"
#include "posting/period.h"

int em_period_carry_forward(PGconn *conn, const char *book, const char *year,
			    struct em_carry_forward *out, struct em_error *err)
{
	const char *params[] = { book, year };
	PGresult *res;

	memset(out, 0, sizeof(*out));
	if (!year || strlen(year) != 4 || !isdigit((unsigned char)year[0]) ||
	    !isdigit((unsigned char)year[1]) || !isdigit((unsigned char)year[2]) ||
	    !isdigit((unsigned char)year[3])) {
		em_error_set(err, "year '%.20s' is not YYYY", year ? year : "");
		em_error_hint(err, "the year to carry forward, e.g. 2025");
		return EM_ERR_USAGE;
	}
	res = em_db_exec_retry(conn,
			       "SELECT voucher_id, line_count, already FROM earmark.year_end_carry_forward($1, $2::integer)",
			       2, params, PGRES_TUPLES_OK, 3, err);
	if (!res)
		return EM_ERR;
	if (PQntuples(res) > 1 || (PQntuples(res) == 1 && (PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1)))) {
		PQclear(res);
		return em_error_set(err, "unexpected answer from the database");
	}
	if (PQntuples(res) == 1) {
		out->voucher_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		out->lines = strtol(PQgetvalue(res, 0, 1), NULL, 10);
		out->already = strcmp(PQgetvalue(res, 0, 2), "t") == 0;
	}
	PQclear(res);
	return 0;
}
