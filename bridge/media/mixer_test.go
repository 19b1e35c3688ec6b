package media

import (
	"fmt"
	"sync"
	"testing"
)

// endpoint is a fake participant: it encodes a tone into RTP payloads and
// decodes what the mixer sends it.
type endpoint struct {
	t     *testing.T
	id    PortID
	codec AudioCodec
	freq  float64 // 0: silent
	amp   float64
	enc   Encoder
	dec   Decoder
	port  *Port
	seq   uint16
	n     int

	mu    sync.Mutex
	heard []int16
	raw   [][]byte
}

func newEndpoint(t *testing.T, m *Mixer, id string, c AudioCodec, freq float64) *endpoint {
	t.Helper()
	e := &endpoint{t: t, id: PortID(id), codec: c, freq: freq, amp: 6000}
	var err error
	if e.enc, err = NewEncoder(c); err != nil {
		t.Fatal(err)
	}
	if e.dec, err = NewDecoder(c); err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, MaxFrameSamples)
	e.port, err = m.AddPort(e.id, c, func(payload []byte) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.raw = append(e.raw, append([]byte(nil), payload...))
		n, err := e.dec.Decode(payload, pcm)
		if err != nil {
			t.Errorf("%s: decoding the mix: %v", id, err)
			return
		}
		e.heard = append(e.heard, pcm[:n]...)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.enc.Close(); _ = e.dec.Close() })
	return e
}

// send pushes the next 20 ms of the endpoint's tone.
func (e *endpoint) send() {
	pcm := make([]int16, FrameSamples)
	if e.freq > 0 {
		tone(pcm, e.freq, e.amp, SampleRate, e.n*FrameSamples)
	}
	e.n++
	buf := make([]byte, MaxPayload)
	n, err := e.enc.Encode(pcm, buf)
	if err != nil {
		e.t.Fatal(err)
	}
	e.port.Push(e.seq, uint32(e.n*e.codec.SamplesPerFrame()), buf[:n])
	e.seq++
}

// lastHeard returns the last n samples the endpoint heard.
func (e *endpoint) lastHeard(n int) []int16 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.heard) < n {
		e.t.Fatalf("%s heard %d samples; want at least %d", e.id, len(e.heard), n)
	}
	return append([]int16(nil), e.heard[len(e.heard)-n:]...)
}

func run(clock *ManualClock, ticks int, eps ...*endpoint) {
	for range ticks {
		for _, e := range eps {
			e.send()
		}
		clock.Tick()
	}
}

// hears reports the level in dB of freq in what e heard over the last second.
func hears(e *endpoint, freq float64) float64 {
	return power(e.lastHeard(50*FrameSamples), freq, SampleRate)
}

func TestMixerEachHearsTheOthersNotThemselves(t *testing.T) {
	for _, codecs := range [][]AudioCodec{{PCMU, PCMU, PCMU}, {PCMU, PCMA, G722}, {Opus, G722, PCMU}, {Opus, Opus, Opus}} {
		t.Run(fmt.Sprint(codecs), func(t *testing.T) {
			clock := NewManualClock()
			m := NewMixer(MixerConfig{Clock: clock})
			defer m.Close()
			freqs := []float64{500, 1100, 1700}
			var eps []*endpoint
			for i, f := range freqs {
				eps = append(eps, newEndpoint(t, m, fmt.Sprintf("p%d", i), codecs[i], f))
			}
			run(clock, 150, eps...)
			for i, e := range eps {
				for j, f := range freqs {
					lvl := hears(e, f)
					if i == j && lvl > -50 {
						t.Errorf("%s hears its own %.0f Hz tone at %.1f dB; want below -50 dB", e.id, f, lvl)
					}
					if i != j && lvl < -25 {
						t.Errorf("%s hears %s's %.0f Hz tone at %.1f dB; want above -25 dB", e.id, eps[j].id, f, lvl)
					}
				}
			}
		})
	}
}

func TestMixerMutedPortContributesNothing(t *testing.T) {
	clock := NewManualClock()
	m := NewMixer(MixerConfig{Clock: clock})
	defer m.Close()
	a := newEndpoint(t, m, "a", PCMU, 600)
	b := newEndpoint(t, m, "b", PCMU, 1300)
	a.port.SetMuted(true)
	run(clock, 100, a, b)
	if lvl := hears(b, 600); lvl > -50 {
		t.Errorf("b hears muted a at %.1f dB; want below -50 dB", lvl)
	}
	if lvl := hears(a, 1300); lvl < -25 {
		t.Errorf("muted a hears b at %.1f dB; want above -25 dB (muted ports still listen)", lvl)
	}
}

