/*
 * pain.001.001.03 from earmark.payment_export: every row is checked, then
 * the file is streamed through libxml2's xmlTextWriter.
 *
 * Invariant: nothing is written before every row has passed, so the
 * counts and control sums of the group header and of each PmtInf block,
 * which the schema puts before the transactions, are known, and a refused
 * batch leaves no file behind.  The checks are those the schema and the
 * bank would make later, made here so that the refusal names the payment:
 * every value present and non-empty; well-formed UTF-8 with no control
 * characters; within its Max35Text, Max34Text or Max140Text length
 * (counted in characters, as XML Schema counts); CNAPS codes of 12
 * digits; amounts and totals of at most 18 digits in fen (the schema's
 * totalDigits), which also keeps the int64 sum from overflowing; each
 * end_to_end_id and each PmtInf block once; and the rows of one block
 * together and agreeing on the debtor and the execution date.  Only the
 * remittance text is shortened (to 140 characters, never inside a
 * character); any other value goes into the file whole or the export is
 * refused.  Escaping is libxml2's.  Money stays int64 fen and is printed
 * by em_money_format.
 *
 * Workload: one batch, up to a county's 50,000 households.  The result is
 * held in memory once, plus a pointer per row for the duplicate checks.
 */
#include "posting/pain001.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/xmlerror.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlversion.h>
#include <libxml/xmlwriter.h>

#include "ledger/date.h"
#include "ledger/db.h"
#include "ledger/error.h"
#include "ledger/money.h"
#include "ledger/strbuf.h"

#define EM_P1_NAMESPACE "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
/* ISO 20022 external code of the clearing system (ExternalClearingSystemIdentification1Code). */
#define EM_P1_CLEARING "CNAPS"
/* Max140Text: the remittance is cut to this many characters. */
#define EM_P1_USTRD_MAX 140
/* totalDigits 18 with two of them decimals: the largest amount or sum in fen. */
#define EM_P1_MAX_FEN INT64_C(999999999999999999)
/* How much of a database value goes into a message. */
#define EM_P1_ECHO_MAX 60

/* The columns, in the order of EM_P1_SQL's select list. */
enum {
	EM_P1_MSG_ID,
	EM_P1_CREATED_AT,
	EM_P1_INITIATOR,
	EM_P1_EXECUTION_DATE,
	EM_P1_PMT_INF_ID,
	EM_P1_DEBTOR_NAME,
	EM_P1_DEBTOR_ACCOUNT,
	EM_P1_DEBTOR_CNAPS,
	EM_P1_DEBTOR_BANK,
	EM_P1_END_TO_END_ID,
	EM_P1_AMOUNT_FEN,
	EM_P1_CREDITOR_NAME,
	EM_P1_CREDITOR_ACCOUNT,
	EM_P1_CREDITOR_CNAPS,
	EM_P1_REMITTANCE,
	EM_P1_NCOLS
};

/*
 * execution_date goes through to_char so that the client's DateStyle
 * cannot change its text; WITH ORDINALITY keeps the function's own order
 * (by pmt_inf_id, end_to_end_id), which the blocks rely on.
 */
static const char EM_P1_SQL[] =
	"SELECT e.msg_id, e.created_at, e.initiator, "
	"       pg_catalog.to_char(e.execution_date::pg_catalog.timestamp, 'YYYY-MM-DD'), "
	"       e.pmt_inf_id, e.debtor_name, e.debtor_account, e.debtor_cnaps, e.debtor_bank, "
	"       e.end_to_end_id, e.amount_fen, e.creditor_name, e.creditor_account, "
	"       e.creditor_cnaps, e.remittance "
	"  FROM earmark.payment_export($1, $2) WITH ORDINALITY AS e "
	" ORDER BY e.ordinality";

enum em_pain001_kind {
	EM_P1_TEXT,     /* any text within max_chars */
	EM_P1_CNAPS,    /* 12 ASCII digits */
	EM_P1_DATE,     /* YYYY-MM-DD, a real day */
	EM_P1_DATETIME, /* YYYY-MM-DDTHH:MM:SS */
	EM_P1_FEN,      /* a positive integer of fen, at most EM_P1_MAX_FEN */
	EM_P1_CUT       /* text cut to EM_P1_USTRD_MAX characters */
};

enum em_pain001_scope {
	EM_P1_ROW,   /* its own on every payment */
	EM_P1_BLOCK, /* the same on every payment of a PmtInf block */
	EM_P1_GROUP  /* the same on every payment of the file */
};

struct em_pain001_column {
	const char *name;          /* the column of payment_export, for messages */
	enum em_pain001_kind kind; /* how the value is checked */
	size_t max_chars;          /* the schema's limit in characters (EM_P1_TEXT) */
	enum em_pain001_scope scope; /* on which payments it must agree */
};

