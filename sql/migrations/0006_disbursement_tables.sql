-- 0006 the tables of disbursement: funds' permitted uses, the negative
-- list, household caps, projects with budgets, targets and events,
-- households' personal data, beneficiary lists with their notice periods
-- and objections, household payment batches (DESIGN sections 4 and 5).
--
-- Keys start with book_id as in 0001.  Personal data (H4) sits in its own
-- table, household_private, which earmark_public and earmark_auditor cannot
-- read (0009); everything for outside the office goes through the masking
-- functions of 0005.  Kept totals (project_spend, household_spend) are
-- written at posting, like period_balance, so that the rules of 0007 never
-- sum all lines.

-- Batch vouchers carry one line per household payment: more than 999.
-- The view reads line_no, so it is dropped and made again unchanged.
DROP VIEW earmark.line_coded;
ALTER TABLE earmark.line DROP CONSTRAINT line_line_no_check,
	ALTER COLUMN line_no TYPE integer,
	ADD CONSTRAINT line_line_no_check CHECK (line_no BETWEEN 1 AND 999999);
CREATE VIEW earmark.line_coded WITH (security_invoker = true) AS
SELECT l.book_id, l.voucher_id, l.line_no, a.code AS account, l.side, l.amount_fen,
       f.code AS fund, p.code AS project, vi.code AS village, h.code AS household,
       da.account_no AS bank_account, c.code AS category, l.memo
  FROM earmark.line l
  JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
  JOIN earmark.fund f ON f.book_id = l.book_id AND f.fund_id = l.fund_id
  LEFT JOIN earmark.project p ON p.book_id = l.book_id AND p.project_id = l.project_id
  LEFT JOIN earmark.village vi ON vi.book_id = l.book_id AND vi.village_id = l.village_id
  LEFT JOIN earmark.household h ON h.book_id = l.book_id AND h.household_id = l.household_id
  LEFT JOIN earmark.dedicated_account da
         ON da.book_id = l.book_id AND da.bank_account_id = l.bank_account_id
  LEFT JOIN earmark.use_category c ON c.book_id = l.book_id AND c.category_id = l.category_id;
CREATE INDEX line_book_project ON earmark.line (book_id, project_id) WHERE project_id IS NOT NULL;

-- A spend line gives money to a project (P1-P3) and is what A3 and H1-H3
-- look at: expenses, and advances (预付账款 1214) that later become expenses.
-- Interest revenue (利息收入 4604) is A4's.
ALTER TABLE earmark.account
	ADD COLUMN spend boolean GENERATED ALWAYS AS (kind = 'expense' OR code LIKE '1214%') STORED,
	ADD COLUMN interest boolean GENERATED ALWAYS AS (code LIKE '4604%') STORED;

ALTER TABLE earmark.dedicated_account
	ADD COLUMN holder text NOT NULL DEFAULT '';   -- 户名, the debtor name on payment files

-- Per-book rule settings, seeded from config/rules.csv; the shares are in
-- basis points (3000 = 30 %).
CREATE TABLE earmark.book_setting (
	book_id integer NOT NULL REFERENCES earmark.book,
	key     text NOT NULL CHECK (key IN ('advance_share_bp', 'retention_share_bp', 'notice_days')),
	value   integer NOT NULL,
	PRIMARY KEY (book_id, key),
	CHECK (key <> 'notice_days' OR value >= 10),          -- H3: at least 10 days
	CHECK (key NOT LIKE '%_bp' OR value BETWEEN 0 AND 10000)
);

-- A3: the use categories a fund permits.
CREATE TABLE earmark.fund_category (
	book_id     integer NOT NULL,
	fund_id     integer NOT NULL,
	category_id integer NOT NULL,
	PRIMARY KEY (book_id, fund_id, category_id),
	FOREIGN KEY (book_id, fund_id) REFERENCES earmark.fund,
	FOREIGN KEY (book_id, category_id) REFERENCES earmark.use_category
);

