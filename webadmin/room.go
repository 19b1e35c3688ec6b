package webadmin

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// Room is a virtual meeting room.
type Room struct {
	ID                string `db:"id" json:"id"`
	OrganisationID    string `db:"organisation_id" json:"organisation_id"`
	Name              string `db:"name" json:"name"`
	Alias             string `db:"alias" json:"alias"`
	NameAlias         string `db:"name_alias" json:"name_alias"`
	HostPIN           string `db:"host_pin" json:"host_pin"`
	GuestPIN          string `db:"guest_pin" json:"guest_pin"`
	MaxParticipants   int    `db:"max_participants" json:"max_participants"`
	Owner             string `db:"owner" json:"owner"`
	GuestsWaitForHost bool   `db:"guests_wait_for_host" json:"guests_wait_for_host"`
	// SRTPPolicy is "required", "preferred" or "off"; "" follows the system
	// default (sip.srtp).
	SRTPPolicy string    `db:"srtp_policy" json:"srtp_policy"`
	CreatedAt  time.Time `db:"created_at" json:"created_at"`
	UpdatedAt  time.Time `db:"updated_at" json:"updated_at"`
}

// MaskedPIN replaces a PIN shown to a viewer.
const MaskedPIN = "****"

// Masked returns r with its PINs replaced by MaskedPIN (an empty PIN stays empty,
// so a viewer still sees whether the room has one).
func (r Room) Masked() Room {
	if r.HostPIN != "" {
		r.HostPIN = MaskedPIN
	}
	if r.GuestPIN != "" {
		r.GuestPIN = MaskedPIN
	}
	return r
}

const roomColumns = `id, organisation_id, name, alias, COALESCE(name_alias, '') AS name_alias,
	COALESCE(host_pin, '') AS host_pin, COALESCE(guest_pin, '') AS guest_pin,
	COALESCE(max_participants, 0) AS max_participants, owner, guests_wait_for_host,
	COALESCE(srtp_policy, '') AS srtp_policy, created_at, updated_at`

// RoomInput is what a create or an update sets; a nil field is left as it is. An
// empty name alias or PIN, or a max_participants of 0, removes it. On create,
// Name and Alias are required.
type RoomInput struct {
	Name              *string `json:"name"`
	Alias             *string `json:"alias"`
	NameAlias         *string `json:"name_alias"`
	HostPIN           *string `json:"host_pin"`
	GuestPIN          *string `json:"guest_pin"`
	MaxParticipants   *int    `json:"max_participants"`
	Owner             *string `json:"owner"`
	GuestsWaitForHost *bool   `json:"guests_wait_for_host"`
	// SRTPPolicy is "required", "preferred", "off", or "" for the system
	// default.
	SRTPPolicy *string `json:"srtp_policy"`
}

var (
	aliasRE       = regexp.MustCompile(`^[0-9]{1,20}$`)
	nameAliasRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)
	pinRE         = regexp.MustCompile(`^[0-9]{4,10}$`)
	auditActionRE = regexp.MustCompile(`^[a-z_]+(\.[a-z_]*)+$`)
)

// MaxRoomParticipants bounds a room's max_participants.
const MaxRoomParticipants = 1000

func trimPtr(p *string) {
	if p != nil {
		*p = strings.TrimSpace(*p)
	}
}

func (in *RoomInput) validate(create bool) error {
	trimPtr(in.Name)
	trimPtr(in.Alias)
	trimPtr(in.NameAlias)
	trimPtr(in.HostPIN)
	trimPtr(in.GuestPIN)
	trimPtr(in.Owner)
	trimPtr(in.SRTPPolicy)
	if create && (in.Name == nil || *in.Name == "") {
		return invalid("name", "is required")
	}
	if create && (in.Alias == nil || *in.Alias == "") {
		return invalid("alias", "is required")
	}
	if in.Name != nil && (*in.Name == "" || len(*in.Name) > 200) {
		return invalid("name", "must be 1 to 200 characters")
	}
	if in.Alias != nil && !aliasRE.MatchString(*in.Alias) {
		return invalid("alias", "must be 1 to 20 digits")
	}
	if in.NameAlias != nil && *in.NameAlias != "" {
		if !nameAliasRE.MatchString(*in.NameAlias) {
			return invalid("name_alias", "must be letters, digits, dots, dashes or underscores, starting with a letter or digit, at most 63")
		}
		if aliasRE.MatchString(*in.NameAlias) {
			return invalid("name_alias", "must not be all digits (that is a numeric alias)")
		}
	}
	if in.HostPIN != nil && *in.HostPIN != "" && !pinRE.MatchString(*in.HostPIN) {
		return invalid("host_pin", "must be 4 to 10 digits")
	}
	if in.GuestPIN != nil && *in.GuestPIN != "" && !pinRE.MatchString(*in.GuestPIN) {
		return invalid("guest_pin", "must be 4 to 10 digits")
	}
	if in.HostPIN != nil && in.GuestPIN != nil && *in.HostPIN != "" && *in.HostPIN == *in.GuestPIN {
		return invalid("guest_pin", "must differ from the host PIN")
	}
	if in.MaxParticipants != nil && (*in.MaxParticipants < 0 || *in.MaxParticipants > MaxRoomParticipants) {
		return invalid("max_participants", "must be 0 (no limit) to %d", MaxRoomParticipants)
	}
	if in.Owner != nil && len(*in.Owner) > 200 {
		return invalid("owner", "is longer than 200 characters")
	}
	if in.SRTPPolicy != nil {
		switch *in.SRTPPolicy {
		case "", "required", "preferred", "off":
		default:
			return invalid("srtp_policy", "must be required, preferred, off or empty (the system default)")
		}
	}
	return nil
}

