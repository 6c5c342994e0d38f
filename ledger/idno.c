/*
 * ID numbers (GB 11643-1999, see idno.h): shape, upgrade, birth date, check
 * digit, in that order.  The birth date goes before the check digit because
 * an impossible date says where the typo is, while a wrong check digit only
 * says that there is one.
 *
 * Every message here has a twin in earmark.id_problem (migration 0005);
 * change both or neither, and sql/tests/h4_personal_data.sql with
 * tests/unit/test_idno.c will tell.  Called once per household on imports
 * of tens of thousands: no allocation, one pass over 18 bytes.
 */
#include "ledger/idno.h"

#include <stdio.h>
#include <string.h>

/* The fix, the same for every problem the number itself has. */
#define EM_ID_FIX "copy the number again from the ID card"

/* Thread-local so that imports checking IDs on several threads never share it. */
static _Thread_local char em_id_why[160];

static int em_id_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ISO 7064 MOD 11-2 over the first 17 digits: weight 2^(17-i) mod 11. */
static char em_id_check_digit(const char *s)
{
	static const int weight[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
	int sum = 0;

	for (int i = 0; i < 17; i++)
		sum += (s[i] - '0') * weight[i];
	return "10X98765432"[sum % 11];
}

static int em_id_number(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int em_id_days_in_month(int year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 2 && leap ? 29 : days[month - 1];
}

/* today as YYYYMMDD, or -1 when it is not shaped YYYY-MM-DD. */
static long em_id_today(const char *today)
{
	if (today == NULL || strlen(today) != 10 || today[4] != '-' || today[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !em_id_digit(today[i]))
			return -1;
	return em_id_number(today, 4) * 10000L + em_id_number(today + 5, 2) * 100L +
	       em_id_number(today + 8, 2);
}

/* Puts the canonical form of id into canon, or returns -1 when id has neither shape. */
static int em_id_canonical(const char *id, char canon[EM_ID_LEN + 1])
{
	size_t len = strlen(id);

	for (size_t i = 0; i < len && i < 17; i++)
		if (!em_id_digit(id[i]))
			return -1;
	if (len == 18) {
		if (!em_id_digit(id[17]) && id[17] != 'X' && id[17] != 'x')
			return -1;
		memcpy(canon, id, 17);
		canon[17] = id[17] == 'x' ? 'X' : id[17];
	} else if (len == 15) {
		/* GB 11643 annex: the century goes in after the area code, then a check digit */
		memcpy(canon, id, 6);
		memcpy(canon + 6, "19", 2);
		memcpy(canon + 8, id + 6, 9);
		canon[17] = em_id_check_digit(canon);
	} else {
		return -1;
	}
	canon[EM_ID_LEN] = '\0';
	return 0;
}

int em_id_check(const char *id, const char *today, char out[EM_ID_LEN + 1], const char **why)
{
	char canon[EM_ID_LEN + 1];
	long now = em_id_today(today);
	int year, month, day;
	char check;

	if (now < 0) {
		snprintf(em_id_why, sizeof em_id_why, "today's date is missing or not YYYY-MM-DD");
		goto refused;
	}
	if (id == NULL || em_id_canonical(id, canon) != 0) {
		snprintf(em_id_why, sizeof em_id_why,
			 "an ID number has 18 characters: 17 digits and a check digit 0-9 or X");
		goto refused;
	}
	year = em_id_number(canon + 6, 4);
	month = em_id_number(canon + 10, 2);
	day = em_id_number(canon + 12, 2);
	if (month < 1 || month > 12 || day < 1 || day > em_id_days_in_month(year, month)) {
		snprintf(em_id_why, sizeof em_id_why, "birth date %.8s does not exist: " EM_ID_FIX,
			 canon + 6);
		goto refused;
	}
	if (year < 1900) {
		snprintf(em_id_why, sizeof em_id_why, "birth date %.8s is before 1900: " EM_ID_FIX,
			 canon + 6);
		goto refused;
	}
	if (year * 10000L + month * 100L + day > now) {
		snprintf(em_id_why, sizeof em_id_why, "birth date %.8s is in the future: " EM_ID_FIX,
			 canon + 6);
		goto refused;
	}
	check = em_id_check_digit(canon);
	if (canon[17] != check) {
		snprintf(em_id_why, sizeof em_id_why,
			 "check digit is %c, the first 17 digits give %c: " EM_ID_FIX, canon[17], check);
		goto refused;
	}
	memcpy(out, canon, sizeof canon);
	return 0;

refused:
	if (why != NULL)
		*why = em_id_why;
	return -1;
}
