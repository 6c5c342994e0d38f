/*
 * JSON string and member writers (see json.h).  Control characters are
 * escaped as \u00XX; everything else, UTF-8 included, passes through, so
 * Chinese text stays readable in logs.
 */
#include "ledger/json.h"

#include <inttypes.h>
#include <stdio.h>

#include "ledger/strbuf.h"

void em_json_add_string(struct em_strbuf *sb, const char *s)
{
	em_strbuf_addc(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			em_strbuf_adds(sb, "\\\"");
			break;
		case '\\':
			em_strbuf_adds(sb, "\\\\");
			break;
		case '\n':
			em_strbuf_adds(sb, "\\n");
			break;
		case '\r':
			em_strbuf_adds(sb, "\\r");
			break;
		case '\t':
			em_strbuf_adds(sb, "\\t");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				em_strbuf_addf(sb, "\\u%04x", *p);
			else
				em_strbuf_addc(sb, (char)*p);
		}
	}
	em_strbuf_addc(sb, '"');
}

void em_json_add_member(struct em_strbuf *sb, int first, const char *key, const char *value)
{
	if (!first)
		em_strbuf_addc(sb, ',');
	em_json_add_string(sb, key);
	em_strbuf_addc(sb, ':');
	em_json_add_string(sb, value);
}

void em_json_add_int(struct em_strbuf *sb, int first, const char *key, int64_t value)
{
	if (!first)
		em_strbuf_addc(sb, ',');
	em_json_add_string(sb, key);
	em_strbuf_addf(sb, ":%" PRId64, value);
}
