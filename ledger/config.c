/*
 * Loading earmark.conf: which database, which admin connection, which
 * book.  The file is small and read once per command.
 *
 * The file is opened once and everything is decided on that open file:
 * fstat for its mode, then its bytes are handed to libinih through a
 * reader that counts physical lines, so every refusal names file:line
 * exactly (and a line too long for inih is refused rather than silently
 * split in two).  Nothing unknown is ignored: an unknown section or key, a
 * key set twice or an empty value is an error, because a misspelt
 * "conninfo" would otherwise send earmark quietly to another database.
 * A file that holds a password must be private to its owner, and so must
 * a password file (passfile=) a connection string names: earmark refuses
 * either when group or others can read it, naming the file, its mode and
 * the chmod that fixes it, before any connection is tried.
 *
 * Invariant: on success cfg holds home, the file read (or NULL), the
 * settings found, and private_cluster; on failure cfg is as after
 * em_config_release and err says why.
 */
#include "ledger/config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/error.h"
#include "ledger/strbuf.h"

#define EM_CONFIG_MAX_BYTES (1024 * 1024)
/* How much of a file name, section or key goes into a message. */
#define EM_CONFIG_NAME_MAX 200
#define EM_CONFIG_KEY_MAX 40

/* The reader's and handler's shared state while inih runs. */
struct em_config_parse {
	struct em_config *cfg;  /* receives the values */
	struct em_error *err;   /* receives the first refusal */
	const char *fname;      /* file name, sanitized, for messages */
	const char *data;       /* the whole file */
	size_t len;             /* bytes in data */
	size_t pos;             /* next byte the reader hands out */
	int line;               /* physical line last handed to inih */
	int failed;             /* 1 once err is set; later lines are ignored */
	int conninfo_line;      /* where each key was set, 0 when not yet */
	int admin_conninfo_line;
	int book_line;
};

static char *em_config_xstrdup(const char *s)
{
	struct em_strbuf sb = EM_STRBUF_INIT;

	em_strbuf_adds(&sb, s);
	return em_strbuf_detach(&sb, NULL);
}

/* fgets over the file in memory: one physical line per call, CR dropped. */
static char *em_config_reader(char *str, int num, void *stream)
{
	struct em_config_parse *st = stream;
	const char *start;
	const char *nl;
	size_t n;

	if (st->failed || st->pos >= st->len || num < 3)
		return NULL;
	start = st->data + st->pos;
	nl = memchr(start, '\n', st->len - st->pos);
	n = nl != NULL ? (size_t)(nl - start) : st->len - st->pos;
	st->pos += n + (nl != NULL);
	st->line++;
	if (n > 0 && start[n - 1] == '\r')
		n--;
	if (n > (size_t)num - 2) {
		em_error_set(st->err, "line %d of configuration file '%s' is too long", st->line,
			     st->fname);
		em_error_detail(st->err, "%s:%d: the line has %zu bytes; the limit is %d",
				st->fname, st->line, n, num - 2);
		em_error_hint(st->err, "for long connection settings use \"service=NAME\" and "
				       "a pg_service.conf file");
		st->failed = 1;
		return NULL;
	}
	memcpy(str, start, n);
	str[n] = '\n';
	str[n + 1] = '\0';
	return str;
}

static int em_config_handler(void *user, const char *section, const char *name,
			     const char *value)
{
	struct em_config_parse *st = user;
	struct em_strbuf s = EM_STRBUF_INIT;
	struct em_strbuf k = EM_STRBUF_INIT;
	char **slot = NULL;
	int *slot_line = NULL;
	int res = 0;

	if (st->failed)
		return 0;
	em_strbuf_add_sanitized(&s, section, EM_CONFIG_KEY_MAX);
	em_strbuf_add_sanitized(&k, name, EM_CONFIG_KEY_MAX);
	if (section[0] == '\0') {
		em_error_set(st->err, "key '%s' outside any section", k.buf);
		em_error_detail(st->err, "%s:%d: keys belong under [database] or [earmark]",
				st->fname, st->line);
		goto out;
	}
	if (strcasecmp(section, "database") == 0) {
		if (strcasecmp(name, "conninfo") == 0) {
			slot = &st->cfg->conninfo;
			slot_line = &st->conninfo_line;
		} else if (strcasecmp(name, "admin_conninfo") == 0) {
			slot = &st->cfg->admin_conninfo;
			slot_line = &st->admin_conninfo_line;
		} else {
			em_error_set(st->err, "unknown key '%s' in section [database]", k.buf);
			em_error_detail(st->err, "%s:%d: the keys of [database] are conninfo and "
						 "admin_conninfo", st->fname, st->line);
			goto out;
		}
	} else if (strcasecmp(section, "earmark") == 0) {
		if (strcasecmp(name, "book") == 0) {
			slot = &st->cfg->book;
			slot_line = &st->book_line;
		} else {
			em_error_set(st->err, "unknown key '%s' in section [earmark]", k.buf);
			em_error_detail(st->err, "%s:%d: the only key of [earmark] is book",
					st->fname, st->line);
			goto out;
		}
	} else {
		em_error_set(st->err, "unknown section [%s]", s.buf);
		em_error_detail(st->err, "%s:%d: the sections are [database] and [earmark]",
				st->fname, st->line);
		goto out;
	}
	if (*slot_line != 0) {
		em_error_set(st->err, "key '%s' in section [%s] is set more than once", k.buf, s.buf);
		em_error_detail(st->err, "%s:%d, first set at line %d", st->fname, st->line,
				*slot_line);
		em_error_hint(st->err, "keep one; an indented line continues the key above it");
		goto out;
	}
	if (value[0] == '\0') {
		em_error_set(st->err, "key '%s' in section [%s] is empty", k.buf, s.buf);
		em_error_detail(st->err, "%s:%d", st->fname, st->line);
		em_error_hint(st->err, "give a value or remove the line");
		goto out;
	}
	*slot = em_config_xstrdup(value);
	*slot_line = st->line;
	res = 1;
out:
	if (res == 0)
		st->failed = 1;
	em_strbuf_release(&s);
	em_strbuf_release(&k);
	return res;
}

