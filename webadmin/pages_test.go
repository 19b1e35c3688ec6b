package webadmin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// sessionFor signs u in (without the password round trip) and returns the
// session ID.
func (e *apiEnv) sessionFor(t *testing.T, u User) string {
	t.Helper()
	org := ""
	if u.OrganisationID != nil {
		org = *u.OrganisationID
	}
	id, _, err := e.store.CreateSession(context.Background(), u, org, "192.0.2.1:1", "test")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// page sends a page request with session sess (none when empty), as a browser
// on the same origin would. A POST form gets the session's CSRF token unless it
// has a "csrf" key of its own.
func (e *apiEnv) page(t *testing.T, sess, method, path string, form map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	var req *http.Request
	if method == http.MethodPost {
		v := url.Values{}
		if _, ok := form["csrf"]; !ok && sess != "" {
			v.Set("csrf", csrfToken(sess))
		}
		for k, x := range form {
			v.Set(k, x)
		}
		req = httptest.NewRequest(method, path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.RemoteAddr = "192.0.2.44:5555"
	if sess != "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: sess})
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, req)
	return rec
}

func TestPagesRender(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	sess := e.sessionFor(t, e.system)
	if rec := e.page(t, sess, "POST", "/admin/rooms", map[string]string{"name": "Board <room>", "alias": "4455", "host_pin": "9876"}); rec.Code != http.StatusSeeOther {
		t.Fatalf("create room: %d %s", rec.Code, rec.Body)
	}
	room, err := LookupRoom(context.Background(), e.db, "4455")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ path, want string }{
		{"/admin/", "admin actions in the last 24 hours"},
		{"/admin/rooms", "sip:4455@video.example"},
		{"/admin/rooms?q=board", "https://video.example/join/4455"},
		{"/admin/rooms/new", "Create room"},
		{"/admin/rooms/" + room.ID, "Save room"},
		{"/admin/users", "admin@acme.example"},
		{"/admin/tokens", "admin-a"},
		{"/admin/audit", "room.create"},
		{"/admin/audit?action=room.&from=2026-01-01&to=2026-12-31", "room.create"},
		{"/admin/organisations", "Globex"},
	} {
		rec := e.page(t, sess, "GET", tt.path, nil)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("%s: %d, want 200 with %q:\n%s", tt.path, rec.Code, tt.want, rec.Body)
		}
		if strings.Contains(rec.Body.String(), "Board <room>") {
			t.Errorf("%s: a room name is not escaped", tt.path)
		}
		if strings.Contains(rec.Body.String(), "<script") || strings.Contains(rec.Body.String(), " style=") {
			t.Errorf("%s: inline script or style, which the CSP forbids", tt.path)
		}
	}
	if rec := e.page(t, sess, "GET", "/admin/static/admin.css", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "@media") {
		t.Errorf("stylesheet: %d", rec.Code)
	}
	if rec := e.page(t, "", "GET", "/admin/login", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "Sign in") {
		t.Errorf("login page: %d", rec.Code)
	}
	t.Run("a flash message shows only when this site put it in the link", func(t *testing.T) {
		rec := e.page(t, sess, "POST", "/admin/rooms", map[string]string{"name": "Flash", "alias": "4456"})
		loc := rec.Header().Get("Location")
		if rec := e.page(t, sess, "GET", loc, nil); !strings.Contains(rec.Body.String(), "Created room Flash (4456).") {
			t.Errorf("the site's own flash (%s) does not show", loc)
		}
		forged := "/admin/rooms?flash=" + url.QueryEscape("Call +1 555 to unlock your account")
		if rec := e.page(t, sess, "GET", forged, nil); strings.Contains(rec.Body.String(), "555") {
			t.Error("a forged flash message shows")
		}
	})
	t.Run("without a session the pages send to sign-in", func(t *testing.T) {
		rec := e.page(t, "", "GET", "/admin/rooms", nil)
		if rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "/admin/login?next=") {
			t.Errorf("%d %s", rec.Code, rec.Header().Get("Location"))
		}
	})
	t.Run("a form error shows next to its field", func(t *testing.T) {
		rec := e.page(t, sess, "POST", "/admin/rooms", map[string]string{"name": "Dup", "alias": "4455"})
		if rec.Code != http.StatusBadRequest || !regexp.MustCompile(`id="e-alias">This alias is taken`).MatchString(rec.Body.String()) {
			t.Errorf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("a viewer sees masked PINs and no edit links", func(t *testing.T) {
		rec := e.page(t, e.sessionFor(t, e.viewA), "GET", "/admin/rooms", nil)
		if strings.Contains(rec.Body.String(), "9876") || strings.Contains(rec.Body.String(), "/admin/rooms/new") {
			t.Errorf("viewer's room list: %s", rec.Body)
		}
		if rec := e.page(t, e.sessionFor(t, e.viewA), "POST", "/admin/rooms", map[string]string{"name": "x", "alias": "5"}); rec.Code != http.StatusForbidden {
			t.Errorf("viewer creating a room: %d", rec.Code)
		}
	})
	t.Run("the audit CSV export", func(t *testing.T) {
		rec := e.page(t, sess, "GET", "/admin/audit.csv?action=room.create", nil)
		body := rec.Body.String()
		if rec.Code != 200 || !strings.HasPrefix(body, "time,actor_kind") || !strings.Contains(body, "room.create") || strings.Contains(body, "9876") {
			t.Errorf("csv: %d %s", rec.Code, body)
		}
	})
}

func TestSignInAndCookie(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	rec := e.page(t, "", "POST", "/admin/login", map[string]string{"email": "admin@acme.example", "password": e.password, "next": "/admin/rooms"})
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/admin/rooms" {
		t.Fatalf("sign-in: %d %s", rec.Code, rec.Body)
	}
	c := rec.Result().Cookies()
	if len(c) != 1 || c[0].Name != SessionCookie || !c[0].HttpOnly || c[0].SameSite != http.SameSiteLaxMode || !c[0].Secure {
		t.Fatalf("cookie %+v: want HttpOnly, SameSite=Lax, Secure (public URL is https)", c)
	}
	if rec := e.page(t, c[0].Value, "GET", "/admin/rooms", nil); rec.Code != 200 {
		t.Errorf("with the cookie: %d", rec.Code)
	}
	if rec := e.page(t, c[0].Value, "POST", "/admin/logout", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("sign-out: %d", rec.Code)
	}
	if rec := e.page(t, c[0].Value, "GET", "/admin/rooms", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", rec.Code)
	}
	t.Run("an off-site next is ignored", func(t *testing.T) {
		rec := e.page(t, "", "POST", "/admin/login", map[string]string{"email": "admin@acme.example", "password": e.password, "next": "//evil.example/"})
		if rec.Header().Get("Location") != "/admin/" {
			t.Errorf("redirect to %q", rec.Header().Get("Location"))
		}
	})
	t.Run("sign-in is throttled with a clear message", func(t *testing.T) {
		for range AccountFailures - 1 {
			rec := e.page(t, "", "POST", "/admin/login", map[string]string{"email": "viewer@acme.example", "password": "wrong"})
			if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), "Wrong e-mail address or password") {
				t.Fatalf("wrong password: %d", rec.Code)
			}
		}
		rec := e.page(t, "", "POST", "/admin/login", map[string]string{"email": "viewer@acme.example", "password": "wrong"})
		if rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "Too many failed sign-ins for this account or from this address. Try again in 15 minutes.") {
			t.Errorf("throttled: %d %s", rec.Code, rec.Body)
		}
		rec = e.page(t, "", "POST", "/admin/login", map[string]string{"email": "viewer@acme.example", "password": e.password})
		if rec.Code != http.StatusTooManyRequests {
			t.Errorf("the right password while locked out: %d", rec.Code)
		}
	})
}

