// Package directory keeps each organisation's phonebook — folders, entries and
// their addresses — syncs it from LDAP and Active Directory, and serves it to
// endpoints in their own protocols.
//
// Files by concept:
//
//   - store.go, folder.go, entry.go, search.go: the tables of migration 0005
//     (folders, entries, ordered addresses) and the case- and accent-insensitive
//     search over name and addresses; every change is audited. A search is
//     one round trip (directory_search_page, migration 0012); one with many
//     matches walks the names in order from a start bound kept per
//     character by triggers (migration 0006, directory_search_hints);
//     searchhints.go rebuilds one organisation's bounds exactly (migration
//     0012), e.g. after a large sync, and refreshes its common trigrams
//     (migration 0014), which a search leaves out of its trigram index
//     lookup when their long lists cost more than they narrow.
//   - template.go, mapping.go: CMS-style `$attr$` mapping expressions
//     (PROTOCOLS.md §5.4), the inetOrgPerson default and the Active Directory
//     preset, and the folder mapping (none, OU path, attribute).
//   - filter.go: validation of admin-entered LDAP filters and escaping of
//     search text (RFC 4515).
//   - source.go, secret.go: LDAP sources with the bind password encrypted at
//     rest (AES-256-GCM with the configuration's secret key).
//   - ldapread.go, sync_map.go, sync.go, sync_apply.go: a sync run — paged
//     search (RFC 2696), mapping, diff against what the source synced last
//     time, one transaction, a run report; deletion guard; runs of a source
//     serialised by a PostgreSQL advisory lock.
//   - ldapclient.go, ldapwire.go: the sync's own LDAP client (simple bind,
//     StartTLS, paged search; RFC 4511) with a streaming decoder of its
//     responses — one string per entry, no packet tree — because go-ldap's
//     decoding was most of the sync's Go time. go-ldap still compiles filters
//     and parses DNs.
//   - Migration 0013: addresses check their entries, and go with them, by
//     statement-level triggers instead of a per-row foreign key.
//   - progress.go: a running sync's progress (phase, read, applied), written
//     through another connection (ldap_sync_progress, migration 0006) so that
//     any process can show it while the run's transaction is open.
//   - scheduler.go: runs sources whose interval has passed, on an injected clock.
//   - commands.go: `bifrost ldap add|list|sync`.
//
// It owns its tables and must not import bridge, cdr or webadmin.
package directory
