/*
 * Public notices (公告公示, DESIGN section 7): the canonical content from
 * the database, and its renderings as printable HTML, PDF (cairo + pango,
 * A4 or A3, Noto CJK fonts), plain text and XML (reports/schemas/notice.xsd).
 *
 * The content (migration 0014, earmark.notice_content) is lines of
 * tab-separated fields, escaped \\ \t \n \r, the first field naming the
 * record: header records (book, kind, scope, title, period, publisher,
 * hotline, chain) and per project: project, place, fund, target, progress,
 * beneficiary, total; "end" closes it.  It is parsed here strictly (every
 * record with its number of fields, every amount an integer of fen), and
 * every format is made from it alone: what is printed is what was
 * published, and its SHA-256 digest, printed and as a QR code, is checked
 * on the board.  The content holds no personal data but masked names (H4),
 * so no rendering can leak any.
 *
 * The text formats are built from one list of items (headings, label and
 * value pairs, tables) so that HTML, text and PDF say the same; XML is
 * written from the records, with the canonical content inside so that a
 * machine can recompute the digest.
 *
 * Workload: a village's or a project's notice, a few hundred lines; the
 * county's notice lists every beneficiary and may be a few MB.
 */
#include "reports/notice.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo-pdf.h>
#include <cairo.h>
#include <libxml/xmlwriter.h>
#include <openssl/evp.h>
#include <pango/pangocairo.h>
#include <qrencode.h>

#include "ledger/date.h"
#include "ledger/db.h"
#include "ledger/error.h"
#include "ledger/money.h"
#include "ledger/strbuf.h"

#define EM_NOTICE_MAX_FIELDS 12
#define EM_NOTICE_MAGIC "earmark-notice"

/* One record of the content: its fields, unescaped, pointing into text. */
struct em_nrec {
	int nf;                               /* number of fields */
	char *f[EM_NOTICE_MAX_FIELDS];        /* f[0] is the record's type */
};

struct em_notice_doc {
	char *text;          /* the unescaped copy the records point into */
	struct em_nrec *rec; /* records in content order */
	size_t nrec;         /* how many */
	char digest[65];     /* of the content as given */
};

/* Record types and how many fields each has, counting the type. */
static const struct {
	const char *type;
	int nf;
} em_nrec_shape[] = {
	{ EM_NOTICE_MAGIC, 2 }, { "book", 3 }, { "kind", 3 }, { "scope", 6 }, { "title", 2 },
	{ "period", 4 }, { "publisher", 3 }, { "hotline", 3 }, { "chain", 3 },
	{ "project", 12 }, { "place", 5 }, { "fund", 7 }, { "target", 6 }, { "progress", 9 },
	{ "beneficiary", 11 }, { "total", 4 }, { "end", 1 },
};

