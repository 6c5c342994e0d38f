/*
 * Administration: people (login roles), books and master data.
 *
 * A person is a PostgreSQL LOGIN role that is a member of earmark's group
 * roles (DESIGN section 8); DDL cannot take parameters, so the name is
 * checked against a strict pattern and still quoted with
 * PQescapeIdentifier.  Books and master data are written by SQL functions
 * that check the caller is an earmark_admin; this file only turns CSV into
 * their JSON arguments.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ledger/csv.h"
#include "ledger/date.h"
#include "ledger/db.h"
#include "ledger/error.h"
#include "ledger/idno.h"
#include "ledger/json.h"
#include "ledger/strbuf.h"
#include "posting/import.h"
#include "posting/posting.h"

static const char *const group_roles[] = { "clerk", "reviewer", "bookkeeper", "cashier",
					   "admin", "auditor", "public" };

static int valid_role_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 63 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return strncmp(s, "earmark_", 8) != 0 && strncmp(s, "pg_", 3) != 0;
}

/*
 * Sets, inside the caller's transaction, the person's townships in a book
 * (earmark.user_scope, which only the schema owner's members may call):
 * "610826101,610826102", or "" for the county office.
 */
static int scope_call(PGconn *admin, const char *book, const char *name, const char *townships,
		      struct em_error *err)
{
	const char *params[] = { book, name, townships };
	PGresult *res = em_db_exec(admin,
				   "SELECT earmark.user_scope($1, $2, "
				   "pg_catalog.array_remove(pg_catalog.string_to_array($3, ','), ''))",
				   3, params, PGRES_TUPLES_OK, 1, err);

	if (!res)
		return EM_ERR;
	PQclear(res);
	return 0;
}

int em_user_scope(PGconn *admin, const char *book, const char *name, const char *townships,
		  struct em_error *err)
{
	if (!valid_role_name(name)) {
		em_error_set(err, "invalid user name '%.64s'", name);
		em_error_hint(err, "lowercase letters, digits and '_', starting with a letter; not earmark_* or pg_*");
		return EM_ERR;
	}
	if (em_db_command(admin, "BEGIN", 0, NULL, err) < 0)
		return EM_ERR;
	if (scope_call(admin, book, name, townships, err) < 0) {
		PQclear(PQexec(admin, "ROLLBACK"));
		return EM_ERR;
	}
	return em_db_command(admin, "COMMIT", 0, NULL, err);
}

