package webcall

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/media"
)

// rig is a bridge with a webcall Server behind an HTTP test server.
type rig struct {
	b   *bridge.Bridge
	srv *Server
	hs  *httptest.Server
}

func testLogger() *slog.Logger {
	if os.Getenv("BIFROST_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newRig(t testing.TB, cfg Config, rooms ...bridge.RoomInfo) *rig {
	t.Helper()
	resolver := bridge.ResolverFunc(func(_ context.Context, alias string) (bridge.RoomInfo, error) {
		for _, r := range rooms {
			if r.Alias == alias {
				return r, nil
			}
		}
		return bridge.RoomInfo{}, fmt.Errorf("alias %q: %w", alias, bridge.ErrRoomNotFound)
	})
	b := bridge.New(bridge.Config{}, bridge.Deps{Resolver: resolver, Logger: testLogger()})
	if cfg.UDPAddr == "" {
		cfg.UDPAddr = "127.0.0.1:0"
	}
	srv, err := NewServer(cfg, Deps{Bridge: b, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.CloseClientConnections()
		_ = srv.Close()
		hs.Close()
		_ = b.Close()
	})
	return &rig{b: b, srv: srv, hs: hs}
}

// participants returns the participants of every live conference.
func (r *rig) participants() []bridge.ParticipantView {
	var ps []bridge.ParticipantView
	for _, c := range r.b.Conferences(context.Background()) {
		ps = append(ps, c.Participants...)
	}
	return ps
}

// client is a browser stand-in: a WebSocket and a pion PeerConnection that
// answers the server's offers, sends a tone and records what it receives.
type client struct {
	t    testing.TB
	ws   *websocket.Conn
	pc   *webrtc.PeerConnection
	msgs chan map[string]any
	// quiet clients send no media (benchmark subscribers).
	quiet bool
	// tcpOnly clients use ICE-TCP only, as on a network that blocks UDP.
	tcpOnly bool
	// ending is set when the test is over: errors from then on are expected.
	ending atomic.Bool

	mu        sync.Mutex
	id        string
	offers    int
	streams   map[string]int // stream ID of received video tracks → packets
	audioRMS  float64        // of the last decoded mix frame
	audioPkts int
	states    []webrtc.PeerConnectionState
	last      map[string]map[string]any // last message of each type
}

func dial(t testing.TB, r *rig, alias string) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(r.hs.URL, "http", "ws", 1)+"/join/"+alias+"/ws", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c := &client{t: t, ws: ws, msgs: make(chan map[string]any, 64), streams: map[string]int{}, last: map[string]map[string]any{}}
	go c.read()
	t.Cleanup(func() {
		c.ending.Store(true)
		ws.CloseNow()
		if c.pc != nil {
			_ = c.pc.Close()
		}
	})
	return c
}

func (c *client) read() {
	defer close(c.msgs)
	for {
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			return
		}
		var m map[string]any
		if json.Unmarshal(data, &m) != nil {
			continue
		}
		c.mu.Lock()
		c.last[m["type"].(string)] = m
		c.mu.Unlock()
		c.msgs <- m
	}
}

func (c *client) send(v any) {
	b, _ := json.Marshal(v)
	if err := c.ws.Write(context.Background(), websocket.MessageText, b); err != nil {
		c.t.Logf("send: %v", err) // the socket closed: the test says what that means
	}
}

func (c *client) sendRaw(s string) {
	_ = c.ws.Write(context.Background(), websocket.MessageText, []byte(s))
}

// next waits for the next message of type typ, skipping others.
func (c *client) next(typ string) map[string]any {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				c.t.Fatalf("socket closed while waiting for %q", typ)
			}
			if m["type"] == typ {
				return m
			}
		case <-timeout:
			c.t.Fatalf("no %q message within 10 s", typ)
		}
	}
}

// closed waits for the server to close the socket.
func (c *client) closed() {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-c.msgs:
			if !ok {
				return
			}
		case <-timeout:
			c.t.Fatal("the server did not close the socket within 10 s")
		}
	}
}

// join sends join and, on success, sets up media and answers offers from
// then on (in the background).
func (c *client) join(name, pin string, tone float64) {
	c.t.Helper()
	c.send(map[string]any{"type": "join", "name": name, "pin": pin})
	m := c.next("joined")
	c.mu.Lock()
	c.id = m["id"].(string)
	c.mu.Unlock()
	c.startMedia(tone)
	go c.answerLoop()
}

