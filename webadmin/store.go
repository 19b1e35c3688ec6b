package webadmin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Store is the web admin's storage: organisations, users, API tokens, rooms,
// sessions and sign-in throttling, in PostgreSQL. Every query of an object that
// belongs to an organisation is scoped by the organisation's ID, so an object of
// another organisation is ErrNotFound. Every mutation writes an audit entry in
// the same transaction, with the actor of the context.
type Store struct {
	db  *sqlx.DB
	now func() time.Time
	// hashing bounds the argon2id computations running at once: each takes
	// 64 MiB, and a burst of sign-ins must not exhaust memory.
	hashing chan struct{}
	// params are the argon2id parameters of new password hashes.
	params PasswordParams
	// dummyHash is verified for unknown e-mail addresses, so that a sign-in
	// takes as long whether or not the account exists.
	dummyOnce sync.Once
	dummyHash string
}

// NewStore returns a store on db. now is the clock (time.Now when nil); tests
// inject their own to expire sessions and throttling in milliseconds.
func NewStore(db *sqlx.DB, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, now: now, hashing: make(chan struct{}, max(runtime.NumCPU(), 2)), params: DefaultPasswordParams}
}

// DB returns the store's database handle.
func (s *Store) DB() *sqlx.DB { return s.db }

// Page selects a slice of a list.
type Page struct {
	Limit  int
	Offset int
}

// The bounds of Page.Limit.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

func (p Page) normal() Page {
	if p.Limit <= 0 {
		p.Limit = DefaultLimit
	}
	p.Limit = min(p.Limit, MaxLimit)
	p.Offset = max(p.Offset, 0)
	return p
}

// inTx runs fn in a transaction and commits when fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("webadmin: begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("webadmin: commit: %w", err)
	}
	return nil
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// validID reports whether id can be a stored ID; a malformed ID from a URL is
// simply not found.
func validID(id string) bool { return uuidRE.MatchString(id) }

// notFound turns sql.ErrNoRows into ErrNotFound and wraps anything else.
func notFound(what string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return fmt.Errorf("webadmin: %s: %w", what, err)
}

// uniqueViolation returns the violated constraint's name when err is a unique
// violation.
func uniqueViolation(err error) (string, bool) {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "23505" {
		return pqErr.Constraint, true
	}
	return "", false
}

// newSecret returns a random secret of 32 bytes, URL-safe encoded, with prefix,
// and its SHA-256 for storage.
func newSecret(prefix string) (secret string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, hashSecret(secret)
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// verifyPassword is VerifyPassword with at most cap(s.hashing) running at once;
// it gives up when ctx ends while waiting.
func (s *Store) verifyPassword(ctx context.Context, password, hash string) error {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashing }()
	return VerifyPassword(password, hash)
}
