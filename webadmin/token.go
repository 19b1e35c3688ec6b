package webadmin

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// TokenPrefix starts every API token, so that secret scanners recognise one.
const TokenPrefix = "bft_"

// Token is an API token of an organisation. The secret itself is returned once,
// by CreateToken, and never stored.
type Token struct {
	ID             string     `db:"id" json:"id"`
	OrganisationID string     `db:"organisation_id" json:"organisation_id"`
	Name           string     `db:"name" json:"name"`
	Role           Role       `db:"role" json:"role"`
	Prefix         string     `db:"prefix" json:"prefix"`
	CreatedBy      *string    `db:"created_by" json:"created_by"`
	CreatedAt      time.Time  `db:"created_at" json:"created_at"`
	LastUsedAt     *time.Time `db:"last_used_at" json:"last_used_at"`
	RevokedAt      *time.Time `db:"revoked_at" json:"revoked_at"`
}

const tokenColumns = `id, organisation_id, name, role, prefix, created_by, created_at, last_used_at, revoked_at`

// TokenInput is what creating a token takes.
type TokenInput struct {
	Name string `json:"name"`
	Role Role   `json:"role"`
}

func (in *TokenInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return invalid("name", "is required")
	}
	if len(in.Name) > 100 {
		return invalid("name", "is longer than 100 characters")
	}
	if in.Role == "" {
		in.Role = RoleViewer
	}
	if in.Role != RoleAdmin && in.Role != RoleViewer {
		return invalid("role", "must be admin or viewer")
	}
	return nil
}

// CreateToken creates a token of organisation orgID, made by user createdBy
// (empty when not a user), and returns it with its secret: the only copy.
func (s *Store) CreateToken(ctx context.Context, orgID string, in TokenInput, createdBy string) (Token, string, error) {
	if err := in.validate(); err != nil {
		return Token{}, "", err
	}
	if !validID(orgID) {
		return Token{}, "", ErrNotFound
	}
	secret, hash := newSecret(TokenPrefix)
	var by *string
	if createdBy != "" {
		by = &createdBy
	}
	var t Token
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &t, `INSERT INTO api_tokens (organisation_id, name, role, token_hash, prefix, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+tokenColumns,
			orgID, in.Name, string(in.Role), hash, secret[:len(TokenPrefix)+6], by, s.now())
		if err != nil {
			return notFound("create token", err)
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "api_token.create",
			ObjectType: "api_token", ObjectID: t.ID, Summary: map[string]any{"name": in.Name, "role": string(in.Role)}})
	})
	if err != nil {
		return Token{}, "", err
	}
	return t, secret, nil
}

// ListTokens returns the tokens of orgID, newest first, revoked ones included.
func (s *Store) ListTokens(ctx context.Context, orgID string, p Page) ([]Token, int, error) {
	p = p.normal()
	out := []Token{}
	var total int
	if !validID(orgID) {
		return out, 0, nil
	}
	if err := s.db.GetContext(ctx, &total, `SELECT count(*) FROM api_tokens WHERE organisation_id = $1`, orgID); err != nil {
		return nil, 0, notFound("count tokens", err)
	}
	if err := s.db.SelectContext(ctx, &out, `SELECT `+tokenColumns+` FROM api_tokens WHERE organisation_id = $1
		ORDER BY created_at DESC, id LIMIT $2 OFFSET $3`, orgID, p.Limit, p.Offset); err != nil {
		return nil, 0, notFound("list tokens", err)
	}
	return out, total, nil
}

// GetToken returns token id of orgID.
func (s *Store) GetToken(ctx context.Context, orgID, id string) (Token, error) {
	var t Token
	if !validID(orgID) || !validID(id) {
		return t, ErrNotFound
	}
	err := s.db.GetContext(ctx, &t, `SELECT `+tokenColumns+` FROM api_tokens WHERE organisation_id = $1 AND id = $2`, orgID, id)
	return t, notFoundOrNil("get token", err)
}

// RevokeToken revokes token id of orgID; it stops working at once. Revoking a
// revoked token is ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, orgID, id string) error {
	if !validID(orgID) || !validID(id) {
		return ErrNotFound
	}
	return s.inTx(ctx, func(tx *sqlx.Tx) error {
		var name string
		if err := tx.GetContext(ctx, &name, `UPDATE api_tokens SET revoked_at = $3
			WHERE organisation_id = $1 AND id = $2 AND revoked_at IS NULL RETURNING name`, orgID, id, s.now()); err != nil {
			return notFound("revoke token", err)
		}
		return audit.Record(ctx, tx, audit.Entry{OrganisationID: orgID, Action: "api_token.revoke",
			ObjectType: "api_token", ObjectID: id, Summary: map[string]any{"name": name}})
	})
}

// tokenUseGranularity is how stale last_used_at may get: a token used again
// within it is not written again, so a busy integration costs reads, not writes.
const tokenUseGranularity = time.Minute

// AuthenticateToken returns the principal of a valid, unrevoked token secret and
// notes its use; ErrUnauthenticated otherwise.
func (s *Store) AuthenticateToken(ctx context.Context, secret string) (Principal, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return Principal{}, ErrUnauthenticated
	}
	var t Token
	err := s.db.GetContext(ctx, &t, `SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`, hashSecret(secret))
	if err != nil {
		if e := notFound("authenticate token", err); e != ErrNotFound {
			return Principal{}, e
		}
		return Principal{}, ErrUnauthenticated
	}
	if now := s.now(); t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= tokenUseGranularity {
		if _, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1`, t.ID, now); err != nil {
			return Principal{}, notFound("note token use", err)
		}
	}
	return Principal{TokenID: t.ID, Name: t.Name, Role: t.Role, OrganisationID: t.OrganisationID}, nil
}
