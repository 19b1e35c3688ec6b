package sipcall

import (
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
)

// TestLinphoneVideoCall has linphonec with OpenH264 (Debian
// mediastreamer2-plugin-openh264) dial a room with video: the call
// negotiates H.264, its video reaches the participant, and it answers our
// keyframe request (PLI or FIR, as it negotiated) with more video.
func TestLinphoneVideoCall(t *testing.T) {
	rooms := &videoRooms{}
	s := startCallServer(t, rooms, nil)
	l := startLinphone(t, true, 60*time.Second)
	l.send("call sip:1234@%s", s.UDPAddr())

	waitForLong(t, "linphonec's call to be admitted", 20*time.Second, func() bool {
		rooms.mu.Lock()
		defer rooms.mu.Unlock()
		return len(rooms.parts) > 0
	})
	p := rooms.last()
	leg := p.leg.(*call)
	<-leg.answered
	if leg.VideoMode() != bridge.VideoSwitched || leg.Info().VideoCodec != "H264/90000" {
		t.Fatalf("linphonec's leg video %v %q; want switched H.264 (is mediastreamer2-plugin-openh264 installed?)", leg.VideoMode(), leg.Info().VideoCodec)
	}
	leg.video.mu.Lock()
	m := leg.video.m
	leg.video.mu.Unlock()
	t.Logf("linphonec negotiated %s and H.264 %s with feedback %+v", leg.AudioCodec(), m.Answer.Fmtp(), m.FB)
	waitForLong(t, "20 video packets from linphonec", 20*time.Second, func() bool { n, _ := p.counts(); return n >= 20 })
	// Its first keyframe is long gone by now (OpenH264 sends one every few
	// seconds at most); our request must bring another.
	for range 3 {
		before := p.keyframesReceived()
		leg.RequestKeyframe()
		waitForLong(t, "a keyframe answering our request", 5*time.Second, func() bool { return p.keyframesReceived() > before })
		time.Sleep(500 * time.Millisecond) // the encoder's own pace between requests, not an assertion
	}
	p.leg.Hangup(bridge.EndKicked, 0)
	waitFor(t, "the call to end", func() bool { return s.ActiveCalls() == 0 })
}
