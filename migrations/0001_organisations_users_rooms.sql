-- 0001: the first tables. An organisation is a tenant: every admin account and
-- every virtual meeting room belongs to one, and deleting an organisation
-- deletes what it owns. users are the people who administer Bifrost (not the
-- participants of calls); rooms are the virtual meeting rooms endpoints and
-- browsers dial into.
--
-- Personal data in this file: users.name, users.email, users.last_login_at
-- (when a person was active) and rooms.owner (often a person's name).
-- users.password_hash is a secret derived from a person's password.
--
-- unaccent and pg_trgm are not used yet: the directory search added later
-- needs them, and creating them here keeps that migration free of extension
-- privileges. Both ship with Debian's postgresql-15 and are trusted, so a
-- database owner without superuser may create them.

CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE organisations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name            text NOT NULL CHECK (name <> ''),
    -- How long call records and directory request logs keep personal data
    -- before they are anonymised.
    usage_retention interval NOT NULL DEFAULT '90 days' CHECK (usage_retention > '0'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX organisations_name_lower_key ON organisations (lower(name));

COMMENT ON TABLE organisations IS 'Tenants; every user (except role system) and every room belongs to one.';
COMMENT ON COLUMN organisations.usage_retention IS 'How long usage data (CDRs, directory request log) keeps personal data before anonymisation.';

CREATE TABLE users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- NULL only for role 'system' (operators of the whole installation).
    organisation_id uuid REFERENCES organisations (id) ON DELETE CASCADE,
    name            text NOT NULL DEFAULT '',              -- personal data
    email           text NOT NULL CHECK (email <> ''),     -- personal data
    password_hash   text NOT NULL,                         -- secret: argon2id PHC string
    role            text NOT NULL CHECK (role IN ('system', 'admin', 'viewer')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_login_at   timestamptz,                           -- personal data
    CONSTRAINT users_organisation_required CHECK (role = 'system' OR organisation_id IS NOT NULL)
);

CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
CREATE INDEX users_organisation_id_idx ON users (organisation_id);

COMMENT ON TABLE users IS 'Admin accounts of the web admin and REST API, not call participants.';
COMMENT ON COLUMN users.name IS 'Personal data: the person''s display name.';
COMMENT ON COLUMN users.email IS 'Personal data: the person''s e-mail address, the login; unique case-insensitively.';
COMMENT ON COLUMN users.password_hash IS 'Secret: argon2id hash in PHC string format; never logged or exported.';
COMMENT ON COLUMN users.last_login_at IS 'Personal data: when the person last logged in.';

CREATE TABLE rooms (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id  uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name             text NOT NULL CHECK (name <> ''),
    -- The number endpoints dial (sip:1234@...); unique across organisations
    -- because the dial plan is shared.
    alias            text NOT NULL UNIQUE CHECK (alias ~ '^[0-9]{1,20}$'),
    -- An optional dialable name (sip:sales@...); unique case-insensitively.
    name_alias       text CHECK (name_alias <> ''),
    host_pin         text CHECK (host_pin ~ '^[0-9]{4,10}$'),
    guest_pin        text CHECK (guest_pin ~ '^[0-9]{4,10}$'),
    max_participants int CHECK (max_participants > 0),
    owner            text NOT NULL DEFAULT '',             -- personal data
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX rooms_name_alias_lower_key ON rooms (lower(name_alias));
CREATE INDEX rooms_organisation_id_idx ON rooms (organisation_id);

COMMENT ON TABLE rooms IS 'Virtual meeting rooms (VMRs).';
COMMENT ON COLUMN rooms.alias IS 'Numeric dial alias, 1 to 20 digits, unique across organisations.';
COMMENT ON COLUMN rooms.host_pin IS 'Optional PIN for hosts, 4 to 10 digits.';
COMMENT ON COLUMN rooms.guest_pin IS 'Optional PIN for guests, 4 to 10 digits.';
COMMENT ON COLUMN rooms.owner IS 'Personal data: who the room belongs to, often a person''s name.';
