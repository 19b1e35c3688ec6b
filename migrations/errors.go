package migrations

import "errors"

// ErrSchemaTooNew is returned (wrapped) by Apply when the database records a
// schema version this binary does not know, typically after a rollback to an
// older release. Apply changes nothing in that case.
var ErrSchemaTooNew = errors.New("migrations: database schema is newer than this binary")
