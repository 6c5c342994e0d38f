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

PGresult *em_db_exec_retry(PGconn *conn, const char *sql, int nparams,
			   const char *const *params, ExecStatusType expect, int ncols,
			   struct em_error *err)
{
	long delay_us = 5000;

	for (int attempt = 0;; attempt++) {
		PGresult *res = em_db_exec(conn, sql, nparams, params, expect, ncols, err);

		if (res || attempt == 5 || !em_db_retryable(err))
			return res;
		usleep((useconds_t)(delay_us + random() % delay_us));
		delay_us *= 2;
	}
}
