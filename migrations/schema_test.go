package migrations_test

import (
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// TestSchemaConstraints checks the rules 0001 puts in the database, one
// statement at a time (rolled back) on a database holding organisation
// "Acme", its room 1000 (name alias Sales) and its user taken@example.com.
func TestSchemaConstraints(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var org string
	if err := db.Get(&org, `INSERT INTO organisations (name) VALUES ('Acme') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO rooms (organisation_id, name, alias, name_alias) VALUES ($1, 'Main', '1000', 'Sales')`, org); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO users (organisation_id, email, password_hash, role) VALUES ($1, 'taken@example.com', 'x', 'viewer')`, org); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		query string
		ok    bool
	}{
		{"an organisation name differing only in case is a duplicate", `INSERT INTO organisations (name) VALUES ('ACME')`, false},
		{"the retention defaults to 90 days", `SELECT 1/(usage_retention = '90 days')::int FROM organisations`, true},
		{"a system user needs no organisation", `INSERT INTO users (email, password_hash, role) VALUES ('root@example.com', 'x', 'system')`, true},
		{"an admin needs an organisation", `INSERT INTO users (email, password_hash, role) VALUES ('a@example.com', 'x', 'admin')`, false},
		{"an admin of an organisation is accepted", `INSERT INTO users (organisation_id, email, password_hash, role) VALUES ($1, 'b@example.com', 'x', 'admin')`, true},
		{"an e-mail differing only in case is a duplicate", `INSERT INTO users (organisation_id, email, password_hash, role) VALUES ($1, 'Taken@Example.com', 'x', 'viewer')`, false},
		{"an unknown role is refused", `INSERT INTO users (organisation_id, email, password_hash, role) VALUES ($1, 'c@example.com', 'x', 'owner')`, false},
		{"a numeric alias of 20 digits is accepted", `INSERT INTO rooms (organisation_id, name, alias) VALUES ($1, 'R', '12345678901234567890')`, true},
		{"an alias of 21 digits is refused", `INSERT INTO rooms (organisation_id, name, alias) VALUES ($1, 'R', '123456789012345678901')`, false},
		{"a non-numeric alias is refused", `INSERT INTO rooms (organisation_id, name, alias) VALUES ($1, 'R', '12a')`, false},
		{"a duplicate alias is refused", `INSERT INTO rooms (organisation_id, name, alias) VALUES ($1, 'R', '1000')`, false},
		{"a name alias differing only in case is a duplicate", `INSERT INTO rooms (organisation_id, name, alias, name_alias) VALUES ($1, 'R', '1001', 'sales')`, false},
		{"a 3-digit PIN is refused", `INSERT INTO rooms (organisation_id, name, alias, guest_pin) VALUES ($1, 'R', '1002', '123')`, false},
		{"a 4-digit host PIN is accepted", `INSERT INTO rooms (organisation_id, name, alias, host_pin) VALUES ($1, 'R', '1003', '1234')`, true},
		{"zero participants is refused", `INSERT INTO rooms (organisation_id, name, alias, max_participants) VALUES ($1, 'R', '1004', 0)`, false},
		{"unaccent and pg_trgm are installed", `SELECT similarity(unaccent('Émile'), 'Emile')`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx := db.MustBegin()
			defer tx.Rollback()
			var args []any
			if strings.Contains(tt.query, "$1") {
				args = append(args, org)
			}
			_, err := tx.Exec(tt.query, args...)
			if tt.ok && err != nil {
				t.Errorf("%s: %v", tt.query, err)
			}
			if !tt.ok && err == nil {
				t.Errorf("%s: succeeded, want an error", tt.query)
			}
		})
	}
	t.Run("deleting the organisation deletes its users and rooms", func(t *testing.T) {
		if _, err := db.Exec(`DELETE FROM organisations WHERE id = $1`, org); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.Get(&n, `SELECT (SELECT count(*) FROM rooms) + (SELECT count(*) FROM users WHERE role <> 'system')`); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rooms and users left, want 0", n)
		}
	})
}
