-- 0016 township scope: row-level security for township officers (issue 8).
--
-- A person may be scoped, per book, to one or more townships: the first 9
-- digits of a village's 12-digit 统计用区划代码.  A scoped person (a
-- township 财政所 officer) reads only the rows of their townships' villages
-- and writes only those; a person with no scope in a book (the county
-- office) sees and writes the whole book, as before.  `earmark user add
-- NAME --role clerk --township 610826101` or `earmark user scope` set it,
-- on the admin connection (earmark.user_scope, which no application role
-- may call).
--
-- Two fences, both inside PostgreSQL:
--   reads   RLS policies (FOR SELECT) on village, household,
--           household_private, household_spend, household_payment,
--           beneficiary, objection, village_month, line and user_township.
--           Lines without a village or household (fund receipts, bank
--           lines) stay visible: they belong to the county.  The owner
--           bypasses RLS (not FORCEd), so the SECURITY DEFINER write
--           functions, the rules and the chain see every row.
--   writes  one AFTER ... FOR EACH STATEMENT trigger per table written
--           (village, household, household_private, beneficiary,
--           objection, household_payment, line, and voucher status
--           changes: review, post, reject), over the statement's transition
--           table: a row outside the actor's townships is refused (EMT01,
--           "T1 township scope") naming the village, the record and the fix.
--
-- Cost on the hot path (pay batch, 100,000 lines): the household_payment and
-- line triggers share the transition tables the existing statement triggers
-- already collect; for an unscoped actor each is one index probe on
-- user_township (person) and returns; for a scoped one, one pass over the
-- statement's rows, a hash probe each into the few villages outside the
-- scope (scope_outside), describing only those (about 10 us a row).  Not
-- fenced: a scoped cashier's payment export and a scoped admin's list or
-- notice publication (they write no household row).  The policies are
-- evaluated once per query (an InitPlan for the scoped books and a hashed
-- SubPlan for the villages in scope), never a function call per row.

CREATE TABLE earmark.user_township (
	book_id    integer NOT NULL REFERENCES earmark.book,
	person     name NOT NULL,                     -- a LOGIN role
	township   text NOT NULL CHECK (township ~ '^[0-9]{9}$'),  -- 乡镇: first 9 digits of 统计用区划代码
	granted_by name NOT NULL DEFAULT session_user,
	granted_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (book_id, person, township)
);
CREATE INDEX user_township_person ON earmark.user_township (person, book_id);
CREATE INDEX village_township ON earmark.village (book_id, (pg_catalog.left(code, 9)));

-- Whose scope applies: the role chosen with SET ROLE when it is a person
-- (a LOGIN role), else the session's.  A scoped person who SETs ROLE to a
-- group role (earmark_clerk) keeps their own scope.
CREATE FUNCTION earmark.scope_person() RETURNS name
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT COALESCE((SELECT r.rolname FROM pg_catalog.pg_roles r
	                  WHERE r.rolname = pg_catalog.current_setting('role') AND r.rolcanlogin),
	                session_user)
$$;

