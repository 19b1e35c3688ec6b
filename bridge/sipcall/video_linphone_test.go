package sipcall

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
)

// TestLinphoneVideoCall has linphonec with OpenH264 (Debian
// mediastreamer2-plugin-openh264) dial a room with video: the call
// negotiates H.264, its video reaches the participant, and it answers our
// keyframe request (PLI or FIR, as it negotiated) with more video.
func TestLinphoneVideoCall(t *testing.T) {
	linphonec := requireTool(t, "linphonec", "linphone-cli")
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".local", "share", "linphone"), 0o755); err != nil {
		t.Fatal(err)
	}
	sipPort := freePort(t)
	rtpPort := 24000 + 4*(sipPort%1000)
	rc := fmt.Sprintf(`[sip]
use_ipv6=0
sip_port=%d
sip_tcp_port=0
sip_tls_port=0
default_proxy=-1
[rtp]
audio_rtp_port=%d
video_rtp_port=%d
[video]
enabled=1
capture=1
display=1
automatically_accept=1
automatically_initiate=1
size=vga
`, sipPort, rtpPort, rtpPort+2)
	rcPath := filepath.Join(home, "rc")
	if err := os.WriteFile(rcPath, []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	rooms := &videoRooms{}
	s := startCallServer(t, rooms, nil)

	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, linphonec, "-c", rcPath, "-V")
	cmd.Env = append(os.Environ(), "HOME="+home, "DISPLAY=")
	cmd.Dir = home
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &logBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_, _ = io.WriteString(stdin, "quit\n")
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cancel()
			<-done
		}
		if t.Failed() {
			t.Logf("linphonec:\n%s", out.String())
		}
	}()
	waitForLong(t, "linphonec's prompt", 20*time.Second, func() bool { return strings.Contains(out.String(), "linphonec>") })
	_, _ = io.WriteString(stdin, "soundcard use files\n")
	_, _ = fmt.Fprintf(stdin, "call sip:1234@%s\n", s.UDPAddr())

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
