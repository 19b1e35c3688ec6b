package sipcall

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/rtp"

	"github.com/bifrost-video/bifrost/bridge/video"
)

// videoHistory is how many sent video packets a leg keeps for NACK
// retransmission (RFC 4585 §6.2.1): about a second at the default ceiling.
// A leg that did not negotiate generic NACK keeps none.
const videoHistory = 256

// videoEvents is what a video session tells its call.
type videoEvents struct {
	// packet gets each received H.264 packet, valid during the call only.
	packet func(pkt *rtp.Packet)
	// keyframeRequested is called when the peer asks for a keyframe of what
	// we send it (PLI, FIR or SIP INFO).
	keyframeRequested func()
	// fastUpdate sends SIP INFO picture_fast_update (RFC 5168) when the
	// peer negotiated neither PLI nor FIR.
	fastUpdate func()
	// limitKbps is the bit rate the peer may send (video_bandwidth.go); nil
	// means the ceiling. It must not be called with s.mu held.
	limitKbps func() int
	// out batches what the session sends with the other sessions of its
	// server (video_batch.go); nil sends each packet at once.
	out *videoOut
}

// sentPacket is one packet of the NACK history.
type sentPacket struct {
	seq uint16
	n   int
	buf [maxPacket]byte
}

// videoSession is the RTP and RTCP of one leg's video: a socket pair from
// the same pool as the audio, latched the same way, our one outgoing H.264
// stream (the bridge rewrote its sequence numbers and timestamps; we set
// our SSRC and payload type), reports, feedback and retransmissions. Every
// packet passes its SRTP layer (srtp.go), under keys of its own.
type videoSession struct {
	cfg     mediaConfig
	ceiling video.Ceiling
	ev      videoEvents
	pool    *portPool
	rtp     *net.UDPConn
	rtcp    *net.UDPConn
	port    int
	// batchRx reads the RTP socket in batches (the reader's own);
	// batchTx writes sendQ, under mu.
	batchRx, batchTx *udpBatch
	// crypto is the SRTP layer every packet passes; a re-INVITE with new
	// keys swaps it (call.applyVideoKeysLocked).
	crypto cryptoSlot

	mu         sync.Mutex
	m          videoMedia
	remote     netip.AddrPort
	remoteRTCP netip.AddrPort
	latched    bool
	rtcpLatch  bool
	ssrc       uint32
	// sendQ is what was sent and not yet written: plain packets in
	// history (NACK negotiated), or as heads and a reader's payload
	// (lent, video_batch.go), or in slots, as SRTP ones are (slots
	// allocated with the first such packet).
	sendQ []outPacket
	heads [videoQueue][12]byte
	// lentBatch is the last reader's batch (videoOut.begin) whose
	// payload we queued without a copy.
	lentBatch  uint64
	slots      *[videoQueue][maxPacket + srtpOverhead]byte
	sent       uint64
	sentOctets uint64
	lastSentAt time.Time
	lastSentTS uint32
	// history is the NACK history, allocated with the first packet sent
	// while generic NACK is negotiated.
	history []sentPacket
	rx      rxStats
	q       qualityAcc
	lastSR  uint32
	firSeq  uint8
	// peerMaxKbps is what the peer said it takes (TMMBR, REMB), 0 if it
	// said nothing.
	peerMaxKbps int

	in rtp.Packet // the reader's packet, reused

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// newVideoSession allocates a port pair and starts reading.
func newVideoSession(pool *portPool, cfg mediaConfig, ceiling video.Ceiling, m videoMedia, ev videoEvents) (*videoSession, error) {
	rtpConn, rtcpConn, err := pool.allocate()
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RTCPInterval <= 0 {
		cfg.RTCPInterval = DefaultRTCPInterval
	}
	rx, err := newUDPBatch(rtpConn, videoReadBatch)
	if err != nil {
		_ = rtpConn.Close()
		_ = rtcpConn.Close()
		pool.release(rtpConn.LocalAddr().(*net.UDPAddr).Port)
		return nil, err
	}
	tx, err := newUDPBatch(rtpConn, videoQueue)
	if err != nil {
		_ = rtpConn.Close()
		_ = rtcpConn.Close()
		pool.release(rtpConn.LocalAddr().(*net.UDPAddr).Port)
		return nil, err
	}
	s := &videoSession{
		cfg: cfg, ceiling: ceiling, ev: ev, pool: pool, rtp: rtpConn, rtcp: rtcpConn, batchRx: rx, batchTx: tx,
		port:  rtpConn.LocalAddr().(*net.UDPAddr).Port,
		ssrc:  rand.Uint32(),
		sendQ: make([]outPacket, 0, videoQueue),
		done:  make(chan struct{}),
	}
	if cfg.Crypto != nil {
		s.crypto.store(cfg.Crypto)
	}
	s.setMediaLocked(m)
	s.q.start = cfg.Now()
	s.wg.Add(3)
	go s.readRTP()
	go s.readRTCP()
	go s.timers()
	return s, nil
}

// localPort is the RTP port; RTCP is on the next.
func (s *videoSession) localPort() int { return s.port }

// update applies a renegotiation.
func (s *videoSession) update(m videoMedia) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setMediaLocked(m)
}

