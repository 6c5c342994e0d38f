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

#include "ledger/csv.h"
#include "ledger/date.h"
#include "ledger/db.h"
#include "ledger/error.h"
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

int em_user_add(PGconn *admin, const char *name, const char *roles, struct em_error *err)
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
	{ "code", "科目代码", 0, 1, NULL },
	{ "name", "科目名称", 0, 1, NULL },
	{ "kind", "类别", 0, 1, NULL },
	{ "normal_side", "余额方向", 0, 1, NULL },
	{ "is_bank", "银行科目", 0, 0, normalise_bool },
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

int em_book_create(PGconn *conn, const char *code, const char *name, const char *start,
		   const char *accounts_csv, struct em_error *err)
{
	struct em_strbuf json = EM_STRBUF_INIT;
	size_t n;
	int ret = EM_ERR;

	if (em_date_check(start, "--start", err) < 0)
		goto out;
	if (csv_json(accounts_csv, NULL, account_columns,
		     sizeof(account_columns) / sizeof(account_columns[0]), &json, &n, err) < 0)
		goto out;
	{
		/* is_bank travels as a JSON string; jsonb_to_recordset casts "true". */
		const char *params[] = { code, name, start, json.buf };
		ret = em_db_command(conn, "SELECT earmark.book_create($1, $2, $3::date, $4::jsonb)",
				    4, params, err);
	}
out:
	em_strbuf_release(&json);
	return ret;
}

/* The master-data files: one column list per kind (README, "Master data"). */
static const struct em_column category_columns[] = {
	{ "code", "代码", 0, 1, NULL },
	{ "name", "名称", 0, 1, NULL },
};
static const struct em_column bank_account_columns[] = {
	{ "account_no", "账号", 0, 1, NULL },
	{ "bank_name", "开户行", 0, 1, NULL },
	{ "cnaps", "行号", 0, 1, NULL },
};
static const struct em_column fund_columns[] = {
	{ "code", "资金代码", 0, 1, NULL },
	{ "name", "资金名称", 0, 1, NULL },
	{ "level", "级次", 0, 1, NULL },
	{ "type", "类型", 0, 0, NULL },
	{ "year", "年度", 0, 1, NULL },
	{ "doc_no", "文号", 0, 0, NULL },
	{ "amount", "金额", 1, 1, NULL },
	{ "bank_account", "专户", 0, 1, NULL },
};
static const struct em_column village_columns[] = {
	{ "code", "区划代码", 0, 1, NULL },
	{ "name", "村名", 0, 1, NULL },
	{ "township", "乡镇", 0, 0, NULL },
	{ "county", "县", 0, 0, NULL },
};
static const struct em_column household_columns[] = {
	{ "code", "户编号", 0, 1, NULL },
	{ "village", "村", 0, 1, NULL },
	{ "head_name", "户主", 0, 1, NULL },
};
static const struct em_column project_columns[] = {
	{ "code", "项目编号", 0, 1, NULL },
	{ "name", "项目名称", 0, 1, NULL },
	{ "category", "用途", 0, 0, NULL },
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
};

int em_master_import(PGconn *conn, const char *book, const char *kind, const char *path,
		     const char *encoding, long *count, struct em_error *err)
{
	struct em_strbuf json = EM_STRBUF_INIT;
	PGresult *res = NULL;
	size_t n;
	int k = -1;
	int ret = EM_ERR;

	for (size_t i = 0; i < sizeof(master_kinds) / sizeof(master_kinds[0]); i++)
		if (strcmp(kind, master_kinds[i].kind) == 0)
			k = (int)i;
	if (k < 0) {
		em_error_set(err, "unknown kind of master data '%.32s'", kind);
		em_error_hint(err, "one of: category, bank_account, fund, village, household, project");
		goto out;
	}
	if (csv_json(path, encoding, master_kinds[k].cols, master_kinds[k].ncols, &json, &n, err) < 0)
		goto out;
	{
		const char *params[] = { book, kind, json.buf };
		res = em_db_exec(conn, "SELECT earmark.master_import($1, $2, $3::jsonb)", 3, params,
				 PGRES_TUPLES_OK, 1, err);
	}
	if (!res)
		goto out;
	*count = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	ret = 0;
out:
	PQclear(res);
	em_strbuf_release(&json);
	return ret;
}
