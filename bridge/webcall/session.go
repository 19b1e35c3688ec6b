package webcall

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/bifrost-video/bifrost/bridge"
)

// maxPINTries is how many wrong PINs one connection may send before the
// server closes it (the SIP IVR's default too).
const maxPINTries = 3

// wrongPINDelay is how long the server waits before it answers a wrong PIN,
// as the IVR does by playing its prompt: it slows down guessing.
const wrongPINDelay = time.Second

// writeTimeout bounds one signalling write.
const writeTimeout = 5 * time.Second

// pingEvery (in rateInterval ticks: 20 s) keeps the WebSocket alive
// through proxies that close idle connections (nginx's default is 60 s)
// and finds dead browsers: a ping not answered within pingTimeout ends the
// session. It rides on the rate ticker: a session has one timer.
const (
	pingEvery   = 20
	pingTimeout = 10 * time.Second
)

// eventQueue is how many room events a session queues for its browser: a
// burst beyond it (a room filling at once) costs a resynchronisation, not
// memory held by every participant all call long (a RoomEvent is about
// 100 bytes).
const eventQueue = 32

// rateInterval is how often the server caps the browser's camera (REMB) and
// fits its tiles to its downlink.
const rateInterval = time.Second

// session is one browser's WebSocket and, once it joined, its PeerConnection
// and bridge leg. Everything but the leg's media methods runs on run's
// goroutine.
type session struct {
	s     *Server
	c     *websocket.Conn
	alias string
	ua    string
	addr  netip.AddrPort
	tls   bool

	in       chan inbound
	events   chan bridge.RoomEvent
	overflow chan struct{} // an event was dropped: resynchronise
	sources  chan bridge.ParticipantID
	hangup   chan hangupReq
	pcFailed chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
	pinging  atomic.Bool
	pings    sync.WaitGroup

	// live is leg once the browser joined, for Server.Packets.
	live atomic.Pointer[leg]

	// Owned by run.
	leg         *leg
	part        *bridge.Participant
	conf        bridge.ConferenceID
	tiles       *tiles
	pinTries    int
	negotiating bool
	pending     bool
	fresh       []bridge.ParticipantID        // tracks added in the current offer
	gone        map[bridge.ParticipantID]bool // left: late packets add no track
}

type inbound struct {
	msg Message
	err error
}

type hangupReq struct {
	reason bridge.EndReason
	code   int
}

func newSession(s *Server, c *websocket.Conn, r *http.Request, alias string) *session {
	addr, _ := netip.ParseAddrPort(r.RemoteAddr)
	return &session{
		s:        s,
		c:        c,
		alias:    alias,
		ua:       r.UserAgent(),
		addr:     addr,
		tls:      r.TLS != nil,
		in:       make(chan inbound),
		events:   make(chan bridge.RoomEvent, eventQueue),
		overflow: make(chan struct{}, 1),
		sources:  make(chan bridge.ParticipantID, 16),
		hangup:   make(chan hangupReq, 1),
		pcFailed: make(chan struct{}, 1),
		stop:     make(chan struct{}),
		tiles:    newTiles(s.cfg.MaxTiles),
		gone:     make(map[bridge.ParticipantID]bool),
	}
}

// event queues a bridge event; it never blocks (roomEvent holds the
// server's lock).
func (se *session) event(ev bridge.RoomEvent) {
	select {
	case se.events <- ev:
	default:
		select {
		case se.overflow <- struct{}{}:
		default:
		}
	}
}

// shutdown asks run to end the call with EndShutdown.
func (se *session) shutdown() { se.stopOnce.Do(func() { close(se.stop) }) }

// run serves the session until the browser leaves, the bridge hangs up or the
// server shuts down.
func (se *session) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go se.read(ctx)

	reason, code := se.loop(ctx)
	if se.part != nil {
		se.s.untrack(se, se.conf)
		se.part.Leave(reason, code)
	}
	if se.leg != nil {
		se.leg.close()
	}
	_ = se.c.Close(websocket.StatusNormalClosure, string(reason))
	se.pings.Wait() // the closed socket ends a ping in flight
}

