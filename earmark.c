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
#include "posting/pain001.h"
#include "posting/posting.h"
#include "reports/reports.h"

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

static const char *opt(struct em_ctx *ctx, const char *name)
{
	for (int i = 0; i < MAX_OPTS && current->opts[i]; i++)
		if (strcmp(current->opts[i], name) == 0)
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
	(void)argc;
	if (!opt(ctx, "role"))
		return usage_error(ctx, "%s", "--role is required");
	if (need_conn(ctx, 1) < 0 || em_user_add(ctx->conn, argv[0], opt(ctx, "role"), &ctx->err) < 0)
		return EM_ERR;
	printf("user '%s' has roles %s\n", argv[0], opt(ctx, "role"));
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

static int cmd_report_trial_balance(int argc, char **argv, struct em_ctx *ctx)
{
	enum em_format fmt;
	char today[11];
	const char *as_of = date_or_today(ctx, "as-of", today);

	(void)argc, (void)argv;
	if (em_format_parse(opt(ctx, "format"), &fmt, &ctx->err) < 0 || need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0)
		return EM_ERR;
	return em_report_trial_balance(ctx->conn, ctx->book, as_of, opt(ctx, "fund"), fmt, stdout,
				       &ctx->err);
}

static int cmd_ledger_verify_chain(int argc, char **argv, struct em_ctx *ctx)
{
	struct em_chain_result r;

	(void)argc, (void)argv;
	if (need_book(ctx) < 0)
		return EM_ERR_USAGE;
	if (need_conn(ctx, 0) < 0 || em_chain_verify(ctx->conn, ctx->book, &r, &ctx->err) < 0)
		return EM_ERR;
	printf("hash chain of book '%s' verifies: %lld vouchers, head %s\n", ctx->book,
	       (long long)r.vouchers, r.head);
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
	{ "user add", cmd_user_add, 1, 1, { "role", NULL }, "NAME --role ROLE[,ROLE...]",
	  "create a person's login role in clerk, reviewer, bookkeeper, cashier, admin, auditor, public" },
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
	{ "period close", cmd_period_close, 1, 1, { NULL }, "YYYY-MM", "close a month (D7)" },
	{ "report trial-balance", cmd_report_trial_balance, 0, 0, { "as-of", "fund", "format", NULL },
	  "[--as-of YYYY-MM-DD] [--fund CODE] [--format table|csv]", "试算平衡表 as of a date" },
	{ "ledger verify-chain", cmd_ledger_verify_chain, 0, 0, { NULL }, "",
	  "recompute the book's hash chain (D8) and compare it with the stored one" },
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
			if (strcmp(current->opts[o], a) == 0)
				slot = &ctx->opt[o];
		if (!slot)
			return usage_error(ctx, "unknown option '--%.40s'", a);
		if (eq)
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
	for (int i = first + 2; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_command_help(current);
			return 0;
		}
	}
	ret = parse_args(argc, argv, first + 2, &ctx, pos, &npos);
	if (ret == 0)
		ret = em_config_load(&ctx.cfg, ctx.config_path, &ctx.err);
	if (ret == 0)
		ret = current->fn(npos, pos, &ctx);
	if (ret < 0)
		print_error(&ctx.err);
	fflush(stdout);
	PQfinish(ctx.conn);
	em_error_release(&ctx.err);
	em_config_release(&ctx.cfg);
	return ret == 0 ? 0 : ret == EM_ERR_USAGE ? 2 : ret > 0 ? ret : 1;
}
