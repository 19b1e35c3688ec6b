package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lib/pq"
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
//
// It then refreshes the organisation's common search trigrams
// (RefreshSearchTrigrams), in a transaction of its own that holds back no
// writer.
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
	return s.RefreshSearchTrigrams(ctx, orgID)
}

// RefreshSearchTrigrams recomputes the organisation's common search trigrams
// (directory_search_common_trigrams, migration 0014): the trigrams in at least
// 1 % of a sample of about 5 000 of its entries, which a search leaves out of
// its trigram index lookup when reading their long posting lists would cost
// more than the rows they rule out. The list only ever changes how fast a
// search is, never what it finds, so a list that is out of date or missing
// (an organisation never refreshed) is merely slower. It takes about 0.1 s at
// 100 000 entries and locks nothing but the organisation's row of the list.
//
// It also moves the entries waiting in the trigram index's pending list into
// the index (gin_clean_pending_list). The index takes new entries into that
// list (fastupdate) until it holds 4 MB, and only VACUUM, autovacuum's
// ANALYZE or a full list empties it; every search through the index scans
// the whole list meanwhile. After a large change (up to 4 MB of search text
// left over) that made each search's lookup several times dearer until
// autovacuum came by.
func (s *Store) RefreshSearchTrigrams(ctx context.Context, orgID string) error {
	// Only the index's owner (the role that ran the migrations) may clean
	// it; a deployment whose runtime role is another leaves the list to
	// autovacuum and still refreshes the trigrams.
	if _, err := s.db.ExecContext(ctx, `SELECT gin_clean_pending_list('directory_entries_search_trgm'::regclass)`); err != nil && !isInsufficientPrivilege(err) {
		return fmt.Errorf("directory: refresh search trigrams: clean the index's pending list: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `SELECT directory_search_common_trigrams_refresh($1)`, orgID); err != nil {
		return fmt.Errorf("directory: refresh search trigrams: %w", err)
	}
	return nil
}

// isInsufficientPrivilege reports whether err is PostgreSQL's 42501.
func isInsufficientPrivilege(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "42501"
}
