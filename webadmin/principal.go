package webadmin

import (
	"context"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// Role is what a principal may do.
type Role string

// The roles. A system user manages every organisation; an admin manages its own;
// a viewer reads its own.
const (
	RoleSystem Role = "system"
	RoleAdmin  Role = "admin"
	RoleViewer Role = "viewer"
)

func (r Role) valid() bool { return r == RoleSystem || r == RoleAdmin || r == RoleViewer }

// Principal is who makes a request: a signed-in user or an API token, acting on
// one organisation.
type Principal struct {
	// UserID is set for a signed-in user; TokenID for an API token.
	UserID  string
	TokenID string
	// Name is the user's e-mail or the token's name, as the audit log shows it.
	Name string
	Role Role
	// OrganisationID is the organisation the request acts on.
	OrganisationID string
	// IP is the request's source address.
	IP string
}

// CanWrite reports whether the principal may change its organisation's objects.
func (p Principal) CanWrite() bool { return p.Role == RoleAdmin || p.Role == RoleSystem }

// IsSystem reports whether the principal manages every organisation.
func (p Principal) IsSystem() bool { return p.Role == RoleSystem }

func (p Principal) actor() audit.Actor {
	if p.TokenID != "" {
		return audit.Actor{Kind: audit.ActorToken, ID: p.TokenID, Name: p.Name, IP: p.IP}
	}
	return audit.Actor{Kind: audit.ActorUser, ID: p.UserID, Name: p.Name, IP: p.IP}
}

type principalKey struct{}

// WithPrincipal returns a context carrying p and p's audit actor, so that every
// mutation made on that context is audited as done by p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	ctx = context.WithValue(ctx, principalKey{}, p)
	return audit.WithActor(ctx, p.actor())
}

// PrincipalFrom returns the principal of an authenticated request. Handlers of
// other packages mounted through Feature use it to scope their queries.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
