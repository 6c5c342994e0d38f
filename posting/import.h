/*
 * From a CSV file to the JSON rows earmark's SQL functions take.
 *
 * The header row names the columns (English keys or their Chinese
 * aliases, in any order); every data row must have as many fields as the
 * header.  Money columns are parsed here (int64 fen, never double) and
 * passed as integers under key "<key>_fen".  Each row object carries
 * "source": "FILE:LINE" so that the database names the line it refuses.
 * Every problem in the file is collected and reported at once; on any
 * problem nothing is produced.
 */
#ifndef EM_IMPORT_H
#define EM_IMPORT_H

#include <stddef.h>

struct em_csv;
struct em_error;
struct em_strbuf;

struct em_column {
	const char *key;     /* JSON key and English header */
	const char *aliases; /* other accepted headers, '|' separated, or NULL */
	int money;           /* parse as money into "<key>_fen" */
	int required;        /* the header must have it */
	/* Optional value normaliser: returns the value to store, or NULL and sets *why. */
	const char *(*normalise)(const char *value, const char **why);
	/* When set, values (as normalised) must differ within a file; a repeat
	 * is "the same <unique> as line N (<rule>)". */
	const char *unique;
	const char *rule;
};

/* A file's columns, for the code that reads them and the fuzz target that
 * feeds them (tests/fuzz/fuzz_import.c). */
struct em_column_table {
	const struct em_column *cols;
	size_t ncols;
};
extern const struct em_column_table em_voucher_file;   /* posting/voucher.c */
extern const struct em_column_table em_pay_file;       /* posting/pay.c */
extern const struct em_column_table em_household_file; /* posting/admin.c */

/*
 * Appends a JSON array of row objects to json.  *nrows gets the number of
 * data rows.  An empty file or one with only a header is refused.
 */
int em_import_csv_json(const struct em_csv *csv, const struct em_column *cols, size_t ncols,
		       struct em_strbuf *json, size_t *nrows, struct em_error *err);

/*
 * The same checks, but the rows are appended as PostgreSQL COPY text: the
 * CSV line number, then one field per column of cols in that order (\N when
 * absent or empty; money columns as whole fen).  For bulk loads into a
 * staging table whose columns follow cols.
 */
int em_import_csv_copy(const struct em_csv *csv, const struct em_column *cols, size_t ncols,
		       struct em_strbuf *copy, size_t *nrows, struct em_error *err);

/*
 * em_import_csv_copy while the file is read (em_csv_read_file_each with
 * em_import_copy_row), so that the rows reach the server while the rest of
 * the file is parsed.  As long as no problem is found, whole COPY rows are
 * handed to flush about 1 MiB at a time; em_import_copy_finish then checks
 * the file as a whole and either hands over the rest and moves every row to
 * copy (kept for a retry), or reports every problem at once, and then what
 * flush received is to be thrown away (the caller aborts its COPY).  The
 * same checks and the same messages as em_import_csv_copy.
 */
struct em_import;
struct em_import *em_import_copy_start(const struct em_column *cols, size_t ncols,
				       void (*flush)(void *arg, const char *rows, size_t len),
				       void *arg);
void em_import_copy_row(const struct em_csv *csv, size_t r, void *im);
int em_import_copy_finish(struct em_import *im, const struct em_csv *csv, struct em_strbuf *copy,
			  size_t *nrows, struct em_error *err);
void em_import_free(struct em_import *im);

#endif