int em_user_add(PGconn *admin, const char *name, const char *roles, const char *book,
		const char *townships, struct em_error *err)
{
	struct em_strbuf sql = EM_STRBUF_INIT;
	char *list = strdup(roles ? roles : "");
	char *ident = NULL;
	const char *chosen[8];
	int nchosen = 0, cashier = 0, reviewer = 0;
	int ret = EM_ERR;

	if (!list)
		abort();
	if (!valid_role_name(name)) {
		em_error_set(err, "invalid user name '%.64s'", name);
		em_error_hint(err, "lowercase letters, digits and '_', starting with a letter; not earmark_* or pg_*");
		goto out;
	}
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int known = 0;
		for (size_t i = 0; i < sizeof(group_roles) / sizeof(group_roles[0]); i++)
			if (strcmp(tok, group_roles[i]) == 0)
				known = 1;
		if (!known || nchosen == 8) {
			em_error_set(err, "unknown role '%.32s'", tok);
			em_error_hint(err, "roles: clerk, reviewer, bookkeeper, cashier, admin, auditor, public");
			goto out;
		}
		cashier |= strcmp(tok, "cashier") == 0;
		reviewer |= strcmp(tok, "reviewer") == 0;
		chosen[nchosen++] = tok;
	}
	if (nchosen == 0) {
		em_error_set(err, "a user needs at least one role");
		em_error_hint(err, "earmark user add NAME --role clerk");
		goto out;
	}
	if (cashier && reviewer) {
		em_error_set(err, "a cashier may not review vouchers (D6)");
		em_error_hint(err, "give the cashier and the reviewer roles to different people");
		goto out;
	}
	ident = PQescapeIdentifier(admin, name, strlen(name));
	if (!ident) {
		em_error_from_conn(err, admin, "could not quote the user name");
		goto out;
	}
	{
		const char *params[] = { name };
		PGresult *res = em_db_exec(admin, "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1",
					   1, params, PGRES_TUPLES_OK, 1, err);
		if (!res)
			goto out;
		if (PQntuples(res) == 0)
			em_strbuf_addf(&sql, "CREATE ROLE %s LOGIN;", ident);
		PQclear(res);
	}
	for (int i = 0; i < nchosen; i++)
		em_strbuf_addf(&sql, "GRANT earmark_%s TO %s;", chosen[i], ident);
	if (em_db_command(admin, "BEGIN", 0, NULL, err) < 0)
		goto out;
	{
		PGresult *res = PQexec(admin, sql.buf);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			em_error_from_result(err, res);
			PQclear(res);
			PQclear(PQexec(admin, "ROLLBACK"));
			goto out;
		}
		PQclear(res);
	}
	{
		/* D6 across calls: the roles already held count too. */
		const char *params[] = { name };
		PGresult *res = em_db_exec(admin,
					   "SELECT pg_catalog.pg_has_role($1, 'earmark_cashier', 'MEMBER') "
					   "   AND pg_catalog.pg_has_role($1, 'earmark_reviewer', 'MEMBER')",
					   1, params, PGRES_TUPLES_OK, 1, err);
		int both = res && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;

		PQclear(res);
		if (!res || both) {
			PQclear(PQexec(admin, "ROLLBACK"));
			if (both) {
				em_error_set(err, "a cashier may not review vouchers (D6)");
				em_error_detail(err, "'%s' would be both cashier and reviewer", name);
				em_error_hint(err, "give the cashier and the reviewer roles to different people");
			}
			goto out;
		}
	}
	/* The scope in the same transaction: never an unscoped moment. */
	if (townships && scope_call(admin, book, name, townships, err) < 0) {
		PQclear(PQexec(admin, "ROLLBACK"));
		goto out;
	}
	if (em_db_command(admin, "COMMIT", 0, NULL, err) < 0)
		goto out;
	ret = 0;
out:
	PQfreemem(ident);
	free(list);
	em_strbuf_release(&sql);
	return ret;
}

static const char *normalise_bool(const char *v, const char **why)
{
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0)
		return "true";
	if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
		return "false";
	*why = "write true or false";
	return NULL;
}

static const struct em_column account_columns[] = {
	{ "code", "科目代码", 0, 1, NULL, NULL, NULL },
	{ "name", "科目名称", 0, 1, NULL, NULL, NULL },
	{ "kind", "类别", 0, 1, NULL, NULL, NULL },
	{ "normal_side", "余额方向", 0, 1, NULL, NULL, NULL },
	{ "is_bank", "银行科目", 0, 0, normalise_bool, NULL, NULL },
};

/* Reads a CSV and converts it; the file is released before returning. */
static int csv_json(const char *path, const char *encoding, const struct em_column *cols,
		    size_t ncols, struct em_strbuf *json, size_t *nrows, struct em_error *err)
{
	struct em_csv csv = EM_CSV_INIT;
	int ret = em_csv_read_file(&csv, path, encoding, err);

	if (ret == 0)
		ret = em_import_csv_json(&csv, cols, ncols, json, nrows, err);
	em_csv_release(&csv);
	return ret;
}

