package sipcall

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// DefaultTLSAddr is where SIP over TLS listens when a certificate is
// configured and no address is (RFC 3261 §19.1.2: 5061 for sips).
const DefaultTLSAddr = ":5061"

// tlsConfig returns the server's TLS settings: cfg with TLS 1.2 as the
// floor (RFC 8996 retires older versions).
func tlsConfig(cfg *tls.Config) *tls.Config {
	c := cfg.Clone()
	if c.MinVersion < tls.VersionTLS12 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// listenTLS binds SIP over TLS on cfg.TLSAddr and starts serving it, when
// a certificate is configured. Listen calls it with s.mu held.
func (s *Server) listenTLS(ctx context.Context) error {
	if s.cfg.TLS == nil {
		return nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.TLSAddr)
	if err != nil {
		return fmt.Errorf("sipcall: tls: %w", err)
	}
	tl := tls.NewListener(ln, tlsConfig(s.cfg.TLS))
	s.tls = tl
	s.log.Info("sip listening", "tls", ln.Addr().String())
	s.serving.Add(1)
	go func() {
		defer s.serving.Done()
		if err := s.uas.ServeTLS(tl); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("sip tls serving stopped", "error", err)
		}
	}()
	return nil
}

// TLSAddr returns the bound TLS address, or nil without TLS or before
// Listen.
func (s *Server) TLSAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tls == nil {
		return nil
	}
	return s.tls.Addr()
}

// contactURI is our Contact for a dialog that req opens, at local: over
// TLS, the TLS port; for a SIPS request URI, a SIPS Contact (RFC 5630
// §3.1.3: a dialog opened with a SIPS URI stays on TLS, and §3.2: SIPS
// URIs carry no transport=tls); for a SIP URI over another transport
// than UDP, its transport parameter (RFC 3261 §19.1.4).
func (s *Server) contactURI(req *sip.Request, local netip.Addr) sip.Uri {
	transport := strings.ToLower(req.Transport())
	var addr net.Addr
	if transport == "tls" {
		addr = s.TLSAddr()
	} else {
		addr = s.UDPAddr()
	}
	port := 0
	if a, ok := addr.(*net.UDPAddr); ok {
		port = a.Port
	} else if a, ok := addr.(*net.TCPAddr); ok {
		port = a.Port
	}
	uri := sip.Uri{Scheme: "sip", Host: local.String(), Port: port, UriParams: sip.NewParams()}
	switch {
	case strings.EqualFold(req.Recipient.Scheme, "sips"):
		uri.Scheme = "sips"
	case transport != "" && transport != "udp":
		uri.UriParams.Add("transport", transport)
	}
	return uri
}
