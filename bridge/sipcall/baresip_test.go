package sipcall

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/internal/baresiptest"
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
	dir := baresiptest.Dir(t, "caller")
	tone := baresiptest.ToneWAV(t, dir, 1000, 30)
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, func(c *Config) { c.RTPTimeout = 10 * time.Second })
	rtpBase := 20000 + 2*(freePort(t)%2000)
	baresiptest.Start(t, dir, baresiptest.Options{
		Name:        "caller",
		Dial:        fmt.Sprintf("sip:1234@%s", s.UDPAddr()),
		AudioSource: tone,
		AudioCodecs: "opus/48000/2,G722/16000,PCMU",
		RTPPorts:    [2]int{rtpBase, rtpBase + 20},
		RTPStats:    true,
	}, 30*time.Second)

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
