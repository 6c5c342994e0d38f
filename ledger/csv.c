/*
 * Reading a CSV file into a table of UTF-8 rows, each knowing the physical
 * line it starts on.  The workload is imports of households and bank
 * statements: up to a few hundred thousand rows, read whole (256 MiB at
 * most) and kept in memory while the caller checks and loads them.
 *
 * The bytes are first checked and decoded: no NUL, no UTF-16, a UTF-8 BOM
 * stripped, then strict UTF-8 (no overlongs, surrogates or values above
 * U+10FFFF) or else GB18030 through iconv.  The UTF-8 text is then fed to
 * libcsv in strict mode one physical line at a time, so a row's first line
 * is known without looking inside the parser: a row starts at the first
 * byte after the previous row's terminator that is not itself CR or LF,
 * and libcsv can only end a row on the last byte of such a chunk.  Fields
 * are kept byte for byte: no spaces are trimmed (RFC 4180), and malformed
 * quoting is refused rather than guessed at.  Blank lines produce no row,
 * and rows at the end that hold only empty or blank fields (what
 * spreadsheets leave behind) are dropped.
 *
 * Invariant: on success every row has at least one field, every field is
 * valid UTF-8 without NUL, and lines only grow from row to row; on failure
 * the table is empty (as after em_csv_release) and err names the file, the
 * line and the rule.  Out of memory aborts, as in strbuf.
 */
#include "ledger/csv.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger/error.h"
#include "ledger/strbuf.h"

#define EM_CSV_MAX_BYTES ((size_t)256 * 1024 * 1024)
/* How much of a file name goes into a message. */
#define EM_CSV_NAME_MAX 200

enum em_csv_encoding { EM_CSV_AUTO, EM_CSV_UTF8, EM_CSV_GB18030 };

/* What libcsv's callbacks need; lives on em_csv_parse_text's stack. */
struct em_csv_state {
	struct em_csv *csv;  /* the table being filled */
	size_t rows_alloc;   /* slots in csv->rows */
	size_t fields_alloc; /* slots in the open row's fields */
	int row_open;        /* 1 after the open row's first field */
	int need_start;      /* 1 when the next non-newline byte starts a row */
	size_t start_line;   /* physical line the open (or next) row starts on */
	em_csv_row_fn *on_row; /* em_csv_read_file_each's callback, or NULL */
	void *arg;
	size_t passed;       /* rows handed to on_row so far */
};

static void *em_csv_xrealloc(void *p, size_t n, size_t size)
{
	void *q;

	if (size != 0 && n > SIZE_MAX / size)
		abort();
	q = realloc(p, n * size);
	if (q == NULL)
		abort();
	return q;
}

/*
 * The fields' text, one block after another: a file of 100,000 rows has
 * 800,000 fields, and a malloc and a free for each was most of reading it.
 * Blocks are freed together by em_csv_release.
 */
struct em_csv_block {
	struct em_csv_block *next;
	size_t used, size;
	char text[];
};

#define EM_CSV_BLOCK ((size_t)256 * 1024)

static char *em_csv_field_copy(struct em_csv *csv, const char *s, size_t len)
{
	struct em_csv_block *b = csv->text;
	char *d;

	if (b == NULL || b->size - b->used < len + 1) {
		size_t size = len + 1 > EM_CSV_BLOCK ? len + 1 : EM_CSV_BLOCK;

		b = malloc(sizeof(*b) + size);
		if (b == NULL)
			abort();
		b->next = csv->text;
		b->used = 0;
		b->size = size;
		csv->text = b;
	}
	d = b->text + b->used;
	memcpy(d, s, len);
	d[len] = '\0';
	b->used += len + 1;
	return d;
}

