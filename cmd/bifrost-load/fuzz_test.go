package main

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
	"github.com/pion/rtcp"
)

// FuzzReceive feeds the receiver what the network may send: RTP, RTCP and
// garbage. It must count or drop each datagram, never panic, and keep its
// loss within what it was sent.
func FuzzReceive(f *testing.F) {
	rtp := make([]byte, 172)
	putRTPHeader(rtp, true, ptPCMU, 1, 160, 7)
	f.Add(rtp)
	for _, pkts := range [][]rtcp.Packet{
		{&rtcp.SenderReport{SSRC: 1, NTPTime: 1 << 40, Reports: []rtcp.ReceptionReport{{SSRC: 2}}}, &rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 1, Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "x"}}}}}},
		{&rtcp.ReceiverReport{SSRC: 1}, &rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 2}},
		{&rtcp.ReceiverReport{SSRC: 1}, &rtcp.FullIntraRequest{SenderSSRC: 1, MediaSSRC: 2, FIR: []rtcp.FIREntry{{SSRC: 2}}}},
		{&rtcp.Goodbye{Sources: []uint32{1}}},
	} {
		b, err := rtcp.Marshal(pkts)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x80, 0xc8, 0xff, 0xff})
	f.Add([]byte{})
	conn, err := listenStream(netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		f.Fatal(err)
	}
	loop, err := newAudioLoop(media.PCMU)
	if err != nil {
		f.Fatal(err)
	}
	s := newStream(conn, loop, answer{Remote: conn.LocalAddr().(*net.UDPAddr).AddrPort(), PT: ptPCMU, Codec: media.PCMU}, "fuzz", time.Now(), &fakeVideo{})
	f.Cleanup(s.close)
	f.Fuzz(func(t *testing.T, b []byte) {
		before := s.rx.snapshot()
		_ = parseRTCP(b)
		s.handle(b, time.Now())
		after := s.rx.snapshot()
		if after.Received < before.Received || after.Received > before.Received+1 {
			t.Fatalf("one datagram moved the received count from %d to %d", before.Received, after.Received)
		}
		if after.Lost > after.Expected {
			t.Fatalf("lost %d of %d expected", after.Lost, after.Expected)
		}
	})
}