void em_notice_digest(const char *content, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(content, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		abort(); /* SHA-256 of memory cannot fail short of a broken libcrypto */
	for (unsigned int i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[64] = '\0';
}

static void em_notice_doc_release(struct em_notice_doc *d)
{
	free(d->text);
	free(d->rec);
	memset(d, 0, sizeof(*d));
}

static int em_is_fen(const char *s)
{
	size_t n = 0;

	if (*s == '-')
		s++;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n > 0 && n <= 18 && s[n] == '\0';
}

/* Parses content into d; every record checked for its shape. */
static int em_notice_parse(const char *content, struct em_notice_doc *d, struct em_error *err)
{
	size_t len = strlen(content), cap = 64, line = 0;
	char *p, *w;

	memset(d, 0, sizeof(*d));
	em_notice_digest(content, len, d->digest);
	d->text = strdup(content);
	d->rec = calloc(cap, sizeof(*d->rec));
	if (!d->text || !d->rec)
		abort();
	p = w = d->text;
	while (*p) {
		struct em_nrec *r;
		int known = 0;

		line++;
		if (d->nrec == cap) {
			cap *= 2;
			d->rec = realloc(d->rec, cap * sizeof(*d->rec));
			if (!d->rec)
				abort();
		}
		r = &d->rec[d->nrec++];
		memset(r, 0, sizeof(*r));
		r->f[r->nf++] = w;
		for (;;) {
			char c = *p++;
			if (c == '\0' || c == '\n') {
				*w++ = '\0';
				if (c == '\0')
					p--;
				break;
			}
			if (c == '\t') {
				*w++ = '\0';
				if (r->nf == EM_NOTICE_MAX_FIELDS)
					goto bad;
				r->f[r->nf++] = w;
			} else if (c == '\\') {
				c = *p++;
				if (c == 't')
					*w++ = '\t';
				else if (c == 'n')
					*w++ = '\n';
				else if (c == 'r')
					*w++ = '\r';
				else if (c == '\\')
					*w++ = '\\';
				else
					goto bad;
			} else {
				*w++ = c;
			}
		}
		for (size_t i = 0; i < sizeof(em_nrec_shape) / sizeof(em_nrec_shape[0]); i++)
			if (strcmp(r->f[0], em_nrec_shape[i].type) == 0 && r->nf == em_nrec_shape[i].nf)
				known = 1;
		if (!known)
			goto bad;
		if ((strcmp(r->f[0], "fund") == 0 && !em_is_fen(r->f[6])) ||
		    (strcmp(r->f[0], "beneficiary") == 0 && !em_is_fen(r->f[10])) ||
		    (strcmp(r->f[0], "total") == 0 && !em_is_fen(r->f[3])) ||
		    (strcmp(r->f[0], "progress") == 0 && !em_is_fen(r->f[8])))
			goto bad;
	}
	if (d->nrec < 2 || strcmp(d->rec[0].f[0], EM_NOTICE_MAGIC) != 0 || strcmp(d->rec[0].f[1], "1") != 0 ||
	    strcmp(d->rec[d->nrec - 1].f[0], "end") != 0) {
		line = 1;
		goto bad;
	}
	return 0;
bad:
	em_error_set(err, "notice content is not canonical at line %zu", line);
	em_error_hint(err, "a notice is made by earmark.notice_content, never typed");
	em_notice_doc_release(d);
	return EM_ERR;
}

/* The first record of a type, or NULL. */
static const struct em_nrec *em_nrec_find(const struct em_notice_doc *d, const char *type)
{
	for (size_t i = 0; i < d->nrec; i++)
		if (strcmp(d->rec[i].f[0], type) == 0)
			return &d->rec[i];
	return NULL;
}

/* Field i of the first record of type, or "" (the parser guaranteed the shape). */
static const char *em_hdr(const struct em_notice_doc *d, const char *type, int i)
{
	const struct em_nrec *r = em_nrec_find(d, type);
	return r && i < r->nf ? r->f[i] : "";
}

static const char *em_level_name(const char *level)
{
	if (strcmp(level, "central") == 0)
		return "中央";
	if (strcmp(level, "province") == 0)
		return "省级";
	if (strcmp(level, "city") == 0)
		return "市级";
	if (strcmp(level, "county") == 0)
		return "县级";
	return level;
}

static const char *em_or_dash(const char *s)
{
	return s && *s ? s : "—";
}

static void em_fen_text(const char *fen, char buf[EM_MONEY_BUFSZ])
{
	em_money_format_grouped(strtoll(fen, NULL, 10), buf, EM_MONEY_BUFSZ);
}

/* ---- the items the text formats share ------------------------------------- */

enum em_item_kind { EM_IT_TITLE, EM_IT_NOTE, EM_IT_SECTION, EM_IT_KV, EM_IT_PARA, EM_IT_THEAD, EM_IT_TROW,
		    EM_IT_TEND, EM_IT_DIGEST };

struct em_item {
	enum em_item_kind kind;           /* what it is: heading, pair, table row ... */
	int ncols;                        /* cells of a table row, 2 for KV and DIGEST */
	char *col[EM_NOTICE_MAX_FIELDS];  /* the texts, owned (strdup) */
};

struct em_items {
	struct em_item *it;  /* in reading order */
	size_t n, cap;       /* used and allocated */
};

static void em_items_add(struct em_items *l, enum em_item_kind kind, int ncols, ...)
{
	va_list ap;
	struct em_item *it;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->it = realloc(l->it, l->cap * sizeof(*l->it));
		if (!l->it)
			abort();
	}
	it = &l->it[l->n++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->ncols = ncols;
	va_start(ap, ncols);
	for (int i = 0; i < ncols; i++) {
		const char *s = va_arg(ap, const char *);
		it->col[i] = strdup(s ? s : "");
		if (!it->col[i])
			abort();
	}
	va_end(ap);
}

static void em_items_release(struct em_items *l)
{
	for (size_t i = 0; i < l->n; i++)
		for (int c = 0; c < l->it[i].ncols; c++)
			free(l->it[i].col[c]);
	free(l->it);
	memset(l, 0, sizeof(*l));
}

/* Every field of DESIGN section 7, in reading order. */
static void em_notice_items(const struct em_notice_doc *d, int draft, struct em_items *l)
{
	struct em_strbuf s = EM_STRBUF_INIT;
	char m[EM_MONEY_BUFSZ];
	const char *kind = em_hdr(d, "kind", 1);

	em_items_add(l, EM_IT_TITLE, 1, em_hdr(d, "title", 1));
	if (draft)
		em_items_add(l, EM_IT_NOTE, 1, "草稿：本公告尚未发布，公示栏无法核验此校验码 (draft, not published)");
	em_items_add(l, EM_IT_KV, 2, "公告类型", em_hdr(d, "kind", 2));
	em_strbuf_addf(&s, "%s（%s）", em_hdr(d, "scope", 3),
		       strcmp(em_hdr(d, "scope", 1), "village") == 0 ? "村级公示"
		       : strcmp(em_hdr(d, "scope", 1), "project") == 0 ? "项目公示" : "县级公示");
	if (*em_hdr(d, "scope", 4) || *em_hdr(d, "scope", 5))
		em_strbuf_addf(&s, "，%s%s", em_hdr(d, "scope", 5), em_hdr(d, "scope", 4));
	em_items_add(l, EM_IT_KV, 2, "公示范围", s.buf);
	em_strbuf_reset(&s);
	em_strbuf_addf(&s, "%s 至 %s（共 %s 天）", em_hdr(d, "period", 1), em_hdr(d, "period", 2),
		       em_hdr(d, "period", 3));
	em_items_add(l, EM_IT_KV, 2, "公示期", s.buf);

	for (size_t i = 0; i < d->nrec; i++) {
		const struct em_nrec *r = &d->rec[i];
		const char *code = r->nf > 1 ? r->f[1] : "";

		if (strcmp(r->f[0], "project") == 0) {
			em_strbuf_reset(&s);
			em_strbuf_addf(&s, "项目：%s（%s）", r->f[2], r->f[1]);
			em_items_add(l, EM_IT_SECTION, 1, s.buf);
			em_items_add(l, EM_IT_KV, 2, "项目名称", r->f[2]);
			em_items_add(l, EM_IT_KV, 2, "项目类别", em_or_dash(r->f[3]));
			em_strbuf_reset(&s);
			for (size_t j = i + 1; j < d->nrec; j++)
				if (strcmp(d->rec[j].f[0], "place") == 0 && strcmp(d->rec[j].f[1], code) == 0)
					em_strbuf_addf(&s, "%s%s%s", s.len ? "、" : "", d->rec[j].f[4], d->rec[j].f[3]);
			em_items_add(l, EM_IT_KV, 2, "建设地点", em_or_dash(s.buf));
			em_items_add(l, EM_IT_KV, 2, "建设内容及规模", em_or_dash(r->f[4]));
			em_items_add(l, EM_IT_KV, 2, "补助标准", em_or_dash(r->f[5]));
			em_strbuf_reset(&s);
			em_strbuf_addf(&s, "%s 至 %s", em_or_dash(r->f[10]), em_or_dash(r->f[11]));
			em_items_add(l, EM_IT_KV, 2, "实施期限", s.buf);
			em_items_add(l, EM_IT_KV, 2, "实施单位", em_or_dash(r->f[6]));
			em_items_add(l, EM_IT_KV, 2, "责任人", em_or_dash(r->f[7]));
			em_items_add(l, EM_IT_KV, 2, "施工单位", em_or_dash(r->f[8]));
			em_items_add(l, EM_IT_KV, 2, "联农带农机制", em_or_dash(r->f[9]));
		} else if (strcmp(r->f[0], "progress") == 0) {
			em_strbuf_reset(&s);
			em_strbuf_addf(&s, "%s 批复（%s）", em_or_dash(r->f[2]), em_or_dash(r->f[3]));
			em_items_add(l, EM_IT_KV, 2, "立项批复", s.buf);
			em_strbuf_reset(&s);
			if (*r->f[6])
				em_strbuf_addf(&s, "已于 %s 竣工验收（%s）", r->f[6], em_or_dash(r->f[7]));
			else if (*r->f[4])
				em_strbuf_addf(&s, "%s 开工，进度 %s%%，未竣工验收", r->f[4], *r->f[5] ? r->f[5] : "0");
			else
				em_strbuf_adds(&s, "尚未开工");
			em_items_add(l, EM_IT_KV, 2, "完成情况", s.buf);
			em_fen_text(r->f[8], m);
			em_strbuf_reset(&s);
			em_strbuf_addf(&s, "%s 元", m);
			em_items_add(l, EM_IT_KV, 2, "已支出金额", s.buf);
		}
		/* Each project's tables follow its last record of the kind before. */
		if (strcmp(r->f[0], "progress") == 0) {
			int64_t total = 0;

			em_items_add(l, EM_IT_PARA, 1, "资金来源及金额");
			em_items_add(l, EM_IT_THEAD, 4, "资金名称", "级次", "文号", "金额（元）");
			for (size_t j = 0; j < d->nrec; j++) {
				const struct em_nrec *f = &d->rec[j];
				if (strcmp(f->f[0], "fund") != 0 || strcmp(f->f[1], code) != 0)
					continue;
				em_fen_text(f->f[6], m);
				em_items_add(l, EM_IT_TROW, 4, f->f[3], em_level_name(f->f[4]), em_or_dash(f->f[5]), m);
				total += strtoll(f->f[6], NULL, 10);
			}
			em_money_format_grouped(total, m, sizeof(m));
			em_items_add(l, EM_IT_TROW, 4, "合计", "", "", m);
			em_items_add(l, EM_IT_TEND, 0);

			em_items_add(l, EM_IT_PARA, 1, "绩效目标");
			em_items_add(l, EM_IT_THEAD, 4, "序号", "类别", "指标", "目标值");
			for (size_t j = 0; j < d->nrec; j++) {
				const struct em_nrec *t = &d->rec[j];
				if (strcmp(t->f[0], "target") == 0 && strcmp(t->f[1], code) == 0)
					em_items_add(l, EM_IT_TROW, 4, t->f[2], t->f[3], t->f[4], t->f[5]);
			}
			em_items_add(l, EM_IT_TEND, 0);

			em_items_add(l, EM_IT_PARA, 1,
				     strcmp(kind, "plan") == 0 ? "受益对象（个人信息已脱敏）"
							       : "补助发放情况（个人信息已脱敏）");
			em_items_add(l, EM_IT_THEAD, 8, "户编号", "户主", "所在村", "人口", "户类别", "补助项目",
				     "补助标准", "金额（元）");
			for (size_t j = 0; j < d->nrec; j++) {
				const struct em_nrec *b = &d->rec[j];
				if (strcmp(b->f[0], "beneficiary") != 0 || strcmp(b->f[1], code) != 0)
					continue;
				em_fen_text(b->f[10], m);
				em_items_add(l, EM_IT_TROW, 8, b->f[3], b->f[4], b->f[5], b->f[6], b->f[7],
					     em_or_dash(b->f[8]), em_or_dash(b->f[9]), m);
			}
			for (size_t j = 0; j < d->nrec; j++) {
				const struct em_nrec *t = &d->rec[j];
				if (strcmp(t->f[0], "total") != 0 || strcmp(t->f[1], code) != 0)
					continue;
				em_fen_text(t->f[3], m);
				em_strbuf_reset(&s);
				em_strbuf_addf(&s, "%s 户", t->f[2]);
				em_items_add(l, EM_IT_TROW, 8, "合计", s.buf, "", "", "", "", "", m);
			}
			em_items_add(l, EM_IT_TEND, 0);
		}
	}

	em_items_add(l, EM_IT_SECTION, 1, "监督与核验");
	em_strbuf_reset(&s);
	em_strbuf_addf(&s, "公示期内，对公示内容如有异议，请向%s反映，或拨打监督举报电话。",
		       em_hdr(d, "publisher", 1));
	em_items_add(l, EM_IT_PARA, 1, s.buf);
	em_strbuf_reset(&s);
	em_strbuf_addf(&s, "%s（全国农业农村系统监督举报电话），本地：%s", em_hdr(d, "hotline", 1),
		       em_hdr(d, "hotline", 2));
	em_items_add(l, EM_IT_KV, 2, "监督举报电话", s.buf);
	em_items_add(l, EM_IT_KV, 2, "公示单位", em_hdr(d, "publisher", 1));
	em_items_add(l, EM_IT_KV, 2, "公示日期", em_hdr(d, "publisher", 2));
	em_strbuf_reset(&s);
	em_strbuf_addf(&s, "共 %s 张凭证，链头 %s", em_hdr(d, "chain", 1), em_hdr(d, "chain", 2));
	em_items_add(l, EM_IT_KV, 2, "账簿哈希链", s.buf);
	em_items_add(l, EM_IT_DIGEST, 2, "公告校验码（SHA-256）", d->digest);
	em_strbuf_release(&s);
}

/* ---- plain text -------------------------------------------------------------- */

static void em_render_txt(const struct em_items *l, struct em_strbuf *out)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct em_item *it = &l->it[i];
		switch (it->kind) {
		case EM_IT_TITLE:
			em_strbuf_addf(out, "%s\n\n", it->col[0]);
			break;
		case EM_IT_NOTE:
			em_strbuf_addf(out, "*** %s ***\n\n", it->col[0]);
			break;
		case EM_IT_SECTION:
			em_strbuf_addf(out, "\n== %s ==\n", it->col[0]);
			break;
		case EM_IT_KV:
		case EM_IT_DIGEST:
			em_strbuf_addf(out, "%s：%s\n", it->col[0], it->col[1]);
			break;
		case EM_IT_PARA:
			em_strbuf_addf(out, "\n%s\n", it->col[0]);
			break;
		case EM_IT_THEAD:
		case EM_IT_TROW:
			for (int c = 0; c < it->ncols; c++)
				em_strbuf_addf(out, "%s%s", c ? " | " : "  ", it->col[c]);
			em_strbuf_addc(out, '\n');
			break;
		case EM_IT_TEND:
			break;
		}
	}
}