// read decodes the browser's messages onto se.in until the socket fails.
func (se *session) read(ctx context.Context) {
	defer close(se.in)
	for {
		typ, data, err := se.c.Read(ctx)
		if err != nil {
			return
		}
		var in inbound
		if typ != websocket.MessageText {
			in.err = errors.New("binary message")
		} else {
			in.msg, in.err = Decode(data)
		}
		select {
		case se.in <- in:
		case <-ctx.Done():
			return
		}
	}
}

// ping pings the browser, from a goroutine of its own that lives until the
// pong (or pingTimeout): a lost pong closes the socket, which ends the
// session through read. One ping at a time; run waits for it.
func (se *session) ping(ctx context.Context) {
	if !se.pinging.CompareAndSwap(false, true) {
		return
	}
	se.s.timers.keepalive.Add(1)
	se.pings.Go(func() {
		defer se.pinging.Store(false)
		pctx, cancel := context.WithTimeout(ctx, pingTimeout)
		err := se.c.Ping(pctx)
		cancel()
		if err != nil {
			se.c.CloseNow()
		}
	})
}

// loop handles messages and events; it returns how the call ended.
func (se *session) loop(ctx context.Context) (bridge.EndReason, int) {
	rate := time.NewTicker(rateInterval)
	defer rate.Stop()
	for ticks := 1; ; {
		select {
		case <-rate.C:
			se.s.timers.rate.Add(1)
			se.rate(ctx)
			if ticks++; ticks%pingEvery == 0 {
				se.ping(ctx)
			}
		case <-ctx.Done():
			return bridge.EndHungUp, 0
		case <-se.stop:
			se.send(ctx, byeMsg{Type: TypeBye, Reason: string(bridge.EndShutdown)})
			return bridge.EndShutdown, 0
		case h := <-se.hangup:
			se.send(ctx, byeMsg{Type: TypeBye, Reason: string(h.reason)})
			return h.reason, h.code
		case <-se.pcFailed:
			// No bye: the page takes a close without one as a lost
			// connection and re-joins.
			return bridge.EndTimeout, 0
		case in, ok := <-se.in:
			if !ok {
				return bridge.EndHungUp, 0 // the browser closed or lost the socket
			}
			if in.err != nil {
				se.fail(ctx, CodeBadMessage, in.err.Error())
				return bridge.EndError, 400
			}
			end, done := se.handle(ctx, in.msg)
			if done {
				return end.reason, end.code
			}
		case ev := <-se.events:
			se.roomEvent(ctx, ev)
		case <-se.overflow:
			se.resync(ctx)
		case src := <-se.sources:
			if !se.gone[src] {
				se.apply(ctx, se.tiles.seen(src))
			}
		}
	}
}

// handle acts on one message; done says the call is over.
func (se *session) handle(ctx context.Context, m Message) (hangupReq, bool) {
	if m.Type != TypeJoin && se.part == nil {
		se.fail(ctx, CodeOutOfOrder, string(m.Type)+" before join")
		return hangupReq{bridge.EndError, 400}, true
	}
	switch m.Type {
	case TypeJoin:
		if se.part != nil {
			se.fail(ctx, CodeOutOfOrder, "already joined")
			return hangupReq{bridge.EndError, 400}, true
		}
		return se.join(ctx, m)
	case TypeAnswer:
		if !se.negotiating {
			se.fail(ctx, CodeOutOfOrder, "answer without an offer")
			return hangupReq{bridge.EndError, 400}, true
		}
		if err := se.leg.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP}); err != nil {
			se.fail(ctx, CodeBadMessage, "the answer was refused: "+err.Error())
			return hangupReq{bridge.EndError, 488}, true
		}
		se.negotiating = false
		se.leg.answered(m.SDP)
		for _, src := range se.fresh {
			se.part.KeyframeRequested(src) // a new track starts with a keyframe
		}
		se.fresh = se.fresh[:0]
		if se.pending {
			se.pending = false
			se.negotiate(ctx)
		}
	case TypeCandidate:
		if m.Candidate == "" {
			return hangupReq{}, false // end of candidates
		}
		// An ICE-lite server needs no remote candidates (the browser's
		// checks teach it); a bad one is ignored rather than fatal.
		_ = se.leg.pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: m.Candidate, SDPMid: m.SDPMid, SDPMLineIndex: m.SDPMLineIndex})
	case TypeMute:
		se.leg.cameraOff.Store(m.Video)
		if err := se.s.br.Mute(ctx, se.conf, se.part.ID(), m.Audio); err != nil {
			se.s.log.Debug("self-mute failed", "err", err)
		}
	case TypeLeave:
		return hangupReq{bridge.EndHungUp, 0}, true
	}
	return hangupReq{}, false
}