/*
 * The value of option key in a libpq connection string as libpq itself
 * reads it (quoting, escapes, URI percent-encoding), malloc'd, or NULL
 * when it is not set; *unparsable is 1 when libpq cannot read the string.
 */
static char *em_config_conninfo_option(const char *ci, const char *key, int *unparsable)
{
	PQconninfoOption *opts;
	char *errmsg = NULL;
	char *value = NULL;

	*unparsable = 0;
	opts = PQconninfoParse(ci, &errmsg);
	if (opts == NULL) {
		*unparsable = 1;
		PQfreemem(errmsg);
		return NULL;
	}
	for (PQconninfoOption *o = opts; o->keyword != NULL; o++)
		if (strcmp(o->keyword, key) == 0 && o->val != NULL && o->val[0] != '\0')
			value = em_config_xstrdup(o->val);
	PQconninfoFree(opts);
	return value;
}

/*
 * Does a libpq connection string carry a password (password= or
 * sslpassword=, in keyword or URI form, however quoted or encoded)?  When
 * libpq cannot parse it, the text is searched instead: keyword form
 * "password=" (also sslpassword=, with blanks allowed before '='); URI
 * form "postgresql://user:secret@host" or "?password=".  In doubt, yes.
 */
static int em_config_has_password(const char *ci)
{
	const char *p;
	char *v;
	int unparsable;

	if (ci == NULL)
		return 0;
	v = em_config_conninfo_option(ci, "password", &unparsable);
	if (v == NULL && !unparsable)
		v = em_config_conninfo_option(ci, "sslpassword", &unparsable);
	if (v != NULL) {
		free(v);
		return 1;
	}
	if (!unparsable)
		return 0;
	if (strncmp(ci, "postgresql://", 13) == 0 || strncmp(ci, "postgres://", 11) == 0) {
		const char *auth = strstr(ci, "://") + 3;
		size_t n = strcspn(auth, "/?#");
		const char *at = memrchr(auth, '@', n);

		if (at != NULL && memchr(auth, ':', (size_t)(at - auth)) != NULL)
			return 1;
	}
	for (p = ci; (p = strcasestr(p, "password")) != NULL; p += 8) {
		const char *q = p + 8;

		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '=')
			return 1;
	}
	return 0;
}

/*
 * A password file named by passfile= must be private to its owner too.
 * libpq would only warn and ignore it, and the connection would then fail
 * for want of a password with no word about why.  A passfile that is not
 * there is left to libpq.
 */
static int em_config_check_passfile(const char *ci, const char *conf, struct em_error *err)
{
	struct em_strbuf name = EM_STRBUF_INIT;
	struct stat sb;
	int unparsable;
	char *pf;
	int res = 0;

	if (ci == NULL)
		return 0;
	pf = em_config_conninfo_option(ci, "passfile", &unparsable);
	if (pf == NULL)
		return 0;
	if (stat(pf, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 077) != 0) {
		em_strbuf_add_sanitized(&name, pf, EM_CONFIG_NAME_MAX);
		em_error_set(err, "password file '%s' is readable by others", name.buf);
		em_error_detail(err, "its mode is %04o; only its owner may have access; the "
				     "configuration file '%s' names it (passfile)",
				(unsigned)(sb.st_mode & 07777), conf);
		em_error_hint(err, "chmod 600 %s", name.buf);
		res = EM_ERR;
	}
	em_strbuf_release(&name);
	free(pf);
	return res;
}