static char *em_csv_xstrndup(const char *s, size_t len)
{
	char *d = em_csv_xrealloc(NULL, len + 1, 1);

	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/* "file 'name'" with the name made safe to print, for every message. */
static void em_csv_name(struct em_strbuf *sb, const struct em_csv *csv)
{
	em_strbuf_add_sanitized(sb, csv->path != NULL ? csv->path : "-", EM_CSV_NAME_MAX);
}

/*
 * Physical line (1-based) of byte off: editors end a line at LF, at CRLF
 * and at a lone CR.  Neither byte occurs inside a GB18030 character, so
 * this works on the raw bytes of either encoding.
 */
static size_t em_csv_line_at(const char *data, size_t len, size_t off)
{
	size_t line = 1;
	size_t i;

	for (i = 0; i < off && i < len; i++)
		if (data[i] == '\n' || (data[i] == '\r' && (i + 1 >= len || data[i + 1] != '\n')))
			line++;
	return line;
}

/* Offset of the first byte that is not well-formed UTF-8, or len. */
static size_t em_csv_utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t n, k;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		else
			return i; /* continuation byte, C0/C1 overlong lead, or > U+10FFFF */
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
		else if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
		if (i + n > len)
			return i;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return i;
		for (k = 2; k < n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return i;
		i += n;
	}
	return len;
}

/*
 * Converts GB18030 to UTF-8.  Returns 0 with *out (malloc'd, NUL
 * terminated) and *outlen; 1 when the input is not GB18030, with *bad the
 * offset of the first byte that is not; EM_ERR with errno when iconv is
 * unusable.
 */
static int em_csv_from_gb18030(const char *in, size_t len, char **out, size_t *outlen,
			       size_t *bad)
{
	iconv_t cd;
	char *buf = NULL;
	size_t cap;
	char *inp = (char *)in; /* iconv's prototype wants char **, it reads only */
	size_t inleft = len;
	char *outp;
	size_t outleft;
	int res = EM_ERR;

	cd = iconv_open("UTF-8", "GB18030");
	if (cd == (iconv_t)-1)
		return EM_ERR;
	/* two bytes become at most three, one and four bytes at most as many */
	cap = len + len / 2 + 16;
	buf = em_csv_xrealloc(NULL, cap, 1);
	outp = buf;
	outleft = cap - 1;
	while (inleft > 0) {
		if (iconv(cd, &inp, &inleft, &outp, &outleft) != (size_t)-1)
			continue;
		if (errno == E2BIG) {
			size_t used = (size_t)(outp - buf);

			cap *= 2;
			buf = em_csv_xrealloc(buf, cap, 1);
			outp = buf + used;
			outleft = cap - 1 - used;
			continue;
		}
		if (errno == EILSEQ || errno == EINVAL) {
			*bad = (size_t)(inp - in);
			res = 1;
			goto done;
		}
		goto done;
	}
	*outp = '\0';
	*outlen = (size_t)(outp - buf);
	*out = buf;
	buf = NULL;
	res = 0;
done:
	free(buf);
	iconv_close(cd);
	return res;
}

static int em_csv_no_space(unsigned char c)
{
	(void)c;
	return 0;
}

static void em_csv_on_field(void *s, size_t len, void *data)
{
	struct em_csv_state *st = data;
	struct em_csv *csv = st->csv;
	struct em_csv_row *row;

	if (!st->row_open) {
		if (csv->nrows == st->rows_alloc) {
			st->rows_alloc = st->rows_alloc ? st->rows_alloc * 2 : 256;
			csv->rows = em_csv_xrealloc(csv->rows, st->rows_alloc, sizeof(*csv->rows));
		}
		row = &csv->rows[csv->nrows++];
		row->line = st->start_line;
		row->nfields = 0;
		row->fields = NULL;
		st->fields_alloc = 0;
		st->row_open = 1;
	}
	row = &csv->rows[csv->nrows - 1];
	if (row->nfields == st->fields_alloc) {
		st->fields_alloc = st->fields_alloc ? st->fields_alloc * 2 : 8;
		row->fields = em_csv_xrealloc(row->fields, st->fields_alloc, sizeof(*row->fields));
	}
	row->fields[row->nfields++] = em_csv_field_copy(csv, s, len);
}

static int em_csv_row_is_blank(const struct em_csv_row *row)
{
	size_t i;

	for (i = 0; i < row->nfields; i++)
		if (row->fields[i][strspn(row->fields[i], " \t")] != '\0')
			return 0;
	return 1;
}

/* Hands the rows not yet handed, up to upto, to on_row, in order. */
static void em_csv_pass(struct em_csv_state *st, size_t upto)
{
	while (st->passed < upto) {
		st->on_row(st->csv, st->passed, st->arg);
		st->passed++;
	}
}

