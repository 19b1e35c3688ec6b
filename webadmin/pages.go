package webadmin

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds the parsed templates, one per page, each with the layout.
type pages struct {
	layout *template.Template
	tmpl   map[string]*template.Template
}

// mustParsePages parses every page template with the layout, once, at start. A
// template error is a programming error caught by any test.
func mustParsePages() *pages {
	layout := template.Must(template.New("layout").ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	p := &pages{layout: layout, tmpl: map[string]*template.Template{}}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		p.tmpl[base] = template.Must(template.Must(layout.Clone()).ParseFS(templateFS, n))
	}
	return p
}

// view is what every page template gets.
type view struct {
	Title    string
	Active   string // the nav path to mark as current
	Session  *Session
	Nav      []NavItem
	Org      Organisation
	CSRF     string
	Flash    string
	CanWrite bool
	IsSystem bool
	Data     any
}

// builtinNav is the navigation of the built-in pages; features add theirs after.
var builtinNav = []NavItem{
	{Title: "Dashboard", Path: "/admin/", Access: AccessRead},
	{Title: "Rooms", Path: "/admin/rooms", Access: AccessRead},
	{Title: "Accounts", Path: "/admin/users", Access: AccessRead},
	{Title: "API tokens", Path: "/admin/tokens", Access: AccessRead},
	{Title: "Audit log", Path: "/admin/audit", Access: AccessRead},
	{Title: "Settings", Path: "/admin/settings", Access: AccessRead},
	{Title: "Organisations", Path: "/admin/organisations", Access: AccessSystem},
}

// render writes page name with status, filling in the session, navigation and
// organisation of r.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title, active string, data any) {
	t, ok := s.pages.tmpl[name]
	if !ok {
		s.serverError(w, r, errorf("no page template %q", name))
		return
	}
	s.renderTemplate(w, r, status, t, title, active, data)
}

// renderTemplate executes t's "layout" with the view of r.
func (s *Server) renderTemplate(w http.ResponseWriter, r *http.Request, status int, t *template.Template, title, active string, data any) {
	v := view{Title: title, Active: active, Data: data}
	if sess := sessionFrom(r.Context()); sess != nil {
		// The flash message travels in the URL, authenticated for this
		// session, so that a link from elsewhere cannot put words on the page.
		if msg := r.URL.Query().Get("flash"); msg != "" && len(msg) <= 200 &&
			hmac.Equal([]byte(r.URL.Query().Get("fh")), []byte(flashMAC(sess, msg))) {
			v.Flash = msg
		}
		p := sess.Principal
		v.Session, v.CSRF, v.CanWrite, v.IsSystem = sess, sess.CSRF, p.CanWrite(), p.IsSystem()
		nav := append([]NavItem{}, builtinNav...)
		for _, f := range s.deps.Features {
			nav = append(nav, f.Nav...)
		}
		for _, n := range nav {
			if n.Access != AccessSystem || p.IsSystem() {
				if n.Access == AccessWrite && !p.CanWrite() {
					continue
				}
				v.Nav = append(v.Nav, n)
			}
		}
		if o, err := s.store.GetOrganisation(r.Context(), p.OrganisationID); err == nil {
			v.Org = o
		}
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.serverError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// field is one form input, with its error shown next to it.
type field struct {
	Name, Label, Type, Value, Hint, Error, Pattern, Autocomplete string
	Required                                                     bool
}

// formError renders err into the fields: a ValidationError or ConflictError
// shows next to its field; it reports whether err was one of those.
func formError(fields []field, err error) bool {
	f, msg := "", ""
	var v *ValidationError
	var c *ConflictError
	if errors.As(err, &v) {
		f, msg = v.Field, v.Message
	} else if errors.As(err, &c) {
		f, msg = c.Field, c.Message
	} else {
		return false
	}
	for i := range fields {
		if fields[i].Name == f {
			fields[i].Error = strings.ToUpper(msg[:1]) + msg[1:] + "."
			return true
		}
	}
	if len(fields) > 0 {
		fields[0].Error = f + " " + msg + "."
	}
	return true
}

// pager links a list's pages.
type pager struct {
	Prev, Next      string
	From, To, Total int
}

const pageSize = 50

func pageOf(r *http.Request) Page {
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	return Page{Limit: pageSize, Offset: max(n-1, 0) * pageSize}
}

func makePager(r *http.Request, p Page, shown, total int) pager {
	pg := pager{From: p.Offset + 1, To: p.Offset + shown, Total: total}
	if shown == 0 {
		pg.From = 0
	}
	link := func(page int) string {
		q := r.URL.Query()
		q.Del("flash")
		q.Del("fh")
		q.Set("page", strconv.Itoa(page))
		return r.URL.Path + "?" + q.Encode()
	}
	cur := p.Offset/pageSize + 1
	if cur > 1 {
		pg.Prev = link(cur - 1)
	}
	if p.Offset+shown < total {
		pg.Next = link(cur + 1)
	}
	return pg
}

// redirectFlash sends the browser to path with a short message to show.
func redirectFlash(w http.ResponseWriter, r *http.Request, path, flash string) {
	if sess := sessionFrom(r.Context()); flash != "" && sess != nil {
		path += "?" + url.Values{"flash": {flash}, "fh": {flashMAC(sess, flash)}}.Encode()
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

func (s *Server) pageFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ErrNotFound):
		s.render(w, r, http.StatusNotFound, "error", "Not found", "", "There is no such object in this organisation.")
	case errors.Is(err, ErrForbidden):
		s.render(w, r, http.StatusForbidden, "error", "Not allowed", "", "Your role does not allow this.")
	default:
		s.serverError(w, r, err)
	}
}

func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	sub, _ := fs.Sub(staticFS, "static")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	http.StripPrefix("/admin/static/", http.FileServerFS(sub)).ServeHTTP(w, r)
}

// flashMAC authenticates a flash message for a session.
func flashMAC(sess *Session, msg string) string {
	h := sha256.Sum256([]byte("bifrost flash\x00" + sess.CSRF + "\x00" + msg))
	return base64.RawURLEncoding.EncodeToString(h[:12])
}