/* ---- QR code ------------------------------------------------------------------- */

static QRcode *em_qr(const char *digest, struct em_error *err)
{
	QRcode *q = QRcode_encodeString(digest, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (!q)
		em_error_set(err, "could not make the QR code of the digest: %s", strerror(errno));
	return q;
}

/* ---- HTML ---------------------------------------------------------------------- */

static void em_html_text(struct em_strbuf *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': em_strbuf_adds(out, "&lt;"); break;
		case '>': em_strbuf_adds(out, "&gt;"); break;
		case '&': em_strbuf_adds(out, "&amp;"); break;
		case '"': em_strbuf_adds(out, "&quot;"); break;
		case '\'': em_strbuf_adds(out, "&#39;"); break;
		case '\n': em_strbuf_adds(out, "<br>"); break;
		default: em_strbuf_addc(out, *s);
		}
	}
}

static const char em_html_style[] =
	"<style>\n"
	"@page{size:A4;margin:15mm}\n"
	"body{font-family:\"Noto Serif CJK SC\",\"Noto Sans CJK SC\",\"Source Han Serif SC\",\"SimSun\",\"Songti SC\",serif;"
	"font-size:11pt;line-height:1.5;color:#000;background:#fff;max-width:190mm;margin:0 auto;padding:8mm}\n"
	"h1{font-size:18pt;text-align:center;margin:0 0 6mm}\n"
	"h2{font-size:13pt;border-bottom:1px solid #000;margin:6mm 0 2mm}\n"
	"p.note{border:2px solid #b00;color:#b00;padding:2mm;text-align:center;font-weight:bold}\n"
	"dl{display:grid;grid-template-columns:32mm 1fr;gap:1mm 3mm;margin:0}\n"
	"dt{font-weight:bold}dd{margin:0}\n"
	"table{border-collapse:collapse;width:100%;margin:1mm 0 3mm;font-size:10pt;page-break-inside:auto}\n"
	"tr{page-break-inside:avoid}\n"
	"th,td{border:1px solid #000;padding:1mm 2mm;text-align:left;vertical-align:top}\n"
	"td.n{text-align:right;white-space:nowrap}\n"
	".digest{font-family:\"Noto Sans Mono CJK SC\",monospace;word-break:break-all}\n"
	".qr{width:32mm;height:32mm}\n"
	"footer{display:flex;gap:5mm;align-items:center;margin-top:5mm}\n"
	"@media print{body{padding:0;max-width:none}a{color:#000;text-decoration:none}}\n"
	"</style>\n";