func (s *videoSession) setMediaLocked(m videoMedia) {
	if m.Remote != s.m.Remote || !s.m.Remote.IsValid() {
		s.latched, s.rtcpLatch = false, false
		s.remote, s.remoteRTCP = m.Remote, m.RemoteRTCP
	}
	s.m = m
}

// send sends one packet of the bridge's stream for this leg with our SSRC
// and payload type, keeping its sequence number, timestamp and marker; header
// extensions are stripped (we negotiate none). When the peer negotiated
// generic NACK, the plain packet is built in place in the NACK history
// (RFC 4585 §6.2.1) and protected from there with SRTP when keyed.
// Otherwise an SRTP packet is built and protected in place in its queue
// slot, and a plain one whose payload a reader lends (video_batch.go) is
// queued as our header and that payload, without a copy. While a video
// reader of the server handles a batch, the packet queues and leaves with
// the others of the batch in one sendmmsg (video_batch.go); otherwise, or
// when the queue is full, at once. It allocates nothing (but the slots
// and the history, once).
func (s *videoSession) send(pkt *rtp.Packet) {
	lender := s.ev.out.lenderOf(pkt.Payload)
	s.mu.Lock()
	if !s.m.Direction.sends() || !s.remote.IsValid() || len(pkt.Payload) > maxPacket-12 {
		s.mu.Unlock()
		return
	}
	hdr := rtpHeader{Marker: pkt.Marker, PT: s.m.PT, Seq: pkt.SequenceNumber, TS: pkt.Timestamp, SSRC: s.ssrc}
	crypto := s.crypto.load()
	var out outPacket
	var err error
	switch {
	case s.m.FB.NACK:
		if s.history == nil {
			s.history = make([]sentPacket, videoHistory)
		}
		h := &s.history[pkt.SequenceNumber%videoHistory]
		putRTP(h.buf[:], hdr)
		h.seq, h.n = pkt.SequenceNumber, 12+copy(h.buf[12:], pkt.Payload)
		out.head = h.buf[:h.n]
		if crypto.encrypted() {
			out.head, err = crypto.protectRTP(s.slot()[:0], out.head)
		}
	case lender != nil && !crypto.encrypted():
		b := &s.heads[len(s.sendQ)]
		putRTP(b[:], hdr)
		out = outPacket{head: b[:], body: pkt.Payload}
		if s.lentBatch != lender.batch {
			// The reader writes our queue before its batch ends.
			s.lentBatch = lender.batch
			lender.touched = append(lender.touched, s)
		}
	default:
		b := s.slot()
		putRTP(b, hdr)
		out.head = b[:12+copy(b[12:], pkt.Payload)]
		if crypto.encrypted() {
			// In place (pion/srtp takes the same buffer).
			out.head, err = crypto.protectRTP(b[:0], out.head)
		}
	}
	if err != nil {
		// A packet SRTP refuses (its key worn out, RFC 3711 §9.2) is
		// dropped like a failed write.
		s.mu.Unlock()
		return
	}
	s.sendQ = append(s.sendQ, out)
	s.sent++
	s.sentOctets += uint64(len(pkt.Payload))
	s.lastSentAt, s.lastSentTS = s.cfg.Now(), pkt.Timestamp
	if len(s.sendQ) == videoQueue || !s.ev.out.batching() {
		s.flushLocked()
		s.mu.Unlock()
		return
	}
	if len(s.sendQ) == 1 {
		s.ev.out.markLocked(s)
	}
	s.mu.Unlock()
	s.ev.out.flushIfIdle()
}

// slot returns the queue slot of the next packet. The caller holds s.mu.
func (s *videoSession) slot() []byte {
	if s.slots == nil {
		s.slots = new([videoQueue][maxPacket + srtpOverhead]byte)
	}
	return s.slots[len(s.sendQ)][:]
}

// flushLocked writes the queue to the peer. The caller holds s.mu.
func (s *videoSession) flushLocked() {
	if len(s.sendQ) == 0 {
		return
	}
	if s.remote.IsValid() {
		_, _ = s.batchTx.write(s.sendQ, s.remote)
	}
	s.sendQ = s.sendQ[:0]
}

