package sipcall

import (
	"net/netip"
	"testing"
)

// TestMediaHotPathDoesNotAllocate holds the rule that the per-packet path
// (receive: parse, stats, hand over; send: header, write) allocates
// nothing in steady state.
func TestMediaHotPathDoesNotAllocate(t *testing.T) {
	peer := newRTPPeer(t)
	ev := mediaEvents{audio: func(uint16, uint32, []byte) {}, digit: func(rune) {}}
	s, err := newMediaSession(testPool(t, 2), mediaConfig{Latch: true}, g722Media(peer.addr()), ev)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	pkt := make([]byte, 12+160)
	from := peer.addr()
	seq := uint16(0)
	recv := testing.AllocsPerRun(200, func() {
		putRTP(pkt, rtpHeader{PT: 9, Seq: seq, TS: uint32(seq) * 160, SSRC: 7})
		seq++
		s.handleRTP(pkt, from)
	})
	payload := make([]byte, 160)
	send := testing.AllocsPerRun(200, func() { s.send(payload) })
	if recv != 0 || send != 0 {
		t.Errorf("allocations per packet: receive %v, send %v; want 0", recv, send)
	}
}

// BenchmarkMediaReceive measures the receive path of one RTP packet,
// next to parsing its header alone as the reference.
func BenchmarkMediaReceive(b *testing.B) {
	ev := mediaEvents{audio: func(uint16, uint32, []byte) {}}
	s, err := newMediaSession(testPool(b, 2), mediaConfig{}, g722Media(netip.MustParseAddrPort("127.0.0.1:9")), ev)
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	pkt := make([]byte, 12+160)
	from := netip.MustParseAddrPort("127.0.0.1:9")
	b.Run("reference: parseRTP", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			putRTP(pkt, rtpHeader{PT: 9, Seq: uint16(i), TS: uint32(i) * 160, SSRC: 7})
			_, _, _ = parseRTP(pkt)
		}
	})
	b.Run("handleRTP", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			putRTP(pkt, rtpHeader{PT: 9, Seq: uint16(i), TS: uint32(i) * 160, SSRC: 7})
			s.handleRTP(pkt, from)
		}
	})
}

// BenchmarkMediaSend measures sending one 20 ms frame (header, counters,
// UDP write), next to a bare UDP write of the same datagram as the
// reference.
func BenchmarkMediaSend(b *testing.B) {
	peer := newRTPPeer(b)
	s, err := newMediaSession(testPool(b, 2), mediaConfig{}, g722Media(peer.addr()), mediaEvents{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.close()
	go func() { // drain
		buf := make([]byte, maxPacket)
		for {
			if _, err := peer.conn.Read(buf); err != nil {
				return
			}
		}
	}()
	payload := make([]byte, 160)
	pkt := make([]byte, 12+160)
	b.Run("reference: UDP write", func(b *testing.B) {
		b.ReportAllocs()
		var to sockaddr
		for b.Loop() {
			_ = s.rtp.writeTo(pkt, peer.addr(), &to)
		}
	})
	b.Run("send", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.send(payload)
		}
	})
}
