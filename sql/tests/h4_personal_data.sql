-- H1 and H4 (DESIGN section 4): the SQL twins of ledger/idno.c and
-- ledger/mask.c in migration 0005.
--
-- The vectors are those of tests/unit/test_idno.c and test_mask.c, literal
-- for literal (less the ones in invalid UTF-8, which PostgreSQL refuses on
-- input), so that C and SQL give the same answers and the same messages:
-- earmark.id_problem(earmark.id_upgrade(x), today) is NULL where
-- em_id_check accepts x and its message where it refuses.  "Today" is
-- 2026-03-15.  Then the rules over every day of two centuries, checked
-- against PostgreSQL's own calendar and an independent check digit, and
-- that the functions stay IMMUTABLE, PARALLEL SAFE and inlinable, which the
-- 50,000-household imports rely on.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;
BEGIN;
SELECT plan(127);

\set shape 'an ID number has 18 characters: 17 digits and a check digit 0-9 or X'
\set fix ': copy the number again from the ID card'

-- Accepted, with the canonical form (test_accepts, test_lowercase_x, test_upgrade).
CREATE TEMP TABLE accepted (id text, today date, canonical text);
INSERT INTO accepted VALUES
	('11010519491231002X', '2026-03-15', '11010519491231002X'),
	('44030419900307123X', '2026-03-15', '44030419900307123X'),
	('510108198808084511', '2026-03-15', '510108198808084511'),
	('320102198501011234', '2026-03-15', '320102198501011234'),
	('320102200002291235', '2026-03-15', '320102200002291235'), -- 2000 is a leap year
	('110105190001011231', '2026-03-15', '110105190001011231'), -- the first day allowed
	('110105202603151237', '2026-03-15', '110105202603151237'), -- born today
	('110105202603161232', '2026-03-16', '110105202603161232'),
	('11010519491231002x', '2026-03-15', '11010519491231002X'),
	('44030419900307123x', '2026-03-15', '44030419900307123X'),
	('110105491231002',    '2026-03-15', '11010519491231002X'),
	('320102850101123',    '2026-03-15', '320102198501011234'),
	('510108880808451',    '2026-03-15', '510108198808084511');

SELECT is(earmark.id_upgrade(id), canonical, 'id_upgrade ' || id) FROM accepted;
SELECT is(earmark.id_problem(earmark.id_upgrade(id), today), NULL, 'accepts ' || id) FROM accepted;

