package pbldap

import (
	"context"
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/bifrost-video/bifrost/directory"
)

// Scope is what a bind grants: one organisation's published phonebook, or a
// folder subtree of it.
type Scope struct {
	OrganisationID string
	// FolderID, when set, makes that folder the root of the tree the client
	// sees; nothing outside it is visible.
	FolderID *string
	// TokenID names the token for the request log (never the token itself).
	TokenID string
}

// Authenticator checks a simple bind. The password is the phonebook token.
// An unknown name or token is ErrInvalidCredentials; any other error is
// reported to the client as unavailable.
type Authenticator interface {
	Authenticate(ctx context.Context, bindDN, password string) (Scope, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, bindDN, password string) (Scope, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, bindDN, password string) (Scope, error) {
	return f(ctx, bindDN, password)
}

// Directory is the part of directory.Store the server reads.
type Directory interface {
	Folders(ctx context.Context, orgID string) ([]directory.Folder, error)
	Search(ctx context.Context, orgID string, q directory.Query) (directory.Page, error)
	GetEntry(ctx context.Context, orgID, id string) (directory.Entry, error)
}

// RequestLog is one search, as the phonebook request log keeps it.
type RequestLog struct {
	Time           time.Time
	OrganisationID string
	TokenID        string
	Protocol       string // "ldap"
	ClientIP       string
	BindDN         string
	BaseDN         string
	Scope          string // base, one, sub
	Filter         string // the filter in RFC 4515 string form
	Results        int    // entries sent
	ResultCode     int    // LDAP result code
	Duration       time.Duration
}

// Config configures the server. Zero fields take the defaults below.
type Config struct {
	// Listen is the TCP address (default 127.0.0.1:3890).
	Listen string
	// BaseDN is the root of the tree (default ou=phonebook,o=bifrost).
	BaseDN string
	// MaxResults caps the entries of one search, or of one page of a paged
	// search (default 1000).
	MaxResults int
	// MaxTime caps the time of one search (default 10s).
	MaxTime time.Duration
	// IdleTimeout closes a connection that sends nothing for this long
	// (default 10 minutes; Lifesize Icon refreshes every 10 minutes).
	IdleTimeout time.Duration
	// MaxMessageBytes bounds one request (default 64 KiB).
	MaxMessageBytes int
	// MaxConns bounds concurrent connections (default 1000).
	MaxConns int
	// FolderTTL is how long the folder tree of an organisation is reused
	// between searches (default 5s; negative: read it for every search).
	FolderTTL time.Duration
	// TLS, when set, offers StartTLS (RFC 4511 §4.14).
	TLS *tls.Config
	// ListenLDAPS, when set, is a second address that speaks LDAP over TLS
	// from the first byte (LDAPS, usually port 636); it needs TLS.
	ListenLDAPS string
	// RequireTLS refuses a bind before StartTLS (confidentialityRequired).
	RequireTLS bool
}

// Default configuration values.
const (
	DefaultListen          = "127.0.0.1:3890"
	DefaultBaseDN          = "ou=phonebook,o=bifrost"
	DefaultMaxResults      = 1000
	DefaultMaxTime         = 10 * time.Second
	DefaultIdleTimeout     = 10 * time.Minute
	DefaultMaxMessageBytes = 64 << 10
	DefaultMaxConns        = 1000
	DefaultFolderTTL       = 5 * time.Second
)

func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.BaseDN == "" {
		c.BaseDN = DefaultBaseDN
	}
	if c.MaxResults <= 0 {
		c.MaxResults = DefaultMaxResults
	}
	if c.MaxTime <= 0 {
		c.MaxTime = DefaultMaxTime
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.FolderTTL == 0 {
		c.FolderTTL = DefaultFolderTTL
	}
	return c
}

// Options are the server's collaborators.
type Options struct {
	// Books, when set, is what searches answer from: the phonebook's books
	// in memory (phonebook.Cache). Directory is then not needed.
	Books Books
	// Directory is read when Books is nil: every search asks the store.
	Directory     Directory
	Authenticator Authenticator
	// Log receives every search for the request log; nil drops them.
	Log func(RequestLog)
	// Logger logs connections, binds and errors; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}
