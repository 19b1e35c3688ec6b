package pbldap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// Server is the phonebook's LDAP server.
type Server struct {
	cfg     Config
	base    *ldap.DN
	dir     Directory
	folders *folderCache
	books   Books // when set, searches answer from it, not dir
	trees   treeCache
	auth    Authenticator
	reqLog  func(RequestLog)
	log     *slog.Logger
	now     func() time.Time

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	mu      sync.Mutex
	ln      net.Listener
	lnTLS   net.Listener // LDAPS, when configured
	conns   map[net.Conn]struct{}
	started bool
	closed  bool
}

// New returns a server; Start starts it.
func New(cfg Config, opts Options) (*Server, error) {
	cfg = cfg.withDefaults()
	if opts.Directory == nil && opts.Books == nil || opts.Authenticator == nil {
		return nil, errors.New("pbldap: Books (or a Directory) and an Authenticator are needed")
	}
	base, err := ldap.ParseDN(cfg.BaseDN)
	if err != nil || len(base.RDNs) == 0 || len(base.RDNs[0].Attributes) != 1 {
		return nil, fmt.Errorf("pbldap: base DN %q: not a DN with a single-valued first RDN", cfg.BaseDN)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, base: base, dir: opts.Directory, books: opts.Books, auth: opts.Authenticator, reqLog: opts.Log,
		folders: &folderCache{dir: opts.Directory, now: opts.Now, ttl: cfg.FolderTTL, orgs: map[string]cachedFolders{}},
		log:     opts.Logger, now: opts.Now, ctx: ctx, cancel: cancel, conns: map[net.Conn]struct{}{}}, nil
}

// Start listens on the configured address and serves in the background.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.started:
		return ErrStarted
	}
	if s.cfg.ListenLDAPS != "" && s.cfg.TLS == nil {
		return errors.New("pbldap: LDAPS needs a TLS configuration")
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("pbldap: listen: %w", err)
	}
	if s.cfg.ListenLDAPS != "" {
		lt, err := net.Listen("tcp", s.cfg.ListenLDAPS)
		if err != nil {
			ln.Close()
			return fmt.Errorf("pbldap: listen (LDAPS): %w", err)
		}
		s.lnTLS = tls.NewListener(lt, s.cfg.TLS)
		s.log.Info("ldaps phonebook listening", "addr", lt.Addr().String())
		s.wg.Add(1)
		go s.accept(s.lnTLS, true)
	}
	s.ln, s.started = ln, true
	s.log.Info("ldap phonebook listening", "addr", ln.Addr().String(), "base_dn", s.cfg.BaseDN, "starttls", s.cfg.TLS != nil)
	s.wg.Add(1)
	go s.accept(ln, false)
	return nil
}

// AddrLDAPS is the address of the LDAPS listener, if there is one.
func (s *Server) AddrLDAPS() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lnTLS == nil {
		return nil
	}
	return s.lnTLS.Addr()
}

// Addr is the address the server listens on, once started.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// accept serves the connections of one listener; overTLS marks LDAPS.
func (s *Server) accept(ln net.Listener, overTLS bool) {
	defer s.wg.Done()
	delay := 5 * time.Millisecond
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait and retry.
			s.log.Warn("ldap accept failed", "err", err)
			select {
			case <-time.After(delay):
			case <-s.ctx.Done():
				return
			}
			delay = min(2*delay, time.Second)
			continue
		}
		delay = 5 * time.Millisecond
		s.mu.Lock()
		if s.closed || len(s.conns) >= s.cfg.MaxConns {
			full := !s.closed
			s.mu.Unlock()
			if full {
				s.log.Warn("ldap connection refused: too many connections", "limit", s.cfg.MaxConns)
			}
			nc.Close()
			continue
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, nc)
				s.mu.Unlock()
			}()
			c := newConn(s, nc)
			c.tls = overTLS
			c.serve(s.ctx)
		}()
	}
}

// Close stops listening, ends every connection and waits for them. It is
// safe to call more than once.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.cancel()
		if s.ln != nil {
			s.ln.Close()
		}
		if s.lnTLS != nil {
			s.lnTLS.Close()
		}
		for nc := range s.conns {
			// Wake a connection blocked in a read; it sends a notice of
			// disconnection and closes.
			_ = nc.SetReadDeadline(time.Now())
		}
		s.mu.Unlock()
	})
	s.wg.Wait()
	return nil
}
