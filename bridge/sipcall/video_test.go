package sipcall

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/bifrost-video/bifrost/bridge/video"
)

// videoRecorder collects what a video session reports.
type videoRecorder struct {
	mu          sync.Mutex
	seqs        []uint16
	keyframes   int
	fastUpdates int
}

func (r *videoRecorder) events() videoEvents {
	return videoEvents{
		packet: func(pkt *rtp.Packet) {
			r.mu.Lock()
			r.seqs = append(r.seqs, pkt.SequenceNumber)
			r.mu.Unlock()
		},
		keyframeRequested: func() { r.mu.Lock(); r.keyframes++; r.mu.Unlock() },
		fastUpdate:        func() { r.mu.Lock(); r.fastUpdates++; r.mu.Unlock() },
	}
}

func (r *videoRecorder) counts() (packets, keyframes, fastUpdates int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seqs), r.keyframes, r.fastUpdates
}

func newTestVideo(t *testing.T, peer *rtpPeer, fb videoFeedback, r *videoRecorder) *videoSession {
	t.Helper()
	m := videoMedia{Profile: "RTP/AVPF", PT: 96, FB: fb, Remote: peer.addr(), RemoteRTCP: peer.rtcpAddr()}
	s, err := newVideoSession(testPool(t, 2), mediaConfig{Latch: true, RTCPInterval: time.Hour}, video.DefaultCeiling, m, r.events())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	return s
}

// readRTCP returns the next RTCP datagram the peer receives.
func (p *rtpPeer) readRTCP() []byte {
	p.t.Helper()
	buf := make([]byte, maxPacket)
	_ = p.rtcp.SetReadDeadline(time.Now().Add(waitTimeout))
	n, err := p.rtcp.Read(buf)
	if err != nil {
		p.t.Fatalf("peer got no RTCP: %v", err)
	}
	return buf[:n]
}

func (p *rtpPeer) sendRTCP(port int, pkts ...rtcp.Packet) {
	p.t.Helper()
	raw, err := rtcp.Marshal(pkts)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.rtcp.WriteToUDPAddrPort(raw, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port+1))); err != nil {
		p.t.Fatal(err)
	}
}

func TestVideoSessionSendsTheBridgesStreamWithItsOwnSSRCAndRetransmitsNACKed(t *testing.T) {
	peer := newRTPPeer(t)
	r := &videoRecorder{}
	s := newTestVideo(t, peer, videoFeedback{NACK: true, PLI: true}, r)

	peer.send(s.localPort(), 96, 7, 9000, []byte{0x65, 1}) // latches
	peer.send(s.localPort(), 97, 8, 9000, []byte{0x65, 1}) // other PT: dropped
	waitFor(t, "the peer's H.264 packet", func() bool { n, _, _ := r.counts(); return n == 1 })

	for i := range 3 {
		s.send(&rtp.Packet{Header: rtp.Header{SequenceNumber: uint16(100 + i), Timestamp: 3000, SSRC: 42, PayloadType: 111, Marker: i == 2}, Payload: []byte{0x41, byte(i)}})
	}
	var ssrc uint32
	for i := range 3 {
		h, payload := peer.read()
		if h.PT != 96 || h.Seq != uint16(100+i) || h.TS != 3000 || h.SSRC == 42 || payload[1] != byte(i) || h.Marker != (i == 2) {
			t.Fatalf("peer got %+v %x; want PT 96, the bridge's seq and timestamp, our own SSRC", h, payload)
		}
		ssrc = h.SSRC
	}
	peer.sendRTCP(s.localPort(), &rtcp.TransportLayerNack{SenderSSRC: peer.ssrc, MediaSSRC: ssrc, Nacks: rtcp.NackPairsFromSequenceNumbers([]uint16{101})})
	if h, payload := peer.read(); h.Seq != 101 || payload[1] != 1 {
		t.Fatalf("retransmission %+v %x; want packet 101 again", h, payload)
	}
	peer.sendRTCP(s.localPort(), &rtcp.PictureLossIndication{SenderSSRC: peer.ssrc, MediaSSRC: ssrc})
	waitFor(t, "the PLI to reach the bridge", func() bool { _, k, _ := r.counts(); return k == 1 })
	peer.sendRTCP(s.localPort(), &rtcp.FullIntraRequest{SenderSSRC: peer.ssrc, FIR: []rtcp.FIREntry{{SSRC: ssrc, SequenceNumber: 1}}})
	waitFor(t, "the FIR to reach the bridge", func() bool { _, k, _ := r.counts(); return k == 2 })

	raw := appendTMMB(nil, fmtTMMBR, peer.ssrc, tmmbEntry{SSRC: ssrc, Bitrate: 512000, Overhead: 40})
	if _, err := peer.rtcp.WriteToUDPAddrPort(raw, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(s.localPort()+1))); err != nil {
		t.Fatal(err)
	}
	got := peer.readRTCP()
	if len(got) < 20 || got[0]&0x1f != fmtTMMBN || got[1] != rtcpRTPFB {
		t.Fatalf("answer to TMMBR %x; want a TMMBN", got)
	}
	s.mu.Lock()
	kbps := s.peerMaxKbps
	s.mu.Unlock()
	if kbps != 512 {
		t.Errorf("peer's limit %d kbit/s; want 512 from its TMMBR", kbps)
	}
}

