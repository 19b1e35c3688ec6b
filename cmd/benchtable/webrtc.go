package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/webcall"
)

// webrtcBridge is a bridge with its WebRTC server (bridge/webcall) and the
// join page's HTTP server in this process on 127.0.0.1, wired as `bifrost
// serve` wires them, with benchRoom as its only room.
type webrtcBridge struct {
	b   *bridge.Bridge
	srv *webcall.Server
	hs  *http.Server
	ln  net.Listener
}

func startWebRTCBridge() (*webrtcBridge, error) {
	log := slog.New(slog.DiscardHandler)
	resolver := bridge.ResolverFunc(func(_ context.Context, alias string) (bridge.RoomInfo, error) {
		if alias == benchRoom.Alias {
			return benchRoom, nil
		}
		return bridge.RoomInfo{}, fmt.Errorf("alias %q: %w", alias, bridge.ErrRoomNotFound)
	})
	b := bridge.New(bridge.Config{}, bridge.Deps{Resolver: resolver, Logger: log})
	srv, err := webcall.NewServer(webcall.Config{UDPAddr: "127.0.0.1:0"}, webcall.Deps{Bridge: b, Logger: log})
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = srv.Close()
		_ = b.Close()
		return nil, err
	}
	w := &webrtcBridge{b: b, srv: srv, ln: ln, hs: &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = w.hs.Serve(ln) }()
	return w, nil
}

// url is benchRoom's join page.
func (w *webrtcBridge) url() string {
	return "http://" + w.ln.Addr().String() + "/join/" + benchRoom.Alias
}

// joined counts the participants in benchRoom's mix.
func (w *webrtcBridge) joined() int {
	n := 0
	for _, c := range w.b.Conferences(context.Background()) {
		for _, p := range c.Participants {
			if c.RoomID == benchRoom.ID && p.State == bridge.ParticipantJoined {
				n++
			}
		}
	}
	return n
}

func (w *webrtcBridge) Close() {
	_ = w.srv.Close() // ends every session: their WebSockets close
	_ = w.hs.Close()
	_ = w.b.Close()
}

// startPeers runs `bifrost-load webrtc` against w with args; the child's
// CPU is its own, not this process's.
func startPeers(ctx context.Context, t *tools, w *webrtcBridge, args ...string) (*child, error) {
	bin, err := t.bifrostLoad(ctx)
	if err != nil {
		return nil, err
	}
	dir, err := t.scratchDir()
	if err != nil {
		return nil, err
	}
	args = append([]string{"webrtc", "--url", w.url(), "--rate", "20", "--duration", "10m", "--progress", "0"}, args...)
	return startChild(ctx, dir, bin, args...)
}

// stopPeers interrupts the child (its peers leave) and waits for it.
func stopPeers(c *child) error {
	_ = c.cmd.Process.Signal(os.Interrupt)
	return c.wait()
}

// pionAPI is a bare pion API as an application gets it: pion's default
// codecs and interceptors, with loopback candidates so that two
// PeerConnections of one process meet on 127.0.0.1.
func pionAPI() (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// barePair is two bare pion PeerConnections of this process connected to
// each other: tx sends an Opus and (optionally) an H.264 track, rx counts
// what it receives.
type barePair struct {
	tx, rx       *webrtc.PeerConnection
	audio, video *webrtc.TrackLocalStaticRTP
	received     atomic.Uint64
}

func newBarePair(ctx context.Context, api *webrtc.API, withVideo bool) (*barePair, error) {
	p := &barePair{}
	var err error
	if p.tx, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		return nil, err
	}
	if p.rx, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
		_ = p.tx.Close()
		return nil, err
	}
	fail := func(err error) (*barePair, error) { p.Close(); return nil, err }
	if p.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "bare"); err != nil {
		return fail(err)
	}
	tracks := []*webrtc.TrackLocalStaticRTP{p.audio}
	if withVideo {
		if p.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"}, "video", "bare"); err != nil {
			return fail(err)
		}
		tracks = append(tracks, p.video)
	}
	for _, tr := range tracks {
		s, err := p.tx.AddTrack(tr)
		if err != nil {
			return fail(err)
		}
		go drainRTCP(s.Read)
	}
	p.rx.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
		go drainRTCP(r.Read)
		buf := make([]byte, 1500)
		for {
			if _, _, err := t.Read(buf); err != nil {
				return
			}
			p.received.Add(1)
		}
	})
	connected := make(chan struct{})
	var once atomic.Bool
	p.rx.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected && once.CompareAndSwap(false, true) {
			close(connected)
		}
	})
	if err := signalPair(ctx, p.tx, p.rx); err != nil {
		return fail(err)
	}
	select {
	case <-connected:
	case <-ctx.Done():
		return fail(ctx.Err())
	case <-time.After(20 * time.Second):
		return fail(errors.New("two bare PeerConnections did not connect within 20 s"))
	}
	return p, nil
}

