-- 0001 the ledger's tables.
--
-- Every table's key starts with book_id so that books shard cleanly
-- (DESIGN section 10), and every foreign key between book-owned rows
-- includes book_id so that a line can never point into another book.
-- Money is bigint fen.  The rules of DESIGN section 4 that a constraint can
-- say are said here; the rest live in 0002 (functions and triggers).
-- Application roles get no privileges on these tables except SELECT
-- (0004); all writes go through the functions.

CREATE TABLE earmark.book (
	book_id    integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code       text NOT NULL UNIQUE
	           CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$'),
	name       text NOT NULL CHECK (name <> ''),
	start_date date NOT NULL,               -- nothing may be dated before it
	created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
	created_by name NOT NULL
);

-- Chart of accounts (政府会计制度 codes), seeded per book from config/accounts.csv.
CREATE TABLE earmark.account (
	book_id     integer NOT NULL REFERENCES earmark.book,
	account_id  integer GENERATED ALWAYS AS IDENTITY,
	code        text NOT NULL CHECK (code ~ '^[0-9]{4}([0-9]{2}){0,3}$'),
	name        text NOT NULL CHECK (name <> ''),
	kind        text NOT NULL
	            CHECK (kind IN ('asset', 'liability', 'net_assets', 'revenue', 'expense')),
	normal_side text NOT NULL CHECK (normal_side IN ('D', 'C')),
	is_bank     boolean NOT NULL DEFAULT false, -- a line on it moves a dedicated account (A1, A2)
	PRIMARY KEY (book_id, account_id),
	UNIQUE (book_id, code)
);

-- 用途: what money is spent on; funds permit some (A3, completed later).
CREATE TABLE earmark.use_category (
	book_id     integer NOT NULL REFERENCES earmark.book,
	category_id integer GENERATED ALWAYS AS IDENTITY,
	code        text NOT NULL CHECK (code ~ '^[A-Za-z0-9_.-]{1,32}$'),
	name        text NOT NULL CHECK (name <> ''),
	PRIMARY KEY (book_id, category_id),
	UNIQUE (book_id, code)
);

-- 专户: a bank account that holds only special funds.
CREATE TABLE earmark.dedicated_account (
	book_id         integer NOT NULL REFERENCES earmark.book,
	bank_account_id integer GENERATED ALWAYS AS IDENTITY,
	account_no      text NOT NULL CHECK (account_no ~ '^[0-9A-Za-z-]{6,34}$'),
	bank_name       text NOT NULL CHECK (bank_name <> ''),
	cnaps           text NOT NULL CHECK (cnaps ~ '^[0-9]{12}$'), -- 支付系统行号
	PRIMARY KEY (book_id, bank_account_id),
	UNIQUE (book_id, account_no)
);

-- 资金: one allocation of special money, held in one dedicated account.
CREATE TABLE earmark.fund (
	book_id         integer NOT NULL REFERENCES earmark.book,
	fund_id         integer GENERATED ALWAYS AS IDENTITY,
	code            text NOT NULL CHECK (code ~ '^[A-Za-z0-9_.-]{1,32}$'),
	name            text NOT NULL CHECK (name <> ''),
	level           text NOT NULL CHECK (level IN ('central', 'province', 'city', 'county')),
	fund_type       text NOT NULL DEFAULT '',
	year            smallint NOT NULL CHECK (year BETWEEN 2000 AND 2100),
	doc_no          text NOT NULL DEFAULT '',  -- 文号 of the allocation document
	amount_fen      bigint NOT NULL CHECK (amount_fen >= 0),
	bank_account_id integer NOT NULL,
	PRIMARY KEY (book_id, fund_id),
	UNIQUE (book_id, code),
	FOREIGN KEY (book_id, bank_account_id) REFERENCES earmark.dedicated_account
);

CREATE TABLE earmark.village (
	book_id    integer NOT NULL REFERENCES earmark.book,
	village_id integer GENERATED ALWAYS AS IDENTITY,
	code       text NOT NULL CHECK (code ~ '^[0-9]{12}$'), -- 统计用区划代码
	name       text NOT NULL CHECK (name <> ''),
	township   text NOT NULL DEFAULT '',
	county     text NOT NULL DEFAULT '',
	PRIMARY KEY (book_id, village_id),
	UNIQUE (book_id, code)
);

