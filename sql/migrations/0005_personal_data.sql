-- 0005 personal data: H1 ID numbers and H4 masking (DESIGN section 4).
--
-- The SQL twins of ledger/idno.c and ledger/mask.c.  They give the same
-- results and the same messages, tested with the same vectors in
-- tests/unit/test_idno.c, tests/unit/test_mask.c and
-- sql/tests/h4_personal_data.sql; a change goes into both or neither.
--
-- id_upgrade and id_problem serve rule H1 (a household is paid only with a
-- valid GB 11643 ID number: right check digit, a real birth date from
-- 1900-01-01 on, not after today); callers upgrade first, then ask:
--   earmark.id_problem(earmark.id_upgrade(x), today)
-- is NULL exactly when em_id_check accepts x, and otherwise its message.
-- The mask_* functions are how personal data is shown outside the finance
-- office (H4).
--
-- Imports run these over tens of thousands of households, so each is one
-- expression with no subquery and no loop (the check digit's 17 terms are
-- written out) and the plain SQL ones carry no SET clause, so that the
-- planner can inline them into the calling query.  Instead every function
-- is schema-qualified; operators are found in pg_catalog, which is searched
-- first unless a caller's search_path names it later.  All are IMMUTABLE:
-- id_problem takes today as an argument for that reason.
--
-- No grants here: EXECUTE is revoked from PUBLIC by default (0004), and
-- who may call these is decided with the other grants.