// With more talkers than MaxSpeakers, only the loudest are mixed, and every
// listener that is not a speaker receives the very same encoded stream.
func TestMixerSharesOneStreamAmongListeners(t *testing.T) {
	clock := NewManualClock()
	m := NewMixer(MixerConfig{Clock: clock, MaxSpeakers: 2})
	defer m.Close()
	loud1 := newEndpoint(t, m, "loud1", PCMU, 700)
	loud2 := newEndpoint(t, m, "loud2", PCMU, 1500)
	quiet := newEndpoint(t, m, "quiet", PCMU, 2300)
	quiet.amp = 1000
	l1 := newEndpoint(t, m, "listener1", PCMU, 0)
	l2 := newEndpoint(t, m, "listener2", PCMU, 0)
	run(clock, 100, loud1, loud2, quiet, l1, l2)

	if !loud1.port.Speaking() || !loud2.port.Speaking() || quiet.port.Speaking() {
		t.Errorf("speaking: loud1 %v, loud2 %v, quiet %v; want the two loud ones only",
			loud1.port.Speaking(), loud2.port.Speaking(), quiet.port.Speaking())
	}
	if lvl := hears(l1, 2300); lvl > -50 {
		t.Errorf("listener hears the third, quieter talker at %.1f dB; want below -50 dB", lvl)
	}
	l1.mu.Lock()
	l2.mu.Lock()
	q := append([][]byte(nil), quiet.raw...)
	for i := len(l1.raw) - 20; i < len(l1.raw); i++ {
		if string(l1.raw[i]) != string(l2.raw[i]) || string(l1.raw[i]) != string(q[i]) {
			t.Fatalf("tick %d: listeners received different payloads; want one shared stream", i)
		}
	}
	l2.mu.Unlock()
	l1.mu.Unlock()
	if lvl := hears(loud1, 1500); lvl < -25 {
		t.Errorf("speaker loud1 hears loud2 at %.1f dB; want above -25 dB", lvl)
	}
}

func TestMixerActiveSpeakerWithHysteresis(t *testing.T) {
	clock := NewManualClock()
	var mu sync.Mutex
	var events []PortID
	m := NewMixer(MixerConfig{Clock: clock, OnActiveSpeaker: func(id PortID) {
		mu.Lock()
		events = append(events, id)
		mu.Unlock()
	}})
	defer m.Close()
	a := newEndpoint(t, m, "a", PCMU, 600)
	b := newEndpoint(t, m, "b", PCMU, 0)
	run(clock, 50, a, b)
	// b speaks louder for a moment (0.4 s): no switch.
	b.freq, b.amp = 1200, 12000
	run(clock, 20, a, b)
	b.freq = 0
	run(clock, 50, a, b)
	mu.Lock()
	got := fmt.Sprint(events)
	mu.Unlock()
	if got != "[a]" {
		t.Fatalf("events after a short interjection: %s; want [a]", got)
	}
	// b takes over for 2 s: one switch.
	b.freq, a.freq = 1200, 0
	run(clock, 100, a, b)
	mu.Lock()
	got = fmt.Sprint(events)
	mu.Unlock()
	if got != "[a b]" {
		t.Errorf("events after b took over: %s; want [a b]", got)
	}
}

func TestMixerPortsComeAndGo(t *testing.T) {
	clock := NewManualClock()
	m := NewMixer(MixerConfig{Clock: clock})
	defer m.Close()
	a := newEndpoint(t, m, "a", PCMU, 600)
	b := newEndpoint(t, m, "b", PCMU, 1300)
	run(clock, 30, a, b)
	if _, err := m.AddPort("a", PCMU, func([]byte) {}); err == nil {
		t.Error("a second port a was added; want ErrDuplicatePort")
	}
	b.port.Close()
	b.port.Close()
	b.mu.Lock()
	before := len(b.raw)
	b.mu.Unlock()
	run(clock, 10, a)
	b.mu.Lock()
	after := len(b.raw)
	b.mu.Unlock()
	if after != before {
		t.Errorf("b's sink was called %d times after Close; want 0", after-before)
	}
	if m.Len() != 1 {
		t.Errorf("mixer has %d ports; want 1", m.Len())
	}
	if st := m.Stats(); st.Ticks != 40 || st.LastTick <= 0 {
		t.Errorf("stats after 40 ticks: %+v; want 40 ticks and a duration", st)
	}
	c := newEndpoint(t, m, "c", PCMU, 1900)
	run(clock, 60, a, c)
	if lvl := hears(a, 1300); lvl > -50 {
		t.Errorf("a still hears b who left, at %.1f dB", lvl)
	}
	if lvl := hears(a, 1900); lvl < -25 {
		t.Errorf("a hears newcomer c at %.1f dB; want above -25 dB", lvl)
	}
}

