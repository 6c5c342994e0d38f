/*
 * pgctl: the private PostgreSQL cluster under EARMARK_HOME (see pgctl.h for
 * the layout).  It lets earmark run with no database administrator: `earmark
 * db start` makes a cluster on first use and starts it, `db stop` stops it.
 *
 * The invariant it keeps is that the cluster is reachable only through the
 * socket directory var/run, mode 0700 and owned by the server's user: it
 * listens on no TCP address, so trust authentication lets in only that user
 * and root.  The settings that make this so live in var/pg/earmark.conf,
 * rewritten on every start and pulled in by an `include` line appended once
 * to postgresql.conf.  `include`, not `include_if_exists`: should
 * earmark.conf vanish, the server refuses to start rather than falling back
 * to listening on localhost with trust authentication.  Writing the settings
 * to a file also means pg_ctl needs no -o, which it would paste into a shell
 * command line.
 *
 * pg_ctl still runs the server through /bin/sh with the data directory in
 * double quotes, so a home path is limited to [A-Za-z0-9/._-]; every other
 * child (initdb, pg_ctl, useradd) is run with fork and execve, never a shell.
 *
 * The workload is a handful of calls per command line: nothing here is hot,
 * so it favours plain checks over cleverness.  Library code: it never prints
 * or exits; failures fill struct em_error, with the last lines of the server
 * log as detail when the server or its tools failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "ledger/error.h"
#include "ledger/pgctl.h"
#include "ledger/strbuf.h"

#ifndef EM_PGBINDIR
#define EM_PGBINDIR ""
#endif

/* Fixed, so that neither PGPORT in the environment nor a default compiled
 * into libpq moves the socket: its name is var/run/.s.PGSQL.5432. */
#define EM_PGCTL_PORT "5432"
/* Seconds pg_ctl waits for the server to start or stop. */
#define EM_PGCTL_WAIT "60"
/* Lines of the server log quoted in an error's detail. */
#define EM_PGCTL_LOG_LINES 10
/* Bytes read from the end of the log to find those lines. */
#define EM_PGCTL_LOG_TAIL 8192
/* The system user created when running as root with no "postgres" user. */
#define EM_PGCTL_SYSUSER "earmark"
/* The line appended once to postgresql.conf. */
#define EM_PGCTL_INCLUDE "include = 'earmark.conf'"

extern char **environ;

/* Everything one operation needs to know about the cluster under a home. */
struct em_pgctl_cluster {
	char *home;      /* realpath of the home directory; NULL when it does not exist */
	char *var;       /* home/var */
	char *data;      /* home/var/pg, the data directory */
	char *run;       /* home/var/run, the socket directory */
	char *logdir;    /* home/var/log */
	char *logfile;   /* home/var/log/postgresql.log: server, initdb and pg_ctl output */
	char *bindir;    /* directory of initdb and pg_ctl */
	int switch_user; /* 1 when running as root: the server's tools run as user */
	char *user;      /* the server's user name; NULL until picked */
	uid_t uid;       /* its uid */
	gid_t gid;       /* its primary group */
};

/* Where a child's stdout and stderr go: a file (appended), a buffer or nowhere. */
struct em_pgctl_output {
	const char *path;         /* NULL or a file opened by the child, as the child's user */
	struct em_strbuf *capture; /* NULL or a buffer that receives the output */
};

/* The steps between fork and exec that can fail, indexing em_pgctl_stage. */
enum em_pgctl_stage_id {
	EM_PGCTL_SETGID,
	EM_PGCTL_INITGROUPS,
	EM_PGCTL_SETUID,
	EM_PGCTL_REDIRECT,
	EM_PGCTL_CHDIR,
	EM_PGCTL_EXEC,
};

static const char *const em_pgctl_stage[] = {
	"setgid", "initgroups", "setuid", "redirecting output", "chdir", "exec",
};

/* What a child that could not exec tells its parent through a pipe. */
struct em_pgctl_report {
	int stage;  /* an enum em_pgctl_stage_id */
	int errnum; /* errno of the failed call */
};

/* strdup that, like strbuf, aborts when memory runs out. */
static char *em_pgctl_strdup(const char *s)
{
	struct em_strbuf sb = EM_STRBUF_INIT;

	em_strbuf_adds(&sb, s);
	return em_strbuf_detach(&sb, NULL);
}

static char *em_pgctl_join(const char *dir, const char *name)
{
	struct em_strbuf sb = EM_STRBUF_INIT;

	em_strbuf_addf(&sb, "%s/%s", dir, name);
	return em_strbuf_detach(&sb, NULL);
}

/*
 * Copies s into sb made safe to quote in a message (tabs become spaces,
 * other control characters and broken UTF-8 '?'), so text from the
 * environment, libpq or a log file cannot forge lines.  With keep_newlines, line breaks survive; trailing
 * ones are dropped.  Returns sb->buf.
 */
static const char *em_pgctl_clean(struct em_strbuf *sb, const char *s, int keep_newlines)
{
	struct em_strbuf line = EM_STRBUF_INIT;
	const char *nl;
	size_t i;

	em_strbuf_reset(sb);
	while (*s) {
		nl = keep_newlines ? strchr(s, '\n') : NULL;
		em_strbuf_reset(&line);
		em_strbuf_add(&line, s, nl ? (size_t)(nl - s) : strlen(s));
		/* libpq indents its second line with a tab: keep it readable */
		for (i = 0; i < line.len; i++)
			if (line.buf[i] == '\t')
				line.buf[i] = ' ';
		em_strbuf_add_sanitized(sb, line.buf, SIZE_MAX);
		if (!nl)
			break;
		em_strbuf_addc(sb, '\n');
		s = nl + 1;
	}
	while (sb->len > 0 && (sb->buf[sb->len - 1] == '\n' || sb->buf[sb->len - 1] == ' '))
		sb->buf[--sb->len] = '\0';
	em_strbuf_release(&line);
	return sb->buf;
}

