/*
 * `earmark audit export`: the signed audit package of a book and period
 * (DESIGN section 6).
 *
 * Each XML file is streamed from single-row-mode queries through libxml2's
 * text writer into a file in a private temporary folder beside the output;
 * the writer's sink hashes every byte it writes, so the SHA-256 each
 * Reference carries is computed in the same pass and no file is read back.
 * Memory stays constant whatever the size of the book.  The signature is
 * then built (XMLDSig, exclusive C14N, RSA >= 3072 or ECDSA P-256 with
 * SHA-256, XAdES-B SignedProperties), the ZIP is written with libzip under
 * a temporary name (mimetype first and stored), the package is recorded
 * in the database with the digest of its signature (earmark.audit_record:
 * it must name the previous package's, rule X1), and only then renamed to
 * its name and the transaction committed.  Any failure removes the
 * temporary files and leaves the database as it was.
 *
 * All reads run in one REPEATABLE READ transaction, so the ledger,
 * balances and control files describe the same snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ui.h>
#include <openssl/x509.h>
#include <zip.h>

#include "ledger/canon.h"
#include "ledger/db.h"
#include "ledger/error.h"
#include "ledger/money.h"
#include "ledger/strbuf.h"
#include "reports/audit.h"

const char *const em_audit_files[] = {
	"ledger.xml", "balances.xml", "control.xml",
	"schemas/ledger.xsd", "schemas/balances.xsd", "schemas/control.xsd",
};

/* ---- a writer that hashes what it writes ----------------------------- */

struct sink {
	FILE *f;             /* the temporary file */
	EVP_MD_CTX *md;      /* SHA-256 of every byte written */
	int failed;          /* a write failed */
};

static int sink_write(void *ctx, const char *buf, int len)
{
	struct sink *s = ctx;

	if (len > 0 && (fwrite(buf, 1, (size_t)len, s->f) != (size_t)len ||
			EVP_DigestUpdate(s->md, buf, (size_t)len) != 1)) {
		s->failed = 1;
		return -1;
	}
	return len;
}

struct xw {
	xmlTextWriterPtr w;  /* owns the output buffer */
	struct sink sink;
	int failed;          /* a writer call failed */
};

static void xs(struct xw *x, const char *name)
{
	if (!x->failed && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
		x->failed = 1;
}

static void xe(struct xw *x)
{
	if (!x->failed && xmlTextWriterEndElement(x->w) < 0)
		x->failed = 1;
}

static void xel(struct xw *x, const char *name, const char *text)
{
	if (!x->failed && xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST text) < 0)
		x->failed = 1;
}

/* An element only when text is not empty (optional dimensions). */
static void xopt(struct xw *x, const char *name, const char *text)
{
	if (text && *text)
		xel(x, name, text);
}

static void xmoney(struct xw *x, const char *name, int64_t fen)
{
	char buf[EM_MONEY_BUFSZ];

	xel(x, name, em_money_format(fen, buf, sizeof(buf)));
}

static void xint(struct xw *x, const char *name, int64_t n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, n);
	xel(x, name, buf);
}

static int xw_open(struct xw *x, const char *path, const char *root, struct em_error *err)
{
	xmlOutputBufferPtr out;

	memset(x, 0, sizeof(*x));
	x->sink.f = fopen(path, "wbx");
	x->sink.md = EVP_MD_CTX_new();
	if (!x->sink.f || !x->sink.md || EVP_DigestInit_ex(x->sink.md, EVP_sha256(), NULL) != 1)
		return em_error_set(err, "could not create '%s': %s", path, strerror(errno));
	out = xmlOutputBufferCreateIO(sink_write, NULL, &x->sink, NULL);
	if (!out || !(x->w = xmlNewTextWriter(out))) {
		if (out)
			xmlOutputBufferClose(out);
		return em_error_set(err, "could not start writing '%s'", path);
	}
	if (xmlTextWriterSetIndent(x->w, 1) < 0 ||
	    xmlTextWriterSetIndentString(x->w, BAD_CAST "  ") < 0 ||
	    xmlTextWriterStartDocument(x->w, "1.0", "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElementNS(x->w, NULL, BAD_CAST root, BAD_CAST EM_AUDIT_NS) < 0)
		x->failed = 1;
	return 0;
}

/* Ends the document, flushes, fsyncs; the digest goes to hex (65 bytes). */
static int xw_close(struct xw *x, const char *path, char hex[65], struct em_error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int ret = 0;

	if (x->w) {
		if (!x->failed && (xmlTextWriterEndDocument(x->w) < 0 || xmlTextWriterFlush(x->w) < 0))
			x->failed = 1;
		xmlFreeTextWriter(x->w);
		x->w = NULL;
	}
	if (x->sink.f) {
		if (fflush(x->sink.f) != 0 || fsync(fileno(x->sink.f)) != 0)
			x->failed = 1;
		if (fclose(x->sink.f) != 0)
			x->failed = 1;
		x->sink.f = NULL;
	}
	if (x->sink.md) {
		if (hex && EVP_DigestFinal_ex(x->sink.md, md, &mdlen) == 1 && mdlen == EM_HASH_LEN)
			em_canon_hex(md, hex);
		else if (hex)
			x->failed = 1;
		EVP_MD_CTX_free(x->sink.md);
		x->sink.md = NULL;
	}
	if (hex && (x->failed || x->sink.failed))
		ret = em_error_set(err, "could not write '%s'", path);
	return ret;
}

/* ---- queries ------------------------------------------------------------ */

/*
 * Streams a query in single-row mode, calling row for each row; the first
 * error wins.  Returns 0 or EM_ERR.
 */
static int each_row(PGconn *conn, const char *sql, int nparams, const char *const *params,
		    int (*row)(PGresult *res, void *ctx), void *ctx, struct em_error *err)
{
	PGresult *res;
	int failed = 0;

	if (!PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(conn))
		return em_error_from_conn(err, conn, "could not read the books");
	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) {
			if (!failed)
				em_error_from_result(err, res);
			failed = 1;
		} else if (st == PGRES_SINGLE_TUPLE && !failed && row(res, ctx) < 0) {
			em_error_set(err, "could not write the package");
			failed = 1;
		}
		PQclear(res);
	}
	return failed ? EM_ERR : 0;
}

