/*
 * Fuzzes the camt.053.001.02 reader (posting/camt053.c): the raw-byte
 * refusals (NUL, DOCTYPE, ENTITY), libxml2's parse without network or
 * entities, schema validation and the reading of statements, balances and
 * entries, then the checks an import makes before the database is asked.
 * The schema (config/iso20022/) is parsed once; every input is parsed from
 * memory against it, as em_camt053_read does with a file's bytes.
 */
#include "tests/fuzz/fuzz.h"

#include <libxml/parser.h>
#include <libxml/xmlschemas.h>

#include "ledger/error.h"
#include "ledger/strbuf.h"
#include "posting/statement.h"

#define XSD EM_SQLDIR "/../config/iso20022/camt.053.001.02.xsd"

static xmlSchemaPtr schema;

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	xmlSchemaParserCtxtPtr sp;

	(void)argc, (void)argv;
	xmlInitParser();
	sp = xmlSchemaNewParserCtxt(XSD);
	schema = sp ? xmlSchemaParse(sp) : NULL;
	if (sp)
		xmlSchemaFreeParserCtxt(sp);
	if (schema == NULL) {
		fprintf(stderr, "fuzz_camt053: cannot load %s\n", XSD);
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct em_stmt_file f = EM_STMT_FILE_INIT;
	struct em_error err = EM_ERROR_INIT;
	struct em_strbuf out = EM_STRBUF_INIT;

	if (size > 262144)
		return -1;
	if (em_camt053_parse(&f, "fuzz.xml", (const char *)data, size, XSD, schema, &err) == 0) {
		em_fuzz_assert(err.message == NULL);
		em_stmt_describe(&f, &out);
		for (size_t i = 0; i < f.n; i++) {
			em_fuzz_assert(f.stmts[i].ref != NULL && f.stmts[i].account != NULL);
			em_fuzz_assert(strlen(f.stmts[i].from) == 10 && strlen(f.stmts[i].to) == 10);
			if (em_stmt_check(&f, f.stmts[i].account, &err) != 0)
				em_fuzz_assert(err.message != NULL);
			em_error_release(&err);
		}
	} else {
		em_fuzz_assert(err.message != NULL);
	}
	em_stmt_file_release(&f);
	em_error_release(&err);
	em_strbuf_release(&out);
	return 0;
}
