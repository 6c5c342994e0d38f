/*
 * Table and CSV printing (see table.h).  Width is counted per code point:
 * East Asian wide ranges (CJK, Hangul, full-width forms) count two cells,
 * everything else one; good enough for account names and amounts.
 *
 * em_table_write makes every report a document in each of the four
 * formats, once for all: JSON and HTML escape every cell (the text comes
 * from the database and may hold anything), and the HTML is one
 * self-contained file, UTF-8, lang zh-CN, with A4 print CSS, a header row
 * repeated on every printed page and CJK fonts named, no external asset.
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
	t->label = NULL;
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

/* ---- documents: table, CSV, JSON, HTML --------------------------------- */

static void json_str(const char *s, FILE *out)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", out);
		else if (*p == '\r')
			fputs("\\r", out);
		else if (*p == '\t')
			fputs("\\t", out);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* A JSON key from a label: "as of" -> "as_of". */
static void json_key(const char *s, FILE *out)
{
	fputc('"', out);
	for (; *s; s++)
		fputc(*s == ' ' ? '_' : (unsigned char)*s < 0x20 || *s == '"' || *s == '\\' ? '_' : *s, out);
	fputc('"', out);
}

static void html_text(const char *s, FILE *out)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default:
			/* control characters are not allowed in HTML text: a space */
			fputc(*p < 0x20 && *p != '\n' ? ' ' : *p == 0x7f ? ' ' : *p, out);
		}
	}
}

static const char *col_label(const struct em_table *t, size_t c)
{
	return t->label && t->label[c] ? t->label[c] : t->head[c];
}

/* A total or subtotal row (合计 / 小计 in any cell) prints bold in HTML. */
static int total_row(const struct em_table *t, size_t r)
{
	for (size_t c = 0; c < t->ncols; c++)
		if (strncmp(t->cells[r][c], "合计", strlen("合计")) == 0 ||
		    strncmp(t->cells[r][c], "小计", strlen("小计")) == 0)
			return 1;
	return 0;
}

/* A fact's label as a Chinese form prints it: "账套 book". */
static const char *fact_label(const char *label)
{
	static const char *const names[][2] = {
		{ "book", "账套" }, { "as of", "截止日期" }, { "from", "起始日期" }, { "to", "截止日期" },
		{ "fund", "资金" }, { "account", "科目" }, { "project", "项目" }, { "village", "村" },
		{ "household", "户" }, { "bank-account", "账号" },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(label, names[i][0]) == 0)
			return names[i][1];
	return NULL;
}

static const char html_css[] =
	"@page { size: A4 %s; margin: 14mm 12mm 16mm 12mm; }\n"
	"html { font-family: \"Noto Serif CJK SC\", \"Noto Sans CJK SC\", \"Source Han Serif SC\", "
	"\"Songti SC\", SimSun, \"Microsoft YaHei\", serif; font-size: 10pt; color: #000; }\n"
	"body { margin: 0; }\n"
	"h1 { font-size: 16pt; text-align: center; letter-spacing: 0.1em; margin: 0 0 3mm 0; }\n"
	"p.facts { text-align: center; margin: 0 0 4mm 0; }\n"
	"p.facts span { margin: 0 1.2em; white-space: nowrap; }\n"
	"table { border-collapse: collapse; width: 100%%; }\n"
	"thead { display: table-header-group; }\n"
	"tr { page-break-inside: avoid; break-inside: avoid; }\n"
	"th, td { border: 0.5pt solid #000; padding: 0.8mm 1.5mm; vertical-align: top; }\n"
	"th { font-weight: bold; background: #f0f0f0; text-align: center; }\n"
	"td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }\n"
	"tr.total td { font-weight: bold; }\n"
	"p.footer { margin: 3mm 0 0 0; }\n"
	"@media print { th { background: none; } }\n";

