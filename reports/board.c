/*
 * The public notice board (`earmark serve`, DESIGN section 7): published
 * notices for anyone, over HTTP, read-only.
 *
 * What it can show is bounded by the database, not by this file: each
 * request connects as a role that is a member of earmark_public and of no
 * other earmark role (checked at start), which can read the view
 * earmark.public_notice and nothing else, and whose notices hold masked
 * personal data only (H4).  The session is read-only with a statement
 * timeout.  A connection per request keeps the board serving whatever
 * happens to the ledger (writers, restarts): a failed connection costs one
 * request a 503, never the board.
 *
 * The board answers GET and HEAD on a fixed set of paths:
 *   /                                      index by township and village
 *   /notice/<sha256 hex>.html|.pdf|.xml|.txt  one notice (?paper=A3 for an A3 PDF)
 *   /check?d=<sha256 hex>                  is this digest a published notice?
 * Anything else is 400 (a path with "..", "%", "\", "//" or control
 * characters: nothing here maps to files) or 404.  Requests are bounded:
 * URL length, header memory per connection (libmicrohttpd answers 431 or
 * 414 beyond it), no body, a connection limit and timeout.  Every answer
 * carries a Content-Security-Policy that allows no script, no remote
 * anything, and no framing.  Database errors go to the log; the client sees
 * "temporarily unavailable".
 */
#include "reports/notice.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "ledger/config.h"
#include "ledger/db.h"
#include "ledger/error.h"
#include "ledger/strbuf.h"

#define EM_BOARD_MAX_URL 200          /* bytes of path; a notice path is 80 */
#define EM_BOARD_MEMORY (16 * 1024)   /* per connection: request line and headers */
#define EM_BOARD_CONNECTIONS 64
#define EM_BOARD_TIMEOUT 15           /* seconds of an idle connection */
#define EM_BOARD_INDEX_MAX 5000       /* notices on the index */

static const char em_board_csp[] =
	"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
	"frame-ancestors 'none'; base-uri 'none'";

struct em_board {
	struct MHD_Daemon *daemon;
	const struct em_config *cfg;  /* the caller's, outlives the board */
	char *role;                   /* database role of every request */
	FILE *log;                    /* where database errors go */
	pthread_mutex_t log_lock;     /* one line at a time */
};

static void em_board_log(struct em_board *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void em_board_log(struct em_board *b, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&b->log_lock);
	fputs("earmark serve: ", b->log);
	va_start(ap, fmt);
	vfprintf(b->log, fmt, ap);
	va_end(ap);
	fputc('\n', b->log);
	fflush(b->log);
	pthread_mutex_unlock(&b->log_lock);
}

static void em_board_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct em_board *b = cls;

	pthread_mutex_lock(&b->log_lock);
	fputs("earmark serve: ", b->log);
	vfprintf(b->log, fmt, ap);
	fflush(b->log);
	pthread_mutex_unlock(&b->log_lock);
}

static void em_board_log_error(struct em_board *b, const char *what, const struct em_error *err)
{
	em_board_log(b, "%s: %s%s%s%s", what, err->message ? err->message : "failed",
		     err->detail ? " (" : "", err->detail ? err->detail : "", err->detail ? ")" : "");
}

static enum MHD_Result em_board_send(struct MHD_Connection *c, unsigned int status, const char *type,
				     const void *data, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Content-Security-Policy", em_board_csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static void em_board_html_text(struct em_strbuf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': em_strbuf_adds(out, "&lt;"); break;
		case '>': em_strbuf_adds(out, "&gt;"); break;
		case '&': em_strbuf_adds(out, "&amp;"); break;
		case '"': em_strbuf_adds(out, "&quot;"); break;
		case '\'': em_strbuf_adds(out, "&#39;"); break;
		default: em_strbuf_addc(out, *s);
		}
	}
}

