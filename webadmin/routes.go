package webadmin

import (
	"crypto/hmac"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes is the one place where every URL of the server is declared: health and
// metrics, then the route table (builtinRoutes and the features' routes), each
// behind guard, all behind cross-origin protection.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.deps.Registry, promhttp.HandlerOpts{Registry: s.deps.Registry}))
	if s.store != nil {
		s.table = s.builtinRoutes()
		for _, f := range s.deps.Features {
			s.table = append(s.table, f.Routes...)
		}
		for _, rt := range s.table {
			mux.Handle(rt.Pattern, s.guard(rt))
		}
	}
	// CSRF, first line: a browser says where a request comes from (Sec-Fetch-Site,
	// Origin); a state-changing request from another origin is refused. Forms
	// also carry a per-session token (guard), for browsers that send neither.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isAPI(r.URL.Path) {
			writeAPIError(w, http.StatusForbidden, "cross_origin", "", "cross-origin request refused")
			return
		}
		http.Error(w, "Cross-origin request refused.", http.StatusForbidden)
	}))
	return s.withMiddleware(cop.Handler(apiNotFound(mux)))
}

// apiNotFound answers an API request that matches no route (404) or no method
// of its route (405, with Allow) with the API's JSON error instead of the
// mux's plain text.
func apiNotFound(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" || !isAPI(r.URL.Path) {
			mux.ServeHTTP(w, r)
			return
		}
		probe := &statusOnly{header: http.Header{}}
		h.ServeHTTP(probe, r)
		if allow := probe.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		if probe.code == http.StatusMethodNotAllowed {
			writeAPIError(w, probe.code, "method_not_allowed", "", r.Method+" is not allowed here")
			return
		}
		writeAPIError(w, http.StatusNotFound, "not_found", "", "no such API resource")
	})
}

// statusOnly records a handler's status and headers and drops its body.
type statusOnly struct {
	header http.Header
	code   int
}

func (s *statusOnly) Header() http.Header         { return s.header }
func (s *statusOnly) Write(b []byte) (int, error) { return len(b), nil }
func (s *statusOnly) WriteHeader(code int)        { s.code = code }

// builtinRoutes is the web admin's own route table: the REST API and the pages.
func (s *Server) builtinRoutes() []Route {
	h := func(f http.HandlerFunc) http.Handler { return f }
	return []Route{
		{"GET /api/v1/openapi.json", AccessPublic, h(s.apiOpenAPI)},
		{"GET /api/v1/rooms", AccessRead, h(s.apiListRooms)},
		{"POST /api/v1/rooms", AccessWrite, h(s.apiCreateRoom)},
		{"GET /api/v1/rooms/{id}", AccessRead, h(s.apiGetRoom)},
		{"PATCH /api/v1/rooms/{id}", AccessWrite, h(s.apiUpdateRoom)},
		{"DELETE /api/v1/rooms/{id}", AccessWrite, h(s.apiDeleteRoom)},
		{"GET /api/v1/users", AccessRead, h(s.apiListUsers)},
		{"POST /api/v1/users", AccessWrite, h(s.apiCreateUser)},
		{"GET /api/v1/users/{id}", AccessRead, h(s.apiGetUser)},
		// A user may change their own name and password and delete their own
		// account: the handlers check write access for anyone else.
		{"PATCH /api/v1/users/{id}", AccessRead, h(s.apiUpdateUser)},
		{"DELETE /api/v1/users/{id}", AccessRead, h(s.apiDeleteUser)},
		{"GET /api/v1/tokens", AccessRead, h(s.apiListTokens)},
		{"POST /api/v1/tokens", AccessWrite, h(s.apiCreateToken)},
		{"GET /api/v1/tokens/{id}", AccessRead, h(s.apiGetToken)},
		{"DELETE /api/v1/tokens/{id}", AccessWrite, h(s.apiRevokeToken)},
		{"GET /api/v1/audit", AccessRead, h(s.apiListAudit)},
		{"GET /api/v1/organisation", AccessRead, h(s.apiGetOrganisation)},
		{"PATCH /api/v1/organisation", AccessWrite, h(s.apiUpdateOrganisation)},

		{"GET /admin", AccessPublic, http.RedirectHandler("/admin/", http.StatusMovedPermanently)},
		{"GET /admin/static/", AccessPublic, h(s.handleStatic)},
		{"GET /admin/login", AccessPublic, h(s.pageLogin)},
		{"POST /admin/login", AccessPublic, h(s.pageLoginPost)},
		{"POST /admin/logout", AccessRead, h(s.pageLogout)},
		{"GET /admin/{$}", AccessRead, h(s.pageDashboard)},
		{"GET /admin/organisations", AccessSystem, h(s.pageOrganisations)},
		{"POST /admin/organisations", AccessSystem, h(s.pageCreateOrganisation)},
		{"POST /admin/organisations/{id}/switch", AccessSystem, h(s.pageSwitchOrganisation)},
		{"GET /admin/users", AccessRead, h(s.pageUsers)},
		{"POST /admin/users", AccessWrite, h(s.pageCreateUser)},
		{"GET /admin/users/{id}", AccessRead, h(s.pageEditUser)},
		{"POST /admin/users/{id}", AccessRead, h(s.pageUpdateUser)},
		{"POST /admin/users/{id}/delete", AccessRead, h(s.pageDeleteUser)},
		{"GET /admin/tokens", AccessRead, h(s.pageTokens)},
		{"POST /admin/tokens", AccessWrite, h(s.pageCreateToken)},
		{"POST /admin/tokens/{id}/revoke", AccessWrite, h(s.pageRevokeToken)},
		{"GET /admin/rooms", AccessRead, h(s.pageRooms)},
		{"GET /admin/rooms/new", AccessWrite, h(s.pageNewRoom)},
		{"POST /admin/rooms", AccessWrite, h(s.pageCreateRoom)},
		{"GET /admin/rooms/{id}", AccessWrite, h(s.pageEditRoom)},
		{"POST /admin/rooms/{id}", AccessWrite, h(s.pageUpdateRoom)},
		{"POST /admin/rooms/{id}/delete", AccessWrite, h(s.pageDeleteRoom)},
		{"GET /admin/audit", AccessRead, h(s.pageAudit)},
		{"GET /admin/audit.csv", AccessRead, h(s.pageAuditCSV)},
		{"GET /admin/settings", AccessRead, h(s.pageSettings)},
		{"POST /admin/settings", AccessWrite, h(s.pageUpdateSettings)},
	}
}

