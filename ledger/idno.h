/*
 * Chinese resident ID numbers (居民身份证号码, GB 11643-1999), rule H1 of
 * DESIGN section 4: a household is paid only with a valid ID number.
 *
 * The canonical form is 18 characters: a 6-digit area code, the birth date
 * YYYYMMDD, a 3-digit sequence number and the ISO 7064 MOD 11-2 check digit
 * (0-9 or upper-case X).  First-generation 15-digit numbers (birth year
 * without "19", no check digit) are upgraded to that form.  The area code
 * is not checked against a table: codes change, the check digit does not.
 *
 * The SQL twins earmark.id_upgrade and earmark.id_problem (migration 0005)
 * give the same results and the same messages: for any input x,
 * earmark.id_problem(earmark.id_upgrade(x), today) is NULL exactly when
 * em_id_check accepts x, and otherwise is the text em_id_check puts in *why.
 */
#ifndef EM_IDNO_H
#define EM_IDNO_H

#define EM_ID_LEN 18 /* characters in the canonical form */

/*
 * Checks id as of today ("YYYY-MM-DD") and writes its canonical 18-char
 * form, NUL terminated, to out; returns 0.  Accepts 17 digits and a check
 * digit 0-9, X or x (stored as X), or 15 digits (upgraded).  The birth date
 * must be a real day from 1900-01-01 to today.  out may be id itself.
 *
 * Returns -1 and leaves out untouched when id is refused; then, when why is
 * not NULL, *why points at an English message naming the problem and the
 * fix.  That text lives in a thread-local buffer: it stays valid until this
 * thread calls em_id_check again, so copy it before the next call.  No
 * allocation, no printing.
 */
int em_id_check(const char *id, const char *today, char out[EM_ID_LEN + 1], const char **why);

#endif
