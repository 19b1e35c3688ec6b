package phonebook

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The URL paths of the protocols, below /pb/{token}. TMSPath is the path
// Cisco endpoints are configured with (PROTOCOLS.md §1.1).
const (
	TMSPath         = "/tms/public/external/phonebook/phonebookservice.asmx"
	YealinkBookPath = "/yealink/phonebook.xml" // YealinkIPPhoneBook, the whole phonebook
	YealinkDirPath  = "/yealink/directory.xml" // YealinkIPPhoneDirectory, ?q= searches
	CiscoDirPath    = "/cisco/directory.xml"   // CiscoIPPhoneDirectory, ?q= searches
)

// Config configures the HTTP phonebook.
type Config struct {
	// BareTMSOrganisation (a name or ID), when set, also serves the bare TMS
	// path (without /pb/ and a token) with that organisation's whole
	// phonebook: for a deployment with one organisation whose endpoints are
	// set up with the plain TMS URL. Anyone who reaches the server can read
	// that phonebook then.
	BareTMSOrganisation string
	// PublicURL is the base URL phones reach the server at (for the links in
	// Cisco IP phone pages); empty: taken from the request's Host.
	PublicURL string
}

// Deps are what the HTTP phonebook uses.
type Deps struct {
	Tokens *Tokens
	Cache  *Cache
	// Log receives every request; nil logs nothing.
	Log    interface{ Log(Request) }
	Logger *slog.Logger
	Now    func() time.Time
}

// Server answers the phonebook protocols over HTTP.
type Server struct {
	cfg    Config
	deps   Deps
	bufs   sync.Pool // answers being rendered
	bodies sync.Pool // request bodies being read (*[]byte)
}

// NewServer returns the HTTP phonebook.
func NewServer(cfg Config, deps Deps) *Server {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	return &Server{cfg: cfg, deps: deps,
		bufs:   sync.Pool{New: func() any { return new(bytes.Buffer) }},
		bodies: sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}}
}

// HTTPRoute is one URL pattern the server answers.
type HTTPRoute struct {
	Pattern string // net/http ServeMux pattern with method
	Handler http.Handler
}

// Routes returns the server's routes, to mount on a ServeMux (unauthenticated:
// the token in the path is the credential).
func (s *Server) Routes() []HTTPRoute {
	tms := map[string]protoHandler{http.MethodPost: s.serveTMS, http.MethodGet: s.serveTMSHelp}
	rs := []HTTPRoute{
		// Patterns without a method: a wrong method, or an unknown path
		// below a token, is answered here, so that the token is out of the
		// URL before any access log reads it.
		{"/pb/{token}" + TMSPath, s.tokenHandler(ProtocolTMS, tms)},
		{"/pb/{token}" + YealinkBookPath, s.tokenHandler(ProtocolYealink, get(s.serveYealinkBook))},
		{"/pb/{token}" + YealinkDirPath, s.tokenHandler(ProtocolYealink, get(s.serveYealinkDirectory))},
		{"/pb/{token}" + CiscoDirPath, s.tokenHandler(ProtocolCiscoIPPhone, get(s.serveCiscoDirectory))},
		{"/pb/{token}" + JSONPath, s.tokenHandler(ProtocolJSON, get(s.serveJSON))},
		{"/pb/{token}/{rest...}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			redactToken(r, r.PathValue("token"))
			http.NotFound(w, r)
		})},
	}
	if s.cfg.BareTMSOrganisation != "" {
		rs = append(rs, HTTPRoute{TMSPath, s.bareHandler(tms)})
	}
	return rs
}

func get(h protoHandler) map[string]protoHandler {
	return map[string]protoHandler{http.MethodGet: h, http.MethodHead: h}
}

// Handler returns the routes on their own ServeMux.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.Routes() {
		mux.Handle(rt.Pattern, rt.Handler)
	}
	return mux
}

// call is one request being answered: its token's view, its log record and
// the writer that remembers the status (one allocation for the three).
type call struct {
	view  View
	token Token
	rec   Request
	w     statusWriter
}

type protoHandler func(w http.ResponseWriter, r *http.Request, c *call)

// tokenHandler resolves the token in the path (404 when unknown or revoked),
// loads the book, runs the handler of the method (405 for another method)
// and logs the request.
func (s *Server) tokenHandler(protocol string, hs map[string]protoHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowed(w, r, hs) {
			redactToken(r, r.PathValue("token"))
			return
		}
		s.serve(w, r, protocol, r.PathValue("token"), false, hs[r.Method])
	})
}

func (s *Server) bareHandler(hs map[string]protoHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allowed(w, r, hs) {
			s.serve(w, r, ProtocolTMS, "", true, hs[r.Method])
		}
	})
}

