/*
 * 试算平衡表 (trial balance) as of a date.  The sums come from
 * earmark.trial_balance, which reads period balances for whole months and
 * only the lines of the last month, so its cost does not grow with the
 * book.  Here the rows are printed and the totals recomputed: the report
 * says in its last line whether debits equal credits, and refuses to call
 * an unbalanced book balanced.
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

int em_format_parse(const char *s, enum em_format *fmt, struct em_error *err)
{
	if (!s || strcmp(s, "table") == 0)
		*fmt = EM_FORMAT_TABLE;
	else if (strcmp(s, "csv") == 0)
		*fmt = EM_FORMAT_CSV;
	else {
		em_error_set(err, "unknown format '%.20s'", s);
		em_error_hint(err, "--format table or --format csv");
		return EM_ERR_USAGE;
	}
	return 0;
}

int em_report_format_parse(const char *s, enum em_format *fmt, struct em_error *err)
{
	if (s && strcmp(s, "json") == 0)
		*fmt = EM_FORMAT_JSON;
	else if (s && strcmp(s, "html") == 0)
		*fmt = EM_FORMAT_HTML;
	else if (em_format_parse(s, fmt, NULL) < 0) {
		em_error_set(err, "unknown format '%.20s'", s);
		em_error_hint(err, "--format table, csv, json or html");
		return EM_ERR_USAGE;
	}
	return 0;
}

int em_report_trial_balance(PGconn *conn, const char *book, const char *as_of, const char *fund,
			    enum em_format fmt, FILE *out, struct em_error *err)
{
	static const char *head[] = { "code", "account", "debit", "credit", "balance_debit",
				      "balance_credit" };
	static const char *label[] = { "科目编码 code", "科目名称 account", "借方累计 debit",
				       "贷方累计 credit", "借方余额 balance debit",
				       "贷方余额 balance credit" };
	static const int right[] = { 0, 0, 1, 1, 1, 1 };
	const char *params[] = { book, as_of, fund };
	const char *facts[] = { "book", book, "as of", as_of, fund ? "fund" : NULL, fund, NULL };
	struct em_table_doc doc = { "trial-balance", "试算平衡表 trial balance", facts, NULL };
	struct em_table t;
	PGresult *res;
	int64_t sum[4] = { 0, 0, 0, 0 };
	char buf[4][EM_MONEY_BUFSZ];
	int plain = fmt == EM_FORMAT_CSV || fmt == EM_FORMAT_JSON;  /* 1234.56, no grouping */

	if (em_date_check(as_of, "--as-of", err) < 0)
		return EM_ERR;
	res = em_db_exec(conn,
			 "SELECT code, name, debit_fen, credit_fen, balance_debit_fen, balance_credit_fen "
			 "FROM earmark.trial_balance($1, $2::date, $3)",
			 3, params, PGRES_TUPLES_OK, 6, err);
	if (!res)
		return EM_ERR;
	em_table_init(&t, 6, head, right);
	if (fmt == EM_FORMAT_HTML || fmt == EM_FORMAT_JSON)
		t.label = label;  /* the terminal table keeps its short headers */
	for (int r = 0; r < PQntuples(res); r++) {
		const char *cells[6];
		cells[0] = PQgetvalue(res, r, 0);
		cells[1] = PQgetvalue(res, r, 1);
		for (int i = 0; i < 4; i++) {
			int64_t v = strtoll(PQgetvalue(res, r, 2 + i), NULL, 10);
			sum[i] += v;
			cells[2 + i] = plain ? em_money_format(v, buf[i], sizeof(buf[i]))
					     : em_money_format_grouped(v, buf[i], sizeof(buf[i]));
		}
		em_table_add(&t, cells);
	}
	PQclear(res);
	{
		const char *cells[6] = { "", "合计 total", NULL, NULL, NULL, NULL };
		for (int i = 0; i < 4; i++)
			cells[2 + i] = plain ? em_money_format(sum[i], buf[i], sizeof(buf[i]))
					     : em_money_format_grouped(sum[i], buf[i], sizeof(buf[i]));
		em_table_add(&t, cells);
	}
	if (fmt != EM_FORMAT_CSV)
		doc.footer = sum[0] == sum[1] && sum[2] == sum[3] ? "balanced: debits equal credits"
								   : "NOT BALANCED: debits and credits differ";
	em_table_write(&t, fmt, &doc, out);
	em_table_release(&t);
	if (sum[0] != sum[1] || sum[2] != sum[3]) {
		em_error_set(err, "the trial balance does not balance (D1)");
		em_error_detail(err, "debits %s, credits %s",
				em_money_format_grouped(sum[0], buf[0], sizeof(buf[0])),
				em_money_format_grouped(sum[1], buf[1], sizeof(buf[1])));
		return EM_ERR;
	}
	return 0;
}