static const struct em_pain001_column em_pain001_columns[EM_P1_NCOLS] = {
	[EM_P1_MSG_ID] = { "msg_id", EM_P1_TEXT, 35, EM_P1_GROUP },
	[EM_P1_CREATED_AT] = { "created_at", EM_P1_DATETIME, 0, EM_P1_GROUP },
	[EM_P1_INITIATOR] = { "initiator", EM_P1_TEXT, 140, EM_P1_GROUP },
	[EM_P1_EXECUTION_DATE] = { "execution_date", EM_P1_DATE, 0, EM_P1_BLOCK },
	[EM_P1_PMT_INF_ID] = { "pmt_inf_id", EM_P1_TEXT, 35, EM_P1_BLOCK },
	[EM_P1_DEBTOR_NAME] = { "debtor_name", EM_P1_TEXT, 140, EM_P1_BLOCK },
	[EM_P1_DEBTOR_ACCOUNT] = { "debtor_account", EM_P1_TEXT, 34, EM_P1_BLOCK },
	[EM_P1_DEBTOR_CNAPS] = { "debtor_cnaps", EM_P1_CNAPS, 0, EM_P1_BLOCK },
	[EM_P1_DEBTOR_BANK] = { "debtor_bank", EM_P1_TEXT, 140, EM_P1_BLOCK },
	[EM_P1_END_TO_END_ID] = { "end_to_end_id", EM_P1_TEXT, 35, EM_P1_ROW },
	[EM_P1_AMOUNT_FEN] = { "amount_fen", EM_P1_FEN, 0, EM_P1_ROW },
	[EM_P1_CREDITOR_NAME] = { "creditor_name", EM_P1_TEXT, 140, EM_P1_ROW },
	[EM_P1_CREDITOR_ACCOUNT] = { "creditor_account", EM_P1_TEXT, 34, EM_P1_ROW },
	[EM_P1_CREDITOR_CNAPS] = { "creditor_cnaps", EM_P1_CNAPS, 0, EM_P1_ROW },
	[EM_P1_REMITTANCE] = { "remittance", EM_P1_CUT, 0, EM_P1_ROW },
};

/* One PmtInf block: consecutive rows with the same pmt_inf_id. */
struct em_pain001_block {
	int first;       /* its first row */
	int nrows;       /* rows first .. first + nrows - 1 */
	int64_t sum_fen; /* the sum of their amounts */
};

/* The checked batch: what the writer needs beyond the result itself. */
struct em_pain001_batch {
	const PGresult *res;             /* the rows, in file order; not owned */
	const char *book;                /* for messages */
	const char *batch;               /* for messages */
	int nrows;                       /* PQntuples(res), > 0 */
	int64_t *amount_fen;             /* nrows parsed amounts; owned */
	size_t *ustrd_len;               /* nrows byte lengths of the cut remittance; owned */
	struct em_pain001_block *blocks; /* nblocks blocks in file order; owned */
	int nblocks;                     /* > 0 once checked */
	int64_t total_fen;               /* the sum of all amounts */
};

#define EM_PAIN001_BATCH_INIT { NULL, NULL, NULL, 0, NULL, NULL, NULL, 0, 0 }

static void em_pain001_batch_release(struct em_pain001_batch *b)
{
	free(b->amount_fen);
	free(b->ustrd_len);
	free(b->blocks);
	b->amount_fen = NULL;
	b->ustrd_len = NULL;
	b->blocks = NULL;
}

static const char *em_pain001_value(const struct em_pain001_batch *b, int row, int col)
{
	return PQgetvalue(b->res, row, col);
}

/*
 * Refuses a payment: "payment 'E2E': <fmt>", the detail naming the batch
 * and the row, and a hint that the record must be corrected.
 */
static int em_pain001_refuse(const struct em_pain001_batch *b, int row, struct em_error *err,
			     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int em_pain001_refuse(const struct em_pain001_batch *b, int row, struct em_error *err,
			     const char *fmt, ...)
{
	struct em_strbuf msg = EM_STRBUF_INIT;
	va_list ap;

	if (em_pain001_value(b, row, EM_P1_END_TO_END_ID)[0] == '\0') {
		em_strbuf_addf(&msg, "payment on row %d: ", row + 1);
	} else {
		em_strbuf_adds(&msg, "payment '");
		em_strbuf_add_sanitized(&msg, em_pain001_value(b, row, EM_P1_END_TO_END_ID),
					EM_P1_ECHO_MAX);
		em_strbuf_adds(&msg, "': ");
	}
	va_start(ap, fmt);
	em_strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	em_error_set(err, "%s", msg.buf);
	em_error_detail(err, "book '%s', batch '%s', row %d of earmark.payment_export", b->book,
			b->batch, row + 1);
	em_error_hint(err, "correct the record in the database, then export the batch again");
	em_strbuf_release(&msg);
	return EM_ERR;
}

/*
 * Decodes one UTF-8 character of NUL-terminated s into *cp; returns its
 * length, or 0 when s does not start with a well-formed one (no
 * overlongs, no surrogates, nothing above U+10FFFF).
 */
static size_t em_pain001_utf8(const unsigned char *s, uint32_t *cp)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi) /* also stops at the NUL */
		return 0;
	for (i = 1; i < len; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
		v = (v << 6) | (s[i] & 0x3f);
	}
	*cp = v;
	return len;
}

