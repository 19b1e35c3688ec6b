package sipcall

import (
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"sync"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
)

// Defaults of the media settings in Config.
const (
	DefaultRTPTimeout   = 30 * time.Second
	DefaultRTCPInterval = 5 * time.Second
)

// maxPacket is the largest datagram a leg reads; bigger ones are cut and
// then fail to parse.
const maxPacket = 1500

// mediaEvents is what a media session tells its call.
type mediaEvents struct {
	// audio gets each received audio payload, valid during the call only.
	audio func(seq uint16, ts uint32, payload []byte)
	// digit gets each RFC 4733 DTMF digit once.
	digit func(r rune)
	// timeout is called once when no RTP arrived for the timeout while
	// the peer was expected to send.
	timeout func()
	// packetIn and packetOut count RTP packets taken and sent (metrics);
	// nil means not counted.
	packetIn, packetOut func()
}

// mediaConfig are the settings of a media session.
type mediaConfig struct {
	// Latch sends to where the peer's RTP comes from instead of the SDP
	// address (symmetric RTP, RFC 4961), for peers behind NAT.
	Latch bool
	// Signalling is the address the call's SIP came from: latching takes
	// RTP from it or from the SDP address only, so that a stranger
	// spraying packets at our port cannot capture the stream.
	Signalling   netip.Addr
	Timeout      time.Duration
	RTCPInterval time.Duration
	Now          func() time.Time
	Log          *slog.Logger
	// Crypto protects the packets (srtp.go); nil is plain RTP.
	Crypto mediaCrypto
}

// mediaSession is the RTP and RTCP of one leg's audio: a socket pair from
// the pool, drained by the pool's audio poller (audiobatch.go), and a timer
// for RTCP reports and the inactivity timeout.
type mediaSession struct {
	cfg  mediaConfig
	ev   mediaEvents
	pool *portPool
	rtp  *audioSocket
	rtcp *audioSocket
	port int
	// crypto is the SRTP layer every packet passes (srtp.go).
	crypto cryptoSlot

	mu         sync.Mutex
	m          audioMedia
	remote     netip.AddrPort // where RTP goes
	remoteRTCP netip.AddrPort // where RTCP goes
	latched    bool
	rtcpLatch  bool
	lastRecv   time.Time
	timedOut   bool
	ssrc       uint32
	seq        uint16
	ts         uint32
	first      bool
	sendBuf    [maxPacket]byte
	encBuf     [maxPacket + srtpOverhead]byte
	sendAddr   sockaddr
	sent       uint64
	sentOctets uint64
	lastSentAt time.Time
	lastSentTS uint32
	rx         rxStats
	dtmf       dtmfDecoder
	q          qualityAcc
	lastSR     uint32 // middle NTP bits of the last SR we sent

	// rxMu is held while the poller hands this session's datagrams on;
	// close takes it to know that none is being handed on any more.
	rxMu     sync.Mutex
	rxClosed bool
	// nextCheck (the poller's clock) and nextReport (the session's) are
	// the timers' state, guarded by rxMu.
	nextCheck  time.Time
	nextReport time.Time

	done      chan struct{}
	closeOnce sync.Once
}

// newMediaSession allocates a port pair and starts the session's
// goroutines with m as the negotiated audio (which may be updated later).
func newMediaSession(pool *portPool, cfg mediaConfig, m audioMedia, ev mediaEvents) (*mediaSession, error) {
	rtp, rtcp, err := pool.allocateAudio()
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultRTPTimeout
	}
	if cfg.RTCPInterval <= 0 {
		cfg.RTCPInterval = DefaultRTCPInterval
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &mediaSession{
		cfg: cfg, ev: ev, pool: pool, rtp: rtp, rtcp: rtcp,
		port:  rtp.port,
		ssrc:  rand.Uint32(),
		seq:   uint16(rand.Uint32()),
		ts:    rand.Uint32(),
		first: true,
		done:  make(chan struct{}),
	}
	if cfg.Crypto != nil {
		s.crypto.store(cfg.Crypto)
	}
	s.setMediaLocked(m)
	s.lastRecv = cfg.Now()
	s.q.start = s.lastRecv
	s.nextCheck = time.Now().Add(s.timerPeriod())
	if err := pool.audio.register(s); err != nil {
		rtp.close()
		rtcp.close()
		pool.release(s.port)
		return nil, err
	}
	return s, nil
}

