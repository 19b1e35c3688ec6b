package webadmin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

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
}

// Server is the HTTP server.
type Server struct {
	cfg     Config
	deps    Deps
	handler http.Handler
	srv     *http.Server
	ln      net.Listener
	done    chan error
}

// New builds the server and its routes; it does not listen yet.
func New(cfg Config, deps Deps) *Server {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	s := &Server{cfg: cfg, deps: deps}
	s.handler = s.routes()
	return s
}

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