// join checks the PIN, builds the PeerConnection, admits the leg and makes
// the first offer.
func (se *session) join(ctx context.Context, m Message) (hangupReq, bool) {
	room, err := se.s.br.Resolve(ctx, se.alias)
	if err != nil {
		if errors.Is(err, bridge.ErrRoomNotFound) {
			se.fail(ctx, CodeRoomNotFound, "no room has this address")
			return hangupReq{bridge.EndRejected, 404}, true
		}
		se.fail(ctx, CodeInternal, "the room could not be looked up")
		return hangupReq{bridge.EndError, 500}, true
	}
	role, ok := bridge.CheckPIN(room, m.PIN)
	if !ok {
		se.pinTries++
		select {
		case <-time.After(wrongPINDelay):
		case <-ctx.Done():
			return hangupReq{bridge.EndHungUp, 0}, true
		}
		se.send(ctx, errorMsg{Type: TypeError, Code: CodeWrongPIN, Message: "wrong PIN"})
		if se.pinTries >= maxPINTries {
			return hangupReq{bridge.EndRejected, 403}, true
		}
		return hangupReq{}, false
	}
	l, err := newLeg(se, m.Name)
	if err != nil {
		se.s.log.Error("cannot make a PeerConnection", "err", err)
		se.fail(ctx, CodeInternal, "the server cannot take the call")
		return hangupReq{bridge.EndError, 500}, true
	}
	p, err := se.s.br.Admit(ctx, room, l)
	if err != nil {
		l.close()
		code, msg := CodeInternal, "the room cannot be joined"
		switch {
		case errors.Is(err, bridge.ErrRoomFull):
			code, msg = CodeRoomFull, "the room is full"
		case errors.Is(err, bridge.ErrRoomLocked):
			code, msg = CodeRoomLocked, "the room is locked"
		case errors.Is(err, bridge.ErrClosed):
			code, msg = CodeShuttingDown, "the server is shutting down"
		}
		se.send(ctx, errorMsg{Type: TypeError, Code: code, Message: msg})
		if code == CodeRoomFull || code == CodeRoomLocked {
			return hangupReq{}, false // the browser may try again
		}
		return hangupReq{bridge.EndRejected, 503}, true
	}
	se.leg, se.part, se.conf = l, p, p.ConferenceID()
	se.live.Store(l)
	l.part.Store(p)
	se.s.track(se, se.conf)
	if room.HostPIN != "" || room.GuestPIN != "" {
		// The bridge's IVR takes the PIN as digits ended by #; it was
		// checked above, so this passes it at once.
		for _, d := range m.PIN {
			p.ReceiveDigit(d)
		}
		p.ReceiveDigit('#')
	}
	servers := se.s.cfg.ICEServers
	if servers == nil {
		servers = []ICEServer{}
	}
	se.send(ctx, joinedMsg{Type: TypeJoined, ID: string(p.ID()), Room: room.Name, Role: string(role), ICEServers: servers})
	se.negotiate(ctx)
	se.resync(ctx)
	return hangupReq{}, false
}

// negotiate sends a new offer, or notes that one is due once the browser
// answered the one in flight.
func (se *session) negotiate(ctx context.Context) {
	if se.negotiating {
		se.pending = true
		return
	}
	pc := se.leg.pc
	offer, err := pc.CreateOffer(nil)
	if err == nil {
		gathered := webrtc.GatheringCompletePromise(pc)
		if err = pc.SetLocalDescription(offer); err == nil {
			select {
			case <-gathered: // host candidates on the muxes: at once
			case <-ctx.Done():
				return
			}
		}
	}
	if err != nil {
		se.s.log.Error("cannot make an offer", "err", err)
		return
	}
	se.negotiating = true
	se.send(ctx, sdpMsg{Type: TypeOffer, SDP: pc.LocalDescription().SDP})
}