/*
 * Checks a text value: well-formed UTF-8, no C0, DEL or C1 control
 * character, no U+FFFE or U+FFFF (not XML characters).  *nchars gets its
 * length in characters and *cut the byte length of its first
 * EM_P1_USTRD_MAX characters.
 */
static int em_pain001_check_text(const struct em_pain001_batch *b, int row, int col,
				 size_t *nchars, size_t *cut, struct em_error *err)
{
	const char *name = em_pain001_columns[col].name;
	const unsigned char *s = (const unsigned char *)em_pain001_value(b, row, col);
	size_t i = 0, n = 0;

	*cut = 0;
	while (s[i] != '\0') {
		uint32_t cp;
		size_t k = em_pain001_utf8(s + i, &cp);

		if (k == 0)
			return em_pain001_refuse(b, row, err,
						 "%s is not valid UTF-8 (byte %zu of the value)",
						 name, i + 1);
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return em_pain001_refuse(b, row, err,
						 "%s contains a control character (U+%04X at "
						 "character %zu)",
						 name, (unsigned)cp, n + 1);
		if (cp == 0xfffe || cp == 0xffff)
			return em_pain001_refuse(b, row, err,
						 "%s contains U+%04X, which XML does not allow "
						 "(at character %zu)",
						 name, (unsigned)cp, n + 1);
		i += k;
		n++;
		if (n == EM_P1_USTRD_MAX)
			*cut = i;
	}
	if (n < EM_P1_USTRD_MAX)
		*cut = i;
	*nchars = n;
	return 0;
}

static int em_pain001_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* A positive integer of fen, plain digits, at most EM_P1_MAX_FEN; -1 otherwise. */
static int64_t em_pain001_parse_fen(const char *s)
{
	size_t n = strlen(s);
	int64_t v = 0;

	if (n == 0 || n > 18 || !em_pain001_digits(s, n))
		return -1;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v > 0 ? v : -1;
}

/* YYYY-MM-DDTHH:MM:SS with a real day and time (xs:dateTime without zone). */
static int em_pain001_datetime_ok(const char *s)
{
	char day[11];

	if (strlen(s) != 19 || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    !em_pain001_digits(s + 11, 2) || !em_pain001_digits(s + 14, 2) ||
	    !em_pain001_digits(s + 17, 2))
		return 0;
	memcpy(day, s, 10);
	day[10] = '\0';
	if (em_date_check(day, "created_at", NULL) < 0)
		return 0;
	return (s[11] - '0') * 10 + (s[12] - '0') < 24 && s[14] < '6' && s[17] < '6';
}

/* Checks one value of a row against its column's rule. */
static int em_pain001_check_value(struct em_pain001_batch *b, int row, int col,
				  struct em_error *err)
{
	const struct em_pain001_column *c = &em_pain001_columns[col];
	const char *v = em_pain001_value(b, row, col);
	struct em_strbuf echo = EM_STRBUF_INIT;
	size_t nchars = 0, cut = 0;
	int ret = EM_ERR;