func TestVideoSessionAsksForKeyframesAsNegotiated(t *testing.T) {
	for _, tt := range []struct {
		name string
		fb   videoFeedback
		want string
	}{
		{"PLI when nack pli was negotiated", videoFeedback{PLI: true, FIR: true}, "pli"},
		{"FIR when only ccm fir was", videoFeedback{FIR: true}, "fir"},
		{"SIP INFO without rtcp-fb", videoFeedback{}, "info"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			peer := newRTPPeer(t)
			r := &videoRecorder{}
			s := newTestVideo(t, peer, tt.fb, r)
			peer.send(s.localPort(), 96, 1, 0, []byte{0x41})
			waitFor(t, "the peer's packet", func() bool { n, _, _ := r.counts(); return n == 1 })
			peer.sendRTCP(s.localPort(), &rtcp.ReceiverReport{SSRC: peer.ssrc})
			waitFor(t, "the peer's RTCP to latch", func() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.rtcpLatch })
			s.requestKeyframe()
			if tt.want == "info" {
				if _, _, f := r.counts(); f != 1 {
					t.Fatalf("%d SIP INFO requests; want 1", f)
				}
				return
			}
			pkts, err := rtcp.Unmarshal(peer.readRTCP())
			if err != nil {
				t.Fatal(err)
			}
			switch p := pkts[0].(type) {
			case *rtcp.PictureLossIndication:
				if tt.want != "pli" || p.MediaSSRC != peer.ssrc {
					t.Fatalf("got %v; want %s for SSRC %x", p, tt.want, peer.ssrc)
				}
			case *rtcp.FullIntraRequest:
				if tt.want != "fir" || p.FIR[0].SSRC != peer.ssrc {
					t.Fatalf("got %v; want %s for SSRC %x", p, tt.want, peer.ssrc)
				}
			default:
				t.Fatalf("got %T; want %s", p, tt.want)
			}
		})
	}
}

func TestTMMBRBitratesRoundTrip(t *testing.T) {
	for _, bps := range []uint64{64000, 1500000, 100_000_000} {
		raw := appendTMMB(nil, fmtTMMBR, 1, tmmbEntry{SSRC: 2, Bitrate: bps, Overhead: 40})
		_, e, ok := parseTMMBR(raw)
		if !ok || e.SSRC != 2 || e.Overhead != 40 || e.Bitrate > bps || e.Bitrate < bps-bps/65536 {
			t.Errorf("%d bit/s came back as %+v (ok %v)", bps, e, ok)
		}
	}
	if _, _, ok := parseTMMBR([]byte{0x83, 205, 0, 4}); ok {
		t.Error("a short TMMBR was read")
	}
}

// TestVideoSenderReportsMapNTPToTheRewrittenStream: an SR's RTP time is
// the rewritten stream's last timestamp moved on at 90 kHz to the SR's NTP
// time (RFC 3550 §6.4.1), so receivers keep lip sync and jitter across
// switches.
func TestVideoSenderReportsMapNTPToTheRewrittenStream(t *testing.T) {
	peer := newRTPPeer(t)
	clock := &fakeClock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	m := videoMedia{Profile: "RTP/AVP", PT: 96, Remote: peer.addr(), RemoteRTCP: peer.rtcpAddr(), Direction: sendRecv}
	s, err := newVideoSession(testPool(t, 2), mediaConfig{RTCPInterval: time.Hour, Now: clock.Now}, video.DefaultCeiling, m, videoEvents{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.close)
	s.send(&rtp.Packet{Header: rtp.Header{SequenceNumber: 1, Timestamp: 4294960000}, Payload: []byte{0x65}})
	peer.read()
	sent := clock.Now()
	clock.Set(sent.Add(500 * time.Millisecond))
	s.sendReport(clock.Now())
	pkts, err := rtcp.Unmarshal(peer.readRTCP())
	if err != nil {
		t.Fatal(err)
	}
	sr, ok := pkts[0].(*rtcp.SenderReport)
	if !ok {
		t.Fatalf("first packet %T; want an SR", pkts[0])
	}
	if want := uint32(4294960000 + 45000 - 1<<32); sr.RTPTime != want {
		t.Errorf("SR RTP time %d; want %d (the last timestamp plus 500 ms at 90 kHz, wrapped)", sr.RTPTime, want)
	}
	if sr.NTPTime != ntpTime(clock.Now()) || sr.PacketCount != 1 || sr.OctetCount != 1 {
		t.Errorf("SR %+v; want NTP of now, 1 packet of 1 octet", sr)
	}
}
