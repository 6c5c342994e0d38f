/*
 * `earmark audit verify`: what an auditor runs on a package (DESIGN
 * section 6).  It trusts one CA certificate and nothing else, needs no
 * database, and opens nothing but the package: libxml2's external entity
 * loader refuses everything and xmlsec's IO callbacks are replaced by one
 * that serves only the package's own signed entries from the ZIP.
 *
 * Checks, in order; each prints "ok   <check>: <what held>" or
 * "FAIL <check>: <why>", and the first failure ends the run:
 *   zip          mimetype first, stored, exact; no unsafe, duplicate or
 *                directory names; the archive is consistent
 *   signature document   one signature file, no DOCTYPE, entity, XInclude,
 *                Manifest, KeyValue or RetrievalMethod; unique Ids; one
 *                ds:Signature
 *   algorithms   exclusive C14N, SHA-256, RSA-SHA256 or ECDSA-SHA256 only
 *   references   relative paths only (no scheme, '/', '%', '\', '..'),
 *                each once, no transforms on files; one XAdES
 *                SignedProperties reference to this signature's own
 *   file set     the referenced files are exactly the ZIP's entries
 *                besides mimetype and the signature; ledger.xml,
 *                balances.xml and control.xml signed in that order
 *   signature    xmlsec with transform allow-lists, X.509 key data only,
 *                the chain to the given CA; every reference's digest;
 *                RSA of 3072 bits or more, or P-256; the XAdES
 *                SigningCertificate digest is the signer's
 *   signer       its SHA-256 fingerprint equals --signer when given
 *   ledger.xml, balances.xml, control.xml: checked while xmlsec reads
 *                them for their digests (see "the data files" below):
 *                valid against the package's schema, then the content:
 *                vouchers balance in total and per fund (D1, D2), every
 *                account, fund and dimension is in the master files, the
 *                hash chain recomputes (D8), totals and counts agree
 *                between the files, balances roll and equal the ledger's
 *                movements, the chain head and checkpoints are the
 *                ledger's.  Their result is told after the signature's.
 *
 * Each file is read from the ZIP once.  Memory: the content pass keeps one
 * voucher, the master-file codes, the account x fund movements, the fund
 * totals and one chain link per month, and a few chunks in flight between
 * the reading, the parsing and the checking thread; the files themselves
 * are streamed.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlschemas.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/io.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/openssl/x509.h>
#include <zip.h>

#include "ledger/canon.h"
#include "ledger/error.h"
#include "ledger/money.h"
#include "ledger/strbuf.h"
#include "reports/audit.h"

#define MAX_ENTRIES 64
#define MAX_SIGDOC (4 << 20)
#define MAX_SCHEMA (1 << 20)

/* ---- a small string map: codes, movements ------------------------------- */

struct smap_entry {
	char *key;           /* NULL: empty slot */
	int64_t a, b;        /* two numbers per key (debit, credit; lines) */
	int64_t c;
	int seen;            /* matched by a later file */
	char *hash;          /* months: the hash of the month's last link */
};

struct smap {
	struct smap_entry *e;
	size_t cap, n;
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct smap_entry *smap_find(struct smap *m, const char *key, int add)
{
	size_t i;

	if (add && (m->n + 1) * 2 > m->cap) {
		struct smap old = *m;

		m->cap = old.cap ? old.cap * 2 : 64;
		m->e = calloc(m->cap, sizeof(*m->e));
		if (!m->e)
			abort();
		m->n = 0;
		for (size_t j = 0; j < old.cap; j++) {
			if (old.e[j].key) {
				i = fnv(old.e[j].key) & (m->cap - 1);
				while (m->e[i].key)
					i = (i + 1) & (m->cap - 1);
				m->e[i] = old.e[j];
				m->n++;
			}
		}
		free(old.e);
	}
	if (!m->cap)
		return NULL;
	i = fnv(key) & (m->cap - 1);
	while (m->e[i].key) {
		if (strcmp(m->e[i].key, key) == 0)
			return &m->e[i];
		i = (i + 1) & (m->cap - 1);
	}
	if (!add)
		return NULL;
	m->e[i].key = strdup(key);
	if (!m->e[i].key)
		abort();
	m->n++;
	return &m->e[i];
}

static void smap_release(struct smap *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		free(m->e[i].key);
		free(m->e[i].hash);
	}
	free(m->e);
	m->e = NULL;
	m->cap = m->n = 0;
}

/* ---- the verification's state -------------------------------------------- */

struct part;
#define EM_AUDIT_PARTS 3             /* ledger.xml, balances.xml, control.xml */

struct ref {
	char *uri;                        /* as in the Reference */
	unsigned char digest[EM_HASH_LEN]; /* the signed SHA-256 */
};

struct verify {
	FILE *out;
	struct em_error *err;
	zip_t *z;
	char *names[MAX_ENTRIES];         /* ZIP entry names */
	int nnames;
	xmlDocPtr sig;                    /* META-INF/signatures001.xml */
	xmlNodePtr signature;             /* its ds:Signature */
	struct ref refs[EM_AUDIT_NFILES + 4];
	int nrefs;
	const char *sigalg;               /* the SignatureMethod */
	char signer[512], issuer[512];    /* subject and issuer of the signing certificate */
	int key_bits;
	char fingerprint[65];

	/* what ledger.xml said, for the other files */
	char book[64], from[16], to[16];
	struct smap codes;                /* "A:1002", "F:ZY2026-01", ... */
	struct smap moves;                /* "1002\tZY2026-01" -> debit, credit */
	struct smap funds;                /* fund -> lines, debit, credit */
	struct smap months;               /* "YYYY-MM" -> the month's last link: seq, hash */
	char last_code[26][64];           /* per kind, the last code found known */
	char max_hash[65];                /* the hash of the voucher with max_seq */
	int64_t vouchers, lines, debit_fen, credit_fen, max_seq;
	int64_t balance_rows;

	/* the data files, checked while xmlsec reads them */
	struct part *parts;               /* EM_AUDIT_PARTS */
	int cfail;                        /* index of the part whose content failed, -1 none */
	struct em_error cerr;             /* its failure, told after the signature */
};

/* ---- printing checks ----------------------------------------------------- */

