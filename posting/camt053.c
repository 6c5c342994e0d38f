/*
 * ISO 20022 camt.053.001.02 (BankToCustomerStatement) reader.
 *
 * A statement file comes from outside, so it is read defensively: the raw
 * bytes are refused when they hold a DOCTYPE or an ENTITY declaration
 * (nothing of the kind belongs in camt.053, and refusing it before the
 * parser runs means no entity is ever expanded and no DTD fetched); libxml2
 * parses with XML_PARSE_NONET and without XML_PARSE_NOENT or
 * XML_PARSE_DTDLOAD; the document is then validated against the
 * camt.053.001.02 schema before a single value is read.  Amounts are read
 * as decimal text into fen (never double); more decimals than two are
 * accepted only when they are zeros.
 *
 * Every Stmt becomes one struct em_stmt: the account (IBAN or Othr/Id), the
 * currency, the opening (OPBD, else PRCD) and closing (CLBD) balances and
 * each Ntry with its first TxDtls (EndToEndId, remittance, counterparty,
 * RtrInf for a returned payment).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "ledger/error.h"
#include "ledger/strbuf.h"
#include "posting/statement.h"

#define EM_CAMT_MAX (256u * 1024 * 1024) /* a county's month fits many times over */

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		abort();
	return d;
}

/* First element child of n with local name name. */
static xmlNode *child(xmlNode *n, const char *name)
{
	for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

/* The element at a '/'-separated path below n, or NULL. */
static xmlNode *path(xmlNode *n, const char *p)
{
	char buf[128];
	char *save = NULL;

	snprintf(buf, sizeof(buf), "%s", p);
	for (char *tok = strtok_r(buf, "/", &save); tok && n; tok = strtok_r(NULL, "/", &save))
		n = child(n, tok);
	return n;
}

/* Its text, trimmed, owned by the caller; NULL when the element is absent. */
static char *text(xmlNode *n, const char *p)
{
	xmlNode *e = p ? path(n, p) : n;
	xmlChar *c;
	char *s, *start, *end;

	if (!e)
		return NULL;
	c = xmlNodeGetContent(e);
	s = xstrdup((const char *)c);
	xmlFree(c);
	for (start = s; *start == ' ' || *start == '\n' || *start == '\t' || *start == '\r'; start++)
		;
	end = start + strlen(start);
	while (end > start && (end[-1] == ' ' || end[-1] == '\n' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*end = '\0';
	memmove(s, start, (size_t)(end - start) + 1);
	return s;
}

/* "1234.5600" -> 123456 fen; sub-fen digits must be zeros. */
static int amount_fen(const char *s, int64_t *fen)
{
	int64_t v = 0;
	int dec = -1;

	if (!s || !*s)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p == '.') {
			if (dec >= 0)
				return -1;
			dec = 0;
			continue;
		}
		if (*p < '0' || *p > '9')
			return -1;
		if (dec >= 2) {
			if (*p != '0')
				return -1;
			continue;
		}
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*p - '0');
		if (dec >= 0)
			dec++;
	}
	for (int d = dec < 0 ? 0 : dec; d < 2; d++) {
		if (v > INT64_MAX / 10)
			return -1;
		v *= 10;
	}
	*fen = v;
	return 0;
}

/* A date element holding Dt or DtTm: its first ten characters. */
static void date_of(xmlNode *n, const char *p, char out[11])
{
	xmlNode *e = path(n, p);
	char *s = text(child(e, "Dt") ? child(e, "Dt") : child(e, "DtTm"), NULL);

	out[0] = '\0';
	if (s && strlen(s) >= 10)
		snprintf(out, 11, "%.10s", s);
	free(s);
}

/* Amt with Ccy and CdtDbtInd below n: signed fen; *ccy gets the currency. */
static int signed_amount(xmlNode *n, int64_t *fen, char **ccy)
{
	xmlNode *amt = child(n, "Amt");
	char *v = text(amt, NULL);
	char *ind = text(n, "CdtDbtInd");
	xmlChar *c = amt ? xmlGetProp(amt, (const xmlChar *)"Ccy") : NULL;
	int ret = amount_fen(v, fen);

	if (ret == 0 && ind && strcmp(ind, "DBIT") == 0)
		*fen = -*fen;
	*ccy = xstrdup((const char *)c);
	xmlFree(c);
	free(v);
	free(ind);
	return ret;
}

