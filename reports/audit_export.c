/*
 * `earmark audit export`: the signed audit package of a book and period
 * (DESIGN section 6).
 *
 * Each XML file is streamed from single-row-mode queries through libxml2's
 * text writer (the general ledger entries, the bulk, from one COPY stream
 * and written by hand, escaped as the writer escapes: see "ledger.xml"
 * below)
 * into a file in a private temporary folder beside the output; the sink
 * hashes every byte written, so the SHA-256 each Reference carries is
 * computed in the same pass.  Memory stays constant whatever the size of
 * the book (the ids-to-codes of the dimensions aside).  The signature is
 * then built (XMLDSig, exclusive C14N, RSA >= 3072 or ECDSA P-256 with
 * SHA-256, XAdES-B SignedProperties), the ZIP is written with libzip under
 * a temporary name (mimetype first and stored), the package is recorded
 * in the database with the digest of its signature (earmark.audit_record:
 * it must name the previous package's, rule X1), and only then renamed to
 * its name and the transaction committed.  Any failure removes the
 * temporary files and leaves the database as it was.
 *
 * All reads run in one REPEATABLE READ transaction, so the ledger,
 * balances and control files describe the same snapshot; the entries'
 * COPY, sent ahead on a second connection (entries_ahead), imports that
 * transaction's snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ui.h>
#include <openssl/x509.h>
#include <zip.h>

#include "ledger/canon.h"
#include "ledger/db.h"
#include "ledger/error.h"
#include "ledger/money.h"
#include "ledger/strbuf.h"
#include "reports/audit.h"

const char *const em_audit_files[] = {
	"ledger.xml", "balances.xml", "control.xml",
	"schemas/ledger.xsd", "schemas/balances.xsd", "schemas/control.xsd",
};

/* ---- the ZIP, written while the files are ------------------------------ */

/*
 * A package's ZIP is written by libzip on a thread of its own while the
 * files are made: every entry but mimetype is a source that reads, in ZIP
 * order, from one queue of chunks that this thread fills.  ledger.xml, the
 * bulk, goes into the queue as it is written, so deflating it overlaps
 * with reading the books; the small files go in whole once written.  The
 * ZIP is written under a temporary name, as before, and is only renamed
 * into place once complete and recorded.
 */
#define ZCHUNK (256 * 1024)
#define ZQUEUE 16

struct zchunk {
	char *buf;               /* NULL: the end of the current entry */
	int len;
};

struct zipper {
	pthread_t th;
	int running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct zchunk q[ZQUEUE];
	int head, count;
	char *spare[ZQUEUE + 2]; /* chunks given back, for the writer to fill again */
	int nspare;
	int aborted;             /* the writer gave up: sources fail */
	int done;                /* the thread has finished */
	int ok;                  /* ... and the ZIP is complete */
	char why[256];           /* else what libzip said */
	const char *path;
	/* the reading side, on the thread */
	struct zchunk cur;
	int off, at_end;
};

static const char *const zip_entries[] = {
	"ledger.xml", "balances.xml", "control.xml", "schemas/ledger.xsd", "schemas/balances.xsd",
	"schemas/control.xsd", EM_AUDIT_SIGFILE, NULL,
};

/* The next chunk for the thread; 0 when given up. */
static int zipper_take(struct zipper *zp, struct zchunk *c)
{
	pthread_mutex_lock(&zp->mu);
	while (zp->count == 0 && !zp->aborted)
		pthread_cond_wait(&zp->cv, &zp->mu);
	if (zp->count == 0) {
		pthread_mutex_unlock(&zp->mu);
		return 0;
	}
	*c = zp->q[zp->head];
	zp->head = (zp->head + 1) % ZQUEUE;
	zp->count--;
	pthread_cond_broadcast(&zp->cv);
	pthread_mutex_unlock(&zp->mu);
	return 1;
}

/*
 * A read chunk, kept for the writer to fill again: a fresh 256 KiB chunk
 * is a fresh mapping, and touching it costs a page fault per page.
 */
static void zipper_give_back(struct zipper *zp, char *buf)
{
	pthread_mutex_lock(&zp->mu);
	if (zp->nspare < (int)(sizeof(zp->spare) / sizeof(zp->spare[0]))) {
		zp->spare[zp->nspare++] = buf;
		buf = NULL;
	}
	pthread_mutex_unlock(&zp->mu);
	free(buf);
}

/* An empty chunk for the writer: a given-back one, else a new one. */
static char *zipper_chunk(struct zipper *zp)
{
	char *buf = NULL;

	pthread_mutex_lock(&zp->mu);
	if (zp->nspare > 0)
		buf = zp->spare[--zp->nspare];
	pthread_mutex_unlock(&zp->mu);
	if (!buf && !(buf = malloc(ZCHUNK)))
		abort();
	return buf;
}

static zip_int64_t zipper_source(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
	struct zipper *zp = ud;

	switch (cmd) {
	case ZIP_SOURCE_OPEN:
		zp->at_end = 0;
		return 0;
	case ZIP_SOURCE_READ: {
		zip_uint64_t n = 0;

		while (!zp->at_end && n < len) {
			if (!zp->cur.buf) {
				if (!zipper_take(zp, &zp->cur))
					return -1;
				zp->off = 0;
				if (!zp->cur.buf) {
					zp->at_end = 1;
					break;
				}
			}
			{
				zip_uint64_t k = (zip_uint64_t)(zp->cur.len - zp->off);

				if (k > len - n)
					k = len - n;
				memcpy((char *)data + n, zp->cur.buf + zp->off, (size_t)k);
				n += k;
				zp->off += (int)k;
				if (zp->off == zp->cur.len) {
					zipper_give_back(zp, zp->cur.buf);
					zp->cur.buf = NULL;
				}
			}
		}
		return (zip_int64_t)n;
	}
	case ZIP_SOURCE_CLOSE:
		return 0;
	case ZIP_SOURCE_STAT: {
		zip_stat_t *st = data;

		zip_stat_init(st);
		st->mtime = time(NULL);
		st->valid |= ZIP_STAT_MTIME;
		return sizeof(*st);
	}
	case ZIP_SOURCE_ERROR:
		return 2 * sizeof(int);
	case ZIP_SOURCE_FREE:
		return 0;
	case ZIP_SOURCE_SUPPORTS:
		return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ,
						      ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
						      ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
	default:
		return -1;
	}
}

static void *zipper_main(void *arg)
{
	struct zipper *zp = arg;
	zip_t *z;
	zip_source_t *src;
	zip_int64_t idx;
	int zerr = 0;

	z = zip_open(zp->path, ZIP_CREATE | ZIP_EXCL, &zerr);
	if (!z) {
		zip_error_t ze;

		zip_error_init_with_code(&ze, zerr);
		snprintf(zp->why, sizeof(zp->why), "%s", zip_error_strerror(&ze));
		zip_error_fini(&ze);
		goto out;
	}
	src = zip_source_buffer(z, EM_AUDIT_MIMETYPE, strlen(EM_AUDIT_MIMETYPE), 0);
	if (!src || (idx = zip_file_add(z, "mimetype", src, 0)) < 0) {
		zip_source_free(src);
		goto zfail;
	}
	if (zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0) < 0)
		goto zfail;
	for (int i = 0; zip_entries[i]; i++) {
		src = zip_source_function(z, zipper_source, zp);
		if (!src || (idx = zip_file_add(z, zip_entries[i], src, ZIP_FL_ENC_UTF_8)) < 0) {
			zip_source_free(src);
			goto zfail;
		}
		/* deflate's fastest level: XML shrinks almost as well, at a third of the CPU */
		if (zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 1) < 0)
			goto zfail;
	}
	if (zip_close(z) < 0)
		goto zfail;
	zp->ok = 1;
	goto out;
zfail:
	snprintf(zp->why, sizeof(zp->why), "%s", zip_strerror(z));
	zip_discard(z);
out:
	pthread_mutex_lock(&zp->mu);
	zp->done = 1;
	pthread_cond_broadcast(&zp->cv);
	pthread_mutex_unlock(&zp->mu);
	return NULL;
}

static int zipper_start(struct zipper *zp, const char *path, struct em_error *err)
{
	memset(zp, 0, sizeof(*zp));
	zp->path = path;
	if (pthread_mutex_init(&zp->mu, NULL) != 0)
		return em_error_set(err, "could not start writing '%s'", path);
	if (pthread_cond_init(&zp->cv, NULL) != 0) {
		pthread_mutex_destroy(&zp->mu);
		return em_error_set(err, "could not start writing '%s'", path);
	}
	if (pthread_create(&zp->th, NULL, zipper_main, zp) != 0) {
		pthread_cond_destroy(&zp->cv);
		pthread_mutex_destroy(&zp->mu);
		return em_error_set(err, "could not start writing '%s'", path);
	}
	zp->running = 1;
	return 0;
}

/* Hands buf (malloc'd, now the zipper's; NULL ends the entry) to the thread. */
static int zipper_put(struct zipper *zp, char *buf, int len)
{
	pthread_mutex_lock(&zp->mu);
	while (zp->count == ZQUEUE && !zp->done)
		pthread_cond_wait(&zp->cv, &zp->mu);
	if (zp->done) {
		pthread_mutex_unlock(&zp->mu);
		free(buf);
		return -1;
	}
	zp->q[(zp->head + zp->count) % ZQUEUE] = (struct zchunk){ buf, len };
	zp->count++;
	pthread_cond_broadcast(&zp->cv);
	pthread_mutex_unlock(&zp->mu);
	return 0;
}

/* A whole small file, read back, as the next entry. */
static int zipper_put_file(struct zipper *zp, const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		return -1;
	for (;;) {
		buf = zipper_chunk(zp);
		n = fread(buf, 1, ZCHUNK, f);
		if (n == 0) {
			free(buf);
			break;
		}
		if (zipper_put(zp, buf, (int)n) < 0) {
			fclose(f);
			return -1;
		}
	}
	n = (size_t)ferror(f);
	fclose(f);
	return n ? -1 : zipper_put(zp, NULL, 0);
}

/*
 * Waits for the thread; abort makes its sources fail first.  Returns 0
 * when the ZIP is complete at zp->path.
 */
static int zipper_finish(struct zipper *zp, int abort_it, struct em_error *err)
{
	if (!zp->running)
		return EM_ERR;
	pthread_mutex_lock(&zp->mu);
	if (abort_it)
		zp->aborted = 1;
	pthread_cond_broadcast(&zp->cv);
	pthread_mutex_unlock(&zp->mu);
	pthread_join(zp->th, NULL);
	zp->running = 0;
	while (zp->count > 0) {
		free(zp->q[zp->head].buf);
		zp->head = (zp->head + 1) % ZQUEUE;
		zp->count--;
	}
	free(zp->cur.buf);
	zp->cur.buf = NULL;
	while (zp->nspare > 0)
		free(zp->spare[--zp->nspare]);
	pthread_cond_destroy(&zp->cv);
	pthread_mutex_destroy(&zp->mu);
	if (abort_it)
		return EM_ERR;
	if (!zp->ok)
		return em_error_set(err, "could not write '%s': %s", zp->path, zp->why);
	return 0;
}

/* ---- a writer that hashes what it writes ----------------------------- */

struct sink {
	FILE *f;             /* the temporary file, or */
	struct zipper *zp;   /* the ZIP being written */
	char *pending;       /* bytes for zp not yet handed over */
	int used;
	EVP_MD_CTX *md;      /* SHA-256 of every byte written */
	int failed;          /* a write failed */
};