static void ok(struct verify *v, const char *check, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ok(struct verify *v, const char *check, const char *fmt, ...)
{
	va_list ap;

	fprintf(v->out, "ok   %s: ", check);
	va_start(ap, fmt);
	vfprintf(v->out, fmt, ap);
	va_end(ap);
	fputc('\n', v->out);
}

static int fail(struct verify *v, const char *check)
{
	fprintf(v->out, "FAIL %s: %s\n", check, v->err->message ? v->err->message : "failed");
	return EM_ERR;
}

/* Text from a package, made safe for a message: printable ASCII, at most 80. */
static void clean(char *dst, size_t size, const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; p && *p && n + 1 < size && n < 160; p++)
		dst[n++] = (*p >= 0x20 && *p != 0x7f) ? (char)*p : '?';
	/* never end inside a UTF-8 character */
	if (s && s[n] && n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) {
		while (n > 0 && ((unsigned char)dst[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && ((unsigned char)dst[n - 1] & 0xc0) == 0xc0)
			n--;
	}
	dst[n] = '\0';
}

/* ---- the ZIP -------------------------------------------------------------- */

static int safe_name(const char *n)
{
	const char *seg = n;

	if (!*n || *n == '/' || strlen(n) > 200)
		return 0;
	for (const char *p = n; *p; p++) {
		if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-' || *p == '/'))
			return 0;
		if (*p == '/') {
			if (p == seg || (p - seg == 2 && seg[0] == '.' && seg[1] == '.') ||
			    (p - seg == 1 && seg[0] == '.'))
				return 0;
			seg = p + 1;
		}
	}
	if (!*seg || strcmp(seg, "..") == 0 || strcmp(seg, ".") == 0)
		return 0;
	return 1;
}

/* Reads a whole entry (at most max bytes) into sb. */
static int read_entry(struct verify *v, const char *name, size_t max, struct em_strbuf *sb)
{
	zip_int64_t idx = zip_name_locate(v->z, name, ZIP_FL_ENC_RAW);
	zip_file_t *f;
	char buf[65536];
	zip_int64_t n;

	if (idx < 0 || !(f = zip_fopen_index(v->z, (zip_uint64_t)idx, 0)))
		return em_error_set(v->err, "could not open '%s' in the package", name);
	while ((n = zip_fread(f, buf, sizeof(buf))) > 0) {
		if (sb->len + (size_t)n > max) {
			zip_fclose(f);
			return em_error_set(v->err, "'%s' is larger than %zu bytes", name, max);
		}
		em_strbuf_add(sb, buf, (size_t)n);
	}
	zip_fclose(f);
	if (n < 0)
		return em_error_set(v->err, "could not read '%s' in the package (corrupt ZIP?)", name);
	return 0;
}

static int check_zip(struct verify *v, const char *path)
{
	zip_stat_t st;
	zip_int64_t n;
	zip_t *strict;
	int zerr = 0;
	char safe[200];
	struct em_strbuf mt = EM_STRBUF_INIT;

	v->z = zip_open(path, ZIP_RDONLY, &zerr);
	if (!v->z) {
		zip_error_t ze;

		zip_error_init_with_code(&ze, zerr);
		em_error_set(v->err, "could not open '%s' as a ZIP: %s", path, zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return EM_ERR;
	}
	n = zip_get_num_entries(v->z, 0);
	if (n < 2 || n > MAX_ENTRIES)
		return em_error_set(v->err, "the package has %lld entries; a package has 8",
				    (long long)n);
	for (zip_int64_t i = 0; i < n; i++) {
		const char *name = zip_get_name(v->z, (zip_uint64_t)i, ZIP_FL_ENC_RAW);

		clean(safe, sizeof(safe), name);
		if (!name || !safe_name(name)) {
			em_error_set(v->err, "unsafe path '%s' in the ZIP", safe);
			em_error_detail(v->err, "entry %lld; an entry name is a relative path of letters, "
					"digits, '.', '_', '-' and '/', without '..', '.' or empty parts",
					(long long)i + 1);
			return EM_ERR;
		}
		for (int j = 0; j < v->nnames; j++) {
			if (strcmp(v->names[j], name) == 0) {
				em_error_set(v->err, "duplicate ZIP entry '%s'", safe);
				em_error_detail(v->err, "entries %d and %lld have the same name; which one "
						"a tool reads is not defined", j + 1, (long long)i + 1);
				return EM_ERR;
			}
		}
		v->names[v->nnames] = strdup(name);
		if (!v->names[v->nnames++])
			abort();
	}
	if (strcmp(v->names[0], "mimetype") != 0) {
		clean(safe, sizeof(safe), v->names[0]);
		return em_error_set(v->err, "the first ZIP entry is '%s', not mimetype (ASiC-E)", safe);
	}
	if (zip_stat_index(v->z, 0, 0, &st) != 0 || st.comp_method != ZIP_CM_STORE)
		return em_error_set(v->err, "mimetype is compressed; ASiC-E stores it");
	if (read_entry(v, "mimetype", 256, &mt) < 0) {
		em_strbuf_release(&mt); /* what was read before the failure (fuzz_audit_verify) */
		return EM_ERR;
	}
	if (mt.len != strlen(EM_AUDIT_MIMETYPE) || memcmp(mt.buf, EM_AUDIT_MIMETYPE, mt.len) != 0) {
		em_strbuf_release(&mt);
		return em_error_set(v->err, "mimetype is not '%s'", EM_AUDIT_MIMETYPE);
	}
	em_strbuf_release(&mt);
	/* central directory and local headers must agree */
	strict = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
	if (!strict)
		return em_error_set(v->err, "the ZIP is inconsistent (central directory and entries differ)");
	zip_discard(strict);
	ok(v, "zip", "mimetype first and stored, %d entries, no unsafe or duplicate names", v->nnames);
	return 0;
}

/* ---- the signature document ------------------------------------------------ */

static int is_ds(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns &&
	       strcmp((const char *)n->ns->href, EM_NS_DSIG) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

/* Walks the tree: entities, XInclude, Manifest, KeyValue, Ids, signatures. */
static int walk(struct verify *v, xmlNodePtr n, struct smap *ids, int *signatures)
{
	char safe[200];

	for (; n; n = n->next) {
		if (n->type == XML_ENTITY_REF_NODE || n->type == XML_ENTITY_NODE ||
		    n->type == XML_ENTITY_DECL)
			return em_error_set(v->err, "the signature uses an entity; entities are refused");
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (n->ns && strstr((const char *)n->ns->href, "XInclude"))
			return em_error_set(v->err, "the signature contains an XInclude element; refused");
		if (is_ds(n, "Manifest")) {
			em_error_set(v->err, "the signature has a ds:Manifest (Manifest-only coverage)");
			em_error_detail(v->err, "a Manifest's references are not checked by XMLDSig core "
					"validation; every file must be a Reference of SignedInfo");
			return EM_ERR;
		}
		if (is_ds(n, "KeyValue") || is_ds(n, "RetrievalMethod") || is_ds(n, "KeyName")) {
			em_error_set(v->err, "the signature carries a key in ds:%s; only an X.509 "
				     "certificate chained to the CA is trusted", (const char *)n->name);
			return EM_ERR;
		}
		if (is_ds(n, "Signature"))
			(*signatures)++;
		for (xmlAttrPtr a = n->properties; a; a = a->next) {
			if (strcasecmp((const char *)a->name, "id") == 0) {
				xmlChar *val = xmlNodeGetContent((xmlNodePtr)a);
				struct smap_entry *e = smap_find(ids, val ? (char *)val : "", 1);

				clean(safe, sizeof(safe), (char *)val);
				xmlFree(val);
				if (e->a++) {
					em_error_set(v->err, "duplicate Id '%s' in the signature", safe);
					em_error_detail(v->err, "a reference to it could mean either element");
					return EM_ERR;
				}
			}
		}
		if (walk(v, n->children, ids, signatures) < 0)
			return EM_ERR;
	}
	return 0;
}

static int check_sigdoc(struct verify *v)
{
	struct em_strbuf body = EM_STRBUF_INIT;
	struct smap ids = { 0 };
	int signatures = 0;
	int ret = EM_ERR;
	xmlNodePtr root;

	for (int i = 0; i < v->nnames; i++) {
		if (strncmp(v->names[i], "META-INF/", 9) == 0 && strstr(v->names[i], "signature") &&
		    strcmp(v->names[i], EM_AUDIT_SIGFILE) != 0) {
			char safe[200];

			clean(safe, sizeof(safe), v->names[i]);
			return em_error_set(v->err, "more than one signature: '%s' besides %s", safe,
					    EM_AUDIT_SIGFILE);
		}
	}
	if (read_entry(v, EM_AUDIT_SIGFILE, MAX_SIGDOC, &body) < 0)
		goto out;
	if (memmem(body.buf, body.len, "<!DOCTYPE", 9) || memmem(body.buf, body.len, "<!ENTITY", 8)) {
		em_error_set(v->err, "the signature has a DOCTYPE; DTDs and entities are refused");
		goto out;
	}
	v->sig = xmlReadMemory(body.buf, (int)body.len, EM_AUDIT_SIGFILE, NULL,
			       XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
	if (!v->sig) {
		em_error_set(v->err, "%s is not well-formed XML", EM_AUDIT_SIGFILE);
		goto out;
	}
	if (v->sig->intSubset || v->sig->extSubset) {
		em_error_set(v->err, "the signature has a DOCTYPE; DTDs and entities are refused");
		goto out;
	}
	root = xmlDocGetRootElement(v->sig);
	if (!root || !root->ns || strcmp((const char *)root->ns->href, EM_NS_ASIC) != 0 ||
	    strcmp((const char *)root->name, "XAdESSignatures") != 0) {
		em_error_set(v->err, "the signature's root is not asic:XAdESSignatures");
		goto out;
	}
	if (walk(v, root, &ids, &signatures) < 0)
		goto out;
	if (signatures != 1) {
		em_error_set(v->err, "the package has %d signatures; exactly one is accepted", signatures);
		goto out;
	}
	for (xmlNodePtr n = root->children; n; n = n->next)
		if (is_ds(n, "Signature"))
			v->signature = n;
	if (!v->signature) {
		em_error_set(v->err, "the ds:Signature is not a child of the root");
		goto out;
	}
	ok(v, "signature document", "one signature; no DOCTYPE, entity, XInclude, Manifest or KeyValue; "
	   "%zu unique Ids", ids.n);
	ret = 0;
out:
	smap_release(&ids);
	em_strbuf_release(&body);
	return ret;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (n = n ? n->children : NULL; n; n = n->next)
		if (is_ds(n, name))
			return n;
	return NULL;
}

static const char *alg_name(const char *alg)
{
	if (strstr(alg, "sha1"))
		return "SHA-1";
	if (strstr(alg, "md5"))
		return "MD5";
	return "not on the list";
}

/* Only exclusive C14N, SHA-256 and RSA/ECDSA-SHA256 anywhere in the signature. */
static int check_algorithms(struct verify *v, xmlNodePtr n)
{
	static const char *const allowed[] = { EM_ALG_EXC_C14N, EM_ALG_SHA256, EM_ALG_RSA_SHA256,
					       EM_ALG_ECDSA_SHA256, NULL };

	for (; n; n = n->next) {
		xmlChar *alg;

		if (n->type != XML_ELEMENT_NODE)
			continue;
		alg = xmlGetProp(n, BAD_CAST "Algorithm");
		if (alg) {
			int good = 0;
			char safe[200];

			for (int i = 0; allowed[i]; i++)
				good |= strcmp((const char *)alg, allowed[i]) == 0;
			clean(safe, sizeof(safe), (const char *)alg);
			xmlFree(alg);
			if (!good) {
				em_error_set(v->err, "weak or unknown algorithm '%s' (%s) in ds:%s", safe,
					     alg_name(safe), (const char *)n->name);
				em_error_hint(v->err, "packages use exclusive C14N, SHA-256 and RSA-3072 or "
					      "ECDSA P-256 with SHA-256");
				return EM_ERR;
			}
		}
		if (check_algorithms(v, n->children) < 0)
			return EM_ERR;
	}
	return 0;
}

static int b64_digest(const xmlChar *text, unsigned char out[EM_HASH_LEN])
{
	unsigned char buf[64];
	char clean_b64[64];
	size_t n = 0;
	int len;

	for (const xmlChar *p = text; p && *p; p++) {
		if (isspace(*p))
			continue;
		if (n + 1 >= sizeof(clean_b64))
			return -1;
		clean_b64[n++] = (char)*p;
	}
	clean_b64[n] = '\0';
	if (n != 44 || clean_b64[43] != '=' || clean_b64[42] == '=')
		return -1;
	len = EVP_DecodeBlock(buf, (unsigned char *)clean_b64, (int)n);
	if (len != 33)
		return -1;
	memcpy(out, buf, EM_HASH_LEN);
	return 0;
}

static int check_references(struct verify *v)
{
	xmlNodePtr si = child(v->signature, "SignedInfo");
	xmlNodePtr sm = child(si, "SignatureMethod");
	xmlChar *sig_id = xmlGetProp(v->signature, BAD_CAST "Id");
	int props = 0, ret = EM_ERR;
	char safe[200];

	if (!si || !sm) {
		em_error_set(v->err, "the signature has no SignedInfo or SignatureMethod");
		goto out;
	}
	if (check_algorithms(v, v->signature) < 0)
		goto out;
	{
		xmlChar *alg = xmlGetProp(sm, BAD_CAST "Algorithm");
		v->sigalg = alg && strcmp((char *)alg, EM_ALG_ECDSA_SHA256) == 0 ? "ECDSA-SHA256"
										   : "RSA-SHA256";
		xmlFree(alg);
	}
	for (xmlNodePtr r = si->children; r; r = r->next) {
		xmlChar *uri, *type;
		xmlNodePtr dv;

		if (r->type != XML_ELEMENT_NODE || !is_ds(r, "Reference"))
			continue;
		uri = xmlGetProp(r, BAD_CAST "URI");
		type = xmlGetProp(r, BAD_CAST "Type");
		clean(safe, sizeof(safe), uri ? (char *)uri : "");
		if (!uri || !*uri) {
			em_error_set(v->err, "a Reference without a URI; each names one file");
			goto ref_out;
		}
		if (uri[0] == '#') {
			/* the XAdES SignedProperties of this signature, nothing else */
			xmlNodePtr obj = child(v->signature, "Object");
			xmlNodePtr qp = obj ? obj->children : NULL, sp = NULL;
			xmlChar *target = NULL, *spid = NULL;
			int good;

			while (qp && qp->type != XML_ELEMENT_NODE)
				qp = qp->next;
			if (qp && qp->ns && strcmp((char *)qp->ns->href, EM_NS_XADES) == 0 &&
			    strcmp((char *)qp->name, "QualifyingProperties") == 0) {
				target = xmlGetProp(qp, BAD_CAST "Target");
				for (sp = qp->children; sp && sp->type != XML_ELEMENT_NODE; sp = sp->next)
					;
				spid = sp ? xmlGetProp(sp, BAD_CAST "Id") : NULL;
			}
			good = sp && strcmp((char *)sp->name, "SignedProperties") == 0 && spid && sig_id &&
			       target && target[0] == '#' && strcmp((char *)target + 1, (char *)sig_id) == 0 &&
			       strcmp((char *)uri + 1, (char *)spid) == 0 && type &&
			       strcmp((char *)type, EM_TYPE_SIGNED_PROPS) == 0 && !props;
			xmlFree(target);
			xmlFree(spid);
			if (!good) {
				em_error_set(v->err, "Reference URI '%s' is not this signature's XAdES "
					     "SignedProperties", safe);
				goto ref_out;
			}
			props = 1;
		} else {
			if (strchr((char *)uri, ':') || uri[0] == '/') {
				em_error_set(v->err, "Reference URI '%s' is absolute or remote; only relative "
					     "paths inside the package are accepted", safe);
				goto ref_out;
			}
			if (strchr((char *)uri, '%')) {
				em_error_set(v->err, "Reference URI '%s' is escaped; '%%' is refused", safe);
				goto ref_out;
			}
			if (!safe_name((char *)uri)) {
				em_error_set(v->err, "Reference URI '%s' climbs out of the package or has "
					     "unsafe characters", safe);
				goto ref_out;
			}
			if (child(r, "Transforms")) {
				em_error_set(v->err, "Reference '%s' has transforms; a file is signed as its "
					     "bytes", safe);
				goto ref_out;
			}
			for (int i = 0; i < v->nrefs; i++) {
				if (strcmp(v->refs[i].uri, (char *)uri) == 0) {
					em_error_set(v->err, "'%s' is referenced twice", safe);
					goto ref_out;
				}
			}
			if (v->nrefs == (int)(sizeof(v->refs) / sizeof(v->refs[0]))) {
				em_error_set(v->err, "too many References");
				goto ref_out;
			}
			dv = child(r, "DigestValue");
			{
				xmlChar *d = dv ? xmlNodeGetContent(dv) : NULL;
				int bad = !d || b64_digest(d, v->refs[v->nrefs].digest) < 0;

				xmlFree(d);
				if (bad) {
					em_error_set(v->err, "Reference '%s' has no SHA-256 DigestValue", safe);
					goto ref_out;
				}
			}
			v->refs[v->nrefs].uri = strdup((char *)uri);
			if (!v->refs[v->nrefs++].uri)
				abort();
		}
		xmlFree(uri);
		xmlFree(type);
		continue;
ref_out:
		xmlFree(uri);
		xmlFree(type);
		goto out;
	}
	if (!props) {
		em_error_set(v->err, "no Reference covers the XAdES SignedProperties");
		goto out;
	}
	ok(v, "references", "%d files by relative path and the XAdES SignedProperties; "
	   "exclusive C14N, SHA-256, %s", v->nrefs, v->sigalg);
	ret = 0;
out:
	xmlFree(sig_id);
	return ret;
}

static int check_file_set(struct verify *v)
{
	char safe[200];

	for (int i = 0; i < v->nrefs; i++) {
		int found = 0;

		for (int j = 0; j < v->nnames; j++)
			found |= strcmp(v->names[j], v->refs[i].uri) == 0;
		if (!found) {
			clean(safe, sizeof(safe), v->refs[i].uri);
			return em_error_set(v->err, "'%s' is signed but not in the ZIP", safe);
		}
	}
	for (int j = 0; j < v->nnames; j++) {
		int found = strcmp(v->names[j], "mimetype") == 0 ||
			    strcmp(v->names[j], EM_AUDIT_SIGFILE) == 0;

		for (int i = 0; i < v->nrefs; i++)
			found |= strcmp(v->names[j], v->refs[i].uri) == 0;
		if (!found) {
			clean(safe, sizeof(safe), v->names[j]);
			return em_error_set(v->err, "'%s' is in the ZIP but not signed", safe);
		}
	}
	for (int i = 0; i < EM_AUDIT_NFILES; i++) {
		int found = 0;

		for (int j = 0; j < v->nrefs; j++)
			found |= strcmp(em_audit_files[i], v->refs[j].uri) == 0;
		if (!found)
			return em_error_set(v->err, "the package has no signed '%s'", em_audit_files[i]);
	}
	if (v->nrefs != EM_AUDIT_NFILES)
		return em_error_set(v->err, "the package signs %d files; an audit package has %d",
				    v->nrefs, EM_AUDIT_NFILES);
	/* the content checks read ledger.xml, balances.xml, control.xml in this order */
	for (int i = 0; i < EM_AUDIT_PARTS; i++)
		if (strcmp(v->refs[i].uri, em_audit_files[i]) != 0)
			return em_error_set(v->err, "the signed files are not in package order: "
					    "reference %d is not '%s'", i + 1, em_audit_files[i]);
	ok(v, "file set", "the ZIP holds exactly the %d signed files, mimetype and the signature",
	   v->nrefs);
	return 0;
}

static struct verify *io_verify;   /* xmlsec's IO callbacks have no context */

/* ---- the data files: checked while xmlsec digests them ------------------- */

/*
 * Each file of the package is read from the ZIP once.  The schemas are
 * small: they are read first, parsed, and kept, and xmlsec digests those
 * same bytes from memory.  ledger.xml, balances.xml and control.xml are
 * large: xmlsec's read of each Reference is the only read, and every chunk
 * it digests goes, in the same pass, to a SAX parser that validates it
 * against its schema and runs the content checks.  So what is checked is
 * exactly what was digested, and nothing is read twice.
 *
 * A content failure found while xmlsec reads is kept (v->cerr, v->cfail)
 * and reported only after the signature: a changed byte is a signature
 * failure first.  After the first failure the remaining bytes are still
 * digested but no longer parsed.
 */

struct reader;
typedef int (*leaf_fn)(struct verify *v, struct reader *r);

/* What the checks see: the element that just ended and its ancestors. */
struct reader {
	const char *file;
	const char *path[8];   /* local names from the root (the parser's dictionary holds them) */
	int tag[8];            /* their index in enames + 1, 0 for another name */
	int depth;
	struct {
		const char *buf;  /* text of the element that ended, NUL-terminated */
		size_t len;
	} text;
	int starting;          /* 1 at the start of a Transaction or a Line, 0 at an end */
};

/*
 * The element names the ledger's hot path looks at, with their field index
 * in a voucher header (H_*) and in a line (L_*), -1 when not one.  An
 * element's tag is found once per distinct name pointer: the parser hands
 * out each name from its dictionary, so the pointer repeats.
 */
static const struct ename {
	const char *name;
	int h, l;
} enames[] = {
	{ "ChainSeq", 0, -1 }, { "Number", 1, -1 }, { "Type", 2, -1 }, { "Date", 3, -1 },
	{ "Reverses", 4, -1 }, { "Memo", 5, 10 }, { "PreparedBy", 6, -1 }, { "ReviewedBy", 7, -1 },
	{ "PostedBy", 8, -1 }, { "PostedAt", 9, -1 }, { "ChainPrev", 10, -1 }, { "ChainHash", 11, -1 },
	{ "LineNo", -1, 0 }, { "Account", -1, 1 }, { "Side", -1, 2 }, { "Amount", -1, 3 },
	{ "Fund", -1, 4 }, { "Project", -1, 5 }, { "Village", -1, 6 }, { "Household", -1, 7 },
	{ "BankAccount", -1, 8 }, { "Category", -1, 9 }, { "Transaction", -1, -1 },
	{ "Line", -1, -1 }, { "GeneralLedgerEntries", -1, -1 },
};
#define T_TRANSACTION 23   /* tags: index + 1 */
#define T_LINE 24
#define T_ENTRIES 25

/*
 * Names seen to their tags, by pointer, open addressing: a package uses a
 * few dozen names.  Past half full (a file of many names) a name's tag is
 * found by comparing, uncached.
 */
#define TAG_SLOTS 256

struct tag_cache {
	const xmlChar *ptr[TAG_SLOTS];
	int tag[TAG_SLOTS];
	int n;
};

static int tag_of(struct tag_cache *c, const xmlChar *local)
{
	size_t h = (size_t)(((uint64_t)(uintptr_t)local * 0x9E3779B97F4A7C15ULL) >> 56);
	int tag = 0;

	for (; c->ptr[h]; h = (h + 1) & (TAG_SLOTS - 1))
		if (c->ptr[h] == local)
			return c->tag[h];
	for (size_t i = 0; i < sizeof(enames) / sizeof(enames[0]); i++)
		if (strcmp(enames[i].name, (const char *)local) == 0)
			tag = (int)i + 1;
	if (2 * (c->n + 1) <= TAG_SLOTS) {
		c->ptr[h] = local;
		c->tag[h] = tag;
		c->n++;
	}
	return tag;
}

struct part {
	struct verify *v;
	int index;                 /* in v->parts */
	const char *name, *xsd;
	leaf_fn leaf;
	struct em_strbuf xsd_body; /* the schema's bytes, read once */
	xmlSchemaPtr schema;
	xmlSchemaValidCtxtPtr vc;
	xmlSchemaSAXPlugPtr plug;
	xmlSAXHandler sax;
	xmlSAXHandlerPtr plugged;  /* what the schema plug put in front (it restores these two) */
	void *plugged_ud;
	/* the parsing thread's */
	xmlParserCtxtPtr pc;
	struct pipeline *pl;       /* where its events go */
	struct em_strbuf events;   /* events not yet handed to the checking thread */
	struct em_strbuf text;     /* text of the element being parsed */
	int depth;                 /* of the element being parsed */
	const xmlChar *started;    /* its name, while its start is not yet an event */
	int stopped;               /* refused (an event says why); parses no further */
	const xmlChar *plain_ns;   /* a namespace already seen not to be XInclude */
	struct em_strbuf why;      /* the first schema error */
	/* the checking thread's */
	struct reader r;
	struct tag_cache tags;
	int done;                  /* parsed to its end, valid, every check held */
	/* the main thread's */
	int opened, xsd_opened;    /* xmlsec opened it, its schema (once each) */
};

static int named(struct reader *r, int up, const char *name)
{
	int i = r->depth - 1 - up;

	return i >= 0 && strcmp(r->path[i], name) == 0;
}

static void schema_error(void *ctx, xmlErrorPtr e)
{
	struct em_strbuf *why = ctx;

	if (why->len == 0 && e && e->message) {
		em_strbuf_addf(why, "line %d: %s", e->line, e->message);
		while (why->len && (why->buf[why->len - 1] == '\n'))
			why->buf[--why->len] = '\0';
	}
}

/*
 * Two threads share a part's work (see "the threads" below): the parsing
 * thread parses and validates it and turns what its handlers see into
 * events; the checking thread replays the events into a struct reader and
 * runs the part's checks.  Events, in a byte string: a kind, the length of
 * the data, the data, a NUL.
 *   E_START  an element with children starts; the data is its local
 *            name's pointer
 *   E_END    it ends; the data is its text
 *   E_LEAF   an element without children, start and end in one: its
 *            local name's pointer, then its text (most elements are)
 *   E_FAIL   the parsing thread refused the part: message NUL detail
 *   E_DONE   parsed to its end, well-formed and valid
 * Only the checking thread writes the error and v->cfail while both run,
 * each failure in the order of the part's bytes, so the first one found
 * is the one told, as when one thread did both.
 */
enum { E_START = 'S', E_END = 'E', E_LEAF = 'L', E_FAIL = 'F', E_DONE = 'D' };
#define EVENT_BATCH (64 * 1024)

static int cfail_of(struct verify *v)
{
	return __atomic_load_n(&v->cfail, __ATOMIC_ACQUIRE);
}

/* A content failure of part p: kept for after the signature. */
static void part_failed(struct part *p)
{
	if (cfail_of(p->v) < 0)
		__atomic_store_n(&p->v->cfail, p->index, __ATOMIC_RELEASE);
}

static void batch_put(struct pipeline *pl, struct part *p, char *buf, size_t len);

/* Hands part p's events so far to the checking thread. */
static void flush_events(struct part *p)
{
	size_t n;
	char *buf = em_strbuf_detach(&p->events, &n);

	batch_put(p->pl, p, buf, n);
}

/* An event whose data is name (when not NULL: a pointer) then len bytes. */
static void emit(struct part *p, int kind, const xmlChar *name, const void *data, size_t len)
{
	struct em_strbuf *e = &p->events;
	size_t head = name ? sizeof(name) : 0, n = head + len;
	size_t need = 1 + sizeof(n) + n + 1;
	char *at;

	/* a batch's room is made once, not per event */
	if (e->alloc - e->len <= need)
		em_strbuf_grow(e, need > EVENT_BATCH ? need : EVENT_BATCH + 256);
	at = e->buf + e->len;
	at[0] = (char)kind;
	memcpy(at + 1, &n, sizeof(n));
	if (name)
		memcpy(at + 1 + sizeof(n), &name, sizeof(name));
	if (len)
		memcpy(at + 1 + sizeof(n) + head, data, len);
	at[need - 1] = '\0';
	e->len += need;
	e->buf[e->len] = '\0';
	if (e->len >= EVENT_BATCH || kind == E_FAIL || kind == E_DONE)
		flush_events(p);
}

/* The parsing thread refuses part p: the checking thread will say why. */
static void refuse(struct part *p, const char *detail, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void refuse(struct part *p, const char *detail, const char *fmt, ...)
{
	struct em_strbuf why = EM_STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	em_strbuf_vaddf(&why, fmt, ap);
	va_end(ap);
	em_strbuf_add(&why, "", 1);
	em_strbuf_adds(&why, detail ? detail : "");
	emit(p, E_FAIL, NULL, why.buf, why.len);
	em_strbuf_release(&why);
	p->stopped = 1;
}

/*
 * Whether the parsing thread goes on with part p.  When not, its handlers
 * do nothing and its parser's next read finds the end (pull_read): no
 * xmlStopParser from a handler, which in libxml2 2.9 frees the input a
 * handler's caller may still be reading (a use after free under ASan when
 * called from the characters handler; the push parser crashed when
 * stopped from the start handler at an XInclude element).
 */
static int part_active(struct part *p)
{
	return p->pc && !p->stopped && cfail_of(p->v) < 0;
}

static void sax_start(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri,
		      int nns, const xmlChar **ns, int nattr, int ndefaulted, const xmlChar **attrs)
{
	struct part *p = ctx;

	(void)prefix, (void)nns, (void)ns, (void)nattr, (void)ndefaulted, (void)attrs;
	if (!part_active(p))
		return;
	if (uri && uri != p->plain_ns && strstr((const char *)uri, "XInclude")) {
		refuse(p, NULL, "%s has an XInclude element; refused", p->name);
		return;
	}
	p->plain_ns = uri;   /* the parser's dictionary repeats the pointer */
	if (p->depth == 8) {
		refuse(p, NULL, "%s nests too deep", p->name);
		return;
	}
	/* the element before has children: its start is an event of its own */
	if (p->started)
		emit(p, E_START, p->started, NULL, 0);
	p->started = local;
	p->depth++;
	em_strbuf_reset(&p->text);
}

static void sax_end(void *ctx, const xmlChar *local, const xmlChar *prefix, const xmlChar *uri)
{
	struct part *p = ctx;

	(void)local, (void)prefix, (void)uri;
	if (!part_active(p) || p->depth == 0)
		return;
	if (p->started)
		emit(p, E_LEAF, p->started, p->text.buf, p->text.len);
	else
		emit(p, E_END, NULL, p->text.buf, p->text.len);
	p->started = NULL;
	p->depth--;
	em_strbuf_reset(&p->text);
}

static void sax_text(void *ctx, const xmlChar *ch, int len)
{
	struct part *p = ctx;
	struct em_strbuf *t = &p->text;

	if (!part_active(p) || p->depth == 0)
		return;
	if (t->alloc - t->len > (size_t)len) {
		/* the usual case, without em_strbuf_add's three calls */
		memcpy(t->buf + t->len, ch, (size_t)len);
		t->len += (size_t)len;
		t->buf[t->len] = '\0';
	} else {
		em_strbuf_add(t, ch, (size_t)len);
	}
}

static void sax_dtd(void *ctx, const xmlChar *name, const xmlChar *eid, const xmlChar *sid)
{
	struct part *p = ctx;

	(void)name, (void)eid, (void)sid;
	if (part_active(p))
		refuse(p, NULL, "%s has a DOCTYPE; DTDs and entities are refused", p->name);
}

static void sax_entity(void *ctx, const xmlChar *name)
{
	struct part *p = ctx;

	(void)name;
	if (part_active(p))
		refuse(p, NULL, "%s uses an entity; refused", p->name);
}

/*
 * The checking thread: part p's events in buf, replayed into p->r for the
 * part's checks (leaf).  Only a Transaction's and a Line's start reach the
 * checks: nothing else looks at a start.  Nothing is checked after the
 * first failure.
 */
static void check_start(struct part *p, const xmlChar *local)
{
	struct reader *r = &p->r;
	int tag = tag_of(&p->tags, local);

	r->path[r->depth] = (const char *)local;
	r->tag[r->depth++] = tag;
	if (tag != T_TRANSACTION && tag != T_LINE)
		return;
	r->starting = 1;
	r->text.buf = "";
	r->text.len = 0;
	if (p->leaf(p->v, r) < 0)
		part_failed(p);
}

static void check_end(struct part *p, const char *text, size_t len)
{
	struct reader *r = &p->r;

	r->starting = 0;
	r->text.buf = text;
	r->text.len = len;
	if (p->leaf(p->v, r) < 0)
		part_failed(p);
	r->depth--;
}

static void check_events(struct part *p, const char *buf, size_t len)
{
	struct verify *v = p->v;
	size_t off = 0;

	while (off < len && cfail_of(v) < 0) {
		int kind = buf[off];
		const char *data = buf + off + 1 + sizeof(size_t);
		const xmlChar *local;
		size_t n;

		memcpy(&n, buf + off + 1, sizeof(n));
		off += 1 + sizeof(n) + n + 1;
		if (kind == E_START || kind == E_LEAF) {
			memcpy(&local, data, sizeof(local));
			check_start(p, local);
		}
		if (kind == E_LEAF && cfail_of(v) < 0)
			check_end(p, data + sizeof(local), n - sizeof(local));
		else if (kind == E_END)
			check_end(p, data, n);
		else if (kind == E_FAIL) {
			em_error_set(v->err, "%s", data);
			if (data[strlen(data) + 1])
				em_error_detail(v->err, "%s", data + strlen(data) + 1);
			part_failed(p);
		} else if (kind == E_DONE) {
			p->done = 1;
		}
	}
}

/*
 * The schema of part p: its bytes read once from the ZIP (xmlsec digests
 * them from here), parsed.  A failure is a content failure of the part,
 * reported after the signature.
 */
static void load_schema(struct part *p)
{
	struct verify *v = p->v;
	xmlDocPtr doc = NULL;
	xmlSchemaParserCtxtPtr pc = NULL;

	if (read_entry(v, p->xsd, MAX_SCHEMA, &p->xsd_body) < 0) {
		em_strbuf_reset(&p->xsd_body);
		goto failed;
	}
	doc = xmlReadMemory(p->xsd_body.buf, (int)p->xsd_body.len, p->xsd, NULL,
			    XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
	if (!doc || doc->intSubset || doc->extSubset) {
		em_error_set(v->err, "'%s' is not a plain XML schema (no DOCTYPE allowed)", p->xsd);
		goto failed;
	}
	pc = xmlSchemaNewDocParserCtxt(doc);
	if (pc)
		xmlSchemaSetParserStructuredErrors(pc, NULL, NULL);
	if (!pc || !(p->schema = xmlSchemaParse(pc))) {
		em_error_set(v->err, "'%s' is not a valid XML schema", p->xsd);
		goto failed;
	}
	goto out;
failed:
	part_failed(p);
out:
	xmlSchemaFreeParserCtxt(pc);
	xmlFreeDoc(doc);
}

struct pipeline;
static int pull_read(void *ctx, char *buf, int len);

/*
 * Part p from its first byte to its last: a validating SAX parser that
 * pulls the bytes xmlsec read, chunk by chunk, from the pipeline (a pull
 * parser does less per element than a push parser fed the same chunks),
 * then the verdict: well-formed and valid?  Runs on the parsing thread.
 */
static void part_parse(struct part *p, struct pipeline *pl)
{
	struct verify *v = p->v;
	char safe[200];

	if (cfail_of(v) >= 0)
		return;
	p->pl = pl;
	memset(&p->sax, 0, sizeof(p->sax));
	p->sax.initialized = XML_SAX2_MAGIC;
	p->sax.startElementNs = sax_start;
	p->sax.endElementNs = sax_end;
	p->sax.characters = sax_text;
	p->sax.cdataBlock = sax_text;
	p->sax.internalSubset = sax_dtd;
	p->sax.externalSubset = sax_dtd;
	p->sax.reference = sax_entity;
	p->vc = xmlSchemaNewValidCtxt(p->schema);
	if (!p->vc) {
		refuse(p, NULL, "could not validate '%s'", p->name);
		return;
	}
	xmlSchemaSetValidStructuredErrors(p->vc, schema_error, &p->why);
	p->plugged = &p->sax;
	p->plugged_ud = p;
	p->plug = xmlSchemaSAXPlug(p->vc, &p->plugged, &p->plugged_ud);
	p->pc = p->plug ? xmlCreateIOParserCtxt(p->plugged, p->plugged_ud, pull_read, NULL, pl,
						XML_CHAR_ENCODING_NONE) : NULL;
	if (!p->pc || xmlCtxtUseOptions(p->pc, XML_PARSE_NONET | XML_PARSE_NOWARNING |
					XML_PARSE_NOERROR | XML_PARSE_NOCDATA) < 0) {
		refuse(p, NULL, "could not read '%s'", p->name);
		return;
	}
	xmlParseDocument(p->pc);
	if (!part_active(p))
		return;
	if (!p->pc->wellFormed || !xmlSchemaIsValid(p->vc) || p->depth != 0) {
		const xmlError *e = xmlCtxtGetLastError(p->pc);

		if (!p->why.len && e && e->message && !p->pc->wellFormed)
			em_strbuf_addf(&p->why, "line %d: %s", e->line, e->message);
		while (p->why.len && p->why.buf[p->why.len - 1] == '\n')
			p->why.buf[--p->why.len] = '\0';
		clean(safe, sizeof(safe), p->why.len ? p->why.buf : "not well-formed XML");
		refuse(p, safe, "%s does not validate against %s", p->name, p->xsd);
		return;
	}
	emit(p, E_DONE, NULL, NULL, 0);
}

static void part_release(struct part *p)
{
	if (p->pc) {
		xmlFreeDoc(p->pc->myDoc);
		xmlFreeParserCtxt(p->pc);
	}
	if (p->plug)
		xmlSchemaSAXUnplug(p->plug);
	xmlSchemaFreeValidCtxt(p->vc);
	xmlSchemaFree(p->schema);
	em_strbuf_release(&p->xsd_body);
	em_strbuf_release(&p->events);
	em_strbuf_release(&p->text);
	em_strbuf_release(&p->why);
}

/* ---- the threads ------------------------------------------------------------ */

/*
 * Three threads share the reading of the data files.  xmlsec's reads
 * (inflating the ZIP entry and digesting it) go on in the caller's thread,
 * and each chunk they read is handed over, in order, to the parsing thread,
 * which parses and validates it; the events of its handlers go, in order
 * too, to the checking thread, which runs the content checks.  The three
 * overlap; the order of the bytes and of the events, and so every result,
 * is the same as if one thread did all.
 *
 * A data file arrives at the parsing thread as C_START, its C_DATA chunks
 * and C_END; its parser pulls the chunks until C_END (a pull parser does
 * less per element than a push parser fed the same chunks), and what it
 * leaves unread (it stopped at a failure) is dropped.
 */
#define CHUNK (256 * 1024)
#define QUEUE 8

enum { C_START, C_DATA, C_END, C_STOP };

/*
 * What goes between the threads: a chunk of a data file for the parsing
 * thread (kind C_*), or a batch of a part's events for the checking thread
 * (part NULL ends it).
 */
struct chunk {
	struct part *part;
	int kind;
	char *buf;
	size_t len;
};

struct queue {
	struct chunk q[QUEUE];
	int head, count;
	pthread_cond_t cv;   /* the queue changed */
};

struct pipeline {
	pthread_mutex_t mu;  /* of both queues */
	struct queue chunks; /* to the parsing thread */
	struct queue events; /* to the checking thread */
	pthread_t th, check_th;
	int running;
	struct part *part;   /* the parsing thread's: the part being parsed */
	struct chunk cur;    /* the chunk being read */
	size_t off;          /* how much of it the parser has */
	int pending;         /* cur is not a part's: the main loop takes it next */
};

/* Hands c (its buf now the queue's) over, waiting for room. */
static void queue_put(struct pipeline *pl, struct queue *q, struct chunk c)
{
	pthread_mutex_lock(&pl->mu);
	while (q->count == QUEUE)
		pthread_cond_wait(&q->cv, &pl->mu);
	q->q[(q->head + q->count) % QUEUE] = c;
	q->count++;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&pl->mu);
}

/* The next chunk handed over, waiting for it. */
static struct chunk queue_take(struct pipeline *pl, struct queue *q)
{
	struct chunk c;

	pthread_mutex_lock(&pl->mu);
	while (q->count == 0)
		pthread_cond_wait(&q->cv, &pl->mu);
	c = q->q[q->head];
	q->head = (q->head + 1) % QUEUE;
	q->count--;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&pl->mu);
	return c;
}

/* Hands a chunk (buf now the pipeline's) to the parsing thread. */
static void pipeline_put(struct pipeline *pl, struct part *part, int kind, char *buf, size_t len)
{
	struct chunk c = { part, kind, buf, len };

	queue_put(pl, &pl->chunks, c);
}

/* Hands part p's events (buf now the checking thread's) over; p NULL ends it. */
static void batch_put(struct pipeline *pl, struct part *p, char *buf, size_t len)
{
	struct chunk c = { p, 0, buf, len };

	queue_put(pl, &pl->events, c);
}

/*
 * The parser's read: the bytes of the current part's chunks, 0 at its
 * C_END or once the part is no longer active.  Another part's C_START or
 * C_STOP before it (xmlsec closed the entry before its end) is an error
 * here, and kept for the main loop.
 */
static int pull_read(void *ctx, char *buf, int len)
{
	struct pipeline *pl = ctx;

	if (!part_active(pl->part))
		return 0;   /* refused, or a check failed: nothing more is parsed */
	while (pl->cur.kind == C_DATA && pl->off == pl->cur.len) {
		free(pl->cur.buf);
		pl->cur = queue_take(pl, &pl->chunks);
		pl->off = 0;
	}
	if (pl->cur.kind == C_END)
		return 0;
	if (pl->cur.kind != C_DATA) {
		pl->pending = 1;
		return -1;
	}
	if ((size_t)len > pl->cur.len - pl->off)
		len = (int)(pl->cur.len - pl->off);
	memcpy(buf, pl->cur.buf + pl->off, (size_t)len);
	pl->off += (size_t)len;
	return len;
}

static void *pipeline_main(void *arg)
{
	struct pipeline *pl = arg;

	for (;;) {
		struct chunk c = pl->pending ? pl->cur : queue_take(pl, &pl->chunks);

		pl->pending = 0;
		if (c.kind == C_STOP)
			return NULL;
		if (c.kind != C_START) {
			free(c.buf);   /* the rest of a part whose parser stopped */
			continue;
		}
		/* the parser's first read takes the first chunk */
		pl->cur.kind = C_DATA;
		pl->cur.buf = NULL;
		pl->cur.len = pl->off = 0;
		pl->part = c.part;
		part_parse(c.part, pl);
		if (pl->cur.kind == C_DATA)
			free(pl->cur.buf);
	}
}

static void *checker_main(void *arg)
{
	struct pipeline *pl = arg;

	for (;;) {
		struct chunk b = queue_take(pl, &pl->events);

		if (!b.part)
			return NULL;
		check_events(b.part, b.buf, b.len);
		free(b.buf);
	}
}

/* Starts the parsing and the checking thread.  Returns 0, or -1 when it could not. */
static int pipeline_start(struct pipeline *pl)
{
	int mu = 0, cv = 0, bcv = 0, checker = 0;

	memset(pl, 0, sizeof(*pl));
	if (!(mu = pthread_mutex_init(&pl->mu, NULL) == 0) ||
	    !(cv = pthread_cond_init(&pl->chunks.cv, NULL) == 0) ||
	    !(bcv = pthread_cond_init(&pl->events.cv, NULL) == 0) ||
	    !(checker = pthread_create(&pl->check_th, NULL, checker_main, pl) == 0))
		goto out;
	pl->running = pthread_create(&pl->th, NULL, pipeline_main, pl) == 0;
out:
	if (pl->running)
		return 0;
	if (checker) {
		batch_put(pl, NULL, NULL, 0);
		pthread_join(pl->check_th, NULL);
	}
	if (bcv)
		pthread_cond_destroy(&pl->events.cv);
	if (cv)
		pthread_cond_destroy(&pl->chunks.cv);
	if (mu)
		pthread_mutex_destroy(&pl->mu);
	return -1;
}

/* Waits until every chunk handed over is parsed and checked, and ends the threads. */
static void pipeline_finish(struct pipeline *pl)
{
	if (!pl->running)
		return;
	pipeline_put(pl, NULL, C_STOP, NULL, 0);
	pthread_join(pl->th, NULL);
	batch_put(pl, NULL, NULL, 0);
	pthread_join(pl->check_th, NULL);
	pthread_cond_destroy(&pl->events.cv);
	pthread_cond_destroy(&pl->chunks.cv);
	pthread_mutex_destroy(&pl->mu);
	pl->running = 0;
}

/* ---- xmlsec's IO: the package's signed entries, each opened once ---------- */

struct io {
	struct part *part;   /* a data file being parsed, or NULL */
	zip_file_t *f;       /* its entry, or NULL for a schema in memory */
	const char *mem;
	size_t len, off;
	char *chunk;         /* bytes read, not yet handed to the parser */
	int used;
};

static struct pipeline *io_pipeline;

static int io_match(const char *uri)
{
	if (!io_verify)
		return 0;
	for (int i = 0; i < io_verify->nrefs; i++)
		if (strcmp(io_verify->refs[i].uri, uri) == 0)
			return 1;
	return 0;
}

static void *io_open(const char *uri)
{
	struct verify *v = io_verify;
	struct io *io;
	zip_int64_t idx;

	if (!io_match(uri) || !(io = calloc(1, sizeof(*io))))
		return NULL;
	for (int i = 0; i < EM_AUDIT_PARTS; i++) {
		struct part *p = &v->parts[i];

		if (strcmp(uri, p->xsd) == 0) {
			if (p->xsd_opened || !p->xsd_body.buf)
				goto fail;
			p->xsd_opened = 1;
			io->mem = p->xsd_body.buf;
			io->len = p->xsd_body.len;
			return io;
		}
		if (strcmp(uri, p->name) == 0) {
			if (p->opened)
				goto fail;   /* read once */
			p->opened = 1;
			io->part = p;
		}
	}
	if ((idx = zip_name_locate(v->z, uri, ZIP_FL_ENC_RAW)) < 0 ||
	    !(io->f = zip_fopen_index(v->z, (zip_uint64_t)idx, 0)))
		goto fail;
	if (io->part)
		pipeline_put(io_pipeline, io->part, C_START, NULL, 0);
	return io;
fail:
	free(io);
	return NULL;
}

/* The bytes xmlsec digests are, in the same order, the bytes the parser gets. */
static int io_read(void *ctx, char *buf, int len)
{
	struct io *io = ctx;
	zip_int64_t n;

	if (!io->f) {
		size_t k = io->len - io->off < (size_t)len ? io->len - io->off : (size_t)len;

		memcpy(buf, io->mem + io->off, k);
		io->off += k;
		return (int)k;
	}
	n = zip_fread(io->f, buf, (zip_uint64_t)len);
	if (!io->part || n < 0)
		return (int)n;
	if (n > 0 && io->used + n > CHUNK) {
		pipeline_put(io_pipeline, io->part, C_DATA, io->chunk, io->used);
		io->chunk = NULL;
		io->used = 0;
	}
	if (n > 0) {
		if (!io->chunk && !(io->chunk = malloc(CHUNK)))
			abort();
		memcpy(io->chunk + io->used, buf, (size_t)n);
		io->used += (int)n;
	} else {
		if (io->used)
			pipeline_put(io_pipeline, io->part, C_DATA, io->chunk, io->used);
		else
			free(io->chunk);
		io->chunk = NULL;
		io->used = 0;
		pipeline_put(io_pipeline, io->part, C_END, NULL, 0);
		io->part = NULL;
	}
	return (int)n;
}

static int io_close(void *ctx)
{
	struct io *io = ctx;
	int ret = io->f && zip_fclose(io->f) != 0 ? -1 : 0;

	free(io->chunk);
	free(io);
	return ret;
}

/* ---- xmlsec ---------------------------------------------------------------- */

static char xmlsec_last[256];      /* the last error xmlsec reported */

static void xmlsec_error(const char *file, int line, const char *func, const char *obj,
			 const char *subj, int reason, const char *msg)
{
	(void)file, (void)line, (void)func, (void)obj;
	if (reason == XMLSEC_ERRORS_R_CERT_VERIFY_FAILED || !*xmlsec_last)
		snprintf(xmlsec_last, sizeof(xmlsec_last), "%s%s%s", subj ? subj : "",
			 subj ? ": " : "", msg ? msg : "");
}

/* libxml2 loads nothing from outside: no DTD, no schema include, no entity. */
static xmlParserInputPtr no_loader(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url, (void)id, (void)ctxt;
	return NULL;
}

static int add_ids(xmlSecPtrListPtr list, const xmlSecTransformId *ids)
{
	for (; *ids; ids++)
		if (xmlSecPtrListAdd(list, (void *)*ids) < 0)
			return -1;
	return 0;
}

/* A name as RFC 2253 text with UTF-8 kept, for people to read. */
static void name_text(X509_NAME *name, char *buf, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	buf[0] = '\0';
	if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
		n = BIO_read(b, buf, (int)size - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(b);
}

static void cert_names(struct verify *v, X509 *c)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int len;
	EVP_PKEY *k = X509_get0_pubkey(c);

	name_text(X509_get_subject_name(c), v->signer, sizeof(v->signer));
	name_text(X509_get_issuer_name(c), v->issuer, sizeof(v->issuer));
	v->key_bits = k ? EVP_PKEY_bits(k) : 0;
	len = i2d_X509(c, &der);
	if (len > 0 && EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) == 1)
		em_canon_hex(md, v->fingerprint);
	OPENSSL_free(der);
}

/*
 * DESIGN section 6: verify trusts the given CA and nothing else.  xmlsec's
 * keys manager also loads OpenSSL's default trust (X509_STORE_set_default_paths:
 * the system's CA store, or SSL_CERT_FILE and SSL_CERT_DIR), so a signer
 * issued by any of those passed its check.  The signer's certificate is
 * verified again against a store that holds the given CA alone (a trust
 * anchor even when it is not self-signed, as xmlsec takes it), the
 * package's other certificates untrusted intermediates.
 */
static int chains_to_ca(struct verify *v, xmlSecKeyDataPtr x509, X509 *cert, const char *ca_path)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *others = sk_X509_new_null();
	BIO *b = BIO_new_file(ca_path, "r");
	X509 *ca = b ? PEM_read_bio_X509_AUX(b, NULL, NULL, NULL) : NULL;
	xmlSecSize n = xmlSecOpenSSLKeyDataX509GetCertsSize(x509);
	int ret = EM_ERR;

	if (!store || !ctx || !others || !ca || X509_STORE_add_cert(store, ca) != 1 ||
	    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN) != 1) {
		em_error_set(v->err, "could not load the CA certificate '%s'", ca_path);
		goto out;
	}
	for (xmlSecSize i = 0; i < n; i++) {
		X509 *c = xmlSecOpenSSLKeyDataX509GetCert(x509, i);

		if (c && c != cert && !sk_X509_push(others, c))
			abort();
	}
	if (X509_STORE_CTX_init(ctx, store, cert, others) != 1 || X509_verify_cert(ctx) != 1) {
		em_error_set(v->err, "the signer's certificate does not chain to the CA '%s'", ca_path);
		em_error_detail(v->err, "OpenSSL: %s",
				X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
		em_error_hint(v->err, "only the --ca certificate is trusted, not the system's CA store "
			      "nor SSL_CERT_FILE or SSL_CERT_DIR");
		goto out;
	}
	ret = 0;
out:
	sk_X509_free(others);   /* the certificates are xmlsec's */
	X509_free(ca);
	BIO_free(b);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ret;
}

static int check_signature(struct verify *v, const char *ca_path)
{
	const xmlSecTransformId sig_ids[] = { xmlSecTransformExclC14NId, xmlSecTransformRsaSha256Id,
					      xmlSecTransformEcdsaSha256Id, NULL };
	const xmlSecTransformId ref_ids[] = { xmlSecTransformExclC14NId, xmlSecTransformSha256Id, NULL };
	xmlSecKeysMngrPtr mngr = NULL;
	xmlSecDSigCtxPtr ctx = NULL;
	X509 *cert = NULL;
	xmlSecKeyDataPtr x509;
	struct em_error *err = v->err;
	struct pipeline pl;
	int ret = EM_ERR, rc;
	char safe[200];

	xmlsec_last[0] = '\0';
	mngr = xmlSecKeysMngrCreate();
	if (!mngr || xmlSecCryptoAppDefaultKeysMngrInit(mngr) < 0) {
		em_error_set(v->err, "could not start xmlsec");
		goto out;
	}
	if (xmlSecCryptoAppKeysMngrCertLoad(mngr, ca_path, xmlSecKeyDataFormatPem,
					    xmlSecKeyDataTypeTrusted) < 0) {
		em_error_set(v->err, "could not load the CA certificate '%s'", ca_path);
		em_error_hint(v->err, "--ca names a PEM file with the CA certificate you trust");
		goto out;
	}
	ctx = xmlSecDSigCtxCreate(mngr);
	if (!ctx)
		goto out;
	ctx->enabledReferenceUris = xmlSecTransformUriTypeSameDocument | xmlSecTransformUriTypeRemote;
	ctx->enabledReferenceTransforms = xmlSecPtrListCreate(xmlSecTransformIdListId);
	if (!ctx->enabledReferenceTransforms ||
	    add_ids(ctx->enabledReferenceTransforms, ref_ids) < 0 ||
	    add_ids(&ctx->transformCtx.enabledTransforms, sig_ids) < 0 ||
	    xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData, (void *)xmlSecKeyDataX509Id) < 0) {
		em_error_set(v->err, "could not set xmlsec's allow-lists");
		goto out;
	}
	if (pipeline_start(&pl) < 0) {
		em_error_set(v->err, "could not start the thread that parses the package's files");
		goto out;
	}
	/* the content checks run inside xmlsec's reads; their failure waits in cerr */
	io_verify = v;
	io_pipeline = &pl;
	v->err = &v->cerr;
	rc = xmlSecDSigCtxVerify(ctx, v->signature);
	pipeline_finish(&pl);
	v->err = err;
	io_pipeline = NULL;
	if (rc < 0 || !ctx->signKey) {
		io_verify = NULL;
		clean(safe, sizeof(safe), xmlsec_last);
		em_error_set(v->err, "the signature could not be verified: no key from a certificate "
			     "that chains to the CA");
		em_error_detail(v->err, "xmlsec: %s", *safe ? safe : "no trusted key found");
		em_error_hint(v->err, "the signer's certificate must be issued by '%s'; a self-signed "
			      "or look-alike certificate is refused", ca_path);
		goto out;
	}
	io_verify = NULL;
	if (ctx->status != xmlSecDSigStatusSucceeded) {
		xmlSecSize n = xmlSecPtrListGetSize(&ctx->signedInfoReferences);

		for (xmlSecSize i = 0; i < n; i++) {
			xmlSecDSigReferenceCtxPtr r = xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);

			if (r && r->status != xmlSecDSigStatusSucceeded) {
				clean(safe, sizeof(safe), r->uri ? (char *)r->uri : "");
				em_error_set(v->err, "'%s' was changed after signing: its digest does not "
					     "match the signed one", safe);
				goto out;
			}
		}
		em_error_set(v->err, "the signature value is invalid: SignedInfo was changed after "
			     "signing or signed with another key");
		goto out;
	}
	x509 = xmlSecKeyGetData(ctx->signKey, xmlSecOpenSSLKeyDataX509Id);
	cert = x509 ? xmlSecOpenSSLKeyDataX509GetKeyCert(x509) : NULL;
	if (!cert) {
		em_error_set(v->err, "the signing key did not come from an X.509 certificate");
		goto out;
	}
	if (chains_to_ca(v, x509, cert, ca_path) < 0)
		goto out;
	cert_names(v, cert);
	{
		EVP_PKEY *k = X509_get0_pubkey(cert);
		int id = k ? EVP_PKEY_base_id(k) : 0;

		if (id == EVP_PKEY_RSA && v->key_bits < 3072) {
			em_error_set(v->err, "the signer's RSA key has %d bits; at least 3072 are required",
				     v->key_bits);
			goto out;
		}
		if (id == EVP_PKEY_EC && v->key_bits != 256) {
			em_error_set(v->err, "the signer's EC key has %d bits; P-256 is required",
				     v->key_bits);
			goto out;
		}
		if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC) {
			em_error_set(v->err, "the signer's key is neither RSA nor ECDSA");
			goto out;
		}
	}
	/* XAdES: the signed properties name this certificate */
	{
		xmlNodePtr n = v->signature;
		xmlNodePtr cd = NULL;
		unsigned char want[EM_HASH_LEN], *der = NULL, md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		int len = i2d_X509(cert, &der), good = 0;

		for (xmlNodePtr o = n->children; o && !cd; o = o->next) {
			if (!is_ds(o, "Object"))
				continue;
			for (xmlNodePtr s = o->children; s; s = s->next) {
				/* QualifyingProperties/SignedProperties/SignedSignatureProperties/
				   SigningCertificate/Cert/CertDigest/DigestValue */
				xmlNodePtr p = s;
				const char *path[] = { "SignedProperties", "SignedSignatureProperties",
						       "SigningCertificate", "Cert", "CertDigest", NULL };
				for (int k = 0; p && path[k]; k++) {
					xmlNodePtr c;
					for (c = p->children; c; c = c->next)
						if (c->type == XML_ELEMENT_NODE &&
						    strcmp((char *)c->name, path[k]) == 0)
							break;
					p = c;
				}
				if (p)
					cd = child(p, "DigestValue");
			}
		}
		if (cd && len > 0 && EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) == 1) {
			xmlChar *d = xmlNodeGetContent(cd);

			good = d && b64_digest(d, want) == 0 && memcmp(want, md, EM_HASH_LEN) == 0;
			xmlFree(d);
		}
		OPENSSL_free(der);
		if (!good) {
			em_error_set(v->err, "the XAdES SigningCertificate is not the certificate that signed");
			goto out;
		}
	}
	ok(v, "signature", "valid; signed by %s, issued by %s, chained to the CA; %s, %d bits",
	   v->signer, v->issuer, v->sigalg, v->key_bits);
	ret = 0;