static void write_html(const struct em_table *t, const struct em_table_doc *doc, FILE *out)
{
	fputs("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>", out);
	html_text(doc->title, out);
	for (const char *const *f = doc->facts; f && f[0] && f[1]; f += 2) {
		fputs(" ", out);
		html_text(f[1], out);
	}
	fputs("</title>\n<style>\n", out);
	/* wide tables print across the page */
	fprintf(out, html_css, t->ncols > 7 ? "landscape" : "portrait");
	fputs("</style>\n</head>\n<body>\n<h1>", out);
	html_text(doc->title, out);
	fputs("</h1>\n<p class=\"facts\">", out);
	for (const char *const *f = doc->facts; f && f[0] && f[1]; f += 2) {
		fputs("<span>", out);
		if (fact_label(f[0])) {
			html_text(fact_label(f[0]), out);
			fputs(" ", out);
		}
		html_text(f[0], out);
		fputs(": ", out);
		html_text(f[1], out);
		fputs("</span>", out);
	}
	fputs("</p>\n<table>\n<thead>\n<tr>", out);
	for (size_t c = 0; c < t->ncols; c++) {
		fputs("<th>", out);
		html_text(col_label(t, c), out);
		fputs("</th>", out);
	}
	fputs("</tr>\n</thead>\n<tbody>\n", out);
	for (size_t r = 0; r < t->nrows; r++) {
		fputs(total_row(t, r) ? "<tr class=\"total\">" : "<tr>", out);
		for (size_t c = 0; c < t->ncols; c++) {
			fputs(t->right[c] ? "<td class=\"n\">" : "<td>", out);
			html_text(t->cells[r][c], out);
			fputs("</td>", out);
		}
		fputs("</tr>\n", out);
	}
	fputs("</tbody>\n</table>\n", out);
	if (doc->footer) {
		fputs("<p class=\"footer\">", out);
		html_text(doc->footer, out);
		fputs("</p>\n", out);
	}
	fputs("</body>\n</html>\n", out);
}

static void write_json(const struct em_table *t, const struct em_table_doc *doc, FILE *out)
{
	fputs("{\n  \"report\": ", out);
	json_str(doc->name ? doc->name : "", out);
	fputs(",\n  \"title\": ", out);
	json_str(doc->title ? doc->title : "", out);
	for (const char *const *f = doc->facts; f && f[0] && f[1]; f += 2) {
		fputs(",\n  ", out);
		json_key(f[0], out);
		fputs(": ", out);
		json_str(f[1], out);
	}
	fputs(",\n  \"columns\": [", out);
	for (size_t c = 0; c < t->ncols; c++) {
		fputs(c ? ", " : "", out);
		fputs("{\"key\": ", out);
		json_str(t->head[c], out);
		fputs(", \"label\": ", out);
		json_str(col_label(t, c), out);
		fputs("}", out);
	}
	fputs("],\n  \"rows\": [", out);
	for (size_t r = 0; r < t->nrows; r++) {
		fputs(r ? ",\n    {" : "\n    {", out);
		for (size_t c = 0; c < t->ncols; c++) {
			fputs(c ? ", " : "", out);
			json_str(t->head[c], out);
			fputs(": ", out);
			json_str(t->cells[r][c], out);
		}
		fputs("}", out);
	}
	fputs(t->nrows ? "\n  ]" : "]", out);
	if (doc->footer) {
		fputs(",\n  \"footer\": ", out);
		json_str(doc->footer, out);
	}
	fputs("\n}\n", out);
}

int em_table_write(const struct em_table *t, enum em_format fmt, const struct em_table_doc *doc,
		   FILE *out)
{
	switch (fmt) {
	case EM_FORMAT_CSV:
		em_table_print(t, 1, out);
		break;
	case EM_FORMAT_JSON:
		write_json(t, doc, out);
		break;
	case EM_FORMAT_HTML:
		write_html(t, doc, out);
		break;
	case EM_FORMAT_TABLE:
	default: {
		/* the table shows people's headers */
		struct em_table shown = *t;
		if (t->label)
			shown.head = t->label;
		fputs(doc->title ? doc->title : "", out);
		for (const char *const *f = doc->facts; f && f[0] && f[1]; f += 2)
			fprintf(out, "  %s %s", f[0], f[1]);
		fputs("\n\n", out);
		em_table_print(&shown, 0, out);
		if (doc->footer)
			fprintf(out, "\n%s\n", doc->footer);
		break;
	}
	}
	return ferror(out) ? -1 : 0;
}
