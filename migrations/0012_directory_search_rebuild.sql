-- 0012: an exact rebuild of one organisation's search start bounds.
--
-- Why: the statement triggers of migration 0006 only ever lower a bound in
-- directory_search_hints (lowering is always correct; raising it needs every
-- entry holding the character). After many renames and deletions, or a large
-- sync that replaced most names, the bounds sit lower than they need to, and a
-- search for a character whose entries all sort late walks from further back
-- than it must. directory_search_hints_rebuild(org) recomputes the
-- organisation's bounds from its current entries: each becomes exactly the
-- first 32 characters of the smallest sort_name holding the character, and the
-- characters no entry holds lose their row (no row: the walk starts at the
-- beginning, which is correct). The Go side calls it after large syncs
-- (directory.Store.RebuildSearchHints).
--
-- Concurrency: a raised bound is only correct if no entry the rebuild did not
-- see holds the character with a smaller name. Every writer of
-- directory_entries writes directory_search_hints in the same transaction (the
-- 0006 triggers run at the end of each statement), so the rebuild first takes
-- directory_search_hints in EXCLUSIVE mode: it waits for the transactions that
-- have written bounds to end, and holds back new writers' triggers until it
-- commits; searches (plain reads) go on. Each statement after the lock sees
-- every entry whose bounds were written before it; a writer held back lowers
-- the bounds for its own entries once the rebuild commits. This needs a new
-- snapshot per statement, so the function refuses to run at REPEATABLE READ or
-- SERIALIZABLE (their snapshot predates the lock). Writers of other
-- organisations wait for the rebuild too (it reads one organisation's entries:
-- ~0.1-0.3 s at 100 000), so it is meant for after a large change, not for
-- every write.
--
-- Personal data: as in 0006, first_sort holds up to 32 characters of a current
-- entry's lower-case name; the rebuild takes them only from current entries, so
-- it also drops every 3-character remnant of a deleted or renamed one.

CREATE FUNCTION directory_search_hints_rebuild(org uuid) RETURNS integer
    LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    changed integer;
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'directory_search_hints_rebuild needs READ COMMITTED, not %', current_setting('transaction_isolation');
    END IF;
    LOCK TABLE directory_search_hints IN EXCLUSIVE MODE;
    WITH exact AS (
        SELECT c.ch, left(min(e.sort_name), 32) AS first_sort
        FROM directory_entries e, unnest(string_to_array(translate(e.search_text, '0123456789 .@+-_', ''), NULL)) AS c (ch)
        WHERE e.organisation_id = org
        GROUP BY c.ch
    ), gone AS (
        DELETE FROM directory_search_hints h
        WHERE h.organisation_id = org AND NOT EXISTS (SELECT 1 FROM exact x WHERE x.ch = h.ch)
        RETURNING 1
    ), set AS (
        INSERT INTO directory_search_hints AS h (organisation_id, ch, first_sort)
        SELECT org, x.ch, x.first_sort FROM exact x
        ORDER BY x.ch
        ON CONFLICT (organisation_id, ch) DO UPDATE SET first_sort = excluded.first_sort
            WHERE h.first_sort IS DISTINCT FROM excluded.first_sort
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM set) INTO changed;
    RETURN changed;
END
$$;

COMMENT ON FUNCTION directory_search_hints_rebuild(uuid) IS 'Recomputes one organisation''s search start bounds exactly; returns the number of bounds added, changed or removed. Run at READ COMMITTED.';