// summary lists the fields set, with PINs reduced to whether one is set.
func (in RoomInput) summary() map[string]any {
	m := map[string]any{}
	set := func(k string, v *string) {
		if v != nil {
			m[k] = *v
		}
	}
	set("name", in.Name)
	set("alias", in.Alias)
	set("name_alias", in.NameAlias)
	set("owner", in.Owner)
	set("srtp_policy", in.SRTPPolicy)
	// A PIN shows as "[redacted]" when set and "" when removed (audit.Scrub
	// redacts any non-empty value under a PIN key; "set" is never the PIN).
	for k, v := range map[string]*string{"host_pin": in.HostPIN, "guest_pin": in.GuestPIN} {
		if v != nil {
			m[k] = ""
			if *v != "" {
				m[k] = "set"
			}
		}
	}
	if in.MaxParticipants != nil {
		m["max_participants"] = *in.MaxParticipants
	}
	if in.GuestsWaitForHost != nil {
		m["guests_wait_for_host"] = *in.GuestsWaitForHost
	}
	return m
}

func roomConflict(err error) error {
	c, ok := uniqueViolation(err)
	switch {
	case !ok:
		return nil
	case strings.Contains(c, "name_alias"):
		return &ConflictError{Field: "name_alias", Message: "this name alias is taken"}
	default:
		return &ConflictError{Field: "alias", Message: "this alias is taken"}
	}
}

// nullIfEmpty maps "" to NULL and 0 to NULL for optional columns.
func nullIfEmpty(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

// ListRooms returns the rooms of orgID whose name, alias, name alias or owner
// contains search (all when empty), by alias, and how many match.
func (s *Store) ListRooms(ctx context.Context, orgID, search string, p Page) ([]Room, int, error) {
	p = p.normal()
	out := []Room{}
	var total int
	if !validID(orgID) {
		return out, 0, nil
	}
	cond := `organisation_id = $1 AND ($2 = '' OR name ILIKE '%' || $2 || '%' OR alias LIKE '%' || $2 || '%'
		OR name_alias ILIKE '%' || $2 || '%' OR owner ILIKE '%' || $2 || '%')`
	q := escapeLike(strings.TrimSpace(search))
	if err := s.db.GetContext(ctx, &total, `SELECT count(*) FROM rooms WHERE `+cond, orgID, q); err != nil {
		return nil, 0, notFound("count rooms", err)
	}
	if err := s.db.SelectContext(ctx, &out, `SELECT `+roomColumns+` FROM rooms WHERE `+cond+`
		ORDER BY length(alias), alias LIMIT $3 OFFSET $4`, orgID, q, p.Limit, p.Offset); err != nil {
		return nil, 0, notFound("list rooms", err)
	}
	return out, total, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// GetRoom returns room id of orgID.
func (s *Store) GetRoom(ctx context.Context, orgID, id string) (Room, error) {
	var r Room
	if !validID(orgID) || !validID(id) {
		return r, ErrNotFound
	}
	err := s.db.GetContext(ctx, &r, `SELECT `+roomColumns+` FROM rooms WHERE organisation_id = $1 AND id = $2`, orgID, id)
	return r, notFoundOrNil("get room", err)
}

// CreateRoom creates a room in orgID. A taken alias or name alias is a
// ConflictError.
func (s *Store) CreateRoom(ctx context.Context, orgID string, in RoomInput) (Room, error) {
	if err := in.validate(true); err != nil {
		return Room{}, err
	}
	if !validID(orgID) {
		return Room{}, ErrNotFound
	}
	var r Room
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var maxp any
		if in.MaxParticipants != nil && *in.MaxParticipants > 0 {
			maxp = *in.MaxParticipants
		}
		owner := ""
		if in.Owner != nil {
			owner = *in.Owner
		}
		wait := in.GuestsWaitForHost != nil && *in.GuestsWaitForHost
		err := tx.GetContext(ctx, &r, `INSERT INTO rooms (organisation_id, name, alias, name_alias, host_pin, guest_pin,
				max_participants, owner, guests_wait_for_host, srtp_policy, created_at, updated_at)
			VALUES ($1, $2, $3, NULLIF($4, ''), NULLIF($5, ''), NULLIF($6, ''), $7, $8, $9, NULLIF($11, ''), $10, $10) RETURNING `+roomColumns,
			orgID, *in.Name, *in.Alias, nullIfEmpty(in.NameAlias), nullIfEmpty(in.HostPIN), nullIfEmpty(in.GuestPIN),
			maxp, owner, wait, s.now(), nullIfEmpty(in.SRTPPolicy))
		if err != nil {
			if c := roomConflict(err); c != nil {
				return c
			}
			return notFound("create room", err)
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "room.create",
			ObjectType: "room", ObjectID: r.ID, Summary: in.summary()})
	})
	return r, err
}

