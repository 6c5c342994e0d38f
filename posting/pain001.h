/*
 * pain.001: the ISO 20022 customer credit transfer file (pain.001.001.03)
 * that hands a household payment batch to the bank (DESIGN.md 5, flow 4).
 *
 * The rows come from earmark.payment_export(book, batch), which also marks
 * the payments sent; the file is written and fsynced under PATH.tmp inside
 * that transaction, and renamed to PATH only once the transaction has
 * committed.  So a file at PATH is always complete and always describes
 * payments the ledger records as sent.  Re-exporting a batch writes the
 * file again over PATH.
 */
#ifndef EM_PAIN001_H
#define EM_PAIN001_H

#include <libpq-fe.h>

struct em_error;

/*
 * Writes the batch's payments as pain.001.001.03 to path (via path.tmp,
 * fsync, rename), marking them sent in the same transaction; conn must not
 * be inside a transaction.  On success *count gets the number of payments
 * and *total_fen their sum; both are left alone on failure.  Returns 0, or
 * EM_ERR with err filled, the transaction rolled back and no PATH.tmp left.
 */
int em_pain001_export(PGconn *conn, const char *book, const char *batch, const char *path,
		      long *count, long long *total_fen, struct em_error *err);

#endif