out:
	io_verify = NULL;
	if (ctx)
		xmlSecDSigCtxDestroy(ctx);
	if (mngr)
		xmlSecKeysMngrDestroy(mngr);
	return ret;
}

static int check_signer(struct verify *v, const char *pin)
{
	char want[65];
	size_t n = 0;

	if (!pin) {
		ok(v, "signer", "SHA-256 fingerprint %s (not pinned: give --signer to pin it)",
		   v->fingerprint);
		return 0;
	}
	for (const char *p = pin; *p && n < 64; p++)
		if (*p != ':')
			want[n++] = (char)tolower((unsigned char)*p);
	want[n] = '\0';
	if (strcmp(want, v->fingerprint) != 0) {
		em_error_set(v->err, "the package was signed by %s, not by the pinned signer", v->signer);
		em_error_detail(v->err, "signer's SHA-256 fingerprint %s; --signer %s", v->fingerprint, want);
		return EM_ERR;
	}
	ok(v, "signer", "SHA-256 fingerprint %s is the pinned one", v->fingerprint);
	return 0;
}

/* ---- ledger.xml ---------------------------------------------------------------- */

#define NF 24

struct fund_sum {
	char fund[256];
	int64_t debit, credit;
};

struct vstate {
	/* the voucher being read */
	char f[16][256];          /* header fields by index below */
	struct em_strbuf canon;   /* canonical text not yet digested */
	EVP_MD_CTX *md;           /* SHA-256(ChainPrev || canonical text), fed as it is read */
	EVP_MD *sha256;           /* fetched once: EVP_sha256() is fetched again at every init */
	int header_done;
	int md_failed;
	int64_t debit, credit;
	struct fund_sum funds[NF];
	int nfunds;
	struct em_strbuf memo;    /* the header's Memo: no length limit, unlike the fields above */
	/* the line being read */
	char l[11][256];
	struct em_strbuf line_memo; /* the line's Memo, whole */
	/* file-level */
	int64_t declared_entries, declared_debit, declared_credit;
	int64_t prev_seq;
	char prev_hash[65];
};

