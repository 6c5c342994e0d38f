/*
 * JSON output for the database: earmark passes lists (voucher lines,
 * master-data rows) to its SQL functions as one jsonb parameter, which
 * keeps every value a parameter and never pasted SQL.  Only what that
 * needs: strings and integers, always valid UTF-8 in, RFC 8259 out.
 */
#ifndef EM_JSON_H
#define EM_JSON_H

#include <stdint.h>

struct em_strbuf;

/* Appends s as a JSON string literal, quotes included. */
void em_json_add_string(struct em_strbuf *sb, const char *s);
/* Appends "key":"value" (with a leading comma unless first). */
void em_json_add_member(struct em_strbuf *sb, int first, const char *key, const char *value);
/* Appends "key":123 (with a leading comma unless first). */
void em_json_add_int(struct em_strbuf *sb, int first, const char *key, int64_t value);

#endif