static void em_html_qr(const QRcode *q, struct em_strbuf *out)
{
	int w = q->width, m = 4;

	em_strbuf_addf(out, "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
			    "shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR\"><rect width=\"%d\" "
			    "height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
		       w + 2 * m, w + 2 * m, w + 2 * m, w + 2 * m);
	for (int y = 0; y < w; y++)
		for (int x = 0; x < w; x++)
			if (q->data[y * w + x] & 1)
				em_strbuf_addf(out, "M%d %dh1v1h-1z", x + m, y + m);
	em_strbuf_adds(out, "\"/></svg>");
}

static int em_render_html(const struct em_items *l, const char *digest, enum em_notice_paper paper,
			  struct em_strbuf *out, struct em_error *err)
{
	QRcode *q = em_qr(digest, err);
	int in_dl = 0;

	if (!q)
		return EM_ERR;
	em_strbuf_adds(out, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
			    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	em_html_text(out, l->n ? l->it[0].col[0] : "");
	em_strbuf_adds(out, "</title>\n");
	em_strbuf_adds(out, em_html_style);
	if (paper == EM_PAPER_A3)
		em_strbuf_adds(out, "<style>@page{size:A3}</style>\n");
	em_strbuf_adds(out, "</head>\n<body>\n");
	for (size_t i = 0; i < l->n; i++) {
		const struct em_item *it = &l->it[i];
		if (in_dl && it->kind != EM_IT_KV) {
			em_strbuf_adds(out, "</dl>\n");
			in_dl = 0;
		}
		switch (it->kind) {
		case EM_IT_TITLE:
			em_strbuf_adds(out, "<h1>");
			em_html_text(out, it->col[0]);
			em_strbuf_adds(out, "</h1>\n");
			break;
		case EM_IT_NOTE:
			em_strbuf_adds(out, "<p class=\"note\">");
			em_html_text(out, it->col[0]);
			em_strbuf_adds(out, "</p>\n");
			break;
		case EM_IT_SECTION:
			em_strbuf_adds(out, "<h2>");
			em_html_text(out, it->col[0]);
			em_strbuf_adds(out, "</h2>\n");
			break;
		case EM_IT_KV:
			if (!in_dl)
				em_strbuf_adds(out, "<dl>\n");
			in_dl = 1;
			em_strbuf_adds(out, "<dt>");
			em_html_text(out, it->col[0]);
			em_strbuf_adds(out, "</dt><dd>");
			em_html_text(out, it->col[1]);
			em_strbuf_adds(out, "</dd>\n");
			break;
		case EM_IT_PARA:
			em_strbuf_adds(out, "<p>");
			em_html_text(out, it->col[0]);
			em_strbuf_adds(out, "</p>\n");
			break;
		case EM_IT_THEAD:
			em_strbuf_adds(out, "<table>\n<thead><tr>");
			for (int c = 0; c < it->ncols; c++) {
				em_strbuf_adds(out, "<th>");
				em_html_text(out, it->col[c]);
				em_strbuf_adds(out, "</th>");
			}
			em_strbuf_adds(out, "</tr></thead>\n<tbody>\n");
			break;
		case EM_IT_TROW:
			em_strbuf_adds(out, "<tr>");
			for (int c = 0; c < it->ncols; c++) {
				em_strbuf_adds(out, c == it->ncols - 1 ? "<td class=\"n\">" : "<td>");
				em_html_text(out, it->col[c]);
				em_strbuf_adds(out, "</td>");
			}
			em_strbuf_adds(out, "</tr>\n");
			break;
		case EM_IT_TEND:
			em_strbuf_adds(out, "</tbody>\n</table>\n");
			break;
		case EM_IT_DIGEST:
			em_strbuf_adds(out, "<footer>");
			em_html_qr(q, out);
			em_strbuf_adds(out, "<div><strong>");
			em_html_text(out, it->col[0]);
			em_strbuf_adds(out, "</strong><br><span class=\"digest\">");
			em_html_text(out, it->col[1]);
			em_strbuf_adds(out, "</span><br>扫描二维码或在公示栏“核验”页输入校验码，可确认本公告真实。</div></footer>\n");
			break;
		}
	}
	if (in_dl)
		em_strbuf_adds(out, "</dl>\n");
	em_strbuf_adds(out, "</body>\n</html>\n");
	QRcode_free(q);
	return 0;
}

/* ---- PDF (cairo + pango) ------------------------------------------------------ */

struct em_pdf {
	cairo_t *cr;                /* drawing on the PDF surface */
	PangoLayout *layout;        /* one layout, re-filled for every piece of text */
	double w, h, margin, y;     /* page size, margin, pen position in points */
	struct em_strbuf *out;      /* the PDF bytes */
};

static cairo_status_t em_pdf_write(void *closure, const unsigned char *data, unsigned int len)
{
	em_strbuf_add(closure, data, len);
	return CAIRO_STATUS_SUCCESS;
}

static void em_pdf_font(struct em_pdf *p, const char *desc)
{
	PangoFontDescription *fd = pango_font_description_from_string(desc);
	pango_layout_set_font_description(p->layout, fd);
	pango_font_description_free(fd);
}

/* Height of text laid out width points wide. */
static double em_pdf_measure(struct em_pdf *p, const char *text, double width)
{
	int pw, ph;

	pango_layout_set_width(p->layout, (int)(width * PANGO_SCALE));
	pango_layout_set_wrap(p->layout, PANGO_WRAP_WORD_CHAR);
	pango_layout_set_text(p->layout, text, -1);
	pango_layout_get_size(p->layout, &pw, &ph);
	return (double)ph / PANGO_SCALE;
}

static void em_pdf_need(struct em_pdf *p, double h)
{
	if (p->y + h > p->h - p->margin) {
		cairo_show_page(p->cr);
		p->y = p->margin;
	}
}

static double em_pdf_text(struct em_pdf *p, const char *text, double x, double width)
{
	double h = em_pdf_measure(p, text, width);
	cairo_move_to(p->cr, x, p->y);
	pango_cairo_show_layout(p->cr, p->layout);
	return h;
}

static void em_pdf_row(struct em_pdf *p, const struct em_item *it, const double *cw, int bold)
{
	double x = p->margin, hmax = 0, pad = 2;

	em_pdf_font(p, bold ? "Noto Sans CJK SC Bold 8" : "Noto Sans CJK SC 8");
	for (int c = 0; c < it->ncols; c++) {
		double h = em_pdf_measure(p, it->col[c], cw[c] - 2 * pad);
		if (h > hmax)
			hmax = h;
	}
	em_pdf_need(p, hmax + 2 * pad);
	for (int c = 0; c < it->ncols; c++) {
		em_pdf_measure(p, it->col[c], cw[c] - 2 * pad);
		cairo_move_to(p->cr, x + pad, p->y + pad);
		pango_cairo_show_layout(p->cr, p->layout);
		cairo_rectangle(p->cr, x, p->y, cw[c], hmax + 2 * pad);
		x += cw[c];
	}
	cairo_set_line_width(p->cr, 0.5);
	cairo_stroke(p->cr);
	p->y += hmax + 2 * pad;
}

/*
 * Pango's objects are not shared between threads safely, and its default
 * font map is made per thread (the board answers each connection from a
 * thread of its own): one font map, one PDF at a time.
 */
static pthread_mutex_t em_pdf_lock = PTHREAD_MUTEX_INITIALIZER;
static PangoFontMap *em_pdf_fontmap;

void em_notice_cleanup(void)
{
	pthread_mutex_lock(&em_pdf_lock);
	if (em_pdf_fontmap) {
		g_object_unref(em_pdf_fontmap);
		em_pdf_fontmap = NULL;
		cairo_debug_reset_static_data();
	}
	pthread_mutex_unlock(&em_pdf_lock);
}

static int em_render_pdf_locked(const struct em_items *l, const char *digest, enum em_notice_paper paper,
				struct em_strbuf *out, struct em_error *err)
{
	PangoContext *pc;
	struct em_pdf p = { NULL, NULL, paper == EM_PAPER_A3 ? 841.89 : 595.28,
			    paper == EM_PAPER_A3 ? 1190.55 : 841.89, 42.5, 42.5, out };
	double body = p.w - 2 * p.margin, cw[EM_NOTICE_MAX_FIELDS];
	cairo_surface_t *surf;
	QRcode *q = em_qr(digest, err);
	int ret = EM_ERR;