enum { H_SEQ, H_NUMBER, H_TYPE, H_DATE, H_REVERSES, H_MEMO, H_PREP, H_REV, H_POST, H_AT, H_PREV,
       H_HASH, H_N };
static const char *const hnames[] = { "ChainSeq", "Number", "Type", "Date", "Reverses", "Memo",
				      "PreparedBy", "ReviewedBy", "PostedBy", "PostedAt", "ChainPrev",
				      "ChainHash" };
enum { L_NO, L_ACCOUNT, L_SIDE, L_AMOUNT, L_FUND, L_PROJECT, L_VILLAGE, L_HOUSEHOLD, L_BANK,
       L_CATEGORY, L_MEMO, L_N };
static const char *const lnames[] = { "LineNo", "Account", "Side", "Amount", "Fund", "Project",
				      "Village", "Household", "BankAccount", "Category", "Memo" };
static const char *const lcode[] = { NULL, "A", NULL, NULL, "F", "P", "V", "H", "B", "C", NULL };
static const char *const lwhat[] = { NULL, "account", NULL, NULL, "fund", "project", "village",
				     "household", "dedicated account", "use category", NULL };

static struct vstate *vs;

/* n digits of s as a number, or -1. */
static long digits(const char *s, int n)
{
	long x = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	return x;
}

