/*
 * Bank statements: the CSV reader, the checks before import, and the
 * import itself.
 *
 * A bank's CSV export (网银导出) has one row per entry with a running
 * balance.  Which header is which comes from a column mapping (INI, see
 * config/bank_csv.conf): date, amount or debit + credit, balance, account,
 * and optional currency, reference, counterparty, end-to-end id, bank
 * serial number and return reason.  The file is UTF-8 or GB18030
 * (ledger/csv.c).  The statement's opening balance is the first row's
 * balance less its amount, its closing the last row's balance; every row's
 * balance must follow from the one before (the CSV's way of rolling).  Its
 * id is the account, the dates and a digest of the rows, so the same export
 * imported twice is the same statement.
 *
 * The import sends every statement of a file to earmark.statement_import in
 * one transaction: all or nothing.  The rules (account, CNY, balances,
 * duplicates) are checked again there.
 */
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/canon.h"
#include "ledger/csv.h"
#include "ledger/db.h"
#include "ledger/error.h"
#include "ledger/json.h"
#include "ledger/money.h"
#include "ledger/strbuf.h"
#include "posting/statement.h"

/*
 * How much of a value read from a statement goes into a message: a file is
 * untrusted, so a field is cut (at a UTF-8 character boundary, ending in
 * "...") and its control characters shown as '?' (em_strbuf_add_sanitized).
 * A statement id holds the account, the dates and a digest: it gets more.
 */
#define EM_STMT_ECHO_MAX 40
#define EM_STMT_REF_MAX 100

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		abort();
	return d;
}

void em_stmt_file_release(struct em_stmt_file *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct em_stmt *s = &f->stmts[i];
		for (size_t j = 0; j < s->nlines; j++) {
			struct em_stmt_line *l = &s->lines[j];
			free(l->end_to_end_id);
			free(l->reference);
			free(l->counterparty);
			free(l->bank_ref);
			free(l->return_reason);
			free(l->currency);
		}
		free(s->lines);
		free(s->ref);
		free(s->account);
		free(s->currency);
	}
	free(f->stmts);
	free(f->source);
	memset(f, 0, sizeof(*f));
}

/* ---- the column mapping ------------------------------------------------ */

enum { C_DATE, C_AMOUNT, C_DEBIT, C_CREDIT, C_BALANCE, C_ACCOUNT, C_CURRENCY, C_REFERENCE,
       C_COUNTERPARTY, C_E2E, C_BANKREF, C_RETURN, C_VALUEDATE, C_N };

static const char *const col_keys[C_N] = { "date", "amount", "debit", "credit", "balance", "account",
					   "currency", "reference", "counterparty", "end_to_end",
					   "bank_ref", "return_reason", "value_date" };

struct mapping {
	char *header[C_N];   /* the CSV header of each column, or NULL */
	char *encoding;      /* [statement] encoding */
};

static int mapping_handler(void *user, const char *section, const char *name, const char *value)
{
	struct mapping *m = user;

	if (strcmp(section, "statement") == 0 && strcmp(name, "encoding") == 0) {
		free(m->encoding);
		m->encoding = xstrdup(value);
		return 1;
	}
	if (strcmp(section, "columns") != 0)
		return 1;
	for (int i = 0; i < C_N; i++)
		if (strcmp(name, col_keys[i]) == 0) {
			free(m->header[i]);
			m->header[i] = *value ? xstrdup(value) : NULL;
			return 1;
		}
	return 0; /* an unknown key is an error: a typo would silently drop a column */
}

static void mapping_release(struct mapping *m)
{
	for (int i = 0; i < C_N; i++)
		free(m->header[i]);
	free(m->encoding);
}

/* "2026-11-05", "2026/11/05", "20261105" -> "2026-11-05". */
static int csv_date(const char *s, char out[11])
{
	char d[9];
	size_t n = 0;

	for (const char *p = s; *p && n < 9; p++) {
		if (*p >= '0' && *p <= '9')
			d[n++] = *p;
		else if (*p != '-' && *p != '/' && *p != '.' && *p != ' ')
			break;
		if (n == 8)
			break;
	}
	if (n != 8)
		return -1;
	snprintf(out, 11, "%.4s-%.2s-%.2s", d, d + 4, d + 6);
	return 0;
}

