-- The audit log: the data processing agreement's "technical log" of admin actions
-- (web admin, REST API, CLI, and background jobs such as anonymisation and LDAP sync).
-- Every package that changes data writes here in the same transaction as the change.
--
-- Personal data: actor_name (a user's name or email, or a token's name) and source_ip.
-- The summary never holds a password, PIN or token (internal/audit scrubs them).
-- Deleting an organisation deletes its entries; entries of system actions that belong
-- to no organisation have organisation_id NULL.
CREATE TABLE audit_log (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    organisation_id uuid REFERENCES organisations (id) ON DELETE CASCADE,
    actor_kind      text NOT NULL CHECK (actor_kind IN ('user', 'token', 'cli', 'system')),
    actor_id        uuid,
    actor_name      text NOT NULL DEFAULT '',
    source_ip       inet,
    action          text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    object_type     text NOT NULL DEFAULT '',
    object_id       text NOT NULL DEFAULT '',
    summary         jsonb NOT NULL DEFAULT '{}'
);

CREATE INDEX audit_log_org_at ON audit_log (organisation_id, at DESC);
CREATE INDEX audit_log_actor ON audit_log (actor_id) WHERE actor_id IS NOT NULL;

COMMENT ON TABLE audit_log IS 'Admin actions (DPA technical log).';
COMMENT ON COLUMN audit_log.actor_name IS 'PERSONAL DATA: name or email of the acting user, or the token name.';
COMMENT ON COLUMN audit_log.source_ip IS 'PERSONAL DATA: IP address the action came from.';
