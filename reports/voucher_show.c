/*
 * Voucher listing and display.  Drafts are named '#id' until posting gives
 * them a number; both forms are accepted wherever a voucher is named.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/date.h"
#include "ledger/db.h"
#include "ledger/error.h"
#include "ledger/money.h"
#include "reports/reports.h"
#include "reports/table.h"

static const char *amount(const char *fen_text, enum em_format fmt, char *buf, size_t size)
{
	int64_t v = strtoll(fen_text, NULL, 10);

	return fmt == EM_FORMAT_CSV ? em_money_format(v, buf, size)
				    : em_money_format_grouped(v, buf, size);
}

int em_voucher_list(PGconn *conn, const char *book, const char *status, const char *month,
		    enum em_format fmt, FILE *out, struct em_error *err)
{
	static const char *head[] = { "ref", "number", "date", "status", "amount", "memo",
				      "prepared_by", "reviewed_by", "posted_by" };
	static const int right[] = { 1, 0, 0, 0, 1, 0, 0, 0, 0 };
	char first[11];
	const char *params[] = { book, status, NULL };
	struct em_table t;
	PGresult *res;

	if (month) {
		if (em_month_check(month, "--month", first, err) < 0)
			return EM_ERR;
		params[2] = first;
	}
	if (status && strcmp(status, "draft") != 0 && strcmp(status, "reviewed") != 0 &&
	    strcmp(status, "posted") != 0) {
		em_error_set(err, "unknown status '%.20s'", status);
		em_error_hint(err, "--status draft, reviewed or posted");
		return EM_ERR_USAGE;
	}
	res = em_db_exec(conn,
			 "SELECT '#' || v.voucher_id, COALESCE(v.number_text, ''), v.voucher_date::text, "
			 "       v.status, (SELECT COALESCE(sum(l.amount_fen), 0) FROM earmark.line l "
			 "                WHERE l.book_id = v.book_id AND l.voucher_id = v.voucher_id "
			 "                  AND l.side = 'D')::text, "
			 "       v.memo, v.prepared_by, COALESCE(v.reviewed_by, ''), COALESCE(v.posted_by, '') "
			 "  FROM earmark.voucher v "
			 " WHERE v.book_id = earmark.book_of($1) "
			 "   AND ($2::text IS NULL OR v.status = $2) "
			 "   AND ($3::date IS NULL OR v.voucher_date >= $3::date "
			 "        AND v.voucher_date < $3::date + interval '1 month') "
			 " ORDER BY v.voucher_date, v.chain_seq NULLS LAST, v.voucher_id",
			 3, params, PGRES_TUPLES_OK, 9, err);
	if (!res)
		return EM_ERR;
	em_table_init(&t, 9, head, right);
	for (int r = 0; r < PQntuples(res); r++) {
		char buf[EM_MONEY_BUFSZ];
		const char *cells[9];
		for (int c = 0; c < 9; c++)
			cells[c] = PQgetvalue(res, r, c);
		cells[4] = amount(cells[4], fmt, buf, sizeof(buf));
		em_table_add(&t, cells);
	}
	PQclear(res);
	em_table_print(&t, fmt == EM_FORMAT_CSV, out);
	em_table_release(&t);
	return 0;
}

int em_voucher_show(PGconn *conn, const char *book, const char *ref, enum em_format fmt,
		    FILE *out, struct em_error *err)
{
	static const char *head[] = { "line", "account", "side", "amount", "fund", "project",
				      "village", "household", "bank_account", "category", "memo" };
	static const int right[] = { 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
	const char *params[] = { book, ref };
	struct em_table t;
	PGresult *res;

	res = em_db_exec(conn,
			 "SELECT '#' || v.voucher_id, COALESCE(v.number_text, ''), v.voucher_date::text, "
			 "       v.vtype, v.status, v.memo, v.prepared_by, COALESCE(v.reviewed_by, ''), "
			 "       COALESCE(v.posted_by, ''), COALESCE(o.number_text, ''), "
			 "       COALESCE(encode(v.chain_hash, 'hex'), '') "
			 "  FROM earmark.voucher_find(earmark.book_of($1), $2) v "
			 "  LEFT JOIN earmark.voucher o ON o.book_id = v.book_id AND o.voucher_id = v.reverses_id",
			 2, params, PGRES_TUPLES_OK, 11, err);
	if (!res)
		return EM_ERR;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return em_error_set(err, "unexpected answer from the database");
	}
	if (fmt == EM_FORMAT_TABLE) {
		fprintf(out, "voucher %s %s  %s  %s  %s\n", PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
			PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4));
		fprintf(out, "memo: %s\n", PQgetvalue(res, 0, 5));
		fprintf(out, "prepared by %s, reviewed by %s, posted by %s\n", PQgetvalue(res, 0, 6),
			*PQgetvalue(res, 0, 7) ? PQgetvalue(res, 0, 7) : "-",
			*PQgetvalue(res, 0, 8) ? PQgetvalue(res, 0, 8) : "-");
		if (*PQgetvalue(res, 0, 9))
			fprintf(out, "reverses %s\n", PQgetvalue(res, 0, 9));
		if (*PQgetvalue(res, 0, 10))
			fprintf(out, "chain hash %s\n", PQgetvalue(res, 0, 10));
		fputc('\n', out);
	}
	PQclear(res);
	res = em_db_exec(conn,
			 "SELECT l.line_no::text, l.account, l.side, l.amount_fen::text, l.fund, "
			 "       COALESCE(l.project, ''), COALESCE(l.village, ''), COALESCE(l.household, ''), "
			 "       COALESCE(l.bank_account, ''), COALESCE(l.category, ''), l.memo "
			 "  FROM earmark.voucher_find(earmark.book_of($1), $2) v "
			 "  JOIN earmark.line_coded l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id "
			 " ORDER BY l.line_no",
			 2, params, PGRES_TUPLES_OK, 11, err);
	if (!res)
		return EM_ERR;
	em_table_init(&t, 11, head, right);
	for (int r = 0; r < PQntuples(res); r++) {
		char buf[EM_MONEY_BUFSZ];
		const char *cells[11];
		for (int c = 0; c < 11; c++)
			cells[c] = PQgetvalue(res, r, c);
		cells[3] = amount(cells[3], fmt, buf, sizeof(buf));
		em_table_add(&t, cells);
	}
	PQclear(res);
	em_table_print(&t, fmt == EM_FORMAT_CSV, out);
	em_table_release(&t);
	return 0;
}