-- Refused, with em_id_check's message (test_upgrade, test_check_digit,
-- test_birth_date, test_shape).
SELECT is(earmark.id_problem(earmark.id_upgrade(id), today::date), message,
          'refuses ' || COALESCE('''' || id || '''', 'NULL'))
FROM (VALUES
	('110105490230002',    '2026-03-15', 'birth date 19490230 does not exist' || :'fix'),
	('11010549123100X',    '2026-03-15', :'shape'),
	('11010549123100x',    '2026-03-15', :'shape'),
	('110105194912310025', '2026-03-15', 'check digit is 5, the first 17 digits give X' || :'fix'),
	('110105194912310021', '2026-03-15', 'check digit is 1, the first 17 digits give X' || :'fix'),
	('510108198808084510', '2026-03-15', 'check digit is 0, the first 17 digits give 1' || :'fix'),
	('51010819880808451X', '2026-03-15', 'check digit is X, the first 17 digits give 1' || :'fix'),
	('51010819880808451x', '2026-03-15', 'check digit is X, the first 17 digits give 1' || :'fix'),
	('510108198808084151', '2026-03-15', 'check digit is 1, the first 17 digits give 9' || :'fix'),
	('110105199902301237', '2026-03-15', 'birth date 19990230 does not exist' || :'fix'),
	('110105190002291239', '2026-03-15', 'birth date 19000229 does not exist' || :'fix'),
	('110105210002291234', '2200-01-01', 'birth date 21000229 does not exist' || :'fix'),
	('110105199913011235', '2026-03-15', 'birth date 19991301 does not exist' || :'fix'),
	('110105199900011236', '2026-03-15', 'birth date 19990001 does not exist' || :'fix'),
	('110105199904001238', '2026-03-15', 'birth date 19990400 does not exist' || :'fix'),
	('110105199904311236', '2026-03-15', 'birth date 19990431 does not exist' || :'fix'),
	('110105202603161232', '2026-03-15', 'birth date 20260316 is in the future' || :'fix'),
	('110105189912311237', '2026-03-15', 'birth date 18991231 is before 1900' || :'fix'),
	('110105199902301230', '2026-03-15', 'birth date 19990230 does not exist' || :'fix'),
	('',                     '2026-03-15', :'shape'),
	('11010519491231002',    '2026-03-15', :'shape'),
	('11010519491231002X1',  '2026-03-15', :'shape'),
	('1101051949123100',     '2026-03-15', :'shape'),
	('11010549123100',       '2026-03-15', :'shape'),
	('11010519491231002A',   '2026-03-15', :'shape'),
	('1101051949123100XX',   '2026-03-15', :'shape'),
	('X1010519491231002X',   '2026-03-15', :'shape'),
	('1101051949123100 X',   '2026-03-15', :'shape'),
	(' 11010519491231002X',  '2026-03-15', :'shape'),
	('11010519491231002X ',  '2026-03-15', :'shape'),
	('110105-19491231-002X', '2026-03-15', :'shape'),
	('１1010519491231002X',  '2026-03-15', :'shape'), -- full-width 1
	(NULL,                   '2026-03-15', :'shape')
) AS v(id, today, message);

-- What only the SQL side has: the upgrade as a function of its own, and
-- id_problem judging exactly what it is given.
SELECT is(earmark.id_problem('11010519491231002X', NULL),
          'today''s date is missing or not YYYY-MM-DD', 'no today, no verdict');
SELECT is(earmark.id_problem(NULL, '2026-03-15'), :'shape', 'a NULL ID is a problem, not a pass');
SELECT is(earmark.id_problem('11010519491231002x', '2026-03-15'), :'shape',
          'id_problem does not upgrade a lower-case x');
SELECT is(earmark.id_problem('110105491231002', '2026-03-15'), :'shape',
          'id_problem does not upgrade 15 digits');
SELECT is(earmark.id_problem('11010519491231002X', 'infinity'), NULL, 'today may be infinity');
SELECT is(earmark.id_upgrade(NULL), NULL, 'id_upgrade: NULL stays NULL');
SELECT is(earmark.id_upgrade(id), id, 'id_upgrade leaves ' || quote_literal(id) || ' alone')
FROM (VALUES ('11010519491231002X'), ('110105194912310025'), ('1101051949123100'),
             ('11010549123100x'), ('11010519491231002A'), ('abc'), (''), ('１10105491231002')) AS v(id);

-- Every day from 1900-01-01 to 2099-12-31 and every impossible day in
-- between (month 00 and 13, day 00 to 31): with a check digit computed
-- here from the definition (weight 2^(18-i) mod 11, no table), the real
-- days pass up to today and none after, and each impossible one is named.
CREATE TEMP TABLE birth AS
SELECT y, m, d, pg_catalog.lpad(y::text, 4, '0') || pg_catalog.lpad(m::text, 2, '0')
                || pg_catalog.lpad(d::text, 2, '0') AS ymd,
       m BETWEEN 1 AND 12
       AND pg_catalog.date_part('month', pg_catalog.make_date(y, LEAST(GREATEST(m, 1), 12), 1) + (d - 1)) = m
       AND d >= 1 AS real
FROM generate_series(1899, 2100) y, generate_series(0, 13) m, generate_series(0, 31) d;

CREATE TEMP TABLE birth_id AS
SELECT b.*, f || CASE c WHEN 10 THEN 'X' ELSE c::text END AS id
FROM (SELECT b.*, '440304' || b.ymd || '417' AS f FROM birth b) b,
LATERAL (SELECT (12 - pg_catalog.sum(pg_catalog.substr(b.f, i, 1)::integer * (2 ^ (18 - i))::integer % 11)::integer % 11) % 11 AS c
         FROM generate_series(1, 17) i) AS k;

SELECT is((SELECT count(*) FROM birth_id
           WHERE earmark.id_problem(id, '2026-03-15') IS DISTINCT FROM CASE
                 WHEN NOT real THEN 'birth date ' || ymd || ' does not exist' || :'fix'
                 WHEN y < 1900 THEN 'birth date ' || ymd || ' is before 1900' || :'fix'
                 WHEN ymd > '20260315' THEN 'birth date ' || ymd || ' is in the future' || :'fix'
                 END),
          0::bigint, 'all 90,496 birth days of 1899-2100 judged as the calendar says');
SELECT is((SELECT count(*) FROM birth_id WHERE real AND y BETWEEN 1900 AND 1999
           AND earmark.id_upgrade(pg_catalog.left(id, 6) || pg_catalog.substr(id, 9, 9)) <> id),
          0::bigint, 'upgrading the 15-digit form of every 20th-century ID gives its check digit');
SELECT is((SELECT count(*) FROM birth_id WHERE real AND y BETWEEN 1900 AND 2025
           AND earmark.id_problem(pg_catalog.left(id, 17) || CASE pg_catalog.right(id, 1) WHEN '0' THEN '1' ELSE '0' END,
                                  '2026-03-15')
               IS DISTINCT FROM 'check digit is ' || CASE pg_catalog.right(id, 1) WHEN '0' THEN '1' ELSE '0' END
                                || ', the first 17 digits give ' || pg_catalog.right(id, 1) || :'fix'),
          0::bigint, 'a wrong check digit is named on every real day');

-- Masks (test_mask.c).
SELECT is(earmark.mask_id(i), o, 'mask_id ' || COALESCE(quote_literal(i), 'NULL'))
FROM (VALUES
	('11010519491231002X', '110105********002X'),
	('11010519491231002x', '110105********002x'),
	('510108198808084511', '510108********4511'),
	('110105491231002', '110105*****1002'),
	('', ''),
	('1101051949123100', '****************'),
	('11010519491231002X1', '*******************'),
	('11010519491231002A', '******************'),
	('X1010519491231002X', '******************'),
	('11010549123100X', '***************'),
	('张三张三张三张三张三张三张三张三张三', '******************'),
	('张三', '**'),
	(NULL, NULL)
) AS v(i, o);

SELECT is(earmark.mask_name(i), o, 'mask_name ' || COALESCE(quote_literal(i), 'NULL'))
FROM (VALUES
	('', ''),
	('张', '*'),
	('张三', '张*'),
	('张小三', '张*三'),
	('欧阳小明', '欧**明'),
	('阿依古丽·买买提', '阿******提'),
	('L', '*'),
	('Li', 'L*'),
	('Wang Fang', 'W*******g'),
	(U&'\+01F600\+01F600', U&'\+01F600*'),
	(NULL, NULL)
) AS v(i, o);

SELECT is(earmark.mask_card(i), o, 'mask_card ' || COALESCE(quote_literal(i), 'NULL'))
FROM (VALUES
	('6222021234567890123', '****0123'),
	('6222021234567890', '****7890'),
	('62220212', '****0212'),
	('6222021', '*******'),
	('1234', '****'),
	('', ''),
	('6222 0212 3456 7890', '****7890'),
	('622202123456789X', '****************'),
	('6222021234567890 ', '*****************'),
	('卡号12345678', '****5678'),
	('卡号1234', '******'),
	(NULL, NULL)
) AS v(i, o);

SELECT is(earmark.mask_phone(i), o, 'mask_phone ' || COALESCE(quote_literal(i), 'NULL'))
FROM (VALUES
	('13812341234', '138****1234'),
	('19900001111', '199****1111'),
	('23812341234', '*******1234'),
	('1381234123', '******4123'),
	('138123412345', '********2345'),
	('0571-88881234', '*********1234'),
	('+8613812341234', '**********1234'),
	('电话12345', '***2345'),
	('12345', '*2345'),
	('1234', '****'),
	('123', '***'),
	('', ''),
	(NULL, NULL)
) AS v(i, o);

-- The promises the imports rely on.
SELECT is((SELECT pg_catalog.count(*) FROM pg_catalog.pg_proc
           WHERE pronamespace = 'earmark'::regnamespace
             AND proname IN ('id_upgrade', 'id_problem', 'mask_id', 'mask_name', 'mask_card', 'mask_phone')
             AND provolatile = 'i' AND proparallel = 's' AND prolang = (SELECT oid FROM pg_catalog.pg_language WHERE lanname = 'sql')
             AND proconfig IS NULL),
          6::bigint, 'all six are SQL, IMMUTABLE, PARALLEL SAFE and without SET');

CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r record;
	t text := '';
BEGIN
	FOR r IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
		t := t || r."QUERY PLAN" || E'\n';
	END LOOP;
	RETURN t;
END
$$;
SELECT unalike(pg_temp.plan_of($q$
	SELECT earmark.id_problem(id, '2026-03-15'), earmark.mask_id(id), earmark.mask_name(id),
	       earmark.mask_card(id), earmark.mask_phone(id)
	FROM birth_id
$q$), '%earmark.%', 'id_problem and the masks are inlined into the query that calls them');

SELECT * FROM finish();
ROLLBACK;
