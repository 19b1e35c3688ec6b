package directory

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Store keeps the directory in PostgreSQL. Every method is scoped to one
// organisation; no method shows one organisation another's data. Every change
// is audited in the transaction that makes it.
type Store struct {
	db  *sqlx.DB
	now func() time.Time
}

// NewStore returns a store on db. now is the clock; nil means time.Now.
func NewStore(db *sqlx.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now}
}

// tx runs f in a transaction, committed when f returns nil.
func (s *Store) tx(ctx context.Context, f func(*sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("directory: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("directory: commit: %w", err)
	}
	return nil
}
