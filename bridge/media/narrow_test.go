package media

import (
	"fmt"
	"testing"
	"time"
)

// A room of G.711 ports mixes at 8 kHz, and sounds as the 48 kHz mix did:
// each hears the others and not itself, in time with the 48 kHz path (no
// lag between the two), at an SNR a listener cannot tell apart.
func TestMixerNarrowRoomSoundsAsTheWidebandMix(t *testing.T) {
	for _, codecs := range [][]AudioCodec{{PCMU, PCMU, PCMU}, {PCMA, PCMU, PCMA}} {
		t.Run(fmt.Sprint(codecs), func(t *testing.T) {
			heard := map[bool][][]int16{}
			for _, wide := range []bool{false, true} {
				clock := NewManualClock()
				m := NewMixer(MixerConfig{Clock: clock, AlwaysWideband: wide})
				freqs := []float64{500, 1100, 0}
				var eps []*endpoint
				for i, f := range freqs {
					eps = append(eps, newEndpoint(t, m, fmt.Sprintf("p%d", i), codecs[i], f))
				}
				run(clock, 100, eps...)
				m.Close()
				st := m.Stats()
				if !wide && st.NarrowTicks != st.Ticks {
					t.Errorf("%d of %d ticks mixed at 8 kHz; want all", st.NarrowTicks, st.Ticks)
				}
				if wide && st.NarrowTicks != 0 {
					t.Errorf("AlwaysWideband: %d ticks mixed at 8 kHz; want none", st.NarrowTicks)
				}
				for _, e := range eps {
					heard[wide] = append(heard[wide], e.lastHeard(50*FrameSamples))
				}
			}
			for i := range heard[false] {
				// The narrow path's delay is 32 samples at 8 kHz, the 48 kHz
				// path's 31.8: one sample apart at 48 kHz.
				narrow, wide := heard[false][i], heard[true][i]
				if s, lag := bestLagSNR(t, wide, narrow, 400); s < 25 || lag > 1 {
					t.Errorf("p%d: the 8 kHz mix differs from the 48 kHz mix at %.1f dB SNR at a lag of %d samples at 48 kHz; want above 25 dB at 0 or 1", i, s, lag)
				} else {
					t.Logf("p%d: the 8 kHz mix is the 48 kHz mix at %.1f dB SNR, lag %d at 48 kHz", i, s, lag)
				}
			}
			for i, f := range []float64{500, 1100} {
				for j := range 3 {
					lvl := power(heard[false][j], f, SampleRate)
					if i == j && lvl > -50 {
						t.Errorf("p%d hears its own %.0f Hz tone at %.1f dB; want below -50 dB", j, f, lvl)
					}
					if i != j && lvl < -25 {
						t.Errorf("p%d hears p%d's %.0f Hz tone at %.1f dB; want above -25 dB", j, i, f, lvl)
					}
				}
			}
		})
	}
}

