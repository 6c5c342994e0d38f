/*
 * CSV files as Excel and banks write them: RFC 4180 quoting (commas,
 * quotes and newlines inside quoted fields), UTF-8 with or without a
 * byte-order mark, or GB18030 (what Excel on a Chinese Windows saves as
 * "CSV").  The whole file is read and converted to UTF-8 first, then
 * split into rows with libcsv; every row remembers the physical line it
 * started on so a refusal can name it.
 *
 * Encoding: "auto" (default) takes UTF-8 when there is a BOM or the bytes
 * are valid UTF-8, and GB18030 otherwise; "utf-8" and "gb18030" force one.
 */
#ifndef EM_CSV_H
#define EM_CSV_H

#include <stddef.h>

struct em_error;

struct em_csv_row {
	size_t line;    /* 1-based physical line where the row starts */
	size_t nfields; /* number of fields */
	char **fields;  /* UTF-8, NUL terminated, owned by the table */
};

struct em_csv {
	char *path;              /* file name as given, for messages */
	const char *encoding;    /* "utf-8" or "gb18030": what the file was */
	int had_bom;             /* 1 when a UTF-8 BOM was stripped */
	size_t nrows;            /* rows including the header */
	struct em_csv_row *rows; /* rows[0] is the header when the file has one */
	struct em_csv_block *text; /* where the fields' text lives (csv.c) */
};

#define EM_CSV_INIT { NULL, NULL, 0, 0, NULL, NULL }

/* Reads path (or "-" for stdin).  encoding: NULL/"auto", "utf-8", "gb18030". */
int em_csv_read_file(struct em_csv *csv, const char *path, const char *encoding,
		     struct em_error *err);
/*
 * The same, handing each row to on_row as soon as the parser has it (row 0,
 * the header, first; r indexes csv->rows), so that the caller can work on
 * the file while it is being read (pay batch streams it to the server).
 * The rows on_row sees are exactly the table's rows on success: blank rows
 * are held back until a row with text follows them.  On failure the rows
 * handed so far are to be discarded: the file is refused whole.
 */
typedef void em_csv_row_fn(const struct em_csv *csv, size_t r, void *arg);
int em_csv_read_file_each(struct em_csv *csv, const char *path, const char *encoding,
			  em_csv_row_fn *on_row, void *arg, struct em_error *err);
/* Same from memory (used by tests and fuzzers). */
int em_csv_read_mem(struct em_csv *csv, const char *name, const char *data, size_t len,
		    const char *encoding, struct em_error *err);
int em_csv_read_mem_each(struct em_csv *csv, const char *name, const char *data, size_t len,
			 const char *encoding, em_csv_row_fn *on_row, void *arg, struct em_error *err);
void em_csv_release(struct em_csv *csv);

#endif
