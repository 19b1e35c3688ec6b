package webadmin

import (
	"context"
	"strings"
	"sync"
	"time"
	// The IANA zones organisations choose, built in: a host without a tz
	// database (a slim container) still knows them.
	_ "time/tzdata"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// Organisation is a tenant: every room, admin account and API token belongs to one.
type Organisation struct {
	ID   string `db:"id" json:"id"`
	Name string `db:"name" json:"name"`
	// TimeZone is the IANA zone of the organisation's days and times in the
	// admin and the call statistics, "UTC" until an admin sets one.
	TimeZone  string    `db:"time_zone" json:"time_zone"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	Users     int       `db:"users" json:"users"`
	Rooms     int       `db:"rooms" json:"rooms"`
}

const orgColumns = `o.id, o.name, o.time_zone, o.created_at,
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

// Location is the organisation's time zone; UTC if the stored name does not
// load (a tz database without it).
func (o Organisation) Location() *time.Location { return LoadLocation(o.TimeZone) }

// In is t in the organisation's time zone, for pages.
func (o Organisation) In(t time.Time) time.Time { return t.In(o.Location()) }

// locations caches loaded time zones: time.LoadLocation reads the zone file
// on every call.
var locations sync.Map // string → *time.Location

// LoadLocation returns the IANA time zone name, UTC if it does not load.
func LoadLocation(name string) *time.Location {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	locations.Store(name, loc)
	return loc
}

// validTimeZone checks an IANA time zone name an admin typed.
func validTimeZone(tz string) (string, error) {
	tz = strings.TrimSpace(tz)
	if tz == "" {
		return "", invalid("time_zone", "is required")
	}
	// "Local" is this server's zone, not a place; LoadLocation takes it.
	if _, err := time.LoadLocation(tz); err != nil || tz == "Local" {
		return "", invalid("time_zone", "is not an IANA time zone such as Europe/Oslo")
	}
	return tz, nil
}

// SetTimeZone sets the time zone of organisation id, audited.
func (s *Store) SetTimeZone(ctx context.Context, id, tz string) (Organisation, error) {
	tz, err := validTimeZone(tz)
	if err != nil {
		return Organisation{}, err
	}
	if !validID(id) {
		return Organisation{}, ErrNotFound
	}
	var o Organisation
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		var old string
		if err := tx.GetContext(ctx, &old, `SELECT time_zone FROM organisations WHERE id = $1 FOR UPDATE`, id); err != nil {
			return notFound("set time zone", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE organisations SET time_zone = $2, updated_at = $3 WHERE id = $1`, id, tz, s.now()); err != nil {
			return notFound("set time zone", err)
		}
		if err := tx.GetContext(ctx, &o, `SELECT `+orgColumns+` FROM organisations o WHERE o.id = $1`, id); err != nil {
			return notFound("set time zone", err)
		}
		if old == tz {
			return nil
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: id, Action: "organisation.update",
			ObjectType: "organisation", ObjectID: id, Summary: map[string]any{"time_zone": map[string]string{"from": old, "to": tz}}})
	})
	return o, err
}
