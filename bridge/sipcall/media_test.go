package sipcall

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
)

// waitFor polls cond until it holds, failing the test with what it waited
// for after waitTimeout.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// rtpPeer is the far end of a leg's media: a UDP socket that sends RTP
// and records what it receives.
type rtpPeer struct {
	t    testing.TB
	conn *net.UDPConn
	rtcp *net.UDPConn
	ssrc uint32
}

func newRTPPeer(t testing.TB) *rtpPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	rtcpConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rtcpConn.Close() })
	return &rtpPeer{t: t, conn: conn, rtcp: rtcpConn, ssrc: 0x1234}
}

func (p *rtpPeer) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *rtpPeer) rtcpAddr() netip.AddrPort { return p.rtcp.LocalAddr().(*net.UDPAddr).AddrPort() }

// send sends one RTP packet to port on 127.0.0.1.
func (p *rtpPeer) send(port int, pt uint8, seq uint16, ts uint32, payload []byte) {
	p.t.Helper()
	b := make([]byte, 12+len(payload))
	putRTP(b, rtpHeader{PT: pt, Seq: seq, TS: ts, SSRC: p.ssrc})
	copy(b[12:], payload)
	if _, err := p.conn.WriteToUDPAddrPort(b, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))); err != nil {
		p.t.Fatal(err)
	}
}

// read returns the next RTP packet the peer receives.
func (p *rtpPeer) read() (rtpHeader, []byte) {
	p.t.Helper()
	buf := make([]byte, maxPacket)
	_ = p.conn.SetReadDeadline(time.Now().Add(waitTimeout))
	n, err := p.conn.Read(buf)
	if err != nil {
		p.t.Fatalf("peer got no RTP: %v", err)
	}
	h, payload, err := parseRTP(buf[:n])
	if err != nil {
		p.t.Fatalf("peer got bad RTP: %v", err)
	}
	return h, payload
}

// recorder collects what a media session reports.
type recorder struct {
	mu       sync.Mutex
	audio    []uint16
	payloads [][]byte
	digits   []rune
	timeouts int
}

func (r *recorder) events() mediaEvents {
	return mediaEvents{
		audio: func(seq uint16, _ uint32, payload []byte) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.audio = append(r.audio, seq)
			r.payloads = append(r.payloads, append([]byte(nil), payload...))
		},
		digit: func(d rune) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.digits = append(r.digits, d)
		},
		timeout: func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.timeouts++
		},
	}
}

func (r *recorder) count() (audio, digits, timeouts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.audio), len(r.digits), r.timeouts
}

func (r *recorder) digitString() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.digits)
}

// testPool is a pool of a few pairs on 127.0.0.1 in a free range.
func testPool(t testing.TB, pairs int) *portPool {
	t.Helper()
	// Find a range of free ports by binding one and using the ones above.
	for base := 42000 + int(time.Now().UnixNano()%2000)*2; ; base += 2 * pairs {
		p := newPortPool(netip.MustParseAddr("127.0.0.1"), base, base+2*pairs-1)
		if p.size() == pairs {
			return p
		}
	}
}

func newTestSession(t testing.TB, cfg mediaConfig, m audioMedia, r *recorder) *mediaSession {
	t.Helper()
	s, err := newMediaSession(testPool(t, 4), cfg, m, r.events())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s
}

func g722Media(remote netip.AddrPort) audioMedia {
	return audioMedia{
		Profile: "RTP/AVP", Codec: codecG722, PT: 9, Remote: remote,
		RemoteRTCP: netip.AddrPortFrom(remote.Addr(), remote.Port()+1),
		Events:     []eventPT{{PT: 101, ClockRate: 8000}}, PtimeMS: 20,
	}
}

