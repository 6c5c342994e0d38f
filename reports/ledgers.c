/*
 * The ledgers and reports of issue 4, each as of a date, each in the four
 * formats of table.c: 总账 and 明细账 by account and any dimension, 银行存款
 * 日记账, 资金收支情况表, 项目台账, 村册, 到户台账, idle funds and carry-overs
 * (P5), and the exceptions (refused commands and P5 findings).
 *
 * The sums are the database's (sql/migrations/0013_reports.sql): whole
 * months from kept totals, only the lines of the months a report's dates
 * cut into, so a report costs what it shows, not what the book holds.
 * This file only knows, per report, which function to call with which
 * options, and what each column is: text, a count, or money in fen, which
 * it formats (grouped for people, plain for CSV and JSON) and, where a
 * column adds up, totals in a last 合计 row.  One table (reports[]) lists
 * them, so a new report is a row, not a file.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/date.h"
#include "ledger/db.h"
#include "ledger/error.h"
#include "ledger/money.h"
#include "reports/reports.h"
#include "reports/table.h"

#define MAX_COLS 14
#define MAX_PARAMS 8

struct report_col {
	const char *key;    /* CSV header and JSON key */
	const char *label;  /* what people read (table, HTML) */
	char kind;          /* 't' text, 'r' right-aligned text, 'm' money, 'M' money totalled, 'N' count totalled */
};

struct report_def {
	const char *name;              /* as in `earmark report NAME` */
	const char *title;             /* the document's title */
	const char *sql;               /* $1 the book, then params[] in order */
	const char *params[MAX_PARAMS]; /* option names feeding $2...: "from", "as-of", "fund", ... */
	const char *required;          /* NULL or an option that must be given */
	int total_col;                 /* column of the 合计 label, -1: no total row */
	struct report_col cols[MAX_COLS]; /* ends at key NULL */
};