// allowed answers 405 with Allow when hs has no handler for the method.
func allowed(w http.ResponseWriter, r *http.Request, hs map[string]protoHandler) bool {
	if _, ok := hs[r.Method]; ok {
		return true
	}
	var ms []string
	for m := range hs {
		ms = append(ms, m)
	}
	slices.Sort(ms)
	w.Header().Set("Allow", strings.Join(ms, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// serve answers one request with the phonebook of the token secret, or (bare)
// of the configured organisation.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, protocol, secret string, bare bool, h protoHandler) {
	start := s.deps.Now()
	// Access logs that wrap this handler read the path after it returns:
	// they get it without the token (a secret). The URL is shared with the
	// request the outer handlers hold.
	defer redactToken(r, secret)
	var t Token
	var err error
	if bare {
		t.OrganisationID, t.Name, err = s.deps.Tokens.Organisation(r.Context(), s.cfg.BareTMSOrganisation)
	} else {
		t, err = s.deps.Tokens.Resolve(r.Context(), secret)
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			// Never the token itself: it is a secret.
			s.deps.Logger.Info("phonebook: unknown or revoked token", "protocol", protocol, "client_ip", peer(r))
			http.NotFound(w, r)
			return
		}
		s.deps.Logger.Error("phonebook: token lookup failed", "err", err)
		http.Error(w, "phonebook unavailable", http.StatusServiceUnavailable)
		return
	}
	b, err := s.deps.Cache.Book(r.Context(), t.OrganisationID)
	if err != nil {
		s.deps.Logger.Error("phonebook: directory unavailable", "organisation_id", t.OrganisationID, "err", err)
		http.Error(w, "phonebook unavailable", http.StatusServiceUnavailable)
		return
	}
	c := &call{view: b.View(t.FolderPath, t.Name), token: t, rec: Request{
		At: start, OrganisationID: t.OrganisationID, TokenID: t.ID, Protocol: protocol,
		ClientIP: peer(r), ForwardedFor: headerValue(r.Header, "X-Forwarded-For"), UserAgent: headerValue(r.Header, "User-Agent"),
	}}
	c.w.ResponseWriter = w
	h(&c.w, r, c)
	c.rec.HTTPStatus = c.w.status()
	c.rec.Duration = s.deps.Now().Sub(start)
	if s.deps.Log != nil {
		s.deps.Log.Log(c.rec)
	}
}

// redactToken replaces the token in the request's URL path by "{token}".
func redactToken(r *http.Request, secret string) {
	if secret == "" {
		return
	}
	r.URL.Path = redact(r.URL.Path, secret)
	r.URL.RawPath = redact(r.URL.RawPath, secret)
	r.RequestURI = redact(r.RequestURI, secret)
}

// redactedPaths are the protocols' paths as redact returns them, so that
// redacting the path of a request to one of them allocates nothing.
var redactedPaths = []string{"/pb/{token}" + TMSPath, "/pb/{token}" + YealinkBookPath,
	"/pb/{token}" + YealinkDirPath, "/pb/{token}" + CiscoDirPath, "/pb/{token}" + JSONPath}

// redact returns s with its first secret replaced by "{token}".
func redact(s, secret string) string {
	i := strings.Index(s, secret)
	if i < 0 {
		return s
	}
	if s[:i] == "/pb/" {
		rest := s[i+len(secret):]
		for _, p := range redactedPaths {
			if p[len("/pb/{token}"):] == rest {
				return p
			}
		}
	}
	return s[:i] + "{token}" + s[i+len(secret):]
}

// headerValue is h.Get(key) for a key already in canonical form: Get
// canonicalises its argument, which allocates for a key such as
// "SOAPAction" ("Soapaction") on every request.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// The values of the headers every answer carries. A header map holds
// them without copying (net/http only reads them); a handler that wraps
// this one and changes one sets a new slice, as Header().Set does.
var (
	noStore      = []string{"no-store"}
	contentTypes = map[string][]string{}
)

func init() {
	for _, t := range []string{tmsContentType, xmlContentType, jsonContentType, htmlContentType} {
		contentTypes[t] = []string{t}
	}
}

// write sends body with status and content type, and its length, so that
// the server sends it as it is (no chunked encoding).
func write(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	if v, ok := contentTypes[contentType]; ok {
		h["Content-Type"] = v
	} else {
		h.Set("Content-Type", contentType)
	}
	h["Cache-Control"] = noStore
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) buffer() *bytes.Buffer {
	b := s.bufs.Get().(*bytes.Buffer)
	b.Reset()
	return b
}

func (s *Server) release(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		s.bufs.Put(b)
	}
}

// readBody reads at most limit bytes of the request body into a buffer of
// the server's pool; more is ErrTooLarge (a Content-Length over the limit
// is refused before anything is read). The body is valid until putBody(p);
// nothing may keep a slice of it.
func (s *Server) readBody(r *http.Request, limit int) (body []byte, p *[]byte, err error) {
	p = s.bodies.Get().(*[]byte)
	if r.ContentLength > int64(limit) {
		return nil, p, ErrTooLarge
	}
	b := (*p)[:0]
	if n := int(r.ContentLength); n >= cap(b) {
		b = slices.Grow(b, n+1) // +1: room for the Read that sees EOF
	}
	for len(b) <= limit {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(cap(b), limit+1-len(b)))
		}
		n, err := r.Body.Read(b[len(b):min(cap(b), limit+1)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*p = b
			return nil, p, err
		}
	}
	*p = b
	if len(b) > limit {
		return nil, p, ErrTooLarge
	}
	return b, p, nil
}

// putBody returns a buffer of readBody to the pool.
func (s *Server) putBody(p *[]byte) {
	if cap(*p) <= 2*MaxSOAPBody {
		*p = (*p)[:0]
		s.bodies.Put(p)
	}
}

func peer(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}
