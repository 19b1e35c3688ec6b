package phonebook

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/internal/audit"
)

// TokenPrefix starts every phonebook token, so that secret scanners (and
// people) recognise one. The rest is 32 random bytes, base64url: safe in a URL
// path and as an LDAP bind password.
const TokenPrefix = "pbk_"

// Token is a phonebook token of an organisation. The secret itself is returned
// once, by Create, and never stored.
type Token struct {
	ID             string `db:"id" json:"id"`
	OrganisationID string `db:"organisation_id" json:"organisation_id"`
	// OrganisationName is the organisation's name (read, never written).
	OrganisationName string `db:"organisation_name" json:"organisation_name"`
	Name             string `db:"name" json:"name"`
	// FolderPath limits the phonebook to a folder subtree ("People/Oslo");
	// empty: the whole directory.
	FolderPath string     `db:"folder_path" json:"folder_path"`
	Prefix     string     `db:"prefix" json:"prefix"`
	CreatedBy  *string    `db:"created_by" json:"created_by"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	RevokedAt  *time.Time `db:"revoked_at" json:"revoked_at"`
	LastUsedAt *time.Time `db:"last_used_at" json:"last_used_at"`
}

// Scope is what a token gives access to: one organisation's directory, or a
// folder subtree of it.
func (t Token) Scope() Scope {
	return Scope{OrganisationID: t.OrganisationID, FolderPath: t.FolderPath}
}

// Scope is the part of the directory a request may see.
type Scope struct {
	OrganisationID string
	FolderPath     string // empty: the whole directory
}

const tokenColumns = `t.id, t.organisation_id, o.name AS organisation_name, t.name, t.folder_path, t.prefix,
	t.created_by, t.created_at, t.revoked_at, t.last_used_at`

// TokenInput is what creating a token takes.
type TokenInput struct {
	// Name is shown to admins and as the phonebook's title on phones; empty
	// takes the organisation's name.
	Name       string `json:"name"`
	FolderPath string `json:"folder_path"`
}

// Tokens keeps phonebook tokens in PostgreSQL.
type Tokens struct {
	db  *sqlx.DB
	now func() time.Time

	// cacheFor > 0 keeps resolved tokens in memory that long, so that the
	// endpoint protocols do not ask the database on every request.
	cacheFor time.Duration
	mu       sync.Mutex
	cache    map[string]*cachedToken // by SHA-256 of the secret
	gen      uint64                  // counts Revokes, so that a lookup begun before one is not cached after it
}

// cachedToken is a resolved token in the cache. Halfway through its time
// the first request that uses it looks the token up again (refreshing),
// while the others keep answering from the entry: under steady use no
// request waits for the database, and a token revoked elsewhere still stops
// within the cache time.
type cachedToken struct {
	t          Token
	refreshAt  time.Time
	until      time.Time
	refreshing bool
}

// maxCachedTokens bounds the token cache; beyond it the cache starts over.
const maxCachedTokens = 10000

// CacheFor makes Resolve keep a live token in memory for d, and returns s.
// A token revoked through s stops at once; one revoked by another process
// (the CLI) stops within d. After d/2 one request looks the token up again
// while the others go on answering from memory (see cachedToken).
func (s *Tokens) CacheFor(d time.Duration) *Tokens {
	s.cacheFor = d
	return s
}

// NewTokens returns the token store on db; now is the clock (nil: time.Now).
func NewTokens(db *sqlx.DB, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{db: db, now: now}
}

// Create makes a token of organisation orgID, made by user createdBy (empty
// when not a user), and returns it with its secret: the only copy. A folder
// path must name an existing folder.
func (s *Tokens) Create(ctx context.Context, orgID string, in TokenInput, createdBy string) (Token, string, error) {
	in.Name = strings.TrimSpace(in.Name)
	in.FolderPath = strings.Trim(strings.TrimSpace(in.FolderPath), "/")
	if len(in.Name) > 100 {
		return Token{}, "", fmt.Errorf("%w: name is longer than 100 characters", ErrInvalid)
	}
	if !validUUID(orgID) {
		return Token{}, "", ErrNotFound
	}
	if in.FolderPath != "" {
		fs, err := directory.NewStore(s.db, s.now).Folders(ctx, orgID)
		if err != nil {
			return Token{}, "", err
		}
		found := false
		for _, p := range directory.FolderPaths(fs) {
			found = found || p == in.FolderPath
		}
		if !found {
			return Token{}, "", fmt.Errorf("%w: folder %q", ErrNotFound, in.FolderPath)
		}
	}
	secret, hash := newSecret()
	var by *string
	if createdBy != "" {
		by = &createdBy
	}
	var t Token
	err := inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &t, `WITH t AS (
				INSERT INTO phonebook_tokens (organisation_id, name, folder_path, token_hash, prefix, created_by, created_at)
				SELECT o.id, coalesce(nullif($2, ''), o.name), $3, $4, $5, $6, $7 FROM organisations o WHERE o.id = $1
				RETURNING *)
			SELECT `+tokenColumns+` FROM t JOIN organisations o ON o.id = t.organisation_id`,
			orgID, in.Name, in.FolderPath, hash, secret[:len(TokenPrefix)+6], by, s.now())
		if err != nil {
			return notFound(err, "create token")
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "phonebook_token.create",
			ObjectType: "phonebook_token", ObjectID: t.ID, Summary: map[string]any{"name": t.Name, "folder_path": t.FolderPath}})
	})
	if err != nil {
		return Token{}, "", err
	}
	return t, secret, nil
}

// List returns the organisation's tokens, newest first, revoked ones included.
func (s *Tokens) List(ctx context.Context, orgID string) ([]Token, error) {
	if !validUUID(orgID) {
		return nil, ErrNotFound
	}
	ts := []Token{}
	err := s.db.SelectContext(ctx, &ts, `SELECT `+tokenColumns+` FROM phonebook_tokens t JOIN organisations o ON o.id = t.organisation_id
		WHERE t.organisation_id = $1 ORDER BY t.created_at DESC, t.id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("phonebook: list tokens: %w", err)
	}
	return ts, nil
}