func (c *client) startMedia(tone float64) {
	me := &webrtc.MediaEngine{}
	if err := registerCodecs(me); err != nil {
		c.t.Fatal(err)
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		c.t.Fatal(err)
	}
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if c.tcpOnly {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		c.t.Fatal(err)
	}
	c.pc = pc
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		c.mu.Lock()
		c.states = append(c.states, s)
		c.mu.Unlock()
	})
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand == nil {
			return
		}
		init := cand.ToJSON()
		c.send(map[string]any{"type": "candidate", "candidate": init.Candidate, "sdp_mid": init.SDPMid, "sdp_mline_index": init.SDPMLineIndex})
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			for {
				if _, _, err := tr.ReadRTP(); err != nil {
					return
				}
				c.mu.Lock()
				c.streams[tr.StreamID()]++
				c.mu.Unlock()
			}
		}
		dec, err := media.NewDecoder(media.Opus)
		if err != nil {
			c.t.Error(err)
			return
		}
		pcm := make([]int16, 5760)
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			n, err := dec.Decode(p.Payload, pcm)
			if err != nil || n == 0 {
				continue
			}
			var sum float64
			for _, s := range pcm[:n] {
				sum += float64(s) * float64(s)
			}
			c.mu.Lock()
			c.audioPkts++
			c.audioRMS = math.Sqrt(sum / float64(n))
			c.mu.Unlock()
		}
	})
	mic, err := webrtc.NewTrackLocalStaticRTP(opusCodec, "mic", "client")
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(mic, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv}); err != nil {
		c.t.Fatal(err)
	}
	if !c.quiet {
		go sendTone(pc, mic, tone)
	}
	cam, err := webrtc.NewTrackLocalStaticRTP(h264Codec, "cam", "client")
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := pc.AddTransceiverFromTrack(cam, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendrecv}); err != nil {
		c.t.Fatal(err)
	}
	if !c.quiet {
		go sendVideo(pc, cam)
	}
}

// sendVideo sends a stand-in H.264 stream at 25 frames/s: each frame one
// single-NAL packet, an IDR slice (with SPS and PPS before it) every second,
// non-IDR slices between. The bridge inspects the NAL types (RFC 6184 §5.3),
// not the picture.
func sendVideo(pc *webrtc.PeerConnection, tr *webrtc.TrackLocalStaticRTP) {
	sps := []byte{0x67, 0x42, 0xe0, 0x1f, 0xda, 0x02, 0x80, 0xbf, 0xe5, 0x84, 0x00, 0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xc8, 0x3c, 0x60, 0xc9, 0x20}
	pps := []byte{0x68, 0xce, 0x06, 0xe2}
	idr := []byte{0x65, 0x88, 0x84, 0x00, 0x33, 0xff}
	slice := []byte{0x41, 0x9a, 0x02, 0x04, 0x00}
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: ptH264}}
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	var seq uint16
	write := func(ts uint32, payload []byte, marker bool) {
		pkt.SequenceNumber = seq
		seq++
		pkt.Timestamp = ts
		pkt.Marker = marker
		pkt.Payload = payload
		_ = tr.WriteRTP(&pkt)
	}
	for i := 0; ; i++ {
		<-tick.C
		if pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
			return
		}
		ts := uint32(i * 3600)
		if i%25 == 0 {
			write(ts, sps, false)
			write(ts, pps, false)
			write(ts, idr, true)
		} else {
			write(ts, slice, true)
		}
	}
}

// sendTone sends a sine as Opus, 20 ms a packet, until pc closes.
func sendTone(pc *webrtc.PeerConnection, tr *webrtc.TrackLocalStaticRTP, hz float64) {
	enc, err := media.NewEncoder(media.Opus)
	if err != nil {
		return
	}
	defer func() { _ = enc.Close() }()
	pcm := make([]int16, 960)
	buf := make([]byte, media.MaxPayload)
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: ptOpus}}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		<-tick.C
		if pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
			return
		}
		for j := range pcm {
			pcm[j] = int16(8000 * math.Sin(2*math.Pi*hz*float64(i*960+j)/48000))
		}
		n, err := enc.Encode(pcm, buf)
		if err != nil {
			return
		}
		pkt.SequenceNumber = uint16(i)
		pkt.Timestamp = uint32(i * 960)
		pkt.Payload = buf[:n]
		_ = tr.WriteRTP(&pkt)
	}
}

// answerLoop answers every offer; the first also gets the transceivers'
// directions right (pion's answer follows the offer's).
func (c *client) answerLoop() {
	for m := range c.msgs {
		if m["type"] != "offer" {
			continue
		}
		err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: m["sdp"].(string)})
		var ans webrtc.SessionDescription
		if err == nil {
			ans, err = c.pc.CreateAnswer(nil)
		}
		if err == nil {
			err = c.pc.SetLocalDescription(ans)
		}
		if err != nil {
			if !c.ending.Load() { // after the test, a closed PeerConnection is expected
				c.t.Errorf("client %s: cannot answer the offer: %v", c.id, err)
			}
			return
		}
		// Counted once the answer is on its way, so that a test waiting for
		// an offer to be answered does not race the answer.
		c.send(map[string]any{"type": "answer", "sdp": c.pc.LocalDescription().SDP})
		c.mu.Lock()
		c.offers++
		c.mu.Unlock()
	}
}

// eventually polls cond until it holds or limit passes.
func eventually(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *client) snapshot() (rms float64, pkts, offers int, streams map[string]int, states []webrtc.PeerConnectionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := make(map[string]int, len(c.streams))
	for k, v := range c.streams {
		s[k] = v
	}
	return c.audioRMS, c.audioPkts, c.offers, s, append([]webrtc.PeerConnectionState(nil), c.states...)
}