static void em_board_page_start(struct em_strbuf *out, const char *title)
{
	em_strbuf_adds(out, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
			    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	em_board_html_text(out, title);
	em_strbuf_adds(out, "</title>\n<style>body{font-family:\"Noto Sans CJK SC\",\"Noto Serif CJK SC\",sans-serif;"
			    "max-width:60em;margin:0 auto;padding:1em;line-height:1.5}h1{font-size:1.5em}"
			    "h2{font-size:1.2em;border-bottom:1px solid #888}h3{font-size:1em}"
			    ".digest{font-family:monospace;word-break:break-all}.ok{color:#060}.bad{color:#b00}"
			    "input[type=text]{width:100%;font-family:monospace}</style>\n</head>\n<body>\n"
			    "<p><a href=\"/\">公示栏首页</a> · <a href=\"/check\">核验公告</a></p>\n<h1>");
	em_board_html_text(out, title);
	em_strbuf_adds(out, "</h1>\n");
}

static enum MHD_Result em_board_message(struct MHD_Connection *c, unsigned int status, const char *title,
					const char *text)
{
	struct em_strbuf out = EM_STRBUF_INIT;
	enum MHD_Result ret;

	em_board_page_start(&out, title);
	em_strbuf_adds(&out, "<p>");
	em_board_html_text(&out, text);
	em_strbuf_adds(&out, "</p>\n</body>\n</html>\n");
	ret = em_board_send(c, status, "text/html; charset=utf-8", out.buf, out.len);
	em_strbuf_release(&out);
	return ret;
}

static enum MHD_Result em_board_unavailable(struct MHD_Connection *c)
{
	return em_board_message(c, MHD_HTTP_SERVICE_UNAVAILABLE, "暂时无法访问",
				"公示栏暂时无法读取公告，请稍后再试。 (temporarily unavailable)");
}

/* A read-only session as the board's role, or NULL (logged). */
static PGconn *em_board_connect(struct em_board *b)
{
	struct em_error err = EM_ERROR_INIT;
	PGconn *conn = em_db_connect(b->cfg, b->role, 0, &err);

	if (conn && em_db_command(conn, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", 0, NULL, &err) == 0 &&
	    em_db_command(conn, "SET statement_timeout = 10000", 0, NULL, &err) == 0) {
		em_error_release(&err);
		return conn;
	}
	em_board_log_error(b, "database", &err);
	em_error_release(&err);
	PQfinish(conn);
	return NULL;
}

static int em_is_digest(const char *s, size_t n)
{
	if (n != 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static const char *em_kind_name(const char *k)
{
	return strcmp(k, "plan") == 0 ? "事前公示" : "事后公告";
}

static enum MHD_Result em_board_index(struct em_board *b, struct MHD_Connection *c)
{
	struct em_strbuf out = EM_STRBUF_INIT;
	struct em_error err = EM_ERROR_INIT;
	PGconn *conn = em_board_connect(b);
	PGresult *res = NULL;
	enum MHD_Result ret;
	const char *twp = NULL, *vil = NULL;

	if (!conn)
		return em_board_unavailable(c);
	res = em_db_exec(conn,
			 "SELECT township, village, kind, title, published_on::text, "
			 "(published_on + notice_days - 1)::text, digest FROM earmark.public_notice "
			 "ORDER BY township, village, scope DESC, published_on DESC, notice_id DESC LIMIT 5000",
			 0, NULL, PGRES_TUPLES_OK, 7, &err);
	if (!res) {
		em_board_log_error(b, "index", &err);
		em_error_release(&err);
		PQfinish(conn);
		return em_board_unavailable(c);
	}
	em_board_page_start(&out, "财政衔接资金项目公告公示栏");
	if (PQntuples(res) == 0)
		em_strbuf_adds(&out, "<p>尚无已发布的公告。</p>\n");
	for (int i = 0; i < PQntuples(res); i++) {
		const char *t = PQgetvalue(res, i, 0), *v = PQgetvalue(res, i, 1), *d = PQgetvalue(res, i, 6);
		int new_twp = !twp || strcmp(twp, t) != 0;
		if (new_twp || strcmp(vil, v) != 0) {
			if (twp)
				em_strbuf_adds(&out, "</ul>\n");
			if (new_twp) {
				em_strbuf_adds(&out, "<h2>");
				em_board_html_text(&out, *t ? t : "全县及跨乡镇项目");
				em_strbuf_adds(&out, "</h2>\n");
			}
			em_strbuf_adds(&out, "<h3>");
			em_board_html_text(&out, *v ? v : "项目公示");
			em_strbuf_adds(&out, "</h3>\n<ul>\n");
		}
		em_strbuf_adds(&out, "<li>");
		twp = t;
		vil = v;
		em_strbuf_addf(&out, "[%s] <a href=\"/notice/%s.html\">", em_kind_name(PQgetvalue(res, i, 2)), d);
		em_board_html_text(&out, PQgetvalue(res, i, 3));
		em_strbuf_addf(&out, "</a> 公示期 %s 至 %s · <a href=\"/notice/%s.pdf\">PDF</a> "
				     "(<a href=\"/notice/%s.pdf?paper=A3\">A3</a>) · "
				     "<a href=\"/notice/%s.xml\">XML</a> · <a href=\"/notice/%s.txt\">文本</a></li>\n",
			       PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), d, d, d, d);
	}
	if (twp)
		em_strbuf_adds(&out, "</ul>\n");
	em_strbuf_adds(&out, "</body>\n</html>\n");
	PQclear(res);
	PQfinish(conn);
	ret = em_board_send(c, MHD_HTTP_OK, "text/html; charset=utf-8", out.buf, out.len);
	em_strbuf_release(&out);
	return ret;
}

/* The published notice with this digest: 1 found, 0 none, -1 database error (logged). */
static int em_board_lookup(struct em_board *b, const char *digest, PGresult **res)
{
	struct em_error err = EM_ERROR_INIT;
	const char *params[] = { digest };
	PGconn *conn = em_board_connect(b);

	*res = NULL;
	if (!conn)
		return -1;
	*res = em_db_exec(conn,
			  "SELECT content, notice_id::text, title, published_on::text, "
			  "(published_on + notice_days - 1)::text, kind, book FROM earmark.public_notice WHERE digest = $1",
			  1, params, PGRES_TUPLES_OK, 7, &err);
	PQfinish(conn);
	if (!*res) {
		em_board_log_error(b, "lookup", &err);
		em_error_release(&err);
		return -1;
	}
	if (PQntuples(*res) != 1) {
		PQclear(*res);
		*res = NULL;
		return 0;
	}
	return 1;
}

static enum MHD_Result em_board_notice(struct em_board *b, struct MHD_Connection *c, const char *digest,
				       enum em_notice_format fmt)
{
	static const char *const types[] = { "text/html; charset=utf-8", "application/pdf",
					     "text/plain; charset=utf-8", "application/xml; charset=utf-8" };
	struct em_strbuf out = EM_STRBUF_INIT;
	struct em_error err = EM_ERROR_INIT;
	PGresult *res;
	const char *paper_arg;
	char check[65];
	enum MHD_Result ret;
	int found = em_board_lookup(b, digest, &res);

	if (found < 0)
		return em_board_unavailable(c);
	if (found == 0)
		return em_board_message(c, MHD_HTTP_NOT_FOUND, "未找到公告",
					"没有与该校验码对应的已发布公告。 (no published notice has this digest)");
	/* What the database holds must still be what was published. */
	em_notice_digest(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), check);
	paper_arg = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "paper");
	if (strcmp(check, digest) != 0 ||
	    em_notice_render(PQgetvalue(res, 0, 0), fmt,
			     paper_arg && strcmp(paper_arg, "A3") == 0 ? EM_PAPER_A3 : EM_PAPER_A4, 0, &out,
			     &err) < 0) {
		em_board_log(b, "notice %s: %s", digest, err.message ? err.message : "content does not match its digest");
		em_error_release(&err);
		PQclear(res);
		em_strbuf_release(&out);
		return em_board_unavailable(c);
	}
	PQclear(res);
	ret = em_board_send(c, MHD_HTTP_OK, types[fmt], out.buf, out.len);
	em_strbuf_release(&out);
	return ret;
}

static enum MHD_Result em_board_check(struct em_board *b, struct MHD_Connection *c)
{
	const char *d = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "d");
	struct em_strbuf out = EM_STRBUF_INIT;
	struct em_strbuf norm = EM_STRBUF_INIT;
	unsigned int status = MHD_HTTP_OK;
	PGresult *res = NULL;
	enum MHD_Result ret;
	int found = 0;

	em_board_page_start(&out, "核验公告");
	em_strbuf_adds(&out, "<form method=\"get\" action=\"/check\"><p><label>公告校验码（SHA-256，64位）"
			     "<input type=\"text\" name=\"d\" maxlength=\"80\" autocomplete=\"off\"></label></p>"
			     "<p><button type=\"submit\">核验</button></p></form>\n");
	if (d && *d) {
		/* Typed by hand or read from the QR code: spaces and capitals are forgiven. */
		for (const char *p = d; *p && norm.len <= 64; p++)
			if (!isspace((unsigned char)*p))
				em_strbuf_addc(&norm, (char)tolower((unsigned char)*p));
		if (!em_is_digest(norm.buf, norm.len)) {
			status = MHD_HTTP_BAD_REQUEST;
			em_strbuf_adds(&out, "<p class=\"bad\"><strong>校验码格式不对</strong>：应为64位十六进制数字 "
					     "(a digest is 64 hexadecimal digits)。</p>\n");
		} else if ((found = em_board_lookup(b, norm.buf, &res)) < 0) {
			em_strbuf_release(&out);
			em_strbuf_release(&norm);
			return em_board_unavailable(c);
		} else if (found == 0) {
			status = MHD_HTTP_NOT_FOUND;
			em_strbuf_adds(&out, "<p class=\"bad\"><strong>未通过核验</strong>：没有与该校验码对应的已发布公告，"
					     "该公告可能被改动或不是本公示栏发布的 (not a published notice)。</p>\n"
					     "<p class=\"digest\">");
			em_strbuf_add(&out, norm.buf, norm.len);
			em_strbuf_adds(&out, "</p>\n");
		} else {
			em_strbuf_adds(&out, "<p class=\"ok\"><strong>核验通过</strong>：该校验码属于已发布的公告 "
					     "(genuine: a published notice)。</p>\n<dl><dt>公告</dt><dd>");
			em_strbuf_addf(&out, "#%s %s ", PQgetvalue(res, 0, 1), em_kind_name(PQgetvalue(res, 0, 5)));
			em_board_html_text(&out, PQgetvalue(res, 0, 2));
			em_strbuf_addf(&out, "</dd><dt>公示期</dt><dd>%s 至 %s</dd><dt>校验码</dt><dd class=\"digest\">%s</dd>"
					     "</dl>\n<p><a href=\"/notice/%s.html\">查看公告</a> · <a href=\"/notice/%s.pdf\">PDF</a>"
					     " · <a href=\"/notice/%s.xml\">XML</a></p>\n",
				       PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4), norm.buf, norm.buf, norm.buf, norm.buf);
			PQclear(res);
		}
	}
	em_strbuf_adds(&out, "</body>\n</html>\n");
	ret = em_board_send(c, status, "text/html; charset=utf-8", out.buf, out.len);
	em_strbuf_release(&out);
	em_strbuf_release(&norm);
	return ret;
}

