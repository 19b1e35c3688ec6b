package directory

import (
	"context"
	"fmt"
)

// PublishedAll returns every published entry of the organisation (with its
// addresses, in order; unsorted) in two statements: what a reader that keeps
// the whole directory in memory (the endpoint phonebook) loads, without
// paging through Search. Only the fields endpoints see are filled: ID,
// OrganisationID, FolderID, Kind, DisplayName, Title, Department,
// OrganisationName and Addresses.
func (s *Store) PublishedAll(ctx context.Context, orgID string) ([]Entry, error) {
	var es []Entry
	err := s.db.SelectContext(ctx, &es, `SELECT id, organisation_id, folder_id, kind, display_name, title, department, organisation_name
		FROM directory_entries WHERE organisation_id = $1 AND published`, orgID)
	if err != nil {
		return nil, fmt.Errorf("directory: published entries: %w", err)
	}
	idx := make(map[string]int, len(es))
	for i := range es {
		idx[es[i].ID] = i
	}
	rows, err := s.db.QueryxContext(ctx, `SELECT entry_id, kind, label, value FROM directory_addresses
		WHERE organisation_id = $1 ORDER BY entry_id, position`, orgID)
	if err != nil {
		return nil, fmt.Errorf("directory: published addresses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a Address
		if err := rows.Scan(&id, &a.Kind, &a.Label, &a.Value); err != nil {
			return nil, fmt.Errorf("directory: published addresses: %w", err)
		}
		if i, ok := idx[id]; ok {
			es[i].Addresses = append(es[i].Addresses, a)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("directory: published addresses: %w", err)
	}
	return es, nil
}
