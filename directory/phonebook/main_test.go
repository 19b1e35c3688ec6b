package phonebook

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/internal/slapdtest"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fixtureDir is the shared directory test data (PROTOCOLS.md, LDIF, expected files).
var fixtureDir = "/work/shared/testdata/directory"

func init() {
	// The worktree layouts sit at different depths below /work/shared.
	for _, d := range []string{
		filepath.Join("..", "..", "..", "shared", "testdata", "directory"),
		filepath.Join("..", "..", "..", "..", "shared", "testdata", "directory"),
	} {
		if _, err := os.Stat(filepath.Join(d, "PROTOCOLS.md")); err == nil {
			fixtureDir = d
			return
		}
	}
}

var testKey = []byte("0123456789abcdef0123456789abcdef")

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// newOrg creates an organisation and returns its ID.
func newOrg(t testing.TB, db *sqlx.DB, name string) string {
	t.Helper()
	var id string
	if err := db.Get(&id, `INSERT INTO organisations (name) VALUES ($1) RETURNING id`, name); err != nil {
		t.Fatal(err)
	}
	return id
}

// syncFixture fills org's directory from nordfjord-small.ldif through a
// scratch slapd and the directory's own sync (PROTOCOLS.md §6).
func syncFixture(t testing.TB, db *sqlx.DB, org string) {
	t.Helper()
	sl := slapdtest.New(t)
	sl.Slapadd(filepath.Join(fixtureDir, "ldap", "nordfjord-small.ldif"))
	sl.Start()
	st := directory.NewStore(db, nil)
	src, err := st.CreateSource(ctxT(t), org, directory.SourceInput{
		Source: directory.Source{
			Name:    "Nordfjord AD",
			URL:     sl.URL,
			BindDN:  "uid=svc-videosync,ou=Service Accounts," + slapdtest.Suffix,
			BaseDNs: []string{"ou=People," + slapdtest.Suffix, "ou=Rooms," + slapdtest.Suffix},
			Filter:  "(&(objectClass=inetOrgPerson)(labeledURI=*))",
			Folders: directory.FolderMapping{Mode: "ou", Root: slapdtest.Suffix},
		},
		BindPassword: "videosync-test-only",
	}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := directory.NewSyncer(st, testKey, nil).Run(ctxT(t), org, src.ID, directory.SyncOptions{})
	if err != nil {
		t.Fatalf("sync: %v (%+v)", err, rep)
	}
	if rep.Added != 19 {
		t.Fatalf("sync added %d entries, want 19: %+v", rep.Added, rep)
	}
}

// testLogger logs through t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// env is a phonebook HTTP server over a PostgreSQL directory.
type env struct {
	db     *sqlx.DB
	tokens *Tokens
	cache  *Cache
	log    *RequestLog
	srv    *httptest.Server
}

func newEnv(t testing.TB, db *sqlx.DB, cfg Config) *env {
	t.Helper()
	e := &env{db: db, tokens: NewTokens(db, nil)}
	st := directory.NewStore(db, nil)
	e.cache = NewCache(StoreLoader(st), VersionOf(st), time.Minute, nil, nil)
	e.log = NewRequestLog(db, RequestLogConfig{FlushInterval: 20 * time.Millisecond}, nil)
	e.srv = httptest.NewServer(NewServer(cfg, Deps{Tokens: e.tokens, Cache: e.cache, Log: e.log, Logger: testLogger(t)}).Handler())
	t.Cleanup(func() {
		e.srv.Close()
		_ = e.log.Close()
		_ = e.cache.Close()
	})
	return e
}

func (e *env) newToken(t testing.TB, org string, in TokenInput) string {
	t.Helper()
	_, secret, err := e.tokens.Create(ctxT(t), org, in, "")
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// soap posts a SOAP body to the token's TMS URL.
func (e *env) soap(t testing.TB, token, action, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+"/pb/"+token+TMSPath, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if action != "" {
		req.Header.Set("SOAPAction", `"`+TMSNS+action+`"`)
	}
	return do(t, req)
}

func (e *env) get(t testing.TB, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// The TMS answer as a test reads it.
type tmsEnvelope struct {
	Body struct {
		Search *struct {
			Result tmsResult `xml:"SearchResult"`
		} `xml:"SearchResponse"`
		Get *struct {
			Result tmsResult `xml:"GetPhonebooksResult"`
		} `xml:"GetPhonebooksResponse"`
		Fault *struct {
			Code   string `xml:"faultcode"`
			String string `xml:"faultstring"`
		} `xml:"Fault"`
	} `xml:"Body"`
}

type tmsResult struct {
	Name         string       `xml:"Name"`
	ID           string       `xml:"Id"`
	Catalogs     []tmsCatalog `xml:"Catalog"`
	Entries      []tmsEntry   `xml:"Entry"`
	IsLast       string       `xml:"IsLast"`
	IsFirst      string       `xml:"IsFirst"`
	NoOfEntries  int          `xml:"NoOfEntries"`
	FolderExists string       `xml:"FolderExists"`
}

type tmsCatalog struct {
	Name        string     `xml:"Name"`
	ID          string     `xml:"Id"`
	NoOfEntries int        `xml:"NoOfEntries"`
	Entries     []tmsEntry `xml:"Entry"`
	IsFirst     string     `xml:"IsFirst"`
	IsLast      string     `xml:"IsLast"`
}

type tmsEntry struct {
	Name    string     `xml:"Name"`
	ID      string     `xml:"Id"`
	Routes  []tmsRoute `xml:"Route"`
	IsLast  string     `xml:"IsLast"`
	IsFirst string     `xml:"IsFirst"`
}

type tmsRoute struct {
	CallType    string `xml:"CallType"`
	Protocol    string `xml:"Protocol"`
	Restrict    string `xml:"Restrict"`
	DialString  string `xml:"DialString"`
	Description string `xml:"Description"`
}

func parseTMS(t testing.TB, body string) tmsEnvelope {
	t.Helper()
	var env tmsEnvelope
	if err := xml.NewDecoder(bytes.NewReader([]byte(body))).Decode(&env); err != nil {
		t.Fatalf("answer does not parse: %v\n%s", err, body)
	}
	return env
}

// browseBody is a Search request browsing a folder.
func searchBody(path, text string, max int, startFrom string) string {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>` +
		`<Search xmlns="http://www.tandberg.net/2004/06/PhoneBookSearch/"><Identification><SystemName>test</SystemName></Identification>` +
		`<CaseSensitiveSearch>false</CaseSensitiveSearch><SearchPath>`)
	_ = xml.EscapeText(&b, []byte(path))
	b.WriteString(`</SearchPath><SearchString>`)
	_ = xml.EscapeText(&b, []byte(text))
	b.WriteString(`</SearchString><SearchType>Free</SearchType><Scope>SubTree</Scope><MaxResult>` + itoa(max) + `</MaxResult>`)
	if startFrom != "" {
		b.WriteString(`<StartFromId>` + startFrom + `</StartFromId>`)
	}
	b.WriteString(`<RangeInclusive>false</RangeInclusive></Search></soap:Body></soap:Envelope>`)
	return b.String()
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// folderID browses from the root to the folder path and returns its Id.
func (e *env) folderID(t testing.TB, token, path string) string {
	t.Helper()
	id := ""
	for _, name := range strings.Split(path, "/") {
		code, body := e.soap(t, token, "Search", searchBody(id, "", 1000, ""))
		if code != 200 {
			t.Fatalf("browse %q: HTTP %d", id, code)
		}
		found := ""
		for _, c := range parseTMS(t, body).Body.Search.Result.Catalogs {
			if c.Name == name {
				found = c.ID
			}
		}
		if found == "" {
			t.Fatalf("no folder %q while browsing to %q", name, path)
		}
		id = found
	}
	return id
}
