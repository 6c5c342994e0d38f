/*
 * Everything that writes: migrations, users, books, master data,
 * vouchers and periods.  Each function takes an open connection, returns
 * 0 or a negative code with err filled, and leaves the database unchanged
 * on failure (one statement or one transaction per call).
 */
#ifndef EM_POSTING_H
#define EM_POSTING_H

#include <libpq-fe.h>

struct em_error;
struct em_strbuf;

/*
 * Bootstraps roles (sql/roles.sql) and applies the migrations in
 * sqldir/migrations that are not yet applied, each in its own transaction
 * as earmark_owner.  Refuses when an applied migration's file changed or
 * vanished.  Appends one line per applied file to log.
 */
int em_migrate(PGconn *admin, const char *sqldir, struct em_strbuf *log, struct em_error *err);

/*
 * Creates (or extends) login role name with the group roles in roles
 * ("clerk,reviewer"); with townships ("610826101,610826102"), scopes it to
 * them in book, in the same transaction (migration 0016).
 */
int em_user_add(PGconn *admin, const char *name, const char *roles, const char *book,
		const char *townships, struct em_error *err);
/* Sets a person's townships in book; "" makes them county office (unscoped). */
int em_user_scope(PGconn *admin, const char *book, const char *name, const char *townships,
		  struct em_error *err);
/* Rewrites a 42501 "permission denied for function/table X" as the job command needs. */
void em_user_explain_denied(PGconn *conn, const char *command, struct em_error *err);
/* Refuses (EMT01) a person scoped to townships in book a command that needs the whole book. */
int em_user_county_only(PGconn *conn, const char *book, const char *command, struct em_error *err);

/*
 * Creates a book with the chart of accounts read from accounts_csv and the
 * rule tables found in config_dir (use_categories.csv, negative_list.csv,
 * household_caps.csv, rules.csv), in one transaction.
 */
int em_book_create(PGconn *conn, const char *code, const char *name, const char *start,
		   const char *accounts_csv, const char *config_dir, struct em_error *err);

/* Imports one kind of master data from a CSV file, all or nothing; count may be NULL. */
int em_master_import(PGconn *conn, const char *book, const char *kind, const char *path,
		     const char *encoding, long *count, struct em_error *err);
/* One record of a master-data kind from key/value pairs (NULL values left out). */
int em_master_record(PGconn *conn, const char *book, const char *kind, const char *const *keys,
		     const char *const *values, size_t n, struct em_error *err);

struct em_draft_opts {
	const char *date;     /* YYYY-MM-DD, required */
	const char *memo;     /* 摘要, may be NULL */
	const char *vtype;    /* 记 (default) 收 付 转 */
	const char *key;      /* idempotency key (D9), may be NULL */
	const char *encoding; /* CSV encoding, NULL for auto */
};

/* Drafts a voucher from a CSV of lines; *id gets the draft's number. */
int em_voucher_draft(PGconn *conn, const char *book, const char *path,
		     const struct em_draft_opts *opts, long long *id, struct em_error *err);
/*
 * Reviews, posts, reverses or discards the voucher ref ('#12' or
 * '记-2026-03-0001').  result gets what the database answered: the draft
 * id for review and reverse, the voucher number for post.
 */
int em_voucher_review(PGconn *conn, const char *book, const char *ref, struct em_strbuf *result,
		      struct em_error *err);
int em_voucher_post(PGconn *conn, const char *book, const char *ref, struct em_strbuf *result,
		    struct em_error *err);
int em_voucher_reverse(PGconn *conn, const char *book, const char *ref, const char *date,
		       const char *key, struct em_strbuf *result, struct em_error *err);
int em_voucher_reject(PGconn *conn, const char *book, const char *ref, struct em_error *err);
int em_voucher_discard(PGconn *conn, const char *book, const char *ref, struct em_error *err);

/* Closes the month YYYY-MM (D7). */
int em_period_close(PGconn *conn, const char *book, const char *month, struct em_error *err);

/*
 * One call of an earmark.* function by the command's name ("list publish",
 * "pay post", ...; see posting/disburse.c for the parameters of each);
 * result, when not NULL, gets the answer's first value.
 */
int em_action(PGconn *conn, const char *name, const char *const *params, struct em_strbuf *result,
	      struct em_error *err);

/* A beneficiary list (受益名单) for a project from a CSV; *count gets its rows. */
int em_list_create(PGconn *conn, const char *book, const char *code, const char *project,
		   const char *title, const char *path, const char *encoding, size_t *count,
		   struct em_error *err);

struct em_claim {
	const char *project, *fund, *amount, *date; /* amount as text: "12,000.00" */
	const char *inspection, *plan, *contract;   /* document numbers (P4) */
	const char *receipts;                       /* "NO1,NO2" */
	const char *receipt_count;                  /* optional: must match receipts */
	const char *key;                            /* idempotency key (D9) or NULL */
};

/* 报账: checks P4's documents, then drafts the payable and payment vouchers. */
int em_project_claim(PGconn *conn, const char *book, const struct em_claim *c,
		     struct em_strbuf *result, struct em_error *err);

struct em_pay_opts {
	const char *code;     /* the batch's code, e.g. B2026-11-01 */
	const char *date;     /* payment date YYYY-MM-DD */
	const char *key;      /* idempotency key (D9) or NULL */
	const char *encoding; /* CSV encoding, NULL for auto */
};

/*
 * A household payment batch from a CSV, all or nothing: COPY into staging,
 * the rules checked set-based, then the batch and its two draft vouchers.
 * *count gets the number of payments.
 */
int em_pay_batch(PGconn *conn, const char *book, const char *path, const struct em_pay_opts *o,
		 size_t *count, struct em_error *err);

#endif
