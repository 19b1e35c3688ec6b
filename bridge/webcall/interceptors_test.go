package webcall

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// An idle participant (joined, sending nothing) runs no NACK generator:
// pion's would tick at 10 Hz per PeerConnection from the start. A camera's
// first packet starts it; the participant leaving stops it.
func TestTheNACKGeneratorRunsOnlyForACameraThatSends(t *testing.T) {
	r := newRig(t, Config{}, testRoom)
	idle := dial(t, r, "1234")
	idle.quiet = true
	idle.join("idle", "", 0)
	eventually(t, 10*time.Second, "the idle browser connected", func() bool {
		_, _, _, _, states := idle.snapshot()
		return len(states) > 0 && states[len(states)-1] == webrtc.PeerConnectionStateConnected
	})
	if n := r.srv.Timers().NACKLoops; n != 0 {
		t.Fatalf("%d NACK generators run for an idle browser; want none", n)
	}
	cam := dial(t, r, "1234")
	cam.join("camera", "", 440)
	eventually(t, 10*time.Second, "a NACK generator for the browser whose camera sends", func() bool {
		return r.srv.Timers().NACKLoops == 1
	})
	cam.send(map[string]any{"type": "leave"})
	eventually(t, 10*time.Second, "the NACK generator to stop with its leg", func() bool {
		return r.srv.Timers().NACKLoops == 0
	})
	if st := r.srv.Timers(); st.ReportHz > 4 || st.NACKHz <= 0 {
		t.Errorf("timer rates %+v; want reports at most 4 Hz", st)
	}
}

// With DTX, a browser whose mix is silent gets a comfort-noise frame now
// and then instead of 50 packets a second: Ada, who talks to two silent
// listeners, hears silence and receives far fewer packets than they do.
func TestASilentMixIsSentWithDTX(t *testing.T) {
	r := newRig(t, Config{}, testRoom)
	ada, b, c := dial(t, r, "1234"), dial(t, r, "1234"), dial(t, r, "1234")
	ada.join("Ada", "", 440)
	b.quiet, c.quiet = true, true
	b.join("Brian", "", 0)
	c.join("Chris", "", 0)
	eventually(t, 20*time.Second, "both listeners to receive 150 packets of Ada's voice", func() bool {
		_, pb, _, _, _ := b.snapshot()
		_, pc, _, _, _ := c.snapshot()
		return pb >= 150 && pc >= 150
	})
	_, pa, _, _, _ := ada.snapshot()
	_, pb, _, _, _ := b.snapshot()
	if pa*3 > pb {
		t.Errorf("Ada received %d packets of a silent mix while Brian received %d of hers; want DTX to send a third or less", pa, pb)
	}
	if pa == 0 {
		t.Error("Ada received no comfort noise at all")
	}
}
