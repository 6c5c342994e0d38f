/*
 * earmark: the command.  `earmark <command> [<subcommand>] [options] [args]`.
 *
 * One table lists every command with its options, its argument count and
 * its help; one parser checks every command line against it, so a command
 * function only runs with the arguments it declared.  This is the only
 * file that prints messages or exits: library code returns a negative
 * code with a struct em_error, printed here as
 *   earmark: error: <message>
 *   detail: <detail>
 *   hint: <hint>
 * Exit status: 0 success, 1 refused or failed, 2 usage.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/config.h"
#include "ledger/date.h"
#include "ledger/db.h"
#include "ledger/error.h"
#include "ledger/pgctl.h"
#include "ledger/strbuf.h"
#include "ledger/money.h"
#include "posting/generate.h"
#include "posting/pain001.h"
#include "posting/period.h"
#include "posting/posting.h"
#include "posting/statement.h"
#include "reports/audit.h"
#include "reports/reports.h"
#include "reports/notice.h"

#define MAX_OPTS 12
#define MAX_ARGS 4

struct em_ctx {
	struct em_config cfg;       /* loaded configuration */
	const char *config_path;    /* --config */
	const char *user;           /* --user: act as this database role */
	const char *book;           /* --book, else the configuration's */
	const char *opt[MAX_OPTS];  /* values of the command's own options, by position */
	PGconn *conn;               /* opened by need_conn */
	struct em_error err;        /* the failure to print */
};

struct em_cmd {
	const char *name;           /* "voucher post" */
	int (*fn)(int argc, char **argv, struct em_ctx *ctx);
	int min_args, max_args;     /* positional arguments */
	const char *opts[MAX_OPTS]; /* option names without "--"; values in ctx->opt[i] */
	const char *usage;          /* after "earmark <name> " */
	const char *help;           /* one line */
};

static const struct em_cmd *current;

/* Is option spec ("days", or "county!" for a flag without a value) the option name? */
static int opt_is(const char *spec, const char *name)
{
	size_t n = strlen(name);
	return strncmp(spec, name, n) == 0 && (spec[n] == '\0' || strcmp(spec + n, "!") == 0);
}

static const char *opt(struct em_ctx *ctx, const char *name)
{
	for (int i = 0; i < MAX_OPTS && current->opts[i]; i++)
		if (opt_is(current->opts[i], name))
			return ctx->opt[i];
	return NULL;
}

static int need_conn(struct em_ctx *ctx, int admin)
{
	if (!ctx->conn)
		ctx->conn = em_db_connect(&ctx->cfg, ctx->user, admin, &ctx->err);
	return ctx->conn ? 0 : EM_ERR;
}

static int need_book(struct em_ctx *ctx)
{
	if (!ctx->book)
		ctx->book = ctx->cfg.book;
	if (!ctx->book) {
		em_error_set(&ctx->err, "no book selected");
		em_error_hint(&ctx->err, "pass --book CODE or set [earmark] book in config/earmark.conf");
		return EM_ERR_USAGE;
	}
	return 0;
}

static int usage_error(struct em_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_error(struct em_ctx *ctx, const char *fmt, ...)
{
	struct em_strbuf msg = EM_STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	em_strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	em_error_set(&ctx->err, "%s", msg.buf);
	em_strbuf_release(&msg);
	em_error_hint(&ctx->err, "usage: earmark %s %s", current->name, current->usage);
	return EM_ERR_USAGE;
}

/* ---- db ---------------------------------------------------------------- */

static int cmd_db_start(int argc, char **argv, struct em_ctx *ctx)
{
	(void)argc, (void)argv;
	if (em_pgctl_start(ctx->cfg.home, &ctx->err) < 0)
		return EM_ERR;
	printf("private database running, socket in %s/var/run\n", ctx->cfg.home);
	return 0;
}

static int cmd_db_stop(int argc, char **argv, struct em_ctx *ctx)
{
	(void)argc, (void)argv;
	if (em_pgctl_stop(ctx->cfg.home, &ctx->err) < 0)
		return EM_ERR;
	printf("private database stopped\n");
	return 0;
}

static int cmd_db_status(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_strbuf out = EM_STRBUF_INIT;
	int running;

	(void)argc, (void)argv;
	if (!ctx->cfg.private_cluster) {
		if (need_conn(ctx, 0) < 0)
			return EM_ERR;
		printf("configured server: %s on %s, database %s, server %s\n",
		       PQuser(ctx->conn), *PQhost(ctx->conn) ? PQhost(ctx->conn) : "local socket",
		       PQdb(ctx->conn), PQparameterStatus(ctx->conn, "server_version"));
		return 0;
	}
	running = em_pgctl_status(ctx->cfg.home, &out, &ctx->err);
	fputs(out.buf, stdout);
	em_strbuf_release(&out);
	if (running < 0)
		return EM_ERR;
	return running ? 0 : 3;
}

static int cmd_db_init(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_strbuf log = EM_STRBUF_INIT;
	const char *sqldir = getenv("EARMARK_SQLDIR") ? getenv("EARMARK_SQLDIR") : EM_SQLDIR;
	int ret;

	(void)argc, (void)argv;
	if (need_conn(ctx, 1) < 0)
		return EM_ERR;
	ret = em_migrate(ctx->conn, sqldir, &log, &ctx->err);
	fputs(log.buf, stdout);
	if (ret == 0)
		printf("database is up to date (%s)\n", PQdb(ctx->conn));
	em_strbuf_release(&log);
	return ret;
}

/* ---- people, books, master data --------------------------------------- */

static int cmd_user_add(int argc, char **argv, struct em_ctx *ctx)
{
	const char *towns = opt(ctx, "township");

	(void)argc;
	if (!opt(ctx, "role"))
		return usage_error(ctx, "%s", "--role is required");
	if (towns && need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 1) < 0 ||
	    em_user_add(ctx->conn, argv[0], opt(ctx, "role"), ctx->book, towns, &ctx->err) < 0)
		return EM_ERR;
	printf("user '%s' has roles %s\n", argv[0], opt(ctx, "role"));
	if (towns)
		printf("user '%s' works in townships %s of book '%s'\n", argv[0], towns, ctx->book);
	return 0;
}

/* A person's townships in the book (row-level security, migration 0016). */
static int cmd_user_scope(int argc, char **argv, struct em_ctx *ctx)
{
	const char *towns = opt(ctx, "township");

	(void)argc;
	if (!towns == !opt(ctx, "county"))
		return usage_error(ctx, "%s", "give --township CODE[,CODE...] or --county");
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 1) < 0 || em_user_scope(ctx->conn, ctx->book, argv[0], towns ? towns : "", &ctx->err) < 0)
		return EM_ERR;
	if (towns)
		printf("user '%s' works in townships %s of book '%s'\n", argv[0], towns, ctx->book);
	else
		printf("user '%s' works for the whole county in book '%s'\n", argv[0], ctx->book);
	return 0;
}

static int cmd_book_create(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_strbuf accounts = EM_STRBUF_INIT;
	int ret;

	(void)argc;
	if (!opt(ctx, "name") || !opt(ctx, "start"))
		return usage_error(ctx, "%s", "--name and --start are required");
	if (opt(ctx, "accounts"))
		em_strbuf_adds(&accounts, opt(ctx, "accounts"));
	else
		em_strbuf_addf(&accounts, "%s/config/accounts.csv", ctx->cfg.home);
	ret = need_conn(ctx, 0);
	if (ret == 0)
	{
		/* The rule tables come from the chart's folder (config/ by default). */
		char *dir = strdup(accounts.buf);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		if (!dir)
			abort();
		if (slash)
			*slash = '\0';
		ret = em_book_create(ctx->conn, argv[0], opt(ctx, "name"), opt(ctx, "start"),
				     accounts.buf, slash ? dir : ".", &ctx->err);
		free(dir);
	}
	if (ret == 0)
		printf("book '%s' created, chart of accounts from %s\n", argv[0], accounts.buf);
	em_strbuf_release(&accounts);
	return ret;
}

static int cmd_master_import(int argc, char **argv, struct em_ctx *ctx)
{
	long n = 0;

	(void)argc;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 ||
	    em_master_import(ctx->conn, ctx->book, argv[0], argv[1], opt(ctx, "encoding"), &n,
			     &ctx->err) < 0)
		return EM_ERR;
	printf("imported %ld %s rows from %s\n", n, argv[0], argv[1]);
	return 0;
}