func TestMediaSessionAudio(t *testing.T) {
	peer := newRTPPeer(t)
	var r recorder
	s := newTestSession(t, mediaConfig{Latch: true, Signalling: netip.MustParseAddr("127.0.0.1")},
		g722Media(netip.MustParseAddrPort("192.0.2.1:9")), &r)

	t.Run("received audio reaches the call with its sequence number and payload", func(t *testing.T) {
		for i := range 3 {
			peer.send(s.localPort(), 9, uint16(100+i), uint32(160*i), []byte{byte(i), 0xAA})
		}
		waitFor(t, "3 audio payloads", func() bool { a, _, _ := r.count(); return a == 3 })
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.audio[0] != 100 || r.audio[2] != 102 || r.payloads[2][0] != 2 {
			t.Errorf("got seqs %v payloads %v", r.audio, r.payloads)
		}
	})

	t.Run("sent audio goes to the latched source with our SSRC and an 8000 Hz G.722 clock", func(t *testing.T) {
		for range 3 {
			s.send([]byte{1, 2, 3})
		}
		h1, p1 := peer.read()
		h2, _ := peer.read()
		h3, _ := peer.read()
		if h1.PT != 9 || string(p1) != "\x01\x02\x03" || !h1.Marker {
			t.Errorf("first packet = %+v %v, want PT 9, marker, our payload", h1, p1)
		}
		if h2.Seq != h1.Seq+1 || h3.Seq != h1.Seq+2 || h2.TS-h1.TS != 160 || h3.TS-h2.TS != 160 {
			t.Errorf("seq %d %d %d ts %d %d %d, want +1 and +160 per 20 ms", h1.Seq, h2.Seq, h3.Seq, h1.TS, h2.TS, h3.TS)
		}
		if h1.SSRC != h2.SSRC || h2.Marker {
			t.Errorf("SSRC %x then %x, marker %v: want one SSRC and one marker", h1.SSRC, h2.SSRC, h2.Marker)
		}
	})

	t.Run("packets from another source after latching are dropped", func(t *testing.T) {
		other := newRTPPeer(t)
		other.send(s.localPort(), 9, 500, 0, []byte{9})
		peer.send(s.localPort(), 9, 103, 480, []byte{3})
		waitFor(t, "the 4th payload", func() bool { a, _, _ := r.count(); return a == 4 })
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, seq := range r.audio {
			if seq == 500 {
				t.Errorf("a packet from another source was taken: %v", r.audio)
			}
		}
	})

	t.Run("unknown payload types are ignored", func(t *testing.T) {
		peer.send(s.localPort(), 0, 104, 640, []byte{4})
		peer.send(s.localPort(), 9, 105, 800, []byte{5})
		waitFor(t, "the 5th payload", func() bool { a, _, _ := r.count(); return a == 5 })
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.audio[4] != 105 {
			t.Errorf("seqs = %v, want PT 0 dropped", r.audio)
		}
	})

	t.Run("Quality counts packets both ways", func(t *testing.T) {
		q := s.quality()
		if q.PacketsSent != 3 || q.PacketsReceived != 5 {
			t.Errorf("quality = %+v, want 3 sent and 5 received", q)
		}
	})
}

func TestMediaSessionWithoutLatching(t *testing.T) {
	peer := newRTPPeer(t)
	sdpPeer := newRTPPeer(t)
	var r recorder
	s := newTestSession(t, mediaConfig{Latch: false}, g722Media(sdpPeer.addr()), &r)
	peer.send(s.localPort(), 9, 1, 0, []byte{1})
	waitFor(t, "the payload", func() bool { a, _, _ := r.count(); return a == 1 })
	s.send([]byte{7})
	if h, _ := sdpPeer.read(); h.PT != 9 {
		t.Errorf("SDP address got PT %d, want 9", h.PT)
	}
}

func TestMediaSessionHoldSendsNothing(t *testing.T) {
	peer := newRTPPeer(t)
	var r recorder
	m := g722Media(peer.addr())
	m.Direction = recvOnly
	s := newTestSession(t, mediaConfig{}, m, &r)
	s.send([]byte{1}) // dropped: we only receive
	m.Direction = sendRecv
	s.update(m)
	s.send([]byte{2})
	if _, p := peer.read(); p[0] != 2 {
		t.Errorf("peer got payload %v first, want the one sent after resuming", p)
	}
}

