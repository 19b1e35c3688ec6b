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
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, nil)
	l := startLinphone(t, false, 40*time.Second)
	ffmpeg := requireTool(t, "ffmpeg", "ffmpeg")
	tone := filepath.Join(l.home, "tone.wav")
	if out, err := exec.Command(ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", "20", "-ac", "1", tone).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	l.send("call sip:1234@%s", s.UDPAddr())

	waitForLong(t, "linphonec's call to be admitted", 20*time.Second, func() bool { return rooms.last() != nil })
	p := rooms.last()
	<-p.leg.(*call).answered
	l.send("play %s", tone) // with "soundcard use files", the call's audio source
	t.Logf("linphonec negotiated %s", p.leg.AudioCodec().String())
	waitForLong(t, "50 audio packets from linphonec", 20*time.Second, func() bool { a, _, _, _, _ := p.state(); return a >= 50 })
	p.leg.Hangup(bridge.EndKicked, 0)
	waitFor(t, "the call to end", func() bool { return s.ActiveCalls() == 0 })
}

// linphone is a headless linphonec reading commands on its stdin.
type linphone struct {
	home  string
	stdin io.Writer
}

// startLinphone writes linphonec's configuration — audio only, or with
// H.264 video through OpenH264 (`-V`) — starts it and waits for its prompt.
// It quits when the test ends (killed after limit at the latest), its output
// logged if the test failed. Commands go through send; "soundcard use files"
// is already given.
func startLinphone(t *testing.T, withVideo bool, limit time.Duration) *linphone {
	t.Helper()
	linphonec := requireTool(t, "linphonec", "linphone-cli")
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".local", "share", "linphone"), 0o755); err != nil {
		t.Fatal(err)
	}
	sipPort := freePort(t)
	rtp := fmt.Sprintf("audio_rtp_port=%d\n", 22000+2*(sipPort%1000))
	videoSection := "enabled=0\ncapture=0\ndisplay=0\n"
	args := []string{"-c", filepath.Join(home, "rc")}
	if withVideo {
		port := 24000 + 4*(sipPort%1000)
		rtp = fmt.Sprintf("audio_rtp_port=%d\nvideo_rtp_port=%d\n", port, port+2)
		videoSection = "enabled=1\ncapture=1\ndisplay=1\nautomatically_accept=1\nautomatically_initiate=1\nsize=vga\n"
		args = append(args, "-V")
	}
	rc := fmt.Sprintf("[sip]\nuse_ipv6=0\nsip_port=%d\nsip_tcp_port=0\nsip_tls_port=0\ndefault_proxy=-1\n[rtp]\n%s[video]\n%s",
		sipPort, rtp, videoSection)
	if err := os.WriteFile(args[1], []byte(rc), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	cmd := exec.CommandContext(ctx, linphonec, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "DISPLAY=")
	cmd.Dir = home
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	out := &logBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer cancel()
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
	})
	// linphonec prints its prompt once its core is up and reading commands.
	waitForLong(t, "linphonec's prompt", 20*time.Second, func() bool { return strings.Contains(out.String(), "linphonec>") })
	l := &linphone{home: home, stdin: stdin}
	l.send("soundcard use files")
	return l
}

// send writes one command line to linphonec.
func (l *linphone) send(format string, a ...any) {
	_, _ = fmt.Fprintf(l.stdin, format+"\n", a...)
}