static void note_currency(struct em_stmt *s, const char *ccy)
{
	if (!s->currency)
		s->currency = xstrdup(ccy);
	else if (strcmp(s->currency, ccy) != 0)
		s->mixed_currency = 1;
}

static int read_stmt(xmlNode *st, struct em_stmt *s, const char *file, struct em_error *err)
{
	char *acct_ccy = text(st, "Acct/Ccy");
	char *ccy = NULL;
	size_t cap = 0;
	char ref[128]; /* the Id, safe to print: messages show it, the file is untrusted */

	s->ref = text(st, "Id");
	{
		struct em_strbuf e = EM_STRBUF_INIT;
		em_strbuf_add_sanitized(&e, s->ref ? s->ref : "", 100);
		snprintf(ref, sizeof(ref), "%s", e.buf);
		em_strbuf_release(&e);
	}
	s->account = text(st, "Acct/Id/IBAN");
	if (!s->account)
		s->account = text(st, "Acct/Id/Othr/Id");
	if (acct_ccy)
		s->currency = acct_ccy;
	/* Balances: OPBD (else PRCD) opens, CLBD closes. */
	for (xmlNode *b = st->children; b; b = b->next) {
		char *code;
		int64_t fen;
		char d[11];
		if (b->type != XML_ELEMENT_NODE || strcmp((const char *)b->name, "Bal") != 0)
			continue;
		code = text(b, "Tp/CdOrPrtry/Cd");
		if (code && (strcmp(code, "OPBD") == 0 || (strcmp(code, "PRCD") == 0 && !s->has_opening) ||
			     strcmp(code, "CLBD") == 0)) {
			if (signed_amount(b, &fen, &ccy) < 0) {
				em_error_set(err, "%s: statement '%s': balance %s has an amount that is not whole fen",
					     file, ref, code);
				free(code);
				free(ccy);
				return EM_ERR;
			}
			note_currency(s, ccy);
			date_of(b, "Dt", d);
			if (strcmp(code, "CLBD") == 0) {
				s->closing_fen = fen;
				s->has_closing = 1;
				if (!s->to[0])
					memcpy(s->to, d, 11);
			} else if (strcmp(code, "OPBD") == 0 || !s->has_opening) {
				s->opening_fen = fen;
				s->has_opening = 1;
			}
			free(ccy);
			ccy = NULL;
		}
		free(code);
	}
	for (xmlNode *e = st->children; e; e = e->next) {
		struct em_stmt_line *l;
		xmlNode *tx;
		char *v;
		if (e->type != XML_ELEMENT_NODE || strcmp((const char *)e->name, "Ntry") != 0)
			continue;
		if (s->nlines == cap) {
			cap = cap ? cap * 2 : 16;
			s->lines = realloc(s->lines, cap * sizeof(*s->lines));
			if (!s->lines)
				abort();
		}
		l = &s->lines[s->nlines++];
		memset(l, 0, sizeof(*l));
		l->src_line = (size_t)xmlGetLineNo(e);
		if (signed_amount(e, &l->amount_fen, &l->currency) < 0 || l->amount_fen == 0) {
			em_error_set(err, "%s:%zu: statement '%s': entry %zu has no amount in whole fen", file,
				     l->src_line, ref, s->nlines);
			return EM_ERR;
		}
		note_currency(s, l->currency);
		date_of(e, "BookgDt", l->booking_date);
		date_of(e, "ValDt", l->value_date);
		if (!l->booking_date[0])
			memcpy(l->booking_date, l->value_date, 11);
		if (!l->booking_date[0]) {
			em_error_set(err, "%s:%zu: statement '%s': entry %zu has no booking date", file,
				     l->src_line, ref, s->nlines);
			return EM_ERR;
		}
		tx = path(e, "NtryDtls/TxDtls");
		v = text(tx, "Refs/EndToEndId");
		if (v && *v && strcmp(v, "NOTPROVIDED") != 0)
			l->end_to_end_id = v;
		else
			free(v);
		l->reference = text(tx, "RmtInf/Ustrd");
		if (!l->reference)
			l->reference = text(tx, "RmtInf/Strd/CdtrRefInf/Ref");
		if (!l->reference)
			l->reference = text(e, "AddtlNtryInf");
		if (!l->reference)
			l->reference = xstrdup("");
		l->counterparty = text(tx, l->amount_fen < 0 ? "RltdPties/Cdtr/Nm" : "RltdPties/Dbtr/Nm");
		if (!l->counterparty)
			l->counterparty = xstrdup("");
		l->bank_ref = text(e, "AcctSvcrRef");
		if (!l->bank_ref)
			l->bank_ref = text(tx, "Refs/AcctSvcrRef");
		if (!l->bank_ref)
			l->bank_ref = xstrdup("");
		if (path(tx, "RtrInf")) {
			l->returned = 1;
			l->return_reason = text(tx, "RtrInf/Rsn/Cd");
			if (!l->return_reason)
				l->return_reason = text(tx, "RtrInf/AddtlInf");
		}
		if (!s->from[0] || strcmp(l->booking_date, s->from) < 0)
			memcpy(s->from, l->booking_date, 11);
		if (!s->to[0] || strcmp(l->booking_date, s->to) > 0)
			memcpy(s->to, l->booking_date, 11);
	}
	{
		char *fr = text(st, "FrToDt/FrDtTm");
		char *to = text(st, "FrToDt/ToDtTm");
		if (fr && strlen(fr) >= 10 && to && strlen(to) >= 10) {
			snprintf(s->from, sizeof(s->from), "%.10s", fr);
			if (strncmp(to, s->to, 10) > 0 || !s->to[0])
				snprintf(s->to, sizeof(s->to), "%.10s", to);
		}
		free(fr);
		free(to);
	}
	if (!s->from[0])
		memcpy(s->from, s->to, 11);
	if (!s->ref || !*s->ref || !s->account || !s->has_opening || !s->has_closing || !s->to[0]) {
		em_error_set(err, "%s: statement '%s' lacks its %s", file, ref,
			     !s->account ? "account" : !s->has_opening ? "opening balance (OPBD)"
						       : !s->has_closing ? "closing balance (CLBD)" : "dates");
		em_error_hint(err, "a camt.053 statement carries Id, Acct, the OPBD and CLBD balances");
		return EM_ERR;
	}
	if (strcmp(s->from, s->to) > 0)
		memcpy(s->from, s->to, 11);
	return 0;
}

