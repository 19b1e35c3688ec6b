package main

import (
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestLDAPConfigFromEnvironment(t *testing.T) {
	cfg, err := loadConfig("", envMap(map[string]string{"BIFROST_LDAP_LISTEN": "127.0.0.1:3890", "BIFROST_LDAP_BASE_DN": "o=example"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LDAP.Listen != "127.0.0.1:3890" || cfg.LDAP.BaseDN != "o=example" {
		t.Errorf("ldap config %+v", cfg.LDAP)
	}
	if defaultConfig().LDAP.Listen != "" {
		t.Error("the LDAP server is on by default before phonebook tokens are wired")
	}
}

// TestPhonebookLDAPRefusesEveryBindUntilTokensAreWired: the placeholder
// Authenticator answers invalidCredentials, and the server stops cleanly.
func TestPhonebookLDAPRefusesEveryBindUntilTokensAreWired(t *testing.T) {
	db := pgtest.New(t)
	cfg := defaultConfig()
	cfg.LDAP.Listen = "127.0.0.1:0"
	e := newEnv(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), io.Discard)
	srv, stop, err := e.startPhonebookLDAP(db)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	c, err := ldap.DialURL("ldap://" + srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var le *ldap.Error
	if err := c.Bind("cn=endpoint", "any-token"); !errors.As(err, &le) || le.ResultCode != ldap.LDAPResultInvalidCredentials {
		t.Errorf("bind: %v, want invalidCredentials", err)
	}
}