static int money_field(const char *s, int64_t *fen, struct em_error *err)
{
	if (!s || !*s) {
		*fen = 0;
		return 0;
	}
	return em_money_parse(s, fen, err);
}

int em_stmt_csv_read(struct em_stmt_file *f, const char *path, const char *mapping_path,
		     const char *encoding, struct em_error *err)
{
	struct mapping m;
	struct em_csv csv = EM_CSV_INIT;
	struct em_strbuf missing = EM_STRBUF_INIT;
	struct em_strbuf digest_in = EM_STRBUF_INIT;
	struct em_stmt *s;
	int idx[C_N];
	int ret = EM_ERR;
	int rc;
	int64_t prev_balance = 0;
	int64_t rolled;
	char hex[65];

	memset(&m, 0, sizeof(m));
	f->format = "csv";
	f->source = xstrdup(path);
	rc = ini_parse(mapping_path, mapping_handler, &m);
	if (rc != 0) {
		em_error_set(err, "cannot read the bank CSV column mapping '%s'", mapping_path);
		if (rc > 0)
			em_error_detail(err, "line %d: unknown key or bad syntax", rc);
		em_error_hint(err, "see config/bank_csv.conf: [columns] date, amount or debit and credit, balance, account, ...");
		goto out;
	}
	if (em_csv_read_file(&csv, path, encoding ? encoding : m.encoding, err) < 0)
		goto out;
	if (csv.nrows < 2) {
		em_error_set(err, "%s: the statement has no entries", path);
		em_error_hint(err, "a bank CSV statement has a header row and one row per entry");
		goto out;
	}
	for (int i = 0; i < C_N; i++) {
		idx[i] = -1;
		for (size_t c = 0; m.header[i] && c < csv.rows[0].nfields; c++)
			if (strcmp(csv.rows[0].fields[c], m.header[i]) == 0)
				idx[i] = (int)c;
		if (m.header[i] && idx[i] < 0)
			em_strbuf_addf(&missing, "%s'%s' (%s)", missing.len ? ", " : "", m.header[i], col_keys[i]);
	}
	if (!m.header[C_DATE] || !m.header[C_BALANCE] || !m.header[C_ACCOUNT] ||
	    (!m.header[C_AMOUNT] && (!m.header[C_DEBIT] || !m.header[C_CREDIT]))) {
		em_error_set(err, "the column mapping '%s' lacks date, balance, account or the amount", mapping_path);
		em_error_hint(err, "map date, balance, account and either amount or both debit and credit");
		goto out;
	}
	if (missing.len) {
		em_error_set(err, "%s: the statement lacks columns the mapping needs", path);
		em_error_detail(err, "missing: %s (mapping %s)", missing.buf, mapping_path);
		em_error_hint(err, "export the statement with these columns, or fix the mapping in %s", mapping_path);
		goto out;
	}
	f->stmts = calloc(1, sizeof(*f->stmts));
	if (!f->stmts)
		abort();
	f->n = 1;
	s = &f->stmts[0];
	s->lines = calloc(csv.nrows - 1, sizeof(*s->lines));
	if (!s->lines)
		abort();
	for (size_t r = 1; r < csv.nrows; r++) {
		const struct em_csv_row *row = &csv.rows[r];
		struct em_stmt_line *l = &s->lines[s->nlines];
		int64_t debit = 0, credit = 0, balance = 0;
#define FIELD(k) (idx[k] >= 0 && (size_t)idx[k] < row->nfields ? row->fields[idx[k]] : NULL)
		const char *acct;
		if (row->nfields == 1 && !*row->fields[0])
			continue; /* a blank line at the end */
		acct = FIELD(C_ACCOUNT) ? FIELD(C_ACCOUNT) : "";
		if (row->nfields != csv.rows[0].nfields) {
			em_error_set(err, "%s:%zu: %zu fields where the header has %zu", path, row->line,
				     row->nfields, csv.rows[0].nfields);
			goto out;
		}
		s->nlines++;
		l->src_line = row->line;
		if (!FIELD(C_DATE) || csv_date(FIELD(C_DATE), l->booking_date) < 0) {
			struct em_strbuf echo = EM_STRBUF_INIT;
			em_strbuf_add_sanitized(&echo, FIELD(C_DATE) ? FIELD(C_DATE) : "", EM_STMT_ECHO_MAX);
			em_error_set(err, "%s:%zu: '%s' is not a date", path, row->line, echo.buf);
			em_error_hint(err, "dates are YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD");
			em_strbuf_release(&echo);
			goto out;
		}
		if (FIELD(C_VALUEDATE) && csv_date(FIELD(C_VALUEDATE), l->value_date) < 0)
			l->value_date[0] = '\0';
		if (idx[C_AMOUNT] >= 0) {
			if (money_field(FIELD(C_AMOUNT), &credit, err) < 0)
				goto line_err;
		} else if (money_field(FIELD(C_DEBIT), &debit, err) < 0 ||
			   money_field(FIELD(C_CREDIT), &credit, err) < 0) {
			goto line_err;
		}
		/* some banks print the debit column negative; sums are checked, never wrapped */
		if ((debit < 0 && __builtin_sub_overflow((int64_t)0, debit, &debit)) ||
		    __builtin_sub_overflow(credit, debit, &l->amount_fen))
			goto too_large;
		if (money_field(FIELD(C_BALANCE), &balance, err) < 0)
			goto line_err;
		if (l->amount_fen == 0) {
			em_error_set(err, "%s:%zu: the entry has no amount", path, row->line);
			goto out;
		}
		if (s->nlines == 1) {
			if (__builtin_sub_overflow(balance, l->amount_fen, &s->opening_fen))
				goto too_large;
			s->has_opening = 1;
			s->account = xstrdup(acct);
			memcpy(s->from, l->booking_date, 11);
		} else if (__builtin_add_overflow(prev_balance, l->amount_fen, &rolled) || rolled != balance) {
			char a[EM_MONEY_BUFSZ], b[EM_MONEY_BUFSZ], c[EM_MONEY_BUFSZ];
			em_error_set(err, "%s:%zu: balances do not roll (EMB01 balances)", path, row->line);
			em_error_detail(err, "previous balance %s + entry %s <> balance %s",
					em_money_format_grouped(prev_balance, a, sizeof(a)),
					em_money_format_grouped(l->amount_fen, b, sizeof(b)),
					em_money_format_grouped(balance, c, sizeof(c)));
			em_error_hint(err, "the export is incomplete or out of order; export the whole period again");
			goto out;
		}
		if (strcmp(acct, s->account) != 0) {
			struct em_strbuf a1 = EM_STRBUF_INIT, a0 = EM_STRBUF_INIT;
			em_strbuf_add_sanitized(&a1, acct, EM_STMT_ECHO_MAX);
			em_strbuf_add_sanitized(&a0, s->account, EM_STMT_ECHO_MAX);
			em_error_set(err, "%s:%zu: account '%s' differs from the first row's '%s'", path, row->line,
				     a1.buf, a0.buf);
			em_error_hint(err, "one statement file holds one account");
			em_strbuf_release(&a1);
			em_strbuf_release(&a0);
			goto out;
		}
		prev_balance = balance;
		if (strcmp(l->booking_date, s->to) > 0)
			memcpy(s->to, l->booking_date, 11);
		if (strcmp(l->booking_date, s->from) < 0)
			memcpy(s->from, l->booking_date, 11);
		l->currency = xstrdup(FIELD(C_CURRENCY) && *FIELD(C_CURRENCY) ? FIELD(C_CURRENCY) : "CNY");
		if (strcmp(l->currency, "人民币") == 0 || strcmp(l->currency, "RMB") == 0) {
			free(l->currency);
			l->currency = xstrdup("CNY");
		}
		if (!s->currency)
			s->currency = xstrdup(l->currency);
		else if (strcmp(s->currency, l->currency) != 0)
			s->mixed_currency = 1;
		l->reference = xstrdup(FIELD(C_REFERENCE));
		l->counterparty = xstrdup(FIELD(C_COUNTERPARTY));
		l->bank_ref = xstrdup(FIELD(C_BANKREF));
		l->end_to_end_id = FIELD(C_E2E) && *FIELD(C_E2E) ? xstrdup(FIELD(C_E2E)) : NULL;
		if (FIELD(C_RETURN) && *FIELD(C_RETURN)) {
			l->returned = 1;
			l->return_reason = xstrdup(FIELD(C_RETURN));
		}
		for (size_t c = 0; c < row->nfields; c++)
			em_strbuf_addf(&digest_in, "%s\x1f", row->fields[c]);
		em_strbuf_addc(&digest_in, '\n');
		continue;
too_large:
		em_error_set(err, "%s:%zu: the amounts and balances are too large to add up", path, row->line);
		em_error_detail(err, "earmark keeps fen in 64 bits, up to 92,233,720,368,547,758.07");
		em_error_hint(err, "this is not a statement of a dedicated account; check the export and the column mapping");
		goto out;
line_err:
		{
			char *why = xstrdup(err->message);
			em_error_set(err, "%s:%zu: %s", path, row->line, why);
			free(why);
			goto out;
		}
#undef FIELD
	}
	if (s->nlines == 0) {
		em_error_set(err, "%s: the statement has no entries", path);
		goto out;
	}
	s->closing_fen = prev_balance;
	s->has_closing = 1;
	em_sha256_hex(digest_in.buf, digest_in.len, hex);
	{
		struct em_strbuf ref = EM_STRBUF_INIT;
		em_strbuf_addf(&ref, "csv-%s-%s-%s-%.16s", s->account, s->from, s->to, hex);
		s->ref = em_strbuf_detach(&ref, NULL);
	}
	ret = 0;
out:
	mapping_release(&m);
	em_csv_release(&csv);
	em_strbuf_release(&missing);
	em_strbuf_release(&digest_in);
	return ret;
}

