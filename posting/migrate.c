/*
 * Forward-only, checksummed migrations.
 *
 * sql/roles.sql (idempotent: the group roles, the schema, the migration
 * table) runs first on every call.  Then each sql/migrations/NNNN_name.sql
 * not yet recorded in earmark.schema_migration is applied in its own
 * transaction under SET LOCAL ROLE earmark_owner, so that the owner, not
 * the person running it, owns every object, and recorded with its SHA-256.
 * A recorded migration whose file is missing or no longer has that digest
 * stops the run before anything is applied: the database would no longer
 * be what the files say.  A session advisory lock keeps two runs apart.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/canon.h"
#include "ledger/db.h"
#include "ledger/error.h"
#include "ledger/strbuf.h"
#include "posting/posting.h"

#define EM_MIGRATE_LOCK "7353401"  /* pg_advisory_lock key for migration runs */

#define EM_MIGRATION_MAX_BYTES (16 * 1024 * 1024)

static int read_file(const char *path, struct em_strbuf *sb, struct em_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return em_error_set(err, "could not open '%s': %s", path, strerror(errno));
	rc = em_strbuf_read_fd(sb, fd, EM_MIGRATION_MAX_BYTES);
	if (rc == -1)
		em_error_set(err, "could not read '%s': %s", path, strerror(errno));
	else if (rc == -2)
		em_error_set(err, "migration '%s' is larger than 16 MiB", path);
	close(fd);
	return rc < 0 ? EM_ERR : 0;
}

static int is_migration(const struct dirent *d)
{
	const char *n = d->d_name;
	size_t len = strlen(n);

	if (len < 10 || strcmp(n + len - 4, ".sql") != 0 || n[4] != '_')
		return 0;
	for (int i = 0; i < 4; i++)
		if (n[i] < '0' || n[i] > '9')
			return 0;
	for (size_t i = 5; i < len - 4; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '_'))
			return 0;
	return 1;
}

static int exec_simple(PGconn *conn, const char *sql, const char *what, struct em_error *err)
{
	PGresult *res = PQexec(conn, sql);
	int ret = 0;

	if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
		em_error_from_result(err, res);
		if (what) {
			char *msg = err->message ? strdup(err->message) : NULL;
			em_error_set(err, "%s failed: %s", what, msg ? msg : "unknown error");
			free(msg);
			em_error_detail(err, "%s", PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL)
						       ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : "");
		}
		ret = EM_ERR;
	}
	PQclear(res);
	return ret;
}

int em_migrate(PGconn *admin, const char *sqldir, struct em_strbuf *log, struct em_error *err)
{
	struct em_strbuf path = EM_STRBUF_INIT;
	struct em_strbuf body = EM_STRBUF_INIT;
	struct dirent **files = NULL;
	PGresult *applied = NULL;
	int nfiles = -1;
	int locked = 0;
	int ret = EM_ERR;
	char (*digests)[2 * EM_HASH_LEN + 1] = NULL;

	/* "schema already exists, skipping" on every rerun is noise, not news. */
	if (exec_simple(admin, "SET client_min_messages = warning", NULL, err) < 0 ||
	    exec_simple(admin, "SELECT pg_catalog.pg_advisory_lock(" EM_MIGRATE_LOCK ")", NULL, err) < 0)
		goto out;
	locked = 1;

	em_strbuf_addf(&path, "%s/roles.sql", sqldir);
	if (read_file(path.buf, &body, err) < 0)
		goto out;
	if (exec_simple(admin, body.buf, "roles.sql", err) < 0) {
		em_error_hint(err, "db init needs a role that may create roles and schemas");
		goto out;
	}

	em_strbuf_reset(&path);
	em_strbuf_addf(&path, "%s/migrations", sqldir);
	nfiles = scandir(path.buf, &files, is_migration, alphasort);
	if (nfiles < 0) {
		em_error_set(err, "could not read migrations in '%s': %s", path.buf, strerror(errno));
		goto out;
	}
	digests = calloc((size_t)nfiles + 1, sizeof(*digests));
	if (!digests)
		abort();
	for (int i = 0; i < nfiles; i++) {
		em_strbuf_reset(&path);
		em_strbuf_reset(&body);
		em_strbuf_addf(&path, "%s/migrations/%s", sqldir, files[i]->d_name);
		if (read_file(path.buf, &body, err) < 0 ||
		    em_sha256_hex(body.buf, body.len, digests[i]) < 0)
			goto out;
	}

	applied = em_db_exec(admin, "SELECT name, sha256 FROM earmark.schema_migration ORDER BY version",
			     0, NULL, PGRES_TUPLES_OK, 2, err);
	if (!applied)
		goto out;
	for (int r = 0; r < PQntuples(applied); r++) {
		const char *name = PQgetvalue(applied, r, 0);
		const char *sha = PQgetvalue(applied, r, 1);
		int found = -1;

		for (int i = 0; i < nfiles; i++)
			if (strcmp(files[i]->d_name, name) == 0)
				found = i;
		if (found < 0) {
			em_error_set(err, "applied migration '%s' is missing from '%s/migrations'", name, sqldir);
			em_error_hint(err, "migrations are forward-only: restore the file");
			goto out;
		}
		if (strcmp(digests[found], sha) != 0) {
			em_error_set(err, "migration '%s' has changed since it was applied", name);
			em_error_detail(err, "applied sha256 %s, file sha256 %s", sha, digests[found]);
			em_error_hint(err, "migrations are forward-only: restore the file and put the change in a new migration");
			goto out;
		}
	}

	for (int i = 0; i < nfiles; i++) {
		const char *name = files[i]->d_name;
		char version[5];
		int done = 0;

		for (int r = 0; r < PQntuples(applied); r++)
			done |= strcmp(PQgetvalue(applied, r, 0), name) == 0;
		if (done)
			continue;
		memcpy(version, name, 4);
		version[4] = '\0';
		em_strbuf_reset(&path);
		em_strbuf_reset(&body);
		em_strbuf_addf(&path, "%s/migrations/%s", sqldir, name);
		if (read_file(path.buf, &body, err) < 0)
			goto out;
		if (exec_simple(admin, "BEGIN", NULL, err) < 0)
			goto out;
		if (exec_simple(admin, "SET LOCAL ROLE earmark_owner", NULL, err) < 0 ||
		    exec_simple(admin, body.buf, name, err) < 0) {
			exec_simple(admin, "ROLLBACK", NULL, err);
			goto out;
		}
		{
			const char *params[] = { version, name, digests[i] };
			if (em_db_command(admin,
					  "INSERT INTO earmark.schema_migration (version, name, sha256) "
					  "VALUES ($1::integer, $2, $3)", 3, params, err) < 0) {
				struct em_error ignore = EM_ERROR_INIT;
				exec_simple(admin, "ROLLBACK", NULL, &ignore);
				em_error_release(&ignore);
				goto out;
			}
		}
		if (exec_simple(admin, "COMMIT", NULL, err) < 0)
			goto out;
		em_strbuf_addf(log, "applied %s\n", name);
	}
	ret = 0;
out:
	if (locked) {
		struct em_error ignore = EM_ERROR_INIT;
		exec_simple(admin, "SELECT pg_catalog.pg_advisory_unlock(" EM_MIGRATE_LOCK ")", NULL, &ignore);
		em_error_release(&ignore);
	}
	for (int i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	free(digests);
	PQclear(applied);
	em_strbuf_release(&path);
	em_strbuf_release(&body);
	return ret;
}