func isAPI(path string) bool { return strings.HasPrefix(path, "/api/") }

// guard authenticates the request for rt, checks the role and, for forms, the
// CSRF token, and passes the principal on in the context.
func (s *Server) guard(rt Route) http.Handler {
	_, path, _ := strings.Cut(rt.Pattern, " ")
	api := isAPI(path)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.WithContext(withServer(r.Context(), s))
		if rt.Access == AccessPublic {
			rt.Handler.ServeHTTP(w, r)
			return
		}
		p, sess, err := s.authenticate(r, api)
		if err != nil {
			switch {
			case !errors.Is(err, ErrUnauthenticated):
				s.serverError(w, r, err)
			case api:
				w.Header().Set("WWW-Authenticate", `Bearer realm="bifrost"`)
				writeAPIError(w, http.StatusUnauthorized, "unauthorized", "", "a valid API token (Authorization: Bearer) or session is required")
			default:
				http.Redirect(w, r, "/admin/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			}
			return
		}
		ctx := WithPrincipal(r.Context(), p)
		if sess != nil {
			ctx = withSession(ctx, sess)
		}
		r = r.WithContext(ctx)
		if (rt.Access == AccessWrite && !p.CanWrite()) || (rt.Access == AccessSystem && !p.IsSystem()) {
			s.forbidden(w, r, api)
			return
		}
		if !api && sess != nil && !safeMethod(r.Method) && !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(sess.CSRF)) {
			s.render(w, r, http.StatusForbidden, "error", "Form refused", "",
				"The form is stale or was not sent by this site; reload the page and try again.")
			return
		}
		rt.Handler.ServeHTTP(w, r)
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// authenticate finds the principal of r: a Bearer token (API only) or the session
// cookie.
func (s *Server) authenticate(r *http.Request, api bool) (Principal, *Session, error) {
	if auth := r.Header.Get("Authorization"); api && auth != "" {
		scheme, tok, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return Principal{}, nil, ErrUnauthenticated
		}
		p, err := s.store.AuthenticateToken(r.Context(), strings.TrimSpace(tok))
		p.IP = s.clientIP(r)
		return p, nil, err
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return Principal{}, nil, ErrUnauthenticated
	}
	sess, err := s.store.SessionByID(r.Context(), c.Value)
	if err != nil {
		return Principal{}, nil, err
	}
	sess.Principal.IP = s.clientIP(r)
	sess.id = c.Value
	return sess.Principal, &sess, nil
}

func (s *Server) forbidden(w http.ResponseWriter, r *http.Request, api bool) {
	if api {
		writeAPIError(w, http.StatusForbidden, "forbidden", "", "your role does not allow this")
		return
	}
	s.render(w, r, http.StatusForbidden, "error", "Not allowed", "", "Your role does not allow this.")
}

func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.deps.Logger.ErrorContext(r.Context(), "http handler failed", "path", r.URL.Path, "err", err)
	if isAPI(r.URL.Path) {
		writeAPIError(w, http.StatusInternalServerError, "internal", "", "internal error")
		return
	}
	http.Error(w, "Something went wrong; it has been logged.", http.StatusInternalServerError)
}
