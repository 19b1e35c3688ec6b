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

// TestLinphoneCall has a second real endpoint, linphonec, dial a room:
// the call connects, its audio reaches the participant, and a hangup by
// the bridge ends it.
func TestLinphoneCall(t *testing.T) {
	linphonec := requireTool(t, "linphonec", "linphone-cli")
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".local", "share", "linphone"), 0o755); err != nil {
		t.Fatal(err)
	}
	sipPort := freePort(t)
	rtpPort := 22000 + 2*(sipPort%1000)
	rc := fmt.Sprintf(`[sip]
use_ipv6=0
sip_port=%d
sip_tcp_port=0
sip_tls_port=0
default_proxy=-1
[rtp]
audio_rtp_port=%d
[video]
enabled=0
capture=0
display=0
`, sipPort, rtpPort)
	rcPath := filepath.Join(home, "rc")
	if err := os.WriteFile(rcPath, []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	ffmpeg := requireTool(t, "ffmpeg", "ffmpeg")
	tone := filepath.Join(home, "tone.wav")
	if out, err := exec.Command(ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "20", "-ac", "1", tone).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, nil)

	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, linphonec, "-c", rcPath)
	cmd.Env = append(os.Environ(), "HOME="+home)
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
	// linphonec prints its prompt once its core is up and reading commands.
	waitForLong(t, "linphonec's prompt", 20*time.Second, func() bool { return strings.Contains(out.String(), "linphonec>") })
	_, _ = io.WriteString(stdin, "soundcard use files\n")
	_, _ = fmt.Fprintf(stdin, "call sip:1234@%s\n", s.UDPAddr())

	waitForLong(t, "linphonec's call to be admitted", 20*time.Second, func() bool { return rooms.last() != nil })
	p := rooms.last()
	<-p.leg.(*call).answered
	_, _ = fmt.Fprintf(stdin, "play %s\n", tone) // with "soundcard use files", the call's audio source
	t.Logf("linphonec negotiated %s", p.leg.AudioCodec().String())
	waitForLong(t, "50 audio packets from linphonec", 20*time.Second, func() bool { a, _, _, _, _ := p.state(); return a >= 50 })
	p.leg.Hangup(bridge.EndKicked, 0)
	waitFor(t, "the call to end", func() bool { return s.ActiveCalls() == 0 })
}
