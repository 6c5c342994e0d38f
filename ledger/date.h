/*
 * Dates as earmark takes them: ISO YYYY-MM-DD, a real calendar day
 * (Gregorian, years 1900-2199), and months as YYYY-MM.  Checked before the
 * database is asked so that a typo gets a message naming the argument.
 */
#ifndef EM_DATE_H
#define EM_DATE_H

struct em_error;

/* 0 when s is a real YYYY-MM-DD day, else EM_ERR naming what (e.g. "--date"). */
int em_date_check(const char *s, const char *what, struct em_error *err);
/* 0 when s is YYYY-MM; writes the month's first day "YYYY-MM-01" to first (11 bytes). */
int em_month_check(const char *s, const char *what, char first[11], struct em_error *err);
/* Today's local date as YYYY-MM-DD into buf (11 bytes). */
void em_date_today(char buf[11]);

#endif
