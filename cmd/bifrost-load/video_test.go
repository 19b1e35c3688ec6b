package main

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"

	"github.com/bifrost-video/bifrost/bridge/video"
)

// videoPair is a video stream (source id 7) whose remote is a plain
// socket the test reads.
func videoPair(t testing.TB) (*videoStream, *net.UDPConn) {
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
	remote := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	run := newVideoRun(time.Now(), 8, nil, nil)
	v := newVideoStream(run, 7, conn, videoAnswer{Remote: remote, RemoteRTCP: remote, PT: ptH264, PLI: true}, "test@127.0.0.1")
	run.streams[7].Store(v)
	t.Cleanup(func() { _ = v.Close(); _ = peer.Close() })
	return v, peer
}

// readFrame reads packets from peer up to the one with the marker: one
// frame. It fails after 5 s.
func readFrame(t *testing.T, peer *net.UDPConn) [][]byte {
	t.Helper()
	var pkts [][]byte
	for {
		_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, maxPacket)
		n, _, err := peer.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("after %d packets, no more of the frame: %v", len(pkts), err)
		}
		if isRTCP(buf[:n]) {
			continue
		}
		pkts = append(pkts, buf[:n])
		if buf[1]&0x80 != 0 {
			return pkts
		}
	}
}

// reassemble joins the FU-A fragments of pkts (from index 0) into the NAL
// unit they carry (RFC 6184 §5.8), or returns a single NAL unit as is.
func reassemble(t *testing.T, pkts [][]byte) []byte {
	t.Helper()
	var nal []byte
	for i, p := range pkts {
		pl := p[12:]
		if pl[0]&0x1f != nalFUA {
			if len(pkts) != 1 {
				t.Fatalf("packet %d of %d is not an FU-A", i, len(pkts))
			}
			return pl
		}
		if start := pl[1]&0x80 != 0; start != (i == 0) {
			t.Errorf("fragment %d: S bit %v", i, start)
		}
		if end := pl[1]&0x40 != 0; end != (i == len(pkts)-1) {
			t.Errorf("fragment %d: E bit %v", i, end)
		}
		if i == 0 {
			nal = append(nal, pl[0]&0xe0|pl[1]&0x1f)
		}
		nal = append(nal, pl[2:]...)
	}
	return nal
}

func TestVideoParameterSetsAreValidH264(t *testing.T) {
	bs := sharedBitstream()
	w, h, err := video.Resolution(bs.sps)
	if err != nil || w != 1280 || h != 720 {
		t.Errorf("our SPS reads as %dx%d, %v; want 1280x720", w, h, err)
	}
	if got := hex.EncodeToString(bs.sps[1:4]); got != "42e01f" {
		t.Errorf("SPS profile-level-id %s; want 42e01f, what the offer says", got)
	}
	var s video.ParamSets
	var stap []byte
	stap = append(stap, hdrSTAPA)
	for _, nal := range [][]byte{bs.sps, bs.pps} {
		stap = binary.BigEndian.AppendUint16(stap, uint16(len(nal)))
		stap = append(stap, nal...)
	}
	s.Observe(stap)
	if !s.Complete() {
		t.Error("the bridge's parameter set keeper does not take our SPS and PPS")
	}
}

