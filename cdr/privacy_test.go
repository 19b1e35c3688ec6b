package cdr

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/bifrost-video/bifrost/internal/audit"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestParseSubject(t *testing.T) {
	tests := []struct {
		in, email, digits string
	}{
		{"Alice@Example.com", "alice@example.com", ""},
		{"sip:alice@example.com", "alice@example.com", ""},
		{"+47 22 33 44 55", "", "4722334455"},
		{"sip:+4722334455@example.com", "+4722334455@example.com", "4722334455"},
		{"tel:+47-22-33", "", "472233"},
		{"Alice Example", "", ""},
		{"123", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := ParseSubject(tt.in)
			if err != nil || s.Email != tt.email || s.Digits != tt.digits {
				t.Errorf("ParseSubject(%q) = %+v, %v; want email %q digits %q", tt.in, s, err, tt.email, tt.digits)
			}
		})
	}
	if _, err := ParseSubject("  "); err == nil {
		t.Error("an empty subject was accepted")
	}
}

// traces counts, over every table, the rows whose text mentions needle.
func traces(t testing.TB, db *sqlx.DB, needle string) map[string]int {
	t.Helper()
	var tables []string
	if err := db.Select(&tables, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`); err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, tb := range tables {
		if n := count(t, db, `SELECT count(*) FROM `+pq.QuoteIdentifier(tb)+` x WHERE strpos(lower(x::text), $1) > 0`, needle); n > 0 {
			out[tb] = n
		}
	}
	return out
}

// seedPerson puts a person in every table cdr knows: an admin account, audit
// entries where they acted and that name them, two call legs (one found by SIP
// URI, one by the name given in a browser), and sink events about those legs.
func seedPerson(t *testing.T, db *sqlx.DB, org, email, name string) {
	t.Helper()
	var userID string
	if err := db.Get(&userID, `INSERT INTO users (organisation_id, email, name, password_hash, role) VALUES ($1, $2, $3, 'x', 'admin') RETURNING id`, org, email, name); err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithActor(context.Background(), audit.Actor{Kind: audit.ActorUser, ID: userID, Name: name, IP: "198.51.100." + fmt.Sprint(len(name))})
	if err := audit.Record(ctx, db, audit.Entry{OrganisationID: org, Action: "room.create", ObjectType: "room", Summary: map[string]any{"name": "Board"}}); err != nil {
		t.Fatal(err)
	}
	cli := audit.WithActor(context.Background(), audit.Actor{Kind: audit.ActorCLI, Name: "cli"})
	if err := audit.Record(cli, db, audit.Entry{OrganisationID: org, Action: "user.create", ObjectType: "user", Summary: map[string]any{"email": email}}); err != nil {
		t.Fatal(err)
	}
	w := openWriter(t, db, Config{})
	cs, ls, lq, le, ce := call(org, t0, name)
	ls.RemoteURI = "sip:" + email
	submitCall(w, cs, ls, lq, le, ce)
	cs, ls, lq, le, ce = call(org, t0.Add(time.Hour), email)
	ls.Protocol, ls.RemoteURI, ls.CallID, ls.UserAgent = "webrtc", "", "", "Mozilla/5.0"
	submitCall(w, cs, ls, lq, le, ce)
	flush(t, w, "the calls of "+name)
}

func TestSubjectAccessAndErasure(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	org := newOrg(t, db, "Acme")
	if _, err := db.Exec(`INSERT INTO cdr_sinks (organisation_id, name, url) VALUES ($1, 'siem', 'http://127.0.0.1:1/')`, org); err != nil {
		t.Fatal(err)
	}
	seedPerson(t, db, org, "alice@example.com", "Alice Liddell")
	seedPerson(t, db, org, "bob@example.com", "Bob Builder")
	// Another package's table with personal data, plugged in as a source (as
	// the phonebook request log will be).
	db.MustExec(`CREATE TABLE phonebook_log_stub (organisation_id uuid REFERENCES organisations ON DELETE CASCADE, endpoint text)`)
	db.MustExec(`INSERT INTO phonebook_log_stub VALUES ($1, 'sip:alice@example.com'), ($1, 'sip:bob@example.com')`, org)
	stub := SubjectSource{
		Name: "phonebook_log",
		Export: func(ctx context.Context, q sqlx.QueryerContext, org string, s Subject) (any, int, error) {
			var rows []string
			err := sqlx.SelectContext(ctx, q, &rows, `SELECT endpoint FROM phonebook_log_stub WHERE organisation_id = $1 AND endpoint = 'sip:' || $2`, org, s.Email)
			return rows, len(rows), err
		},
		Erase: func(ctx context.Context, tx *sqlx.Tx, org string, s Subject) (int64, error) {
			res, err := tx.ExecContext(ctx, `DELETE FROM phonebook_log_stub WHERE organisation_id = $1 AND endpoint = 'sip:' || $2`, org, s.Email)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		},
	}
	p := &Privacy{DB: db, Now: func() time.Time { return t0 }, Sources: []SubjectSource{stub}}
	ctx := audit.WithActor(context.Background(), audit.Actor{Kind: audit.ActorCLI, Name: "cli"})
	alice, _ := ParseSubject("alice@example.com")

	exp, err := p.Export(ctx, org, alice)
	if err != nil {
		t.Fatal(err)
	}
	if log, _ := exp.Other["phonebook_log"].([]string); len(log) != 1 {
		t.Errorf("export of the plugged-in source: %v, want Alice's one line", exp.Other)
	}
	if len(exp.Users) != 1 || len(exp.Legs) != 2 || len(exp.AuditEntries) != 2 {
		t.Errorf("export has %d users, %d legs, %d audit entries; want 1, 2, 2", len(exp.Users), len(exp.Legs), len(exp.AuditEntries))
	}
	b, _ := json.Marshal(exp)
	if strings.Contains(string(b), "bob") || strings.Contains(string(b), "password_hash") {
		t.Errorf("export holds another person's data or a password hash: %s", b)
	}
	if !strings.Contains(string(b), "Alice Liddell") {
		t.Errorf("export lacks the person's name: %s", b)
	}

	counts, err := p.Erase(ctx, org, alice)
	if err != nil {
		t.Fatal(err)
	}
	if counts["users"] != 1 || counts["cdr_legs"] != 2 || counts["audit_entries"] != 2 || counts["sink_events"] != 4 || counts["phonebook_log"] != 1 {
		t.Errorf("erase counts %v, want 1 user, 2 legs, 2 audit entries, 4 sink events, 1 phonebook log line", counts)
	}
	for _, needle := range []string{"alice", "liddell", "198.51.100.13"} {
		if tr := traces(t, db, needle); len(tr) != 0 {
			t.Errorf("%q is still in %v", needle, tr)
		}
	}
	if tr := traces(t, db, "bob"); tr["users"] != 1 || tr["cdr_legs"] != 2 || tr["phonebook_log_stub"] != 1 {
		t.Errorf("Bob's data was touched: %v", tr)
	}
	again, err := p.Export(ctx, org, alice)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Users)+len(again.Legs)+len(again.AuditEntries) != 0 {
		t.Errorf("export after erasure still finds %+v", again)
	}
	if n := count(t, db, `SELECT count(*) FROM privacy_requests WHERE kind = 'erase' AND organisation_id = $1`, org); n != 1 {
		t.Errorf("%d erase records, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'privacy.erase'`); n != 1 {
		t.Errorf("%d privacy.erase audit entries, want 1", n)
	}
}