/* A path that could mean a file or climb: refused before any routing. */
static int em_board_bad_path(const char *url)
{
	if (url[0] != '/' || strstr(url, "..") || strstr(url, "//"))
		return 1;
	for (const char *p = url; *p; p++)
		if (*p == '%' || *p == '\\' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return 1;
	return 0;
}

static enum MHD_Result em_board_answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				       const char *version, const char *upload_data, size_t *upload_data_size,
				       void **con_cls)
{
	static int first_call;
	struct em_board *b = cls;
	size_t n = strlen(url);
	static const char *const ext[] = { ".html", ".pdf", ".txt", ".xml" };
	static const enum em_notice_format fmts[] = { EM_NOTICE_HTML, EM_NOTICE_PDF, EM_NOTICE_TXT, EM_NOTICE_XML };

	(void)version, (void)upload_data, (void)upload_data_size;
	/* Refused on the first call, before any body is read. */
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return em_board_message(c, MHD_HTTP_METHOD_NOT_ALLOWED, "请求无效", "只允许 GET (GET only)");
	if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH) ||
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return em_board_message(c, MHD_HTTP_CONTENT_TOO_LARGE, "请求无效", "请求不能带有内容 (no body)");
	if (!*con_cls) {
		*con_cls = &first_call;   /* headers are in; answer on the next call */
		return MHD_YES;
	}
	if (n > EM_BOARD_MAX_URL)
		return em_board_message(c, MHD_HTTP_URI_TOO_LONG, "请求无效", "地址过长 (URL too long)");
	if (em_board_bad_path(url))
		return em_board_message(c, MHD_HTTP_BAD_REQUEST, "请求无效", "地址无效 (bad path)");
	if (strcmp(url, "/") == 0)
		return em_board_index(b, c);
	if (strcmp(url, "/check") == 0)
		return em_board_check(b, c);
	if (strncmp(url, "/notice/", 8) == 0) {
		const char *d = url + 8, *dot = strrchr(d, '.');
		for (int i = 0; dot && i < 4; i++)
			if (strcmp(dot, ext[i]) == 0) {
				if (!em_is_digest(d, (size_t)(dot - d)))
					return em_board_message(c, MHD_HTTP_BAD_REQUEST, "请求无效",
								"校验码应为64位十六进制小写数字 (bad digest)");
				{
					char digest[65];
					memcpy(digest, d, 64);
					digest[64] = '\0';
					return em_board_notice(b, c, digest, fmts[i]);
				}
			}
	}
	return em_board_message(c, MHD_HTTP_NOT_FOUND, "未找到", "没有这个页面 (not found)");
}

