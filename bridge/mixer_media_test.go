package bridge

import (
	"context"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// TestParticipantsHearEachOtherThroughTheMediaMixer runs the real mixer of
// package media (G.711) under the bridge: alice sends a 440 Hz tone; bob hears
// it, alice does not hear herself.
func TestParticipantsHearEachOtherThroughTheMediaMixer(t *testing.T) {
	h := newHarness(t, Config{})
	h.b.newMixer = h.b.mediaMixer // the real one, paced by the fake clock
	legs := map[string]*fakeLeg{}
	parts := map[string]*Participant{}
	for _, name := range []string{"alice", "bob"} {
		leg := &fakeLeg{info: LegInfo{Protocol: ProtocolSIP}, codec: media.PCMU, keep: true}
		p, err := h.b.Admit(context.Background(), openRoom(), leg)
		if err != nil {
			t.Fatal(err)
		}
		legs[name], parts[name] = leg, p
	}
	waitFor(t, "both in the mix", func() bool { return parts["alice"].Joined() && parts["bob"].Joined() })

	enc, err := media.NewEncoder(media.PCMU)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	pcm := make([]int16, media.FrameSamples)
	buf := make([]byte, media.MaxPayload)
	for f := range 150 { // 3 s
		for i := range pcm {
			n := f*media.FrameSamples + i
			pcm[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(n)/48000))
		}
		n, err := enc.Encode(pcm, buf)
		if err != nil {
			t.Fatal(err)
		}
		parts["alice"].ReceiveAudio(uint16(f), uint32(f*160), buf[:n])
		h.clock.Advance(20*time.Millisecond, 20*time.Millisecond)
	}
	waitFor(t, "bob to receive 2 s of mix", func() bool { return len(legs["bob"].received()) >= 100 })

	heard := func(name string) float64 {
		dec, err := media.NewDecoder(media.PCMU)
		if err != nil {
			t.Fatal(err)
		}
		got := legs[name].received()
		var all []int16
		out := make([]int16, media.FrameSamples)
		for _, p := range got[len(got)-50:] { // the last second
			n, err := dec.Decode(p, out)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, out[:n]...)
		}
		return goertzel(all, 440, 48000)
	}
	bob, alice := heard("bob"), heard("alice")
	t.Logf("440 Hz amplitude: bob hears %.0f, alice hears %.0f", bob, alice)
	if bob < 2000 {
		t.Errorf("bob hears alice's tone at %.0f; want it (about 8000 sent)", bob)
	}
	if alice > bob/100 {
		t.Errorf("alice hears her own tone at %.0f; want it left out of her mix", alice)
	}
}

// goertzel returns the amplitude of frequency f in x sampled at rate.
func goertzel(x []int16, f, rate float64) float64 {
	w := 2 * math.Pi * f / rate
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range x {
		s0 := float64(v) + c*s1 - s2
		s2, s1 = s1, s0
	}
	return 2 * math.Sqrt(math.Max(0, s1*s1+s2*s2-c*s1*s2)) / float64(len(x))
}

// TestThePINPromptIsSpokenThroughTheLegsCodec plays the prompt through the
// real encoders: the leg gets one frame every 20 ms, and decoded it is speech.
func TestThePINPromptIsSpokenThroughTheLegsCodec(t *testing.T) {
	for _, codec := range []media.AudioCodec{media.PCMU, media.PCMA, media.G722, media.Opus} {
		t.Run(codec.String(), func(t *testing.T) {
			if enc, err := media.NewEncoder(codec); err != nil {
				t.Skipf("bridge/media cannot encode %s yet: %v", codec, err)
			} else {
				_ = enc.Close()
			}
			h := newHarness(t, Config{})
			h.b.newEncoder = mediaEncoder
			leg := &fakeLeg{info: LegInfo{Protocol: ProtocolSIP}, codec: codec, keep: true}
			if _, err := h.b.Admit(context.Background(), pinRoom("1234", "5678"), leg); err != nil {
				t.Fatal(err)
			}
			h.clock.Advance(3*time.Second, 20*time.Millisecond)
			waitFor(t, "150 frames of prompt", func() bool { return len(leg.received()) >= 150 })
			got := leg.received()
			if len(got) != 150 {
				t.Fatalf("%d frames in 3 s; want 150, one per 20 ms", len(got))
			}
			dec, err := media.NewDecoder(codec)
			if err != nil {
				t.Fatal(err)
			}
			out := make([]int16, media.FrameSamples)
			var sum float64
			var n int
			for _, p := range got {
				k, err := dec.Decode(p, out)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range out[:k] {
					sum += float64(s) * float64(s)
				}
				n += k
			}
			if rms := math.Sqrt(sum / float64(n)); rms < 300 {
				t.Errorf("decoded prompt RMS %.0f; want speech (above 300)", rms)
			}
		})
	}
}

// On the system clock the mixers tick on the bridge's frame beat, each
// tick after the BeforeMix hooks of the same beat (the SIP legs' drains), so
// a tick never misses what was drained for it.
func TestMixerTicksAfterTheBeforeMixHooks(t *testing.T) {
	b := &Bridge{clock: SystemClock{}}
	var hooks atomic.Int64
	remove := b.BeforeMix(func() { hooks.Add(1) })
	tk := mediaClock{SystemClock{}, &b.beat}.NewTicker(media.FrameDuration)
	for i := range 5 {
		<-tk.C()
		if n := hooks.Load(); n < int64(i+1) {
			t.Fatalf("tick %d came after %d runs of the hook; want the hook first on every beat", i+1, n)
		}
	}
	tk.Stop()
	remove()
	after := hooks.Load()
	b.beat.mu.Lock()
	running := b.beat.stop != nil
	b.beat.mu.Unlock()
	if running {
		t.Error("the beat still runs with no hook and no ticker")
	}
	if hooks.Load() != after {
		t.Error("the hook ran after its remove function returned")
	}
}