	if (!q)
		return EM_ERR;
	surf = cairo_pdf_surface_create_for_stream(em_pdf_write, out, p.w, p.h);
	p.cr = cairo_create(surf);
	if (paper == EM_PAPER_A3) {
		/* A3 is A4 enlarged for a notice board: the same layout, 1.41 times bigger. */
		cairo_scale(p.cr, 841.89 / 595.28, 841.89 / 595.28);
		p.w = 595.28;
		p.h = 841.89;
		body = p.w - 2 * p.margin;
	}
	pc = pango_font_map_create_context(em_pdf_fontmap);
	pango_cairo_update_context(p.cr, pc);
	p.layout = pango_layout_new(pc);
	g_object_unref(pc);
	cairo_set_source_rgb(p.cr, 0, 0, 0);
	for (size_t i = 0; i < l->n; i++) {
		const struct em_item *it = &l->it[i];
		double h;

		switch (it->kind) {
		case EM_IT_TITLE:
			em_pdf_font(&p, "Noto Serif CJK SC Bold 16");
			pango_layout_set_alignment(p.layout, PANGO_ALIGN_CENTER);
			h = em_pdf_measure(&p, it->col[0], body);
			em_pdf_need(&p, h);
			p.y += em_pdf_text(&p, it->col[0], p.margin, body) + 10;
			pango_layout_set_alignment(p.layout, PANGO_ALIGN_LEFT);
			break;
		case EM_IT_NOTE:
			em_pdf_font(&p, "Noto Sans CJK SC Bold 10");
			cairo_set_source_rgb(p.cr, 0.7, 0, 0);
			h = em_pdf_measure(&p, it->col[0], body);
			em_pdf_need(&p, h);
			p.y += em_pdf_text(&p, it->col[0], p.margin, body) + 6;
			cairo_set_source_rgb(p.cr, 0, 0, 0);
			break;
		case EM_IT_SECTION:
			em_pdf_font(&p, "Noto Serif CJK SC Bold 12");
			h = em_pdf_measure(&p, it->col[0], body);
			em_pdf_need(&p, h + 30);
			p.y += 6;
			p.y += em_pdf_text(&p, it->col[0], p.margin, body);
			cairo_move_to(p.cr, p.margin, p.y + 1);
			cairo_line_to(p.cr, p.margin + body, p.y + 1);
			cairo_set_line_width(p.cr, 0.8);
			cairo_stroke(p.cr);
			p.y += 4;
			break;
		case EM_IT_KV:
		case EM_IT_DIGEST: {
			double lw = 90, h2;
			em_pdf_font(&p, it->kind == EM_IT_DIGEST ? "Noto Sans Mono CJK SC 8" : "Noto Sans CJK SC 9");
			h2 = em_pdf_measure(&p, it->col[1], body - lw);
			em_pdf_font(&p, "Noto Sans CJK SC Bold 9");
			h = em_pdf_measure(&p, it->col[0], lw - 4);
			em_pdf_need(&p, h > h2 ? h : h2);
			em_pdf_text(&p, it->col[0], p.margin, lw - 4);
			em_pdf_font(&p, it->kind == EM_IT_DIGEST ? "Noto Sans Mono CJK SC 8" : "Noto Sans CJK SC 9");
			em_pdf_text(&p, it->col[1], p.margin + lw, body - lw);
			p.y += (h > h2 ? h : h2) + 2;
			if (it->kind == EM_IT_DIGEST) {
				double mod = 2.4, qs = (q->width + 8) * mod;
				em_pdf_need(&p, qs + 4);
				cairo_save(p.cr);
				cairo_translate(p.cr, p.margin, p.y + 4);
				for (int y = 0; y < q->width; y++)
					for (int x = 0; x < q->width; x++)
						if (q->data[y * q->width + x] & 1)
							cairo_rectangle(p.cr, (x + 4) * mod, (y + 4) * mod, mod, mod);
				cairo_fill(p.cr);
				cairo_restore(p.cr);
				em_pdf_font(&p, "Noto Sans CJK SC 8");
				{
					double save = p.y;
					p.y += 4 + qs / 2 - 6;
					em_pdf_text(&p, "扫描二维码或在公示栏“核验”页输入校验码，可确认本公告真实。",
						    p.margin + qs + 8, body - qs - 8);
					p.y = save;
				}
				p.y += qs + 8;
			}
			break;
		}
		case EM_IT_PARA:
			em_pdf_font(&p, "Noto Sans CJK SC Bold 9");
			h = em_pdf_measure(&p, it->col[0], body);
			em_pdf_need(&p, h + 24);
			p.y += 3;
			p.y += em_pdf_text(&p, it->col[0], p.margin, body) + 2;
			break;
		case EM_IT_THEAD: {
			/* Column widths from the widest cell of each column, fitted to the page. */
			double nat[EM_NOTICE_MAX_FIELDS] = { 0 }, sum = 0;
			size_t j;
			em_pdf_font(&p, "Noto Sans CJK SC 8");
			for (j = i; j < l->n && l->it[j].kind != EM_IT_TEND; j++)
				for (int c = 0; c < l->it[j].ncols && c < it->ncols; c++) {
					int pw, ph;
					pango_layout_set_width(p.layout, -1);
					pango_layout_set_text(p.layout, l->it[j].col[c], -1);
					pango_layout_get_size(p.layout, &pw, &ph);
					if ((double)pw / PANGO_SCALE + 6 > nat[c])
						nat[c] = (double)pw / PANGO_SCALE + 6;
				}
			for (int c = 0; c < it->ncols; c++) {
				if (nat[c] > body / 2)
					nat[c] = body / 2;
				if (nat[c] < 24)
					nat[c] = 24;
				sum += nat[c];
			}
			for (int c = 0; c < it->ncols; c++)
				cw[c] = nat[c] * body / sum;
			em_pdf_row(&p, it, cw, 1);
			break;
		}
		case EM_IT_TROW:
			em_pdf_row(&p, it, cw, 0);
			break;
		case EM_IT_TEND:
			p.y += 4;
			break;
		}
	}
	cairo_show_page(p.cr);
	g_object_unref(p.layout);
	cairo_destroy(p.cr);
	cairo_surface_finish(surf);
	if (cairo_surface_status(surf) != CAIRO_STATUS_SUCCESS) {
		em_error_set(err, "could not write the PDF: %s",
			     cairo_status_to_string(cairo_surface_status(surf)));
		goto out;
	}
	ret = 0;
out:
	cairo_surface_destroy(surf);
	QRcode_free(q);
	return ret;
}

static int em_render_pdf(const struct em_items *l, const char *digest, enum em_notice_paper paper,
			 struct em_strbuf *out, struct em_error *err)
{
	int ret;

