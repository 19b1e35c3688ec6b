package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/directory/phonebook"
	"github.com/bifrost-video/bifrost/webadmin"
)

// newPhonebookEnv is newDirEnv with the phonebook feature mounted too.
func newPhonebookEnv(t *testing.T) (*dirEnv, *phonebookRuntime) {
	t.Helper()
	e, rt, _ := newPhonebookEnvLog(t)
	return e, rt
}

// newPhonebookEnvLog is newPhonebookEnv that also returns the admin's log.
func newPhonebookEnvLog(t *testing.T) (*dirEnv, *phonebookRuntime, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	e := newDirEnv(t)
	cfg := defaultConfig()
	cfg.HTTP.PublicURL = "https://video.example"
	rt := newPhonebook(e.db, cfg, nil)
	t.Cleanup(rt.close)
	feats := []webadmin.Feature{directoryFeature(e.db, func() ([]byte, error) { return testSecretKey, nil }, nil), rt.feature()}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rt.server = phonebook.NewServer(phonebook.Config{}, phonebook.Deps{Tokens: rt.tokens, Cache: rt.cache, Log: rt.log, Logger: logger})
	feats[1] = rt.feature()
	e.h = webadmin.New(webadmin.DefaultConfig(), webadmin.Deps{DB: e.db, Features: feats, Logger: logger}).Handler()
	return e, rt, logs
}

// TestPhonebookTokensStayOutOfLogs checks the admin's access log and the
// phonebook's own log lines after good and bad requests.
func TestPhonebookTokensStayOutOfLogs(t *testing.T) {
	t.Parallel()
	e, _, logs := newPhonebookEnvLog(t)
	_, m, _ := e.do(t, e.adminA, "POST", "/api/v1/phonebook/tokens", map[string]any{})
	secret := m["links"].(map[string]any)["token"].(string)
	for _, p := range []string{"/pb/" + secret + phonebook.TMSPath, "/pb/" + secret + phonebook.YealinkBookPath, "/pb/" + secret + "/nothing/here"} {
		if code, _ := soapVia(t, e.h, p); code >= 500 && code != 500 {
			t.Fatal(code)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, httptest.NewRequest("GET", p, nil))
	}
	bad := phonebook.TokenPrefix + "unknownunknownunknownunknownunknownunknown1"
	soapVia(t, e.h, "/pb/"+bad+phonebook.TMSPath)
	out := logs.String()
	if !strings.Contains(out, "/pb/{token}"+phonebook.TMSPath) {
		t.Errorf("the access log lacks the redacted path:\n%s", out)
	}
	if strings.Contains(out, secret) || strings.Contains(out, bad) {
		t.Errorf("a token is in the log:\n%s", out)
	}
}

const pbSearchBody = `<?xml version="1.0" encoding="utf-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Body>` +
	`<Search xmlns="http://www.tandberg.net/2004/06/PhoneBookSearch/"><Identification><SystemName>Oslo-Fjordsalen</SystemName>` +
	`<MACAddress>08:96:AD:3C:11:07</MACAddress><ProductID>Cisco TelePresence SX80</ProductID><SWVersion>ce9.15.3</SWVersion></Identification>` +
	`<SearchString>anne</SearchString><MaxResult>50</MaxResult></Search></env:Body></env:Envelope>`

