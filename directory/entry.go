package directory

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// Kind is what an entry is.
type Kind string

// The kinds of entry.
const (
	KindPerson   Kind = "person"
	KindRoom     Kind = "room"
	KindEndpoint Kind = "endpoint"
)

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == KindPerson || k == KindRoom || k == KindEndpoint }

// AddressKind is the kind of an address.
type AddressKind string

// The kinds of address. SIP, H.323 and E.164 are callable; tel is a phone
// number shown for information.
const (
	AddressSIP  AddressKind = "sip"
	AddressH323 AddressKind = "h323"
	AddressE164 AddressKind = "e164"
	AddressTel  AddressKind = "tel"
)

// Callable reports whether an endpoint can dial an address of this kind.
func (k AddressKind) Callable() bool { return k == AddressSIP || k == AddressH323 || k == AddressE164 }

// Valid reports whether k is a known kind.
func (k AddressKind) Valid() bool { return k.Callable() || k == AddressTel }

// Address is one way to reach an entry.
type Address struct {
	Kind  AddressKind `db:"kind" json:"kind"`
	Value string      `db:"value" json:"value"`
	// Label tells addresses of one kind apart: "phone" or "mobile" for tel.
	Label string `db:"label" json:"label,omitempty"`
}

// EntryID identifies an entry.
type EntryID = string

// Entry is a person, meeting room or endpoint in the phonebook.
type Entry struct {
	ID               EntryID        `db:"id" json:"id"`
	OrganisationID   string         `db:"organisation_id" json:"organisation_id"`
	FolderID         *string        `db:"folder_id" json:"folder_id"` // nil: the root
	Kind             Kind           `db:"kind" json:"kind"`
	DisplayName      string         `db:"display_name" json:"display_name"`
	Title            string         `db:"title" json:"title"`
	Department       string         `db:"department" json:"department"`
	OrganisationName string         `db:"organisation_name" json:"organisation_name"`
	SourceID         *string        `db:"source_id" json:"source_id"`   // nil: manual
	SourceKey        *string        `db:"source_key" json:"source_key"` // entryUUID / objectGUID
	SourceDN         string         `db:"source_dn" json:"source_dn,omitempty"`
	Overridden       pq.StringArray `db:"overridden" json:"overridden"`
	CreatedAt        time.Time      `db:"created_at" json:"created_at"`
	UpdatedAt        time.Time      `db:"updated_at" json:"updated_at"`
	Addresses        []Address      `db:"-" json:"addresses"`
}

// Published reports whether endpoints see the entry: it has a callable address.
func (e *Entry) Published() bool {
	return slices.ContainsFunc(e.Addresses, func(a Address) bool { return a.Kind.Callable() })
}

// The fields an admin can override on a synced entry.
const (
	FieldName         = "name"
	FieldKind         = "kind"
	FieldTitle        = "title"
	FieldDepartment   = "department"
	FieldOrganisation = "organisation"
	FieldFolder       = "folder"
	FieldAddresses    = "addresses"
)

// EntryPatch changes some fields of an entry; nil fields stay as they are.
// Changing a field of an entry that a source syncs marks the field
// overridden: later syncs leave it alone.
type EntryPatch struct {
	FolderID         **string
	Kind             *Kind
	DisplayName      *string
	Title            *string
	Department       *string
	OrganisationName *string
	Addresses        *[]Address
}

func validateEntry(e *Entry) error {
	e.DisplayName = strings.TrimSpace(e.DisplayName)
	if e.DisplayName == "" {
		return invalid("an entry needs a name")
	}
	if e.Kind == "" {
		e.Kind = KindPerson
	}
	if !e.Kind.Valid() {
		return invalid("unknown kind %q", e.Kind)
	}
	for i, a := range e.Addresses {
		if !a.Kind.Valid() {
			return invalid("address %d: unknown kind %q", i+1, a.Kind)
		}
		if strings.TrimSpace(a.Value) == "" {
			return invalid("address %d: empty value", i+1)
		}
		e.Addresses[i].Value = strings.TrimSpace(a.Value)
	}
	return nil
}

const entryColumns = `id, organisation_id, folder_id, kind, display_name, title, department, organisation_name,
	source_id, source_key, source_dn, overridden, created_at, updated_at`