-- The books in which the person is scoped; empty for the county office.
CREATE FUNCTION earmark.scope_books() RETURNS integer[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT COALESCE(pg_catalog.array_agg(DISTINCT s.book_id), '{}')
	  FROM earmark.user_township s WHERE s.person = earmark.scope_person()
$$;

-- The villages in the person's townships, over every book they are scoped in.
CREATE FUNCTION earmark.scope_villages() RETURNS TABLE (book_id integer, village_id integer)
LANGUAGE sql STABLE SECURITY DEFINER ROWS 300 SET search_path = pg_catalog, pg_temp AS $$
	SELECT v.book_id, v.village_id
	  FROM earmark.user_township s
	  JOIN earmark.village v ON v.book_id = s.book_id AND pg_catalog.left(v.code, 9) = s.township
	 WHERE s.person = earmark.scope_person()
$$;

-- The households of those villages.
CREATE FUNCTION earmark.scope_households() RETURNS TABLE (book_id integer, household_id integer)
LANGUAGE sql STABLE SECURITY DEFINER ROWS 5000 SET search_path = pg_catalog, pg_temp AS $$
	SELECT h.book_id, h.household_id
	  FROM earmark.user_township s
	  JOIN earmark.village v ON v.book_id = s.book_id AND pg_catalog.left(v.code, 9) = s.township
	  JOIN earmark.household h ON h.book_id = v.book_id AND h.village_id = v.village_id
	 WHERE s.person = earmark.scope_person()
$$;

-- Sets a person's townships in a book (replacing what was there); an empty
-- array makes them county office again.  For the database administrator
-- (earmark user add/scope on the admin connection): no application role
-- may call it, so nobody widens their own scope.
CREATE FUNCTION earmark.user_scope(p_book text, p_person name, p_townships text[])
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	b integer := earmark.book_of(p_book);
	bad text;
	n integer;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = p_person AND rolcanlogin) THEN
		RAISE EXCEPTION 'user ''%'' does not exist', p_person USING ERRCODE = 'EMR01',
			HINT = 'create the user first: earmark user add NAME --role ROLE';
	END IF;
	IF pg_catalog.cardinality(p_townships) > 0
	   AND (pg_catalog.pg_has_role(p_person, 'earmark_auditor', 'MEMBER')
	        OR pg_catalog.pg_has_role(p_person, 'earmark_public', 'MEMBER')) THEN
		RAISE EXCEPTION 'an auditor or the public board cannot be scoped to townships (T1)' USING ERRCODE = 'EMT01',
			DETAIL = pg_catalog.format('''%s'' is a member of earmark_auditor or earmark_public', p_person),
			HINT = 'auditors and the board read the whole book; scope only office roles';
	END IF;
	SELECT t INTO bad FROM pg_catalog.unnest(p_townships) t WHERE t IS NULL OR t !~ '^[0-9]{9}$' LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'invalid township code ''%'' (T1)', COALESCE(bad, '') USING ERRCODE = 'EMI01',
			HINT = 'a township is the first 9 digits of its villages'' 12-digit 统计用区划代码, e.g. 610826101';
	END IF;
	SELECT t INTO bad FROM pg_catalog.unnest(p_townships) t
	 WHERE NOT EXISTS (SELECT 1 FROM earmark.village v WHERE v.book_id = b AND pg_catalog.left(v.code, 9) = t)
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'no village of book ''%'' lies in township ''%'' (T1)', p_book, bad USING ERRCODE = 'EMR01',
			HINT = 'import the township''s villages first (earmark master import village FILE.csv), or check the code';
	END IF;
	DELETE FROM earmark.user_township WHERE book_id = b AND person = p_person;
	INSERT INTO earmark.user_township (book_id, person, township)
	SELECT DISTINCT b, p_person, t FROM pg_catalog.unnest(p_townships) t;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;

------------------------------------------------------------------------
-- Reads: the policies.
------------------------------------------------------------------------

ALTER TABLE earmark.village ENABLE ROW LEVEL SECURITY;
ALTER TABLE earmark.household ENABLE ROW LEVEL SECURITY;
ALTER TABLE earmark.household_private ENABLE ROW LEVEL SECURITY;
ALTER TABLE earmark.household_spend ENABLE ROW LEVEL SECURITY;
ALTER TABLE earmark.household_payment ENABLE ROW LEVEL SECURITY;
ALTER TABLE earmark.beneficiary ENABLE ROW LEVEL SECURITY;
ALTER TABLE earmark.objection ENABLE ROW LEVEL SECURITY;
ALTER TABLE earmark.village_month ENABLE ROW LEVEL SECURITY;
ALTER TABLE earmark.line ENABLE ROW LEVEL SECURITY;
ALTER TABLE earmark.user_township ENABLE ROW LEVEL SECURITY;

CREATE POLICY township_scope ON earmark.village FOR SELECT
	USING (NOT (book_id = ANY ((SELECT earmark.scope_books())::integer[]))
	       OR (book_id, village_id) IN (SELECT s.book_id, s.village_id FROM earmark.scope_villages() s));
CREATE POLICY township_scope ON earmark.village_month FOR SELECT
	USING (NOT (book_id = ANY ((SELECT earmark.scope_books())::integer[]))
	       OR (book_id, village_id) IN (SELECT s.book_id, s.village_id FROM earmark.scope_villages() s));
CREATE POLICY township_scope ON earmark.household FOR SELECT
	USING (NOT (book_id = ANY ((SELECT earmark.scope_books())::integer[]))
	       OR (book_id, village_id) IN (SELECT s.book_id, s.village_id FROM earmark.scope_villages() s));
CREATE POLICY township_scope ON earmark.household_private FOR SELECT
	USING (NOT (book_id = ANY ((SELECT earmark.scope_books())::integer[]))
	       OR (book_id, household_id) IN (SELECT s.book_id, s.household_id FROM earmark.scope_households() s));
CREATE POLICY township_scope ON earmark.household_spend FOR SELECT
	USING (NOT (book_id = ANY ((SELECT earmark.scope_books())::integer[]))
	       OR (book_id, household_id) IN (SELECT s.book_id, s.household_id FROM earmark.scope_households() s));
CREATE POLICY township_scope ON earmark.household_payment FOR SELECT
	USING (NOT (book_id = ANY ((SELECT earmark.scope_books())::integer[]))
	       OR (book_id, household_id) IN (SELECT s.book_id, s.household_id FROM earmark.scope_households() s));
CREATE POLICY township_scope ON earmark.beneficiary FOR SELECT
	USING (NOT (book_id = ANY ((SELECT earmark.scope_books())::integer[]))
	       OR (book_id, household_id) IN (SELECT s.book_id, s.household_id FROM earmark.scope_households() s));
CREATE POLICY township_scope ON earmark.objection FOR SELECT
	USING (NOT (book_id = ANY ((SELECT earmark.scope_books())::integer[]))
	       OR (book_id, household_id) IN (SELECT s.book_id, s.household_id FROM earmark.scope_households() s));
-- A line is the county's unless it names a village or a household; then
-- both must be in scope.
CREATE POLICY township_scope ON earmark.line FOR SELECT
	USING (NOT (book_id = ANY ((SELECT earmark.scope_books())::integer[]))
	       OR ((village_id IS NULL
	            OR (book_id, village_id) IN (SELECT s.book_id, s.village_id FROM earmark.scope_villages() s))
	           AND (household_id IS NULL
	            OR (book_id, household_id) IN (SELECT s.book_id, s.household_id FROM earmark.scope_households() s))));
-- Who is scoped to what: the county office sees all, a township officer their own.
CREATE POLICY township_scope ON earmark.user_township FOR SELECT
	USING (NOT (book_id = ANY ((SELECT earmark.scope_books())::integer[])) OR person = (SELECT earmark.scope_person()));

------------------------------------------------------------------------
-- Writes: one statement-level check per table.
------------------------------------------------------------------------

-- The refusal: the first row outside the actor's townships, up to five in
-- the detail, and the fix.
CREATE FUNCTION earmark.scope_refuse(who name, bad text[], n bigint, towns text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RAISE EXCEPTION '% is outside the townships of ''%'' (T1 township scope)', bad[1], who
		USING ERRCODE = 'EMT01',
		      DETAIL = pg_catalog.format('%s row%s outside %s: %s', n, CASE WHEN n = 1 THEN '' ELSE 's' END,
		                                 towns, pg_catalog.array_to_string(bad, '; ')),
		      HINT = pg_catalog.format('''%s'' works only in township%s %s: leave these rows to the county office, '
		                               'or have the database administrator widen the scope: '
		                               'earmark user scope %s --township CODE[,CODE...]',
		                               who, CASE WHEN pg_catalog.strpos(towns, ',') > 0 THEN 's' ELSE '' END, towns, who);
