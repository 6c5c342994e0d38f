/*
 * Canonical voucher text and the chain step (see canon.h and
 * docs/hash-chain.md).  Every field is one "key TAB value LF" record; each
 * line of the voucher one "line TAB ..." record with eleven tab-separated
 * fields.  Values are escaped so that no value can contain TAB or LF,
 * which makes the text unambiguous without quoting.
 */
#include "ledger/canon.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include <openssl/evp.h>

#include "ledger/strbuf.h"

void em_canon_escape(struct em_strbuf *sb, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;

	/* runs of bytes that need no escape are copied whole */
	for (; *p; p++) {
		if (*p != '\\' && *p >= 0x20 && *p != 0x7f)
			continue;
		em_strbuf_add(sb, run, (size_t)(p - run));
		if (*p == '\\')
			em_strbuf_adds(sb, "\\\\");
		else
			em_strbuf_addf(sb, "\\x%02x", *p);
		run = p + 1;
	}
	em_strbuf_add(sb, run, (size_t)(p - run));
}

/* A decimal integer, as printf's PRId64 would write it. */
static void add_int(struct em_strbuf *sb, int64_t n)
{
	char buf[24];
	char *p = buf + sizeof(buf);
	uint64_t u = n < 0 ? (uint64_t)0 - (uint64_t)n : (uint64_t)n;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (n < 0)
		*--p = '-';
	em_strbuf_add(sb, p, (size_t)(buf + sizeof(buf) - p));
}

static void field(struct em_strbuf *sb, const char *key, const char *value)
{
	em_strbuf_adds(sb, key);
	em_strbuf_addc(sb, '\t');
	em_canon_escape(sb, value ? value : "");
	em_strbuf_addc(sb, '\n');
}

void em_canon_header(struct em_strbuf *sb, const struct em_canon_voucher *v)
{
	time_t secs = (time_t)(v->posted_at_us / 1000000);
	long micros = (long)(v->posted_at_us % 1000000);
	struct tm tm;
	char when[96];

	if (micros < 0) { /* before 1970: floor, not truncate */
		micros += 1000000;
		secs -= 1;
	}
	gmtime_r(&secs, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);

	em_strbuf_adds(sb, "earmark-voucher-v1\n");
	field(sb, "book", v->book);
	em_strbuf_addf(sb, "seq\t%" PRId64 "\n", v->seq);
	field(sb, "number", v->number);
	field(sb, "type", v->vtype);
	field(sb, "date", v->date);
	field(sb, "reverses", v->reverses);
	field(sb, "memo", v->memo);
	field(sb, "prepared_by", v->prepared_by);
	field(sb, "reviewed_by", v->reviewed_by);
	field(sb, "posted_by", v->posted_by);
	field(sb, "posted_at", when);
}

void em_canon_line(struct em_strbuf *sb, const struct em_canon_line *l)
{
	const char *dims[] = { l->fund, l->project, l->village, l->household,
			       l->bank_account, l->category, l->memo };

	em_strbuf_add(sb, "line\t", 5);
	add_int(sb, l->line_no);
	em_strbuf_addc(sb, '\t');
	em_canon_escape(sb, l->account);
	em_strbuf_addc(sb, '\t');
	em_canon_escape(sb, l->side);
	em_strbuf_addc(sb, '\t');
	add_int(sb, l->amount_fen);
	for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		em_strbuf_addc(sb, '\t');
		em_canon_escape(sb, dims[i] ? dims[i] : "");
	}
	em_strbuf_addc(sb, '\n');
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