// localPort is the RTP port; RTCP is on the next.
func (s *mediaSession) localPort() int { return s.port }

// update applies a renegotiation (re-INVITE, UPDATE, late-offer ACK): a
// new address is latched again, a new direction holds or resumes.
func (s *mediaSession) update(m audioMedia) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setMediaLocked(m)
	s.lastRecv = s.cfg.Now() // a resumed stream gets the full timeout
}

func (s *mediaSession) setMediaLocked(m audioMedia) {
	if m.Remote != s.m.Remote || !s.m.Remote.IsValid() {
		s.latched, s.rtcpLatch = false, false
		s.remote, s.remoteRTCP = m.Remote, m.RemoteRTCP
	}
	if m.Codec != s.m.Codec {
		s.first = true
	}
	s.m = m
}

// currentMedia returns the negotiated audio.
func (s *mediaSession) currentMedia() audioMedia {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m
}

// send sends one 20 ms frame of encoded audio with our SSRC, the next
// sequence number and a timestamp in the codec's RTP clock (8000 Hz for
// G.722). It drops the frame while we must not send (hold) or do not know
// where to. It never blocks for long: a UDP write.
func (s *mediaSession) send(payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.m.Direction.sends() || !s.remote.IsValid() || len(payload) > maxPacket-12 {
		return
	}
	putRTP(s.sendBuf[:], rtpHeader{Marker: s.first, PT: s.m.PT, Seq: s.seq, TS: s.ts, SSRC: s.ssrc})
	n := 12 + copy(s.sendBuf[12:], payload)
	// A packet SRTP refuses (its key worn out, RFC 3711 §9.2) is dropped
	// like a failed write; the stream's timing goes on.
	pkt, err := s.crypto.load().protectRTP(s.encBuf[:0], s.sendBuf[:n])
	if err == nil {
		err = s.rtp.writeTo(pkt, s.remote, &s.sendAddr)
	}
	if err == nil {
		s.sent++
		s.sentOctets += uint64(len(payload))
		s.lastSentAt, s.lastSentTS = s.cfg.Now(), s.ts
		if s.ev.packetOut != nil {
			s.ev.packetOut()
		}
	}
	s.first = false
	s.seq++
	s.ts += uint32(s.m.Codec.ClockRate / 50)
}

// drain hands on the datagrams waiting on the RTP socket (with rtcp-mux
// it also carries RTCP) or on the RTCP socket. The audio poller calls it,
// and only it, with its buffers; now is read once per drain, not per
// datagram.
func (s *mediaSession) drain(rx *rxBatch, rtcp bool) {
	s.rxMu.Lock()
	defer s.rxMu.Unlock()
	if s.rxClosed {
		return
	}
	sock := s.rtp
	if rtcp {
		sock = s.rtcp
	}
	crypto := s.crypto.load()
	var now time.Time
	for {
		n, err := rx.read(sock)
		if err != nil || n == 0 {
			return
		}
		if now.IsZero() {
			now = s.cfg.Now()
		}
		for i := range n {
			d := rx.datagram(i)
			if rtcp || isRTCP(d.b) {
				if p, err := crypto.unprotectRTCP(rx.plain[:0], d.b); err == nil {
					s.handleRTCP(p, d.from, !rtcp)
				}
				continue
			}
			// Packets that fail authentication are dropped unseen, before
			// they can latch or count (RFC 3711 §3.3).
			if p, err := crypto.unprotectRTP(rx.plain[:0], d.b); err == nil {
				s.receiveRTP(p, d.from, now, d.at)
			}
		}
		if n < audioBatch {
			return
		}
	}
}

// handleRTP takes one datagram from the RTP port, arrived now.
func (s *mediaSession) handleRTP(b []byte, from netip.AddrPort) {
	s.receiveRTP(b, from, s.cfg.Now(), time.Time{})
}

