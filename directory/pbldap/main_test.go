package pbldap

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/directory/phonebook"
	"github.com/bifrost-video/bifrost/internal/slapdtest"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fixtureDir is the shared directory test data.
var fixtureDir = func() string {
	for _, d := range []string{filepath.Join("..", "..", "..", "shared", "testdata", "directory"),
		filepath.Join("..", "..", "..", "..", "shared", "testdata", "directory"), "/work/shared/testdata/directory"} {
		if _, err := os.Stat(filepath.Join(d, "PROTOCOLS.md")); err == nil {
			return d
		}
	}
	return "/work/shared/testdata/directory"
}()

var testKey = []byte("0123456789abcdef0123456789abcdef")

// Tokens of the fixture's Authenticator.
const (
	tokenA     = "token-org-a"      // Nordfjord, whole phonebook
	tokenAOslo = "token-org-a-oslo" // Nordfjord, People/Oslo only
	tokenB     = "token-org-b"      // a second organisation
)

// fixture is a PostgreSQL directory synced from nordfjord-small.ldif through
// a scratch slapd, a second organisation with one entry, and an LDAP server
// over both.
type fixture struct {
	db         *sqlx.DB
	store      *directory.Store
	orgA, orgB string
	srv        *Server
	url        string
	// books is what srv answers from (phonebook.Cache over store), as
	// serve runs it; newStoreFixture's server reads the store instead.
	books Books

	mu   sync.Mutex
	logs []RequestLog
}

func newOrg(t testing.TB, db *sqlx.DB, name string) string {
	t.Helper()
	var id string
	if err := db.Get(&id, `INSERT INTO organisations (name) VALUES ($1) RETURNING id`, name); err != nil {
		t.Fatal(err)
	}
	return id
}

// newFixture is the fixture with a server that answers from the
// phonebook's books in memory, as serve runs it.
func newFixture(t *testing.T) *fixture { t.Helper(); return newFixtureOf(t, true) }

// newStoreFixture is the fixture with a server that asks the store for
// every search (Options.Directory without Books).
func newStoreFixture(t *testing.T) *fixture { t.Helper(); return newFixtureOf(t, false) }

func newFixtureOf(t *testing.T, books bool) *fixture {
	t.Helper()
	sl := slapdtest.Start(t)
	sl.LDAPAdd(filepath.Join(fixtureDir, "ldap", "nordfjord-small.ldif"))
	db := pgtest.New(t)
	f := &fixture{db: db, store: directory.NewStore(db, nil)}
	ctx := context.Background()
	f.orgA = newOrg(t, db, "Nordfjord Kraft AS")
	f.orgB = newOrg(t, db, "Other Org")
	src, err := f.store.CreateSource(ctx, f.orgA, directory.SourceInput{
		Source: directory.Source{Name: "Nordfjord", URL: sl.URL,
			BindDN:  "uid=svc-videosync,ou=Service Accounts," + slapdtest.Suffix,
			BaseDNs: []string{"ou=People," + slapdtest.Suffix, "ou=Rooms," + slapdtest.Suffix},
			Filter:  "(&(objectClass=inetOrgPerson)(labeledURI=*))",
			Folders: directory.FolderMapping{Mode: "ou", Root: slapdtest.Suffix}},
		BindPassword: "videosync-test-only"}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := directory.NewSyncer(f.store, testKey, nil).Run(ctx, f.orgA, src.ID, directory.SyncOptions{}); err != nil {
		t.Fatalf("sync: %v", err)
	}
	// Org B: one entry whose name also matches "berg", and one unpublished.
	if _, err := f.store.CreateEntry(ctx, f.orgB, directory.Entry{DisplayName: "Bergljot Secret",
		Addresses: []directory.Address{{Kind: directory.AddressSIP, Value: "bergljot@other.example"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.CreateEntry(ctx, f.orgB, directory.Entry{DisplayName: "Berit Unpublished",
		Addresses: []directory.Address{{Kind: directory.AddressTel, Label: "phone", Value: "+47 1"}}}); err != nil {
		t.Fatal(err)
	}
	var oslo string
	if err := db.Get(&oslo, `SELECT f.id FROM directory_folders f JOIN directory_folders p ON f.parent_id = p.id
		WHERE f.organisation_id = $1 AND f.name = 'Oslo' AND p.name = 'People'`, f.orgA); err != nil {
		t.Fatal(err)
	}
	scopes := map[string]Scope{
		tokenA:     {OrganisationID: f.orgA, TokenID: "a"},
		tokenAOslo: {OrganisationID: f.orgA, FolderID: &oslo, TokenID: "a-oslo"},
		tokenB:     {OrganisationID: f.orgB, TokenID: "b"},
	}
	auth := AuthenticatorFunc(func(_ context.Context, _, password string) (Scope, error) {
		if sc, ok := scopes[password]; ok {
			return sc, nil
		}
		return Scope{}, ErrInvalidCredentials
	})
	opts := Options{Directory: f.store, Authenticator: auth,
		Log: func(l RequestLog) { f.mu.Lock(); f.logs = append(f.logs, l); f.mu.Unlock() }}
	if books {
		cache := phonebook.NewCache(phonebook.StoreLoader(f.store), phonebook.VersionOf(f.store), time.Minute, nil, nil)
		t.Cleanup(func() { _ = cache.Close() })
		f.books, opts.Books, opts.Directory = cache, cache, nil
	}
	f.srv = startServer(t, Config{}, opts)
	f.url = "ldap://" + f.srv.Addr().String()
	return f
}

// startServer starts a server on a free loopback port, closed when the test ends.
func startServer(t testing.TB, cfg Config, opts Options) *Server {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	srv, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// ldapResult is what ldapsearch printed and its exit code, which is the
// LDAP result code.
type ldapResult struct {
	code    int
	entries []map[string][]string // attribute (lower case) → values
	stderr  string
}

// names returns the displayName of every entry, sorted by code point of the
// lower-case name (the TSV's order).
func (r ldapResult) names() []string {
	var out []string
	for _, e := range r.entries {
		if v := e["displayname"]; len(v) > 0 {
			out = append(out, v[0])
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}

// ldapsearch runs Debian's ldapsearch against url.
func ldapsearch(t *testing.T, url string, args ...string) ldapResult {
	t.Helper()
	slapdtest.Need(t, "ldapsearch", "ldapsearch")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ldapsearch", append([]string{"-x", "-LLL", "-o", "ldif-wrap=no", "-H", url}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := ldapResult{stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("ldapsearch: %v", err)
	}
	res.entries = parseLDIF(t, stdout.String())
	return res
}

// parseLDIF reads ldapsearch -LLL output (unwrapped; values base64 after ::).
func parseLDIF(t *testing.T, s string) []map[string][]string {
	t.Helper()
	var out []map[string][]string
	var cur map[string][]string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			cur = nil
			continue
		}
		if strings.HasPrefix(line, " ") || !strings.Contains(line, ":") {
			t.Fatalf("unexpected LDIF line %q", line)
		}
		name, val, _ := strings.Cut(line, ":")
		if strings.HasPrefix(val, ":") {
			b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(val[1:]))
			if err != nil {
				t.Fatalf("LDIF line %q: %v", line, err)
			}
			val = string(b)
		} else {
			val = strings.TrimPrefix(val, " ")
		}
		if cur == nil {
			cur = map[string][]string{}
			out = append(out, cur)
		}
		cur[strings.ToLower(name)] = append(cur[strings.ToLower(name)], val)
	}
	return out
}
