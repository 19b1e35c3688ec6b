package cdr

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// SubjectSource finds and erases one more kind of data about a person: the
// directory's entries and addresses and the phonebook request log plug in here.
// Export returns what it holds about subject in orgID (JSON-encodable) and how
// many rows; Erase deletes or anonymises them in tx and returns how many.
type SubjectSource struct {
	Name   string
	Export func(ctx context.Context, q sqlx.QueryerContext, orgID string, s Subject) (any, int, error)
	Erase  func(ctx context.Context, tx *sqlx.Tx, orgID string, s Subject) (int64, error)
}

// Subject is a person as a privacy request names them: an e-mail address, a SIP
// URI, a phone number or a name. Its fields are the normalised forms that
// queries compare with.
type Subject struct {
	Raw    string // as given
	Lower  string // lower-cased, trimmed
	Email  string // "user@host" when Raw is an e-mail address or a SIP URI's address part
	Digits string // the digits of a phone number (at least 4), "" otherwise
}

var phoneRE = regexp.MustCompile(`^(tel:)?\+?[0-9][0-9 ()./-]{2,}$`)

// ParseSubject normalises s.
func ParseSubject(s string) (Subject, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Subject{}, errors.New("cdr: empty subject")
	}
	sub := Subject{Raw: s, Lower: strings.ToLower(s)}
	addr := sub.Lower
	for _, scheme := range []string{"sip:", "sips:"} {
		addr = strings.TrimPrefix(addr, scheme)
	}
	if at := strings.IndexByte(addr, '@'); at > 0 && at < len(addr)-1 && !strings.ContainsAny(addr, " <>") {
		sub.Email = addr
	}
	user := addr
	if i := strings.IndexByte(user, '@'); i >= 0 {
		user = user[:i]
	}
	if phoneRE.MatchString(user) {
		d := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, user)
		if len(d) >= 4 {
			sub.Digits = d
		}
	}
	return sub, nil
}

// legMatch is the condition on cdr_legs (alias l) that finds a subject; $1 is
// the organisation, $2 Lower, $3 Email, $4 Digits.
const legMatch = `l.organisation_id = $1 AND (
	lower(l.display_name) = $2 OR lower(l.remote_uri) = $2
	OR ($3 <> '' AND lower(l.remote_uri) IN ('sip:' || $3, 'sips:' || $3))
	OR ($4 <> '' AND regexp_replace(split_part(split_part(split_part(l.remote_uri, ':', 2), '@', 1), ';', 1), '[^0-9]', '', 'g') = $4))`

// userMatch finds the subject's admin account (alias u).
const userMatch = `u.organisation_id = $1 AND (lower(u.email) = $2 OR ($3 <> '' AND lower(u.email) = $3) OR lower(u.name) = $2)`

// auditMatch finds audit entries (alias a) where the subject acted, or that
// name them in their summary; $4 is the subject's user IDs.
const auditMatch = `a.organisation_id = $1 AND (a.actor_id = ANY($4::uuid[]) OR lower(a.actor_name) = $2
	OR ($3 <> '' AND lower(a.actor_name) = $3) OR strpos(lower(a.summary::text), $2) > 0)`

// Privacy answers subject access and erasure requests (GDPR art. 15 and 17).
type Privacy struct {
	DB      *sqlx.DB
	Sources []SubjectSource
	Now     func() time.Time
}