static int money(struct verify *v, const char *file, const char *what, const char *text,
		 int64_t *fen)
{
	struct em_error e = EM_ERROR_INIT;
	size_t n = strlen(text);
	long whole, cents;
	int ret;

	/* the usual form, as the exporter writes it: 1 to 15 digits, '.', 2 digits */
	if (n >= 4 && n <= 18 && text[n - 3] == '.' && (whole = digits(text, (int)n - 3)) >= 0 &&
	    (cents = digits(text + n - 2, 2)) >= 0) {
		*fen = (int64_t)whole * 100 + cents;
		return 0;
	}
	ret = em_money_parse(text, fen, &e);
	em_error_release(&e);
	if (ret < 0)
		return em_error_set(v->err, "%s: %s '%.40s' is not an amount", file, what, text);
	return 0;
}

/* The last day parse_time met: its date and its midnight in seconds since 1970. */
static struct {
	char date[10];
	int64_t secs;
} day_cache;

/* YYYY-MM-DDTHH:MM:SS.ffffffZ, exactly, to microseconds since 1970. */
static int parse_time(const char *s, int64_t *us)
{
	struct tm tm;
	long f[7];
	static const int at[7] = { 0, 5, 8, 11, 14, 17, 20 }, len[7] = { 4, 2, 2, 2, 2, 2, 6 };

	if (strlen(s) != 27 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != '.' || s[26] != 'Z')
		return -1;
	for (int i = 0; i < 7; i++)
		if ((f[i] = digits(s + at[i], len[i])) < 0)
			return -1;
	/* the day's midnight from timegm, once per day: vouchers come day after day */
	if (memcmp(s, day_cache.date, 10) != 0) {
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = (int)f[0] - 1900;
		tm.tm_mon = (int)f[1] - 1;
		tm.tm_mday = (int)f[2];
		day_cache.secs = (int64_t)timegm(&tm);
		memcpy(day_cache.date, s, 10);
	}
	/* timegm is linear in hours, minutes and seconds (it normalizes them the same way) */
	*us = (day_cache.secs + f[3] * 3600 + f[4] * 60 + f[5]) * 1000000 + f[6];
	return 0;
}

