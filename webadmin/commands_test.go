package webadmin

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/internal/audit"
	"github.com/bifrost-video/bifrost/internal/cli"
	"github.com/bifrost-video/bifrost/internal/cli/clitest"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestCommands(t *testing.T) {
	env := &clitest.Env{Database: pgtest.New(t), Clock: func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }}
	run := func(args ...string) (string, error) {
		t.Helper()
		return clitest.Run(t, Commands(), env, args...)
	}
	ctx := context.Background()
	if _, err := run("org", "create", "Acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := run("org", "create", "ACME"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a duplicate organisation: %v", err)
	}
	if out, _ := run("org", "list"); !strings.Contains(out, "Acme") || !strings.Contains(out, "UTC") {
		t.Errorf("org list: %q", out)
	}
	if _, err := run("org", "set", "--org", "Acme", "--time-zone", "Atlantis/Capital"); err == nil || !strings.Contains(err.Error(), "time_zone") {
		t.Errorf("an unknown zone: %v", err)
	}
	if out, err := run("org", "set", "--org", "Acme", "--time-zone", "Europe/Oslo"); err != nil || !strings.Contains(out, "Europe/Oslo") {
		t.Errorf("org set: %q %v", out, err)
	}
	if out, _ := run("org", "list"); !strings.Contains(out, "Europe/Oslo") {
		t.Errorf("org list after org set: %q", out)
	}
	t.Setenv(EnvAdminPassword, "")
	out, err := run("admin", "create", "--org", "Acme", "--email", "ann@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	password := ""
	for _, l := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(l, "password: "); ok {
			password = p
		}
	}
	st := NewStore(env.Database, env.Now)
	if _, err := st.Login(ctx, "ann@acme.example", password, "127.0.0.1"); err != nil {
		t.Errorf("the printed password %q does not sign in: %v", password, err)
	}
	t.Setenv(EnvAdminPassword, "from the environment 1")
	if out, err := run("admin", "create", "--org", "Acme", "--email", "bob@acme.example", "--role", "viewer"); err != nil || strings.Contains(out, "password") {
		t.Errorf("admin create with %s: %q %v", EnvAdminPassword, out, err)
	}
	if _, err := st.Login(ctx, "bob@acme.example", "from the environment 1", "127.0.0.1"); err != nil {
		t.Errorf("the environment's password does not sign in: %v", err)
	}
	if _, err := run("admin", "create", "--org", "Nope", "--email", "c@acme.example"); err == nil || !strings.Contains(err.Error(), "no organisation") {
		t.Errorf("an unknown organisation: %v", err)
	}
	if _, err := run("admin", "create", "--org", "Acme"); !errors.Is(err, cli.ErrUsage) {
		t.Errorf("without --email: %v", err)
	}
	out, err = run("token", "create", "--org", "Acme", "--name", "ci", "--role", "admin")
	tok := strings.TrimSpace(out)
	if err != nil || !strings.HasPrefix(tok, TokenPrefix) || strings.Contains(tok, "\n") {
		t.Fatalf("token create printed %q (%v), want the token alone", out, err)
	}
	if p, err := st.AuthenticateToken(ctx, tok); err != nil || p.Role != RoleAdmin {
		t.Errorf("the printed token: %+v %v", p, err)
	}
	if _, err := run("room", "create", "--org", "Acme", "--alias", "1234", "--name", "Board room", "--host-pin", "4321", "--max", "8"); err != nil {
		t.Fatal(err)
	}
	if _, err := run("room", "create", "--org", "Acme", "--alias", "1234", "--name", "Again"); err == nil || !strings.Contains(err.Error(), "alias") {
		t.Errorf("a taken alias: %v", err)
	}
	if _, err := run("room", "create", "--org", "Acme", "--alias", "x", "--name", "Bad"); err == nil || !strings.Contains(err.Error(), "alias must be") {
		t.Errorf("a bad alias: %v", err)
	}
	if out, _ := run("room", "list", "--org", "Acme"); !strings.Contains(out, "1234") || !strings.Contains(out, "Board room") || strings.Contains(out, "4321") {
		t.Errorf("room list: %q", out)
	}
	rows, _, err := audit.List(ctx, env.Database, audit.Filter{AllOrganisations: true, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]bool{}
	for _, r := range rows {
		if r.ActorKind != "cli" && r.Action != "user.login" {
			t.Errorf("%s audited as %s", r.Action, r.ActorKind)
		}
		for _, secret := range []string{password, "from the environment 1", tok, "4321"} {
			if strings.Contains(string(r.Summary), secret) {
				t.Errorf("%s carries a secret: %s", r.Action, r.Summary)
			}
		}
		actions[r.Action] = true
	}
	for _, a := range []string{"organisation.create", "user.create", "api_token.create", "room.create"} {
		if !actions[a] {
			t.Errorf("no %s entry", a)
		}
	}
}
