/*
 * The database connection and small libpq helpers.
 *
 * Every session starts with search_path = pg_catalog, pg_temp so that
 * nothing resolves by accident; earmark's SQL is schema-qualified.
 */
#ifndef EM_DB_H
#define EM_DB_H

#include <libpq-fe.h>

struct em_config;
struct em_error;

/* Connects as role (NULL: default) using the application or admin settings. */
PGconn *em_db_connect(const struct em_config *cfg, const char *role, int admin,
		      struct em_error *err);
/*
 * Runs sql with text parameters; returns the result when its status is
 * expect (PGRES_COMMAND_OK / PGRES_TUPLES_OK), else fills err, clears it and
 * returns NULL.  When ncols >= 0 the shape is checked too.
 */
PGresult *em_db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
		     ExecStatusType expect, int ncols, struct em_error *err);
/* Runs a command and checks it succeeded; returns 0 or EM_ERR. */
int em_db_command(PGconn *conn, const char *sql, int nparams, const char *const *params,
		  struct em_error *err);
/* Is the error a serialization failure or deadlock (worth retrying)? */
int em_db_retryable(const struct em_error *err);



/*
 * em_db_exec for a single-statement transaction that may meet a
 * serialization failure or deadlock under load: retried up to 6 times with
 * bounded, jittered backoff (5 ms doubling to 160 ms), never shown to the
 * user as a crash.  Only for statements that are safe to repeat whole.
 */
PGresult *em_db_exec_retry(PGconn *conn, const char *sql, int nparams,
			   const char *const *params, ExecStatusType expect, int ncols,
			   struct em_error *err);
#endif