func TestMediaSessionDTMF(t *testing.T) {
	peer := newRTPPeer(t)
	var r recorder
	s := newTestSession(t, mediaConfig{Latch: true}, g722Media(peer.addr()), &r)
	event := func(code byte, end bool, dur uint16) []byte {
		b := []byte{code, 10, 0, 0}
		if end {
			b[1] |= 0x80
		}
		binary.BigEndian.PutUint16(b[2:], dur)
		return b
	}
	// '5': start, update, end sent three times; then '#'; then '5' again.
	seq := uint16(1)
	for _, ev := range []struct {
		code byte
		ts   uint32
	}{{5, 1000}, {11, 3000}, {5, 5000}} {
		peer.send(s.localPort(), 101, seq, ev.ts, event(ev.code, false, 160))
		peer.send(s.localPort(), 101, seq+1, ev.ts, event(ev.code, false, 320))
		for i := range 3 {
			peer.send(s.localPort(), 101, seq+2+uint16(i), ev.ts, event(ev.code, true, 480))
		}
		seq += 5
	}
	waitFor(t, "three digits", func() bool { _, d, _ := r.count(); return d >= 3 })
	// A last event proves nothing else was queued behind the third.
	peer.send(s.localPort(), 101, seq, 7000, event(0, true, 160))
	waitFor(t, "four digits", func() bool { _, d, _ := r.count(); return d >= 4 })
	if got := r.digitString(); got != "5#50" {
		t.Errorf("digits = %q, want 5#50: each event once, retransmits dropped", got)
	}
}

func TestMediaSessionTimeout(t *testing.T) {
	var r recorder
	m := g722Media(netip.MustParseAddrPort("127.0.0.1:9"))
	s := newTestSession(t, mediaConfig{Timeout: 50 * time.Millisecond}, m, &r)
	waitFor(t, "the inactivity timeout", func() bool { _, _, n := r.count(); return n == 1 })

	t.Run("a peer on hold is not expected to send", func(t *testing.T) {
		clock := &fakeClock{t: time.Unix(1000, 0)}
		m.Direction = sendOnly
		held := newTestSession(t, mediaConfig{Timeout: time.Hour, Now: clock.Now}, m, &recorder{})
		if held.inactive(clock.Now().Add(2 * time.Hour)) {
			t.Error("a held leg timed out")
		}
		m.Direction = sendRecv
		held.update(m)
		if !held.inactive(clock.Now().Add(2 * time.Hour)) {
			t.Error("a resumed silent leg did not time out")
		}
	})
	_ = s
}

func TestMediaSessionRTCP(t *testing.T) {
	peer := newRTPPeer(t)
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	var r recorder
	m := g722Media(peer.addr())
	m.RemoteRTCP = peer.rtcpAddr()
	s := newTestSession(t, mediaConfig{Now: clock.Now, RTCPInterval: time.Hour}, m, &r)

	// The peer sends 1, 2, 4, 5: one lost.
	for _, seq := range []uint16{1, 2, 4, 5} {
		peer.send(s.localPort(), 9, seq, uint32(seq)*160, []byte{0})
	}
	waitFor(t, "4 packets", func() bool { a, _, _ := r.count(); return a == 4 })
	s.send([]byte{1})
	_, _ = peer.read()

	t0 := clock.Now()
	s.sendReport(t0)
	buf := make([]byte, maxPacket)
	_ = peer.rtcp.SetReadDeadline(time.Now().Add(waitTimeout))
	n, err := peer.rtcp.Read(buf)
	if err != nil {
		t.Fatalf("no RTCP report: %v", err)
	}
	pkts, err := rtcp.Unmarshal(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	sr, ok := pkts[0].(*rtcp.SenderReport)
	if !ok {
		t.Fatalf("first packet is %T, want a sender report (we sent media)", pkts[0])
	}
	t.Run("our SR reports what we sent and the peer's loss", func(t *testing.T) {
		if sr.PacketCount != 1 || len(sr.Reports) != 1 || sr.Reports[0].SSRC != peer.ssrc || sr.Reports[0].TotalLost != 1 {
			t.Errorf("SR = %+v, want 1 packet sent and a report on SSRC %x with 1 lost", sr, peer.ssrc)
		}
		if _, ok := pkts[1].(*rtcp.SourceDescription); !ok {
			t.Errorf("second packet is %T, want SDES", pkts[1])
		}
	})

	t.Run("the peer's RR gives the round-trip time and its loss", func(t *testing.T) {
		clock.Set(t0.Add(700 * time.Millisecond))
		rr, _ := (&rtcp.ReceiverReport{SSRC: peer.ssrc, Reports: []rtcp.ReceptionReport{{
			SSRC: s.ssrc, TotalLost: 2, LastSenderReport: ntpMiddle(sr.NTPTime), Delay: 65536 / 5, // 200 ms held
		}}}).Marshal()
		if _, err := peer.rtcp.WriteToUDPAddrPort(rr, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.localPort()+1))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "an RTT sample", func() bool { return s.quality().RTTMax > 0 })
		q := s.quality()
		if q.RTTAvg < 499*time.Millisecond || q.RTTAvg > 501*time.Millisecond {
			t.Errorf("RTT = %v, want 500ms (700ms - 200ms held)", q.RTTAvg)
		}
		if q.PacketsLost != 3 {
			t.Errorf("lost = %d, want 1 seen here + 2 reported", q.PacketsLost)
		}
	})
}

