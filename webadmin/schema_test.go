package webadmin

import (
	"testing"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// TestSchema0003 checks the rules migration 0003 puts in the database, one
// statement at a time (rolled back).
func TestSchema0003(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	var org, user string
	if err := db.Get(&org, `INSERT INTO organisations (name) VALUES ('Acme') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&user, `INSERT INTO users (organisation_id, email, password_hash, role) VALUES ($1, 'a@acme.example', 'x', 'admin') RETURNING id`, org); err != nil {
		t.Fatal(err)
	}
	h32 := `decode(repeat('ab', 32), 'hex')`
	tests := []struct {
		name  string
		query string
		args  []any
		ok    bool
	}{
		{"a session with a 32-byte hash is accepted", `INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES (` + h32 + `, $1, now(), now())`, []any{user}, true},
		{"a session ID in clear is refused", `INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES ('bfs_secret'::bytea, $1, now(), now())`, []any{user}, false},
		{"an API token with a 32-byte hash is accepted", `INSERT INTO api_tokens (organisation_id, name, role, token_hash, prefix, created_at) VALUES ($1, 'ci', 'viewer', ` + h32 + `, 'bft_ab', now())`, []any{org}, true},
		{"a token in clear is refused", `INSERT INTO api_tokens (organisation_id, name, role, token_hash, prefix, created_at) VALUES ($1, 'ci', 'viewer', 'bft_secret'::bytea, 'bft_', now())`, []any{org}, false},
		{"a system token is refused", `INSERT INTO api_tokens (organisation_id, name, role, token_hash, prefix, created_at) VALUES ($1, 'ci', 'system', ` + h32 + `, 'bft_ab', now())`, []any{org}, false},
		{"an unknown throttle kind is refused", `INSERT INTO login_throttle (kind, subject, window_start) VALUES ('user', 'x', now())`, nil, false},
		{"rooms have a guests_wait_for_host column", `SELECT guests_wait_for_host FROM rooms`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tx := db.MustBegin()
			defer tx.Rollback()
			_, err := tx.Exec(tt.query, tt.args...)
			if tt.ok && err != nil {
				t.Errorf("%s: %v", tt.query, err)
			}
			if !tt.ok && err == nil {
				t.Errorf("%s: succeeded, want an error", tt.query)
			}
		})
	}
	t.Run("a new room does not make guests wait", func(t *testing.T) {
		var wait bool
		if err := db.Get(&wait, `INSERT INTO rooms (organisation_id, name, alias) VALUES ($1, 'R', '1') RETURNING guests_wait_for_host`, org); err != nil || wait {
			t.Errorf("guests_wait_for_host %v (%v)", wait, err)
		}
	})
	t.Run("deleting a user deletes their sessions and keeps their tokens", func(t *testing.T) {
		if _, err := db.Exec(`INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES (`+h32+`, $1, now(), now())`, user); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO api_tokens (organisation_id, name, role, token_hash, prefix, created_by, created_at) VALUES ($1, 'ci', 'admin', `+h32+`, 'bft_ab', $2, now())`, org, user); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`DELETE FROM users WHERE id = $1`, user); err != nil {
			t.Fatal(err)
		}
		var sessions, tokens int
		if err := db.Get(&sessions, `SELECT count(*) FROM sessions`); err != nil || sessions != 0 {
			t.Errorf("%d sessions left (%v)", sessions, err)
		}
		if err := db.Get(&tokens, `SELECT count(*) FROM api_tokens WHERE created_by IS NULL`); err != nil || tokens != 1 {
			t.Errorf("%d tokens kept without creator (%v)", tokens, err)
		}
	})
}
