package phonebook

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/internal/cli"
	"github.com/bifrost-video/bifrost/internal/cli/clitest"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// TestCLICreateURLsListRevoke runs the phonebook commands as an installer
// would, and uses the printed URLs against the server.
func TestCLICreateURLsListRevoke(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Nordfjord Kraft AS")
	manualDirectory(t, directory.NewStore(db, nil), org, map[string][]string{"People/Oslo": {"Anne Berg"}, "Rooms": {"Fjordsalen"}})
	e := newEnv(t, db, Config{})
	cmds := Commands(func(cli.Env) Links {
		return Links{BaseURL: e.srv.URL + "/", LDAPAddr: "127.0.0.1:3890", LDAPBindDN: "cn=phonebook,o=bifrost", LDAPBaseDN: "ou=phonebook,o=bifrost"}
	})
	env := &clitest.Env{Database: db}
	run := func(args ...string) (string, error) {
		t.Helper()
		env.Out.Reset()
		return clitest.Run(t, cmds, env, args...)
	}

	out, err := run("phonebook", "create", "--org", "nordfjord kraft as", "--folder", "People", "--json")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	var l TokenLinks
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatalf("create --json printed %q: %v", out, err)
	}
	if !strings.HasPrefix(l.Token, TokenPrefix) || l.TMSURL != e.srv.URL+"/pb/"+l.Token+TMSPath ||
		l.YealinkURL != e.srv.URL+"/pb/"+l.Token+YealinkBookPath || l.CiscoIPPhoneURL != e.srv.URL+"/pb/"+l.Token+CiscoDirPath ||
		l.LDAP != (LDAPLink{Addr: "127.0.0.1:3890", BindDN: "cn=phonebook,o=bifrost", Password: l.Token, BaseDN: "ou=phonebook,o=bifrost"}) {
		t.Errorf("create --json: %+v", l)
	}
	for _, key := range []string{`"token"`, `"tms_url"`, `"yealink_url"`, `"cisco_ipphone_url"`, `"ldap"`, `"addr"`, `"bind_dn"`, `"password"`, `"base_dn"`} {
		if !strings.Contains(out, key) {
			t.Errorf("create --json lacks %s", key)
		}
	}
	// The printed TMS URL answers with the People subtree only.
	code, body := e.soap(t, l.Token, "Search", searchBody("", "", 50, ""))
	if code != 200 || !strings.Contains(body, "<Name>Oslo</Name>") || strings.Contains(body, "Rooms") {
		t.Errorf("TMS URL of the People token: HTTP %d\n%s", code, body)
	}

	if _, err := run("phonebook", "create", "--org", "Nordfjord Kraft AS", "--folder", "Nowhere"); err == nil {
		t.Error("create with a folder that does not exist succeeded")
	}
	if _, err := run("phonebook", "create"); err == nil {
		t.Error("create without --org succeeded")
	}
	out, err = run("phonebook", "urls", "--org", "Nordfjord Kraft AS", "--token", l.Token, "--json")
	var u TokenLinks
	if err != nil || json.Unmarshal([]byte(out), &u) != nil || u.TMSURL != l.TMSURL || u.LDAP.Password != l.Token || u.FolderPath != "People" {
		t.Errorf("urls --token --json: %v\n%s", err, out)
	}
	out, err = run("phonebook", "urls", "--org", "Nordfjord Kraft AS")
	if err != nil || !strings.Contains(out, "/pb/{token}"+TMSPath) || strings.Contains(out, l.Token) {
		t.Errorf("urls without --token: %v\n%s", err, out)
	}
	other := newOrg(t, db, "Other")
	if _, err := run("phonebook", "urls", "--org", other, "--token", l.Token); err == nil {
		t.Error("urls of another organisation accepted the token")
	}

	out, err = run("phonebook", "list", "--org", "Nordfjord Kraft AS")
	if err != nil || !strings.Contains(out, l.TokenID) || !strings.Contains(out, "People") || strings.Contains(out, l.Token) {
		t.Errorf("list: %v\n%s", err, out)
	}
	if _, err := run("phonebook", "revoke", "--org", "Other", "--id", l.TokenID); err == nil {
		t.Error("another organisation revoked the token")
	}
	if _, err := run("phonebook", "revoke", "--org", "Nordfjord Kraft AS", "--id", l.TokenID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if code, _ := e.soap(t, l.Token, "Search", searchBody("", "", 50, "")); code != 404 {
		t.Errorf("revoked token: HTTP %d, want 404", code)
	}
	out, _ = run("phonebook", "list", "--org", "Nordfjord Kraft AS", "--json")
	var toks []Token
	if err := json.Unmarshal([]byte(out), &toks); err != nil || len(toks) != 1 || toks[0].RevokedAt == nil || toks[0].LastUsedAt == nil {
		t.Errorf("list --json after revoke: %v %s", err, out)
	}
	var audited int
	if err := db.Get(&audited, `SELECT count(*) FROM audit_log WHERE action LIKE 'phonebook_token.%' AND organisation_id = $1`, org); err != nil || audited != 2 {
		t.Errorf("%d audit entries (%v), want 2 (create, revoke)", audited, err)
	}
}
