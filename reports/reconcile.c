/*
 * 余额调节表 (bank reconciliation statement) of one dedicated account as of
 * a date, and the list of an account's statement lines.
 *
 * The figures come from earmark.reconciliation and its items from
 * earmark.reconciliation_items (sql/migrations/0012_bank.sql): the book
 * balance (posted lines on the account), the bank balance (statements),
 * the items in transit both ways, and the two adjusted balances.  Here the
 * adjusted balances are recomputed from the printed items, so the report
 * cannot say "agree" about numbers it did not show; when they do not agree
 * the command fails after printing.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/date.h"
#include "ledger/db.h"
#include "ledger/error.h"
#include "ledger/money.h"
#include "reports/reports.h"
#include "reports/table.h"

static const char *money(int64_t v, int plain, char *buf, size_t n)
{
	return plain ? em_money_format(v, buf, n) : em_money_format_grouped(v, buf, n);
}

int em_report_reconciliation(PGconn *conn, const char *book, const char *account_no, const char *as_of,
			     enum em_format fmt, FILE *out, struct em_error *err)
{
	static const char *head[] = { "section", "date", "ref", "description", "amount" };
	static const char *label[] = { "项目 section", "日期 date", "凭证/对账单 ref", "摘要 description",
				       "金额 amount" };
	static const int right[] = { 0, 0, 0, 0, 1 };
	static const struct {
		const char *kind, *title;
	} sections[] = {
		{ "bank_in", "加: 银行已收、单位未收 bank in, not in book" },
		{ "bank_out", "减: 银行已付、单位未付 bank out, not in book" },
		{ "book_in", "加: 单位已收、银行未收 book in, not at bank" },
		{ "book_out", "减: 单位已付、银行未付 book out, not at bank" },
	};
	const char *params[] = { book, account_no, as_of };
	const char *facts[] = { "book", book, "account", account_no, "as of", as_of, NULL, NULL, NULL };
	struct em_table_doc doc = { "reconciliation", "余额调节表 bank reconciliation", facts, NULL };
	int plain = fmt == EM_FORMAT_CSV || fmt == EM_FORMAT_JSON;
	PGresult *sum = NULL, *items = NULL;
	struct em_table t;
	int64_t book_fen, bank_fen, adj_book, adj_bank, kind_sum[4] = { 0, 0, 0, 0 };
	char b1[EM_MONEY_BUFSZ], b2[EM_MONEY_BUFSZ], stmts[64];
	int ret = EM_ERR;

	if (em_date_check(as_of, "--as-of", err) < 0)
		return EM_ERR;
	sum = em_db_exec(conn,
			 "SELECT book_fen, bank_fen, statements, last_statement FROM earmark.reconciliation($1, $2, $3::date)",
			 3, params, PGRES_TUPLES_OK, 4, err);
	if (!sum)
		goto out;
	items = em_db_exec(conn,
			   "SELECT kind, item_date, ref, description, amount_fen "
			   "FROM earmark.reconciliation_items($1, $2, $3::date)",
			   3, params, PGRES_TUPLES_OK, 5, err);
	if (!items || PQntuples(sum) != 1)
		goto out;
	book_fen = strtoll(PQgetvalue(sum, 0, 0), NULL, 10);
	bank_fen = strtoll(PQgetvalue(sum, 0, 1), NULL, 10);
	snprintf(stmts, sizeof(stmts), "%s, last to %s", PQgetvalue(sum, 0, 2),
		 PQgetisnull(sum, 0, 3) ? "-" : PQgetvalue(sum, 0, 3));
	facts[6] = "statements";
	facts[7] = stmts;
	em_table_init(&t, 5, head, right);
	if (fmt == EM_FORMAT_HTML || fmt == EM_FORMAT_JSON)
		t.label = label;
	for (int s = 0; s < 4; s++) {
		if (s == 0) {
			const char *c[5] = { "单位账面余额 book balance", as_of, "", "", money(book_fen, plain, b1, sizeof(b1)) };
			em_table_add(&t, c);
		}
		if (s == 2) {
			adj_book = book_fen + kind_sum[0] + kind_sum[1];
			const char *c1[5] = { "调节后单位余额 adjusted book balance", as_of, "", "",
					      money(adj_book, plain, b1, sizeof(b1)) };
			const char *c2[5] = { "银行对账单余额 bank balance", as_of, "", "", money(bank_fen, plain, b2, sizeof(b2)) };
			em_table_add(&t, c1);
			em_table_add(&t, c2);
		}
		for (int r = 0; r < PQntuples(items); r++) {
			int64_t v;
			if (strcmp(PQgetvalue(items, r, 0), sections[s].kind) != 0)
				continue;
			v = strtoll(PQgetvalue(items, r, 4), NULL, 10);
			kind_sum[s] += v;
			const char *c[5] = { sections[s].title, PQgetvalue(items, r, 1), PQgetvalue(items, r, 2),
					     PQgetvalue(items, r, 3), money(v, plain, b1, sizeof(b1)) };
			em_table_add(&t, c);
		}
	}
	adj_book = book_fen + kind_sum[0] + kind_sum[1];
	adj_bank = bank_fen + kind_sum[2] + kind_sum[3];
	{
		const char *c[5] = { "调节后银行余额 adjusted bank balance", as_of, "", "",
				     money(adj_bank, plain, b1, sizeof(b1)) };
		em_table_add(&t, c);
	}
	if (fmt != EM_FORMAT_CSV)
		doc.footer = adj_book == adj_bank ? "agree: the adjusted balances are equal (调节后余额相符)"
						  : "DO NOT AGREE: the adjusted balances differ (调节后余额不符)";
	em_table_write(&t, fmt, &doc, out);
	em_table_release(&t);
	if (adj_book != adj_bank) {
		em_error_set(err, "the reconciliation of account '%s' as of %s does not agree", account_no, as_of);
		em_error_detail(err, "adjusted book balance %s, adjusted bank balance %s",
				em_money_format_grouped(adj_book, b1, sizeof(b1)),
				em_money_format_grouped(adj_bank, b2, sizeof(b2)));
		em_error_hint(err, "a statement is missing, or an item is booked twice or with another amount: "
				   "compare the items above with the bank journal");
		goto out;
	}
	ret = 0;
out:
	PQclear(sum);
	PQclear(items);
	return ret;
}

int em_statement_list(PGconn *conn, const char *book, const char *account_no, const char *status,
		      enum em_format fmt, FILE *out, struct em_error *err)
{
	static const char *head[] = { "line", "booked", "amount", "status", "end_to_end_id", "reference",
				      "counterparty", "matched_to", "matched_by", "matched_at" };
	static const int right[] = { 0, 0, 1, 0, 0, 0, 0, 0, 0, 0 };
	const char *params[] = { book, account_no, status };
	const char *facts[] = { "book", book, "account", account_no, NULL };
	struct em_table_doc doc = { "statement-lines", "对账单明细 statement lines", facts, NULL };
	int plain = fmt == EM_FORMAT_CSV || fmt == EM_FORMAT_JSON;
	struct em_table t;
	PGresult *res;
	char b[EM_MONEY_BUFSZ];

	res = em_db_exec(conn,
			 "SELECT sl.statement_id || ':' || sl.line_no, sl.booking_date, sl.amount_fen, "
			 "       sl.status || CASE WHEN sl.returned THEN ' (returned)' ELSE '' END, "
			 "       COALESCE(sl.end_to_end_id, ''), sl.reference, sl.counterparty, "
			 "       COALESCE(m.what, ''), COALESCE(m.who, ''), COALESCE(m.at, '') "
			 "  FROM earmark.statement_line sl "
			 "  JOIN earmark.bank_statement s USING (book_id, statement_id) "
			 "  JOIN earmark.dedicated_account da ON da.book_id = s.book_id AND da.bank_account_id = s.bank_account_id "
			 "  LEFT JOIN LATERAL ("
			 "       SELECT pg_catalog.string_agg(COALESCE(v.number_text, '#' || v.voucher_id) || ':' || m.voucher_line_no, "
			 "                                    ' ' ORDER BY m.voucher_line_no) AS what, "
			 "              pg_catalog.min(m.matched_by::text || ' (' || m.method || ')') AS who, "
			 "              pg_catalog.to_char(pg_catalog.min(m.matched_at), 'YYYY-MM-DD HH24:MI') AS at "
			 "         FROM earmark.bank_match m "
			 "         JOIN earmark.voucher v ON v.book_id = m.book_id AND v.voucher_id = m.voucher_id "
			 "        WHERE m.book_id = sl.book_id AND m.statement_id = sl.statement_id "
			 "          AND m.line_no = sl.line_no AND m.unmatched_at IS NULL) m ON true "
			 " WHERE s.book_id = earmark.book_of($1) AND da.account_no = $2 AND ($3::text IS NULL OR sl.status = $3) "
			 " ORDER BY sl.booking_date, sl.statement_id, sl.line_no",
			 3, params, PGRES_TUPLES_OK, 10, err);
	if (!res)
		return EM_ERR;
	em_table_init(&t, 10, head, right);
	for (int r = 0; r < PQntuples(res); r++) {
		const char *c[10];
		for (int i = 0; i < 10; i++)
			c[i] = PQgetvalue(res, r, i);
		c[2] = money(strtoll(c[2], NULL, 10), plain, b, sizeof(b));
		em_table_add(&t, c);
	}
	PQclear(res);
	em_table_write(&t, fmt, &doc, out);
	em_table_release(&t);
	return 0;
}