static int sink_write(void *ctx, const char *buf, int len)
{
	struct sink *s = ctx;
	int total = len;

	if (len <= 0)
		return 0;
	if (s->failed || EVP_DigestUpdate(s->md, buf, (size_t)len) != 1)
		goto fail;
	if (s->f) {
		if (fwrite(buf, 1, (size_t)len, s->f) != (size_t)len)
			goto fail;
		return len;
	}
	while (len > 0) {
		int k;

		if (!s->pending)
			s->pending = zipper_chunk(s->zp);
		k = ZCHUNK - s->used < len ? ZCHUNK - s->used : len;
		memcpy(s->pending + s->used, buf, (size_t)k);
		s->used += k;
		buf += k;
		len -= k;
		if (s->used == ZCHUNK) {
			int r = zipper_put(s->zp, s->pending, s->used);

			s->pending = NULL;
			s->used = 0;
			if (r < 0)
				goto fail;
		}
	}
	return total;
fail:
	s->failed = 1;
	return -1;
}

struct xw {
	xmlTextWriterPtr w;  /* owns the output buffer */
	struct sink sink;
	int failed;          /* a writer call failed */
};

static void xs(struct xw *x, const char *name)
{
	if (!x->failed && xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
		x->failed = 1;
}

static void xe(struct xw *x)
{
	if (!x->failed && xmlTextWriterEndElement(x->w) < 0)
		x->failed = 1;
}

static void xel(struct xw *x, const char *name, const char *text)
{
	if (!x->failed && xmlTextWriterWriteElement(x->w, BAD_CAST name, BAD_CAST text) < 0)
		x->failed = 1;
}

/* An element only when text is not empty (optional dimensions). */
static void xopt(struct xw *x, const char *name, const char *text)
{
	if (text && *text)
		xel(x, name, text);
}

static void xmoney(struct xw *x, const char *name, int64_t fen)
{
	char buf[EM_MONEY_BUFSZ];

	xel(x, name, em_money_format(fen, buf, sizeof(buf)));
}

static void xint(struct xw *x, const char *name, int64_t n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, n);
	xel(x, name, buf);
}

/* Starts a file at path, or, when zp is not NULL, the next entry of that ZIP. */
static int xw_open(struct xw *x, const char *path, struct zipper *zp, const char *root,
		   struct em_error *err)
{
	xmlOutputBufferPtr out;

	memset(x, 0, sizeof(*x));
	x->sink.zp = zp;
	if (!zp)
		x->sink.f = fopen(path, "wbx");
	x->sink.md = EVP_MD_CTX_new();
	if ((!zp && !x->sink.f) || !x->sink.md ||
	    EVP_DigestInit_ex(x->sink.md, EVP_sha256(), NULL) != 1)
		return em_error_set(err, "could not create '%s': %s", path, strerror(errno));
	out = xmlOutputBufferCreateIO(sink_write, NULL, &x->sink, NULL);
	if (!out || !(x->w = xmlNewTextWriter(out))) {
		if (out)
			xmlOutputBufferClose(out);
		return em_error_set(err, "could not start writing '%s'", path);
	}
	if (xmlTextWriterSetIndent(x->w, 1) < 0 ||
	    xmlTextWriterSetIndentString(x->w, BAD_CAST "  ") < 0 ||
	    xmlTextWriterStartDocument(x->w, "1.0", "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElementNS(x->w, NULL, BAD_CAST root, BAD_CAST EM_AUDIT_NS) < 0)
		x->failed = 1;
	return 0;
}

/*
 * Ends the document and flushes; the digest goes to hex (65 bytes).  The
 * file is temporary: only the finished package is synced to disk.
 */
static int xw_close(struct xw *x, const char *path, char hex[65], struct em_error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int ret = 0;

	if (x->w) {
		if (!x->failed && (xmlTextWriterEndDocument(x->w) < 0 || xmlTextWriterFlush(x->w) < 0))
			x->failed = 1;
		xmlFreeTextWriter(x->w);
		x->w = NULL;
	}
	if (x->sink.f) {
		if (fflush(x->sink.f) != 0)
			x->failed = 1;
		if (fclose(x->sink.f) != 0)
			x->failed = 1;
		x->sink.f = NULL;
	}
	if (x->sink.zp) {
		/* the rest, and the end of the entry, only for a complete file */
		if (hex && !x->failed && !x->sink.failed &&
		    ((x->sink.used && zipper_put(x->sink.zp, x->sink.pending, x->sink.used) < 0) ||
		     zipper_put(x->sink.zp, NULL, 0) < 0))
			x->failed = 1;
		else if (!hex || x->failed || x->sink.failed)
			free(x->sink.pending);
		x->sink.pending = NULL;
		x->sink.used = 0;
		x->sink.zp = NULL;
	}
	if (x->sink.md) {
		if (hex && EVP_DigestFinal_ex(x->sink.md, md, &mdlen) == 1 && mdlen == EM_HASH_LEN)
			em_canon_hex(md, hex);
		else if (hex)
			x->failed = 1;
		EVP_MD_CTX_free(x->sink.md);
		x->sink.md = NULL;
	}
	if (hex && (x->failed || x->sink.failed))
		ret = em_error_set(err, "could not write '%s'", path);
	return ret;
}

/* ---- queries ------------------------------------------------------------ */

/*
 * Streams a query in single-row mode, calling row for each row; the first
 * error wins.  Returns 0 or EM_ERR.
 */
static int each_row(PGconn *conn, const char *sql, int nparams, const char *const *params,
		    int (*row)(PGresult *res, void *ctx), void *ctx, struct em_error *err)
{
	PGresult *res;
	int failed = 0;

	if (!PQsendQueryParams(conn, sql, nparams, NULL, params, NULL, NULL, 0) ||
	    !PQsetSingleRowMode(conn))
		return em_error_from_conn(err, conn, "could not read the books");
	while ((res = PQgetResult(conn)) != NULL) {
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) {
			if (!failed)
				em_error_from_result(err, res);
			failed = 1;
		} else if (st == PGRES_SINGLE_TUPLE && !failed && row(res, ctx) < 0) {
			em_error_set(err, "could not write the package");
			failed = 1;
		}
		PQclear(res);
	}
	return failed ? EM_ERR : 0;
}

static const char *val(PGresult *res, int col)
{
	return PQgetisnull(res, 0, col) ? "" : PQgetvalue(res, 0, col);
}

static int64_t ival(PGresult *res, int col)
{
	return strtoll(val(res, col), NULL, 10);
}

struct master {
	struct xw *x;
	const char *rec;        /* element of one record */
	const char *const *names; /* element per column; NULL ends */
	int64_t rows;
};

static int master_row(PGresult *res, void *ctx)
{
	struct master *m = ctx;

	xs(m->x, m->rec);
	for (int i = 0; m->names[i]; i++) {
		if (i == 0 || m->names[i][0] != '?')
			xel(m->x, m->names[i][0] == '?' ? m->names[i] + 1 : m->names[i], val(res, i));
		else
			xopt(m->x, m->names[i] + 1, val(res, i));
	}
	xe(m->x);
	m->rows++;
	return m->x->failed ? -1 : 0;
}

static int write_master(PGconn *conn, struct xw *x, const char *book, const char *group,
			const char *rec, const char *sql, const char *const *names,
			struct em_error *err)
{
	const char *params[] = { book };
	struct master m = { x, rec, names, 0 };