static const char *val(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col);
}

static int64_t ival(PGresult *res, int col)
{
	return strtoll(val(res, col), NULL, 10);
}

struct master {
	struct xw *x;
	const char *rec;        /* element of one record */
	const char *const *names; /* element per column; NULL ends */
	int64_t rows;
};

static int master_row(PGresult *res, void *ctx)
{
	struct master *m = ctx;

	xs(m->x, m->rec);
	for (int i = 0; m->names[i]; i++) {
		if (i == 0 || m->names[i][0] != '?')
			xel(m->x, m->names[i][0] == '?' ? m->names[i] + 1 : m->names[i], val(res, i));
		else
			xopt(m->x, m->names[i] + 1, val(res, i));
	}
	xe(m->x);
	m->rows++;
	return m->x->failed ? -1 : 0;
}

static int write_master(PGconn *conn, struct xw *x, const char *book, const char *group,
			const char *rec, const char *sql, const char *const *names,
			struct em_error *err)
{
	const char *params[] = { book };
	struct master m = { x, rec, names, 0 };

	xs(x, group);
	if (each_row(conn, sql, 1, params, master_row, &m, err) < 0)
		return EM_ERR;
	xe(x);
	return 0;
}

/* ---- ledger.xml --------------------------------------------------------- */

static const char entries_sql[] =
	"SELECT v.chain_seq, v.number_text, v.vtype, v.voucher_date::text, "
	"       COALESCE(o.number_text, ''), v.memo, v.prepared_by, v.reviewed_by, v.posted_by, "
	"       (extract(epoch FROM v.posted_at) * 1000000)::bigint, "
	"       COALESCE(encode(pv.chain_hash, 'hex'), repeat('0', 64)), encode(v.chain_hash, 'hex'), "
	"       l.line_no, l.account, l.side, l.amount_fen, l.fund, l.project, l.village, "
	"       l.household, l.bank_account, l.category, l.memo "
	"  FROM earmark.voucher v "
	"  JOIN earmark.line_coded l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id "
	"  LEFT JOIN earmark.voucher o ON o.book_id = v.book_id AND o.voucher_id = v.reverses_id "
	"  LEFT JOIN earmark.voucher pv ON pv.book_id = v.book_id AND pv.chain_seq = v.chain_seq - 1 "
	" WHERE v.book_id = earmark.book_of($1) AND v.status = 'posted' "
	"   AND v.voucher_date BETWEEN $2::date AND $3::date "
	" ORDER BY v.chain_seq, l.line_no";

struct entries {
	struct xw *x;
	int64_t seq;        /* voucher open in the writer, 0 none */
	int64_t vouchers, lines;
};