/* Collects schema errors: the first one is reported with its line. */
static void schema_error(void *ctx, xmlErrorPtr e)
{
	struct em_strbuf *sb = ctx;
	if (sb->len == 0 && e && e->message) {
		size_t n = strlen(e->message);
		char *m = xstrdup(e->message);
		while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == ' '))
			m[--n] = '\0';
		em_strbuf_addf(sb, "line %d: ", e->line);
		em_strbuf_add_sanitized(sb, m, 300);
		free(m);
	}
}

static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx, (void)msg;
}

int em_camt053_parse(struct em_stmt_file *f, const char *file, const char *data, size_t len,
		     const char *xsd, struct _xmlSchema *loaded, struct em_error *err)
{
	struct em_strbuf why = EM_STRBUF_INIT;
	xmlParserCtxtPtr pctx = NULL;
	xmlDocPtr doc = NULL;
	xmlSchemaParserCtxtPtr sp = NULL;
	xmlSchemaPtr schema = loaded;
	xmlSchemaValidCtxtPtr vc = NULL;
	xmlNode *root, *bk;
	int ret = EM_ERR;
	size_t cap = 0;

	f->format = "camt053";
	if (!f->source)
		f->source = xstrdup(file);
	if (len > EM_CAMT_MAX) {
		em_error_set(err, "cannot read statement '%s'", file);
		em_error_detail(err, "the file is larger than %u bytes", EM_CAMT_MAX);
		goto out;
	}
	/*
	 * No DTD, no entities: refused on the raw bytes, before any parser sees
	 * them.  A NUL byte means UTF-16 or UTF-32, where the search below would
	 * not see a declaration: camt.053 files are UTF-8, so those are refused.
	 */
	if (memchr(data, '\0', len)) {
		em_error_set(err, "statement '%s' is not UTF-8 text and is refused (safe XML)", file);
		em_error_detail(err, "it holds NUL bytes, as UTF-16 or UTF-32 files do");
		em_error_hint(err, "use the statement file as the bank sent it, in UTF-8");
		goto out;
	}
	if (memmem(data, len, "<!DOCTYPE", 9) || memmem(data, len, "<!ENTITY", 8)) {
		em_error_set(err, "statement '%s' has a DOCTYPE or ENTITY declaration and is refused (safe XML)", file);
		em_error_detail(err, "camt.053 has no DTD; declarations could expand entities or reach the network");
		em_error_hint(err, "use the statement file as the bank sent it, without a DOCTYPE");
		goto out;
	}
	pctx = xmlNewParserCtxt();
	if (!pctx)
		abort();
	xmlSetGenericErrorFunc(NULL, quiet);
	doc = xmlCtxtReadMemory(pctx, data, (int)len, file, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc || !pctx->wellFormed) {
		const xmlError *e = xmlCtxtGetLastError(pctx);
		em_error_set(err, "statement '%s' is not well-formed XML", file);
		if (e && e->message) {
			struct em_strbuf m = EM_STRBUF_INIT;
			char *msg = xstrdup(e->message);
			size_t n = strlen(msg);
			while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
				msg[--n] = '\0';
			em_strbuf_add_sanitized(&m, msg, 300);
			em_error_detail(err, "line %d: %s", e->line, m.buf);
			em_strbuf_release(&m);
			free(msg);
		}
		em_error_hint(err, "ask the bank for the file again; a truncated download looks like this");
		goto out;
	}
	if (doc->intSubset || doc->extSubset) {
		em_error_set(err, "statement '%s' has a DOCTYPE and is refused (safe XML)", file);
		goto out;
	}
	if (!schema) {
		sp = xmlSchemaNewParserCtxt(xsd);
		if (sp)
			schema = xmlSchemaParse(sp);
	}
	if (!schema) {
		em_error_set(err, "cannot load the camt.053.001.02 schema '%s'", xsd);
		em_error_hint(err, "it ships as config/iso20022/camt.053.001.02.xsd; --schema FILE names another");
		goto out;
	}
	vc = xmlSchemaNewValidCtxt(schema);
	if (!vc)
		abort();
	xmlSchemaSetValidStructuredErrors(vc, schema_error, &why);
	if (xmlSchemaValidateDoc(vc, doc) != 0) {
		em_error_set(err, "statement '%s' is not a valid camt.053.001.02 document", file);
		em_error_detail(err, "%s", why.len ? why.buf : "schema validation failed");
		em_error_hint(err, "earmark reads ISO 20022 camt.053.001.02 (BkToCstmrStmt); ask the bank for that format");
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	bk = child(root, "BkToCstmrStmt");
	for (xmlNode *st = bk ? bk->children : NULL; st; st = st->next) {
		if (st->type != XML_ELEMENT_NODE || strcmp((const char *)st->name, "Stmt") != 0)
			continue;
		if (f->n == cap) {
			cap = cap ? cap * 2 : 4;
			f->stmts = realloc(f->stmts, cap * sizeof(*f->stmts));
			if (!f->stmts)
				abort();
		}
		memset(&f->stmts[f->n], 0, sizeof(f->stmts[0]));
		f->n++;
		if (read_stmt(st, &f->stmts[f->n - 1], file, err) < 0)
			goto out;
	}
	ret = 0;
out:
	if (vc)
		xmlSchemaFreeValidCtxt(vc);
	if (schema && schema != loaded)
		xmlSchemaFree(schema);
	if (sp)
		xmlSchemaFreeParserCtxt(sp);
	if (doc)
		xmlFreeDoc(doc);
	if (pctx)
		xmlFreeParserCtxt(pctx);
	em_strbuf_release(&why);
	return ret;
}

int em_camt053_read(struct em_stmt_file *f, const char *file, const char *xsd, struct em_error *err)
{
	struct em_strbuf raw = EM_STRBUF_INIT;
	FILE *in = NULL;
	int ret = EM_ERR;

	f->format = "camt053";
	f->source = xstrdup(file);
	in = fopen(file, "rb");
	if (!in) {
		em_error_set(err, "cannot read statement '%s'", file);
		em_error_detail(err, "%s", strerror(errno));
		goto out;
	}
	if (em_strbuf_read_fd(&raw, fileno(in), EM_CAMT_MAX) < 0) {
		em_error_set(err, "cannot read statement '%s'", file);
		em_error_detail(err, "the file is unreadable or larger than %u bytes", EM_CAMT_MAX);
		goto out;
	}
	ret = em_camt053_parse(f, file, raw.buf, raw.len, xsd, NULL, err);
out:
	if (in)
		fclose(in);
	em_strbuf_release(&raw);
	return ret;
}
