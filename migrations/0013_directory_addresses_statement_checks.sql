-- 0013: directory_addresses checks its entries once per statement, not once
-- per row.
--
-- Why: a first LDAP sync of 100 000 people writes 400 000 address rows (SIP,
-- H.323, phone, mobile). The foreign key directory_addresses.entry_id ->
-- directory_entries ran one RI trigger per row: a query that looks the entry
-- up and locks it (FOR KEY SHARE). EXPLAIN (ANALYZE) of one sync batch (1 000
-- entries, 4 000 addresses) gave the key 28-35 ms of the addresses' 88-124
-- ms; over a whole first sync that is about a fifth of the database's time.
-- The key is replaced by two statement-level triggers that keep its
-- guarantees for every writer (the admin, CSV import, the LDAP sync):
--
--   * an address belongs to an existing entry: after each INSERT or UPDATE of
--     directory_addresses, one statement looks up and locks (FOR KEY SHARE,
--     as the key did, so that a concurrent delete of the entry waits for the
--     writer's commit) the distinct entries of the new rows, and raises
--     foreign_key_violation (23503) when one is missing;
--   * deleting an entry deletes its addresses (the key's ON DELETE CASCADE):
--     after each DELETE of directory_entries, one statement deletes the
--     addresses of the deleted entries. This also runs for the entries that
--     go with their organisation or LDAP source (those cascades are DELETE
--     statements on directory_entries).
--
-- No table gains a column; no new personal data.

ALTER TABLE directory_addresses DROP CONSTRAINT directory_addresses_entry_id_fkey;

-- directory_addresses_check_entries is the key's check, once per statement.
CREATE FUNCTION directory_addresses_check_entries() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    wanted integer;
    found  integer;
BEGIN
    SELECT count(DISTINCT n.entry_id) INTO wanted FROM directory_addresses_new n;
    SELECT count(*) INTO found FROM (
        SELECT 1 FROM directory_entries e
        WHERE e.id IN (SELECT n.entry_id FROM directory_addresses_new n)
        FOR KEY SHARE OF e) l;
    IF found < wanted THEN
        RAISE EXCEPTION 'insert or update on table "directory_addresses" violates its entry check'
            USING ERRCODE = 'foreign_key_violation',
                  DETAIL = format('%s of %s referenced entries do not exist in "directory_entries".', wanted - found, wanted),
                  TABLE = 'directory_addresses';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER directory_addresses_entries_insert AFTER INSERT ON directory_addresses
    REFERENCING NEW TABLE AS directory_addresses_new
    FOR EACH STATEMENT EXECUTE FUNCTION directory_addresses_check_entries();
CREATE TRIGGER directory_addresses_entries_update AFTER UPDATE ON directory_addresses
    REFERENCING NEW TABLE AS directory_addresses_new
    FOR EACH STATEMENT EXECUTE FUNCTION directory_addresses_check_entries();

-- directory_entries_delete_addresses is the key's ON DELETE CASCADE, once
-- per statement.
CREATE FUNCTION directory_entries_delete_addresses() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM directory_addresses a USING directory_entries_deleted d WHERE a.entry_id = d.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER directory_entries_addresses_delete AFTER DELETE ON directory_entries
    REFERENCING OLD TABLE AS directory_entries_deleted
    FOR EACH STATEMENT EXECUTE FUNCTION directory_entries_delete_addresses();