	pthread_mutex_lock(&em_pdf_lock);
	if (!em_pdf_fontmap)
		em_pdf_fontmap = pango_cairo_font_map_new();
	ret = em_render_pdf_locked(l, digest, paper, out, err);
	pthread_mutex_unlock(&em_pdf_lock);
	return ret;
}

/* ---- XML ------------------------------------------------------------------------- */

#define EM_NOTICE_NS "urn:earmark:notice:1"

static int em_x_attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	return xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST(value ? value : ""));
}

static int em_x_amount(xmlTextWriterPtr w, const char *name, const char *fen)
{
	char buf[EM_MONEY_BUFSZ];
	em_money_format(strtoll(fen, NULL, 10), buf, sizeof(buf));
	return em_x_attr(w, name, buf);
}

static int em_x_elem(xmlTextWriterPtr w, const char *name, const char *text)
{
	return xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST(text ? text : ""));
}

static int em_render_xml(const struct em_notice_doc *d, const char *content, int draft, struct em_strbuf *out,
			 struct em_error *err)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlTextWriterPtr w = buf ? xmlNewTextWriterMemory(buf, 0) : NULL;
	int rc = 0, ret = EM_ERR, open_project = 0;

	if (!w) {
		em_error_set(err, "could not start the XML writer");
		goto out;
	}
	xmlTextWriterSetIndent(w, 1);
	rc |= xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0;
	rc |= xmlTextWriterStartElementNS(w, NULL, BAD_CAST "Notice", BAD_CAST EM_NOTICE_NS) < 0;
	rc |= em_x_attr(w, "version", "1") < 0;
	rc |= em_x_attr(w, "status", draft ? "draft" : "published") < 0;
	rc |= xmlTextWriterStartElement(w, BAD_CAST "Digest") < 0;
	rc |= em_x_attr(w, "algorithm", "SHA-256") < 0;
	rc |= xmlTextWriterWriteString(w, BAD_CAST d->digest) < 0;
	rc |= xmlTextWriterEndElement(w) < 0;
	for (size_t i = 0; i < d->nrec && !rc; i++) {
		const struct em_nrec *r = &d->rec[i];
		const char *t = r->f[0];

		if (open_project && strcmp(t, "place") && strcmp(t, "fund") && strcmp(t, "target") &&
		    strcmp(t, "progress") && strcmp(t, "beneficiary") && strcmp(t, "total")) {
			rc |= xmlTextWriterEndElement(w) < 0;
			open_project = 0;
		}
		if (strcmp(t, "book") == 0) {
			rc |= xmlTextWriterStartElement(w, BAD_CAST "Book") < 0;
			rc |= em_x_attr(w, "code", r->f[1]) < 0;
			rc |= em_x_attr(w, "name", r->f[2]) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		} else if (strcmp(t, "kind") == 0) {
			rc |= xmlTextWriterStartElement(w, BAD_CAST "Kind") < 0;
			rc |= em_x_attr(w, "code", r->f[1]) < 0;
			rc |= xmlTextWriterWriteString(w, BAD_CAST r->f[2]) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		} else if (strcmp(t, "scope") == 0) {
			rc |= xmlTextWriterStartElement(w, BAD_CAST "Scope") < 0;
			rc |= em_x_attr(w, "type", r->f[1]) < 0;
			rc |= em_x_attr(w, "code", r->f[2]) < 0;
			rc |= em_x_attr(w, "name", r->f[3]) < 0;
			rc |= em_x_attr(w, "township", r->f[4]) < 0;
			rc |= em_x_attr(w, "county", r->f[5]) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		} else if (strcmp(t, "title") == 0) {
			rc |= em_x_elem(w, "Title", r->f[1]) < 0;
		} else if (strcmp(t, "period") == 0) {
			rc |= xmlTextWriterStartElement(w, BAD_CAST "Period") < 0;
			rc |= em_x_attr(w, "from", r->f[1]) < 0;
			rc |= em_x_attr(w, "to", r->f[2]) < 0;
			rc |= em_x_attr(w, "days", r->f[3]) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		} else if (strcmp(t, "publisher") == 0) {
			rc |= xmlTextWriterStartElement(w, BAD_CAST "Publisher") < 0;
			rc |= em_x_attr(w, "date", r->f[2]) < 0;
			rc |= xmlTextWriterWriteString(w, BAD_CAST r->f[1]) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		} else if (strcmp(t, "hotline") == 0) {
			rc |= xmlTextWriterStartElement(w, BAD_CAST "Hotline") < 0;
			rc |= em_x_attr(w, "national", r->f[1]) < 0;
			rc |= em_x_attr(w, "local", r->f[2]) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		} else if (strcmp(t, "chain") == 0) {
			rc |= xmlTextWriterStartElement(w, BAD_CAST "Chain") < 0;
			rc |= em_x_attr(w, "vouchers", r->f[1]) < 0;
			rc |= em_x_attr(w, "head", r->f[2]) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		} else if (strcmp(t, "project") == 0) {
			static const char *const el[] = { NULL, NULL, NULL, "Category", "Scale", "SubsidyStandard",
							  "ImplementingUnit", "Responsible", "Contractor",
							  "BenefitMechanism" };
			rc |= xmlTextWriterStartElement(w, BAD_CAST "Project") < 0;
			rc |= em_x_attr(w, "code", r->f[1]) < 0;
			rc |= em_x_attr(w, "name", r->f[2]) < 0;
			if (*r->f[10])
				rc |= em_x_attr(w, "plannedStart", r->f[10]) < 0;
			if (*r->f[11])
				rc |= em_x_attr(w, "plannedEnd", r->f[11]) < 0;
			for (int f = 3; f <= 9; f++)
				rc |= em_x_elem(w, el[f], r->f[f]) < 0;
			open_project = 1;
		} else if (strcmp(t, "place") == 0) {
			rc |= xmlTextWriterStartElement(w, BAD_CAST "Place") < 0;
			rc |= em_x_attr(w, "village", r->f[2]) < 0;
			rc |= em_x_attr(w, "name", r->f[3]) < 0;
			rc |= em_x_attr(w, "township", r->f[4]) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		} else if (strcmp(t, "fund") == 0) {
			rc |= xmlTextWriterStartElement(w, BAD_CAST "Fund") < 0;
			rc |= em_x_attr(w, "code", r->f[2]) < 0;
			rc |= em_x_attr(w, "name", r->f[3]) < 0;
			rc |= em_x_attr(w, "level", r->f[4]) < 0;
			rc |= em_x_attr(w, "docNo", r->f[5]) < 0;
			rc |= em_x_amount(w, "amount", r->f[6]) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		} else if (strcmp(t, "target") == 0) {
			rc |= xmlTextWriterStartElement(w, BAD_CAST "Target") < 0;
			rc |= em_x_attr(w, "no", r->f[2]) < 0;
			rc |= em_x_attr(w, "kind", r->f[3]) < 0;
			rc |= em_x_attr(w, "indicator", r->f[4]) < 0;
			rc |= em_x_attr(w, "value", r->f[5]) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		} else if (strcmp(t, "progress") == 0) {
			static const char *const at[] = { NULL, NULL, "approvedOn", "approvalDoc", "startedOn",
							  "progressPct", "acceptedOn", "acceptanceDoc" };
			rc |= xmlTextWriterStartElement(w, BAD_CAST "Progress") < 0;
			for (int f = 2; f <= 7; f++)
				if (*r->f[f])
					rc |= em_x_attr(w, at[f], r->f[f]) < 0;
			rc |= em_x_amount(w, "spent", r->f[8]) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		} else if (strcmp(t, "beneficiary") == 0) {
			rc |= xmlTextWriterStartElement(w, BAD_CAST "Beneficiary") < 0;
			rc |= em_x_attr(w, "list", r->f[2]) < 0;
			rc |= em_x_attr(w, "household", r->f[3]) < 0;
			rc |= em_x_attr(w, "name", r->f[4]) < 0;
			rc |= em_x_attr(w, "village", r->f[5]) < 0;
			rc |= em_x_attr(w, "members", r->f[6]) < 0;
			rc |= em_x_attr(w, "status", r->f[7]) < 0;
			rc |= em_x_attr(w, "item", r->f[8]) < 0;
			rc |= em_x_attr(w, "standard", r->f[9]) < 0;
			rc |= em_x_amount(w, "amount", r->f[10]) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		} else if (strcmp(t, "total") == 0) {
			rc |= xmlTextWriterStartElement(w, BAD_CAST "Total") < 0;
			rc |= em_x_attr(w, "households", r->f[2]) < 0;
			rc |= em_x_amount(w, "amount", r->f[3]) < 0;
			rc |= xmlTextWriterEndElement(w) < 0;
		}
	}
	if (open_project)
		rc |= xmlTextWriterEndElement(w) < 0;
	rc |= xmlTextWriterStartElement(w, BAD_CAST "CanonicalContent") < 0;
	rc |= em_x_attr(w, "encoding", "base64") < 0;
	rc |= xmlTextWriterWriteBase64(w, content, 0, (int)strlen(content)) < 0;
	rc |= xmlTextWriterEndElement(w) < 0;
	rc |= xmlTextWriterEndElement(w) < 0;
	rc |= xmlTextWriterEndDocument(w) < 0;
	xmlFreeTextWriter(w);
	w = NULL;
	if (rc) {
		em_error_set(err, "could not write the notice as XML");
		goto out;
	}
	em_strbuf_add(out, xmlBufferContent(buf), (size_t)xmlBufferLength(buf));
	ret = 0;