func drainRTCP(read func([]byte) (int, interceptor.Attributes, error)) {
	buf := make([]byte, 1500)
	for {
		if _, _, err := read(buf); err != nil {
			return
		}
	}
}

// signalPair makes offer and answer between a and b with every candidate
// in the descriptions.
func signalPair(ctx context.Context, a, b *webrtc.PeerConnection) error {
	describe := func(pc *webrtc.PeerConnection, sd webrtc.SessionDescription) (webrtc.SessionDescription, error) {
		done := webrtc.GatheringCompletePromise(pc)
		if err := pc.SetLocalDescription(sd); err != nil {
			return sd, err
		}
		select {
		case <-done:
		case <-ctx.Done():
			return sd, ctx.Err()
		}
		return *pc.LocalDescription(), nil
	}
	offer, err := a.CreateOffer(nil)
	if err == nil {
		offer, err = describe(a, offer)
	}
	if err == nil {
		err = b.SetRemoteDescription(offer)
	}
	var answer webrtc.SessionDescription
	if err == nil {
		answer, err = b.CreateAnswer(nil)
	}
	if err == nil {
		answer, err = describe(b, answer)
	}
	if err == nil {
		err = a.SetRemoteDescription(answer)
	}
	return err
}

func (p *barePair) Close() {
	_ = p.tx.Close()
	_ = p.rx.Close()
}

// rssBytes is this process's resident set size after a collection that
// returns what it can to the system, from /proc/self/statm.
func rssBytes() (float64, error) {
	runtime.GC()
	debug.FreeOSMemory()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, errors.New("/proc/self/statm: no resident field")
	}
	pages, err := strconv.ParseFloat(f[1], 64)
	if err != nil {
		return 0, err
	}
	return pages * float64(os.Getpagesize()), nil
}

// wakeups counts goroutines made to run, so far: the samples of the
// runtime's scheduling-latency histogram (/sched/latencies:seconds), which
// gets one for each time a runnable goroutine starts running (the runtime
// samples them, the same way for subject and reference).
func wakeups() float64 {
	s := []rtmetrics.Sample{{Name: "/sched/latencies:seconds"}}
	rtmetrics.Read(s)
	if s[0].Value.Kind() != rtmetrics.KindFloat64Histogram {
		return 0
	}
	var n uint64
	for _, c := range s[0].Value.Float64Histogram().Counts {
		n += c
	}
	return float64(n)
}

// rtpStream is the media of one synthetic participant, as bifrost-load
// webrtc --video sends it: an Opus frame every 20 ms, and every 40 ms a
// P frame of an H.264 camera of about 1 Mbit/s in FU-A fragments.
type rtpStream struct {
	apkt, vpkt rtp.Packet
	frames     [][]byte
	n          int
}

func newRTPStream() *rtpStream {
	s := &rtpStream{}
	s.apkt.Header = rtp.Header{Version: 2}
	s.apkt.Payload = make([]byte, 80)
	s.vpkt.Header = rtp.Header{Version: 2}
	const frameBytes, fragBytes = 4500, 1100
	for off := 0; off < frameBytes; off += fragBytes {
		n := min(fragBytes, frameBytes-off)
		s.frames = append(s.frames, make([]byte, 2+n))
		s.frames[len(s.frames)-1][0], s.frames[len(s.frames)-1][1] = 0x5c, 0x01
	}
	return s
}

// tick sends the packets of one 20 ms tick on audio and video (nil for
// none); it returns how many it sent.
func (s *rtpStream) tick(audio, video *webrtc.TrackLocalStaticRTP) int {
	sent := 0
	if audio.WriteRTP(&s.apkt) == nil {
		sent++
	}
	s.apkt.SequenceNumber++
	s.apkt.Timestamp += 960
	s.n++
	if video == nil || s.n%2 == 0 {
		return sent
	}
	for i, f := range s.frames {
		s.vpkt.Payload = f
		s.vpkt.Marker = i == len(s.frames)-1
		if video.WriteRTP(&s.vpkt) == nil {
			sent++
		}
		s.vpkt.SequenceNumber++
	}
	s.vpkt.Timestamp += 3600
	return sent
}
