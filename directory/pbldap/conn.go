package pbldap

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// Extended operations (RFC 4511 §4.12) this server knows.
const (
	oidStartTLS = "1.3.6.1.4.1.1466.20037"  // RFC 4511 §4.14
	oidWhoAmI   = "1.3.6.1.4.1.4203.1.11.3" // RFC 4532
)

// conn is one client connection. Its requests are handled one after another,
// so its state needs no lock.
type conn struct {
	srv *Server
	nc  net.Conn
	r   *bufio.Reader
	w   *bufio.Writer
	ip  string
	log *slog.Logger

	tls    bool
	bound  bool
	bindDN string
	scope  Scope
	// scratch is reused to encode each search result entry.
	scratch []byte
}

func newConn(srv *Server, nc net.Conn) *conn {
	ip := nc.RemoteAddr().String()
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	return &conn{srv: srv, nc: nc, r: bufio.NewReaderSize(nc, 4096), w: bufio.NewWriterSize(nc, 16<<10),
		ip: ip, log: srv.log.With("client_ip", ip)}
}

// serve reads and answers requests until the client leaves, the connection
// breaks or the server closes. A request that cannot be parsed ends the
// connection with a notice of disconnection (RFC 4511 §4.1.1).
func (c *conn) serve(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("ldap connection panicked", "panic", r, "stack", string(debug.Stack()))
		}
		c.nc.Close()
	}()
	c.loop(ctx)
}

// loop serves requests until the connection ends.
func (c *conn) loop(ctx context.Context) {
	for {
		if err := c.nc.SetReadDeadline(time.Now().Add(c.srv.cfg.IdleTimeout)); err != nil {
			return
		}
		// Close cancels ctx and then sets a past read deadline. Had it done
		// so just before the line above, that deadline is gone: ctx tells.
		if ctx.Err() != nil {
			c.disconnect(ldap.LDAPResultUnavailable, "server stopping")
			return
		}
		p, err := readMessage(c.r, c.srv.cfg.MaxMessageBytes)
		if err != nil {
			c.readFailed(ctx, err)
			return
		}
		m, err := parseMessage(p)
		if err != nil {
			c.log.Info("ldap client sent a malformed message", "err", err)
			c.disconnect(ldap.LDAPResultProtocolError, "malformed LDAP message")
			return
		}
		if !c.handle(ctx, m) {
			return
		}
	}
}

func (c *conn) readFailed(ctx context.Context, err error) {
	switch {
	case ctx.Err() != nil:
		c.disconnect(ldap.LDAPResultUnavailable, "server stopping")
	case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed):
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.disconnect(ldap.LDAPResultUnavailable, "idle timeout")
	case errors.Is(err, errTooLarge):
		c.log.Info("ldap client sent a message over the size limit", "limit", c.srv.cfg.MaxMessageBytes)
		c.disconnect(ldap.LDAPResultProtocolError, "message too large")
	case errors.Is(err, errMalformed):
		c.log.Info("ldap client sent a malformed message", "err", err)
		c.disconnect(ldap.LDAPResultProtocolError, "malformed LDAP message")
	default:
		c.log.Debug("ldap connection read failed", "err", err)
	}
}

// disconnect sends a notice of disconnection, best effort.
func (c *conn) disconnect(code uint16, diag string) {
	_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if c.write(noticeOfDisconnection(code, diag)) == nil {
		_ = c.w.Flush()
	}
}

// write buffers one LDAPMessage; the buffer goes out when it is full and
// with the response that ends the request.
func (c *conn) write(p *ber.Packet) error {
	if _, err := c.w.Write(p.Bytes()); err != nil {
		return fmt.Errorf("%w: %v", errWrite, err)
	}
	return nil
}