/* "127.0.0.1:8080" into addr; loopback or any IPv4 address, port 1-65535. */
static int em_board_parse_listen(const char *listen, struct sockaddr_in *addr, struct em_error *err)
{
	const char *colon = listen ? strrchr(listen, ':') : NULL;
	char host[64];
	char *end;
	long port;

	memset(addr, 0, sizeof(*addr));
	if (!colon || (size_t)(colon - listen) >= sizeof(host))
		goto bad;
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 1 || port > 65535)
		goto bad;
	addr->sin_family = AF_INET;
	addr->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &addr->sin_addr) != 1)
		goto bad;
	return 0;
bad:
	em_error_set(err, "cannot listen on '%s'", listen ? listen : "");
	em_error_hint(err, "--listen ADDRESS:PORT, e.g. 127.0.0.1:8080");
	return EM_ERR_USAGE;
}

int em_board_listen_check(const char *listen, struct em_error *err)
{
	struct sockaddr_in addr;

	return em_board_parse_listen(listen, &addr, err);
}

/* The role may read published notices and nothing else: earmark_public only. */
static int em_board_check_role(struct em_board *b, struct em_error *err)
{
	PGconn *conn = em_db_connect(b->cfg, b->role, 0, err);
	PGresult *res;
	int ret = EM_ERR;

	if (!conn)
		return EM_ERR;
	res = em_db_exec(conn,
			 "SELECT current_user::text, r.rolsuper OR r.rolbypassrls, "
			 "pg_catalog.pg_has_role(current_user, 'earmark_public', 'MEMBER'), "
			 "COALESCE((SELECT pg_catalog.string_agg(g, ', ') FROM pg_catalog.unnest(ARRAY['earmark_owner', "
			 "'earmark_clerk', 'earmark_reviewer', 'earmark_bookkeeper', 'earmark_cashier', 'earmark_admin', "
			 "'earmark_auditor']) g WHERE pg_catalog.pg_has_role(current_user, g, 'MEMBER')), '') "
			 "FROM pg_catalog.pg_roles r WHERE r.rolname = current_user",
			 0, NULL, PGRES_TUPLES_OK, 4, err);
	if (!res)
		goto out;
	if (PQntuples(res) != 1) {
		em_error_set(err, "could not read the board's role");
	} else if (strcmp(PQgetvalue(res, 0, 1), "t") == 0 || strcmp(PQgetvalue(res, 0, 2), "t") != 0 ||
		   *PQgetvalue(res, 0, 3)) {
		em_error_set(err, "role '%s' may not run the public board", PQgetvalue(res, 0, 0));
		em_error_detail(err, "the board's role is a member of earmark_public and of no other earmark role%s%s",
				*PQgetvalue(res, 0, 3) ? "; it is a member of " : "", PQgetvalue(res, 0, 3));
		em_error_hint(err, "create one: earmark user add board --role public; then earmark --user board serve");
	} else {
		ret = 0;
	}
	PQclear(res);
out:
	PQfinish(conn);
	return ret;
}

