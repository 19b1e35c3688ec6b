package main

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
	"github.com/pion/rtcp"
)

// loopPair is a stream whose remote is a plain socket the test reads.
func loopPair(t testing.TB, codec media.AudioCodec, eventPT uint8) (*stream, *net.UDPConn) {
	t.Helper()
	lo := netip.MustParseAddr("127.0.0.1")
	peer, err := listenStream(lo)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := listenStream(lo)
	if err != nil {
		t.Fatal(err)
	}
	loop, err := newAudioLoop(codec)
	if err != nil {
		t.Skipf("bridge/media cannot encode %s: %v", codec, err)
	}
	remote := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	ans := answer{Remote: remote, RemoteRTCP: remote, PT: offerPT(codec), Codec: codec, EventPT: eventPT, HasEvent: eventPT != 0}
	s := newStream(conn, loop, ans, "test@127.0.0.1", time.Now(), nil)
	t.Cleanup(func() { s.close(); _ = peer.Close() })
	return s, peer
}

// readPacket reads one datagram from peer, failing after 5 s.
func readPacket(t *testing.T, peer *net.UDPConn) []byte {
	t.Helper()
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, maxPacket)
	n, _, err := peer.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("no packet from the stream: %v", err)
	}
	return buf[:n]
}

func TestStreamSendsOneAudioPacketPerFrameInSequence(t *testing.T) {
	s, peer := loopPair(t, media.PCMU, ptEvent)
	s.tx.nextRTCP = time.Now().Add(time.Hour)
	s.tick(time.Now(), 3) // three frames due
	var prevSeq uint16
	var prevTS uint32
	for i := range 3 {
		p := readPacket(t, peer)
		if len(p) != 12+160 {
			t.Fatalf("packet %d is %d bytes; want 172 (12 header + 160 PCMU)", i, len(p))
		}
		if pt := p[1] & 0x7f; pt != ptPCMU {
			t.Errorf("packet %d has PT %d; want %d", i, pt, ptPCMU)
		}
		if marker := p[1]&0x80 != 0; marker != (i == 0) {
			t.Errorf("packet %d marker %v; want it on the first packet only (RFC 3551 §4.1)", i, marker)
		}
		seq, ts := binary.BigEndian.Uint16(p[2:]), binary.BigEndian.Uint32(p[4:])
		if i > 0 && (seq != prevSeq+1 || ts != prevTS+160) {
			t.Errorf("packet %d: seq %d ts %d after %d %d; want +1 and +160", i, seq, ts, prevSeq, prevTS)
		}
		prevSeq, prevTS = seq, ts
	}
	if got := s.sent.Load(); got != 3 {
		t.Errorf("sent %d; want 3", got)
	}
}

func TestStreamKeysDigitsAsRFC4733Events(t *testing.T) {
	s, peer := loopPair(t, media.PCMU, ptEvent)
	s.tx.nextRTCP = time.Now().Add(time.Hour)
	done, err := s.sendDigits("1#")
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		code  byte
		end   bool
		dur   uint16
		ts    uint32
		mark  bool
		audio bool
	}
	var got []ev
	frame := int64(0)
	for {
		frame++
		s.tick(time.Now(), frame)
		p := readPacket(t, peer)
		e := ev{mark: p[1]&0x80 != 0, ts: binary.BigEndian.Uint32(p[4:])}
		if p[1]&0x7f == ptEvent {
			e.code, e.end, e.dur = p[12], p[13]&0x80 != 0, binary.BigEndian.Uint16(p[14:])
		} else {
			e.audio = true
		}
		got = append(got, e)
		select {
		case <-done:
		default:
			if frame < 100 {
				continue
			}
			t.Fatal("the digits were not all sent within 100 frames")
		}
		break
	}
	// First packet: audio (the first tick starts the digit). Then per digit
	// 5 tone updates and 3 end packets, 60 ms of audio between digits.
	want := []struct {
		code byte
		end  bool
		dur  uint16
		mark bool
	}{{1, false, 160, true}, {1, false, 320, false}, {1, false, 480, false}, {1, false, 640, false}, {1, false, 800, false},
		{1, true, 800, false}, {1, true, 800, false}, {1, true, 800, false}}
	events := got
	if len(events) != 2*len(want)+dtmfGapFrames {
		t.Fatalf("%d packets for 1#: %+v; want %d", len(events), events, 2*len(want)+dtmfGapFrames)
	}
	check := func(first int, code byte) {
		for i, w := range want {
			e := events[first+i]
			if e.audio || e.code != code || e.end != w.end || e.dur != w.dur || e.mark != w.mark || e.ts != events[first].ts {
				t.Errorf("event packet %d of digit %d = %+v; want code %d end %v duration %d marker %v and the event's start timestamp",
					i, code, e, code, w.end, w.dur, w.mark)
			}
		}
	}
	check(0, 1)
	for i := range dtmfGapFrames {
		if !events[len(want)+i].audio {
			t.Errorf("packet %d between the digits is not audio", len(want)+i)
		}
	}
	check(len(want)+dtmfGapFrames, 11)
}

