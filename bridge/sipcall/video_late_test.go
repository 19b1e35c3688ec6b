package sipcall

import (
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/bifrost-video/bifrost/bridge"
)

// TestLateOfferVideo: an INVITE without SDP (Cisco CUCM's delayed offer)
// gets our offer with H.264 video in both packetization modes; the answer
// in the ACK picks one and the call has video, or refuses it and the call
// goes on with audio only.
func TestLateOfferVideo(t *testing.T) {
	for _, tt := range []struct {
		name      string
		video     []string
		wantMode  bridge.VideoMode
		wantCodec string
	}{
		{"an answer taking H.264 mode 0 gives video", []string{"m=video 30000 RTP/AVP 97", "a=rtpmap:97 H264/90000",
			"a=fmtp:97 profile-level-id=42e01f;packetization-mode=0", "a=rtcp-fb:97 ccm fir"}, bridge.VideoSwitched, "H264/90000"},
		{"an answer refusing video leaves audio", []string{"m=video 0 RTP/AVP 96"}, bridge.VideoNone, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rooms := &videoRooms{}
			s := startCallServer(t, rooms, nil)
			ua := newTestUA(t)
			sess, res := ua.invite(s.Server, "1234", nil)
			if res.StatusCode != 200 {
				t.Fatalf("INVITE without SDP = %d", res.StatusCode)
			}
			body := string(res.Body())
			for _, want := range []string{"m=video ", "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1", "a=fmtp:97 profile-level-id=42e01f;packetization-mode=0", "a=rtcp-fb:96 nack pli"} {
				if !strings.Contains(body, want) {
					t.Fatalf("our late offer lacks %q:\n%s", want, body)
				}
			}
			answer := ua.offer(append([]string{"m=audio $PORT RTP/AVP 0"}, tt.video...)...)
			ack := sip.NewRequest(sip.ACK, res.Contact().Address)
			ack.SetBody(answer)
			ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			if err := sess.WriteAck(ua.ctx(), ack); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "admission after the ACK", func() bool {
				rooms.mu.Lock()
				defer rooms.mu.Unlock()
				return len(rooms.parts) > 0
			})
			leg := rooms.last().leg.(*call)
			if leg.VideoMode() != tt.wantMode || leg.Info().VideoCodec != tt.wantCodec {
				t.Errorf("video %v %q; want %v %q", leg.VideoMode(), leg.Info().VideoCodec, tt.wantMode, tt.wantCodec)
			}
			if tt.wantMode == bridge.VideoSwitched {
				leg.video.mu.Lock()
				m := leg.video.m
				leg.video.mu.Unlock()
				if m.PT != 97 || !m.FB.FIR || m.FB.PLI || m.Remote.Port() != 30000 {
					t.Errorf("video session %+v; want PT 97 to port 30000 with FIR only", m)
				}
			}
			_ = sess.Bye(ua.ctx())
		})
	}
}