static int em_pgctl_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* mkdir -p: creates home and its missing parents (mode 0755 less umask). */
static int em_pgctl_mkdirs(const char *path, struct em_error *err)
{
	struct em_strbuf sb = EM_STRBUF_INIT;
	struct em_strbuf clean = EM_STRBUF_INIT;
	int ret = EM_ERR;
	size_t i;

	em_strbuf_adds(&sb, path);
	for (i = 1; i <= sb.len; i++) {
		if (sb.buf[i] != '/' && sb.buf[i] != '\0')
			continue;
		sb.buf[i] = '\0';
		if (mkdir(sb.buf, 0755) != 0 && errno != EEXIST) {
			em_error_set(err, "could not create directory '%s': %s",
				     em_pgctl_clean(&clean, sb.buf, 0), strerror(errno));
			goto out;
		}
		if (i < sb.len)
			sb.buf[i] = '/';
	}
	ret = 0;
out:
	em_strbuf_release(&clean);
	em_strbuf_release(&sb);
	return ret;
}

/*
 * pg_ctl runs the server with `exec "postgres" -D "<data>" ... >> "<log>"`
 * through /bin/sh, and earmark.conf quotes the socket path in single quotes:
 * a path made only of these characters needs no quoting anywhere.
 */
static int em_pgctl_check_chars(const char *path, struct em_error *err)
{
	struct em_strbuf clean = EM_STRBUF_INIT;
	const char *p;

	for (p = path; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '/' || c == '.' || c == '_' || c == '-')
			continue;
		em_error_set(err, "earmark home '%s' contains a character the private server cannot use",
			     em_pgctl_clean(&clean, path, 0));
		if (c >= 0x20 && c < 0x7f)
			em_error_detail(err, "character '%c' at byte %zu", c, (size_t)(p - path) + 1);
		else
			em_error_detail(err, "byte 0x%02x at byte %zu", c, (size_t)(p - path) + 1);
		em_error_hint(err, "use a home path made of letters, digits, '/', '.', '_' and '-' "
			      "(set EARMARK_HOME)");
		em_strbuf_release(&clean);
		return EM_ERR;
	}
	return 0;
}

static void em_pgctl_release(struct em_pgctl_cluster *pc)
{
	free(pc->user);
	free(pc->bindir);
	free(pc->logfile);
	free(pc->logdir);
	free(pc->run);
	free(pc->data);
	free(pc->var);
	free(pc->home);
	memset(pc, 0, sizeof(*pc));
}

/*
 * Resolves the paths under home.  With create, home is made when missing;
 * without, a missing home leaves pc->home NULL and succeeds (no cluster).
 */
static int em_pgctl_open(struct em_pgctl_cluster *pc, const char *home, int create,
			 struct em_error *err)
{
	struct em_strbuf clean = EM_STRBUF_INIT;
	const char *bindir = getenv("EARMARK_PGBIN");
	int ret = EM_ERR;

	memset(pc, 0, sizeof(*pc));
	pc->switch_user = geteuid() == 0;
	if (!home || !*home)
		home = ".";
	if (!bindir || !*bindir)
		bindir = EM_PGBINDIR;
	if (!*bindir) {
		em_error_set(err, "no directory of postgresql server programs is known");
		em_error_detail(err, "earmark was built without pg_config and EARMARK_PGBIN is not set");
		em_error_hint(err, "set EARMARK_PGBIN to the directory holding initdb and pg_ctl "
			      "(pg_config --bindir)");
		goto out;
	}
	pc->bindir = em_pgctl_strdup(bindir);
	if (create && em_pgctl_mkdirs(home, err) < 0)
		goto out;
	pc->home = realpath(home, NULL);
	if (!pc->home) {
		if (!create && errno == ENOENT) {
			ret = 0;
			goto out;
		}
		em_error_set(err, "could not resolve earmark home '%s': %s",
			     em_pgctl_clean(&clean, home, 0), strerror(errno));
		goto out;
	}
	if (em_pgctl_check_chars(pc->home, err) < 0)
		goto out;
	pc->var = em_pgctl_join(pc->home, "var");
	pc->data = em_pgctl_join(pc->var, "pg");
	pc->run = em_pgctl_join(pc->var, "run");
	pc->logdir = em_pgctl_join(pc->var, "log");
	pc->logfile = em_pgctl_join(pc->logdir, "postgresql.log");
	ret = 0;
out:
	em_strbuf_release(&clean);
	return ret;
}

/* Does the data directory hold an initialised cluster? */
static int em_pgctl_initialised(const struct em_pgctl_cluster *pc)
{
	char *version = em_pgctl_join(pc->data, "PG_VERSION");
	int yes = em_pgctl_exists(version);

	free(version);
	return yes;
}

static int em_pgctl_set_user(struct em_pgctl_cluster *pc, const struct passwd *pw)
{
	free(pc->user);
	pc->user = em_pgctl_strdup(pw->pw_name);
	pc->uid = pw->pw_uid;
	pc->gid = pw->pw_gid;
	return 0;
}

/* Not root: the server runs as whoever runs earmark. */
static int em_pgctl_self_user(struct em_pgctl_cluster *pc)
{
	struct passwd *pw = getpwuid(geteuid());
	struct em_strbuf sb = EM_STRBUF_INIT;

	if (pw)
		return em_pgctl_set_user(pc, pw);
	em_strbuf_addf(&sb, "uid %ld", (long)geteuid());
	free(pc->user);
	pc->user = em_strbuf_detach(&sb, NULL);
	pc->uid = geteuid();
	pc->gid = getegid();
	return 0;
}