func TestStreamRefusesDigitsWithoutTelephoneEvent(t *testing.T) {
	s, _ := loopPair(t, media.PCMU, 0)
	if _, err := s.sendDigits("1234#"); err == nil {
		t.Error("sendDigits without a telephone-event in the answer succeeded; want an error")
	}
}

func TestStreamSendsASenderReportPionParses(t *testing.T) {
	s, peer := loopPair(t, media.PCMU, ptEvent)
	s.rx.update(0xabcdef01, 100, 8000, 8000)
	s.rx.update(0xabcdef01, 103, 8480, 8480) // two lost
	s.tx.nextRTCP = time.Time{}
	s.tx.baseFrame = 1 << 40 // no audio due: the report alone
	s.tick(time.Now(), 0)
	p := readPacket(t, peer)
	pkts, err := rtcp.Unmarshal(p)
	if err != nil {
		t.Fatalf("pion/rtcp cannot parse our report: %v", err)
	}
	if len(pkts) != 2 {
		t.Fatalf("%d RTCP packets; want SR and SDES", len(pkts))
	}
	sr, ok := pkts[0].(*rtcp.SenderReport)
	if !ok {
		t.Fatalf("first packet is %T; want a sender report", pkts[0])
	}
	if sr.SSRC != s.ssrc || len(sr.Reports) != 1 {
		t.Fatalf("SR SSRC %x with %d blocks; want %x with 1", sr.SSRC, len(sr.Reports), s.ssrc)
	}
	rr := sr.Reports[0]
	if rr.SSRC != 0xabcdef01 || rr.TotalLost != 2 || rr.LastSequenceNumber != 103 {
		t.Errorf("report block %+v; want source abcdef01, 2 lost, highest 103", rr)
	}
	sdes, ok := pkts[1].(*rtcp.SourceDescription)
	if !ok || len(sdes.Chunks) != 1 || string(sdes.Chunks[0].Items[0].Text) != "test@127.0.0.1" {
		t.Errorf("second packet %+v; want an SDES with our CNAME", pkts[1])
	}
}

func TestParseRTCPFindsSenderReportsAndKeyframeRequests(t *testing.T) {
	sr := &rtcp.SenderReport{SSRC: 1, NTPTime: 0x0123456789abcdef}
	pli := &rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 2}
	b, err := rtcp.Marshal([]rtcp.Packet{sr, pli})
	if err != nil {
		t.Fatal(err)
	}
	ev := parseRTCP(b)
	if !ev.SR || ev.NTPMiddle != 0x456789ab || !ev.KeyRequest {
		t.Errorf("parseRTCP = %+v; want a sender report with middle 456789ab and a keyframe request", ev)
	}
	fir, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1}, &rtcp.FullIntraRequest{SenderSSRC: 1, MediaSSRC: 2, FIR: []rtcp.FIREntry{{SSRC: 2}}}})
	if ev := parseRTCP(fir); ev.SR || !ev.KeyRequest {
		t.Errorf("parseRTCP of RR+FIR = %+v; want a keyframe request and no SR", ev)
	}
}