func TestCSRFIsRejected(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	sess := e.sessionFor(t, e.adminA)
	count := func() int {
		_, n, _ := e.store.ListRooms(context.Background(), e.orgA.ID, "", Page{})
		return n
	}
	form := map[string]string{"name": "Evil", "alias": "666"}
	t.Run("a form without the token", func(t *testing.T) {
		f := map[string]string{"csrf": "", "name": "Evil", "alias": "666"}
		if rec := e.page(t, sess, "POST", "/admin/rooms", f); rec.Code != http.StatusForbidden {
			t.Errorf("%d", rec.Code)
		}
	})
	t.Run("a form with another session's token", func(t *testing.T) {
		f := map[string]string{"csrf": csrfToken(e.sessionFor(t, e.viewA)), "name": "Evil", "alias": "666"}
		if rec := e.page(t, sess, "POST", "/admin/rooms", f); rec.Code != http.StatusForbidden {
			t.Errorf("%d", rec.Code)
		}
	})
	t.Run("a cross-site post, even with the token", func(t *testing.T) {
		v := url.Values{"csrf": {csrfToken(sess)}, "name": {"Evil"}, "alias": {"666"}}
		req := httptest.NewRequest("POST", "/admin/rooms", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: sess})
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("%d", rec.Code)
		}
	})
	t.Run("a cross-origin API call with the session cookie", func(t *testing.T) {
		req := httptest.NewRequest("POST", "/api/v1/rooms", strings.NewReader(`{"name":"Evil","alias":"666"}`))
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: sess})
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden {
			t.Errorf("%d", rec.Code)
		}
	})
	if n := count(); n != 0 {
		t.Fatalf("%d rooms created by forged requests", n)
	}
	if rec := e.page(t, sess, "POST", "/admin/rooms", form); rec.Code != http.StatusSeeOther || count() != 1 {
		t.Errorf("the genuine form: %d, %d rooms", rec.Code, count())
	}
}