	if (PQgetisnull(b->res, row, col) || v[0] == '\0') {
		em_pain001_refuse(b, row, err, "%s is empty", c->name);
		goto out;
	}
	if (em_pain001_check_text(b, row, col, &nchars, &cut, err) < 0)
		goto out;
	em_strbuf_add_sanitized(&echo, v, EM_P1_ECHO_MAX);
	switch (c->kind) {
	case EM_P1_TEXT:
		if (nchars > c->max_chars) {
			em_pain001_refuse(b, row, err,
					  "%s has %zu characters, more than the %zu pain.001 "
					  "allows",
					  c->name, nchars, c->max_chars);
			goto out;
		}
		break;
	case EM_P1_CNAPS:
		if (strlen(v) != 12 || !em_pain001_digits(v, 12)) {
			em_pain001_refuse(b, row, err, "%s '%s' is not a 12-digit CNAPS bank code",
					  c->name, echo.buf);
			goto out;
		}
		break;
	case EM_P1_DATE:
		if (em_date_check(v, c->name, NULL) < 0) {
			em_pain001_refuse(b, row, err, "%s '%s' is not a YYYY-MM-DD date", c->name,
					  echo.buf);
			goto out;
		}
		break;
	case EM_P1_DATETIME:
		if (!em_pain001_datetime_ok(v)) {
			em_pain001_refuse(b, row, err, "%s '%s' is not a YYYY-MM-DDTHH:MM:SS time",
					  c->name, echo.buf);
			goto out;
		}
		break;
	case EM_P1_FEN:
		b->amount_fen[row] = em_pain001_parse_fen(v);
		if (b->amount_fen[row] < 0) {
			em_pain001_refuse(b, row, err,
					  "%s '%s' is not a positive amount in fen of at most 18 "
					  "digits",
					  c->name, echo.buf);
			goto out;
		}
		break;
	case EM_P1_CUT:
		b->ustrd_len[row] = cut;
		break;
	}
	ret = 0;
out:
	em_strbuf_release(&echo);
	return ret;
}

/* Refuses a value that differs from the one on row other, where they must agree. */
static int em_pain001_disagree(const struct em_pain001_batch *b, int row, int other, int col,
			       struct em_error *err)
{
	struct em_strbuf a = EM_STRBUF_INIT, o = EM_STRBUF_INIT;
	const char *where = em_pain001_columns[col].scope == EM_P1_GROUP
				    ? "the first payment of the file"
				    : "the first payment of its PmtInf block";

	em_strbuf_add_sanitized(&a, em_pain001_value(b, row, col), EM_P1_ECHO_MAX);
	em_strbuf_add_sanitized(&o, em_pain001_value(b, other, col), EM_P1_ECHO_MAX);
	em_pain001_refuse(b, row, err, "%s '%s' differs from '%s' on %s (row %d)",
			  em_pain001_columns[col].name, a.buf, o.buf, where, other + 1);
	em_error_hint(err, "earmark.payment_export must give one msg_id, created_at and "
			   "initiator per file, and one debtor and execution_date per "
			   "pmt_inf_id; report this as a fault");
	em_strbuf_release(&a);
	em_strbuf_release(&o);
	return EM_ERR;
}

/* A value and its row, sorted to find repeats. */
struct em_pain001_key {
	const char *value; /* points into the result */
	int row;           /* 0-based */
};

static int em_pain001_cmp_keys(const void *x, const void *y)
{
	const struct em_pain001_key *a = x, *b = y;
	int c = strcmp(a->value, b->value);

	return c != 0 ? c : (a->row > b->row) - (a->row < b->row);
}

/*
 * Refuses when two of the n keys have the same value: each end_to_end_id
 * once in the file, each pmt_inf_id on one block only.  Sorts keys.
 */
static int em_pain001_check_unique(const struct em_pain001_batch *b, struct em_pain001_key *keys,
				   int n, int col, struct em_error *err)
{
	qsort(keys, (size_t)n, sizeof(keys[0]), em_pain001_cmp_keys);
	for (int i = 1; i < n; i++) {
		int first = keys[i - 1].row, again = keys[i].row;

		if (strcmp(keys[i - 1].value, keys[i].value) != 0)
			continue;
		if (col == EM_P1_END_TO_END_ID) {
			em_pain001_refuse(b, again, err,
					  "end_to_end_id appears twice (rows %d and %d)", first + 1,
					  again + 1);
		} else {
			struct em_strbuf id = EM_STRBUF_INIT;

			em_strbuf_add_sanitized(&id, keys[i].value, EM_P1_ECHO_MAX);
			em_pain001_refuse(b, again, err,
					  "the payments of PmtInf '%s' are not together "
					  "(rows %d and %d are apart)",
					  id.buf, first + 1, again + 1);
			em_strbuf_release(&id);
		}
		em_error_hint(err, "earmark.payment_export must give each end_to_end_id once, "
				   "ordered by pmt_inf_id; report this as a fault");
		return EM_ERR;
	}
	return 0;
}

/*
 * The one pass before writing: checks every row, cuts the blocks and adds
 * up the amounts per block and in all.
 */