/* The master-data files: one column list per kind (README, "Master data"). */
static const struct em_column category_columns[] = {
	{ "code", "代码", 0, 1, NULL, NULL, NULL },
	{ "name", "名称", 0, 1, NULL, NULL, NULL },
};
static const struct em_column bank_account_columns[] = {
	{ "account_no", "账号", 0, 1, NULL, NULL, NULL },
	{ "bank_name", "开户行", 0, 1, NULL, NULL, NULL },
	{ "cnaps", "行号", 0, 1, NULL, NULL, NULL },
	{ "holder", "户名", 0, 0, NULL, NULL, NULL },
};
static const struct em_column fund_columns[] = {
	{ "code", "资金代码", 0, 1, NULL, NULL, NULL },
	{ "name", "资金名称", 0, 1, NULL, NULL, NULL },
	{ "level", "级次", 0, 1, NULL, NULL, NULL },
	{ "type", "类型", 0, 0, NULL, NULL, NULL },
	{ "year", "年度", 0, 1, NULL, NULL, NULL },
	{ "doc_no", "文号", 0, 0, NULL, NULL, NULL },
	{ "amount", "金额", 1, 1, NULL, NULL, NULL },
	{ "bank_account", "专户", 0, 1, NULL, NULL, NULL },
	{ "categories", "用途|允许用途", 0, 0, NULL, NULL, NULL },
	{ "received_on", "到账日期", 0, 0, NULL, NULL, NULL },
};
static const struct em_column village_columns[] = {
	{ "code", "区划代码", 0, 1, NULL, NULL, NULL },
	{ "name", "村名", 0, 1, NULL, NULL, NULL },
	{ "township", "乡镇", 0, 1, NULL, NULL, NULL },
	{ "county", "县", 0, 1, NULL, NULL, NULL },
};

/* H1's engine twin: the file line gets the ID number's problem before the database is asked. */
static const char *normalise_id(const char *v, const char **why)
{
	static char out[EM_ID_LEN + 1];
	char today[11];

	em_date_today(today);
	return em_id_check(v, today, out, why) == 0 ? out : NULL;
}

