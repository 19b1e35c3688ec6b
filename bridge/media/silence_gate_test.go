package media

import (
	"fmt"
	"testing"
)

// gateRoom is a room of Opus endpoints: two talkers, a quiet participant
// and a listener, on a mixer with or without the silence gate.
type gateRoom struct {
	clock                 *ManualClock
	m                     *Mixer
	a, b, quiet, listener *endpoint
	eps                   []*endpoint
}

func newGateRoom(t *testing.T, decodeSilence bool) *gateRoom {
	r := &gateRoom{clock: NewManualClock()}
	r.m = NewMixer(MixerConfig{Clock: r.clock, DecodeSilence: decodeSilence})
	t.Cleanup(r.m.Close)
	r.a = newEndpoint(t, r.m, "a", Opus, 500)
	r.b = newEndpoint(t, r.m, "b", Opus, 1100)
	r.quiet = newEndpoint(t, r.m, "quiet", Opus, 0)
	r.listener = newEndpoint(t, r.m, "listener", Opus, 0)
	r.eps = []*endpoint{r.a, r.b, r.quiet, r.listener}
	return r
}

// While nobody hears them, the silent participants' packets are not
// decoded; with DecodeSilence they are.
func TestSilenceGateSkipsUnheardSilence(t *testing.T) {
	for _, decodeSilence := range []bool{false, true} {
		t.Run(fmt.Sprint("DecodeSilence=", decodeSilence), func(t *testing.T) {
			r := newGateRoom(t, decodeSilence)
			run(r.clock, 100, r.eps...)
			skipped := r.m.Stats().SkippedDecodes
			switch {
			case decodeSilence && skipped != 0:
				t.Errorf("%d decodes skipped with DecodeSilence; want 0", skipped)
			case !decodeSilence && skipped < 2*80:
				// Two silent ports over 100 ticks, less the encoders' VAD
				// hangover and the jitter buffer's fill.
				t.Errorf("%d decodes skipped in 100 ticks of two silent ports; want at least 160", skipped)
			}
			if lvl := hears(r.listener, 500); lvl < -25 {
				t.Errorf("listener hears a at %.1f dB; want above -25 dB", lvl)
			}
			if lvl := hears(r.a, 1100); lvl < -25 {
				t.Errorf("a hears b at %.1f dB; want above -25 dB", lvl)
			}
		})
	}
}

// A quiet participant who starts talking is heard in the very frame the
// mixer first plays out their speech, never later than without the gate:
// the skipped silence delays nothing, and after it the decoder is in step
// (the talker is heard at full level).
func TestSilenceGateHearsSpeechOnsetWithinOneFrame(t *testing.T) {
	gated, plain := newGateRoom(t, false), newGateRoom(t, true)
	rooms := []*gateRoom{gated, plain}
	for _, r := range rooms {
		run(r.clock, 100, r.eps...)
		if r.quiet.port.Speaking() {
			t.Fatal("the quiet participant is mixed before speaking")
		}
		r.quiet.freq = 1700
	}
	onset := [2]int{-1, -1}
	var level [2]float64
	for tick := range 10 {
		for i, r := range rooms {
			run(r.clock, 1, r.eps...)
			if onset[i] < 0 && r.quiet.port.Speaking() {
				onset[i] = tick
				level[i] = power(r.listener.lastHeard(FrameSamples), 1700, SampleRate)
			}
		}
	}
	t.Logf("onset: tick %d at %.1f dB with the gate, tick %d at %.1f dB without", onset[0], level[0], onset[1], level[1])
	if onset[0] != 0 {
		t.Fatalf("the quiet participant is mixed from tick %d after speaking; want tick 0, the frame their first speech packet is played", onset[0])
	}
	if onset[1] >= 0 && onset[1] < onset[0] {
		t.Errorf("without the gate the onset is at tick %d, earlier than with it (%d)", onset[1], onset[0])
	}
	// The voice fades in over the onset frame (no click) and the
	// listener's codec delays it by a few ms: it is heard, not yet loud.
	// -50 dB is what the other tests call inaudible.
	if level[0] < -50 {
		t.Errorf("in the onset frame the listener hears the new talker at %.1f dB; want above -50 dB", level[0])
	}
	run(gated.clock, 50, gated.eps...)
	if lvl := hears(gated.listener, 1700); lvl < -25 {
		t.Errorf("after the onset the listener hears the new talker at %.1f dB; want above -25 dB", lvl)
	}
}