// receiveRTP takes one datagram from the RTP port: audio goes to the
// call, telephone-events to the DTMF decoder, anything else is dropped.
// now is the time of the drain, for the inactivity timeout; at is when
// the kernel received the datagram, for the jitter (zero: now). It
// allocates nothing.
func (s *mediaSession) receiveRTP(b []byte, from netip.AddrPort, now, at time.Time) {
	h, payload, err := parseRTP(b)
	if err != nil {
		return
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if at.IsZero() {
		at = now
	}

	s.mu.Lock()
	isAudio := h.PT == s.m.PT
	isEvent := false
	for _, e := range s.m.Events {
		if e.PT == h.PT {
			isEvent = true
		}
	}
	if !isAudio && !isEvent {
		s.mu.Unlock()
		return
	}
	if s.cfg.Latch {
		switch {
		case !s.latched && !s.mayLatch(from.Addr()):
			s.mu.Unlock()
			return
		case !s.latched:
			s.latched, s.remote = true, from
			if !s.rtcpLatch {
				s.remoteRTCP = netip.AddrPortFrom(from.Addr(), from.Port()+1)
				if s.m.RTCPMux {
					s.remoteRTCP = from
				}
			}
		case from != s.remote:
			// Latched: packets from elsewhere are someone else's.
			s.mu.Unlock()
			return
		}
	}
	s.lastRecv = now
	var digit rune
	var haveDigit bool
	if isEvent {
		digit, haveDigit, _ = s.dtmf.decode(h.TS, payload)
	} else {
		arrival := uint32(at.UnixNano() / int64(time.Second/time.Duration(s.m.Codec.ClockRate)))
		s.rx.update(h.SSRC, h.Seq, h.TS, arrival, len(payload))
	}
	s.mu.Unlock()

	if s.ev.packetIn != nil {
		s.ev.packetIn()
	}
	switch {
	case haveDigit && s.ev.digit != nil:
		s.ev.digit(digit)
	case isAudio && s.ev.audio != nil:
		s.ev.audio(h.Seq, h.TS, payload)
	}
}

// mayLatch reports whether RTP from addr may be latched onto: it comes
// from the SDP address or from where the signalling came from (a NAT's
// public address). Without either known, anything goes.
func (s *mediaSession) mayLatch(addr netip.Addr) bool {
	sdpAddr := s.m.Remote.Addr()
	if !sdpAddr.IsValid() && !s.cfg.Signalling.IsValid() {
		return true
	}
	return addr == sdpAddr || addr == s.cfg.Signalling
}

// timerPeriod is how often the session looks at its RTCP report time and
// its inactivity timeout.
func (s *mediaSession) timerPeriod() time.Duration {
	return min(s.cfg.Timeout/4, time.Second)
}

// timers sends RTCP reports at randomised intervals around RTCPInterval
// (RFC 3550 §6.3.5) and watches for RTP inactivity. The audio poller calls
// it on its beat; at is the poller's time (the session's own clock may be
// a test's).
func (s *mediaSession) timers(at time.Time) {
	s.rxMu.Lock()
	defer s.rxMu.Unlock()
	if s.rxClosed || at.Before(s.nextCheck) {
		return
	}
	s.nextCheck = s.nextCheck.Add(s.timerPeriod())
	if s.nextCheck.Before(at) {
		s.nextCheck = at.Add(s.timerPeriod())
	}
	now := s.cfg.Now()
	if s.nextReport.IsZero() {
		s.nextReport = now.Add(s.reportInterval())
	}
	if !now.Before(s.nextReport) {
		s.sendReport(now)
		s.nextReport = now.Add(s.reportInterval())
	}
	if s.inactive(now) && s.ev.timeout != nil {
		s.ev.timeout()
	}
}

// reportInterval is RTCPInterval times a random factor in [0.5, 1.5).
func (s *mediaSession) reportInterval() time.Duration {
	return time.Duration(float64(s.cfg.RTCPInterval) * (0.5 + rand.Float64()))
}

// inactive reports, once, that the peer should be sending and has not for
// the timeout. A peer on hold (sendonly from us, inactive) is not
// expected to send.
func (s *mediaSession) inactive(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.timedOut || !s.m.Direction.receives() || now.Sub(s.lastRecv) < s.cfg.Timeout {
		return false
	}
	s.timedOut = true
	return true
}

// quality returns the statistics so far.
func (s *mediaSession) quality() bridge.Quality {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.q.snapshot(s.sent, s.rx.received, uint64(s.rx.lost()))
}

// close stops the timers and the draining, closes the sockets and returns the ports to
// the pool. It is idempotent and waits.
func (s *mediaSession) close() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.pool.audio.unregister(s)
		s.rxMu.Lock()
		s.rxClosed = true
		s.rxMu.Unlock()
		s.rtp.close()
		s.rtcp.close()
		s.pool.release(s.port)
	})
}
