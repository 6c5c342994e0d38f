/*
 * Masking (H4, see mask.h).  Every rule comes down to one walk: keep the
 * first head and the last tail characters, star the rest.  The walk counts
 * characters first (the tail is only known from the end) and then copies,
 * so a text is read twice and nothing is allocated beyond what the result
 * needs in sb.
 *
 * The decoder is strict UTF-8 (no overlong forms, no surrogates, nothing
 * above U+10FFFF): what it refuses must never reach a report or an XML
 * export, and cutting a multi-byte character in half would leak its first
 * bytes.  The SQL twins in migration 0005 never see invalid UTF-8, since
 * PostgreSQL refuses it on input.
 */
#include "ledger/mask.h"

#include <string.h>

#include "ledger/strbuf.h"

static int em_mask_between(unsigned char c, unsigned char lo, unsigned char hi)
{
	return c >= lo && c <= hi;
}

/* Bytes in the well-formed UTF-8 character at s, or 0 when s[0] starts none. */
static size_t em_mask_char_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (em_mask_between(c, 0xc2, 0xdf))
		return em_mask_between(s[1], 0x80, 0xbf) ? 2 : 0;
	if (em_mask_between(c, 0xe0, 0xef)) {
		/* E0 would be overlong below A0; ED above 9F is a surrogate */
		if (!em_mask_between(s[1], c == 0xe0 ? 0xa0 : 0x80, c == 0xed ? 0x9f : 0xbf))
			return 0;
		return em_mask_between(s[2], 0x80, 0xbf) ? 3 : 0;
	}
	if (em_mask_between(c, 0xf0, 0xf4)) {
		/* F0 would be overlong below 90; F4 above 8F is past U+10FFFF */
		if (!em_mask_between(s[1], c == 0xf0 ? 0x90 : 0x80, c == 0xf4 ? 0x8f : 0xbf))
			return 0;
		if (!em_mask_between(s[2], 0x80, 0xbf))
			return 0;
		return em_mask_between(s[3], 0x80, 0xbf) ? 4 : 0;
	}
	return 0;
}

/* Characters in s, a bad byte counting as one. */
static size_t em_mask_count(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	while (*p) {
		size_t len = em_mask_char_len(p);

		p += len ? len : 1;
		n++;
	}
	return n;
}

/*
 * Appends s with its first head and last tail characters kept (unless they
 * are bad bytes) and every other character as '*'.  When head + tail cover
 * the whole text, callers decide: here it would simply be copied.
 */
static void em_mask_keep(struct em_strbuf *sb, const char *s, size_t head, size_t tail)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = em_mask_count(s);

	for (size_t i = 0; *p; i++) {
		size_t len = em_mask_char_len(p);

		if (len > 0 && (i < head || i + tail >= n))
			em_strbuf_add(sb, p, len);
		else
			em_strbuf_addc(sb, '*');
		p += len ? len : 1;
	}
}

static int em_mask_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

void em_mask_id(struct em_strbuf *sb, const char *id)
{
	size_t len;

	if (id == NULL)
		return;
	len = strlen(id);
	/* only what is shaped like an ID keeps anything: a name typed into the column must not show */
	if ((len == 15 && em_mask_digits(id, 15)) ||
	    (len == 18 && em_mask_digits(id, 17) &&
	     (em_mask_digits(id + 17, 1) || id[17] == 'X' || id[17] == 'x')))
		em_mask_keep(sb, id, 6, 4);
	else
		em_mask_keep(sb, id, 0, 0);
}

void em_mask_name(struct em_strbuf *sb, const char *name)
{
	size_t n;

	if (name == NULL)
		return;
	n = em_mask_count(name);
	if (n <= 1)
		em_mask_keep(sb, name, 0, 0);
	else if (n == 2)
		em_mask_keep(sb, name, 1, 0);
	else
		em_mask_keep(sb, name, 1, 1);
}

void em_mask_card(struct em_strbuf *sb, const char *card)
{
	size_t len;

	if (card == NULL)
		return;
	len = strlen(card);
	/*
	 * Four ASCII digits at the end are four characters, so the byte test
	 * is the character test.  The fixed "****" hides the card's length too.
	 */
	if (em_mask_count(card) >= 8 && em_mask_digits(card + len - 4, 4)) {
		em_strbuf_adds(sb, "****");
		em_strbuf_add(sb, card + len - 4, 4);
	} else {
		em_mask_keep(sb, card, 0, 0);
	}
}

void em_mask_phone(struct em_strbuf *sb, const char *phone)
{
	if (phone == NULL)
		return;
	if (strlen(phone) == 11 && phone[0] == '1' && em_mask_digits(phone, 11))
		em_mask_keep(sb, phone, 3, 4);
	else if (em_mask_count(phone) <= 4)
		em_mask_keep(sb, phone, 0, 0); /* keeping 4 of 4 would show it all */
	else
		em_mask_keep(sb, phone, 0, 4);
}
