/*
 * A small table printer for terminal and CSV output.  Columns are sized by
 * display width (CJK characters take two cells) so Chinese account names
 * line up; numeric columns are right-aligned.  CSV follows RFC 4180 and is
 * UTF-8 with a BOM-free header, which Excel and LibreOffice both read.
 */
#ifndef EM_TABLE_H
#define EM_TABLE_H

#include <stddef.h>
#include <stdio.h>

/*
 * The four forms of every table report: an aligned table for the
 * terminal, CSV (RFC 4180), JSON (cells as strings: amounts stay decimal
 * text, never floating point) and printable HTML (A4, Chinese, one
 * self-contained file with its print CSS).
 */
enum em_format { EM_FORMAT_TABLE, EM_FORMAT_CSV, EM_FORMAT_JSON, EM_FORMAT_HTML };

/* What a report says around its table (all strings not owned). */
struct em_table_doc {
	const char *name;          /* machine name, "trial-balance": JSON "report" */
	const char *title;         /* "试算平衡表 trial balance" */
	const char *const *facts;  /* NULL-terminated label, value pairs: "book", "E10", "as of", ... */
	const char *footer;        /* NULL or a closing line: "balanced: debits equal credits" */
};

struct em_table {
	size_t ncols;       /* columns */
	const char **head;  /* ncols headers (not owned): CSV header, JSON keys */
	const char **label; /* NULL or ncols headers for people (table, HTML), not owned */
	const int *right;   /* ncols flags: right-align (numbers) */
	size_t nrows;       /* rows added */
	size_t alloc;       /* rows allocated */
	char ***cells;      /* nrows x ncols strings, owned */
};

void em_table_init(struct em_table *t, size_t ncols, const char **head, const int *right);
/* Adds a row of ncols strings (copied; NULL prints as empty). */
void em_table_add(struct em_table *t, const char *const *cells);
/* Prints as an aligned table or as CSV. */
void em_table_print(const struct em_table *t, int csv, FILE *out);
/*
 * Writes the table as a whole document in fmt: table (title line with the
 * facts, the table, the footer), CSV (the table only, keys as header),
 * JSON (one object: report, title, facts, columns, rows, footer) or HTML.
 * Returns 0, or -1 when out reports a write error.
 */
int em_table_write(const struct em_table *t, enum em_format fmt, const struct em_table_doc *doc,
		   FILE *out);
void em_table_release(struct em_table *t);
/* Display width of a UTF-8 string in terminal cells. */
size_t em_text_width(const char *s);

#endif