-- A3: the negative list (负面清单), versioned: the version in force on a
-- date is the one with the latest valid_from on or before it.
CREATE TABLE earmark.negative_list (
	book_id    integer NOT NULL REFERENCES earmark.book,
	version    integer NOT NULL CHECK (version > 0),
	valid_from date NOT NULL,
	source     text NOT NULL DEFAULT '',            -- the file or document it came from
	loaded_by  name NOT NULL,
	loaded_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (book_id, version),
	UNIQUE (book_id, valid_from)
);
CREATE TABLE earmark.negative_item (
	book_id     integer NOT NULL,
	version     integer NOT NULL,
	category_id integer NOT NULL,
	PRIMARY KEY (book_id, version, category_id),
	FOREIGN KEY (book_id, version) REFERENCES earmark.negative_list,
	FOREIGN KEY (book_id, category_id) REFERENCES earmark.use_category
);

-- H2: at most cap_fen per household, use category and year.
CREATE TABLE earmark.household_cap (
	book_id     integer NOT NULL,
	category_id integer NOT NULL,
	year        smallint NOT NULL CHECK (year BETWEEN 2000 AND 2100),
	cap_fen     bigint NOT NULL CHECK (cap_fen > 0),
	PRIMARY KEY (book_id, category_id, year),
	FOREIGN KEY (book_id, category_id) REFERENCES earmark.use_category
);

ALTER TABLE earmark.fund ADD COLUMN received_on date;  -- P5: when the allocation arrived

ALTER TABLE earmark.household
	ADD COLUMN members smallint NOT NULL DEFAULT 1 CHECK (members BETWEEN 1 AND 99),
	ADD COLUMN status text NOT NULL DEFAULT '一般户'
	           CHECK (status IN ('脱贫户', '监测户', '一般户')),
	ADD COLUMN status_from smallint CHECK (status_from BETWEEN 1980 AND 2100),
	ADD COLUMN status_to smallint CHECK (status_to BETWEEN 1980 AND 2100),
	ADD CONSTRAINT household_status_years CHECK (status_to >= status_from);

-- H4: personal data, readable in the office only.  The ID number is kept
-- in its 18-character form (a 15-digit one is upgraded on the way in) and
-- is unique in a book: one person, one household.
CREATE TABLE earmark.household_private (
	book_id      integer NOT NULL,
	household_id integer NOT NULL,
	id_no        text NOT NULL CHECK (id_no ~ '^[0-9]{17}[0-9X]$'),
	bank_card    text NOT NULL DEFAULT '' CHECK (bank_card ~ '^([0-9]{12,30})?$'),
	bank_cnaps   text NOT NULL DEFAULT '' CHECK (bank_cnaps ~ '^([0-9]{12})?$'),
	phone        text NOT NULL DEFAULT '' CHECK (phone ~ '^([0-9+-]{5,20})?$'),
	PRIMARY KEY (book_id, household_id),
	UNIQUE (book_id, id_no),
	FOREIGN KEY (book_id, household_id) REFERENCES earmark.household,
	CHECK ((bank_card = '') = (bank_cnaps = ''))
);

ALTER TABLE earmark.project
	ADD COLUMN scale text NOT NULL DEFAULT '',              -- 建设内容及规模
	ADD COLUMN implementing_unit text NOT NULL DEFAULT '',  -- 实施单位
	ADD COLUMN responsible text NOT NULL DEFAULT '',        -- 责任人
	ADD COLUMN contractor text NOT NULL DEFAULT '',         -- 施工单位 / 供应商
	ADD COLUMN subsidy_standard text NOT NULL DEFAULT '',   -- 补助标准
	ADD COLUMN benefit_mechanism text NOT NULL DEFAULT '',  -- 联农带农机制
	ADD COLUMN planned_start date,
	ADD COLUMN planned_end date,
	ADD CONSTRAINT project_schedule CHECK (planned_end >= planned_start);

CREATE TABLE earmark.project_village (
	book_id    integer NOT NULL,
	project_id integer NOT NULL,
	village_id integer NOT NULL,
	PRIMARY KEY (book_id, project_id, village_id),
	FOREIGN KEY (book_id, project_id) REFERENCES earmark.project,
	FOREIGN KEY (book_id, village_id) REFERENCES earmark.village
);

