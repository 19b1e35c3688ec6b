package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// webrtcPtH264 and the codecs are what the bridge offers (bridge/webcall's
// codecs.go; Opus is ptOpus, as for SIP); a browser follows the offerer's
// payload types, and so do the peers.
const webrtcPtH264 = 102

var (
	opusCapability = webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: uint32(media.Opus.ClockRate), Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	}
	h264Capability = webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeH264, ClockRate: 90000,
		SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		RTCPFeedback: []webrtc.RTCPFeedback{
			{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"},
		},
	}
)

// webrtcLoad is one run of `bifrost-load webrtc`: the pion API every peer
// shares, the media every peer sends (encoded once), the shared pacer and
// the peers.
type webrtcLoad struct {
	cfg     webrtcConfig
	log     *slog.Logger
	socket  string
	start   time.Time
	api     *webrtc.API
	loop    *audioLoop
	silence []byte
	h264    *h264Frames
	pacer   *peerPacer

	mu    sync.Mutex // guards peers, which the launcher appends to
	peers []*peer
}

// newWebRTCAPI is the pion API of the peers: the bridge's two codecs and
// pion's default interceptors (NACK, RTCP reports, TWCC), as a browser
// has; host candidates only, no mDNS.
func newWebRTCAPI() (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCapability, PayloadType: ptOpus}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: h264Capability, PayloadType: webrtcPtH264}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6})
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

// newWebRTCLoad checks cfg, encodes the media and starts the pacer; close
// stops it.
func newWebRTCLoad(cfg webrtcConfig, log *slog.Logger) (*webrtcLoad, error) {
	socket, err := socketURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	l := &webrtcLoad{cfg: cfg, log: log, socket: socket, start: time.Now()}
	if l.api, err = newWebRTCAPI(); err != nil {
		return nil, err
	}
	if l.loop, err = newAudioLoop(media.Opus); err != nil {
		return nil, err
	}
	if l.silence, err = silentFrame(); err != nil {
		return nil, err
	}
	if cfg.Video {
		l.h264 = newH264Frames()
	}
	l.pacer = newPeerPacer(int64(cfg.Talk/frameDuration), cfg.Peers)
	return l, nil
}

// silentFrame is 20 ms of digital silence encoded once as Opus.
func silentFrame() ([]byte, error) {
	enc, err := media.NewEncoder(media.Opus)
	if err != nil {
		return nil, err
	}
	defer enc.Close()
	buf := make([]byte, media.MaxPayload)
	n, err := enc.Encode(make([]int16, media.FrameSamples), buf)
	if err != nil {
		return nil, err
	}
	return buf[:n:n], nil
}

func (l *webrtcLoad) close() { _ = l.pacer.Close() }

// run joins the peers at the configured rate and waits for them all.
func (l *webrtcLoad) run(ctx context.Context, stderr io.Writer) *webrtcReport {
	var wg sync.WaitGroup
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go printProgress(stderr, l.cfg.Progress, l.progressLine, stopProgress, progressDone)
	atRate(ctx, l.cfg.Peers, l.cfg.Rate, func(i int) {
		p := &peer{
			id: i + 1, l: l,
			connected: make(chan struct{}), failed: make(chan struct{}), hungUp: make(chan string, 1), quit: make(chan struct{}),
			switches: map[string]time.Time{}, tiles: map[string]*tileRx{},
		}
		l.mu.Lock()
		l.peers = append(l.peers, p)
		l.mu.Unlock()
		wg.Go(func() {
			p.res = p.run(ctx)
			if p.res.Err != nil {
				p.setState(stateFailed)
			} else {
				p.setState(stateDone)
			}
		})
	})
	wg.Wait()
	close(stopProgress)
	<-progressDone
	return newWebRTCReport(l.snapshot(), l.pacer.late.Load(), time.Since(l.start))
}

func (l *webrtcLoad) snapshot() []*peer {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*peer(nil), l.peers...)
}

func (l *webrtcLoad) progressLine() string {
	var n [4]int
	var sent, recv, exp, lost, video uint64
	for _, p := range l.snapshot() {
		n[p.getState()]++
		sent += p.sent.Load()
		s := p.rx.snapshot()
		recv, exp, lost = recv+s.Received, exp+s.Expected, lost+s.Lost
		video += p.videoIn.Load()
	}
	loss := 0.0
	if exp > 0 {
		loss = 100 * float64(lost) / float64(exp)
	}
	return fmt.Sprintf("bifrost-load: %4.0fs  peers %d in, %d joining, %d failed, %d done  |  RTP sent %d, mix received %d, loss %.2f%%, video received %d  |  late ticks %d",
		time.Since(l.start).Seconds(), n[stateInCall], n[stateConnecting], n[stateFailed], n[stateDone],
		sent, recv, loss, video, l.pacer.late.Load())
}

// peerPacer sends every peer's media from one goroutine on one 20 ms
// ticker: a peer costs no goroutine and no timer of its own for sending.
// One peer at a time talks, in turn, for talkFrames frames.
type peerPacer struct {
	mu         sync.Mutex
	peers      []*peer
	start      time.Time
	talkFrames int64
	turns      int64 // peers taking turns

	late atomic.Uint64

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newPeerPacer(talkFrames int64, turns int) *peerPacer {
	p := &peerPacer{start: time.Now(), talkFrames: max(1, talkFrames), turns: int64(max(1, turns)),
		stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

func (pp *peerPacer) add(p *peer) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	pp.peers = append(pp.peers, p)
}

// remove stops pacing p; once it returns the pacer no longer touches p.
func (pp *peerPacer) remove(p *peer) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	for i, x := range pp.peers {
		if x == p {
			last := len(pp.peers) - 1
			pp.peers[i], pp.peers[last] = pp.peers[last], nil
			pp.peers = pp.peers[:last]
			return
		}
	}
}

func (pp *peerPacer) run() {
	defer close(pp.done)
	t := time.NewTicker(frameDuration)
	defer t.Stop()
	prev := time.Now()
	for {
		select {
		case <-pp.stop:
			return
		case now := <-t.C:
			frame := int64(now.Sub(pp.start) / frameDuration)
			talker := int((frame / pp.talkFrames) % pp.turns)
			pp.mu.Lock()
			if now.Sub(prev) > frameDuration*3/2 && len(pp.peers) > 0 {
				pp.late.Add(1)
			}
			prev = now
			for _, p := range pp.peers {
				p.tick(frame, p.id-1 == talker)
			}
			pp.mu.Unlock()
		}
	}
}

// Close stops the pacer and waits for it; it is idempotent.
func (pp *peerPacer) Close() error {
	pp.once.Do(func() { close(pp.stop) })
	<-pp.done
	return nil
}

func runWebRTCCommand(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) int {
	cfg, err := parseWebRTCFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "bifrost-load webrtc: %v\n", err)
		return exitUsage
	}
	l, err := newWebRTCLoad(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "bifrost-load webrtc: %v\n", err)
		if errors.Is(err, errUsage) {
			return exitUsage
		}
		return exitFailures
	}
	defer l.close()
	rep := l.run(ctx, stderr)
	if err := rep.write(stdout); err != nil {
		return exitFailures
	}
	if rep.Failed > cfg.MaxFailures {
		fmt.Fprintf(stderr, "bifrost-load webrtc: %d peers failed, more than --max-failures %d\n", rep.Failed, cfg.MaxFailures)
		return exitFailures
	}
	return exitOK
}