	xs(x, group);
	if (each_row(conn, sql, 1, params, master_row, &m, err) < 0)
		return EM_ERR;
	xe(x);
	return 0;
}

/* ---- ledger.xml --------------------------------------------------------- */

/*
 * The general ledger entries are the bulk of a package: a million lines
 * make some 300 MB of XML.  They come in one COPY stream (no per-row result
 * objects) in chain order: for each voucher a row with its header (and
 * no line: line_no NULL), then a row per line, dimensions as ids that the
 * codes loaded beforehand name.
 *
 * The server walks the chain (UNIQUE (book_id, chain_seq)) from the first
 * to the last chain position of the period's posted vouchers (found with
 * the count, from 0021's index), keeps those of the period, and for each
 * one appends its header row and its lines by their key (line_pkey): a
 * LATERAL subquery, so a nested loop that emits each voucher's rows
 * together, in the subquery's order.  Nothing is sorted: the ORDER BY
 * says chain position, which the walk gives; the order of a voucher's
 * rows is the executor's (an Append's branches in turn, the lines by
 * their ORDER BY), which SQL does not promise, so entry_row refuses a
 * stream in which a voucher's header does not come first or its line
 * numbers do not rise (and a package in another order would not verify:
 * the chain's text lists the lines by number).  Sorting each voucher's
 * rows again cost a quarter of the statement.  The planner, which cannot
 * see the settings' values (read once, as InitPlans), would guess a few
 * hundred vouchers and sort the period by date index instead: the
 * connection that runs this COPY (entries_ahead) has sorts, parallel plans
 * and JIT off for its one statement.  Their XML is written by hand into a
 * buffer, escaped as libxml2's text writer escapes text; the writer writes
 * everything around them (see write_entries for the layout).
 *
 * COPY takes no parameters: the book, period and chain positions are set
 * with set_config for the transaction and read back with current_setting,
 * never pasted.
 */
static const char entries_sql[] =
	"COPY (SELECT v.chain_seq, "
	"  CASE WHEN l.head THEN v.number_text END, CASE WHEN l.head THEN v.vtype END, "
	"  CASE WHEN l.head THEN v.voucher_date END, "
	"  CASE WHEN l.head THEN CASE WHEN v.reverses_id IS NULL THEN '' ELSE "
	"       (SELECT o.number_text FROM earmark.voucher o "
	"         WHERE o.book_id = v.book_id AND o.voucher_id = v.reverses_id) END END, "
	"  CASE WHEN l.head THEN v.memo END, CASE WHEN l.head THEN v.prepared_by END, "
	"  CASE WHEN l.head THEN v.reviewed_by END, CASE WHEN l.head THEN v.posted_by END, "
	"  CASE WHEN l.head THEN (extract(epoch FROM v.posted_at) * 1000000)::bigint END, "
	/* NULL: the voucher before in the stream is the link before; else looked up */
	"  CASE WHEN l.head AND v.pseq IS DISTINCT FROM v.chain_seq - 1 THEN "
	"       COALESCE((SELECT encode(pv.chain_hash, 'hex') FROM earmark.voucher pv "
	"                  WHERE pv.book_id = v.book_id AND pv.chain_seq = v.chain_seq - 1), "
	"                repeat('0', 64)) END, "
	"  CASE WHEN l.head THEN encode(v.chain_hash, 'hex') END, "
	"  l.line_no, l.account_id, l.side, l.amount_fen, l.fund_id, l.project_id, l.village_id, "
	"  l.household_id, l.bank_account_id, l.category_id, l.memo "
	"FROM (SELECT v.*, lag(v.chain_seq) OVER (ORDER BY v.chain_seq) AS pseq "
	"        FROM earmark.voucher v "
	"       WHERE v.book_id = (SELECT earmark.book_of(current_setting('earmark.audit_book'))) "
	"         AND v.chain_seq BETWEEN (SELECT current_setting('earmark.audit_first')::bigint) "
	"                             AND (SELECT current_setting('earmark.audit_last')::bigint) "
	"         AND v.status = 'posted' "
	"         AND v.voucher_date BETWEEN (SELECT current_setting('earmark.audit_from')::date) "
	"                                AND (SELECT current_setting('earmark.audit_to')::date)) v "
	"CROSS JOIN LATERAL ("
	"  SELECT true AS head, NULL::integer AS line_no, NULL::integer AS account_id, "
	"         NULL::text AS side, NULL::bigint AS amount_fen, NULL::integer AS fund_id, "
	"         NULL::integer AS project_id, NULL::integer AS village_id, "
	"         NULL::integer AS household_id, NULL::integer AS bank_account_id, "
	"         NULL::integer AS category_id, NULL::text AS memo "
	"  UNION ALL "
	"  (SELECT false, l.line_no, l.account_id, l.side, l.amount_fen, l.fund_id, l.project_id, "
	"          l.village_id, l.household_id, l.bank_account_id, l.category_id, l.memo "
	"     FROM earmark.line l "
	"    WHERE l.book_id = v.book_id AND l.voucher_id = v.voucher_id "
	"    ORDER BY l.line_no)) l "
	"ORDER BY v.chain_seq) TO STDOUT";

/* The codes of the dimensions a line names by id: kind letter, id, code. */
static const char codes_sql[] =
	"COPY (WITH s AS (SELECT earmark.book_of(current_setting('earmark.audit_book')) AS b) "
	"SELECT 'A', account_id, code FROM earmark.account, s WHERE book_id = s.b "
	"UNION ALL SELECT 'F', fund_id, code FROM earmark.fund, s WHERE book_id = s.b "
	"UNION ALL SELECT 'P', project_id, code FROM earmark.project, s WHERE book_id = s.b "
	"UNION ALL SELECT 'V', village_id, code FROM earmark.village, s WHERE book_id = s.b "
	"UNION ALL SELECT 'H', household_id, code FROM earmark.household, s WHERE book_id = s.b "
	"UNION ALL SELECT 'B', bank_account_id, account_no FROM earmark.dedicated_account, s "
	"           WHERE book_id = s.b "
	"UNION ALL SELECT 'C', category_id, code FROM earmark.use_category, s WHERE book_id = s.b"
	") TO STDOUT";

/* ids to codes, one table per kind of dimension; codes live in one arena */
struct idmap {
	int64_t *ids;           /* 0: empty slot (identities start at 1) */
	size_t *at;             /* offset of the code in arena */
	size_t cap, n;
	struct em_strbuf arena;
};

static void idmap_put(struct idmap *m, int64_t id, const char *code, size_t len)
{
	size_t i;

	if ((m->n + 1) * 2 > m->cap) {
		struct idmap old = *m;

		m->cap = old.cap ? old.cap * 2 : 256;
		m->ids = calloc(m->cap, sizeof(*m->ids));
		m->at = calloc(m->cap, sizeof(*m->at));
		if (!m->ids || !m->at)
			abort();
		for (size_t j = 0; j < old.cap; j++) {
			if (!old.ids[j])
				continue;
			for (i = (size_t)old.ids[j] * 0x9E3779B97F4A7C15ULL >> 20 & (m->cap - 1); m->ids[i];
			     i = (i + 1) & (m->cap - 1))
				;
			m->ids[i] = old.ids[j];
			m->at[i] = old.at[j];
		}
		free(old.ids);
		free(old.at);
	}
	for (i = (size_t)id * 0x9E3779B97F4A7C15ULL >> 20 & (m->cap - 1); m->ids[i] && m->ids[i] != id;
	     i = (i + 1) & (m->cap - 1))
		;
	if (!m->ids[i])
		m->n++;
	m->ids[i] = id;
	m->at[i] = m->arena.len;
	em_strbuf_add(&m->arena, code, len);
	em_strbuf_addc(&m->arena, '\0');
}

/* The code of id, "" for none (NULL in the row), NULL when unknown. */
static const char *idmap_get(const struct idmap *m, const char *idtext)
{
	int64_t id;
	size_t i;

	if (!idtext)
		return "";
	id = strtoll(idtext, NULL, 10);
	if (!m->cap || id <= 0)
		return NULL;
	for (i = (size_t)id * 0x9E3779B97F4A7C15ULL >> 20 & (m->cap - 1); m->ids[i];
	     i = (i + 1) & (m->cap - 1))
		if (m->ids[i] == id)
			return m->arena.buf + m->at[i];
	return NULL;
}

static void idmap_release(struct idmap *m)
{
	free(m->ids);
	free(m->at);
	em_strbuf_release(&m->arena);
	memset(m, 0, sizeof(*m));
}

/*
 * Splits a COPY text row in place into at most max fields, undoing COPY's
 * escapes; NULL (\N) fields become NULL pointers.  Returns the number of
 * fields.
 */
static int copy_fields(char *row, int len, char **f, int max)
{
	char *end = row + len, *in = row, *out;
	int n = 0;

	if (len > 0 && end[-1] == '\n')
		end--;
	while (n < max) {
		char *start = out = in;

		while (in < end && *in != '\t') {
			if (*in != '\\' || in + 1 >= end) {
				*out++ = *in++;
				continue;
			}
			in++;
			switch (*in) {
			case 'b': *out++ = '\b'; in++; break;
			case 'f': *out++ = '\f'; in++; break;
			case 'n': *out++ = '\n'; in++; break;
			case 'r': *out++ = '\r'; in++; break;
			case 't': *out++ = '\t'; in++; break;
			case 'v': *out++ = '\v'; in++; break;
			case 'N': *out++ = '\0'; in++; start = NULL; break;
			default:
				if (*in >= '0' && *in <= '7') {
					int c = 0;

					for (int k = 0; k < 3 && in < end && *in >= '0' && *in <= '7'; k++)
						c = c * 8 + (*in++ - '0');
					*out++ = (char)c;
				} else {
					*out++ = *in++;
				}
			}
		}
		f[n++] = start;
		if (in >= end) {
			*out = '\0';
			break;
		}
		*out = '\0';
		in++;
	}
	return n;
}

/*
 * Runs a COPY ... TO STDOUT and calls row for each row split into fields.
 * Returns 0 or EM_ERR; the first error wins.
 */
static int each_copy_row(PGconn *conn, const char *sql, int nfields,
			 int (*row)(char **f, void *ctx), void *ctx, struct em_error *err)
{
	/* sql NULL: the COPY was sent ahead (PQsendQuery) and is read from here */
	PGresult *res = sql ? PQexec(conn, sql) : PQgetResult(conn);
	char *buf = NULL, *f[32];
	int len, failed = 0;

	if (PQresultStatus(res) != PGRES_COPY_OUT) {
		em_error_from_result(err, res);
		PQclear(res);
		return EM_ERR;
	}
	PQclear(res);
	while ((len = PQgetCopyData(conn, &buf, 0)) > 0) {
		if (!failed && copy_fields(buf, len, f, nfields) != nfields) {
			em_error_set(err, "could not read the books: a row of %d fields was expected", nfields);
			failed = 1;
		} else if (!failed && row(f, ctx) < 0) {
			failed = 1;
		}
		PQfreemem(buf);
	}
	if (len == -2 && !failed) {
		em_error_from_conn(err, conn, "could not read the books");
		failed = 1;
	}
	while ((res = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && !failed) {
			em_error_from_result(err, res);
			failed = 1;
		}
		PQclear(res);
	}
	return failed ? EM_ERR : 0;
}

/*
 * What the files say about each other, gathered while they are written:
 * the period's totals, per fund and per account and fund from the balances
 * query (the kept totals), proved against the ledger's stream of lines;
 * the chain checkpoints from that stream.
 */
struct fund_total {
	char *fund;
	int64_t lines, debit_fen, credit_fen;
};

struct checkpoint {
	char month[8];        /* YYYY-MM */
	int64_t seq;
	char hash[65];
};

/*
 * An account and fund's movements in the period: as kept (balances.xml)
 * and as the ledger's lines add up (the stream); kept_check compares them.
 */
struct pair_total {
	int64_t account_id, fund_id;   /* 0: empty slot (identities start at 1) */
	int64_t lines, debit_fen, credit_fen;          /* kept */
	int64_t seen_lines, seen_debit, seen_credit;   /* the ledger's lines */
	char *account, *fund;
};

struct summary {
	int64_t vouchers, lines, debit_fen, credit_fen;
	struct fund_total *funds;
	size_t nfunds;
	struct pair_total *pairs;      /* open addressing on (account, fund) */
	size_t pcap, npairs;
	struct checkpoint *months;
	size_t nmonths;
};

static void summary_release(struct summary *sum)
{
	for (size_t i = 0; i < sum->nfunds; i++)
		free(sum->funds[i].fund);
	free(sum->funds);
	for (size_t i = 0; i < sum->pcap; i++) {
		free(sum->pairs[i].account);
		free(sum->pairs[i].fund);
	}
	free(sum->pairs);
	free(sum->months);
}

/* The month of a voucher's date: its last link so far is the checkpoint. */
static void checkpoint_note(struct summary *sum, const char *date, int64_t seq, const char *hash)
{
	size_t i;

	for (i = sum->nmonths; i > 0; i--)
		if (strncmp(sum->months[i - 1].month, date, 7) == 0)
			break;
	if (i == 0) {
		struct checkpoint *m = realloc(sum->months, (sum->nmonths + 1) * sizeof(*m));

		if (!m)
			abort();
		sum->months = m;
		i = ++sum->nmonths;
		snprintf(m[i - 1].month, sizeof(m[i - 1].month), "%.7s", date);
		m[i - 1].seq = 0;
	}
	if (seq > sum->months[i - 1].seq) {
		sum->months[i - 1].seq = seq;
		snprintf(sum->months[i - 1].hash, sizeof(sum->months[i - 1].hash), "%s", hash);
	}
}

static size_t pair_slot(const struct summary *sum, int64_t account_id, int64_t fund_id)
{
	size_t i = (size_t)((uint64_t)account_id * 0x9E3779B97F4A7C15u ^ (uint64_t)fund_id * 0xC2B2AE3D27D4EB4Fu);

	for (i &= sum->pcap - 1;; i = (i + 1) & (sum->pcap - 1)) {
		const struct pair_total *p = &sum->pairs[i];

		if (p->account_id == 0 || (p->account_id == account_id && p->fund_id == fund_id))
			return i;
	}
}

/* The pair's entry, made when add (kept totals); NULL when there is none. */
static struct pair_total *pair_get(struct summary *sum, int64_t account_id, int64_t fund_id, int add)
{
	size_t i;

