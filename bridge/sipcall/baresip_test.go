package sipcall

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
)

// requireTool finds a binary the test needs, failing in CI and skipping
// elsewhere when it is missing.
func requireTool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s not on PATH; install the Debian package %s (make deps)", name, pkg)
		}
		t.Skipf("%s not on PATH; install the Debian package %s", name, pkg)
	}
	return path
}

// TestBaresipCall has a real endpoint, baresip, dial a room: the call
// connects with Opus, its audio reaches the participant, RTCP from both
// sides gives a round-trip time, and a hangup by the bridge reaches
// baresip as a BYE.
func TestBaresipCall(t *testing.T) {
	baresip := requireTool(t, "baresip", "baresip")
	ffmpeg := requireTool(t, "ffmpeg", "ffmpeg")
	dir := t.TempDir()
	tone := filepath.Join(dir, "tone48k.wav")
	if out, err := exec.Command(ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
		"-t", "30", "-ac", "1", tone).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, func(c *Config) { c.RTPTimeout = 10 * time.Second })
	sipPort := freePort(t)
	rtpBase := 20000 + 2*(sipPort%2000)
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
net_interface 127.0.0.1
audio_player alsa,null
audio_alert alsa,null
audio_source aufile,%s
ausrc_srate 48000
auplay_srate 48000
ausrc_channels 1
auplay_channels 1
rtp_ports %d-%d
rtp_stats yes
module_path /usr/lib/baresip/modules
module g711.so
module g722.so
module opus.so
module alsa.so
module aufile.so
module_tmp uuid.so
module_tmp account.so
module_app menu.so
`, sipPort, tone, rtpBase, rtpBase+20)
	accounts := fmt.Sprintf("<sip:caller@127.0.0.1:%d>;regint=0;audio_codecs=opus/48000/2,G722/16000,PCMU\n", sipPort)
	for name, body := range map[string]string{"config": config, "accounts": accounts} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, baresip, "-f", dir, "-t", "30",
		"-e", fmt.Sprintf("/dial sip:1234@%s", s.UDPAddr()))
	cmd.Dir = dir
	out := &logBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("baresip:\n%s", out.String())
		}
	}()

	waitFor(t, "baresip's call to be admitted", func() bool { return rooms.last() != nil })
	p := rooms.last()
	if got := p.leg.AudioCodec(); got != codecOpus {
		t.Errorf("codec = %v, want opus/48000/2 (baresip's first choice and ours)", got)
	}
	waitFor(t, "50 audio packets from baresip", func() bool { a, _, _, _, _ := p.state(); return a >= 50 })

	// Send Opus silence (a 20 ms CELT frame) so that we send SRs.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				p.leg.SendAudio([]byte{0xf8, 0xff, 0xfe})
			}
		}
	}()
	waitForLong(t, "an RTT from baresip's receiver reports", 20*time.Second, func() bool { return p.leg.Quality().RTTMax > 0 })
	close(stop)
	<-done
	q := p.leg.Quality()
	t.Logf("quality after the call: %+v", q)
	if q.PacketsSent == 0 || q.PacketsReceived == 0 {
		t.Errorf("quality = %+v, want packets both ways", q)
	}

	p.leg.Hangup(bridge.EndKicked, 0)
	waitFor(t, "the call to end", func() bool { return s.ActiveCalls() == 0 })
	if _, _, left, reason, _ := p.state(); !left || reason != bridge.EndKicked {
		t.Errorf("participant left %v reason %s, want kicked", left, reason)
	}
}

// waitForLong is waitFor with its own bound.
func waitForLong(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