// respond sends an LDAPResult for request m and flushes.
func (c *conn) respond(m *message, code uint16, matched, diag string, controls ...ldap.Control) error {
	tag, ok := responseTag(m.op.Tag)
	if !ok {
		return nil
	}
	if _, err := c.w.Write(envelope(m.id, result(tag, code, matched, diag), controls...).Bytes()); err != nil {
		return err
	}
	return c.w.Flush()
}

// handle answers one request; false ends the connection.
func (c *conn) handle(ctx context.Context, m *message) bool {
	if err := c.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.MaxTime + 30*time.Second)); err != nil {
		return false
	}
	if _, ok := responseTag(m.op.Tag); ok && len(m.critical) > 0 {
		return c.respond(m, ldap.LDAPResultUnavailableCriticalExtension, "", "unsupported critical control "+m.critical[0]) == nil
	}
	switch m.op.Tag {
	case ldap.ApplicationBindRequest:
		return c.bind(ctx, m) == nil
	case ldap.ApplicationUnbindRequest:
		return false
	case ldap.ApplicationAbandonRequest:
		return true // requests run one at a time: there is nothing to abandon
	case ldap.ApplicationSearchRequest:
		return c.handleSearch(ctx, m) == nil
	case ldap.ApplicationExtendedRequest:
		return c.extended(m) == nil
	case ldap.ApplicationModifyRequest, ldap.ApplicationAddRequest, ldap.ApplicationDelRequest,
		ldap.ApplicationModifyDNRequest, ldap.ApplicationCompareRequest:
		return c.respond(m, ldap.LDAPResultUnwillingToPerform, "", "the phonebook is read-only") == nil
	}
	c.disconnect(ldap.LDAPResultProtocolError, "unknown operation")
	return false
}

// bind handles a BindRequest (RFC 4511 §4.2): simple authentication with the
// phonebook token. Any bind first drops what an earlier bind granted.
func (c *conn) bind(ctx context.Context, m *message) error {
	c.bound, c.bindDN, c.scope = false, "", Scope{}
	ch := m.op.Children
	if m.op.TagType != ber.TypeConstructed || len(ch) != 3 {
		return c.respond(m, ldap.LDAPResultProtocolError, "", "malformed bind request")
	}
	version, ok1 := intOf(ch[0])
	name, ok2 := stringOf(ch[1])
	if !ok1 || !ok2 {
		return c.respond(m, ldap.LDAPResultProtocolError, "", "malformed bind request")
	}
	if version != 3 {
		return c.respond(m, ldap.LDAPResultProtocolError, "", "only LDAPv3 is supported")
	}
	auth := ch[2]
	if auth.ClassType != ber.ClassContext || auth.Tag != 0 {
		return c.respond(m, ldap.LDAPResultAuthMethodNotSupported, "", "only simple bind is supported")
	}
	password, ok := stringOf(auth)
	if !ok {
		return c.respond(m, ldap.LDAPResultProtocolError, "", "malformed bind request")
	}
	if c.srv.cfg.RequireTLS && !c.tls {
		return c.respond(m, ldap.LDAPResultConfidentialityRequired, "", "use StartTLS before binding")
	}
	if password == "" {
		// Anonymous and unauthenticated binds (RFC 4513 §5.1.1, §5.1.2)
		// would read nothing: say so at once.
		c.log.Info("ldap bind without a token refused", "bind_dn", name)
		return c.respond(m, ldap.LDAPResultInvalidCredentials, "", "bind with the phonebook token as the password")
	}
	actx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sc, err := c.srv.auth.Authenticate(actx, name, password)
	switch {
	case errors.Is(err, ErrInvalidCredentials):
		c.log.Info("ldap bind refused", "bind_dn", name)
		return c.respond(m, ldap.LDAPResultInvalidCredentials, "", "")
	case err != nil:
		c.log.Error("ldap bind failed", "bind_dn", name, "err", err)
		return c.respond(m, ldap.LDAPResultUnavailable, "", "cannot check credentials now")
	case sc.OrganisationID == "":
		c.log.Error("ldap authenticator returned a scope without an organisation", "bind_dn", name)
		return c.respond(m, ldap.LDAPResultInvalidCredentials, "", "")
	}
	c.bound, c.bindDN, c.scope = true, name, sc
	c.log = c.srv.log.With("client_ip", c.ip, "organisation_id", sc.OrganisationID)
	return c.respond(m, ldap.LDAPResultSuccess, "", "")
}

