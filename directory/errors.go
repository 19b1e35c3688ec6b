package directory

import (
	"database/sql"
	"errors"
	"fmt"
)

// Sentinel errors of the directory. Callers test them with errors.Is.
var (
	// ErrNotFound: no folder, entry, source or run with that ID in the organisation.
	ErrNotFound = errors.New("directory: not found")
	// ErrConflict: a sibling folder or a source of that name exists already.
	ErrConflict = errors.New("directory: name already taken")
	// ErrFolderNotEmpty: a folder with entries or subfolders cannot be deleted.
	ErrFolderNotEmpty = errors.New("directory: folder is not empty")
	// ErrInvalid: a field is missing or malformed; the wrapping error says which.
	ErrInvalid = errors.New("directory: invalid")
	// ErrSyncRunning: another run of the same source holds its lock.
	ErrSyncRunning = errors.New("directory: a sync of this source is already running")
	// ErrGuarded: the run would remove more entries than the deletion guard allows.
	ErrGuarded = errors.New("directory: deletion guard refused the run")
	// ErrSecretKey: the secret key is missing or does not decrypt a stored secret.
	ErrSecretKey = errors.New("directory: secret key")
)

// TemplateError is a mapping expression that does not parse, with the byte
// offset of the problem so an admin page can point at it.
type TemplateError struct {
	Template string
	Pos      int // byte offset in Template
	Msg      string
}

func (e *TemplateError) Error() string {
	return fmt.Sprintf("directory: template %q: at position %d: %s", e.Template, e.Pos, e.Msg)
}

// Is makes a TemplateError match ErrInvalid.
func (e *TemplateError) Is(target error) bool { return target == ErrInvalid }

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