func TestOrganisationDeletionLeavesNoRow(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	org := newOrg(t, db, "Leaving")
	other := newOrg(t, db, "Staying")
	for i, o := range []string{org, other} {
		if _, err := db.Exec(`INSERT INTO cdr_sinks (organisation_id, name, url) VALUES ($1, 'siem', 'http://127.0.0.1:1/')`, o); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO rooms (organisation_id, name, alias) VALUES ($1, 'Main', $2)`, o, 7000+i); err != nil {
			t.Fatal(err)
		}
	}
	seedPerson(t, db, org, "carol@leaving.example", "Carol")
	seedPerson(t, db, other, "dave@staying.example", "Dave")
	p := &Privacy{DB: db}
	s, _ := ParseSubject("carol@leaving.example")
	if _, err := p.Export(context.Background(), org, s); err != nil {
		t.Fatal(err)
	}
	before, err := OrganisationRows(context.Background(), db, org)
	if err != nil {
		t.Fatal(err)
	}
	removed, err := DeleteOrganisation(context.Background(), db, org)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) < 7 || removed["cdr_legs"] != 2 || removed["users"] != 1 {
		t.Errorf("tables with organisation_id: %v; removed %v", before, removed)
	}
	after, err := OrganisationRows(context.Background(), db, org)
	if err != nil {
		t.Fatal(err)
	}
	for tb, n := range after {
		if n != 0 {
			t.Errorf("%s keeps %d rows of the deleted organisation", tb, n)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM cdr_sink_queue q JOIN cdr_sinks s ON s.id = q.sink_id WHERE s.organisation_id = $1`, other); n == 0 {
		t.Error("the other organisation's sink events were deleted")
	}
	if tr := traces(t, db, "carol"); len(tr) != 0 {
		t.Errorf("Carol is still in %v", tr)
	}
	if tr := traces(t, db, "dave"); tr["users"] != 1 {
		t.Errorf("the other organisation lost data: %v", tr)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'organisation.delete' AND object_id = $1 AND organisation_id IS NULL`, org); n != 1 {
		t.Errorf("%d audit entries of the deletion, want 1", n)
	}
	if _, err := DeleteOrganisation(context.Background(), db, org); err == nil {
		t.Error("deleting it again succeeded")
	}
}

func TestInactiveAdminsAreDeleted(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	org := newOrg(t, db, "Acme")
	now := t0
	users := []struct {
		email     string
		role      string
		lastLogin *time.Time
		created   time.Time
		kept      bool
	}{
		{"recent@example.com", "admin", ptr(now.AddDate(0, -11, 0)), now.AddDate(-3, 0, 0), true},
		{"stale@example.com", "admin", ptr(now.AddDate(0, -13, 0)), now.AddDate(-3, 0, 0), false},
		{"never-new@example.com", "viewer", nil, now.AddDate(0, -1, 0), true},
		{"never-old@example.com", "viewer", nil, now.AddDate(-2, 0, 0), false},
		{"operator@example.com", "system", ptr(now.AddDate(-5, 0, 0)), now.AddDate(-5, 0, 0), true},
	}
	for _, u := range users {
		var o any = org
		if u.role == "system" {
			o = nil
		}
		if _, err := db.Exec(`INSERT INTO users (organisation_id, email, password_hash, role, last_login_at, created_at) VALUES ($1, $2, 'x', $3, $4, $5)`,
			o, u.email, u.role, u.lastLogin, u.created); err != nil {
			t.Fatal(err)
		}
	}
	n, err := DeleteInactiveAdmins(context.Background(), db, now, 365*day)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("deleted %d, want 2", n)
	}
	for _, u := range users {
		if got := count(t, db, `SELECT count(*) FROM users WHERE email = $1`, u.email) == 1; got != u.kept {
			t.Errorf("%s kept = %v, want %v", u.email, got, u.kept)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM audit_log WHERE action = 'user.delete_inactive' AND summary->>'users' = '2'`); n != 1 {
		t.Errorf("%d audit entries with the count, want 1", n)
	}
}

func ptr[T any](v T) *T { return &v }

// FuzzParseSubject feeds arbitrary subjects (typed by admins, sent through the
// API) to the parser: a Subject or an error, never a crash, and digits only
// when there are at least four.
func FuzzParseSubject(f *testing.F) {
	for _, s := range []string{"alice@example.com", "sip:+4722334455@example.com;user=phone", "tel:+1 (555) 010-9999", "Ålice Ünicode", "@", "sip:@", "  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSubject(in)
		if err != nil {
			return
		}
		if s.Digits != "" && len(s.Digits) < 4 {
			t.Errorf("ParseSubject(%q).Digits = %q", in, s.Digits)
		}
	})
}