// CreateEntry adds a manual entry to the organisation's directory.
func (s *Store) CreateEntry(ctx context.Context, orgID string, e Entry) (Entry, error) {
	if err := validateEntry(&e); err != nil {
		return Entry{}, err
	}
	now := s.now()
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		if err := checkFolder(ctx, tx, orgID, e.FolderID); err != nil {
			return err
		}
		err := tx.GetContext(ctx, &e, `
			INSERT INTO directory_entries (organisation_id, folder_id, kind, display_name, title, department, organisation_name,
				published, search_addresses, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
			RETURNING `+entryColumns,
			orgID, e.FolderID, e.Kind, e.DisplayName, e.Title, e.Department, e.OrganisationName,
			e.Published(), searchAddresses(e.Addresses), now)
		if err != nil {
			return fmt.Errorf("directory: create entry: %w", err)
		}
		if err := writeAddresses(ctx, tx, orgID, e.ID, e.Addresses); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "directory.entry_create",
			ObjectType: "directory_entry", ObjectID: e.ID,
			Summary: map[string]any{"name": e.DisplayName, "kind": e.Kind, "addresses": len(e.Addresses)}})
	})
	if err != nil {
		return Entry{}, err
	}
	if e.Addresses == nil {
		e.Addresses = []Address{}
	}
	return e, nil
}

// GetEntry returns one entry of the organisation with its addresses.
func (s *Store) GetEntry(ctx context.Context, orgID, id string) (Entry, error) {
	var e Entry
	err := s.db.GetContext(ctx, &e, `SELECT `+entryColumns+` FROM directory_entries WHERE organisation_id = $1 AND id = $2`, orgID, id)
	if err != nil {
		return Entry{}, notFound(err, "entry")
	}
	es := []Entry{e}
	if err := loadAddresses(ctx, s.db, orgID, es); err != nil {
		return Entry{}, err
	}
	return es[0], nil
}

// UpdateEntry applies p to an entry. On an entry a source syncs, every field p
// changes becomes overridden.
func (s *Store) UpdateEntry(ctx context.Context, orgID, id string, p EntryPatch) (Entry, error) {
	var out Entry
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var e Entry
		if err := tx.GetContext(ctx, &e, `SELECT `+entryColumns+` FROM directory_entries WHERE organisation_id = $1 AND id = $2 FOR UPDATE`, orgID, id); err != nil {
			return notFound(err, "entry")
		}
		es := []Entry{e}
		if err := loadAddresses(ctx, tx, orgID, es); err != nil {
			return err
		}
		e = es[0]
		changed := map[string]any{}
		over := func(field string) {
			if e.SourceID != nil && !slices.Contains(e.Overridden, field) {
				e.Overridden = append(e.Overridden, field)
			}
		}
		if p.FolderID != nil {
			if err := checkFolder(ctx, tx, orgID, *p.FolderID); err != nil {
				return err
			}
			e.FolderID = *p.FolderID
			changed[FieldFolder] = e.FolderID
			over(FieldFolder)
		}
		set := func(dst *string, v *string, field string) {
			if v != nil {
				*dst = *v
				changed[field] = *v
				over(field)
			}
		}
		set(&e.DisplayName, p.DisplayName, FieldName)
		set(&e.Title, p.Title, FieldTitle)
		set(&e.Department, p.Department, FieldDepartment)
		set(&e.OrganisationName, p.OrganisationName, FieldOrganisation)
		if p.Kind != nil {
			e.Kind = *p.Kind
			changed[FieldKind] = e.Kind
			over(FieldKind)
		}
		if p.Addresses != nil {
			e.Addresses = slices.Clone(*p.Addresses)
			changed[FieldAddresses] = len(e.Addresses)
			over(FieldAddresses)
		}
		if err := validateEntry(&e); err != nil {
			return err
		}
		err := tx.GetContext(ctx, &e.UpdatedAt, `
			UPDATE directory_entries SET folder_id = $3, kind = $4, display_name = $5, title = $6, department = $7,
				organisation_name = $8, overridden = $9, updated_at = $10, published = $11, search_addresses = $12
			WHERE organisation_id = $1 AND id = $2 RETURNING updated_at`,
			orgID, id, e.FolderID, e.Kind, e.DisplayName, e.Title, e.Department, e.OrganisationName, e.Overridden, s.now(),
			e.Published(), searchAddresses(e.Addresses))
		if err != nil {
			return fmt.Errorf("directory: update entry: %w", err)
		}
		if p.Addresses != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM directory_addresses WHERE entry_id = $1`, id); err != nil {
				return fmt.Errorf("directory: update entry addresses: %w", err)
			}
			if err := writeAddresses(ctx, tx, orgID, id, e.Addresses); err != nil {
				return err
			}
		}
		out = e
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "directory.entry_update",
			ObjectType: "directory_entry", ObjectID: id, Summary: changed})
	})
	return out, err
}

// DeleteEntry removes an entry. A synced entry comes back with the next sync
// unless it leaves the source.
func (s *Store) DeleteEntry(ctx context.Context, orgID, id string) error {
	return s.tx(ctx, func(tx *sqlx.Tx) error {
		var name string
		err := tx.GetContext(ctx, &name, `DELETE FROM directory_entries WHERE organisation_id = $1 AND id = $2 RETURNING display_name`, orgID, id)
		if err != nil {
			return notFound(err, "entry")
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "directory.entry_delete",
			ObjectType: "directory_entry", ObjectID: id, Summary: map[string]any{"name": name}})
	})
}

// searchAddresses is the search form of addresses, folded further by the
// database: numbers as their digits (and +), so "21 99 10" finds
// "+47 21 99 10 01"; URIs without their sip: scheme. It matches
// directory_address_norm in migration 0005.
func searchAddresses(as []Address) string {
	var b strings.Builder
	for _, a := range as {
		v := a.Value
		switch a.Kind {
		case AddressTel, AddressE164:
			v = strings.Map(func(r rune) rune {
				if r >= '0' && r <= '9' || r == '+' {
					return r
				}
				return -1
			}, v)
		case AddressSIP:
			l := strings.ToLower(v)
			if strings.HasPrefix(l, "sip:") {
				v = v[4:]
			} else if strings.HasPrefix(l, "sips:") {
				v = v[5:]
			}
		}
		if v == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(v)
	}
	return b.String()
}

func writeAddresses(ctx context.Context, tx *sqlx.Tx, orgID, entryID string, as []Address) error {
	for i, a := range as {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO directory_addresses (organisation_id, entry_id, position, kind, label, value)
			VALUES ($1, $2, $3, $4, $5, $6)`, orgID, entryID, i, a.Kind, a.Label, a.Value); err != nil {
			return fmt.Errorf("directory: write address: %w", err)
		}
	}
	return nil
}