static int em_pain001_check(struct em_pain001_batch *b, struct em_error *err)
{
	size_t n = (size_t)b->nrows;
	struct em_pain001_key *keys = NULL;
	int ret = EM_ERR;

	b->amount_fen = calloc(n, sizeof(b->amount_fen[0]));
	b->ustrd_len = calloc(n, sizeof(b->ustrd_len[0]));
	b->blocks = calloc(n, sizeof(b->blocks[0]));
	keys = calloc(n, sizeof(keys[0]));
	if (!b->amount_fen || !b->ustrd_len || !b->blocks || !keys) {
		em_error_set(err, "out of memory checking %d payments", b->nrows);
		goto out;
	}
	b->nblocks = 0;
	b->total_fen = 0;
	for (int row = 0; row < b->nrows; row++) {
		const char *id = em_pain001_value(b, row, EM_P1_PMT_INF_ID);
		struct em_pain001_block *blk;

		for (int col = 0; col < EM_P1_NCOLS; col++)
			if (em_pain001_check_value(b, row, col, err) < 0)
				goto out;
		if (b->nblocks == 0 ||
		    strcmp(id, em_pain001_value(b, b->blocks[b->nblocks - 1].first,
						EM_P1_PMT_INF_ID)) != 0) {
			b->blocks[b->nblocks].first = row;
			b->blocks[b->nblocks].nrows = 0;
			b->blocks[b->nblocks].sum_fen = 0;
			b->nblocks++;
		}
		blk = &b->blocks[b->nblocks - 1];
		for (int col = 0; col < EM_P1_NCOLS; col++) {
			int other;

			if (em_pain001_columns[col].scope == EM_P1_ROW)
				continue;
			other = em_pain001_columns[col].scope == EM_P1_GROUP ? 0 : blk->first;
			if (strcmp(em_pain001_value(b, row, col),
				   em_pain001_value(b, other, col)) != 0) {
				em_pain001_disagree(b, row, other, col, err);
				goto out;
			}
		}
		/* Both terms are at most EM_P1_MAX_FEN, so neither sum can overflow int64. */
		if (b->total_fen > EM_P1_MAX_FEN - b->amount_fen[row]) {
			char sum[EM_MONEY_BUFSZ], add[EM_MONEY_BUFSZ];

			em_error_set(err, "batch '%s' is too large for one pain.001 file",
				     b->batch);
			em_error_detail(err, "the total of rows 1-%d is %s; adding %s exceeds the "
					     "largest control sum, 18 digits in fen",
					row, em_money_format(b->total_fen, sum, sizeof(sum)),
					em_money_format(b->amount_fen[row], add, sizeof(add)));
			em_error_hint(err, "split the batch");
			goto out;
		}
		b->total_fen += b->amount_fen[row];
		blk->sum_fen += b->amount_fen[row];
		blk->nrows++;
	}
	for (int i = 0; i < b->nrows; i++) {
		keys[i].value = em_pain001_value(b, i, EM_P1_END_TO_END_ID);
		keys[i].row = i;
	}
	if (em_pain001_check_unique(b, keys, b->nrows, EM_P1_END_TO_END_ID, err) < 0)
		goto out;
	for (int i = 0; i < b->nblocks; i++) {
		keys[i].value = em_pain001_value(b, b->blocks[i].first, EM_P1_PMT_INF_ID);
		keys[i].row = b->blocks[i].first;
	}
	if (em_pain001_check_unique(b, keys, b->nblocks, EM_P1_PMT_INF_ID, err) < 0)
		goto out;
	ret = 0;
out:
	free(keys);
	return ret;
}

/* Where libxml2's output goes: the temporary file's descriptor. */
struct em_pain001_sink {
	int fd;     /* not owned */
	int errnum; /* errno of the first failed write, 0 when none */
};

static int em_pain001_sink_write(void *ctx, const char *buf, int len)
{
	struct em_pain001_sink *sink = ctx;
	size_t done = 0;

	while (done < (size_t)len) {
		ssize_t w = write(sink->fd, buf + done, (size_t)len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			if (sink->errnum == 0)
				sink->errnum = errno;
			return -1;
		}
		done += (size_t)w;
	}
	return len;
}

/* libxml2 2.12 made the error const. */
#if LIBXML_VERSION >= 21200
#define EM_P1_XML_ERROR const xmlError *
#else
#define EM_P1_XML_ERROR xmlErrorPtr
#endif

/* Keeps libxml2's first error message instead of letting it print. */
static void em_pain001_xml_error(void *ctx, EM_P1_XML_ERROR e)
{
	struct em_strbuf *sb = ctx;

	if (sb->len == 0 && e != NULL && e->message != NULL)
		em_strbuf_add_sanitized(sb, e->message, 200);
}

/* The writer with a sticky failure flag, like a stdio stream's error flag. */
struct em_pain001_xml {
	xmlTextWriterPtr w; /* owns the output buffer */
	int failed;         /* a call failed: the rest are skipped */
};

