package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/directory/phonebook"
)

func TestLDAPConfigFromEnvironment(t *testing.T) {
	cfg, err := loadConfig("", envMap(map[string]string{"BIFROST_LDAP_LISTEN": "127.0.0.1:3891", "BIFROST_LDAP_BASE_DN": "o=example"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LDAP.Listen != "127.0.0.1:3891" || cfg.LDAP.BaseDN != "o=example" {
		t.Errorf("ldap config %+v", cfg.LDAP)
	}
	if l := cfg.phonebookLinks(); l.LDAPAddr != "127.0.0.1:3891" || l.LDAPBaseDN != "o=example" {
		t.Errorf("the settings printed for endpoints: %+v", l)
	}
}

// TestPhonebookLDAPBindsWithTokens: an endpoint binds with a phonebook token
// and sees its organisation's published entries (a folder token: its folder
// only, never another organisation's); a wrong token is refused; the searches
// are in the phonebook's request log.
func TestPhonebookLDAPBindsWithTokens(t *testing.T) {
	t.Parallel()
	e, rt := newPhonebookEnv(t)
	ctx := context.Background()
	st := directory.NewStore(e.db, nil)
	oslo, err := st.CreateFolder(ctx, e.orgA, directory.Folder{Name: "Oslo"})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		org, name string
		folder    *string
	}{{e.orgA, "Anne Berg", nil}, {e.orgA, "Ola Nordmann", &oslo.ID}, {e.orgB, "Bob Hidden", nil}} {
		if _, err := st.CreateEntry(ctx, x.org, directory.Entry{Kind: directory.KindPerson, DisplayName: x.name, FolderID: x.folder,
			Addresses: []directory.Address{{Kind: directory.AddressSIP, Value: "sip:person@example.org"}}}); err != nil {
			t.Fatal(err)
		}
	}
	_, whole, err := rt.tokens.Create(ctx, e.orgA, phonebook.TokenInput{Name: "Lobby"}, "")
	if err != nil {
		t.Fatal(err)
	}
	_, osloOnly, err := rt.tokens.Create(ctx, e.orgA, phonebook.TokenInput{Name: "Oslo rooms", FolderPath: "Oslo"}, "")
	if err != nil {
		t.Fatal(err)
	}

	cfg := defaultConfig()
	cfg.LDAP.Listen = "127.0.0.1:0"
	srv, stop, err := newEnv(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard).startPhonebookLDAP(e.db, rt)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	search := func(t *testing.T, token string) ([]string, error) {
		t.Helper()
		c, err := ldap.DialURL("ldap://" + srv.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Bind("cn=endpoint,ou=phonebook,o=bifrost", token); err != nil {
			return nil, err
		}
		res, err := c.Search(ldap.NewSearchRequest("ou=phonebook,o=bifrost", ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 200, 0, false,
			"(&(objectClass=inetOrgPerson)(cn=*))", []string{"cn"}, nil))
		if err != nil {
			return nil, err
		}
		var names []string
		for _, en := range res.Entries {
			names = append(names, en.GetAttributeValue("cn"))
		}
		slices.Sort(names)
		return names, nil
	}
	if names, err := search(t, whole); err != nil || !slices.Equal(names, []string{"Anne Berg", "Ola Nordmann"}) {
		t.Errorf("the organisation's token sees %q, %v; want Anne Berg and Ola Nordmann", names, err)
	}
	if names, err := search(t, osloOnly); err != nil || !slices.Equal(names, []string{"Ola Nordmann"}) {
		t.Errorf("the Oslo token sees %q, %v; want Ola Nordmann only", names, err)
	}
	var le *ldap.Error
	if _, err := search(t, "pb_not-a-token"); !errors.As(err, &le) || le.ResultCode != ldap.LDAPResultInvalidCredentials {
		t.Errorf("a wrong token: %v, want invalidCredentials", err)
	}

	stop()
	rt.close() // writes the request log
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM phonebook_requests WHERE protocol = 'ldap' AND organisation_id = $1`, e.orgA); err != nil || n < 2 {
		t.Errorf("%d LDAP searches in the request log (%v), want 2", n, err)
	}
}