/*
 * glibc's malloc asks the kernel for transparent huge pages (madvise) for
 * the server's own memory: its sorts, hash tables and strings of a
 * 100,000-line batch touch hundreds of megabytes afresh in each backend,
 * and on a virtual machine every 4 kB page fault is dear.  Measured on the
 * 2-core machine with the batch bench's county (three alternated pairs):
 * `pay batch`, `pay review` and `pay post` 3.99 to 4.29 s with it, 4.63 to
 * 4.73 s without.  It changes nothing where transparent huge pages are off
 * (/sys/kernel/mm/transparent_hugepage/enabled "never") or glibc is older
 * than 2.35, and a GLIBC_TUNABLES of the caller's is kept as it is.
 */
#define EM_PGCTL_TUNABLES "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"

/*
 * Environment for a child: the caller's, less PG* variables (PGDATA, PGPORT
 * and friends would quietly redirect pg_ctl or the server), and with HOME,
 * USER and LOGNAME of the server's user when switching to it, and for the
 * server's tools EM_PGCTL_TUNABLES unless the caller set GLIBC_TUNABLES.
 * The strings point into environ and into *owned, which the caller
 * releases.
 */
static const char **em_pgctl_child_env(const struct em_pgctl_cluster *pc, int as_server,
				       struct em_strbuf *owned)
{
	int switching = as_server && pc->switch_user;
	int add_tunables = as_server;
	struct passwd *pw = switching ? getpwnam(pc->user) : NULL;
	size_t n = 0, i, k = 0;
	size_t at_home = 0, at_user = 0, at_logname = 0;
	const char **env;

	while (environ && environ[n])
		n++;
	env = calloc(n + 5, sizeof(*env));
	if (!env)
		abort(); /* like strbuf: no sensible way on without memory */
	for (i = 0; i < n; i++) {
		const char *e = environ[i];

		if (strncmp(e, "PG", 2) == 0)
			continue;
		if (strncmp(e, "GLIBC_TUNABLES=", 15) == 0)
			add_tunables = 0; /* the caller's are kept */
		if (switching && (strncmp(e, "HOME=", 5) == 0 || strncmp(e, "USER=", 5) == 0 ||
				  strncmp(e, "LOGNAME=", 8) == 0))
			continue;
		env[k++] = e;
	}
	if (switching) {
		/* offsets, not pointers: the buffer may move while it grows */
		at_home = owned->len;
		em_strbuf_addf(owned, "HOME=%s", pw && pw->pw_dir ? pw->pw_dir : "/");
		em_strbuf_addc(owned, '\0');
		at_user = owned->len;
		em_strbuf_addf(owned, "USER=%s", pc->user);
		em_strbuf_addc(owned, '\0');
		at_logname = owned->len;
		em_strbuf_addf(owned, "LOGNAME=%s", pc->user);
		env[k++] = owned->buf + at_home;
		env[k++] = owned->buf + at_user;
		env[k++] = owned->buf + at_logname;
	}
	if (add_tunables)
		env[k++] = EM_PGCTL_TUNABLES;
	env[k] = NULL;
	return env;
}

/* In the child after fork: reports why it could not exec, then exits. */
static void em_pgctl_child_fail(int fd, int stage)
{
	struct em_pgctl_report rep;
	ssize_t w;

	rep.stage = stage;
	rep.errnum = errno;
	do
		w = write(fd, &rep, sizeof(rep));
	while (w < 0 && errno == EINTR);
	_exit(127);
}

/*
 * Runs argv[0] (an absolute path) with fork and execve, as the server's
 * user when as_server and running as root, with stdin from /dev/null and
 * stdout and stderr sent where out says.  *code is the exit status, or 128
 * plus the signal that killed it.  Returns EM_ERR only when the program
 * could not be run at all.
 */