-- Minimal here; personal data and the H rules come with the disbursement work.
CREATE TABLE earmark.household (
	book_id      integer NOT NULL REFERENCES earmark.book,
	household_id integer GENERATED ALWAYS AS IDENTITY,
	code         text NOT NULL CHECK (code ~ '^[A-Za-z0-9_.-]{1,32}$'),
	village_id   integer NOT NULL,
	head_name    text NOT NULL CHECK (head_name <> ''),
	PRIMARY KEY (book_id, household_id),
	UNIQUE (book_id, code),
	FOREIGN KEY (book_id, village_id) REFERENCES earmark.village
);

-- Minimal here; budgets, targets and the P rules come with the disbursement work.
CREATE TABLE earmark.project (
	book_id     integer NOT NULL REFERENCES earmark.book,
	project_id  integer GENERATED ALWAYS AS IDENTITY,
	code        text NOT NULL CHECK (code ~ '^[A-Za-z0-9_.-]{1,32}$'),
	name        text NOT NULL CHECK (name <> ''),
	category_id integer,
	PRIMARY KEY (book_id, project_id),
	UNIQUE (book_id, code),
	FOREIGN KEY (book_id, category_id) REFERENCES earmark.use_category
);

-- A month of a book.  A month without a row is open; closing writes closed_at (D7).
CREATE TABLE earmark.period (
	book_id   integer NOT NULL REFERENCES earmark.book,
	month     date NOT NULL CHECK (month = pg_catalog.date_trunc('month', month)::date),
	closed_at timestamptz,
	closed_by name,
	PRIMARY KEY (book_id, month),
	CHECK ((closed_at IS NULL) = (closed_by IS NULL))
);

-- 凭证.  Draft -> reviewed -> posted; posted rows never change (D3).
CREATE TABLE earmark.voucher (
	book_id      integer NOT NULL REFERENCES earmark.book,
	voucher_id   bigint GENERATED ALWAYS AS IDENTITY,
	vtype        text NOT NULL DEFAULT '记' CHECK (vtype IN ('记', '收', '付', '转')),
	voucher_date date NOT NULL,
	memo         text NOT NULL DEFAULT '',
	status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'reviewed', 'posted')),
	reverses_id  bigint,                   -- D4: the posted voucher this one reverses
	idem_key     text CHECK (idem_key ~ '^[\x21-\x7e]{1,128}$'), -- D9
	idem_digest  bytea,                    -- D9: digest of the request that created it
	prepared_by  name NOT NULL,            -- D6: roles, stamped by the database
	prepared_at  timestamptz NOT NULL,
	reviewed_by  name,
	reviewed_at  timestamptz,
	posted_by    name,
	posted_at    timestamptz,
	month        date,                     -- D5: set at posting
	number       integer,                  -- D5: gapless per book, type and month
	number_text  text,                     -- 记-2026-03-0001
	chain_seq    bigint,                   -- D8: position in the book's hash chain
	chain_hash   bytea,                    -- D8: h(seq)
	PRIMARY KEY (book_id, voucher_id),
	UNIQUE (book_id, idem_key),
	UNIQUE (book_id, reverses_id),         -- D4: reversed at most once
	UNIQUE (book_id, vtype, month, number),
	UNIQUE (book_id, number_text),
	UNIQUE (book_id, chain_seq),
	FOREIGN KEY (book_id, reverses_id) REFERENCES earmark.voucher,
	CHECK ((idem_key IS NULL) = (idem_digest IS NULL)),
	-- D6 as constraints: whatever path writes the row, these hold.
	CHECK (reviewed_by IS NULL OR reviewed_by <> prepared_by),
	CHECK (posted_by IS NULL OR (posted_by <> prepared_by AND posted_by <> reviewed_by)),
	CHECK ((status = 'draft') = (reviewed_by IS NULL)),
	CHECK ((status = 'posted') = (posted_by IS NOT NULL)),
	CHECK ((status = 'posted') = (number IS NOT NULL AND number_text IS NOT NULL
	                              AND month IS NOT NULL AND chain_seq IS NOT NULL
	                              AND chain_hash IS NOT NULL AND posted_at IS NOT NULL)),
	CHECK (number IS NULL OR number > 0),
	CHECK (chain_hash IS NULL OR pg_catalog.length(chain_hash) = 32)
);
CREATE INDEX voucher_book_date ON earmark.voucher (book_id, voucher_date);
CREATE INDEX voucher_book_status ON earmark.voucher (book_id, status) WHERE status <> 'posted';