// TestTenantIsolation requests every route of the server, as organisation B,
// about organisation A's objects: every object route answers 404 and no list
// shows A's objects. A route this test does not know fails it, so a new route
// comes with its isolation case.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	ctxA := e.ctxAs(e.adminA)
	roomA, err := e.store.CreateRoom(ctxA, e.orgA.ID, RoomInput{Name: ptr("Secret project"), Alias: ptr("8001"), HostPIN: ptr("24680")})
	if err != nil {
		t.Fatal(err)
	}
	objects := map[string]string{"rooms": roomA.ID, "users": e.viewA.ID, "tokens": e.tokenAID, "organisations": e.orgA.ID}
	// What of A must never show to B.
	secretsOfA := []string{roomA.ID, "Secret project", "8001", e.viewA.ID, "viewer@acme.example", e.tokenAID, "admin-a"}
	bodies := map[string]any{"rooms": map[string]any{"name": "Mine now"}, "users": map[string]any{"name": "Mine now"}}
	for _, rt := range e.srv.table {
		method, path, _ := strings.Cut(rt.Pattern, " ")
		t.Run(rt.Pattern, func(t *testing.T) {
			if rt.Access == AccessPublic {
				return // no organisation's data
			}
			resource := strings.Split(strings.TrimPrefix(strings.TrimPrefix(path, "/api/v1/"), "/admin/"), "/")[0]
			path := strings.TrimSuffix(path, "{$}")
			if strings.Contains(path, "{id}") {
				id, ok := objects[resource]
				if !ok {
					t.Fatalf("no object of organisation A for %s: add one to this test", rt.Pattern)
				}
				path = strings.Replace(path, "{id}", id, 1)
			} else if strings.Contains(path, "{") {
				t.Fatalf("unknown path parameter in %s: extend this test", rt.Pattern)
			}
			var status int
			var body string
			if strings.HasPrefix(path, "/api/") {
				var b any
				if method == "PATCH" || method == "POST" {
					b = bodies[resource]
				}
				s, m := e.do(t, e.tokB, method, path, b)
				status, body = s, mustJSON(m)
			} else {
				// A session per route: one of them is the sign-out.
				rec := e.page(t, e.sessionFor(t, e.adminB), method, path, map[string]string{"name": "Mine now"})
				status, body = rec.Code, rec.Body.String()
			}
			switch {
			case resource == "organisations":
				// System only: B's admin is refused before any object is looked at.
				if status != http.StatusForbidden {
					t.Errorf("%d, want 403", status)
				}
			case strings.Contains(rt.Pattern, "{id}"):
				if status != http.StatusNotFound {
					t.Errorf("%d, want 404", status)
				}
			case status >= 500:
				t.Errorf("%d", status)
			}
			for _, s := range secretsOfA {
				if strings.Contains(body, s) {
					t.Errorf("the answer shows organisation A's %q", s)
				}
			}
		})
	}
	after, err := e.store.GetRoom(ctxA, e.orgA.ID, roomA.ID)
	if err != nil || after.Name != "Secret project" {
		t.Errorf("A's room after B's requests: %+v %v", after, err)
	}
	if _, err := e.store.GetUser(ctxA, e.orgA.ID, e.viewA.ID); err != nil {
		t.Errorf("A's user after B's requests: %v", err)
	}
	if tok, err := e.store.GetToken(ctxA, e.orgA.ID, e.tokenAID); err != nil || tok.RevokedAt != nil {
		t.Errorf("A's token after B's requests: %+v %v", tok, err)
	}
}