func TestPortPool(t *testing.T) {
	pool := testPool(t, 2)
	rtp1, rtcp1, err := pool.allocate()
	if err != nil {
		t.Fatal(err)
	}
	rtp2, rtcp2, err := pool.allocate()
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]*net.UDPConn{{rtp1, rtcp1}, {rtp2, rtcp2}} {
		a, b := pair[0].LocalAddr().(*net.UDPAddr).Port, pair[1].LocalAddr().(*net.UDPAddr).Port
		if a%2 != 0 || b != a+1 {
			t.Errorf("pair %d/%d, want RTP even and RTCP above it", a, b)
		}
	}
	if n := pool.inUse(); n != 2 {
		t.Errorf("inUse = %d, want 2", n)
	}
	t.Run("an exhausted pool says so", func(t *testing.T) {
		if _, _, err := pool.allocate(); !errors.Is(err, ErrPortsExhausted) {
			t.Fatalf("third allocate = %v, want ErrPortsExhausted", err)
		}
	})
	t.Run("a released pair is handed out again", func(t *testing.T) {
		port := rtp1.LocalAddr().(*net.UDPAddr).Port
		_ = rtp1.Close()
		_ = rtcp1.Close()
		pool.release(port)
		rtp, rtcp, err := pool.allocate()
		if err != nil {
			t.Fatal(err)
		}
		_ = rtp.Close()
		_ = rtcp.Close()
	})
	_ = rtp2.Close()
	_ = rtcp2.Close()
}

func TestMediaSessionLatchesOnlyKnownAddresses(t *testing.T) {
	stranger, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2)})
	if err != nil {
		t.Skipf("no 127.0.0.2: %v", err)
	}
	defer stranger.Close()
	peer := newRTPPeer(t)
	var r recorder
	// The SDP names 192.0.2.1 (a private address behind NAT, say); the
	// signalling came from 127.0.0.1, the NAT's public side.
	s := newTestSession(t, mediaConfig{Latch: true, Signalling: netip.MustParseAddr("127.0.0.1")},
		g722Media(netip.MustParseAddrPort("192.0.2.1:4000")), &r)
	pkt := make([]byte, 13)
	putRTP(pkt, rtpHeader{PT: 9, Seq: 666, SSRC: 1})
	if _, err := stranger.WriteToUDPAddrPort(pkt, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.localPort()))); err != nil {
		t.Fatal(err)
	}
	peer.send(s.localPort(), 9, 1, 0, []byte{1})
	waitFor(t, "the caller's packet", func() bool { a, _, _ := r.count(); return a >= 1 })
	s.send([]byte{2})
	if _, p := peer.read(); p[0] != 2 {
		t.Errorf("caller got %v, want our packet: we latched onto the stranger", p)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, seq := range r.audio {
		if seq == 666 {
			t.Error("the stranger's packet was taken")
		}
	}
}

func TestMediaSessionAddressChange(t *testing.T) {
	first, second := newRTPPeer(t), newRTPPeer(t)
	var r recorder
	s := newTestSession(t, mediaConfig{Latch: true, Signalling: netip.MustParseAddr("127.0.0.1")}, g722Media(first.addr()), &r)
	first.send(s.localPort(), 9, 1, 0, []byte{1})
	waitFor(t, "the first peer's packet", func() bool { a, _, _ := r.count(); return a == 1 })
	s.send([]byte{1})
	if _, p := first.read(); p[0] != 1 {
		t.Fatalf("first peer got %v", p)
	}
	// A re-INVITE moves the media to the second peer.
	s.update(g722Media(second.addr()))
	s.send([]byte{2})
	if _, p := second.read(); p[0] != 2 {
		t.Errorf("second peer got %v, want our packet after the address change", p)
	}
	second.send(s.localPort(), 9, 2, 160, []byte{2})
	waitFor(t, "the second peer's packet", func() bool { a, _, _ := r.count(); return a == 2 })
}