// Ports added, fed, muted and closed from other goroutines while the mixer
// ticks on its own clock: the race detector checks the locking.
func TestMixerConcurrentUse(t *testing.T) {
	m := NewMixer(MixerConfig{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			payload := make([]byte, 160)
			for i := range 20 {
				p, err := m.AddPort(PortID(fmt.Sprint(g, "-", i)), PCMU, func([]byte) {})
				if err != nil {
					t.Error(err)
					return
				}
				for s := range 20 {
					p.Push(uint16(s), uint32(s*160), payload)
				}
				p.SetMuted(i%2 == 0)
				_ = p.Level()
				p.Close()
			}
		})
	}
	wg.Wait()
	m.Close()
	m.Close()
	if _, err := m.AddPort("late", PCMU, func([]byte) {}); err == nil {
		t.Error("AddPort after Close succeeded; want ErrClosed")
	}
}

// In steady state a tick allocates nothing: every buffer is the port's or the
// mixer's own (the benchmarks report the same with -benchmem).
func TestMixerTickDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counting needs a warm mixer")
	}
	for _, codec := range []AudioCodec{PCMU, G722, Opus} {
		t.Run(codec.String(), func(t *testing.T) {
			clock, _, ports, payloads := benchRoom(t, codec, 8)
			tick := 0
			step := func() {
				for i, p := range ports {
					p.Push(uint16(tick), uint32(tick*codec.SamplesPerFrame()), payloads[i][tick%len(payloads[i])])
				}
				clock.Tick()
				tick++
			}
			for range 100 {
				step()
			}
			if a := testing.AllocsPerRun(200, step); a > 0 {
				t.Errorf("%.2f allocations per tick; want 0", a)
			}
		})
	}
}

// maxStep is the largest jump between consecutive samples.
func maxStep(pcm []int16) int {
	m := 0
	for i := 1; i < len(pcm); i++ {
		m = max(m, int(pcm[i])-int(pcm[i-1]), int(pcm[i-1])-int(pcm[i]))
	}
	return m
}

// A talker joining or leaving fades in or out over one frame: the listener
// hears no click, i.e. no sample-to-sample jump beyond what the tones
// themselves make in steady state.
func TestMixerNoClickOnJoinAndLeave(t *testing.T) {
	clock := NewManualClock()
	m := NewMixer(MixerConfig{Clock: clock})
	defer m.Close()
	a := newEndpoint(t, m, "a", G722, 410)
	l := newEndpoint(t, m, "listener", G722, 0)
	run(clock, 50, a, l)
	b := newEndpoint(t, m, "b", G722, 1330)
	b.n = 7 // b's tone does not start at a zero crossing
	run(clock, 50, a, l, b)
	steady := maxStep(l.lastHeard(30 * FrameSamples))
	// b leaves mid-tone, with its next frame already received.
	b.send()
	b.port.Close()
	run(clock, 60, a, l)

	l.mu.Lock()
	heard := append([]int16(nil), l.heard...)
	l.mu.Unlock()
	joinAt := 50 * FrameSamples
	leaveAt := 100 * FrameSamples
	for _, ev := range []struct {
		name string
		at   int
	}{{"join", joinAt}, {"leave", leaveAt}} {
		window := heard[ev.at-2*FrameSamples : ev.at+4*FrameSamples]
		if s := maxStep(window); float64(s) > 1.3*float64(steady) {
			t.Errorf("around b's %s the listener hears a jump of %d between samples; steady-state mixing makes at most %d", ev.name, s, steady)
		}
	}
	if lvl := hears(l, 1330); lvl > -50 {
		t.Errorf("the listener still hears b after it left, at %.1f dB", lvl)
	}
}

// Listeners with other Opus options (here DTX) get a shared stream of their
// own; listeners with the same options share one.
func TestMixerSharedStreamPerOptions(t *testing.T) {
	clock := NewManualClock()
	m := NewMixer(MixerConfig{Clock: clock})
	defer m.Close()
	talker := newEndpoint(t, m, "talker", Opus, 700)
	l1 := newEndpoint(t, m, "l1", Opus, 0)
	l2 := newEndpoint(t, m, "l2", Opus, 0)
	var dtx [][]byte
	if _, err := m.AddPortWith("l3", Opus, EncoderOptions{OpusDTX: true}, func(b []byte) {
		dtx = append(dtx, append([]byte(nil), b...))
	}); err != nil {
		t.Fatal(err)
	}
	run(clock, 50, talker, l1, l2)
	talker.freq = 0
	run(clock, 100, talker, l1, l2)
	l1.mu.Lock()
	defer l1.mu.Unlock()
	l2.mu.Lock()
	defer l2.mu.Unlock()
	differ, small := 0, 0
	for i := range l1.raw {
		if string(l1.raw[i]) != string(l2.raw[i]) {
			t.Fatalf("tick %d: l1 and l2 (same options) received different payloads", i)
		}
		if string(l1.raw[i]) != string(dtx[i]) {
			differ++
		}
		if i >= 100 && len(dtx[i]) <= 2 {
			small++
		}
	}
	if differ == 0 {
		t.Error("the DTX listener received the same stream as the others; want its own")
	}
	if small < 25 {
		t.Errorf("in silence the DTX stream had %d packets of at most 2 bytes in 50 ticks; want most of them", small)
	}
}

