/*
 * `earmark ledger verify-chain`: the book's hash chain (D8) recomputed in
 * C, independently of the SQL that built it, from the stored rows.
 *
 * One query returns every posted voucher's header and lines in chain
 * order; it is read in single-row mode so memory stays constant however
 * large the book.  For each voucher the canonical text is rebuilt
 * (ledger/canon.c), hashed onto the previous link, and compared with the
 * stored chain_hash; the sequence must run 1, 2, 3 ... without gaps and the
 * book's chain_head must equal the last link.  The first difference is
 * reported with the voucher's number and both hashes.
 */
#include <stdlib.h>
#include <string.h>

#include "ledger/canon.h"
#include "ledger/db.h"
#include "ledger/error.h"
#include "ledger/strbuf.h"
#include "reports/reports.h"

static const char chain_sql[] =
	"SELECT v.chain_seq, b.code, v.number_text, v.vtype, v.voucher_date::text, "
	"       COALESCE(o.number_text, ''), v.memo, v.prepared_by, v.reviewed_by, v.posted_by, "
	"       (extract(epoch FROM v.posted_at) * 1000000)::bigint, encode(v.chain_hash, 'hex'), "
	"       l.line_no, l.account, l.side, l.amount_fen, l.fund, COALESCE(l.project, ''), "
	"       COALESCE(l.village, ''), COALESCE(l.household, ''), COALESCE(l.bank_account, ''), "
	"       COALESCE(l.category, ''), l.memo "
	"  FROM earmark.voucher v "
	"  JOIN earmark.book b ON b.book_id = v.book_id "
	"  JOIN earmark.line_coded l ON l.book_id = v.book_id AND l.voucher_id = v.voucher_id "
	"  LEFT JOIN earmark.voucher o ON o.book_id = v.book_id AND o.voucher_id = v.reverses_id "
	" WHERE v.book_id = earmark.book_of($1) AND v.status = 'posted' "
	" ORDER BY v.chain_seq, l.line_no";

struct link {
	int64_t seq;                 /* chain_seq of the voucher being built, 0 none */
	char number[64];             /* its number, for messages */
	char stored[2 * EM_HASH_LEN + 1];
	struct em_strbuf text;       /* its canonical text so far */
};

/* Closes the voucher in l: hashes it onto prev and compares. */
static int close_link(struct link *l, int64_t expect_seq, unsigned char prev[EM_HASH_LEN],
		      struct em_error *err)
{
	unsigned char next[EM_HASH_LEN];
	char hex[2 * EM_HASH_LEN + 1];

	if (l->seq != expect_seq) {
		em_error_set(err, "hash chain broken at voucher %s (D8)", l->number);
		em_error_detail(err, "chain position %lld where %lld was expected",
				(long long)l->seq, (long long)expect_seq);
		return EM_ERR;
	}
	if (em_canon_step(prev, l->text.buf, l->text.len, next) < 0)
		return em_error_set(err, "could not compute SHA-256");
	em_canon_hex(next, hex);
	if (strcmp(hex, l->stored) != 0) {
		em_error_set(err, "hash chain broken at voucher %s (D8)", l->number);
		em_error_detail(err, "chain position %lld: stored %s, recomputed %s",
				(long long)l->seq, l->stored, hex);
		em_error_hint(err, "the voucher or one before it was changed after posting; "
				   "compare with the last audit package");
		return EM_ERR;
	}
	memcpy(prev, next, EM_HASH_LEN);
	em_strbuf_reset(&l->text);
	return 0;
}

int em_chain_verify(PGconn *conn, const char *book, struct em_chain_result *result,
		    struct em_error *err)
{
	const char *params[] = { book };
	unsigned char prev[EM_HASH_LEN] = { 0 };
	struct link l = { 0, "", "", EM_STRBUF_INIT };
	PGresult *res = NULL;
	int ret = EM_ERR;
	int failed = 0;
	int own_tx = 0;