// When a wideband port (Opus, G.722) joins a room of G.711 callers, the
// room changes to 48 kHz at that tick, and back to 8 kHz once it has left.
// The callers hear neither change: no click (no jump between samples beyond
// what the tones make in steady state) and no gap (the level of every
// 20 ms stays within 1 dB), on the shared stream of a listener and on the
// personal streams of two talkers who hear each other.
func TestMixerChangesRateSeamlessly(t *testing.T) {
	for _, wb := range []AudioCodec{Opus, G722} {
		t.Run(wb.String(), func(t *testing.T) {
			clock := NewManualClock()
			m := NewMixer(MixerConfig{Clock: clock})
			defer m.Close()
			a := newEndpoint(t, m, "a", PCMU, 600)
			b := newEndpoint(t, m, "b", PCMU, 1000)
			b.n = 3 // b's tone does not start at a zero crossing
			l := newEndpoint(t, m, "listener", PCMU, 0)
			run(clock, 50, a, b, l)
			if st := m.Stats(); st.NarrowTicks != 50 {
				t.Fatalf("%d of 50 ticks of a G.711 room mixed at 8 kHz", st.NarrowTicks)
			}
			w := newEndpoint(t, m, "wideband", wb, 0)
			run(clock, 50, a, b, l, w)
			if st := m.Stats(); st.NarrowTicks != 50 {
				t.Fatalf("with a %s port in the room, %d ticks mixed at 8 kHz; want none after the first 50", wb, st.NarrowTicks-50)
			}
			w.port.Close()
			run(clock, 50, a, b, l)
			if st := m.Stats(); st.NarrowTicks != 50+49 {
				t.Fatalf("after the %s port left, %d ticks mixed at 8 kHz; want 49 (its fade-out tick at 48 kHz)", wb, st.NarrowTicks-50)
			}
			for _, c := range []struct {
				e    *endpoint
				freq float64
			}{{l, 600}, {a, 1000}, {b, 600}} {
				c.e.mu.Lock()
				heard := append([]int16(nil), c.e.heard...)
				c.e.mu.Unlock()
				steady := maxStep(heard[20*FrameSamples : 48*FrameSamples])
				ref := power(heard[30*FrameSamples:31*FrameSamples], c.freq, SampleRate)
				for _, at := range []int{50, 101} {
					if s := maxStep(heard[(at-2)*FrameSamples : (at+3)*FrameSamples]); float64(s) > 1.3*float64(steady) {
						t.Errorf("%s: at the change of rate at tick %d, a jump of %d between samples; steady state makes at most %d", c.e.id, at, s, steady)
					}
					for f := at - 2; f < at+3; f++ {
						lvl := power(heard[f*FrameSamples:(f+1)*FrameSamples], c.freq, SampleRate)
						if lvl < ref-1 || lvl > ref+1 {
							t.Errorf("%s: frame %d (change of rate at %d) has the %.0f Hz tone at %.2f dB; steady state %.2f dB", c.e.id, f, at, c.freq, lvl, ref)
						}
					}
				}
			}
		})
	}
}

// BenchmarkNarrowMix is the CPU of one tick of a G.711 room (three talkers,
// benchRoom) mixed at 8 kHz next to the same room mixed at 48 kHz
// (AlwaysWideband, the reference), measured in the same run in alternating
// blocks of 50 ticks, as process CPU time: narrow-µs/tick, wide-µs/tick and
// their ratio.
func BenchmarkNarrowMix(b *testing.B) {
	for _, n := range []int{10, 30, 200} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			type room struct {
				clock    *ManualClock
				ports    []*Port
				payloads [][][]byte
				t        int
				cpu      time.Duration
			}
			var rooms [2]*room
			for i, wide := range []bool{false, true} {
				clock, _, ports, payloads := benchRoomWith(b, PCMU, n, MixerConfig{AlwaysWideband: wide})
				rooms[i] = &room{clock: clock, ports: ports, payloads: payloads}
			}
			step := func(r *room) {
				for i, p := range r.ports {
					p.Push(uint16(r.t), uint32(r.t*160), r.payloads[i][r.t%len(r.payloads[i])])
				}
				r.clock.Tick()
				r.t++
			}
			for range 100 {
				step(rooms[0])
				step(rooms[1])
			}
			const block = 50
			ticks := 0
			for b.Loop() {
				for _, r := range rooms {
					c0 := processCPU()
					for range block {
						step(r)
					}
					r.cpu += processCPU() - c0
				}
				ticks += block
			}
			narrow := float64(rooms[0].cpu.Microseconds()) / float64(ticks)
			wide := float64(rooms[1].cpu.Microseconds()) / float64(ticks)
			b.ReportMetric(narrow, "narrow-µs/tick")
			b.ReportMetric(wide, "wide-µs/tick")
			b.ReportMetric(narrow/wide, "ratio")
		})
	}
}

// The narrow path's delay and history are sized for the 8↔48 kHz filters
// (narrow.go): if the Resampler's design changes, so must they.
func TestNarrowDelayMatchesTheResamplers(t *testing.T) {
	up, down := NewResampler(8000, SampleRate), NewResampler(SampleRate, 8000)
	if d := up.factor * up.taps / 2; d != 6*narrowDelay {
		t.Errorf("the interpolator's group delay is %d samples at 48 kHz; narrowDelay stands for %d", d, 6*narrowDelay)
	}
	if d := len(down.h) / 2; d != 6*narrowDelay {
		t.Errorf("the decimator's group delay is %d samples at 48 kHz; narrowDelay stands for %d", d, 6*narrowDelay)
	}
	if need := (len(down.hist)+5)/6 + up.taps; need > narrowHist {
		t.Errorf("rebuilding the decimator's history needs %d samples at 8 kHz; narrowHist is %d", need, narrowHist)
	}
}