END
$$;

-- The villages of the books where the person is scoped that lie outside
-- their townships: a few hundred rows at most, hashed once per statement.
CREATE FUNCTION earmark.scope_outside(who name)
RETURNS TABLE (book_id integer, village_id integer, code text, name text)
LANGUAGE sql STABLE ROWS 300 SET search_path = pg_catalog, pg_temp AS $$
	SELECT v.book_id, v.village_id, v.code, v.name
	  FROM earmark.village v
	 WHERE v.book_id IN (SELECT s.book_id FROM earmark.user_township s WHERE s.person = who)
	   AND NOT EXISTS (SELECT 1 FROM earmark.user_township s
	                    WHERE s.person = who AND s.book_id = v.book_id AND s.township = pg_catalog.left(v.code, 9))
$$;

-- Refuses the statement when a row it wrote lies outside the actor's
-- townships.  Each table's rows are listed as (book, village, order, and
-- up to three plain columns that name the row) and joined once to
-- scope_outside: the statement's rows are read once, a hash probe each,
-- and only the rows outside are described (what).
CREATE FUNCTION earmark.scope_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name;
	rows_sql text;
	what text;
	bad text[];
	n bigint;
	towns text;
BEGIN
	-- The county office (scoped nowhere) pays this one index probe: the
	-- person is one of these two (scope_person).
	IF NOT EXISTS (SELECT 1 FROM earmark.user_township s
	                WHERE s.person IN (session_user, pg_catalog.current_setting('role'))) THEN
		RETURN NULL;
	END IF;
	who := earmark.scope_person();
	IF NOT EXISTS (SELECT 1 FROM earmark.user_township s WHERE s.person = who) THEN
		RETURN NULL;
	END IF;
	IF TG_TABLE_NAME = 'village' THEN
		rows_sql := $q$SELECT n.book_id, n.village_id, 0, NULL::text, NULL::text, NULL::text FROM new_rows n$q$;
		what := $q$''$q$;
	ELSIF TG_TABLE_NAME = 'household' AND TG_OP = 'INSERT' THEN
		rows_sql := $q$SELECT n.book_id, n.village_id, 0, n.code, NULL::text, NULL::text FROM new_rows n$q$;
		what := $q$'household ' || x.a || ' in '$q$;
	ELSIF TG_TABLE_NAME = 'household' THEN
		rows_sql := $q$SELECT n.book_id, n.village_id, 0, n.code, NULL::text, NULL::text FROM new_rows n
		               UNION ALL
		               SELECT o.book_id, o.village_id, 0, o.code, NULL::text, NULL::text FROM old_rows o$q$;
		what := $q$'household ' || x.a || ' in '$q$;
	ELSIF TG_TABLE_NAME = 'household_private' THEN
		rows_sql := $q$SELECT n.book_id, h.village_id, 0, h.code, NULL::text, NULL::text
		                 FROM new_rows n JOIN earmark.household h ON h.book_id = n.book_id AND h.household_id = n.household_id$q$;
		what := $q$'household ' || x.a || ' (personal data) in '$q$;
	ELSIF TG_TABLE_NAME = 'beneficiary' THEN
		rows_sql := $q$SELECT n.book_id, h.village_id, 0, h.code, bl.code, NULL::text
		                 FROM new_rows n JOIN earmark.household h ON h.book_id = n.book_id AND h.household_id = n.household_id
		                 JOIN earmark.beneficiary_list bl ON bl.book_id = n.book_id AND bl.list_id = n.list_id$q$;
		what := $q$'household ' || x.a || ' on list ' || x.b || ' in '$q$;
	ELSIF TG_TABLE_NAME = 'objection' THEN
		rows_sql := $q$SELECT n.book_id, h.village_id, 0, h.code, NULL::text, NULL::text
		                 FROM new_rows n JOIN earmark.household h ON h.book_id = n.book_id AND h.household_id = n.household_id$q$;
		what := $q$'an objection for household ' || x.a || ' in '$q$;
	ELSIF TG_TABLE_NAME = 'household_payment' THEN
		rows_sql := $q$SELECT n.book_id, h.village_id, n.line_no, h.code, pb.source, pb.code
		                 FROM new_rows n JOIN earmark.household h ON h.book_id = n.book_id AND h.household_id = n.household_id
		                 JOIN earmark.pay_batch pb ON pb.book_id = n.book_id AND pb.batch_id = n.batch_id$q$;
		what := $q$COALESCE(NULLIF(x.b, ''), 'batch ' || x.c) || ':' || x.ord || ': household ' || x.a || ' in '$q$;
	ELSIF TG_TABLE_NAME = 'line' THEN
		rows_sql := $q$SELECT n.book_id, n.village_id, n.line_no::integer, NULL::text, NULL::text, NULL::text
		                 FROM new_rows n WHERE n.village_id IS NOT NULL
		               UNION ALL
		               SELECT n.book_id, h.village_id, n.line_no::integer, h.code, NULL::text, NULL::text
		                 FROM new_rows n JOIN earmark.household h ON h.book_id = n.book_id AND h.household_id = n.household_id$q$;
		what := $q$'voucher line ' || x.ord || COALESCE(' (household ' || x.a || ')', '') || ' in '$q$;
	ELSIF TG_TABLE_NAME = 'voucher' THEN
		-- review, post, reject: the whole voucher must be the actor's
		rows_sql := $q$SELECT l.book_id, vv.village_id, l.line_no::integer, n.voucher_id::text, NULL::text, NULL::text
		                 FROM new_rows n JOIN old_rows o ON o.book_id = n.book_id AND o.voucher_id = n.voucher_id
		                 JOIN earmark.line l ON l.book_id = n.book_id AND l.voucher_id = n.voucher_id
		                 LEFT JOIN earmark.household h ON h.book_id = l.book_id AND h.household_id = l.household_id
		                 CROSS JOIN LATERAL pg_catalog.unnest(ARRAY[l.village_id, h.village_id]) vv(village_id)
		                WHERE o.status IS DISTINCT FROM n.status AND vv.village_id IS NOT NULL$q$;
		what := $q$'voucher #' || x.a || ' line ' || x.ord || ' in '$q$;
	ELSE
		RAISE EXCEPTION 'scope_guard: no rule for table %', TG_TABLE_NAME;
	END IF;
	EXECUTE 'SELECT (pg_catalog.array_agg(' || what || ' || ''village '' || o.code || '' '' || o.name
	                                      ORDER BY x.ord, x.a))[1:5], pg_catalog.count(*)
	           FROM (' || rows_sql || ') x(book_id, village_id, ord, a, b, c)
	           JOIN earmark.scope_outside($1) o ON o.book_id = x.book_id AND o.village_id = x.village_id'
	   INTO bad, n USING who;
	IF n > 0 THEN
		SELECT pg_catalog.string_agg(DISTINCT s.township, ',') INTO towns
		  FROM earmark.user_township s WHERE s.person = who;
		PERFORM earmark.scope_refuse(who, bad, n, towns);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER village_scope_insert AFTER INSERT ON earmark.village
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION earmark.scope_guard();
CREATE TRIGGER village_scope_update AFTER UPDATE ON earmark.village
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION earmark.scope_guard();
CREATE TRIGGER household_scope_insert AFTER INSERT ON earmark.household
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION earmark.scope_guard();
CREATE TRIGGER household_scope_update AFTER UPDATE ON earmark.household
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION earmark.scope_guard();
CREATE TRIGGER household_private_scope_insert AFTER INSERT ON earmark.household_private
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION earmark.scope_guard();
CREATE TRIGGER household_private_scope_update AFTER UPDATE ON earmark.household_private
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION earmark.scope_guard();
CREATE TRIGGER beneficiary_scope_insert AFTER INSERT ON earmark.beneficiary
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION earmark.scope_guard();
CREATE TRIGGER objection_scope_insert AFTER INSERT ON earmark.objection
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION earmark.scope_guard();
CREATE TRIGGER objection_scope_update AFTER UPDATE ON earmark.objection
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION earmark.scope_guard();
CREATE TRIGGER household_payment_scope AFTER INSERT ON earmark.household_payment
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION earmark.scope_guard();
-- Sorts before lines_guard_insert: the scope is refused before the rules run.
CREATE TRIGGER line_scope_insert AFTER INSERT ON earmark.line
	REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION earmark.scope_guard();
