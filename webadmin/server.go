package webadmin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
)

// Deps are what the HTTP server needs from the rest of the binary.
type Deps struct {
	Logger *slog.Logger
	// Registry holds every collector of the process; /metrics serves it.
	Registry *prometheus.Registry
	// Ready reports whether the server can do its work (database reachable,
	// schema current); /readyz answers 503 with its error otherwise.
	Ready func(ctx context.Context) error
	// DB is the database of the admin pages and the REST API; without it only
	// health, readiness and metrics are served.
	DB *sqlx.DB
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// SIPDomain is the host part of the rooms' SIP URIs; empty uses the host the
	// admin pages were reached at.
	SIPDomain string
	// Features are the parts of the admin other packages contribute.
	Features []Feature
}

// Server is the HTTP server.
type Server struct {
	cfg   Config
	store *Store
	pages *pages
	table []Route
	// features caches the features' pages joined with the layout (RenderPage).
	features featurePages
	proxies  []*net.IPNet
	deps     Deps
	handler  http.Handler
	srv      *http.Server
	ln       net.Listener
	done     chan error
}

// New builds the server and its routes; it does not listen yet.
func New(cfg Config, deps Deps) *Server {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	s := &Server{cfg: cfg, deps: deps}
	// Validate has reported a bad list; here it trusts none.
	s.proxies, _ = parseCIDRs(cfg.TrustedProxies)
	if deps.DB != nil {
		s.store = NewStore(deps.DB, deps.Now)
	}
	s.pages = mustParsePages()
	s.handler = s.routes()
	return s
}

// Store returns the server's store (nil without Deps.DB).
func (s *Server) Store() *Store { return s.store }

// Handler returns the server's root handler (for tests with httptest).
func (s *Server) Handler() http.Handler { return s.handler }

// Listen binds the configured address and starts serving in the background.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.deps.Logger.Handler(), slog.LevelWarn),
	}
	s.done = make(chan error, 1)
	go func() { s.done <- s.srv.Serve(ln) }()
	return nil
}

// Addr is the bound address (useful when the configured port was 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops accepting connections and waits for requests in flight until ctx
// ends; then it closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	if serr := <-s.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return fmt.Errorf("http: %w", serr)
	}
	return err
}
