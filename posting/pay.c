/*
 * Household payment batches (DESIGN section 5, flow 4): the CSV of
 * payments is checked here for its shape and amounts as it is read, and
 * its rows go into earmark.pay_staging by COPY while the rest of it is
 * still being read, in one transaction (stage_rows); earmark.pay_batch
 * checks every rule set-based in SQL, names every bad line at once, and
 * writes the batch, its payments and its two draft vouchers, or nothing.
 * The staging rows never outlive the transaction.
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

/*
 * Rows on their way to pay_staging: each COPY row gets the stage id in
 * front and goes to the server about 1 MiB at a time.  A failed send is
 * remembered; the COPY's end then reports it.
 */
struct copy_out {
	PGconn *conn;
	const char *stage;
	struct em_strbuf line;
	int failed;
};

static void copy_send(void *arg, const char *rows, size_t len)
{
	struct copy_out *co = arg;

	for (const char *p = rows, *end = rows + len; p < end && !co->failed;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);

		em_strbuf_adds(&co->line, co->stage);
		em_strbuf_addc(&co->line, '\t');
		em_strbuf_add(&co->line, p, n);
		p += n;
		if (co->line.len >= (1u << 20) || p >= end) {
			if (PQputCopyData(co->conn, co->line.buf, (int)co->line.len) != 1)
				co->failed = 1;
			em_strbuf_reset(&co->line);
		}
	}
}

static int copy_begin(PGconn *conn, struct em_error *err)
{
	PGresult *res = PQexec(conn, "COPY earmark.pay_staging (stage_id, line_no, household, amount_fen, "
				     "project, fund, category, list, item, memo) FROM STDIN");

	if (PQresultStatus(res) != PGRES_COPY_IN) {
		em_error_from_result(err, res);
		PQclear(res);
		return EM_ERR;
	}
	PQclear(res);
	return 0;
}

/*
 * Ends the COPY: with refused (the file was refused) the server throws the
 * rows away and err is left as the caller set it.
 */
static int copy_end(struct copy_out *co, const char *refused, struct em_error *err)
{
	const char *why = refused ? refused : co->failed ? "client stopped sending" : NULL;
	PGresult *res;
	int ret = EM_ERR;

	if (PQputCopyEnd(co->conn, why) == 1) {
		ret = refused ? EM_ERR : 0;
		while ((res = PQgetResult(co->conn))) {
			if (PQresultStatus(res) != PGRES_COMMAND_OK && ret == 0) {
				em_error_from_result(err, res);
				ret = EM_ERR;
			}
			PQclear(res);
		}
	} else if (!refused) {
		em_error_from_conn(err, co->conn, "COPY of the batch rows failed");
	}
	em_strbuf_release(&co->line);
	return ret;
}

/*
 * The rows into pay_staging under a new stage id (in *stage), in the open
 * transaction.  The first attempt reads the file as it goes: its rows
 * reach the server while the rest is parsed, and every problem of the file
 * is still reported at once, before anything is checked (the COPY is then
 * aborted).  A retry sends the rows the first attempt kept.
 */
static int stage_rows(PGconn *conn, const char *path, const struct em_pay_opts *o,
		      struct em_strbuf *rows, size_t *count, char *stage, size_t stagesz,
		      struct em_error *err)
{
	struct copy_out co = { conn, stage, EM_STRBUF_INIT, 0 };
	struct em_csv csv = EM_CSV_INIT;
	struct em_import *im;
	PGresult *res;
	int ret;

	res = em_db_exec(conn, "SELECT earmark.pay_stage_new()", 0, NULL, PGRES_TUPLES_OK, 1, err);
	if (!res || PQntuples(res) != 1) {
		PQclear(res);
		return EM_ERR;
	}
	snprintf(stage, stagesz, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (copy_begin(conn, err) < 0)
		return EM_ERR;
	if (rows->len) {
		copy_send(&co, rows->buf, rows->len);
		return copy_end(&co, NULL, err);
	}
	im = em_import_copy_start(pay_columns, sizeof(pay_columns) / sizeof(pay_columns[0]), copy_send,
				  &co);
	ret = em_csv_read_file_each(&csv, path, o->encoding, em_import_copy_row, im, err);
	if (ret == 0)
		ret = em_import_copy_finish(im, &csv, rows, count, err);
	em_import_free(im);
	em_csv_release(&csv);
	if (ret < 0) {
		copy_end(&co, "the batch file was refused", err);
		return EM_ERR;
	}
	return copy_end(&co, NULL, err);
}

/* One attempt of the whole batch: BEGIN, COPY of the rows, checks, COMMIT. */
static int pay_batch_once(PGconn *conn, const char *book, const char *path,
			  const struct em_pay_opts *o, struct em_strbuf *rows, size_t *count,
			  struct em_error *err)
{
	PGresult *res = NULL;
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char stage[32];
	int ret = EM_ERR;

	if (em_db_command(conn, "BEGIN", 0, NULL, err) < 0)
		return EM_ERR;
	if (stage_rows(conn, path, o, rows, count, stage, sizeof(stage), err) < 0)
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
	struct em_strbuf rows = EM_STRBUF_INIT;
	int ret = EM_ERR;

	/* The file is read once (it may be stdin), by the first attempt. */
	if (em_date_check(o->date, "--date", err) < 0)
		goto out;
	for (int attempt = 0; (ret = pay_batch_once(conn, book, path, o, &rows, count, err)) < 0 &&
			      rows.len && em_db_retry_again(conn, attempt, err);
	     attempt++)
		;
out:
	em_strbuf_release(&rows);
	return ret;
}