static void em_csv_on_row(int c, void *data)
{
	struct em_csv_state *st = data;
	struct em_csv *csv = st->csv;

	(void)c;
	/* A blank row is held back until a row with text follows it: the
	 * blank rows at the end of the file are dropped, never handed on. */
	if (st->row_open && st->on_row && !em_csv_row_is_blank(&csv->rows[csv->nrows - 1]))
		em_csv_pass(st, csv->nrows);
	st->row_open = 0;
	st->need_start = 1;
}

/* The row's field list; the text stays in the table's blocks. */
static void em_csv_row_free(struct em_csv_row *row)
{
	free(row->fields);
	row->fields = NULL;
	row->nfields = 0;
}

/* Splits UTF-8 text (no NUL, no BOM) into csv->rows, handing each to on_row. */
static int em_csv_parse_text(struct em_csv *csv, const char *text, size_t len,
			     em_csv_row_fn *on_row, void *arg, struct em_error *err)
{
	struct csv_parser p;
	struct em_csv_state st = { csv, 0, 0, 0, 1, 1, on_row, arg, 0 };
	struct em_strbuf name = EM_STRBUF_INIT;
	size_t pos = 0;
	size_t line = 1;
	int res = EM_ERR;

	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0)
		abort();
	csv_set_space_func(&p, em_csv_no_space);
	em_csv_name(&name, csv);
	while (pos < len) {
		size_t end = pos;
		size_t n;

		while (end < len && text[end] != '\n' && text[end] != '\r')
			end++;
		if (st.need_start && end > pos) {
			st.start_line = line;
			st.need_start = 0;
		}
		if (end < len)
			end++; /* the terminator goes with its line */
		n = csv_parse(&p, text + pos, end - pos, em_csv_on_field, em_csv_on_row, &st);
		if (n < end - pos) {
			if (csv_error(&p) != CSV_EPARSE)
				abort(); /* CSV_ENOMEM or CSV_ETOOBIG: out of memory */
			em_error_set(err, "malformed quoting in file '%s' at line %zu", name.buf,
				     line);
			if (text[pos + n] == '"')
				em_error_detail(err, "a quote character inside a field that does "
						     "not start with a quote");
			else
				em_error_detail(err, "text after the closing quote of a field");
			em_error_hint(err, "put the whole field in quotes and double every "
					   "quote inside it: \"5\"\" pipe\"");
			goto out;
		}
		if (text[end - 1] == '\n' || (text[end - 1] == '\r' && (end >= len || text[end] != '\n')))
			line++;
		pos = end;
	}
	if (csv_fini(&p, em_csv_on_field, em_csv_on_row, &st) != 0) {
		em_error_set(err, "unterminated quoted field in file '%s' at line %zu", name.buf,
			     st.start_line);
		em_error_detail(err, "the row starting at line %zu opens a quote that is never "
				     "closed before the end of the file", st.start_line);
		em_error_hint(err, "close the quote; a quote inside a quoted field is written "
				   "twice (\"\")");
		goto out;
	}
	while (csv->nrows > 0 && em_csv_row_is_blank(&csv->rows[csv->nrows - 1]))
		em_csv_row_free(&csv->rows[--csv->nrows]);
	if (on_row)
		em_csv_pass(&st, csv->nrows);
	res = 0;
out:
	csv_free(&p);
	em_strbuf_release(&name);
	return res;
}

static int em_csv_encoding_parse(const char *s, enum em_csv_encoding *enc)
{
	if (s == NULL || strcasecmp(s, "auto") == 0)
		*enc = EM_CSV_AUTO;
	else if (strcasecmp(s, "utf-8") == 0 || strcasecmp(s, "utf8") == 0)
		*enc = EM_CSV_UTF8;
	else if (strcasecmp(s, "gb18030") == 0)
		*enc = EM_CSV_GB18030;
	else
		return EM_ERR;
	return 0;
}