static int em_pgctl_run(const struct em_pgctl_cluster *pc, const char *const *argv, int as_server,
			const struct em_pgctl_output *out, int *code, struct em_error *err)
{
	struct em_strbuf owned = EM_STRBUF_INIT;
	struct em_pgctl_report rep;
	const char **env = NULL;
	int report[2] = { -1, -1 };
	int capture[2] = { -1, -1 };
	int ret = EM_ERR, status = 0;
	ssize_t n;
	pid_t pid;

	env = em_pgctl_child_env(pc, as_server, &owned);
	if (pipe2(report, O_CLOEXEC) != 0 || (out->capture && pipe2(capture, O_CLOEXEC) != 0)) {
		em_error_set(err, "could not create a pipe to run '%s': %s", argv[0], strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		em_error_set(err, "could not fork to run '%s': %s", argv[0], strerror(errno));
		goto out;
	}
	if (pid == 0) {
		int fd;

		close(report[0]);
		if (as_server && pc->switch_user) {
			if (setgid(pc->gid) != 0)
				em_pgctl_child_fail(report[1], EM_PGCTL_SETGID);
			if (initgroups(pc->user, pc->gid) != 0)
				em_pgctl_child_fail(report[1], EM_PGCTL_INITGROUPS);
			if (setuid(pc->uid) != 0)
				em_pgctl_child_fail(report[1], EM_PGCTL_SETUID);
		}
		/* opened as the child's user, so a log file belongs to the server's user */
		if (out->path)
			fd = open(out->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		else if (out->capture)
			fd = capture[1];
		else
			fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			em_pgctl_child_fail(report[1], EM_PGCTL_REDIRECT);
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || dup2(fd, 0) < 0)
			em_pgctl_child_fail(report[1], EM_PGCTL_REDIRECT);
		/* the caller's directory may be closed to the server's user, and
		 * initdb and pg_ctl give up when they cannot getcwd() */
		if (chdir("/") != 0)
			em_pgctl_child_fail(report[1], EM_PGCTL_CHDIR);
		/* the postmaster outlives us: it must not hold our pipes or files */
#ifdef CLOSE_RANGE_CLOEXEC
		if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
#endif
		{
			long max = sysconf(_SC_OPEN_MAX);

			if (max < 0 || max > 65536)
				max = 65536;
			for (fd = 3; fd < max; fd++)
				if (fd != report[1])
					(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
		}
		execve(argv[0], (char *const *)argv, (char *const *)env);
		em_pgctl_child_fail(report[1], EM_PGCTL_EXEC);
	}
	close(report[1]);
	report[1] = -1;
	if (out->capture) {
		char chunk[4096];

		close(capture[1]);
		capture[1] = -1;
		for (;;) {
			n = read(capture[0], chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			em_strbuf_add(out->capture, chunk, (size_t)n);
		}
	}
	do
		n = read(report[0], &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			em_error_set(err, "could not wait for '%s': %s", argv[0], strerror(errno));
			goto out;
		}
	}
	if (n == (ssize_t)sizeof(rep)) {
		size_t nstages = sizeof(em_pgctl_stage) / sizeof(em_pgctl_stage[0]);
		const char *stage = rep.stage >= 0 && (size_t)rep.stage < nstages
					    ? em_pgctl_stage[rep.stage] : "?";

		em_error_set(err, "could not run '%s'", argv[0]);
		em_error_detail(err, "%s failed: %s", stage, strerror(rep.errnum));
		if (rep.stage == EM_PGCTL_EXEC && (rep.errnum == ENOENT || rep.errnum == EACCES) &&
		    strncmp(argv[0], pc->bindir, strlen(pc->bindir)) == 0)
			em_error_hint(err, "set EARMARK_PGBIN to the directory holding initdb and "
				      "pg_ctl (pg_config --bindir)");
		goto out;
	}
	if (WIFEXITED(status))
		*code = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		*code = 128 + WTERMSIG(status);
	else
		*code = 255;
	ret = 0;
out:
	if (capture[0] >= 0)
		close(capture[0]);
	if (capture[1] >= 0)
		close(capture[1]);
	if (report[0] >= 0)
		close(report[0]);
	if (report[1] >= 0)
		close(report[1]);
	free(env);
	em_strbuf_release(&owned);
	return ret;
}

/*
 * Adds the last lines of the server log as the error's detail and points at
 * the whole log in the hint.  Control characters are replaced: the log holds
 * whatever the server and its clients wrote.
 */
static void em_pgctl_add_log(const struct em_pgctl_cluster *pc, struct em_error *err)
{
	struct em_strbuf raw = EM_STRBUF_INIT;
	struct em_strbuf clean = EM_STRBUF_INIT;
	char chunk[4096];
	const char *start;
	int lines = 0;
	size_t i;
	off_t size;
	ssize_t n;
	int fd;

	fd = open(pc->logfile, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto out;
	size = lseek(fd, 0, SEEK_END);
	if (size < 0 || lseek(fd, size > EM_PGCTL_LOG_TAIL ? size - EM_PGCTL_LOG_TAIL : 0,
			      SEEK_SET) < 0)
		goto out;
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		em_strbuf_add(&raw, chunk, (size_t)n);
	}
	while (raw.len > 0 && raw.buf[raw.len - 1] == '\n')
		raw.buf[--raw.len] = '\0';
	if (raw.len == 0)
		goto out;
	/* stray NULs would end the text early */
	for (i = 0; i < raw.len; i++)
		if (raw.buf[i] == '\0')
			raw.buf[i] = '?';
	start = raw.buf + raw.len;
	while (start > raw.buf) {
		start--;
		if (*start == '\n' && ++lines == EM_PGCTL_LOG_LINES) {
			start++;
			break;
		}
	}
	em_error_detail(err, "last lines of '%s':\n%s", pc->logfile,
			em_pgctl_clean(&clean, start, 1));
out:
	em_error_hint(err, "the whole log is '%s'", pc->logfile);
	if (fd >= 0)
		close(fd);
	em_strbuf_release(&clean);
	em_strbuf_release(&raw);
}

/*
 * Root only: the user the server runs as.  An initialised cluster keeps the
 * owner of its data directory; a new one uses EARMARK_PGUSER, else
 * "postgres", else a system user "earmark" made with useradd.
 */
static int em_pgctl_pick_user(struct em_pgctl_cluster *pc, struct em_error *err)
{
	struct em_strbuf clean = EM_STRBUF_INIT;
	const char *want = getenv("EARMARK_PGUSER");
	struct passwd *pw = NULL;
	struct stat st;
	int ret = EM_ERR;

	if (want && !*want)
		want = NULL;
	if (em_pgctl_initialised(pc) && stat(pc->data, &st) == 0) {
		pw = getpwuid(st.st_uid);
		if (st.st_uid == 0 || !pw) {
			em_error_set(err, "data directory '%s' is owned by uid %ld, not a user the "
				     "server can run as", pc->data, (long)st.st_uid);
			em_error_hint(err, "chown -R the data directory to the server's user");
			goto out;
		}
		if (want && strcmp(want, pw->pw_name) != 0) {
			em_error_set(err, "data directory '%s' belongs to '%s', not to EARMARK_PGUSER '%s'",
				     pc->data, pw->pw_name, em_pgctl_clean(&clean, want, 0));
			em_error_hint(err, "unset EARMARK_PGUSER, or chown -R the data directory to '%s'",
				      em_pgctl_clean(&clean, want, 0));
			goto out;
		}
	} else if (want) {
		pw = getpwnam(want);
		if (!pw) {
			em_error_set(err, "server user '%s' named by EARMARK_PGUSER does not exist",
				     em_pgctl_clean(&clean, want, 0));
			em_error_hint(err, "create the user or unset EARMARK_PGUSER");
			goto out;
		}
		if (pw->pw_uid == 0) {
			em_error_set(err, "server user '%s' named by EARMARK_PGUSER is root",
				     em_pgctl_clean(&clean, want, 0));
			em_error_detail(err, "postgresql refuses to run with root privileges");
			em_error_hint(err, "name an unprivileged user or unset EARMARK_PGUSER");
			goto out;
		}
	} else if (!(pw = getpwnam("postgres")) && !(pw = getpwnam(EM_PGCTL_SYSUSER))) {
		static const char *const useradd[][6] = {
			{ "/usr/sbin/useradd", "--system", "--no-create-home", "--shell",
			  "/usr/sbin/nologin", EM_PGCTL_SYSUSER },
			{ "/sbin/useradd", "--system", "--no-create-home", "--shell",
			  "/usr/sbin/nologin", EM_PGCTL_SYSUSER },
		};
		struct em_strbuf said = EM_STRBUF_INIT;
		struct em_pgctl_output to = { NULL, &said };
		const char *argv[7];
		int code = -1, i;

		i = access(useradd[0][0], X_OK) == 0 ? 0 : 1;
		memcpy(argv, useradd[i], sizeof(useradd[i]));
		argv[6] = NULL;
		if (em_pgctl_run(pc, argv, 0, &to, &code, err) < 0) {
			em_strbuf_release(&said);
			em_error_hint(err, "create a system user for the server and set EARMARK_PGUSER");
			goto out;
		}
		pw = getpwnam(EM_PGCTL_SYSUSER);
		if (code != 0 || !pw) {
			em_error_set(err, "could not create system user '%s' for the server",
				     EM_PGCTL_SYSUSER);
			em_error_detail(err, "useradd exited with status %d: %s", code,
					em_pgctl_clean(&clean, said.buf, 1));
			em_error_hint(err, "create a system user for the server and set EARMARK_PGUSER");
			em_strbuf_release(&said);
			goto out;
		}
		em_strbuf_release(&said);
	}
	em_pgctl_set_user(pc, pw);
	ret = 0;
out:
	em_strbuf_release(&clean);
	return ret;
}

/*
 * Makes one of the var/ directories when missing and, running as root, hands
 * it to the server's user.  A symlink in its place is refused rather than
 * followed: root would otherwise chown wherever it points.
 */
static int em_pgctl_make_dir(const char *path, mode_t mode, int owner_to_server,
			     const struct em_pgctl_cluster *pc, struct em_error *err)
{
	int fd = -1, ret = EM_ERR, made = 0;

	if (mkdir(path, mode) == 0)
		made = 1;
	else if (errno != EEXIST) {
		em_error_set(err, "could not create directory '%s': %s", path, strerror(errno));
		goto out;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		em_error_set(err, "could not open directory '%s': %s", path, strerror(errno));
		if (errno == ELOOP || errno == ENOTDIR)
			em_error_hint(err, "remove what is there; earmark makes its own directories");
		goto out;
	}
	if (owner_to_server && pc->switch_user && fchown(fd, pc->uid, pc->gid) != 0) {
		em_error_set(err, "could not give directory '%s' to server user '%s': %s", path,
			     pc->user, strerror(errno));
		goto out;
	}
	/* a new var/ gets 0755 whatever the umask, so the server's user can
	 * cross it; the 0700 directories are reset every time, since their
	 * modes are what keeps other users out */
	if ((made || mode == 0700) && fchmod(fd, mode) != 0) {
		em_error_set(err, "could not set the mode of directory '%s': %s", path,
			     strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Could a process of uid in these groups search (cross) the directory? */
static int em_pgctl_searchable(const struct stat *st, uid_t uid, const gid_t *groups, int ngroups)
{
	int i;

	if (st->st_uid == uid)
		return (st->st_mode & S_IXUSR) != 0;
	for (i = 0; i < ngroups; i++)
		if (st->st_gid == groups[i])
			return (st->st_mode & S_IXGRP) != 0;
	return (st->st_mode & S_IXOTH) != 0;
}

/*
 * Root only: every directory from / down to var/ must be searchable by the
 * server's user, or it cannot reach its data directory.  Judged by the mode
 * bits (ACLs are not consulted).  Only home itself is ever changed: when it
 * is ours and closed to the server's user, it gets group and other read and
 * search (0700 becomes 0755), because mktemp -d makes 0700 directories and
 * `EARMARK_HOME=$(mktemp -d) earmark db start` must work.  Nothing above
 * home is touched: that is the administrator's business, and the error says
 * which directory is in the way.
 */
static int em_pgctl_check_reach(const struct em_pgctl_cluster *pc, struct em_error *err)
{
	struct em_strbuf prefix = EM_STRBUF_INIT;
	gid_t *groups = NULL;
	int ngroups = 16, ret = EM_ERR;
	const char *p;
	struct stat st;

	for (;;) {
		int got = ngroups;

		free(groups);
		groups = calloc((size_t)ngroups, sizeof(*groups));
		if (!groups)
			abort();
		if (getgrouplist(pc->user, pc->gid, groups, &got) >= 0) {
			ngroups = got;
			break;
		}
		ngroups = got > ngroups ? got : ngroups * 2;
	}
	for (p = pc->var; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		em_strbuf_reset(&prefix);
		em_strbuf_add(&prefix, pc->var, p == pc->var ? 1 : (size_t)(p - pc->var));
		if (stat(prefix.buf, &st) != 0) {
			em_error_set(err, "could not stat '%s': %s", prefix.buf, strerror(errno));
			goto out;
		}
		if (!em_pgctl_searchable(&st, pc->uid, groups, ngroups)) {
			mode_t mode = st.st_mode & 07777;

			if (strcmp(prefix.buf, pc->home) == 0 && st.st_uid == geteuid()) {
				if (chmod(prefix.buf, mode | 0055) != 0) {
					em_error_set(err, "could not open earmark home '%s' to server "
						     "user '%s': %s", prefix.buf, pc->user,
						     strerror(errno));
					goto out;
				}
			} else {
				em_error_set(err, "server user '%s' cannot reach directory '%s'",
					     pc->user, prefix.buf);
				em_error_detail(err, "'%s' has mode %04o and belongs to uid %ld",
						prefix.buf, (unsigned)mode, (long)st.st_uid);
				em_error_hint(err, "chmod o+x '%s', or choose an EARMARK_HOME the "
					      "server's user can reach", prefix.buf);
				goto out;
			}
		}
		if (*p == '\0')
			break;
	}
	ret = 0;
out:
	free(groups);
	em_strbuf_release(&prefix);
	return ret;
}

/* Writes path whole or not at all (temporary file, fsync, rename). */
static int em_pgctl_write_file(const struct em_pgctl_cluster *pc, const char *path,
			       const char *text, struct em_error *err)
{
	struct em_strbuf tmp = EM_STRBUF_INIT;
	size_t len = strlen(text), done = 0;
	int fd = -1, ret = EM_ERR;

	em_strbuf_addf(&tmp, "%s.tmp", path);
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		em_error_set(err, "could not create '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	while (done < len) {
		ssize_t w = write(fd, text + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			em_error_set(err, "could not write '%s': %s", tmp.buf, strerror(errno));
			goto out;
		}
		done += (size_t)w;
	}
	if (pc->switch_user && fchown(fd, pc->uid, pc->gid) != 0) {
		em_error_set(err, "could not give '%s' to server user '%s': %s", tmp.buf, pc->user,
			     strerror(errno));
		goto out;
	}
	if (fsync(fd) != 0) {
		em_error_set(err, "could not fsync '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		em_error_set(err, "could not write '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp.buf, path) != 0) {
		em_error_set(err, "could not rename '%s' to '%s': %s", tmp.buf, path,
			     strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		(void)unlink(tmp.buf);
	em_strbuf_release(&tmp);
	return ret;
}

/*
 * shared_buffers of the private cluster, in MB: a sixteenth of the
 * machine's memory (it shares the machine with the office's other work),
 * at least PostgreSQL's default of 128 MB and at most 1 GB.  With 128 MB
 * the backends of a 100,000-line batch, its review and its posting had to
 * write 8,190 dirty buffers (64 MB) themselves to make room, each after
 * flushing the WAL up to it; with 1 GB, none (pg_stat_bgwriter's
 * buffers_backend on the batch bench's county), and in three alternated
 * pairs the batch's inserts of payments and lines took 0.75 to 0.76 and
 * 0.64 to 0.67 s instead of 0.78 to 0.86 and 0.65 to 0.76 s.  wal_buffers
 * follows it (a 32nd, at most 16 MB).
 */
static long em_pgctl_shared_buffers_mb(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	long mb = 128;

	if (pages > 0 && size > 0)
		mb = (long)((double)pages * (double)size / 16.0 / (1024.0 * 1024.0));
	return mb < 128 ? 128 : mb > 1024 ? 1024 : mb;
}

/*
 * Writes earmark.conf and makes sure postgresql.conf includes it.  The
 * include goes last so it overrides what initdb wrote; ALTER SYSTEM
 * (postgresql.auto.conf) still overrides both, as it should.
 */
static int em_pgctl_write_conf(const struct em_pgctl_cluster *pc, struct em_error *err)
{
	struct em_strbuf text = EM_STRBUF_INIT;
	char *own = em_pgctl_join(pc->data, "earmark.conf");
	char *main_conf = em_pgctl_join(pc->data, "postgresql.conf");
	const char *line, *next;
	char chunk[4096];
	int fd = -1, ret = EM_ERR, found = 0;
	ssize_t n;

	em_strbuf_adds(&text,
		       "# Written by earmark on every `earmark db start`: edits here are lost.\n"
		       "# The server listens only on a Unix socket in a directory of mode 0700;\n"
		       "# authentication is trust, so never open a TCP address here.\n");
	em_strbuf_addf(&text,
		       "listen_addresses = ''\n"
		       "port = %s\n"
		       "unix_socket_directories = '%s'\n"
		       "unix_socket_permissions = 0700\n"
		       "fsync = on\n"
		       "synchronous_commit = on\n"
		       "full_page_writes = on\n"
		       "shared_buffers = %ldMB\n"
		       "# shared memory in huge pages when root reserved them (vm.nr_hugepages;\n"
		       "# README, Configuring a real server), in 4 kB pages otherwise\n"
		       "huge_pages = try\n"
		       "max_connections = 50\n",
		       EM_PGCTL_PORT, pc->run, em_pgctl_shared_buffers_mb());
	if (em_pgctl_write_file(pc, own, text.buf, err) < 0)
		goto out;

	em_strbuf_reset(&text);
	fd = open(main_conf, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		em_error_set(err, "could not open '%s': %s", main_conf, strerror(errno));
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			em_error_set(err, "could not read '%s': %s", main_conf, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		em_strbuf_add(&text, chunk, (size_t)n);
	}
	for (line = text.buf; *line; line = next) {
		size_t l = strlen(EM_PGCTL_INCLUDE);
		const char *nl = strchr(line, '\n');

		if (strncmp(line, EM_PGCTL_INCLUDE, l) == 0 &&
		    (line[l] == '\n' || line[l] == '\0')) {
			found = 1;
			break;
		}
		next = nl ? nl + 1 : line + strlen(line);
	}
	if (!found) {
		struct em_strbuf add = EM_STRBUF_INIT;
		size_t done = 0;

		if (text.len > 0 && text.buf[text.len - 1] != '\n')
			em_strbuf_addc(&add, '\n');
		em_strbuf_adds(&add, "\n# earmark's settings (socket only, no TCP): keep this line last\n"
			       EM_PGCTL_INCLUDE "\n");
		while (done < add.len) {
			ssize_t w = write(fd, add.buf + done, add.len - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				em_error_set(err, "could not append to '%s': %s", main_conf,
					     strerror(errno));
				em_strbuf_release(&add);
				goto out;
			}
			done += (size_t)w;
		}
		em_strbuf_release(&add);
		if (fsync(fd) != 0) {
			em_error_set(err, "could not fsync '%s': %s", main_conf, strerror(errno));
			goto out;
		}
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(main_conf);
	free(own);
	em_strbuf_release(&text);
	return ret;
}

/* pg_ctl status: 0 running, 3 stopped, 4 no accessible data directory. */
static int em_pgctl_state(const struct em_pgctl_cluster *pc, int *state, struct em_error *err)
{
	struct em_strbuf said = EM_STRBUF_INIT;
	struct em_strbuf clean = EM_STRBUF_INIT;
	struct em_pgctl_output to = { NULL, &said };
	char *pg_ctl = em_pgctl_join(pc->bindir, "pg_ctl");
	const char *argv[] = { pg_ctl, "-D", pc->data, "status", NULL };
	int ret = EM_ERR;

	if (em_pgctl_run(pc, argv, 1, &to, state, err) < 0)
		goto out;
	if (*state != 0 && *state != 3 && *state != 4) {
		em_error_set(err, "could not learn whether the private server in '%s' runs", pc->data);
		em_error_detail(err, "pg_ctl status exited with status %d: %s", *state,
				em_pgctl_clean(&clean, said.buf, 1));
		goto out;
	}
	ret = 0;
out:
	free(pg_ctl);
	em_strbuf_release(&clean);
	em_strbuf_release(&said);
	return ret;
}

/* Creates database "earmark" unless it exists; connects as the bootstrap superuser. */
static int em_pgctl_ensure_db(const struct em_pgctl_cluster *pc, struct em_error *err)
{
	static const char *const keys[] = {
		"host", "port", "dbname", "user", "connect_timeout", "application_name", NULL,
	};
	const char *const values[] = {
		pc->run, EM_PGCTL_PORT, "postgres", "postgres", "10", "earmark db start", NULL,
	};
	const char *const params[] = { "earmark" };
	struct em_strbuf clean = EM_STRBUF_INIT;
	PGresult *res = NULL;
	PGconn *conn = NULL;
	int ret = EM_ERR;

	conn = PQconnectdbParams(keys, values, 0);
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		em_error_set(err, "could not connect to the private server in '%s'", pc->run);
		em_error_detail(err, "%s", conn ? em_pgctl_clean(&clean, PQerrorMessage(conn), 1)
						 : "out of memory");
		em_error_hint(err, "the whole log is '%s'", pc->logfile);
		goto out;
	}
	res = PQexecParams(conn, "SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1",
			   1, NULL, params, NULL, NULL, 0);
	if (!res) {
		em_error_set(err, "could not look for database 'earmark'");
		em_error_detail(err, "%s", em_pgctl_clean(&clean, PQerrorMessage(conn), 1));
		goto out;
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		em_error_from_result(err, res);
		goto out;
	}
	if (PQnfields(res) != 1) {
		em_error_set(err, "could not look for database 'earmark'");
		em_error_detail(err, "the query returned %d columns, expected 1", PQnfields(res));
		goto out;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		/* CREATE DATABASE takes no parameters; the name is a constant */
		res = PQexec(conn, "CREATE DATABASE earmark TEMPLATE template0 ENCODING 'UTF8'");
		if (!res) {
			em_error_set(err, "could not create database 'earmark'");
			em_error_detail(err, "%s", em_pgctl_clean(&clean, PQerrorMessage(conn), 1));
			goto out;
		}
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

			/* another `earmark db start` got there first: same outcome */
			if (!state || strcmp(state, "42P04") != 0) {
				em_error_from_result(err, res);
				goto out;
			}
		}
	}
	ret = 0;
out:
	PQclear(res);
	PQfinish(conn);
	em_strbuf_release(&clean);
	return ret;
}

int em_pgctl_start(const char *home, struct em_error *err)
{
	struct em_pgctl_cluster pc;
	struct sockaddr_un sun; /* only for the size of sun_path */
	struct em_strbuf sock = EM_STRBUF_INIT;
	char *initdb = NULL, *pg_ctl = NULL;
	struct em_pgctl_output to_log;
	int ret = EM_ERR, state = -1, code = -1;

	if (em_pgctl_open(&pc, home, 1, err) < 0)
		goto out;
	to_log.path = pc.logfile;
	to_log.capture = NULL;
	em_strbuf_addf(&sock, "%s/.s.PGSQL.%s", pc.run, EM_PGCTL_PORT);
	if (sock.len >= sizeof(sun.sun_path)) {
		em_error_set(err, "socket path '%s' is too long", sock.buf);
		em_error_detail(err, "%zu bytes; a Unix socket path holds at most %zu", sock.len,
				sizeof(sun.sun_path) - 1);
		em_error_hint(err, "choose a shorter EARMARK_HOME");
		goto out;
	}
	if (em_pgctl_make_dir(pc.var, 0755, 0, &pc, err) < 0)
		goto out;
	if ((pc.switch_user ? em_pgctl_pick_user(&pc, err) : em_pgctl_self_user(&pc)) < 0)
		goto out;
	if (em_pgctl_make_dir(pc.data, 0700, 1, &pc, err) < 0 ||
	    em_pgctl_make_dir(pc.run, 0700, 1, &pc, err) < 0 ||
	    em_pgctl_make_dir(pc.logdir, 0700, 1, &pc, err) < 0)
		goto out;
	if (pc.switch_user && em_pgctl_check_reach(&pc, err) < 0)
		goto out;

	initdb = em_pgctl_join(pc.bindir, "initdb");
	pg_ctl = em_pgctl_join(pc.bindir, "pg_ctl");
	if (!em_pgctl_initialised(&pc)) {
		/* --auth-host=reject: no TCP listener is configured, and should
		 * one ever be, trust must not come with it */
		const char *argv[] = {
			initdb, "-D", pc.data, "-U", "postgres", "--auth=trust",
			"--auth-host=reject", "--encoding=UTF8", "--locale=C.UTF-8",
			"--data-checksums", NULL,
		};

		if (em_pgctl_run(&pc, argv, 1, &to_log, &code, err) < 0)
			goto out;
		if (code != 0) {
			em_error_set(err, "could not create the private cluster in '%s'", pc.data);
			em_pgctl_add_log(&pc, err);
			goto out;
		}
	}
	if (em_pgctl_write_conf(&pc, err) < 0)
		goto out;
	if (em_pgctl_state(&pc, &state, err) < 0)
		goto out;
	if (state != 0) {
		const char *argv[] = {
			pg_ctl, "-D", pc.data, "-l", pc.logfile, "-w", "-t", EM_PGCTL_WAIT, "start",
			NULL,
		};

		if (em_pgctl_run(&pc, argv, 1, &to_log, &code, err) < 0)
			goto out;
		if (code != 0) {
			em_error_set(err, "could not start the private server in '%s'", pc.data);
			em_pgctl_add_log(&pc, err);
			goto out;
		}
	}
	if (em_pgctl_ensure_db(&pc, err) < 0)
		goto out;
	ret = 0;
out:
	em_strbuf_release(&sock);
	free(pg_ctl);
	free(initdb);
	em_pgctl_release(&pc);
	return ret;
}

/* Root: the server's user is whoever owns the data directory. */
static int em_pgctl_owner_user(struct em_pgctl_cluster *pc, struct em_error *err)
{
	struct passwd *pw;
	struct stat st;

	if (!pc->switch_user)
		return em_pgctl_self_user(pc);
	if (stat(pc->data, &st) != 0) {
		em_error_set(err, "could not stat '%s': %s", pc->data, strerror(errno));
		return EM_ERR;
	}
	pw = getpwuid(st.st_uid);
	if (st.st_uid == 0 || !pw) {
		em_error_set(err, "data directory '%s' is owned by uid %ld, not a user the server "
			     "can run as", pc->data, (long)st.st_uid);
		em_error_hint(err, "chown -R the data directory to the server's user");
		return EM_ERR;
	}
	return em_pgctl_set_user(pc, pw);
}

int em_pgctl_stop(const char *home, struct em_error *err)
{
	struct em_pgctl_cluster pc;
	struct em_pgctl_output to_log;
	char *pg_ctl = NULL;
	int ret = EM_ERR, state = -1, code = -1;

	if (em_pgctl_open(&pc, home, 0, err) < 0)
		goto out;
	if (!pc.home || !em_pgctl_initialised(&pc)) {
		ret = 0; /* no cluster: nothing runs */
		goto out;
	}
	if (em_pgctl_owner_user(&pc, err) < 0 || em_pgctl_state(&pc, &state, err) < 0)
		goto out;
	if (state == 0) {
		const char *argv[8];

		pg_ctl = em_pgctl_join(pc.bindir, "pg_ctl");
		argv[0] = pg_ctl;
		argv[1] = "-D";
		argv[2] = pc.data;
		argv[3] = "-m";
		argv[4] = "fast";
		argv[5] = "-w";
		argv[6] = "stop";
		argv[7] = NULL;
		to_log.path = pc.logfile;
		to_log.capture = NULL;
		if (em_pgctl_run(&pc, argv, 1, &to_log, &code, err) < 0)
			goto out;
		if (code != 0) {
			em_error_set(err, "could not stop the private server in '%s'", pc.data);
			em_pgctl_add_log(&pc, err);
			goto out;
		}
	}
	ret = 0;
out:
	free(pg_ctl);
	em_pgctl_release(&pc);
	return ret;
}

int em_pgctl_status(const char *home, struct em_strbuf *out, struct em_error *err)
{
	struct em_strbuf clean = EM_STRBUF_INIT;
	struct em_pgctl_cluster pc;
	int ret = EM_ERR, state = -1;

	if (em_pgctl_open(&pc, home, 0, err) < 0)
		goto out;
	if (!pc.home) {
		em_strbuf_addf(out, "earmark home: '%s' (does not exist)\n",
			       em_pgctl_clean(&clean, home && *home ? home : ".", 0));
		em_strbuf_adds(out, "server: not initialised (earmark db start creates it)\n");
		ret = 0;
		goto out;
	}
	em_strbuf_addf(out, "data directory: %s\n", pc.data);
	em_strbuf_addf(out, "socket directory: %s\n", pc.run);
	em_strbuf_addf(out, "log file: %s\n", pc.logfile);
	if (!em_pgctl_initialised(&pc)) {
		em_strbuf_adds(out, "server: not initialised (earmark db start creates it)\n");
		ret = 0;
		goto out;
	}
	if (em_pgctl_owner_user(&pc, err) < 0 || em_pgctl_state(&pc, &state, err) < 0)
		goto out;
	em_strbuf_addf(out, "server user: %s\n", pc.user);
	if (state == 0) {
		em_strbuf_adds(out, "server: running\n");
		ret = 1;
	} else {
		em_strbuf_addf(out, "server: %s\n", state == 3 ? "stopped"
						     : "stopped (data directory not accessible)");
		ret = 0;
	}
out:
	em_strbuf_release(&clean);
	em_pgctl_release(&pc);
	return ret;
}

char *em_pgctl_socket_dir(const char *home)
{
	struct em_strbuf sb = EM_STRBUF_INIT;
	char *real = realpath(home && *home ? home : ".", NULL);

	if (!real)
		return NULL;
	em_strbuf_addf(&sb, "%s/var/run", real);
	free(real);
	return em_strbuf_detach(&sb, NULL);
}
