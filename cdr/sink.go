package cdr

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/audit"
	"github.com/bifrost-video/bifrost/internal/secretbox"
)

// Sink is an organisation's HTTP receiver of conference and leg events.
type Sink struct {
	ID             string `db:"id" json:"id"`
	OrganisationID string `db:"organisation_id" json:"organisation_id"`
	Name           string `db:"name" json:"name"`
	URL            string `db:"url" json:"url"`
	Auth           string `db:"auth" json:"auth"` // none, basic or bearer
	Username       string `db:"username" json:"username,omitempty"`
	Secret         string `db:"secret" json:"-"` // basic password or bearer token, in clear only in memory
	// SecretSealed is Secret as stored: sealed under the secret key (migration 0007).
	SecretSealed []byte `db:"secret_sealed" json:"-"`
	TLSVerify    bool   `db:"tls_verify" json:"tls_verify"`
	Enabled      bool   `db:"enabled" json:"enabled"`
	LastSeq      int64  `db:"last_seq" json:"last_seq"`
}

// validate checks a sink before it is stored.
func (s Sink) validate() error {
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("cdr: sink URL %q: want http:// or https:// and a host", s.URL)
	}
	if s.Name == "" {
		return errors.New("cdr: sink name must not be empty")
	}
	switch s.Auth {
	case "none":
	case "basic":
		if s.Username == "" || s.Secret == "" {
			return errors.New("cdr: basic auth needs a user name and a password")
		}
	case "bearer":
		if s.Secret == "" {
			return errors.New("cdr: bearer auth needs a token")
		}
	default:
		return fmt.Errorf("cdr: sink auth %q: want none, basic or bearer", s.Auth)
	}
	return nil
}

// CreateSink stores a new enabled sink, audited, and returns its ID. Events
// are queued for it from now on. Its secret is sealed under key (the
// deployment's secret key); the database never holds it in clear.
func CreateSink(ctx context.Context, db *sqlx.DB, key []byte, s Sink) (string, error) {
	if s.Auth == "" {
		s.Auth = "none"
	}
	if err := s.validate(); err != nil {
		return "", err
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("cdr: create sink: %w", err)
	}
	defer tx.Rollback()
	var id string
	if err := tx.GetContext(ctx, &id, `SELECT gen_random_uuid()`); err != nil {
		return "", fmt.Errorf("cdr: create sink: %w", err)
	}
	var sealed []byte
	if s.Secret != "" {
		if sealed, err = secretbox.Seal(key, s.Secret, sinkSecretAAD(id)); err != nil {
			return "", fmt.Errorf("cdr: create sink: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `
		INSERT INTO cdr_sinks (id, organisation_id, name, url, auth, username, secret_sealed, tls_verify)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		id, s.OrganisationID, s.Name, s.URL, s.Auth, s.Username, sealed, s.TLSVerify); err != nil {
		return "", fmt.Errorf("cdr: create sink: %w", err)
	}
	if err := audit.Record(ctx, tx, audit.Entry{OrganisationID: s.OrganisationID, Action: "cdr.sink_create", ObjectType: "cdr_sink", ObjectID: id,
		Summary: map[string]any{"name": s.Name, "url": s.URL, "auth": s.Auth, "tls_verify": s.TLSVerify}}); err != nil {
		return "", err
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("cdr: create sink: %w", err)
	}
	return id, nil
}

// ListSinks returns the organisation's sinks (secrets sealed: only delivery
// opens them).
func ListSinks(ctx context.Context, db sqlx.QueryerContext, org string) ([]Sink, error) {
	sinks := []Sink{}
	err := sqlx.SelectContext(ctx, db, &sinks, `SELECT id, organisation_id, name, url, auth, username, secret, secret_sealed, tls_verify, enabled, last_seq
		FROM cdr_sinks WHERE organisation_id = $1 ORDER BY name`, org)
	if err != nil {
		return nil, fmt.Errorf("cdr: list sinks: %w", err)
	}
	return sinks, nil
}

func getSink(ctx context.Context, q sqlx.QueryerContext, id string) (Sink, error) {
	var s Sink
	err := sqlx.GetContext(ctx, q, &s, `SELECT id, organisation_id, name, url, auth, username, secret, secret_sealed, tls_verify, enabled, last_seq FROM cdr_sinks WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return s, ErrNotFound
	}
	return s, err
}

// sinkSecretAAD binds a sealed secret to its sink.
func sinkSecretAAD(id string) string { return "cdr_sinks/" + id }

// openSecret fills s.Secret from the sealed column (a sink stored before
// migration 0007 has its secret in clear instead).
func (s *Sink) openSecret(key []byte) error {
	if s.SecretSealed == nil {
		return nil
	}
	secret, err := secretbox.Open(key, s.SecretSealed, sinkSecretAAD(s.ID))
	if err != nil {
		return fmt.Errorf("cdr: sink %s: %w", s.Name, err)
	}
	s.Secret = secret
	return nil
}
