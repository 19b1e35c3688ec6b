-- 0007: event sinks' credentials encrypted at rest. A sink's basic-auth
-- password or bearer token must be sent again on every delivery, so it cannot
-- be hashed; it is sealed with AES-256-GCM under the deployment's secret key
-- (internal/secretbox), bound to the sink's ID, as LDAP bind passwords are.
-- The plain column stays for rows written before this migration (delivery
-- still reads them); new rows leave it empty.

ALTER TABLE cdr_sinks ADD COLUMN secret_sealed bytea;
ALTER TABLE cdr_sinks ADD CONSTRAINT cdr_sinks_one_secret CHECK (secret = '' OR secret_sealed IS NULL);

COMMENT ON COLUMN cdr_sinks.secret_sealed IS 'Secret: the basic-auth password or bearer token, AES-256-GCM under secret_key with the sink ID as associated data; never logged or exported.';
COMMENT ON COLUMN cdr_sinks.secret IS 'Secret, legacy: a credential stored in clear before migration 0007; empty for sinks created since.';