-- 15 digits (first generation) -> the 18-character form: "19" after the
-- area code, then the ISO 7064 MOD 11-2 check digit; 18 characters ending
-- in x -> X; anything else unchanged, for id_problem to judge.
CREATE FUNCTION earmark.id_upgrade(p_id text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE
	WHEN p_id ~ '^[0-9]{15}$' THEN
		pg_catalog.substr(p_id, 1, 6) || '19' || pg_catalog.substr(p_id, 7, 9)
		|| pg_catalog.substr('10X98765432', (
			  pg_catalog.substr(p_id,  1, 1)::integer * 7
			+ pg_catalog.substr(p_id,  2, 1)::integer * 9
			+ pg_catalog.substr(p_id,  3, 1)::integer * 10
			+ pg_catalog.substr(p_id,  4, 1)::integer * 5
			+ pg_catalog.substr(p_id,  5, 1)::integer * 8
			+ pg_catalog.substr(p_id,  6, 1)::integer * 4
			+ 1 * 2 + 9 * 1                 -- the inserted "19"
			+ pg_catalog.substr(p_id,  7, 1)::integer * 6
			+ pg_catalog.substr(p_id,  8, 1)::integer * 3
			+ pg_catalog.substr(p_id,  9, 1)::integer * 7
			+ pg_catalog.substr(p_id, 10, 1)::integer * 9
			+ pg_catalog.substr(p_id, 11, 1)::integer * 10
			+ pg_catalog.substr(p_id, 12, 1)::integer * 5
			+ pg_catalog.substr(p_id, 13, 1)::integer * 8
			+ pg_catalog.substr(p_id, 14, 1)::integer * 4
			+ pg_catalog.substr(p_id, 15, 1)::integer * 2) % 11 + 1, 1)
	WHEN p_id ~ '^[0-9]{17}x$' THEN pg_catalog.substr(p_id, 1, 17) || 'X'
	ELSE p_id
	END
$$;

-- NULL when p_id is a valid canonical ID number as of p_today, else what
-- is wrong and the fix, worded as em_id_check words it.  The checks run in
-- the same order: today, shape, birth date (it says where a typo is), check
-- digit.  A NULL p_id is a problem, not a pass.
CREATE FUNCTION earmark.id_problem(p_id text, p_today date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE
	WHEN p_today IS NULL THEN 'today''s date is missing or not YYYY-MM-DD'
	WHEN p_id IS NULL OR p_id !~ '^[0-9]{17}[0-9X]$' THEN
		'an ID number has 18 characters: 17 digits and a check digit 0-9 or X'
	WHEN pg_catalog.substr(p_id, 11, 2)::integer NOT BETWEEN 1 AND 12
	  OR pg_catalog.substr(p_id, 13, 2)::integer NOT BETWEEN 1 AND
		CASE WHEN pg_catalog.substr(p_id, 11, 2) IN ('04', '06', '09', '11') THEN 30
		     WHEN pg_catalog.substr(p_id, 11, 2) <> '02' THEN 31
		     WHEN pg_catalog.substr(p_id, 7, 4)::integer % 4 = 0
		      AND (pg_catalog.substr(p_id, 7, 4)::integer % 100 <> 0
		           OR pg_catalog.substr(p_id, 7, 4)::integer % 400 = 0) THEN 29
		     ELSE 28 END THEN
		'birth date ' || pg_catalog.substr(p_id, 7, 8)
		|| ' does not exist: copy the number again from the ID card'
	WHEN pg_catalog.substr(p_id, 7, 4)::integer < 1900 THEN
		'birth date ' || pg_catalog.substr(p_id, 7, 8)
		|| ' is before 1900: copy the number again from the ID card'
	-- only reached with a real date, so make_date cannot fail
	WHEN pg_catalog.make_date(pg_catalog.substr(p_id, 7, 4)::integer,
	                          pg_catalog.substr(p_id, 11, 2)::integer,
	                          pg_catalog.substr(p_id, 13, 2)::integer) > p_today THEN
		'birth date ' || pg_catalog.substr(p_id, 7, 8)
		|| ' is in the future: copy the number again from the ID card'
	-- NULLIF turns the message into NULL, no problem, when the digits agree
	ELSE 'check digit is ' || pg_catalog.substr(p_id, 18, 1) || ', the first 17 digits give '
		|| NULLIF(pg_catalog.substr('10X98765432', (
			  pg_catalog.substr(p_id,  1, 1)::integer * 7
			+ pg_catalog.substr(p_id,  2, 1)::integer * 9
			+ pg_catalog.substr(p_id,  3, 1)::integer * 10
			+ pg_catalog.substr(p_id,  4, 1)::integer * 5
			+ pg_catalog.substr(p_id,  5, 1)::integer * 8
			+ pg_catalog.substr(p_id,  6, 1)::integer * 4
			+ pg_catalog.substr(p_id,  7, 1)::integer * 2
			+ pg_catalog.substr(p_id,  8, 1)::integer * 1
			+ pg_catalog.substr(p_id,  9, 1)::integer * 6
			+ pg_catalog.substr(p_id, 10, 1)::integer * 3
			+ pg_catalog.substr(p_id, 11, 1)::integer * 7
			+ pg_catalog.substr(p_id, 12, 1)::integer * 9
			+ pg_catalog.substr(p_id, 13, 1)::integer * 10
			+ pg_catalog.substr(p_id, 14, 1)::integer * 5
			+ pg_catalog.substr(p_id, 15, 1)::integer * 8
			+ pg_catalog.substr(p_id, 16, 1)::integer * 4
			+ pg_catalog.substr(p_id, 17, 1)::integer * 2) % 11 + 1, 1),
		          pg_catalog.substr(p_id, 18, 1))
		|| ': copy the number again from the ID card'
	END
$$;

-- H4 masks, as ledger/mask.c makes them (see mask.h for the rules).  Text
-- that does not look like what it should be is starred whole, one '*' per
-- character.  Not STRICT, which would stop inlining: a NULL falls through
-- each CASE into a strict function and comes out NULL all the same.

-- 110105********002X; 15 digits 110105*****1002.
CREATE FUNCTION earmark.mask_id(p_id text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE
	WHEN p_id ~ '^([0-9]{15}|[0-9]{17}[0-9Xx])$' THEN
		pg_catalog.left(p_id, 6) || pg_catalog.repeat('*', pg_catalog.length(p_id) - 10)
		|| pg_catalog.right(p_id, 4)
	ELSE pg_catalog.repeat('*', pg_catalog.length(p_id))
	END
$$;

-- 张 -> *, 张三 -> 张*, 张小三 -> 张*三, 欧阳小明 -> 欧**明.
CREATE FUNCTION earmark.mask_name(p_name text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE pg_catalog.length(p_name)
	WHEN 0 THEN ''
	WHEN 1 THEN '*'
	WHEN 2 THEN pg_catalog.left(p_name, 1) || '*'
	ELSE pg_catalog.left(p_name, 1) || pg_catalog.repeat('*', pg_catalog.length(p_name) - 2)
	     || pg_catalog.right(p_name, 1)
	END
$$;

-- ****1234 whatever the card's length, which stays hidden too.
CREATE FUNCTION earmark.mask_card(p_card text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE
	WHEN pg_catalog.length(p_card) >= 8 AND p_card ~ '[0-9]{4}$' THEN
		'****' || pg_catalog.right(p_card, 4)
	ELSE pg_catalog.repeat('*', pg_catalog.length(p_card))
	END
$$;

-- 13812341234 -> 138****1234; other numbers keep their last 4, unless
-- that would be all of them.
CREATE FUNCTION earmark.mask_phone(p_phone text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE
	WHEN p_phone ~ '^1[0-9]{10}$' THEN
		pg_catalog.left(p_phone, 3) || '****' || pg_catalog.right(p_phone, 4)
	WHEN pg_catalog.length(p_phone) <= 4 THEN pg_catalog.repeat('*', pg_catalog.length(p_phone))
	ELSE pg_catalog.repeat('*', pg_catalog.length(p_phone) - 4) || pg_catalog.right(p_phone, 4)
	END
$$;