/* ---- vouchers ---------------------------------------------------------- */

/* Today when the option is absent: most steps happen on the day they are recorded. */
static const char *date_or_today(struct em_ctx *ctx, const char *name, char today[11])
{
	if (opt(ctx, name))
		return opt(ctx, name);
	em_date_today(today);
	return today;
}


static int cmd_voucher_draft(int argc, char **argv, struct em_ctx *ctx)
{
	char today[11];
	struct em_draft_opts o = { date_or_today(ctx, "date", today), opt(ctx, "memo"), opt(ctx, "type"),
				   opt(ctx, "key"), opt(ctx, "encoding") };
	long long id;

	(void)argc;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 || em_voucher_draft(ctx->conn, ctx->book, argv[0], &o, &id, &ctx->err) < 0)
		return EM_ERR;
	printf("#%lld\n", id);
	return 0;
}

static int cmd_voucher_review(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_strbuf r = EM_STRBUF_INIT;

	(void)argc;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 || em_voucher_review(ctx->conn, ctx->book, argv[0], &r, &ctx->err) < 0)
		return EM_ERR;
	printf("reviewed #%s\n", r.buf);
	em_strbuf_release(&r);
	return 0;
}

static int cmd_voucher_post(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_strbuf r = EM_STRBUF_INIT;

	(void)argc;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 || em_voucher_post(ctx->conn, ctx->book, argv[0], &r, &ctx->err) < 0)
		return EM_ERR;
	printf("%s\n", r.buf);
	em_strbuf_release(&r);
	return 0;
}

static int cmd_voucher_reverse(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_strbuf r = EM_STRBUF_INIT;
	char today[11];
	const char *date = date_or_today(ctx, "date", today);

	(void)argc;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 ||
	    em_voucher_reverse(ctx->conn, ctx->book, argv[0], date, opt(ctx, "key"), &r, &ctx->err) < 0)
		return EM_ERR;
	printf("#%s\n", r.buf);
	em_strbuf_release(&r);
	return 0;
}

static int cmd_voucher_reject(int argc, char **argv, struct em_ctx *ctx)
{
	(void)argc;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 || em_voucher_reject(ctx->conn, ctx->book, argv[0], &ctx->err) < 0)
		return EM_ERR;
	printf("sent %s back to its preparer as a draft\n", argv[0]);
	return 0;
}

static int cmd_voucher_discard(int argc, char **argv, struct em_ctx *ctx)
{
	(void)argc;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 || em_voucher_discard(ctx->conn, ctx->book, argv[0], &ctx->err) < 0)
		return EM_ERR;
	printf("discarded %s\n", argv[0]);
	return 0;
}

static int cmd_voucher_show(int argc, char **argv, struct em_ctx *ctx)
{
	enum em_format fmt;

	(void)argc;
	if (em_format_parse(opt(ctx, "format"), &fmt, &ctx->err) < 0 || need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0)
		return EM_ERR;
	return em_voucher_show(ctx->conn, ctx->book, argv[0], fmt, stdout, &ctx->err);
}

static int cmd_voucher_list(int argc, char **argv, struct em_ctx *ctx)
{
	enum em_format fmt;

	(void)argc, (void)argv;
	if (em_format_parse(opt(ctx, "format"), &fmt, &ctx->err) < 0 || need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0)
		return EM_ERR;
	return em_voucher_list(ctx->conn, ctx->book, opt(ctx, "status"), opt(ctx, "month"), fmt,
			       stdout, &ctx->err);
}

/* ---- disbursement: lists, projects, funds, payments ------------------- */

/* "1,234.56" -> "123456" for a bigint parameter. */
static int fen_param(struct em_ctx *ctx, const char *name, char out[24])
{
	int64_t fen;

	if (!opt(ctx, name))
		return usage_error(ctx, "--%s is required", name);
	if (em_money_parse(opt(ctx, name), &fen, &ctx->err) < 0)
		return EM_ERR;
	snprintf(out, 24, "%lld", (long long)fen);
	return 0;
}

/* Runs the action named like the command, printing its answer when there is one. */
static int run_action(struct em_ctx *ctx, const char *const *params, const char *what)
{
	struct em_strbuf r = EM_STRBUF_INIT;

	if (need_conn(ctx, 0) < 0 || em_action(ctx->conn, current->name, params, &r, &ctx->err) < 0) {
		em_strbuf_release(&r);
		return EM_ERR;
	}
	printf("%s%s\n", what, r.buf);
	em_strbuf_release(&r);
	return 0;
}

static int cmd_list_create(int argc, char **argv, struct em_ctx *ctx)
{
	size_t n = 0;

	(void)argc;
	if (!opt(ctx, "project") || !opt(ctx, "title"))
		return usage_error(ctx, "%s", "--project and --title are required");
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 ||
	    em_list_create(ctx->conn, ctx->book, argv[0], opt(ctx, "project"), opt(ctx, "title"), argv[1],
			   opt(ctx, "encoding"), &n, &ctx->err) < 0)
		return EM_ERR;
	printf("beneficiary list '%s' with %zu households, not yet published\n", argv[0], n);
	return 0;
}

static int cmd_list_publish(int argc, char **argv, struct em_ctx *ctx)
{
	char today[11];
	const char *params[] = { NULL, argv[0], date_or_today(ctx, "from", today), opt(ctx, "days") };

	(void)argc;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	params[0] = ctx->book;
	return run_action(ctx, params, "published; households on it may be paid from ");
}

static int cmd_list_object(int argc, char **argv, struct em_ctx *ctx)
{
	char today[11];
	const char *params[] = { NULL, argv[0], argv[1], date_or_today(ctx, "date", today),
				 opt(ctx, "reason") };

	(void)argc;
	if (!opt(ctx, "reason"))
		return usage_error(ctx, "%s", "--reason is required");
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	params[0] = ctx->book;
	return run_action(ctx, params, "objection recorded; the household is not paid until it is resolved (H3): #");
}

static int cmd_list_resolve(int argc, char **argv, struct em_ctx *ctx)
{
	char today[11];
	const char *params[] = { NULL, argv[0], date_or_today(ctx, "date", today), opt(ctx, "resolution") };

	(void)argc;
	if (!opt(ctx, "resolution"))
		return usage_error(ctx, "%s", "--resolution is required");
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	params[0] = ctx->book;
	return run_action(ctx, params, "objection resolved");
}

static int cmd_project_event(int argc, char **argv, struct em_ctx *ctx)
{
	char today[11];
	static const char *const keys[] = { "project", "kind", "date", "progress", "doc_no", "note" };
	const char *values[] = { argv[0], argv[1], date_or_today(ctx, "date", today),
				 opt(ctx, "progress"), opt(ctx, "doc"), opt(ctx, "note") };

	(void)argc;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 ||
	    em_master_record(ctx->conn, ctx->book, "project_event", keys, values, 6, &ctx->err) < 0)
		return EM_ERR;
	printf("project '%s': %s recorded on %s\n", argv[0], argv[1], values[2]);
	return 0;
}

static int cmd_project_revise(int argc, char **argv, struct em_ctx *ctx)
{
	char today[11], fen[24];
	static const char *const keys[] = { "project", "fund", "date", "amount_fen", "doc_no",
					    "reapproval_doc" };
	const char *values[] = { argv[0], opt(ctx, "fund"), date_or_today(ctx, "date", today), fen,
				 opt(ctx, "doc"), opt(ctx, "reapproval") };
	int ret;

	(void)argc;
	if (!opt(ctx, "fund") || !opt(ctx, "doc"))
		return usage_error(ctx, "%s", "--fund and --doc are required");
	if ((ret = fen_param(ctx, "amount", fen)) < 0 || (ret = need_book(ctx)) < 0)
		return ret;
	if (need_conn(ctx, 0) < 0 ||
	    em_master_record(ctx->conn, ctx->book, "budget_revision", keys, values, 6, &ctx->err) < 0)
		return EM_ERR;
	printf("budget of project '%s' from fund '%s' is %s from %s\n", argv[0], opt(ctx, "fund"),
	       opt(ctx, "amount"), values[2]);
	return 0;
}

