-- 0014 public notices (公告公示, DESIGN section 7) and what the public
-- board may read.
--
-- A notice is generated here, from the ledger and master data, never
-- typed: earmark.notice_content builds its canonical content, a UTF-8 text
-- of tab-separated records (one per line, fields escaped \\ \t \n \r), and
-- earmark.notice_publish stores exactly that text with its SHA-256 digest
-- and its notice period.  Every rendering of a notice (HTML, PDF, text,
-- XML: reports/notice.c) is made from the content alone, so the digest
-- printed on paper identifies the published row and the board can check it.
-- The content holds personal data only masked (H4): names through
-- earmark.mask_name, no ID numbers, bank cards or phones at all.
--
-- A plan notice (事前公示) may publish beneficiary lists with it: the same
-- period is written to the lists (through earmark.list_publish), which is
-- what the payment gate H3 reads, and objections against a line of the
-- notice are objections against its list (earmark.objection_record): one
-- set of tables, read by one gate.
--
-- earmark_public reads the view earmark.public_notice (published notices,
-- owner's rights) and nothing else: no table, no function.

-- Who publishes a book's notices and the local supervision hotline
-- (printed beside the national 12317).
CREATE TABLE earmark.notice_contact (
	book_id   integer PRIMARY KEY REFERENCES earmark.book,
	publisher text NOT NULL CHECK (publisher <> '' AND pg_catalog.length(publisher) <= 100),
	hotline   text NOT NULL CHECK (hotline ~ '^[0-9][0-9-]{4,19}$'),
	set_by    name NOT NULL,
	set_at    timestamptz NOT NULL DEFAULT pg_catalog.now()
);

CREATE TABLE earmark.notice (
	book_id      integer NOT NULL REFERENCES earmark.book,
	notice_id    integer GENERATED ALWAYS AS IDENTITY,
	kind         text NOT NULL CHECK (kind IN ('plan', 'result')),         -- 事前公示 | 事后公告
	scope        text NOT NULL CHECK (scope IN ('village', 'project', 'county')),
	scope_code   text NOT NULL,          -- village code, project code or book code
	title        text NOT NULL CHECK (title <> ''),
	township     text NOT NULL DEFAULT '', -- the board's index
	village      text NOT NULL DEFAULT '',
	content      text NOT NULL,
	digest       text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
	published_on date NOT NULL,
	notice_days  smallint NOT NULL CHECK (notice_days >= 10),               -- H3
	published_by name NOT NULL,
	published_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (book_id, notice_id),
	UNIQUE (digest),
	CHECK (digest = pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(content, 'UTF8')), 'hex'))
);
CREATE INDEX notice_scope ON earmark.notice (book_id, scope, scope_code, kind, published_on);

-- The beneficiary lists a plan notice published.
CREATE TABLE earmark.notice_list (
	book_id   integer NOT NULL,
	notice_id integer NOT NULL,
	list_id   integer NOT NULL,
	PRIMARY KEY (book_id, notice_id, list_id),
	FOREIGN KEY (book_id, notice_id) REFERENCES earmark.notice,
	FOREIGN KEY (book_id, list_id) REFERENCES earmark.beneficiary_list
);

-- A published notice is what people read on the board: it never changes.
CREATE FUNCTION earmark.notice_guard() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RAISE EXCEPTION 'a published notice cannot change (H3)' USING ERRCODE = 'EMH03',
		HINT = 'publish a new notice; the old one stays on the board';
END
$$;
CREATE TRIGGER notice_guard BEFORE UPDATE OR DELETE ON earmark.notice
	FOR EACH ROW EXECUTE FUNCTION earmark.notice_guard();
CREATE TRIGGER notice_list_guard BEFORE UPDATE OR DELETE ON earmark.notice_list
	FOR EACH ROW EXECUTE FUNCTION earmark.notice_guard();
CREATE TRIGGER notice_no_truncate BEFORE TRUNCATE ON earmark.notice
	FOR EACH STATEMENT EXECUTE FUNCTION earmark.notice_guard();

-- One record of the canonical content: fields joined by tabs, each escaped.
CREATE FUNCTION earmark.notice_row(VARIADIC f text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
	SELECT pg_catalog.string_agg(
	         pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
	           COALESCE(x, ''), E'\\', E'\\\\'), E'\t', E'\\t'), E'\n', E'\\n'), E'\r', E'\\r'),
	         E'\t' ORDER BY i) || E'\n'
	  FROM pg_catalog.unnest(f) WITH ORDINALITY AS u(x, i)