static void posted_at_text(int64_t us, char buf[96])
{
	time_t secs = (time_t)(us / 1000000);
	long micros = (long)(us % 1000000);
	struct tm tm;

	if (micros < 0) {
		micros += 1000000;
		secs -= 1;
	}
	gmtime_r(&secs, &tm);
	snprintf(buf, 96, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

static int entry_row(PGresult *res, void *ctx)
{
	struct entries *e = ctx;
	struct xw *x = e->x;
	int64_t seq = ival(res, 0);
	char when[96];

	if (seq != e->seq) {
		if (e->seq)
			xe(x);
		e->seq = seq;
		e->vouchers++;
		posted_at_text(ival(res, 9), when);
		xs(x, "Transaction");
		xint(x, "ChainSeq", seq);
		xel(x, "Number", val(res, 1));
		xel(x, "Type", val(res, 2));
		xel(x, "Date", val(res, 3));
		xopt(x, "Reverses", val(res, 4));
		xel(x, "Memo", val(res, 5));
		xel(x, "PreparedBy", val(res, 6));
		xel(x, "ReviewedBy", val(res, 7));
		xel(x, "PostedBy", val(res, 8));
		xel(x, "PostedAt", when);
		xel(x, "ChainPrev", val(res, 10));
		xel(x, "ChainHash", val(res, 11));
	}
	xs(x, "Line");
	xel(x, "LineNo", val(res, 12));
	xel(x, "Account", val(res, 13));
	xel(x, "Side", val(res, 14));
	xmoney(x, "Amount", ival(res, 15));
	xel(x, "Fund", val(res, 16));
	xopt(x, "Project", val(res, 17));
	xopt(x, "Village", val(res, 18));
	xopt(x, "Household", val(res, 19));
	xopt(x, "BankAccount", val(res, 20));
	xopt(x, "Category", val(res, 21));
	xel(x, "Memo", val(res, 22));
	xe(x);
	e->lines++;
	return x->failed ? -1 : 0;
}

struct summary {
	int64_t vouchers, lines, debit_fen, credit_fen;
};

static int write_ledger(PGconn *conn, const struct em_audit_export *a, const char *path,
			const char *book_name, const struct summary *sum, char hex[65],
			struct em_error *err)
{
	static const char *const acc_cols[] = { "Code", "Name", "Kind", "NormalSide", "IsBank", NULL };
	static const char *const cat_cols[] = { "Code", "Name", NULL };
	static const char *const da_cols[] = { "AccountNo", "BankName", "CNAPS", NULL };
	static const char *const fund_cols[] = { "Code", "Name", "Level", "?FundType", "Year",
						 "?DocNo", "Amount", "DedicatedAccount", NULL };
	static const char *const proj_cols[] = { "Code", "Name", "?Category", "?ImplementingUnit", NULL };
	static const char *const vil_cols[] = { "Code", "Name", "?Township", "?County", NULL };
	static const char *const hh_cols[] = { "Code", "Village", "HeadName", "?IDNumber", "?BankCard", NULL };
	const char *params[] = { a->book, a->from, a->to };
	struct entries e = { NULL, 0, 0, 0 };
	struct xw x;
	char now[96];
	int ret = EM_ERR;

	if (xw_open(&x, path, "AuditFile", err) < 0)
		goto out;
	e.x = &x;
	posted_at_text((int64_t)time(NULL) * 1000000, now);
	xs(&x, "Header");
	xel(&x, "AuditFileVersion", "1");
	xel(&x, "Book", a->book);
	xel(&x, "BookName", book_name);
	xs(&x, "SelectionCriteria");
	xel(&x, "PeriodStart", a->from);
	xel(&x, "PeriodEnd", a->to);
	xe(&x);
	xel(&x, "DateCreated", now);
	xel(&x, "SoftwareID", "earmark");
	xel(&x, "CurrencyCode", "CNY");
	xe(&x);

	xs(&x, "MasterFiles");
	if (write_master(conn, &x, a->book, "Accounts", "Account",
			 "SELECT code, name, kind, normal_side, CASE WHEN is_bank THEN 'true' ELSE 'false' END "
			 "FROM earmark.account WHERE book_id = earmark.book_of($1) ORDER BY code",
			 acc_cols, err) < 0 ||
	    write_master(conn, &x, a->book, "UseCategories", "UseCategory",
			 "SELECT code, name FROM earmark.use_category "
			 "WHERE book_id = earmark.book_of($1) ORDER BY code", cat_cols, err) < 0 ||
	    write_master(conn, &x, a->book, "DedicatedAccounts", "DedicatedAccount",
			 "SELECT account_no, bank_name, cnaps FROM earmark.dedicated_account "
			 "WHERE book_id = earmark.book_of($1) ORDER BY account_no", da_cols, err) < 0 ||
	    write_master(conn, &x, a->book, "Funds", "Fund",
			 "SELECT f.code, f.name, f.level, f.fund_type, f.year, f.doc_no, "
			 "       to_char(f.amount_fen / 100.0, 'FM999999999999999990.00'), d.account_no "
			 "  FROM earmark.fund f JOIN earmark.dedicated_account d "
			 "    ON d.book_id = f.book_id AND d.bank_account_id = f.bank_account_id "
			 " WHERE f.book_id = earmark.book_of($1) ORDER BY f.code", fund_cols, err) < 0 ||
	    write_master(conn, &x, a->book, "Projects", "Project",
			 "SELECT p.code, p.name, c.code, p.implementing_unit FROM earmark.project p "
			 "  LEFT JOIN earmark.use_category c "
			 "    ON c.book_id = p.book_id AND c.category_id = p.category_id "
			 " WHERE p.book_id = earmark.book_of($1) ORDER BY p.code", proj_cols, err) < 0 ||
	    write_master(conn, &x, a->book, "Villages", "Village",
			 "SELECT code, name, township, county FROM earmark.village "
			 "WHERE book_id = earmark.book_of($1) ORDER BY code", vil_cols, err) < 0 ||
	    write_master(conn, &x, a->book, "Households", "Household",
			 "SELECT code, village, head_name, id_no, bank_card "
			 "FROM earmark.audit_households($1)", hh_cols, err) < 0)
		goto out;
	xe(&x);

	xs(&x, "GeneralLedgerEntries");
	xint(&x, "NumberOfEntries", sum->vouchers);
	xmoney(&x, "TotalDebit", sum->debit_fen);
	xmoney(&x, "TotalCredit", sum->credit_fen);
	if (each_row(conn, entries_sql, 3, params, entry_row, &e, err) < 0)
		goto out;
	if (e.seq)
		xe(&x);
	xe(&x);
	if (e.vouchers != sum->vouchers || e.lines != sum->lines) {
		em_error_set(err, "the books changed while the package was written");
		goto out;
	}
	ret = 0;
out:
	if (xw_close(&x, path, ret == 0 ? hex : NULL, err) < 0)
		ret = EM_ERR;
	return ret;
}

/* ---- balances.xml ------------------------------------------------------- */

static const char balances_sql[] =
	"SELECT a.code, f.code, "
	"       COALESCE(sum(CASE WHEN v.voucher_date < $2::date THEN "
	"           CASE WHEN l.side = 'D' THEN l.amount_fen ELSE -l.amount_fen END END), 0), "
	"       COALESCE(sum(l.amount_fen) FILTER (WHERE v.voucher_date >= $2::date AND l.side = 'D'), 0), "
	"       COALESCE(sum(l.amount_fen) FILTER (WHERE v.voucher_date >= $2::date AND l.side = 'C'), 0) "
	"  FROM earmark.line l "
	"  JOIN earmark.voucher v ON v.book_id = l.book_id AND v.voucher_id = l.voucher_id "
	"  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id "
	"  JOIN earmark.fund f ON f.book_id = l.book_id AND f.fund_id = l.fund_id "
	" WHERE l.book_id = earmark.book_of($1) AND v.status = 'posted' AND v.voucher_date <= $3::date "
	" GROUP BY a.code, f.code ORDER BY a.code, f.code";

struct balances {
	struct xw *x;
	int64_t rows;
};

static int balance_row(PGresult *res, void *ctx)
{
	struct balances *b = ctx;
	int64_t open = ival(res, 2), dr = ival(res, 3), cr = ival(res, 4);

	xs(b->x, "Balance");
	xel(b->x, "Account", val(res, 0));
	xel(b->x, "Fund", val(res, 1));
	xmoney(b->x, "Opening", open);
	xmoney(b->x, "Debit", dr);
	xmoney(b->x, "Credit", cr);
	xmoney(b->x, "Closing", open + dr - cr);
	xe(b->x);
	b->rows++;
	return b->x->failed ? -1 : 0;
}

static int write_balances(PGconn *conn, const struct em_audit_export *a, const char *path,
			  int64_t *rows, char hex[65], struct em_error *err)
{
	const char *params[] = { a->book, a->from, a->to };
	struct xw x;
	struct balances b = { &x, 0 };
	int ret = EM_ERR;

	if (xw_open(&x, path, "Balances", err) < 0)
		goto out;
	xel(&x, "Book", a->book);
	xel(&x, "PeriodStart", a->from);
	xel(&x, "PeriodEnd", a->to);
	if (each_row(conn, balances_sql, 3, params, balance_row, &b, err) < 0)
		goto out;
	*rows = b.rows;
	ret = 0;
out:
	if (xw_close(&x, path, ret == 0 ? hex : NULL, err) < 0)
		ret = EM_ERR;
	return ret;
}

/* ---- control.xml -------------------------------------------------------- */

static int fund_row(PGresult *res, void *ctx)
{
	struct xw *x = ctx;

	xs(x, "FundTotal");
	xel(x, "Fund", val(res, 0));
	xint(x, "Lines", ival(res, 1));
	xmoney(x, "Debit", ival(res, 2));
	xmoney(x, "Credit", ival(res, 3));
	xe(x);
	return x->failed ? -1 : 0;
}

static int checkpoint_row(PGresult *res, void *ctx)
{
	struct xw *x = ctx;

	xs(x, "Checkpoint");
	xel(x, "Month", val(res, 0));
	xint(x, "Seq", ival(res, 1));
	xel(x, "Hash", val(res, 2));
	xe(x);
	return x->failed ? -1 : 0;
}

static int write_control(PGconn *conn, const struct em_audit_export *a, const char *path,
			 const struct summary *sum, int64_t balance_rows, const char *head_seq,
			 const char *head_hash, const char *prev, char hex[65], struct em_error *err)
{
	const char *params[] = { a->book, a->from, a->to };
	struct xw x;
	int ret = EM_ERR;

	if (xw_open(&x, path, "Control", err) < 0)
		goto out;
	xel(&x, "Book", a->book);
	xel(&x, "PeriodStart", a->from);
	xel(&x, "PeriodEnd", a->to);
	xs(&x, "LedgerFile");
	xint(&x, "NumberOfEntries", sum->vouchers);
	xint(&x, "NumberOfLines", sum->lines);
	xmoney(&x, "TotalDebit", sum->debit_fen);
	xmoney(&x, "TotalCredit", sum->credit_fen);
	xe(&x);
	xs(&x, "BalancesFile");
	xint(&x, "NumberOfRows", balance_rows);
	xe(&x);
	xs(&x, "FundTotals");
	if (each_row(conn,
		     "SELECT l.fund, count(*), "
		     "       COALESCE(sum(l.amount_fen) FILTER (WHERE l.side = 'D'), 0), "
		     "       COALESCE(sum(l.amount_fen) FILTER (WHERE l.side = 'C'), 0) "
		     "  FROM earmark.voucher v JOIN earmark.line_coded l "
		     "    ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id "
		     " WHERE v.book_id = earmark.book_of($1) AND v.status = 'posted' "
		     "   AND v.voucher_date BETWEEN $2::date AND $3::date "
		     " GROUP BY l.fund ORDER BY l.fund", 3, params, fund_row, &x, err) < 0)
		goto out;
	xe(&x);
	xs(&x, "ChainHead");
	xel(&x, "Seq", head_seq);
	xel(&x, "Hash", head_hash);
	xe(&x);
	xs(&x, "Checkpoints");
	/* The last link of each month of the selection: a later package or a notice can pin it. */
	if (each_row(conn,
		     "SELECT DISTINCT ON (date_trunc('month', v.voucher_date)) "
		     "       to_char(v.voucher_date, 'YYYY-MM'), v.chain_seq, encode(v.chain_hash, 'hex') "
		     "  FROM earmark.voucher v "
		     " WHERE v.book_id = earmark.book_of($1) AND v.status = 'posted' "
		     "   AND v.voucher_date BETWEEN $2::date AND $3::date "
		     " ORDER BY date_trunc('month', v.voucher_date), v.chain_seq DESC",
		     3, params, checkpoint_row, &x, err) < 0)
		goto out;
	xe(&x);
	xopt(&x, "PreviousSignatureDigest", prev);
	ret = 0;
out:
	if (xw_close(&x, path, ret == 0 ? hex : NULL, err) < 0)
		ret = EM_ERR;
	return ret;
}

/* ---- keys, certificates, the signature ---------------------------------- */

static int passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pw = getenv("EARMARK_KEY_PASSPHRASE");
	size_t n;

	(void)rwflag;
	*(int *)u = 1;
	if (!pw) {
		if (!isatty(STDIN_FILENO) ||
		    EVP_read_pw_string(buf, size, "passphrase for the signing key: ", 0) != 0)
			return -1;
		return (int)strlen(buf);
	}
	n = strlen(pw);
	if (n >= (size_t)size)
		return -1;
	memcpy(buf, pw, n);
	return (int)n;
}

static EVP_PKEY *load_key(const char *path, struct em_error *err)
{
	FILE *f = fopen(path, "rb");
	EVP_PKEY *k;
	int asked = 0;

	if (!f) {
		em_error_set(err, "could not open key '%s': %s", path, strerror(errno));
		return NULL;
	}
	k = PEM_read_PrivateKey(f, NULL, passphrase_cb, &asked);
	fclose(f);
	if (!k) {
		ERR_clear_error();
		em_error_set(err, "could not read private key '%s'", path);
		if (asked)
			em_error_detail(err, "the key is encrypted and the passphrase did not open it");
		em_error_hint(err, "a PEM private key; for an encrypted one set EARMARK_KEY_PASSPHRASE");
	}
	return k;
}

static int load_certs(const char *path, STACK_OF(X509) *certs, struct em_error *err)
{
	FILE *f = fopen(path, "rb");
	X509 *c;
	int n = 0;

	if (!f)
		return em_error_set(err, "could not open certificate '%s': %s", path, strerror(errno));
	while ((c = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		sk_X509_push(certs, c);
		n++;
	}
	ERR_clear_error();
	fclose(f);
	if (n == 0)
		return em_error_set(err, "no PEM certificate in '%s'", path);
	return 0;
}

static void b64(struct em_strbuf *sb, const unsigned char *data, size_t len)
{
	size_t at = sb->len;

	em_strbuf_grow(sb, 4 * ((len + 2) / 3) + 1);
	sb->len += (size_t)EVP_EncodeBlock((unsigned char *)sb->buf + at, data, (int)len);
	sb->buf[sb->len] = '\0';
}

static void b64_cert(struct em_strbuf *sb, X509 *c)
{
	unsigned char *der = NULL;
	int len = i2d_X509(c, &der);

	if (len > 0)
		b64(sb, der, (size_t)len);
	OPENSSL_free(der);
}

/* Is node inside apex (for namespace and attribute nodes: is their element)? */
static int in_subtree(void *apex, xmlNodePtr node, xmlNodePtr parent)
{
	xmlNodePtr n = (!node || node->type == XML_NAMESPACE_DECL) ? parent : node;

	for (; n; n = n->parent)
		if (n == apex)
			return 1;
	return 0;
}

/* Exclusive C14N (no comments) of the subtree at apex. */
static int c14n_subtree(xmlDocPtr doc, xmlNodePtr apex, struct em_strbuf *out)
{
	xmlOutputBufferPtr buf = xmlAllocOutputBuffer(NULL);
	int ret = -1;

	if (!buf)
		return -1;
	if (xmlC14NExecute(doc, in_subtree, apex, XML_C14N_EXCLUSIVE_1_0, NULL, 0, buf) >= 0) {
		em_strbuf_add(out, xmlOutputBufferGetContent(buf), xmlOutputBufferGetSize(buf));
		ret = 0;
	}
	xmlOutputBufferClose(buf);
	return ret;
}

static xmlNodePtr find_el(xmlNodePtr n, const char *name)
{
	for (; n; n = n->next) {
		xmlNodePtr r;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)n->name, name) == 0)
			return n;
		if ((r = find_el(n->children, name)) != NULL)
			return r;
	}
	return NULL;
}

