-- 0012: a directory search in one round trip (directory_search_page, below)
-- and an exact rebuild of one organisation's search start bounds
-- (directory_search_hints_rebuild). No table changes; no new personal data.
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

-- directory_search_page finds one page of a directory search in one round
-- trip (directory.Store.Search): the IDs of the page's entries in name order,
-- the number of matches counted up to count_limit (NULL: all) and whether
-- there are more than that.
--
-- Why a function: the search used to take up to four round trips (collect
-- and count, count again, walk, addresses), and its name-order walk started
-- at a bound computed inside the statement, which the planner could not see.
-- Here the bound is computed first and every statement is planned with the
-- organisation, the folded pattern and the bound as constants (EXECUTE
-- format(... %L ...), all quoted), so PostgreSQL picks per query between the
-- trigram index (a selective text), a range of the name index from the bound
-- (a character whose entries sort late, e.g. CJK) and a scan that stops early
-- (a frequent match). Up to count_limit + 1 matches are collected in one
-- statement, which counts them and sorts out the page when there are no more;
-- otherwise the page is read by walking the name index from the bound.
--
-- pattern is the search text as typed; it is folded (directory_fold) before
-- LIKE's wildcards are escaped, so no folded character becomes a wildcard.
-- digits is the text's digits (with a leading +) when it looks like a phone
-- number, else ''. STABLE: its statements use the caller's snapshot, so the
-- caller's join sees exactly the entries it returns. No personal data is
-- stored; it reads names and addresses.
CREATE FUNCTION directory_search_page(org uuid, pattern text, digits text, folder uuid, in_root boolean,
        published_only boolean, lim integer, off integer, count_limit integer)
    RETURNS TABLE (ids uuid[], total integer, more boolean)
    LANGUAGE plpgsql STABLE ROWS 1 AS $$
DECLARE
    t      text := directory_fold(btrim(pattern));
    cond   text := format('e.organisation_id = %L', org);
    bound  text := '';
    n      integer;
    page   uuid[];
BEGIN
    IF t <> '' THEN
        cond := cond || format(' AND (e.search_text LIKE %L', '%' || replace(replace(replace(t, '\', '\\'), '%', '\%'), '_', '\_') || '%');
        IF digits <> '' THEN
            cond := cond || format(' OR e.search_text LIKE %L', '%' || replace(replace(replace(digits, '\', '\\'), '%', '\%'), '_', '\_') || '%');
        END IF;
        cond := cond || ')';
        -- Every match holds each character of t, so it sorts at or after
        -- each character's bound (migration 0006), thus after the largest.
        -- The digits alternative matches other text: with one, the smaller
        -- of the two starts (a character without a bound gives '').
        SELECT coalesce(max(h.first_sort), '') INTO bound FROM directory_search_hints h
            WHERE h.organisation_id = org AND h.ch = ANY (string_to_array(t, NULL));
        IF digits <> '' THEN
            SELECT least(bound, coalesce(max(h.first_sort), '')) INTO bound FROM directory_search_hints h
                WHERE h.organisation_id = org AND h.ch = ANY (string_to_array(digits, NULL));
        END IF;
        IF bound <> '' THEN
            cond := cond || format(' AND e.sort_name >= %L COLLATE "C"', bound);
        END IF;
    END IF;
    IF folder IS NOT NULL THEN
        cond := cond || format(' AND e.folder_id = %L', folder);
    ELSIF in_root THEN
        cond := cond || ' AND e.folder_id IS NULL';
    END IF;
    IF published_only THEN
        cond := cond || ' AND e.published';
    END IF;

    IF count_limit IS NULL THEN
        EXECUTE 'SELECT count(*) FROM directory_entries e WHERE ' || cond INTO n;
        total := n;
        more := false;
    ELSE
        -- The page is sorted out of the collected matches only when they
        -- are all of them (a top-N sort); past count_limit the walk below
        -- finds it.
        EXECUTE format('WITH hits AS MATERIALIZED (SELECT e.id, e.sort_name FROM directory_entries e WHERE %s LIMIT %s)
            SELECT c.n, CASE WHEN c.n <= %s THEN (SELECT array_agg(p.id) FROM
                (SELECT h.id FROM hits h ORDER BY h.sort_name, h.id LIMIT %s OFFSET %s) p) END
            FROM (SELECT count(*)::integer AS n FROM hits) c',
            cond, count_limit + 1, count_limit, lim, off) INTO n, page;
        IF n <= count_limit THEN
            RETURN QUERY SELECT coalesce(page, '{}'), n, false;
            RETURN;
        END IF;
        total := count_limit;
        more := true;
    END IF;
    IF n = 0 OR off >= n AND NOT more THEN
        RETURN QUERY SELECT '{}'::uuid[], total, more;
        RETURN;
    END IF;
    EXECUTE format('SELECT array_agg(s.id) FROM (SELECT e.id FROM directory_entries e WHERE %s
        ORDER BY e.sort_name, e.id LIMIT %s OFFSET %s) s', cond, lim, off) INTO page;
    RETURN QUERY SELECT coalesce(page, '{}'), total, more;
END
$$;

COMMENT ON FUNCTION directory_search_page(uuid, text, text, uuid, boolean, boolean, integer, integer, integer) IS 'One page of a directory search: entry IDs in name order, the match count up to count_limit and whether there are more.';