-- 绩效目标: P1 needs at least one.
CREATE TABLE earmark.project_target (
	book_id    integer NOT NULL,
	project_id integer NOT NULL,
	target_no  smallint NOT NULL CHECK (target_no > 0),
	kind       text NOT NULL CHECK (kind IN ('产出', '效益', '满意度')),
	indicator  text NOT NULL CHECK (indicator <> ''),
	value      text NOT NULL CHECK (value <> ''),
	PRIMARY KEY (book_id, project_id, target_no),
	FOREIGN KEY (book_id, project_id) REFERENCES earmark.project
);

-- P2: the original plan per fund; changes are budget_revision rows.
CREATE TABLE earmark.project_budget (
	book_id     integer NOT NULL,
	project_id  integer NOT NULL,
	fund_id     integer NOT NULL,
	original_fen bigint NOT NULL CHECK (original_fen > 0),
	PRIMARY KEY (book_id, project_id, fund_id),
	FOREIGN KEY (book_id, project_id) REFERENCES earmark.project,
	FOREIGN KEY (book_id, fund_id) REFERENCES earmark.fund
);
CREATE TABLE earmark.budget_revision (
	book_id        integer NOT NULL,
	revision_id    integer GENERATED ALWAYS AS IDENTITY,
	project_id     integer NOT NULL,
	fund_id        integer NOT NULL,
	revised_on     date NOT NULL,
	amount_fen     bigint NOT NULL CHECK (amount_fen >= 0),
	doc_no         text NOT NULL CHECK (doc_no <> ''),  -- the approval of the change
	reapproval_doc text NOT NULL DEFAULT '',            -- P2: needed beyond +10 %
	recorded_by    name NOT NULL,
	recorded_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (book_id, revision_id),
	FOREIGN KEY (book_id, project_id, fund_id) REFERENCES earmark.project_budget
);

-- The project's life: approval (立项批复), start (开工), progress (进度
-- reported), inspection (检查验收 of progress: the verified figure P3
-- uses), acceptance (竣工验收).
CREATE TABLE earmark.project_event (
	book_id      integer NOT NULL,
	event_id     integer GENERATED ALWAYS AS IDENTITY,
	project_id   integer NOT NULL,
	kind         text NOT NULL CHECK (kind IN ('approval', 'start', 'progress', 'inspection', 'acceptance')),
	event_date   date NOT NULL,
	progress_pct numeric(5, 2) CHECK (progress_pct BETWEEN 0 AND 100),
	doc_no       text NOT NULL DEFAULT '',
	note         text NOT NULL DEFAULT '',
	recorded_by  name NOT NULL,
	recorded_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (book_id, event_id),
	FOREIGN KEY (book_id, project_id) REFERENCES earmark.project,
	CHECK ((kind IN ('progress', 'inspection')) = (progress_pct IS NOT NULL)),
	CHECK (kind NOT IN ('approval', 'acceptance') OR doc_no <> '')
);
CREATE UNIQUE INDEX project_event_once ON earmark.project_event (book_id, project_id, kind)
	WHERE kind IN ('approval', 'start', 'acceptance');

-- Kept at posting (0007): net spend per project and fund (P2, P3) and per
-- household, project, category and year (H2).
CREATE TABLE earmark.project_spend (
	book_id     integer NOT NULL,
	project_id  integer NOT NULL,
	fund_id     integer NOT NULL,
	spent_fen   bigint NOT NULL,          -- all spend lines
	contract_fen bigint NOT NULL,         -- those without a household (P3)
	PRIMARY KEY (book_id, project_id, fund_id),
	FOREIGN KEY (book_id, project_id) REFERENCES earmark.project,
	FOREIGN KEY (book_id, fund_id) REFERENCES earmark.fund
);
CREATE TABLE earmark.household_spend (
	book_id      integer NOT NULL,
	household_id integer NOT NULL,
	project_id   integer NOT NULL,
	category_id  integer NOT NULL,
	year         smallint NOT NULL,
	spent_fen    bigint NOT NULL,
	PRIMARY KEY (book_id, household_id, project_id, category_id, year),
	FOREIGN KEY (book_id, household_id) REFERENCES earmark.household,
	FOREIGN KEY (book_id, project_id) REFERENCES earmark.project,
	FOREIGN KEY (book_id, category_id) REFERENCES earmark.use_category
);