/* The next DigestValue under n whose content is the placeholder "?". */
static xmlNodePtr find_empty_digest(xmlNodePtr n)
{
	for (; n; n = n->next) {
		xmlNodePtr r;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)n->name, "DigestValue") == 0 && n->children &&
		    strcmp((const char *)n->children->content, "?") == 0)
			return n;
		if ((r = find_empty_digest(n->children)) != NULL)
			return r;
	}
	return NULL;
}

/*
 * The signature document: SignedInfo with one Reference per file (digests
 * given), the SignedProperties Reference, KeyInfo with the chain and the
 * XAdES QualifyingProperties; SignedProperties is digested and SignedInfo
 * signed here.  Written to path; its SHA-256 to sig_hex.
 */
static int write_signature(const char *path, const char *const digests[EM_AUDIT_NFILES],
			   EVP_PKEY *key, STACK_OF(X509) *certs, char sig_hex[65],
			   struct em_error *err)
{
	struct em_strbuf t = EM_STRBUF_INIT, c14n = EM_STRBUF_INIT, v = EM_STRBUF_INIT;
	X509 *signer = sk_X509_value(certs, 0);
	int is_ec = EVP_PKEY_base_id(key) == EVP_PKEY_EC;
	unsigned char md[EVP_MAX_MD_SIZE], *sig = NULL, *der = NULL;
	unsigned int mdlen = 0;
	size_t siglen = 0;
	char when[96], *issuer = NULL, *serial = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr n;
	xmlChar *mem = NULL;
	int memlen = 0, derlen;
	EVP_MD_CTX *mctx = NULL;
	BIO *bio = NULL;
	BIGNUM *bn = NULL;
	FILE *f = NULL;
	int ret = EM_ERR;

