/*
 * strbuf: a growable byte string whose buf is never NULL (git's strbuf).
 *
 * Invariant: buf[len] == '\0' and buf points either at a shared empty
 * string (alloc == 0) or at heap memory of alloc bytes.  Out of memory
 * aborts: earmark has no sensible way to go on without memory, and every
 * caller checking would hide real errors behind noise.
 */
#ifndef EM_STRBUF_H
#define EM_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct em_strbuf {
	size_t alloc; /* bytes allocated, 0 when buf is the shared empty string */
	size_t len;   /* bytes used, not counting the terminating NUL */
	char *buf;    /* never NULL; NUL terminated */
};

#define EM_STRBUF_INIT { 0, 0, em_strbuf_empty }
extern char em_strbuf_empty[];

void em_strbuf_init(struct em_strbuf *sb);
void em_strbuf_release(struct em_strbuf *sb);
void em_strbuf_reset(struct em_strbuf *sb);
void em_strbuf_grow(struct em_strbuf *sb, size_t extra);
void em_strbuf_add(struct em_strbuf *sb, const void *data, size_t len);
void em_strbuf_adds(struct em_strbuf *sb, const char *s);
void em_strbuf_addc(struct em_strbuf *sb, char c);
void em_strbuf_addf(struct em_strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void em_strbuf_vaddf(struct em_strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));
/*
 * Appends untrusted text for a message: control characters and bytes that
 * are not well-formed UTF-8 become '?', and text longer than max bytes is
 * cut at a character boundary and ends in "...".
 */
void em_strbuf_add_sanitized(struct em_strbuf *sb, const char *s, size_t max);
/*
 * Appends what fd gives until end of file, retrying on EINTR.  Returns 0;
 * -1 with errno set when read fails; -2 once more than max bytes in all
 * are in sb (what was read stays there).
 */
int em_strbuf_read_fd(struct em_strbuf *sb, int fd, size_t max);
/* Hands the buffer to the caller (free() it); sb is left empty. */
char *em_strbuf_detach(struct em_strbuf *sb, size_t *len);

#endif
