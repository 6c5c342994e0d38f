/*
 * Configuration: where the database is, which book, which role.
 *
 * Read from --config FILE, else $EARMARK_HOME/config/earmark.conf when it
 * exists (INI, libinih).  Keys:
 *   [database] conninfo = libpq connection string or URI ("service=earmark")
 *   [database] admin_conninfo = connection for db init and user add
 *   [earmark]  book = book code used when --book is not given
 * A file whose conninfo or admin_conninfo holds a password, and a password
 * file one of them names (passfile=), must be private to its owner (mode
 * 0600 or stricter), or em_config_load refuses it naming file, mode and fix.
 * Without a conninfo, PG* environment variables (PGHOST, PGSERVICE,
 * PGDATABASE) select a real server; with none of them the private cluster
 * under $EARMARK_HOME/var is used.
 */
#ifndef EM_CONFIG_H
#define EM_CONFIG_H

struct em_error;

struct em_config {
	char *home;           /* EARMARK_HOME or "." */
	char *path;           /* config file read, or NULL */
	char *conninfo;       /* application connection, NULL: env or private */
	char *admin_conninfo; /* privileged connection for db init / user add */
	char *book;           /* default book code, or NULL */
	int private_cluster;  /* 1 when using var/pg */
};

#define EM_CONFIG_INIT { NULL, NULL, NULL, NULL, NULL, 0 }

/* path: --config value or NULL.  A missing explicit file is an error. */
int em_config_load(struct em_config *cfg, const char *path, struct em_error *err);
void em_config_release(struct em_config *cfg);

#endif