	/* the signer's certificate as XAdES names it */
	derlen = i2d_X509(signer, &der);
	if (derlen <= 0 || EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(), NULL) != 1)
		goto crypto;
	bio = BIO_new(BIO_s_mem());
	if (!bio || X509_NAME_print_ex(bio, X509_get_issuer_name(signer), 0, XN_FLAG_RFC2253) < 0 ||
	    BIO_write(bio, "", 1) != 1 || BIO_get_mem_data(bio, &issuer) <= 0)
		goto crypto;
	bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(signer), NULL);
	if (!bn || !(serial = BN_bn2dec(bn)))
		goto crypto;
	posted_at_text((int64_t)time(NULL) * 1000000, when);
	when[19] = 'Z', when[20] = '\0';

	em_strbuf_addf(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		       "<asic:XAdESSignatures xmlns:asic=\"%s\" xmlns:ds=\"%s\" xmlns:xades=\"%s\">"
		       "<ds:Signature Id=\"S1\">\n<ds:SignedInfo>\n"
		       "<ds:CanonicalizationMethod Algorithm=\"%s\"/>\n"
		       "<ds:SignatureMethod Algorithm=\"%s\"/>\n",
		       EM_NS_ASIC, EM_NS_DSIG, EM_NS_XADES, EM_ALG_EXC_C14N,
		       is_ec ? EM_ALG_ECDSA_SHA256 : EM_ALG_RSA_SHA256);
	for (int i = 0; i < EM_AUDIT_NFILES; i++)
		em_strbuf_addf(&t, "<ds:Reference Id=\"R%d\" URI=\"%s\">"
			       "<ds:DigestMethod Algorithm=\"%s\"/><ds:DigestValue>%s</ds:DigestValue>"
			       "</ds:Reference>\n", i + 1, em_audit_files[i], EM_ALG_SHA256, digests[i]);
	em_strbuf_addf(&t, "<ds:Reference Id=\"R-SP\" Type=\"%s\" URI=\"#S1-SignedProperties\">"
		       "<ds:Transforms><ds:Transform Algorithm=\"%s\"/></ds:Transforms>"
		       "<ds:DigestMethod Algorithm=\"%s\"/><ds:DigestValue>?</ds:DigestValue>"
		       "</ds:Reference>\n</ds:SignedInfo>\n"
		       "<ds:SignatureValue Id=\"S1-Value\">?</ds:SignatureValue>\n"
		       "<ds:KeyInfo><ds:X509Data>\n",
		       EM_TYPE_SIGNED_PROPS, EM_ALG_EXC_C14N, EM_ALG_SHA256);
	for (int i = 0; i < sk_X509_num(certs); i++) {
		em_strbuf_adds(&t, "<ds:X509Certificate>");
		b64_cert(&t, sk_X509_value(certs, i));
		em_strbuf_adds(&t, "</ds:X509Certificate>\n");
	}
	em_strbuf_addf(&t, "</ds:X509Data></ds:KeyInfo>\n"
		       "<ds:Object><xades:QualifyingProperties Target=\"#S1\">"
		       "<xades:SignedProperties Id=\"S1-SignedProperties\">"
		       "<xades:SignedSignatureProperties>"
		       "<xades:SigningTime>%s</xades:SigningTime>"
		       "<xades:SigningCertificate><xades:Cert><xades:CertDigest>"
		       "<ds:DigestMethod Algorithm=\"%s\"/><ds:DigestValue>", when, EM_ALG_SHA256);
	b64(&t, md, mdlen);
	em_strbuf_adds(&t, "</ds:DigestValue></xades:CertDigest><xades:IssuerSerial><ds:X509IssuerName>");
	{
		/* the issuer name is text: escape what XML needs escaped */
		for (const char *p = issuer; *p; p++) {
			if (*p == '&')
				em_strbuf_adds(&t, "&amp;");
			else if (*p == '<')
				em_strbuf_adds(&t, "&lt;");
			else if (*p == '>')
				em_strbuf_adds(&t, "&gt;");
			else
				em_strbuf_addc(&t, *p);
		}
	}
	em_strbuf_addf(&t, "</ds:X509IssuerName><ds:X509SerialNumber>%s</ds:X509SerialNumber>"
		       "</xades:IssuerSerial></xades:Cert></xades:SigningCertificate>"
		       "</xades:SignedSignatureProperties>"
		       "<xades:SignedDataObjectProperties>", serial);
	for (int i = 0; i < 3; i++)
		em_strbuf_addf(&t, "<xades:DataObjectFormat ObjectReference=\"#R%d\">"
			       "<xades:MimeType>text/xml</xades:MimeType></xades:DataObjectFormat>", i + 1);
	em_strbuf_adds(&t, "</xades:SignedDataObjectProperties></xades:SignedProperties>"
		       "</xades:QualifyingProperties></ds:Object></ds:Signature></asic:XAdESSignatures>\n");

	doc = xmlReadMemory(t.buf, (int)t.len, "signatures001.xml", "UTF-8",
			    XML_PARSE_NONET);
	if (!doc) {
		em_error_set(err, "could not build the signature document");
		goto out;
	}
	/* SignedProperties: digest its exclusive canonical form */
	n = find_el(xmlDocGetRootElement(doc), "SignedProperties");
	if (!n || c14n_subtree(doc, n, &c14n) < 0 ||
	    EVP_Digest(c14n.buf, c14n.len, md, &mdlen, EVP_sha256(), NULL) != 1)
		goto crypto;
	b64(&v, md, mdlen);
	n = find_empty_digest(xmlDocGetRootElement(doc));
	if (!n)
		goto crypto;
	xmlNodeSetContent(n, BAD_CAST v.buf);

	/* SignedInfo: sign its exclusive canonical form */
	em_strbuf_reset(&c14n);
	em_strbuf_reset(&v);
	n = find_el(xmlDocGetRootElement(doc), "SignedInfo");
	mctx = EVP_MD_CTX_new();
	if (!n || !mctx || c14n_subtree(doc, n, &c14n) < 0 ||
	    EVP_DigestSignInit(mctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(mctx, NULL, &siglen, (unsigned char *)c14n.buf, c14n.len) != 1 ||
	    !(sig = OPENSSL_malloc(siglen)) ||
	    EVP_DigestSign(mctx, sig, &siglen, (unsigned char *)c14n.buf, c14n.len) != 1)
		goto crypto;
	if (is_ec) {
		/* XMLDSig wants r || s, each 32 bytes for P-256, not DER */
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
		unsigned char rs[64];
		const BIGNUM *r, *s;

		if (!es)
			goto crypto;
		ECDSA_SIG_get0(es, &r, &s);
		if (BN_bn2binpad(r, rs, 32) != 32 || BN_bn2binpad(s, rs + 32, 32) != 32) {
			ECDSA_SIG_free(es);
			goto crypto;
		}
		ECDSA_SIG_free(es);
		b64(&v, rs, sizeof(rs));
	} else {
		b64(&v, sig, siglen);
	}
	n = find_el(xmlDocGetRootElement(doc), "SignatureValue");
	if (!n)
		goto crypto;
	xmlNodeSetContent(n, BAD_CAST v.buf);

	xmlDocDumpMemoryEnc(doc, &mem, &memlen, "UTF-8");
	if (!mem || memlen <= 0)
		goto crypto;
	if (EVP_Digest(mem, (size_t)memlen, md, &mdlen, EVP_sha256(), NULL) != 1)
		goto crypto;
	em_canon_hex(md, sig_hex);
	f = fopen(path, "wbx");
	if (!f || fwrite(mem, 1, (size_t)memlen, f) != (size_t)memlen || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
		em_error_set(err, "could not write '%s': %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
	goto out;
crypto:
	em_error_set(err, "could not sign the package");
	{
		unsigned long e = ERR_get_error();
		if (e)
			em_error_detail(err, "OpenSSL: %s", ERR_reason_error_string(e) ?
					ERR_reason_error_string(e) : "unknown error");
	}
	ERR_clear_error();
out:
	if (f)
		fclose(f);
	xmlFree(mem);
	xmlFreeDoc(doc);
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(sig);
	OPENSSL_free(der);
	OPENSSL_free(serial);
	BN_free(bn);
	BIO_free(bio);
	em_strbuf_release(&t);
	em_strbuf_release(&c14n);
	em_strbuf_release(&v);
	return ret;
}

/* The key must be RSA >= 3072 bits or ECDSA P-256, and match the certificate. */
static int check_key(EVP_PKEY *key, X509 *cert, const char *cert_path, struct em_error *err)
{
	int id = EVP_PKEY_base_id(key);

	if (id == EVP_PKEY_RSA && EVP_PKEY_bits(key) < 3072) {
		em_error_set(err, "the signing key is RSA with %d bits; at least 3072 are needed",
			     EVP_PKEY_bits(key));
		em_error_hint(err, "make one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072");
		return EM_ERR;
	}
	if (id == EVP_PKEY_EC) {
		char group[64] = "";
		size_t glen = 0;

		if (EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) != 1 ||
		    strcmp(group, "prime256v1") != 0) {
			em_error_set(err, "the signing key is ECDSA on curve '%s'; only P-256 is accepted", group);
			return EM_ERR;
		}
	} else if (id != EVP_PKEY_RSA) {
		return em_error_set(err, "the signing key is neither RSA nor ECDSA P-256");
	}
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		em_error_set(err, "the signing key does not belong to certificate '%s'", cert_path);
		return EM_ERR;
	}
	return 0;
}