-- 受益名单: who a project pays, how much, for what; disclosed (公示) from
-- published_on for notice_days days; paid only after (H3).
CREATE TABLE earmark.beneficiary_list (
	book_id      integer NOT NULL,
	list_id      integer GENERATED ALWAYS AS IDENTITY,
	code         text NOT NULL CHECK (code ~ '^[A-Za-z0-9_.-]{1,32}$'),
	project_id   integer NOT NULL,
	title        text NOT NULL CHECK (title <> ''),
	created_by   name NOT NULL,
	created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
	published_on date,
	notice_days  smallint CHECK (notice_days >= 10),
	published_by name,
	PRIMARY KEY (book_id, list_id),
	UNIQUE (book_id, code),
	FOREIGN KEY (book_id, project_id) REFERENCES earmark.project,
	CHECK ((published_on IS NULL) = (notice_days IS NULL)),
	CHECK ((published_on IS NULL) = (published_by IS NULL))
);
CREATE TABLE earmark.beneficiary (
	book_id      integer NOT NULL,
	list_id      integer NOT NULL,
	household_id integer NOT NULL,
	item         text NOT NULL DEFAULT '',  -- the project item (补助项目), H2's "same item"
	amount_fen   bigint NOT NULL CHECK (amount_fen > 0),
	cost_fen     bigint CHECK (cost_fen > 0), -- H2: the recorded cost, where one applies
	standard     text NOT NULL DEFAULT '',  -- 补助标准 for this line
	PRIMARY KEY (book_id, list_id, household_id, item),
	FOREIGN KEY (book_id, list_id) REFERENCES earmark.beneficiary_list,
	FOREIGN KEY (book_id, household_id) REFERENCES earmark.household,
	CHECK (cost_fen IS NULL OR amount_fen <= cost_fen)
);
CREATE TABLE earmark.objection (
	book_id      integer NOT NULL,
	objection_id integer GENERATED ALWAYS AS IDENTITY,
	list_id      integer NOT NULL,
	household_id integer NOT NULL,
	raised_on    date NOT NULL,
	reason       text NOT NULL CHECK (reason <> ''),
	recorded_by  name NOT NULL,
	resolved_on  date,
	resolution   text,
	resolved_by  name,
	PRIMARY KEY (book_id, objection_id),
	FOREIGN KEY (book_id, list_id) REFERENCES earmark.beneficiary_list,
	FOREIGN KEY (book_id, household_id) REFERENCES earmark.household,
	CHECK ((resolved_on IS NULL) = (resolution IS NULL) AND (resolved_on IS NULL) = (resolved_by IS NULL)),
	CHECK (resolved_on >= raised_on)
);

-- 报账: a project's claim with its documents (P4), and the vouchers it made.
CREATE TABLE earmark.project_claim (
	book_id            integer NOT NULL,
	claim_id           integer GENERATED ALWAYS AS IDENTITY,
	project_id         integer NOT NULL,
	fund_id            integer NOT NULL,
	amount_fen         bigint NOT NULL CHECK (amount_fen > 0),
	claim_date         date NOT NULL,
	inspection_doc     text NOT NULL CHECK (inspection_doc <> ''),
	plan_doc           text NOT NULL CHECK (plan_doc <> ''),
	contract_doc       text NOT NULL CHECK (contract_doc <> ''),
	receipts           text[] NOT NULL CHECK (pg_catalog.cardinality(receipts) > 0),
	payable_voucher_id bigint NOT NULL,
	payment_voucher_id bigint NOT NULL,
	idem_key           text CHECK (idem_key ~ '^[\x21-\x7e]{1,128}$'),
	idem_digest        bytea,
	created_by         name NOT NULL,
	created_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (book_id, claim_id),
	UNIQUE (book_id, idem_key),
	FOREIGN KEY (book_id, project_id) REFERENCES earmark.project,
	FOREIGN KEY (book_id, fund_id) REFERENCES earmark.fund,
	FOREIGN KEY (book_id, payable_voucher_id) REFERENCES earmark.voucher,
	FOREIGN KEY (book_id, payment_voucher_id) REFERENCES earmark.voucher
);