/* ---- checks, description, import ----------------------------------------- */

/*
 * The sum of the entries into *sum and whether opening + sum = closing;
 * a sum beyond int64 (a file made to overflow it) does not roll, and *sum
 * is then what was added before it would have wrapped.
 */
static int rolls(const struct em_stmt *s, int64_t *sum)
{
	int64_t end;

	*sum = 0;
	for (size_t j = 0; j < s->nlines; j++)
		if (__builtin_add_overflow(*sum, s->lines[j].amount_fen, sum))
			return 0;
	return !__builtin_add_overflow(s->opening_fen, *sum, &end) && end == s->closing_fen;
}

int em_stmt_check(const struct em_stmt_file *f, const char *account_no, struct em_error *err)
{
	struct em_strbuf ref = EM_STRBUF_INIT, acct = EM_STRBUF_INIT, ccy = EM_STRBUF_INIT;
	int ret = 0;

	for (size_t i = 0; i < f->n && ret == 0; i++) {
		const struct em_stmt *s = &f->stmts[i];
		char a[EM_MONEY_BUFSZ], b[EM_MONEY_BUFSZ], c[EM_MONEY_BUFSZ];
		int64_t sum;
		/* what the file says, safe to print */
		em_strbuf_reset(&ref);
		em_strbuf_reset(&acct);
		em_strbuf_reset(&ccy);
		em_strbuf_add_sanitized(&ref, s->ref ? s->ref : "", EM_STMT_REF_MAX);
		em_strbuf_add_sanitized(&acct, s->account ? s->account : "", EM_STMT_ECHO_MAX);
		if (s->currency)
			em_strbuf_add_sanitized(&ccy, s->currency, EM_STMT_ECHO_MAX);
		if (!s->account || strcmp(s->account, account_no) != 0) {
			em_error_set(err, "statement '%s' in %s is for account '%s', not '%s' (EMB01 account)", ref.buf,
				     f->source, acct.buf, account_no);
			em_error_hint(err, "import it into the dedicated account it belongs to: --account NO");
			ret = EM_ERR;
		} else if (!s->currency || strcmp(s->currency, "CNY") != 0 || s->mixed_currency) {
			em_error_set(err, "statement '%s' in %s is in %s, but dedicated account '%s' keeps CNY (EMB01 currency)",
				     ref.buf, f->source, s->mixed_currency ? "several currencies" : s->currency ? ccy.buf : "no currency",
				     account_no);
			em_error_detail(err, "earmark keeps money in CNY fen only (DESIGN section 3)");
			em_error_hint(err, "ask the bank for the statement of the CNY dedicated account");
			ret = EM_ERR;
		} else if (!rolls(s, &sum)) {
			em_error_set(err, "statement '%s' in %s does not roll: opening %s + entries %s <> closing %s (EMB01 balances)",
				     ref.buf, f->source, em_money_format_grouped(s->opening_fen, a, sizeof(a)),
				     em_money_format_grouped(sum, b, sizeof(b)),
				     em_money_format_grouped(s->closing_fen, c, sizeof(c)));
			em_error_detail(err, "%zu entries", s->nlines);
			em_error_hint(err, "the file is incomplete or altered; ask the bank for it again");
			ret = EM_ERR;
		}
	}
	em_strbuf_release(&ref);
	em_strbuf_release(&acct);
	em_strbuf_release(&ccy);
	return ret;
}

