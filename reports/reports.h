/*
 * Everything that reads: reports, voucher listings, the chain check.
 * Reports write their output to a FILE* (that is their product); errors go
 * to err like everywhere else.
 */
#ifndef EM_REPORTS_H
#define EM_REPORTS_H

#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

struct em_error;

enum em_format { EM_FORMAT_TABLE, EM_FORMAT_CSV };

/* "table" / "csv" to enum; EM_ERR_USAGE on anything else. */
int em_format_parse(const char *s, enum em_format *fmt, struct em_error *err);

/* 试算平衡表 as of a date, optionally for one fund. */
int em_report_trial_balance(PGconn *conn, const char *book, const char *as_of, const char *fund,
			    enum em_format fmt, FILE *out, struct em_error *err);

/* One voucher with its lines. */
int em_voucher_show(PGconn *conn, const char *book, const char *ref, enum em_format fmt,
		    FILE *out, struct em_error *err);
/* Vouchers of a book, optionally by status and month (YYYY-MM). */
int em_voucher_list(PGconn *conn, const char *book, const char *status, const char *month,
		    enum em_format fmt, FILE *out, struct em_error *err);

struct em_chain_result {
	int64_t vouchers;   /* posted vouchers checked */
	char head[65];      /* hex of the recomputed head */
};

/*
 * Recomputes the book's hash chain (D8) in C from the stored rows,
 * streaming, and compares every link and the stored head.  A break is an
 * error naming the voucher.
 */
int em_chain_verify(PGconn *conn, const char *book, struct em_chain_result *result,
		    struct em_error *err);

#endif
