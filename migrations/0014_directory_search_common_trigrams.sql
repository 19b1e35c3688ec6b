-- 0014: a directory search looks up only the rare trigrams of its text in the
-- trigram index and checks the whole text on the rows they find.
--
-- Why: a search matches LIKE '%text%' through the trigram GIN index
-- (directory_entries_search_trgm), which reads the posting list of every
-- trigram of the text and intersects them. In a directory most trigrams are
-- rare, but some are in nearly every entry: the SIP domain ("vid", "ide",
-- "deo" of "@video.example"), the leading digits of user names and numbers
-- ("u04711", "+4721..."), the word edges next to a space ("  0" before the
-- number in every name, "en " after every "...sen"). Reading those lists
-- (100 000 items each at 100 000 entries) was most of the cost of a selective
-- search, and they narrow little that the rare ones have not: server CPU per
-- search, p50 on a loaded machine, "u04711@video" 2.4 -> 1.0 ms, "+47 21 0123"
-- 3.0 -> 1.1 ms, "Thomas O'Brien 0" 5.0 -> 2.6 ms.
--
-- directory_search_common_trigrams keeps, per organisation, the trigrams found
-- in at least 1 % (and 20) of a sample of its entries' search texts and their
-- share.
-- directory_search_common_trigrams_refresh(org) recomputes them (called after
-- the rebuild of the search start bounds, directory.Store.RebuildSearchHints).
-- directory_search_like(org, text) weighs, with those shares, the plain LIKE
-- against looking up only runs of each word's rarer trigrams (each as a
-- LIKE '%run%' on the index, which leaves out the word-edge trigrams such as
-- "  0" and "en " too) and checking the full text on the rows found (strpos,
-- which the index cannot take), and directory_search_page (migration 0012,
-- replaced below) searches with the cheaper. When the organisation has no
-- list, or no trigram of the text is in it, the search is the plain LIKE of
-- migration 0012 (the planner then chooses as before).
--
-- Correctness never depends on the list: every run is a substring of the text,
-- so every entry holding the text holds every run and is found, and the full
-- text is checked on every row found. A list that is out of date (the
-- directory changed since the refresh) or missing only makes a search slower
-- than it could be, never different.
--
-- Personal data: none. A trigram kept is held by at least 1 % and at least 20
-- of the sampled entries: three characters shared by that many people do not
-- name anyone; the table holds nothing else.

CREATE TABLE directory_search_common_trigrams (
    organisation_id uuid PRIMARY KEY REFERENCES organisations (id) ON DELETE CASCADE,
    -- {"vid": 1, "u04": 0.098, "en ": 0.23, ...}: each trigram as pg_trgm's
    -- show_trgm gives it (three characters, word edges padded with spaces)
    -- and the share of the sampled entries holding it, 0.01 to 1. One row,
    -- read whole by every search (a few kilobytes).
    shares          jsonb NOT NULL,
    sampled         integer NOT NULL,      -- entries in the sample
    refreshed_at    timestamptz NOT NULL
);

COMMENT ON TABLE directory_search_common_trigrams IS 'Per organisation: the trigrams in at least 1 % (and 20) of a sample of its entries'' search texts and their share, by which a search chooses what to look up in the trigram index (derived; no personal data).';

-- directory_search_common_trigrams_refresh recomputes one organisation's
-- common trigrams from a sample of 5 000 to 10 000 of its entries (all of them in
-- a smaller directory; a fixed hash of the entry ID picks them, so the same
-- entries give the same list) and returns how many it keeps: word-inner
-- trigrams and word-edge ones (with spaces, "  u", "en "), as show_trgm gives
-- them; its hashed trigrams of other characters than ASCII are not kept (a
-- search takes them as rare). No lock: a list that misses a concurrent change
-- is merely out of date.
CREATE FUNCTION directory_search_common_trigrams_refresh(org uuid) RETURNS integer
    LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    n       integer;
    every   integer;
    m       integer;
    shares  jsonb;
