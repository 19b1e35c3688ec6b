package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
	"github.com/bifrost-video/bifrost/webadmin"
)

// dirEnv is a web admin with the directory feature and two organisations:
// an admin and a viewer token of A, an admin token of B.
type dirEnv struct {
	db                    *sqlx.DB
	h                     http.Handler
	orgA, orgB            string
	adminA, viewA, adminB string // bearer tokens
}

var testSecretKey = bytes.Repeat([]byte{7}, 32)

func newDirEnv(t *testing.T) *dirEnv {
	t.Helper()
	db := pgtest.New(t)
	ctx := context.Background()
	store := webadmin.NewStore(db, nil)
	e := &dirEnv{db: db}
	for _, o := range []struct {
		name  string
		id    *string
		roles map[webadmin.Role]*string
	}{
		{"Acme", &e.orgA, map[webadmin.Role]*string{webadmin.RoleAdmin: &e.adminA, webadmin.RoleViewer: &e.viewA}},
		{"Beta", &e.orgB, map[webadmin.Role]*string{webadmin.RoleAdmin: &e.adminB}},
	} {
		org, err := store.CreateOrganisation(ctx, o.name)
		if err != nil {
			t.Fatal(err)
		}
		*o.id = org.ID
		for role, into := range o.roles {
			_, secret, err := store.CreateToken(ctx, org.ID, webadmin.TokenInput{Name: "t-" + string(role), Role: role}, "")
			if err != nil {
				t.Fatal(err)
			}
			*into = secret
		}
	}
	feat := directoryFeature(db, func() ([]byte, error) { return testSecretKey, nil }, nil)
	e.h = webadmin.New(webadmin.DefaultConfig(), webadmin.Deps{DB: db, Features: []webadmin.Feature{feat}}).Handler()
	return e
}

// do sends an API request with a bearer token and returns the status and the
// decoded JSON answer (nil for none).
func (e *dirEnv) do(t *testing.T, token, method, path string, body any) (int, map[string]any, string) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	var m map[string]any
	if rec.Body.Len() > 0 && strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, rec.Body)
		}
	}
	return rec.Code, m, rec.Body.String()
}

