/*
 * Disbursement: beneficiary lists and their disclosure, objections,
 * reimbursement claims (报账), interest, and the steps of a payment batch
 * after it is prepared.  Each is one call of an earmark.* function, which
 * checks the caller's role and the rules (0007, 0008); this file turns
 * command arguments into its parameters.  Only two things are checked here
 * first, for a better message: a list file's shape and amounts, and P4's
 * documents of a claim (an ENGINE rule: the refusal names each missing one).
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/csv.h"
#include "ledger/date.h"
#include "ledger/db.h"
#include "ledger/error.h"
#include "ledger/json.h"
#include "ledger/money.h"
#include "ledger/strbuf.h"
#include "posting/import.h"
#include "posting/posting.h"

/* Every one-call action: its name (the command's) and its statement. */
static const struct {
	const char *name;
	const char *sql;
	int nparams;
} actions[] = {
	{ "list publish", "SELECT earmark.list_publish($1, $2, $3::date, $4::integer)", 4 },
	{ "list object", "SELECT earmark.objection_record($1, $2, $3, $4::date, $5)", 5 },
	{ "list resolve", "SELECT earmark.objection_resolve($1, $2::integer, $3::date, $4)", 4 },
	{ "pay review", "SELECT earmark.pay_batch_step($1, $2, 'review')", 2 },
	{ "pay post", "SELECT earmark.pay_batch_step($1, $2, 'post')", 2 },
	{ "pay settle", "SELECT earmark.payment_settle($1, $2, $3)", 3 },
	{ "fund interest", "SELECT earmark.fund_interest($1, $2, $3::date, $4::bigint, $5)", 5 },
};

int em_action(PGconn *conn, const char *name, const char *const *params, struct em_strbuf *result,
	      struct em_error *err)
{
	PGresult *res;

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(actions[i].name, name) != 0)
			continue;
		res = em_db_exec_retry(conn, actions[i].sql, actions[i].nparams, params, PGRES_TUPLES_OK,
				       1, err);
		if (!res)
			return EM_ERR;
		if (result && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
			em_strbuf_adds(result, PQgetvalue(res, 0, 0));
		PQclear(res);
		return 0;
	}
	em_error_set(err, "unknown action '%s'", name);
	return EM_ERR;
}

/* The list file (README, "Beneficiary lists"). */
static const struct em_column list_columns[] = {
	{ "household", "户编号|农户", 0, 1, NULL, NULL, NULL },
	{ "amount", "金额|补助金额", 1, 1, NULL, NULL, NULL },
	{ "item", "补助项目", 0, 0, NULL, NULL, NULL },
	{ "cost", "核定成本|成本", 1, 0, NULL, NULL, NULL },
	{ "standard", "补助标准", 0, 0, NULL, NULL, NULL },
};

int em_list_create(PGconn *conn, const char *book, const char *code, const char *project,
		   const char *title, const char *path, const char *encoding, size_t *count,
		   struct em_error *err)
{
	struct em_csv csv = EM_CSV_INIT;
	struct em_strbuf json = EM_STRBUF_INIT;
	PGresult *res = NULL;
	int ret = EM_ERR;

	if (em_csv_read_file(&csv, path, encoding, err) < 0 ||
	    em_import_csv_json(&csv, list_columns, sizeof(list_columns) / sizeof(list_columns[0]),
			       &json, count, err) < 0)
		goto out;
	{
		const char *params[] = { book, code, project, title, json.buf };
		res = em_db_exec_retry(conn, "SELECT earmark.list_create($1, $2, $3, $4, $5::jsonb)", 5,
				       params, PGRES_TUPLES_OK, 1, err);
	}
	if (res)
		ret = 0;
out:
	PQclear(res);
	em_strbuf_release(&json);
	em_csv_release(&csv);
	return ret;
}

int em_project_claim(PGconn *conn, const char *book, const struct em_claim *c,
		     struct em_strbuf *result, struct em_error *err)
{
	struct em_strbuf docs = EM_STRBUF_INIT;
	struct em_strbuf missing = EM_STRBUF_INIT;
	PGresult *res = NULL;
	int64_t fen;
	char fen_text[24];
	int ret = EM_ERR;

	if (em_money_parse(c->amount, &fen, err) < 0 || em_date_check(c->date, "--date", err) < 0)
		goto out;
	/* P4: name every missing document at once. */
	if (!c->inspection || !*c->inspection)
		em_strbuf_adds(&missing, ", inspection record (--inspection)");
	if (!c->plan || !*c->plan)
		em_strbuf_adds(&missing, ", spending plan (--plan)");
	if (!c->contract || !*c->contract)
		em_strbuf_adds(&missing, ", contract (--contract)");
	if (!c->receipts || !*c->receipts)
		em_strbuf_adds(&missing, ", receipts (--receipts NO,NO,...)");
	if (missing.len) {
		em_error_set(err, "the claim for project '%s' lacks its documents (P4)", c->project);
		em_error_detail(err, "missing: %s", missing.buf + 2);
		em_error_hint(err, "a reimbursement (报账) carries the inspection record, spending plan, "
				   "receipts and contract");
		goto out;
	}
	em_strbuf_addc(&docs, '{');
	em_json_add_member(&docs, 1, "inspection", c->inspection);
	em_json_add_member(&docs, 0, "plan", c->plan);
	em_json_add_member(&docs, 0, "contract", c->contract);
	em_strbuf_adds(&docs, ",\"receipts\":[");
	{
		char *list = strdup(c->receipts);
		int first = 1;
		if (!list)
			abort();
		for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			if (!first)
				em_strbuf_addc(&docs, ',');
			em_json_add_string(&docs, tok);
			first = 0;
		}
		free(list);
	}
	em_strbuf_addc(&docs, ']');
	if (c->receipt_count)
		em_json_add_member(&docs, 0, "receipt_count", c->receipt_count);
	em_strbuf_addc(&docs, '}');
	snprintf(fen_text, sizeof(fen_text), "%lld", (long long)fen);
	{
		const char *params[] = { book, c->project, c->fund, fen_text, c->date, docs.buf, c->key };
		res = em_db_exec_retry(conn,
				       "SELECT claim_id, payable, payment FROM earmark.project_claim("
				       "$1, $2, $3, $4::bigint, $5::date, $6::jsonb, $7)",
				       7, params, PGRES_TUPLES_OK, 3, err);
	}
	if (!res || PQntuples(res) != 1)
		goto out;
	em_strbuf_addf(result, "claim %s: payable %s, payment %s", PQgetvalue(res, 0, 0),
		       PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	ret = 0;
out:
	PQclear(res);
	em_strbuf_release(&docs);
	em_strbuf_release(&missing);
	return ret;
}
