/*
 * Household payment batches (DESIGN section 5, flow 4): the CSV of
 * payments is checked here for its shape and amounts, then goes into
 * earmark.pay_staging by COPY in one transaction; earmark.pay_batch checks
 * every rule set-based in SQL, names every bad line at once, and writes the
 * batch, its payments and its two draft vouchers, or nothing.  The staging
 * rows never outlive the transaction.
 *
 * Workload: tens of thousands of lines per batch; the COPY stream and the
 * set-based checks keep that to seconds (tests/bench/pay_batch.sh).
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

/* The batch file (README, "Household payments"); the order is pay_staging's. */
static const struct em_column pay_columns[] = {
	{ "household", "户编号|农户", 0, 1, NULL, NULL, NULL },
	{ "amount", "金额|补助金额", 1, 1, NULL, NULL, NULL },
	{ "project", "项目编号|项目", 0, 1, NULL, NULL, NULL },
	{ "fund", "资金代码|资金", 0, 1, NULL, NULL, NULL },
	{ "category", "用途", 0, 1, NULL, NULL, NULL },
	{ "list", "名单|公示名单", 0, 1, NULL, NULL, NULL },
	{ "item", "补助项目", 0, 0, NULL, NULL, NULL },
	{ "memo", "摘要", 0, 0, NULL, NULL, NULL },
};
const struct em_column_table em_pay_file = { pay_columns, sizeof(pay_columns) / sizeof(pay_columns[0]) };

static int copy_rows(PGconn *conn, const char *stage, const struct em_strbuf *rows,
		     struct em_error *err)
{
	struct em_strbuf line = EM_STRBUF_INIT;
	PGresult *res = PQexec(conn, "COPY earmark.pay_staging (stage_id, line_no, household, amount_fen, "
				     "project, fund, category, list, item, memo) FROM STDIN");
	int ret = EM_ERR;

	if (PQresultStatus(res) != PGRES_COPY_IN) {
		em_error_from_result(err, res);
		PQclear(res);
		return EM_ERR;
	}
	PQclear(res);
	/* Each row gets the stage id in front; sent in chunks of about 1 MiB. */
	for (const char *p = rows->buf, *end = rows->buf + rows->len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		em_strbuf_adds(&line, stage);
		em_strbuf_addc(&line, '\t');
		em_strbuf_add(&line, p, len);
		p += len;
		if (line.len >= (1u << 20) || p >= end) {
			if (PQputCopyData(conn, line.buf, (int)line.len) != 1)
				break;
			em_strbuf_reset(&line);
		}
	}
	if (PQputCopyEnd(conn, line.len ? "client stopped sending" : NULL) == 1) {
		ret = 0;
		while ((res = PQgetResult(conn))) {
			if (PQresultStatus(res) != PGRES_COMMAND_OK && ret == 0) {
				em_error_from_result(err, res);
				ret = EM_ERR;
			}
			PQclear(res);
		}
	} else {
		em_error_from_conn(err, conn, "COPY of the batch rows failed");
	}
	em_strbuf_release(&line);
	return ret;
}

/* One attempt of the whole batch: BEGIN, COPY of the rows, checks, COMMIT. */
static int pay_batch_once(PGconn *conn, const char *book, const char *path,
			  const struct em_pay_opts *o, const struct em_strbuf *rows,
			  struct em_error *err)
{
	PGresult *res = NULL;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char stage[32];
	int ret = EM_ERR;

	if (em_db_command(conn, "BEGIN", 0, NULL, err) < 0)
		return EM_ERR;
	res = em_db_exec(conn, "SELECT earmark.pay_stage_new()", 0, NULL, PGRES_TUPLES_OK, 1, err);
	if (!res || PQntuples(res) != 1)
		goto rollback;
	snprintf(stage, sizeof(stage), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	res = NULL;
	if (copy_rows(conn, stage, rows, err) < 0)
		goto rollback;
	{
		const char *params[] = { book, stage, o->code, o->date, o->key, base };
		res = em_db_exec(conn, "SELECT earmark.pay_batch($1, $2::bigint, $3, $4::date, $5, $6)", 6,
				 params, PGRES_TUPLES_OK, 1, err);
	}
	if (!res)
		goto rollback;
	PQclear(res);
	res = NULL;
	ret = em_db_command(conn, "COMMIT", 0, NULL, err);
	goto out;
rollback:
	PQclear(PQexec(conn, "ROLLBACK"));
out:
	PQclear(res);
	return ret;
}

/*
 * A deadlock or serialization failure rolled the whole transaction back:
 * it runs again from the start (ledger/db.h); with --key a batch that did
 * commit is answered, not written twice (D9).
 */
int em_pay_batch(PGconn *conn, const char *book, const char *path, const struct em_pay_opts *o,
		 size_t *count, struct em_error *err)
{
	struct em_csv csv = EM_CSV_INIT;
	struct em_strbuf rows = EM_STRBUF_INIT;
	int ret = EM_ERR;

	/* The file is read once (it may be stdin), before the first attempt. */
	if (em_date_check(o->date, "--date", err) < 0 ||
	    em_csv_read_file(&csv, path, o->encoding, err) < 0 ||
	    em_import_csv_copy(&csv, pay_columns, sizeof(pay_columns) / sizeof(pay_columns[0]), &rows,
			       count, err) < 0)
		goto out;
	for (int attempt = 0; (ret = pay_batch_once(conn, book, path, o, &rows, err)) < 0 &&
			      em_db_retry_again(conn, attempt, err);
	     attempt++)
		;
out:
	em_strbuf_release(&rows);
	em_csv_release(&csv);
	return ret;
}