func (p *Privacy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// SubjectExport is everything stored about one person in one organisation.
type SubjectExport struct {
	OrganisationID string         `json:"organisation_id"`
	Subject        string         `json:"subject"`
	GeneratedAt    time.Time      `json:"generated_at"`
	Users          []exportRow    `json:"users"`
	Legs           []exportRow    `json:"cdr_legs"`
	AuditEntries   []exportRow    `json:"audit_entries"`
	Other          map[string]any `json:"other,omitempty"`
}

type exportRow = json.RawMessage

// args returns the query arguments of the match conditions.
func (s Subject) args(org string) []any {
	return []any{org, s.Lower, s.Email, s.Digits}
}

// auditArgs returns the query arguments of auditMatch.
func (s Subject) auditArgs(org string, userIDs []string) []any {
	return []any{org, s.Lower, s.Email, pq.Array(userIDs)}
}

func (p *Privacy) userIDs(ctx context.Context, q sqlx.QueryerContext, org string, s Subject) ([]string, error) {
	var ids []string
	err := sqlx.SelectContext(ctx, q, &ids, `SELECT u.id FROM users u WHERE `+userMatch, s.args(org)[:3]...)
	return ids, err
}

// Export collects everything about s in org and records that it did (the
// record holds counts only).
func (p *Privacy) Export(ctx context.Context, org string, s Subject) (*SubjectExport, error) {
	out := &SubjectExport{OrganisationID: org, Subject: s.Raw, GeneratedAt: p.now(), Users: []exportRow{}, Legs: []exportRow{}, AuditEntries: []exportRow{}}
	tx, err := p.DB.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return nil, fmt.Errorf("cdr: export: %w", err)
	}
	defer tx.Rollback()
	ids, err := p.userIDs(ctx, tx, org, s)
	if err != nil {
		return nil, fmt.Errorf("cdr: export users: %w", err)
	}
	args := s.args(org)
	queries := []struct {
		into  *[]exportRow
		query string
		args  []any
	}{
		{&out.Users, `SELECT to_jsonb(u) - 'password_hash' FROM users u WHERE ` + userMatch + ` ORDER BY u.created_at`, args[:3]},
		{&out.Legs, `SELECT to_jsonb(l) FROM cdr_legs l WHERE ` + legMatch + ` ORDER BY l.started_at`, args},
		{&out.AuditEntries, `SELECT to_jsonb(a) FROM audit_log a WHERE ` + auditMatch + ` ORDER BY a.at, a.id`, s.auditArgs(org, ids)},
	}
	for _, q := range queries {
		var rows [][]byte
		if err := tx.SelectContext(ctx, &rows, q.query, q.args...); err != nil {
			return nil, fmt.Errorf("cdr: export: %w", err)
		}
		for _, r := range rows {
			*q.into = append(*q.into, exportRow(r))
		}
	}
	counts := map[string]any{"users": len(out.Users), "cdr_legs": len(out.Legs), "audit_entries": len(out.AuditEntries)}
	for _, src := range p.Sources {
		v, n, err := src.Export(ctx, tx, org, s)
		if err != nil {
			return nil, fmt.Errorf("cdr: export %s: %w", src.Name, err)
		}
		if out.Other == nil {
			out.Other = map[string]any{}
		}
		out.Other[src.Name] = v
		counts[src.Name] = n
	}
	if err := p.record(ctx, tx, org, "export", counts); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("cdr: export: %w", err)
	}
	return out, nil
}

// Erase deletes the subject's admin account, anonymises their call legs (and
// drops sink events about them), anonymises the audit entries where they acted
// or that name them, runs the Sources, and records that it did, with counts.
func (p *Privacy) Erase(ctx context.Context, org string, s Subject) (map[string]int64, error) {
	tx, err := p.DB.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("cdr: erase: %w", err)
	}
	defer tx.Rollback()
	ids, err := p.userIDs(ctx, tx, org, s)
	if err != nil {
		return nil, fmt.Errorf("cdr: erase users: %w", err)
	}
	args := s.args(org)
	counts := map[string]int64{}
	var legIDs []string
	if err := tx.SelectContext(ctx, &legIDs, `
		UPDATE cdr_legs l SET display_name = NULL, remote_uri = NULL, remote_ip = NULL, remote_port = NULL,
			user_agent = NULL, call_id = NULL, anonymised_at = coalesce(anonymised_at, $5)
		WHERE `+legMatch+` RETURNING l.id`, append(args, p.now())...); err != nil {
		return nil, fmt.Errorf("cdr: erase legs: %w", err)
	}
	counts["cdr_legs"] = int64(len(legIDs))
	steps := []struct {
		name  string
		query string
		args  []any
	}{
		{"sink_events", `DELETE FROM cdr_sink_queue q USING cdr_sinks s WHERE s.id = q.sink_id AND s.organisation_id = $1 AND q.payload->>'id' = ANY($2)`,
			[]any{org, pq.Array(legIDs)}},
		{"audit_entries", `UPDATE audit_log a SET actor_id = NULL, actor_name = '[erased]', source_ip = NULL,
			summary = CASE WHEN strpos(lower(a.summary::text), $2) > 0 THEN '{"erased": true}' ELSE a.summary END
			WHERE ` + auditMatch, s.auditArgs(org, ids)},
		{"users", `DELETE FROM users u WHERE ` + userMatch, args[:3]},
	}
	for _, st := range steps {
		res, err := tx.ExecContext(ctx, st.query, st.args...)
		if err != nil {
			return nil, fmt.Errorf("cdr: erase %s: %w", st.name, err)
		}
		counts[st.name], _ = res.RowsAffected()
	}
	for _, src := range p.Sources {
		n, err := src.Erase(ctx, tx, org, s)
		if err != nil {
			return nil, fmt.Errorf("cdr: erase %s: %w", src.Name, err)
		}
		counts[src.Name] = n
	}
	summary := map[string]any{}
	for k, v := range counts {
		summary[k] = v
	}
	if err := p.record(ctx, tx, org, "erase", summary); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("cdr: erase: %w", err)
	}
	return counts, nil
}

