package main

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/pion/rtp"

	"github.com/bifrost-video/bifrost/bridge"
)

// videoAdminLeg is an adminLeg with switched H.264 video.
type videoAdminLeg struct{ adminLeg }

func (*videoAdminLeg) VideoMode() bridge.VideoMode                 { return bridge.VideoSwitched }
func (*videoAdminLeg) SendVideo(bridge.ParticipantID, *rtp.Packet) {}
func (*videoAdminLeg) RequestKeyframe()                            {}

// spsBaseline640x360 is a sequence parameter set x264 wrote for a 640x360
// Constrained Baseline stream (bridge/video/testdata/h264).
const spsBaseline640x360 = "6742c01ed900a02ff97011000003000100000300320f162e48"

// TestLiveConferenceShowsVideo: the live conference page and its REST
// answer show, per participant and next to the encryption, the video codec
// and the picture size it sends, once its first SPS came.
func TestLiveConferenceShowsVideo(t *testing.T) {
	t.Parallel()
	e := newConfEnv(t)
	leg := &videoAdminLeg{adminLeg{info: bridge.LegInfo{Protocol: bridge.ProtocolSIP, Transport: "tls", DisplayName: "camera",
		RemoteURI: "sip:camera@example.com", VideoCodec: "H264/90000", Encryption: bridge.EncryptionSRTPSDES}}}
	leg.mu.Lock()
	p, err := e.br.Admit(context.Background(), e.roomA, leg)
	if err != nil {
		leg.mu.Unlock()
		t.Fatal(err)
	}
	leg.p = p
	leg.mu.Unlock()
	voice, _ := e.join(e.roomA, "voice")
	waitUntil(t, "both to join", func() bool { return p.Joined() && voice.Joined() })
	detail := "/admin/conferences/" + string(p.ConferenceID())

	body := e.page("GET", detail, nil).Body.String()
	for _, want := range []string{`<th scope="col">Video</th><th scope="col">Encryption</th>`,
		"<td>H264, no picture yet</td><td>SRTP (SDES) over TLS</td>", "<td>none</td><td>none over UDP</td>"} {
		if !strings.Contains(body, want) {
			t.Errorf("before any SPS, the conference page lacks %s", want)
		}
	}

	sps, _ := hex.DecodeString(spsBaseline640x360)
	p.ReceiveVideo(&rtp.Packet{Header: rtp.Header{PayloadType: 96, SequenceNumber: 1, Timestamp: 3000}, Payload: sps})
	waitUntil(t, "the bridge to read the SPS", func() bool { w, _ := p.VideoResolution(); return w != 0 })
	body = e.page("GET", detail, nil).Body.String()
	if !strings.Contains(body, "<td>H264 640×360</td><td>SRTP (SDES) over TLS</td>") {
		t.Errorf("the conference page lacks the camera's codec and picture size next to its encryption")
	}
	_, api := e.api(e.adminA, "GET", "/api/v1/conferences/"+string(p.ConferenceID()), nil)
	for _, want := range []string{`"video_codec": "H264/90000"`, `"video_width": 640`, `"video_height": 360`} {
		if !strings.Contains(api, want) {
			t.Errorf("the REST answer lacks %s:\n%s", want, api)
		}
	}
}