/* ---- the ZIP -------------------------------------------------------------- */

static int write_zip(const char *zpath, const char *dir, struct em_error *err)
{
	struct em_strbuf p = EM_STRBUF_INIT;
	zip_t *z;
	zip_source_t *src;
	zip_int64_t idx;
	int zerr = 0;
	int ret = EM_ERR;

	z = zip_open(zpath, ZIP_CREATE | ZIP_EXCL, &zerr);
	if (!z) {
		zip_error_t ze;

		zip_error_init_with_code(&ze, zerr);
		em_error_set(err, "could not create '%s': %s", zpath, zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return EM_ERR;
	}
	src = zip_source_buffer(z, EM_AUDIT_MIMETYPE, strlen(EM_AUDIT_MIMETYPE), 0);
	if (!src || (idx = zip_file_add(z, "mimetype", src, 0)) < 0) {
		zip_source_free(src);
		goto zfail;
	}
	if (zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0) < 0)
		goto zfail;
	for (int i = 0; i <= EM_AUDIT_NFILES; i++) {
		const char *name = i < EM_AUDIT_NFILES ? em_audit_files[i] : EM_AUDIT_SIGFILE;

		em_strbuf_reset(&p);
		em_strbuf_addf(&p, "%s/%s", dir, name);
		src = zip_source_file(z, p.buf, 0, -1);
		if (!src || (idx = zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8)) < 0) {
			zip_source_free(src);
			goto zfail;
		}
		/* deflate's fastest level: XML shrinks almost as well, at a third of the CPU */
		if (zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 1) < 0)
			goto zfail;
	}
	if (zip_close(z) < 0)
		goto zfail;
	z = NULL;
	ret = 0;
	goto out;