static const struct em_column household_columns[] = {
	{ "code", "户编号", 0, 1, NULL, NULL, NULL },
	{ "village", "村", 0, 1, NULL, NULL, NULL },
	{ "head_name", "户主", 0, 1, NULL, NULL, NULL },
	{ "id_no", "身份证号|户主身份证号", 0, 1, normalise_id, "ID number", "H1" },
	{ "members", "人口|家庭人口", 0, 0, NULL, NULL, NULL },
	{ "bank_card", "银行卡号|卡号", 0, 0, NULL, NULL, NULL },
	{ "bank_cnaps", "开户行行号|卡行号", 0, 0, NULL, NULL, NULL },
	{ "phone", "电话|联系电话", 0, 0, NULL, NULL, NULL },
	{ "status", "户类型|属性", 0, 0, NULL, NULL, NULL },
	{ "status_from", "起始年度", 0, 0, NULL, NULL, NULL },
	{ "status_to", "终止年度", 0, 0, NULL, NULL, NULL },
};
const struct em_column_table em_household_file = {
	household_columns, sizeof(household_columns) / sizeof(household_columns[0])
};
static const struct em_column project_columns[] = {
	{ "code", "项目编号", 0, 1, NULL, NULL, NULL },
	{ "name", "项目名称", 0, 1, NULL, NULL, NULL },
	{ "category", "用途", 0, 0, NULL, NULL, NULL },
	{ "villages", "覆盖村|实施地点", 0, 0, NULL, NULL, NULL },
	{ "scale", "建设内容及规模|建设内容", 0, 0, NULL, NULL, NULL },
	{ "implementing_unit", "实施单位", 0, 0, NULL, NULL, NULL },
	{ "responsible", "责任人", 0, 0, NULL, NULL, NULL },
	{ "contractor", "施工单位|供应商", 0, 0, NULL, NULL, NULL },
	{ "subsidy_standard", "补助标准", 0, 0, NULL, NULL, NULL },
	{ "benefit_mechanism", "联农带农机制|联农带农", 0, 0, NULL, NULL, NULL },
	{ "planned_start", "计划开工", 0, 0, NULL, NULL, NULL },
	{ "planned_end", "计划完工", 0, 0, NULL, NULL, NULL },
};
static const struct em_column project_budget_columns[] = {
	{ "project", "项目编号|项目", 0, 1, NULL, NULL, NULL },
	{ "fund", "资金代码|资金", 0, 1, NULL, NULL, NULL },
	{ "amount", "预算金额|金额", 1, 1, NULL, NULL, NULL },
};
static const struct em_column project_target_columns[] = {
	{ "project", "项目编号|项目", 0, 1, NULL, NULL, NULL },
	{ "target_no", "序号", 0, 0, NULL, NULL, NULL },
	{ "kind", "指标类别", 0, 1, NULL, NULL, NULL },
	{ "indicator", "指标", 0, 1, NULL, NULL, NULL },
	{ "value", "指标值", 0, 1, NULL, NULL, NULL },
};
static const struct em_column project_event_columns[] = {
	{ "project", "项目编号|项目", 0, 1, NULL, NULL, NULL },
	{ "kind", "事件", 0, 1, NULL, NULL, NULL },
	{ "date", "日期", 0, 1, NULL, NULL, NULL },
	{ "progress", "进度", 0, 0, NULL, NULL, NULL },
	{ "doc_no", "文号|文件", 0, 0, NULL, NULL, NULL },
	{ "note", "说明|备注", 0, 0, NULL, NULL, NULL },
};
static const struct em_column budget_revision_columns[] = {
	{ "project", "项目编号|项目", 0, 1, NULL, NULL, NULL },
	{ "fund", "资金代码|资金", 0, 1, NULL, NULL, NULL },
	{ "date", "日期", 0, 1, NULL, NULL, NULL },
	{ "amount", "调整后金额|金额", 1, 1, NULL, NULL, NULL },
	{ "doc_no", "文号", 0, 1, NULL, NULL, NULL },
	{ "reapproval_doc", "重新审批文号", 0, 0, NULL, NULL, NULL },
};
static const struct em_column negative_list_columns[] = {
	{ "version", "版本", 0, 1, NULL, NULL, NULL },
	{ "valid_from", "生效日期", 0, 1, NULL, NULL, NULL },
	{ "category", "代码|用途", 0, 1, NULL, NULL, NULL },
	{ "name", "名称", 0, 0, NULL, NULL, NULL },
};
static const struct em_column household_cap_columns[] = {
	{ "category", "用途", 0, 1, NULL, NULL, NULL },
	{ "year", "年度", 0, 1, NULL, NULL, NULL },
	{ "cap", "上限|每户上限", 1, 1, NULL, NULL, NULL },
};
static const struct em_column setting_columns[] = {
	{ "key", "项目", 0, 1, NULL, NULL, NULL },
	{ "value", "值", 0, 1, NULL, NULL, NULL },
};

#define KIND(k, cols) { k, cols, sizeof(cols) / sizeof(cols[0]) }
static const struct {
	const char *kind;
	const struct em_column *cols;
	size_t ncols;
} master_kinds[] = {
	KIND("category", category_columns),
	KIND("bank_account", bank_account_columns),
	KIND("fund", fund_columns),
	KIND("village", village_columns),
	KIND("household", household_columns),
	KIND("project", project_columns),
	KIND("project_budget", project_budget_columns),
	KIND("project_target", project_target_columns),
	KIND("project_event", project_event_columns),
	KIND("budget_revision", budget_revision_columns),
	KIND("negative_list", negative_list_columns),
	KIND("household_cap", household_cap_columns),
	KIND("setting", setting_columns),
};

static int master_kind(const char *kind, struct em_error *err)
{
	for (size_t i = 0; i < sizeof(master_kinds) / sizeof(master_kinds[0]); i++)
		if (strcmp(kind, master_kinds[i].kind) == 0)
			return (int)i;
	em_error_set(err, "unknown kind of master data '%.32s'", kind);
	em_error_hint(err, "one of: category, bank_account, fund, village, household, project, "
			   "project_budget, project_target, project_event, budget_revision, "
			   "negative_list, household_cap, setting");
	return EM_ERR;
}

