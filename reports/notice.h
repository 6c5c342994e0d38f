/*
 * Public notices (公告公示, DESIGN section 7) and the public notice board.
 *
 * A notice's canonical content is made by the database
 * (earmark.notice_content, migration 0014) from the ledger and master
 * data: UTF-8 lines of tab-separated, escaped fields, personal data only
 * masked (H4).  Every format here is rendered from that content alone, so
 * the SHA-256 digest of the content, printed on each rendering and as a QR
 * code, names the published notice and the board can confirm it.
 */
#ifndef EM_NOTICE_H
#define EM_NOTICE_H

#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

struct em_config;
struct em_error;
struct em_strbuf;

enum em_notice_format { EM_NOTICE_HTML, EM_NOTICE_PDF, EM_NOTICE_TXT, EM_NOTICE_XML };
enum em_notice_paper { EM_PAPER_A4, EM_PAPER_A3 };

/* "html" "pdf" "txt" "xml" / "A4" "A3" (NULL: A4); EM_ERR_USAGE on anything else. */
int em_notice_format_parse(const char *s, enum em_notice_format *fmt, struct em_error *err);
int em_notice_paper_parse(const char *s, enum em_notice_paper *paper, struct em_error *err);

/* Lowercase hex SHA-256 of len bytes of content into hex[65]. */
void em_notice_digest(const char *content, size_t len, char hex[65]);

/*
 * Appends the notice in content (canonical, checked here) to out in the
 * given format.  draft: the content is not a published notice, and the
 * rendering says so.
 */
int em_notice_render(const char *content, enum em_notice_format fmt, enum em_notice_paper paper,
		     int draft, struct em_strbuf *out, struct em_error *err);

struct em_notice_req {
	const char *kind;  /* plan | result */
	const char *scope; /* village | project | county */
	const char *code;  /* village or project code; the book's for county */
	const char *from;  /* first day of the notice period, YYYY-MM-DD */
	const char *days;  /* notice period in days, NULL: the book's notice_days */
	const char *lists; /* beneficiary lists to publish with it, "L1,L2", or NULL */
};

/*
 * The latest published notice of the request's kind and scope when there
 * is one (*published = 1), else a draft made now from the ledger
 * (*published = 0, period from r->from for r->days).
 */
int em_notice_fetch(PGconn *conn, const char *book, const struct em_notice_req *r,
		    struct em_strbuf *content, int *published, struct em_error *err);
/* Writes data to path through a temporary file, fsync and rename. */
int em_notice_write_file(const char *path, const char *data, size_t len, struct em_error *err);
/* Publishes a notice (admin); result gets "NOTICE_ID DIGEST". */
int em_notice_publish(PGconn *conn, const char *book, const struct em_notice_req *r,
		      struct em_strbuf *result, struct em_error *err);

/*
 * One call for `earmark notice`: "object" (book, notice, household, date,
 * reason), "resolve" (book, objection id, date, resolution), "contact"
 * (book, publisher, hotline); result gets the answer's first value.
 */
int em_notice_action(PGconn *conn, const char *name, const char *const *params, struct em_strbuf *result,
		     struct em_error *err);

/* Frees the fonts and caches the PDF renderer keeps (at exit, for leak checkers). */
void em_notice_cleanup(void);

struct em_board;

/*
 * Starts the public board on listen ("127.0.0.1:PORT"), answering from
 * threads of its own; each request connects as role, which must be a
 * member of earmark_public and of no other earmark role.  Database errors
 * are written to log, never to the client.
 */
struct em_board *em_board_start(const struct em_config *cfg, const char *role, const char *listen,
				FILE *log, struct em_error *err);
/* Is listen an "ADDRESS:PORT" the board can use?  EM_ERR_USAGE when not. */
int em_board_listen_check(const char *listen, struct em_error *err);
/* Stops answering and frees the board. */
void em_board_stop(struct em_board *b);

#endif