BEGIN
    SELECT count(*) INTO n FROM directory_entries e WHERE e.organisation_id = org;
    every := greatest(1, n / 5000);
    WITH sample AS MATERIALIZED (
        SELECT e.search_text FROM directory_entries e
        WHERE e.organisation_id = org AND (every = 1 OR abs(hashtext(e.id::text) % every) = 0)
    ), counted AS (
        SELECT g.tg, count(*) AS c
        FROM sample s, unnest(public.show_trgm(s.search_text)) AS g (tg)
        WHERE length(g.tg) = 3
        GROUP BY g.tg
    )
    SELECT (SELECT count(*) FROM sample), coalesce(jsonb_object_agg(c.tg, round(c.c::numeric / m.m, 4)), '{}')
    INTO m, shares
    FROM counted c, (SELECT count(*) AS m FROM sample) m
    WHERE c.c >= 0.01 * m.m AND c.c >= 20;
    INSERT INTO directory_search_common_trigrams AS t (organisation_id, shares, sampled, refreshed_at)
    VALUES (org, shares, coalesce(m, 0), now())
    ON CONFLICT (organisation_id) DO UPDATE SET shares = excluded.shares, sampled = excluded.sampled,
        refreshed_at = excluded.refreshed_at;
    RETURN (SELECT count(*) FROM jsonb_object_keys(shares));
END
$$;

COMMENT ON FUNCTION directory_search_common_trigrams_refresh(uuid) IS 'Recomputes one organisation''s common search trigrams from a sample of its entries; returns how many it keeps.';

