// Package pglocal runs a private PostgreSQL cluster in a directory: the one
// `bifrost serve` and `make run` use when no BIFROST_DATABASE_URL is given,
// and the one the tests use (through package pgtest).
//
// It uses the real PostgreSQL server binaries (initdb, pg_ctl, postgres) of
// the Debian package postgresql: from PATH, else from the newest
// /usr/lib/postgresql/*/bin. The cluster listens on a Unix socket only, never
// on TCP, and trusts every local connection: it is for one machine's own
// use, not a production server.
//
// PostgreSQL refuses to run as root, so when the process is root the server
// runs as the OS user postgres (created by the Debian package); the cluster
// directory and its socket directory are handed to that user, and every
// ancestor directory must let it through (o+x).
//
// A cluster outlives the process that started it unless Stop is called: Open
// on the same directory reuses a running server.
//
// This package must not import any other package of the module.
package pglocal