func TestVideoStreamStartsWithAKeyframeAndSendsPFramesAt30FPS(t *testing.T) {
	v, peer := videoPair(t)
	t0 := time.Now()
	v.Tick(t0)
	stap := readFrame(t, peer)
	if len(stap) < 2 {
		t.Fatalf("the first frame is %d packets; want a STAP-A and the IDR's fragments", len(stap))
	}
	info, err := video.Inspect(stap[0][12:])
	if err != nil || !info.SPS || !info.PPS || !info.Keyframe() {
		t.Errorf("the first packet reads as %+v, %v; want SPS and PPS, a keyframe for the bridge", info, err)
	}
	tag, ok := findTag(stap[0][12:])
	if !ok || tag != (frameTag{Source: 7, Frame: 0, Keyframe: true}) {
		t.Errorf("the first packet's tag is %+v (%v); want source 7, frame 0, keyframe", tag, ok)
	}
	idr := stap[1:]
	nal := reassemble(t, idr)
	if nal[0] != hdrIDR || len(nal) != idrFrameBytes {
		t.Errorf("the IDR NAL unit has header %#x and %d bytes; want %#x and %d", nal[0], len(nal), hdrIDR, idrFrameBytes)
	}
	for i, p := range stap {
		if len(p)-12 > maxVideoPayload {
			t.Errorf("packet %d has a %d-byte payload; want at most %d", i, len(p)-12, maxVideoPayload)
		}
		if i > 0 && binary.BigEndian.Uint16(p[2:]) != binary.BigEndian.Uint16(stap[i-1][2:])+1 {
			t.Errorf("packet %d does not follow %d in sequence", i, i-1)
		}
		if binary.BigEndian.Uint32(p[4:]) != binary.BigEndian.Uint32(stap[0][4:]) {
			t.Errorf("packet %d has another timestamp than the frame's first", i)
		}
	}
	// 100 ms later three more frames are due: P slices, 3000 ticks apart.
	v.Tick(t0.Add(100 * time.Millisecond))
	prevTS := binary.BigEndian.Uint32(stap[0][4:])
	for i := range 3 {
		f := readFrame(t, peer)
		nal := reassemble(t, f)
		if nal[0] != hdrP || len(nal) != pFrameBytes {
			t.Errorf("frame %d: NAL header %#x, %d bytes; want a P slice (%#x) of %d", i+1, nal[0], len(nal), hdrP, pFrameBytes)
		}
		if tag, ok := findTag(f[0][12:]); !ok || tag.Frame != uint32(i+1) || tag.Keyframe || tag.Source != 7 {
			t.Errorf("frame %d: tag %+v (%v)", i+1, tag, ok)
		}
		ts := binary.BigEndian.Uint32(f[0][4:])
		if ts-prevTS != tsPerFrame {
			t.Errorf("frame %d: timestamp +%d; want +%d (30 fps at 90 kHz)", i+1, ts-prevTS, tsPerFrame)
		}
		prevTS = ts
	}
	if got := v.framesSent.Load(); got != 4 {
		t.Errorf("%d frames sent; want 4", got)
	}
}

func TestVideoStreamAnswersAKeyframeRequestAtOnce(t *testing.T) {
	v, peer := videoPair(t)
	v.Tick(time.Now())
	readFrame(t, peer)
	v.mu.Lock()
	v.tx.lastKey = time.Now().Add(-time.Second) // the first IDR is long past
	v.mu.Unlock()
	pli, _ := rtcp.Marshal([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1}, &rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: v.ssrc}})
	v.handle(pli, time.Now()) // no tick: the answer must not wait for one
	f := readFrame(t, peer)
	if tag, ok := findTag(f[0][12:]); !ok || !tag.Keyframe || tag.Frame != 1 {
		t.Errorf("the answer to a PLI starts with tag %+v (%v); want the next frame, a keyframe", tag, ok)
	}
	v.KeyframeRequested() // within a frame interval: the next frame answers it
	if got := v.keysSent.Load(); got != 2 {
		t.Errorf("%d keyframes sent before the next frame; want 2 (the first frame and the PLI's)", got)
	}
	v.Tick(time.Now().Add(2 * frameInterval))
	if tag, ok := findTag(readFrame(t, peer)[0][12:]); !ok || !tag.Keyframe {
		t.Errorf("the frame after a second request within the interval has tag %+v (%v); want a keyframe", tag, ok)
	}
	if got := v.keyRequests.Load(); got != 2 {
		t.Errorf("%d keyframe requests counted; want 2", got)
	}
}

func TestVideoReceiverCountsSwitchesAndGaps(t *testing.T) {
	v, _ := videoPair(t)
	run := v.run
	run.talk = &talkSchedule{}
	other, _ := videoPair(t)
	run.streams[3].Store(other)
	pkt := func(seq uint16, src uint32, key, marker bool) []byte {
		b := make([]byte, 12+64)
		putRTPHeader(b, marker, ptH264, seq, 0, 99)
		putSliceStart(b[12:], key, 1, 0, frameTag{Source: src, Frame: uint32(seq), Keyframe: key})
		return b
	}
	now := time.Now()
	run.talk.lastChange.Store(now.Add(-40 * time.Millisecond).UnixNano())
	other.lastKeyRequest.Store(now.Add(-10 * time.Millisecond).UnixNano())
	v.handle(pkt(100, 5, true, true), now) // the first source: no switch
	v.handle(pkt(101, 5, false, true), now)
	v.handle(pkt(102, 3, true, true), now)  // a switch at a keyframe, continuous
	v.handle(pkt(102, 3, true, true), now)  // a duplicate: neither gap nor switch
	v.handle(pkt(104, 3, false, true), now) // a lost packet
	v.handle(pkt(106, 5, false, true), now) // a switch with a gap and no keyframe
	r := v.result()
	if r.Switches != 2 || r.GapsAtSwitch != 1 || r.WithoutKeyframe != 1 || r.Gaps != 2 || r.FramesReceived != 6 {
		t.Errorf("result %+v; want 2 switches, 1 with a gap, 1 without keyframe, 2 gaps, 6 frame ends", r)
	}
	if len(r.FromTalk) != 2 || r.FromTalk[0] != 40*time.Millisecond {
		t.Errorf("latencies from the talker change %v; want 40 ms first", r.FromTalk)
	}
	if len(r.FromRequest) != 1 || r.FromRequest[0] != 10*time.Millisecond {
		t.Errorf("latencies from the keyframe request %v; want 10 ms (source 5 was never asked)", r.FromRequest)
	}
}