// UpdateRoom changes the fields of in that are set on room id of orgID.
func (s *Store) UpdateRoom(ctx context.Context, orgID, id string, in RoomInput) (Room, error) {
	if err := in.validate(false); err != nil {
		return Room{}, err
	}
	if !validID(orgID) || !validID(id) {
		return Room{}, ErrNotFound
	}
	var r Room
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		// The PINs must differ after the update, whichever one changed.
		var cur Room
		if err := tx.GetContext(ctx, &cur, `SELECT `+roomColumns+` FROM rooms WHERE organisation_id = $1 AND id = $2 FOR UPDATE`, orgID, id); err != nil {
			return notFound("update room", err)
		}
		host, guest := cur.HostPIN, cur.GuestPIN
		if in.HostPIN != nil {
			host = *in.HostPIN
		}
		if in.GuestPIN != nil {
			guest = *in.GuestPIN
		}
		if host != "" && host == guest {
			return invalid("guest_pin", "must differ from the host PIN")
		}
		setMax := in.MaxParticipants != nil
		var maxp any
		if setMax && *in.MaxParticipants > 0 {
			maxp = *in.MaxParticipants
		}
		err := tx.GetContext(ctx, &r, `UPDATE rooms SET
				name = COALESCE($3, name), alias = COALESCE($4, alias),
				name_alias = CASE WHEN $5::text IS NULL THEN name_alias ELSE NULLIF($5, '') END,
				host_pin = CASE WHEN $6::text IS NULL THEN host_pin ELSE NULLIF($6, '') END,
				guest_pin = CASE WHEN $7::text IS NULL THEN guest_pin ELSE NULLIF($7, '') END,
				max_participants = CASE WHEN $8 THEN $9::int ELSE max_participants END,
				owner = COALESCE($10, owner), guests_wait_for_host = COALESCE($11, guests_wait_for_host),
				srtp_policy = CASE WHEN $13::text IS NULL THEN srtp_policy ELSE NULLIF($13, '') END,
				updated_at = $12
			WHERE organisation_id = $1 AND id = $2 RETURNING `+roomColumns,
			orgID, id, in.Name, in.Alias, in.NameAlias, in.HostPIN, in.GuestPIN, setMax, maxp,
			in.Owner, in.GuestsWaitForHost, s.now(), in.SRTPPolicy)
		if err != nil {
			if c := roomConflict(err); c != nil {
				return c
			}
			return notFound("update room", err)
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "room.update",
			ObjectType: "room", ObjectID: id, Summary: in.summary()})
	})
	return r, err
}

// DeleteRoom deletes room id of orgID.
func (s *Store) DeleteRoom(ctx context.Context, orgID, id string) error {
	if !validID(orgID) || !validID(id) {
		return ErrNotFound
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var r Room
		if err := tx.GetContext(ctx, &r, `DELETE FROM rooms WHERE organisation_id = $1 AND id = $2 RETURNING `+roomColumns, orgID, id); err != nil {
			return notFound("delete room", err)
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "room.delete",
			ObjectType: "room", ObjectID: id, Summary: map[string]any{"name": r.Name, "alias": r.Alias}})
	})
}

// LookupRoom finds the room whose numeric alias is alias or whose name alias is
// alias (case-insensitively), across all organisations: the dial plan is shared.
// It returns ErrNotFound when there is none. cmd/bifrost adapts it to the
// bridge's Resolver.
func LookupRoom(ctx context.Context, q sqlx.QueryerContext, alias string) (Room, error) {
	var r Room
	alias = strings.TrimSpace(alias)
	if alias == "" || len(alias) > 63 {
		return r, ErrNotFound
	}
	query := `SELECT ` + roomColumns + ` FROM rooms WHERE lower(name_alias) = lower($1)`
	if aliasRE.MatchString(alias) {
		query = `SELECT ` + roomColumns + ` FROM rooms WHERE alias = $1`
	}
	err := sqlx.GetContext(ctx, q, &r, query, alias)
	return r, notFoundOrNil("lookup room", err)
}