/* "K:code" into buf (size 300), the key of a master-file code. */
static const char *code_key(char *buf, const char *kind, const char *code)
{
	size_t n = strlen(code);

	if (n > 296)
		n = 296;
	buf[0] = kind[0];
	buf[1] = ':';
	memcpy(buf + 2, code, n);
	buf[2 + n] = '\0';
	return buf;
}

static int code_known(struct verify *v, const char *kind, const char *code)
{
	/* lines name the same few accounts and funds again and again */
	char (*last)[64] = v->last_code;
	char key[300];
	int k = kind[0] >= 'A' && kind[0] <= 'Z' ? kind[0] - 'A' : -1;

	if (k >= 0 && last[k][0] && strcmp(last[k], code) == 0)
		return 1;
	if (!smap_find(&v->codes, code_key(key, kind, code), 0))
		return 0;
	if (k >= 0 && strlen(code) < sizeof(v->last_code[k]))
		memcpy(last[k], code, strlen(code) + 1);
	return 1;
}

static int add_code(struct verify *v, const char *kind, const char *code)
{
	struct em_strbuf k = EM_STRBUF_INIT;
	struct smap_entry *e;
	char safe[200];

	em_strbuf_addf(&k, "%s:%s", kind, code);
	e = smap_find(&v->codes, k.buf, 1);
	em_strbuf_release(&k);
	if (e->a++) {
		clean(safe, sizeof(safe), code);
		return em_error_set(v->err, "ledger.xml: master file code '%s' appears twice", safe);
	}
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 0;
}

static void hexbytes(const char *hex, unsigned char out[EM_HASH_LEN])
{
	size_t n = strlen(hex);

	for (size_t i = 0; i < EM_HASH_LEN; i++)
		out[i] = 2 * i + 1 < n ? (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1])) : 0;
}

