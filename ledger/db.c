/*
 * Connecting to PostgreSQL and running parameterised SQL.
 *
 * The connection string is built from the configuration (config.h): an
 * explicit conninfo, else libpq's own PG* environment and service file,
 * else the private cluster's socket under $EARMARK_HOME/var/run.  A role
 * given with --user is added as user=...; libpq's expansion of conninfo
 * strings does the quoting, as PQconnectdbParams takes keywords and
 * values separately.  Each session pins search_path to pg_catalog, pg_temp
 * and application_name to earmark; all SQL is schema-qualified.
 */
#include "ledger/db.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ledger/config.h"
#include "ledger/error.h"
#include "ledger/pgctl.h"

PGconn *em_db_connect(const struct em_config *cfg, const char *role, int admin,
		      struct em_error *err)
{
	const char *keys[8];
	const char *vals[8];
	int n = 0;
	char *socket_dir = NULL;
	PGconn *conn = NULL;
	PGresult *res = NULL;
	const char *dsn = admin && cfg->admin_conninfo ? cfg->admin_conninfo : cfg->conninfo;

	if (dsn) {
		keys[n] = "dbname"; /* expanded as a conninfo string or URI */
		vals[n++] = dsn;
	} else if (cfg->private_cluster) {
		socket_dir = em_pgctl_socket_dir(cfg->home);
		keys[n] = "host";
		vals[n++] = socket_dir;
		keys[n] = "dbname";
		vals[n++] = "earmark";
		if (admin && !role) {
			keys[n] = "user";
			vals[n++] = "postgres";
		}
	}
	if (role) {
		keys[n] = "user";
		vals[n++] = role;
	}
	keys[n] = "application_name";
	vals[n++] = "earmark";
	keys[n] = NULL;
	vals[n] = NULL;

	conn = PQconnectdbParams(keys, vals, 1);
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		em_error_from_conn(err, conn, "could not connect to the database");
		if (cfg->private_cluster)
			em_error_hint(err, "start the private database with: earmark db start");
		else
			em_error_hint(err, "check [database] conninfo in %s or the PG* environment",
				      cfg->path ? cfg->path : "config/earmark.conf");
		PQfinish(conn);
		conn = NULL;
		goto out;
	}
	res = PQexec(conn, "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false)");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		em_error_from_result(err, res);
		PQfinish(conn);
		conn = NULL;
	}
out:
	PQclear(res);
	free(socket_dir);
	return conn;
}

PGresult *em_db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
		     ExecStatusType expect, int ncols, struct em_error *err)
{
	PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);

	if (!res) {
		em_error_from_conn(err, conn, "lost the connection to the database");
		return NULL;
	}
	if (PQresultStatus(res) != expect) {
		if (PQresultStatus(res) == PGRES_FATAL_ERROR)
			em_error_from_result(err, res);
		else
			em_error_set(err, "unexpected answer from the database: %s",
				     PQresStatus(PQresultStatus(res)));
		PQclear(res);
		return NULL;
	}
	if (ncols >= 0 && PQnfields(res) != ncols) {
		em_error_set(err, "unexpected answer from the database");
		em_error_detail(err, "expected %d columns, got %d", ncols, PQnfields(res));
		PQclear(res);
		return NULL;
	}
	return res;
}

int em_db_command(PGconn *conn, const char *sql, int nparams, const char *const *params,
		  struct em_error *err)
{
	PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
	int ret = 0;

	if (!res) {
		em_error_from_conn(err, conn, "lost the connection to the database");
		return EM_ERR;
	}
	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		em_error_from_result(err, res);
		ret = EM_ERR;
	}
	PQclear(res);
	return ret;
}

int em_db_retryable(const struct em_error *err)
{
	return strcmp(err->sqlstate, "40001") == 0 || strcmp(err->sqlstate, "40P01") == 0;
}

/*
 * How many times a transaction is run in all: EARMARK_DB_ATTEMPTS (1-10;
 * 1 turns retrying off, which the tests use to see the error a user would
 * get once the attempts are spent), else EM_DB_ATTEMPTS.
 */
static int em_db_attempts(void)
{
	const char *v = getenv("EARMARK_DB_ATTEMPTS");
	char *end = NULL;
	long n;

	if (!v || !*v)
		return EM_DB_ATTEMPTS;
	n = strtol(v, &end, 10);
	return *end == '\0' && n >= 1 && n <= 10 ? (int)n : EM_DB_ATTEMPTS;
}

/*
 * A wait of about base microseconds, jittered over [base/2, base): clients
 * that collided once must not collide again in step.  The seed differs per
 * process (pid and clock), as 16 clients started at once would otherwise
 * draw the same waits.
 */
static void em_db_backoff(long base_us)
{
	static unsigned int seed;
	struct timespec now;

	if (seed == 0) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		seed = (unsigned int)getpid() * 2654435761u ^ (unsigned int)now.tv_nsec ^ 1u;
	}
	usleep((useconds_t)(base_us / 2 + rand_r(&seed) % (base_us / 2)));
}

int em_db_retry_again(PGconn *conn, int attempt, struct em_error *err)
{
	int attempts = em_db_attempts();
	long base_us = EM_DB_BACKOFF_US;

	if (!em_db_retryable(err))
		return 0;
	/* a transaction still open is the caller's, larger than what failed */
	if (PQstatus(conn) != CONNECTION_OK || PQtransactionStatus(conn) != PQTRANS_IDLE)
		return 0;
	if (attempt + 1 >= attempts) {
		em_error_detail(err, "gave up after %d attempt%s, each rolled back whole: nothing "
				     "of this command was written",
				attempts, attempts == 1 ? "" : "s");
		em_error_hint(err, "other sessions were changing the same records at the same time; "
				   "run the command again");
		return 0;
	}
	for (int i = 0; i < attempt && base_us < EM_DB_BACKOFF_MAX_US; i++)
		base_us *= 2;
	em_db_backoff(base_us);
	em_error_release(err);
	return 1;
}

PGresult *em_db_exec_retry(PGconn *conn, const char *sql, int nparams,
			   const char *const *params, ExecStatusType expect, int ncols,
			   struct em_error *err)
{
	for (int attempt = 0;; attempt++) {
		PGresult *res = em_db_exec(conn, sql, nparams, params, expect, ncols, err);

		if (res || !em_db_retry_again(conn, attempt, err))
			return res;
	}
}
