package directory

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/internal/audit"
	"github.com/bifrost-video/bifrost/internal/cli/clitest"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// testEnv is a cli.Env on a test database.
type testEnv = clitest.Env

func runCLI(t *testing.T, env *testEnv, args ...string) error {
	t.Helper()
	_, err := clitest.Run(t, Commands(), env, args...)
	return err
}

func TestCLIAddListSync(t *testing.T) {
	sl := startSlapd(t)
	sl.LDAPAdd(filepath.Join(fixtureDir, "ldap", "nordfjord-small.ldif"))
	db := pgtest.New(t)
	org := newOrg(t, db, "Nordfjord Kraft AS")
	env := &testEnv{Database: db, Key: testKey}
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("videosync-test-only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	add := []string{"ldap", "add", "--org", "nordfjord kraft as", "--name", "Nordfjord", "--url", sl.URL,
		"--bind-dn", "uid=svc-videosync,ou=Service Accounts," + fixtureSuffix, "--bind-password-file", pw,
		"--base-dn", "ou=People," + fixtureSuffix, "--base-dn", "ou=Rooms," + fixtureSuffix,
		"--filter", "(&(objectClass=inetOrgPerson)(labeledURI=*))", "--folders", "ou:" + fixtureSuffix,
		"--interval", "15m", "--guard-deletes", "1", "--map", "title=$title$ ($l$)"}
	if err := runCLI(t, env, add...); err != nil {
		t.Fatalf("ldap add: %v", err)
	}
	if err := runCLI(t, env, add...); !errors.Is(err, ErrConflict) {
		t.Errorf("adding the same name again: %v, want ErrConflict", err)
	}
	bad := append([]string{}, add...)
	bad[5] = "Other"
	bad = append(bad, "--map", "sip=$labeledURI:sip")
	err := runCLI(t, env, bad...)
	var te *TemplateError
	if !errors.As(err, &te) || te.Pos != 0 {
		t.Errorf("a template that does not parse: %v, want a TemplateError at 0", err)
	}
	bad = append([]string{}, add...)
	bad[5] = "Other"
	bad = append(bad, "--filter", "(&(uid=a)")
	if err := runCLI(t, env, bad...); !errors.Is(err, ErrInvalid) {
		t.Errorf("a filter that does not parse: %v", err)
	}

	if err := runCLI(t, env, "ldap", "list", "--org", "Nordfjord Kraft AS"); err != nil {
		t.Fatal(err)
	}
	if out := env.Out.String(); !strings.Contains(out, "Nordfjord") || !strings.Contains(out, "15m0s") || !strings.Contains(out, "never") {
		t.Errorf("ldap list:\n%s", out)
	}
	if strings.Contains(env.Out.String(), "videosync-test-only") {
		t.Error("ldap list shows the bind password")
	}

	if err := runCLI(t, env, "ldap", "sync", "--org", "Nordfjord Kraft AS", "--source", "nordfjord", "--dry-run"); err != nil {
		t.Fatal(err)
	}
	var rep Report
	if err := json.Unmarshal(env.Out.Bytes(), &rep); err != nil || !rep.DryRun || rep.Added != 19 {
		t.Errorf("dry run report: %v %+v\n%s", err, rep, env.Out.String())
	}
	if n := len(directoryRows(t, db, org)); n != 0 {
		t.Errorf("a dry run stored %d entries", n)
	}
	if err := runCLI(t, env, "ldap", "sync", "--org", "Nordfjord Kraft AS", "--source", "Nordfjord"); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(env.Out.Bytes(), &rep); err != nil || rep.Status != RunOK || rep.Added != 19 {
		t.Errorf("sync report: %v %+v", err, rep)
	}
	var title string
	db.Get(&title, `SELECT title FROM directory_entries WHERE display_name = 'Anne Berg'`)
	if title != "Administrerende direktør (Oslo)" {
		t.Errorf("--map title: %q", title)
	}

	sl.LDAPModify("dn: cn=Anne Berg,ou=Oslo,ou=People," + fixtureSuffix + "\nchangetype: delete\n\n" +
		"dn: cn=Per Olsen,ou=Oslo,ou=People," + fixtureSuffix + "\nchangetype: delete\n\n" +
		"dn: cn=Silje Aasen,ou=Bergen,ou=People," + fixtureSuffix + "\nchangetype: delete\n")
	err = runCLI(t, env, "ldap", "sync", "--org", "Nordfjord Kraft AS", "--source", "Nordfjord")
	if !errors.Is(err, ErrGuarded) {
		t.Errorf("a guarded sync: %v", err)
	}
	if err := json.Unmarshal(env.Out.Bytes(), &rep); err != nil || rep.Status != RunGuarded {
		t.Errorf("guarded report: %v %+v", err, rep)
	}
	if err := runCLI(t, env, "ldap", "sync", "--org", "Nordfjord Kraft AS", "--source", "Nordfjord", "--confirm"); err != nil {
		t.Errorf("a confirmed sync: %v", err)
	}
	rows, _, _ := audit.List(ctxT(t), db, audit.Filter{OrganisationID: org, Action: "directory."})
	var actions []string
	for _, r := range rows {
		actions = append(actions, r.Action)
		if strings.Contains(string(r.Summary), "videosync-test-only") {
			t.Errorf("the audit log holds the bind password: %s", r.Summary)
		}
	}
	if strings.Join(actions, ",") != "directory.ldap_sync,directory.ldap_sync,directory.ldap_source_create" {
		t.Errorf("audited actions: %q", actions)
	}
	if err := runCLI(t, env, "ldap", "sync", "--org", "Nope", "--source", "Nordfjord"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown organisation: %v", err)
	}
}