void em_stmt_describe(const struct em_stmt_file *f, struct em_strbuf *out)
{
	struct em_strbuf ref = EM_STRBUF_INIT, acct = EM_STRBUF_INIT, ccy = EM_STRBUF_INIT;

	for (size_t i = 0; i < f->n; i++) {
		const struct em_stmt *s = &f->stmts[i];
		char a[EM_MONEY_BUFSZ], b[EM_MONEY_BUFSZ], c[EM_MONEY_BUFSZ];
		int64_t sum;
		int rolling = rolls(s, &sum);
		size_t returned = 0;
		for (size_t j = 0; j < s->nlines; j++)
			returned += s->lines[j].returned != 0;
		/* the file's text goes to a terminal: safe to print, like messages */
		em_strbuf_reset(&ref);
		em_strbuf_reset(&acct);
		em_strbuf_reset(&ccy);
		em_strbuf_add_sanitized(&ref, s->ref ? s->ref : "", EM_STMT_REF_MAX);
		em_strbuf_add_sanitized(&acct, s->account ? s->account : "", EM_STMT_ECHO_MAX);
		em_strbuf_add_sanitized(&ccy, s->currency ? s->currency : "?", EM_STMT_ECHO_MAX);
		em_strbuf_addf(out, "statement %s: account %s, %s%s, %s to %s, opening %s, %zu entries %s, closing %s, %s",
			       ref.buf, acct.buf, ccy.buf,
			       s->mixed_currency ? " (mixed currencies)" : "", s->from, s->to,
			       em_money_format_grouped(s->opening_fen, a, sizeof(a)), s->nlines,
			       em_money_format_grouped(sum, b, sizeof(b)),
			       em_money_format_grouped(s->closing_fen, c, sizeof(c)),
			       rolling ? "balances roll" : "balances DO NOT roll");
		if (returned)
			em_strbuf_addf(out, ", %zu returned", returned);
		em_strbuf_addc(out, '\n');
	}
	em_strbuf_release(&ref);
	em_strbuf_release(&acct);
	em_strbuf_release(&ccy);
}