func TestSendingAllocatesNothingPerPacket(t *testing.T) {
	s, peer := loopPair(t, media.PCMU, ptEvent)
	s.tx.nextRTCP = time.Now().Add(time.Hour)
	go func() { // drain
		buf := make([]byte, maxPacket)
		for {
			if _, _, err := peer.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	frame := int64(0)
	now := time.Now()
	allocs := testing.AllocsPerRun(500, func() {
		frame++
		s.tick(now, frame)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per 20 ms tick; want 0", allocs)
	}
	p := make([]byte, 172)
	putRTPHeader(p, false, ptPCMU, 1, 160, 7)
	var seq uint16
	allocs = testing.AllocsPerRun(500, func() {
		seq++
		binary.BigEndian.PutUint16(p[2:], seq)
		s.handle(p, now)
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per received packet; want 0", allocs)
	}
}

func TestRxStatsCountLossAcrossAWrapAndJitter(t *testing.T) {
	var s rxStats
	seq := uint16(65530)
	ts := uint32(0)
	for i := range 20 {
		if i == 10 || i == 11 {
			seq++
			ts += 160
			continue // two lost, after the wrap
		}
		s.update(9, seq, ts, ts+1000) // constant transit: no jitter
		seq++
		ts += 160
	}
	snap := s.snapshot()
	if snap.Received != 18 || snap.Expected != 20 || snap.Lost != 2 {
		t.Errorf("received %d of %d expected, %d lost; want 18 of 20, 2 lost", snap.Received, snap.Expected, snap.Lost)
	}
	if snap.JitterUnits != 0 {
		t.Errorf("jitter %v with constant transit; want 0", snap.JitterUnits)
	}
	// Transit alternating by 160 units converges towards 160 (RFC 3550 A.8).
	var j rxStats
	for i := range 400 {
		j.update(1, uint16(i), uint32(i*160), uint32(i*160+(i%2)*160))
	}
	if got := j.snapshot().JitterUnits; got < 150 || got > 161 {
		t.Errorf("jitter %v for transit alternating by 160; want about 160", got)
	}
}

func TestRxStatsKeepCountsWhenTheSenderRestarts(t *testing.T) {
	var s rxStats
	for i := range 10 {
		s.update(1, uint16(i), 0, 0)
	}
	for i := range 5 {
		s.update(2, uint16(40000+i), 0, 0) // a new SSRC
	}
	if snap := s.snapshot(); snap.Received != 15 || snap.Expected != 15 || snap.Lost != 0 {
		t.Errorf("%+v; want 15 received of 15 and none lost across the restart", snap)
	}
}

func TestSyntheticSpeechTalksAndPauses(t *testing.T) {
	pcm := syntheticSpeech(loopSeconds * media.SampleRate)
	level := func(from, to float64) float64 {
		var sum float64
		a, b := int(from*media.SampleRate), int(to*media.SampleRate)
		for _, v := range pcm[a:b] {
			sum += float64(v) * float64(v)
		}
		return sum / float64(b-a)
	}
	talk, pause := level(0.5, 1.5), level(1.8, 2.2)
	if talk < 1000*pause {
		t.Errorf("mean power %.0f in a talk spurt, %.0f in a pause; want the talk 30 dB above the pause", talk, pause)
	}
}

func BenchmarkStreamTick(b *testing.B) {
	s, peer := loopPair(b, media.Opus, ptEvent)
	s.tx.nextRTCP = time.Now().Add(time.Hour)
	go func() {
		buf := make([]byte, maxPacket)
		for {
			if _, _, err := peer.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	now := time.Now()
	b.Run("stream", func(b *testing.B) {
		b.ReportAllocs()
		frame := int64(0)
		for b.Loop() {
			frame++
			s.tick(now, frame)
		}
	})
	// The reference: the bare UDP write of a packet of the same size.
	b.Run("reference=raw-write", func(b *testing.B) {
		p := make([]byte, 12+len(s.loop.frames[0]))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = s.conn.WriteToUDPAddrPort(p, s.ans.Remote)
		}
	})
}

// fakeVideo counts keyframe requests.
type fakeVideo struct {
	ticks    int
	requests atomic.Int32
}

func (f *fakeVideo) Tick(time.Time)     { f.ticks++ }
func (f *fakeVideo) KeyframeRequested() { f.requests.Add(1) }
func (f *fakeVideo) Close() error       { return nil }

func TestKeyframeRequestsReachTheVideoSource(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	conn, err := listenStream(lo)
	if err != nil {
		t.Fatal(err)
	}
	loop, err := newAudioLoop(media.PCMU)
	if err != nil {
		t.Fatal(err)
	}
	v := &fakeVideo{}
	s := newStream(conn, loop, answer{Remote: conn.LocalAddr().(*net.UDPAddr).AddrPort(), PT: ptPCMU, Codec: media.PCMU}, "x", time.Now(), v)
	defer s.close()
	l := &sipLoad{}
	l.byCallID.Store("abc@host", s)

	pli, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1}, &rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 2}})
	s.handle(pli, time.Now())
	l.info("abc@host", []byte(`<?xml version="1.0" encoding="utf-8" ?><media_control><vc_primitive><to_encoder><picture_fast_update/></to_encoder></vc_primitive></media_control>`))
	l.info("abc@host", []byte("Signal=5\r\nDuration=160\r\n")) // DTMF, not a keyframe request
	l.info("other@host", []byte("<picture_fast_update/>"))     // another dialog
	if got := v.requests.Load(); got != 2 {
		t.Errorf("%d keyframe requests reached the video source; want 2 (the PLI and the INFO of its dialog)", got)
	}
	s.tx.nextRTCP = time.Now().Add(time.Hour)
	s.tick(time.Now(), 1)
	if v.ticks != 1 {
		t.Errorf("the video source was ticked %d times; want once per pacer tick", v.ticks)
	}
}
