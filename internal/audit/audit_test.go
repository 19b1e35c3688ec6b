package audit_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/internal/audit"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestRecordAndList(t *testing.T) {
	db := pgtest.New(t)
	var orgA, orgB string
	if err := db.Get(&orgA, `INSERT INTO organisations (name) VALUES ('A') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&orgB, `INSERT INTO organisations (name) VALUES ('B') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	ctx := audit.WithActor(context.Background(), audit.Actor{Kind: audit.ActorCLI, Name: "cli", IP: "192.0.2.7:5555"})
	entries := []audit.Entry{
		{OrganisationID: orgA, Action: "room.create", ObjectType: "room", ObjectID: "r1",
			Summary: map[string]any{"name": "Board", "host_pin": "1234", "nested": map[string]any{"api_token": "abc"}}},
		{OrganisationID: orgA, Action: "user.delete", ObjectType: "user", ObjectID: "u1"},
		{OrganisationID: orgB, Action: "room.create", ObjectType: "room", ObjectID: "r2"},
	}
	for _, e := range entries {
		if err := audit.Record(ctx, db, e); err != nil {
			t.Fatal(err)
		}
	}
	rows, total, err := audit.List(context.Background(), db, audit.Filter{OrganisationID: orgA})
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || len(rows) != 2 {
		t.Fatalf("organisation A sees %d entries (total %d), want its own 2", len(rows), total)
	}
	create := rows[1]
	if rows[0].At.Before(rows[1].At) {
		t.Error("entries are not newest first")
	}
	if create.Action != "room.create" || create.ActorKind != "cli" || create.SourceIP == nil || *create.SourceIP != "192.0.2.7" {
		t.Errorf("stored entry: %+v", create)
	}
	if s := string(create.Summary); strings.Contains(s, "1234") || strings.Contains(s, "abc") || !strings.Contains(s, "Board") {
		t.Errorf("summary %s keeps a secret or lost a plain field", s)
	}
	rows, total, err = audit.List(context.Background(), db, audit.Filter{OrganisationID: orgA, Action: "room."})
	if err != nil || total != 1 || rows[0].ObjectID != "r1" {
		t.Errorf("action prefix filter: %d rows, total %d, err %v", len(rows), total, err)
	}
	_, total, _ = audit.List(context.Background(), db, audit.Filter{OrganisationID: orgA, From: time.Now().Add(time.Hour)})
	if total != 0 {
		t.Errorf("a filter from the future matched %d entries", total)
	}
	_, total, _ = audit.List(context.Background(), db, audit.Filter{AllOrganisations: true, ActorName: "CL"})
	if total != 3 {
		t.Errorf("all organisations by actor name: %d, want 3", total)
	}
}

func TestActorDefaultsToSystem(t *testing.T) {
	if a := audit.ActorFrom(context.Background()); a.Kind != audit.ActorSystem {
		t.Errorf("actor of a bare context: %+v", a)
	}
}
