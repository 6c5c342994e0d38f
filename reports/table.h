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

struct em_table {
	size_t ncols;       /* columns */
	const char **head;  /* ncols headers (not owned) */
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
void em_table_release(struct em_table *t);
/* Display width of a UTF-8 string in terminal cells. */
size_t em_text_width(const char *s);

#endif