static const struct report_def reports[] = {
	{ "general-ledger", "总账 general ledger",
	  "SELECT code, name, side, month, opening_fen, debit_fen, credit_fen, closing_fen "
	  "FROM earmark.general_ledger($1, $2::date, $3::date, $4, $5, $6, $7, $8)",
	  { "from", "as-of", "account", "fund", "project", "village", "household", NULL }, NULL, 1,
	  { { "code", "科目编码", 't' }, { "account", "科目名称", 't' }, { "side", "方向", 't' },
	    { "month", "期间", 't' }, { "opening", "期初余额", 'm' }, { "debit", "本期借方", 'M' },
	    { "credit", "本期贷方", 'M' }, { "closing", "期末余额", 'm' }, { NULL, NULL, 0 } } },
	{ "detail-ledger", "明细账 detail ledger",
	  "SELECT code, name, voucher_date, number, memo, fund, project, village, household, "
	  "debit_fen, credit_fen, side, balance_fen "
	  "FROM earmark.detail_ledger($1, $2::date, $3::date, $4, $5, $6, $7, $8)",
	  { "from", "as-of", "account", "fund", "project", "village", "household", NULL }, NULL, 4,
	  { { "code", "科目编码", 't' }, { "account", "科目名称", 't' }, { "date", "日期", 't' },
	    { "voucher", "凭证号", 't' }, { "memo", "摘要", 't' }, { "fund", "资金", 't' },
	    { "project", "项目", 't' }, { "village", "村", 't' }, { "household", "户", 't' },
	    { "debit", "借方", 'M' }, { "credit", "贷方", 'M' }, { "side", "方向", 't' },
	    { "balance", "余额", 'm' }, { NULL, NULL, 0 } } },
	{ "bank-journal", "银行存款日记账 bank journal",
	  "SELECT account_no, bank_name, voucher_date, number, memo, fund, receipt_fen, payment_fen, "
	  "balance_fen FROM earmark.bank_journal($1, $2::date, $3::date, $4)",
	  { "from", "as-of", "bank-account", NULL }, NULL, 4,
	  { { "bank_account", "账号", 't' }, { "bank", "开户行", 't' }, { "date", "日期", 't' },
	    { "voucher", "凭证号", 't' }, { "memo", "摘要", 't' }, { "fund", "资金", 't' },
	    { "receipt", "收入", 'M' }, { "payment", "支出", 'M' }, { "balance", "余额", 'm' },
	    { NULL, NULL, 0 } } },
	{ "fund-statement", "资金收支情况表 fund statement",
	  "SELECT level, fund, name, year, allocated_fen, received_fen, projects_fen, households_fen, "
	  "balance_fen, rate FROM earmark.fund_statement($1, $2::date)",
	  { "as-of", NULL }, NULL, -1,
	  { { "level", "级次", 't' }, { "fund", "资金编码", 't' }, { "name", "资金名称", 't' },
	    { "year", "年度", 'r' }, { "allocated", "下达金额", 'm' }, { "received", "到位金额", 'm' },
	    { "paid_projects", "项目支出", 'm' }, { "paid_households", "到户支出", 'm' },
	    { "balance", "专户余额", 'm' }, { "rate", "支出进度", 'r' }, { NULL, NULL, 0 } } },
	{ "project-ledger", "项目台账 project ledger",
	  "SELECT project, name, fund, stage, progress, budget_fen, paid_fen, households_fen, "
	  "remaining_fen, rate FROM earmark.project_ledger($1, $2::date, $3)",
	  { "as-of", "fund", NULL }, NULL, 1,
	  { { "project", "项目编码", 't' }, { "name", "项目名称", 't' }, { "fund", "资金", 't' },
	    { "stage", "阶段", 't' }, { "progress", "进度", 'r' }, { "budget", "预算", 'M' },
	    { "paid", "已支付", 'M' }, { "paid_households", "其中到户", 'M' },
	    { "remaining", "结余", 'M' }, { "rate", "支付进度", 'r' }, { NULL, NULL, 0 } } },
	{ "village-register", "村册 village register",
	  "SELECT code, name, township, households, poverty_exited, monitored, projects, "
	  "households_fen, projects_fen FROM earmark.village_register($1, $2::date)",
	  { "as-of", NULL }, NULL, 1,
	  { { "village", "村代码", 't' }, { "name", "村名", 't' }, { "township", "乡镇", 't' },
	    { "households", "户数", 'N' }, { "poverty_exited", "脱贫户", 'N' },
	    { "monitored", "监测户", 'N' }, { "projects", "项目数", 'r' },
	    { "paid_households", "到户支出", 'M' }, { "paid_projects", "项目支出", 'M' },
	    { NULL, NULL, 0 } } },
	{ "household-ledger", "到户台账 household ledger",
	  "SELECT household, head_name, id_no, village, voucher_date, number, fund, year, project, "
	  "category, amount_fen, memo FROM earmark.household_ledger($1, $2, $3::date, $4::date)",
	  { "household", "as-of", "from", NULL }, "household", 9,
	  { { "household", "户编码", 't' }, { "head", "户主", 't' }, { "id_no", "身份证号", 't' },
	    { "village", "村", 't' }, { "date", "日期", 't' }, { "voucher", "凭证号", 't' },
	    { "fund", "资金", 't' }, { "year", "年度", 'r' }, { "project", "项目", 't' },
	    { "category", "用途", 't' }, { "amount", "金额", 'M' }, { "memo", "摘要", 't' },
	    { NULL, NULL, 0 } } },
	{ "idle-funds", "闲置与结转资金 idle funds and carry-overs (P5)",
	  "SELECT finding, fund, project, since, days, amount_fen, note "
	  "FROM earmark.idle_funds($1, $2::date)",
	  { "as-of", NULL }, NULL, -1,
	  { { "finding", "类别", 't' }, { "fund", "资金", 't' }, { "project", "项目", 't' },
	    { "since", "起始日", 't' }, { "days", "天数", 'r' }, { "amount", "金额", 'm' },
	    { "note", "说明", 't' }, { NULL, NULL, 0 } } },
	{ "exceptions", "例外情况 exceptions",
	  "SELECT at, refused_by, rule, sqlstate, command, record, message, detail "
	  "FROM earmark.exceptions($1, $2::date, $3::date)",
	  { "from", "as-of", NULL }, NULL, -1,
	  { { "at", "时间", 't' }, { "user", "用户", 't' }, { "rule", "规则", 't' },
	    { "sqlstate", "SQLSTATE", 't' }, { "command", "命令", 't' }, { "record", "记录", 't' },
	    { "message", "拒绝原因", 't' }, { "detail", "详情", 't' }, { NULL, NULL, 0 } } },
};

#define NREPORTS (sizeof(reports) / sizeof(reports[0]))

static const struct report_def *find(const char *name)
{
	for (size_t i = 0; i < NREPORTS; i++)
		if (strcmp(reports[i].name, name) == 0)
			return &reports[i];
	return NULL;
}

static int has_param(const struct report_def *def, const char *name)
{
	for (int i = 0; i < MAX_PARAMS && def->params[i]; i++)
		if (strcmp(def->params[i], name) == 0)
			return 1;
	return 0;
}

int em_report_known(const char *name)
{
	return name && find(name) != NULL;
}

static const char *option(const struct em_report_opts *o, const char *name)
{
	if (strcmp(name, "as-of") == 0)
		return o->as_of;
	if (strcmp(name, "from") == 0)
		return o->from;
	if (strcmp(name, "account") == 0)
		return o->account;
	if (strcmp(name, "fund") == 0)
		return o->fund;
	if (strcmp(name, "project") == 0)
		return o->project;
	if (strcmp(name, "village") == 0)
		return o->village;
	if (strcmp(name, "household") == 0)
		return o->household;
	if (strcmp(name, "bank-account") == 0)
		return o->bank_account;
	return NULL;
}