func (c *conn) handleSearch(ctx context.Context, m *message) error {
	start := c.srv.now()
	req, err := parseSearch(m.op)
	if err != nil {
		code := uint16(ldap.LDAPResultProtocolError)
		if errors.Is(err, errFilterLimit) {
			code = ldap.LDAPResultAdminLimitExceeded
		}
		c.log.Info("ldap search refused", "err", err)
		return c.respond(m, code, "", err.Error())
	}
	res, err := c.search(ctx, m, req)
	if err != nil {
		return err
	}
	var controls []ldap.Control
	if res.paging != nil {
		controls = append(controls, res.paging)
	}
	if c.bound && c.srv.reqLog != nil {
		c.srv.reqLog(RequestLog{Time: start, OrganisationID: c.scope.OrganisationID, TokenID: c.scope.TokenID,
			Protocol: "ldap", ClientIP: c.ip, BindDN: c.bindDN, BaseDN: req.baseDN, Scope: scopeName(req.scope),
			Filter: req.filter.String(), Results: res.sent, ResultCode: int(res.code), Duration: c.srv.now().Sub(start)})
	}
	return c.respond(m, res.code, res.matched, res.diag, controls...)
}

// extended handles an ExtendedRequest (RFC 4511 §4.12).
func (c *conn) extended(m *message) error {
	if len(m.op.Children) == 0 {
		return c.respond(m, ldap.LDAPResultProtocolError, "", "malformed extended request")
	}
	name, ok := stringOf(m.op.Children[0])
	if !ok || m.op.Children[0].ClassType != ber.ClassContext || m.op.Children[0].Tag != 0 {
		return c.respond(m, ldap.LDAPResultProtocolError, "", "malformed extended request")
	}
	switch name {
	case oidWhoAmI:
		op := result(ldap.ApplicationExtendedResponse, ldap.LDAPResultSuccess, "", "")
		authz := ""
		if c.bound {
			authz = "dn:" + c.bindDN
		}
		op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 11, authz, ""))
		if _, err := c.w.Write(envelope(m.id, op).Bytes()); err != nil {
			return err
		}
		return c.w.Flush()
	case oidStartTLS:
		return c.startTLS(m)
	}
	return c.respond(m, ldap.LDAPResultProtocolError, "", "unsupported extended operation "+name)
}

// startTLS switches the connection to TLS (RFC 4511 §4.14, RFC 4513 §3).
func (c *conn) startTLS(m *message) error {
	switch {
	case c.srv.cfg.TLS == nil:
		return c.respond(m, ldap.LDAPResultProtocolError, "", "StartTLS is not offered")
	case c.tls:
		return c.respond(m, ldap.LDAPResultOperationsError, "", "TLS is already established")
	case c.r.Buffered() > 0:
		return c.respond(m, ldap.LDAPResultOperationsError, "", "requests are outstanding")
	}
	op := result(ldap.ApplicationExtendedResponse, ldap.LDAPResultSuccess, "", "")
	op.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 10, oidStartTLS, ""))
	if _, err := c.w.Write(envelope(m.id, op).Bytes()); err != nil {
		return err
	}
	if err := c.w.Flush(); err != nil {
		return err
	}
	tc := tls.Server(c.nc, c.srv.cfg.TLS)
	_ = tc.SetDeadline(time.Now().Add(30 * time.Second))
	if err := tc.Handshake(); err != nil {
		c.log.Info("ldap StartTLS handshake failed", "err", err)
		return err
	}
	c.nc, c.tls = tc, true
	c.r.Reset(tc)
	c.w.Reset(tc)
	return nil
}