static void em_pain001_begin(struct em_pain001_xml *x, const char *name)
{
	if (!x->failed && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
		x->failed = 1;
}

static void em_pain001_end(struct em_pain001_xml *x)
{
	if (!x->failed && xmlTextWriterEndElement(x->w) < 0)
		x->failed = 1;
}

static void em_pain001_attr(struct em_pain001_xml *x, const char *name, const char *value)
{
	if (!x->failed && xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
		x->failed = 1;
}

static void em_pain001_text(struct em_pain001_xml *x, const char *text)
{
	if (!x->failed && xmlTextWriterWriteString(x->w, BAD_CAST text) < 0)
		x->failed = 1;
}

static void em_pain001_leaf(struct em_pain001_xml *x, const char *name, const char *text)
{
	if (!x->failed && xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST text) < 0)
		x->failed = 1;
}

static void em_pain001_leaf_fen(struct em_pain001_xml *x, const char *name, int64_t fen)
{
	char buf[EM_MONEY_BUFSZ];

	em_pain001_leaf(x, name, em_money_format(fen, buf, sizeof(buf)));
}

static void em_pain001_leaf_count(struct em_pain001_xml *x, const char *name, int n)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", n);
	em_pain001_leaf(x, name, buf);
}

/* <tag><Nm>name</Nm></tag>: PartyIdentification32 by name only. */
static void em_pain001_party(struct em_pain001_xml *x, const char *tag, const char *name)
{
	em_pain001_begin(x, tag);
	em_pain001_leaf(x, "Nm", name);
	em_pain001_end(x);
}

/* CashAccount16 with a domestic account number; ccy NULL leaves Ccy out. */
static void em_pain001_account(struct em_pain001_xml *x, const char *tag, const char *number,
			       const char *ccy)
{
	em_pain001_begin(x, tag);
	em_pain001_begin(x, "Id");
	em_pain001_begin(x, "Othr");
	em_pain001_leaf(x, "Id", number);
	em_pain001_end(x);
	em_pain001_end(x);
	if (ccy)
		em_pain001_leaf(x, "Ccy", ccy);
	em_pain001_end(x);
}

/* BranchAndFinancialInstitutionIdentification4 by CNAPS code; name NULL leaves Nm out. */
static void em_pain001_agent(struct em_pain001_xml *x, const char *tag, const char *cnaps,
			     const char *name)
{
	em_pain001_begin(x, tag);
	em_pain001_begin(x, "FinInstnId");
	em_pain001_begin(x, "ClrSysMmbId");
	em_pain001_begin(x, "ClrSysId");
	em_pain001_leaf(x, "Cd", EM_P1_CLEARING);
	em_pain001_end(x);
	em_pain001_leaf(x, "MmbId", cnaps);
	em_pain001_end(x);
	if (name)
		em_pain001_leaf(x, "Nm", name);
	em_pain001_end(x);
	em_pain001_end(x);
}

static void em_pain001_transaction(struct em_pain001_xml *x, const struct em_pain001_batch *b,
				   int row, struct em_strbuf *ustrd)
{
	char amount[EM_MONEY_BUFSZ];
	const char *e2e = em_pain001_value(b, row, EM_P1_END_TO_END_ID);

	em_pain001_begin(x, "CdtTrfTxInf");
	em_pain001_begin(x, "PmtId");
	em_pain001_leaf(x, "InstrId", e2e);
	em_pain001_leaf(x, "EndToEndId", e2e);
	em_pain001_end(x);
	em_pain001_begin(x, "Amt");
	em_pain001_begin(x, "InstdAmt");
	em_pain001_attr(x, "Ccy", "CNY");
	em_pain001_text(x, em_money_format(b->amount_fen[row], amount, sizeof(amount)));
	em_pain001_end(x);
	em_pain001_end(x);
	em_pain001_agent(x, "CdtrAgt", em_pain001_value(b, row, EM_P1_CREDITOR_CNAPS), NULL);
	em_pain001_party(x, "Cdtr", em_pain001_value(b, row, EM_P1_CREDITOR_NAME));
	em_pain001_account(x, "CdtrAcct", em_pain001_value(b, row, EM_P1_CREDITOR_ACCOUNT), NULL);
	em_strbuf_reset(ustrd);
	em_strbuf_add(ustrd, em_pain001_value(b, row, EM_P1_REMITTANCE), b->ustrd_len[row]);
	em_pain001_begin(x, "RmtInf");
	em_pain001_leaf(x, "Ustrd", ustrd->buf);
	em_pain001_end(x);
	em_pain001_end(x);
}