int em_csv_read_mem_each(struct em_csv *csv, const char *name, const char *data, size_t len,
			 const char *encoding, em_csv_row_fn *on_row, void *arg, struct em_error *err)
{
	static const char bom[] = "\xef\xbb\xbf";
	struct em_strbuf fname = EM_STRBUF_INIT;
	enum em_csv_encoding enc;
	const char *text = data;
	size_t textlen = len;
	char *conv = NULL;
	size_t convlen = 0;
	const char *nul;
	int res = EM_ERR;

	if (name == NULL)
		name = "-";
	csv->path = em_csv_xstrndup(name, strlen(name));
	csv->encoding = "utf-8";
	csv->had_bom = 0;
	csv->nrows = 0;
	csv->rows = NULL;
	em_csv_name(&fname, csv);

	if (em_csv_encoding_parse(encoding, &enc) != 0) {
		struct em_strbuf e = EM_STRBUF_INIT;

		em_strbuf_add_sanitized(&e, encoding, 40);
		em_error_set(err, "unknown encoding '%s' for file '%s'", e.buf, fname.buf);
		em_error_hint(err, "the encoding is auto, utf-8 or gb18030");
		em_strbuf_release(&e);
		goto out;
	}
	if (len > EM_CSV_MAX_BYTES) {
		em_error_set(err, "file '%s' is too large", fname.buf);
		em_error_detail(err, "it has %zu bytes; the limit is %zu (256 MiB)", len,
				EM_CSV_MAX_BYTES);
		em_error_hint(err, "split the file");
		goto out;
	}
	if (len >= 2 && (((unsigned char)data[0] == 0xff && (unsigned char)data[1] == 0xfe) ||
			 ((unsigned char)data[0] == 0xfe && (unsigned char)data[1] == 0xff))) {
		em_error_set(err, "file '%s' is UTF-16, not UTF-8 or GB18030", fname.buf);
		em_error_hint(err, "save the file from the spreadsheet as 'CSV UTF-8'");
		goto out;
	}
	nul = memchr(data, '\0', len);
	if (nul != NULL) {
		size_t off = (size_t)(nul - data);

		em_error_set(err, "file '%s' contains a NUL byte at line %zu", fname.buf,
			     em_csv_line_at(data, len, off));
		em_error_detail(err, "at byte offset %zu; a CSV file holds text only", off);
		em_error_hint(err, "save the file from the spreadsheet as 'CSV UTF-8'");
		goto out;
	}
	if (len >= 3 && memcmp(data, bom, 3) == 0) {
		if (enc == EM_CSV_GB18030) {
			em_error_set(err, "file '%s' starts with a UTF-8 byte-order mark but was "
					  "to be read as GB18030", fname.buf);
			em_error_hint(err, "read it as utf-8 or auto");
			goto out;
		}
		enc = EM_CSV_UTF8;
		csv->had_bom = 1;
		text = data + 3;
		textlen = len - 3;
	}

	if (enc == EM_CSV_UTF8 || enc == EM_CSV_AUTO) {
		size_t bad = em_csv_utf8_check((const unsigned char *)text, textlen);
		size_t off = bad + (size_t)(text - data);

		if (bad == textlen) {
			csv->encoding = "utf-8";
		} else if (enc == EM_CSV_UTF8) {
			em_error_set(err, "file '%s' is not valid UTF-8", fname.buf);
			em_error_detail(err, "byte 0x%02x at offset %zu (line %zu) is not UTF-8",
					(unsigned char)data[off], off,
					em_csv_line_at(data, len, off));
			em_error_hint(err, "save the file from the spreadsheet as 'CSV UTF-8'");
			goto out;
		} else {
			size_t gbad = 0;
			int rc = em_csv_from_gb18030(text, textlen, &conv, &convlen, &gbad);

			if (rc == EM_ERR) {
				em_error_set(err, "could not convert file '%s' from GB18030",
					     fname.buf);
				em_error_detail(err, "iconv: %s", strerror(errno));
				goto out;
			}
			if (rc == 1) {
				em_error_set(err, "file '%s' is neither UTF-8 nor GB18030",
					     fname.buf);
				em_error_detail(err, "byte 0x%02x at offset %zu (line %zu) is not "
						     "UTF-8, and byte 0x%02x at offset %zu (line "
						     "%zu) is not GB18030",
						(unsigned char)data[off], off,
						em_csv_line_at(data, len, off),
						(unsigned char)text[gbad], gbad,
						em_csv_line_at(data, len, gbad));
				em_error_hint(err, "save the file from the spreadsheet as "
						   "'CSV UTF-8'");
				goto out;
			}
			csv->encoding = "gb18030";
		}
	} else {
		size_t gbad = 0;
		int rc = em_csv_from_gb18030(text, textlen, &conv, &convlen, &gbad);

		if (rc == EM_ERR) {
			em_error_set(err, "could not convert file '%s' from GB18030", fname.buf);
			em_error_detail(err, "iconv: %s", strerror(errno));
			goto out;
		}
		if (rc == 1) {
			em_error_set(err, "file '%s' is not valid GB18030", fname.buf);
			em_error_detail(err, "byte 0x%02x at offset %zu (line %zu) is not GB18030",
					(unsigned char)text[gbad], gbad,
					em_csv_line_at(data, len, gbad));
			em_error_hint(err, "read it as utf-8 or auto");
			goto out;
		}
		csv->encoding = "gb18030";
	}
	if (conv != NULL) {
		text = conv;
		textlen = convlen;
		/* GB18030's own byte-order mark (84 31 95 33) decodes to U+FEFF */
		if (textlen >= 3 && memcmp(text, bom, 3) == 0) {
			text += 3;
			textlen -= 3;
		}
	}
	if (em_csv_parse_text(csv, text, textlen, on_row, arg, err) != 0)
		goto out;
	res = 0;
out:
	if (res != 0)
		em_csv_release(csv);
	free(conv);
	em_strbuf_release(&fname);
	return res;
}

