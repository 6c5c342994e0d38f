/*
 * Signed audit packages (DESIGN section 6): `earmark audit export` and
 * `earmark audit verify`.
 *
 * A package is an ASiC-E ZIP: mimetype (first, stored), ledger.xml,
 * balances.xml, control.xml, schemas/{ledger,balances,control}.xsd and
 * META-INF/signatures001.xml, an XMLDSig signature with one Reference per
 * file by relative path and XAdES-B signed properties.  The names, the
 * namespaces and the algorithms both sides accept are here, once.
 */
#ifndef EM_AUDIT_H
#define EM_AUDIT_H

#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

struct em_error;

#define EM_AUDIT_MIMETYPE "application/vnd.etsi.asic-e+zip"
#define EM_AUDIT_NS "urn:earmark:audit:1"
#define EM_AUDIT_SIGFILE "META-INF/signatures001.xml"

#define EM_NS_DSIG "http://www.w3.org/2000/09/xmldsig#"
#define EM_NS_XADES "http://uri.etsi.org/01903/v1.3.2#"
#define EM_NS_ASIC "http://uri.etsi.org/02918/v1.2.1#"
#define EM_ALG_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define EM_ALG_SHA256 "http://www.w3.org/2001/04/xmlenc#sha256"
#define EM_ALG_RSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define EM_ALG_ECDSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
#define EM_TYPE_SIGNED_PROPS "http://uri.etsi.org/01903#SignedProperties"

/* The files a package holds besides mimetype and the signature, in order. */
extern const char *const em_audit_files[];
#define EM_AUDIT_NFILES 6

struct em_audit_export {
	const char *book;       /* book code */
	const char *from, *to;  /* YYYY-MM-DD, inclusive */
	const char *key_path;   /* PEM private key, maybe encrypted (EARMARK_KEY_PASSPHRASE) */
	const char *cert_path;  /* the signer's certificate */
	const char *chain_path; /* NULL or more certificates for KeyInfo */
	const char *out_path;   /* the .asice to write */
	const char *schema_dir; /* where ledger.xsd, balances.xsd, control.xsd are */
};

struct em_audit_export_result {
	int64_t vouchers, lines;    /* in ledger.xml */
	int package_no;             /* the number the database gave it */
	char signature_digest[65];  /* SHA-256 of META-INF/signatures001.xml, hex */
	char prev_digest[65];       /* the previous package's, "" for the first */
	int key_unencrypted;        /* the signing key's PEM was not encrypted: earmark.c warns */
};

/*
 * Writes the signed package of a book and period to x->out_path: a
 * temporary file renamed only when complete and recorded in the database
 * (earmark.audit_record), in one transaction.  Runs as an auditor.
 */
int em_audit_export(PGconn *conn, const struct em_audit_export *x,
		    struct em_audit_export_result *result, struct em_error *err);

/*
 * Verifies a package against a CA certificate (and, if pin is not NULL,
 * the signer's SHA-256 certificate fingerprint in hex, colons allowed).
 * Prints one line per check to out ("ok   <check>" / "FAIL <check>: why").
 * Returns 0 when every check passed; EM_ERR with err naming the first
 * failure otherwise.  Needs no database.
 */
int em_audit_verify(const char *path, const char *ca_path, const char *pin, FILE *out,
		    struct em_error *err);

#endif
