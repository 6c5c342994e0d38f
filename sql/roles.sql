-- earmark cluster bootstrap: the roles of DESIGN section 8 and the schema.
--
-- Run by `earmark db init` on every call, before the migrations, on the
-- admin connection (a role with CREATEROLE and CREATE on the database).  It
-- is idempotent.  Roles are cluster-wide, so it only creates what is
-- missing and never changes an existing role's attributes.
--
-- earmark_owner owns the schema and every object in it; it cannot log in
-- and is used only by the migration runner (SET ROLE).  The group roles
-- below own nothing; a person gets a LOGIN role that is a member of one or
-- more of them (`earmark user add`).
DO $$
DECLARE
	r text;
BEGIN
	FOREACH r IN ARRAY ARRAY['earmark_owner', 'earmark_clerk', 'earmark_reviewer',
	                         'earmark_bookkeeper', 'earmark_cashier', 'earmark_admin',
	                         'earmark_auditor', 'earmark_public']
	LOOP
		IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
			EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
		END IF;
	END LOOP;
END
$$;

-- The migration runner switches to earmark_owner; the admin connection must
-- be able to.
DO $$
BEGIN
	IF NOT pg_catalog.pg_has_role(current_user, 'earmark_owner', 'MEMBER') THEN
		EXECUTE pg_catalog.format('GRANT earmark_owner TO %I', current_user);
	END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS earmark AUTHORIZATION earmark_owner;
REVOKE ALL ON SCHEMA earmark FROM PUBLIC;
-- Nobody creates objects in public by accident.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- The migration runner's own bookkeeping, owned like everything else.
SET ROLE earmark_owner;
CREATE TABLE IF NOT EXISTS earmark.schema_migration (
	version    integer PRIMARY KEY,          -- the number the file name starts with
	name       text NOT NULL,                -- the file name
	sha256     text NOT NULL,                -- hex digest of the file as applied
	applied_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	applied_by name NOT NULL DEFAULT session_user
);
RESET ROLE;