-- 分录.  side + amount: a 红字 reversal line keeps the side and negates the amount (D4).
CREATE TABLE earmark.line (
	book_id         integer NOT NULL,
	voucher_id      bigint NOT NULL,
	line_no         smallint NOT NULL CHECK (line_no BETWEEN 1 AND 999),
	account_id      integer NOT NULL,
	side            text NOT NULL CHECK (side IN ('D', 'C')),
	amount_fen      bigint NOT NULL CHECK (amount_fen <> 0),
	fund_id         integer NOT NULL,      -- every line belongs to a fund (D2)
	project_id      integer,
	village_id      integer,
	household_id    integer,
	bank_account_id integer,               -- A1: set exactly on bank-account lines
	category_id     integer,
	memo            text NOT NULL DEFAULT '',
	PRIMARY KEY (book_id, voucher_id, line_no),
	FOREIGN KEY (book_id, voucher_id) REFERENCES earmark.voucher,
	FOREIGN KEY (book_id, account_id) REFERENCES earmark.account,
	FOREIGN KEY (book_id, fund_id) REFERENCES earmark.fund,
	FOREIGN KEY (book_id, project_id) REFERENCES earmark.project,
	FOREIGN KEY (book_id, village_id) REFERENCES earmark.village,
	FOREIGN KEY (book_id, household_id) REFERENCES earmark.household,
	FOREIGN KEY (book_id, bank_account_id) REFERENCES earmark.dedicated_account,
	FOREIGN KEY (book_id, category_id) REFERENCES earmark.use_category
);
CREATE INDEX line_book_fund ON earmark.line (book_id, fund_id);
CREATE INDEX line_book_household ON earmark.line (book_id, household_id)
	WHERE household_id IS NOT NULL;

-- Each line with its dimensions as the codes people and auditors read: the
-- one place that resolves them, for the canonical text (D8), voucher display
-- and the chain check.  security_invoker: the reader's own rights apply.
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

-- Movements per book, month, account and fund, kept at posting so that no
-- report scans all lines.  Invariant: equal to the sum of posted lines.
CREATE TABLE earmark.period_balance (
	book_id    integer NOT NULL,
	month      date NOT NULL,
	account_id integer NOT NULL,
	fund_id    integer NOT NULL,
	debit_fen  bigint NOT NULL DEFAULT 0,
	credit_fen bigint NOT NULL DEFAULT 0,
	line_count bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (book_id, month, account_id, fund_id),
	FOREIGN KEY (book_id, account_id) REFERENCES earmark.account,
	FOREIGN KEY (book_id, fund_id) REFERENCES earmark.fund
);

-- A2: each fund's cash in its dedicated account, kept at posting.  The
-- CHECK is the backstop; the posting trigger refuses first with a message.
CREATE TABLE earmark.fund_cash (
	book_id         integer NOT NULL,
	fund_id         integer NOT NULL,
	bank_account_id integer NOT NULL,
	balance_fen     bigint NOT NULL CHECK (balance_fen >= 0),
	PRIMARY KEY (book_id, fund_id, bank_account_id),
	FOREIGN KEY (book_id, fund_id) REFERENCES earmark.fund,
	FOREIGN KEY (book_id, bank_account_id) REFERENCES earmark.dedicated_account
);

-- D5: the last number used per book, voucher type and month.
CREATE TABLE earmark.voucher_counter (
	book_id     integer NOT NULL REFERENCES earmark.book,
	vtype       text NOT NULL,
	month       date NOT NULL,
	last_number integer NOT NULL CHECK (last_number > 0),
	PRIMARY KEY (book_id, vtype, month)
);

-- D8: the head of each book's hash chain.  Its row lock orders all postings of a book.
CREATE TABLE earmark.chain_head (
	book_id integer PRIMARY KEY REFERENCES earmark.book,
	seq     bigint NOT NULL CHECK (seq >= 0),
	hash    bytea NOT NULL CHECK (pg_catalog.length(hash) = 32)
);
