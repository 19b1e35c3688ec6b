package directory

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// ldapRecord is one entry read from the server: its DN and its attributes by
// lower-case name.
type ldapRecord struct {
	dn    string
	attrs map[string][]string
	raw   map[string][][]byte // binary attributes (objectGUID)
}

// Values implements Attrs.
func (r *ldapRecord) Values(lowerName string) []string { return r.attrs[lowerName] }

// ldapReader reads the entries of a source with paged searches.
type ldapReader struct {
	src      Source
	password string
	attrs    []string      // attributes to request (lean: only what the mapping reads)
	timeout  time.Duration // per request
	// afterPage, when set (tests), runs after each page has been handled.
	afterPage func(page int)
}

// dial connects, upgrades with StartTLS when configured, and binds.
func (r *ldapReader) dial(ctx context.Context) (*ldap.Conn, error) {
	u, err := url.Parse(r.src.URL)
	if err != nil {
		return nil, fmt.Errorf("directory: ldap url: %w", err)
	}
	tlsCfg := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if r.src.CACert != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(r.src.CACert)) {
			return nil, invalid("the CA certificate is not PEM")
		}
		tlsCfg.RootCAs = pool
	}
	d := &net.Dialer{Timeout: r.timeout}
	if dl, ok := ctx.Deadline(); ok {
		d.Deadline = dl
	}
	conn, err := ldap.DialURL(r.src.URL, ldap.DialWithDialer(d), ldap.DialWithTLSConfig(tlsCfg))
	if err != nil {
		return nil, fmt.Errorf("directory: connect to %s: %w", r.src.URL, err)
	}
	conn.SetTimeout(r.timeout)
	if r.src.StartTLS {
		if err := conn.StartTLS(tlsCfg); err != nil {
			conn.Close()
			return nil, fmt.Errorf("directory: StartTLS with %s: %w", r.src.URL, err)
		}
	}
	if r.src.BindDN != "" {
		if err := conn.Bind(r.src.BindDN, r.password); err != nil {
			conn.Close()
			return nil, fmt.Errorf("directory: bind as %s: %w", r.src.BindDN, err)
		}
	}
	return conn, nil
}

func scopeOf(s string) int {
	switch s {
	case "base":
		return ldap.ScopeBaseObject
	case "one":
		return ldap.ScopeSingleLevel
	}
	return ldap.ScopeWholeSubtree
}

// read calls fn for every entry under every base DN, one page (RFC 2696) at a
// time, so memory holds one page of LDAP messages, not the directory. Any
// error — bind refused, server gone mid-search, timeout, size limit — ends
// the read with that error.
func (r *ldapReader) read(ctx context.Context, fn func(*ldapRecord) error) error {
	conn, err := r.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	page := 0
	for _, base := range r.src.BaseDNs {
		paging := ldap.NewControlPaging(uint32(r.src.PageSize))
		req := ldap.NewSearchRequest(base, scopeOf(r.src.Scope), ldap.NeverDerefAliases, 0, int(r.timeout/time.Second), false,
			r.src.Filter, r.attrs, []ldap.Control{paging})
		for {
			res, err := conn.Search(req)
			if err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("directory: search %s: %w", base, ctx.Err())
				}
				return fmt.Errorf("directory: search %s: %w", base, err)
			}
			for _, e := range res.Entries {
				if err := fn(recordOf(e)); err != nil {
					return err
				}
			}
			page++
			if r.afterPage != nil {
				r.afterPage(page)
			}
			ctl, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
			if !ok || len(ctl.Cookie) == 0 {
				break
			}
			paging.SetCookie(ctl.Cookie)
		}
	}
	return nil
}

func recordOf(e *ldap.Entry) *ldapRecord {
	rec := &ldapRecord{dn: e.DN, attrs: make(map[string][]string, len(e.Attributes))}
	for _, a := range e.Attributes {
		n := strings.ToLower(a.Name)
		if n == "objectguid" {
			if rec.raw == nil {
				rec.raw = map[string][][]byte{}
			}
			rec.raw[n] = a.ByteValues
			continue
		}
		rec.attrs[n] = a.Values
	}
	return rec
}

// key returns the record's stable key: entryUUID as the server writes it, or
// objectGUID in the registry format AD tools show (first three groups
// little-endian).
func (rec *ldapRecord) key(attr string) (string, error) {
	a := strings.ToLower(attr)
	if a == "objectguid" {
		vs := rec.raw[a]
		if len(vs) == 0 || len(vs[0]) != 16 {
			return "", errors.New("no 16-byte objectGUID")
		}
		b := vs[0]
		le := []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]}
		h := hex.EncodeToString(append(le, b[8:]...))
		return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	}
	vs := rec.attrs[a]
	if len(vs) == 0 || vs[0] == "" {
		return "", fmt.Errorf("no %s", attr)
	}
	return strings.ToLower(vs[0]), nil
}
