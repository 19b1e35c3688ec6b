package sipcall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"syscall"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// bindAttempts bounds how often Listen rebinds on port 0 when the port UDP
// got is already taken for TCP.
const bindAttempts = 5

// Server is a SIP user agent server listening on UDP and TCP.
type Server struct {
	cfg     Config
	log     *slog.Logger
	metrics *metrics
	ua      *sipgo.UserAgent
	uas     *sipgo.Server

	mu       sync.Mutex
	udp      net.PacketConn
	tcp      net.Listener
	tls      net.Listener // SIP over TLS (tls.go), nil without a certificate
	closed   bool
	serving  sync.WaitGroup // the ServeUDP and ServeTCP goroutines
	handling sync.WaitGroup // requests in our handlers

	// Calls.
	dialogs    *sipgo.DialogUA
	pool       *portPool
	callsMu    sync.Mutex
	calls      map[string]*call // by dialog ID
	background sync.WaitGroup   // BYEs, refreshes and hangups in flight
	videoOut   videoOut         // batched video sends (video_batch.go)
	closing    chan struct{}    // closed when Close starts

	closeOnce sync.Once
	closeErr  error
}

// NewServer builds the sipgo user agent and server for cfg and registers
// the metrics bifrost_sip_requests_total{method,transport} and
// bifrost_sip_responses_total{code} on reg, which may be nil. It does not
// bind; call Listen.
func NewServer(cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}

	libLog := sipgoLogger(logger)
	opts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent(cfg.UserAgent),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(libLog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(libLog)),
	}
	if cfg.Domain != "" {
		opts = append(opts, sipgo.WithUserAgentHostname(cfg.Domain))
	}
	ua, err := sipgo.NewUA(opts...)
	if err != nil {
		return nil, fmt.Errorf("sipcall: user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(libLog))
	if err != nil {
		_ = ua.Close()
		return nil, fmt.Errorf("sipcall: server: %w", err)
	}

	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(libLog))
	if err != nil {
		_ = ua.Close()
		return nil, fmt.Errorf("sipcall: client: %w", err)
	}

	s := &Server{
		cfg:     cfg,
		log:     logger.With("component", "sip"),
		metrics: m,
		ua:      ua,
		uas:     srv,
		calls:   map[string]*call{},
		closing: make(chan struct{}),
		// RewriteContact sends in-dialog requests to where the INVITE
		// came from when no proxy recorded a route: a caller behind NAT
		// announces a Contact we cannot reach.
		dialogs: &sipgo.DialogUA{Client: client, RewriteContact: true},
		pool:    newPortPool(bindHost(cfg.Addr), cfg.Media.RTPPortMin, cfg.Media.RTPPortMax),
	}
	s.pool.audio.useBeat(cfg.Rooms)
	s.route()
	return s, nil
}

// Listen binds UDP and TCP on the configured address, on the same port for
// both, and starts serving them. When the port is 0 it binds UDP first and
// TCP on the port UDP got, retrying with a new port a few times if TCP finds
// it taken. It returns once both are bound, or with the bind error. ctx
// bounds binding only; Close stops serving.
func (s *Server) Listen(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.udp != nil {
		return ErrListening
	}
	udp, tcp, err := bind(ctx, s.cfg.Addr)
	if err != nil {
		return err
	}
	s.udp, s.tcp = udp, tcp
	if err := s.listenTLS(ctx); err != nil {
		_ = udp.Close()
		_ = tcp.Close()
		s.udp, s.tcp = nil, nil
		return err
	}
	s.log.Info("sip listening", "udp", udp.LocalAddr().String(), "tcp", tcp.Addr().String(),
		"domain", s.cfg.Domain)

	s.serving.Add(2)
	go func() {
		defer s.serving.Done()
		if err := s.uas.ServeUDP(udp); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("sip udp serving stopped", "error", err)
		}
	}()
	go func() {
		defer s.serving.Done()
		if err := s.uas.ServeTCP(tcp); err != nil && !errors.Is(err, net.ErrClosed) {
			s.log.Error("sip tcp serving stopped", "error", err)
		}
	}()
	return nil
}

// bind opens the UDP socket and TCP listener on addr.
func bind(ctx context.Context, addr string) (net.PacketConn, net.Listener, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("sipcall: %w", err)
	}
	port, err := parsePort(portStr)
	if err != nil {
		return nil, nil, fmt.Errorf("sipcall: %w", err)
	}
	attempts := 1
	if port == 0 {
		attempts = bindAttempts
	}

	var lc net.ListenConfig
	for attempt := 1; ; attempt++ {
		udp, err := lc.ListenPacket(ctx, "udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("sipcall: %w", err)
		}
		udpPort := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(udpPort)))
		if err == nil {
			return udp, tcp, nil
		}
		_ = udp.Close()
		if attempt >= attempts || !errors.Is(err, syscall.EADDRINUSE) {
			return nil, nil, fmt.Errorf("sipcall: %w", err)
		}
	}
}

// UDPAddr returns the bound UDP address, or nil before Listen.
func (s *Server) UDPAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udp == nil {
		return nil
	}
	return s.udp.LocalAddr()
}

// TCPAddr returns the bound TCP address, or nil before Listen.
func (s *Server) TCPAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tcp == nil {
		return nil
	}
	return s.tcp.Addr()
}

// Close stops listening, closes the TCP connections and transactions, and
// waits for the serving goroutines and the requests in our handlers. It is
// idempotent; later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		// Calls end first, while the transports can still carry their
		// BYEs.
		close(s.closing)
		s.endCalls(bridge.EndShutdown)
		s.mu.Lock()
		s.closed = true
		udp, tcp, tl := s.udp, s.tcp, s.tls
		s.mu.Unlock()

		var errs []error
		if udp != nil {
			errs = append(errs, ignoreClosed(udp.Close()))
		}
		if tcp != nil {
			errs = append(errs, ignoreClosed(tcp.Close()))
		}
		if tl != nil {
			errs = append(errs, ignoreClosed(tl.Close()))
		}
		s.serving.Wait()
		// Closing the user agent closes accepted TCP connections, so a
		// handler blocked writing to a peer that stopped reading returns.
		errs = append(errs, ignoreClosed(s.ua.Close()))
		s.handling.Wait()
		s.background.Wait()
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("sipcall: close: %w", err)
		}
	})
	return s.closeErr
}

// ignoreClosed drops net.ErrClosed, which only says the socket was already
// closed.
func ignoreClosed(err error) error {
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}