out:
	if (w)
		xmlFreeTextWriter(w);
	if (buf)
		xmlBufferFree(buf);
	return ret;
}

/* ---- the public functions ------------------------------------------------------- */

int em_notice_format_parse(const char *s, enum em_notice_format *fmt, struct em_error *err)
{
	static const char *const names[] = { "html", "pdf", "txt", "xml" };

	for (int i = 0; s && i < 4; i++)
		if (strcmp(s, names[i]) == 0) {
			*fmt = (enum em_notice_format)i;
			return 0;
		}
	em_error_set(err, "unknown notice format '%s'", s ? s : "");
	em_error_hint(err, "--format html, pdf, txt or xml");
	return EM_ERR_USAGE;
}

int em_notice_paper_parse(const char *s, enum em_notice_paper *paper, struct em_error *err)
{
	if (!s || strcmp(s, "A4") == 0 || strcmp(s, "a4") == 0) {
		*paper = EM_PAPER_A4;
		return 0;
	}
	if (strcmp(s, "A3") == 0 || strcmp(s, "a3") == 0) {
		*paper = EM_PAPER_A3;
		return 0;
	}
	em_error_set(err, "unknown paper size '%s'", s);
	em_error_hint(err, "--paper A4 or A3");
	return EM_ERR_USAGE;
}