// A speaker's pauses are decoded: the gate holds only ports that are
// neither mixed nor fading, so a speaker in hangover keeps its decoder.
func TestSilenceGateNeverHoldsASpeaker(t *testing.T) {
	r := newGateRoom(t, false)
	run(r.clock, 100, r.eps...)
	before := r.m.Stats().SkippedDecodes
	r.a.freq = 0 // a pauses: its packets turn inactive, it stays a speaker in hangover
	run(r.clock, 5, r.eps...)
	if !r.a.port.Speaking() {
		t.Fatal("a left the mix within 100 ms of pausing; want the hangover to keep it")
	}
	// Only the quiet participant and the listener (2 per tick) were held.
	if got := r.m.Stats().SkippedDecodes - before; got > 2*5 {
		t.Errorf("%d decodes skipped in 5 ticks; want at most 10 (a speaker's packets are always decoded)", got)
	}
}

// A silent room's shared stream keeps flowing, a packet every tick, while
// its encoder rests; when someone speaks the encoder resumes and is heard.
func TestMixerSilentRoomRestsItsEncoder(t *testing.T) {
	clock := NewManualClock()
	m := NewMixer(MixerConfig{Clock: clock})
	defer m.Close()
	var eps []*endpoint
	for i := range 3 {
		eps = append(eps, newEndpoint(t, m, fmt.Sprint("p", i), Opus, 0))
	}
	run(clock, 100, eps...)
	st := m.Stats()
	if st.RepeatedSilence < 100-silenceRepeatTicks-10 {
		t.Errorf("%d of 100 silent frames were encoded again; want all but the first %d or so repeated", 100-st.RepeatedSilence, silenceRepeatTicks)
	}
	for _, e := range eps {
		e.mu.Lock()
		got := len(e.raw)
		e.mu.Unlock()
		if got != 100 {
			t.Errorf("%s received %d payloads in 100 ticks; want one a tick", e.id, got)
		}
		if lvl := frameLevel(e.lastHeard(10 * FrameSamples)); lvl > -60 {
			t.Errorf("%s hears the silent room at %.1f dBov; want below -60", e.id, lvl)
		}
	}
	eps[0].freq = 900
	run(clock, 50, eps...)
	if lvl := hears(eps[1], 900); lvl < -25 {
		t.Errorf("after the silence p1 hears p0 at %.1f dB; want above -25 dB", lvl)
	}
	if got := m.Stats().RepeatedSilence; got != st.RepeatedSilence {
		t.Errorf("%d silent frames repeated while p0 talked; want none", got-st.RepeatedSilence)
	}
}

// A listener that asked for DTX keeps getting DTX packets (two bytes or
// fewer) from a silent room, never a repeated comfort-noise update.
func TestMixerSilentRoomKeepsDTX(t *testing.T) {
	clock := NewManualClock()
	m := NewMixer(MixerConfig{Clock: clock})
	defer m.Close()
	var raw [][]byte
	if _, err := m.AddPortWith("dtx", Opus, EncoderOptions{OpusDTX: true}, func(p []byte) {
		raw = append(raw, append([]byte(nil), p...))
	}); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		clock.Tick()
	}
	big := 0
	for _, p := range raw[50:] {
		if len(p) > 2 {
			big++
		}
	}
	if big > 3 { // libopus refreshes comfort noise every 400 ms: 2 or 3 in 50 ticks
		t.Errorf("%d of the last 50 payloads of a silent room are longer than DTX's 2 bytes; want at most 3", big)
	}
}
