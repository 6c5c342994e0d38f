/*
 * CSV rows to JSON (see import.h).  The file format is earmark's: the
 * header decides which field is which, so columns may come in any order
 * and Chinese headers work as well as English ones.  Problems are kept in
 * a list and reported together, at most EM_IMPORT_MAX_SHOWN of them, so a
 * finance officer fixes a file in one pass, not one error per run.
 */
#include "posting/import.h"

#include <stdarg.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/csv.h"
#include "ledger/error.h"
#include "ledger/json.h"
#include "ledger/money.h"
#include "ledger/strbuf.h"

#define EM_IMPORT_MAX_SHOWN 50
/* How much of a value from the file a problem shows (see echo()). */
#define EM_IMPORT_ECHO_MAX 40

/* Header cell equals name, ignoring ASCII case and surrounding spaces. */
static int header_is(const char *cell, const char *name, size_t namelen)
{
	while (*cell == ' ')
		cell++;
	size_t len = strlen(cell);
	while (len && cell[len - 1] == ' ')
		len--;
	return len == namelen && strncasecmp(cell, name, namelen) == 0;
}

static int column_matches(const struct em_column *col, const char *cell)
{
	if (header_is(cell, col->key, strlen(col->key)))
		return 1;
	for (const char *a = col->aliases; a && *a;) {
		const char *bar = strchr(a, '|');
		size_t len = bar ? (size_t)(bar - a) : strlen(a);
		if (header_is(cell, a, len))
			return 1;
		a = bar ? bar + 1 : a + len;
	}
	return 0;
}

static void problem(struct em_strbuf *list, size_t *count, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct em_strbuf *list, size_t *count, const char *fmt, ...)
{
	va_list ap;

	if (++*count > EM_IMPORT_MAX_SHOWN)
		return;
	if (list->len)
		em_strbuf_addc(list, '\n');
	em_strbuf_adds(list, "  ");
	va_start(ap, fmt);
	em_strbuf_vaddf(list, fmt, ap);
	va_end(ap);
}

/*
 * A value from the file, safe to print: the file is untrusted, so the value
 * is cut at a character boundary (ending in "...") and control characters
 * are shown as '?' (em_strbuf_add_sanitized).  sb is reset and reused.
 */
static const char *echo(struct em_strbuf *sb, const char *value)
{
	em_strbuf_reset(sb);
	em_strbuf_add_sanitized(sb, value, EM_IMPORT_ECHO_MAX);
	return sb->buf;
}

/* COPY text format: backslash, tab, newline and carriage return escaped. */
static void copy_field(struct em_strbuf *out, const char *v)
{
	for (;;) {
		size_t plain = strcspn(v, "\\\t\n\r"); /* the run that needs no escape, at once */

		em_strbuf_add(out, v, plain);
		v += plain;
		switch (*v) {
		case '\0': return;
		case '\\': em_strbuf_adds(out, "\\\\"); break;
		case '\t': em_strbuf_adds(out, "\\t"); break;
		case '\n': em_strbuf_adds(out, "\\n"); break;
		default: em_strbuf_adds(out, "\\r"); break;
		}
		v++;
	}
}

enum import_mode { IMPORT_JSON, IMPORT_COPY };

/* One value of a unique column, where it stands; first: the earliest line with it. */
struct seen {
	size_t col;
	size_t line;
	size_t first;
	char *value;
};

static int seen_by_value(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	int c = (x->col > y->col) - (x->col < y->col);

	if (!c)
		c = strcmp(x->value, y->value);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int seen_by_line(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;

	return (x->line > y->line) - (x->line < y->line);
}

/*
 * Reports each repeated value of a unique column at its later line, in
 * line order, naming the first line that had it.  Sorting keeps a file of
 * 100,000 households at n log n.  Frees the values.
 */
static void report_repeats(struct seen *v, size_t n, const struct em_column *cols,
			   struct em_strbuf *list, size_t *count)
{
	struct em_strbuf e = EM_STRBUF_INIT;
	size_t nrep = 0;

	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), seen_by_value);
	for (size_t i = 0; i < n; i++) {
		int repeat = i > 0 && v[i - 1].col == v[i].col && strcmp(v[i - 1].value, v[i].value) == 0;
		v[i].first = repeat ? v[i - 1].first : v[i].line;
	}
	/* The repeats to the front, in line order. */
	for (size_t i = 0; i < n; i++) {
		if (v[i].first != v[i].line) {
			struct seen t = v[nrep];
			v[nrep++] = v[i];
			v[i] = t;
		}
	}
	qsort(v, nrep, sizeof(*v), seen_by_line);
	for (size_t i = 0; i < nrep; i++) {
		const struct em_column *c = &cols[v[i].col];
		problem(list, count, "line %zu: %s '%s': the same %s as line %zu%s%s%s", v[i].line,
			c->key, echo(&e, v[i].value), c->unique, v[i].first, c->rule ? " (" : "",
			c->rule ? c->rule : "", c->rule ? ")" : "");
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].value);
	em_strbuf_release(&e);
}

