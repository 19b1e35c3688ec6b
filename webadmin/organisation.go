package webadmin

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// Organisation is a tenant: every room, admin account and API token belongs to one.
type Organisation struct {
	ID        string    `db:"id" json:"id"`
	Name      string    `db:"name" json:"name"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	Users     int       `db:"users" json:"users"`
	Rooms     int       `db:"rooms" json:"rooms"`
}

const orgColumns = `o.id, o.name, o.created_at,
	(SELECT count(*) FROM users u WHERE u.organisation_id = o.id) AS users,
	(SELECT count(*) FROM rooms r WHERE r.organisation_id = o.id) AS rooms`

func validateOrgName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", invalid("name", "is required")
	}
	if len(name) > 200 {
		return "", invalid("name", "is longer than 200 characters")
	}
	return name, nil
}

// CreateOrganisation creates an organisation. A name taken (in any case) is a
// ConflictError.
func (s *Store) CreateOrganisation(ctx context.Context, name string) (Organisation, error) {
	name, err := validateOrgName(name)
	if err != nil {
		return Organisation{}, err
	}
	var o Organisation
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var id string
		if err := tx.GetContext(ctx, &id, `INSERT INTO organisations (name, created_at, updated_at) VALUES ($1, $2, $2) RETURNING id`,
			name, s.now()); err != nil {
			if _, ok := uniqueViolation(err); ok {
				return &ConflictError{Field: "name", Message: "an organisation of this name exists"}
			}
			return notFound("create organisation", err)
		}
		if err := tx.GetContext(ctx, &o, `SELECT `+orgColumns+` FROM organisations o WHERE o.id = $1`, id); err != nil {
			return notFound("create organisation", err)
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: id, Action: "organisation.create",
			ObjectType: "organisation", ObjectID: id, Summary: map[string]any{"name": name}})
	})
	return o, err
}

// ListOrganisations returns every organisation by name (system role only).
func (s *Store) ListOrganisations(ctx context.Context) ([]Organisation, error) {
	out := []Organisation{}
	if err := s.db.SelectContext(ctx, &out, `SELECT `+orgColumns+` FROM organisations o ORDER BY lower(o.name)`); err != nil {
		return nil, notFound("list organisations", err)
	}
	return out, nil
}

// GetOrganisation returns the organisation with id.
func (s *Store) GetOrganisation(ctx context.Context, id string) (Organisation, error) {
	var o Organisation
	if !validID(id) {
		return o, ErrNotFound
	}
	err := s.db.GetContext(ctx, &o, `SELECT `+orgColumns+` FROM organisations o WHERE o.id = $1`, id)
	return o, notFoundOrNil("get organisation", err)
}

// OrganisationByName returns the organisation named name, compared
// case-insensitively.
func (s *Store) OrganisationByName(ctx context.Context, name string) (Organisation, error) {
	var o Organisation
	err := s.db.GetContext(ctx, &o, `SELECT `+orgColumns+` FROM organisations o WHERE lower(o.name) = lower($1)`, strings.TrimSpace(name))
	return o, notFoundOrNil("organisation by name", err)
}

func notFoundOrNil(what string, err error) error {
	if err == nil {
		return nil
	}
	return notFound(what, err)
}
