/*
 * Table and CSV printing (see table.h).  Width is counted per code point:
 * East Asian wide ranges (CJK, Hangul, full-width forms) count two cells,
 * everything else one; good enough for account names and amounts.
 */
#include "reports/table.h"

#include <stdlib.h>
#include <string.h>

static int wide(unsigned long cp)
{
	return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
	       (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
	       (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
	       (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x20000 && cp <= 0x3fffd);
}

size_t em_text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;

	while (*p) {
		unsigned long cp;
		int n;

		if (*p < 0x80) {
			cp = *p;
			n = 1;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p & 0x1f;
			n = 2;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p & 0x0f;
			n = 3;
		} else {
			cp = *p & 0x07;
			n = 4;
		}
		for (int i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80) {
				n = i;
				break;
			}
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		p += n;
		w += wide(cp) ? 2 : 1;
	}
	return w;
}

void em_table_init(struct em_table *t, size_t ncols, const char **head, const int *right)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->head = head;
	t->right = right;
}

void em_table_add(struct em_table *t, const char *const *cells)
{
	char **row;

	if (t->nrows == t->alloc) {
		t->alloc = t->alloc ? 2 * t->alloc : 16;
		t->cells = realloc(t->cells, t->alloc * sizeof(*t->cells));
		if (!t->cells)
			abort();
	}
	row = calloc(t->ncols, sizeof(*row));
	if (!row)
		abort();
	for (size_t c = 0; c < t->ncols; c++) {
		row[c] = strdup(cells[c] ? cells[c] : "");
		if (!row[c])
			abort();
	}
	t->cells[t->nrows++] = row;
}

static void csv_cell(const char *s, FILE *out)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void pad(size_t n, FILE *out)
{
	while (n--)
		fputc(' ', out);
}

void em_table_print(const struct em_table *t, int csv, FILE *out)
{
	size_t *width;

	if (csv) {
		for (size_t c = 0; c < t->ncols; c++) {
			if (c)
				fputc(',', out);
			csv_cell(t->head[c], out);
		}
		fputs("\r\n", out);
		for (size_t r = 0; r < t->nrows; r++) {
			for (size_t c = 0; c < t->ncols; c++) {
				if (c)
					fputc(',', out);
				csv_cell(t->cells[r][c], out);
			}
			fputs("\r\n", out);
		}
		return;
	}
	width = calloc(t->ncols, sizeof(*width));
	if (!width)
		abort();
	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = em_text_width(t->head[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = em_text_width(t->cells[r][c]);
			if (w > width[c])
				width[c] = w;
		}
	}
	for (size_t r = 0; r <= t->nrows + 1; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = r == 0 ? t->head[c] : r == 1 ? NULL : t->cells[r - 2][c];
			if (c)
				fputs("  ", out);
			if (!s) {
				for (size_t i = 0; i < width[c]; i++)
					fputc('-', out);
				continue;
			}
			size_t w = em_text_width(s);
			if (t->right[c])
				pad(width[c] - w, out);
			/* A memo's TAB or LF would break the columns: shown as a space. */
			for (const char *p = s; *p; p++)
				fputc((unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p, out);
			if (!t->right[c] && c + 1 < t->ncols)
				pad(width[c] - w, out);
		}
		fputc('\n', out);
	}
	free(width);
}

void em_table_release(struct em_table *t)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++)
			free(t->cells[r][c]);
		free(t->cells[r]);
	}
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
