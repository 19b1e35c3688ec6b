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

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// ldapRecord is one entry read from the server: its DN and its attributes
// as the server named them. It points into a decoder's buffers: whoever
// receives one must copy what it keeps (strings may be kept; they are
// immutable), not the record or its slices.
type ldapRecord struct {
	dn    string
	attrs []ldapAttr
}

// Values implements Attrs: the values of the attribute named lowerName, in
// any case.
func (r *ldapRecord) Values(lowerName string) []string {
	for i := range r.attrs {
		if strings.EqualFold(r.attrs[i].name, lowerName) {
			return r.attrs[i].vals
		}
	}
	return nil
}

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
func (r *ldapReader) dial(ctx context.Context) (*ldapConn, error) {
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
	conn, err := dialLDAP(ctx, r.src.URL, d, tlsCfg, r.timeout)
	if err != nil {
		return nil, fmt.Errorf("directory: connect to %s: %w", r.src.URL, err)
	}
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
	filter, err := ldap.CompileFilter(r.src.Filter)
	if err != nil {
		return fmt.Errorf("directory: filter %q: %w", r.src.Filter, err)
	}
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
	handle := func(rec *ldapRecord) error {
		mu.Lock()
		defer mu.Unlock()
		return fn(rec)
	}
	pageDone := func() {
		mu.Lock()
		page++
		n := page
		mu.Unlock()
		if r.afterPage != nil {
			r.afterPage(n)
		}
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
				if err := r.search(ctx, c, t, filter, handle, pageDone); err != nil {
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
func (r *ldapReader) subranges(conn *ldapConn, base string) []searchTask {
	whole := []searchTask{{base, scopeOf(r.src.Scope)}}
	if r.src.Scope != "sub" && r.src.Scope != "" {
		return whole
	}
	any, _ := ldap.CompileFilter("(objectClass=*)")
	req := &ldapSearch{base: base, scope: ldap.ScopeSingleLevel, sizeLimit: maxSubranges + 1, timeLimit: int(r.timeout / time.Second),
		filter: any, attrs: []string{"1.1"}}
	tasks := []searchTask{{base, ldap.ScopeBaseObject}}
	_, err := conn.searchPage(req, 0, nil, func(m *ldapMessage) error {
		tasks = append(tasks, searchTask{m.dn, ldap.ScopeWholeSubtree})
		return nil
	})
	if err != nil || len(tasks) > maxSubranges+1 {
		return whole // the one search reports any real error
	}
	return tasks
}

// search runs one paged search, hands each entry to handle, and calls
// pageDone after each page.
func (r *ldapReader) search(ctx context.Context, conn *ldapConn, t searchTask, filter *ber.Packet, handle func(*ldapRecord) error, pageDone func()) error {
	req := &ldapSearch{base: t.base, scope: t.scope, timeLimit: int(r.timeout / time.Second), filter: filter, attrs: r.attrs}
	var rec ldapRecord
	each := func(m *ldapMessage) error {
		rec.dn, rec.attrs = m.dn, m.attrs
		return handle(&rec)
	}
	var cookie []byte
	for {
		next, err := conn.searchPage(req, r.src.PageSize, cookie, each)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("directory: search %s: %w", t.base, ctx.Err())
			}
			if t.scope == ldap.ScopeBaseObject && ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
				return fmt.Errorf("directory: search %s: base DN does not exist: %w", t.base, err)
			}
			return fmt.Errorf("directory: search %s: %w", t.base, err)
		}
		pageDone()
		if len(next) == 0 {
			return nil
		}
		cookie = next
	}
}

// key returns the record's stable key: entryUUID as the server writes it, or
// objectGUID in the registry format AD tools show (first three groups
// little-endian). The key is a string of its own: the run keeps it after the
// record is gone.
func (rec *ldapRecord) key(attr string) (string, error) {
	a := strings.ToLower(attr)
	if a == "objectguid" {
		vs := rec.Values(a)
		if len(vs) == 0 || len(vs[0]) != 16 {
			return "", errors.New("no 16-byte objectGUID")
		}
		b := vs[0]
		le := []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]}
		h := hex.EncodeToString(append(le, b[8:]...))
		return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
	}
	vs := rec.Values(a)
	if len(vs) == 0 || vs[0] == "" {
		return "", fmt.Errorf("no %s", attr)
	}
	return strings.Clone(strings.ToLower(vs[0])), nil
}