static void em_pain001_block(struct em_pain001_xml *x, const struct em_pain001_batch *b,
			     const struct em_pain001_block *blk, struct em_strbuf *ustrd)
{
	int r = blk->first;

	em_pain001_begin(x, "PmtInf");
	em_pain001_leaf(x, "PmtInfId", em_pain001_value(b, r, EM_P1_PMT_INF_ID));
	em_pain001_leaf(x, "PmtMtd", "TRF");
	/* One debit per block on the dedicated account: Dr 2303 / Cr 1002 per batch. */
	em_pain001_leaf(x, "BtchBookg", "true");
	em_pain001_leaf_count(x, "NbOfTxs", blk->nrows);
	em_pain001_leaf_fen(x, "CtrlSum", blk->sum_fen);
	em_pain001_leaf(x, "ReqdExctnDt", em_pain001_value(b, r, EM_P1_EXECUTION_DATE));
	em_pain001_party(x, "Dbtr", em_pain001_value(b, r, EM_P1_DEBTOR_NAME));
	em_pain001_account(x, "DbtrAcct", em_pain001_value(b, r, EM_P1_DEBTOR_ACCOUNT), "CNY");
	em_pain001_agent(x, "DbtrAgt", em_pain001_value(b, r, EM_P1_DEBTOR_CNAPS),
			 em_pain001_value(b, r, EM_P1_DEBTOR_BANK));
	em_pain001_leaf(x, "ChrgBr", "SLEV");
	for (int i = 0; i < blk->nrows; i++)
		em_pain001_transaction(x, b, r + i, ustrd);
	em_pain001_end(x);
}

/* Writes the checked batch as the whole document to fd (tmp names it in messages). */
static int em_pain001_write(int fd, const char *tmp, const struct em_pain001_batch *b,
			    struct em_error *err)
{
	struct em_pain001_sink sink = { fd, 0 };
	struct em_strbuf xmlerr = EM_STRBUF_INIT;
	struct em_strbuf ustrd = EM_STRBUF_INIT;
	struct em_pain001_xml x = { NULL, 0 };
	xmlStructuredErrorFunc old_handler = xmlStructuredError;
	void *old_ctx = xmlStructuredErrorContext;
	xmlOutputBufferPtr out;
	int ret = EM_ERR;

	xmlSetStructuredErrorFunc(&xmlerr, em_pain001_xml_error);
	out = xmlOutputBufferCreateIO(em_pain001_sink_write, NULL, &sink, NULL);
	if (out)
		x.w = xmlNewTextWriter(out);
	if (!x.w) {
		if (out)
			xmlOutputBufferClose(out);
		em_error_set(err, "out of memory starting the XML writer");
		goto out;
	}
	if (xmlTextWriterSetIndent(x.w, 1) < 0 ||
	    xmlTextWriterSetIndentString(x.w, BAD_CAST "  ") < 0 ||
	    xmlTextWriterStartDocument(x.w, "1.0", "UTF-8", NULL) < 0)
		x.failed = 1;
	em_pain001_begin(&x, "Document");
	em_pain001_attr(&x, "xmlns", EM_P1_NAMESPACE);
	em_pain001_begin(&x, "CstmrCdtTrfInitn");
	em_pain001_begin(&x, "GrpHdr");
	em_pain001_leaf(&x, "MsgId", em_pain001_value(b, 0, EM_P1_MSG_ID));
	em_pain001_leaf(&x, "CreDtTm", em_pain001_value(b, 0, EM_P1_CREATED_AT));
	em_pain001_leaf_count(&x, "NbOfTxs", b->nrows);
	em_pain001_leaf_fen(&x, "CtrlSum", b->total_fen);
	em_pain001_party(&x, "InitgPty", em_pain001_value(b, 0, EM_P1_INITIATOR));
	em_pain001_end(&x);
	for (int i = 0; i < b->nblocks; i++)
		em_pain001_block(&x, b, &b->blocks[i], &ustrd);
	em_pain001_end(&x);
	em_pain001_end(&x);
	if (!x.failed && (xmlTextWriterEndDocument(x.w) < 0 || xmlTextWriterFlush(x.w) < 0))
		x.failed = 1;
	if (x.failed || sink.errnum != 0) {
		em_error_set(err, "could not write '%s': %s", tmp,
			     sink.errnum != 0 ? strerror(sink.errnum)
			     : xmlerr.len > 0 ? xmlerr.buf
					      : "the XML writer failed");
		goto out;
	}
	ret = 0;
out:
	/* Freed while our handler is still in place: the final flush may complain. */
	if (x.w)
		xmlFreeTextWriter(x.w);
	xmlSetStructuredErrorFunc(old_ctx, old_handler);
	em_strbuf_release(&ustrd);
	em_strbuf_release(&xmlerr);
	return ret;
}

