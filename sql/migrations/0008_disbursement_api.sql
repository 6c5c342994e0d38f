-- 0008 the functions of disbursement that application roles call: master
-- data of every kind, project events and budget revisions, beneficiary
-- lists with their disclosure and objections, household payment batches
-- and their pain.001 rows, reimbursement claims (报账) and interest.
--
-- As in 0003: SECURITY DEFINER, codes in and codes out, the rules in the
-- triggers of 0002 and 0007.  EXECUTE per group role in 0009.

-- What a violated constraint means, in the words of the file's columns:
-- a table now, so that each migration adds its own rows.
CREATE TABLE earmark.constraint_message (
	name    text PRIMARY KEY,
	message text NOT NULL
);
INSERT INTO earmark.constraint_message (name, message) VALUES
	('use_category_book_id_code_key', 'the code is already in use'),
	('use_category_name_check', 'name is empty'),
	('use_category_code_check', 'code: 1 to 32 letters, digits, ''_'', ''.'' or ''-'''),
	('dedicated_account_book_id_account_no_key', 'the account number is already registered'),
	('dedicated_account_account_no_check', 'account_no: 6 to 34 digits or letters'),
	('dedicated_account_cnaps_check', 'cnaps: the bank''s 12-digit CNAPS code'),
	('dedicated_account_bank_name_check', 'bank_name is empty'),
	('fund_book_id_code_key', 'the fund code is already in use'),
	('fund_code_check', 'code: 1 to 32 letters, digits, ''_'', ''.'' or ''-'''),
	('fund_level_check', 'level: one of central, province, city, county'),
	('fund_year_check', 'year: 2000 to 2100'),
	('fund_amount_fen_check', 'amount may not be negative'),
	('fund_name_check', 'name is empty'),
	('village_book_id_code_key', 'the village code is already registered'),
	('village_code_check', 'code: the 12-digit 统计用区划代码'),
	('village_name_check', 'name is empty'),
	('household_book_id_code_key', 'the household code is already registered'),
	('household_code_check', 'code: 1 to 32 letters, digits, ''_'', ''.'' or ''-'''),
	('household_head_name_check', 'head_name is empty'),
	('household_members_check', 'members: 1 to 99'),
	('household_status_check', 'status: one of 脱贫户, 监测户, 一般户'),
	('household_status_from_check', 'status_from: a year'),
	('household_status_to_check', 'status_to: a year'),
	('household_status_years', 'status_to is before status_from'),
	('household_private_id_no_check', 'id_no: 17 digits and a check digit 0-9 or X'),
	('household_private_bank_card_check', 'bank_card: 12 to 30 digits'),
	('household_private_bank_cnaps_check', 'bank_cnaps: the bank''s 12-digit CNAPS code'),
	('household_private_phone_check', 'phone: 5 to 20 digits'),
	('household_private_check', 'bank_card and bank_cnaps go together'),
	('household_private_book_id_id_no_key', 'the ID number is already registered for another household (H1)'),
	('project_book_id_code_key', 'the project code is already in use'),
	('project_code_check', 'code: 1 to 32 letters, digits, ''_'', ''.'' or ''-'''),
	('project_name_check', 'name is empty'),
	('project_schedule', 'planned_end is before planned_start'),
	('project_village_pkey', 'the village is named twice'),
	('project_target_pkey', 'the target number is used twice for the project'),
	('project_target_kind_check', 'kind: one of 产出, 效益, 满意度'),
	('project_target_indicator_check', 'indicator is empty'),
	('project_target_value_check', 'value is empty'),
	('project_budget_pkey', 'the project already has a budget from this fund; change it with a revision'),
	('project_budget_original_fen_check', 'amount must be above zero'),
	('budget_revision_amount_fen_check', 'amount may not be negative'),
	('budget_revision_doc_no_check', 'doc_no: the document approving the change'),
	('project_event_once', 'the project already has this event'),
	('project_event_kind_check', 'kind: one of approval, start, progress, inspection, acceptance'),
	('project_event_check', 'progress and inspection events need progress (0-100), the others none'),
	('project_event_check1', 'approval and acceptance need their document number'),
	('project_event_progress_pct_check', 'progress: 0 to 100'),
	('negative_item_pkey', 'the category is listed twice in this version'),
	('negative_list_book_id_valid_from_key', 'another version starts on the same day'),
	('household_cap_pkey', 'a cap for this category and year is already set'),
	('household_cap_cap_fen_check', 'cap must be above zero'),
	('book_setting_key_check', 'key: advance_share_bp, retention_share_bp or notice_days'),
	('book_setting_check', 'notice_days: at least 10 (H3)'),
	('book_setting_check1', 'shares in basis points: 0 to 10000'),
	('fund_category_pkey', 'the category is named twice'),
	('beneficiary_pkey', 'the household is listed twice for the same item'),
	('beneficiary_amount_fen_check', 'amount must be above zero'),
	('beneficiary_check', 'amount is above the recorded cost (H2)'),
	('beneficiary_cost_fen_check', 'cost must be above zero');

CREATE OR REPLACE FUNCTION earmark.constraint_text(con text) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT message FROM earmark.constraint_message WHERE name = con
$$;

-- Codes to ids, refusing unknown ones by name.
CREATE FUNCTION earmark.id_of(b integer, p_kind text, p_code text) RETURNS integer
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	id integer;
BEGIN
	CASE p_kind
	WHEN 'fund' THEN SELECT fund_id INTO id FROM earmark.fund WHERE book_id = b AND code = p_code;
	WHEN 'project' THEN SELECT project_id INTO id FROM earmark.project WHERE book_id = b AND code = p_code;
	WHEN 'village' THEN SELECT village_id INTO id FROM earmark.village WHERE book_id = b AND code = p_code;
	WHEN 'household' THEN SELECT household_id INTO id FROM earmark.household WHERE book_id = b AND code = p_code;
	WHEN 'use category' THEN SELECT category_id INTO id FROM earmark.use_category WHERE book_id = b AND code = p_code;
	WHEN 'dedicated account' THEN SELECT bank_account_id INTO id FROM earmark.dedicated_account WHERE book_id = b AND account_no = p_code;
	WHEN 'list' THEN SELECT list_id INTO id FROM earmark.beneficiary_list WHERE book_id = b AND code = p_code;
	END CASE;
	IF id IS NULL THEN
		RAISE EXCEPTION 'unknown % ''%''', p_kind, COALESCE(p_code, '') USING ERRCODE = 'EMR01';
	END IF;
	RETURN id;
END
$$;

