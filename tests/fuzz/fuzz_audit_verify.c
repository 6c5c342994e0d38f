/*
 * Fuzzes the audit package verifier (reports/audit_verify.c) through its
 * public entry point, em_audit_verify, as `earmark audit verify` calls it:
 * a package file and a CA.  The first byte of the input picks the mode:
 *
 *   even: the rest is the whole package file (the ZIP checks, then
 *         whatever survives of the rest);
 *   odd:  the rest replaces META-INF/signatures001.xml inside a good
 *         package (tests/fuzz/audit_verify.asice, signed by the key of
 *         tests/fuzz/audit_verify_ca.pem, both public and made once for
 *         this), so that mutations reach the parsing and checking of the
 *         signature document, its algorithms and references, which a
 *         mutated ZIP seldom does.
 *
 * Invariant: every input either verifies or is refused with a message;
 * nothing crashes, leaks or reads what it should not.  A mutated input
 * that verifies is only possible when the signature document still signs
 * the same content, which the checks would then have accepted anyway.
 */
#include "tests/fuzz/fuzz.h"

#include <unistd.h>
#include <zip.h>

#include "ledger/error.h"
#include "reports/audit.h"

#define FUZZ_DIR EM_SQLDIR "/../tests/fuzz/"
#define MAX_ENTRIES 16

struct entry {
	char *name;    /* the entry's name in the good package */
	void *data;    /* its bytes */
	size_t len;    /* how many */
};

static struct entry entries[MAX_ENTRIES];
static int nentries;
static char dir[64];
static char pkg_path[96];
static FILE *devnull;

static void cleanup(void)
{
	unlink(pkg_path);
	rmdir(dir);
	for (int i = 0; i < nentries; i++) {
		free(entries[i].name);
		free(entries[i].data);
	}
	if (devnull)
		fclose(devnull);
}

/* The good package's entries, in order, into memory. */
static void load_base(void)
{
	int zerr = 0;
	zip_t *z = zip_open(FUZZ_DIR "audit_verify.asice", ZIP_RDONLY, &zerr);
	zip_int64_t n;

	if (z == NULL)
		abort();
	n = zip_get_num_entries(z, 0);
	if (n < 2 || n > MAX_ENTRIES)
		abort();
	for (zip_int64_t i = 0; i < n; i++) {
		zip_stat_t st;
		zip_file_t *f;

		if (zip_stat_index(z, (zip_uint64_t)i, 0, &st) != 0 || (f = zip_fopen_index(z, (zip_uint64_t)i, 0)) == NULL)
			abort();
		entries[i].name = strdup(st.name);
		entries[i].len = (size_t)st.size;
		entries[i].data = malloc(entries[i].len ? entries[i].len : 1);
		if (entries[i].name == NULL || entries[i].data == NULL ||
		    zip_fread(f, entries[i].data, st.size) != (zip_int64_t)st.size)
			abort();
		zip_fclose(f);
	}
	nentries = (int)n;
	zip_discard(z);
}

/* The good package with the signature document replaced, written to pkg_path. */
static void write_package(const uint8_t *sig, size_t len)
{
	int zerr = 0;
	zip_t *z = zip_open(pkg_path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);

	if (z == NULL)
		abort();
	for (int i = 0; i < nentries; i++) {
		int is_sig = strcmp(entries[i].name, EM_AUDIT_SIGFILE) == 0;
		zip_source_t *src = zip_source_buffer(z, is_sig ? (const void *)sig : entries[i].data,
						      is_sig ? len : entries[i].len, 0);
		zip_int64_t idx;

		if (src == NULL || (idx = zip_file_add(z, entries[i].name, src, ZIP_FL_ENC_UTF_8)) < 0)
			abort();
		if (i == 0 && zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0) != 0)
			abort();
	}
	if (zip_close(z) != 0)
		abort();
}

static void write_raw(const uint8_t *data, size_t len)
{
	FILE *f = fopen(pkg_path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	(void)argc, (void)argv;
	snprintf(dir, sizeof(dir), "%s/earmark-fuzz-XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(pkg_path, sizeof(pkg_path), "%s/package.asice", dir);
	devnull = fopen("/dev/null", "w");
	if (devnull == NULL)
		abort();
	load_base();
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct em_error err = EM_ERROR_INIT;

	if (size < 1 || size > 262144)
		return -1;
	if (data[0] & 1)
		write_package(data + 1, size - 1);
	else
		write_raw(data + 1, size - 1);
	if (em_audit_verify(pkg_path, FUZZ_DIR "audit_verify_ca.pem", NULL, devnull, &err) != 0)
		em_fuzz_assert(err.message != NULL);
	else
		em_fuzz_assert(err.message == NULL);
	em_error_release(&err);
	return 0;
}