/* Makes the rename of path durable: fsync of the directory that holds it. */
static int em_pain001_sync_dir(const char *path, struct em_error *err)
{
	struct em_strbuf dir = EM_STRBUF_INIT;
	const char *slash = strrchr(path, '/');
	int fd = -1, ret = EM_ERR;

	if (!slash)
		em_strbuf_adds(&dir, ".");
	else if (slash == path)
		em_strbuf_adds(&dir, "/");
	else
		em_strbuf_add(&dir, path, (size_t)(slash - path));
	fd = open(dir.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		em_error_set(err, "could not fsync directory '%s': %s", dir.buf, strerror(errno));
		em_error_detail(err, "'%s' is complete, but may not survive a crash", path);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	em_strbuf_release(&dir);
	return ret;
}

/* One attempt of the whole export: BEGIN, mark sent, the temporary file, COMMIT, rename. */
static int pain001_export_once(PGconn *conn, const char *book, const char *batch, const char *path,
			       long *count, long long *total_fen, struct em_error *err)
{
	const char *params[2] = { book, batch };
	struct em_pain001_batch b = EM_PAIN001_BATCH_INIT;
	struct em_strbuf tmp = EM_STRBUF_INIT;
	PGresult *res = NULL;
	struct stat st;
	int fd = -1, began = 0, tmp_made = 0, ret = EM_ERR;

	if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
		em_error_set(err, "cannot export a payment file inside an open transaction");
		goto out;
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		em_error_set(err, "'%s' is a directory", path);
		em_error_hint(err, "give the payment file's name, for example %s/%s.xml", path,
			      batch);
		goto out;
	}
	em_strbuf_addf(&tmp, "%s.tmp", path);

	if (em_db_command(conn, "BEGIN", 0, NULL, err) < 0)
		goto out;
	began = 1;
	res = em_db_exec(conn, EM_P1_SQL, 2, params, PGRES_TUPLES_OK, EM_P1_NCOLS, err);
	if (!res)
		goto out;
	if (PQntuples(res) == 0) {
		em_error_set(err, "batch '%s' has no payments to export", batch);
		em_error_detail(err, "earmark.payment_export returned no rows for book '%s'", book);
		goto out;
	}
	b.res = res;
	b.book = book;
	b.batch = batch;
	b.nrows = PQntuples(res);
	if (em_pain001_check(&b, err) < 0)
		goto out;

	if (unlink(tmp.buf) != 0 && errno != ENOENT) {
		em_error_set(err, "could not remove stale '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		em_error_set(err, "could not create '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	tmp_made = 1;
	if (em_pain001_write(fd, tmp.buf, &b, err) < 0)
		goto out;
	if (fsync(fd) != 0) {
		em_error_set(err, "could not fsync '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		em_error_set(err, "could not write '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	fd = -1;

	if (em_db_command(conn, "COMMIT", 0, NULL, err) < 0) {
		if (PQstatus(conn) == CONNECTION_BAD) {
			em_error_detail(err, "the connection was lost during COMMIT: whether the "
					     "payments of batch '%s' are marked sent is unknown",
					batch);
			em_error_hint(err, "export the batch again once the database is back");
		} else {
			em_error_detail(err, "the transaction was rolled back: no payment of batch "
					     "'%s' is marked sent",
					batch);
		}
		goto out;
	}
	began = 0;
	/* From here the payments are marked sent: the file must follow. */
	if (rename(tmp.buf, path) != 0) {
		em_error_set(err, "could not rename '%s' to '%s': %s", tmp.buf, path,
			     strerror(errno));
		em_error_detail(err, "the payments of batch '%s' are marked sent", batch);
		em_error_hint(err, "export the batch again to write the file");
		goto out;
	}
	tmp_made = 0;
	if (em_pain001_sync_dir(path, err) < 0)
		goto out;
	*count = b.nrows;
	*total_fen = b.total_fen;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp_made)
		(void)unlink(tmp.buf);
	if (began && (PQtransactionStatus(conn) == PQTRANS_INTRANS ||
		      PQtransactionStatus(conn) == PQTRANS_INERROR))
		(void)em_db_command(conn, "ROLLBACK", 0, NULL, NULL);
	em_pain001_batch_release(&b);
	PQclear(res);
	em_strbuf_release(&tmp);
	return ret;
}

/*
 * A deadlock or serialization failure rolled the whole transaction back
 * and removed the temporary file: the export runs again from the start
 * (ledger/db.h).
 */
int em_pain001_export(PGconn *conn, const char *book, const char *batch, const char *path,
		      long *count, long long *total_fen, struct em_error *err)
{
	int ret;

	for (int attempt = 0;
	     (ret = pain001_export_once(conn, book, batch, path, count, total_fen, err)) < 0 &&
	     em_db_retry_again(conn, attempt, err);
	     attempt++)
		;
	return ret;
}