// readRTP reads the RTP socket, which also carries RTCP with rtcp-mux,
// until it is closed: as many datagrams per recvmmsg as have arrived,
// handled as one batch for the sending side (video_batch.go).
func (s *videoSession) readRTP() {
	defer s.wg.Done()
	// One buffer for the batch, lent to the sending side while the
	// batch is handled (video_batch.go).
	slab := make([]byte, videoReadBatch*maxPacket)
	lend := newLender(slab)
	bufs := make([][]byte, videoReadBatch)
	for i := range bufs {
		bufs[i] = slab[i*maxPacket : (i+1)*maxPacket : (i+1)*maxPacket]
	}
	sizes := make([]int, videoReadBatch)
	froms := make([]netip.AddrPort, videoReadBatch)
	plain := make([]byte, maxPacket)
	for {
		n, err := s.batchRx.read(bufs, sizes, froms)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if s.ev.out != nil {
			s.ev.out.begin(lend)
		}
		for i := range n {
			s.handleDatagram(bufs[i][:sizes[i]], froms[i], plain, true)
		}
		if s.ev.out != nil {
			s.ev.out.end(lend)
		}
	}
}

// readRTCP reads the RTCP socket until it is closed.
func (s *videoSession) readRTCP() {
	defer s.wg.Done()
	buf := make([]byte, maxPacket)
	plain := make([]byte, maxPacket)
	for {
		n, from, err := s.rtcp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.handleDatagram(buf[:n], from, plain, false)
	}
}

// handleDatagram takes one datagram from the RTP (isRTP) or the RTCP
// socket. Packets that fail SRTP authentication are dropped unseen,
// before they can latch or count (RFC 3711 §3.3).
func (s *videoSession) handleDatagram(b []byte, from netip.AddrPort, plain []byte, isRTP bool) {
	crypto := s.crypto.load()
	if !isRTP || isRTCP(b) {
		if p, err := crypto.unprotectRTCP(plain[:0], b); err == nil {
			s.handleRTCP(p, from, isRTP)
		}
		return
	}
	if p, err := crypto.unprotectRTP(plain[:0], b); err == nil {
		s.handleRTP(p, from)
	}
}

// handleRTP takes one datagram from the RTP port: H.264 of the negotiated
// payload type goes to the bridge, anything else is dropped.
func (s *videoSession) handleRTP(b []byte, from netip.AddrPort) {
	if err := s.in.Unmarshal(b); err != nil {
		return
	}
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	now := s.cfg.Now()
	s.mu.Lock()
	if s.in.PayloadType != s.m.PT || !s.m.Direction.receives() || !s.latch(from) {
		s.mu.Unlock()
		return
	}
	arrival := uint32(now.UnixNano() / int64(time.Second/video.ClockRate))
	s.rx.update(s.in.SSRC, s.in.SequenceNumber, s.in.Timestamp, arrival, len(s.in.Payload))
	s.mu.Unlock()
	if s.ev.packet != nil {
		s.ev.packet(&s.in)
	}
}

// latch applies symmetric RTP as the audio does (see mediaSession): the
// first packet from the SDP or signalling address fixes where we send.
// The caller holds s.mu.
func (s *videoSession) latch(from netip.AddrPort) bool {
	if !s.cfg.Latch {
		return true
	}
	switch {
	case !s.latched:
		sdpAddr := s.m.Remote.Addr()
		if (sdpAddr.IsValid() || s.cfg.Signalling.IsValid()) && from.Addr() != sdpAddr && from.Addr() != s.cfg.Signalling {
			return false
		}
		s.latched, s.remote = true, from
		if !s.rtcpLatch {
			s.remoteRTCP = netip.AddrPortFrom(from.Addr(), from.Port()+1)
			if s.m.RTCPMux {
				s.remoteRTCP = from
			}
		}
		return true
	default:
		return from == s.remote
	}
}

// timers sends RTCP reports at randomised intervals (RFC 3550 §6.3.5).
func (s *videoSession) timers() {
	defer s.wg.Done()
	for {
		d := time.Duration(float64(s.cfg.RTCPInterval) * (0.5 + rand.Float64()))
		t := time.NewTimer(d)
		select {
		case <-s.done:
			t.Stop()
			return
		case <-t.C:
		}
		s.sendReport(s.cfg.Now())
	}
}

// close stops the goroutines, closes the sockets and returns the ports.
// It is idempotent and waits.
func (s *videoSession) close() {
	s.closeOnce.Do(func() {
		close(s.done)
		_ = s.rtp.Close()
		_ = s.rtcp.Close()
		s.wg.Wait()
		s.pool.release(s.port)
	})
}
