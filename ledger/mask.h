/*
 * Masking of personal data (rule H4 of DESIGN section 4): how ID numbers,
 * names, bank cards and phone numbers look everywhere outside the finance
 * office: reports, public notices (公示), exports, logs, messages.
 *
 *   ID      110105********002X  first 6, last 4 (15 digits: first 6, last 4)
 *   name    张*, 张*三, 欧**明   first character, last one from three on
 *   card    ****1234            the last 4 digits, whatever the length
 *   phone   138****1234         a mobile number; any other: only the last 4
 *
 * Text that does not look like what it should be is starred whole, one '*'
 * per character, so that a mistyped column never leaks.  Characters are
 * counted in UTF-8; a byte that starts no well-formed UTF-8 character counts
 * as one character and is never copied (it is starred even where a
 * character would be kept), so the result is always valid UTF-8.
 *
 * The SQL twins earmark.mask_id, mask_name, mask_card and mask_phone
 * (migration 0005) give the same results for valid UTF-8.
 *
 * Each function appends to sb (which the caller owns and releases); a NULL
 * text appends nothing.
 */
#ifndef EM_MASK_H
#define EM_MASK_H

struct em_strbuf;

/* 15 digits, or 17 digits and 0-9, X or x: first 6 and last 4 kept; anything else all '*'. */
void em_mask_id(struct em_strbuf *sb, const char *id);
/* 1 character: "*"; 2: the first and "*"; more: the first, one '*' per middle one, the last. */
void em_mask_name(struct em_strbuf *sb, const char *name);
/* At least 8 characters ending in 4 digits: "****" and those digits; anything else all '*'. */
void em_mask_card(struct em_strbuf *sb, const char *card);
/* '1' and 10 digits: first 3, "****", last 4; else all but the last 4 starred (all, up to 4). */
void em_mask_phone(struct em_strbuf *sb, const char *phone);

#endif