	if (add && 2 * (sum->npairs + 1) > sum->pcap) {
		struct summary grown = *sum;

		grown.pcap = sum->pcap ? 2 * sum->pcap : 64;
		if (!(grown.pairs = calloc(grown.pcap, sizeof(*grown.pairs))))
			abort();
		for (size_t j = 0; j < sum->pcap; j++)
			if (sum->pairs[j].account_id)
				grown.pairs[pair_slot(&grown, sum->pairs[j].account_id,
						      sum->pairs[j].fund_id)] = sum->pairs[j];
		free(sum->pairs);
		sum->pairs = grown.pairs;
		sum->pcap = grown.pcap;
	}
	if (!sum->pcap)
		return NULL;
	i = pair_slot(sum, account_id, fund_id);
	if (sum->pairs[i].account_id == 0) {
		if (!add)
			return NULL;
		sum->pairs[i].account_id = account_id;
		sum->pairs[i].fund_id = fund_id;
		sum->npairs++;
	}
	return &sum->pairs[i];
}

/*
 * The kept totals balances.xml and the ledger's header state against the
 * lines the ledger carries: equal for every account and fund, else the
 * export fails naming the first pair that differs.
 */
static int kept_check(const struct summary *sum, struct em_error *err)
{
	for (size_t i = 0; i < sum->pcap; i++) {
		const struct pair_total *p = &sum->pairs[i];

		if (!p->account_id || (p->lines == p->seen_lines && p->debit_fen == p->seen_debit &&
				       p->credit_fen == p->seen_credit))
			continue;
		em_error_set(err, "the kept totals of account %s, fund %s disagree with the period's lines",
			     p->account ? p->account : "?", p->fund ? p->fund : "?");
		em_error_detail(err, "kept: %lld lines, debit %lld fen, credit %lld fen; the lines: "
				"%lld lines, debit %lld fen, credit %lld fen", (long long)p->lines,
				(long long)p->debit_fen, (long long)p->credit_fen, (long long)p->seen_lines,
				(long long)p->seen_debit, (long long)p->seen_credit);
		em_error_hint(err, "period_balance and day_balance must equal the sum of the posted "
			      "lines; or the books changed while the package was written: run it again");
		return EM_ERR;
	}
	return 0;
}

static int checkpoint_cmp(const void *a, const void *b)
{
	return strcmp(((const struct checkpoint *)a)->month, ((const struct checkpoint *)b)->month);
}

/* The day of the last PostedAt written, in posted_at_text's form. */
struct when_cache {
	int64_t day;
	char date[16];      /* YYYY-MM-DD */
	int valid;
};

struct entries {
	struct summary *sum;
	struct xw *x;
	struct idmap map[7];       /* A F P V H B C */
	struct em_strbuf out;      /* XML not yet given to the sink */
	int64_t seq;               /* voucher open in out, 0 none */
	int64_t line_no;           /* its last line written, 0 none yet */
	char hash[65];             /* its ChainHash */
	struct when_cache when;    /* the day of the last PostedAt */
	int64_t vouchers, lines, debit_fen, credit_fen;
	struct em_error *err;
};

static const char map_kinds[] = "AFPVHBC";

static int code_row(char **f, void *ctx)
{
	struct entries *e = ctx;
	const char *k = f[0] ? strchr(map_kinds, f[0][0]) : NULL;

	if (!k || !*k || !f[1] || !f[2])
		return em_error_set(e->err, "could not read the books: an unexpected code row");
	idmap_put(&e->map[k - map_kinds], strtoll(f[1], NULL, 10), f[2], strlen(f[2]));
	return 0;
}

static void posted_at_text(int64_t us, char buf[96])
{
	time_t secs = (time_t)(us / 1000000);
	long micros = (long)(us % 1000000);
	struct tm tm;

	if (micros < 0) {
		micros += 1000000;
		secs -= 1;
	}
	gmtime_r(&secs, &tm);
	snprintf(buf, 96, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

/* Text as libxml2's writer escapes it (xmlEncodeSpecialChars). */
static void xml_text(struct em_strbuf *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *rep;

		switch (*s) {
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '&': rep = "&amp;"; break;
		case '"': rep = "&quot;"; break;
		case '\r': rep = "&#13;"; break;
		default: continue;
		}
		em_strbuf_add(b, run, (size_t)(s - run));
		em_strbuf_adds(b, rep);
		run = s + 1;
	}
	em_strbuf_add(b, run, (size_t)(s - run));
}

/*
 * The entries' XML is written straight into e->out: each row first makes
 * room for the most it can need (every byte of text escaped to at most 6),
 * then writes without further checks.
 */

/* Which bytes xmlEncodeSpecialChars replaces (see xml_text). */
static const unsigned char xml_special[256] = {
	['<'] = 1, ['>'] = 1, ['&'] = 1, ['"'] = 1, ['\r'] = 1,
};

/* Text escaped as xml_text escapes it; returns the end. */
static char *put_text(char *p, const char *s)
{
	for (;; s++) {
		unsigned char c = (unsigned char)*s;

		if (!xml_special[c]) {
			if (!c)
				return p;
			*p++ = (char)c;
			continue;
		}
		switch (c) {
		case '<': memcpy(p, "&lt;", 4); p += 4; break;
		case '>': memcpy(p, "&gt;", 4); p += 4; break;
		case '&': memcpy(p, "&amp;", 5); p += 5; break;
		case '"': memcpy(p, "&quot;", 6); p += 6; break;
		default: memcpy(p, "&#13;", 5); p += 5; break;
		}
	}
}

/* <name>text</name>, inline: the fields of a voucher's header or of a line. */
static char *put_el(char *p, const char *name, size_t nlen, const char *text)
{
	*p++ = '<';
	memcpy(p, name, nlen);
	p += nlen;
	*p++ = '>';
	p = put_text(p, text);
	*p++ = '<';
	*p++ = '/';
	memcpy(p, name, nlen);
	p += nlen;
	*p++ = '>';
	return p;
}

#define PEL(p, name, text) ((p) = put_el((p), name, sizeof(name) - 1, (text)))
#define POPT(p, name, text) do { if (*(text)) PEL(p, name, text); } while (0)

/* A decimal integer as COPY writes one (bigint, integer). */
static int64_t copy_int(const char *s)
{
	uint64_t n = 0;
	int neg = *s == '-';

	for (s += neg; *s >= '0' && *s <= '9'; s++)
		n = n * 10 + (uint64_t)(*s - '0');
	return neg ? (int64_t)(0 - n) : (int64_t)n;
}

/* The room a text can take once escaped. */
static size_t room(const char *s)
{
	return s ? 6 * strlen(s) : 0;
}

/* posted_at as posted_at_text writes it, the day's part reused from the voucher before. */
static void posted_at_fast(struct when_cache *wc, int64_t us, char buf[96])
{
	int64_t secs = us / 1000000, micros = us % 1000000, day, rem;
	char *p = buf;

	if (micros < 0) {
		micros += 1000000;
		secs -= 1;
	}
	day = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	rem = secs - day * 86400;
	if (!wc->valid || wc->day != day) {
		char tmp[96];

		posted_at_text(secs * 1000000, tmp);
		memcpy(wc->date, tmp, 10);
		wc->date[10] = '\0';
		wc->day = day;
		wc->valid = 1;
	}
	memcpy(p, wc->date, 10);
	p += 10;
	*p++ = 'T';
	*p++ = (char)('0' + rem / 36000);
	*p++ = (char)('0' + rem / 3600 % 10);
	*p++ = ':';
	*p++ = (char)('0' + rem % 3600 / 600);
	*p++ = (char)('0' + rem % 3600 / 60 % 10);
	*p++ = ':';
	*p++ = (char)('0' + rem % 60 / 10);
	*p++ = (char)('0' + rem % 10);
	*p++ = '.';
	for (int i = 5; i >= 0; i--, micros /= 10)
		p[i] = (char)('0' + micros % 10);
	p += 6;
	*p++ = 'Z';
	*p = '\0';
}

static int entries_flush(struct entries *e)
{
	if (e->out.len && sink_write(&e->x->sink, e->out.buf, (int)e->out.len) < 0)
		return em_error_set(e->err, "could not write ledger.xml");
	em_strbuf_reset(&e->out);
	return 0;
}

/* A voucher's header row: the voucher before it, if any, is complete. */
static int entry_head(struct entries *e, char **f, int64_t seq)
{
	struct em_strbuf *b = &e->out;
	char when[96];
	size_t need = 1024;
	char *p;

	if (e->seq && seq <= e->seq)
		return em_error_set(e->err, "could not read the books: voucher at chain position "
				    "%lld came after chain position %lld", (long long)seq,
				    (long long)e->seq);
	if (e->seq && !e->line_no)
		return em_error_set(e->err, "could not read the books: voucher at chain position "
				    "%lld came without lines", (long long)e->seq);
	if (!f[1] || !f[11])
		return em_error_set(e->err, "could not read the books: voucher at chain "
				    "position %lld came without its header", (long long)seq);
	if (!f[10] && (!e->seq || e->seq != seq - 1))
		return em_error_set(e->err, "could not read the books: the link before "
				    "chain position %lld is missing", (long long)seq);
	for (int i = 0; i <= 11; i++)
		need += room(f[i]);
	need += room(e->hash);
	em_strbuf_grow(b, need);
	p = b->buf + b->len;
	if (e->seq) {
		memcpy(p, "    </Transaction>\n", 19);
		p += 19;
	}
	posted_at_fast(&e->when, f[9] ? copy_int(f[9]) : 0, when);
	memcpy(p, "    <Transaction>", 17);
	p += 17;
	PEL(p, "ChainSeq", f[0]);
	PEL(p, "Number", f[1]);
	PEL(p, "Type", f[2] ? f[2] : "");
	PEL(p, "Date", f[3] ? f[3] : "");
	POPT(p, "Reverses", f[4] ? f[4] : "");
	PEL(p, "Memo", f[5] ? f[5] : "");
	PEL(p, "PreparedBy", f[6] ? f[6] : "");
	PEL(p, "ReviewedBy", f[7] ? f[7] : "");
	PEL(p, "PostedBy", f[8] ? f[8] : "");
	PEL(p, "PostedAt", when);
	PEL(p, "ChainPrev", f[10] ? f[10] : e->hash);
	PEL(p, "ChainHash", f[11]);
	*p++ = '\n';
	b->len = (size_t)(p - b->buf);
	b->buf[b->len] = '\0';
	snprintf(e->hash, sizeof(e->hash), "%s", f[11]);
	checkpoint_note(e->sum, f[3] ? f[3] : "", seq, f[11]);
	e->seq = seq;
	e->line_no = 0;
	e->vouchers++;
	return 0;
}

/*
 * A row of the entries' stream (entries_sql): a voucher's header, or one
 * of its lines, which must follow it with rising numbers.
 */
static int entry_row(char **f, void *ctx)
{
	static const int col[7] = { 13, 16, 17, 18, 19, 20, 21 };
	struct entries *e = ctx;
	struct em_strbuf *b = &e->out;
	int64_t seq = copy_int(f[0]), line_no;
	const char *code[7];
	char money[EM_MONEY_BUFSZ];
	struct pair_total *pair;
	size_t need = 1024;
	int64_t amount;
	char *p;

	if (!f[12])
		return entry_head(e, f, seq);
	line_no = copy_int(f[12]);
	if (seq != e->seq)
		return em_error_set(e->err, "could not read the books: line %lld of chain position "
				    "%lld came without its voucher's header", (long long)line_no,
				    (long long)seq);
	if (line_no <= e->line_no)
		return em_error_set(e->err, "could not read the books: line %lld of chain position "
				    "%lld came after its line %lld", (long long)line_no, (long long)seq,
				    (long long)e->line_no);
	e->line_no = line_no;
	for (int i = 0; i < 7; i++) {
		code[i] = f[col[i]] ? idmap_get(&e->map[i], f[col[i]]) : "";
		if (!code[i])
			return em_error_set(e->err, "could not read the books: line %s of chain "
					    "position %lld names an unknown %c id %s", f[12],
					    (long long)seq, map_kinds[i], f[col[i]]);
		need += room(code[i]);
	}
	need += room(f[12]) + room(f[14]) + room(f[22]);
	em_strbuf_grow(b, need);
	p = b->buf + b->len;
	amount = f[15] ? copy_int(f[15]) : 0;
	pair = pair_get(e->sum, f[13] ? copy_int(f[13]) : 0, f[16] ? copy_int(f[16]) : 0, 0);
	if (!pair)
		return em_error_set(e->err, "the kept totals have no account %s, fund %s, which line "
				    "%s of chain position %lld names", code[0], code[1], f[12],
				    (long long)seq);
	pair->seen_lines++;
	if (f[14] && f[14][0] == 'D') {
		e->debit_fen += amount;
		pair->seen_debit += amount;
	} else {
		e->credit_fen += amount;
		pair->seen_credit += amount;
	}
	memcpy(p, "      <Line>", 12);
	p += 12;
	PEL(p, "LineNo", f[12]);
	PEL(p, "Account", code[0]);
	PEL(p, "Side", f[14] ? f[14] : "");
	PEL(p, "Amount", em_money_format(amount, money, sizeof(money)));
	PEL(p, "Fund", code[1]);
	POPT(p, "Project", code[2]);
	POPT(p, "Village", code[3]);
	POPT(p, "Household", code[4]);
	POPT(p, "BankAccount", code[5]);
	POPT(p, "Category", code[6]);
	PEL(p, "Memo", f[22] ? f[22] : "");
	memcpy(p, "</Line>\n", 8);
	p += 8;
	b->len = (size_t)(p - b->buf);
	b->buf[b->len] = '\0';
	e->lines++;
	return b->len >= (1 << 18) ? entries_flush(e) : 0;
}

/*
 * The entries, between the writer's TotalCredit and its end of
 * GeneralLedgerEntries: each voucher's header on one line of text, each of
 * its ledger lines on one line, their fields inline,
 *
 *     <Transaction><ChainSeq>1</ChainSeq>...<ChainHash>...</ChainHash>
 *       <Line><LineNo>1</LineNo>...<Memo></Memo></Line>
 *     </Transaction>
 *
 * so that a reader or validator meets a whitespace text node per line of
 * text, not per field (a seventh of them), and grep finds a whole line.
 */
static int write_entries(PGconn *conn, PGconn *ahead, struct xw *x, struct entries *e,
			 struct em_error *err)
{
	e->x = x;
	e->err = err;
	if (x->failed || xmlTextWriterFlush(x->w) < 0 || x->sink.failed)
		return em_error_set(err, "could not write ledger.xml");
	if (each_copy_row(conn, codes_sql, 3, code_row, e, err) < 0)
		return EM_ERR;
	/* on this connection too the entries walk the chain, unsorted (entries_sql) */
	if (!ahead && em_db_command(conn, "SET LOCAL enable_sort = off", 0, NULL, err) < 0)
		return EM_ERR;
	if ((ahead ? each_copy_row(ahead, NULL, 23, entry_row, e, err)
		   : each_copy_row(conn, entries_sql, 23, entry_row, e, err)) < 0)
		return EM_ERR;
	if (e->seq && !e->line_no)
		return em_error_set(err, "could not read the books: voucher at chain position %lld "
				    "came without lines", (long long)e->seq);
	if (e->seq)
		em_strbuf_add(&e->out, "    </Transaction>\n", 19);
	return entries_flush(e);
}


static int write_ledger(PGconn *conn, PGconn *ahead, const struct em_audit_export *a, const char *path,
			struct zipper *zp, const char *book_name, struct summary *sum, char hex[65],
			struct em_error *err)
{
	static const char *const acc_cols[] = { "Code", "Name", "Kind", "NormalSide", "IsBank", NULL };
	static const char *const cat_cols[] = { "Code", "Name", NULL };
	static const char *const da_cols[] = { "AccountNo", "BankName", "CNAPS", NULL };
	static const char *const fund_cols[] = { "Code", "Name", "Level", "?FundType", "Year",
						 "?DocNo", "Amount", "DedicatedAccount", NULL };
	static const char *const proj_cols[] = { "Code", "Name", "?Category", "?ImplementingUnit", NULL };
	static const char *const vil_cols[] = { "Code", "Name", "?Township", "?County", NULL };
	static const char *const hh_cols[] = { "Code", "Village", "HeadName", "?IDNumber", "?BankCard", NULL };
	struct entries e;
	struct xw x;
	char now[96];
	int ret = EM_ERR;

	memset(&e, 0, sizeof(e));
	e.sum = sum;
	em_strbuf_init(&e.out);
	for (int i = 0; i < 7; i++)
		em_strbuf_init(&e.map[i].arena);
	if (xw_open(&x, path, zp, "AuditFile", err) < 0)
		goto out;
	posted_at_text((int64_t)time(NULL) * 1000000, now);
	xs(&x, "Header");
	xel(&x, "AuditFileVersion", "1");
	xel(&x, "Book", a->book);
	xel(&x, "BookName", book_name);
	xs(&x, "SelectionCriteria");
	xel(&x, "PeriodStart", a->from);
	xel(&x, "PeriodEnd", a->to);
	xe(&x);
	xel(&x, "DateCreated", now);
	xel(&x, "SoftwareID", "earmark");
	xel(&x, "CurrencyCode", "CNY");
	xe(&x);

	xs(&x, "MasterFiles");
	if (write_master(conn, &x, a->book, "Accounts", "Account",
			 "SELECT code, name, kind, normal_side, CASE WHEN is_bank THEN 'true' ELSE 'false' END "
			 "FROM earmark.account WHERE book_id = earmark.book_of($1) ORDER BY code",
			 acc_cols, err) < 0 ||
	    write_master(conn, &x, a->book, "UseCategories", "UseCategory",
			 "SELECT code, name FROM earmark.use_category "
			 "WHERE book_id = earmark.book_of($1) ORDER BY code", cat_cols, err) < 0 ||
	    write_master(conn, &x, a->book, "DedicatedAccounts", "DedicatedAccount",
			 "SELECT account_no, bank_name, cnaps FROM earmark.dedicated_account "
			 "WHERE book_id = earmark.book_of($1) ORDER BY account_no", da_cols, err) < 0 ||
	    write_master(conn, &x, a->book, "Funds", "Fund",
			 "SELECT f.code, f.name, f.level, f.fund_type, f.year, f.doc_no, "
			 "       to_char(f.amount_fen / 100.0, 'FM999999999999999990.00'), d.account_no "
			 "  FROM earmark.fund f JOIN earmark.dedicated_account d "
			 "    ON d.book_id = f.book_id AND d.bank_account_id = f.bank_account_id "
			 " WHERE f.book_id = earmark.book_of($1) ORDER BY f.code", fund_cols, err) < 0 ||
	    write_master(conn, &x, a->book, "Projects", "Project",
			 "SELECT p.code, p.name, c.code, p.implementing_unit FROM earmark.project p "
			 "  LEFT JOIN earmark.use_category c "
			 "    ON c.book_id = p.book_id AND c.category_id = p.category_id "
			 " WHERE p.book_id = earmark.book_of($1) ORDER BY p.code", proj_cols, err) < 0 ||
	    write_master(conn, &x, a->book, "Villages", "Village",
			 "SELECT code, name, township, county FROM earmark.village "
			 "WHERE book_id = earmark.book_of($1) ORDER BY code", vil_cols, err) < 0 ||
	    write_master(conn, &x, a->book, "Households", "Household",
			 "SELECT code, village, head_name, id_no, bank_card "
			 "FROM earmark.audit_households($1)", hh_cols, err) < 0)
		goto out;
	xe(&x);

	xs(&x, "GeneralLedgerEntries");
	xint(&x, "NumberOfEntries", sum->vouchers);
	xmoney(&x, "TotalDebit", sum->debit_fen);
	xmoney(&x, "TotalCredit", sum->credit_fen);
	if (write_entries(conn, ahead, &x, &e, err) < 0)
		goto out;
	xe(&x);
	/* per account and fund first: it names where */
	if (kept_check(sum, err) < 0)
		goto out;
	if (e.vouchers != sum->vouchers || e.lines != sum->lines || e.debit_fen != sum->debit_fen ||
	    e.credit_fen != sum->credit_fen) {
		em_error_set(err, "the books changed while the package was written");
		goto out;
	}
	ret = 0;
out:
	if (xw_close(&x, path, ret == 0 ? hex : NULL, err) < 0)
		ret = EM_ERR;
	for (int i = 0; i < 7; i++)
		idmap_release(&e.map[i]);
	em_strbuf_release(&e.out);
	return ret;
}

/* ---- balances.xml ------------------------------------------------------- */

/*
 * Opening, movements and line count per account and fund from the totals
 * the book keeps at posting (0001's period_balance per month, 0013's
 * day_balance per day; the invariant of both: equal to the sum of the
 * posted lines they cover), not from every line: whole months from
 * period_balance, the days of a month the period starts or ends inside
 * from day_balance.  Every posted line dated up to $3 falls in exactly one
 * part: months before $2's month (opening), the days of $2's month before
 * $2 (opening), the whole months inside the period, the other days of the
 * period.  A pair is a row when it has any such line, as when the lines
 * were grouped.  The ledger's stream then proves the movements: each
 * line's amount is added to its pair (entry_row) and any difference fails
 * the export (kept_check), so a package never states kept totals the lines
 * do not add up to.
 */
static const char balances_sql[] =
	"WITH s AS (SELECT earmark.book_of($1) AS b, $2::date AS d1, $3::date AS d2, "
	"                  date_trunc('month', $2::date)::date AS m1, "
	"                  CASE WHEN date_trunc('month', $2::date)::date = $2::date THEN $2::date "
	"                       ELSE (date_trunc('month', $2::date) + interval '1 month')::date END AS w1, "
	"                  date_trunc('month', $3::date + 1)::date AS m2), "
	"k AS (SELECT pb.account_id, pb.fund_id, pb.month < s.m1 AS before, "
	"             pb.debit_fen AS dr, pb.credit_fen AS cr, pb.line_count AS n "
	"        FROM earmark.period_balance pb, s "
	"       WHERE pb.book_id = s.b AND (pb.month < s.m1 OR (pb.month >= s.w1 AND pb.month < s.m2)) "
	"      UNION ALL "
	"      SELECT db.account_id, db.fund_id, db.day < s.d1, db.debit_fen, db.credit_fen, db.line_count "
	"        FROM earmark.day_balance db, s "
	"       WHERE db.book_id = s.b "
	"         AND ((db.day >= s.m1 AND db.day < LEAST(s.w1, s.d2 + 1)) "
	"              OR (db.day >= GREATEST(s.m2, s.w1) AND db.day <= s.d2))) "
	"SELECT a.code, f.code, "
	"       COALESCE(sum(k.dr - k.cr) FILTER (WHERE k.before), 0), "
	"       COALESCE(sum(k.dr) FILTER (WHERE NOT k.before), 0), "
	"       COALESCE(sum(k.cr) FILTER (WHERE NOT k.before), 0), "
	"       COALESCE(sum(k.n) FILTER (WHERE NOT k.before), 0), "
	"       k.account_id, k.fund_id "
	"  FROM k "
	"  JOIN earmark.account a ON a.book_id = (SELECT b FROM s) AND a.account_id = k.account_id "
	"  JOIN earmark.fund f ON f.book_id = (SELECT b FROM s) AND f.fund_id = k.fund_id "
	" GROUP BY a.code, f.code, k.account_id, k.fund_id HAVING sum(k.n) > 0 "
	" ORDER BY a.code, f.code";

struct balances {
	struct xw *x;
	struct summary *sum;
	int64_t rows;
};

static int balance_row(PGresult *res, void *ctx)
{
	struct balances *b = ctx;
	struct summary *sum = b->sum;
	int64_t open = ival(res, 2), dr = ival(res, 3), cr = ival(res, 4), lines = ival(res, 5);
	struct pair_total *p = pair_get(sum, ival(res, 6), ival(res, 7), 1);
	size_t i;

	if (p->account)
		return -1;	/* a pair twice */
	p->lines = lines;
	p->debit_fen = dr;
	p->credit_fen = cr;
	if (!(p->account = strdup(val(res, 0))) || !(p->fund = strdup(val(res, 1))))
		abort();

	/* the period's movements: the ledger's totals, and per fund for control.xml */
	sum->lines += lines;
	sum->debit_fen += dr;
	sum->credit_fen += cr;
	for (i = 0; i < sum->nfunds && strcmp(sum->funds[i].fund, val(res, 1)) != 0; i++)
		;
	if (i == sum->nfunds) {
		struct fund_total *f = realloc(sum->funds, (sum->nfunds + 1) * sizeof(*f));

		if (!f || !(f[i].fund = strdup(val(res, 1))))
			abort();
		sum->funds = f;
		sum->nfunds++;
		f[i].lines = f[i].debit_fen = f[i].credit_fen = 0;
	}
	sum->funds[i].lines += lines;
	sum->funds[i].debit_fen += dr;
	sum->funds[i].credit_fen += cr;

	xs(b->x, "Balance");
	xel(b->x, "Account", val(res, 0));
	xel(b->x, "Fund", val(res, 1));
	xmoney(b->x, "Opening", open);
	xmoney(b->x, "Debit", dr);
	xmoney(b->x, "Credit", cr);
	xmoney(b->x, "Closing", open + dr - cr);
	xe(b->x);
	b->rows++;
	return b->x->failed ? -1 : 0;
}

static int write_balances(PGconn *conn, const struct em_audit_export *a, const char *path,
			  struct summary *sum, int64_t *rows, char hex[65], struct em_error *err)
{
	const char *params[] = { a->book, a->from, a->to };
	struct xw x;
	struct balances b = { &x, sum, 0 };
	int ret = EM_ERR;

	if (xw_open(&x, path, NULL, "Balances", err) < 0)
		goto out;
	xel(&x, "Book", a->book);
	xel(&x, "PeriodStart", a->from);
	xel(&x, "PeriodEnd", a->to);
	if (each_row(conn, balances_sql, 3, params, balance_row, &b, err) < 0)
		goto out;
	*rows = b.rows;
	ret = 0;
out:
	if (xw_close(&x, path, ret == 0 ? hex : NULL, err) < 0)
		ret = EM_ERR;
	return ret;
}

/* ---- control.xml -------------------------------------------------------- */

/* A fund's totals for the period, in the order of the funds' codes. */
static int fund_row(PGresult *res, void *ctx)
{
	struct xw *x = ((void **)ctx)[0];
	const struct summary *sum = ((void **)ctx)[1];

	for (size_t i = 0; i < sum->nfunds; i++) {
		const struct fund_total *f = &sum->funds[i];

		if (f->lines == 0 || strcmp(f->fund, val(res, 0)) != 0)
			continue;
		xs(x, "FundTotal");
		xel(x, "Fund", f->fund);
		xint(x, "Lines", f->lines);
		xmoney(x, "Debit", f->debit_fen);
		xmoney(x, "Credit", f->credit_fen);
		xe(x);
	}
	return x->failed ? -1 : 0;
}

static int write_control(PGconn *conn, const struct em_audit_export *a, const char *path,
			 struct summary *sum, int64_t balance_rows, const char *head_seq,
			 const char *head_hash, const char *prev, char hex[65], struct em_error *err)
{
	const char *params[] = { a->book, a->from, a->to };
	struct xw x;
	int ret = EM_ERR;

	if (xw_open(&x, path, NULL, "Control", err) < 0)
		goto out;
	xel(&x, "Book", a->book);
	xel(&x, "PeriodStart", a->from);
	xel(&x, "PeriodEnd", a->to);
	xs(&x, "LedgerFile");
	xint(&x, "NumberOfEntries", sum->vouchers);
	xint(&x, "NumberOfLines", sum->lines);
	xmoney(&x, "TotalDebit", sum->debit_fen);
	xmoney(&x, "TotalCredit", sum->credit_fen);
	xe(&x);
	xs(&x, "BalancesFile");
	xint(&x, "NumberOfRows", balance_rows);
	xe(&x);
	xs(&x, "FundTotals");
	{
		void *ctx[2] = { &x, (void *)sum };

		if (each_row(conn, "SELECT code FROM earmark.fund WHERE book_id = earmark.book_of($1) "
			     "ORDER BY code", 1, params, fund_row, ctx, err) < 0)
			goto out;
	}
	xe(&x);
	xs(&x, "ChainHead");
	xel(&x, "Seq", head_seq);
	xel(&x, "Hash", head_hash);
	xe(&x);
	/* The last link of each month of the selection: a later package or a notice can pin it. */
	xs(&x, "Checkpoints");
	qsort(sum->months, sum->nmonths, sizeof(sum->months[0]), checkpoint_cmp);
	for (size_t i = 0; i < sum->nmonths; i++) {
		xs(&x, "Checkpoint");
		xel(&x, "Month", sum->months[i].month);
		xint(&x, "Seq", sum->months[i].seq);
		xel(&x, "Hash", sum->months[i].hash);
		xe(&x);
	}
	xe(&x);
	xopt(&x, "PreviousSignatureDigest", prev);
	ret = 0;
out:
	if (xw_close(&x, path, ret == 0 ? hex : NULL, err) < 0)
		ret = EM_ERR;
	return ret;
}

/* ---- keys, certificates, the signature ---------------------------------- */

static int passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pw = getenv("EARMARK_KEY_PASSPHRASE");
	size_t n;

	(void)rwflag;
	*(int *)u = 1;
	if (!pw) {
		if (!isatty(STDIN_FILENO)) {
			*(int *)u = 2; /* nobody to ask */
			return -1;
		}
		if (EVP_read_pw_string(buf, size, "passphrase for the signing key: ", 0) != 0)
			return -1;
		return (int)strlen(buf);
	}
	n = strlen(pw);
	if (n >= (size_t)size)
		return -1;
	memcpy(buf, pw, n);
	return (int)n;
}

/* *plain: 1 when the key was read without a passphrase, i.e. it is not encrypted. */
static EVP_PKEY *load_key(const char *path, int *plain, struct em_error *err)
{
	FILE *f = fopen(path, "rb");
	EVP_PKEY *k;
	int asked = 0;

	if (!f) {
		em_error_set(err, "could not open key '%s': %s", path, strerror(errno));
		return NULL;
	}
	k = PEM_read_PrivateKey(f, NULL, passphrase_cb, &asked);
	fclose(f);
	if (!k) {
		ERR_clear_error();
		em_error_set(err, "could not read private key '%s'", path);
		if (asked == 2)
			em_error_detail(err, "the key is encrypted; EARMARK_KEY_PASSPHRASE is not set and "
					     "there is no terminal to ask for the passphrase");
		else if (asked)
			em_error_detail(err, "the key is encrypted and the passphrase did not open it");
		em_error_hint(err, "a PEM private key; for an encrypted one set EARMARK_KEY_PASSPHRASE");
	}
	*plain = k != NULL && !asked;
	return k;
}

static int load_certs(const char *path, STACK_OF(X509) *certs, struct em_error *err)
{
	FILE *f = fopen(path, "rb");
	X509 *c;
	int n = 0;

	if (!f)
		return em_error_set(err, "could not open certificate '%s': %s", path, strerror(errno));
	while ((c = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		sk_X509_push(certs, c);
		n++;
	}
	ERR_clear_error();
	fclose(f);
	if (n == 0)
		return em_error_set(err, "no PEM certificate in '%s'", path);
	return 0;
}

static void b64(struct em_strbuf *sb, const unsigned char *data, size_t len)
{
	size_t at = sb->len;

	em_strbuf_grow(sb, 4 * ((len + 2) / 3) + 1);
	sb->len += (size_t)EVP_EncodeBlock((unsigned char *)sb->buf + at, data, (int)len);
	sb->buf[sb->len] = '\0';
}

static void b64_cert(struct em_strbuf *sb, X509 *c)
{
	unsigned char *der = NULL;
	int len = i2d_X509(c, &der);

	if (len > 0)
		b64(sb, der, (size_t)len);
	OPENSSL_free(der);
}

/* Is node inside apex (for namespace and attribute nodes: is their element)? */
static int in_subtree(void *apex, xmlNodePtr node, xmlNodePtr parent)
{
	xmlNodePtr n = (!node || node->type == XML_NAMESPACE_DECL) ? parent : node;

	for (; n; n = n->parent)
		if (n == apex)
			return 1;
	return 0;
}

/* Exclusive C14N (no comments) of the subtree at apex. */
static int c14n_subtree(xmlDocPtr doc, xmlNodePtr apex, struct em_strbuf *out)
{
	xmlOutputBufferPtr buf = xmlAllocOutputBuffer(NULL);
	int ret = -1;

	if (!buf)
		return -1;
	if (xmlC14NExecute(doc, in_subtree, apex, XML_C14N_EXCLUSIVE_1_0, NULL, 0, buf) >= 0) {
		em_strbuf_add(out, xmlOutputBufferGetContent(buf), xmlOutputBufferGetSize(buf));
		ret = 0;
	}
	xmlOutputBufferClose(buf);
	return ret;
}

static xmlNodePtr find_el(xmlNodePtr n, const char *name)
{
	for (; n; n = n->next) {
		xmlNodePtr r;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)n->name, name) == 0)
			return n;
		if ((r = find_el(n->children, name)) != NULL)
			return r;
	}
	return NULL;
}

