// Package audit writes and reads the audit log, the data processing agreement's
// technical log of admin actions. Every package that changes data records an Entry
// in the same transaction as the change; the actor comes from the context, put
// there by the web admin's authentication, the API's token check or the CLI.
//
// It must not import any domain package (bridge, directory, cdr, webadmin).
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// ActorKind says who acted.
type ActorKind string

// The kinds of actor.
const (
	ActorUser   ActorKind = "user"   // a signed-in admin
	ActorToken  ActorKind = "token"  // an API token
	ActorCLI    ActorKind = "cli"    // the bifrost command line
	ActorSystem ActorKind = "system" // a background job (anonymisation, LDAP sync)
)

// Actor is who performs an action, and from where.
type Actor struct {
	Kind ActorKind
	ID   string // user or token ID; empty for cli and system
	Name string // user's name or email, token name, "cli" or the job's name
	IP   string // source IP, empty when none
}

type actorKey struct{}

// WithActor returns a context carrying the actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the context's actor, or the system actor when there is none.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Kind: ActorSystem, Name: "system"}
}

// Entry is one action to record.
type Entry struct {
	OrganisationID string // empty for actions outside any organisation
	Action         string // "room.create", "user.delete", "cdr.anonymise"
	ObjectType     string // "room"
	ObjectID       string
	// Summary says what changed (field names and new values, counts). Values under
	// keys that look secret (password, pin, token, secret, key) are replaced by
	// "[redacted]" whatever the caller passed.
	Summary map[string]any
}

// Record writes e with the actor of ctx through q, which should be the
// transaction of the change so both commit or neither does.
func Record(ctx context.Context, q sqlx.ExecerContext, e Entry) error {
	a := ActorFrom(ctx)
	summary, err := json.Marshal(Scrub(e.Summary))
	if err != nil {
		return fmt.Errorf("audit: summary: %w", err)
	}
	var ip any
	if host := stripPort(a.IP); net.ParseIP(host) != nil {
		ip = host
	}
	_, err = q.ExecContext(ctx, `
		INSERT INTO audit_log (organisation_id, actor_kind, actor_id, actor_name, source_ip, action, object_type, object_id, summary)
		VALUES (NULLIF($1, '')::uuid, $2, NULLIF($3, '')::uuid, $4, $5, $6, $7, $8, $9)`,
		e.OrganisationID, string(a.Kind), a.ID, a.Name, ip, e.Action, e.ObjectType, e.ObjectID, summary)
	if err != nil {
		return fmt.Errorf("audit: record %s: %w", e.Action, err)
	}
	return nil
}

func stripPort(s string) string {
	if host, _, err := net.SplitHostPort(s); err == nil {
		return host
	}
	return s
}

var secretWords = []string{"password", "passwd", "pin", "token", "secret", "key", "credential"}

// Scrub returns a copy of m in which the value of every key that names a secret is
// "[redacted]", recursively.
func Scrub(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if isSecretKey(k) {
			if v == nil || v == "" {
				out[k] = v
			} else {
				out[k] = "[redacted]"
			}
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			v = Scrub(sub)
		}
		out[k] = v
	}
	return out
}

func isSecretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// Row is one stored audit entry.
type Row struct {
	ID             int64           `db:"id" json:"id"`
	At             time.Time       `db:"at" json:"at"`
	OrganisationID *string         `db:"organisation_id" json:"organisation_id"`
	ActorKind      string          `db:"actor_kind" json:"actor_kind"`
	ActorID        *string         `db:"actor_id" json:"actor_id"`
	ActorName      string          `db:"actor_name" json:"actor_name"`
	SourceIP       *string         `db:"source_ip" json:"source_ip"`
	Action         string          `db:"action" json:"action"`
	ObjectType     string          `db:"object_type" json:"object_type"`
	ObjectID       string          `db:"object_id" json:"object_id"`
	Summary        json.RawMessage `db:"summary" json:"summary"`
}

// Filter selects audit entries. Empty fields do not filter.
type Filter struct {
	OrganisationID   string // required unless AllOrganisations
	AllOrganisations bool   // system admins only
	From, To         time.Time
	ActorID          string
	ActorName        string // substring, case-insensitive
	Action           string // exact, or a prefix ending in "." ("room.")
	Limit, Offset    int
}

// List returns the entries matching f, newest first, and how many match in all.
func List(ctx context.Context, q sqlx.QueryerContext, f Filter) ([]Row, int, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if !f.AllOrganisations {
		where = append(where, "organisation_id = "+arg(f.OrganisationID)+"::uuid")
	}
	if !f.From.IsZero() {
		where = append(where, "at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "at < "+arg(f.To))
	}
	if f.ActorID != "" {
		where = append(where, "actor_id = "+arg(f.ActorID)+"::uuid")
	}
	if f.ActorName != "" {
		where = append(where, "actor_name ILIKE '%' || "+arg(escapeLike(f.ActorName))+" || '%'")
	}
	if strings.HasSuffix(f.Action, ".") {
		where = append(where, "starts_with(action, "+arg(f.Action)+")")
	} else if f.Action != "" {
		where = append(where, "action = "+arg(f.Action))
	}
	cond := "TRUE"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}
	var total int
	if err := sqlx.GetContext(ctx, q, &total, "SELECT count(*) FROM audit_log WHERE "+cond, args...); err != nil {
		return nil, 0, fmt.Errorf("audit: count: %w", err)
	}
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows := []Row{}
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT id, at, organisation_id, actor_kind, actor_id, actor_name, host(source_ip) AS source_ip,
		       action, object_type, object_id, summary
		FROM audit_log WHERE `+cond+` ORDER BY at DESC, id DESC LIMIT `+arg(limit)+` OFFSET `+arg(max(f.Offset, 0)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	return rows, total, nil
}

// escapeLike escapes LIKE's wildcards so a search string is taken literally.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
