package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// Folder is a node of the phonebook's folder tree.
type Folder struct {
	ID             string    `db:"id" json:"id"`
	OrganisationID string    `db:"organisation_id" json:"organisation_id"`
	ParentID       *string   `db:"parent_id" json:"parent_id"` // nil: top level
	Name           string    `db:"name" json:"name"`
	SortOrder      int       `db:"sort_order" json:"sort_order"`
	SourceID       *string   `db:"source_id" json:"source_id"` // nil: made by an admin
	SourceKey      string    `db:"source_key" json:"source_key,omitempty"`
	CreatedAt      time.Time `db:"created_at" json:"created_at"`
	UpdatedAt      time.Time `db:"updated_at" json:"updated_at"`
}

const folderColumns = `id, organisation_id, parent_id, name, sort_order, source_id, source_key, created_at, updated_at`

func validFolderName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", invalid("a folder needs a name")
	}
	if strings.Contains(name, "/") {
		return "", invalid("a folder name cannot contain /")
	}
	return name, nil
}

// CreateFolder adds a folder made by an admin.
func (s *Store) CreateFolder(ctx context.Context, orgID string, f Folder) (Folder, error) {
	name, err := validFolderName(f.Name)
	if err != nil {
		return Folder{}, err
	}
	var out Folder
	err = s.tx(ctx, func(tx *sqlx.Tx) error {
		if err := checkFolder(ctx, tx, orgID, f.ParentID); err != nil {
			return err
		}
		err := tx.GetContext(ctx, &out, `
			INSERT INTO directory_folders (organisation_id, parent_id, name, sort_order, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5) RETURNING `+folderColumns, orgID, f.ParentID, name, f.SortOrder, s.now())
		if err != nil {
			return conflict(err, "create folder")
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "directory.folder_create",
			ObjectType: "directory_folder", ObjectID: out.ID, Summary: map[string]any{"name": name, "parent_id": f.ParentID}})
	})
	return out, err
}

// Folders returns the organisation's folders, parents before children, siblings
// by sort order and name.
func (s *Store) Folders(ctx context.Context, orgID string) ([]Folder, error) {
	fs := []Folder{}
	err := s.db.SelectContext(ctx, &fs, `
		WITH RECURSIVE t AS (
			SELECT f.*, ARRAY[f.sort_order::text || '/' || f.name] AS path FROM directory_folders f
			WHERE organisation_id = $1 AND parent_id IS NULL
			UNION ALL
			SELECT f.*, t.path || (f.sort_order::text || '/' || f.name) FROM directory_folders f JOIN t ON f.parent_id = t.id
		)
		SELECT `+folderColumns+` FROM t ORDER BY path`, orgID)
	if err != nil {
		return nil, fmt.Errorf("directory: folders: %w", err)
	}
	return fs, nil
}

// FolderPaths returns the path ("People/Oslo") of every folder by ID.
func FolderPaths(fs []Folder) map[string]string {
	byID := make(map[string]Folder, len(fs))
	for _, f := range fs {
		byID[f.ID] = f
	}
	out := make(map[string]string, len(fs))
	var path func(id string, depth int) string
	path = func(id string, depth int) string {
		if p, ok := out[id]; ok {
			return p
		}
		f := byID[id]
		p := f.Name
		if f.ParentID != nil && depth < 64 {
			p = path(*f.ParentID, depth+1) + "/" + p
		}
		out[id] = p
		return p
	}
	for _, f := range fs {
		path(f.ID, 0)
	}
	return out
}

// FolderPatch changes some fields of a folder; nil fields stay.
type FolderPatch struct {
	Name      *string
	ParentID  **string
	SortOrder *int
}

// UpdateFolder renames, moves or reorders a folder. A folder cannot move below
// itself.
func (s *Store) UpdateFolder(ctx context.Context, orgID, id string, p FolderPatch) (Folder, error) {
	var out Folder
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &out, `SELECT `+folderColumns+` FROM directory_folders WHERE organisation_id = $1 AND id = $2 FOR UPDATE`, orgID, id); err != nil {
			return notFound(err, "folder")
		}
		changed := map[string]any{}
		if p.Name != nil {
			name, err := validFolderName(*p.Name)
			if err != nil {
				return err
			}
			out.Name = name
			changed["name"] = name
		}
		if p.ParentID != nil {
			parent := *p.ParentID
			if err := checkFolder(ctx, tx, orgID, parent); err != nil {
				return err
			}
			if parent != nil {
				var cycle bool
				err := tx.GetContext(ctx, &cycle, `
					WITH RECURSIVE up AS (
						SELECT id, parent_id FROM directory_folders WHERE id = $1
						UNION ALL
						SELECT f.id, f.parent_id FROM directory_folders f JOIN up ON f.id = up.parent_id
					) SELECT EXISTS (SELECT 1 FROM up WHERE id = $2)`, *parent, id)
				if err != nil {
					return fmt.Errorf("directory: move folder: %w", err)
				}
				if cycle {
					return invalid("a folder cannot move into itself or its subfolders")
				}
			}
			out.ParentID = parent
			changed["parent_id"] = parent
		}
		if p.SortOrder != nil {
			out.SortOrder = *p.SortOrder
			changed["sort_order"] = out.SortOrder
		}
		err := tx.GetContext(ctx, &out.UpdatedAt, `
			UPDATE directory_folders SET name = $3, parent_id = $4, sort_order = $5, updated_at = $6
			WHERE organisation_id = $1 AND id = $2 RETURNING updated_at`, orgID, id, out.Name, out.ParentID, out.SortOrder, s.now())
		if err != nil {
			return conflict(err, "update folder")
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "directory.folder_update",
			ObjectType: "directory_folder", ObjectID: id, Summary: changed})
	})
	return out, err
}

// DeleteFolder removes an empty folder.
func (s *Store) DeleteFolder(ctx context.Context, orgID, id string) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		var f Folder
		if err := tx.GetContext(ctx, &f, `SELECT `+folderColumns+` FROM directory_folders WHERE organisation_id = $1 AND id = $2 FOR UPDATE`, orgID, id); err != nil {
			return notFound(err, "folder")
		}
		var used bool
		if err := tx.GetContext(ctx, &used, `SELECT EXISTS (SELECT 1 FROM directory_entries WHERE folder_id = $1)
			OR EXISTS (SELECT 1 FROM directory_folders WHERE parent_id = $1)`, id); err != nil {
			return fmt.Errorf("directory: delete folder: %w", err)
		}
		if used {
			return ErrFolderNotEmpty
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM directory_folders WHERE id = $1`, id); err != nil {
			return fmt.Errorf("directory: delete folder: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "directory.folder_delete",
			ObjectType: "directory_folder", ObjectID: id, Summary: map[string]any{"name": f.Name}})
	})
}

// conflict turns a unique violation into ErrConflict.
func conflict(err error, what string) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		return fmt.Errorf("%w (%s)", ErrConflict, what)
	}
	return fmt.Errorf("directory: %s: %w", what, err)
}