// TestOpenAPICoversEveryRoute checks that every API route served is in
// /api/v1/openapi.json and every operation there is served.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Servers []struct{ URL string }    `json:"servers"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || rec.Code != 200 {
		t.Fatalf("openapi.json: %d %v", rec.Code, err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Servers) != 1 {
		t.Fatalf("openapi %q servers %v", doc.OpenAPI, doc.Servers)
	}
	var documented, served []string
	for p, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+doc.Servers[0].URL+p)
		}
	}
	for _, rt := range e.srv.table {
		if strings.Contains(rt.Pattern, " /api/") {
			served = append(served, rt.Pattern)
		}
	}
	sort.Strings(documented)
	sort.Strings(served)
	if strings.Join(documented, "\n") != strings.Join(served, "\n") {
		t.Errorf("documented:\n%s\n\nserved:\n%s", strings.Join(documented, "\n"), strings.Join(served, "\n"))
	}
	// And each documented operation is really answered (401 without a token,
	// not 404 or 405).
	for _, op := range documented {
		method, path, _ := strings.Cut(op, " ")
		path = strings.ReplaceAll(path, "{id}", "00000000-0000-0000-0000-000000000000")
		status, _ := e.do(t, "", method, path, nil)
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			t.Errorf("%s: %d", op, status)
		}
	}
}

func TestAccountPages(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	admin := e.sessionFor(t, e.adminA)
	t.Run("an admin changes another account's role and e-mail", func(t *testing.T) {
		rec := e.page(t, admin, "POST", "/admin/users/"+e.viewA.ID, map[string]string{"name": "Vee", "email": "vee@acme.example", "role": "admin"})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		u, _ := e.store.GetUser(context.Background(), e.orgA.ID, e.viewA.ID)
		if u.Role != RoleAdmin || u.Email != "vee@acme.example" || u.Name != "Vee" {
			t.Errorf("%+v", u)
		}
	})
	t.Run("a short password shows next to its field", func(t *testing.T) {
		rec := e.page(t, admin, "POST", "/admin/users/"+e.viewA.ID, map[string]string{"name": "Vee", "email": "vee@acme.example", "role": "admin", "password": "short"})
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `id="e-password">Must be at least 12 characters.`) {
			t.Errorf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("an admin cannot edit a system account", func(t *testing.T) {
		if rec := e.page(t, admin, "GET", "/admin/users/"+e.system.ID, nil); rec.Code != http.StatusForbidden {
			t.Errorf("%d", rec.Code)
		}
	})
	t.Run("a viewer changes their own password but not their role", func(t *testing.T) {
		v, err := e.store.CreateUser(e.ctxAs(e.adminA), e.orgA.ID, UserInput{Email: ptr("v2@acme.example"), Role: ptr(RoleViewer), Password: ptr(e.password)})
		if err != nil {
			t.Fatal(err)
		}
		sess := e.sessionFor(t, v)
		if rec := e.page(t, sess, "GET", "/admin/users/"+e.adminA.ID, nil); rec.Code != http.StatusForbidden {
			t.Errorf("a viewer editing someone else: %d", rec.Code)
		}
		rec := e.page(t, sess, "POST", "/admin/users/"+v.ID, map[string]string{"name": "Me", "role": "admin", "password": "my new long password"})
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		u, _ := e.store.GetUser(context.Background(), e.orgA.ID, v.ID)
		if u.Role != RoleViewer || VerifyPassword("my new long password", u.PasswordHash) != nil {
			t.Errorf("role %s, password changed: %v", u.Role, VerifyPassword("my new long password", u.PasswordHash))
		}
		if rec := e.page(t, sess, "GET", "/admin/", nil); rec.Code != http.StatusSeeOther {
			t.Errorf("the session survived the password change: %d", rec.Code)
		}
	})
}