// loadAddresses fills the Addresses of es, in their order.
func loadAddresses(ctx context.Context, q sqlx.QueryerContext, orgID string, es []Entry) error {
	if len(es) == 0 {
		return nil
	}
	ids := make([]string, len(es))
	idx := make(map[string]int, len(es))
	for i := range es {
		ids[i] = es[i].ID
		idx[es[i].ID] = i
		es[i].Addresses = []Address{}
	}
	rows, err := q.QueryxContext(ctx, `
		SELECT entry_id, kind, label, value FROM directory_addresses
		WHERE organisation_id = $1 AND entry_id = ANY($2::uuid[]) ORDER BY entry_id, position`, orgID, pq.StringArray(ids))
	if err != nil {
		return fmt.Errorf("directory: load addresses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a Address
		if err := rows.Scan(&id, &a.Kind, &a.Label, &a.Value); err != nil {
			return fmt.Errorf("directory: load addresses: %w", err)
		}
		i := idx[id]
		es[i].Addresses = append(es[i].Addresses, a)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("directory: load addresses: %w", err)
	}
	return nil
}

func checkFolder(ctx context.Context, q sqlx.QueryerContext, orgID string, folderID *string) error {
	if folderID == nil {
		return nil
	}
	var one int
	if err := sqlx.GetContext(ctx, q, &one, `SELECT 1 FROM directory_folders WHERE organisation_id = $1 AND id = $2`, orgID, *folderID); err != nil {
		return notFound(err, "folder")
	}
	return nil
}

// notFound turns "no rows" (and a malformed UUID, which cannot name a row)
// into ErrNotFound.
func notFound(err error, what string) error {
	var pqErr *pq.Error
	if errors.Is(err, sql.ErrNoRows) || errors.As(err, &pqErr) && pqErr.Code == "22P02" {
		return fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	return fmt.Errorf("directory: %s: %w", what, err)
}
