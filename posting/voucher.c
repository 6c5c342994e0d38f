/*
 * Vouchers: draft from CSV, review, post, reverse, discard.
 *
 * The CSV is read and its amounts parsed here, so that a file with a typo
 * is refused with its line numbers before the database is asked; the
 * database then applies D1-D9, A1 and A2 to the whole voucher in one
 * statement, so a refused voucher leaves nothing behind.  Posting may meet
 * a deadlock or serialization failure under load; those statements are
 * retried (em_db_exec_retry), as each is one transaction safe to repeat.
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

static const char *normalise_side(const char *v, const char **why)
{
	static const char *const debit[] = { "D", "d", "借", "Dr", "DR", "debit", "Debit" };
	static const char *const credit[] = { "C", "c", "贷", "Cr", "CR", "credit", "Credit" };

	for (size_t i = 0; i < sizeof(debit) / sizeof(debit[0]); i++) {
		if (strcmp(v, debit[i]) == 0)
			return "D";
		if (strcmp(v, credit[i]) == 0)
			return "C";
	}
	*why = "side is D (借, debit) or C (贷, credit)";
	return NULL;
}

/* The voucher line file: docs in README ("Vouchers"). */
static const struct em_column voucher_columns[] = {
	{ "account", "科目|科目代码", 0, 1, NULL, NULL, NULL },
	{ "side", "方向|借贷", 0, 1, normalise_side, NULL, NULL },
	{ "amount", "金额", 1, 1, NULL, NULL, NULL },
	{ "fund", "资金|资金来源", 0, 1, NULL, NULL, NULL },
	{ "project", "项目", 0, 1, NULL, NULL, NULL },
	{ "village", "村|行政村", 0, 1, NULL, NULL, NULL },
	{ "household", "户|农户", 0, 1, NULL, NULL, NULL },
	{ "bank_account", "银行账户|专户", 0, 1, NULL, NULL, NULL },
	{ "category", "用途", 0, 1, NULL, NULL, NULL },
	{ "memo", "摘要", 0, 1, NULL, NULL, NULL },
};
const struct em_column_table em_voucher_file = {
	voucher_columns, sizeof(voucher_columns) / sizeof(voucher_columns[0])
};

int em_voucher_draft(PGconn *conn, const char *book, const char *path,
		     const struct em_draft_opts *opts, long long *id, struct em_error *err)
{
	struct em_csv csv = EM_CSV_INIT;
	struct em_strbuf json = EM_STRBUF_INIT;
	PGresult *res = NULL;
	size_t nrows;
	int ret = EM_ERR;

	if (em_date_check(opts->date, "--date", err) < 0)
		goto out;
	if (em_csv_read_file(&csv, path, opts->encoding, err) < 0)
		goto out;
	if (em_import_csv_json(&csv, voucher_columns,
			       sizeof(voucher_columns) / sizeof(voucher_columns[0]), &json, &nrows,
			       err) < 0)
		goto out;
	{
		const char *params[] = { book, opts->date, opts->vtype ? opts->vtype : "记",
					 opts->memo ? opts->memo : "", opts->key, json.buf };
		res = em_db_exec_retry(conn,
				       "SELECT earmark.voucher_draft($1, $2::date, $3, $4, $5, $6::jsonb)",
				       6, params, PGRES_TUPLES_OK, 1, err);
	}
	if (!res)
		goto out;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		em_error_set(err, "unexpected answer from the database");
		goto out;
	}
	*id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	ret = 0;
out:
	PQclear(res);
	em_strbuf_release(&json);
	em_csv_release(&csv);
	return ret;
}

/* Runs one voucher function that returns a single value into result. */
static int call_one(PGconn *conn, const char *sql, int nparams, const char *const *params,
		    struct em_strbuf *result, struct em_error *err)
{
	PGresult *res = em_db_exec_retry(conn, sql, nparams, params, PGRES_TUPLES_OK, 1, err);

	if (!res)
		return EM_ERR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return em_error_set(err, "unexpected answer from the database");
	}
	if (result && !PQgetisnull(res, 0, 0))
		em_strbuf_adds(result, PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int em_voucher_review(PGconn *conn, const char *book, const char *ref, struct em_strbuf *result,
		      struct em_error *err)
{
	const char *params[] = { book, ref };

	return call_one(conn, "SELECT earmark.voucher_review($1, $2)", 2, params, result, err);
}

int em_voucher_post(PGconn *conn, const char *book, const char *ref, struct em_strbuf *result,
		    struct em_error *err)
{
	const char *params[] = { book, ref };

	return call_one(conn, "SELECT earmark.voucher_post($1, $2)", 2, params, result, err);
}

int em_voucher_reverse(PGconn *conn, const char *book, const char *ref, const char *date,
		       const char *key, struct em_strbuf *result, struct em_error *err)
{
	const char *params[] = { book, ref, date, key };

	if (em_date_check(date, "--date", err) < 0)
		return EM_ERR;
	return call_one(conn, "SELECT earmark.voucher_reverse($1, $2, $3::date, $4)", 4, params,
			result, err);
}

int em_voucher_reject(PGconn *conn, const char *book, const char *ref, struct em_error *err)
{
	const char *params[] = { book, ref };

	return call_one(conn, "SELECT earmark.voucher_reject($1, $2)", 2, params, NULL, err);
}

int em_voucher_discard(PGconn *conn, const char *book, const char *ref, struct em_error *err)
{
	const char *params[] = { book, ref };

	return call_one(conn, "SELECT earmark.voucher_discard($1, $2)", 2, params, NULL, err);
}

int em_period_close(PGconn *conn, const char *book, const char *month, struct em_error *err)
{
	char first[11];
	const char *params[] = { book, first };

	if (em_month_check(month, "month", first, err) < 0)
		return EM_ERR;
	return call_one(conn, "SELECT earmark.period_close($1, $2::date)", 2, params, NULL, err);
}
