/*
 * The private PostgreSQL: earmark's embedded default when no database is
 * configured.  Under EARMARK_HOME (default ".") it keeps
 *   var/pg/          the cluster (initdb: UTF-8, C.UTF-8 locale, data checksums)
 *   var/run/         the only place it listens: a Unix socket, no TCP
 *   var/log/postgresql.log
 * and a database "earmark" created on first start.  The bootstrap
 * superuser is always "postgres".  Authentication is trust, which is safe
 * only because the socket directory is mode 0700 and owned by the server's
 * user: only that user (and root) can reach it.
 *
 * PostgreSQL refuses to run as root.  When earmark runs as root the server
 * runs as an unprivileged system user (EARMARK_PGUSER, else "postgres" when
 * it exists, else a system user "earmark" created with useradd), and the
 * var/ directories are handed to it.
 *
 * The server binaries are found in EARMARK_PGBIN, else the directory
 * pg_config --bindir named at build time (EM_PGBINDIR).
 */
#ifndef EM_PGCTL_H
#define EM_PGCTL_H

struct em_error;
struct em_strbuf;

/* Creates the cluster when missing, starts it, creates database "earmark". */
int em_pgctl_start(const char *home, struct em_error *err);
/* Fast shutdown; stopping a stopped cluster succeeds. */
int em_pgctl_stop(const char *home, struct em_error *err);
/* Returns 1 running, 0 stopped or missing, negative on error; describes it in out. */
int em_pgctl_status(const char *home, struct em_strbuf *out, struct em_error *err);
/* The socket directory of the private cluster under home (malloc'd). */
char *em_pgctl_socket_dir(const char *home);

#endif