-- Household payment batches: the CSV goes into pay_staging by COPY, the
-- checks run set-based, then pay_batch, household_payment and two draft
-- vouchers are written: payable (转: Dr 5001 per household / Cr 2303 per
-- fund) and payment (付: Dr 2303 / Cr 1002 per fund).
CREATE UNLOGGED TABLE earmark.pay_staging (
	stage_id   bigint NOT NULL,
	line_no    integer NOT NULL,     -- the CSV line, for messages
	household  text,
	amount_fen bigint,
	project    text,
	fund       text,
	category   text,
	list       text,
	item       text,
	memo       text,
	staged_by  name NOT NULL,        -- set by a trigger (0007): whoever inserts
	staged_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
	PRIMARY KEY (staged_by, stage_id, line_no)   -- nobody can squat another's stage
);
CREATE SEQUENCE earmark.pay_stage_seq;
-- Clerks may INSERT (COPY) but not read it; earmark.pay_batch reads only
-- the caller's own rows.  (Row-level security would be the natural fence,
-- but COPY FROM refuses tables that have it.)

CREATE TABLE earmark.pay_batch (
	book_id            integer NOT NULL,
	batch_id           integer GENERATED ALWAYS AS IDENTITY,
	code               text NOT NULL CHECK (code ~ '^[A-Za-z0-9_.-]{1,24}$'),
	pay_date           date NOT NULL,        -- the vouchers' date and ReqdExctnDt
	source             text NOT NULL DEFAULT '',
	payable_voucher_id bigint NOT NULL,
	payment_voucher_id bigint NOT NULL,
	idem_key           text CHECK (idem_key ~ '^[\x21-\x7e]{1,128}$'),
	idem_digest        bytea,
	created_by         name NOT NULL,
	created_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
	exported_at        timestamptz,
	exported_by        name,
	PRIMARY KEY (book_id, batch_id),
	UNIQUE (book_id, code),
	UNIQUE (book_id, idem_key),
	FOREIGN KEY (book_id, payable_voucher_id) REFERENCES earmark.voucher,
	FOREIGN KEY (book_id, payment_voucher_id) REFERENCES earmark.voucher
);

-- One payment to one household: issued (batch posted) -> sent (in a
-- pain.001 file) -> paid | returned (bank statement).
CREATE TABLE earmark.household_payment (
	book_id       integer NOT NULL,
	payment_id    bigint GENERATED ALWAYS AS IDENTITY,
	batch_id      integer NOT NULL,
	line_no       integer NOT NULL,
	household_id  integer NOT NULL,
	project_id    integer NOT NULL,
	fund_id       integer NOT NULL,
	category_id   integer NOT NULL,
	list_id       integer NOT NULL,
	item          text NOT NULL,
	amount_fen    bigint NOT NULL CHECK (amount_fen > 0),
	end_to_end_id text NOT NULL CHECK (end_to_end_id ~ '^[A-Za-z0-9-]{1,35}$'),
	status        text NOT NULL DEFAULT 'issued' CHECK (status IN ('issued', 'sent', 'paid', 'returned')),
	status_at     timestamptz NOT NULL DEFAULT pg_catalog.now(),
	status_by     name NOT NULL,
	PRIMARY KEY (book_id, payment_id),
	UNIQUE (book_id, end_to_end_id),
	UNIQUE (book_id, batch_id, line_no),
	FOREIGN KEY (book_id, batch_id) REFERENCES earmark.pay_batch,
	FOREIGN KEY (book_id, household_id) REFERENCES earmark.household,
	FOREIGN KEY (book_id, project_id) REFERENCES earmark.project,
	FOREIGN KEY (book_id, fund_id) REFERENCES earmark.fund,
	FOREIGN KEY (book_id, category_id) REFERENCES earmark.use_category,
	FOREIGN KEY (book_id, list_id) REFERENCES earmark.beneficiary_list
);
-- H2: the same household is not paid twice for the same project item
-- (a returned payment may be issued again).
CREATE UNIQUE INDEX household_payment_once ON earmark.household_payment
	(book_id, project_id, household_id, item) WHERE status <> 'returned';