// soapVia posts a Search to a phonebook URL through the admin's handler, as
// an endpoint does (no cookie, no Origin).
func soapVia(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(pbSearchBody))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", `"http://www.tandberg.net/2004/06/PhoneBookSearch/Search"`)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// TestPhonebookAPI creates, uses and revokes a token through the REST API and
// reads the request log and the endpoint view; another organisation sees none
// of it.
func TestPhonebookAPI(t *testing.T) {
	t.Parallel()
	e, _ := newPhonebookEnv(t)
	st := directory.NewStore(e.db, nil)
	if _, err := st.CreateEntry(context.Background(), e.orgA, directory.Entry{Kind: directory.KindPerson, DisplayName: "Anne Berg",
		Addresses: []directory.Address{{Kind: directory.AddressSIP, Value: "sip:anne.berg@example.org"}}}); err != nil {
		t.Fatal(err)
	}

	code, m, body := e.do(t, e.adminA, "POST", "/api/v1/phonebook/tokens", map[string]any{"name": "Lobby"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	links := m["links"].(map[string]any)
	secret := links["token"].(string)
	id := m["id"].(string)
	if !strings.HasPrefix(secret, phonebook.TokenPrefix) || links["tms_url"] != "https://video.example/pb/"+secret+phonebook.TMSPath ||
		links["ldap"].(map[string]any)["password"] != secret {
		t.Errorf("create answer: %s", body)
	}
	if code, _, _ := e.do(t, e.viewA, "POST", "/api/v1/phonebook/tokens", map[string]any{"name": "x"}); code != http.StatusForbidden {
		t.Errorf("a viewer created a token: %d", code)
	}
	if code, m, _ := e.do(t, e.adminA, "POST", "/api/v1/phonebook/tokens", map[string]any{"folder_path": "Nowhere"}); code != http.StatusNotFound || errField(m) != "folder_path" {
		t.Errorf("a token for a missing folder: %d %v", code, m)
	}
	if code, _, body := e.do(t, e.adminA, "GET", "/api/v1/phonebook/tokens", nil); code != 200 || strings.Contains(body, secret) || !strings.Contains(body, "Lobby") {
		t.Errorf("list: %d %s", code, body)
	}

	// An endpoint uses the token through the admin's HTTP server.
	code, answer := soapVia(t, e.h, "/pb/"+secret+phonebook.TMSPath)
	if code != 200 || !strings.Contains(answer, "<Name>Anne Berg</Name>") {
		t.Fatalf("TMS Search through the admin server: %d %s", code, answer)
	}
	var items []any
	waitFor(t, "the request in the log", 10*time.Second, func() bool {
		_, m, _ := e.do(t, e.adminA, "GET", "/api/v1/phonebook/requests?protocol=tms", nil)
		items, _ = m["items"].([]any)
		return len(items) == 1
	})
	row := items[0].(map[string]any)
	if row["system_name"] != "Oslo-Fjordsalen" || row["mac_address"] != "08:96:ad:3c:11:07" || row["search_string"] != "anne" || row["result_count"].(float64) != 1 {
		t.Errorf("logged request: %v", row)
	}
	if code, m, _ := e.do(t, e.adminA, "GET", "/api/v1/phonebook/requests?since=yesterday", nil); code != 400 || errField(m) != "since" {
		t.Errorf("a bad since: %d %v", code, m)
	}
	_, m, _ = e.do(t, e.adminA, "GET", "/api/v1/phonebook/endpoints", nil)
	if eps, _ := m["items"].([]any); len(eps) != 1 || eps[0].(map[string]any)["sw_version"] != "ce9.15.3" {
		t.Errorf("endpoints: %v", m)
	}
	_, m, _ = e.do(t, e.adminA, "GET", "/api/v1/phonebook/search?q=ANNE", nil)
	if it, _ := m["items"].([]any); len(it) != 1 || it[0].(map[string]any)["name"] != "Anne Berg" {
		t.Errorf("search: %v", m)
	}

	// Organisation B sees nothing of A's and cannot revoke A's token.
	for _, p := range []string{"/api/v1/phonebook/tokens", "/api/v1/phonebook/requests", "/api/v1/phonebook/endpoints", "/api/v1/phonebook/search?q=anne"} {
		_, m, _ := e.do(t, e.adminB, "GET", p, nil)
		if it, _ := m["items"].([]any); len(it) != 0 {
			t.Errorf("B reading %s: %v", p, m)
		}
	}
	if code, _, _ := e.do(t, e.adminB, "DELETE", "/api/v1/phonebook/tokens/"+id, nil); code != http.StatusNotFound {
		t.Errorf("B revoking A's token: %d", code)
	}
	if code, _, body := e.do(t, e.adminA, "DELETE", "/api/v1/phonebook/tokens/"+id, nil); code != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if code, _ := soapVia(t, e.h, "/pb/"+secret+phonebook.TMSPath); code != http.StatusNotFound {
		t.Errorf("revoked token: %d", code)
	}
	var audited int
	if err := e.db.Get(&audited, `SELECT count(*) FROM audit_log WHERE action LIKE 'phonebook_token.%' AND actor_kind = 'token'`); err != nil || audited != 2 {
		t.Errorf("%d audited token changes by the API token (%v), want 2", audited, err)
	}
}

// TestPhonebookPages works the admin pages as a browser: the secret shows
// once on creation, the log and endpoint pages show the request, a viewer
// cannot create.
func TestPhonebookPages(t *testing.T) {
	t.Parallel()
	e, _ := newPhonebookEnv(t)
	admin, viewer := e.session(t, e.orgA, webadmin.RoleAdmin), e.session(t, e.orgA, webadmin.RoleViewer)
	rec := e.page(t, admin, "POST", "/admin/phonebook/tokens", url.Values{"name": {"Front <desk>"}})
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), "shown only this once") || strings.Contains(rec.Body.String(), "Front <desk>") {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	secret := regexpToken.FindString(rec.Body.String())
	if secret == "" {
		t.Fatalf("no token on the created page: %s", rec.Body)
	}
	rec = e.page(t, admin, "GET", "/admin/phonebook/", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Front &lt;desk&gt;") || strings.Contains(rec.Body.String(), secret) {
		t.Errorf("tokens page: %d %s", rec.Code, rec.Body)
	}
	if rec := e.page(t, admin, "POST", "/admin/phonebook/tokens", url.Values{"folder_path": {"Nowhere"}}); rec.Code != http.StatusBadRequest {
		t.Errorf("a missing folder: %d", rec.Code)
	}
	if rec := e.page(t, viewer, "POST", "/admin/phonebook/tokens", url.Values{"name": {"x"}}); rec.Code != http.StatusForbidden {
		t.Errorf("viewer create: %d", rec.Code)
	}
	if code, _ := soapVia(t, e.h, "/pb/"+secret+phonebook.TMSPath); code != 200 {
		t.Fatalf("TMS: %d", code)
	}
	waitFor(t, "the request on the log page", 10*time.Second, func() bool {
		rec := e.page(t, viewer, "GET", "/admin/phonebook/requests?protocol=tms&endpoint=fjordsalen", nil)
		return rec.Code == 200 && strings.Contains(rec.Body.String(), "Oslo-Fjordsalen")
	})
	rec = e.page(t, viewer, "GET", "/admin/phonebook/endpoints", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "Cisco TelePresence SX80 ce9.15.3: 1") {
		t.Errorf("endpoints page: %d %s", rec.Code, rec.Body)
	}
	var tokID string
	if err := e.db.Get(&tokID, `SELECT id FROM phonebook_tokens WHERE organisation_id = $1`, e.orgA); err != nil {
		t.Fatal(err)
	}
	if rec := e.page(t, admin, "POST", "/admin/phonebook/tokens/"+tokID+"/revoke", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("revoke: %d", rec.Code)
	}
	if code, _ := soapVia(t, e.h, "/pb/"+secret+phonebook.TMSPath); code != http.StatusNotFound {
		t.Errorf("revoked: %d", code)
	}
}

// TestPhonebookOpenAPI checks that every API route of the feature is in the
// served OpenAPI document.
func TestPhonebookOpenAPI(t *testing.T) {
	t.Parallel()
	e, rt := newPhonebookEnv(t)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range rt.feature().Routes {
		method, path, _ := strings.Cut(r.Pattern, " ")
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		if _, ok := doc.Paths[strings.TrimPrefix(path, "/api/v1")][strings.ToLower(method)]; !ok {
			t.Errorf("%s is not in the OpenAPI document", r.Pattern)
		}
	}
}

var regexpToken = regexp.MustCompile(`pbk_[A-Za-z0-9_-]{43}`)