/* The next DigestValue under n whose content is the placeholder "?". */
static xmlNodePtr find_empty_digest(xmlNodePtr n)
{
	for (; n; n = n->next) {
		xmlNodePtr r;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)n->name, "DigestValue") == 0 && n->children &&
		    strcmp((const char *)n->children->content, "?") == 0)
			return n;
		if ((r = find_empty_digest(n->children)) != NULL)
			return r;
	}
	return NULL;
}

/*
 * The signature document: SignedInfo with one Reference per file (digests
 * given), the SignedProperties Reference, KeyInfo with the chain and the
 * XAdES QualifyingProperties; SignedProperties is digested and SignedInfo
 * signed here.  Written to path; its SHA-256 to sig_hex.
 */
static int write_signature(const char *path, const char *const digests[EM_AUDIT_NFILES],
			   EVP_PKEY *key, STACK_OF(X509) *certs, char sig_hex[65],
			   struct em_error *err)
{
	struct em_strbuf t = EM_STRBUF_INIT, c14n = EM_STRBUF_INIT, v = EM_STRBUF_INIT;
	X509 *signer = sk_X509_value(certs, 0);
	int is_ec = EVP_PKEY_base_id(key) == EVP_PKEY_EC;
	unsigned char md[EVP_MAX_MD_SIZE], *sig = NULL, *der = NULL;
	unsigned int mdlen = 0;
	size_t siglen = 0;
	char when[96], *issuer = NULL, *serial = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr n;
	xmlChar *mem = NULL;
	int memlen = 0, derlen;
	EVP_MD_CTX *mctx = NULL;
	BIO *bio = NULL;
	BIGNUM *bn = NULL;
	FILE *f = NULL;
	int ret = EM_ERR;

