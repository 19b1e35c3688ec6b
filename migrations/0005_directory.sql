-- 0005: the directory (phonebook) and its LDAP / Active Directory sources.
--
-- Why: every organisation keeps a phonebook of people, meeting rooms and video
-- endpoints, each with the addresses to call them at, in a folder tree. Most of
-- it is synced from the customer's LDAP or Active Directory (ldap_sources, one
-- report per run in ldap_sync_runs); the rest is typed in by admins. Endpoints
-- read it through the phonebook protocols (TMS SOAP, LDAP, XML).
--
-- Everything is tenant-scoped by organisation_id and deleted with the
-- organisation. Entries and folders a source created are deleted with the source.
--
-- Personal data in this file: directory_entries.display_name, title, department,
-- organisation_name, source_dn (a DN names a person), directory_addresses.value
-- and .normalised (a person's SIP URI, H.323 ID and phone numbers), and the
-- per-entry warnings in ldap_sync_runs.report (they name entries by DN).
-- ldap_sources.bind_password_enc is a secret (AES-256-GCM, key from the
-- configuration's secret_key); ldap_sources.bind_dn names an account.

-- directory_fold is the search key of a name or address: lower case without
-- accents ("Øvrebø" -> "ovrebo"). unaccent() is only STABLE because its
-- dictionary could change; naming the dictionary explicitly and wrapping it makes
-- an IMMUTABLE function that expression indexes accept. Should the unaccent
-- rules ever change, REINDEX the indexes below.
CREATE FUNCTION directory_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN lower(public.unaccent('public.unaccent'::regdictionary, $1));

-- directory_address_norm is an address's search key: numbers keep their digits
-- (and a leading +) so "21991001" finds "+47 21 99 10 01"; SIP URIs lose their
-- scheme; everything is folded like names.
CREATE FUNCTION directory_address_norm(kind text, value text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN CASE
        WHEN kind IN ('tel', 'e164') THEN regexp_replace(value, '[^0-9+]', '', 'g')
        WHEN kind = 'sip' THEN directory_fold(regexp_replace(value, '^sips?:', '', 'i'))
        ELSE directory_fold(value)
    END;

CREATE TABLE ldap_sources (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id    uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name               text NOT NULL CHECK (name <> ''),
    url                text NOT NULL CHECK (url ~ '^ldaps?://'),
    start_tls          boolean NOT NULL DEFAULT false,
    ca_cert            text NOT NULL DEFAULT '',            -- PEM; empty trusts the system roots
    bind_dn            text NOT NULL DEFAULT '',            -- empty binds anonymously
    bind_password_enc  bytea,                               -- secret: nonce || AES-256-GCM ciphertext
    base_dns           text[] NOT NULL CHECK (cardinality(base_dns) > 0),
    filter             text NOT NULL DEFAULT '(objectClass=inetOrgPerson)',
    scope              text NOT NULL DEFAULT 'sub' CHECK (scope IN ('base', 'one', 'sub')),
    page_size          int NOT NULL DEFAULT 500 CHECK (page_size BETWEEN 1 AND 100000),
    key_attribute      text NOT NULL DEFAULT 'entryUUID',   -- entryUUID (OpenLDAP) or objectGUID (AD); never the DN
    -- NULL: manual runs only.
    sync_interval      interval CHECK (sync_interval >= '1 minute'),
    -- field name -> $attr$ expression (name, kind, title, department,
    -- organisation, sip, h323, e164, tel, mobile).
    mapping            jsonb NOT NULL DEFAULT '{}',
    folder_mode        text NOT NULL DEFAULT 'none' CHECK (folder_mode IN ('none', 'ou', 'attr')),
    folder_root        text NOT NULL DEFAULT '',            -- ou: the DN whose subtree's OU path names folders
    folder_attr        text NOT NULL DEFAULT '',            -- attr: the attribute naming the folder
    -- Deletion guard: a run that would remove more than guard_max_deletes
    -- entries or guard_max_percent % of this source's entries is refused
    -- unless confirmed. 0 disables a limit.
    guard_max_deletes  int NOT NULL DEFAULT 0 CHECK (guard_max_deletes >= 0),
    guard_max_percent  int NOT NULL DEFAULT 0 CHECK (guard_max_percent BETWEEN 0 AND 100),
    -- Set by an admin to let the next run pass the guard once; the run clears it.
    guard_confirmed    boolean NOT NULL DEFAULT false,
    enabled            boolean NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX ldap_sources_org_name_key ON ldap_sources (organisation_id, lower(name));

COMMENT ON TABLE ldap_sources IS 'LDAP / Active Directory servers the directory is synced from.';
COMMENT ON COLUMN ldap_sources.bind_dn IS 'Names the service account used to bind; not a person as a rule.';
COMMENT ON COLUMN ldap_sources.bind_password_enc IS 'Secret: 12-byte nonce followed by AES-256-GCM ciphertext of the bind password; never shown again.';

CREATE TABLE directory_folders (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    -- NULL: a top-level folder.
    parent_id       uuid REFERENCES directory_folders (id),
    name            text NOT NULL CHECK (name <> '' AND name !~ '/'),
    sort_order      int NOT NULL DEFAULT 0,
    -- NULL: created by an admin; otherwise the source that created it.
    source_id       uuid REFERENCES ldap_sources (id) ON DELETE CASCADE,
    -- The stable key the source knows it by (its folder path, e.g. People/Oslo).
    source_key      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Sibling folders have different names: a folder path names one folder.
CREATE UNIQUE INDEX directory_folders_sibling_name_key
    ON directory_folders (organisation_id, coalesce(parent_id, '00000000-0000-0000-0000-000000000000'), name);
CREATE INDEX directory_folders_parent_idx ON directory_folders (parent_id);

COMMENT ON TABLE directory_folders IS 'The phonebook''s folder tree.';

CREATE TABLE directory_entries (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id   uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    -- NULL: the root folder.
    folder_id         uuid REFERENCES directory_folders (id),
    kind              text NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'room', 'endpoint')),
    display_name      text NOT NULL CHECK (display_name <> ''),      -- personal data
    title             text NOT NULL DEFAULT '',                       -- personal data
    department        text NOT NULL DEFAULT '',                       -- personal data
    organisation_name text NOT NULL DEFAULT '',                       -- personal data
    -- NULL: typed in by an admin or pushed by an integration.
    source_id         uuid REFERENCES ldap_sources (id) ON DELETE CASCADE,
    -- The source's stable key: LDAP entryUUID or AD objectGUID, never the DN,
    -- so a renamed or moved person keeps the same entry.
    source_key        text,
    source_dn         text NOT NULL DEFAULT '',                       -- personal data
    -- Fields an admin edited by hand; a sync leaves them as they are.
    overridden        text[] NOT NULL DEFAULT '{}',
    -- Search and listing support, written with the addresses: published is
    -- true when the entry has a callable address (sip, h323, e164);
    -- search_addresses holds the addresses' search forms (digits of numbers,
    -- URIs without scheme) so that one trigram index covers name and addresses.
    published         boolean NOT NULL DEFAULT false,
    search_addresses  text NOT NULL DEFAULT '',                       -- personal data
    search_text       text NOT NULL GENERATED ALWAYS AS (directory_fold(display_name || ' ' || search_addresses)) STORED, -- personal data
    -- Endpoints page through names in code point order of the lower-case name.
    sort_name         text COLLATE "C" NOT NULL GENERATED ALWAYS AS (lower(display_name)) STORED,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT directory_entries_source_key CHECK ((source_id IS NULL) = (source_key IS NULL))
);

CREATE UNIQUE INDEX directory_entries_source_key_key ON directory_entries (source_id, source_key);
CREATE INDEX directory_entries_org_folder_idx ON directory_entries (organisation_id, folder_id);
CREATE INDEX directory_entries_search_trgm ON directory_entries USING gin (search_text gin_trgm_ops);
CREATE INDEX directory_entries_org_sort_idx ON directory_entries (organisation_id, sort_name, id);

COMMENT ON TABLE directory_entries IS 'Phonebook entries: people, meeting rooms and endpoints.';
COMMENT ON COLUMN directory_entries.display_name IS 'Personal data: the person''s (or room''s) name.';
COMMENT ON COLUMN directory_entries.title IS 'Personal data: job title.';
COMMENT ON COLUMN directory_entries.department IS 'Personal data: department.';
COMMENT ON COLUMN directory_entries.organisation_name IS 'Personal data: the employer or company shown with the name.';
COMMENT ON COLUMN directory_entries.source_dn IS 'Personal data: the LDAP DN the entry was last read from (informational, never a key).';
COMMENT ON COLUMN directory_entries.search_addresses IS 'Personal data: the entry''s addresses in search form.';
COMMENT ON COLUMN directory_entries.search_text IS 'Personal data: folded name and addresses, the text search matches.';
COMMENT ON COLUMN directory_entries.overridden IS 'Names of fields an admin edited; the sync keeps them.';

-- Addresses are written in bulk by the sync (400 000 rows for 100 000
-- people), so the table carries few indexes and one foreign key:
-- organisation_id is the entry's (no key of its own; the entry cascades).
CREATE TABLE directory_addresses (
    organisation_id uuid NOT NULL,
    entry_id        uuid NOT NULL REFERENCES directory_entries (id) ON DELETE CASCADE,
    position        int NOT NULL CHECK (position >= 0),
    -- sip, h323 and e164 are callable; tel is informational (phone, mobile).
    kind            text NOT NULL CHECK (kind IN ('sip', 'h323', 'e164', 'tel')),
    label           text NOT NULL DEFAULT '',                         -- e.g. phone, mobile
    value           text NOT NULL CHECK (value <> ''),                -- personal data
    normalised      text NOT NULL GENERATED ALWAYS AS (directory_address_norm(kind, value)) STORED, -- personal data
    PRIMARY KEY (entry_id, position)
);

-- Reverse lookup: which entry has this number or URI (exact search form).
CREATE INDEX directory_addresses_normalised_idx ON directory_addresses (organisation_id, normalised);

COMMENT ON TABLE directory_addresses IS 'The addresses of an entry, in order; an entry without a callable one (sip, h323, e164) is not published.';
COMMENT ON COLUMN directory_addresses.value IS 'Personal data: SIP URI, H.323 ID or phone number as stored.';
COMMENT ON COLUMN directory_addresses.normalised IS 'Personal data: the value folded for search (lower case, no accents; digits for numbers).';

CREATE TABLE ldap_sync_runs (
    id              bigserial PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    source_id       uuid NOT NULL REFERENCES ldap_sources (id) ON DELETE CASCADE,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    dry_run         boolean NOT NULL DEFAULT false,
    status          text NOT NULL CHECK (status IN ('ok', 'failed', 'guarded')),
    added           int NOT NULL DEFAULT 0,
    updated         int NOT NULL DEFAULT 0,
    moved           int NOT NULL DEFAULT 0,
    removed         int NOT NULL DEFAULT 0,
    skipped         int NOT NULL DEFAULT 0,
    error           text NOT NULL DEFAULT '',
    -- The whole report (counts, warnings) as the CLI and API show it.
    report          jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX ldap_sync_runs_source_idx ON ldap_sync_runs (source_id, started_at DESC);

COMMENT ON TABLE ldap_sync_runs IS 'One report per LDAP sync run, dry runs included.';
COMMENT ON COLUMN ldap_sync_runs.report IS 'Personal data: warnings may name entries by DN.';
