/*
 * ISO dates (see date.h).  Only the shape and the calendar are checked
 * here; whether a date is allowed (future, closed period, before the book)
 * is the database's rule D7.
 */
#include "ledger/date.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ledger/error.h"

static int digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static int days_in_month(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

int em_date_check(const char *s, const char *what, struct em_error *err)
{
	int y, m, d;

	if (!s || strlen(s) != 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) ||
	    s[7] != '-' || !digits(s + 8, 2))
		goto bad;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		goto bad;
	return 0;
bad:
	em_error_set(err, "%s: invalid date '%.20s'", what, s ? s : "");
	em_error_hint(err, "write dates as YYYY-MM-DD, for example 2026-03-15");
	return EM_ERR;
}

int em_month_check(const char *s, const char *what, char first[11], struct em_error *err)
{
	char day[16];

	if (!s || strlen(s) != 7) {
		em_error_set(err, "%s: invalid month '%.20s'", what, s ? s : "");
		em_error_hint(err, "write months as YYYY-MM, for example 2026-03");
		return EM_ERR;
	}
	snprintf(day, sizeof(day), "%s-01", s);
	if (em_date_check(day, what, err) < 0) {
		em_error_set(err, "%s: invalid month '%.20s'", what, s);
		em_error_hint(err, "write months as YYYY-MM, for example 2026-03");
		return EM_ERR;
	}
	memcpy(first, day, 11);
	return 0;
}

void em_date_today(char buf[11])
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(buf, 11, "%Y-%m-%d", &tm);
}
