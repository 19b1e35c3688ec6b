package directory

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// ldapConn is the sync's LDAPv3 client connection: simple bind (RFC 4511
// §4.2), StartTLS (§4.14) and paged searches (§4.5, RFC 2696), one request
// at a time. Requests are encoded with go-asn1-ber; responses are decoded by
// berReader, which streams entries without a packet tree. Errors the server
// returns are *ldap.Error values, so ldap.IsErrorWithCode works on them.
type ldapConn struct {
	nc      net.Conn
	br      berReader
	timeout time.Duration
	msgID   int64
	msg     ldapMessage

	closeOnce sync.Once
}

// dialLDAP connects to an ldap:// or ldaps:// URL with d.
func dialLDAP(ctx context.Context, rawURL string, d *net.Dialer, tlsCfg *tls.Config, timeout time.Duration) (*ldapConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	host, port := u.Hostname(), u.Port()
	var nc net.Conn
	switch u.Scheme {
	case "ldap":
		if port == "" {
			port = "389"
		}
		nc, err = d.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	case "ldaps":
		if port == "" {
			port = "636"
		}
		td := &tls.Dialer{NetDialer: d, Config: tlsCfg}
		nc, err = td.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	default:
		return nil, fmt.Errorf("unsupported scheme %q", u.Scheme)
	}
	if err != nil {
		return nil, err
	}
	return newLDAPConn(nc, timeout), nil
}

func newLDAPConn(nc net.Conn, timeout time.Duration) *ldapConn {
	return &ldapConn{nc: nc, br: berReader{r: bufio.NewReaderSize(nc, 64<<10)}, timeout: timeout}
}

// Close closes the connection; it may be called more than once and from
// another goroutine (to abort a request).
func (c *ldapConn) Close() error {
	var err error
	c.closeOnce.Do(func() { err = c.nc.Close() })
	return err
}

// send writes one LDAPMessage with op and, when given, controls.
func (c *ldapConn) send(op *ber.Packet, controls ...*ber.Packet) error {
	c.msgID++
	msg := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Request")
	msg.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, c.msgID, "MessageID"))
	msg.AppendChild(op)
	if len(controls) > 0 {
		cs := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "Controls")
		for _, ctl := range controls {
			cs.AppendChild(ctl)
		}
		msg.AppendChild(cs)
	}
	c.deadline()
	_, err := c.nc.Write(msg.Bytes())
	return err
}

// deadline gives the next read or write the connection's timeout.
func (c *ldapConn) deadline() {
	if c.timeout > 0 {
		_ = c.nc.SetDeadline(time.Now().Add(c.timeout))
	}
}

// recv reads the next message for the last request. A notice of
// disconnection (RFC 4511 §4.4.1, message ID 0) is returned as an error.
func (c *ldapConn) recv() (*ldapMessage, error) {
	for {
		c.deadline()
		if err := c.br.next(&c.msg); err != nil {
			return nil, err
		}
		m := &c.msg
		if m.id == 0 && m.op == tagExtendedResponse {
			return nil, resultError(m.res, "notice of disconnection")
		}
		if m.id == c.msgID {
			return m, nil
		}
		// A response to an abandoned or earlier request: not ours.
	}
}

// resultError returns r as an *ldap.Error, or nil for success.
func resultError(r ldapResult, what string) error {
	if r.code == ldap.LDAPResultSuccess {
		return nil
	}
	msg := what
	if r.diagnostic != "" {
		msg += ": " + r.diagnostic
	}
	code := uint16(ldap.ErrorUnexpectedResponse)
	if r.code >= 0 && r.code < 1<<16 {
		code = uint16(r.code)
	}
	return &ldap.Error{ResultCode: code, MatchedDN: r.matchedDN, Err: errors.New(msg)}
}

// result reads the response to the last request, which must be an op.
func (c *ldapConn) result(op byte, what string) error {
	m, err := c.recv()
	if err != nil {
		return err
	}
	if m.op != op {
		return fmt.Errorf("%w: %s answered with %#x", errBER, what, m.op)
	}
	return resultError(m.res, what)
}

// Bind is a simple bind, RFC 4511 §4.2.
func (c *ldapConn) Bind(dn, password string) error {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ber.Tag(0), nil, "Bind Request")
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, 3, "Version"))
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, dn, "User Name"))
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, password, "Password"))
	if err := c.send(op); err != nil {
		return err
	}
	return c.result(tagBindResponse, "bind")
}

// oidStartTLS names the StartTLS extended operation, RFC 4511 §4.14.1.
const oidStartTLS = "1.3.6.1.4.1.1466.20037"

// StartTLS asks for TLS and handshakes, RFC 4511 §4.14.
func (c *ldapConn) StartTLS(cfg *tls.Config) error {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ber.Tag(23), nil, "Start TLS")
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, oidStartTLS, "TLS Extended Command"))
	if err := c.send(op); err != nil {
		return err
	}
	if err := c.result(tagExtendedResponse, "StartTLS"); err != nil {
		return err
	}
	if c.br.r.Buffered() > 0 {
		return fmt.Errorf("%w: data after the StartTLS response", errBER)
	}
	tc := tls.Client(c.nc, cfg)
	c.deadline()
	if err := tc.Handshake(); err != nil {
		return err
	}
	c.nc = tc
	c.br.r.Reset(tc)
	return nil
}

// ldapSearch is one search request, RFC 4511 §4.5.1.
type ldapSearch struct {
	base      string
	scope     int
	sizeLimit int
	timeLimit int
	filter    *ber.Packet // compiled (ldap.CompileFilter)
	attrs     []string
}

// searchPage sends one search with the paged results control (RFC 2696)
// asking for size entries after cookie, calls fn for each entry it returns,
// and returns the cookie of the next page (empty after the last one). fn
// must not keep the message: it is reused.
func (c *ldapConn) searchPage(s *ldapSearch, size int, cookie []byte, fn func(*ldapMessage) error) ([]byte, error) {
	op := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ber.Tag(3), nil, "Search Request")
	op.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, s.base, "Base DN"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(s.scope), "Scope"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, uint64(ldap.NeverDerefAliases), "Deref Aliases"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, uint64(s.sizeLimit), "Size Limit"))
	op.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, uint64(s.timeLimit), "Time Limit"))
	op.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, "Types Only"))
	op.AppendChild(s.filter)
	as := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Attributes")
	for _, a := range s.attrs {
		as.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, a, "Attribute"))
	}
	op.AppendChild(as)
	var ctls []*ber.Packet
	if size > 0 {
		paging := ldap.NewControlPaging(uint32(size))
		paging.SetCookie(cookie)
		ctls = append(ctls, paging.Encode())
	}
	if err := c.send(op, ctls...); err != nil {
		return nil, err
	}
	for {
		m, err := c.recv()
		if err != nil {
			return nil, err
		}
		switch m.op {
		case tagSearchResEntry:
			if err := fn(m); err != nil {
				return nil, err
			}
		case tagSearchResRef:
			// Continuation references are not followed (the sync reads one server).
		case tagSearchResDone:
			if err := resultError(m.res, "search"); err != nil {
				return nil, err
			}
			return m.cookie, nil
		default:
			return nil, fmt.Errorf("%w: search answered with %#x", errBER, m.op)
		}
	}
}