/* A fen amount as text for fmt; an empty cell stays empty. */
static const char *money_cell(const char *fen_text, enum em_format fmt, char *buf, size_t size)
{
	int64_t v;

	if (!*fen_text)
		return "";
	v = strtoll(fen_text, NULL, 10);
	return fmt == EM_FORMAT_CSV || fmt == EM_FORMAT_JSON ? em_money_format(v, buf, size)
							      : em_money_format_grouped(v, buf, size);
}

int em_report_run(PGconn *conn, const char *book, const char *name, const struct em_report_opts *o,
		  enum em_format fmt, FILE *out, struct em_error *err)
{
	const struct report_def *def = find(name);
	const char *params[1 + MAX_PARAMS];
	const char *head[MAX_COLS], *label[MAX_COLS];
	int right[MAX_COLS];
	const char *facts[2 * (2 + MAX_PARAMS) + 1];
	struct em_table_doc doc;
	struct em_table t;
	PGresult *res = NULL;
	int64_t sum[MAX_COLS];
	int totals = 0;
	int nparams = 1, ncols = 0, nfacts = 0;
	int ret = EM_ERR;

	if (!def) {
		em_error_set(err, "unknown report '%.40s'", name ? name : "");
		return EM_ERR_USAGE;
	}
	if (def->required && !option(o, def->required)) {
		em_error_set(err, "report %s needs --%s", def->name, def->required);
		em_error_hint(err, "earmark report %s --%s CODE", def->name, def->required);
		return EM_ERR_USAGE;
	}
	if (em_date_check(o->as_of, "--as-of", err) < 0 ||
	    (o->from && em_date_check(o->from, "--from", err) < 0))
		return EM_ERR;
	params[0] = book;
	facts[nfacts++] = "book";
	facts[nfacts++] = book;
	for (int i = 0; i < MAX_PARAMS && def->params[i]; i++) {
		const char *v = option(o, def->params[i]);
		params[nparams++] = v;
		if (v) {
			facts[nfacts++] = strcmp(def->params[i], "as-of") == 0
						  ? (has_param(def, "from") ? "to" : "as of")
						  : def->params[i];
			facts[nfacts++] = v;
		}
	}
	facts[nfacts] = NULL;
	for (ncols = 0; ncols < MAX_COLS && def->cols[ncols].key; ncols++) {
		head[ncols] = def->cols[ncols].key;
		label[ncols] = def->cols[ncols].label;
		right[ncols] = def->cols[ncols].kind != 't';
		sum[ncols] = 0;
		if (def->cols[ncols].kind == 'M' || def->cols[ncols].kind == 'N')
			totals = def->total_col >= 0;
	}
	res = em_db_exec(conn, def->sql, nparams, params, PGRES_TUPLES_OK, ncols, err);
	if (!res)
		return EM_ERR;
	em_table_init(&t, (size_t)ncols, head, right);
	t.label = label;
	for (int r = 0; r < PQntuples(res); r++) {
		const char *cells[MAX_COLS];
		char buf[MAX_COLS][EM_MONEY_BUFSZ];

		for (int c = 0; c < ncols; c++) {
			const char *v = PQgetisnull(res, r, c) ? "" : PQgetvalue(res, r, c);
			char kind = def->cols[c].kind;

			if ((kind == 'M' || kind == 'N') && *v)
				sum[c] += strtoll(v, NULL, 10);
			cells[c] = kind == 'm' || kind == 'M' ? money_cell(v, fmt, buf[c], sizeof(buf[c])) : v;
		}
		em_table_add(&t, cells);
	}
	if (totals) {
		const char *cells[MAX_COLS];
		char buf[MAX_COLS][EM_MONEY_BUFSZ];

		for (int c = 0; c < ncols; c++) {
			char kind = def->cols[c].kind;
			cells[c] = "";
			if (kind == 'M') {
				snprintf(buf[c], sizeof(buf[c]), "%" PRId64, sum[c]);
				cells[c] = money_cell(buf[c], fmt, buf[c], sizeof(buf[c]));
			} else if (kind == 'N') {
				snprintf(buf[c], sizeof(buf[c]), "%" PRId64, sum[c]);
				cells[c] = buf[c];
			}
		}
		cells[def->total_col] = "合计 total";
		em_table_add(&t, cells);
	}
	doc.name = def->name;
	doc.title = def->title;
	doc.facts = facts;
	doc.footer = NULL;
	if (em_table_write(&t, fmt, &doc, out) < 0)
		em_error_set(err, "could not write the report");
	else
		ret = 0;
	em_table_release(&t);
	PQclear(res);
	return ret;
}
