package pglocal

import "errors"

// ErrNotFound is returned (wrapped) by Open when the PostgreSQL server
// binaries cannot be found.
var ErrNotFound = errors.New("pglocal: PostgreSQL server binaries not found (initdb); install Debian package postgresql or set BIFROST_DATABASE_URL")