static int master_call(PGconn *conn, const char *book, const char *kind, const char *json,
		       long *count, struct em_error *err)
{
	const char *params[] = { book, kind, json };
	/*
	 * On its own (autocommit) the one statement is the whole transaction:
	 * a deadlock or serialization failure runs it again on the rows read
	 * once from the file (ledger/db.h).  Inside book create's transaction
	 * it is not retried here: the whole transaction is.
	 */
	PGresult *res = em_db_exec_retry(conn, "SELECT earmark.master_import($1, $2, $3::jsonb)", 3,
					 params, PGRES_TUPLES_OK, 1, err);

	if (!res)
		return EM_ERR;
	if (count)
		*count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

/* A master data file of kind read into the JSON rows master_import takes. */
static int master_file_json(const char *kind, const char *path, const char *encoding,
			    struct em_strbuf *json, struct em_error *err)
{
	size_t n;
	int k = master_kind(kind, err);

	if (k < 0)
		return EM_ERR;
	return csv_json(path, encoding, master_kinds[k].cols, master_kinds[k].ncols, json, &n, err);
}

int em_master_import(PGconn *conn, const char *book, const char *kind, const char *path,
		     const char *encoding, long *count, struct em_error *err)
{
	struct em_strbuf json = EM_STRBUF_INIT;
	int ret = EM_ERR;

	if (master_file_json(kind, path, encoding, &json, err) == 0)
		ret = master_call(conn, book, kind, json.buf, count, err);
	em_strbuf_release(&json);
	return ret;
}

int em_master_record(PGconn *conn, const char *book, const char *kind, const char *const *keys,
		     const char *const *values, size_t n, struct em_error *err)
{
	struct em_strbuf json = EM_STRBUF_INIT;
	int ret;

	em_strbuf_adds(&json, "[{");
	for (size_t i = 0, first = 1; i < n; i++) {
		if (!values[i])
			continue;
		em_json_add_member(&json, (int)first, keys[i], values[i]);
		first = 0;
	}
	em_strbuf_adds(&json, "}]");
	ret = master_kind(kind, err) < 0 ? EM_ERR : master_call(conn, book, kind, json.buf, NULL, err);
	em_strbuf_release(&json);
	return ret;
}

/*
 * The rule tables a new book starts with, from the configuration folder:
 * use categories, the negative list (A3), household caps (H2) and the
 * rule settings (P3 shares, H3 notice period).  A file that is not there
 * is skipped; one that is there must import whole.
 */
static const struct {
	const char *file;
	const char *kind;
} book_seeds[] = {
	{ "use_categories.csv", "category" },
	{ "negative_list.csv", "negative_list" },
	{ "household_caps.csv", "household_cap" },
	{ "rules.csv", "setting" },
};

#define NSEEDS (sizeof(book_seeds) / sizeof(book_seeds[0]))

/* One attempt of the whole book create: BEGIN, the book and its chart, the seeds, COMMIT. */
static int book_create_once(PGconn *conn, const char *code, const char *name, const char *start,
			    const char *accounts_json, const struct em_strbuf *seeds,
			    struct em_error *err)
{
	/* is_bank travels as a JSON string; jsonb_to_recordset casts "true". */
	const char *params[] = { code, name, start, accounts_json };

	if (em_db_command(conn, "BEGIN", 0, NULL, err) < 0)
		return EM_ERR;
	if (em_db_command(conn, "SELECT earmark.book_create($1, $2, $3::date, $4::jsonb)", 4, params,
			  err) < 0)
		goto rollback;
	for (size_t i = 0; i < NSEEDS; i++)
		if (seeds[i].len && master_call(conn, code, book_seeds[i].kind, seeds[i].buf, NULL, err) < 0)
			goto rollback;
	return em_db_command(conn, "COMMIT", 0, NULL, err);
rollback:
	PQclear(PQexec(conn, "ROLLBACK"));
	return EM_ERR;
}

/*
 * The chart and the seed files are read once, before the first attempt; a
 * deadlock or serialization failure rolls the whole transaction back and
 * it runs again from BEGIN on what was read (ledger/db.h).
 */
int em_book_create(PGconn *conn, const char *code, const char *name, const char *start,
		   const char *accounts_csv, const char *config_dir, struct em_error *err)
{
	struct em_strbuf json = EM_STRBUF_INIT;
	struct em_strbuf path = EM_STRBUF_INIT;
	struct em_strbuf seeds[NSEEDS];
	size_t n;
	int ret = EM_ERR;

	for (size_t i = 0; i < NSEEDS; i++)
		em_strbuf_init(&seeds[i]);
	if (em_date_check(start, "--start", err) < 0)
		goto out;
	if (csv_json(accounts_csv, NULL, account_columns,
		     sizeof(account_columns) / sizeof(account_columns[0]), &json, &n, err) < 0)
		goto out;
	for (size_t i = 0; config_dir && i < NSEEDS; i++) {
		em_strbuf_reset(&path);
		em_strbuf_addf(&path, "%s/%s", config_dir, book_seeds[i].file);
		if (access(path.buf, F_OK) != 0)
			continue;
		if (master_file_json(book_seeds[i].kind, path.buf, NULL, &seeds[i], err) < 0)
			goto out;
	}
	for (int attempt = 0;
	     (ret = book_create_once(conn, code, name, start, json.buf, seeds, err)) < 0 &&
	     em_db_retry_again(conn, attempt, err);
	     attempt++)
		;
out:
	for (size_t i = 0; i < NSEEDS; i++)
		em_strbuf_release(&seeds[i]);
	em_strbuf_release(&path);
	em_strbuf_release(&json);
	return ret;
}

/*
 * A refusal for want of a privilege (42501 "permission denied for function
 * voucher_post" or "... for table pay_staging") says which job the command
 * needs: the group roles of section 8 that hold the privilege, read from
 * the catalog so the answer follows the grants.  The message names the
 * person, the command and the roles; the SQLSTATE stays 42501.  Anything
 * else, or a failed lookup, leaves err as it was.
 */
void em_user_explain_denied(PGconn *conn, const char *command, struct em_error *err)
{
	static const char fn_prefix[] = "permission denied for function ";
	static const char tab_prefix[] = "permission denied for table ";
	const char *object;
	int is_function;
	PGresult *res;

	if (!conn || PQstatus(conn) != CONNECTION_OK || !err->message || strcmp(err->sqlstate, "42501") != 0)
		return;
	switch (PQtransactionStatus(conn)) {
	case PQTRANS_IDLE:
		break;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		/* the refused transaction is still open: end it (nothing of it is kept) */
		PQclear(PQexec(conn, "ROLLBACK"));
		if (PQtransactionStatus(conn) != PQTRANS_IDLE)
			return;
		break;
	default:
		return;   /* a command or COPY still running: nothing safe to send */
	}
	if (strncmp(err->message, fn_prefix, sizeof(fn_prefix) - 1) == 0) {
		object = err->message + sizeof(fn_prefix) - 1;
		is_function = 1;
	} else if (strncmp(err->message, tab_prefix, sizeof(tab_prefix) - 1) == 0) {
		object = err->message + sizeof(tab_prefix) - 1;
		is_function = 0;
	} else {
		return;
	}
	{
		const char *params[] = { object, is_function ? "f" : "t" };
		res = em_db_exec(conn,
				 "SELECT CAST(current_user AS text), "
				 "       pg_catalog.string_agg(pg_catalog.substr(g.r, 9), ' or ' ORDER BY g.n), "
				 "       (pg_catalog.array_agg(pg_catalog.substr(g.r, 9) ORDER BY g.n))[1] "
				 "  FROM pg_catalog.unnest(ARRAY['earmark_clerk', 'earmark_reviewer', "
				 "       'earmark_bookkeeper', 'earmark_cashier', 'earmark_admin', "
				 "       'earmark_auditor', 'earmark_public']) WITH ORDINALITY g(r, n) "
				 " WHERE CASE WHEN $2 = 'f' THEN EXISTS ("
				 "         SELECT 1 FROM pg_catalog.pg_proc p "
				 "          WHERE p.pronamespace = 'earmark'::regnamespace AND p.proname = $1 "
				 "            AND pg_catalog.has_function_privilege(g.r, p.oid, 'EXECUTE')) "
				 "       ELSE EXISTS ("
				 "         SELECT 1 FROM pg_catalog.pg_class c "
				 "          WHERE c.relnamespace = 'earmark'::regnamespace AND c.relname = $1 "
				 "            AND (pg_catalog.has_table_privilege(g.r, c.oid, 'SELECT') "
				 "                 OR pg_catalog.has_table_privilege(g.r, c.oid, 'INSERT'))) END",
				 2, params, PGRES_TUPLES_OK, 3, NULL);
	}
	if (!res)
		return;
	if (PQntuples(res) == 1 && PQgetisnull(res, 0, 1)) {
		/* no job holds it: the schema owner's, run on the admin connection */
		char *who = strdup(PQgetvalue(res, 0, 0));
		char *what = strdup(object);

		if (!who || !what)
			abort();
		em_error_set(err, "'%s' may not run '%s': no job of section 8 may", who, command);
		em_error_detail(err, "%s earmark.%s is granted to no application role", is_function ? "function" : "table",
				what);
		em_error_hint(err, "the database administrator runs it, on the admin connection");
		memcpy(err->sqlstate, "42501", 6);
		free(who);
		free(what);
	} else if (PQntuples(res) == 1) {
		char *who = strdup(PQgetvalue(res, 0, 0));
		char *jobs = strdup(PQgetvalue(res, 0, 1));
		char *what = strdup(object);
		char *first = strdup(PQgetvalue(res, 0, 2));

		if (!who || !jobs || !what || !first)
			abort();
		em_error_set(err, "'%s' may not run '%s': it needs the %s role", who, command, jobs);
		em_error_detail(err, "%s earmark.%s is granted to: %s (DESIGN section 8)",
				is_function ? "function" : "table", what, jobs);
		em_error_hint(err, "a person of that job runs it; or the database administrator grants it: "
				   "earmark user add %s --role %s", who, first);
		memcpy(err->sqlstate, "42501", 6);
		free(who);
		free(jobs);
		free(what);
		free(first);
	}
	PQclear(res);
}

/*
 * Refuses a township officer (scoped in book, migration 0016) a command
 * that needs the whole book, such as recomputing the hash chain: row-level
 * security shows them only their townships' lines, so the recomputed
 * chain would not match and would look broken.  0 for the county office.
 */
int em_user_county_only(PGconn *conn, const char *book, const char *command, struct em_error *err)
{
	const char *params[] = { book };
	PGresult *res = em_db_exec(conn,
				   "SELECT earmark.book_of($1) = ANY (earmark.scope_books()), "
				   "       (SELECT pg_catalog.string_agg(s.township, ',' ORDER BY s.township) "
				   "          FROM earmark.user_township s JOIN earmark.book b ON b.book_id = s.book_id "
				   "         WHERE b.code = $1 AND s.person = earmark.scope_person())",
				   1, params, PGRES_TUPLES_OK, 2, err);
	int scoped;

	if (!res)
		return EM_ERR;
	scoped = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	if (scoped) {
		em_error_set(err, "'%s' needs the whole book: a township officer sees only their townships (T1)",
			     command);
		em_error_detail(err, "you work in townships %s of book '%s'", PQgetvalue(res, 0, 1), book);
		em_error_hint(err, "the county office or the auditor runs it");
		memcpy(err->sqlstate, "EMT01", 6);
	}
	PQclear(res);
	return scoped ? EM_ERR : 0;
}
