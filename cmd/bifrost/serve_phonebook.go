package main

import (
	"log/slog"
	"net"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/directory/pbldap"
	"github.com/bifrost-video/bifrost/directory/phonebook"
	"github.com/bifrost-video/bifrost/internal/cli"
)

// PhonebookConfig is the YAML shape of the endpoint phonebook's settings
// (package directory/phonebook).
type PhonebookConfig struct {
	// BareTMSOrganisation (a name or ID) also serves the plain TMS path
	// /tms/public/external/phonebook/phonebookservice.asmx, without a token,
	// with that organisation's whole phonebook: for a single-organisation
	// deployment whose endpoints are set up with the plain URL. Empty: off.
	BareTMSOrganisation string `yaml:"bare_tms_organisation"`
	// Refresh is how old an organisation's phonebook in memory may get before
	// the next request reloads it (in the background).
	Refresh time.Duration `yaml:"refresh"`
}

func defaultPhonebookConfig() PhonebookConfig {
	return PhonebookConfig{Refresh: 30 * time.Second}
}

// addrString is a configured listen address as a net.Addr.
type addrString string

func (a addrString) Network() string { return "tcp" }
func (a addrString) String() string  { return string(a) }

// phonebookLinks are the addresses phonebook URLs are made of.
func (c Config) phonebookLinks() phonebook.Links {
	base := c.HTTP.PublicURL
	if base == "" {
		base = c.publicBaseURL(addrString(c.HTTP.Addr))
	}
	// What installers type into Poly/Lifesize endpoints: the LDAP server's
	// address (the public IP when it listens on all addresses), any bind DN
	// (it is only logged) and the base DN; the password is the token.
	host, port, err := net.SplitHostPort(c.LDAP.Listen)
	ldapAddr := c.LDAP.Listen
	if ip := net.ParseIP(host); err == nil && (host == "" || ip != nil && ip.IsUnspecified()) && c.PublicIP != "" {
		ldapAddr = net.JoinHostPort(c.PublicIP, port)
	}
	baseDN := c.LDAP.BaseDN
	if baseDN == "" {
		baseDN = pbldap.DefaultBaseDN
	}
	return phonebook.Links{BaseURL: base, LDAPAddr: ldapAddr, LDAPBindDN: "cn=phonebook," + baseDN, LDAPBaseDN: baseDN}
}

// phonebookCommands are `bifrost phonebook …` with this binary's configuration.
func phonebookCommands() []*cli.Command {
	return phonebook.Commands(func(ce cli.Env) phonebook.Links {
		if e, ok := ce.(*env); ok {
			return e.cfg.phonebookLinks()
		}
		return defaultConfig().phonebookLinks()
	})
}

// phonebookRuntime is what serve runs of the endpoint phonebook: the books in
// memory, the request log writer and the HTTP protocols under /pb/.
type phonebookRuntime struct {
	db     *sqlx.DB
	tokens *phonebook.Tokens
	cache  *phonebook.Cache
	log    *phonebook.RequestLog
	server *phonebook.Server
	links  phonebook.Links
	logger *slog.Logger
}

// newPhonebook starts the phonebook's cache and request log.
func newPhonebook(db *sqlx.DB, cfg Config, logger *slog.Logger) *phonebookRuntime {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rt := &phonebookRuntime{db: db, tokens: phonebook.NewTokens(db, time.Now).CacheFor(5 * time.Second), links: cfg.phonebookLinks(), logger: logger}
	st := directory.NewStore(db, time.Now)
	rt.cache = phonebook.NewCache(phonebook.StoreLoader(st), phonebook.VersionOf(st), cfg.Phonebook.Refresh, time.Now, logger)
	rt.log = phonebook.NewRequestLog(db, phonebook.RequestLogConfig{}, logger)
	rt.server = phonebook.NewServer(phonebook.Config{BareTMSOrganisation: cfg.Phonebook.BareTMSOrganisation, PublicURL: cfg.HTTP.PublicURL},
		phonebook.Deps{Tokens: rt.tokens, Cache: rt.cache, Log: rt.log, Logger: logger})
	return rt
}

// startPhonebook is newPhonebook for serve.
func (e *env) startPhonebook(db *sqlx.DB) *phonebookRuntime {
	return newPhonebook(db, e.cfg, e.log.With("component", "phonebook"))
}

// close stops the cache's loads and writes the pending request log rows.
// Call it after the HTTP server has stopped.
func (rt *phonebookRuntime) close() {
	_ = rt.log.Close()
	_ = rt.cache.Close()
}
