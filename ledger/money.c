/*
 * Money as text: the strict parser every amount in earmark comes through
 * (command line, CSV imports, bank statements) and the two printers.
 *
 * Invariant: em_money_parse accepts exactly the grammar in money.h,
 *   amount = ['-'] whole ['.' digit [digit]]
 *   whole  = digit+ | digit{1,3} (',' digit{3})+
 * and yields the exact value in fen or an error naming the rule broken; it
 * never rounds, never guesses and never goes through floating point.  The
 * text is validated completely before any arithmetic, and every multiply
 * and add is checked against the limit beforehand, so there is no signed
 * overflow anywhere (INT64_MIN included).  Printing then parsing gives back
 * the same value.
 */
#include "ledger/money.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ledger/error.h"
#include "ledger/strbuf.h"

/* How much of a refused amount goes into a message. */
#define EM_MONEY_ECHO_MAX 40

static int em_money_refuse(struct em_error *err, const char *s, const char *detail)
{
	struct em_strbuf echo = EM_STRBUF_INIT;

	em_strbuf_add_sanitized(&echo, s, EM_MONEY_ECHO_MAX);
	em_error_set(err, "invalid amount '%s'", echo.buf);
	em_error_detail(err, "%s", detail);
	em_error_hint(err, "write amounts as 1234.56 or 1,234.56");
	em_strbuf_release(&echo);
	return EM_ERR;
}

static int em_money_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* The first character no amount may contain, described; NULL when none. */
static const char *em_money_bad_char(const char *s, char *what, size_t size)
{
	const char *p;

	for (p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (em_money_isdigit(*p) || c == ',' || c == '.' || c == '-')
			continue;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
			return "an amount has no spaces";
		if (c >= 0x80)
			return "an amount is written with the ASCII digits 0-9 only";
		if (c == '+')
			return "an amount has no '+' sign; a positive amount has no sign at all";
		if (c == 'e' || c == 'E')
			return "an amount has no exponent";
		if (c < 0x20 || c == 0x7f)
			return "an amount has no control characters";
		/* A printable ASCII character: name it. */
		snprintf(what, size, "unexpected character '%c' at position %zu", c,
			 (size_t)(p - s) + 1);
		return what;
	}
	return NULL;
}

int em_money_parse(const char *s, int64_t *fen, struct em_error *err)
{
	/* limits of the magnitude in fen for each sign */
	const uint64_t max_pos = (uint64_t)INT64_MAX;
	const uint64_t max_neg = (uint64_t)INT64_MAX + 1;
	char what[64];
	const char *bad;
	const char *p;
	const char *whole;
	const char *whole_end;
	const char *frac = NULL;
	size_t nfrac = 0;
	int neg = 0;
	uint64_t limit;
	uint64_t mag = 0;
	size_t i;
	int res = EM_ERR;

	if (s == NULL || s[0] == '\0') {
		res = em_money_refuse(err, "", "the amount is empty");
		goto out;
	}
	bad = em_money_bad_char(s, what, sizeof(what));
	if (bad != NULL) {
		res = em_money_refuse(err, s, bad);
		goto out;
	}
	p = s;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (strchr(p, '-') != NULL) {
		res = em_money_refuse(err, s, "a '-' sign may only lead the amount");
		goto out;
	}

	/* the whole part: plain digits, or groups of three after the first */
	whole = p;
	while (em_money_isdigit(*p) || *p == ',')
		p++;
	whole_end = p;
	if (whole == whole_end) {
		res = em_money_refuse(err, s,
				      *p == '.' ? "a decimal point needs a digit before it"
						: "the amount has no digits");
		goto out;
	}
	if (memchr(whole, ',', (size_t)(whole_end - whole)) != NULL) {
		const char *q = whole;
		size_t run = 0;
		int first = 1;

		for (q = whole; q <= whole_end; q++) {
			if (q < whole_end && em_money_isdigit(*q)) {
				run++;
				continue;
			}
			/* end of a group: at ',' or at the end of the whole part */
			if (first ? (run < 1 || run > 3) : run != 3) {
				res = em_money_refuse(err, s,
						      "thousands separators must split the whole "
						      "part into groups of three digits");
				goto out;
			}
			first = 0;
			run = 0;
		}
	}

	/* the fraction: one or two digits after a single '.' */
	if (*p == '.') {
		p++;
		frac = p;
		while (em_money_isdigit(*p))
			p++;
		nfrac = (size_t)(p - frac);
		if (*p == '.') {
			res = em_money_refuse(err, s, "an amount has at most one decimal point");
			goto out;
		}
		if (*p == ',') {
			res = em_money_refuse(err, s,
					      "a thousands separator may not follow the decimal point");
			goto out;
		}
		if (nfrac == 0) {
			res = em_money_refuse(err, s, "a decimal point needs a digit after it");
			goto out;
		}
		if (nfrac > 2) {
			res = em_money_refuse(err, s, "an amount has at most two decimals (fen)");
			goto out;
		}
	}
	if (*p != '\0') {
		/* unreachable: every other character was refused above */
		res = em_money_refuse(err, s, "unexpected text after the amount");
		goto out;
	}

	/* the value: the syntax is right, so only the size can still be wrong */
	limit = neg ? max_neg : max_pos;
	for (i = 0; i < 2 + (size_t)(whole_end - whole); i++) {
		unsigned d;

		if (i < (size_t)(whole_end - whole)) {
			if (whole[i] == ',')
				continue;
			d = (unsigned)(whole[i] - '0');
		} else {
			size_t k = i - (size_t)(whole_end - whole);

			d = k < nfrac ? (unsigned)(frac[k] - '0') : 0;
		}
		if (mag > (limit - d) / 10) {
			struct em_strbuf echo = EM_STRBUF_INIT;

			em_strbuf_add_sanitized(&echo, s, EM_MONEY_ECHO_MAX);
			em_error_set(err, "amount '%s' is too large", echo.buf);
			em_error_detail(err, "amounts lie between -92233720368547758.08 and "
					     "92233720368547758.07");
			em_strbuf_release(&echo);
			goto out;
		}
		mag = mag * 10 + d;
	}
	if (!neg)
		*fen = (int64_t)mag;
	else if (mag == max_neg)
		*fen = INT64_MIN;
	else
		*fen = -(int64_t)mag;
	res = 0;
out:
	return res;
}

static char *em_money_print(int64_t fen, char *buf, size_t size, int grouped)
{
	char tmp[EM_MONEY_BUFSZ];
	char *p = tmp + sizeof(tmp);
	/* unsigned negation is defined for every value, INT64_MIN included */
	uint64_t mag = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;
	int digits = 0;
	size_t n;

	if (size == 0)
		return buf;
	*--p = '\0';
	*--p = (char)('0' + mag % 10);
	mag /= 10;
	*--p = (char)('0' + mag % 10);
	mag /= 10;
	*--p = '.';
	do {
		if (grouped && digits > 0 && digits % 3 == 0)
			*--p = ',';
		*--p = (char)('0' + mag % 10);
		mag /= 10;
		digits++;
	} while (mag > 0);
	if (fen < 0)
		*--p = '-';
	n = (size_t)(tmp + sizeof(tmp) - 1 - p);
	if (n > size - 1)
		n = size - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

char *em_money_format(int64_t fen, char *buf, size_t size)
{
	return em_money_print(fen, buf, size, 0);
}

char *em_money_format_grouped(int64_t fen, char *buf, size_t size)
{
	return em_money_print(fen, buf, size, 1);
}
