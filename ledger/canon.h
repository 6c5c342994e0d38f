/*
 * The canonical text of a posted voucher and the hash chain over it (D8).
 *
 *   h(0) = 32 zero bytes
 *   h(n) = SHA-256(h(n-1) || canonical text of the voucher with seq n)
 *
 * The text is specified byte for byte in docs/hash-chain.md.  The database
 * computes it in SQL when posting (earmark.canonical_text); this is the
 * independent implementation that `earmark ledger verify-chain` and the
 * audit package use, so a bug in one shows up as a mismatch with the other.
 */
#ifndef EM_CANON_H
#define EM_CANON_H

#include <stddef.h>
#include <stdint.h>

struct em_strbuf;

struct em_canon_voucher {
	const char *book;        /* book code */
	int64_t seq;             /* chain position, from 1 */
	const char *number;      /* 记-2026-03-0001 */
	const char *vtype;       /* 记 收 付 转 */
	const char *date;        /* YYYY-MM-DD */
	const char *reverses;    /* number of the reversed voucher, or "" */
	const char *memo;
	const char *prepared_by;
	const char *reviewed_by;
	const char *posted_by;
	int64_t posted_at_us;    /* microseconds since 1970-01-01T00:00:00Z */
};

struct em_canon_line {
	int line_no;
	const char *account;      /* account code */
	const char *side;         /* "D" or "C" */
	int64_t amount_fen;       /* negative only in a reversal */
	const char *fund;         /* codes; "" when the line has none */
	const char *project;
	const char *village;
	const char *household;
	const char *bank_account; /* dedicated account number */
	const char *category;
	const char *memo;
};

#define EM_HASH_LEN 32

/* Appends the header block of the canonical text. */
void em_canon_header(struct em_strbuf *sb, const struct em_canon_voucher *v);
/* Appends one line record; lines are appended in line_no order. */
void em_canon_line(struct em_strbuf *sb, const struct em_canon_line *l);
/* Appends s escaped: '\' as "\\", bytes 0x01-0x1f and 0x7f as "\xhh". */
void em_canon_escape(struct em_strbuf *sb, const char *s);
/* out = SHA-256(prev || text).  Returns 0, or -1 if OpenSSL fails. */
int em_canon_step(const unsigned char prev[EM_HASH_LEN], const char *text, size_t len,
		  unsigned char out[EM_HASH_LEN]);
/* SHA-256 of data as lowercase hex into buf (65 bytes).  Returns 0 or -1. */
int em_sha256_hex(const void *data, size_t len, char buf[2 * EM_HASH_LEN + 1]);
/* Lowercase hex of a hash into buf (65 bytes). */
void em_canon_hex(const unsigned char h[EM_HASH_LEN], char buf[2 * EM_HASH_LEN + 1]);

#endif
