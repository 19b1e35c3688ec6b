package sipcall

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"sync"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/emiago/sipgo/sip"
)

// dialogHandler is a handler that needs the transaction itself, not only
// a way to respond: INVITE and the requests inside a dialog.
type dialogHandler func(*sip.Request, sip.ServerTransaction)

// inDialog adapts a dialog handler to sipgo's like transactional does,
// with the same logging, counting and accounting for Close.
func (s *Server) inDialog(h dialogHandler) func(*sip.Request, sip.ServerTransaction) {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		s.handling.Add(1)
		s.mu.Unlock()
		defer s.handling.Done()
		s.serve(req, tx.Respond, func(req *sip.Request, _ respondFunc) { h(req, tx) })
	}
}

// bindHost is the address RTP binds to: the SIP listening address when it
// names one, else every interface.
func bindHost(addr string) netip.Addr {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(host)
	if err != nil || a.IsUnspecified() {
		return netip.Addr{}
	}
	return a
}

// localAddrFor is the address of ours that remote reaches: the bound SIP
// address when specific, else the address of the interface the kernel
// routes remote through (a connected UDP socket sends nothing).
func (s *Server) localAddrFor(remote netip.Addr) netip.Addr {
	if a := bindHost(s.cfg.Addr); a.IsValid() {
		return a
	}
	if remote.IsValid() {
		if c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(remote, 9))); err == nil {
			defer c.Close()
			return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
		}
	}
	return netip.MustParseAddr("127.0.0.1")
}

// mediaAddr is the address announced in SDP: the configured public IP,
// else our address towards the caller.
func (s *Server) mediaAddr(local netip.Addr) netip.Addr {
	if a, err := netip.ParseAddr(s.cfg.Media.PublicIP); err == nil {
		return a
	}
	return local
}

// sourceAddr is the address a request came from.
func sourceAddr(req *sip.Request) netip.AddrPort {
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// contactFor is our Contact for a dialog over req's transport: an address
// the caller reaches us at, with the transport named unless UDP (RFC 3261
// §8.1.1.8, §12.1.1).
func (s *Server) contactFor(req *sip.Request, local netip.Addr) *sip.ContactHeader {
	if a := s.cfg.Media.PublicIP; a != "" {
		if ip, err := netip.ParseAddr(a); err == nil {
			local = ip
		}
	}
	return &sip.ContactHeader{Address: s.contactURI(req, local)}
}

// register remembers c under its dialog ID.
func (s *Server) register(c *call) {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	s.calls[c.id] = c
	s.metrics.calls.Inc()
}

// forget drops c.
func (s *Server) forget(c *call) {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	if s.calls[c.id] == c {
		delete(s.calls, c.id)
		s.metrics.calls.Dec()
	}
}

// lookup finds the call a request inside a dialog belongs to.
func (s *Server) lookup(req *sip.Request) *call {
	id, err := sip.DialogIDFromRequestUAS(req)
	if err != nil {
		return nil
	}
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	return s.calls[id]
}

// ActiveCalls is the number of calls in progress.
func (s *Server) ActiveCalls() int {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	return len(s.calls)
}

// endCalls ends every call with reason, sending BYEs, and waits for them.
// It waits on a group of its own: a handler still running (a re-INVITE
// arming its 2xx retransmission) may add to s.background meanwhile, which
// must not race a Wait (sync.WaitGroup); Close waits for s.background
// once the handlers are done.
func (s *Server) endCalls(reason bridge.EndReason) {
	s.callsMu.Lock()
	calls := make([]*call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	s.callsMu.Unlock()
	var ending sync.WaitGroup
	for _, c := range calls {
		ending.Go(func() { c.end(reason, 0, true) })
	}
	ending.Wait()
}

// stamp adds our Server header to res and counts it, as send does for
// responses that go out through a dialog session instead.
func (s *Server) stamp(res *sip.Response) *sip.Response {
	res.AppendHeader(sip.NewHeader("Server", s.cfg.UserAgent))
	s.metrics.responses.WithLabelValues(strconv.Itoa(res.StatusCode)).Inc()
	return res
}

// statusResponse builds the final response for err, a *StatusError or an
// unexpected failure (500), with its Warning, Min-SE or Retry-After.
func (s *Server) statusResponse(req *sip.Request, err error) *sip.Response {
	var se *StatusError
	if !errors.As(err, &se) {
		se = statusError(500, "Server Internal Error", err)
	}
	res := sip.NewResponseFromRequest(req, se.Code, se.Reason, nil)
	if se.WarnCode != 0 {
		agent := s.cfg.Domain
		if agent == "" {
			agent = "bifrost"
		}
		res.AppendHeader(sip.NewHeader("Warning", strconv.Itoa(se.WarnCode)+" "+agent+" "+strconv.Quote(se.WarnText)))
	}
	switch se.Code {
	case 422:
		res.AppendHeader(sip.NewHeader("Min-SE", strconv.Itoa(int(s.cfg.MinSE.Seconds()))))
	case 415:
		res.AppendHeader(sip.NewHeader("Accept", acceptHeader))
	case 503:
		res.AppendHeader(sip.NewHeader("Retry-After", "30"))
	}
	return res
}

// admissionError maps the bridge's refusals to SIP (RFC 3261 §21.4).
func admissionError(err error) error {
	switch {
	case errors.Is(err, bridge.ErrRoomNotFound):
		return statusError(404, "Not Found", err)
	case errors.Is(err, bridge.ErrRoomFull):
		return statusError(486, "Busy Here", err)
	case errors.Is(err, bridge.ErrRoomLocked):
		return statusError(403, "Forbidden", err)
	case errors.Is(err, ErrPortsExhausted):
		return statusError(503, "Service Unavailable", err)
	case errors.Is(err, context.Canceled):
		return statusError(487, "Request Terminated", err)
	}
	var se *StatusError
	if errors.As(err, &se) {
		return err
	}
	return statusError(503, "Service Unavailable", err)
}
