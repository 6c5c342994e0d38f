/*
 * Realistic books for demos, tests and benchmarks (issue 7): input files in
 * the formats earmark's own commands read, deterministic by seed.
 */
#ifndef EM_GENERATE_H
#define EM_GENERATE_H

#include <stdint.h>

struct em_error;

struct em_gen_opts {
	const char *scale;   /* "demo", "county" or "province" */
	uint64_t seed;       /* the same seed, scale and year give the same bytes */
	int year;            /* the fiscal year of the books */
	const char *out;     /* directory to write; must not exist or be empty */
};

struct em_gen_summary {
	int counties;        /* books written, one directory each */
	long villages;       /* over all counties */
	long households;
	long projects;
	long funds;
	long batches;        /* household payment batches */
	long claims;         /* 报账 claims of projects paid by progress */
	long statements;     /* camt.053 files */
	long returns;        /* household payments the bank returns */
	long lines;          /* voucher lines the books have once loaded */
	long refused;        /* attempts the rules must refuse */
};

/*
 * Writes the books of o->scale into o->out: per county a directory named by
 * its 6-digit code with master data, vouchers, lists, batches, statements,
 * steps.tsv (what to run, in date order) and refused.tsv (the attempts the
 * rules refuse), plus manifest.txt at the top.  Returns 0, or EM_ERR with err
 * filled (a partly written directory is left for inspection).
 */
int em_generate(const struct em_gen_opts *o, struct em_gen_summary *sum, struct em_error *err);

#endif