func errField(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

// TestDirectoryAPI walks folders and entries through the REST API as an admin
// and a viewer: create, conflict, search with paging, change, delete, each
// change audited with the token as actor.
func TestDirectoryAPI(t *testing.T) {
	t.Parallel()
	e := newDirEnv(t)

	st, f, body := e.do(t, e.adminA, "POST", "/api/v1/directory/folders", map[string]any{"name": "Ålesund & Co (Øst)"})
	if st != http.StatusCreated {
		t.Fatalf("create folder: %d %s", st, body)
	}
	folderID := f["id"].(string)
	if st, m, body := e.do(t, e.adminA, "POST", "/api/v1/directory/folders", map[string]any{"name": "Ålesund & Co (Øst)"}); st != http.StatusConflict || errField(m) != "name" {
		t.Errorf("a sibling of the same name: %d %s", st, body)
	}
	if st, m, body := e.do(t, e.adminA, "POST", "/api/v1/directory/folders", map[string]any{"name": "  "}); st != http.StatusBadRequest || errField(m) != "name" {
		t.Errorf("an empty name: %d %s", st, body)
	}
	if st, m, body := e.do(t, e.adminA, "POST", "/api/v1/directory/folders", map[string]any{"nom": "x"}); st != http.StatusBadRequest || errField(m) != "nom" {
		t.Errorf("an unknown field: %d %s", st, body)
	}

	names := []string{"Hanne Øvrebø", "田中 太郎", "Smith, \"Bob\""}
	ids := map[string]string{}
	for i, n := range names {
		in := map[string]any{"display_name": n, "addresses": []map[string]any{{"kind": "sip", "value": "user" + string(rune('a'+i)) + "@acme.example"}}}
		if i == 0 {
			in["folder_id"] = folderID
		}
		st, m, body := e.do(t, e.adminA, "POST", "/api/v1/directory/entries", in)
		if st != http.StatusCreated || m["display_name"] != n {
			t.Fatalf("create %q: %d %s", n, st, body)
		}
		ids[n] = m["id"].(string)
	}
	if st, m, body := e.do(t, e.adminA, "POST", "/api/v1/directory/entries", map[string]any{"display_name": "X", "kind": "robot"}); st != http.StatusBadRequest || errField(m) != "kind" {
		t.Errorf("a bad kind: %d %s", st, body)
	}
	if st, _, body := e.do(t, e.adminA, "POST", "/api/v1/directory/entries", map[string]any{"display_name": "X", "folder_id": "00000000-0000-4000-8000-000000000000"}); st != http.StatusNotFound && st != http.StatusBadRequest {
		t.Errorf("a folder that does not exist: %d %s", st, body)
	}

	type list struct {
		Items []struct {
			ID          string `json:"id"`
			DisplayName string `json:"display_name"`
		} `json:"items"`
		Total int `json:"total"`
	}
	search := func(token, query string) (int, list) {
		t.Helper()
		_, _, body := e.do(t, token, "GET", "/api/v1/directory/entries"+query, nil)
		var l list
		_ = json.Unmarshal([]byte(body), &l)
		return len(l.Items), l
	}
	if n, l := search(e.viewA, "?q=ovrebo"); n != 1 || l.Items[0].DisplayName != "Hanne Øvrebø" {
		t.Errorf("search ovrebo as viewer: %+v", l)
	}
	if n, l := search(e.adminA, "?limit=2&offset=0"); n != 2 || l.Total != 3 {
		t.Errorf("first page of 2: %+v", l)
	}
	if n, l := search(e.adminA, "?limit=2&offset=2"); n != 1 || l.Total != 3 {
		t.Errorf("second page: %+v", l)
	}
	if n, l := search(e.adminA, "?folder="+folderID); n != 1 || l.Items[0].ID != ids["Hanne Øvrebø"] {
		t.Errorf("folder: %+v", l)
	}
	if n, l := search(e.adminA, "?folder=root"); n != 2 {
		t.Errorf("root: %+v", l)
	}
	if st, m, body := e.do(t, e.adminA, "GET", "/api/v1/directory/entries?limit=0", nil); st != http.StatusBadRequest || errField(m) != "limit" {
		t.Errorf("limit=0: %d %s", st, body)
	}

	// A viewer reads and is refused every change.
	if st, _, body := e.do(t, e.viewA, "POST", "/api/v1/directory/entries", map[string]any{"display_name": "Viewer"}); st != http.StatusForbidden {
		t.Errorf("viewer creates: %d %s", st, body)
	}
	if st, _, body := e.do(t, e.viewA, "DELETE", "/api/v1/directory/entries/"+ids["田中 太郎"], nil); st != http.StatusForbidden {
		t.Errorf("viewer deletes: %d %s", st, body)
	}

	// Move Smith into the folder and rename him; clear the folder of Hanne.
	id := ids["Smith, \"Bob\""]
	if st, m, body := e.do(t, e.adminA, "PATCH", "/api/v1/directory/entries/"+id, map[string]any{"display_name": "Smith, Robert", "folder_id": folderID}); st != 200 || m["display_name"] != "Smith, Robert" || m["folder_id"] != folderID {
		t.Errorf("patch: %d %s", st, body)
	}
	if st, m, body := e.do(t, e.adminA, "PATCH", "/api/v1/directory/entries/"+ids["Hanne Øvrebø"], map[string]any{"folder_id": nil}); st != 200 || m["folder_id"] != nil || m["display_name"] != "Hanne Øvrebø" {
		t.Errorf("patch to the root: %d %s", st, body)
	}
	if st, m, body := e.do(t, e.adminA, "GET", "/api/v1/directory/entries/"+id, nil); st != 200 || m["folder_id"] != folderID {
		t.Errorf("get: %d %s", st, body)
	}
	if st, _, body := e.do(t, e.adminA, "DELETE", "/api/v1/directory/folders/"+folderID, nil); st != http.StatusConflict {
		t.Errorf("delete a folder with an entry: %d %s", st, body)
	}
	if st, _, body := e.do(t, e.adminA, "DELETE", "/api/v1/directory/entries/"+id, nil); st != http.StatusNoContent {
		t.Errorf("delete: %d %s", st, body)
	}
	if st, _, _ := e.do(t, e.adminA, "GET", "/api/v1/directory/entries/"+id, nil); st != http.StatusNotFound {
		t.Errorf("get after delete: %d", st)
	}
	if st, m, body := e.do(t, e.adminA, "PATCH", "/api/v1/directory/folders/"+folderID, map[string]any{"name": "Bergen"}); st != 200 || m["name"] != "Bergen" {
		t.Errorf("rename folder: %d %s", st, body)
	}
	if st, _, body := e.do(t, e.adminA, "DELETE", "/api/v1/directory/folders/"+folderID, nil); st != http.StatusNoContent {
		t.Errorf("delete the empty folder: %d %s", st, body)
	}

	var audited int
	if err := e.db.Get(&audited, `SELECT count(*) FROM audit_log WHERE organisation_id = $1 AND action LIKE 'directory.%' AND actor_kind = 'token'`, e.orgA); err != nil || audited < 8 {
		t.Errorf("%d directory changes audited with the token as actor, want ≥ 8 (%v)", audited, err)
	}
}

// TestLDAPSourceAPI creates, changes and syncs an LDAP source through the API:
// the bind password is write-only, a run against a server that does not
// answer reports failed, and the runs history shows it.
func TestLDAPSourceAPI(t *testing.T) {
	t.Parallel()
	e := newDirEnv(t)
	const password = "hunter2-sekret"
	in := map[string]any{"name": "Corp LDAP", "url": "ldap://127.0.0.1:1", "bind_dn": "cn=reader,dc=example,dc=com",
		"bind_password": password, "base_dns": []string{"ou=People,dc=example,dc=com"}, "interval": "15m"}
	st, src, body := e.do(t, e.adminA, "POST", "/api/v1/ldap-sources", in)
	if st != http.StatusCreated || src["has_password"] != true || src["interval"] != "15m0s" || strings.Contains(body, password) || strings.Contains(body, "bind_password") {
		t.Fatalf("create: %d %s", st, body)
	}
	id := src["id"].(string)
	var sealed []byte
	if err := e.db.Get(&sealed, `SELECT bind_password_enc FROM ldap_sources WHERE id = $1`, id); err != nil || len(sealed) == 0 || bytes.Contains(sealed, []byte(password)) {
		t.Errorf("stored password: %v %q", err, sealed)
	}
	if st, _, body := e.do(t, e.adminA, "POST", "/api/v1/ldap-sources", in); st != http.StatusConflict {
		t.Errorf("same name: %d %s", st, body)
	}
	bad := map[string]any{"name": "Bad", "url": "ldap://x", "base_dns": []string{"dc=x"}, "filter": "(objectClass=person"}
	if st, m, body := e.do(t, e.adminA, "POST", "/api/v1/ldap-sources", bad); st != http.StatusBadRequest || errField(m) != "filter" {
		t.Errorf("a filter that does not parse: %d %s", st, body)
	}
	bad["filter"], bad["mapping"] = "(objectClass=person)", map[string]string{"name": "$cn"}
	if st, m, body := e.do(t, e.adminA, "POST", "/api/v1/ldap-sources", bad); st != http.StatusBadRequest || errField(m) != "mapping" || !strings.Contains(body, "position") {
		t.Errorf("a template that does not parse: %d %s", st, body)
	}
	if st, _, body := e.do(t, e.viewA, "POST", "/api/v1/ldap-sources/"+id+"/sync", map[string]any{"dry_run": true}); st != http.StatusForbidden {
		t.Errorf("viewer syncs: %d %s", st, body)
	}
	if st, m, body := e.do(t, e.viewA, "GET", "/api/v1/ldap-sources/"+id, nil); st != 200 || m["name"] != "Corp LDAP" || strings.Contains(body, password) {
		t.Errorf("viewer reads: %d %s", st, body)
	}

	// A change of the interval keeps the password and the other fields.
	if st, m, body := e.do(t, e.adminA, "PATCH", "/api/v1/ldap-sources/"+id, map[string]any{"interval": "1h"}); st != 200 || m["interval"] != "1h0m0s" || m["has_password"] != true || m["bind_dn"] != "cn=reader,dc=example,dc=com" {
		t.Errorf("patch interval: %d %s", st, body)
	}
	if st, m, body := e.do(t, e.adminA, "PATCH", "/api/v1/ldap-sources/"+id, map[string]any{"interval": "soon"}); st != http.StatusBadRequest || errField(m) != "interval" {
		t.Errorf("a bad interval: %d %s", st, body)
	}

	st, rep, body := e.do(t, e.adminA, "POST", "/api/v1/ldap-sources/"+id+"/sync", map[string]any{"dry_run": true})
	if st != 200 || rep["status"] != "failed" || rep["dry_run"] != true || rep["error"] == "" {
		t.Errorf("sync against a closed port: %d %s", st, body)
	}
	if strings.Contains(body, password) {
		t.Errorf("the report shows the password: %s", body)
	}
	if st, m, body := e.do(t, e.adminA, "GET", "/api/v1/ldap-sources/"+id+"/runs", nil); st != 200 || m["total"] != float64(1) {
		t.Errorf("runs: %d %s", st, body)
	}
	if st, m, body := e.do(t, e.adminA, "POST", "/api/v1/ldap-sources/"+id+"/test", nil); st != 200 || m["ok"] != false || m["error"] == "" || strings.Contains(body, password) {
		t.Errorf("test the connection to a closed port: %d %s", st, body)
	}
	if st, m, body := e.do(t, e.adminA, "PATCH", "/api/v1/ldap-sources/"+id, map[string]any{"clear_password": true}); st != 200 || m["has_password"] != false {
		t.Errorf("clear the password: %d %s", st, body)
	}
	if st, _, body := e.do(t, e.adminA, "DELETE", "/api/v1/ldap-sources/"+id, nil); st != http.StatusNoContent {
		t.Errorf("delete: %d %s", st, body)
	}
	if st, _, _ := e.do(t, e.adminA, "GET", "/api/v1/ldap-sources/"+id+"/runs", nil); st != http.StatusNotFound {
		t.Errorf("runs of a deleted source: %d", st)
	}
}

// TestDirectoryTenantIsolation requests every route of the directory feature
// as organisation B about organisation A's objects: every object route answers
// 404, no answer shows A's data, and A's objects are unchanged afterwards. A
// route this test does not know fails it.
func TestDirectoryTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newDirEnv(t)
	_, folder, _ := e.do(t, e.adminA, "POST", "/api/v1/directory/folders", map[string]any{"name": "Secret folder"})
	_, entry, _ := e.do(t, e.adminA, "POST", "/api/v1/directory/entries", map[string]any{"display_name": "Secret Person",
		"folder_id": folder["id"], "addresses": []map[string]any{{"kind": "sip", "value": "secret@acme.example"}}})
	_, src, _ := e.do(t, e.adminA, "POST", "/api/v1/ldap-sources", map[string]any{"name": "Secret LDAP", "url": "ldap://127.0.0.1:1", "base_dns": []string{"dc=acme,dc=example"}})
	objects := map[string]string{"directory/folders": folder["id"].(string), "directory/entries": entry["id"].(string), "ldap-sources": src["id"].(string)}
	secrets := []string{"Secret folder", "Secret Person", "secret@acme.example", "Secret LDAP", "dc=acme", objects["directory/folders"], objects["directory/entries"], objects["ldap-sources"]}
	bodies := map[string]any{"directory/folders": map[string]any{"name": "Mine now"}, "directory/entries": map[string]any{"display_name": "Mine now"},
		"ldap-sources": map[string]any{"name": "Mine now"}}
	sessB := e.session(t, e.orgB, webadmin.RoleAdmin)
	for _, rt := range directoryFeature(e.db, nil, nil).Routes {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		path = strings.TrimSuffix(path, "{$}")
		t.Run(rt.Pattern, func(t *testing.T) {
			rest := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSuffix(path, "{$}"), "/api/v1/"), "/admin/")
			resource := rest
			if i := strings.Index(rest, "/{"); i >= 0 {
				resource = rest[:i]
			}
			if strings.Contains(path, "{id}") {
				id, ok := objects[resource]
				if !ok {
					t.Fatalf("no object of organisation A for %s: add one to this test", rt.Pattern)
				}
				path = strings.Replace(path, "{id}", id, 1)
			} else if strings.Contains(path, "{") {
				t.Fatalf("unknown path parameter in %s: extend this test", rt.Pattern)
			}
			var st int
			var body string
			if strings.HasPrefix(path, "/admin/") {
				rec := e.page(t, sessB, method, strings.TrimSuffix(path, "{$}"), url.Values{"name": {"Mine now"}, "display_name": {"Mine now"}})
				st, body = rec.Code, rec.Body.String()
			} else {
				var b any
				if method == "POST" || method == "PATCH" {
					b = bodies[resource]
				}
				st, _, body = e.do(t, e.adminB, method, path, b)
			}
			switch {
			case strings.Contains(rt.Pattern, "{id}"):
				if st != http.StatusNotFound {
					t.Errorf("%d, want 404: %s", st, body)
				}
			case st >= 500:
				t.Errorf("%d: %s", st, body)
			}
			for _, s := range secrets {
				if strings.Contains(body, s) {
					t.Errorf("the answer shows organisation A's %q", s)
				}
			}
		})
	}
	for _, p := range []string{"/api/v1/directory/entries/" + objects["directory/entries"], "/api/v1/ldap-sources/" + objects["ldap-sources"]} {
		if st, _, body := e.do(t, e.adminA, "GET", p, nil); st != 200 || strings.Contains(body, "Mine now") {
			t.Errorf("A's object after B's requests: %d %s", st, body)
		}
	}
	if st, m, body := e.do(t, e.adminA, "GET", "/api/v1/directory/folders", nil); st != 200 || m["total"] != float64(1) || strings.Contains(body, "Mine now") {
		t.Errorf("A's folders after B's requests: %d %s", st, body)
	}
}

// TestDirectoryOpenAPI checks that every API route of the feature is in the
// served OpenAPI document.
func TestDirectoryOpenAPI(t *testing.T) {
	t.Parallel()
	e := newDirEnv(t)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, rt := range directoryFeature(e.db, nil, nil).Routes {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		if _, ok := doc.Paths[strings.TrimPrefix(path, "/api/v1")][strings.ToLower(method)]; !ok {
			t.Errorf("%s is not in the OpenAPI document", rt.Pattern)
		}
	}
}
