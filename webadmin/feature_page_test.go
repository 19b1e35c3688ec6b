package webadmin

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// thingTemplates is a feature's own template set, as a feature parses it from
// its embed.FS: a list page, a detail page, and a helper of its own.
var thingTemplates = template.Must(template.New("things").Parse(`
{{define "things-list"}}<h1>{{.Title}}</h1>
<ul id="things">{{range .Data}}<li>{{template "thing-name" .}}</li>{{end}}</ul>
{{if .CanWrite}}<form method="post" action="/admin/things"><input type="hidden" name="csrf" value="{{.CSRF}}">{{template "field" .Data.Field}}<button>Add</button></form>{{end}}
{{end}}
{{define "thing-name"}}<b class="thing">{{.Name}}</b>{{end}}
{{define "thing-detail"}}<p id="detail">{{.Data.Name}} of {{.Org.Name}}</p>{{end}}`))

type thingList []struct{ Name string }

// Field makes the list carry a form field, to show the layout's helpers work.
func (thingList) Field() field { return field{Name: "name", Label: "Name", Type: "text"} }

// TestRenderPageInsideTheLayout renders a feature's pages through RenderPage:
// they sit inside the layout (navigation with the feature's entry marked
// current, the signed-in user, the flash message), forms get the session's CSRF
// token, the feature's data is escaped, and a missing template is a logged 500,
// not a crash.
func TestRenderPageInsideTheLayout(t *testing.T) {
	t.Parallel()
	e := newAPIEnv(t)
	list := FeaturePage{Template: thingTemplates, Name: "things-list", Title: "Things", Active: "/admin/things"}
	e.srv = New(DefaultConfig(), Deps{DB: e.db, Now: e.clock.Now, Features: []Feature{{
		Name: "things",
		Routes: []Route{
			{Pattern: "GET /admin/things", Access: AccessRead, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				RenderPage(w, r, http.StatusOK, list, thingList{{Name: "Kettle"}, {Name: `<script>alert(1)</script>`}})
			})},
			{Pattern: "POST /admin/things", Access: AccessWrite, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				RedirectFlash(w, r, "/admin/things", "Added "+r.PostFormValue("name")+".")
			})},
			{Pattern: "GET /admin/things/{id}", Access: AccessRead, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.PathValue("id") != "kettle" {
					RenderError(w, r, http.StatusNotFound, "Not found", "There is no such thing in this organisation.")
					return
				}
				RenderPage(w, r, http.StatusOK, FeaturePage{Template: thingTemplates, Name: "thing-detail", Title: "Kettle", Active: "/admin/things"}, struct{ Name string }{"Kettle"})
			})},
			{Pattern: "GET /admin/things-broken", Access: AccessRead, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				RenderPage(w, r, http.StatusOK, FeaturePage{Template: thingTemplates, Name: "no-such-page"}, nil)
			})},
		},
		Nav: []NavItem{{Title: "Things", Path: "/admin/things", Access: AccessRead}},
	}}})
	admin := e.sessionFor(t, e.adminA)

	rec := e.page(t, admin, "GET", "/admin/things", nil)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("list: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{
		`<a href="/admin/things" aria-current="page">Things</a>`, // the feature's nav entry, current
		`href="/admin/rooms"`,                          // the built-in navigation
		"<title>Things · Bifrost admin</title>",        // the layout's head
		e.adminA.Email,                                 // who is signed in
		`<b class="thing">Kettle</b>`,                  // the feature's own helper template
		`&lt;script&gt;alert(1)&lt;/script&gt;`,        // escaped
		`name="csrf" value="` + csrfToken(admin) + `"`, // the form's token
		`<label for="f-name">Name</label>`,             // the layout's field helper
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the list page lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("the feature's data was not escaped")
	}

	// The form's POST carries the token; the flash shows on the page it leads to.
	rec = e.page(t, admin, "POST", "/admin/things", map[string]string{"name": "Teapot"})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("post: %d", rec.Code)
	}
	if rec = e.page(t, admin, "GET", rec.Header().Get("Location"), nil); !strings.Contains(rec.Body.String(), `<p class="flash" role="status">Added Teapot.</p>`) {
		t.Errorf("the flash message is missing:\n%s", rec.Body)
	}
	// A flash message not made for this session is not shown.
	if rec = e.page(t, admin, "GET", "/admin/things?flash=Pwned&fh=xyz", nil); strings.Contains(rec.Body.String(), "Pwned") {
		t.Error("a forged flash message shows")
	}

	// A second page of the same template set, and the organisation in the view.
	rec = e.page(t, admin, "GET", "/admin/things/kettle", nil)
	if want := `<p id="detail">Kettle of ` + e.orgA.Name + `</p>`; rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), want) {
		t.Errorf("detail: %d, lacks %s:\n%s", rec.Code, want, rec.Body)
	}
	if rec = e.page(t, admin, "GET", "/admin/things/teapot", nil); rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), "There is no such thing in this organisation.") {
		t.Errorf("error page: %d %s", rec.Code, rec.Body)
	}

	// A viewer sees the page without the form.
	if rec = e.page(t, e.sessionFor(t, e.viewA), "GET", "/admin/things", nil); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "<form method=\"post\" action=\"/admin/things\"") {
		t.Errorf("viewer: %d, form shown: %v", rec.Code, strings.Contains(rec.Body.String(), `action="/admin/things"`))
	}

	if rec = e.page(t, admin, "GET", "/admin/things-broken", nil); rec.Code != http.StatusInternalServerError {
		t.Errorf("a missing template: %d", rec.Code)
	}

	// Outside the admin server RenderPage says so instead of panicking.
	out := httptest.NewRecorder()
	RenderPage(out, httptest.NewRequest("GET", "/", nil), http.StatusOK, list, nil)
	if out.Code != http.StatusInternalServerError {
		t.Errorf("outside the server: %d", out.Code)
	}
}
