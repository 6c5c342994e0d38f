/*
 * Canonical voucher text and the chain step (see canon.h and
 * docs/hash-chain.md).  Every field is one "key TAB value LF" record; each
 * line of the voucher one "line TAB ..." record with eleven tab-separated
 * fields.  Values are escaped so that no value can contain TAB or LF,
 * which makes the text unambiguous without quoting.
 */
#include "ledger/canon.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "ledger/strbuf.h"

/*
 * The text is written straight into the buffer: each record reserves its
 * worst case once (an escaped byte takes at most 4), then put_* write at p
 * and end() sets the length.  A verification builds a record per line of a
 * million-line package, so this is on its hot path.
 */

/* s escaped at p (room for 4 bytes per byte of s); returns the end. */
static char *put_escaped(char *p, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
		if (*q == '\\') {
			*p++ = '\\';
			*p++ = '\\';
		} else if (*q < 0x20 || *q == 0x7f) {
			*p++ = '\\';
			*p++ = 'x';
			*p++ = hex[*q >> 4];
			*p++ = hex[*q & 15];
		} else {
			*p++ = (char)*q;
		}
	}
	return p;
}

static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* The room after sb's text, grown by at least extra bytes. */
static char *room(struct em_strbuf *sb, size_t extra)
{
	em_strbuf_grow(sb, extra);
	return sb->buf + sb->len;
}

/* sb's text now ends at p (within the room). */
static void end(struct em_strbuf *sb, char *p)
{
	sb->len = (size_t)(p - sb->buf);
	sb->buf[sb->len] = '\0';
}

/* Room for s escaped. */
static size_t escaped_max(const char *s)
{
	size_t n = strlen(s);

	if (n > (SIZE_MAX - 64) / 4)
		abort();
	return 4 * n;
}

void em_canon_escape(struct em_strbuf *sb, const char *s)
{
	end(sb, put_escaped(room(sb, escaped_max(s)), s));
}

/* v in decimal with at least width digits (zero padded), written at p; returns the end. */
static char *put_digits(char *p, uint64_t v, int width)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n < width)
		tmp[n++] = '0';
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* A decimal integer at p, as printf's PRId64 would write it (at most 20 bytes). */
static char *put_int(char *p, int64_t n)
{
	if (n < 0)
		*p++ = '-';
	return put_digits(p, n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n, 1);
}

/*
 * The proleptic Gregorian date of a day counted from 1970-01-01 (H. Hinnant's
 * days_from_civil inverted): what gmtime gives, without its locking and
 * normalizing, for any day an int64 of microseconds can reach.
 */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/*
 * us as YYYY-MM-DDTHH:MM:SS.ffffffZ in UTC into buf (at least 40 bytes),
 * byte for byte what snprintf("%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ") over
 * gmtime wrote before (a year below 0 as "-005").  Returns the length.
 */
static size_t format_time(int64_t us, char *buf)
{
	int64_t secs = us / 1000000, micros = us % 1000000, days, rem, year;
	unsigned month, day;
	char *p = buf;

	if (micros < 0) { /* before 1970: floor, not truncate */
		micros += 1000000;
		secs -= 1;
	}
	days = secs / 86400;
	rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days -= 1;
	}
	civil_from_days(days, &year, &month, &day);
	if (year < 0)
		*p++ = '-';
	p = put_digits(p, year < 0 ? (uint64_t)-year : (uint64_t)year, year < 0 ? 3 : 4);
	*p++ = '-';
	p = put_digits(p, month, 2);
	*p++ = '-';
	p = put_digits(p, day, 2);
	*p++ = 'T';
	p = put_digits(p, (uint64_t)(rem / 3600), 2);
	*p++ = ':';
	p = put_digits(p, (uint64_t)(rem / 60 % 60), 2);
	*p++ = ':';
	p = put_digits(p, (uint64_t)(rem % 60), 2);
	*p++ = '.';
	p = put_digits(p, (uint64_t)micros, 6);
	*p++ = 'Z';
	*p = '\0';
	return (size_t)(p - buf);
}

/* "key TAB value LF", the value escaped; a NULL value is "". */
static char *put_field(char *p, const char *key, const char *value)
{
	p = put(p, key, strlen(key));
	*p++ = '\t';
	p = put_escaped(p, value ? value : "");
	*p++ = '\n';
	return p;
}

void em_canon_header(struct em_strbuf *sb, const struct em_canon_voucher *v)
{
	static const char magic[] = "earmark-voucher-v1\n";
	const char *const values[] = { v->number, v->vtype, v->date, v->reverses, v->memo,
				       v->prepared_by, v->reviewed_by, v->posted_by };
	static const char *const keys[] = { "number", "type", "date", "reverses", "memo",
					    "prepared_by", "reviewed_by", "posted_by" };
	char when[40];
	size_t need = sizeof(magic) + 40 + escaped_max(v->book ? v->book : "") + 128;
	char *p;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		need += escaped_max(values[i] ? values[i] : "") + 16;
	format_time(v->posted_at_us, when);
	p = put(room(sb, need), magic, sizeof(magic) - 1);
	p = put_field(p, "book", v->book);
	p = put(p, "seq\t", 4);
	p = put_int(p, v->seq);
	*p++ = '\n';
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		p = put_field(p, keys[i], values[i]);
	p = put_field(p, "posted_at", when);
	end(sb, p);
}

void em_canon_line(struct em_strbuf *sb, const struct em_canon_line *l)
{
	const char *const text[] = { l->account, l->side };
	const char *const dims[] = { l->fund, l->project, l->village, l->household,
				     l->bank_account, l->category, l->memo };
	size_t need = 5 + 2 * 21 + 12;
	char *p;

	for (size_t i = 0; i < 2; i++)
		need += escaped_max(text[i] ? text[i] : "");
	for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++)
		need += escaped_max(dims[i] ? dims[i] : "") + 1;
	p = put(room(sb, need), "line\t", 5);
	p = put_int(p, l->line_no);
	for (size_t i = 0; i < 2; i++) {
		*p++ = '\t';
		p = put_escaped(p, text[i] ? text[i] : "");
	}
	*p++ = '\t';
	p = put_int(p, l->amount_fen);
	for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		*p++ = '\t';
		p = put_escaped(p, dims[i] ? dims[i] : "");
	}
	*p++ = '\n';
	end(sb, p);
}

int em_canon_step(const unsigned char prev[EM_HASH_LEN], const char *text, size_t len,
		  unsigned char out[EM_HASH_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int outlen = 0;
	int ret = -1;

	if (!md)
		return -1;
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(md, prev, EM_HASH_LEN) == 1 &&
	    EVP_DigestUpdate(md, text, len) == 1 &&
	    EVP_DigestFinal_ex(md, out, &outlen) == 1 && outlen == EM_HASH_LEN)
		ret = 0;
	EVP_MD_CTX_free(md);
	return ret;
}

void em_canon_hex(const unsigned char h[EM_HASH_LEN], char buf[2 * EM_HASH_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < EM_HASH_LEN; i++) {
		buf[2 * i] = digits[h[i] >> 4];
		buf[2 * i + 1] = digits[h[i] & 15];
	}
	buf[2 * EM_HASH_LEN] = '\0';
}

int em_sha256_hex(const void *data, size_t len, char buf[2 * EM_HASH_LEN + 1])
{
	unsigned char h[EM_HASH_LEN];
	unsigned int outlen = 0;

	if (EVP_Digest(data, len, h, &outlen, EVP_sha256(), NULL) != 1 || outlen != EM_HASH_LEN)
		return -1;
	em_canon_hex(h, buf);
	return 0;
}
