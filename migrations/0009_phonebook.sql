-- 0009: phonebook tokens and the phonebook request log (issue 5).
--
-- Why: hardware endpoints (Cisco TMS SOAP, Yealink and Cisco IP phone XML,
-- LDAP for Poly/Lifesize) read an organisation's directory without signing
-- in. Each organisation hands out phonebook tokens: secrets carried in the
-- phonebook URL (or the LDAP bind password) that pick the organisation and
-- optionally limit the phonebook to a folder subtree. Only the SHA-256 of a
-- token is stored, like the admin API tokens (migration 0003).
--
-- Every phonebook request is logged for the admin (which endpoints use the
-- phonebook, their software versions, failed requests). The log is usage
-- data: after the organisation's usage_retention the personal data columns
-- are cleared (anonymised_at is set) by the anonymiser registered with the
-- cdr retention job; what stays (time, protocol, product, software version,
-- counts, durations) carries no person.
--
-- Personal data in this file: phonebook_requests.client_ip, forwarded_for,
-- reported_ip, reported_ipv6 (addresses of a device, often a person's desk),
-- search_string (names typed by a person), system_name (often names a person
-- or their office), mac_address, serial_number (identify one device and
-- thereby its user), user_agent (may carry a device identity) and bind_name
-- (LDAP bind DN). phonebook_tokens.created_by names an admin user.
-- phonebook_tokens.token_hash is a secret's hash (not reversible).

CREATE TABLE phonebook_tokens (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    name            text NOT NULL CHECK (name <> ''),
    -- The folder subtree the token shows, as a folder path ("People/Oslo");
    -- empty: the whole directory. A path, not a folder ID, so that a folder a
    -- sync removes and creates again keeps its tokens, and a token of a
    -- folder that is gone shows nothing rather than everything.
    folder_path     text NOT NULL DEFAULT '',
    token_hash      bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32), -- secret: SHA-256 of the token
    prefix          text NOT NULL,                                         -- first characters, to recognise a token
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,         -- personal data (an admin)
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    last_used_at    timestamptz
);

CREATE INDEX phonebook_tokens_org_idx ON phonebook_tokens (organisation_id, created_at);

COMMENT ON TABLE phonebook_tokens IS 'Secrets in phonebook URLs and LDAP binds that select an organisation''s phonebook (and folder subtree).';
COMMENT ON COLUMN phonebook_tokens.token_hash IS 'Secret: SHA-256 of the token; the token itself is shown once and never stored.';
COMMENT ON COLUMN phonebook_tokens.created_by IS 'Personal data: the admin who created the token.';

CREATE TABLE phonebook_requests (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL,
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    -- NULL when the token was deleted with its organisation's cleanup.
    token_id        uuid REFERENCES phonebook_tokens (id) ON DELETE SET NULL,
    protocol        text NOT NULL CHECK (protocol IN ('tms', 'yealink', 'cisco-ipphone', 'ldap', 'json')),
    operation       text NOT NULL DEFAULT '',      -- Search, GetPhonebooks, browse, search, bind …
    http_status     int NOT NULL DEFAULT 0,        -- 0 for LDAP
    error           text NOT NULL DEFAULT '',      -- why the request failed; never request content
    client_ip       text NOT NULL DEFAULT '',      -- personal data: TCP peer
    forwarded_for   text NOT NULL DEFAULT '',      -- personal data: X-Forwarded-For as received
    reported_ip     text NOT NULL DEFAULT '',      -- personal data: Identification/IPAddress
    reported_ipv6   text NOT NULL DEFAULT '',      -- personal data: Identification/IPAddressV6
    search_string   text NOT NULL DEFAULT '',      -- personal data
    search_path     text NOT NULL DEFAULT '',      -- the folder Id asked for
    folder_path     text NOT NULL DEFAULT '',      -- the folder path it resolved to
    max_result      int NOT NULL DEFAULT 0,
    start_from      text NOT NULL DEFAULT '',
    result_count    int NOT NULL DEFAULT 0,
    total           int NOT NULL DEFAULT 0,
    duration_us     bigint NOT NULL DEFAULT 0,
    -- The endpoint's identity as it reports it (Cisco Identification block).
    system_name     text NOT NULL DEFAULT '',      -- personal data
    mac_address     text NOT NULL DEFAULT '',      -- personal data, lower case
    product_type    text NOT NULL DEFAULT '',
    product_id      text NOT NULL DEFAULT '',
    sw_version      text NOT NULL DEFAULT '',
    hw_board        text NOT NULL DEFAULT '',
    serial_number   text NOT NULL DEFAULT '',      -- personal data
    user_agent      text NOT NULL DEFAULT '',      -- personal data (may carry a device identity)
    bind_name       text NOT NULL DEFAULT '',      -- personal data: LDAP bind DN
    -- When the personal data columns were cleared; NULL while they are kept.
    anonymised_at   timestamptz
);

CREATE INDEX phonebook_requests_org_at_idx ON phonebook_requests (organisation_id, at DESC);
CREATE INDEX phonebook_requests_to_anonymise ON phonebook_requests (organisation_id, at) WHERE anonymised_at IS NULL;

COMMENT ON TABLE phonebook_requests IS 'Usage data: one row per phonebook request; personal data columns are cleared after the organisation''s usage_retention.';
COMMENT ON COLUMN phonebook_requests.client_ip IS 'Personal data: the TCP peer address.';
COMMENT ON COLUMN phonebook_requests.forwarded_for IS 'Personal data: X-Forwarded-For as received.';
COMMENT ON COLUMN phonebook_requests.reported_ip IS 'Personal data: the IPv4 address the endpoint reports.';
COMMENT ON COLUMN phonebook_requests.reported_ipv6 IS 'Personal data: the IPv6 address the endpoint reports.';
COMMENT ON COLUMN phonebook_requests.search_string IS 'Personal data: the text a person typed.';
COMMENT ON COLUMN phonebook_requests.system_name IS 'Personal data: the endpoint''s name, often a person''s or office''s.';
COMMENT ON COLUMN phonebook_requests.mac_address IS 'Personal data: identifies one device and thereby its user.';
COMMENT ON COLUMN phonebook_requests.serial_number IS 'Personal data: identifies one device and thereby its user.';
COMMENT ON COLUMN phonebook_requests.user_agent IS 'Personal data: may carry a device identity.';
COMMENT ON COLUMN phonebook_requests.bind_name IS 'Personal data: the LDAP bind DN.';
COMMENT ON COLUMN phonebook_requests.anonymised_at IS 'When the personal data columns were cleared; NULL while they are kept.';
