package main

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/directory/pbldap"
)

// LDAPConfig is the YAML shape of pbldap.Config: the phonebook's read-only
// LDAP server for Poly and Lifesize endpoints.
type LDAPConfig struct {
	// Listen is the TCP address; empty leaves the LDAP server off.
	// 127.0.0.1:3890 is the usual choice behind a TLS proxy or on a LAN.
	Listen string `yaml:"listen"`
	// BaseDN is the DN endpoints configure; empty means ou=phonebook,o=bifrost.
	BaseDN string `yaml:"base_dn"`
}

func init() {
	envVars = append(envVars,
		envVar{"BIFROST_LDAP_LISTEN", false, stringVar(func(c *Config) *string { return &c.LDAP.Listen })},
		envVar{"BIFROST_LDAP_BASE_DN", false, stringVar(func(c *Config) *string { return &c.LDAP.BaseDN })},
	)
}

// refuseAll is the Authenticator until phonebook tokens are wired in: every
// bind gets invalidCredentials.
var refuseAll = pbldap.AuthenticatorFunc(func(context.Context, string, string) (pbldap.Scope, error) {
	return pbldap.Scope{}, pbldap.ErrInvalidCredentials
})

// startPhonebookLDAP starts the LDAP server when ldap.listen is set (srv is
// nil otherwise) and returns the function that closes it.
func (e *env) startPhonebookLDAP(db *sqlx.DB) (srv *pbldap.Server, stop func(), err error) {
	if e.cfg.LDAP.Listen == "" {
		return nil, func() {}, nil
	}
	log := e.log.With("component", "ldap-phonebook")
	srv, err = pbldap.New(pbldap.Config{Listen: e.cfg.LDAP.Listen, BaseDN: e.cfg.LDAP.BaseDN}, pbldap.Options{
		Directory:     directory.NewStore(db, nil),
		Authenticator: refuseAll,
		Log: func(l pbldap.RequestLog) {
			log.Debug("ldap search", "organisation_id", l.OrganisationID, "client_ip", l.ClientIP, "bind_dn", l.BindDN,
				"filter", l.Filter, "results", l.Results, "result_code", l.ResultCode, "duration", l.Duration)
		},
		Logger: log,
	})
	if err != nil {
		return nil, nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, nil, err
	}
	return srv, func() { _ = srv.Close() }, nil
}
