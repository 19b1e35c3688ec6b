package directory

import (
	"context"
	"database/sql"
	"fmt"
)

// RebuildSearchHints recomputes the organisation's search start bounds
// (directory_search_hints, migration 0006) exactly from its current entries.
//
// The triggers that keep the bounds only ever lower them, so after many
// renames and deletions (a large sync) they are looser than they need to be
// and a search for a character whose entries sort late walks from further
// back. The rebuild (directory_search_hints_rebuild, migration 0012) makes
// each bound the name of the first entry holding its character again and
// drops the characters no entry holds; search results do not change, only
// how far a search walks. It waits for, and briefly holds back, every writer
// of the directory (all organisations), so call it after a large change has
// committed, outside its transaction, not after every write.
func (s *Store) RebuildSearchHints(ctx context.Context, orgID string) error {
	// Its own transaction at READ COMMITTED, whatever the server's default:
	// each statement of the function must see what committed before its lock.
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return fmt.Errorf("directory: rebuild search hints: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if _, err := tx.ExecContext(ctx, `SELECT directory_search_hints_rebuild($1)`, orgID); err != nil {
		return fmt.Errorf("directory: rebuild search hints: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("directory: rebuild search hints: %w", err)
	}
	return nil
}