// record writes the privacy_requests row and the audit entry of a request:
// counts only, never the subject.
func (p *Privacy) record(ctx context.Context, tx *sqlx.Tx, org, kind string, counts map[string]any) error {
	b, _ := json.Marshal(counts)
	if _, err := tx.ExecContext(ctx, `INSERT INTO privacy_requests (organisation_id, kind, at, actor_kind, counts) VALUES ($1, $2, $3, $4, $5)`,
		org, kind, p.now(), string(audit.ActorFrom(ctx).Kind), b); err != nil {
		return fmt.Errorf("cdr: record privacy request: %w", err)
	}
	return audit.Record(ctx, tx, audit.Entry{OrganisationID: org, Action: "privacy." + kind, ObjectType: "subject", Summary: counts})
}

// FindOrganisation returns the ID of the organisation named (case-insensitively)
// or identified by nameOrID.
func FindOrganisation(ctx context.Context, db sqlx.QueryerContext, nameOrID string) (string, error) {
	var id string
	err := sqlx.GetContext(ctx, db, &id, `SELECT id FROM organisations WHERE id::text = lower($1) OR lower(name) = lower($1)`, nameOrID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("%w: organisation %q", ErrNotFound, nameOrID)
	}
	if err != nil {
		return "", fmt.Errorf("cdr: find organisation: %w", err)
	}
	return id, nil
}

// OrganisationRows counts, per table with an organisation_id column, the rows
// of org: what deleting it removes, and what must be zero afterwards.
func OrganisationRows(ctx context.Context, q sqlx.QueryerContext, org string) (map[string]int64, error) {
	var tables []string
	if err := sqlx.SelectContext(ctx, q, &tables, `
		SELECT c.table_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND c.column_name = 'organisation_id' AND t.table_type = 'BASE TABLE'
		ORDER BY 1`); err != nil {
		return nil, fmt.Errorf("cdr: list tables: %w", err)
	}
	out := map[string]int64{}
	for _, t := range tables {
		var n int64
		if err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM `+pq.QuoteIdentifier(t)+` WHERE organisation_id = $1`, org); err != nil {
			return nil, fmt.Errorf("cdr: count %s: %w", t, err)
		}
		out[t] = n
	}
	return out, nil
}

// DeleteOrganisation removes every row of the organisation — users, rooms,
// call records, sinks, audit entries, and whatever later tables hang off it —
// in one transaction that checks no table keeps a row. It records the deletion
// in the audit log outside the organisation (organisation_id NULL), with counts.
func DeleteOrganisation(ctx context.Context, db *sqlx.DB, org string) (map[string]int64, error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("cdr: delete organisation: %w", err)
	}
	defer tx.Rollback()
	before, err := OrganisationRows(ctx, tx, org)
	if err != nil {
		return nil, err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM organisations WHERE id = $1`, org)
	if err != nil {
		return nil, fmt.Errorf("cdr: delete organisation: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fmt.Errorf("%w: organisation %s", ErrNotFound, org)
	}
	after, err := OrganisationRows(ctx, tx, org)
	if err != nil {
		return nil, err
	}
	for t, n := range after {
		if n > 0 {
			return nil, fmt.Errorf("cdr: delete organisation: table %s keeps %d rows (its organisation_id needs ON DELETE CASCADE)", t, n)
		}
	}
	summary := map[string]any{}
	for t, n := range before {
		summary[t] = n
	}
	if err := audit.Record(ctx, tx, audit.Entry{Action: "organisation.delete", ObjectType: "organisation", ObjectID: org, Summary: summary}); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("cdr: delete organisation: %w", err)
	}
	return before, nil
}

// DeleteInactiveAdmins deletes the admin and viewer accounts with no login (or,
// never logged in, no creation) since asOf minus inactiveFor, as the DPA
// allows, and records one audit entry per organisation with the count. System
// accounts (the installation's operators) are kept.
func DeleteInactiveAdmins(ctx context.Context, db *sqlx.DB, asOf time.Time, inactiveFor time.Duration) (int64, error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("cdr: inactive admins: %w", err)
	}
	defer tx.Rollback()
	var orgs []string
	if err := tx.SelectContext(ctx, &orgs, `
		DELETE FROM users WHERE role IN ('admin', 'viewer') AND coalesce(last_login_at, created_at) < $1
		RETURNING organisation_id`, asOf.Add(-inactiveFor)); err != nil {
		return 0, fmt.Errorf("cdr: inactive admins: %w", err)
	}
	per := map[string]int{}
	for _, o := range orgs {
		per[o]++
	}
	for o, n := range per {
		if err := audit.Record(ctx, tx, audit.Entry{OrganisationID: o, Action: "user.delete_inactive", ObjectType: "user",
			Summary: map[string]any{"users": n, "inactive_for": inactiveFor.String()}}); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("cdr: inactive admins: %w", err)
	}
	return int64(len(orgs)), nil
}
