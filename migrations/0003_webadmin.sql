-- 0003: what the web admin and the REST API need to authenticate people and
-- integrations, and the room setting the bridge reads to hold guests until a host
-- arrives.
--
-- Secrets are never stored in clear: a session ID and an API token are random
-- values of at least 190 bits, so their SHA-256 is stored (a slow hash adds nothing
-- against a value that cannot be guessed) and what the browser or integration
-- holds is the only copy.
--
-- Personal data in this file: sessions.source_ip and sessions.user_agent (where
-- and with what a person signed in), login_throttle.subject (an e-mail address or
-- an IP address while failures are counted), api_tokens.created_by (who made a
-- token). Sessions and throttle rows are deleted when they expire.

CREATE TABLE sessions (
    -- SHA-256 of the session ID in the cookie.
    id_hash         bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The organisation the pages act on: the user's own, or for a system user the
    -- one chosen last.
    organisation_id uuid REFERENCES organisations (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    source_ip       inet,                      -- personal data
    user_agent      text NOT NULL DEFAULT ''   -- personal data
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

COMMENT ON TABLE sessions IS 'Signed-in web admin sessions; the cookie holds the only copy of the ID.';
COMMENT ON COLUMN sessions.id_hash IS 'SHA-256 of the session ID; never the ID itself.';
COMMENT ON COLUMN sessions.source_ip IS 'PERSONAL DATA: the address the person signed in from.';
COMMENT ON COLUMN sessions.user_agent IS 'PERSONAL DATA: the browser the person signed in with.';

CREATE TABLE api_tokens (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (name <> ''),
    role            text NOT NULL CHECK (role IN ('admin', 'viewer')),
    -- SHA-256 of the token; the token is shown once, at creation.
    token_hash      bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    -- The first characters of the token, so a person can tell tokens apart.
    prefix          text NOT NULL,
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,  -- personal data
    created_at      timestamptz NOT NULL,
    last_used_at    timestamptz,
    revoked_at      timestamptz
);

CREATE INDEX api_tokens_organisation_id_idx ON api_tokens (organisation_id);

COMMENT ON TABLE api_tokens IS 'REST API tokens of an organisation; stored hashed, revocable.';
COMMENT ON COLUMN api_tokens.token_hash IS 'SHA-256 of the token; never the token itself.';
COMMENT ON COLUMN api_tokens.created_by IS 'PERSONAL DATA (by reference): the user who created the token.';

-- Failed sign-ins counted per account and per source address, so guessing a
-- password is slow whichever of the two an attacker varies. Stored here, not in
-- memory, so that several nodes share the count.
CREATE TABLE login_throttle (
    kind          text NOT NULL CHECK (kind IN ('account', 'ip')),
    subject       text NOT NULL,               -- personal data: lower-cased e-mail or IP
    failures      int NOT NULL DEFAULT 0,
    window_start  timestamptz NOT NULL,
    locked_until  timestamptz,
    PRIMARY KEY (kind, subject)
);

COMMENT ON TABLE login_throttle IS 'Failed sign-in counts per account and per IP; rows expire with their window.';
COMMENT ON COLUMN login_throttle.subject IS 'PERSONAL DATA: an e-mail address or an IP address.';

-- The bridge's RoomInfo.GuestsWaitForHost: guests hear a prompt until a host joins.
ALTER TABLE rooms ADD COLUMN guests_wait_for_host boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN rooms.guests_wait_for_host IS 'Guests wait (hearing a prompt) until a host is present.';
