package sipcall

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/video"
)

// videoRooms admits video participants: fakeParticipants that also count
// the video the leg hands them.
type videoRooms struct {
	fakeRooms
	mu    sync.Mutex
	parts []*videoFakeParticipant
}

type videoFakeParticipant struct {
	*fakeParticipant
	mu        sync.Mutex
	packets   int
	keyframes int
	idrs      int // packets that start an H.264 keyframe
}

func (p *videoFakeParticipant) ReceiveVideo(pkt *rtp.Packet) {
	info, _ := video.Inspect(pkt.Payload)
	p.mu.Lock()
	p.packets++
	if info.Keyframe() {
		p.idrs++
	}
	p.mu.Unlock()
}

func (p *videoFakeParticipant) keyframesReceived() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.idrs
}
func (p *videoFakeParticipant) KeyframeRequested(bridge.ParticipantID) {
	p.mu.Lock()
	p.keyframes++
	p.mu.Unlock()
}

func (p *videoFakeParticipant) counts() (packets, keyframes int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.packets, p.keyframes
}

func (r *videoRooms) Admit(ctx context.Context, room bridge.RoomInfo, leg bridge.Leg) (Participant, error) {
	p, err := r.fakeRooms.Admit(ctx, room, leg)
	if err != nil {
		return nil, err
	}
	vp := &videoFakeParticipant{fakeParticipant: p.(*fakeParticipant)}
	r.mu.Lock()
	r.parts = append(r.parts, vp)
	r.mu.Unlock()
	return vp, nil
}

func (r *videoRooms) last() *videoFakeParticipant {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.parts[len(r.parts)-1]
}

// videoPort returns the port of the answer's accepted video m-line, 0 if
// it accepted none.
func videoPort(t *testing.T, res *sip.Response) int {
	t.Helper()
	sd, err := parseSDP(res.Body())
	if err != nil {
		t.Fatal(err)
	}
	port := 0
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media == "video" {
			port = max(port, md.MediaName.Port.Value)
		}
	}
	return port
}

func TestAVideoCallWithoutRTCPFeedbackUsesSIPInfoBothWays(t *testing.T) {
	rooms := &videoRooms{}
	s := startCallServer(t, rooms, nil)
	ua := newTestUA(t)
	offer := ua.offer("m=audio $PORT RTP/AVP 0", "a=sendrecv",
		"m=video 0 RTP/AVP 31", // H.261 first, refused…
		"m=video 30000 RTP/AVP 96", "a=rtpmap:96 H264/90000", "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1")
	// The H.264 m-line carries the UA's video peer port.
	offer = []byte(strings.Replace(string(offer), "m=video 30000", "m=video "+itoa(int(ua.rtp.rtcpAddr().Port())), 1))
	sess, res := ua.invite(s.Server, "1234", offer)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE = %d; want 200", res.StatusCode)
	}
	_ = sess.Ack(ua.ctx())
	body := string(res.Body())
	if strings.Count(body, "m=video 0 RTP/AVP 31") != 1 || !strings.Contains(body, "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1") {
		t.Fatalf("answer does not keep the refused H.261 line and take the H.264 one:\n%s", body)
	}
	p := rooms.last()
	leg := p.leg.(*call)
	if leg.VideoMode() != bridge.VideoSwitched || leg.Info().VideoCodec != "H264/90000" {
		t.Fatalf("leg video %v %q; want switched H264/90000", leg.VideoMode(), leg.Info().VideoCodec)
	}

	// Our keyframe request: no rtcp-fb was offered, so SIP INFO.
	leg.RequestKeyframe()
	select {
	case req := <-ua.infos:
		ct := req.ContentType()
		if ct == nil || ct.Value() != "application/media_control+xml" || !strings.Contains(string(req.Body()), "<picture_fast_update/>") {
			t.Fatalf("INFO %v\n%s; want an RFC 5168 picture_fast_update", ct, req.Body())
		}
	case <-time.After(waitTimeout):
		t.Fatal("no INFO picture_fast_update reached the endpoint")
	}

	// The endpoint's: INFO picture_fast_update reaches the bridge.
	req := sip.NewRequest(sip.INFO, res.Contact().Address)
	req.SetBody([]byte(pictureFastUpdate))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/media_control+xml"))
	if r, err := sess.Do(ua.ctx(), req); err != nil || r.StatusCode != 200 {
		t.Fatalf("INFO = %v, %v; want 200", r, err)
	}
	if _, k := p.counts(); k != 1 {
		t.Errorf("%d keyframe requests reached the bridge; want 1", k)
	}

	// Its H.264 reaches the bridge from the video port.
	port := videoPort(t, res)
	_, _ = ua.rtp.rtcp.WriteToUDPAddrPort(rtpPacket(96, 1, []byte{0x65, 0x88}), localhost(port))
	waitFor(t, "the endpoint's H.264 to reach the participant", func() bool { n, _ := p.counts(); return n == 1 })
}

func TestACallOfferingOnlyOtherVideoCodecsConnectsWithAudio(t *testing.T) {
	rooms := &videoRooms{}
	s := startCallServer(t, rooms, nil)
	ua := newTestUA(t)
	offer := ua.offer("m=audio $PORT RTP/AVP 0", "m=video 30002 RTP/AVP 97 34", "a=rtpmap:97 VP8/90000")
	sess, res := ua.invite(s.Server, "1234", offer)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE = %d; want 200", res.StatusCode)
	}
	_ = sess.Ack(ua.ctx())
	if videoPort(t, res) != 0 {
		t.Errorf("VP8/H.263 video answered with a port:\n%s", res.Body())
	}
	leg := rooms.last().leg.(*call)
	if leg.VideoMode() != bridge.VideoNone || leg.Info().VideoCodec != "" {
		t.Errorf("leg video %v %q; want none", leg.VideoMode(), leg.Info().VideoCodec)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func localhost(port int) netip.AddrPort {
	return netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
}

func rtpPacket(pt uint8, seq uint16, payload []byte) []byte {
	b := make([]byte, 12+len(payload))
	putRTP(b, rtpHeader{PT: pt, Seq: seq, TS: 9000, SSRC: 77})
	copy(b[12:], payload)
	return b
}