static int cmd_project_claim(int argc, char **argv, struct em_ctx *ctx)
{
	char today[11];
	struct em_claim c = { argv[0], opt(ctx, "fund"), opt(ctx, "amount"), date_or_today(ctx, "date", today),
			      opt(ctx, "inspection"), opt(ctx, "plan"), opt(ctx, "contract"),
			      opt(ctx, "receipts"), opt(ctx, "receipt-count"), opt(ctx, "key") };
	struct em_strbuf r = EM_STRBUF_INIT;

	(void)argc;
	if (!c.fund || !c.amount)
		return usage_error(ctx, "%s", "--fund and --amount are required");
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 || em_project_claim(ctx->conn, ctx->book, &c, &r, &ctx->err) < 0) {
		em_strbuf_release(&r);
		return EM_ERR;
	}
	printf("%s (drafts: review and post them)\n", r.buf);
	em_strbuf_release(&r);
	return 0;
}

static int cmd_fund_interest(int argc, char **argv, struct em_ctx *ctx)
{
	char today[11], fen[24];
	const char *params[] = { NULL, argv[0], date_or_today(ctx, "date", today), fen, opt(ctx, "key") };
	int ret;

	(void)argc;
	if ((ret = fen_param(ctx, "amount", fen)) < 0 || (ret = need_book(ctx)) < 0)
		return ret;
	params[0] = ctx->book;
	return run_action(ctx, params, "interest drafted, shared by the funds' balances (A4): #");
}

static int cmd_pay_batch(int argc, char **argv, struct em_ctx *ctx)
{
	char today[11];
	struct em_pay_opts o = { opt(ctx, "code"), date_or_today(ctx, "date", today), opt(ctx, "key"),
				 opt(ctx, "encoding") };
	size_t n = 0;

	(void)argc;
	if (!o.code)
		return usage_error(ctx, "%s", "--code is required");
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 || em_pay_batch(ctx->conn, ctx->book, argv[0], &o, &n, &ctx->err) < 0)
		return EM_ERR;
	printf("batch '%s': %zu household payments prepared as two drafts; "
	       "review and post them with earmark pay review / pay post\n", o.code, n);
	return 0;
}

static int cmd_pay_step(int argc, char **argv, struct em_ctx *ctx)
{
	const char *params[] = { NULL, argv[0] };

	(void)argc;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	params[0] = ctx->book;
	return run_action(ctx, params, strcmp(current->name, "pay post") == 0 ? "posted " : "reviewed ");
}

static int cmd_pay_export(int argc, char **argv, struct em_ctx *ctx)
{
	long n = 0;
	long long total = 0;
	char money[32];

	(void)argc;
	if (!opt(ctx, "out"))
		return usage_error(ctx, "%s", "-o FILE.xml is required");
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 ||
	    em_pain001_export(ctx->conn, ctx->book, argv[0], opt(ctx, "out"), &n, &total, &ctx->err) < 0)
		return EM_ERR;
	em_money_format_grouped(total, money, sizeof(money));
	printf("%s: %ld payments, %s, pain.001.001.03; payments are now sent\n", opt(ctx, "out"), n, money);
	return 0;
}

static int cmd_pay_settle(int argc, char **argv, struct em_ctx *ctx)
{
	const char *params[] = { NULL, argv[0], opt(ctx, "status") };

	(void)argc;
	if (!opt(ctx, "status"))
		return usage_error(ctx, "%s", "--status paid|returned is required");
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	params[0] = ctx->book;
	return run_action(ctx, params, "payment recorded");
}

/* ---- periods, reports, chain ------------------------------------------- */

static int cmd_period_close(int argc, char **argv, struct em_ctx *ctx)
{
	(void)argc;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 || em_period_close(ctx->conn, ctx->book, argv[0], &ctx->err) < 0)
		return EM_ERR;
	printf("period %s closed\n", argv[0]);
	return 0;
}

/* 年末结转: drafts the year's closing voucher, for a reviewer and a bookkeeper to post. */
static int cmd_period_carry_forward(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_carry_forward cf;
	int ret;

	(void)argc;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0)
		return EM_ERR;
	ret = em_period_carry_forward(ctx->conn, ctx->book, argv[0], &cf, &ctx->err);
	if (ret < 0)
		return ret;
	if (cf.voucher_id == 0)
		printf("%s has nothing left to carry forward: revenue and expense are closed\n", argv[0]);
	else
		printf("year-end carry-forward of %s %s: #%lld (%ld lines, dated %s-12-31); "
		       "a reviewer and a bookkeeper review and post it, then: earmark period close %s-12\n",
		       argv[0], cf.already ? "was drafted before" : "drafted", cf.voucher_id, cf.lines, argv[0],
		       argv[0]);
	return 0;
}

/* ---- reports (issue 4) --------------------------------------------------- */

/*
 * Where a report goes: stdout, or with -o FILE a FILE.tmp beside it that
 * report_close renames over FILE only when the report was written whole.
 */
static FILE *report_open(struct em_ctx *ctx, struct em_strbuf *tmp)
{
	FILE *f;

	if (!opt(ctx, "out"))
		return stdout;
	em_strbuf_addf(tmp, "%s.tmp", opt(ctx, "out"));
	f = fopen(tmp->buf, "w");
	if (!f) {
		em_error_set(&ctx->err, "could not write '%s': %s", tmp->buf, strerror(errno));
		em_strbuf_release(tmp);
	}
	return f;
}

static int report_close(struct em_ctx *ctx, FILE *f, struct em_strbuf *tmp, int ret)
{
	if (f == stdout) {
		em_strbuf_release(tmp);
		return ret;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		if (ret == 0)
			em_error_set(&ctx->err, "could not write '%s': %s", tmp->buf, strerror(errno));
		ret = EM_ERR;
	}
	fclose(f);
	if (ret == 0 && rename(tmp->buf, opt(ctx, "out")) != 0) {
		em_error_set(&ctx->err, "could not rename '%s': %s", tmp->buf, strerror(errno));
		ret = EM_ERR;
	}
	if (ret != 0)
		unlink(tmp->buf);
	em_strbuf_release(tmp);
	return ret;
}

static int cmd_report_trial_balance(int argc, char **argv, struct em_ctx *ctx)
{
	enum em_format fmt;
	char today[11];
	const char *as_of = date_or_today(ctx, "as-of", today);
	struct em_strbuf tmp = EM_STRBUF_INIT;
	FILE *f;

	(void)argc, (void)argv;
	if (em_report_format_parse(opt(ctx, "format"), &fmt, &ctx->err) < 0 || need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 || !(f = report_open(ctx, &tmp)))
		return EM_ERR;
	return report_close(ctx, f, &tmp,
			    em_report_trial_balance(ctx->conn, ctx->book, as_of, opt(ctx, "fund"), fmt,
						    f, &ctx->err));
}

/* `earmark report NAME`: the report named by the command's second word. */
static int cmd_report(int argc, char **argv, struct em_ctx *ctx)
{
	enum em_format fmt;
	char today[11];
	struct em_report_opts o = { NULL, opt(ctx, "from"), opt(ctx, "account"), opt(ctx, "fund"),
				    opt(ctx, "project"), opt(ctx, "village"), opt(ctx, "household"),
				    opt(ctx, "bank-account") };
	struct em_strbuf tmp = EM_STRBUF_INIT;
	FILE *f;

	(void)argc, (void)argv;
	if (opt(ctx, "to") && opt(ctx, "as-of") && strcmp(opt(ctx, "to"), opt(ctx, "as-of")) != 0)
		return usage_error(ctx, "%s", "--to and --as-of name the same date: give one");
	o.as_of = opt(ctx, "to") ? opt(ctx, "to") : date_or_today(ctx, "as-of", today);
	if (em_report_format_parse(opt(ctx, "format"), &fmt, &ctx->err) < 0 || need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 || !(f = report_open(ctx, &tmp)))
		return EM_ERR;
	return report_close(ctx, f, &tmp,
			    em_report_run(ctx->conn, ctx->book, current->name + strlen("report "), &o,
					  fmt, f, &ctx->err));
}