/* Reads and checks the file at path, filling cfg's settings. */
static int em_config_read(struct em_config *cfg, const char *path, struct em_error *err)
{
	struct em_strbuf data = EM_STRBUF_INIT;
	struct em_strbuf fname = EM_STRBUF_INIT;
	struct em_config_parse st;
	struct stat sb;
	int fd = -1;
	int rc;
	int res = EM_ERR;

	em_strbuf_add_sanitized(&fname, path, EM_CONFIG_NAME_MAX);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		em_error_set(err, "could not open configuration file '%s'", fname.buf);
		em_error_detail(err, "%s", strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) != 0) {
		em_error_set(err, "could not read configuration file '%s'", fname.buf);
		em_error_detail(err, "%s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		em_error_set(err, "configuration file '%s' is not a regular file", fname.buf);
		goto out;
	}
	switch (em_strbuf_read_fd(&data, fd, EM_CONFIG_MAX_BYTES)) {
	case -1:
		em_error_set(err, "could not read configuration file '%s'", fname.buf);
		em_error_detail(err, "%s", strerror(errno));
		goto out;
	case -2:
		em_error_set(err, "configuration file '%s' is too large", fname.buf);
		em_error_detail(err, "the limit is %d bytes", EM_CONFIG_MAX_BYTES);
		goto out;
	}
	if (memchr(data.buf, '\0', data.len) != NULL) {
		em_error_set(err, "configuration file '%s' contains a NUL byte", fname.buf);
		em_error_hint(err, "save it as UTF-8 text");
		goto out;
	}

	memset(&st, 0, sizeof(st));
	st.cfg = cfg;
	st.err = err;
	st.fname = fname.buf;
	st.data = data.buf;
	st.len = data.len;
	rc = ini_parse_stream(em_config_reader, &st, em_config_handler, &st);
	if (st.failed)
		goto out;
	if (rc > 0) {
		em_error_set(err, "syntax error in configuration file '%s' at line %d", fname.buf,
			     rc);
		em_error_detail(err, "%s:%d: expected [section], key = value, or a comment "
				     "starting with ; or #", fname.buf, rc);
		goto out;
	}
	if (rc < 0) {
		em_error_set(err, "could not parse configuration file '%s'", fname.buf);
		goto out;
	}
	if ((em_config_has_password(cfg->conninfo) ||
	     em_config_has_password(cfg->admin_conninfo)) && (sb.st_mode & 077) != 0) {
		em_error_set(err, "configuration file '%s' holding a password is readable by others",
			     fname.buf);
		em_error_detail(err, "its mode is %04o; only its owner may have access",
				(unsigned)(sb.st_mode & 07777));
		em_error_hint(err, "chmod 600 %s", fname.buf);
		goto out;
	}
	if (em_config_check_passfile(cfg->conninfo, fname.buf, err) != 0 ||
	    em_config_check_passfile(cfg->admin_conninfo, fname.buf, err) != 0)
		goto out;
	res = 0;
out:
	if (fd >= 0)
		close(fd);
	em_strbuf_release(&data);
	em_strbuf_release(&fname);
	return res;
}

static int em_config_env_set(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && v[0] != '\0';
}

int em_config_load(struct em_config *cfg, const char *path, struct em_error *err)
{
	struct em_strbuf def = EM_STRBUF_INIT;
	const char *home = getenv("EARMARK_HOME");
	const char *file = path;
	struct stat sb;
	int res = EM_ERR;

	if (home == NULL || home[0] == '\0')
		home = ".";
	cfg->home = em_config_xstrdup(home);
	cfg->path = NULL;
	cfg->conninfo = NULL;
	cfg->admin_conninfo = NULL;
	cfg->book = NULL;
	cfg->private_cluster = 0;
	if (file == NULL) {
		em_strbuf_addf(&def, "%s/config/earmark.conf", home);
		/* only a file that is not there at all means "no configuration" */
		if (stat(def.buf, &sb) == 0 || errno != ENOENT)
			file = def.buf;
	}
	if (file != NULL) {
		if (em_config_read(cfg, file, err) != 0)
			goto out;
		cfg->path = em_config_xstrdup(file);
	}
	cfg->private_cluster = cfg->conninfo == NULL && !em_config_env_set("PGHOST") &&
			       !em_config_env_set("PGHOSTADDR") && !em_config_env_set("PGSERVICE") &&
			       !em_config_env_set("PGDATABASE") && !em_config_env_set("PGPORT");
	res = 0;
out:
	if (res != 0)
		em_config_release(cfg);
	em_strbuf_release(&def);
	return res;
}

void em_config_release(struct em_config *cfg)
{
	free(cfg->home);
	free(cfg->path);
	free(cfg->conninfo);
	free(cfg->admin_conninfo);
	free(cfg->book);
	cfg->home = NULL;
	cfg->path = NULL;
	cfg->conninfo = NULL;
	cfg->admin_conninfo = NULL;
	cfg->book = NULL;
	cfg->private_cluster = 0;
}