static void voucher_header(struct verify *v)
{
	struct em_canon_voucher h;
	unsigned char prev[EM_HASH_LEN];
	int64_t us = 0;

	parse_time(vs->f[H_AT], &us);
	h.book = v->book;
	h.seq = strtoll(vs->f[H_SEQ], NULL, 10);
	h.number = vs->f[H_NUMBER];
	h.vtype = vs->f[H_TYPE];
	h.date = vs->f[H_DATE];
	h.reverses = vs->f[H_REVERSES];
	h.memo = vs->memo.buf;
	h.prepared_by = vs->f[H_PREP];
	h.reviewed_by = vs->f[H_REV];
	h.posted_by = vs->f[H_POST];
	h.posted_at_us = us;
	em_canon_header(&vs->canon, &h);
	hexbytes(vs->f[H_PREV], prev);
	/* the chain step streamed: a voucher of 100,000 lines needs no 10 MB buffer */
	if (EVP_DigestInit_ex(vs->md, vs->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(vs->md, prev, sizeof(prev)) != 1 ||
	    EVP_DigestUpdate(vs->md, vs->canon.buf, vs->canon.len) != 1)
		vs->md_failed = 1;
	em_strbuf_reset(&vs->canon);
	vs->header_done = 1;
}

static int end_line(struct verify *v)
{
	char num[200], safe[200];
	int64_t fen;
	struct em_canon_line cl;
	char key[520];
	size_t an, fn;
	struct smap_entry *e;
	int i;

	for (i = 0; i < L_N; i++) {
		if (lcode[i] && vs->l[i][0] && !code_known(v, lcode[i], vs->l[i])) {
			clean(num, sizeof(num), vs->f[H_NUMBER]);
			clean(safe, sizeof(safe), vs->l[i]);
			em_error_set(v->err, "ledger.xml: voucher %s line %s names an unknown %s '%s'",
				     num, vs->l[L_NO], lwhat[i], safe);
			em_error_detail(v->err, "it is not in the master files of ledger.xml");
			return EM_ERR;
		}
	}
	if (money(v, "ledger.xml", "amount", vs->l[L_AMOUNT], &fen) < 0)
		return EM_ERR;
	if (vs->l[L_SIDE][0] == 'D')
		vs->debit += fen;
	else
		vs->credit += fen;
	for (i = 0; i < vs->nfunds && strcmp(vs->funds[i].fund, vs->l[L_FUND]) != 0; i++)
		;
	if (i == vs->nfunds) {
		if (i == NF) {
			clean(num, sizeof(num), vs->f[H_NUMBER]);
			return em_error_set(v->err, "ledger.xml: voucher %s has more than %d funds", num, NF);
		}
		memcpy(vs->funds[i].fund, vs->l[L_FUND], sizeof(vs->funds[i].fund) - 1);
		vs->funds[i].fund[sizeof(vs->funds[i].fund) - 1] = '\0';
		vs->funds[i].debit = vs->funds[i].credit = 0;
		vs->nfunds++;
	}
	if (vs->l[L_SIDE][0] == 'D')
		vs->funds[i].debit += fen;
	else
		vs->funds[i].credit += fen;
	an = strlen(vs->l[L_ACCOUNT]);
	fn = strlen(vs->l[L_FUND]);
	memcpy(key, vs->l[L_ACCOUNT], an);
	key[an] = '\t';
	memcpy(key + an + 1, vs->l[L_FUND], fn + 1);
	e = smap_find(&v->moves, key, 1);
	if (vs->l[L_SIDE][0] == 'D')
		e->a += fen;
	else
		e->b += fen;
	e = smap_find(&v->funds, vs->l[L_FUND], 1);
	e->c++;
	if (vs->l[L_SIDE][0] == 'D')
		e->a += fen;
	else
		e->b += fen;
	cl.line_no = atoi(vs->l[L_NO]);
	cl.account = vs->l[L_ACCOUNT];
	cl.side = vs->l[L_SIDE];
	cl.amount_fen = fen;
	cl.fund = vs->l[L_FUND];
	cl.project = vs->l[L_PROJECT];
	cl.village = vs->l[L_VILLAGE];
	cl.household = vs->l[L_HOUSEHOLD];
	cl.bank_account = vs->l[L_BANK];
	cl.category = vs->l[L_CATEGORY];
	cl.memo = vs->line_memo.buf;
	em_canon_line(&vs->canon, &cl);
	if (EVP_DigestUpdate(vs->md, vs->canon.buf, vs->canon.len) != 1)
		vs->md_failed = 1;
	em_strbuf_reset(&vs->canon);
	v->lines++;
	if (vs->l[L_SIDE][0] == 'D')
		v->debit_fen += fen;
	else
		v->credit_fen += fen;
	for (i = 0; i < L_N; i++)
		vs->l[i][0] = '\0';
	em_strbuf_reset(&vs->line_memo);
	return 0;
}

static int end_voucher(struct verify *v)
{
	char num[200], a[EM_MONEY_BUFSZ], b[EM_MONEY_BUFSZ], hex[65];
	unsigned char next[EM_HASH_LEN];
	int64_t seq = strtoll(vs->f[H_SEQ], NULL, 10), us;
	char month[8];
	int k;

	clean(num, sizeof(num), vs->f[H_NUMBER]);
	if (vs->debit != vs->credit) {
		em_error_set(v->err, "ledger.xml: voucher %s does not balance (D1)", num);
		em_error_detail(v->err, "debit %s, credit %s", em_money_format(vs->debit, a, sizeof(a)),
				em_money_format(vs->credit, b, sizeof(b)));
		return EM_ERR;
	}
	for (int i = 0; i < vs->nfunds; i++) {
		if (vs->funds[i].debit != vs->funds[i].credit) {
			char safe[200];

			clean(safe, sizeof(safe), vs->funds[i].fund);
			em_error_set(v->err, "ledger.xml: voucher %s does not balance in fund %s (D2)", num,
				     safe);
			em_error_detail(v->err, "debit %s, credit %s",
					em_money_format(vs->funds[i].debit, a, sizeof(a)),
					em_money_format(vs->funds[i].credit, b, sizeof(b)));
			return EM_ERR;
		}
	}
	if (parse_time(vs->f[H_AT], &us) < 0)
		return em_error_set(v->err, "ledger.xml: voucher %s: PostedAt is not "
				    "YYYY-MM-DDTHH:MM:SS.ffffffZ", num);
	if (seq <= vs->prev_seq)
		return em_error_set(v->err, "ledger.xml: voucher %s is out of chain order (D8)", num);
	if ((seq == 1 && strspn(vs->f[H_PREV], "0") != 64) ||
	    (vs->prev_seq > 0 && seq == vs->prev_seq + 1 && strcmp(vs->f[H_PREV], vs->prev_hash) != 0)) {
		em_error_set(v->err, "hash chain broken at voucher %s (D8)", num);
		em_error_detail(v->err, "its ChainPrev is not the hash of the voucher before it");
		return EM_ERR;
	}
	{
		unsigned int mdlen = 0;

		if (!vs->header_done || vs->md_failed ||
		    EVP_DigestFinal_ex(vs->md, next, &mdlen) != 1 || mdlen != EM_HASH_LEN)
			return em_error_set(v->err, "could not compute SHA-256");
	}
	em_canon_hex(next, hex);
	if (strcmp(hex, vs->f[H_HASH]) != 0) {
		em_error_set(v->err, "hash chain broken at voucher %s (D8)", num);
		em_error_detail(v->err, "chain position %lld: ChainHash %s, recomputed %s",
				(long long)seq, vs->f[H_HASH], hex);
		em_error_hint(v->err, "the voucher's content differs from what was posted");
		return EM_ERR;
	}
	vs->prev_seq = seq;
	memcpy(vs->prev_hash, hex, sizeof(hex));
	if (seq > v->max_seq) {
		v->max_seq = seq;
		memcpy(v->max_hash, hex, sizeof(hex));
	}
	/* checkpoints are each month's last link: keep one per month, not every link */
	for (k = 0; k < 7 && vs->f[H_DATE][k]; k++)
		month[k] = vs->f[H_DATE][k];
	month[k] = '\0';
	{
		struct smap_entry *m = smap_find(&v->months, month, 1);

		if (seq > m->a) {
			m->a = seq;
			if (!m->hash && !(m->hash = malloc(sizeof(hex))))
				abort();
			memcpy(m->hash, hex, sizeof(hex));
		}
	}
	v->vouchers++;
	return 0;
}

static int ledger_leaf(struct verify *v, struct reader *r)
{
	const char *name = r->path[r->depth - 1];
	const char *t = r->text.buf;
	char a[EM_MONEY_BUFSZ], b[EM_MONEY_BUFSZ], c[EM_MONEY_BUFSZ], d[EM_MONEY_BUFSZ];

	/* the hot path: a field of a line or of a voucher's header */
	if (!r->starting && r->depth >= 2) {
		int tag = r->tag[r->depth - 1], up = r->tag[r->depth - 2];
		size_t n = r->text.len < 255 ? r->text.len : 255;

		/* a memo is kept whole: the ledger puts no limit on its length */
		if (up == T_LINE && tag && enames[tag - 1].l == L_MEMO) {
			em_strbuf_reset(&vs->line_memo);
			em_strbuf_add(&vs->line_memo, t, r->text.len);
			return 0;
		}
		if (up == T_TRANSACTION && tag && enames[tag - 1].h == H_MEMO) {
			em_strbuf_reset(&vs->memo);
			em_strbuf_add(&vs->memo, t, r->text.len);
			return 0;
		}
		if (up == T_LINE && tag && enames[tag - 1].l >= 0) {
			memcpy(vs->l[enames[tag - 1].l], t, n);
			vs->l[enames[tag - 1].l][n] = '\0';
			return 0;
		}
		if (up == T_TRANSACTION && tag && enames[tag - 1].h >= 0) {
			memcpy(vs->f[enames[tag - 1].h], t, n);
			vs->f[enames[tag - 1].h][n] = '\0';
			return 0;
		}
		if (up == T_TRANSACTION && tag == T_LINE)
			return end_line(v);
		if (up == T_ENTRIES && tag == T_TRANSACTION)
			return end_voucher(v);
	}
	if (r->starting) {
		if (r->tag[r->depth - 1] == T_TRANSACTION) {
			/* every field empty: a string's first byte is enough */
			for (size_t i = 0; i < sizeof(vs->f) / sizeof(vs->f[0]); i++)
				vs->f[i][0] = '\0';
			for (size_t i = 0; i < sizeof(vs->l) / sizeof(vs->l[0]); i++)
				vs->l[i][0] = '\0';
			em_strbuf_reset(&vs->canon);
			em_strbuf_reset(&vs->memo);
			em_strbuf_reset(&vs->line_memo);
			vs->header_done = 0;
			vs->md_failed = 0;
			vs->debit = vs->credit = 0;
			vs->nfunds = 0;
		} else if (r->tag[r->depth - 1] == T_LINE && !vs->header_done) {
			voucher_header(v);
		}
		return 0;
	}
	if (named(r, 1, "Header") && strcmp(name, "Book") == 0)
		snprintf(v->book, sizeof(v->book), "%s", t);
	else if (named(r, 1, "SelectionCriteria") && strcmp(name, "PeriodStart") == 0)
		snprintf(v->from, sizeof(v->from), "%s", t);
	else if (named(r, 1, "SelectionCriteria") && strcmp(name, "PeriodEnd") == 0)
		snprintf(v->to, sizeof(v->to), "%s", t);
	else if (named(r, 3, "MasterFiles") && (strcmp(name, "Code") == 0 || strcmp(name, "AccountNo") == 0)) {
		const char *kind = named(r, 1, "Account") ? "A" : named(r, 1, "Fund") ? "F"
				   : named(r, 1, "Project") ? "P" : named(r, 1, "Village") ? "V"
				   : named(r, 1, "Household") ? "H" : named(r, 1, "DedicatedAccount") ? "B"
				   : named(r, 1, "UseCategory") ? "C" : "?";
		return add_code(v, kind, t);
	} else if (named(r, 1, "GeneralLedgerEntries")) {
		if (strcmp(name, "NumberOfEntries") == 0)
			vs->declared_entries = strtoll(t, NULL, 10);
		else if (strcmp(name, "TotalDebit") == 0)
			return money(v, "ledger.xml", "TotalDebit", t, &vs->declared_debit);
		else if (strcmp(name, "TotalCredit") == 0)
			return money(v, "ledger.xml", "TotalCredit", t, &vs->declared_credit);
		else if (strcmp(name, "Transaction") == 0)
			return end_voucher(v);
	} else if (named(r, 1, "Transaction")) {
		for (int i = 0; i < H_N; i++)
			if (strcmp(name, hnames[i]) == 0)
				snprintf(vs->f[i], sizeof(vs->f[i]), "%s", t);
		if (strcmp(name, "Line") == 0)
			return end_line(v);
	} else if (named(r, 1, "Line")) {
		for (int i = 0; i < L_N; i++)
			if (strcmp(name, lnames[i]) == 0)
				snprintf(vs->l[i], sizeof(vs->l[i]), "%s", t);
	} else if (r->depth == 1) {
		/* the end of the document: the declared totals */
		if (vs->declared_entries != v->vouchers)
			return em_error_set(v->err, "ledger.xml: NumberOfEntries says %lld, the file has "
					    "%lld vouchers", (long long)vs->declared_entries,
					    (long long)v->vouchers);
		if (vs->declared_debit != v->debit_fen || vs->declared_credit != v->credit_fen) {
			em_error_set(v->err, "ledger.xml: TotalDebit/TotalCredit do not match its lines");
			em_error_detail(v->err, "declared %s / %s, the lines give %s / %s",
					em_money_format(vs->declared_debit, a, sizeof(a)),
					em_money_format(vs->declared_credit, b, sizeof(b)),
					em_money_format(v->debit_fen, c, sizeof(c)),
					em_money_format(v->credit_fen, d, sizeof(d)));
			return EM_ERR;
		}
	}
	return 0;
}

/* ---- balances.xml ------------------------------------------------------------- */

struct bstate {
	char account[256], fund[256];
	int64_t open, dr, cr, close;
};
static struct bstate bs;

static int balances_leaf(struct verify *v, struct reader *r)
{
	const char *name = r->path[r->depth - 1];
	const char *t = r->text.buf;
	char a[EM_MONEY_BUFSZ], b[EM_MONEY_BUFSZ], c[EM_MONEY_BUFSZ], d[EM_MONEY_BUFSZ];
	char e5[EM_MONEY_BUFSZ];
	char sa[200], sf[200];

	if (r->starting)
		return 0;
	if (r->depth == 2 && strcmp(name, "Book") == 0 && strcmp(t, v->book) != 0)
		return em_error_set(v->err, "balances.xml is for another book than ledger.xml");
	if (r->depth == 2 && ((strcmp(name, "PeriodStart") == 0 && strcmp(t, v->from) != 0) ||
			      (strcmp(name, "PeriodEnd") == 0 && strcmp(t, v->to) != 0)))
		return em_error_set(v->err, "balances.xml is for another period than ledger.xml");
	if (named(r, 1, "Balance")) {
		if (strcmp(name, "Account") == 0)
			snprintf(bs.account, sizeof(bs.account), "%s", t);
		else if (strcmp(name, "Fund") == 0)
			snprintf(bs.fund, sizeof(bs.fund), "%s", t);
		else if (strcmp(name, "Opening") == 0)
			return money(v, "balances.xml", "Opening", t, &bs.open);
		else if (strcmp(name, "Debit") == 0)
			return money(v, "balances.xml", "Debit", t, &bs.dr);
		else if (strcmp(name, "Credit") == 0)
			return money(v, "balances.xml", "Credit", t, &bs.cr);
		else if (strcmp(name, "Closing") == 0)
			return money(v, "balances.xml", "Closing", t, &bs.close);
		return 0;
	}
	if (strcmp(name, "Balance") == 0) {
		struct em_strbuf k = EM_STRBUF_INIT;
		struct smap_entry *e;

		clean(sa, sizeof(sa), bs.account);
		clean(sf, sizeof(sf), bs.fund);
		if (!code_known(v, "A", bs.account))
			return em_error_set(v->err, "balances.xml names an unknown account '%s'", sa);
		if (!code_known(v, "F", bs.fund))
			return em_error_set(v->err, "balances.xml names an unknown fund '%s'", sf);
		if (bs.open + bs.dr - bs.cr != bs.close) {
			em_error_set(v->err, "balances.xml: the balance of account %s, fund %s does not roll",
				     sa, sf);
			em_error_detail(v->err, "opening %s + debit %s - credit %s is %s; closing says %s",
					em_money_format(bs.open, a, sizeof(a)),
					em_money_format(bs.dr, b, sizeof(b)),
					em_money_format(bs.cr, c, sizeof(c)),
					em_money_format(bs.open + bs.dr - bs.cr, d, sizeof(d)),
					em_money_format(bs.close, e5, sizeof(e5)));
			return EM_ERR;
		}
		em_strbuf_addf(&k, "%s\t%s", bs.account, bs.fund);
		e = smap_find(&v->moves, k.buf, 0);
		em_strbuf_release(&k);
		if ((e ? e->a : 0) != bs.dr || (e ? e->b : 0) != bs.cr) {
			em_error_set(v->err, "balances.xml: the movements of account %s, fund %s differ "
				     "from ledger.xml", sa, sf);
			em_error_detail(v->err, "balances.xml debit %s credit %s; ledger.xml debit %s credit %s",
					em_money_format(bs.dr, a, sizeof(a)),
					em_money_format(bs.cr, b, sizeof(b)),
					em_money_format(e ? e->a : 0, c, sizeof(c)),
					em_money_format(e ? e->b : 0, d, sizeof(d)));
			return EM_ERR;
		}
		if (e) {
			if (e->seen++)
				return em_error_set(v->err, "balances.xml lists account %s, fund %s twice",
						    sa, sf);
		}
		v->balance_rows++;
		memset(&bs, 0, sizeof(bs));
		return 0;
	}
	if (r->depth == 1) {
		for (size_t i = 0; i < v->moves.cap; i++) {
			if (v->moves.e[i].key && !v->moves.e[i].seen) {
				clean(sa, sizeof(sa), v->moves.e[i].key);
				for (char *p = sa; *p; p++)
					if (*p == '?')
						*p = '/';
				return em_error_set(v->err, "balances.xml has no row for '%s', which "
						    "ledger.xml moves", sa);
			}
		}
	}
	return 0;
}

/* ---- control.xml -------------------------------------------------------------- */

struct cstate {
	char fund[256], month[256], seq[256], hash[256], prev[256];
	int64_t lines, dr, cr;
	int64_t funds_seen;
};
static struct cstate cs;

static int control_leaf(struct verify *v, struct reader *r)
{
	const char *name = r->path[r->depth - 1];
	const char *t = r->text.buf;
	char a[EM_MONEY_BUFSZ], b[EM_MONEY_BUFSZ], c[EM_MONEY_BUFSZ], d[EM_MONEY_BUFSZ], safe[200];
	int64_t n;

	if (r->starting)
		return 0;
	if (r->depth == 2 && strcmp(name, "Book") == 0 && strcmp(t, v->book) != 0)
		return em_error_set(v->err, "control.xml is for another book than ledger.xml");
	if (r->depth == 2 && ((strcmp(name, "PeriodStart") == 0 && strcmp(t, v->from) != 0) ||
			      (strcmp(name, "PeriodEnd") == 0 && strcmp(t, v->to) != 0)))
		return em_error_set(v->err, "control.xml is for another period than ledger.xml");
	if (named(r, 1, "LedgerFile") || named(r, 1, "BalancesFile")) {
		const char *what = name;
		int64_t want = strcmp(name, "NumberOfEntries") == 0 ? v->vouchers
			       : strcmp(name, "NumberOfLines") == 0 ? v->lines
			       : strcmp(name, "NumberOfRows") == 0 ? v->balance_rows
			       : strcmp(name, "TotalDebit") == 0 ? v->debit_fen : v->credit_fen;

		if (strncmp(name, "Total", 5) == 0) {
			if (money(v, "control.xml", name, t, &n) < 0)
				return EM_ERR;
			if (n != want) {
				em_error_set(v->err, "control.xml: %s %s does not match ledger.xml's %s", what,
					     em_money_format(n, a, sizeof(a)),
					     em_money_format(want, b, sizeof(b)));
				return EM_ERR;
			}
		} else if ((n = strtoll(t, NULL, 10)) != want) {
			return em_error_set(v->err, "control.xml: %s %lld does not match the files' %lld",
					    what, (long long)n, (long long)want);
		}
		return 0;
	}
	if (named(r, 1, "FundTotal")) {
		if (strcmp(name, "Fund") == 0)
			snprintf(cs.fund, sizeof(cs.fund), "%s", t);
		else if (strcmp(name, "Lines") == 0)
			cs.lines = strtoll(t, NULL, 10);
		else if (strcmp(name, "Debit") == 0)
			return money(v, "control.xml", "Debit", t, &cs.dr);
		else if (strcmp(name, "Credit") == 0)
			return money(v, "control.xml", "Credit", t, &cs.cr);
		return 0;
	}
	if (strcmp(name, "FundTotal") == 0) {
		struct smap_entry *e = smap_find(&v->funds, cs.fund, 0);

		clean(safe, sizeof(safe), cs.fund);
		if (!code_known(v, "F", cs.fund))
			return em_error_set(v->err, "control.xml names an unknown fund '%s'", safe);
		if (!e || e->c != cs.lines || e->a != cs.dr || e->b != cs.cr) {
			em_error_set(v->err, "control.xml: the totals of fund %s do not match ledger.xml", safe);
			em_error_detail(v->err, "control.xml: %lld lines, debit %s, credit %s; ledger.xml: "
					"%lld lines, debit %s, credit %s", (long long)cs.lines,
					em_money_format(cs.dr, a, sizeof(a)), em_money_format(cs.cr, b, sizeof(b)),
					(long long)(e ? e->c : 0), em_money_format(e ? e->a : 0, c, sizeof(c)),
					em_money_format(e ? e->b : 0, d, sizeof(d)));
			return EM_ERR;
		}
		if (e->seen++)
			return em_error_set(v->err, "control.xml lists fund %s twice", safe);
		cs.funds_seen++;
		return 0;
	}
	if (strcmp(name, "FundTotals") == 0 && cs.funds_seen != (int64_t)v->funds.n)
		return em_error_set(v->err, "control.xml has totals for %lld funds; ledger.xml moves %zu",
				    (long long)cs.funds_seen, v->funds.n);
	if ((named(r, 1, "ChainHead") || named(r, 1, "Checkpoint"))) {
		if (strcmp(name, "Seq") == 0)
			snprintf(cs.seq, sizeof(cs.seq), "%s", t);
		else if (strcmp(name, "Hash") == 0)
			snprintf(cs.hash, sizeof(cs.hash), "%s", t);
		else if (strcmp(name, "Month") == 0)
			snprintf(cs.month, sizeof(cs.month), "%s", t);
		return 0;
	}
	if (strcmp(name, "ChainHead") == 0) {
		int64_t seq = strtoll(cs.seq, NULL, 10);

		if (seq < v->max_seq || (seq == v->max_seq && seq > 0 && strcmp(cs.hash, v->max_hash) != 0)) {
			em_error_set(v->err, "hash chain broken: control.xml's chain head does not match "
				     "ledger.xml (D8)");
			em_error_detail(v->err, "head %lld %s; the ledger runs to %lld %s", (long long)seq,
					cs.hash, (long long)v->max_seq, v->max_hash);
			return EM_ERR;
		}
		return 0;
	}
	if (strcmp(name, "Checkpoint") == 0) {
		int64_t seq = strtoll(cs.seq, NULL, 10);
		struct smap_entry *m = smap_find(&v->months, cs.month, 0);

		clean(safe, sizeof(safe), cs.month);
		if (!m || m->a != seq || !m->hash || strcmp(m->hash, cs.hash) != 0) {
			em_error_set(v->err, "hash chain broken: checkpoint %s (chain position %lld) is not "
				     "the month's last voucher in ledger.xml (D8)", safe, (long long)seq);
			return EM_ERR;
		}
		if (m->seen++)
			return em_error_set(v->err, "control.xml has two checkpoints for %s", safe);
		return 0;
	}
	if (strcmp(name, "Checkpoints") == 0) {
		for (size_t i = 0; i < v->months.cap; i++) {
			if (v->months.e[i].key && !v->months.e[i].seen) {
				clean(safe, sizeof(safe), v->months.e[i].key);
				return em_error_set(v->err, "control.xml has no checkpoint for %s", safe);
			}
		}
		return 0;
	}
	if (strcmp(name, "PreviousSignatureDigest") == 0)
		snprintf(cs.prev, sizeof(cs.prev), "%s", t);
	return 0;
}

/* ---- the whole ----------------------------------------------------------------- */

static int xmlsec_started;

static int start_xmlsec(struct em_error *err)
{
	if (xmlsec_started)
		return 0;
	if (xmlSecInit() < 0 || xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(NULL) < 0 ||
	    xmlSecCryptoInit() < 0)
		return em_error_set(err, "could not start xmlsec");
	xmlSecErrorsSetCallback(xmlsec_error);
	/* network-free IO: only the package's own entries */
	xmlSecIOCleanupCallbacks();
	if (xmlSecIORegisterCallbacks(io_match, io_open, io_read, io_close) < 0)
		return em_error_set(err, "could not set xmlsec's IO");
	xmlsec_started = 1;
	return 0;
}

int em_audit_verify(const char *path, const char *ca_path, const char *pin, FILE *out,
		    struct em_error *err)
{
	static const leaf_fn leaves[EM_AUDIT_PARTS] = { ledger_leaf, balances_leaf, control_leaf };
	struct verify v;
	struct vstate vstate;
	struct part parts[EM_AUDIT_PARTS];
	xmlExternalEntityLoader old_loader = xmlGetExternalEntityLoader();
	int ret = EM_ERR;

	memset(&v, 0, sizeof(v));
	memset(parts, 0, sizeof(parts));
	for (int i = 0; i < EM_AUDIT_PARTS; i++) {
		parts[i].v = &v;
		parts[i].index = i;
		parts[i].name = em_audit_files[i];
		parts[i].xsd = em_audit_files[EM_AUDIT_PARTS + i];
		parts[i].leaf = leaves[i];
		parts[i].r.file = parts[i].name;
		em_strbuf_init(&parts[i].events);
		em_strbuf_init(&parts[i].text);
		em_strbuf_init(&parts[i].why);
		em_strbuf_init(&parts[i].xsd_body);
	}
	v.parts = parts;
	v.cfail = -1;
	memset(&vstate, 0, sizeof(vstate));
	memset(&bs, 0, sizeof(bs));
	memset(&cs, 0, sizeof(cs));
	em_strbuf_init(&vstate.canon);
	em_strbuf_init(&vstate.memo);
	em_strbuf_init(&vstate.line_memo);
	vstate.md = EVP_MD_CTX_new();
	vstate.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (!vstate.md || !vstate.sha256)
		abort();
	vs = &vstate;
	v.out = out;
	v.err = err;
	xmlSetExternalEntityLoader(no_loader);
	if (start_xmlsec(err) < 0)
		goto out;
	if (check_zip(&v, path) < 0) {
		fail(&v, "zip");
		goto out;
	}
	if (check_sigdoc(&v) < 0) {
		fail(&v, "signature document");
		goto out;
	}
	if (check_references(&v) < 0) {
		fail(&v, "references");
		goto out;
	}
	if (check_file_set(&v) < 0) {
		fail(&v, "file set");
		goto out;
	}
	/* the schemas, read once: parsed now, digested by xmlsec from memory */
	v.err = &v.cerr;
	for (int i = 0; i < EM_AUDIT_PARTS; i++)
		load_schema(&parts[i]);
	v.err = err;
	if (check_signature(&v, ca_path) < 0) {
		fail(&v, "signature");
		goto out;
	}
	if (check_signer(&v, pin) < 0) {
		fail(&v, "signer");
		goto out;
	}
	/* ledger.xml, balances.xml and control.xml were checked while xmlsec read them */
	for (int i = 0; i < EM_AUDIT_PARTS; i++) {
		struct part *p = &parts[i];

		if (v.cfail == i || (v.cfail < 0 && !p->done)) {
			if (v.cfail == i) {
				em_error_release(err);
				*err = v.cerr;
				memset(&v.cerr, 0, sizeof(v.cerr));
			} else {
				em_error_set(err, "'%s' was not read to its end", p->name);
			}
			fail(&v, p->name);
			goto out;
		}
		if (i == 0)
			ok(&v, "ledger.xml", "valid, as signed; %lld vouchers balance in total and per fund "
			   "(D1, D2), accounts, funds and dimensions known, hash chain recomputes (D8)",
			   (long long)v.vouchers);
		else if (i == 1)
			ok(&v, "balances.xml", "valid, as signed; %lld balances roll and agree with the ledger",
			   (long long)v.balance_rows);
		else
			ok(&v, "control.xml", "valid, as signed; counts, totals per file and fund, chain head "
			   "and checkpoints agree");
	}
	fprintf(out, "previous package: %s\n", *cs.prev ? cs.prev : "none (the first of its book)");
	ret = 0;
out:
	xmlSetExternalEntityLoader(old_loader);
	for (int i = 0; i < v.nnames; i++)
		free(v.names[i]);
	for (int i = 0; i < v.nrefs; i++)
		free(v.refs[i].uri);
	xmlFreeDoc(v.sig);
	if (v.z)
		zip_discard(v.z);
	smap_release(&v.codes);
	smap_release(&v.moves);
	smap_release(&v.funds);
	smap_release(&v.months);
	for (int i = 0; i < EM_AUDIT_PARTS; i++)
		part_release(&parts[i]);
	em_error_release(&v.cerr);
	em_strbuf_release(&vstate.canon);
	em_strbuf_release(&vstate.memo);
	em_strbuf_release(&vstate.line_memo);
	EVP_MD_CTX_free(vstate.md);
	EVP_MD_free(vstate.sha256);
	vs = NULL;
	return ret;
}
