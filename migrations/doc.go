// Package migrations owns Bifrost's SQL schema: numbered, embedded, append-only
// files named NNNN_description.sql, and the runner that applies them.
//
// Each file runs in its own transaction together with the row that records it
// in schema_version, so a migration is either fully applied and recorded or
// not at all. Files are never edited once released; a change to the schema is
// a new file. Every file starts with a comment saying why it exists and names
// the columns that hold personal data.
//
// Apply holds a PostgreSQL session advisory lock for the whole run, so several
// bridge nodes starting at once migrate one after the other.
//
// The subpackages pglocal (a private PostgreSQL cluster for `bifrost serve`
// and tests) and pgtest (a fresh, migrated database per test) live here
// because they serve the schema.
//
// This package must not import any other package of the module: every store
// package depends on the schema, not the other way round.
package migrations