struct em_board *em_board_start(const struct em_config *cfg, const char *role, const char *listen,
				FILE *log, struct em_error *err)
{
	struct em_board *b = calloc(1, sizeof(*b));
	struct sockaddr_in addr;

	if (!b)
		abort();
	b->cfg = cfg;
	b->role = role ? strdup(role) : NULL;
	b->log = log;
	pthread_mutex_init(&b->log_lock, NULL);
	if (em_board_parse_listen(listen, &addr, err) < 0 || em_board_check_role(b, err) < 0)
		goto fail;
	b->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
					     MHD_USE_ERROR_LOG,
				     0, NULL, NULL, em_board_answer, b,
				     MHD_OPTION_EXTERNAL_LOGGER, em_board_mhd_log, b,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
				     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)EM_BOARD_MEMORY,
				     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)EM_BOARD_CONNECTIONS,
				     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)32,
				     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)EM_BOARD_TIMEOUT,
				     MHD_OPTION_END);
	if (!b->daemon) {
		em_error_set(err, "could not listen on '%s'", listen);
		em_error_hint(err, "is the port in use? pick another with --listen 127.0.0.1:PORT");
		goto fail;
	}
	return b;
fail:
	em_board_stop(b);
	return NULL;
}

void em_board_stop(struct em_board *b)
{
	if (!b)
		return;
	if (b->daemon)
		MHD_stop_daemon(b->daemon);
	em_notice_cleanup();
	pthread_mutex_destroy(&b->log_lock);
	free(b->role);
	free(b);
}