static int cmd_ledger_verify_chain(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_chain_result r;

	(void)argc, (void)argv;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 || em_user_county_only(ctx->conn, ctx->book, current->name, &ctx->err) < 0 ||
	    em_chain_verify(ctx->conn, ctx->book, &r, &ctx->err) < 0)
		return EM_ERR;
	printf("hash chain of book '%s' verifies: %lld vouchers, head %s\n", ctx->book,
	       (long long)r.vouchers, r.head);
	return 0;
}

/* ---- audit packages (issue 5) ------------------------------------------- */

static int cmd_audit_export(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_audit_export x = { 0 };
	struct em_audit_export_result r = { 0 };
	const char *dir = getenv("EARMARK_SCHEMADIR");
	struct em_strbuf schemas = EM_STRBUF_INIT;
	int ret;

	(void)argc, (void)argv;
	if (!opt(ctx, "from") || !opt(ctx, "to") || !opt(ctx, "key") || !opt(ctx, "cert") ||
	    !opt(ctx, "out"))
		return usage_error(ctx, "%s", "--from, --to, --key, --cert and -o are required");
	if (em_date_check(opt(ctx, "from"), "--from", &ctx->err) < 0 ||
	    em_date_check(opt(ctx, "to"), "--to", &ctx->err) < 0)
		return EM_ERR_USAGE;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (dir)
		em_strbuf_adds(&schemas, dir);
	else
		em_strbuf_addf(&schemas, "%s/../reports/schemas", EM_SQLDIR);
	x.book = ctx->book;
	x.from = opt(ctx, "from");
	x.to = opt(ctx, "to");
	x.key_path = opt(ctx, "key");
	x.cert_path = opt(ctx, "cert");
	x.chain_path = opt(ctx, "chain");
	x.out_path = opt(ctx, "out");
	x.schema_dir = schemas.buf;
	ret = need_conn(ctx, 0);
	if (ret == 0)
		ret = em_audit_export(ctx->conn, &x, &r, &ctx->err);
	/*
	 * DESIGN section 6 and issue 5 allow an encrypted PEM key, README asks
	 * for one: a plain key signs, and the package written gets a warning
	 * naming the key and the fix (a refusal keeps its error first, alone).
	 */
	if (ret == 0 && r.key_unencrypted)
		fprintf(stderr, "earmark: warning: signing key '%s' is not encrypted: whoever can read "
				"the file can sign audit packages\n"
				"hint: encrypt it with openssl pkey -in %s -aes256 -out %s.enc, use --key %s.enc "
				"with the passphrase in EARMARK_KEY_PASSPHRASE, and delete the plain key\n",
			x.key_path, x.key_path, x.key_path, x.key_path);
	if (ret == 0) {
		printf("%s: audit package no. %d of book '%s', %s to %s: %lld vouchers, %lld lines\n",
		       x.out_path, r.package_no, x.book, x.from, x.to, (long long)r.vouchers,
		       (long long)r.lines);
		printf("signature digest %s\n", r.signature_digest);
		printf("previous package %s\n", *r.prev_digest ? r.prev_digest : "none (the first)");
	}
	em_strbuf_release(&schemas);
	return ret;
}

static int cmd_audit_verify(int argc, char **argv, struct em_ctx *ctx)
{
	int ret;

	(void)argc;
	if (!opt(ctx, "ca"))
		return usage_error(ctx, "%s", "--ca is required: the CA certificate you trust");
	ret = em_audit_verify(argv[0], opt(ctx, "ca"), opt(ctx, "signer"), stdout, &ctx->err);
	if (ret == 0)
		printf("%s: package verifies\n", argv[0]);
	return ret;
}

/* ---- public notices and the board (issue 6) ----------------------------- */

/* --village CODE | --project CODE | --county: exactly one, into r. */
static int notice_scope(struct em_ctx *ctx, struct em_notice_req *r)
{
	int n = !!opt(ctx, "village") + !!opt(ctx, "project") + !!opt(ctx, "county");

	if (n != 1)
		return usage_error(ctx, "%s", "name one of --village CODE, --project CODE or --county");
	if (!opt(ctx, "kind"))
		return usage_error(ctx, "%s", "--kind plan|result is required");
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	r->kind = opt(ctx, "kind");
	r->scope = opt(ctx, "village") ? "village" : opt(ctx, "project") ? "project" : "county";
	r->code = opt(ctx, "village") ? opt(ctx, "village") : opt(ctx, "project") ? opt(ctx, "project") : ctx->book;
	r->days = opt(ctx, "days");
	return 0;
}

static int cmd_notice_make(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_notice_req r = { NULL, NULL, NULL, NULL, NULL, NULL };
	struct em_strbuf content = EM_STRBUF_INIT, out = EM_STRBUF_INIT;
	enum em_notice_format fmt;
	enum em_notice_paper paper;
	char digest[65];
	int published = 0, ret;

	(void)argc, (void)argv;
	if ((ret = notice_scope(ctx, &r)) < 0)
		return ret;
	if (!opt(ctx, "out"))
		return usage_error(ctx, "%s", "-o FILE is required");
	if (em_notice_format_parse(opt(ctx, "format") ? opt(ctx, "format") : "html", &fmt, &ctx->err) < 0 ||
	    em_notice_paper_parse(opt(ctx, "paper"), &paper, &ctx->err) < 0)
		return EM_ERR_USAGE;
	r.from = opt(ctx, "from");
	if (need_conn(ctx, 0) < 0)
		return EM_ERR;
	/* The published notice unless a period is asked for; else a draft (from today). */
	if (em_notice_fetch(ctx->conn, ctx->book, &r, &content, &published, &ctx->err) < 0) {
		ret = EM_ERR;
		goto out;
	}
	if (em_notice_render(content.buf, fmt, paper, !published, &out, &ctx->err) < 0 ||
	    em_notice_write_file(opt(ctx, "out"), out.buf, out.len, &ctx->err) < 0) {
		ret = EM_ERR;
		goto out;
	}
	em_notice_cleanup();
	em_notice_digest(content.buf, content.len, digest);
	printf("%s: %s notice, digest %s\n", opt(ctx, "out"),
	       published ? "published" : "draft (not published: the board will not confirm it)", digest);
	ret = 0;
out:
	em_strbuf_release(&content);
	em_strbuf_release(&out);
	return ret;
}

static int cmd_notice_publish(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_notice_req r = { NULL, NULL, NULL, NULL, NULL, NULL };
	struct em_strbuf res = EM_STRBUF_INIT;
	char today[11];
	const char *sp;
	int ret;

	(void)argc, (void)argv;
	if ((ret = notice_scope(ctx, &r)) < 0)
		return ret;
	r.from = date_or_today(ctx, "from", today);
	r.lists = opt(ctx, "list");
	if (need_conn(ctx, 0) < 0 || em_notice_publish(ctx->conn, ctx->book, &r, &res, &ctx->err) < 0) {
		em_strbuf_release(&res);
		return EM_ERR;
	}
	sp = strchr(res.buf, ' ');
	printf("notice #%.*s published from %s, digest %s\n", sp ? (int)(sp - res.buf) : (int)res.len, res.buf,
	       r.from, sp ? sp + 1 : "");
	em_strbuf_release(&res);
	return 0;
}

/* One call of em_notice_action, printing what followed by its answer. */
static int notice_action(struct em_ctx *ctx, const char *name, const char *const *params, const char *what)
{
	struct em_strbuf r = EM_STRBUF_INIT;

	if (need_conn(ctx, 0) < 0 || em_notice_action(ctx->conn, name, params, &r, &ctx->err) < 0) {
		em_strbuf_release(&r);
		return EM_ERR;
	}
	printf("%s%s\n", what, r.buf);
	em_strbuf_release(&r);
	return 0;
}

static int cmd_notice_object(int argc, char **argv, struct em_ctx *ctx)
{
	char today[11];

	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (opt(ctx, "resolve")) {
		const char *params[] = { ctx->book, opt(ctx, "resolve"), date_or_today(ctx, "date", today),
					 opt(ctx, "resolution") };
		if (argc != 0 || !opt(ctx, "resolution"))
			return usage_error(ctx, "%s", "--resolve ID takes --resolution TEXT and no other argument");
		return notice_action(ctx, "resolve", params, "objection resolved; H3 lets the household be paid again");
	}
	if (argc != 2 || !opt(ctx, "reason"))
		return usage_error(ctx, "%s", "name the notice and the household, and give --reason TEXT");
	{
		const char *params[] = { ctx->book, argv[0], argv[1], date_or_today(ctx, "date", today),
					 opt(ctx, "reason") };
		return notice_action(ctx, "object", params,
				     "objection recorded; the household is not paid until it is resolved (H3): #");
	}
}

