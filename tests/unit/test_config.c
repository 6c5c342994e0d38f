/*
 * Unit tests for ledger/config.c, each in a fresh temporary EARMARK_HOME
 * with the PG* variables cleared: the default file and its absence, the
 * password-and-mode rule for both connection strings and both syntaxes
 * (as libpq reads them: quoted, percent-encoded, sslpassword), the same
 * rule for a password file named by passfile=,
 * unknown sections and keys with file:line, and the other refusals.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/config.h"
#include "ledger/error.h"
#include "ledger/strbuf.h"

static const char *const pg_vars[] = { "PGHOST", "PGHOSTADDR", "PGSERVICE", "PGDATABASE",
				       "PGPORT" };

struct fixture {
	char dir[64];   /* the temporary EARMARK_HOME */
	char file[128]; /* dir/test.conf, written by write_conf */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	size_t i;

	if (fx == NULL)
		return -1;
	strcpy(fx->dir, "/tmp/earmark-test-config-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->file, sizeof(fx->file), "%s/test.conf", fx->dir);
	setenv("EARMARK_HOME", fx->dir, 1);
	for (i = 0; i < sizeof(pg_vars) / sizeof(pg_vars[0]); i++)
		unsetenv(pg_vars[i]);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	struct em_strbuf sb = EM_STRBUF_INIT;

	em_strbuf_addf(&sb, "%s/config/earmark.conf", fx->dir);
	unlink(sb.buf);
	em_strbuf_reset(&sb);
	em_strbuf_addf(&sb, "%s/config", fx->dir);
	rmdir(sb.buf);
	unlink(fx->file);
	rmdir(fx->dir);
	em_strbuf_release(&sb);
	free(fx);
	unsetenv("EARMARK_HOME");
	return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void load_ok(struct em_config *cfg, const char *path)
{
	struct em_error err = EM_ERROR_INIT;

	if (em_config_load(cfg, path, &err) != 0)
		fail_msg("refused: %s (%s)", err.message ? err.message : "?",
			 err.detail ? err.detail : "");
	em_error_release(&err);
}

/* Expects refusal; message and detail are compared after "F" is replaced. */
static void load_bad(const char *path, const char *message, const char *detail,
		     const char *hint)
{
	struct em_config cfg = EM_CONFIG_INIT;
	struct em_error err = EM_ERROR_INIT;

	assert_int_equal(em_config_load(&cfg, path, &err), EM_ERR);
	assert_non_null(err.message);
	assert_string_equal(err.message, message);
	if (detail != NULL) {
		assert_non_null(err.detail);
		assert_string_equal(err.detail, detail);
	}
	if (hint != NULL) {
		assert_non_null(err.hint);
		assert_string_equal(err.hint, hint);
	}
	/* nothing is left half-loaded */
	assert_null(cfg.home);
	assert_null(cfg.conninfo);
	assert_null(cfg.book);
	em_config_release(&cfg);
	em_error_release(&err);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *fmt(const char *f, ...)
{
	struct em_strbuf sb = EM_STRBUF_INIT;
	va_list ap;

	va_start(ap, f);
	em_strbuf_vaddf(&sb, f, ap);
	va_end(ap);
	return em_strbuf_detach(&sb, NULL);
}

static void test_no_file(void **state)
{
	struct fixture *fx = *state;
	struct em_config cfg = EM_CONFIG_INIT;

	load_ok(&cfg, NULL);
	assert_string_equal(cfg.home, fx->dir);
	assert_null(cfg.path);
	assert_null(cfg.conninfo);
	assert_null(cfg.admin_conninfo);
	assert_null(cfg.book);
	assert_int_equal(cfg.private_cluster, 1);
	em_config_release(&cfg);

	/* any PG* variable selects a real server instead */
	setenv("PGSERVICE", "earmark", 1);
	load_ok(&cfg, NULL);
	assert_int_equal(cfg.private_cluster, 0);
	em_config_release(&cfg);
	unsetenv("PGSERVICE");
	setenv("PGPORT", "5433", 1);
	load_ok(&cfg, NULL);
	assert_int_equal(cfg.private_cluster, 0);
	em_config_release(&cfg);
	unsetenv("PGPORT");

	/* without EARMARK_HOME the home is the current directory */
	unsetenv("EARMARK_HOME");
	assert_int_equal(chdir(fx->dir), 0);
	load_ok(&cfg, NULL);
	assert_string_equal(cfg.home, ".");
	assert_null(cfg.path);
	em_config_release(&cfg);
	assert_int_equal(chdir("/"), 0);
}

static void test_default_file(void **state)
{
	struct fixture *fx = *state;
	struct em_config cfg = EM_CONFIG_INIT;
	char *dir = fmt("%s/config", fx->dir);
	char *file = fmt("%s/config/earmark.conf", fx->dir);

	assert_int_equal(mkdir(dir, 0700), 0);
	write_file(file,
		   "; earmark configuration\n"
		   "[database]\r\n"
		   "conninfo = service=earmark\n"
		   "admin_conninfo = host=/run/pg dbname=earmark user=admin\n"
		   "\n"
		   "# the book\n"
		   "[earmark]\n"
		   "book = county-2024\n",
		   0644);
	load_ok(&cfg, NULL);
	assert_string_equal(cfg.path, file);
	assert_string_equal(cfg.conninfo, "service=earmark");
	assert_string_equal(cfg.admin_conninfo, "host=/run/pg dbname=earmark user=admin");
	assert_string_equal(cfg.book, "county-2024");
	assert_int_equal(cfg.private_cluster, 0);
	em_config_release(&cfg);
	assert_null(cfg.conninfo);

	/* an admin connection alone still leaves the application on the private cluster */
	write_file(file, "[database]\nadmin_conninfo = dbname=x\n", 0644);
	load_ok(&cfg, NULL);
	assert_null(cfg.conninfo);
	assert_int_equal(cfg.private_cluster, 1);
	em_config_release(&cfg);
	free(dir);
	free(file);
}

static void test_password_mode(void **state)
{
	struct fixture *fx = *state;
	struct em_config cfg = EM_CONFIG_INIT;
	char *msg = fmt("configuration file '%s' holding a password is readable by others",
			fx->file);
	char *hint = fmt("chmod 600 %s", fx->file);

	write_file(fx->file, "[database]\nconninfo = host=db user=clerk password=s3cret\n", 0644);
	load_bad(fx->file, msg, "its mode is 0644; only its owner may have access", hint);
	write_file(fx->file, "[database]\nconninfo = host=db user=clerk password=s3cret\n", 0640);
	load_bad(fx->file, msg, "its mode is 0640; only its owner may have access", hint);
	write_file(fx->file, "[database]\nconninfo = host=db user=clerk password=s3cret\n", 0600);
	load_ok(&cfg, fx->file);
	assert_string_equal(cfg.conninfo, "host=db user=clerk password=s3cret");
	em_config_release(&cfg);

	/* the other spellings of a password */
	write_file(fx->file, "[database]\nconninfo = postgresql://clerk:s3cret@db/earmark\n", 0604);
	load_bad(fx->file, msg, NULL, hint);
	write_file(fx->file, "[database]\nconninfo = postgresql://db/earmark?password=x\n", 0644);
	load_bad(fx->file, msg, NULL, hint);
	write_file(fx->file, "[database]\nadmin_conninfo = user=admin password = x\n", 0644);
	load_bad(fx->file, msg, NULL, hint);

	/* no password: readable by all is fine, ':' and '@' elsewhere included */
	write_file(fx->file,
		   "[database]\nconninfo = postgresql://clerk@db:5432/earmark?sslmode=require\n",
		   0644);
	load_ok(&cfg, fx->file);
	assert_string_equal(cfg.conninfo, "postgresql://clerk@db:5432/earmark?sslmode=require");
	em_config_release(&cfg);
	free(msg);
	free(hint);
}

/* libpq's own reading of the string decides: quoting, URI encoding, sslpassword. */
static void test_password_as_libpq_reads_it(void **state)
{
	struct fixture *fx = *state;
	struct em_config cfg = EM_CONFIG_INIT;
	char *msg = fmt("configuration file '%s' holding a password is readable by others",
			fx->file);
	char *hint = fmt("chmod 600 %s", fx->file);
	static const char *const hidden[] = {
		"conninfo = postgresql://db/earmark?p%61ssword=s3cret\n",
		"conninfo = host=db user=clerk password='s3 cret'\n",
		"conninfo = host=db sslpassword=keypw sslkey=/k.pem\n",
		"conninfo = postgresql://clerk:%73ecret@db/earmark\n",
		/* libpq cannot parse it: the text is searched, and in doubt refused */
		"conninfo = host=db password=s3cret 'unterminated\n",
	};

	for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		char *text = fmt("[database]\n%s", hidden[i]);

		write_file(fx->file, text, 0644);
		load_bad(fx->file, msg, "its mode is 0644; only its owner may have access", hint);
		/* the same file private to its owner is fine, also stricter than 0600 */
		write_file(fx->file, text, i % 2 ? 0400 : 0600);
		load_ok(&cfg, fx->file);
		assert_non_null(cfg.conninfo);
		em_config_release(&cfg);
		free(text);
	}

	/* group- or other-readable and -writable modes are all refused */
	write_file(fx->file, "[database]\nconninfo = password=x\n", 0660);
	load_bad(fx->file, msg, "its mode is 0660; only its owner may have access", hint);
	write_file(fx->file, "[database]\nconninfo = password=x\n", 0602);
	load_bad(fx->file, msg, "its mode is 0602; only its owner may have access", hint);

	/* "password" inside another value is no password */
	write_file(fx->file,
		   "[database]\nconninfo = host=db application_name='password=none'\n", 0644);
	load_ok(&cfg, fx->file);
	assert_string_equal(cfg.conninfo, "host=db application_name='password=none'");
	em_config_release(&cfg);
	free(msg);
	free(hint);
}

/* A password file a connection string names must be private as well. */
static void test_passfile_mode(void **state)
{
	struct fixture *fx = *state;
	struct em_config cfg = EM_CONFIG_INIT;
	char *pass = fmt("%s/pgpass", fx->dir);
	char *conf = fmt("[database]\nadmin_conninfo = host=db user=admin passfile=%s\n", pass);
	char *msg = fmt("password file '%s' is readable by others", pass);
	char *detail = fmt("its mode is 0644; only its owner may have access; the configuration "
			   "file '%s' names it (passfile)", fx->file);
	char *hint = fmt("chmod 600 %s", pass);

	/* the configuration file holds no password: readable by all is fine */
	write_file(fx->file, conf, 0644);
	/* not there: left to libpq */
	load_ok(&cfg, fx->file);
	em_config_release(&cfg);

	write_file(pass, "db:5432:*:admin:s3cret\n", 0644);
	load_bad(fx->file, msg, detail, hint);
	write_file(pass, "db:5432:*:admin:s3cret\n", 0640);
	load_bad(fx->file, msg, NULL, hint);
	write_file(pass, "db:5432:*:admin:s3cret\n", 0600);
	load_ok(&cfg, fx->file);
	assert_null(cfg.conninfo);
	assert_non_null(cfg.admin_conninfo);
	em_config_release(&cfg);

	/* the URI form names it too */
	free(conf);
	conf = fmt("[database]\nconninfo = postgresql://clerk@db/earmark?passfile=%s\n", pass);
	write_file(fx->file, conf, 0644);
	assert_int_equal(chmod(pass, 0604), 0);
	load_bad(fx->file, msg, NULL, hint);
	unlink(pass);
	free(pass);
	free(conf);
	free(msg);
	free(detail);
	free(hint);
}

static void test_unknown(void **state)
{
	struct fixture *fx = *state;
	char *detail;

	write_file(fx->file, "[database]\nconninfo = service=x\n\nconnifo = service=y\n", 0600);
	detail = fmt("%s:4: the keys of [database] are conninfo and admin_conninfo", fx->file);
	load_bad(fx->file, "unknown key 'connifo' in section [database]", detail, NULL);
	free(detail);

	write_file(fx->file, "[earmark]\nbook = a\npassword = x\n", 0600);
	detail = fmt("%s:3: the only key of [earmark] is book", fx->file);
	load_bad(fx->file, "unknown key 'password' in section [earmark]", detail, NULL);
	free(detail);

	write_file(fx->file, "[earmark]\nbook = a\n[databse]\nconninfo = x\n", 0600);
	detail = fmt("%s:4: the sections are [database] and [earmark]", fx->file);
	load_bad(fx->file, "unknown section [databse]", detail, NULL);
	free(detail);

	write_file(fx->file, "book = a\n", 0600);
	load_bad(fx->file, "key 'book' outside any section", NULL, NULL);
}

static void test_refusals(void **state)
{
	struct fixture *fx = *state;
	struct em_strbuf sb = EM_STRBUF_INIT;
	char *detail;
	char *missing = fmt("%s/nope.conf", fx->dir);
	char *msg = fmt("could not open configuration file '%s'", missing);
	int i;

	/* an explicit file must exist */
	load_bad(missing, msg, "No such file or directory", NULL);
	free(msg);

	write_file(fx->file, "[earmark]\nbook = a\n  book = b\n", 0600);
	detail = fmt("%s:3, first set at line 2", fx->file);
	load_bad(fx->file, "key 'book' in section [earmark] is set more than once", detail, NULL);
	free(detail);

	write_file(fx->file, "[earmark]\nbook =\n", 0600);
	load_bad(fx->file, "key 'book' in section [earmark] is empty", NULL, NULL);

	write_file(fx->file, "[earmark]\n\n\nbook\n", 0600);
	msg = fmt("syntax error in configuration file '%s' at line 4", fx->file);
	load_bad(fx->file, msg, NULL, NULL);
	free(msg);

	em_strbuf_adds(&sb, "[database]\nconninfo = host=");
	for (i = 0; i < 300; i++)
		em_strbuf_addc(&sb, 'x');
	em_strbuf_addc(&sb, '\n');
	write_file(fx->file, sb.buf, 0600);
	msg = fmt("line 2 of configuration file '%s' is too long", fx->file);
	load_bad(fx->file, msg, NULL, NULL);
	free(msg);

	msg = fmt("configuration file '%s' is not a regular file", fx->dir);
	load_bad(fx->dir, msg, NULL, NULL);
	free(msg);
	free(missing);
	em_strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_password_as_libpq_reads_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passfile_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