static void stmt_json(const struct em_stmt_file *f, const struct em_stmt *s, struct em_strbuf *j)
{
	em_strbuf_addc(j, '{');
	em_json_add_member(j, 1, "ref", s->ref);
	em_json_add_member(j, 0, "format", f->format);
	em_json_add_member(j, 0, "source", f->source);
	em_json_add_member(j, 0, "account", s->account);
	em_json_add_member(j, 0, "currency", s->mixed_currency ? "mixed" : s->currency);
	em_json_add_member(j, 0, "from", s->from);
	em_json_add_member(j, 0, "to", s->to);
	em_json_add_int(j, 0, "opening_fen", s->opening_fen);
	em_json_add_int(j, 0, "closing_fen", s->closing_fen);
	em_strbuf_adds(j, ",\"lines\":[");
	for (size_t i = 0; i < s->nlines; i++) {
		const struct em_stmt_line *l = &s->lines[i];
		if (i)
			em_strbuf_addc(j, ',');
		em_strbuf_addc(j, '{');
		em_json_add_member(j, 1, "booking_date", l->booking_date);
		if (l->value_date[0])
			em_json_add_member(j, 0, "value_date", l->value_date);
		em_json_add_int(j, 0, "amount_fen", l->amount_fen);
		if (l->end_to_end_id)
			em_json_add_member(j, 0, "end_to_end_id", l->end_to_end_id);
		em_json_add_member(j, 0, "reference", l->reference);
		em_json_add_member(j, 0, "counterparty", l->counterparty);
		em_json_add_member(j, 0, "bank_ref", l->bank_ref);
		if (l->returned) {
			em_strbuf_adds(j, ",\"returned\":true");
			if (l->return_reason)
				em_json_add_member(j, 0, "return_reason", l->return_reason);
		}
		em_strbuf_addc(j, '}');
	}
	em_strbuf_adds(j, "]}");
}