static int cmd_notice_contact(int argc, char **argv, struct em_ctx *ctx)
{
	const char *params[] = { NULL, opt(ctx, "publisher"), opt(ctx, "hotline") };

	(void)argc, (void)argv;
	if (!params[1] || !params[2])
		return usage_error(ctx, "%s", "--publisher and --hotline are required");
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	params[0] = ctx->book;
	if (need_conn(ctx, 0) < 0 || em_notice_action(ctx->conn, "contact", params, NULL, &ctx->err) < 0)
		return EM_ERR;
	printf("notices of book '%s' are published by %s, local hotline %s\n", ctx->book, params[1], params[2]);
	return 0;
}

static int cmd_serve(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_board *b;
	sigset_t set;
	int sig = 0;

	(void)argc, (void)argv;
	if (!opt(ctx, "listen"))
		return usage_error(ctx, "%s", "--listen 127.0.0.1:PORT is required");
	if (em_board_listen_check(opt(ctx, "listen"), &ctx->err) < 0)
		return EM_ERR_USAGE;
	/* Every thread of the board inherits the mask; this one waits for the signal. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	b = em_board_start(&ctx->cfg, ctx->user, opt(ctx, "listen"), stderr, &ctx->err);
	if (!b)
		return EM_ERR;
	printf("public notice board on http://%s/ (stop with Ctrl-C)\n", opt(ctx, "listen"));
	fflush(stdout);
	sigwait(&set, &sig);
	em_board_stop(b);
	printf("board stopped\n");
	return 0;
}

/* ---- bank statements, reconciliation, period close (issue 4) ------------ */

/* A file under config/: $EARMARK_HOME/config/NAME, else the source tree's. */
static void config_file(struct em_ctx *ctx, const char *name, struct em_strbuf *out)
{
	char *real;

	em_strbuf_addf(out, "%s/config/%s", ctx->cfg.home, name);
	if (access(out->buf, R_OK) != 0) {
		em_strbuf_reset(out);
		em_strbuf_addf(out, "%s/../config/%s", EM_SQLDIR, name);
		real = realpath(out->buf, NULL);   /* /src/config/x, not /src/sql/../config/x */
		if (real) {
			em_strbuf_reset(out);
			em_strbuf_adds(out, real);
			free(real);
		}
	}
}

/* Reads a statement file as camt053 (default for .xml) or csv. */
static int read_statement(struct em_ctx *ctx, const char *path, struct em_stmt_file *f)
{
	struct em_strbuf cfg = EM_STRBUF_INIT;
	const char *format = opt(ctx, "format");
	size_t n = strlen(path);
	int ret;

	if (!format)
		format = n > 4 && strcasecmp(path + n - 4, ".csv") == 0 ? "csv" : "camt053";
	if (strcmp(format, "camt053") == 0) {
		if (opt(ctx, "schema"))
			em_strbuf_adds(&cfg, opt(ctx, "schema"));
		else
			config_file(ctx, "iso20022/camt.053.001.02.xsd", &cfg);
		ret = em_camt053_read(f, path, cfg.buf, &ctx->err);
	} else if (strcmp(format, "csv") == 0) {
		if (opt(ctx, "mapping"))
			em_strbuf_adds(&cfg, opt(ctx, "mapping"));
		else
			config_file(ctx, "bank_csv.conf", &cfg);
		ret = em_stmt_csv_read(f, path, cfg.buf, opt(ctx, "encoding"), &ctx->err);
	} else {
		ret = usage_error(ctx, "unknown statement format '%.20s'", format);
		em_error_hint(&ctx->err, "--format camt053 or --format csv");
	}
	em_strbuf_release(&cfg);
	return ret;
}

static int cmd_statement_check(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_stmt_file f = EM_STMT_FILE_INIT;
	struct em_strbuf d = EM_STRBUF_INIT;
	int ret;

	(void)argc;
	ret = read_statement(ctx, argv[0], &f);
	if (ret == 0) {
		em_stmt_describe(&f, &d);
		printf("%s: %zu statement%s, well-formed and valid\n%s", argv[0], f.n, f.n == 1 ? "" : "s", d.buf);
	}
	em_strbuf_release(&d);
	em_stmt_file_release(&f);
	return ret;
}

static int cmd_statement_import(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_stmt_file f = EM_STMT_FILE_INIT;
	size_t ns = 0, nl = 0;
	int ret;

	(void)argc;
	if (!opt(ctx, "account"))
		return usage_error(ctx, "%s", "--account NO is required: the dedicated account of the statement");
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	ret = read_statement(ctx, argv[0], &f);
	if (ret == 0)
		ret = em_stmt_check(&f, opt(ctx, "account"), &ctx->err);
	if (ret == 0)
		ret = need_conn(ctx, 0);
	if (ret == 0)
		ret = em_statement_import(ctx->conn, ctx->book, opt(ctx, "account"), &f, &ns, &nl, &ctx->err);
	if (ret == 0 && ns == 0)
		printf("%s: imported before, nothing changed\n", argv[0]);
	else if (ret == 0)
		printf("%s: %zu statement%s with %zu entries imported into account %s; "
		       "match them with earmark statement match --account %s\n",
		       argv[0], ns, ns == 1 ? "" : "s", nl, opt(ctx, "account"), opt(ctx, "account"));
	em_stmt_file_release(&f);
	return ret;
}

static int cmd_statement_match(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_strbuf r = EM_STRBUF_INIT;
	int ret;

	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (argc == 0) {
		const char *params[] = { ctx->book, opt(ctx, "account"), opt(ctx, "window") };
		unsigned e2e = 0, amt = 0, ret_n = 0, left = 0;
		if (!opt(ctx, "account"))
			return usage_error(ctx, "%s", "--account NO is required to match automatically");
		ret = need_conn(ctx, 0);
		if (ret == 0)
			ret = em_bank_action(ctx->conn, "statement match", params, &r, &ctx->err);
		if (ret == 0 && sscanf(r.buf, "%u\t%u\t%u\t%u", &e2e, &amt, &ret_n, &left) == 4) {
			printf("matched %u by end-to-end id and %u by amount and date; %u returned payment%s "
			       "drafted as receipt vouchers; %u line%s left uncleared\n",
			       e2e, amt, ret_n, ret_n == 1 ? "" : "s", left, left == 1 ? "" : "s");
			if (ret_n)
				printf("returned payments: review and post their receipt vouchers, then earmark pay reissue END-TO-END-ID\n");
			if (left)
				printf("see them with earmark statement list --account %s --status uncleared\n",
				       opt(ctx, "account"));
		}
	} else {
		const char *params[] = { ctx->book, argv[0], argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL };
		if (argc < 2)
			return usage_error(ctx, "%s", "a manual match names STATEMENT:LINE VOUCHER [LINE]");
		ret = need_conn(ctx, 0);
		if (ret == 0)
			ret = em_bank_action(ctx->conn, "statement link", params, NULL, &ctx->err);
		if (ret == 0 && argc > 2)
			printf("statement line %s matched to line %s of voucher %s\n", argv[0], argv[2], argv[1]);
		else if (ret == 0)
			printf("statement line %s matched to voucher %s\n", argv[0], argv[1]);
	}
	em_strbuf_release(&r);
	return ret;
}

static int cmd_statement_unmatch(int argc, char **argv, struct em_ctx *ctx)
{
	const char *params[] = { NULL, argv[0] };

	(void)argc;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	params[0] = ctx->book;
	if (need_conn(ctx, 0) < 0 || em_bank_action(ctx->conn, "statement unmatch", params, NULL, &ctx->err) < 0)
		return EM_ERR;
	printf("statement line %s unmatched; it is uncleared again\n", argv[0]);
	return 0;
}

static int cmd_statement_list(int argc, char **argv, struct em_ctx *ctx)
{
	enum em_format fmt;

	(void)argc, (void)argv;
	if (!opt(ctx, "account"))
		return usage_error(ctx, "%s", "--account NO is required");
	if (em_report_format_parse(opt(ctx, "format"), &fmt, &ctx->err) < 0 || need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0)
		return EM_ERR;
	return em_statement_list(ctx->conn, ctx->book, opt(ctx, "account"), opt(ctx, "status"), fmt, stdout,
				 &ctx->err);
}

static int cmd_report_reconciliation(int argc, char **argv, struct em_ctx *ctx)
{
	enum em_format fmt;
	char today[11];
	const char *as_of = date_or_today(ctx, "as-of", today);
	struct em_strbuf tmp = EM_STRBUF_INIT;
	FILE *f;

	(void)argc, (void)argv;
	if (!opt(ctx, "account"))
		return usage_error(ctx, "%s", "--account NO is required: the dedicated account");
	if (em_report_format_parse(opt(ctx, "format"), &fmt, &ctx->err) < 0 || need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 || !(f = report_open(ctx, &tmp)))
		return EM_ERR;
	return report_close(ctx, f, &tmp,
			    em_report_reconciliation(ctx->conn, ctx->book, opt(ctx, "account"), as_of, fmt, f,
						     &ctx->err));
}

static int cmd_pay_reissue(int argc, char **argv, struct em_ctx *ctx)
{
	char today[11];
	const char *params[] = { NULL, argv[0], date_or_today(ctx, "date", today) };
	struct em_strbuf r = EM_STRBUF_INIT;
	char batch[64] = "", e2e[64] = "", voucher[32] = "";

	(void)argc;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	params[0] = ctx->book;
	if (need_conn(ctx, 0) < 0 || em_bank_action(ctx->conn, "pay reissue", params, &r, &ctx->err) < 0) {
		em_strbuf_release(&r);
		return EM_ERR;
	}
	if (sscanf(r.buf, "%63[^\t]\t%63[^\t]\t%31s", batch, e2e, voucher) == 3)
		printf("payment %s re-issued as %s in batch %s: draft %s (付: Dr 2303 / Cr 1002); "
		       "review and post it, then earmark pay export %s -o FILE.xml\n",
		       argv[0], e2e, batch, voucher, batch);
	em_strbuf_release(&r);
	return 0;
}

/* ---- generate (issue 7) ------------------------------------------------ */

static int cmd_generate(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_gen_opts o = { opt(ctx, "scale"), 0, 0, opt(ctx, "out") };
	struct em_gen_summary s;
	const char *seed = opt(ctx, "seed"), *year = opt(ctx, "year");
	char today[11], *end;
	int ret;

	(void)argc;
	(void)argv;
	if (!o.scale || !o.out || !seed)
		return usage_error(ctx, "%s", "--scale, --seed and -o are required");
	errno = 0;
	o.seed = strtoull(seed, &end, 10);
	if (errno || *end || !*seed || *seed == '-')
		return usage_error(ctx, "seed '%.40s' is not a whole number", seed);
	em_date_today(today);
	o.year = atoi(today) - 1;
	if (year) {
		long y = strtol(year, &end, 10);
		if (*end || !*year || y < 2000 || y >= atoi(today))
			return usage_error(ctx, "year '%.40s' is not a past year from 2000 on", year);
		o.year = (int)y;
	}
	ret = em_generate(&o, &s, &ctx->err);
	if (ret < 0)
		return ret;
	printf("%s scale, seed %s, year %d: %d %s, %ld villages, %ld households, %ld projects, %ld funds, "
	       "%ld batches, %ld claims, %ld statements, %ld returned payments, about %ld lines; "
	       "%ld attempts to refuse; in %s (load with tests/load-book %s)\n",
	       o.scale, seed, o.year, s.counties, s.counties == 1 ? "county" : "counties", s.villages,
	       s.households, s.projects, s.funds, s.batches, s.claims, s.statements, s.returns, s.lines,
	       s.refused, o.out, o.out);
	return 0;
}

static const struct em_cmd commands[] = {
	{ "db start", cmd_db_start, 0, 0, { NULL }, "",
	  "create (first time) and start the private PostgreSQL under var/" },
	{ "db stop", cmd_db_stop, 0, 0, { NULL }, "", "stop the private PostgreSQL" },
	{ "db status", cmd_db_status, 0, 0, { NULL }, "",
	  "say which database is used and whether it runs (exit 3: stopped)" },
	{ "db init", cmd_db_init, 0, 0, { NULL }, "",
	  "create the roles and apply the migrations in sql/ (admin connection)" },
	{ "user add", cmd_user_add, 1, 1, { "role", "township", NULL },
	  "NAME --role ROLE[,ROLE...] [--township CODE[,CODE...]]",
	  "create a person's login role in clerk, reviewer, bookkeeper, cashier, admin, auditor, public" },
	{ "user scope", cmd_user_scope, 1, 1, { "township", "county!", NULL },
	  "NAME --township CODE[,CODE...] | --county",
	  "limit a person to the villages of some townships in the book (9-digit codes), or give the county back" },
	{ "book create", cmd_book_create, 1, 1, { "name", "start", "accounts", NULL },
	  "CODE --name NAME --start YYYY-MM-DD [--accounts FILE.csv]",
	  "create a book with its chart of accounts (default config/accounts.csv) and the rule tables beside it" },
	{ "master import", cmd_master_import, 2, 2, { "encoding", NULL },
	  "KIND FILE.csv [--encoding auto|utf-8|gb18030]",
	  "import categories, bank accounts, funds, villages, households or projects, all or nothing" },
	{ "voucher draft", cmd_voucher_draft, 1, 1, { "date", "memo", "type", "key", "encoding", NULL },
	  "FILE.csv [--date YYYY-MM-DD] [--memo TEXT] [--type 记|收|付|转] [--key KEY] [--encoding E]",
	  "prepare a voucher from a CSV of lines (制单); prints its draft number #N" },
	{ "voucher review", cmd_voucher_review, 1, 1, { NULL }, "#N", "review a draft (审核)" },
	{ "voucher post", cmd_voucher_post, 1, 1, { NULL }, "#N",
	  "post a reviewed voucher (记账); prints its number" },
	{ "voucher reverse", cmd_voucher_reverse, 1, 1, { "date", "key", NULL },
	  "NUMBER [--date YYYY-MM-DD] [--key KEY]",
	  "draft the 红字 reversal of a posted voucher; prints its draft number" },
	{ "voucher reject", cmd_voucher_reject, 1, 1, { NULL }, "#N",
	  "send a reviewed voucher back to its preparer as a draft (reviewer or bookkeeper)" },
	{ "voucher discard", cmd_voucher_discard, 1, 1, { NULL }, "#N", "delete one's own draft" },
	{ "voucher show", cmd_voucher_show, 1, 1, { "format", NULL }, "#N|NUMBER [--format table|csv]",
	  "show a voucher and its lines" },
	{ "voucher list", cmd_voucher_list, 0, 0, { "status", "month", "format", NULL },
	  "[--status draft|reviewed|posted] [--month YYYY-MM] [--format table|csv]", "list vouchers" },
	{ "list create", cmd_list_create, 2, 2, { "project", "title", "encoding", NULL },
	  "CODE FILE.csv --project CODE --title TEXT [--encoding E]",
	  "prepare a beneficiary list (受益名单) of a project from a CSV (clerk)" },
	{ "list publish", cmd_list_publish, 1, 1, { "from", "days", NULL },
	  "CODE [--from YYYY-MM-DD] [--days N]",
	  "disclose a list (公示) for its notice period, at least 10 days (admin)" },
	{ "list object", cmd_list_object, 2, 2, { "reason", "date", NULL },
	  "LIST HOUSEHOLD --reason TEXT [--date YYYY-MM-DD]",
	  "record an objection to a household on a published list; it blocks that payment (H3)" },
	{ "list resolve", cmd_list_resolve, 1, 1, { "resolution", "date", NULL },
	  "OBJECTION-ID --resolution TEXT [--date YYYY-MM-DD]", "record how an objection was resolved (admin)" },
	{ "project event", cmd_project_event, 2, 2, { "date", "progress", "doc", "note", NULL },
	  "CODE approval|start|progress|inspection|acceptance [--date D] [--progress PCT] [--doc NO] [--note T]",
	  "record a project's approval, start, progress, inspection or acceptance" },
	{ "project revise", cmd_project_revise, 1, 1, { "fund", "amount", "doc", "reapproval", "date", NULL },
	  "CODE --fund F --amount X --doc NO [--reapproval NO] [--date D]",
	  "record an approved budget revision (over +10 % needs --reapproval, P2)" },
	{ "project claim", cmd_project_claim, 1, 1,
	  { "fund", "amount", "date", "inspection", "plan", "contract", "receipts", "receipt-count", "key", NULL },
	  "CODE --fund F --amount X --inspection NO --plan NO --contract NO --receipts NO,NO [--receipt-count N] [--date D] [--key K]",
	  "报账: a reimbursement with its documents (P4); drafts the payable and payment vouchers" },
	{ "fund interest", cmd_fund_interest, 1, 1, { "amount", "date", "key", NULL },
	  "ACCOUNT-NO --amount X [--date D] [--key K]",
	  "draft the interest of a dedicated account, shared by its funds' balances (A4)" },
	{ "pay batch", cmd_pay_batch, 1, 1, { "code", "date", "key", "encoding", NULL },
	  "FILE.csv --code BATCH [--date D] [--key K] [--encoding E]",
	  "prepare a household payment batch, all or nothing (clerk)" },
	{ "pay review", cmd_pay_step, 1, 1, { NULL }, "BATCH", "review both vouchers of a batch (reviewer)" },
	{ "pay post", cmd_pay_step, 1, 1, { NULL }, "BATCH", "post both vouchers of a batch (bookkeeper)" },
	{ "pay export", cmd_pay_export, 1, 1, { "out", NULL }, "BATCH -o FILE.xml",
	  "write the batch's ISO 20022 pain.001 file for the bank; payments become sent (cashier)" },
	{ "pay settle", cmd_pay_settle, 1, 1, { "status", NULL }, "END-TO-END-ID --status paid|returned",
	  "record the bank's answer for one payment (cashier)" },
	{ "period close", cmd_period_close, 1, 1, { NULL }, "YYYY-MM",
	  "close a month (D7): refused while vouchers are unposted or statement lines unmatched; "
	  "December only once the year is carried forward, and then the whole year" },
	{ "period carry-forward", cmd_period_carry_forward, 1, 1, { NULL }, "YYYY",
	  "draft the year-end carry-forward (年末结转) into 3301 and 3001, for review and posting (admin)" },
	{ "statement check", cmd_statement_check, 1, 1, { "format", "schema", "mapping", "encoding", NULL },
	  "FILE [--format camt053|csv] [--schema XSD] [--mapping FILE] [--encoding E]",
	  "read a bank statement safely and validate it, without importing (no database needed)" },
	{ "statement import", cmd_statement_import, 1, 1,
	  { "account", "format", "schema", "mapping", "encoding", NULL },
	  "FILE --account NO [--format camt053|csv] [--mapping config/bank_csv.conf] [--encoding E]",
	  "import a dedicated account's statement (camt.053 or the bank's CSV); twice changes nothing (cashier)" },
	{ "statement match", cmd_statement_match, 0, 3, { "account", "window", NULL },
	  "--account NO [--window DAYS] | STATEMENT:LINE VOUCHER [LINE]",
	  "match statement lines: by end-to-end id, then amount and date; or one line by hand (cashier)" },
	{ "statement unmatch", cmd_statement_unmatch, 1, 1, { NULL }, "STATEMENT:LINE",
	  "undo a match (who and when are kept); not in a closed period (cashier)" },
	{ "statement list", cmd_statement_list, 0, 0, { "account", "status", "format", NULL },
	  "--account NO [--status uncleared|cleared|reconciled] [--format table|csv|json|html]",
	  "the statement lines of an account with their status and match" },
	{ "report reconciliation", cmd_report_reconciliation, 0, 0, { "account", "as-of", "format", "out", NULL },
	  "--account NO [--as-of YYYY-MM-DD] [--format table|csv|json|html] [-o FILE]",
	  "余额调节表 of a dedicated account: balances, items in transit both ways, agreement" },
	{ "pay reissue", cmd_pay_reissue, 1, 1, { "date", NULL }, "END-TO-END-ID [--date D]",
	  "pay a returned household payment again from its restored payable (clerk)" },
	{ "report trial-balance", cmd_report_trial_balance, 0, 0, { "as-of", "fund", "format", "out", NULL },
	  "[--as-of YYYY-MM-DD] [--fund CODE] [--format table|csv|json|html] [-o FILE]",
	  "试算平衡表 as of a date" },
	{ "report general-ledger", cmd_report, 0, 0,
	  { "from", "to", "as-of", "account", "fund", "project", "village", "household", "format", "out", NULL },
	  "[--from D] [--to D] [--account CODE] [--fund F] [--project P] [--village V] [--household H] "
	  "[--format table|csv|json|html] [-o FILE]",
	  "总账: per account and month, opening, debits, credits, closing; by any dimension" },
	{ "report detail-ledger", cmd_report, 0, 0,
	  { "from", "to", "as-of", "account", "fund", "project", "village", "household", "format", "out", NULL },
	  "[--from D] [--to D] [--account CODE] [--fund F] [--project P] [--village V] [--household H] "
	  "[--format table|csv|json|html] [-o FILE]",
	  "明细账: every posted line with the running balance; by any dimension" },
	{ "report bank-journal", cmd_report, 0, 0, { "from", "to", "as-of", "bank-account", "format", "out", NULL },
	  "[--from D] [--to D] [--bank-account NO] [--format table|csv|json|html] [-o FILE]",
	  "银行存款日记账 per dedicated account" },
	{ "report fund-statement", cmd_report, 0, 0, { "as-of", "format", "out", NULL },
	  "[--as-of D] [--format table|csv|json|html] [-o FILE]",
	  "资金收支情况表: per fund and level, allocated, received, paid, balance, 支出进度" },
	{ "report project-ledger", cmd_report, 0, 0, { "as-of", "fund", "format", "out", NULL },
	  "[--as-of D] [--fund F] [--format table|csv|json|html] [-o FILE]",
	  "项目台账: budget, stage, progress, paid, remaining per project and fund" },
	{ "report village-register", cmd_report, 0, 0, { "as-of", "format", "out", NULL },
	  "[--as-of D] [--format table|csv|json|html] [-o FILE]",
	  "村册: per village, households, projects and what was paid" },
	{ "report household-ledger", cmd_report, 0, 0, { "household", "from", "as-of", "format", "out", NULL },
	  "--household CODE [--from D] [--as-of D] [--format table|csv|json|html] [-o FILE]",
	  "到户台账: every payment to a household across funds and years (masked outside the office, H4)" },
	{ "report idle-funds", cmd_report, 0, 0, { "as-of", "format", "out", NULL },
	  "[--as-of D] [--format table|csv|json|html] [-o FILE]",
	  "idle funds and carry-overs (P5): over 60 days unspent, carried over 2 years, paid without progress" },
	{ "report exceptions", cmd_report, 0, 0, { "from", "to", "as-of", "format", "out", NULL },
	  "[--from D] [--to D] [--format table|csv|json|html] [-o FILE]",
	  "every refused command with rule, record, user and time, and the P5 findings" },
	{ "ledger verify-chain", cmd_ledger_verify_chain, 0, 0, { NULL }, "",
	  "recompute the book's hash chain (D8) and compare it with the stored one" },
	{ "audit export", cmd_audit_export, 0, 0, { "from", "to", "key", "cert", "chain", "out", NULL },
	  "--from DATE --to DATE --key KEY.pem --cert CERT.pem [--chain CHAIN.pem] -o FILE.asice",
	  "write the signed audit package of a period (auditor)" },
	{ "audit verify", cmd_audit_verify, 1, 1, { "ca", "signer", NULL },
	  "FILE.asice --ca CA.pem [--signer SHA256-FINGERPRINT]",
	  "verify an audit package: signature, file set, content (no database needed)" },
	{ "notice make", cmd_notice_make, 0, 0,
	  { "village", "project", "county!", "kind", "format", "paper", "from", "days", "out", NULL },
	  "--village CODE|--project CODE|--county --kind plan|result --format html|pdf|txt|xml [--paper A4|A3] "
	  "[--from D --days N] -o FILE",
	  "write a public notice (公示/公告): the published one, or a draft from the ledger for a period" },
	{ "notice publish", cmd_notice_publish, 0, 0,
	  { "village", "project", "county!", "kind", "from", "days", "list", NULL },
	  "--village CODE|--project CODE|--county --kind plan|result [--from D] [--days N] [--list L1,L2]",
	  "publish a notice for its period (at least 10 days) with the beneficiary lists it discloses (admin)" },
	{ "notice object", cmd_notice_object, 0, 2, { "reason", "date", "resolve", "resolution", NULL },
	  "NOTICE HOUSEHOLD --reason TEXT [--date D] | --resolve OBJECTION-ID --resolution TEXT [--date D]",
	  "record an objection to a line of a published notice (it blocks that payment, H3), or its resolution" },
	{ "notice contact", cmd_notice_contact, 0, 0, { "publisher", "hotline", NULL },
	  "--publisher NAME --hotline NUMBER", "who publishes the book's notices and the local supervision hotline (admin)" },
	{ "serve", cmd_serve, 0, 0, { "listen", NULL }, "--listen 127.0.0.1:PORT",
	  "run the public notice board (as a role in earmark_public only)" },
	{ "generate", cmd_generate, 0, 0, { "scale", "seed", "year", "out", NULL },
	  "--scale demo|county|province --seed N [--year YYYY] -o DIR",
	  "write realistic books (master data, vouchers, lists, batches, statements) as input files, by seed" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_help(FILE *out)
{
	fprintf(out, "usage: earmark [--config FILE] [--user ROLE] [--book CODE] <command> [options]\n\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-22s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n'earmark <command> --help' describes one command.\n");
}

static void print_command_help(const struct em_cmd *c)
{
	printf("usage: earmark %s %s\n\n%s\n\ncommon options:\n"
	       "  --config FILE  configuration file (default config/earmark.conf)\n"
	       "  --user ROLE    connect as this database role\n"
	       "  --book CODE    the book to work on\n",
	       c->name, c->usage, c->help);
}

static void print_error(const struct em_error *err)
{
	fprintf(stderr, "earmark: error: %s\n", err->message ? err->message : "failed");
	if (err->detail && *err->detail)
		fprintf(stderr, "detail: %s\n", err->detail);
	if (err->hint && *err->hint)
		fprintf(stderr, "hint: %s\n", err->hint);
	else if (strcmp(err->sqlstate, "42501") == 0)
		fprintf(stderr, "hint: this needs a role you do not have; an administrator grants it "
				"with earmark user add NAME --role ROLE\n");
}

/*
 * Parses argv[start..] against the command's options and the common ones;
 * "--name value" and "--name=value" both work, "--" ends options.
 */
static int parse_args(int argc, char **argv, int start, struct em_ctx *ctx, char **pos, int *npos)
{
	static char out_option[] = "out";

	*npos = 0;
	for (int i = start; i < argc; i++) {
		char *a = argv[i];
		char *eq;
		const char *value;
		const char **slot = NULL;
		int flag = 0;

		if (strcmp(a, "--") == 0) {
			for (i++; i < argc; i++) {
				if (*npos == MAX_ARGS)
					return usage_error(ctx, "too many arguments at '%.40s'", argv[i]);
				pos[(*npos)++] = argv[i];
			}
			break;
		}
		if (strcmp(a, "-o") == 0) {
			a = out_option;   /* -o FILE, as in the pay export usage */
		} else if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			if (*npos == MAX_ARGS)
				return usage_error(ctx, "too many arguments at '%.40s'", a);
			pos[(*npos)++] = a;
			continue;
		} else {
			a += 2;
		}
		eq = strchr(a, '=');
		if (eq)
			*eq = '\0';
		if (strcmp(a, "config") == 0)
			slot = &ctx->config_path;
		else if (strcmp(a, "user") == 0)
			slot = &ctx->user;
		else if (strcmp(a, "book") == 0)
			slot = &ctx->book;
		for (int o = 0; !slot && o < MAX_OPTS && current->opts[o]; o++)
			if (opt_is(current->opts[o], a)) {
				slot = &ctx->opt[o];
				flag = strchr(current->opts[o], '!') != NULL;
			}
		if (!slot)
			return usage_error(ctx, "unknown option '--%.40s'", a);
		if (flag && eq)
			return usage_error(ctx, "option '--%.40s' takes no value", a);
		if (flag)
			value = "1";
		else if (eq)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return usage_error(ctx, "option '--%.40s' needs a value", a);
		*slot = value;
	}
	if (*npos < current->min_args)
		return usage_error(ctx, "%s", "missing argument");
	if (*npos > current->max_args)
		return usage_error(ctx, "unexpected argument '%.40s'", pos[current->max_args]);
	return 0;
}

int main(int argc, char **argv)
{
	struct em_ctx ctx;
	char *pos[MAX_ARGS];
	int npos = 0;
	int first = 1;
	int words = 2;   /* of the command's name */
	int ret;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = (struct em_config)EM_CONFIG_INIT;
	ctx.err = (struct em_error)EM_ERROR_INIT;

	/* Common options may also come before the command. */
	while (first + 1 < argc && (strcmp(argv[first], "--config") == 0 ||
				    strcmp(argv[first], "--user") == 0 ||
				    strcmp(argv[first], "--book") == 0)) {
		const char **slot = argv[first][2] == 'c' ? &ctx.config_path
				    : argv[first][2] == 'u' ? &ctx.user : &ctx.book;
		*slot = argv[first + 1];
		first += 2;
	}
	if (first >= argc || strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "help") == 0) {
		print_help(first >= argc ? stderr : stdout);
		return first >= argc ? 2 : 0;
	}
	for (size_t i = 0; i < NCOMMANDS && !current; i++) {
		size_t n = strlen(argv[first]);
		const char *name = commands[i].name;
		if (strcmp(name, argv[first]) == 0) {
			current = &commands[i];   /* a one-word command: serve */
			words = 1;
			continue;
		}
		if (strncmp(name, argv[first], n) != 0 || name[n] != ' ' || first + 1 >= argc)
			continue;
		if (strcmp(name + n + 1, argv[first + 1]) == 0)
			current = &commands[i];
	}
	if (!current) {
		fprintf(stderr, "earmark: error: unknown command '%.40s%s%.40s'\n", argv[first],
			first + 1 < argc ? " " : "", first + 1 < argc ? argv[first + 1] : "");
		fprintf(stderr, "hint: 'earmark --help' lists the commands\n");
		return 2;
	}
	for (int i = first + words; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_command_help(current);
			return 0;
		}
	}
	ret = parse_args(argc, argv, first + words, &ctx, pos, &npos);
	if (ret == 0)
		ret = em_config_load(&ctx.cfg, ctx.config_path, &ctx.err);
	if (ret == 0)
		ret = current->fn(npos, pos, &ctx);
	if (ret < 0)
		em_user_explain_denied(ctx.conn, current->name, &ctx.err);
	if (ret < 0)
		print_error(&ctx.err);
	/*
	 * The exceptions log (issue 4): a command refused by a rule (SQLSTATE
	 * class EM, or 42501 for a job the role does not hold) is recorded by
	 * the server in a transaction of its own, after the refused one rolled
	 * back, so the record survives the rollback.  A failure to record is
	 * ignored: the error printed above is what the user must see.
	 */
	if (ret < 0 && ctx.conn &&
	    (strncmp(ctx.err.sqlstate, "EM", 2) == 0 || strcmp(ctx.err.sqlstate, "42501") == 0)) {
		struct em_error ignored = EM_ERROR_INIT;
		struct em_strbuf record = EM_STRBUF_INIT;

		for (int i = 0; i < npos; i++)
			em_strbuf_addf(&record, "%s%s", i ? " " : "", pos[i]);
		(void)em_refusal_log(ctx.conn, ctx.book, &ctx.err, current->name, record.buf, &ignored);
		em_strbuf_release(&record);
		em_error_release(&ignored);
	}
	fflush(stdout);
	PQfinish(ctx.conn);
	em_error_release(&ctx.err);
	em_config_release(&ctx.cfg);
	return ret == 0 ? 0 : ret == EM_ERR_USAGE ? 2 : ret > 0 ? ret : 1;
}