// A listener who starts talking moves from the shared stream to a personal
// one; its personal encoder continues the shared encoder's state, so its
// decoder, which has followed the shared stream, hears no click.
func TestMixerSharedToPersonalIsSeamless(t *testing.T) {
	for _, c := range []AudioCodec{G722, PCMU} {
		t.Run(c.String(), func(t *testing.T) {
			clock := NewManualClock()
			m := NewMixer(MixerConfig{Clock: clock})
			defer m.Close()
			a := newEndpoint(t, m, "a", c, 410)
			l := newEndpoint(t, m, "l", c, 0)
			run(clock, 50, a, l)
			l.freq = 1330
			run(clock, 50, a, l)
			if !l.port.Speaking() {
				t.Fatal("l is not mixed after talking for a second")
			}
			l.mu.Lock()
			heard := append([]int16(nil), l.heard...)
			l.mu.Unlock()
			steady := maxStep(heard[20*FrameSamples : 48*FrameSamples])
			if s := maxStep(heard[49*FrameSamples : 56*FrameSamples]); float64(s) > 1.3*float64(steady) {
				t.Errorf("moving to a personal stream, l hears a jump of %d between samples; the steady stream makes at most %d", s, steady)
			}
		})
	}
}

// A lost Opus packet is rebuilt from the FEC of the next one when that is
// already in the jitter buffer; a lost G.711 packet is concealed.
func TestPortRecoversLossWithFEC(t *testing.T) {
	for _, tt := range []struct {
		codec     AudioCodec
		recovered uint64
	}{{Opus, 1}, {PCMU, 0}} {
		t.Run(tt.codec.String(), func(t *testing.T) {
			clock := NewManualClock()
			m := NewMixer(MixerConfig{Clock: clock, Jitter: JitterConfig{MinDepth: 2}})
			defer m.Close()
			a := newEndpoint(t, m, "a", tt.codec, 440)
			l := newEndpoint(t, m, "l", tt.codec, 0)
			for i := range 60 {
				if i == 30 {
					a.seq++ // packet 30 is lost in the network
					a.n++
				} else {
					a.send()
				}
				l.send()
				clock.Tick()
			}
			st := a.port.Stats()
			if st.Lost != 1 || st.Recovered != tt.recovered || st.Concealed != 1-tt.recovered {
				t.Errorf("lost %d, recovered %d, concealed %d; want 1, %d, %d", st.Lost, st.Recovered, st.Concealed, tt.recovered, 1-tt.recovered)
			}
		})
	}
}

// In a room with a place in the mix for every unmuted port, a quiet one
// (about -61 dBov: a browser's voice while its echo canceller ducks it
// during double talk) is still heard; in a larger room the speech threshold
// keeps it out.
func TestMixerSmallRoomMixesAQuietParticipant(t *testing.T) {
	for _, c := range []struct {
		listeners int
		heard     bool
	}{{0, true}, {2, false}} {
		t.Run(fmt.Sprint(c.listeners, " listeners"), func(t *testing.T) {
			clock := NewManualClock()
			m := NewMixer(MixerConfig{Clock: clock})
			defer m.Close()
			talker := newEndpoint(t, m, "talker", PCMU, 700)
			quiet := newEndpoint(t, m, "quiet", PCMU, 1300)
			quiet.amp = 40
			eps := []*endpoint{talker, quiet}
			for i := range c.listeners {
				eps = append(eps, newEndpoint(t, m, fmt.Sprint("listener", i), PCMU, 0))
			}
			run(clock, 100, eps...)
			lvl := hears(talker, 1300)
			if c.heard && lvl < -66 {
				t.Errorf("in a room of %d the talker hears the quiet participant at %.1f dB; want about -61 dB", len(eps), lvl)
			}
			if !c.heard && lvl > -75 {
				t.Errorf("in a room of %d the talker hears the quiet participant at %.1f dB; want it below the speech threshold, not mixed", len(eps), lvl)
			}
		})
	}
}