-- A list cell ('CY;JC', 'CY、JC', 'CY, JC') as its items.
CREATE FUNCTION earmark.split_list(s text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT DISTINCT x FROM pg_catalog.regexp_split_to_table(pg_catalog.btrim(COALESCE(s, '')), '\s*[;,、，；]\s*|\s+') x
	 WHERE x <> ''
$$;

-- One row of master data (see master_import).
CREATE FUNCTION earmark.master_row(b integer, who name, p_kind text, r jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	id integer;
	pid integer;
	c text;
BEGIN
	CASE p_kind
	WHEN 'category' THEN
		INSERT INTO earmark.use_category (book_id, code, name) VALUES (b, r->>'code', r->>'name');
	WHEN 'bank_account' THEN
		INSERT INTO earmark.dedicated_account (book_id, account_no, bank_name, cnaps, holder)
		VALUES (b, r->>'account_no', r->>'bank_name', r->>'cnaps', COALESCE(r->>'holder', ''));
	WHEN 'fund' THEN
		INSERT INTO earmark.fund (book_id, code, name, level, fund_type, year, doc_no, amount_fen,
		                          bank_account_id, received_on)
		VALUES (b, r->>'code', r->>'name', r->>'level', COALESCE(r->>'type', ''), (r->>'year')::smallint,
		        COALESCE(r->>'doc_no', ''), (r->>'amount_fen')::bigint,
		        earmark.id_of(b, 'dedicated account', r->>'bank_account'), NULLIF(r->>'received_on', '')::date)
		RETURNING fund_id INTO id;
		FOR c IN SELECT earmark.split_list(r->>'categories') LOOP
			INSERT INTO earmark.fund_category VALUES (b, id, earmark.id_of(b, 'use category', c));
		END LOOP;
	WHEN 'village' THEN
		INSERT INTO earmark.village (book_id, code, name, township, county)
		VALUES (b, r->>'code', r->>'name', COALESCE(r->>'township', ''), COALESCE(r->>'county', ''));
	WHEN 'household' THEN
		INSERT INTO earmark.household (book_id, code, village_id, head_name, members, status,
		                               status_from, status_to)
		VALUES (b, r->>'code', earmark.id_of(b, 'village', r->>'village'), r->>'head_name',
		        COALESCE(NULLIF(r->>'members', '')::smallint, 1), COALESCE(NULLIF(r->>'status', ''), '一般户'),
		        NULLIF(r->>'status_from', '')::smallint, NULLIF(r->>'status_to', '')::smallint)
		RETURNING household_id INTO id;
		IF COALESCE(r->>'id_no', '') <> '' THEN
			INSERT INTO earmark.household_private (book_id, household_id, id_no, bank_card, bank_cnaps, phone)
			VALUES (b, id, r->>'id_no', COALESCE(r->>'bank_card', ''), COALESCE(r->>'bank_cnaps', ''),
			        COALESCE(r->>'phone', ''));
		END IF;
	WHEN 'project' THEN
		INSERT INTO earmark.project (book_id, code, name, category_id, scale, implementing_unit,
		                             responsible, contractor, subsidy_standard, benefit_mechanism,
		                             planned_start, planned_end)
		VALUES (b, r->>'code', r->>'name',
		        CASE WHEN COALESCE(r->>'category', '') <> '' THEN earmark.id_of(b, 'use category', r->>'category') END,
		        COALESCE(r->>'scale', ''), COALESCE(r->>'implementing_unit', ''),
		        COALESCE(r->>'responsible', ''), COALESCE(r->>'contractor', ''),
		        COALESCE(r->>'subsidy_standard', ''), COALESCE(r->>'benefit_mechanism', ''),
		        NULLIF(r->>'planned_start', '')::date, NULLIF(r->>'planned_end', '')::date)
		RETURNING project_id INTO id;
		FOR c IN SELECT earmark.split_list(r->>'villages') LOOP
			INSERT INTO earmark.project_village VALUES (b, id, earmark.id_of(b, 'village', c));
		END LOOP;
	WHEN 'project_budget' THEN
		INSERT INTO earmark.project_budget (book_id, project_id, fund_id, original_fen)
		VALUES (b, earmark.id_of(b, 'project', r->>'project'), earmark.id_of(b, 'fund', r->>'fund'),
		        (r->>'amount_fen')::bigint);
	WHEN 'project_target' THEN
		pid := earmark.id_of(b, 'project', r->>'project');
		INSERT INTO earmark.project_target (book_id, project_id, target_no, kind, indicator, value)
		VALUES (b, pid, COALESCE(NULLIF(r->>'target_no', '')::smallint,
		                         (SELECT COALESCE(pg_catalog.max(target_no), 0) + 1 FROM earmark.project_target
		                           WHERE book_id = b AND project_id = pid)),
		        r->>'kind', r->>'indicator', r->>'value');
	WHEN 'project_event' THEN
		INSERT INTO earmark.project_event (book_id, project_id, kind, event_date, progress_pct, doc_no, note, recorded_by)
		VALUES (b, earmark.id_of(b, 'project', r->>'project'), r->>'kind', (r->>'date')::date,
		        NULLIF(r->>'progress', '')::numeric, COALESCE(r->>'doc_no', ''), COALESCE(r->>'note', ''), who);
	WHEN 'budget_revision' THEN
		IF NOT EXISTS (SELECT 1 FROM earmark.project_budget
		                WHERE book_id = b AND project_id = earmark.id_of(b, 'project', r->>'project')
		                  AND fund_id = earmark.id_of(b, 'fund', r->>'fund')) THEN
			RAISE EXCEPTION 'project ''%'' has no budget from fund ''%'' to revise (P2)', r->>'project', r->>'fund'
				USING ERRCODE = 'EMP02', HINT = 'a revision changes an approved budget; import the original plan as project_budget';
		END IF;
		INSERT INTO earmark.budget_revision (book_id, project_id, fund_id, revised_on, amount_fen, doc_no,
		                                     reapproval_doc, recorded_by)
		VALUES (b, earmark.id_of(b, 'project', r->>'project'), earmark.id_of(b, 'fund', r->>'fund'),
		        (r->>'date')::date, (r->>'amount_fen')::bigint, COALESCE(r->>'doc_no', ''),
		        COALESCE(r->>'reapproval_doc', ''), who);
	WHEN 'negative_list' THEN
		INSERT INTO earmark.negative_list (book_id, version, valid_from, source, loaded_by)
		VALUES (b, (r->>'version')::integer, (r->>'valid_from')::date,
		        pg_catalog.split_part(COALESCE(r->>'source', ''), ':', 1), who)
		ON CONFLICT (book_id, version) DO NOTHING;
		IF NOT EXISTS (SELECT 1 FROM earmark.negative_list WHERE book_id = b
		                  AND version = (r->>'version')::integer AND valid_from = (r->>'valid_from')::date) THEN
			RAISE EXCEPTION 'version % of the negative list starts on another day', r->>'version';
		END IF;
		IF NOT EXISTS (SELECT 1 FROM earmark.use_category WHERE book_id = b AND code = r->>'category')
		   AND COALESCE(r->>'name', '') <> '' THEN
			INSERT INTO earmark.use_category (book_id, code, name) VALUES (b, r->>'category', r->>'name');
		END IF;
		INSERT INTO earmark.negative_item (book_id, version, category_id)
		VALUES (b, (r->>'version')::integer, earmark.id_of(b, 'use category', r->>'category'));
	WHEN 'household_cap' THEN
		INSERT INTO earmark.household_cap (book_id, category_id, year, cap_fen)
		VALUES (b, earmark.id_of(b, 'use category', r->>'category'), (r->>'year')::smallint, (r->>'cap_fen')::bigint);
	WHEN 'setting' THEN
		INSERT INTO earmark.book_setting (book_id, key, value) VALUES (b, r->>'key', (r->>'value')::integer)
		ON CONFLICT (book_id, key) DO UPDATE SET value = EXCLUDED.value;
	END CASE;
END
$$;

-- Master data from CSV rows (JSON objects keyed by the header; "source" is
-- 'file.csv:LINE').  Every row is tried in its own subtransaction; every
-- failure is reported with its source; any failure rolls back the file.
CREATE OR REPLACE FUNCTION earmark.master_import(p_book text, p_kind text, p_rows jsonb) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	kinds text[] := ARRAY['category', 'bank_account', 'fund', 'village', 'household', 'project',
	                      'project_budget', 'project_target', 'project_event', 'budget_revision',
	                      'negative_list', 'household_cap', 'setting'];
	r jsonb;
	probs earmark.problem[] := '{}';
	n integer := 0;
	msg text;
	det text;
	con text;
	st text;
	hnt text;
	i bigint;
BEGIN
	IF p_kind IN ('project_event', 'budget_revision', 'project_target') THEN
		IF NOT (pg_catalog.pg_has_role(who, 'earmark_admin', 'USAGE')
		        OR pg_catalog.pg_has_role(who, 'earmark_clerk', 'USAGE')) THEN
			PERFORM earmark.require_role(who, 'earmark_clerk', 'record project events');
		END IF;
	ELSE
		PERFORM earmark.require_role(who, 'earmark_admin', 'import master data');
	END IF;
	IF p_kind IS NULL OR NOT p_kind = ANY (kinds) THEN
		RAISE EXCEPTION 'unknown kind of master data ''%''', p_kind USING ERRCODE = 'EMI01',
			HINT = 'one of: ' || pg_catalog.array_to_string(kinds, ', ');
	END IF;
	FOR r, i IN SELECT x, ord FROM pg_catalog.jsonb_array_elements(p_rows) WITH ORDINALITY AS e(x, ord) LOOP
		BEGIN
			PERFORM earmark.master_row(b, who, p_kind, r);
			n := n + 1;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL,
			                        con = CONSTRAINT_NAME, st = RETURNED_SQLSTATE, hnt = PG_EXCEPTION_HINT;
			-- One record from a command, not a file: its refusal is the rule's own.
			IF NOT r ? 'source' AND pg_catalog.jsonb_array_length(p_rows) = 1 AND con = '' THEN
				RAISE EXCEPTION USING ERRCODE = st, MESSAGE = msg, DETAIL = det, HINT = hnt;
			END IF;
			-- A constraint's own text is for programmers; say what the column takes.
			IF con <> '' THEN
				msg := COALESCE(earmark.constraint_text(con), msg);
				det := NULL;
			ELSIF st IN ('22P02', '22008', '22007', '22003') THEN
				det := NULL;  -- a malformed number or date: the message says which value
			END IF;
			probs := probs || ROW(CASE WHEN st LIKE 'EM%' THEN st ELSE 'EMI01' END,
				pg_catalog.format('%s: %s', COALESCE(r->>'source', 'row ' || i), msg),
				NULLIF(det, ''), NULL)::earmark.problem;
		END;
	END LOOP;
	PERFORM earmark.raise_problems(probs,
		pg_catalog.format('%s of %s %s rows refused; nothing was imported',
		                  pg_catalog.cardinality(probs), pg_catalog.jsonb_array_length(p_rows), p_kind));
	RETURN n;
END
$$;

------------------------------------------------------------------------
-- Beneficiary lists, their disclosure (公示) and objections (H3).
------------------------------------------------------------------------

-- A list for a project from rows: household, amount_fen, item, cost_fen,
-- standard, source.  Every bad row is named; nothing is kept on failure.
CREATE FUNCTION earmark.list_create(p_book text, p_code text, p_project text, p_title text, p_rows jsonb)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	l integer;
	r jsonb;
	probs earmark.problem[] := '{}';
	msg text;
	con text;
	st text;
	n integer := 0;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_clerk', 'prepare beneficiary lists');
	IF EXISTS (SELECT 1 FROM earmark.beneficiary_list WHERE book_id = b AND code = p_code) THEN
		RAISE EXCEPTION 'beneficiary list ''%'' already exists', p_code USING ERRCODE = 'EMI01',
			HINT = 'give the new list its own code';
	END IF;
	INSERT INTO earmark.beneficiary_list (book_id, code, project_id, title, created_by)
	VALUES (b, p_code, earmark.id_of(b, 'project', p_project), p_title, who)
	RETURNING list_id INTO l;
	FOR r IN SELECT x FROM pg_catalog.jsonb_array_elements(p_rows) x LOOP
		BEGIN
			INSERT INTO earmark.beneficiary (book_id, list_id, household_id, item, amount_fen, cost_fen, standard)
			VALUES (b, l, earmark.id_of(b, 'household', r->>'household'), COALESCE(r->>'item', ''),
			        (r->>'amount_fen')::bigint, NULLIF(r->>'cost_fen', '')::bigint, COALESCE(r->>'standard', ''));
			n := n + 1;
		EXCEPTION WHEN OTHERS THEN
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, con = CONSTRAINT_NAME, st = RETURNED_SQLSTATE;
			IF con <> '' THEN
				msg := COALESCE(earmark.constraint_text(con), msg);
			END IF;
			probs := probs || ROW(CASE WHEN st LIKE 'EM%' THEN st ELSE 'EMI01' END,
			                      pg_catalog.format('%s: %s', COALESCE(r->>'source', '?'), msg),
			                      NULL, NULL)::earmark.problem;
		END;
	END LOOP;
	IF n = 0 AND pg_catalog.cardinality(probs) = 0 THEN
		RAISE EXCEPTION 'beneficiary list ''%'' has no households', p_code USING ERRCODE = 'EMI01';
	END IF;
	PERFORM earmark.raise_problems(probs,
		pg_catalog.format('%s of %s list rows refused; nothing was kept', pg_catalog.cardinality(probs),
		                  pg_catalog.jsonb_array_length(p_rows)));
	RETURN n;
END
$$;

-- Discloses a list from p_from for p_days days (at least the book's notice
-- period, never under 10).  Returns the first day it may be paid.
CREATE FUNCTION earmark.list_publish(p_book text, p_code text, p_from date, p_days integer)
RETURNS date
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	l earmark.beneficiary_list;
	least_days integer := earmark.setting(b, 'notice_days');
	days integer := COALESCE(p_days, least_days);
BEGIN
	PERFORM earmark.require_role(who, 'earmark_admin', 'publish beneficiary lists');
	SELECT * INTO l FROM earmark.beneficiary_list WHERE book_id = b AND code = p_code FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown list ''%''', p_code USING ERRCODE = 'EMR01';
	END IF;
	IF l.published_on IS NOT NULL THEN
		RAISE EXCEPTION 'list ''%'' was already published on %', p_code, l.published_on USING ERRCODE = 'EMS01';
	END IF;
	IF days < least_days THEN
		RAISE EXCEPTION 'a notice period of % days is too short (H3)', days USING ERRCODE = 'EMH03',
			DETAIL = pg_catalog.format('the notice period is at least %s days', least_days),
			HINT = '公示期不少于10天: publish for 10 days or more';
	END IF;
	IF p_from > CURRENT_DATE THEN
		RAISE EXCEPTION 'publication date % is in the future', p_from USING ERRCODE = 'EMD07';
	END IF;
	UPDATE earmark.beneficiary_list SET published_on = p_from, notice_days = days, published_by = who
	 WHERE book_id = b AND list_id = l.list_id;
	RETURN p_from + days;
END
$$;

CREATE FUNCTION earmark.objection_record(p_book text, p_list text, p_household text, p_date date, p_reason text)
RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	l earmark.beneficiary_list;
	h integer := earmark.id_of(b, 'household', p_household);
	o integer;
BEGIN
	IF NOT (pg_catalog.pg_has_role(who, 'earmark_admin', 'USAGE') OR pg_catalog.pg_has_role(who, 'earmark_clerk', 'USAGE')) THEN
		PERFORM earmark.require_role(who, 'earmark_clerk', 'record objections');
	END IF;
	SELECT * INTO l FROM earmark.beneficiary_list WHERE book_id = b AND list_id = earmark.id_of(b, 'list', p_list);
	IF NOT EXISTS (SELECT 1 FROM earmark.beneficiary WHERE book_id = b AND list_id = l.list_id AND household_id = h) THEN
		RAISE EXCEPTION 'household ''%'' is not on list ''%''', p_household, p_list USING ERRCODE = 'EMH03',
			HINT = 'an objection is raised against a line of a published list';
	END IF;
	IF l.published_on IS NULL OR p_date < l.published_on OR p_date > CURRENT_DATE THEN
		RAISE EXCEPTION 'objection dated % is outside the list''s publication', p_date USING ERRCODE = 'EMH03',
			DETAIL = pg_catalog.format('list ''%s'' %s', p_list, COALESCE('was published on ' || l.published_on, 'is not published'));
	END IF;
	INSERT INTO earmark.objection (book_id, list_id, household_id, raised_on, reason, recorded_by)
	VALUES (b, l.list_id, h, p_date, p_reason, who) RETURNING objection_id INTO o;
	RETURN o;
END
$$;

CREATE FUNCTION earmark.objection_resolve(p_book text, p_objection integer, p_date date, p_resolution text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
BEGIN
	PERFORM earmark.require_role(who, 'earmark_admin', 'resolve objections');
	IF p_date > CURRENT_DATE THEN
		RAISE EXCEPTION 'resolution date % is in the future', p_date USING ERRCODE = 'EMD07';
	END IF;
	UPDATE earmark.objection SET resolved_on = p_date, resolution = p_resolution, resolved_by = who
	 WHERE book_id = b AND objection_id = p_objection AND resolved_on IS NULL;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no open objection #%', p_objection USING ERRCODE = 'EMR01';
	END IF;
END
$$;

------------------------------------------------------------------------
-- Household payment batches.
------------------------------------------------------------------------

CREATE FUNCTION earmark.pay_stage_new() RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
	SELECT pg_catalog.nextval('earmark.pay_stage_seq'::regclass)
$$;

-- The staged rows of p_stage checked set-based, every problem with its
-- file line; then the batch, its payments and its two draft vouchers.
-- With an idempotency key (D9) a retry returns the first batch.
CREATE FUNCTION earmark.pay_batch(p_book text, p_stage bigint, p_code text, p_date date,
                                  p_idem_key text, p_source text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	dig bytea;
	old earmark.pay_batch;
	probs earmark.problem[] := '{}';
	r record;
	n integer;
	payable bigint;
	payment bigint;
	batch integer;
	pfx text := COALESCE(NULLIF(p_source, ''), 'batch') || ':';
BEGIN
	PERFORM earmark.require_role(who, 'earmark_clerk', 'prepare payment batches');
	-- Rows a crashed client left behind (UNLOGGED: a server crash empties it anyway).
	DELETE FROM earmark.pay_staging WHERE staged_at < pg_catalog.now() - interval '1 day';
	SELECT pg_catalog.count(*) INTO n FROM earmark.pay_staging WHERE stage_id = p_stage AND staged_by = who;
	IF n = 0 THEN
		RAISE EXCEPTION 'payment batch has no rows' USING ERRCODE = 'EMI01';
	END IF;
	SELECT pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.string_agg(
	           pg_catalog.concat_ws(E'\t', household, amount_fen, project, fund, category, list, item, memo),
	           E'\n' ORDER BY line_no) || E'\n' || p_date || E'\n' || p_code, 'UTF8'))
	  INTO dig FROM earmark.pay_staging WHERE stage_id = p_stage AND staged_by = who;
	IF p_idem_key IS NOT NULL THEN
		SELECT * INTO old FROM earmark.pay_batch WHERE book_id = b AND idem_key = p_idem_key;
		IF FOUND THEN
			IF old.idem_digest = dig THEN
				DELETE FROM earmark.pay_staging WHERE stage_id = p_stage AND staged_by = who;
				RETURN old.code;
			END IF;
			RAISE EXCEPTION 'idempotency key ''%'' was used for another batch (D9)', p_idem_key
				USING ERRCODE = 'EMD09', DETAIL = pg_catalog.format('batch %s was created with this key', old.code);
		END IF;
	END IF;
	IF EXISTS (SELECT 1 FROM earmark.pay_batch WHERE book_id = b AND code = p_code) THEN
		RAISE EXCEPTION 'payment batch ''%'' already exists', p_code USING ERRCODE = 'EMI01',
			HINT = 'give the batch a new code';
	END IF;
	PERFORM earmark.raise_problems(ARRAY[earmark.date_problem(b, p_date)]);

	-- Resolve every code once; the rules below read this.
	CREATE TEMP TABLE em_pay ON COMMIT DROP AS
	SELECT s.line_no, s.household, s.amount_fen, s.project, s.fund, s.category, s.list,
	       COALESCE(s.item, '') AS item, COALESCE(s.memo, '') AS memo,
	       h.household_id, h.village_id, h.code AS hh_code, p.project_id, f.fund_id, f.bank_account_id,
	       c.category_id, bl.list_id, bl.project_id AS list_project
	  FROM earmark.pay_staging s
	  LEFT JOIN earmark.household h ON h.book_id = b AND h.code = s.household
	  LEFT JOIN earmark.project p ON p.book_id = b AND p.code = s.project
	  LEFT JOIN earmark.fund f ON f.book_id = b AND f.code = s.fund
	  LEFT JOIN earmark.use_category c ON c.book_id = b AND c.code = s.category
	  LEFT JOIN earmark.beneficiary_list bl ON bl.book_id = b AND bl.code = s.list
	 WHERE s.stage_id = p_stage AND s.staged_by = who;
	ANALYZE em_pay;

	-- Per line: codes, the list, the village, the ID, the category.
	FOR r IN
		SELECT e.*, pv.village_id IS NOT NULL AS covered, hp.id_no,
		       earmark.id_problem(hp.id_no, p_date) AS id_bad,
		       bn.amount_fen AS granted, fc.category_id IS NOT NULL AS permitted,
		       EXISTS (SELECT 1 FROM earmark.negative_item ni
		                WHERE ni.book_id = b AND ni.category_id = e.category_id
		                  AND ni.version = (SELECT n.version FROM earmark.negative_list n
		                                     WHERE n.book_id = b AND n.valid_from <= p_date
		                                     ORDER BY n.valid_from DESC LIMIT 1)) AS negative,
		       pg_catalog.count(*) OVER (PARTITION BY e.household_id, e.project_id, e.item) AS dup,
		       hpay.end_to_end_id AS paid_by, bl.published_on, bl.published_on + bl.notice_days AS payable_from,
		       (SELECT o.raised_on || ': ' || o.reason FROM earmark.objection o
		         WHERE o.book_id = b AND o.list_id = e.list_id AND o.household_id = e.household_id
		           AND (o.resolved_on IS NULL OR o.resolved_on > p_date)
		         ORDER BY o.raised_on LIMIT 1) AS objection,
		       cap.cap_fen, c.name AS cat_name,
		       pg_catalog.sum(e.amount_fen) OVER (PARTITION BY e.household_id, e.category_id) AS cap_delta,
		       COALESCE((SELECT pg_catalog.sum(s.spent_fen) FROM earmark.household_spend s
		                  WHERE s.book_id = b AND s.household_id = e.household_id
		                    AND s.category_id = e.category_id AND s.year = cap.year), 0) AS cap_before
		  FROM em_pay e
		  LEFT JOIN earmark.household_cap cap
		         ON cap.book_id = b AND cap.category_id = e.category_id
		        AND cap.year = pg_catalog.date_part('year', p_date)
		  LEFT JOIN earmark.use_category c ON c.book_id = b AND c.category_id = e.category_id
		  LEFT JOIN earmark.beneficiary_list bl ON bl.book_id = b AND bl.list_id = e.list_id
		  LEFT JOIN earmark.project_village pv
		         ON pv.book_id = b AND pv.project_id = e.project_id AND pv.village_id = e.village_id
		  LEFT JOIN earmark.household_private hp ON hp.book_id = b AND hp.household_id = e.household_id
		  LEFT JOIN earmark.beneficiary bn
		         ON bn.book_id = b AND bn.list_id = e.list_id AND bn.household_id = e.household_id AND bn.item = e.item
		  LEFT JOIN earmark.fund_category fc
		         ON fc.book_id = b AND fc.fund_id = e.fund_id AND fc.category_id = e.category_id
		  LEFT JOIN earmark.household_payment hpay
		         ON hpay.book_id = b AND hpay.project_id = e.project_id AND hpay.household_id = e.household_id
		        AND hpay.item = e.item AND hpay.status <> 'returned'
		 ORDER BY e.line_no
	LOOP
		IF pg_catalog.cardinality(probs) >= 50 THEN
			EXIT;
		END IF;
		IF r.amount_fen IS NULL OR r.amount_fen <= 0 THEN
			probs := probs || ROW('EMI01', pg_catalog.format('%s%s: amount must be above zero', pfx, r.line_no), NULL, NULL)::earmark.problem;
		END IF;
		IF r.household_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s%s: unknown household ''%s''', pfx, r.line_no, COALESCE(r.household, '')), NULL, NULL)::earmark.problem;
		END IF;
		IF r.project_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s%s: unknown project ''%s''', pfx, r.line_no, COALESCE(r.project, '')), NULL, NULL)::earmark.problem;
		END IF;
		IF r.fund_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s%s: unknown fund ''%s''', pfx, r.line_no, COALESCE(r.fund, '')), NULL, NULL)::earmark.problem;
		END IF;
		IF r.category_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s%s: unknown use category ''%s''', pfx, r.line_no, COALESCE(r.category, '')), NULL, NULL)::earmark.problem;
		ELSIF r.negative THEN
			probs := probs || ROW('EMA03', pg_catalog.format('%s%s: use category ''%s'' is on the negative list (A3)', pfx, r.line_no, r.category), NULL, NULL)::earmark.problem;
		ELSIF r.fund_id IS NOT NULL AND NOT r.permitted THEN
			probs := probs || ROW('EMA03', pg_catalog.format('%s%s: fund ''%s'' does not permit use category ''%s'' (A3)', pfx, r.line_no, r.fund, r.category), NULL, NULL)::earmark.problem;
		END IF;
		IF r.list_id IS NULL THEN
			probs := probs || ROW('EMR01', pg_catalog.format('%s%s: unknown beneficiary list ''%s''', pfx, r.line_no, COALESCE(r.list, '')), NULL, NULL)::earmark.problem;
		ELSIF r.project_id IS NOT NULL AND r.list_project <> r.project_id THEN
			probs := probs || ROW('EMH03', pg_catalog.format('%s%s: list ''%s'' belongs to another project (H3)', pfx, r.line_no, r.list), NULL, NULL)::earmark.problem;
		ELSIF r.household_id IS NOT NULL AND r.granted IS NULL THEN
			probs := probs || ROW('EMH03', pg_catalog.format('%s%s: household ''%s'' is not on list ''%s'' for item ''%s'' (H3)', pfx, r.line_no, r.household, r.list, r.item), NULL,
			                      'a household is paid only as its disclosed beneficiary list says')::earmark.problem;
		ELSIF r.published_on IS NULL THEN
			probs := probs || ROW('EMH03', pg_catalog.format('%s%s: beneficiary list ''%s'' has not been disclosed (H3)', pfx, r.line_no, r.list), NULL,
			                      'publish the list on the village notice board first: earmark list publish')::earmark.problem;
		ELSIF r.payable_from > p_date THEN
			probs := probs || ROW('EMH03', pg_catalog.format('%s%s: the notice period of list ''%s'' has not ended (H3)', pfx, r.line_no, r.list),
			                      pg_catalog.format('payable from %s; the payment is dated %s', r.payable_from, p_date),
			                      '公示无异议后拨付: pay after the notice period')::earmark.problem;
		ELSIF r.objection IS NOT NULL THEN
			probs := probs || ROW('EMH03', pg_catalog.format('%s%s: household ''%s'' has an unresolved objection on list ''%s'' (H3)', pfx, r.line_no, r.household, r.list),
			                      pg_catalog.format('raised %s', r.objection), 'resolve the objection first: earmark list resolve')::earmark.problem;
		ELSIF r.amount_fen > r.granted THEN
			probs := probs || ROW('EMH02', pg_catalog.format('%s%s: household ''%s'' is granted %s on list ''%s'', not %s (H2)', pfx, r.line_no, r.household,
			                      earmark.fmt_fen(r.granted), r.list, earmark.fmt_fen(r.amount_fen)), NULL, NULL)::earmark.problem;
		END IF;
		IF r.household_id IS NOT NULL AND r.project_id IS NOT NULL AND NOT r.covered THEN
			probs := probs || ROW('EMH01', pg_catalog.format('%s%s: household ''%s'' is in a village project ''%s'' does not cover (H1)', pfx, r.line_no, r.household, r.project), NULL, NULL)::earmark.problem;
		END IF;
		IF r.household_id IS NOT NULL AND r.id_no IS NULL THEN
			probs := probs || ROW('EMH01', pg_catalog.format('%s%s: household ''%s'' has no ID number on record (H1)', pfx, r.line_no, r.household), NULL, NULL)::earmark.problem;
		ELSIF r.household_id IS NOT NULL AND r.id_bad IS NOT NULL THEN
			probs := probs || ROW('EMH01', pg_catalog.format('%s%s: household ''%s'' has an invalid ID number (H1)', pfx, r.line_no, r.household), r.id_bad, NULL)::earmark.problem;
		END IF;
		IF r.household_id IS NOT NULL AND r.paid_by IS NULL AND r.cap_fen IS NOT NULL
		   AND r.cap_before + r.cap_delta > r.cap_fen THEN
			probs := probs || ROW('EMH02', pg_catalog.format('%s%s: household ''%s'' would get more than the cap for %s (%s) in %s (H2)',
			                      pfx, r.line_no, r.household, r.category, r.cat_name, pg_catalog.date_part('year', p_date)),
			                      pg_catalog.format('cap %s, paid before %s, this voucher %s', earmark.fmt_fen(r.cap_fen),
			                                        earmark.fmt_fen(r.cap_before), earmark.fmt_fen(r.cap_delta)),
			                      'the caps per household and year are in config/household_caps.csv')::earmark.problem;
		END IF;
		IF r.household_id IS NOT NULL AND r.dup > 1 THEN
			probs := probs || ROW('EMH02', pg_catalog.format('%s%s: household ''%s'' appears more than once for item ''%s'' of project ''%s'' (H2)', pfx, r.line_no, r.household, r.item, r.project), NULL, NULL)::earmark.problem;
		END IF;
		IF r.paid_by IS NOT NULL THEN
			probs := probs || ROW('EMH02', pg_catalog.format('%s%s: household ''%s'' was already paid for item ''%s'' of project ''%s'' (H2)', pfx, r.line_no, r.household, r.item, r.project),
			                      pg_catalog.format('payment %s', r.paid_by), 'the same household is not paid twice for the same item')::earmark.problem;
		END IF;
	END LOOP;
	PERFORM earmark.raise_problems(probs,
		pg_catalog.format('payment batch refused: %s%s problem%s; nothing was written',
		                  CASE WHEN pg_catalog.cardinality(probs) >= 50 THEN 'at least ' ELSE '' END,
		                  pg_catalog.cardinality(probs), CASE WHEN pg_catalog.cardinality(probs) = 1 THEN '' ELSE 's' END));

	-- The batch and its vouchers; the line triggers then check A3, P1-P3
	-- and H1-H3 against the kept totals, as they will again at posting.
	INSERT INTO earmark.voucher (book_id, vtype, voucher_date, memo, prepared_by, prepared_at)
	VALUES (b, '转', p_date, '到户补助 ' || p_code || ' 应付', who, pg_catalog.now()) RETURNING voucher_id INTO payable;
	INSERT INTO earmark.voucher (book_id, vtype, voucher_date, memo, prepared_by, prepared_at)
	VALUES (b, '付', p_date, '到户补助 ' || p_code || ' 支付', who, pg_catalog.now()) RETURNING voucher_id INTO payment;
	INSERT INTO earmark.pay_batch (book_id, code, pay_date, source, payable_voucher_id, payment_voucher_id,
	                               idem_key, idem_digest, created_by)
	VALUES (b, p_code, p_date, COALESCE(p_source, ''), payable, payment, p_idem_key,
	        CASE WHEN p_idem_key IS NOT NULL THEN dig END, who)
	RETURNING batch_id INTO batch;
	INSERT INTO earmark.household_payment (book_id, batch_id, line_no, household_id, project_id, fund_id,
	                                       category_id, list_id, item, amount_fen, end_to_end_id, status_by)
	SELECT b, batch, e.line_no, e.household_id, e.project_id, e.fund_id, e.category_id, e.list_id, e.item,
	       e.amount_fen, pg_catalog.left(p_code, 24) || '-' || pg_catalog.lpad(e.line_no::text, 6, '0'), who
	  FROM em_pay e;

	-- Payable: Dr 5001 per household, Cr 2303 per fund.
	INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id,
	                          project_id, village_id, household_id, category_id, memo)
	SELECT b, payable, pg_catalog.row_number() OVER (ORDER BY x.ord, x.k1, x.k2)::integer, x.account_id, x.side,
	       x.amount_fen, x.fund_id, x.project_id, x.village_id, x.household_id, x.category_id, x.memo
	  FROM (SELECT 1 AS ord, e.line_no AS k1, 0 AS k2, a.account_id, 'D' AS side, e.amount_fen, e.fund_id,
	               e.project_id, e.village_id, e.household_id, e.category_id,
	               pg_catalog.left(COALESCE(NULLIF(e.memo, ''), '到户补助') || ' ' || e.hh_code, 200) AS memo
	          FROM em_pay e JOIN earmark.account a ON a.book_id = b AND a.code = '5001'
	        UNION ALL
	        SELECT 2, e.fund_id, 0, a.account_id, 'C', pg_catalog.sum(e.amount_fen)::bigint, e.fund_id,
	               NULL, NULL, NULL, NULL, '应付到户补助 ' || p_code
	          FROM em_pay e JOIN earmark.account a ON a.book_id = b AND a.code = '2303'
	         GROUP BY e.fund_id, a.account_id) x;
	-- Payment: Dr 2303 / Cr 1002 per fund, from its dedicated account.
	INSERT INTO earmark.line (book_id, voucher_id, line_no, account_id, side, amount_fen, fund_id,
	                          bank_account_id, memo)
	SELECT b, payment, pg_catalog.row_number() OVER (ORDER BY x.fund_id, x.side DESC)::integer, x.account_id,
	       x.side, x.amount_fen, x.fund_id, x.bank_account_id, '支付到户补助 ' || p_code
	  FROM (SELECT e.fund_id, a.account_id, a.code, CASE a.code WHEN '2303' THEN 'D' ELSE 'C' END AS side,
	               pg_catalog.sum(e.amount_fen)::bigint AS amount_fen,
	               CASE WHEN a.is_bank THEN pg_catalog.min(e.bank_account_id) END AS bank_account_id
	          FROM em_pay e JOIN earmark.account a ON a.book_id = b AND a.code IN ('2303', '1002')
	         GROUP BY e.fund_id, a.account_id, a.code, a.is_bank) x;
	PERFORM earmark.raise_problems(earmark.balance_problems(b, payable));
	PERFORM earmark.raise_problems(earmark.balance_problems(b, payment));
	DELETE FROM earmark.pay_staging WHERE stage_id = p_stage AND staged_by = who;
	DROP TABLE em_pay;
	RETURN p_code;
