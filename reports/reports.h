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

#include "reports/table.h"  /* enum em_format */

struct em_error;

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

/* ---- ledgers and reports, the exceptions log (issue 4; reports/ledgers.c) ---- */

/* "table" / "csv" / "json" / "html" to enum; EM_ERR_USAGE on anything else. */
int em_report_format_parse(const char *s, enum em_format *fmt, struct em_error *err);

/* What a report is asked for; NULL means "all" or "the default". */
struct em_report_opts {
	const char *as_of;        /* YYYY-MM-DD: the report's date, the end of a range */
	const char *from;         /* start of a range (ledgers, journal, exceptions) */
	const char *account;      /* account code or its prefix */
	const char *fund;         /* fund code */
	const char *project;      /* project code */
	const char *village;      /* 12-digit village code */
	const char *household;    /* household code */
	const char *bank_account; /* dedicated account number */
};

/* Is name a report em_report_run knows ("general-ledger", "fund-statement", ...)? */
int em_report_known(const char *name);
/*
 * Runs the report name for the book as of o->as_of and writes it to out in
 * fmt.  A date before the book began, an unknown code or a missing
 * required option is refused through err.
 */
int em_report_run(PGconn *conn, const char *book, const char *name, const struct em_report_opts *o,
		  enum em_format fmt, FILE *out, struct em_error *err);

/*
 * The exceptions log: records a command the rules refused (refused: its
 * error, with the SQLSTATE) with earmark.refusal_log, in a transaction of
 * its own after rolling back whatever transaction failed.  The server
 * stamps the person and the time.  A role that may not record (the public
 * board's, which reads published notices and nothing else) records
 * nothing: returns 1, with no second error on top of the refusal.
 * Returns 0 when recorded, 1 when not the role's to record, or EM_ERR
 * with err filled.
 */
int em_refusal_log(PGconn *conn, const char *book, const struct em_error *refused,
		   const char *command, const char *record, struct em_error *err);

/* ---- bank statements and reconciliation (issue 4; reports/reconcile.c) ---- */

/*
 * 余额调节表 of dedicated account account_no as of a date: book and bank
 * balances, items in transit both ways, adjusted balances.  Prints, then
 * fails (EM_ERR) when the adjusted balances do not agree.
 */
int em_report_reconciliation(PGconn *conn, const char *book, const char *account_no, const char *as_of,
			     enum em_format fmt, FILE *out, struct em_error *err);
/* The statement lines of an account with their status and match; status NULL for all. */
int em_statement_list(PGconn *conn, const char *book, const char *account_no, const char *status,
		      enum em_format fmt, FILE *out, struct em_error *err);

#endif
