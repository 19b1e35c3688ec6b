package pbldap

import "errors"

// Sentinel errors of the LDAP server.
var (
	// ErrInvalidCredentials is what an Authenticator returns for an unknown
	// bind name or a wrong or revoked token. The client gets
	// invalidCredentials (RFC 4511 §4.1.9, code 49).
	ErrInvalidCredentials = errors.New("pbldap: invalid credentials")
	// ErrClosed: the server is closed.
	ErrClosed = errors.New("pbldap: server closed")
	// ErrStarted: Start was called twice.
	ErrStarted = errors.New("pbldap: server already started")
)

// Errors of a malformed request; the connection gets a notice of
// disconnection (RFC 4511 §4.4.1) and is closed.
var (
	errMalformed   = errors.New("pbldap: malformed LDAP message")
	errTooLarge    = errors.New("pbldap: LDAP message too large")
	errFilterLimit = errors.New("pbldap: filter too complex")
)
