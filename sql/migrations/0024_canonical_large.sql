-- 0024: the canonical text (D8) of a large voucher joins its codes the
-- right way round (issue 3, the 100,000-line batch).
--
-- A voucher is hashed into the chain as it is posted, moments after its
-- lines were written, so the statistics of earmark.line do not know it yet:
-- the planner takes the voucher for one line.  For a batch's payable
-- voucher of 100,000 lines it then built a hash table of the lines and
-- probed it with the accounts, then hashed the result again for the
-- categories, the villages and the households: four hash tables of 100,000
-- wide rows, where the codes (17 accounts, 15 categories, 400 villages,
-- the households) are the small side.  The same query with the statistics
-- up to date (ANALYZE earmark.line, which a posting cannot afford) took
-- 218 to 228 ms against 391 to 524 ms.
--
-- So above 1,000 lines (where 0020 already plans the voucher for itself)
-- the lines come from voucher_lines_many, a function the planner cannot
-- inline and whose ROWS tells it the lines are many, and the codes are
-- joined to it as line_coded (0006) joins them to earmark.line, except that
-- the account and the fund are LEFT JOINs too.  That gives the same rows,
-- since every line's account and fund exist (0010's statement triggers
-- refuse a line with an unknown one, EMR01, or pay_batch resolved them
-- itself, 0022; and masters are never deleted or moved: master_keep), and
-- it keeps the planner's estimate at the lines' count all the way up, where
-- an inner join to a function's rows, which have no statistics, would bring
-- it down to a few and the households would be joined the wrong way round
-- again.  The text of a line is canon_line's both ways, so they cannot
-- drift apart, and the bytes are those of 0020 (sql/tests/pay_batch.sql
-- compares a 5,000-line voucher's text with the one line_coded gives).
--
-- On the bench county, a fresh session, the payable voucher of 100,000
-- lines before it was posted: 198 to 209 ms against 360 to 472 ms (three
-- sessions each, alternated).  In later calls of one session the old form
-- took 238 to 305 ms, the new one the same 198 to 216 ms.
--
-- Both run with the caller's rights, as canonical_text and line_coded do,
-- so row-level security reads the lines for the caller either way.

-- One line of the canonical text, newline included (0002's format).  SQL
-- without SET, so that the planner inlines it (as canon_escape, 0010).
CREATE FUNCTION earmark.canon_line(line_no integer, account text, side text, amount_fen bigint, fund text,
                                   project text, village text, household text, bank_account text,
                                   category text, memo text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT pg_catalog.concat_ws(E'\t', 'line', line_no, account, side, amount_fen, fund,
	                            COALESCE(project, ''), COALESCE(village, ''),
	                            COALESCE(household, ''), COALESCE(bank_account, ''),
	                            COALESCE(category, ''), earmark.canon_escape(memo)) OPERATOR(pg_catalog.||) E'\n'
$$;

-- The lines of one voucher, estimated at 100,000 rows: PL/pgSQL, so that
-- the planner keeps the estimate instead of inlining the query.
CREATE FUNCTION earmark.voucher_lines_many(b integer, v bigint) RETURNS SETOF earmark.line
LANGUAGE plpgsql STABLE ROWS 100000 SET search_path = pg_catalog, pg_temp AS $$
BEGIN
	RETURN QUERY SELECT * FROM earmark.line WHERE book_id = b AND voucher_id = v;
END
$$;

-- As in 0020, the same bytes; above 1,000 lines the lines come from
-- voucher_lines_many.
CREATE OR REPLACE FUNCTION earmark.canonical_text(v earmark.voucher) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = auto SET enable_nestloop = on SET work_mem = '64MB' SET jit = off AS $$
DECLARE
	body text;
BEGIN
	IF EXISTS (SELECT 1 FROM earmark.line
	            WHERE book_id = v.book_id AND voucher_id = v.voucher_id AND line_no > 1000) THEN
		PERFORM pg_catalog.set_config('enable_nestloop', 'off', true);
		PERFORM pg_catalog.set_config('plan_cache_mode', 'force_custom_plan', true);
		-- line_coded's joins (0006), over the lines estimated as many, all LEFT
		-- (see above)
		SELECT pg_catalog.string_agg(
		         earmark.canon_line(l.line_no, a.code, l.side, l.amount_fen, f.code, p.code, vi.code, h.code,
		                            da.account_no, c.code, l.memo), '' ORDER BY l.line_no)
		  INTO body
		  FROM earmark.voucher_lines_many(v.book_id, v.voucher_id) l
		  LEFT JOIN earmark.account a ON a.book_id = l.book_id AND a.account_id = l.account_id
		  LEFT JOIN earmark.fund f ON f.book_id = l.book_id AND f.fund_id = l.fund_id
		  LEFT JOIN earmark.project p ON p.book_id = l.book_id AND p.project_id = l.project_id
		  LEFT JOIN earmark.village vi ON vi.book_id = l.book_id AND vi.village_id = l.village_id
		  LEFT JOIN earmark.household h ON h.book_id = l.book_id AND h.household_id = l.household_id
		  LEFT JOIN earmark.dedicated_account da
		         ON da.book_id = l.book_id AND da.bank_account_id = l.bank_account_id
		  LEFT JOIN earmark.use_category c ON c.book_id = l.book_id AND c.category_id = l.category_id;
	ELSE
		SELECT pg_catalog.string_agg(
		         earmark.canon_line(l.line_no, l.account, l.side, l.amount_fen, l.fund, l.project, l.village,
		                            l.household, l.bank_account, l.category, l.memo), '' ORDER BY l.line_no)
		  INTO body
		  FROM earmark.line_coded l
		 WHERE l.book_id = v.book_id AND l.voucher_id = v.voucher_id;
	END IF;
	RETURN (
	SELECT 'earmark-voucher-v1' || E'\n'
		    || 'book' || E'\t' || earmark.canon_escape(bk.code) || E'\n'
		    || 'seq' || E'\t' || v.chain_seq || E'\n'
		    || 'number' || E'\t' || v.number_text || E'\n'
		    || 'type' || E'\t' || v.vtype || E'\n'
		    || 'date' || E'\t' || pg_catalog.to_char(v.voucher_date, 'YYYY-MM-DD') || E'\n'
		    || 'reverses' || E'\t' || COALESCE(o.number_text, '') || E'\n'
		    || 'memo' || E'\t' || earmark.canon_escape(v.memo) || E'\n'
		    || 'prepared_by' || E'\t' || earmark.canon_escape(v.prepared_by) || E'\n'
		    || 'reviewed_by' || E'\t' || earmark.canon_escape(v.reviewed_by) || E'\n'
		    || 'posted_by' || E'\t' || earmark.canon_escape(v.posted_by) || E'\n'
		    || 'posted_at' || E'\t'
		    || pg_catalog.to_char(v.posted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || E'\n'
		    || COALESCE(body, '')
		  FROM earmark.book bk
		  LEFT JOIN earmark.voucher o ON o.book_id = v.book_id AND o.voucher_id = v.reverses_id
		 WHERE bk.book_id = v.book_id
	);
END
$$;

REVOKE ALL ON FUNCTION earmark.canon_line(integer, text, text, bigint, text, text, text, text, text, text, text),
	earmark.voucher_lines_many(integer, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION earmark.canon_line(integer, text, text, bigint, text, text, text, text, text, text, text),
	earmark.voucher_lines_many(integer, bigint)
	TO earmark_clerk, earmark_reviewer, earmark_bookkeeper, earmark_cashier, earmark_admin,
	   earmark_auditor;
