package cdr

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/internal/cli"
	"github.com/bifrost-video/bifrost/internal/cli/clitest"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

type testEnv = clitest.Env

func runCommand(t *testing.T, env *testEnv, args ...string) error {
	t.Helper()
	_, err := clitest.Run(t, Commands(), env, args...)
	return err
}

func TestCommands(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	org := newOrg(t, db, "Acme")
	storeCalls(t, db, org, []string{"alice"}, t0.Add(-100*day), t0.Add(-10*day))
	env := &testEnv{Database: db, Clock: func() time.Time { return t0 }, Dir: t.TempDir(), Key: make([]byte, 32)}

	t.Run("anonymise --dry-run counts and changes nothing", func(t *testing.T) {
		if err := runCommand(t, env, "cdr", "anonymise", "--dry-run", "--as-of", t0.Format(time.RFC3339)); err != nil {
			t.Fatal(err)
		}
		var rep RetentionReport
		if err := json.Unmarshal(env.Out.Bytes(), &rep); err != nil || rep.Totals["legs"] != 1 || !rep.DryRun {
			t.Fatalf("report %s, %v", env.Out.String(), err)
		}
		if n := count(t, db, `SELECT count(*) FROM cdr_legs WHERE anonymised_at IS NOT NULL`); n != 0 {
			t.Errorf("dry run anonymised %d legs", n)
		}
	})
	t.Run("anonymise with a bad time is a usage error", func(t *testing.T) {
		if err := runCommand(t, env, "cdr", "anonymise", "--as-of", "yesterday"); !errors.Is(err, cli.ErrUsage) {
			t.Errorf("err %v, want a usage error", err)
		}
	})
	t.Run("anonymise anonymises", func(t *testing.T) {
		if err := runCommand(t, env, "cdr", "anonymise"); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT count(*) FROM cdr_legs WHERE anonymised_at IS NOT NULL`); n != 1 {
			t.Errorf("%d legs anonymised, want 1", n)
		}
	})
	t.Run("privacy export prints the subject's legs", func(t *testing.T) {
		if err := runCommand(t, env, "privacy", "export", "--org", "acme", "--subject", "sip:alice@example.com"); err != nil {
			t.Fatal(err)
		}
		var exp SubjectExport
		if err := json.Unmarshal(env.Out.Bytes(), &exp); err != nil || len(exp.Legs) != 1 {
			t.Errorf("export %s, %v; want the one leg not yet anonymised", env.Out.String(), err)
		}
	})
	t.Run("privacy erase needs --confirm", func(t *testing.T) {
		if err := runCommand(t, env, "privacy", "erase", "--org", "Acme", "--subject", "alice"); !errors.Is(err, ErrConfirm) {
			t.Errorf("err %v, want ErrConfirm", err)
		}
	})
	t.Run("an unknown organisation is not found", func(t *testing.T) {
		if err := runCommand(t, env, "privacy", "export", "--org", "Nope", "--subject", "alice"); !errors.Is(err, ErrNotFound) {
			t.Errorf("err %v, want ErrNotFound", err)
		}
	})
	t.Run("sink add keeps the token out of the output", func(t *testing.T) {
		tokenFile := env.Dir + "/token"
		if err := writeFile(tokenFile, "t0ken\n"); err != nil {
			t.Fatal(err)
		}
		if err := runCommand(t, env, "cdr", "sink", "add", "--org", "Acme", "--name", "siem", "--url", "https://siem.example/hook", "--bearer-token-file", tokenFile); err != nil {
			t.Fatal(err)
		}
		if err := runCommand(t, env, "cdr", "sink", "list", "--org", "Acme"); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(env.Out.String(), "siem.example") || strings.Contains(env.Out.String(), "t0ken") {
			t.Errorf("sink list: %s", env.Out.String())
		}
	})
	t.Run("org delete needs --confirm, then deletes", func(t *testing.T) {
		if err := runCommand(t, env, "org", "delete", "Acme"); !errors.Is(err, ErrConfirm) {
			t.Errorf("err %v, want ErrConfirm", err)
		}
		if err := runCommand(t, env, "org", "delete", "Acme", "--confirm"); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT count(*) FROM organisations WHERE id = $1`, org); n != 0 {
			t.Error("the organisation is still there")
		}
	})
}

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o600)
}