/*
 * One file being imported: the header's columns, the rows converted so
 * far and the problems found.  The whole-file forms below and the
 * streaming COPY form (pay batch) share it, so a row is checked by the same
 * code either way.
 */
struct em_import {
	const struct em_column *cols;
	size_t ncols;
	enum import_mode mode;
	int *colof;          /* header field index -> column index, -1 unknown; NULL until the header */
	size_t nhead;        /* fields in the header; 0 until it is read */
	size_t nrows;        /* data rows converted */
	size_t ndata;        /* data rows seen, converted or not */
	size_t nproblems;
	struct em_strbuf list;    /* the problems */
	struct em_strbuf out;     /* the rows: JSON or COPY text */
	struct em_strbuf copyrow; /* one COPY row being built */
	struct em_strbuf e;       /* echo() of a value */
	struct seen *uniq;        /* values of unique columns */
	size_t nseen, seen_cap;
	/* Streaming: whole COPY rows past `flushed` go to flush in pieces. */
	void (*flush)(void *arg, const char *rows, size_t len);
	void *flush_arg;
	size_t flushed;
};

/* How much COPY text is handed to flush at a time. */
#define EM_IMPORT_FLUSH ((size_t)1 << 20)

static void import_init(struct em_import *im, const struct em_column *cols, size_t ncols,
			enum import_mode mode)
{
	memset(im, 0, sizeof(*im));
	im->cols = cols;
	im->ncols = ncols;
	im->mode = mode;
	em_strbuf_init(&im->list);
	em_strbuf_init(&im->out);
	em_strbuf_init(&im->copyrow);
	em_strbuf_init(&im->e);
	if (mode == IMPORT_JSON)
		em_strbuf_addc(&im->out, '[');
}

static void import_release(struct em_import *im)
{
	for (size_t i = 0; i < im->nseen; i++)
		free(im->uniq[i].value);
	free(im->uniq);
	free(im->colof);
	em_strbuf_release(&im->copyrow);
	em_strbuf_release(&im->e);
	em_strbuf_release(&im->list);
	em_strbuf_release(&im->out);
}

/* Row 0: which field is which column; unknown, repeated and missing columns. */
static void import_header(struct em_import *im, const struct em_csv_row *head)
{
	const struct em_column *cols = im->cols;

	im->nhead = head->nfields;
	im->colof = calloc(im->nhead ? im->nhead : 1, sizeof(*im->colof));
	if (!im->colof)
		abort();
	for (size_t f = 0; f < im->nhead; f++) {
		im->colof[f] = -1;
		for (size_t c = 0; c < im->ncols; c++) {
			if (!column_matches(&cols[c], head->fields[f]))
				continue;
			for (size_t g = 0; g < f; g++)
				if (im->colof[g] == (int)c)
					problem(&im->list, &im->nproblems, "line %zu: column '%s' appears twice",
						head->line, cols[c].key);
			im->colof[f] = (int)c;
		}
		if (im->colof[f] < 0)
			problem(&im->list, &im->nproblems, "line %zu: unknown column '%s'",
				head->line, echo(&im->e, head->fields[f]));
	}
	for (size_t c = 0; c < im->ncols; c++) {
		int seen = 0;
		for (size_t f = 0; f < im->nhead; f++)
			seen |= im->colof[f] == (int)c;
		if (cols[c].required && !seen)
			problem(&im->list, &im->nproblems, "line %zu: column '%s' is missing",
				head->line, cols[c].key);
	}
}

