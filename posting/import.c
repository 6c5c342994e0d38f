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

static int import_rows(const struct em_csv *csv, const struct em_column *cols, size_t ncols,
		       enum import_mode mode, struct em_strbuf *dest, size_t *nrows,
		       struct em_error *err)
{
	struct em_strbuf list = EM_STRBUF_INIT;
	struct em_strbuf out = EM_STRBUF_INIT;
	struct em_strbuf copyrow = EM_STRBUF_INIT;
	struct em_strbuf e = EM_STRBUF_INIT; /* echo() of a value */
	struct seen *uniq = NULL; /* values of unique columns */
	size_t nseen = 0, seen_cap = 0;
	int *colof = NULL; /* header field index -> column index, -1 unknown */
	size_t nproblems = 0;
	size_t nhead;
	int ret = EM_ERR;

	*nrows = 0;
	if (csv->nrows == 0) {
		em_error_set(err, "file '%s' is empty", csv->path);
		em_error_hint(err, "the first row names the columns, then one row per record");
		goto out;
	}
	nhead = csv->rows[0].nfields;
	colof = calloc(nhead ? nhead : 1, sizeof(*colof));
	if (!colof)
		abort();
	for (size_t f = 0; f < nhead; f++) {
		colof[f] = -1;
		for (size_t c = 0; c < ncols; c++) {
			if (!column_matches(&cols[c], csv->rows[0].fields[f]))
				continue;
			for (size_t g = 0; g < f; g++)
				if (colof[g] == (int)c)
					problem(&list, &nproblems, "line %zu: column '%s' appears twice",
						csv->rows[0].line, cols[c].key);
			colof[f] = (int)c;
		}
		if (colof[f] < 0)
			problem(&list, &nproblems, "line %zu: unknown column '%s'",
				csv->rows[0].line, echo(&e, csv->rows[0].fields[f]));
	}
	for (size_t c = 0; c < ncols; c++) {
		int seen = 0;
		for (size_t f = 0; f < nhead; f++)
			seen |= colof[f] == (int)c;
		if (cols[c].required && !seen)
			problem(&list, &nproblems, "line %zu: column '%s' is missing",
				csv->rows[0].line, cols[c].key);
	}
	if (csv->nrows < 2)
		problem(&list, &nproblems, "the file has a header but no rows");

	if (mode == IMPORT_JSON)
		em_strbuf_addc(&out, '[');
	for (size_t r = 1; r < csv->nrows; r++) {
		const struct em_csv_row *row = &csv->rows[r];
		char source[64];

		if (row->nfields != nhead) {
			problem(&list, &nproblems, "line %zu: %zu fields where the header has %zu",
				row->line, row->nfields, nhead);
			continue;
		}
		if (mode == IMPORT_COPY) {
			/* The line number, then the columns in the order of cols. */
			size_t before = nproblems;
			em_strbuf_reset(&copyrow);
			em_strbuf_addf(&copyrow, "%zu", row->line);
			for (size_t c = 0; c < ncols; c++) {
				const char *value = NULL;
				em_strbuf_addc(&copyrow, '\t');
				for (size_t f = 0; f < nhead; f++)
					if (colof[f] == (int)c)
						value = row->fields[f];
				if (!value || !*value) {
					em_strbuf_adds(&copyrow, "\\N");
				} else if (cols[c].money) {
					struct em_error merr = EM_ERROR_INIT;
					int64_t fen;
					if (em_money_parse(value, &fen, &merr) < 0)
						problem(&list, &nproblems, "line %zu: %s: %s%s%s", row->line,
							cols[c].key, merr.message, merr.detail ? ": " : "",
							merr.detail ? merr.detail : "");
					else
						em_strbuf_addf(&copyrow, "%lld", (long long)fen);
					em_error_release(&merr);
				} else {
					copy_field(&copyrow, value);
				}
			}
			if (nproblems == before) {
				em_strbuf_add(&out, copyrow.buf, copyrow.len);
				em_strbuf_addc(&out, '\n');
				(*nrows)++;
			}
			continue;
		}
		if (*nrows)
			em_strbuf_addc(&out, ',');
		em_strbuf_addc(&out, '{');
		snprintf(source, sizeof(source), "%s:%zu", csv->path, row->line);
		em_json_add_member(&out, 1, "source", source);
		for (size_t f = 0; f < nhead; f++) {
			const struct em_column *col;
			const char *value = row->fields[f];

			if (colof[f] < 0)
				continue;
			col = &cols[colof[f]];
			if (col->money) {
				struct em_error merr = EM_ERROR_INIT;
				int64_t fen;
				char key[64];

				if (!*value && !col->required)
					continue;  /* an optional amount left empty */
				if (em_money_parse(value, &fen, &merr) < 0) {
					problem(&list, &nproblems, "line %zu: %s%s%s%s", row->line,
						merr.message, merr.detail ? " (" : "",
						merr.detail ? merr.detail : "", merr.detail ? ")" : "");
					em_error_release(&merr);
					continue;
				}
				snprintf(key, sizeof(key), "%s_fen", col->key);
				em_json_add_int(&out, 0, key, fen);
				continue;
			}
			if (col->normalise && *value) {
				const char *why = NULL;
				const char *norm = col->normalise(value, &why);
				if (!norm) {
					problem(&list, &nproblems, "line %zu: %s '%s': %s", row->line,
						col->key, echo(&e, value), why);
					continue;
				}
				value = norm;
			}
			if (col->unique && *value) {
				if (nseen == seen_cap) {
					seen_cap = seen_cap ? 2 * seen_cap : 64;
					uniq = realloc(uniq, seen_cap * sizeof(*uniq));
					if (!uniq)
						abort();
				}
				uniq[nseen].col = (size_t)colof[f];
				uniq[nseen].line = row->line;
				uniq[nseen].value = strdup(value);
				if (!uniq[nseen++].value)
					abort();
			}
			em_json_add_member(&out, 0, col->key, value);
		}
		em_strbuf_addc(&out, '}');
		(*nrows)++;
	}
	if (mode == IMPORT_JSON)
		em_strbuf_addc(&out, ']');
	report_repeats(uniq, nseen, cols, &list, &nproblems);

	if (nproblems) {
		em_error_set(err, "file '%s' has %zu problem%s; nothing was imported", csv->path,
			     nproblems, nproblems == 1 ? "" : "s");
		if (nproblems > EM_IMPORT_MAX_SHOWN)
			em_strbuf_addf(&list, "\n  ... and %zu more", nproblems - EM_IMPORT_MAX_SHOWN);
		em_error_detail(err, "%s", list.buf);
		em_error_hint(err, "fix the lines named and run the command again");
		*nrows = 0;
		goto out;
	}
	em_strbuf_add(dest, out.buf, out.len);
	ret = 0;
out:
	free(colof);
	free(uniq);
	em_strbuf_release(&copyrow);
	em_strbuf_release(&e);
	em_strbuf_release(&list);
	em_strbuf_release(&out);
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