// roomEvent follows the room: tiles on departures and speaker changes, the
// participant list on everything.
func (se *session) roomEvent(ctx context.Context, ev bridge.RoomEvent) {
	switch ev.Kind {
	case bridge.EventParticipantLeft:
		se.gone[ev.ParticipantID] = true
		se.apply(ctx, se.tiles.left(ev.ParticipantID))
	case bridge.EventActiveSpeaker:
		if ev.ParticipantID != se.part.ID() {
			se.apply(ctx, se.tiles.speaker(ev.ParticipantID))
		}
		se.send(ctx, speakerMsg{Type: TypeSpeaker, ID: string(ev.ParticipantID)})
		return
	}
	se.sendParticipants(ctx)
}

// resync rebuilds the participant list and drops tiles of those who left
// while events were lost.
func (se *session) resync(ctx context.Context) {
	v, ok := se.sendParticipants(ctx)
	if !ok {
		return
	}
	here := make(map[bridge.ParticipantID]bool, len(v.Participants))
	for _, p := range v.Participants {
		here[p.ID] = true
	}
	for _, src := range append([]bridge.ParticipantID(nil), se.tiles.known...) {
		if !here[src] {
			se.gone[src] = true
			se.apply(ctx, se.tiles.left(src))
		}
	}
}

func (se *session) sendParticipants(ctx context.Context) (bridge.ConferenceView, bool) {
	v, err := se.s.br.Conference(ctx, se.conf)
	if err != nil {
		return v, false
	}
	peers := make([]Peer, 0, len(v.Participants))
	for _, p := range v.Participants {
		if p.State != bridge.ParticipantJoined && p.ID != se.part.ID() {
			continue
		}
		peers = append(peers, Peer{
			ID: string(p.ID), Name: p.DisplayName, Protocol: string(p.Protocol),
			Muted: p.Muted, Video: p.VideoCodec != "", Self: p.ID == se.part.ID(),
		})
	}
	se.send(ctx, participantsMsg{Type: TypeParticipants, Participants: peers, ActiveSpeaker: string(v.ActiveSpeaker)})
	return v, true
}

// apply adds and removes the tracks of a tile change and renegotiates.
func (se *session) apply(ctx context.Context, c change) {
	if se.leg == nil || c.empty() {
		return
	}
	for _, src := range c.remove {
		se.leg.removeSource(src)
	}
	for _, src := range c.add {
		if err := se.leg.addSource(src); err != nil {
			se.s.log.Error("cannot add a video track", "err", err)
			continue
		}
		se.fresh = append(se.fresh, src)
	}
	se.negotiate(ctx)
}

// rate caps the browser's camera at the tile bitrate and fits the number of
// tiles it receives to its downlink estimate (REMB), so that a poor link
// loses tiles, least recent speakers first, instead of freezing all.
func (se *session) rate(ctx context.Context) {
	if se.leg == nil {
		return
	}
	cfg := se.s.cfg
	se.leg.capCamera(cfg.TileBitrate)
	want := cfg.MaxTiles
	if est := se.leg.remb.Load(); est > 0 {
		fit := int(est / uint64(cfg.TileBitrate))
		want = max(1, min(cfg.MaxTiles, fit))
	}
	se.apply(ctx, se.tiles.setMax(want))
}

// fail sends an error message; the caller then ends the session.
func (se *session) fail(ctx context.Context, code Code, msg string) {
	se.send(ctx, errorMsg{Type: TypeError, Code: code, Message: msg})
}

// send writes one message; a failed write ends the session through read.
func (se *session) send(ctx context.Context, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := se.c.Write(wctx, websocket.MessageText, b); err != nil {
		se.c.CloseNow()
	}
}

// transport names the signalling transport for the call records.
func (se *session) transport() string {
	if se.tls {
		return "wss"
	}
	return "ws"
}
