package webadmin

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"strings"
	"time"
)

// SessionTTL is how long a sign-in lasts.
const SessionTTL = 12 * time.Hour

// sessionPrefix starts every session ID.
const sessionPrefix = "bfs_"

// Session is a signed-in user's session as the pages see it.
type Session struct {
	Principal Principal
	User      User
	ExpiresAt time.Time
	// CSRF is the token the session's forms carry; derived from the session ID so
	// nothing more is stored.
	CSRF string
	id   string // the cookie value, for sign-out and switching organisation
}

// SessionCookie is the name of the session cookie.
const SessionCookie = "bifrost_session"

type sessionKey struct{}

func withSession(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}

// sessionFrom returns the session of a page request, or nil (API token requests).
func sessionFrom(ctx context.Context) *Session {
	s, _ := ctx.Value(sessionKey{}).(*Session)
	return s
}

// CreateSession starts a session for user u acting on organisation orgID and
// returns its ID (the cookie value, the only copy) and when it expires.
func (s *Store) CreateSession(ctx context.Context, u User, orgID, ip, userAgent string) (string, time.Time, error) {
	secret, hash := newSecret(sessionPrefix)
	now := s.now()
	expires := now.Add(SessionTTL)
	var org any
	if validID(orgID) {
		org = orgID
	}
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, organisation_id, created_at, expires_at, source_ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, hash, u.ID, org, now, expires, inetOrNil(ip), userAgent)
	if err != nil {
		return "", time.Time{}, notFound("create session", err)
	}
	return secret, expires, nil
}

func inetOrNil(ip string) any {
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	if net.ParseIP(ip) == nil {
		return nil
	}
	return ip
}

// SessionByID returns the live session with ID id, or ErrUnauthenticated.
func (s *Store) SessionByID(ctx context.Context, id string) (Session, error) {
	if !strings.HasPrefix(id, sessionPrefix) || len(id) > 200 {
		return Session{}, ErrUnauthenticated
	}
	var row struct {
		User
		SessionOrg *string   `db:"session_org"`
		ExpiresAt  time.Time `db:"expires_at"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT u.id, u.organisation_id, u.name, u.email, u.role, u.created_at, u.updated_at,
			u.last_login_at, u.password_hash, s.organisation_id AS session_org, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = $1 AND s.expires_at > $2`, hashSecret(id), s.now())
	if err != nil {
		if e := notFound("session", err); e != ErrNotFound {
			return Session{}, e
		}
		return Session{}, ErrUnauthenticated
	}
	p := Principal{UserID: row.ID, Name: row.Email, Role: row.Role}
	switch {
	case row.Role == RoleSystem && row.SessionOrg != nil:
		p.OrganisationID = *row.SessionOrg
	case row.OrganisationID != nil:
		p.OrganisationID = *row.OrganisationID
	}
	return Session{Principal: p, User: row.User, ExpiresAt: row.ExpiresAt, CSRF: csrfToken(id)}, nil
}

func csrfToken(sessionID string) string {
	h := sha256.Sum256([]byte("bifrost csrf\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// SwitchOrganisation makes the pages of session id act on organisation orgID
// (system users only; the caller checks).
func (s *Store) SwitchOrganisation(ctx context.Context, id, orgID string) error {
	if !validID(orgID) {
		return ErrNotFound
	}
	res, err := s.db.ExecContext(ctx, `UPDATE sessions SET organisation_id = o.id FROM organisations o
		WHERE sessions.id_hash = $1 AND o.id = $2`, hashSecret(id), orgID)
	if err != nil {
		return notFound("switch organisation", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteSession ends session id (signing out). Ending an unknown session is not
// an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hashSecret(id)); err != nil {
		return notFound("delete session", err)
	}
	return nil
}

// DeleteExpired removes expired sessions and stale throttling rows; it returns
// how many rows went.
func (s *Store) DeleteExpired(ctx context.Context) (int64, error) {
	now := s.now()
	a, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, now)
	if err != nil {
		return 0, notFound("delete expired sessions", err)
	}
	b, err := s.db.ExecContext(ctx, `DELETE FROM login_throttle WHERE window_start < $1 AND (locked_until IS NULL OR locked_until < $2)`,
		now.Add(-ThrottleWindow), now)
	if err != nil {
		return 0, notFound("delete stale throttling", err)
	}
	n1, _ := a.RowsAffected()
	n2, _ := b.RowsAffected()
	return n1 + n2, nil
}