END
$$;

-- The batch's two vouchers reviewed, or posted, together.
CREATE FUNCTION earmark.pay_batch_step(p_book text, p_batch text, p_step text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	b integer := earmark.book_of(p_book);
	pb earmark.pay_batch;
BEGIN
	SELECT * INTO pb FROM earmark.pay_batch WHERE book_id = b AND code = p_batch;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown payment batch ''%''', p_batch USING ERRCODE = 'EMR01';
	END IF;
	IF p_step = 'review' THEN
		PERFORM earmark.voucher_review(p_book, '#' || pb.payable_voucher_id);
		PERFORM earmark.voucher_review(p_book, '#' || pb.payment_voucher_id);
		RETURN pg_catalog.format('#%s #%s', pb.payable_voucher_id, pb.payment_voucher_id);
	ELSIF p_step = 'post' THEN
		RETURN earmark.voucher_post(p_book, '#' || pb.payable_voucher_id) || ' '
		    || earmark.voucher_post(p_book, '#' || pb.payment_voucher_id);
	END IF;
	RAISE EXCEPTION 'unknown step ''%''', p_step USING ERRCODE = 'EMI01';
END
$$;

-- The rows of the batch's pain.001 file (posting/pain001.c writes it), and
-- its payments marked sent.  Only a posted batch is paid out; exporting it
-- again gives the same file (the bank deduplicates by MsgId).
CREATE FUNCTION earmark.payment_export(p_book text, p_batch text)
RETURNS TABLE (msg_id text, created_at text, initiator text, execution_date text, pmt_inf_id text,
               debtor_name text, debtor_account text, debtor_cnaps text, debtor_bank text,
               end_to_end_id text, amount_fen bigint, creditor_name text, creditor_account text,
               creditor_cnaps text, remittance text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	pb earmark.pay_batch;
	unposted text;
	missing text;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_cashier', 'export payment files');
	SELECT * INTO pb FROM earmark.pay_batch WHERE book_id = b AND code = p_batch FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown payment batch ''%''', p_batch USING ERRCODE = 'EMR01';
	END IF;
	SELECT pg_catalog.string_agg('#' || v.voucher_id || ' ' || v.status, ', ') INTO unposted
	  FROM earmark.voucher v
	 WHERE v.book_id = b AND v.voucher_id IN (pb.payable_voucher_id, pb.payment_voucher_id) AND v.status <> 'posted';
	IF unposted IS NOT NULL THEN
		RAISE EXCEPTION 'payment batch ''%'' is not posted', p_batch USING ERRCODE = 'EMS01',
			DETAIL = 'its vouchers: ' || unposted,
			HINT = 'a reviewer and a bookkeeper review and post it first: earmark pay review / pay post';
	END IF;
	SELECT pg_catalog.string_agg(h.code, ', ' ORDER BY h.code) INTO missing
	  FROM earmark.household_payment p
	  JOIN earmark.household h ON h.book_id = p.book_id AND h.household_id = p.household_id
	  LEFT JOIN earmark.household_private hp ON hp.book_id = p.book_id AND hp.household_id = p.household_id
	 WHERE p.book_id = b AND p.batch_id = pb.batch_id AND COALESCE(hp.bank_card, '') = '';
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'households without a bank card cannot be paid by transfer' USING ERRCODE = 'EMI01',
			DETAIL = 'households: ' || missing, HINT = 'record their bank card and its CNAPS code';
	END IF;
	UPDATE earmark.household_payment SET status = 'sent'
	 WHERE book_id = b AND batch_id = pb.batch_id AND status = 'issued';
	UPDATE earmark.pay_batch SET exported_at = COALESCE(exported_at, pg_catalog.now()),
	                             exported_by = COALESCE(exported_by, who)
	 WHERE book_id = b AND batch_id = pb.batch_id;
	RETURN QUERY
	SELECT bk.code || '-' || pb.code,
	       pg_catalog.to_char(COALESCE(pb.exported_at, pg_catalog.now()), 'YYYY-MM-DD"T"HH24:MI:SS'),
	       bk.name, pg_catalog.to_char(pb.pay_date, 'YYYY-MM-DD'),
	       bk.code || '-' || pb.code || '-' || pg_catalog.dense_rank() OVER (ORDER BY da.account_no),
	       COALESCE(NULLIF(da.holder, ''), bk.name), da.account_no, da.cnaps, da.bank_name,
	       p.end_to_end_id, p.amount_fen, h.head_name, hp.bank_card, hp.bank_cnaps,
	       pg_catalog.left(pg_catalog.format('%s %s 资金:%s %s', pj.code, pj.name, f.code,
	                                         COALESCE(NULLIF(p.item, ''), '到户补助')), 140)
	  FROM earmark.household_payment p
	  JOIN earmark.book bk ON bk.book_id = p.book_id
	  JOIN earmark.household h ON h.book_id = p.book_id AND h.household_id = p.household_id
	  JOIN earmark.household_private hp ON hp.book_id = p.book_id AND hp.household_id = p.household_id
	  JOIN earmark.project pj ON pj.book_id = p.book_id AND pj.project_id = p.project_id
	  JOIN earmark.fund f ON f.book_id = p.book_id AND f.fund_id = p.fund_id
	  JOIN earmark.dedicated_account da ON da.book_id = f.book_id AND da.bank_account_id = f.bank_account_id
	 WHERE p.book_id = b AND p.batch_id = pb.batch_id AND p.status <> 'returned'
	 ORDER BY 5, p.end_to_end_id;
END
$$;

-- The bank's answer for one payment, until statements are matched
-- automatically: paid or returned.
CREATE FUNCTION earmark.payment_settle(p_book text, p_e2e text, p_status text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
BEGIN
	PERFORM earmark.require_role(who, 'earmark_cashier', 'record the bank''s answer');
	IF p_status NOT IN ('paid', 'returned') THEN
		RAISE EXCEPTION 'a payment is settled as paid or returned, not %', p_status USING ERRCODE = 'EMI01';
	END IF;
	UPDATE earmark.household_payment SET status = p_status WHERE book_id = b AND end_to_end_id = p_e2e;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'unknown payment ''%''', p_e2e USING ERRCODE = 'EMR01';
	END IF;
END
$$;

------------------------------------------------------------------------
-- 报账 and interest.
------------------------------------------------------------------------

-- A project's reimbursement claim with its documents (P4): the payable
-- (转: Dr 5001 / Cr 2302) and payment (付: Dr 2302 / Cr 1002) drafts.
CREATE FUNCTION earmark.project_claim(p_book text, p_project text, p_fund text, p_amount_fen bigint,
                                      p_date date, p_docs jsonb, p_idem_key text)
RETURNS TABLE (claim_id integer, payable text, payment text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
	who name := earmark.actor();
	b integer := earmark.book_of(p_book);
	pj earmark.project;
	f earmark.fund;
	missing text[] := '{}';
	receipts text[];
	dig bytea;
	old earmark.project_claim;
	c integer;
	v1 bigint;
	v2 bigint;
BEGIN
	PERFORM earmark.require_role(who, 'earmark_clerk', 'prepare reimbursement claims');
	SELECT * INTO pj FROM earmark.project WHERE book_id = b AND project_id = earmark.id_of(b, 'project', p_project);
	SELECT * INTO f FROM earmark.fund WHERE book_id = b AND fund_id = earmark.id_of(b, 'fund', p_fund);
	dig := pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.jsonb_build_object('project', p_project,
		'fund', p_fund, 'amount', p_amount_fen, 'date', p_date, 'docs', p_docs)::text, 'UTF8'));
	IF p_idem_key IS NOT NULL THEN
		SELECT * INTO old FROM earmark.project_claim WHERE book_id = b AND idem_key = p_idem_key;
		IF FOUND THEN
			IF old.idem_digest <> dig THEN
				RAISE EXCEPTION 'idempotency key ''%'' was used for another claim (D9)', p_idem_key USING ERRCODE = 'EMD09';
			END IF;
			RETURN QUERY SELECT old.claim_id, '#' || old.payable_voucher_id, '#' || old.payment_voucher_id;
			RETURN;
		END IF;
	END IF;
	SELECT pg_catalog.array_agg(x ORDER BY x) INTO receipts
	  FROM pg_catalog.jsonb_array_elements_text(COALESCE(p_docs->'receipts', '[]')) x WHERE pg_catalog.btrim(x) <> '';
	IF COALESCE(p_docs->>'inspection', '') = '' THEN missing := missing || 'inspection record (验收/检查记录)'::text; END IF;
	IF COALESCE(p_docs->>'plan', '') = '' THEN missing := missing || 'spending plan (用款计划)'::text; END IF;
	IF COALESCE(p_docs->>'contract', '') = '' THEN missing := missing || 'contract (合同)'::text; END IF;
	IF receipts IS NULL THEN missing := missing || 'receipts (发票)'::text; END IF;
	IF pg_catalog.cardinality(missing) > 0 THEN
		RAISE EXCEPTION 'the claim for project ''%'' lacks its documents (P4)', p_project USING ERRCODE = 'EMP04',
			DETAIL = 'missing: ' || pg_catalog.array_to_string(missing, ', '),
			HINT = 'a reimbursement carries the inspection record, spending plan, receipts and contract';
	END IF;
	IF (p_docs->>'receipt_count') IS NOT NULL AND (p_docs->>'receipt_count')::integer <> pg_catalog.cardinality(receipts) THEN
		RAISE EXCEPTION 'the claim says % receipts but lists % (P4)', p_docs->>'receipt_count',
			pg_catalog.cardinality(receipts) USING ERRCODE = 'EMP04';
	END IF;
	v1 := earmark.voucher_draft(p_book, p_date, '转', pg_catalog.format('%s 报账 应付%s', pj.name, pj.contractor), NULL,
		pg_catalog.jsonb_build_array(
			pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('account', '5001', 'side', 'D',
				'amount_fen', p_amount_fen, 'fund', p_fund, 'project', p_project,
				'category', (SELECT code FROM earmark.use_category WHERE book_id = b AND category_id = pj.category_id),
				'memo', '报账 ' || pj.name)),
			pg_catalog.jsonb_build_object('account', '2302', 'side', 'C', 'amount_fen', p_amount_fen,
				'fund', p_fund, 'project', p_project, 'memo', '应付 ' || pj.contractor)));
	v2 := earmark.voucher_draft(p_book, p_date, '付', pg_catalog.format('%s 报账 支付%s', pj.name, pj.contractor), NULL,
		pg_catalog.jsonb_build_array(
			pg_catalog.jsonb_build_object('account', '2302', 'side', 'D', 'amount_fen', p_amount_fen,
				'fund', p_fund, 'project', p_project, 'memo', '支付 ' || pj.contractor),
			pg_catalog.jsonb_build_object('account', '1002', 'side', 'C', 'amount_fen', p_amount_fen,
				'fund', p_fund, 'project', p_project,
				'bank_account', (SELECT account_no FROM earmark.dedicated_account
				                  WHERE book_id = b AND bank_account_id = f.bank_account_id),
				'memo', '支付 ' || pj.contractor)));
	INSERT INTO earmark.project_claim (book_id, project_id, fund_id, amount_fen, claim_date, inspection_doc,
	                                   plan_doc, contract_doc, receipts, payable_voucher_id, payment_voucher_id,
	                                   idem_key, idem_digest, created_by)
	VALUES (b, pj.project_id, f.fund_id, p_amount_fen, p_date, p_docs->>'inspection', p_docs->>'plan',
	        p_docs->>'contract', receipts, v1, v2, p_idem_key, CASE WHEN p_idem_key IS NOT NULL THEN dig END, who)
	RETURNING project_claim.claim_id INTO c;
	RETURN QUERY SELECT c, '#' || v1, '#' || v2;