	result->vouchers = 0;
	/*
	 * The vouchers and the head in one snapshot: read in two statements
	 * while others post, the head would run ahead of the vouchers read
	 * (found by tests/e2e/14_stress.sh).  A caller's transaction is its own.
	 */
	if (PQtransactionStatus(conn) == PQTRANS_IDLE) {
		if (em_db_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err) < 0)
			return EM_ERR;
		own_tx = 1;
	}
	if (!PQsendQueryParams(conn, chain_sql, 1, NULL, params, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(conn)) {
		em_error_from_conn(err, conn, "could not read the chain");
		goto out;
	}
	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_FATAL_ERROR) {
			if (!failed)
				em_error_from_result(err, res);
			failed = 1;
		} else if (st == PGRES_SINGLE_TUPLE && !failed) {
			int64_t seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);

			if (seq != l.seq) {
				if (l.seq && close_link(&l, result->vouchers, prev, err) < 0)
					failed = 1;
				if (!failed) {
					struct em_canon_voucher v = {
						.book = PQgetvalue(res, 0, 1),
						.seq = seq,
						.number = PQgetvalue(res, 0, 2),
						.vtype = PQgetvalue(res, 0, 3),
						.date = PQgetvalue(res, 0, 4),
						.reverses = PQgetvalue(res, 0, 5),
						.memo = PQgetvalue(res, 0, 6),
						.prepared_by = PQgetvalue(res, 0, 7),
						.reviewed_by = PQgetvalue(res, 0, 8),
						.posted_by = PQgetvalue(res, 0, 9),
						.posted_at_us = strtoll(PQgetvalue(res, 0, 10), NULL, 10),
					};
					l.seq = seq;
					snprintf(l.number, sizeof(l.number), "%s", v.number);
					snprintf(l.stored, sizeof(l.stored), "%s", PQgetvalue(res, 0, 11));
					em_canon_header(&l.text, &v);
					result->vouchers++;
				}
			}
			if (!failed) {
				struct em_canon_line line = {
					.line_no = atoi(PQgetvalue(res, 0, 12)),
					.account = PQgetvalue(res, 0, 13),
					.side = PQgetvalue(res, 0, 14),
					.amount_fen = strtoll(PQgetvalue(res, 0, 15), NULL, 10),
					.fund = PQgetvalue(res, 0, 16),
					.project = PQgetvalue(res, 0, 17),
					.village = PQgetvalue(res, 0, 18),
					.household = PQgetvalue(res, 0, 19),
					.bank_account = PQgetvalue(res, 0, 20),
					.category = PQgetvalue(res, 0, 21),
					.memo = PQgetvalue(res, 0, 22),
				};
				em_canon_line(&l.text, &line);
			}
		}
		PQclear(res);
	}
	res = NULL;
	if (failed)
		goto out;
	if (l.seq && close_link(&l, result->vouchers, prev, err) < 0)
		goto out;
	em_canon_hex(prev, result->head);

	res = em_db_exec(conn,
			 "SELECT seq, encode(hash, 'hex') FROM earmark.chain_head "
			 "WHERE book_id = earmark.book_of($1)",
			 1, params, PGRES_TUPLES_OK, 2, err);
	if (!res)
		goto out;
	if (PQntuples(res) != 1 || strtoll(PQgetvalue(res, 0, 0), NULL, 10) != result->vouchers ||
	    strcmp(PQgetvalue(res, 0, 1), result->head) != 0) {
		em_error_set(err, "hash chain head of book '%s' does not match its vouchers (D8)", book);
		em_error_detail(err, "head says %s vouchers, %s; the vouchers give %lld, %s",
				PQntuples(res) ? PQgetvalue(res, 0, 0) : "no",
				PQntuples(res) ? PQgetvalue(res, 0, 1) : "no head",
				(long long)result->vouchers, result->head);
		goto out;
	}
	ret = 0;
out:
	PQclear(res);
	if (own_tx) {
		res = PQexec(conn, ret == 0 ? "COMMIT" : "ROLLBACK");
		PQclear(res);
	}
	em_strbuf_release(&l.text);
	return ret;
}
