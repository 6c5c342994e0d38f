/*
 * The year end (年末结转): earmark.year_end_carry_forward
 * (sql/migrations/0015_year_end.sql) drafts the voucher that closes a
 * year's revenue and expense into 3301 and 3301 into 3001, per fund; a
 * reviewer and a bookkeeper post it like any voucher (D6), then December
 * closes (em_period_close, posting/voucher.c).
 */
#ifndef EM_PERIOD_H
#define EM_PERIOD_H

#include <libpq-fe.h>

struct em_error;

struct em_carry_forward {
	long long voucher_id; /* the draft, 0 when nothing was left to carry */
	long lines;           /* its lines */
	int already;          /* drafted before and still right: answered again */
};

/*
 * Drafts (or finds) the carry-forward of year (YYYY) in book; fills out.
 * Refused by the database while the year has open items (EMC01), in a
 * closed or future December (D7), or for anyone but the administrator.
 */
int em_period_carry_forward(PGconn *conn, const char *book, const char *year,
			    struct em_carry_forward *out, struct em_error *err);

#endif