CREATE TRIGGER voucher_scope_status AFTER UPDATE ON earmark.voucher
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION earmark.scope_guard();

-- 到户台账 reads as the owner (for the masked ID number): it refuses a
-- household outside the reader's townships, as the policies would hide it,
-- and is otherwise the ledger as 0015 made it (returns and re-issues shown,
-- carry-forwards left out), called under another name, so that a later
-- change to either is not lost in a copy of the other.
ALTER FUNCTION earmark.household_ledger(text, text, date, date) RENAME TO household_ledger_unscoped;
REVOKE ALL ON FUNCTION earmark.household_ledger_unscoped(text, text, date, date)
	FROM PUBLIC, earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin,
	earmark_auditor;
CREATE FUNCTION earmark.household_ledger(p_book text, p_household text, p_as_of date, p_from date DEFAULT NULL)
RETURNS TABLE (household text, head_name text, id_no text, village text, voucher_date date, number text,
               fund text, year smallint, project text, category text, amount_fen bigint, memo text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	b integer := earmark.report_book(p_book, p_as_of, p_from);
	h integer := earmark.id_of(b, 'household', p_household);
	vcode text;
BEGIN
	IF b = ANY (earmark.scope_books())
	   AND NOT EXISTS (SELECT 1 FROM earmark.scope_households() s WHERE s.book_id = b AND s.household_id = h) THEN
		SELECT vg.code INTO vcode FROM earmark.household hh
		  JOIN earmark.village vg ON vg.book_id = hh.book_id AND vg.village_id = hh.village_id
		 WHERE hh.book_id = b AND hh.household_id = h;
		RAISE EXCEPTION 'household % in village % is outside the townships of ''%'' (T1 township scope)',
			p_household, vcode, earmark.scope_person()
			USING ERRCODE = 'EMT01',
			      HINT = 'a township officer reads only their own townships'' households; ask the county office';
	END IF;
	RETURN QUERY SELECT * FROM earmark.household_ledger_unscoped(p_book, p_household, p_as_of, p_from);
END
$$;
REVOKE ALL ON FUNCTION earmark.household_ledger(text, text, date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION earmark.household_ledger(text, text, date, date)
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin,
	earmark_auditor;

------------------------------------------------------------------------
-- Grants: the office evaluates the policies; nobody but the owner sets a scope.
------------------------------------------------------------------------

REVOKE ALL ON earmark.user_township FROM PUBLIC;
GRANT SELECT ON earmark.user_township
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin, earmark_auditor;
REVOKE ALL ON FUNCTION earmark.scope_person(), earmark.scope_books(), earmark.scope_villages(),
	earmark.scope_households(), earmark.user_scope(text, name, text[]),
	earmark.scope_refuse(name, text[], bigint, text), earmark.scope_outside(name), earmark.scope_guard() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION earmark.scope_person(), earmark.scope_books(), earmark.scope_villages(),
	earmark.scope_households()
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin, earmark_auditor;
