package webcall

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/coder/websocket"
	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/bifrost-video/bifrost/bridge"
)

// Deps are the collaborators of a Server.
type Deps struct {
	Bridge *bridge.Bridge
	Logger *slog.Logger
}

// Server admits browsers to the bridge's rooms: it serves the signalling
// WebSocket and owns the UDP and TCP sockets all WebRTC media uses.
type Server struct {
	cfg  Config
	br   *bridge.Bridge
	log  *slog.Logger
	api  *webrtc.API
	udp  *net.UDPConn
	tcp  net.Listener
	umux ice.UDPMux
	tmux ice.TCPMux

	unsubscribe func()
	timers      timers

	mu       sync.Mutex
	closed   bool
	sessions map[*session]struct{}
	byConf   map[bridge.ConferenceID]map[*session]struct{}

	wg        sync.WaitGroup
	closeOnce sync.Once
}

// NewServer opens the media sockets and returns a Server; Close releases
// them.
func NewServer(cfg Config, deps Deps) (*Server, error) {
	if deps.Bridge == nil {
		return nil, errors.New("webcall: NewServer without a Bridge")
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		br:       deps.Bridge,
		log:      deps.Logger,
		sessions: make(map[*session]struct{}),
		byConf:   make(map[bridge.ConferenceID]map[*session]struct{}),
	}
	ua, err := net.ResolveUDPAddr("udp", cfg.UDPAddr)
	if err != nil {
		return nil, fmt.Errorf("webrtc udp address %q: %w", cfg.UDPAddr, err)
	}
	s.udp, err = net.ListenUDP("udp", ua)
	if err != nil {
		return nil, fmt.Errorf("webrtc udp: %w", err)
	}
	if cfg.TCPAddr != "" {
		s.tcp, err = net.Listen("tcp", cfg.TCPAddr)
		if err != nil {
			_ = s.udp.Close()
			return nil, fmt.Errorf("webrtc tcp: %w", err)
		}
	}
	if s.api, err = s.newAPI(); err != nil {
		s.closeSockets()
		return nil, err
	}
	s.unsubscribe = s.br.Subscribe(s.roomEvent)
	return s, nil
}

// newAPI builds the pion API every PeerConnection shares: the codecs, the
// interceptors (NACK, RTCP reports, TWCC feedback) and ICE-lite on the muxed
// sockets.
func (s *Server) newAPI() (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := registerCodecs(me); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := s.registerInterceptors(me, ir); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{LoggerFactory: pionLogs{s.log}}
	se.SetLite(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.umux = webrtc.NewICEUDPMux(pionLogs{s.log}.NewLogger("udpmux"), s.udp)
	se.SetICEUDPMux(s.umux)
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if s.tcp != nil {
		s.tmux = webrtc.NewICETCPMux(pionLogs{s.log}.NewLogger("tcpmux"), s.tcp, 64)
		se.SetICETCPMux(s.tmux)
		types = append(types, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(types)
	if ip := s.udp.LocalAddr().(*net.UDPAddr).IP; ip.IsLoopback() {
		se.SetIncludeLoopbackCandidate(true) // tests and same-host setups
	}
	if s.cfg.PublicIP != "" {
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        []string{s.cfg.PublicIP},
			AsCandidateType: webrtc.ICECandidateTypeHost,
		}); err != nil {
			return nil, err
		}
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// UDPAddr is the address of the media UDP port.
func (s *Server) UDPAddr() net.Addr { return s.udp.LocalAddr() }

// TCPAddr is the address of the ICE-TCP port, nil when it is off.
func (s *Server) TCPAddr() net.Addr {
	if s.tcp == nil {
		return nil
	}
	return s.tcp.Addr()
}

// ServeWebSocket serves one browser's signalling WebSocket for the room that
// alias dials. It returns when the browser has left.
func (s *Server) ServeWebSocket(w http.ResponseWriter, r *http.Request, alias string) {
	c, err := websocket.Accept(w, r, nil) // same-origin only
	if err != nil {
		return // Accept has answered
	}
	c.SetReadLimit(MaxMessageSize)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = c.Close(websocket.StatusGoingAway, string(CodeShuttingDown))
		return
	}
	se := newSession(s, c, r, alias)
	s.sessions[se] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	se.run(r.Context())
	s.mu.Lock()
	delete(s.sessions, se)
	s.mu.Unlock()
}

// track registers se for the events of its conference.
func (s *Server) track(se *session, id bridge.ConferenceID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.byConf[id]
	if m == nil {
		m = make(map[*session]struct{})
		s.byConf[id] = m
	}
	m[se] = struct{}{}
}

func (s *Server) untrack(se *session, id bridge.ConferenceID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.byConf[id]; m != nil {
		delete(m, se)
		if len(m) == 0 {
			delete(s.byConf, id)
		}
	}
}

// roomEvent hands the bridge's events to the sessions of their conference.
func (s *Server) roomEvent(ev bridge.RoomEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for se := range s.byConf[ev.ConferenceID] {
		se.event(ev)
	}
}

// Packets is how many RTP packets the server sent to and received from
// the browsers in the rooms now (those that left are not counted): the
// work of its legs, for operators' metrics and the benchmarks.
func (s *Server) Packets() (sent, received uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for se := range s.sessions {
		if l := se.live.Load(); l != nil {
			sent += l.sent.Load()
			received += l.received.Load()
		}
	}
	return sent, received
}

// Close ends every browser's call (EndShutdown), waits for the sessions and
// closes the media sockets. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		for se := range s.sessions {
			se.shutdown()
		}
		s.mu.Unlock()
		s.wg.Wait()
		s.unsubscribe()
		s.closeSockets()
	})
	return nil
}

func (s *Server) closeSockets() {
	if s.umux != nil {
		_ = s.umux.Close()
	}
	if s.tmux != nil {
		_ = s.tmux.Close()
	}
	_ = s.udp.Close()
	if s.tcp != nil {
		_ = s.tcp.Close()
	}
}