/* The line number, then the columns in the order of cols; a bad row adds nothing. */
static void import_copy_row(struct em_import *im, const struct em_csv_row *row)
{
	const struct em_column *cols = im->cols;
	size_t before = im->nproblems;

	em_strbuf_reset(&im->copyrow);
	em_strbuf_addf(&im->copyrow, "%zu", row->line);
	for (size_t c = 0; c < im->ncols; c++) {
		const char *value = NULL;
		em_strbuf_addc(&im->copyrow, '\t');
		for (size_t f = 0; f < im->nhead; f++)
			if (im->colof[f] == (int)c)
				value = row->fields[f];
		if (!value || !*value) {
			em_strbuf_adds(&im->copyrow, "\\N");
		} else if (cols[c].money) {
			struct em_error merr = EM_ERROR_INIT;
			int64_t fen;
			if (em_money_parse(value, &fen, &merr) < 0)
				problem(&im->list, &im->nproblems, "line %zu: %s: %s%s%s", row->line,
					cols[c].key, merr.message, merr.detail ? ": " : "",
					merr.detail ? merr.detail : "");
			else
				em_strbuf_addf(&im->copyrow, "%lld", (long long)fen);
			em_error_release(&merr);
		} else {
			copy_field(&im->copyrow, value);
		}
	}
	if (im->nproblems == before) {
		em_strbuf_add(&im->out, im->copyrow.buf, im->copyrow.len);
		em_strbuf_addc(&im->out, '\n');
		im->nrows++;
	}
}

/* One row object with "source": "FILE:LINE" and the columns by key. */
static void import_json_row(struct em_import *im, const struct em_csv *csv,
			    const struct em_csv_row *row)
{
	char source[64];

	if (im->nrows)
		em_strbuf_addc(&im->out, ',');
	em_strbuf_addc(&im->out, '{');
	snprintf(source, sizeof(source), "%s:%zu", csv->path, row->line);
	em_json_add_member(&im->out, 1, "source", source);
	for (size_t f = 0; f < im->nhead; f++) {
		const struct em_column *col;
		const char *value = row->fields[f];

		if (im->colof[f] < 0)
			continue;
		col = &im->cols[im->colof[f]];
		if (col->money) {
			struct em_error merr = EM_ERROR_INIT;
			int64_t fen;
			char key[64];

			if (!*value && !col->required)
				continue;  /* an optional amount left empty */
			if (em_money_parse(value, &fen, &merr) < 0) {
				problem(&im->list, &im->nproblems, "line %zu: %s%s%s%s", row->line,
					merr.message, merr.detail ? " (" : "",
					merr.detail ? merr.detail : "", merr.detail ? ")" : "");
				em_error_release(&merr);
				continue;
			}
			snprintf(key, sizeof(key), "%s_fen", col->key);
			em_json_add_int(&im->out, 0, key, fen);
			continue;
		}
		if (col->normalise && *value) {
			const char *why = NULL;
			const char *norm = col->normalise(value, &why);
			if (!norm) {
				problem(&im->list, &im->nproblems, "line %zu: %s '%s': %s", row->line,
					col->key, echo(&im->e, value), why);
				continue;
			}
			value = norm;
		}
		if (col->unique && *value) {
			if (im->nseen == im->seen_cap) {
				im->seen_cap = im->seen_cap ? 2 * im->seen_cap : 64;
				im->uniq = realloc(im->uniq, im->seen_cap * sizeof(*im->uniq));
				if (!im->uniq)
					abort();
			}
			im->uniq[im->nseen].col = (size_t)im->colof[f];
			im->uniq[im->nseen].line = row->line;
			im->uniq[im->nseen].value = strdup(value);
			if (!im->uniq[im->nseen++].value)
				abort();
		}
		em_json_add_member(&im->out, 0, col->key, value);
	}
	em_strbuf_addc(&im->out, '}');
	im->nrows++;
}

/* Row r of csv, the header first. */
static void import_row(struct em_import *im, const struct em_csv *csv, size_t r)
{
	const struct em_csv_row *row = &csv->rows[r];

	if (r == 0) {
		import_header(im, row);
		return;
	}
	im->ndata++;
	if (row->nfields != im->nhead) {
		problem(&im->list, &im->nproblems, "line %zu: %zu fields where the header has %zu",
			row->line, row->nfields, im->nhead);
		return;
	}
	if (im->mode == IMPORT_COPY)
		import_copy_row(im, row);
	else
		import_json_row(im, csv, row);
}

