package webadmin

import (
	"context"
	"html/template"
	"net/http"
	"sync"
)

// FeaturePage is a feature's admin page: its own templates, rendered inside the admin
// layout (navigation, signed-in user, organisation, flash message) by RenderPage.
//
// Template holds the feature's html/template definitions, parsed (usually from
// an embed.FS) but never executed on their own: RenderPage copies their parse
// trees next to the layout, so they may call the layout's helper templates
// "field" and "pager". They may use only html/template's built-in functions;
// format values into the data instead. Name is the definition that is the page's
// content. The content's dot is the layout's view:
//
//	.Data      the data passed to RenderPage
//	.CSRF      the session's form token; every POST form carries it as the
//	           hidden field "csrf" (the guard refuses a form without it)
//	.CanWrite  whether the principal may change things (admin or system)
//	.IsSystem  whether the principal is a system administrator
//	.Org       the organisation acted on (.Org.Name)
//	.Title     the page title
type FeaturePage struct {
	Template *template.Template
	Name     string
	Title    string
	// Active is the navigation path to mark as current (e.g. "/admin/conferences").
	Active string
}

type serverKey struct{}

func withServer(ctx context.Context, s *Server) context.Context {
	return context.WithValue(ctx, serverKey{}, s)
}

func serverFrom(ctx context.Context) *Server {
	s, _ := ctx.Value(serverKey{}).(*Server)
	return s
}

// featurePageKey names one page of one feature's template set.
type featurePageKey struct {
	t    *template.Template
	name string
}

// featurePages caches the layout joined with a feature's page, built on first use.
type featurePages struct {
	mu sync.Mutex
	m  map[featurePageKey]*template.Template
}

// featurePage returns the layout with p's templates added and p.Name as "content".
func (s *Server) featurePage(p FeaturePage) (*template.Template, error) {
	fp := &s.features
	fp.mu.Lock()
	defer fp.mu.Unlock()
	key := featurePageKey{p.Template, p.Name}
	if t, ok := fp.m[key]; ok {
		return t, nil
	}
	if p.Template == nil || p.Template.Lookup(p.Name) == nil || p.Template.Lookup(p.Name).Tree == nil {
		return nil, errorf("feature page: no template %q", p.Name)
	}
	t, err := s.pages.layout.Clone()
	if err != nil {
		return nil, err
	}
	for _, d := range p.Template.Templates() {
		if d.Tree == nil || d.Name() == "layout" || d.Name() == "content" {
			continue
		}
		if _, err := t.AddParseTree(d.Name(), d.Tree.Copy()); err != nil {
			return nil, err
		}
	}
	if _, err := t.AddParseTree("content", p.Template.Lookup(p.Name).Tree.Copy()); err != nil {
		return nil, err
	}
	if fp.m == nil {
		fp.m = map[featurePageKey]*template.Template{}
	}
	fp.m[key] = t
	return t, nil
}

// RenderPage writes a feature's page p with status and data inside the admin
// layout, as the built-in pages are. It is for the handlers of a Feature's page
// routes (under /admin/); called on any other request it answers 500.
func RenderPage(w http.ResponseWriter, r *http.Request, status int, p FeaturePage, data any) {
	s := serverFrom(r.Context())
	if s == nil {
		http.Error(w, "RenderPage outside the admin server", http.StatusInternalServerError)
		return
	}
	t, err := s.featurePage(p)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.renderTemplate(w, r, status, t, p.Title, p.Active, data)
}

// RenderError writes the admin's error page with status and a sentence saying
// what went wrong (e.g. 404, "There is no such conference in this organisation.").
func RenderError(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	s := serverFrom(r.Context())
	if s == nil {
		http.Error(w, message, status)
		return
	}
	s.render(w, r, status, "error", title, "", message)
}

// RedirectFlash sends the browser after a form's POST to path (303 See Other),
// where the layout shows flash, a short message (e.g. "Muted Alice."). The
// message is bound to the session, so a link from elsewhere cannot show one.
func RedirectFlash(w http.ResponseWriter, r *http.Request, path, flash string) {
	redirectFlash(w, r, path, flash)
}
