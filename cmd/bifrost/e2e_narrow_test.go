package main

import (
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/media"
)

// Two G.711 callers are mixed at 8 kHz; an Opus caller joining switches the
// room to 48 kHz, and its leaving switches it back. Through all three
// phases each G.711 caller keeps hearing the other's tone, and hears the
// Opus caller's while it is in. (That the change of rate makes no click or
// gap is measured sample by sample in bridge/media's
// TestMixerChangesRateSeamlessly.) The PCMU and PCMA callers also check
// that the two laws share the 8 kHz mix.
func TestE2EBaresipsHearEachOtherAcrossAChangeOfMixingRate(t *testing.T) {
	needCodecs(t, media.Opus, media.PCMU, media.PCMA)
	room := bridge.RoomInfo{ID: "room-narrow", OrganisationID: "org", Name: "Narrow", Alias: "2468"}
	e := startE2E(t, room)
	dir := t.TempDir()
	joined := func() int {
		n := 0
		for _, p := range e.participants(room.ID) {
			if p.State == bridge.ParticipantJoined {
				n++
			}
		}
		return n
	}
	a := startBaresip(t, "pcmu", toneWAV(t, dir, 440, 60), "PCMU", e.uri(room.Alias))
	b := startBaresip(t, "pcma", toneWAV(t, dir, 660, 60), "PCMA", e.uri(room.Alias))
	eventually(t, 30*time.Second, "two G.711 callers joined", func() bool { return joined() == 2 })
	// phase marks where each phase begins and ends in a's and b's recordings.
	type mark struct{ a, b float64 }
	at := func() mark { return mark{a.recordedSeconds(), b.recordedSeconds()} }
	wait := func(what string, secs float64) mark {
		m := at()
		eventually(t, 30*time.Second, what, func() bool {
			return a.recordedSeconds() >= m.a+secs && b.recordedSeconds() >= m.b+secs
		})
		return at()
	}
	n0 := at()
	n1 := wait("3 s of the G.711 callers alone", 3)

	o := startBaresip(t, "opus", toneWAV(t, dir, 880, 60), "opus/48000/2", e.uri(room.Alias))
	eventually(t, 30*time.Second, "the Opus caller joined", func() bool { return joined() == 3 })
	w0 := at()
	w1 := wait("3 s with the Opus caller in", 3)

	o.stop()
	eventually(t, 30*time.Second, "the Opus caller gone", func() bool { return len(e.participants(room.ID)) == 2 })
	m0 := at()
	wait("3 s of the G.711 callers alone again", 3)
	a.stop()
	b.stop()

	type phase struct {
		name       string
		from, to   mark
		opusHeard  bool
		opusSilent bool
	}
	phases := []phase{
		{"before the Opus caller (8 kHz)", n0, n1, false, true},
		{"with the Opus caller (48 kHz)", w0, w1, true, false},
		{"after the Opus caller (8 kHz again)", m0, mark{m0.a + 3, m0.b + 3}, false, true},
	}
	for _, c := range []struct {
		ph        *baresip
		own, hear float64
		from      func(mark) float64
	}{
		{a, 440, 660, func(m mark) float64 { return m.a }},
		{b, 660, 440, func(m mark) float64 { return m.b }},
	} {
		pcm, rate := c.ph.received()
		for _, p := range phases {
			// The middle of the phase: half a second in from each end.
			lo := int((c.from(p.from) + 0.5) * float64(rate))
			hi := min(int((c.from(p.to)-0.5)*float64(rate)), len(pcm))
			if hi-lo < rate {
				t.Fatalf("%s: %s: recording has %d samples of it; want at least 1 s", c.ph.name, p.name, max(0, hi-lo))
			}
			x := pcm[lo:hi]
			other, own, opus := toneLevel(x, c.hear, rate), toneLevel(x, c.own, rate), toneLevel(x, 880, rate)
			t.Logf("%s, %s: hears %.0f Hz at %.0f, the Opus caller's 880 Hz at %.0f, its own %.0f Hz at %.0f", c.ph.name, p.name, c.hear, other, opus, c.own, own)
			if other < 300 {
				t.Errorf("%s, %s: hears the other G.711 caller's %.0f Hz at %.0f; want it clearly (above 300)", c.ph.name, p.name, c.hear, other)
			}
			if p.opusHeard && opus < 300 {
				t.Errorf("%s, %s: hears the Opus caller's 880 Hz at %.0f; want it clearly (above 300)", c.ph.name, p.name, opus)
			}
			if p.opusSilent && opus > other/10 {
				t.Errorf("%s, %s: hears 880 Hz at %.0f though the Opus caller is not in the room", c.ph.name, p.name, opus)
			}
			if own > other/10 {
				t.Errorf("%s, %s: hears its own %.0f Hz at %.0f; want its own voice left out of its mix", c.ph.name, p.name, c.own, own)
			}
		}
	}
}