int em_csv_read_mem(struct em_csv *csv, const char *name, const char *data, size_t len,
		    const char *encoding, struct em_error *err)
{
	return em_csv_read_mem_each(csv, name, data, len, encoding, NULL, NULL, err);
}

int em_csv_read_file_each(struct em_csv *csv, const char *path, const char *encoding,
			  em_csv_row_fn *on_row, void *arg, struct em_error *err)
{
	struct em_strbuf data = EM_STRBUF_INIT;
	struct em_strbuf fname = EM_STRBUF_INIT;
	struct stat st;
	int fd = -1;
	int res = EM_ERR;

	em_strbuf_add_sanitized(&fname, path, EM_CSV_NAME_MAX);
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			em_error_set(err, "could not open file '%s'", fname.buf);
			em_error_detail(err, "%s", strerror(errno));
			goto out;
		}
	}
	if (fstat(fd, &st) != 0) {
		em_error_set(err, "could not read file '%s'", fname.buf);
		em_error_detail(err, "%s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		em_error_set(err, "could not read file '%s'", fname.buf);
		em_error_detail(err, "it is a directory");
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > EM_CSV_MAX_BYTES) {
		em_error_set(err, "file '%s' is too large", fname.buf);
		em_error_detail(err, "it has %jd bytes; the limit is %zu (256 MiB)",
				(intmax_t)st.st_size, EM_CSV_MAX_BYTES);
		em_error_hint(err, "split the file");
		goto out;
	}
	if (S_ISREG(st.st_mode))
		em_strbuf_grow(&data, (size_t)st.st_size);
	switch (em_strbuf_read_fd(&data, fd, EM_CSV_MAX_BYTES)) {
	case -1:
		em_error_set(err, "could not read file '%s'", fname.buf);
		em_error_detail(err, "%s", strerror(errno));
		goto out;
	case -2:
		em_error_set(err, "file '%s' is too large", fname.buf);
		em_error_detail(err, "it has more than %zu bytes (256 MiB)", EM_CSV_MAX_BYTES);
		em_error_hint(err, "split the file");
		goto out;
	}
	res = em_csv_read_mem_each(csv, path, data.buf, data.len, encoding, on_row, arg, err);
out:
	if (fd > STDIN_FILENO)
		close(fd);
	em_strbuf_release(&data);
	em_strbuf_release(&fname);
	return res;
}

int em_csv_read_file(struct em_csv *csv, const char *path, const char *encoding,
		     struct em_error *err)
{
	return em_csv_read_file_each(csv, path, encoding, NULL, NULL, err);
}

void em_csv_release(struct em_csv *csv)
{
	size_t i;

	for (i = 0; i < csv->nrows; i++)
		em_csv_row_free(&csv->rows[i]);
	free(csv->rows);
	while (csv->text) {
		struct em_csv_block *next = csv->text->next;

		free(csv->text);
		csv->text = next;
	}
	free(csv->path);
	csv->path = NULL;
	csv->encoding = NULL;
	csv->had_bom = 0;
	csv->nrows = 0;
	csv->rows = NULL;
}