// Get returns one token of the organisation.
func (s *Tokens) Get(ctx context.Context, orgID, id string) (Token, error) {
	if !validUUID(orgID) || !validUUID(id) {
		return Token{}, ErrNotFound
	}
	var t Token
	err := s.db.GetContext(ctx, &t, `SELECT `+tokenColumns+` FROM phonebook_tokens t JOIN organisations o ON o.id = t.organisation_id
		WHERE t.organisation_id = $1 AND t.id = $2`, orgID, id)
	return t, notFound(err, "token")
}

// Revoke revokes a token of the organisation; its URLs answer 404 from then
// on. Revoking a revoked token changes nothing.
func (s *Tokens) Revoke(ctx context.Context, orgID, id string) error {
	if !validUUID(orgID) || !validUUID(id) {
		return ErrNotFound
	}
	err := inTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var name string
		err := tx.GetContext(ctx, &name, `UPDATE phonebook_tokens SET revoked_at = coalesce(revoked_at, $3)
			WHERE organisation_id = $1 AND id = $2 RETURNING name`, orgID, id, s.now())
		if err != nil {
			return notFound(err, "revoke token")
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "phonebook_token.revoke",
			ObjectType: "phonebook_token", ObjectID: id, Summary: map[string]any{"name": name}})
	})
	if err == nil {
		s.mu.Lock()
		s.cache = nil
		s.gen++
		s.mu.Unlock()
	}
	return err
}

// Resolve returns the live token whose secret is given, and notes its use
// (at most once a minute, in the same statement). An unknown or revoked
// token is ErrNotFound.
func (s *Tokens) Resolve(ctx context.Context, secret string) (Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 100 {
		return Token{}, ErrNotFound
	}
	sum := hashSecret(secret)
	var refreshing *cachedToken // the entry this request refreshes
	var gen uint64
	if s.cacheFor > 0 {
		now := s.now()
		s.mu.Lock()
		gen = s.gen
		if c := s.cache[string(sum[:])]; c != nil && now.Before(c.until) {
			if now.Before(c.refreshAt) || c.refreshing {
				t := c.t
				s.mu.Unlock()
				return t, nil
			}
			c.refreshing, refreshing = true, c
		}
		s.mu.Unlock()
	}
	hash := slices.Clone(sum[:]) // sum itself stays off the heap on a cache hit
	var t Token
	err := s.db.GetContext(ctx, &t, `WITH t AS (
			SELECT * FROM phonebook_tokens WHERE token_hash = $1 AND revoked_at IS NULL
		), u AS (
			UPDATE phonebook_tokens p SET last_used_at = $2 FROM t
			WHERE p.id = t.id AND (t.last_used_at IS NULL OR t.last_used_at < $2::timestamptz - interval '1 minute')
		)
		SELECT `+tokenColumns+` FROM t JOIN organisations o ON o.id = t.organisation_id`, hash, s.now())
	err = notFound(err, "token")
	if s.cacheFor == 0 {
		return t, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case errors.Is(err, ErrNotFound):
		delete(s.cache, string(hash))
		return Token{}, err
	case err != nil:
		if refreshing != nil {
			// The database is away: the entry holds until its time is up,
			// and the next request tries again.
			refreshing.refreshing = false
			return refreshing.t, nil
		}
		return Token{}, err
	}
	if s.gen == gen {
		if s.cache == nil || len(s.cache) >= maxCachedTokens {
			s.cache = map[string]*cachedToken{}
		}
		now := s.now()
		s.cache[string(hash)] = &cachedToken{t: t, refreshAt: now.Add(s.cacheFor / 2), until: now.Add(s.cacheFor)}
	}
	return t, nil
}

// Authenticate is Resolve for the LDAP server: the bind password is the
// token; the bind DN is not checked (it is logged).
func (s *Tokens) Authenticate(ctx context.Context, _, password string) (Scope, error) {
	t, err := s.Resolve(ctx, password)
	if err != nil {
		return Scope{}, err
	}
	return t.Scope(), nil
}

func newSecret() (secret string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	h := hashSecret(secret)
	return secret, h[:]
}

// hashSecret is the SHA-256 of a token's secret, as stored; an array, so
// that a cached lookup allocates nothing.
func hashSecret(secret string) [sha256.Size]byte {
	return sha256.Sum256([]byte(secret))
}

func inTx(ctx context.Context, db *sqlx.DB, f func(*sqlx.Tx) error) error {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("phonebook: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	if err := f(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("phonebook: commit: %w", err)
	}
	return nil
}

func notFound(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return ErrNotFound
	default:
		return fmt.Errorf("phonebook: %s: %w", what, err)
	}
}

// validUUID reports whether s looks like a UUID, so that a malformed ID is
// not found rather than a database error.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// Organisation finds an organisation by name (case-insensitive) or ID and
// returns its ID and name.
func (s *Tokens) Organisation(ctx context.Context, nameOrID string) (id, name string, err error) {
	if strings.TrimSpace(nameOrID) == "" {
		return "", "", ErrNotFound
	}
	var row struct {
		ID   string `db:"id"`
		Name string `db:"name"`
	}
	err = s.db.GetContext(ctx, &row, `SELECT id, name FROM organisations WHERE lower(name) = lower($1) OR id::text = lower($1)`, nameOrID)
	if err != nil {
		return "", "", notFound(err, "organisation")
	}
	return row.ID, row.Name, nil
}