	/* the signer's certificate as XAdES names it */
	derlen = i2d_X509(signer, &der);
	if (derlen <= 0 || EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(), NULL) != 1)
		goto crypto;
	bio = BIO_new(BIO_s_mem());
	if (!bio || X509_NAME_print_ex(bio, X509_get_issuer_name(signer), 0, XN_FLAG_RFC2253) < 0 ||
	    BIO_write(bio, "", 1) != 1 || BIO_get_mem_data(bio, &issuer) <= 0)
		goto crypto;
	bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(signer), NULL);
	if (!bn || !(serial = BN_bn2dec(bn)))
		goto crypto;
	posted_at_text((int64_t)time(NULL) * 1000000, when);
	when[19] = 'Z', when[20] = '\0';

	em_strbuf_addf(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		       "<asic:XAdESSignatures xmlns:asic=\"%s\" xmlns:ds=\"%s\" xmlns:xades=\"%s\">"
		       "<ds:Signature Id=\"S1\">\n<ds:SignedInfo>\n"
		       "<ds:CanonicalizationMethod Algorithm=\"%s\"/>\n"
		       "<ds:SignatureMethod Algorithm=\"%s\"/>\n",
		       EM_NS_ASIC, EM_NS_DSIG, EM_NS_XADES, EM_ALG_EXC_C14N,
		       is_ec ? EM_ALG_ECDSA_SHA256 : EM_ALG_RSA_SHA256);
	for (int i = 0; i < EM_AUDIT_NFILES; i++)
		em_strbuf_addf(&t, "<ds:Reference Id=\"R%d\" URI=\"%s\">"
			       "<ds:DigestMethod Algorithm=\"%s\"/><ds:DigestValue>%s</ds:DigestValue>"
			       "</ds:Reference>\n", i + 1, em_audit_files[i], EM_ALG_SHA256, digests[i]);
	em_strbuf_addf(&t, "<ds:Reference Id=\"R-SP\" Type=\"%s\" URI=\"#S1-SignedProperties\">"
		       "<ds:Transforms><ds:Transform Algorithm=\"%s\"/></ds:Transforms>"
		       "<ds:DigestMethod Algorithm=\"%s\"/><ds:DigestValue>?</ds:DigestValue>"
		       "</ds:Reference>\n</ds:SignedInfo>\n"
		       "<ds:SignatureValue Id=\"S1-Value\">?</ds:SignatureValue>\n"
		       "<ds:KeyInfo><ds:X509Data>\n",
		       EM_TYPE_SIGNED_PROPS, EM_ALG_EXC_C14N, EM_ALG_SHA256);
	for (int i = 0; i < sk_X509_num(certs); i++) {
		em_strbuf_adds(&t, "<ds:X509Certificate>");
		b64_cert(&t, sk_X509_value(certs, i));
		em_strbuf_adds(&t, "</ds:X509Certificate>\n");
	}
	em_strbuf_addf(&t, "</ds:X509Data></ds:KeyInfo>\n"
		       "<ds:Object><xades:QualifyingProperties Target=\"#S1\">"
		       "<xades:SignedProperties Id=\"S1-SignedProperties\">"
		       "<xades:SignedSignatureProperties>"
		       "<xades:SigningTime>%s</xades:SigningTime>"
		       "<xades:SigningCertificate><xades:Cert><xades:CertDigest>"
		       "<ds:DigestMethod Algorithm=\"%s\"/><ds:DigestValue>", when, EM_ALG_SHA256);
	b64(&t, md, mdlen);
	em_strbuf_adds(&t, "</ds:DigestValue></xades:CertDigest><xades:IssuerSerial><ds:X509IssuerName>");
	xml_text(&t, issuer);
	em_strbuf_addf(&t, "</ds:X509IssuerName><ds:X509SerialNumber>%s</ds:X509SerialNumber>"
		       "</xades:IssuerSerial></xades:Cert></xades:SigningCertificate>"
		       "</xades:SignedSignatureProperties>"
		       "<xades:SignedDataObjectProperties>", serial);
	for (int i = 0; i < 3; i++)
		em_strbuf_addf(&t, "<xades:DataObjectFormat ObjectReference=\"#R%d\">"
			       "<xades:MimeType>text/xml</xades:MimeType></xades:DataObjectFormat>", i + 1);
	em_strbuf_adds(&t, "</xades:SignedDataObjectProperties></xades:SignedProperties>"
		       "</xades:QualifyingProperties></ds:Object></ds:Signature></asic:XAdESSignatures>\n");

	doc = xmlReadMemory(t.buf, (int)t.len, "signatures001.xml", "UTF-8",
			    XML_PARSE_NONET);
	if (!doc) {
		em_error_set(err, "could not build the signature document");
		goto out;
	}
	/* SignedProperties: digest its exclusive canonical form */
	n = find_el(xmlDocGetRootElement(doc), "SignedProperties");
	if (!n || c14n_subtree(doc, n, &c14n) < 0 ||
	    EVP_Digest(c14n.buf, c14n.len, md, &mdlen, EVP_sha256(), NULL) != 1)
		goto crypto;
	b64(&v, md, mdlen);
	n = find_empty_digest(xmlDocGetRootElement(doc));
	if (!n)
		goto crypto;
	xmlNodeSetContent(n, BAD_CAST v.buf);

	/* SignedInfo: sign its exclusive canonical form */
	em_strbuf_reset(&c14n);
	em_strbuf_reset(&v);
	n = find_el(xmlDocGetRootElement(doc), "SignedInfo");
	mctx = EVP_MD_CTX_new();
	if (!n || !mctx || c14n_subtree(doc, n, &c14n) < 0 ||
	    EVP_DigestSignInit(mctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(mctx, NULL, &siglen, (unsigned char *)c14n.buf, c14n.len) != 1 ||
	    !(sig = OPENSSL_malloc(siglen)) ||
	    EVP_DigestSign(mctx, sig, &siglen, (unsigned char *)c14n.buf, c14n.len) != 1)
		goto crypto;
	if (is_ec) {
		/* XMLDSig wants r || s, each 32 bytes for P-256, not DER */
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)siglen);
		unsigned char rs[64];
		const BIGNUM *r, *s;

		if (!es)
			goto crypto;
		ECDSA_SIG_get0(es, &r, &s);
		if (BN_bn2binpad(r, rs, 32) != 32 || BN_bn2binpad(s, rs + 32, 32) != 32) {
			ECDSA_SIG_free(es);
			goto crypto;
		}
		ECDSA_SIG_free(es);
		b64(&v, rs, sizeof(rs));
	} else {
		b64(&v, sig, siglen);
	}
	n = find_el(xmlDocGetRootElement(doc), "SignatureValue");
	if (!n)
		goto crypto;
	xmlNodeSetContent(n, BAD_CAST v.buf);

	xmlDocDumpMemoryEnc(doc, &mem, &memlen, "UTF-8");
	if (!mem || memlen <= 0)
		goto crypto;
	if (EVP_Digest(mem, (size_t)memlen, md, &mdlen, EVP_sha256(), NULL) != 1)
		goto crypto;
	em_canon_hex(md, sig_hex);
	f = fopen(path, "wbx");
	if (!f || fwrite(mem, 1, (size_t)memlen, f) != (size_t)memlen || fflush(f) != 0) {
		em_error_set(err, "could not write '%s': %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
	goto out;
crypto:
	em_error_set(err, "could not sign the package");
	{
		unsigned long e = ERR_get_error();
		if (e)
			em_error_detail(err, "OpenSSL: %s", ERR_reason_error_string(e) ?
					ERR_reason_error_string(e) : "unknown error");
	}
	ERR_clear_error();
out:
	if (f)
		fclose(f);
	xmlFree(mem);
	xmlFreeDoc(doc);
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(sig);
	OPENSSL_free(der);
	OPENSSL_free(serial);
	BN_free(bn);
	BIO_free(bio);
	em_strbuf_release(&t);
	em_strbuf_release(&c14n);
	em_strbuf_release(&v);
	return ret;
}

/* The key must be RSA >= 3072 bits or ECDSA P-256, and match the certificate. */
static int check_key(EVP_PKEY *key, X509 *cert, const char *cert_path, struct em_error *err)
{
	int id = EVP_PKEY_base_id(key);

	if (id == EVP_PKEY_RSA && EVP_PKEY_bits(key) < 3072) {
		em_error_set(err, "the signing key is RSA with %d bits; at least 3072 are needed",
			     EVP_PKEY_bits(key));
		em_error_hint(err, "make one with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072");
		return EM_ERR;
	}
	if (id == EVP_PKEY_EC) {
		char group[64] = "";
		size_t glen = 0;

		if (EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) != 1 ||
		    strcmp(group, "prime256v1") != 0) {
			em_error_set(err, "the signing key is ECDSA on curve '%s'; only P-256 is accepted", group);
			return EM_ERR;
		}
	} else if (id != EVP_PKEY_RSA) {
		return em_error_set(err, "the signing key is neither RSA nor ECDSA P-256");
	}
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		em_error_set(err, "the signing key does not belong to certificate '%s'", cert_path);
		return EM_ERR;
	}
	return 0;
}