/* One attempt of the whole import: BEGIN, every statement, COMMIT; f was read before. */
static int statement_import_once(PGconn *conn, const char *book, const char *account_no,
				 const struct em_stmt_file *f, size_t *new_stmts, size_t *new_lines,
				 struct em_error *err)
{
	struct em_strbuf j = EM_STRBUF_INIT;
	int ret = EM_ERR;

	*new_stmts = *new_lines = 0;
	if (em_db_command(conn, "BEGIN", 0, NULL, err) < 0)
		return EM_ERR;
	for (size_t i = 0; i < f->n; i++) {
		const char *params[3] = { book, account_no, NULL };
		PGresult *res;
		em_strbuf_reset(&j);
		stmt_json(f, &f->stmts[i], &j);
		params[2] = j.buf;
		res = em_db_exec(conn, "SELECT statement_id, line_count, already FROM earmark.statement_import($1, $2, $3::jsonb)",
				 3, params, PGRES_TUPLES_OK, 3, err);
		if (!res)
			goto out;
		if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 2), "f") == 0) {
			(*new_stmts)++;
			*new_lines += strtoul(PQgetvalue(res, 0, 1), NULL, 10);
		}
		PQclear(res);
	}
	if (em_db_command(conn, "COMMIT", 0, NULL, err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0)
		PQclear(PQexec(conn, "ROLLBACK"));
	em_strbuf_release(&j);
	return ret;
}

/*
 * A deadlock or serialization failure rolled the whole import back: it runs
 * again from BEGIN (ledger/db.h), on the statements read once from the file
 * before (a file given as "-" is never read twice).  A statement that did
 * commit is answered as imported before, not written twice.
 */
int em_statement_import(PGconn *conn, const char *book, const char *account_no,
			const struct em_stmt_file *f, size_t *new_stmts, size_t *new_lines,
			struct em_error *err)
{
	int ret;

	for (int attempt = 0;
	     (ret = statement_import_once(conn, book, account_no, f, new_stmts, new_lines, err)) < 0 &&
	     em_db_retry_again(conn, attempt, err);
	     attempt++)
		;
	return ret;
}

static const struct {
	const char *name;
	const char *sql;
	int nparams;
} bank_actions[] = {
	{ "statement match", "SELECT * FROM earmark.statement_match_auto($1, $2, COALESCE($3::integer, 5))", 3 },
	{ "statement link", "SELECT earmark.statement_match($1, $2, $3, $4::integer)", 4 },
	{ "statement unmatch", "SELECT earmark.statement_unmatch($1, $2)", 2 },
	{ "pay reissue", "SELECT * FROM earmark.payment_reissue($1, $2, $3::date)", 3 },
};

int em_bank_action(PGconn *conn, const char *name, const char *const *params, struct em_strbuf *result,
		   struct em_error *err)
{
	for (size_t i = 0; i < sizeof(bank_actions) / sizeof(bank_actions[0]); i++) {
		PGresult *res;
		if (strcmp(bank_actions[i].name, name) != 0)
			continue;
		res = em_db_exec_retry(conn, bank_actions[i].sql, bank_actions[i].nparams, params, PGRES_TUPLES_OK,
				       -1, err);
		if (!res)
			return EM_ERR;
		for (int c = 0; result && PQntuples(res) == 1 && c < PQnfields(res); c++)
			em_strbuf_addf(result, "%s%s", c ? "\t" : "", PQgetvalue(res, 0, c));
		PQclear(res);
		return 0;
	}
	em_error_set(err, "unknown action '%s'", name);
	return EM_ERR;
}
