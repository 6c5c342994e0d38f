/*
 * Bank statements of a dedicated account, as read from a file: ISO 20022
 * camt.053.001.02 (posting/camt053.c) or a bank's CSV export with a column
 * mapping from config/ (posting/statement.c).  Either reader fills the same
 * struct em_stmt list; em_statement_import passes it to
 * earmark.statement_import (sql/migrations/0012_bank.sql), one statement
 * at a time, all in one transaction.
 */
#ifndef EM_STATEMENT_H
#define EM_STATEMENT_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

struct em_error;
struct em_strbuf;

struct em_stmt_line {
	char booking_date[11];  /* YYYY-MM-DD */
	char value_date[11];    /* "" when absent */
	int64_t amount_fen;     /* + money in (CRDT), - money out (DBIT) */
	char *end_to_end_id;    /* NULL when absent or NOTPROVIDED */
	char *reference;        /* remittance / 摘要, never NULL */
	char *counterparty;     /* never NULL */
	char *bank_ref;         /* AcctSvcrRef / 流水号, never NULL */
	int returned;           /* RtrInf present: a payment that came back */
	char *return_reason;    /* RtrInf/Rsn/Cd or NULL */
	char *currency;         /* the entry's currency */
	size_t src_line;        /* line in the file, for messages */
};

struct em_stmt {
	char *ref;              /* Stmt/Id, or the CSV's account, dates and digest */
	char *account;          /* IBAN or Othr/Id of the file */
	char *currency;         /* Acct/Ccy, else the opening balance's */
	int mixed_currency;     /* some amount is in another currency */
	char from[11], to[11];  /* the period it covers */
	int64_t opening_fen, closing_fen;
	int has_opening, has_closing;
	size_t nlines;
	struct em_stmt_line *lines;
};

struct em_stmt_file {
	const char *format;     /* "camt053" or "csv" */
	char *source;           /* file name as given */
	size_t n;
	struct em_stmt *stmts;
};

#define EM_STMT_FILE_INIT { NULL, NULL, 0, NULL }

/*
 * Reads a camt.053.001.02 file: no network, no entity substitution, any
 * DOCTYPE refused before parsing; validated against the schema at xsd.
 * Refuses malformed XML and schema errors with the line.
 */
int em_camt053_read(struct em_stmt_file *f, const char *path, const char *xsd, struct em_error *err);
/*
 * The same on a file's bytes in memory (name for messages), for callers
 * that have them already and for tests/fuzz: against loaded, a schema the
 * caller parsed and still owns, or when loaded is NULL the one at xsd.
 */
struct _xmlSchema;
int em_camt053_parse(struct em_stmt_file *f, const char *name, const char *data, size_t len,
		     const char *xsd, struct _xmlSchema *loaded, struct em_error *err);
/* Reads a bank's CSV statement with the column mapping in the INI file mapping. */
int em_stmt_csv_read(struct em_stmt_file *f, const char *path, const char *mapping,
		     const char *encoding, struct em_error *err);
void em_stmt_file_release(struct em_stmt_file *f);

/*
 * The checks an import makes before the database is asked (its rules are
 * repeated there): the file's account is account_no, every amount is CNY,
 * opening + entries = closing.  EM_ERR with the rule, the statement and
 * the fix.
 */
int em_stmt_check(const struct em_stmt_file *f, const char *account_no, struct em_error *err);

/* One line per statement: id, account, currency, balances, entries, whether it rolls. */
void em_stmt_describe(const struct em_stmt_file *f, struct em_strbuf *out);

/* Imports every statement of f into account_no in one transaction; counts what was new. */
int em_statement_import(PGconn *conn, const char *book, const char *account_no,
			const struct em_stmt_file *f, size_t *new_stmts, size_t *new_lines,
			struct em_error *err);

/*
 * One call of the bank functions of 0012 by the command's name ("statement
 * match", "statement link", "statement unmatch", "pay reissue"); result gets the first row's values, separated by tabs.
 */
int em_bank_action(PGconn *conn, const char *name, const char *const *params, struct em_strbuf *result,
		   struct em_error *err);

#endif