$$;

-- The projects a notice discloses: approved (P1) with a budget (P2) by the
-- first day of the notice.
CREATE FUNCTION earmark.notice_projects(b integer, p_scope text, p_code text, p_from date)
RETURNS TABLE (project_id integer)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT p.project_id FROM earmark.project p
	 WHERE p.book_id = b
	   AND (p_scope = 'county'
	        OR p_scope = 'project' AND p.code = p_code
	        OR p_scope = 'village' AND EXISTS (
	             SELECT 1 FROM earmark.project_village pv JOIN earmark.village v
	                      ON v.book_id = pv.book_id AND v.village_id = pv.village_id
	              WHERE pv.book_id = b AND pv.project_id = p.project_id AND v.code = p_code))
	   AND EXISTS (SELECT 1 FROM earmark.project_event e WHERE e.book_id = b AND e.project_id = p.project_id
	                  AND e.kind = 'approval' AND e.event_date <= p_from)
	   AND EXISTS (SELECT 1 FROM earmark.project_budget pb WHERE pb.book_id = b AND pb.project_id = p.project_id)
$$;

-- The canonical content of a notice of p_kind ('plan' | 'result') for a
-- village, project or the county (the book), disclosed from p_from for
-- p_days days (NULL: the book's notice_days).  Runs with the caller's
-- rights: an office role that reads the ledger.
CREATE FUNCTION earmark.notice_content(p_book text, p_kind text, p_scope text, p_code text,
                                       p_from date, p_days integer)
RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	b integer := earmark.book_of(p_book);
	bk earmark.book;
	least_days integer := GREATEST(earmark.setting(b, 'notice_days'), 10);
	days integer := COALESCE(p_days, least_days);
	c earmark.notice_contact;
	scope_name text;
	township text := '';
	county text := '';
	out text;
	pid integer;
	r record;
	n integer;
BEGIN
	IF p_kind IS NULL OR p_kind NOT IN ('plan', 'result') THEN
		RAISE EXCEPTION 'unknown notice kind ''%''', p_kind USING ERRCODE = 'EMI01',
			HINT = 'plan (事前公示) or result (事后公告)';
	END IF;
	IF p_from IS NULL THEN
		RAISE EXCEPTION 'a notice needs its first day' USING ERRCODE = 'EMI01';
	END IF;
	IF days < least_days THEN
		RAISE EXCEPTION 'a notice period of % days is too short (H3)', days USING ERRCODE = 'EMH03',
			DETAIL = pg_catalog.format('the notice period is at least %s days', least_days),
			HINT = '公示期不少于10天: publish for 10 days or more';
	END IF;
	SELECT * INTO bk FROM earmark.book WHERE book_id = b;
	SELECT * INTO c FROM earmark.notice_contact WHERE book_id = b;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'book ''%'' has no publisher and local supervision hotline for its notices', p_book
			USING ERRCODE = 'EMR01',
			HINT = 'an administrator sets them: earmark notice contact --publisher NAME --hotline NUMBER';
	END IF;
	CASE p_scope
	WHEN 'village' THEN
		SELECT v.name, v.township, v.county INTO scope_name, township, county
		  FROM earmark.village v WHERE v.book_id = b AND v.code = p_code;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'unknown village ''%''', p_code USING ERRCODE = 'EMR01';
		END IF;
	WHEN 'project' THEN
		SELECT p.name INTO scope_name FROM earmark.project p WHERE p.book_id = b AND p.code = p_code;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'unknown project ''%''', p_code USING ERRCODE = 'EMR01';
		END IF;
		SELECT pg_catalog.min(v.township), pg_catalog.min(v.county) INTO township, county
		  FROM earmark.project_village pv JOIN earmark.village v ON v.book_id = pv.book_id AND v.village_id = pv.village_id
		  JOIN earmark.project p ON p.book_id = pv.book_id AND p.project_id = pv.project_id
		 WHERE pv.book_id = b AND p.code = p_code
		HAVING pg_catalog.count(DISTINCT v.township) = 1;
		IF NOT EXISTS (SELECT 1 FROM earmark.notice_projects(b, p_scope, p_code, p_from)) THEN
			RAISE EXCEPTION 'project ''%'' has no approved budget on % (P1)', p_code, p_from
				USING ERRCODE = 'EMP01',
				DETAIL = 'a notice discloses a project approved (立项批复) with a budget per fund',
				HINT = 'record the approval (earmark project event CODE approval) and the budget first';
		END IF;
	WHEN 'county' THEN
		IF p_code IS DISTINCT FROM p_book THEN
			RAISE EXCEPTION 'a county notice is for the book itself, not ''%''', p_code USING ERRCODE = 'EMI01';
		END IF;
		scope_name := bk.name;
		SELECT pg_catalog.min(v.county) INTO county FROM earmark.village v WHERE v.book_id = b HAVING pg_catalog.count(DISTINCT v.county) = 1;
	ELSE
		RAISE EXCEPTION 'unknown notice scope ''%''', p_scope USING ERRCODE = 'EMI01',
			HINT = 'village, project or county';
	END CASE;
	IF NOT EXISTS (SELECT 1 FROM earmark.notice_projects(b, p_scope, p_code, p_from)) THEN
		RAISE EXCEPTION 'no project with an approved budget to disclose in % ''%'' on % (P1)', p_scope, p_code, p_from
			USING ERRCODE = 'EMP01',
			HINT = 'a notice discloses projects approved (立项批复) with a budget per fund';
	END IF;

	out := earmark.notice_row('earmark-notice', '1')
	    || earmark.notice_row('book', bk.code, bk.name)
	    || earmark.notice_row('kind', p_kind, CASE p_kind WHEN 'plan' THEN '事前公示' ELSE '事后公告' END)
	    || earmark.notice_row('scope', p_scope, p_code, scope_name, COALESCE(township, ''), COALESCE(county, ''))
	    || earmark.notice_row('title', scope_name || CASE p_kind WHEN 'plan' THEN '财政衔接资金项目计划及受益对象公示'
	                                                           ELSE '财政衔接资金项目实施结果公告' END)
	    || earmark.notice_row('period', p_from::text, (p_from + days - 1)::text, days::text)
	    || earmark.notice_row('publisher', c.publisher, p_from::text)
	    || earmark.notice_row('hotline', '12317', c.hotline)
	    || (SELECT earmark.notice_row('chain', h.seq::text, pg_catalog.encode(h.hash, 'hex'))
	          FROM earmark.chain_head h WHERE h.book_id = b
	        UNION ALL SELECT earmark.notice_row('chain', '0', pg_catalog.repeat('0', 64))
	        LIMIT 1);

	FOR pid IN SELECT np.project_id FROM earmark.notice_projects(b, p_scope, p_code, p_from) np
	             JOIN earmark.project p ON p.book_id = b AND p.project_id = np.project_id ORDER BY p.code
	LOOP
		SELECT earmark.notice_row('project', p.code, p.name, COALESCE(uc.name, ''), p.scale, p.subsidy_standard,
		                          p.implementing_unit, p.responsible, p.contractor, p.benefit_mechanism,
		                          p.planned_start::text, p.planned_end::text) || x.places || x.funds || x.targets AS txt
		  INTO r
		  FROM earmark.project p
		  LEFT JOIN earmark.use_category uc ON uc.book_id = p.book_id AND uc.category_id = p.category_id
		  CROSS JOIN LATERAL (SELECT
		      (SELECT COALESCE(pg_catalog.string_agg(earmark.notice_row('place', p.code, v.code, v.name, v.township), '' ORDER BY v.code), '')
		         FROM earmark.project_village pv JOIN earmark.village v ON v.book_id = pv.book_id AND v.village_id = pv.village_id
		        WHERE pv.book_id = b AND pv.project_id = pid) AS places,
		      (SELECT COALESCE(pg_catalog.string_agg(earmark.notice_row('fund', p.code, f.code, f.name, f.level, f.doc_no,
		                                               earmark.budget_on(b, pid, f.fund_id, p_from)::text), '' ORDER BY f.code), '')
		         FROM earmark.project_budget pb JOIN earmark.fund f ON f.book_id = pb.book_id AND f.fund_id = pb.fund_id
		        WHERE pb.book_id = b AND pb.project_id = pid) AS funds,
		      (SELECT COALESCE(pg_catalog.string_agg(earmark.notice_row('target', p.code, t.target_no::text, t.kind, t.indicator, t.value),
		                                             '' ORDER BY t.target_no), '')
		         FROM earmark.project_target t WHERE t.book_id = b AND t.project_id = pid) AS targets) x
		 WHERE p.book_id = b AND p.project_id = pid;
		out := out || r.txt;

		-- completion and amount spent (事后: what was done; 事前: where it stands)
		out := out || (SELECT earmark.notice_row('progress', p.code,
		          (SELECT e.event_date::text FROM earmark.project_event e WHERE e.book_id = b AND e.project_id = pid AND e.kind = 'approval'),
		          (SELECT e.doc_no FROM earmark.project_event e WHERE e.book_id = b AND e.project_id = pid AND e.kind = 'approval'),
		          (SELECT e.event_date::text FROM earmark.project_event e WHERE e.book_id = b AND e.project_id = pid AND e.kind = 'start'),
		          (SELECT pg_catalog.rtrim(pg_catalog.rtrim(e.progress_pct::text, '0'), '.') FROM earmark.project_event e
		            WHERE e.book_id = b AND e.project_id = pid AND e.kind IN ('progress', 'inspection')
		            ORDER BY e.event_date DESC, e.event_id DESC LIMIT 1),
		          (SELECT e.event_date::text FROM earmark.project_event e WHERE e.book_id = b AND e.project_id = pid AND e.kind = 'acceptance'),
		          (SELECT e.doc_no FROM earmark.project_event e WHERE e.book_id = b AND e.project_id = pid AND e.kind = 'acceptance'),
		          (SELECT COALESCE(pg_catalog.sum(s.spent_fen), 0)::text FROM earmark.project_spend s
		            WHERE s.book_id = b AND s.project_id = pid))
		  FROM earmark.project p WHERE p.book_id = b AND p.project_id = pid);

		-- beneficiaries, masked (H4): the lists before, the payments after
		IF p_kind = 'plan' THEN
			SELECT COALESCE(pg_catalog.string_agg(earmark.notice_row('beneficiary', p.code, l.code, h.code,
			                  earmark.mask_name(h.head_name), v.name, h.members::text, h.status, be.item, be.standard,
			                  be.amount_fen::text), '' ORDER BY l.code, h.code, be.item), '') AS txt,
			       pg_catalog.count(DISTINCT h.household_id) AS households, COALESCE(pg_catalog.sum(be.amount_fen), 0) AS amount
			  INTO r
			  FROM earmark.beneficiary_list l
			  JOIN earmark.project p ON p.book_id = l.book_id AND p.project_id = l.project_id
			  JOIN earmark.beneficiary be ON be.book_id = l.book_id AND be.list_id = l.list_id
			  JOIN earmark.household h ON h.book_id = be.book_id AND h.household_id = be.household_id
			  JOIN earmark.village v ON v.book_id = h.book_id AND v.village_id = h.village_id
			 WHERE l.book_id = b AND l.project_id = pid AND (p_scope <> 'village' OR v.code = p_code);
		ELSE
			SELECT COALESCE(pg_catalog.string_agg(earmark.notice_row('beneficiary', p.code, l.code, h.code,
			                  earmark.mask_name(h.head_name), v.name, h.members::text, h.status, hp.item, '',
			                  hp.amount_fen::text), '' ORDER BY l.code, h.code, hp.item), '') AS txt,
			       pg_catalog.count(DISTINCT h.household_id) AS households, COALESCE(pg_catalog.sum(hp.amount_fen), 0) AS amount
			  INTO r
			  FROM earmark.household_payment hp
			  JOIN earmark.beneficiary_list l ON l.book_id = hp.book_id AND l.list_id = hp.list_id
			  JOIN earmark.project p ON p.book_id = hp.book_id AND p.project_id = hp.project_id
			  JOIN earmark.household h ON h.book_id = hp.book_id AND h.household_id = hp.household_id
			  JOIN earmark.village v ON v.book_id = h.book_id AND v.village_id = h.village_id
			 WHERE hp.book_id = b AND hp.project_id = pid AND hp.status <> 'returned'
			   AND (p_scope <> 'village' OR v.code = p_code);
		END IF;
		out := out || r.txt
		    || earmark.notice_row('total', (SELECT code FROM earmark.project WHERE book_id = b AND project_id = pid),
		                          r.households::text, r.amount::text);
	END LOOP;
	RETURN out || earmark.notice_row('end');
END
$$;

-- Sets who publishes the book's notices and its local hotline.
CREATE FUNCTION earmark.notice_contact_set(p_book text, p_publisher text, p_hotline text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
BEGIN
	PERFORM earmark.require_role(who, 'earmark_admin', 'set the publisher of notices');
	INSERT INTO earmark.notice_contact (book_id, publisher, hotline, set_by)
	VALUES (b, p_publisher, p_hotline, who)
	ON CONFLICT (book_id) DO UPDATE SET publisher = EXCLUDED.publisher, hotline = EXCLUDED.hotline,
	                                    set_by = EXCLUDED.set_by, set_at = pg_catalog.now();
EXCEPTION WHEN check_violation THEN
	RAISE EXCEPTION 'publisher or hotline refused' USING ERRCODE = 'EMI01',
		DETAIL = 'publisher: 1 to 100 characters; hotline: 5 to 20 digits or ''-'', e.g. 0916-1234567';
END
$$;

-- Publishes a notice: its content made here, from p_from (not in the
-- future) for p_days days (NULL: the book's notice_days; never fewer), and
-- with it the beneficiary lists named in p_lists ('L1,L2'), which must be
-- lists of the notice's projects and not yet published: they get the same
-- period, and H3 pays them only after it.  Returns 'notice_id digest'.
CREATE FUNCTION earmark.notice_publish(p_book text, p_kind text, p_scope text, p_code text,
                                       p_from date, p_days integer, p_lists text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	days integer := COALESCE(p_days, GREATEST(earmark.setting(b, 'notice_days'), 10));
	content text;
	dig text;
	n integer;
	lc text;
	l earmark.beneficiary_list;
	twp text := '';
	vil text := '';
BEGIN
	PERFORM earmark.require_role(who, 'earmark_admin', 'publish notices');
	IF p_from > CURRENT_DATE THEN
		RAISE EXCEPTION 'publication date % is in the future', p_from USING ERRCODE = 'EMD07';
	END IF;
	content := earmark.notice_content(p_book, p_kind, p_scope, p_code, p_from, days);
	dig := pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(content, 'UTF8')), 'hex');
	SELECT notice_id INTO n FROM earmark.notice WHERE digest = dig;
	IF FOUND THEN
		RETURN n || ' ' || dig;   -- the same notice again: nothing changed since
	END IF;
	IF p_scope = 'village' THEN
		SELECT v.township, v.name INTO twp, vil FROM earmark.village v WHERE v.book_id = b AND v.code = p_code;
	ELSIF p_scope = 'project' THEN
		SELECT pg_catalog.min(v.township) INTO twp
		  FROM earmark.project_village pv JOIN earmark.village v ON v.book_id = pv.book_id AND v.village_id = pv.village_id
		  JOIN earmark.project p ON p.book_id = pv.book_id AND p.project_id = pv.project_id
		 WHERE pv.book_id = b AND p.code = p_code HAVING pg_catalog.count(DISTINCT v.township) = 1;
	END IF;
	INSERT INTO earmark.notice (book_id, kind, scope, scope_code, title, township, village, content, digest,
	                            published_on, notice_days, published_by)
	VALUES (b, p_kind, p_scope, p_code,
	        pg_catalog.split_part(pg_catalog.split_part(content, E'\ntitle\t', 2), E'\n', 1),
	        COALESCE(twp, ''), COALESCE(vil, ''), content, dig, p_from, days, who)
	RETURNING notice_id INTO n;
	FOREACH lc IN ARRAY COALESCE(pg_catalog.string_to_array(NULLIF(p_lists, ''), ','), '{}') LOOP
		lc := pg_catalog.btrim(lc);
		SELECT * INTO l FROM earmark.beneficiary_list WHERE book_id = b AND code = lc;
		IF NOT FOUND THEN
			RAISE EXCEPTION 'unknown list ''%''', lc USING ERRCODE = 'EMR01';
		END IF;
		IF p_kind <> 'plan' THEN
			RAISE EXCEPTION 'list ''%'' is published with a plan notice (事前公示), not a result', lc
				USING ERRCODE = 'EMH03';
		END IF;
		IF NOT EXISTS (SELECT 1 FROM earmark.notice_projects(b, p_scope, p_code, p_from) np WHERE np.project_id = l.project_id) THEN
			RAISE EXCEPTION 'list ''%'' is not a list of a project this notice discloses', lc USING ERRCODE = 'EMH03',
				HINT = 'publish it with a notice of its project or of a village the project covers';
		END IF;
		-- A list is disclosed whole: a village's notice may publish it only when
		-- every household on it is of that village.
		IF p_scope = 'village' AND EXISTS (
		       SELECT 1 FROM earmark.beneficiary be
		         JOIN earmark.household h ON h.book_id = be.book_id AND h.household_id = be.household_id
		         JOIN earmark.village v ON v.book_id = h.book_id AND v.village_id = h.village_id
		        WHERE be.book_id = b AND be.list_id = l.list_id AND v.code <> p_code) THEN
			RAISE EXCEPTION 'list ''%'' has households outside village % and would not be disclosed whole (H3)', lc, p_code
				USING ERRCODE = 'EMH03',
				HINT = 'publish it with the notice of its project: earmark notice publish --project CODE --list LIST';
		END IF;
		PERFORM earmark.list_publish(p_book, lc, p_from, days);
		INSERT INTO earmark.notice_list (book_id, notice_id, list_id) VALUES (b, n, l.list_id);
	END LOOP;
	RETURN n || ' ' || dig;
END
$$;

-- '#12' or a full digest to the notice; NULL when there is none.
CREATE FUNCTION earmark.notice_find(b integer, p_ref text) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT notice_id FROM earmark.notice
	 WHERE book_id = b
	   AND CASE WHEN p_ref ~ '^#[0-9]{1,9}$' THEN notice_id = pg_catalog.substr(p_ref, 2)::integer
	            ELSE digest = pg_catalog.lower(p_ref) END
$$;

-- An objection against a household's line of a published plan notice:
-- recorded against the list the notice published (H3 reads it there).
CREATE FUNCTION earmark.notice_object(p_book text, p_notice text, p_household text, p_date date, p_reason text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	n integer := earmark.notice_find(b, p_notice);
	lc text;
BEGIN
	IF NOT (pg_catalog.pg_has_role(who, 'earmark_admin', 'USAGE') OR pg_catalog.pg_has_role(who, 'earmark_clerk', 'USAGE')) THEN
		PERFORM earmark.require_role(who, 'earmark_clerk', 'record objections');
	END IF;
	PERFORM earmark.id_of(b, 'household', p_household);   -- EMR01 for an unknown household
	IF n IS NULL THEN
		RAISE EXCEPTION 'no published notice ''%''', p_notice USING ERRCODE = 'EMR01',
			HINT = 'name the notice by #number or by the digest printed on it';
	END IF;
	SELECT l.code INTO lc FROM earmark.notice_list nl
	  JOIN earmark.beneficiary_list l ON l.book_id = nl.book_id AND l.list_id = nl.list_id
	  JOIN earmark.beneficiary be ON be.book_id = l.book_id AND be.list_id = l.list_id
	  JOIN earmark.household h ON h.book_id = be.book_id AND h.household_id = be.household_id
	 WHERE nl.book_id = b AND nl.notice_id = n AND h.code = p_household
	 ORDER BY l.code LIMIT 1;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'household ''%'' is not on the beneficiary list of notice #% (H3)', p_household, n
			USING ERRCODE = 'EMH03',
			HINT = 'an objection is raised against a line of a published list';
	END IF;
	RETURN earmark.objection_record(p_book, lc, p_household, p_date, p_reason);
END
$$;

-- What the public board reads: published notices, nothing else.  A plain
-- view, so it reads with its owner's rights and earmark_public needs no
-- right on any table.
CREATE VIEW earmark.public_notice AS
SELECT n.notice_id, bk.code AS book, n.kind, n.scope, n.scope_code, n.title, n.township, n.village,
       n.published_on, n.notice_days, n.digest, n.content
  FROM earmark.notice n JOIN earmark.book bk ON bk.book_id = n.book_id
 WHERE n.published_on <= CURRENT_DATE;

INSERT INTO earmark.constraint_message (name, message) VALUES
	('notice_contact_hotline_check', 'hotline: 5 to 20 digits or ''-'''),
	('notice_contact_publisher_check', 'publisher: 1 to 100 characters');

GRANT SELECT ON earmark.notice, earmark.notice_list, earmark.notice_contact, earmark.public_notice
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin, earmark_auditor;
GRANT SELECT ON earmark.public_notice TO earmark_public;
GRANT EXECUTE ON FUNCTION earmark.notice_content(text, text, text, text, date, integer),
	earmark.notice_row(text[]), earmark.notice_projects(integer, text, text, date),
	earmark.notice_find(integer, text)
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin, earmark_auditor;
GRANT EXECUTE ON FUNCTION earmark.notice_publish(text, text, text, text, date, integer, text),
	earmark.notice_contact_set(text, text, text)
	TO earmark_admin;
GRANT EXECUTE ON FUNCTION earmark.notice_object(text, text, text, date, text) TO earmark_clerk, earmark_admin;
