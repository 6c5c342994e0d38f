/*
 * Fuzzes the bank CSV statement reader (posting/statement.c, on
 * ledger/csv.c) and the checks an import makes before the database is
 * asked (em_stmt_check, em_stmt_describe).  The reader takes file names,
 * so each input is written to a temporary file; the first byte picks one
 * of two column mappings, written once at start: the debit and credit
 * columns of config/bank_csv.conf, or one signed amount column.
 *
 * Invariants: a statement that is read has lines, an account and a ref;
 * the checks either pass or say why.
 */
#include "tests/fuzz/fuzz.h"

#include <unistd.h>

#include "ledger/error.h"
#include "ledger/strbuf.h"
#include "posting/statement.h"

static const char *const mappings[] = {
	"[statement]\nencoding = auto\n[columns]\n"
	"date = 交易日期\nvalue_date =\naccount = 本方账号\ncurrency = 币种\namount =\n"
	"debit = 支出金额\ncredit = 收入金额\nbalance = 余额\nreference = 摘要\n"
	"counterparty = 对方户名\nend_to_end = 客户参考号\nbank_ref = 流水号\n"
	"return_reason = 退汇原因\n",
	"[columns]\ndate = date\nvalue_date = value\naccount = account\ncurrency = ccy\n"
	"amount = amount\nbalance = balance\nreference = memo\nend_to_end = e2e\n"
	"bank_ref = serial\nreturn_reason = returned\n",
};

static char dir[64];
static char map_path[2][96];
static char csv_path[96];

static void cleanup(void)
{
	unlink(map_path[0]);
	unlink(map_path[1]);
	unlink(csv_path);
	rmdir(dir);
}

static void write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, size, f) != size || fclose(f) != 0)
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
	for (int i = 0; i < 2; i++) {
		snprintf(map_path[i], sizeof(map_path[i]), "%s/mapping%d.conf", dir, i);
		write_file(map_path[i], mappings[i], strlen(mappings[i]));
	}
	snprintf(csv_path, sizeof(csv_path), "%s/statement.csv", dir);
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct em_stmt_file f = EM_STMT_FILE_INIT;
	struct em_error err = EM_ERROR_INIT;
	struct em_strbuf out = EM_STRBUF_INIT;

	if (size < 1 || size > 65536)
		return -1;
	write_file(csv_path, data + 1, size - 1);
	if (em_stmt_csv_read(&f, csv_path, map_path[data[0] % 2], NULL, &err) == 0) {
		em_fuzz_assert(err.message == NULL);
		em_fuzz_assert(f.n == 1 && f.stmts[0].nlines >= 1);
		em_fuzz_assert(f.stmts[0].account != NULL && f.stmts[0].ref != NULL);
		em_stmt_describe(&f, &out);
		em_fuzz_assert(out.len > 0);
		if (em_stmt_check(&f, f.stmts[0].account, &err) != 0)
			em_fuzz_assert(err.message != NULL);
	} else {
		em_fuzz_assert(err.message != NULL);
	}
	em_stmt_file_release(&f);
	em_error_release(&err);
	em_strbuf_release(&out);
	return 0;
}
