-- 0006: where in the name order a search can start.
--
-- Why: a search returns the first page of its matches in name order
-- (directory_entries_org_sort_idx). A short search ("n", "张") cannot use the
-- trigram index, so the page is found by walking the names in order until
-- enough match; when the matches all sort late (every "张 …" after every Latin
-- name) that walk read ~92 000 of 100 000 entries, 60-100 ms. A match must
-- contain every character of the folded search text, so it cannot sort before
-- the first entry holding the rarest-placed of those characters. This table
-- keeps, per organisation and character of search_text, a lower bound of the
-- sort_name of the entries holding it; the search starts its walk at the
-- largest bound of its characters and finds the same entries.
--
-- Digits, the space and . @ + - _ get no bound: every entry's addresses hold
-- them, so their bound would be the first name anyway, and leaving them out
-- saves a third of the work of a bulk insert (100 000 entries of a first
-- sync). A search for them starts at the beginning, which is where their
-- matches are.
--
-- The bounds are kept by statement triggers on directory_entries, so every
-- writer (the admin, CSV import, the LDAP sync, an integration) keeps them;
-- a bound is only ever lowered, so one that is lower than it needs to be
-- (after its entry was renamed or deleted) is still correct, merely less
-- useful. A character without a row gives no bound: the walk starts at the
-- beginning, as before this migration.
--
-- Personal data: first_sort is the first 32 characters of a lower-case name
-- (a prefix is still a lower bound). When the entry it came from is deleted
-- or renamed, the bound is cut to its first three characters in the same
-- statement (lower, so still correct), too little to name anyone: a deleted
-- person's name does not outlive the entry here.

CREATE TABLE directory_search_hints (
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    ch              text NOT NULL,                    -- one character of search_text
    first_sort      text COLLATE "C" NOT NULL,        -- personal data: <= the sort_name of every entry whose search_text holds ch
    PRIMARY KEY (organisation_id, ch)
);

COMMENT ON TABLE directory_search_hints IS 'Per organisation and character: a lower bound of the sort_name of the entries whose search text holds it (derived, for searching).';
COMMENT ON COLUMN directory_search_hints.first_sort IS 'Personal data: up to 32 characters of a current entry''s lower-case name; cut to 3 when that entry goes.';

-- directory_search_hints_note lowers the bounds for the entries a statement
-- inserted. Rows are upserted in key order so that two writers cannot
-- deadlock.
CREATE FUNCTION directory_search_hints_note() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO directory_search_hints AS h (organisation_id, ch, first_sort)
    SELECT n.organisation_id, c.ch, left(min(n.sort_name), 32)
    FROM directory_search_hints_new n, unnest(string_to_array(translate(n.search_text, '0123456789 .@+-_', ''), NULL)) AS c (ch)
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (organisation_id, ch) DO UPDATE SET first_sort = excluded.first_sort
        WHERE h.first_sort > excluded.first_sort;
    RETURN NULL;
END
$$;

-- directory_search_hints_forget cuts the bounds taken from the names of the
-- entries a statement deleted to three characters.
CREATE FUNCTION directory_search_hints_forget() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_search_hints h SET first_sort = left(h.first_sort, 3)
    FROM (SELECT DISTINCT organisation_id, left(sort_name, 32) AS s FROM directory_search_hints_old) o
    WHERE h.organisation_id = o.organisation_id AND h.first_sort = o.s AND length(h.first_sort) > 3;
    RETURN NULL;
END
$$;

-- directory_search_hints_renote does both for the entries a statement
-- updated: it forgets the names that changed and notes the search texts that
-- changed; an update that changes neither (a folder move) costs a join.
CREATE FUNCTION directory_search_hints_renote() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_search_hints h SET first_sort = left(h.first_sort, 3)
    FROM (SELECT DISTINCT o.organisation_id, left(o.sort_name, 32) AS s
          FROM directory_search_hints_old o JOIN directory_search_hints_new n ON n.id = o.id
          WHERE n.sort_name <> o.sort_name) o
    WHERE h.organisation_id = o.organisation_id AND h.first_sort = o.s AND length(h.first_sort) > 3;
    INSERT INTO directory_search_hints AS h (organisation_id, ch, first_sort)
    SELECT n.organisation_id, c.ch, left(min(n.sort_name), 32)
    FROM directory_search_hints_new n JOIN directory_search_hints_old o ON o.id = n.id,
        unnest(string_to_array(translate(n.search_text, '0123456789 .@+-_', ''), NULL)) AS c (ch)
    WHERE n.search_text <> o.search_text OR n.sort_name <> o.sort_name
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (organisation_id, ch) DO UPDATE SET first_sort = excluded.first_sort
        WHERE h.first_sort > excluded.first_sort;
    RETURN NULL;
END
$$;

CREATE TRIGGER directory_entries_hints_insert AFTER INSERT ON directory_entries
    REFERENCING NEW TABLE AS directory_search_hints_new
    FOR EACH STATEMENT EXECUTE FUNCTION directory_search_hints_note();
CREATE TRIGGER directory_entries_hints_update AFTER UPDATE ON directory_entries
    REFERENCING OLD TABLE AS directory_search_hints_old NEW TABLE AS directory_search_hints_new
    FOR EACH STATEMENT EXECUTE FUNCTION directory_search_hints_renote();
CREATE TRIGGER directory_entries_hints_delete AFTER DELETE ON directory_entries
    REFERENCING OLD TABLE AS directory_search_hints_old
    FOR EACH STATEMENT EXECUTE FUNCTION directory_search_hints_forget();

-- The entries written before this migration.
INSERT INTO directory_search_hints (organisation_id, ch, first_sort)
SELECT e.organisation_id, c.ch, left(min(e.sort_name), 32)
FROM directory_entries e, unnest(string_to_array(translate(e.search_text, '0123456789 .@+-_', ''), NULL)) AS c (ch)
GROUP BY 1, 2;

-- ldap_sync_progress: how far a running sync is, for the admin page and the
-- API while it runs (the run's own transaction shows nothing until it
-- commits). The running sync writes its row through another connection every
-- so often and deletes it when it ends. A row whose run holds no advisory
-- lock any more (its process died) is stale and not shown; the next run of
-- the source replaces it. No personal data: a phase and counts.
CREATE TABLE ldap_sync_progress (
    source_id       uuid PRIMARY KEY REFERENCES ldap_sources (id) ON DELETE CASCADE,
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    dry_run         boolean NOT NULL DEFAULT false,
    phase           text NOT NULL CHECK (phase IN ('reading', 'applying')),
    read            int NOT NULL DEFAULT 0,          -- entries the searches returned so far
    to_apply        int NOT NULL DEFAULT 0,          -- additions, updates and removals the run makes
    applied         int NOT NULL DEFAULT 0,          -- of those, written so far (uncommitted)
    started_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

COMMENT ON TABLE ldap_sync_progress IS 'The progress of running LDAP syncs, one row per running source; no personal data.';