-- directory_search_like returns the condition (SQL text, constants quoted)
-- that an entry's search_text holds s (folded), for directory_search_page:
-- either the plain LIKE '%s%', or a LIKE '%run%' for chosen runs of the
-- word-inner trigrams of s and strpos(search_text, s) > 0 for the whole.
--
-- It picks the one that reads less, by a cost in posting-list items per
-- entry of the organisation: every trigram looked up costs its share (the
-- GIN index reads its list), every candidate row it leaves costs about 110
-- (a heap fetch and the check; measured on 100 000 entries: ~16 ns per
-- posting item, ~1.8 us per candidate). The plain LIKE looks up every
-- trigram pg_trgm takes from the pattern, word edges included ("  0", "en "
-- next to a space in the text); the runs drop the edges and, in each word,
-- the trigrams far more common than the word's rarest. Candidates are
-- estimated as the product over words of each word's rarest share (trigrams
-- of one word go together; words are taken as independent). A trigram
-- without a share in shares (the organisation's row of
-- directory_search_common_trigrams) is in under 1 % of the entries: 0.005 is
-- assumed. Words are runs of letters and digits, as pg_trgm
-- splits them; a word at the start or end of s has an unknown edge there.
CREATE FUNCTION directory_search_like(shares jsonb, s text) RETURNS text
    LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    k       constant real := 110;    -- a candidate row, in posting items
    rare    constant real := 0.005;  -- the share of a trigram not listed
    parts   text[] := regexp_split_to_array(s, '[^[:alnum:]]+');
    np      integer := cardinality(parts);
    plain   text := format('e.search_text LIKE %L', '%' || replace(replace(replace(s, '\', '\\'), '%', '\%'), '_', '\_') || '%');
    padded  text[] := '{}';  -- each word with the edges pg_trgm sees in '%s%'
    words   text[] := '{}';  -- each word of three characters or more
    wmin    real[] := '{}';  -- its rarest inner trigram's share
    wcost   real[] := '{}';  -- the shares of the inner trigrams its runs keep
    listed  boolean := false;
    p       text;
    x       real;
    m       real;
    c       real;
    i       integer;
    g       integer;
    st      integer;
    cost_a  real := 0;
    cand_a  real := 1;
    cost_b  real := 0;
    cand_b  real := 1;
    runs    text[] := '{}';
    taken   boolean[];
    pass    integer;
    r       text;
BEGIN
    FOR i IN 1 .. np LOOP
        CONTINUE WHEN parts[i] = '';
        padded := padded || (CASE WHEN i > 1 THEN '  ' ELSE '' END || parts[i] || CASE WHEN i < np THEN ' ' ELSE '' END);
        IF length(parts[i]) >= 3 THEN
            words := words || parts[i];
        END IF;
    END LOOP;
    IF cardinality(words) = 0 THEN
        RETURN plain; -- no inner trigram to look up on its own
    END IF;
    IF shares IS NULL OR shares = '{}' THEN
        RETURN plain; -- no list (never refreshed, or a small directory)
    END IF;

    -- The plain LIKE.
    FOREACH p IN ARRAY padded LOOP
        m := 1;
        FOR g IN 1 .. length(p) - 2 LOOP
            x := (shares ->> substr(p, g, 3))::real;
            listed := listed OR x IS NOT NULL;
            x := coalesce(x, rare);
            cost_a := cost_a + x;
            m := least(m, x);
        END LOOP;
        cand_a := cand_a * m;
    END LOOP;
    IF NOT listed THEN
        RETURN plain; -- every trigram is rare: nothing to leave out
    END IF;
    cost_a := cost_a + k * cand_a;

    -- The runs: each word's inner trigrams up to three times its rarest's
    -- share (or 2 %), words taken rarest first while a word saves more
    -- candidates than its lists cost.
    FOR i IN 1 .. cardinality(words) LOOP
        m := 1;
        FOR g IN 1 .. length(words[i]) - 2 LOOP
            m := least(m, coalesce((shares ->> substr(words[i], g, 3))::real, rare));
        END LOOP;
        c := 0;
        FOR g IN 1 .. length(words[i]) - 2 LOOP
            x := coalesce((shares ->> substr(words[i], g, 3))::real, rare);
            IF x <= greatest(3 * m, 0.02) THEN
                c := c + x;
            END IF;
        END LOOP;
        wmin := wmin || m;
        wcost := wcost || c;
        taken := taken || false;
    END LOOP;
    -- Rarest word first (a selection over a handful of words; no query).
    FOR pass IN 1 .. cardinality(words) LOOP
        i := NULL;
        FOR g IN 1 .. cardinality(words) LOOP
            IF NOT taken[g] AND (i IS NULL OR wmin[g] < wmin[i]) THEN
                i := g;
            END IF;
        END LOOP;
        taken[i] := true;
        CONTINUE WHEN cardinality(runs) > 0 AND wcost[i] >= k * cand_b * (1 - wmin[i]);
        cost_b := cost_b + wcost[i];
        cand_b := cand_b * wmin[i];
        st := NULL;
        FOR g IN 1 .. length(words[i]) - 2 LOOP
            IF coalesce((shares ->> substr(words[i], g, 3))::real, rare) <= greatest(3 * wmin[i], 0.02) THEN
                IF st IS NULL THEN
                    st := g;
                END IF;
            ELSIF st IS NOT NULL THEN
                runs := runs || substr(words[i], st, g + 2 - st);
                st := NULL;
            END IF;
        END LOOP;
        IF st IS NOT NULL THEN
            runs := runs || substr(words[i], st);
        END IF;
    END LOOP;
    cost_b := cost_b + k * cand_b;

    IF cost_b >= cost_a THEN
        RETURN plain;
    END IF;
    -- Runs are letters and digits only: nothing in them needs escaping.
    p := '(';
    FOREACH r IN ARRAY runs LOOP
        p := p || format('e.search_text LIKE %L AND ', '%' || r || '%');
    END LOOP;
    RETURN p || format('strpos(e.search_text, %L) > 0)', s);
END
$$;

COMMENT ON FUNCTION directory_search_like(jsonb, text) IS 'The condition that search_text holds a folded text, looking up in the trigram index only the trigrams worth reading; for directory_search_page.';

-- directory_search_page as in migration 0012, with the text's condition from
-- directory_search_like, the bound and the common trigrams read in one query,
-- and no bound looked up for a phone number's digits (they never have one).
CREATE OR REPLACE FUNCTION directory_search_page(org uuid, pattern text, digits text, folder uuid, in_root boolean,
        published_only boolean, lim integer, off integer, count_limit integer)
    RETURNS TABLE (ids uuid[], total integer, more boolean)
    LANGUAGE plpgsql STABLE ROWS 1 AS $$
DECLARE
    t      text := directory_fold(btrim(pattern));
    cond   text := format('e.organisation_id = %L', org);
    bound  text := '';
    shares jsonb;
    n      integer;
    page   uuid[];
BEGIN
    IF t <> '' THEN
        -- Every match holds each character of t, so it sorts at or after
        -- each character's bound (migration 0006), thus after the largest.
        -- The bounds and the organisation's common trigrams in one query.
        SELECT coalesce((SELECT max(h.first_sort) FROM directory_search_hints h
                WHERE h.organisation_id = org AND h.ch = ANY (string_to_array(t, NULL))), ''),
            (SELECT c.shares FROM directory_search_common_trigrams c WHERE c.organisation_id = org)
        INTO bound, shares;
        cond := cond || ' AND (' || directory_search_like(shares, t);
        -- The digits alternative matches other text; its characters (digits
        -- and +) never have a bound (migration 0006), so with one the search
        -- starts at the beginning. Digits equal to t add nothing.
        IF digits <> '' THEN
            bound := '';
            IF digits <> t THEN
                cond := cond || ' OR ' || directory_search_like(shares, digits);
            END IF;
        END IF;
        cond := cond || ')';
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
