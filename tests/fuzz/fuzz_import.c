/*
 * Fuzzes the row parsers that sit on the CSV reader (posting/import.c):
 * the header-to-column matching, money columns, normalisers, uniqueness
 * within a file, and both outputs, the JSON rows voucher drafts and master
 * imports send and the COPY text payment batches send.  The column tables
 * are copies of those in posting/voucher.c, posting/pay.c and
 * posting/admin.c (which keep theirs static); the first byte of the input
 * picks the table and the output, the rest is the file.
 *
 * Invariants: success means no error and, for JSON, a text that starts
 * with '[' and ends with ']'; for COPY, one line per data row; failure
 * means a message and nothing produced.
 */
#include "tests/fuzz/fuzz.h"

#include "ledger/csv.h"
#include "ledger/error.h"
#include "ledger/idno.h"
#include "ledger/strbuf.h"
#include "posting/import.h"

static const char *normalise_side(const char *v, const char **why)
{
	static const char *const debit[] = { "D", "d", "借", "Dr", "DR", "debit", "Debit" };
	static const char *const credit[] = { "C", "c", "贷", "Cr", "CR", "credit", "Credit" };

	for (size_t i = 0; i < sizeof(debit) / sizeof(debit[0]); i++) {
		if (strcmp(v, debit[i]) == 0)
			return "D";
		if (strcmp(v, credit[i]) == 0)
			return "C";
	}
	*why = "side is D (借, debit) or C (贷, credit)";
	return NULL;
}

static const char *normalise_id(const char *v, const char **why)
{
	static char out[EM_ID_LEN + 1];

	return em_id_check(v, "2026-12-06", out, why) == 0 ? out : NULL;
}

static const struct em_column voucher_columns[] = {
	{ "account", "科目|科目代码", 0, 1, NULL, NULL, NULL },
	{ "side", "方向|借贷", 0, 1, normalise_side, NULL, NULL },
	{ "amount", "金额", 1, 1, NULL, NULL, NULL },
	{ "fund", "资金|资金来源", 0, 1, NULL, NULL, NULL },
	{ "project", "项目", 0, 1, NULL, NULL, NULL },
	{ "village", "村|行政村", 0, 1, NULL, NULL, NULL },
	{ "household", "户|农户", 0, 1, NULL, NULL, NULL },
	{ "bank_account", "银行账户|专户", 0, 1, NULL, NULL, NULL },
	{ "category", "用途", 0, 1, NULL, NULL, NULL },
	{ "memo", "摘要", 0, 1, NULL, NULL, NULL },
};

static const struct em_column pay_columns[] = {
	{ "household", "户编号|农户", 0, 1, NULL, NULL, NULL },
	{ "amount", "金额|补助金额", 1, 1, NULL, NULL, NULL },
	{ "project", "项目编号|项目", 0, 1, NULL, NULL, NULL },
	{ "fund", "资金代码|资金", 0, 1, NULL, NULL, NULL },
	{ "category", "用途", 0, 1, NULL, NULL, NULL },
	{ "list", "名单|公示名单", 0, 1, NULL, NULL, NULL },
	{ "item", "补助项目", 0, 0, NULL, NULL, NULL },
	{ "memo", "摘要", 0, 0, NULL, NULL, NULL },
};

static const struct em_column household_columns[] = {
	{ "code", "户编号", 0, 1, NULL, NULL, NULL },
	{ "village", "村", 0, 1, NULL, NULL, NULL },
	{ "head_name", "户主", 0, 1, NULL, NULL, NULL },
	{ "id_no", "身份证号|户主身份证号", 0, 1, normalise_id, "ID number", "H1" },
	{ "members", "人口|家庭人口", 0, 0, NULL, NULL, NULL },
	{ "bank_card", "银行卡号|卡号", 0, 0, NULL, NULL, NULL },
	{ "bank_cnaps", "开户行行号|卡行号", 0, 0, NULL, NULL, NULL },
	{ "phone", "电话|联系电话", 0, 0, NULL, NULL, NULL },
	{ "status", "户类型|属性", 0, 0, NULL, NULL, NULL },
	{ "status_from", "起始年度", 0, 0, NULL, NULL, NULL },
	{ "status_to", "终止年度", 0, 0, NULL, NULL, NULL },
};

#define TABLE(t) { t, sizeof(t) / sizeof(t[0]) }
static const struct {
	const struct em_column *cols;
	size_t ncols;
} tables[] = { TABLE(voucher_columns), TABLE(pay_columns), TABLE(household_columns) };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct em_csv csv = EM_CSV_INIT;
	struct em_error err = EM_ERROR_INIT;
	struct em_strbuf out = EM_STRBUF_INIT;
	size_t nrows = 0;
	int t, copy;

	if (size < 1 || size > 65536)
		return -1;
	t = data[0] % 3;
	copy = (data[0] / 3) % 2;
	if (em_csv_read_mem(&csv, "fuzz.csv", (const char *)data + 1, size - 1, NULL, &err) != 0)
		goto out;
	if ((copy ? em_import_csv_copy : em_import_csv_json)(&csv, tables[t].cols, tables[t].ncols,
							     &out, &nrows, &err) == 0) {
		em_fuzz_assert(err.message == NULL);
		em_fuzz_assert(nrows >= 1 && nrows < csv.nrows);
		if (copy) {
			size_t lines = 0;

			for (size_t i = 0; i < out.len; i++)
				lines += out.buf[i] == '\n';
			em_fuzz_assert(lines == nrows);
		} else {
			em_fuzz_assert(out.len >= 2 && out.buf[0] == '[' && out.buf[out.len - 1] == ']');
		}
	} else {
		em_fuzz_assert(err.message != NULL);
	}
out:
	em_csv_release(&csv);
	em_error_release(&err);
	em_strbuf_release(&out);
	return 0;
}
