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
/* Is the error a serialization failure (40001) or deadlock (40P01), worth retrying? */
int em_db_retryable(const struct em_error *err);

/*
 * Retrying whole transactions.  A serialization failure or deadlock rolls
 * the whole transaction back; it is not the user's mistake and is not shown
 * as a failure while attempts remain: the whole transaction runs again,
 * from BEGIN (a retried post is safe: D9's idempotency keys answer the
 * first result).  EM_DB_ATTEMPTS runs in all (EARMARK_DB_ATTEMPTS
 * overrides, 1-10), waiting 5-10 ms, then twice as long each time (at
 * most 80-160 ms), between them.
 */
#define EM_DB_ATTEMPTS 6
#define EM_DB_BACKOFF_US 10000L
#define EM_DB_BACKOFF_MAX_US 160000L

/*
 * After attempt number attempt (0 first) of a whole transaction failed
 * with err: 1 when it should run again (err is 40001 or 40P01, the
 * transaction is over and the connection idle, attempts remain), after a
 * jittered wait and with err cleared; else 0, err kept, and when the
 * attempts are spent a detail and hint saying so.  The caller loops:
 *   for (attempt = 0; (ret = once(...)) < 0 && em_db_retry_again(conn, attempt, err); attempt++)
 */
int em_db_retry_again(PGconn *conn, int attempt, struct em_error *err);

/*
 * em_db_exec for a single-statement transaction (autocommit) that may meet
 * a serialization failure or deadlock under load, retried as above.  Inside
 * an open transaction it does not retry: the whole transaction must.
 */
PGresult *em_db_exec_retry(PGconn *conn, const char *sql, int nparams,
			   const char *const *params, ExecStatusType expect, int ncols,
			   struct em_error *err);
#endif
