package webadmin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// BootstrapResult says what Bootstrap created. AdminPassword is the only copy of
// the generated password: print it once and forget it.
type BootstrapResult struct {
	Created       bool
	Organisation  string
	AdminEmail    string
	AdminPassword string
	RoomName      string
	RoomAlias     string
}

// Bootstrap gives a new deployment something to use: when no organisation exists
// yet it creates the organisation "Demo", a system administrator with a generated
// password, and a demo room with alias 1000, in one transaction. On a deployment
// that has organisations it creates nothing and reports its oldest room (RoomAlias
// is empty when there is none).
func Bootstrap(ctx context.Context, db *sqlx.DB) (BootstrapResult, error) {
	res := BootstrapResult{
		Organisation: "Demo",
		AdminEmail:   "admin@demo.example",
		RoomName:     "Demo room",
		RoomAlias:    "1000",
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("webadmin: bootstrap: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	// Two processes starting at once must not both create a Demo organisation.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('bifrost.bootstrap'))`); err != nil {
		return res, fmt.Errorf("webadmin: bootstrap: %w", err)
	}
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT count(*) FROM organisations`); err != nil {
		return res, fmt.Errorf("webadmin: bootstrap: %w", err)
	}
	if n > 0 {
		// Not the first start: point at the oldest room, if any, so the banner
		// still tells what to dial.
		var room struct {
			Name  string `db:"name"`
			Alias string `db:"alias"`
		}
		err := tx.GetContext(ctx, &room, `SELECT name, alias FROM rooms ORDER BY created_at, alias LIMIT 1`)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return res, fmt.Errorf("webadmin: bootstrap: %w", err)
		}
		res.RoomName, res.RoomAlias = room.Name, room.Alias
		return res, nil
	}
	password := GeneratePassword()
	hash, err := HashPassword(password, DefaultPasswordParams)
	if err != nil {
		return res, err
	}
	var orgID string
	if err := tx.GetContext(ctx, &orgID,
		`INSERT INTO organisations (name) VALUES ($1) RETURNING id`, res.Organisation); err != nil {
		return res, fmt.Errorf("webadmin: bootstrap organisation: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO users (organisation_id, name, email, password_hash, role) VALUES ($1, $2, $3, $4, 'system')`,
		orgID, "Administrator", res.AdminEmail, hash); err != nil {
		return res, fmt.Errorf("webadmin: bootstrap admin: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO rooms (organisation_id, name, alias) VALUES ($1, $2, $3)`,
		orgID, res.RoomName, res.RoomAlias); err != nil {
		return res, fmt.Errorf("webadmin: bootstrap room: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("webadmin: bootstrap: %w", err)
	}
	res.Created, res.AdminPassword = true, password
	return res, nil
}