/* Whole COPY rows not yet flushed, while the file still has no problem. */
static void import_flush(struct em_import *im, size_t at_least)
{
	if (!im->flush || im->nproblems || im->out.len - im->flushed < at_least)
		return;
	im->flush(im->flush_arg, im->out.buf + im->flushed, im->out.len - im->flushed);
	im->flushed = im->out.len;
}

/*
 * The end of the file: the problems of the file as a whole, then all of
 * them at once, or the rows moved to dest.
 */
static int import_finish(struct em_import *im, const struct em_csv *csv, struct em_strbuf *dest,
			 size_t *nrows, struct em_error *err)
{
	*nrows = 0;
	if (!im->colof) {
		em_error_set(err, "file '%s' is empty", csv->path);
		em_error_hint(err, "the first row names the columns, then one row per record");
		return EM_ERR;
	}
	if (im->ndata == 0)
		problem(&im->list, &im->nproblems, "the file has a header but no rows");
	if (im->mode == IMPORT_JSON)
		em_strbuf_addc(&im->out, ']');
	report_repeats(im->uniq, im->nseen, im->cols, &im->list, &im->nproblems);
	im->nseen = 0; /* report_repeats freed the values */

	if (im->nproblems) {
		em_error_set(err, "file '%s' has %zu problem%s; nothing was imported", csv->path,
			     im->nproblems, im->nproblems == 1 ? "" : "s");
		if (im->nproblems > EM_IMPORT_MAX_SHOWN)
			em_strbuf_addf(&im->list, "\n  ... and %zu more", im->nproblems - EM_IMPORT_MAX_SHOWN);
		em_error_detail(err, "%s", im->list.buf);
		em_error_hint(err, "fix the lines named and run the command again");
		return EM_ERR;
	}
	import_flush(im, 0);
	if (dest->len == 0) {
		struct em_strbuf t = *dest; /* the rows are moved, not copied */
		*dest = im->out;
		im->out = t;
	} else {
		em_strbuf_add(dest, im->out.buf, im->out.len);
	}
	*nrows = im->nrows;
	return 0;
}

static int import_rows(const struct em_csv *csv, const struct em_column *cols, size_t ncols,
		       enum import_mode mode, struct em_strbuf *dest, size_t *nrows,
		       struct em_error *err)
{
	struct em_import im;
	int ret;

	import_init(&im, cols, ncols, mode);
	for (size_t r = 0; r < csv->nrows; r++)
		import_row(&im, csv, r);
	ret = import_finish(&im, csv, dest, nrows, err);
	import_release(&im);
	return ret;
}

int em_import_csv_json(const struct em_csv *csv, const struct em_column *cols, size_t ncols,
		       struct em_strbuf *json, size_t *nrows, struct em_error *err)
{
	return import_rows(csv, cols, ncols, IMPORT_JSON, json, nrows, err);
}

int em_import_csv_copy(const struct em_csv *csv, const struct em_column *cols, size_t ncols,
		       struct em_strbuf *copy, size_t *nrows, struct em_error *err)
{
	return import_rows(csv, cols, ncols, IMPORT_COPY, copy, nrows, err);
}

struct em_import *em_import_copy_start(const struct em_column *cols, size_t ncols,
				       void (*flush)(void *arg, const char *rows, size_t len),
				       void *arg)
{
	struct em_import *im = malloc(sizeof(*im));

	if (!im)
		abort();
	import_init(im, cols, ncols, IMPORT_COPY);
	im->flush = flush;
	im->flush_arg = arg;
	return im;
}

void em_import_copy_row(const struct em_csv *csv, size_t r, void *im)
{
	import_row(im, csv, r);
	import_flush(im, EM_IMPORT_FLUSH);
}

int em_import_copy_finish(struct em_import *im, const struct em_csv *csv, struct em_strbuf *copy,
			  size_t *nrows, struct em_error *err)
{
	return import_finish(im, csv, copy, nrows, err);
}

void em_import_free(struct em_import *im)
{
	if (!im)
		return;
	import_release(im);
	free(im);
}
