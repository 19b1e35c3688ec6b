package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// serverMsg is a signalling message from the bridge (bridge/webcall's
// doc.go names them); only the fields the load generator uses.
type serverMsg struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	SDP     string `json:"sdp"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Reason  string `json:"reason"`
}

// peer is one WebRTC participant: a signalling WebSocket speaking the join
// page's protocol and a pion PeerConnection sending the microphone (and
// camera) and receiving the mix and the others' video.
type peer struct {
	id int
	l  *webrtcLoad

	state  atomic.Int32 // a callState
	ws     *websocket.Conn
	pc     *webrtc.PeerConnection
	mic    *webrtc.TrackLocalStaticRTP
	cam    *webrtc.TrackLocalStaticRTP
	partID atomic.Pointer[string]

	tx peerTx // owned by the pacer while the peer is added

	rx        rxStats // the mix
	sent      atomic.Uint64
	videoIn   atomic.Uint64
	kfWanted  atomic.Bool // a PLI or FIR came: the next frame is an IDR
	connected chan struct{}
	connOnce  sync.Once
	failed    chan struct{}
	failOnce  sync.Once
	hungUp    chan string   // the bridge's bye reason
	quit      chan struct{} // closed when run ends: readers stop handing on
	readers   sync.WaitGroup

	mu       sync.Mutex // guards switches and tiles
	switches map[string]time.Time
	tiles    map[string]*tileRx
	kfs      []time.Duration // keyframe-after-switch latencies

	res peerResult // written by the peer's goroutine before it ends
}

// peerTx is the sender's state, touched only by the pacer goroutine.
type peerTx struct {
	apkt, vpkt rtp.Packet
}

// tileRx is one received video track: the source's participant ID and
// when its last packet came.
type tileRx struct {
	last atomic.Int64 // unix nanoseconds
}

// peerResult is how a peer went.
type peerResult struct {
	Joined   bool
	JoinTime time.Duration // WebSocket dial to the media connected
	Err      error
	Sent     uint64
	RX       rxSnapshot
	JitterMS float64
	VideoIn  uint64
	Keyframe []time.Duration
}

func (p *peer) setState(s callState) { p.state.Store(int32(s)) }
func (p *peer) getState() callState  { return callState(p.state.Load()) }

// run joins the room, stays cfg.Duration and leaves. ctx cancelled ends it
// early without counting as a failure.
func (p *peer) run(ctx context.Context) (res peerResult) {
	cfg := p.l.cfg
	start := time.Now()
	defer func() {
		p.l.pacer.remove(p)
		close(p.quit)
		if p.ws != nil {
			p.send(map[string]any{"type": "leave"})
			_ = p.ws.Close(websocket.StatusNormalClosure, "")
		}
		if p.pc != nil {
			_ = p.pc.Close()
		}
		p.readers.Wait()
		res.Sent = p.sent.Load()
		res.RX = p.rx.snapshot()
		res.JitterMS = res.RX.JitterUnits * 1000 / float64(media.Opus.ClockRate)
		res.VideoIn = p.videoIn.Load()
		p.mu.Lock()
		res.Keyframe = append([]time.Duration(nil), p.kfs...)
		p.mu.Unlock()
	}()
	dctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	ws, resp, err := websocket.Dial(dctx, p.l.socket, nil)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return res
		}
		if resp != nil {
			return peerResult{Err: fmt.Errorf("WebSocket refused: HTTP %d", resp.StatusCode)}
		}
		return peerResult{Err: fmt.Errorf("WebSocket: %w", shortErr(err))}
	}
	p.ws = ws
	ws.SetReadLimit(1 << 20)
	msgs := make(chan serverMsg, 16)
	p.readers.Go(func() { p.readSignalling(msgs) })
	p.send(map[string]any{"type": "join", "name": fmt.Sprintf("load %d", p.id), "pin": cfg.PIN})

	timeout := time.NewTimer(cfg.Timeout)
	defer timeout.Stop()
	for joined := false; !joined; {
		select {
		case <-ctx.Done():
			return res
		case <-timeout.C:
			return peerResult{Err: fmt.Errorf("no joined within %s", cfg.Timeout)}
		case m, ok := <-msgs:
			switch {
			case !ok:
				return peerResult{Err: errors.New("the bridge closed the WebSocket before joined")}
			case m.Type == "error":
				return peerResult{Err: fmt.Errorf("join refused: %s", m.Code)}
			case m.Type == "joined":
				id := m.ID
				p.partID.Store(&id)
				joined = true
			}
		}
	}
	if err := p.newPeerConnection(); err != nil {
		return peerResult{Err: fmt.Errorf("PeerConnection: %w", err)}
	}
	p.readers.Go(func() { p.signal(msgs) })
	select {
	case <-ctx.Done():
		return res
	case <-timeout.C:
		return peerResult{Err: fmt.Errorf("media not connected within %s", cfg.Timeout)}
	case <-p.failed:
		return peerResult{Err: errors.New("media connection failed")}
	case r := <-p.hungUp:
		return peerResult{Err: fmt.Errorf("the bridge hung up before the media connected (%s)", r)}
	case <-p.connected:
	}
	res.Joined, res.JoinTime = true, time.Since(start)
	p.setState(stateInCall)
	if cfg.Idle {
		p.send(map[string]any{"type": "mute", "audio": true})
	} else {
		p.l.pacer.add(p)
	}
	stay := time.NewTimer(cfg.Duration)
	defer stay.Stop()
	select {
	case <-ctx.Done():
	case <-stay.C:
	case <-p.failed:
		res.Err = errors.New("media connection failed")
	case r := <-p.hungUp:
		res.Err = fmt.Errorf("the bridge hung up (%s)", r)
	}
	return res
}

// shortErr drops the wrapping of a dial error down to its last cause.
func shortErr(err error) error {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return errors.New(s[i+2:])
	}
	return err
}

// newPeerConnection builds the PeerConnection: the microphone on a sendrecv
// audio transceiver (the mix comes back on it), the camera on a sendrecv
// video one (or none), trickled candidates.
func (p *peer) newPeerConnection() error {
	pc, err := p.l.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	p.pc = pc
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init := c.ToJSON()
		p.send(map[string]any{"type": "candidate", "candidate": init.Candidate, "sdp_mid": init.SDPMid, "sdp_mline_index": init.SDPMLineIndex})
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			p.connOnce.Do(func() { close(p.connected) })
		case webrtc.PeerConnectionStateFailed:
			p.failOnce.Do(func() { close(p.failed) })
		}
	})
	pc.OnTrack(p.onTrack)
	if p.mic, err = webrtc.NewTrackLocalStaticRTP(opusCapability, "mic", fmt.Sprintf("load-%d", p.id)); err != nil {
		return err
	}
	tr, err := pc.AddTransceiverFromTrack(p.mic, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
	if err != nil {
		return err
	}
	p.drainRTCP(tr.Sender(), false)
	p.tx.apkt.Header = rtp.Header{Version: 2, PayloadType: ptOpus}
	if p.l.cfg.Video {
		if p.cam, err = webrtc.NewTrackLocalStaticRTP(h264Capability, "cam", fmt.Sprintf("load-%d", p.id)); err != nil {
			return err
		}
		tr, err := pc.AddTransceiverFromTrack(p.cam, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv})
		if err != nil {
			return err
		}
		p.drainRTCP(tr.Sender(), true)
		p.tx.vpkt.Header = rtp.Header{Version: 2, PayloadType: webrtcPtH264}
		p.kfWanted.Store(true) // a camera starts with a keyframe
	}
	return nil
}

// readSignalling decodes the bridge's messages onto msgs until the socket
// closes.
func (p *peer) readSignalling(msgs chan<- serverMsg) {
	defer close(msgs)
	for {
		_, data, err := p.ws.Read(context.Background())
		if err != nil {
			return
		}
		var m serverMsg
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		select {
		case msgs <- m:
		case <-p.quit:
			return
		}
	}
}

// signal answers the bridge's offers and follows the active speaker until
// the socket closes.
func (p *peer) signal(msgs <-chan serverMsg) {
	for m := range msgs {
		switch m.Type {
		case "offer":
			if err := p.answer(m.SDP); err != nil {
				p.failOnce.Do(func() { close(p.failed) })
			}
		case "speaker":
			p.speaker(m.ID)
		case "bye":
			select {
			case p.hungUp <- m.Reason:
			default:
			}
		}
	}
	select {
	case p.hungUp <- "WebSocket closed":
	default:
	}
}

func (p *peer) answer(offer string) error {
	if err := p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return err
	}
	ans, err := p.pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := p.pc.SetLocalDescription(ans); err != nil {
		return err
	}
	p.send(map[string]any{"type": "answer", "sdp": p.pc.LocalDescription().SDP})
	return nil
}

// speaker notes a new active speaker whose video this peer does not
// receive now: the time to its first keyframe is a keyframe-after-switch
// sample. A speaker already shown needs no keyframe and is not counted.
func (p *peer) speaker(id string) {
	if !p.l.cfg.Video || id == "" {
		return
	}
	if self := p.partID.Load(); self != nil && *self == id {
		return
	}
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.tiles[id]; t != nil && now.Sub(time.Unix(0, t.last.Load())) < time.Second {
		return
	}
	p.switches[id] = now
}

// send writes one signalling message; a failed write shows up as the
// socket closing.
func (p *peer) send(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = p.ws.Write(ctx, websocket.MessageText, b)
}

// drainRTCP reads the feedback on one of our senders, as the interceptors
// need; on the camera a PLI or FIR asks for an IDR.
func (p *peer) drainRTCP(s *webrtc.RTPSender, camera bool) {
	p.readers.Go(func() {
		buf := make([]byte, maxPacket)
		for {
			n, _, err := s.Read(buf)
			if err != nil {
				return
			}
			if camera && wantsKeyframe(buf[:n]) {
				p.kfWanted.Store(true)
			}
		}
	})
}

// wantsKeyframe reports whether an RTCP compound packet holds a PLI or a
// FIR (RFC 4585 §6.3.1, RFC 5104 §4.3.1), walking the headers only.
func wantsKeyframe(b []byte) bool {
	for len(b) >= 4 {
		var h rtcp.Header
		if h.Unmarshal(b) != nil {
			return false
		}
		switch {
		case h.Type == rtcp.TypePayloadSpecificFeedback && (h.Count == rtcp.FormatPLI || h.Count == rtcp.FormatFIR):
			return true
		}
		b = b[min(len(b), 4*(int(h.Length)+1)):]
	}
	return false
}

// onTrack reads the mix (into the receiver statistics) or a source's video
// (counting packets and keyframes after switches).
func (p *peer) onTrack(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) {
	p.readers.Go(func() { // RTCP must be read for the interceptors to see it
		buf := make([]byte, maxPacket)
		for {
			if _, _, err := r.Read(buf); err != nil {
				return
			}
		}
	})
	if t.Kind() == webrtc.RTPCodecTypeAudio {
		p.readers.Go(func() { p.readMix(t) })
		return
	}
	src := t.StreamID()
	tile := &tileRx{}
	p.mu.Lock()
	p.tiles[src] = tile
	p.mu.Unlock()
	p.readers.Go(func() { p.readVideo(t, src, tile) })
}

func (p *peer) readMix(t *webrtc.TrackRemote) {
	buf := make([]byte, maxPacket)
	start := p.l.start
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		if n < 12 {
			continue
		}
		b := buf[:n]
		arrival := uint32(time.Since(start) * time.Duration(media.Opus.ClockRate) / time.Second)
		p.rx.update(binary.BigEndian.Uint32(b[8:]), binary.BigEndian.Uint16(b[2:]), binary.BigEndian.Uint32(b[4:]), arrival)
	}
}

func (p *peer) readVideo(t *webrtc.TrackRemote, src string, tile *tileRx) {
	buf := make([]byte, maxPacket)
	for {
		n, _, err := t.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		tile.last.Store(now.UnixNano())
		p.videoIn.Add(1)
		pl, ok := rtpPayload(buf[:n])
		if !ok || !startsKeyframe(pl) {
			continue
		}
		p.mu.Lock()
		if at, ok := p.switches[src]; ok {
			delete(p.switches, src)
			p.kfs = append(p.kfs, now.Sub(at))
		}
		p.mu.Unlock()
	}
}

// tick sends the peer's audio frame of the pacer's frame (the loop's
// speech when it is this peer's turn to talk, silence otherwise) and, every
// other tick, a camera frame. It runs on the pacer's goroutine and
// allocates nothing of ours.
func (p *peer) tick(frame int64, talker bool) {
	a := &p.tx.apkt
	payload := p.l.silence
	if talker {
		payload = p.l.loop.frames[int(frame%int64(len(p.l.loop.frames)))]
	}
	a.Payload = payload
	if p.mic.WriteRTP(a) == nil {
		p.sent.Add(1)
	}
	a.SequenceNumber++
	a.Timestamp += uint32(media.FrameSamples)
	if p.cam == nil || frame%videoFrameTicks != 0 {
		return
	}
	frames := p.l.h264.slice
	if p.kfWanted.Swap(false) {
		frames = p.l.h264.idr
	}
	v := &p.tx.vpkt
	for i, pl := range frames {
		v.Payload = pl
		v.Marker = i == len(frames)-1
		if p.cam.WriteRTP(v) == nil {
			p.sent.Add(1)
		}
		v.SequenceNumber++
	}
	v.Timestamp += videoClockStep
}