zfail:
	em_error_set(err, "could not write '%s': %s", zpath, zip_strerror(z));
	zip_discard(z);
	z = NULL;
out:
	em_strbuf_release(&p);
	return ret;
}

static void remove_tree(const char *dir)
{
	struct em_strbuf p = EM_STRBUF_INIT;

	for (int i = 0; i <= EM_AUDIT_NFILES; i++) {
		em_strbuf_reset(&p);
		em_strbuf_addf(&p, "%s/%s", dir, i < EM_AUDIT_NFILES ? em_audit_files[i] : EM_AUDIT_SIGFILE);
		unlink(p.buf);
	}
	em_strbuf_reset(&p);
	em_strbuf_addf(&p, "%s/schemas", dir);
	rmdir(p.buf);
	em_strbuf_reset(&p);
	em_strbuf_addf(&p, "%s/META-INF", dir);
	rmdir(p.buf);
	rmdir(dir);
	em_strbuf_release(&p);
}

/* Copies a schema into the package folder, hashing it. */
static int copy_schema(const char *from, const char *to, char hex[65], struct em_error *err)
{
	struct em_strbuf body = EM_STRBUF_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int fd = open(from, O_RDONLY | O_CLOEXEC);
	FILE *f = NULL;
	int ret = EM_ERR;

	if (fd < 0 || em_strbuf_read_fd(&body, fd, 1 << 20) < 0) {
		em_error_set(err, "could not read schema '%s': %s", from, strerror(errno));
		em_error_hint(err, "set EARMARK_SCHEMADIR to the folder with the package's XSD files");
		goto out;
	}
	if (EVP_Digest(body.buf, body.len, md, &mdlen, EVP_sha256(), NULL) != 1)
		goto out;
	em_canon_hex(md, hex);
	f = fopen(to, "wbx");
	if (!f || fwrite(body.buf, 1, body.len, f) != body.len || fflush(f) != 0) {
		em_error_set(err, "could not write '%s': %s", to, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	em_strbuf_release(&body);
	return ret;
}

int em_audit_export(PGconn *conn, const struct em_audit_export *a,
		    struct em_audit_export_result *result, struct em_error *err)
{
	static const char *const xsd[] = { "ledger.xsd", "balances.xsd", "control.xsd" };
	const char *p3[] = { a->book, a->from, a->to };
	const char *p1[] = { a->book };
	struct em_strbuf dir = EM_STRBUF_INIT, path = EM_STRBUF_INIT, zpath = EM_STRBUF_INIT;
	char digests[EM_AUDIT_NFILES][65];
	const char *dptr[EM_AUDIT_NFILES];
	char head_seq[32] = "0", head_hash[65], prev[65] = "", book_name[256] = "";
	struct summary sum = { 0, 0, 0, 0 };
	int64_t balance_rows = 0;
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL;
	PGresult *res = NULL;
	int in_tx = 0, dir_made = 0, zip_made = 0;
	int ret = EM_ERR;

	memset(result, 0, sizeof(*result));
	memset(head_hash, '0', 64);
	head_hash[64] = '\0';
	if (strcmp(a->from, a->to) > 0) {
		em_error_set(err, "the period runs from %s to %s, which is backwards", a->from, a->to);
		return EM_ERR_USAGE;
	}
	certs = sk_X509_new_null();
	if (!certs)
		abort();
	if (!(key = load_key(a->key_path, err)) || load_certs(a->cert_path, certs, err) < 0 ||
	    (a->chain_path && load_certs(a->chain_path, certs, err) < 0) ||
	    check_key(key, sk_X509_value(certs, 0), a->cert_path, err) < 0)
		goto out;

	if (em_db_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ", 0, NULL, err) < 0)
		goto out;
	in_tx = 1;
	res = em_db_exec(conn, "SELECT package_no, signature_digest FROM earmark.audit_begin($1)",
			 1, p1, PGRES_TUPLES_OK, 2, err);
	if (!res)
		goto out;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 1))
		snprintf(prev, sizeof(prev), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	res = em_db_exec(conn,
			 "SELECT b.name, COALESCE(h.seq, 0), COALESCE(encode(h.hash, 'hex'), repeat('0', 64)) "
			 "  FROM earmark.book b LEFT JOIN earmark.chain_head h ON h.book_id = b.book_id "
			 " WHERE b.code = $1", 1, p1, PGRES_TUPLES_OK, 3, err);
	if (!res)
		goto out;
	if (PQntuples(res) != 1) {
		em_error_set(err, "unknown book '%s'", a->book);
		goto out;
	}
	snprintf(book_name, sizeof(book_name), "%s", PQgetvalue(res, 0, 0));
	snprintf(head_seq, sizeof(head_seq), "%s", PQgetvalue(res, 0, 1));
	snprintf(head_hash, sizeof(head_hash), "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	res = em_db_exec(conn,
			 "SELECT count(DISTINCT v.voucher_id), count(*), "
			 "       COALESCE(sum(l.amount_fen) FILTER (WHERE l.side = 'D'), 0), "
			 "       COALESCE(sum(l.amount_fen) FILTER (WHERE l.side = 'C'), 0) "
			 "  FROM earmark.voucher v JOIN earmark.line l "
			 "    ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id "
			 " WHERE v.book_id = earmark.book_of($1) AND v.status = 'posted' "
			 "   AND v.voucher_date BETWEEN $2::date AND $3::date",
			 3, p3, PGRES_TUPLES_OK, 4, err);
	if (!res)
		goto out;
	sum.vouchers = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	sum.lines = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	sum.debit_fen = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	sum.credit_fen = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	PQclear(res);
	res = NULL;

	/* the package's files, in a private folder beside the output */
	em_strbuf_addf(&dir, "%s.tmpXXXXXX", a->out_path);
	if (!mkdtemp(dir.buf)) {
		em_error_set(err, "could not create a folder beside '%s': %s", a->out_path, strerror(errno));
		goto out;
	}
	dir_made = 1;
	em_strbuf_addf(&path, "%s/schemas", dir.buf);
	if (mkdir(path.buf, 0700) != 0)
		goto io;
	em_strbuf_reset(&path);
	em_strbuf_addf(&path, "%s/META-INF", dir.buf);
	if (mkdir(path.buf, 0700) != 0)
		goto io;
	em_strbuf_reset(&path);
	em_strbuf_addf(&path, "%s/ledger.xml", dir.buf);
	if (write_ledger(conn, a, path.buf, book_name, &sum, digests[0], err) < 0)
		goto out;
	em_strbuf_reset(&path);
	em_strbuf_addf(&path, "%s/balances.xml", dir.buf);
	if (write_balances(conn, a, path.buf, &balance_rows, digests[1], err) < 0)
		goto out;
	em_strbuf_reset(&path);
	em_strbuf_addf(&path, "%s/control.xml", dir.buf);
	if (write_control(conn, a, path.buf, &sum, balance_rows, head_seq, head_hash, prev,
			  digests[2], err) < 0)
		goto out;
	for (int i = 0; i < 3; i++) {
		struct em_strbuf from = EM_STRBUF_INIT;

		em_strbuf_addf(&from, "%s/%s", a->schema_dir, xsd[i]);
		em_strbuf_reset(&path);
		em_strbuf_addf(&path, "%s/schemas/%s", dir.buf, xsd[i]);
		ret = copy_schema(from.buf, path.buf, digests[3 + i], err);
		em_strbuf_release(&from);
		if (ret < 0)
			goto out;
		ret = EM_ERR;
	}
	/* hex digests to the base64 XMLDSig wants */
	for (int i = 0; i < EM_AUDIT_NFILES; i++) {
		unsigned char raw[EM_HASH_LEN];
		struct em_strbuf b = EM_STRBUF_INIT;

		for (int j = 0; j < EM_HASH_LEN; j++) {
			unsigned int byte;
			sscanf(digests[i] + 2 * j, "%2x", &byte);
			raw[j] = (unsigned char)byte;
		}
		b64(&b, raw, sizeof(raw));
		snprintf(digests[i], sizeof(digests[i]), "%s", b.buf);
		em_strbuf_release(&b);
		dptr[i] = digests[i];
	}
	em_strbuf_reset(&path);
	em_strbuf_addf(&path, "%s/%s", dir.buf, EM_AUDIT_SIGFILE);
	if (write_signature(path.buf, dptr, key, certs, result->signature_digest, err) < 0)
		goto out;

	em_strbuf_addf(&zpath, "%s/package.asice", dir.buf);
	if (write_zip(zpath.buf, dir.buf, err) < 0)
		goto out;
	zip_made = 1;
	{
		const char *rp[] = { a->book, a->from, a->to, head_seq, head_hash,
				     *prev ? prev : NULL, result->signature_digest };

		res = em_db_exec(conn, "SELECT earmark.audit_record($1, $2, $3, $4, $5, $6, $7)",
				 7, rp, PGRES_TUPLES_OK, 1, err);
		if (!res)
			goto out;
		result->package_no = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
		res = NULL;
	}
	if (rename(zpath.buf, a->out_path) != 0) {
		em_error_set(err, "could not rename '%s' to '%s': %s", zpath.buf, a->out_path,
			     strerror(errno));
		goto out;
	}
	zip_made = 0;
	if (em_db_command(conn, "COMMIT", 0, NULL, err) < 0) {
		unlink(a->out_path);
		in_tx = 0;
		goto out;
	}
	in_tx = 0;
	result->vouchers = sum.vouchers;
	result->lines = sum.lines;
	snprintf(result->prev_digest, sizeof(result->prev_digest), "%s", prev);
	ret = 0;
	goto out;
io:
	em_error_set(err, "could not create '%s': %s", path.buf, strerror(errno));
out:
	PQclear(res);
	if (in_tx) {
		PGresult *r = PQexec(conn, "ROLLBACK");
		PQclear(r);
	}
	if (zip_made)
		unlink(zpath.buf);
	if (dir_made) {
		unlink(zpath.buf);
		remove_tree(dir.buf);
	}
	EVP_PKEY_free(key);
	sk_X509_pop_free(certs, X509_free);
	em_strbuf_release(&dir);
	em_strbuf_release(&path);
	em_strbuf_release(&zpath);
	return ret;
}
