package directory

import (
	"context"
	"fmt"
	"time"
)

// Version returns a fingerprint of the organisation's directory that changes
// whenever a folder or entry is added, changed or removed: the counts and
// the latest change times of both. It lets a reader that keeps the
// directory in memory (the endpoint phonebook) skip reloading an unchanged
// one; it costs one index scan, not a read of every entry.
func (s *Store) Version(ctx context.Context, orgID string) (string, error) {
	var v struct {
		Entries   int        `db:"entries"`
		EntryMax  *time.Time `db:"entry_max"`
		Folders   int        `db:"folders"`
		FolderMax *time.Time `db:"folder_max"`
	}
	err := s.db.GetContext(ctx, &v, `SELECT
		(SELECT count(*) FROM directory_entries WHERE organisation_id = $1) AS entries,
		(SELECT max(updated_at) FROM directory_entries WHERE organisation_id = $1) AS entry_max,
		(SELECT count(*) FROM directory_folders WHERE organisation_id = $1) AS folders,
		(SELECT max(updated_at) FROM directory_folders WHERE organisation_id = $1) AS folder_max`, orgID)
	if err != nil {
		return "", fmt.Errorf("directory: version: %w", err)
	}
	ts := func(t *time.Time) int64 {
		if t == nil {
			return 0
		}
		return t.UnixMicro()
	}
	return fmt.Sprintf("%d/%d/%d/%d", v.Entries, ts(v.EntryMax), v.Folders, ts(v.FolderMax)), nil
}