/* ---- the ZIP -------------------------------------------------------------- */

/* The package reaches the disk before it gets its name. */
static int sync_file(const char *path, struct em_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fsync(fd) != 0) {
		em_error_set(err, "could not write '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EM_ERR;
	}
	close(fd);
	return 0;
}

static void remove_tree(const char *dir)
{
	struct em_strbuf p = EM_STRBUF_INIT;

	for (int i = 0; i <= EM_AUDIT_NFILES; i++) {
		em_strbuf_reset(&p);
		em_strbuf_addf(&p, "%s/%s", dir, i < EM_AUDIT_NFILES ? em_audit_files[i] : EM_AUDIT_SIGFILE);
		unlink(p.buf);
	}
	em_strbuf_reset(&p);
	em_strbuf_addf(&p, "%s/schemas", dir);
	rmdir(p.buf);
	em_strbuf_reset(&p);
	em_strbuf_addf(&p, "%s/META-INF", dir);
	rmdir(p.buf);
	rmdir(dir);
	em_strbuf_release(&p);
}

/* Copies a schema into the package folder, hashing it. */
static int copy_schema(const char *from, const char *to, char hex[65], struct em_error *err)
{
	struct em_strbuf body = EM_STRBUF_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int fd = open(from, O_RDONLY | O_CLOEXEC);
	FILE *f = NULL;
	int ret = EM_ERR;

	if (fd < 0 || em_strbuf_read_fd(&body, fd, 1 << 20) < 0) {
		em_error_set(err, "could not read schema '%s': %s", from, strerror(errno));
		em_error_hint(err, "set EARMARK_SCHEMADIR to the folder with the package's XSD files");
		goto out;
	}
	if (EVP_Digest(body.buf, body.len, md, &mdlen, EVP_sha256(), NULL) != 1)
		goto out;
	em_canon_hex(md, hex);
	f = fopen(to, "wbx");
	if (!f || fwrite(body.buf, 1, body.len, f) != body.len || fflush(f) != 0) {
		em_error_set(err, "could not write '%s': %s", to, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	em_strbuf_release(&body);
	return ret;
}


/*
 * The selection, for the COPY streams, which take no parameters ($1 book,
 * $2 from, $3 to, $4 and $5 the first and last chain position): set for
 * the transaction on each connection that reads the package, with no JIT
 * and no parallel plan there.
 */
#define SELECTION_SQL \
	"SELECT pg_catalog.set_config('earmark.audit_book', $1, true), " \
	"       pg_catalog.set_config('earmark.audit_from', $2, true), " \
	"       pg_catalog.set_config('earmark.audit_to', $3, true), " \
	"       pg_catalog.set_config('earmark.audit_first', $4, true), " \
	"       pg_catalog.set_config('earmark.audit_last', $5, true), " \
	"       pg_catalog.set_config('jit', 'off', true), " \
	"       pg_catalog.set_config('max_parallel_workers_per_gather', '0', true)"

/*
 * The entries' COPY, sent ahead on a second connection of the same user
 * that reads the same snapshot (pg_export_snapshot): the server finds and
 * orders the period's vouchers while this connection counts them and
 * writes the balances and the master files, and the rows are read once
 * the ledger gets to them.  NULL when no second connection could be had:
 * the entries are then read on conn, after the master files, as before.
 */
static PGconn *entries_ahead(PGconn *conn, const char *const p5[5])
{
	PQconninfoOption *opts = PQconninfo(conn);
	const char *keys[64], *vals[64];
	PGconn *c2 = NULL;
	PGresult *res;
	int n = 0;
	char snap[128];

	if (!opts)
		return NULL;
	for (PQconninfoOption *o = opts; o->keyword && n < 63; o++) {
		if (o->val && *o->val) {
			keys[n] = o->keyword;
			vals[n++] = o->val;
		}
	}
	keys[n] = vals[n] = NULL;
	res = PQexec(conn, "SELECT pg_catalog.pg_export_snapshot()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		PQclear(res);
		PQconninfoFree(opts);
		return NULL;
	}
	snprintf(snap, sizeof(snap), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	c2 = PQconnectdbParams(keys, vals, 0);
	PQconninfoFree(opts);
	if (PQstatus(c2) != CONNECTION_OK)
		goto fail;
	res = PQexec(c2, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		goto fail_res;
	PQclear(res);
	/* SET TRANSACTION SNAPSHOT takes no parameter: the id goes in quoted */
	{
		char *lit = PQescapeLiteral(c2, snap, strlen(snap));
		char sql[256];

		if (!lit)
			goto fail;
		snprintf(sql, sizeof(sql), "SET TRANSACTION SNAPSHOT %s", lit);
		PQfreemem(lit);
		res = PQexec(c2, sql);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			goto fail_res;
		PQclear(res);
	}
	/*
	 * The selection, and: its one statement walks the chain in order, so
	 * no sort of the period either (see entries_sql).
	 */
	res = PQexecParams(c2, SELECTION_SQL ", "
			   "       pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false), "
			   "       pg_catalog.set_config('enable_sort', 'off', true)",
			   5, NULL, p5, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		goto fail_res;
	PQclear(res);
	if (!PQsendQuery(c2, entries_sql))
		goto fail;
	return c2;
fail_res:
	PQclear(res);
fail:
	PQfinish(c2);
	return NULL;
}

static int audit_export_once(PGconn *conn, const struct em_audit_export *a,
			     struct em_audit_export_result *result, struct em_error *err)
{
	static const char *const xsd[] = { "ledger.xsd", "balances.xsd", "control.xsd" };
	char first_seq[32] = "0", last_seq[32] = "0";
	const char *p3[] = { a->book, a->from, a->to };
	const char *p5[] = { a->book, a->from, a->to, first_seq, last_seq };
	const char *p1[] = { a->book };
	struct em_strbuf dir = EM_STRBUF_INIT, path = EM_STRBUF_INIT, zpath = EM_STRBUF_INIT;
	char digests[EM_AUDIT_NFILES][65];
	const char *dptr[EM_AUDIT_NFILES];
	char head_seq[32] = "0", head_hash[65], prev[65] = "", book_name[256] = "";
	struct summary sum;
	struct zipper zp;
	PGconn *ahead = NULL;
	int64_t balance_rows = 0;
	STACK_OF(X509) *certs = NULL;
	EVP_PKEY *key = NULL;
	PGresult *res = NULL;
	int in_tx = 0, dir_made = 0, zip_made = 0;
	int ret = EM_ERR;

	memset(result, 0, sizeof(*result));
	memset(&sum, 0, sizeof(sum));
	memset(&zp, 0, sizeof(zp));
	memset(head_hash, '0', 64);
	head_hash[64] = '\0';
	if (strcmp(a->from, a->to) > 0) {
		em_error_set(err, "the period runs from %s to %s, which is backwards", a->from, a->to);
		return EM_ERR_USAGE;
	}
	certs = sk_X509_new_null();
	if (!certs)
		abort();
	if (!(key = load_key(a->key_path, &result->key_unencrypted, err)) ||
	    load_certs(a->cert_path, certs, err) < 0 ||
	    (a->chain_path && load_certs(a->chain_path, certs, err) < 0) ||
	    check_key(key, sk_X509_value(certs, 0), a->cert_path, err) < 0)
		goto out;

	if (em_db_command(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ", 0, NULL, err) < 0)
		goto out;
	in_tx = 1;
	res = em_db_exec(conn, "SELECT package_no, signature_digest FROM earmark.audit_begin($1)",
			 1, p1, PGRES_TUPLES_OK, 2, err);
	if (!res)
		goto out;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 1))
		snprintf(prev, sizeof(prev), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	/*
	 * The period's posted vouchers: how many (the ledger's NumberOfEntries,
	 * written before them) and their first and last chain position, which
	 * bound the entries' walk along the chain (an index-only scan of 0021's
	 * voucher_posted_date).
	 */
	res = em_db_exec(conn,
			 "SELECT count(*), COALESCE(min(v.chain_seq), 0), COALESCE(max(v.chain_seq), 0) "
			 "  FROM earmark.voucher v "
			 " WHERE v.book_id = earmark.book_of($1) AND v.status = 'posted' "
			 "   AND v.voucher_date BETWEEN $2::date AND $3::date",
			 3, p3, PGRES_TUPLES_OK, 3, err);
	if (!res)
		goto out;
	sum.vouchers = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	snprintf(first_seq, sizeof(first_seq), "%s", PQgetvalue(res, 0, 1));
	snprintf(last_seq, sizeof(last_seq), "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	res = em_db_exec(conn, SELECTION_SQL, 5, p5, PGRES_TUPLES_OK, 7, err);
	if (!res)
		goto out;
	PQclear(res);
	ahead = entries_ahead(conn, p5);
	res = em_db_exec(conn,
			 "SELECT b.name, COALESCE(h.seq, 0), COALESCE(encode(h.hash, 'hex'), repeat('0', 64)) "
			 "  FROM earmark.book b LEFT JOIN earmark.chain_head h ON h.book_id = b.book_id "
			 " WHERE b.code = $1", 1, p1, PGRES_TUPLES_OK, 3, err);
	if (!res)
		goto out;
	if (PQntuples(res) != 1) {
		em_error_set(err, "unknown book '%s'", a->book);
		goto out;
	}
	snprintf(book_name, sizeof(book_name), "%s", PQgetvalue(res, 0, 0));
	snprintf(head_seq, sizeof(head_seq), "%s", PQgetvalue(res, 0, 1));
	snprintf(head_hash, sizeof(head_hash), "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	res = NULL;

	/* the package's files, in a private folder beside the output */
	em_strbuf_addf(&dir, "%s.tmpXXXXXX", a->out_path);
	if (!mkdtemp(dir.buf)) {
		em_error_set(err, "could not create a folder beside '%s': %s", a->out_path, strerror(errno));
		goto out;
	}
	dir_made = 1;
	em_strbuf_addf(&path, "%s/schemas", dir.buf);
	if (mkdir(path.buf, 0700) != 0)
		goto io;
	em_strbuf_reset(&path);
	em_strbuf_addf(&path, "%s/META-INF", dir.buf);
	if (mkdir(path.buf, 0700) != 0)
		goto io;
	/* balances first: its query gives the period's totals the ledger's header states */
	em_strbuf_reset(&path);
	em_strbuf_addf(&path, "%s/balances.xml", dir.buf);
	if (write_balances(conn, a, path.buf, &sum, &balance_rows, digests[1], err) < 0)
		goto out;
	/* the ZIP is written from here on, entry by entry, as the files are */
	em_strbuf_addf(&zpath, "%s/package.asice", dir.buf);
	if (zipper_start(&zp, zpath.buf, err) < 0)
		goto out;
	zip_made = 1;
	em_strbuf_reset(&path);
	em_strbuf_addf(&path, "%s/ledger.xml", dir.buf);
	if (write_ledger(conn, ahead, a, path.buf, &zp, book_name, &sum, digests[0], err) < 0)
		goto out;
	em_strbuf_reset(&path);
	em_strbuf_addf(&path, "%s/balances.xml", dir.buf);
	if (zipper_put_file(&zp, path.buf) < 0)
		goto zip_failed;
	em_strbuf_reset(&path);
	em_strbuf_addf(&path, "%s/control.xml", dir.buf);
	if (write_control(conn, a, path.buf, &sum, balance_rows, head_seq, head_hash, prev,
			  digests[2], err) < 0)
		goto out;
	if (zipper_put_file(&zp, path.buf) < 0)
		goto zip_failed;
	for (int i = 0; i < 3; i++) {
		struct em_strbuf from = EM_STRBUF_INIT;

		em_strbuf_addf(&from, "%s/%s", a->schema_dir, xsd[i]);
		em_strbuf_reset(&path);
		em_strbuf_addf(&path, "%s/schemas/%s", dir.buf, xsd[i]);
		ret = copy_schema(from.buf, path.buf, digests[3 + i], err);
		em_strbuf_release(&from);
		if (ret < 0)
			goto out;
		ret = EM_ERR;
		if (zipper_put_file(&zp, path.buf) < 0)
			goto zip_failed;
	}
	/* hex digests to the base64 XMLDSig wants */
	for (int i = 0; i < EM_AUDIT_NFILES; i++) {
		unsigned char raw[EM_HASH_LEN];
		struct em_strbuf b = EM_STRBUF_INIT;

		for (int j = 0; j < EM_HASH_LEN; j++) {
			unsigned int byte;
			sscanf(digests[i] + 2 * j, "%2x", &byte);
			raw[j] = (unsigned char)byte;
		}
		b64(&b, raw, sizeof(raw));
		snprintf(digests[i], sizeof(digests[i]), "%s", b.buf);
		em_strbuf_release(&b);
		dptr[i] = digests[i];
	}
	em_strbuf_reset(&path);
	em_strbuf_addf(&path, "%s/%s", dir.buf, EM_AUDIT_SIGFILE);
	if (write_signature(path.buf, dptr, key, certs, result->signature_digest, err) < 0)
		goto out;
	if (zipper_put_file(&zp, path.buf) < 0)
		goto zip_failed;
	if (zipper_finish(&zp, 0, err) < 0 || sync_file(zpath.buf, err) < 0)
		goto out;
	{
		const char *rp[] = { a->book, a->from, a->to, head_seq, head_hash,
				     *prev ? prev : NULL, result->signature_digest };

		res = em_db_exec(conn, "SELECT earmark.audit_record($1, $2, $3, $4, $5, $6, $7)",
				 7, rp, PGRES_TUPLES_OK, 1, err);
		if (!res)
			goto out;
		result->package_no = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
		res = NULL;
	}
	/*
	 * Recorded first, then in place: a package at the -o path is always one
	 * the book has recorded.  A client killed between the two leaves the
	 * package only in the temporary folder, and the next export names it
	 * (X1) as the database says.
	 */
	if (em_db_command(conn, "COMMIT", 0, NULL, err) < 0) {
		in_tx = 0;
		goto out;
	}
	in_tx = 0;
	if (rename(zpath.buf, a->out_path) != 0) {
		em_error_set(err, "could not rename '%s' to '%s': %s", zpath.buf, a->out_path,
			     strerror(errno));
		em_error_detail(err, "package no. %d is recorded in the book; its file is '%s'",
				result->package_no, zpath.buf);
		em_error_hint(err, "move that file into place by hand");
		zip_made = dir_made = 0;	/* keep it */
		goto out;
	}
	zip_made = 0;
	result->vouchers = sum.vouchers;
	result->lines = sum.lines;
	snprintf(result->prev_digest, sizeof(result->prev_digest), "%s", prev);
	ret = 0;
	goto out;
zip_failed:
	/* the thread stopped: what libzip said is the error */
	zipper_finish(&zp, 0, err);
	if (!err->message)
		em_error_set(err, "could not write '%s'", zpath.buf);
	goto out;
io:
	em_error_set(err, "could not create '%s': %s", path.buf, strerror(errno));
out:
	if (zp.running)
		zipper_finish(&zp, 1, err);
	PQclear(res);
	PQfinish(ahead);	/* ends its read-only transaction */
	if (in_tx) {
		PGresult *r = PQexec(conn, "ROLLBACK");
		PQclear(r);
	}
	if (zip_made)
		unlink(zpath.buf);
	if (dir_made) {
		unlink(zpath.buf);
		remove_tree(dir.buf);
	}
	EVP_PKEY_free(key);
	sk_X509_pop_free(certs, X509_free);
	summary_release(&sum);
	em_strbuf_release(&dir);
	em_strbuf_release(&path);
	em_strbuf_release(&zpath);
	return ret;
}

/*
 * Two auditors exporting the same book at once: the second one's snapshot
 * was taken before the first recorded its package, so its package would
 * name the wrong predecessor; audit_record refuses it as a serialization
 * failure (0018) and the whole export runs again on a fresh snapshot.
 */
int em_audit_export(PGconn *conn, const struct em_audit_export *a,
		    struct em_audit_export_result *result, struct em_error *err)
{
	int ret;

	for (int attempt = 0;
	     (ret = audit_export_once(conn, a, result, err)) < 0 && em_db_retry_again(conn, attempt, err);
	     attempt++)
		;
	return ret;
}
