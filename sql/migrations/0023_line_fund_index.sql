-- 0023: one index fewer on earmark.line (issue 3, the 100,000-line batch).
--
-- line_book_fund (0001) served the foreign key of line to fund: deleting or
-- re-keying a fund had to find its lines.  0010 dropped those foreign keys
-- and made masters undeletable and unmovable (master_keep), so nothing
-- looks lines up by fund alone any more.  Every reader of lines goes by
-- voucher (the primary key), or by household, project, village or bank
-- account (their own partial indexes), or by the kept totals
-- (period_balance, day_balance, fund_spend_day, spend_month, project_spend):
-- the fund filters of the ledgers and reports (0003, 0013) are conditions
-- on lines already found by voucher date or by one of those indexes.  A
-- county has tens of funds, so a fund is a large share of the book, which
-- an index would not help to read anyway.
--
-- The index cost one entry per line: 100,000 entries (and their WAL) for a
-- 100,000-line batch voucher, about 0.1 s of `pay batch` on the 2-core
-- machine, and one entry for every line any voucher ever has.

DROP INDEX earmark.line_book_fund;
