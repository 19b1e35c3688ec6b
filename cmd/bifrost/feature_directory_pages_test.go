package main

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/webadmin"
)

// pageSession is a signed-in browser: its session cookie and form token.
type pageSession struct{ id, csrf string }

// session signs a new user of role in organisation orgID in and reads the
// form token from a page.
func (e *dirEnv) session(t *testing.T, orgID string, role webadmin.Role) pageSession {
	t.Helper()
	ctx := context.Background()
	store := webadmin.NewStore(e.db, nil)
	name, email, pw := "U "+string(role), string(role)+"-"+orgID[:8]+"@example.com", "correct horse battery staple"
	u, err := store.CreateUser(ctx, orgID, webadmin.UserInput{Name: &name, Email: &email, Role: &role, Password: &pw})
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := store.CreateSession(ctx, u, orgID, "192.0.2.1:1", "test")
	if err != nil {
		t.Fatal(err)
	}
	s := pageSession{id: id}
	rec := e.page(t, s, "GET", "/admin/directory/", nil)
	m := csrfRE.FindStringSubmatch(rec.Body.String())
	if m == nil {
		t.Fatalf("no form token on the directory page: %d %s", rec.Code, rec.Body)
	}
	s.csrf = m[1]
	return s
}

// page sends a page request as a browser on the same origin; a POST form gets
// the session's token.
func (e *dirEnv) page(t *testing.T, s pageSession, method, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if method == http.MethodPost {
		v := url.Values{"csrf": {s.csrf}}
		for k, x := range form {
			v[k] = x
		}
		req = httptest.NewRequest(method, path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.AddCookie(&http.Cookie{Name: webadmin.SessionCookie, Value: s.id})
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec
}

// TestDirectoryPages works the directory's admin pages as a browser would:
// folders and entries with names in several scripts and HTML in them, the
// address lines, an LDAP source whose password never comes back, a dry run
// shown in the run history; a viewer reads and cannot change.
func TestDirectoryPages(t *testing.T) {
	t.Parallel()
	e := newDirEnv(t)
	admin, viewer := e.session(t, e.orgA, webadmin.RoleAdmin), e.session(t, e.orgA, webadmin.RoleViewer)

	if rec := e.page(t, admin, "POST", "/admin/directory/folders", url.Values{"name": {"Øst & <Vest>"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("add folder: %d %s", rec.Code, rec.Body)
	}
	_, fs, _ := e.do(t, e.adminA, "GET", "/api/v1/directory/folders", nil)
	folderID := fs["items"].([]any)[0].(map[string]any)["id"].(string)
	if rec := e.page(t, admin, "POST", "/admin/directory/folders", url.Values{"name": {"Sub"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("add folder: %d %s", rec.Code, rec.Body)
	}
	_, fs, _ = e.do(t, e.adminA, "GET", "/api/v1/directory/folders", nil)
	var subID string
	for _, f := range fs["items"].([]any) {
		if f.(map[string]any)["name"] == "Sub" {
			subID = f.(map[string]any)["id"].(string)
		}
	}
	if rec := e.page(t, admin, "POST", "/admin/directory/folders/"+subID, url.Values{"name": {"Sub 2"}, "parent_id": {folderID}}); rec.Code != http.StatusSeeOther {
		t.Errorf("move folder: %d %s", rec.Code, rec.Body)
	}
	if _, _, body := e.do(t, e.adminA, "GET", "/api/v1/directory/folders", nil); !strings.Contains(body, `"path": "Øst \u0026 \u003cVest\u003e/Sub 2"`) {
		t.Errorf("after the move: %s", body)
	}
	rec := e.page(t, admin, "POST", "/admin/directory/entries", url.Values{"display_name": {"Hanne Øvrebø <b>"}, "kind": {"person"},
		"title": {"田中 & Co"}, "addresses": {"sip: hanne@acme.example\ntel mobile: +47 912 34 567"}})
	loc, _, _ := strings.Cut(rec.Header().Get("Location"), "?")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/directory/entries/") {
		t.Fatalf("add entry: %d %s", rec.Code, rec.Body)
	}
	entryPath := loc
	body := html.UnescapeString(e.page(t, admin, "GET", entryPath, nil).Body.String())
	for _, want := range []string{`value="Hanne Øvrebø <b>"`, "田中 & Co", "sip: hanne@acme.example\ntel mobile: +47 912 34 567", "Delete entry"} {
		if !strings.Contains(body, want) {
			t.Errorf("the entry page lacks %q:\n%s", want, body)
		}
	}
	body = e.page(t, admin, "GET", "/admin/directory/?q=ovrebo", nil).Body.String()
	if !strings.Contains(body, "Hanne Øvrebø &lt;b&gt;") || !strings.Contains(body, "Øst &amp; &lt;Vest&gt;") || strings.Contains(body, "<Vest>") {
		t.Errorf("the browse page:\n%s", body)
	}
	if rec := e.page(t, admin, "POST", entryPath, url.Values{"display_name": {"Hanne Øvrebø"}, "kind": {"person"}, "addresses": {"fax: 1234"}}); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "line 1") {
		t.Errorf("a bad address line: %d %s", rec.Code, rec.Body)
	}
	if rec := e.page(t, admin, "POST", entryPath, url.Values{"display_name": {"Hanne Ø."}, "kind": {"room"}, "addresses": {"sip: hanne@acme.example"}}); rec.Code != http.StatusSeeOther {
		t.Errorf("save: %d %s", rec.Code, rec.Body)
	}
	if body := e.page(t, viewer, "GET", entryPath, nil).Body.String(); !strings.Contains(body, `value="Hanne Ø."`) || strings.Contains(body, "&#43;47 912") || strings.Contains(body, "Delete entry") {
		t.Errorf("the entry after saving, as a viewer:\n%s", body)
	}
	if rec := e.page(t, viewer, "POST", entryPath+"/delete", nil); rec.Code != http.StatusForbidden {
		t.Errorf("a viewer deletes: %d", rec.Code)
	}

	const password = "s3cret-bind-pw"
	rec = e.page(t, admin, "POST", "/admin/ldap-sources", url.Values{"name": {"Corp"}, "url": {"ldap://127.0.0.1:1"}, "bind_dn": {"cn=reader,dc=acme"},
		"bind_password": {password}, "base_dns": {"ou=People,dc=acme"}, "scope": {"sub"}, "interval": {"15m"}, "folders": {"ou:ou=People,dc=acme"},
		"mapping": {"name=$cn$"}, "enabled": {"1"}})
	srcPath, _, _ := strings.Cut(rec.Header().Get("Location"), "?")
	if rec.Code != http.StatusSeeOther || !strings.HasPrefix(srcPath, "/admin/ldap-sources/") {
		t.Fatalf("add source: %d %s", rec.Code, rec.Body)
	}
	if rec := e.page(t, admin, "POST", "/admin/ldap-sources", url.Values{"name": {"Bad"}, "url": {"ldap://x"}, "base_dns": {"dc=x"}, "filter": {"(cn=a"}}); rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "filter") {
		t.Errorf("a bad filter: %d %s", rec.Code, rec.Body)
	}
	if rec := e.page(t, admin, "POST", srcPath+"/test", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), `<section id="test-result">`) || !strings.Contains(rec.Body.String(), `class="error"`) {
		t.Errorf("test connection: %d %s", rec.Code, rec.Body)
	}
	if rec := e.page(t, admin, "POST", srcPath+"/sync", url.Values{"dry_run": {"1"}}); rec.Code != http.StatusSeeOther {
		t.Errorf("dry run: %d %s", rec.Code, rec.Body)
	}
	body = e.page(t, admin, "GET", srcPath, nil).Body.String()
	if strings.Contains(body, password) || !strings.Contains(body, "A password is stored") || !strings.Contains(body, "<td>failed</td>") || !strings.Contains(body, "name=$cn$") {
		t.Errorf("the source page after a dry run:\n%s", body)
	}
	if body := e.page(t, viewer, "GET", "/admin/ldap-sources", nil).Body.String(); !strings.Contains(body, "Corp") || strings.Contains(body, "New LDAP source") {
		t.Errorf("the sources as a viewer:\n%s", body)
	}
	if rec := e.page(t, admin, "POST", srcPath+"/delete", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("delete source: %d", rec.Code)
	}
	if rec := e.page(t, admin, "POST", entryPath+"/delete", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("delete entry: %d", rec.Code)
	}
	if rec := e.page(t, admin, "GET", entryPath, nil); rec.Code != http.StatusNotFound {
		t.Errorf("the deleted entry: %d", rec.Code)
	}
}

// TestDirectoryCSV exports entries with names and folders in several scripts,
// commas, quotes and line breaks, and imports the file back: the preview
// changes nothing, the import updates the exported entries in place, adds the
// new row, creates its folder, and reports the bad row with its line.
func TestDirectoryCSV(t *testing.T) {
	t.Parallel()
	e := newDirEnv(t)
	admin := e.session(t, e.orgA, webadmin.RoleAdmin)
	_, f, _ := e.do(t, e.adminA, "POST", "/api/v1/directory/folders", map[string]any{"name": "Øst, \"Vest\""})
	for _, in := range []map[string]any{
		{"display_name": "Smith, \"Bob\" 田中", "folder_id": f["id"], "title": "=1+1", "addresses": []map[string]any{{"kind": "sip", "value": "bob@acme.example"}, {"kind": "tel", "label": "mobile", "value": "+47 912 34 567"}}},
		{"display_name": "Hanne Øvrebø", "kind": "room"},
	} {
		if st, _, body := e.do(t, e.adminA, "POST", "/api/v1/directory/entries", in); st != 201 {
			t.Fatalf("%d %s", st, body)
		}
	}
	rec := e.page(t, admin, "GET", "/admin/directory/export.csv", nil)
	exported := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") || !strings.Contains(exported, `"Smith, ""Bob"" 田中"`) || !strings.Contains(exported, "'=1+1") {
		t.Fatalf("export: %d %s", rec.Code, exported)
	}
	file := exported + ",Ny Person,person,,,,Nord/Sør,sip: ny@acme.example\n,,robot,,,,,\n"
	count := func() int {
		_, m, _ := e.do(t, e.adminA, "GET", "/api/v1/directory/entries", nil)
		return int(m["total"].(float64))
	}
	rec = e.page(t, admin, "POST", "/admin/directory/import", url.Values{"csv": {file}, "action": {"preview"}})
	if body := rec.Body.String(); rec.Code != 200 || !strings.Contains(body, "<td>update</td>") || !strings.Contains(body, "<td>add</td>") || !strings.Contains(body, "the name is empty") || count() != 2 {
		t.Errorf("preview: %d %d entries\n%s", rec.Code, count(), body)
	}
	rec = e.page(t, admin, "POST", "/admin/directory/import", url.Values{"csv": {file}, "action": {"import"}})
	if body := rec.Body.String(); rec.Code != 200 || !strings.Contains(body, "Imported 3 rows") || !strings.Contains(body, "<td>updated</td>") || !strings.Contains(body, "1 with errors") {
		t.Errorf("import: %d\n%s", rec.Code, body)
	}
	if n := count(); n != 3 {
		t.Errorf("%d entries after the import, want 3 (2 updated in place, 1 added)", n)
	}
	_, m, body := e.do(t, e.adminA, "GET", "/api/v1/directory/entries?q=smith", nil)
	if !strings.Contains(body, `"title": "=1+1"`) || !strings.Contains(body, "+47 912 34 567") || !strings.Contains(body, f["id"].(string)) || m["total"] != float64(1) {
		t.Errorf("Smith after the round trip: %s", body)
	}
	_, m, _ = e.do(t, e.adminA, "GET", "/api/v1/directory/folders", nil)
	if body := dirJSON(m); !strings.Contains(body, `"path":"Nord/Sør"`) {
		t.Errorf("the new row's folders: %s", body)
	}
	rec = e.page(t, admin, "POST", "/admin/directory/import", url.Values{"csv": {"naam\nx\n"}, "action": {"import"}})
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "no name column") {
		t.Errorf("a file without the header: %d", rec.Code)
	}
}

func dirJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
