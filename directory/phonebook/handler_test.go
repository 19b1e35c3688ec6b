package phonebook

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// manualDirectory fills an organisation's directory by hand: a folder per
// path and one contact per name, with a SIP address derived from the name.
func manualDirectory(t testing.TB, st *directory.Store, org string, contacts map[string][]string) {
	t.Helper()
	for path, names := range contacts {
		var parent *string
		for _, seg := range strings.Split(path, "/") {
			f, err := st.CreateFolder(ctxT(t), org, directory.Folder{Name: seg, ParentID: parent})
			if err != nil {
				// Exists already: find it.
				fs, _ := st.Folders(ctxT(t), org)
				for _, x := range fs {
					if x.Name == seg && ((x.ParentID == nil) == (parent == nil)) && (parent == nil || *x.ParentID == *parent) {
						f = x
					}
				}
			}
			id := f.ID
			parent = &id
		}
		for _, n := range names {
			_, err := st.CreateEntry(ctxT(t), org, directory.Entry{FolderID: parent, Kind: directory.KindPerson, DisplayName: n,
				Addresses: []directory.Address{{Kind: directory.AddressSIP, Value: "sip:" + strings.ReplaceAll(strings.ToLower(n), " ", ".") + "@example.org"}}})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

func searchResult(t *testing.T, e *env, token, body string) tmsResult {
	t.Helper()
	code, answer := e.soap(t, token, "Search", body)
	if code != 200 {
		t.Fatalf("HTTP %d\n%s", code, answer)
	}
	env := parseTMS(t, answer)
	if env.Body.Search == nil {
		t.Fatalf("no SearchResponse:\n%s", answer)
	}
	return env.Body.Search.Result
}

func names(r tmsResult) string {
	var out []string
	for _, c := range r.Catalogs {
		out = append(out, c.Name+"/")
	}
	for _, e := range r.Entries {
		out = append(out, e.Name)
	}
	return strings.Join(out, "|")
}

// TestTokensIsolateOrganisations shows that a token answers from its own
// organisation (and folder) only, and that unknown and revoked tokens get 404.
func TestTokensIsolateOrganisations(t *testing.T) {
	db := pgtest.New(t)
	st := directory.NewStore(db, nil)
	a, b := newOrg(t, db, "Alpha"), newOrg(t, db, "Beta")
	manualDirectory(t, st, a, map[string][]string{"Oslo": {"Alice Alpha", "Arne Alpha"}, "Bergen": {"Agnes Alpha"}})
	manualDirectory(t, st, b, map[string][]string{"Oslo": {"Bob Beta"}})
	e := newEnv(t, db, Config{})
	ta, tb := e.newToken(t, a, TokenInput{}), e.newToken(t, b, TokenInput{})
	tOslo := e.newToken(t, a, TokenInput{FolderPath: "Oslo"})

	if got := names(searchResult(t, e, ta, searchBody("", "a", 50, ""))); got != "Agnes Alpha|Alice Alpha|Arne Alpha" {
		t.Errorf("org A searching a: %q", got)
	}
	if got := names(searchResult(t, e, tb, searchBody("", "a", 50, ""))); got != "Bob Beta" {
		t.Errorf("org B searching a: %q", got)
	}
	if got := names(searchResult(t, e, tOslo, searchBody("", "a", 50, ""))); got != "Alice Alpha|Arne Alpha" {
		t.Errorf("A's Oslo token searching a: %q", got)
	}
	if got := names(searchResult(t, e, tOslo, searchBody("", "", 50, ""))); got != "Alice Alpha|Arne Alpha" {
		t.Errorf("A's Oslo token browsing its root: %q", got)
	}
	// A folder Id of another organisation, or outside the token's subtree,
	// does not exist for this token.
	bOslo := e.folderID(t, tb, "Oslo")
	if r := searchResult(t, e, ta, searchBody(bOslo, "", 50, "")); r.FolderExists != "false" || len(r.Entries) != 0 {
		t.Errorf("org A browsing org B's folder: exists %q, %q", r.FolderExists, names(r))
	}
	aBergen := e.folderID(t, ta, "Bergen")
	if r := searchResult(t, e, tOslo, searchBody(aBergen, "", 50, "")); r.FolderExists != "false" || len(r.Entries) != 0 {
		t.Errorf("the Oslo token browsing Bergen: exists %q, %q", r.FolderExists, names(r))
	}

	for _, tt := range []struct{ name, token string }{
		{"an unknown token", TokenPrefix + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"garbage", "..%2F..%2Fetc"},
	} {
		if code, _ := e.soap(t, tt.token, "Search", searchBody("", "", 50, "")); code != http.StatusNotFound {
			t.Errorf("%s: HTTP %d, want 404", tt.name, code)
		}
	}
	tok, err := e.tokens.List(ctxT(t), a)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range tok {
		if x.FolderPath == "" {
			if err := e.tokens.Revoke(ctxT(t), a, x.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, p := range []string{TMSPath, YealinkBookPath, YealinkDirPath, CiscoDirPath} {
		if code, _ := e.get(t, "/pb/"+ta+p); code != http.StatusNotFound {
			t.Errorf("revoked token, GET %s: HTTP %d, want 404", p, code)
		}
	}
	if code, _ := e.soap(t, ta, "Search", searchBody("", "", 50, "")); code != http.StatusNotFound {
		t.Errorf("revoked token: HTTP %d, want 404", code)
	}
	if code, _ := e.soap(t, tOslo, "Search", searchBody("", "", 50, "")); code != http.StatusOK {
		t.Errorf("the other token of the same organisation: HTTP %d, want 200", code)
	}
	// Another organisation cannot revoke A's token.
	if err := e.tokens.Revoke(ctxT(t), b, tok[0].ID); err == nil {
		t.Error("org B revoked a token of org A")
	}
}

// TestTMSRefusesBadInput sends malformed, oversized and hostile requests: each
// gets a SOAP Fault (or 4xx) and the server keeps answering.
func TestTMSRefusesBadInput(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Alpha")
	manualDirectory(t, directory.NewStore(db, nil), org, map[string][]string{"Oslo": {"Alice Alpha"}})
	e := newEnv(t, db, Config{})
	token := e.newToken(t, org, TokenInput{})
	env := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>%s</soap:Body></soap:Envelope>`
	wrap := func(s string) string { return strings.Replace(env, "%s", s, 1) }
	for _, tt := range []struct{ name, action, body string }{
		{"malformed XML", "Search", `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Search`},
		{"no envelope", "Search", `<Search xmlns="` + TMSNS + `"/>`},
		{"an empty body", "Search", wrap("")},
		{"an unknown operation", "ResolveSystem", wrap(`<ResolveSystem xmlns="` + TMSNS + `"/>`)},
		{"an operation of another namespace", "", wrap(`<Search xmlns="urn:other"/>`)},
		{"a SOAPAction that disagrees with the body", "GetPhonebooks", wrap(`<Search xmlns="` + TMSNS + `"/>`)},
		{"an internal entity (billion laughs)", "Search", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>` +
			wrap(`<Search xmlns="`+TMSNS+`"><SearchString>&lol2;</SearchString></Search>`)},
		{"an external entity", "Search", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
			wrap(`<Search xmlns="`+TMSNS+`"><SearchString>&xxe;</SearchString></Search>`)},
		{"an undeclared entity", "Search", wrap(`<Search xmlns="` + TMSNS + `"><SearchString>&xxe;</SearchString></Search>`)},
		{"a MaxResult that is not a number", "Search", wrap(`<Search xmlns="` + TMSNS + `"><MaxResult>lots</MaxResult></Search>`)},
		{"a body over 64 KiB", "Search", wrap(`<Search xmlns="` + TMSNS + `"><SearchString>` + strings.Repeat("a", 70<<10) + `</SearchString></Search>`)},
		{"a charset other than UTF-8", "Search", `<?xml version="1.0" encoding="UTF-16"?>` + wrap(`<Search xmlns="`+TMSNS+`"/>`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, answer := e.soap(t, token, tt.action, tt.body)
			if code != http.StatusInternalServerError {
				t.Fatalf("HTTP %d, want 500 with a Fault:\n%s", code, answer)
			}
			f := parseTMS(t, answer).Body.Fault
			if f == nil || f.Code != "soap:Client" || f.String == "" {
				t.Fatalf("no soap:Client Fault:\n%s", answer)
			}
			if strings.Contains(answer, "root:") {
				t.Fatalf("the answer carries a file's content")
			}
		})
	}
	// The service still answers, and every refused request was logged.
	if got := names(searchResult(t, e, token, searchBody("", "alice", 50, ""))); got != "Alice Alpha" {
		t.Errorf("after the bad requests: %q", got)
	}
	waitFor(t, "13 request log rows", func() bool {
		var n int
		_ = db.Get(&n, `SELECT count(*) FROM phonebook_requests WHERE organisation_id = $1`, org)
		return n == 13
	})
	var faults int
	if err := db.Get(&faults, `SELECT count(*) FROM phonebook_requests WHERE http_status = 500 AND error <> ''`); err != nil || faults != 12 {
		t.Errorf("%d logged faults (%v), want 12", faults, err)
	}
}

// TestTMSAcceptsEveryEnvelopeShape sends the same Search with different
// prefixes and SOAPAction forms.
func TestTMSAcceptsEveryEnvelopeShape(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Alpha")
	manualDirectory(t, directory.NewStore(db, nil), org, map[string][]string{"Oslo": {"Alice Alpha"}})
	e := newEnv(t, db, Config{})
	token := e.newToken(t, org, TokenInput{})
	search := `<Search xmlns="` + TMSNS + `"><SearchString>alice</SearchString></Search>`
	for _, tt := range []struct{ name, action, body string }{
		{"soap: prefix, quoted action", `"` + TMSNS + `Search"`, `<soap:Envelope xmlns:soap="` + SOAPEnvelopeNS + `"><soap:Body>` + search + `</soap:Body></soap:Envelope>`},
		{"SOAP-ENV: prefix, unquoted action", TMSNS + "Search", `<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + SOAPEnvelopeNS + `"><SOAP-ENV:Header/><SOAP-ENV:Body>` + search + `</SOAP-ENV:Body></SOAP-ENV:Envelope>`},
		{"default namespace envelope, no action", "", `<Envelope xmlns="` + SOAPEnvelopeNS + `"><Body>` + search + `</Body></Envelope>`},
		{"env: prefix, prefixed operation", `""`, `<env:Envelope xmlns:env="` + SOAPEnvelopeNS + `" xmlns:t="` + TMSNS + `"><env:Body><t:Search><t:SearchString>alice</t:SearchString></t:Search></env:Body></env:Envelope>`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", e.srv.URL+"/pb/"+token+TMSPath, strings.NewReader(tt.body))
			if tt.action != "" {
				req.Header.Set("SOAPAction", tt.action)
			}
			code, answer := do(t, req)
			if code != 200 {
				t.Fatalf("HTTP %d:\n%s", code, answer)
			}
			if r := parseTMS(t, answer).Body.Search; r == nil || names(r.Result) != "Alice Alpha" {
				t.Fatalf("answer:\n%s", answer)
			}
		})
	}
	code, page := e.get(t, "/pb/"+token+TMSPath)
	if code != 200 || !strings.Contains(page, "GetPhonebooks") {
		t.Errorf("GET help page: HTTP %d\n%s", code, page)
	}
}

// TestTMSPaging pages forwards and backwards through a folder with
// StartFromId/EndAtId, and continues after an item that vanished.
func TestTMSPaging(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Alpha")
	st := directory.NewStore(db, nil)
	manualDirectory(t, st, org, map[string][]string{"A": {"a1"}, "B": {"b1"}})
	var all []string
	for _, n := range []string{"Eve", "Dan", "Cid", "Bea", "Ada", "Åse", "Zoe"} {
		if _, err := st.CreateEntry(ctxT(t), org, directory.Entry{Kind: directory.KindPerson, DisplayName: n,
			Addresses: []directory.Address{{Kind: directory.AddressH323, Value: strings.ToLower(n)}}}); err != nil {
			t.Fatal(err)
		}
	}
	all = []string{"A/", "B/", "Ada", "Bea", "Cid", "Dan", "Eve", "Zoe", "Åse"}
	e := newEnv(t, db, Config{})
	token := e.newToken(t, org, TokenInput{})
	var got []string
	last := ""
	for page := 0; ; page++ {
		r := searchResult(t, e, token, searchBody("", "", 4, last))
		if r.NoOfEntries != len(all) {
			t.Fatalf("NoOfEntries = %d, want %d", r.NoOfEntries, len(all))
		}
		got = append(got, strings.Split(names(r), "|")...)
		if r.IsFirst != map[bool]string{true: "true", false: "false"}[page == 0] {
			t.Errorf("page %d IsFirst %q", page, r.IsFirst)
		}
		if len(r.Entries) > 0 {
			last = r.Entries[len(r.Entries)-1].ID
		}
		if r.IsLast == "true" {
			break
		}
		if page > 5 {
			t.Fatal("paging does not end")
		}
	}
	if strings.Join(got, "|") != strings.Join(all, "|") {
		t.Errorf("paged through %q, want %q", got, all)
	}
	// Backwards: the page that ends before Eve.
	var eve string
	for _, en := range searchResult(t, e, token, searchBody("", "eve", 50, "")).Entries {
		eve = en.ID
	}
	body := strings.Replace(searchBody("", "", 3, ""), "<RangeInclusive>", "<EndAtId>"+eve+"</EndAtId><RangeInclusive>", 1)
	if r := searchResult(t, e, token, body); names(r) != "Bea|Cid|Dan" || r.IsFirst != "false" || r.IsLast != "false" {
		t.Errorf("page ending before Eve: %q first %s last %s", names(r), r.IsFirst, r.IsLast)
	}
	// An H.323-only contact has one H323 route.
	r := searchResult(t, e, token, searchBody("", "ada", 50, ""))
	if len(r.Entries) != 1 || len(r.Entries[0].Routes) != 1 || r.Entries[0].Routes[0].Protocol != "H323" ||
		r.Entries[0].Routes[0].Description != "ada (H.323)" || r.Entries[0].Routes[0].CallType != "Video" {
		t.Errorf("Ada's routes: %+v", r.Entries)
	}
	// Cid vanishes between two pages: the next page starts after where Cid was.
	var cid, cidEntry string
	for _, en := range searchResult(t, e, token, searchBody("", "cid", 50, "")).Entries {
		cid, cidEntry = en.ID, strings.TrimPrefix(en.ID, "e_")
	}
	if err := st.DeleteEntry(ctxT(t), org, cidEntry); err != nil {
		t.Fatal(err)
	}
	e.cache.Invalidate(org)
	waitFor(t, "the book without Cid", func() bool {
		r := searchResult(t, e, token, searchBody("", "cid", 50, ""))
		return len(r.Entries) == 0
	})
	if r := searchResult(t, e, token, searchBody("", "", 2, cid)); names(r) != "Dan|Eve" {
		t.Errorf("after vanished Cid: %q", names(r))
	}
}

// TestRequestLogRecordsTheEndpoint checks the logged fields of a Search.
func TestRequestLogRecordsTheEndpoint(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Nordfjord Kraft AS")
	manualDirectory(t, directory.NewStore(db, nil), org, map[string][]string{"Rooms": {"Oslo Berg"}})
	e := newEnv(t, db, Config{})
	token := e.newToken(t, org, TokenInput{})
	raw, err := os.ReadFile(filepath.Join(fixtureDir, "soap", "requests", "search-string-berg.xml"))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/pb/"+token+TMSPath, strings.NewReader(string(raw)))
	req.Header.Set("SOAPAction", `"`+TMSNS+`Search"`)
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	if code, body := do(t, req); code != 200 {
		t.Fatalf("HTTP %d %s", code, body)
	}
	if code, _ := e.get(t, "/pb/"+token+YealinkDirPath+"?q=berg"); code != 200 {
		t.Fatal(code)
	}
	waitFor(t, "two request log rows", func() bool {
		var n int
		_ = db.Get(&n, `SELECT count(*) FROM phonebook_requests`)
		return n == 2
	})
	var row struct {
		Protocol, Operation, ClientIP, ForwardedFor, ReportedIP, SearchString, SystemName, MAC, ProductID, SWVersion, Serial string
		Count, Total, Status                                                                                                 int
		Token                                                                                                                *string
		Duration                                                                                                             int64
	}
	err = db.QueryRow(`SELECT protocol, operation, client_ip, forwarded_for, reported_ip, search_string, system_name, mac_address,
		product_id, sw_version, serial_number, result_count, total, http_status, token_id, duration_us
		FROM phonebook_requests WHERE protocol = 'tms'`).Scan(&row.Protocol, &row.Operation, &row.ClientIP, &row.ForwardedFor,
		&row.ReportedIP, &row.SearchString, &row.SystemName, &row.MAC, &row.ProductID, &row.SWVersion, &row.Serial,
		&row.Count, &row.Total, &row.Status, &row.Token, &row.Duration)
	if err != nil {
		t.Fatal(err)
	}
	if row.Operation != "Search" || row.ClientIP != "127.0.0.1" || row.ForwardedFor != "198.51.100.7" || row.ReportedIP != "10.50.3.44" ||
		row.SearchString != "berg" || row.SystemName != "Stockholm-Skeppsholmen" || row.MAC != "34:ed:1b:9a:20:5f" ||
		row.ProductID != "Cisco Webex Desk Pro" || row.SWVersion != "ce11.9.2.4b5e9e1c0b3" || row.Serial != "FOC2437N0ZX" ||
		row.Count != 1 || row.Total != 1 || row.Status != 200 || row.Token == nil || row.Duration <= 0 {
		t.Errorf("logged row: %+v", row)
	}
	var ua string
	if err := db.Get(&ua, `SELECT user_agent FROM phonebook_requests WHERE protocol = 'yealink'`); err != nil || !strings.HasPrefix(ua, "Go-http-client") {
		t.Errorf("yealink row user agent %q (%v)", ua, err)
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBareTMSPath serves the plain TMS path for the configured organisation.
func TestBareTMSPath(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Alpha")
	manualDirectory(t, directory.NewStore(db, nil), org, map[string][]string{"Oslo": {"Alice Alpha"}})
	e := newEnv(t, db, Config{BareTMSOrganisation: "alpha"})
	req, _ := http.NewRequest("POST", e.srv.URL+TMSPath, strings.NewReader(searchBody("", "alice", 50, "")))
	req.Header.Set("SOAPAction", TMSNS+"Search")
	code, body := do(t, req)
	if r := parseTMS(t, body).Body.Search; code != 200 || r == nil || names(r.Result) != "Alice Alpha" {
		t.Fatalf("HTTP %d\n%s", code, body)
	}
	off := newEnv(t, db, Config{})
	if code, _ := off.get(t, TMSPath); code != http.StatusNotFound {
		t.Errorf("without the setting, the bare path answers HTTP %d", code)
	}
}

// TestTokenCache keeps resolved tokens for a while; revoking through the same
// store stops the token at once, through another one within the cache time.
func TestTokenCache(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Alpha")
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	ts := NewTokens(db, clk.Now).CacheFor(5 * time.Second)
	other := NewTokens(db, clk.Now)
	tok1, s1, err := ts.Create(ctxT(t), org, TokenInput{}, "")
	if err != nil {
		t.Fatal(err)
	}
	tok2, s2, _ := ts.Create(ctxT(t), org, TokenInput{}, "")
	for _, s := range []string{s1, s2} {
		if _, err := ts.Resolve(ctxT(t), s); err != nil {
			t.Fatal(err)
		}
	}
	if err := other.Revoke(ctxT(t), org, tok1.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Resolve(ctxT(t), s1); err != nil {
		t.Errorf("within the cache time a token revoked elsewhere still resolves from the cache: %v", err)
	}
	// Past half the cache time one request looks the token up again; while
	// it does, the others answer from the cache, without waiting for it.
	clk.Add(3 * time.Second)
	ts.mu.Lock()
	h := hashSecret(s1)
	ts.cache[string(h[:])].refreshing = true
	ts.mu.Unlock()
	if _, err := ts.Resolve(ctxT(t), s1); err != nil {
		t.Errorf("while another request refreshes the entry, the token does not resolve from the cache: %v", err)
	}
	ts.mu.Lock()
	ts.cache[string(h[:])].refreshing = false
	ts.mu.Unlock()
	if _, err := ts.Resolve(ctxT(t), s1); !errors.Is(err, ErrNotFound) {
		t.Errorf("the request that refreshes the entry of a token revoked elsewhere: %v, want ErrNotFound", err)
	}
	if _, err := ts.Resolve(ctxT(t), s2); err != nil {
		t.Errorf("a live token past half the cache time: %v", err)
	}
	clk.Add(6 * time.Second)
	if _, err := ts.Resolve(ctxT(t), s1); err == nil {
		t.Error("after the cache time the token revoked elsewhere still resolves")
	}
	if err := ts.Revoke(ctxT(t), org, tok2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Resolve(ctxT(t), s2); err == nil {
		t.Error("a token revoked through the same store still resolves")
	}
}