END
$$;

-- A4: a draft receipt (收) of p_amount_fen interest on a dedicated account,
-- shared by its funds' balances at the end of p_date.
CREATE FUNCTION earmark.fund_interest(p_book text, p_account_no text, p_date date, p_amount_fen bigint,
                                      p_idem_key text)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	b integer := earmark.book_of(p_book);
	bank integer := earmark.id_of(b, 'dedicated account', p_account_no);
	lines jsonb;
BEGIN
	PERFORM earmark.require_role(earmark.actor(), 'earmark_clerk', 'book interest');
	IF p_amount_fen IS NULL OR p_amount_fen <= 0 THEN
		RAISE EXCEPTION 'interest must be above zero' USING ERRCODE = 'EMI01';
	END IF;
	-- The shares once; each gives a bank debit and an interest credit.
	WITH s AS (
		SELECT f.code AS fund, x.balance_fen, x.share_fen
		  FROM earmark.interest_shares(b, bank, p_date, p_amount_fen) x
		  JOIN earmark.fund f ON f.book_id = b AND f.fund_id = x.fund_id
		 WHERE x.share_fen > 0)
	SELECT pg_catalog.jsonb_agg(l ORDER BY l->>'fund', l->>'side' DESC) INTO lines
	  FROM s CROSS JOIN LATERAL (VALUES
		(pg_catalog.jsonb_build_object('account', '1002', 'side', 'D', 'amount_fen', s.share_fen,
		     'fund', s.fund, 'bank_account', p_account_no,
		     'memo', pg_catalog.format('利息 按余额 %s 分摊', earmark.fmt_fen(s.balance_fen)))),
		(pg_catalog.jsonb_build_object('account', '4604', 'side', 'C', 'amount_fen', s.share_fen,
		     'fund', s.fund, 'memo', '专户利息收入'))) v(l);
	IF lines IS NULL THEN
		RAISE EXCEPTION 'no fund has money in dedicated account ''%'' on % (A4)', p_account_no, p_date
			USING ERRCODE = 'EMA04', HINT = 'interest is shared by the balances of the funds the account holds';
	END IF;
	RETURN earmark.voucher_draft(p_book, p_date, '收', '专户利息 ' || p_account_no, p_idem_key, lines);
END
$$;
