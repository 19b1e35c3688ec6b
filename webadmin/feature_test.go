package webadmin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestFeatureRoutesShareTheGuard mounts a feature the way the directory or CDR
// packages will: its routes get the same sign-in, role check and CSRF check,
// its navigation entry shows, and its API paths join the OpenAPI document.
func TestFeatureRoutesShareTheGuard(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	list := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := PrincipalFrom(r.Context())
		fmt.Fprintf(w, "things of %s", p.OrganisationID)
	})
	e.srv = New(DefaultConfig(), Deps{DB: e.db, Now: e.clock.Now, Features: []Feature{{
		Name: "things",
		Routes: []Route{
			{Pattern: "GET /admin/things", Access: AccessRead, Handler: list},
			{Pattern: "POST /admin/things", Access: AccessWrite, Handler: list},
			{Pattern: "GET /api/v1/things", Access: AccessRead, Handler: list},
		},
		Nav:          []NavItem{{Title: "Things", Path: "/admin/things", Access: AccessRead}},
		OpenAPIPaths: []byte(`{"/things": {"get": {"summary": "List things.", "responses": {"200": {"description": "OK"}}}}}`),
	}}})
	if rec := e.page(t, "", "GET", "/admin/things", nil); rec.Code != http.StatusSeeOther {
		t.Errorf("without a session: %d", rec.Code)
	}
	if s, _ := e.do(t, "", "GET", "/api/v1/things", nil); s != http.StatusUnauthorized {
		t.Errorf("API without a token: %d", s)
	}
	viewer := e.sessionFor(t, e.viewA)
	if rec := e.page(t, viewer, "GET", "/admin/things", nil); rec.Code != 200 || rec.Body.String() != "things of "+e.orgA.ID {
		t.Errorf("viewer reading: %d %q", rec.Code, rec.Body)
	}
	if rec := e.page(t, viewer, "POST", "/admin/things", nil); rec.Code != http.StatusForbidden {
		t.Errorf("viewer writing: %d", rec.Code)
	}
	admin := e.sessionFor(t, e.adminA)
	if rec := e.page(t, admin, "POST", "/admin/things", map[string]string{"csrf": "forged"}); rec.Code != http.StatusForbidden {
		t.Errorf("a forged form: %d", rec.Code)
	}
	if rec := e.page(t, admin, "GET", "/admin/", nil); !strings.Contains(rec.Body.String(), `href="/admin/things"`) {
		t.Error("the navigation lacks the feature's entry")
	}
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/openapi.json", nil))
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Paths["/things"] == nil || doc.Paths["/rooms"] == nil {
		t.Errorf("the OpenAPI document lacks the feature's or the built-in paths (%v)", err)
	}
}
