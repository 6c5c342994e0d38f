/*
 * strbuf: a growable byte string (git's strbuf), how earmark builds text
 * of unknown length: messages, CSV fields, file contents.
 *
 * Invariant: buf[len] == '\0' always; alloc == 0 exactly when buf is the
 * shared, never written em_strbuf_empty, otherwise buf is heap memory of
 * alloc bytes and len < alloc.  Size arithmetic is checked before it can
 * wrap, and running out of memory aborts (see strbuf.h for why).
 */
#include "ledger/strbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char em_strbuf_empty[1];

static void *em_strbuf_xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size);

	if (q == NULL)
		abort();
	return q;
}

void em_strbuf_init(struct em_strbuf *sb)
{
	sb->alloc = 0;
	sb->len = 0;
	sb->buf = em_strbuf_empty;
}

void em_strbuf_release(struct em_strbuf *sb)
{
	if (sb->alloc > 0)
		free(sb->buf);
	em_strbuf_init(sb);
}

void em_strbuf_reset(struct em_strbuf *sb)
{
	sb->len = 0;
	if (sb->alloc > 0)
		sb->buf[0] = '\0';
}

void em_strbuf_grow(struct em_strbuf *sb, size_t extra)
{
	size_t need;
	size_t alloc;

	if (extra > SIZE_MAX - 1 - sb->len)
		abort();
	need = sb->len + extra + 1;
	if (need <= sb->alloc)
		return;
	alloc = sb->alloc < 64 ? 64 : sb->alloc;
	while (alloc < need)
		alloc = alloc > SIZE_MAX / 2 ? need : alloc * 2;
	if (sb->alloc == 0) {
		sb->buf = em_strbuf_xrealloc(NULL, alloc);
		sb->buf[0] = '\0';
	} else {
		sb->buf = em_strbuf_xrealloc(sb->buf, alloc);
	}
	sb->alloc = alloc;
}

void em_strbuf_add(struct em_strbuf *sb, const void *data, size_t len)
{
	if (len == 0)
		return;
	em_strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void em_strbuf_adds(struct em_strbuf *sb, const char *s)
{
	em_strbuf_add(sb, s, strlen(s));
}

void em_strbuf_addc(struct em_strbuf *sb, char c)
{
	em_strbuf_grow(sb, 1);
	sb->buf[sb->len++] = c;
	sb->buf[sb->len] = '\0';
}

void em_strbuf_addf(struct em_strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	em_strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void em_strbuf_vaddf(struct em_strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	/* Try in the room there is; on a short write grow once and redo. */
	em_strbuf_grow(sb, 64);
	va_copy(cp, ap);
	n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		abort(); /* only an invalid format gets here */
	if ((size_t)n >= sb->alloc - sb->len) {
		em_strbuf_grow(sb, (size_t)n);
		va_copy(cp, ap);
		n = vsnprintf(sb->buf + sb->len, sb->alloc - sb->len, fmt, cp);
		va_end(cp);
		if (n < 0)
			abort();
	}
	sb->len += (size_t)n;
}

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0 when
 * the bytes there are not one.  Same rules as the CSV validator: no
 * overlongs, no surrogates, nothing above U+10FFFF.
 */
static size_t em_strbuf_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void em_strbuf_add_sanitized(struct em_strbuf *sb, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	size_t i = 0;

	while (i < n) {
		size_t k = em_strbuf_utf8_seq(p + i, n - i);

		if (k == 0)
			k = 1; /* a stray byte becomes one '?' */
		if (i + k > max) {
			em_strbuf_adds(sb, "...");
			break;
		}
		if ((k == 1 && (p[i] < 0x20 || p[i] >= 0x7f)) ||
		    (k == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)) /* C0, DEL, C1 */
			em_strbuf_addc(sb, '?');
		else
			em_strbuf_add(sb, p + i, k);
		i += k;
	}
}

char *em_strbuf_detach(struct em_strbuf *sb, size_t *len)
{
	char *res;

	if (sb->alloc == 0)
		em_strbuf_grow(sb, 0);
	res = sb->buf;
	if (len != NULL)
		*len = sb->len;
	em_strbuf_init(sb);
	return res;
}

int em_strbuf_read_fd(struct em_strbuf *sb, int fd, size_t max)
{
	for (;;) {
		ssize_t n;

		em_strbuf_grow(sb, 65536);
		n = read(fd, sb->buf + sb->len, sb->alloc - sb->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		sb->len += (size_t)n;
		sb->buf[sb->len] = '\0';
		if (sb->len > max)
			return -2;
	}
}