func TestVideoTagsSurviveAnyFraming(t *testing.T) {
	tags := []frameTag{{Source: 1, Frame: 0}, {Source: 1<<32 - 1, Frame: 1<<32 - 1, Keyframe: true}, {Source: 200, Frame: 123456}}
	for _, want := range tags {
		var b [64]byte
		n := putSliceStart(b[:], want.Keyframe, 9, 3, want)
		if strings.Contains(string(b[1:n]), "\x00\x00") {
			t.Errorf("slice start %x holds two zero bytes: a start code emulation risk", b[:n])
		}
		if got, ok := findTag(b[:n]); !ok || got != want {
			t.Errorf("single NAL unit: tag %+v (%v); want %+v", got, ok, want)
		}
		fu := append([]byte{b[0]&0xe0 | nalFUA, 0x80 | b[0]&0x1f}, b[1:n]...)
		if got, ok := findTag(fu); !ok || got != want {
			t.Errorf("FU-A start: tag %+v (%v); want %+v", got, ok, want)
		}
		fu[1] &^= 0x80
		if _, ok := findTag(fu); ok {
			t.Error("an FU-A continuation fragment gave a tag")
		}
	}
}

func TestParseVideoAnswer(t *testing.T) {
	const head = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
	tests := []struct {
		name    string
		video   string
		want    videoAnswer
		wantErr error
	}{
		{"H.264 with PLI and FIR, RTCP muxed", "m=video 4002 RTP/AVP 126\r\na=rtpmap:126 H264/90000\r\na=rtcp-fb:126 nack pli\r\na=rtcp-fb:* ccm fir\r\na=rtcp-mux\r\n",
			videoAnswer{Remote: netip.MustParseAddrPort("192.0.2.1:4002"), RemoteRTCP: netip.MustParseAddrPort("192.0.2.1:4002"), PT: 126, PLI: true, FIR: true}, nil},
		{"H.264 without feedback, RTCP on the next port", "m=video 4002 RTP/AVP 97\r\na=rtpmap:97 H264/90000\r\n",
			videoAnswer{Remote: netip.MustParseAddrPort("192.0.2.1:4002"), RemoteRTCP: netip.MustParseAddrPort("192.0.2.1:4003"), PT: 97}, nil},
		{"video declined with port 0", "m=video 0 RTP/AVP 96\r\n", videoAnswer{}, errVideoDeclined},
		{"no video m-line", "", videoAnswer{}, errVideoDeclined},
		{"another codec", "m=video 4002 RTP/AVP 100\r\na=rtpmap:100 VP8/90000\r\n", videoAnswer{}, errBadAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVideoAnswer([]byte(head + tt.video))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v; want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestVideoSendAndReceiveAllocateNothing(t *testing.T) {
	v, peer := videoPair(t)
	go func() {
		buf := make([]byte, maxPacket)
		for {
			if _, _, err := peer.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	now := time.Now()
	v.Tick(now)
	if a := testing.AllocsPerRun(100, func() {
		now = now.Add(frameInterval)
		v.Tick(now)
	}); a != 0 {
		t.Errorf("%.1f allocations per sent frame; want 0", a)
	}
	b := make([]byte, 12+64)
	putRTPHeader(b, true, ptH264, 1, 0, 99)
	putSliceStart(b[12:], false, 1, 0, frameTag{Source: 7, Frame: 1})
	seq := uint16(1)
	if a := testing.AllocsPerRun(100, func() {
		seq++
		binary.BigEndian.PutUint16(b[2:], seq)
		v.handle(b, time.Now())
	}); a != 0 {
		t.Errorf("%.1f allocations per received packet; want 0", a)
	}
}

// h264Seeds are the H.264 RTP payloads of bridge/video's testdata.
func h264Seeds(t testing.TB) [][]byte {
	files, _ := filepath.Glob(filepath.Join("..", "..", "bridge", "video", "testdata", "h264", "*.hex"))
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := hex.DecodeString(strings.Join(strings.Fields(string(b)), ""))
		if err != nil {
			continue
		}
		out = append(out, p)
	}
	return out
}
