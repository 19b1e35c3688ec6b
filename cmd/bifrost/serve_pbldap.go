package main

import (
	"context"
	"errors"
	"strconv"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/directory/pbldap"
	"github.com/bifrost-video/bifrost/directory/phonebook"
)

// LDAPConfig is the YAML shape of pbldap.Config: the phonebook's read-only
// LDAP server for Poly and Lifesize endpoints.
type LDAPConfig struct {
	// Listen is the TCP address (default 127.0.0.1:3890); empty leaves the
	// LDAP server off.
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

// tokenAuthenticator lets LDAP clients bind with a phonebook token as the
// password: the token's organisation, and its folder when the token is
// limited to one, become what the client sees. The folder is found in the
// organisation's book in memory, which the searches answer from too.
type tokenAuthenticator struct {
	tokens *phonebook.Tokens
	books  pbldap.Books
}

func (a tokenAuthenticator) Authenticate(ctx context.Context, bindDN, password string) (pbldap.Scope, error) {
	t, err := a.tokens.Resolve(ctx, password)
	if errors.Is(err, phonebook.ErrNotFound) {
		return pbldap.Scope{}, pbldap.ErrInvalidCredentials
	}
	if err != nil {
		return pbldap.Scope{}, err
	}
	scope := pbldap.Scope{OrganisationID: t.OrganisationID, TokenID: t.ID}
	if t.FolderPath == "" {
		return scope, nil
	}
	b, err := a.books.Book(ctx, t.OrganisationID)
	if err != nil {
		return pbldap.Scope{}, err
	}
	for id, path := range directory.FolderPaths(b.DirectoryFolders()) {
		if path == t.FolderPath {
			scope.FolderID = &id
			return scope, nil
		}
	}
	// The token's folder is gone: the token may see nothing, like its
	// HTTP phonebook, rather than the whole directory.
	return pbldap.Scope{}, pbldap.ErrInvalidCredentials
}

// startPhonebookLDAP starts the LDAP server when ldap.listen is set (srv is
// nil otherwise), with phonebook tokens for binds, pb's books in memory to
// answer from (the ones TMS, Yealink and Cisco IP phones answer from) and
// pb's request log, and returns the function that closes it.
func (e *env) startPhonebookLDAP(_ *sqlx.DB, pb *phonebookRuntime) (srv *pbldap.Server, stop func(), err error) {
	if e.cfg.LDAP.Listen == "" {
		return nil, func() {}, nil
	}
	log := e.log.With("component", "ldap-phonebook")
	srv, err = pbldap.New(pbldap.Config{Listen: e.cfg.LDAP.Listen, BaseDN: e.cfg.LDAP.BaseDN}, pbldap.Options{
		Books:         pb.cache,
		Authenticator: tokenAuthenticator{tokens: pb.tokens, books: pb.cache},
		Log: func(l pbldap.RequestLog) {
			if l.OrganisationID == "" {
				return // a failed bind: nobody's phonebook was read
			}
			pb.log.Log(phonebook.Request{At: l.Time, OrganisationID: l.OrganisationID, TokenID: l.TokenID,
				Protocol: phonebook.ProtocolLDAP, Operation: "search", ClientIP: l.ClientIP, SearchString: l.Filter,
				SearchPath: l.BaseDN, ResultCount: l.Results, Duration: l.Duration, BindName: l.BindDN,
				Error: ldapResultError(l.ResultCode)})
		},
		Logger: log,
	})
	if err != nil {
		return nil, nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, nil, err
	}
	log.Info("ldap phonebook listening", "addr", srv.Addr().String())
	return srv, func() { _ = srv.Close() }, nil
}

// ldapResultError is the request log's error for an LDAP result code: empty
// for success and for a size limit (the client got entries).
func ldapResultError(code int) string {
	switch code {
	case 0, 4: // success, sizeLimitExceeded
		return ""
	}
	return "ldap result " + strconv.Itoa(code)
}
