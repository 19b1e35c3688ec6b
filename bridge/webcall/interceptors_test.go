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