int em_notice_render(const char *content, enum em_notice_format fmt, enum em_notice_paper paper,
		     int draft, struct em_strbuf *out, struct em_error *err)
{
	struct em_notice_doc d;
	struct em_items l = { NULL, 0, 0 };
	int ret = EM_ERR;

	if (em_notice_parse(content, &d, err) < 0)
		return EM_ERR;
	if (fmt == EM_NOTICE_XML) {
		ret = em_render_xml(&d, content, draft, out, err);
		goto out;
	}
	em_notice_items(&d, draft, &l);
	if (fmt == EM_NOTICE_TXT) {
		em_render_txt(&l, out);
		ret = 0;
	} else if (fmt == EM_NOTICE_HTML) {
		ret = em_render_html(&l, d.digest, paper, out, err);
	} else {
		ret = em_render_pdf(&l, d.digest, paper, out, err);
	}
out:
	em_items_release(&l);
	em_notice_doc_release(&d);
	return ret;
}

int em_notice_fetch(PGconn *conn, const char *book, const struct em_notice_req *r,
		    struct em_strbuf *content, int *published, struct em_error *err)
{
	const char *p1[] = { book, r->kind, r->scope, r->code };
	const char *p2[] = { book, r->kind, r->scope, r->code, r->from, r->days };
	PGresult *res;

	res = em_db_exec(conn,
			 "SELECT n.content FROM earmark.notice n JOIN earmark.book b ON b.book_id = n.book_id "
			 "WHERE b.code = $1 AND n.kind = $2 AND n.scope = $3 AND n.scope_code = $4 "
			 "ORDER BY n.published_on DESC, n.notice_id DESC LIMIT 1",
			 4, p1, PGRES_TUPLES_OK, 1, err);
	if (!res)
		return EM_ERR;
	if (PQntuples(res) == 1 && !r->from && !r->days) {
		em_strbuf_adds(content, PQgetvalue(res, 0, 0));
		*published = 1;
		PQclear(res);
		return 0;
	}
	PQclear(res);
	res = em_db_exec(conn, "SELECT earmark.notice_content($1, $2, $3, $4, COALESCE($5::date, CURRENT_DATE), $6::integer)", 6, p2,
			 PGRES_TUPLES_OK, 1, err);
	if (!res)
		return EM_ERR;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		em_error_set(err, "earmark.notice_content returned no notice");
		PQclear(res);
		return EM_ERR;
	}
	em_strbuf_adds(content, PQgetvalue(res, 0, 0));
	*published = 0;
	PQclear(res);
	return 0;
}

int em_notice_publish(PGconn *conn, const char *book, const struct em_notice_req *r,
		      struct em_strbuf *result, struct em_error *err)
{
	const char *p[] = { book, r->kind, r->scope, r->code, r->from, r->days, r->lists };
	PGresult *res = em_db_exec_retry(conn,
					 "SELECT earmark.notice_publish($1, $2, $3, $4, $5::date, $6::integer, $7)",
					 7, p, PGRES_TUPLES_OK, 1, err);

	if (!res)
		return EM_ERR;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		em_strbuf_adds(result, PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

int em_notice_write_file(const char *path, const char *data, size_t len, struct em_error *err)
{
	struct em_strbuf tmp = EM_STRBUF_INIT;
	struct stat st;
	int fd = -1, ret = EM_ERR;
	size_t done = 0;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		em_error_set(err, "'%s' is a directory", path);
		em_error_hint(err, "give the notice's file name, for example %s/notice.html", path);
		goto out;
	}
	em_strbuf_addf(&tmp, "%s.tmp", path);
	if (unlink(tmp.buf) != 0 && errno != ENOENT) {
		em_error_set(err, "could not remove stale '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	fd = open(tmp.buf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		em_error_set(err, "could not create '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			em_error_set(err, "could not write '%s': %s", tmp.buf, strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		em_error_set(err, "could not write '%s': %s", tmp.buf, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp.buf, path) != 0) {
		em_error_set(err, "could not rename '%s' to '%s': %s", tmp.buf, path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlink(tmp.buf);
	em_strbuf_release(&tmp);
	return ret;
}

/* The one-call actions of `earmark notice`: name, statement, parameters. */
static const struct {
	const char *name;
	const char *sql;
	int nparams;
} em_notice_actions[] = {
	{ "object", "SELECT earmark.notice_object($1, $2, $3, $4::date, $5)", 5 },
	{ "resolve", "SELECT earmark.objection_resolve($1, $2::integer, $3::date, $4)", 4 },
	{ "contact", "SELECT earmark.notice_contact_set($1, $2, $3)", 3 },
};

int em_notice_action(PGconn *conn, const char *name, const char *const *params, struct em_strbuf *result,
		     struct em_error *err)
{
	PGresult *res;

	for (size_t i = 0; i < sizeof(em_notice_actions) / sizeof(em_notice_actions[0]); i++) {
		if (strcmp(em_notice_actions[i].name, name) != 0)
			continue;
		res = em_db_exec_retry(conn, em_notice_actions[i].sql, em_notice_actions[i].nparams, params,
				       PGRES_TUPLES_OK, 1, err);
		if (!res)
			return EM_ERR;
		if (result && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
			em_strbuf_adds(result, PQgetvalue(res, 0, 0));
		PQclear(res);
		return 0;
	}
	em_error_set(err, "unknown notice action '%s'", name);
	return EM_ERR;
}
