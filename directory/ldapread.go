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
	"sync"
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
	workers  int           // connections for sub-range searches; 0 means readWorkers
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

// readWorkers is how many connections a read uses for sub-range searches.
const readWorkers = 4

// maxSubranges bounds the sub-range searches of one base DN: a base with more
// direct children (a flat AD "Users" container) is read in one search.
const maxSubranges = 256

// searchTask is one search of a read: a DN and a scope.
type searchTask struct {
	base  string
	scope int
}

// read calls fn for every entry under every base DN, one page (RFC 2696) at a
// time, so memory holds a few pages of LDAP messages, not the directory. A
// subtree base with a few direct children is read as parallel sub-range
// searches — the base entry alone and each child's subtree, which together
// cover the subtree exactly once — on readWorkers connections, because one
// paged search is bound by one connection's decoding. fn is never called
// concurrently. Any error — bind refused, server gone mid-search, timeout,
// size limit — ends the read with that error.
func (r *ldapReader) read(ctx context.Context, fn func(*ldapRecord) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	conn, err := r.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	var tasks []searchTask
	for _, base := range r.src.BaseDNs {
		tasks = append(tasks, r.subranges(conn, base)...)
	}
	var (
		mu    sync.Mutex // serialises fn and the page count
		page  int
		first error
		once  sync.Once
	)
	fail := func(err error) {
		once.Do(func() { first = err; cancel() })
	}
	handle := func(res *ldap.SearchResult) error {
		mu.Lock()
		for _, e := range res.Entries {
			if err := fn(recordOf(e)); err != nil {
				mu.Unlock()
				return err
			}
		}
		page++
		n := page
		mu.Unlock()
		if r.afterPage != nil {
			r.afterPage(n)
		}
		return nil
	}
	work := make(chan searchTask)
	var wg sync.WaitGroup
	workers := r.workers
	if workers <= 0 {
		workers = readWorkers
	}
	workers = min(workers, len(tasks))
	for w := 0; w < workers; w++ {
		c := conn
		if w > 0 {
			if c, err = r.dial(ctx); err != nil {
				fail(err)
				break
			}
			defer c.Close()
			stopC := context.AfterFunc(ctx, func() { c.Close() })
			defer stopC()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				if err := r.search(ctx, c, t, handle); err != nil {
					fail(err)
				}
			}
		}()
	}
feed:
	for _, t := range tasks {
		select {
		case work <- t:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// subranges splits a subtree base into the base entry and its children's
// subtrees; other scopes, and bases with many children, stay one search.
func (r *ldapReader) subranges(conn *ldap.Conn, base string) []searchTask {
	whole := []searchTask{{base, scopeOf(r.src.Scope)}}
	if r.src.Scope != "sub" && r.src.Scope != "" {
		return whole
	}
	req := ldap.NewSearchRequest(base, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, maxSubranges+1, int(r.timeout/time.Second), false,
		"(objectClass=*)", []string{"1.1"}, nil)
	res, err := conn.Search(req)
	if err != nil || len(res.Entries) > maxSubranges {
		return whole // the one search reports any real error
	}
	tasks := []searchTask{{base, ldap.ScopeBaseObject}}
	for _, e := range res.Entries {
		tasks = append(tasks, searchTask{e.DN, ldap.ScopeWholeSubtree})
	}
	return tasks
}

// search runs one paged search and hands each page to handle.
func (r *ldapReader) search(ctx context.Context, conn *ldap.Conn, t searchTask, handle func(*ldap.SearchResult) error) error {
	paging := ldap.NewControlPaging(uint32(r.src.PageSize))
	req := ldap.NewSearchRequest(t.base, t.scope, ldap.NeverDerefAliases, 0, int(r.timeout/time.Second), false,
		r.src.Filter, r.attrs, []ldap.Control{paging})
	for {
		res, err := conn.Search(req)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("directory: search %s: %w", t.base, ctx.Err())
			}
			if t.scope == ldap.ScopeBaseObject && ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
				return fmt.Errorf("directory: search %s: base DN does not exist: %w", t.base, err)
			}
			return fmt.Errorf("directory: search %s: %w", t.base, err)
		}
		if err := handle(res); err != nil {
			return err
		}
		ctl, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
		if !ok || len(ctl.Cookie) == 0 {
			return nil
		}
		paging.SetCookie(ctl.Cookie)
	}
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
