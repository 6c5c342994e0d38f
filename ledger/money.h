/*
 * Money: int64 fen, parsed from and printed to text, never through double.
 *
 * Accepted input: optional '-', digits with optional ',' thousands
 * separators (groups of three, all or none), optional '.' followed by one
 * or two digits.  Examples: "1234.56", "1,234.56", "-0.5", "7".  Refused:
 * empty, spaces inside, three decimals, exponents, '+', a bare '.', and
 * anything beyond INT64 fen.
 */
#ifndef EM_MONEY_H
#define EM_MONEY_H

#include <stdint.h>
#include <stddef.h>

struct em_error;

/* Parses s into *fen.  On failure fills err naming the text and the rule. */
int em_money_parse(const char *s, int64_t *fen, struct em_error *err);
/* Writes "-1234.56" (plain) into buf; returns buf.  buf needs 24 bytes. */
char *em_money_format(int64_t fen, char *buf, size_t size);
/* Writes "-1,234.56" (grouped) into buf; returns buf.  buf needs 32 bytes. */
char *em_money_format_grouped(int64_t fen, char *buf, size_t size);

#define EM_MONEY_BUFSZ 32

#endif
