package media

import (
	"math"
	"testing"
)

func rms(pcm []int16) float64 {
	var e float64
	for _, s := range pcm {
		e += float64(s) * float64(s)
	}
	return math.Sqrt(e / float64(len(pcm)))
}

// G.711 and G.722 conceal a lost frame by repeating the last one, fading to
// silence over three frames; a decoder that never decoded conceals with silence.
func TestFadeConcealment(t *testing.T) {
	for _, c := range []AudioCodec{PCMU, PCMA, G722} {
		t.Run(c.String(), func(t *testing.T) {
			enc, _ := NewEncoder(c)
			dec, _ := NewDecoder(c)
			pcm := make([]int16, MaxFrameSamples)
			if _, err := dec.Conceal(pcm); err != nil || rms(pcm[:FrameSamples]) != 0 {
				t.Fatalf("concealment before any audio: rms %.0f, %v; want silence", rms(pcm[:FrameSamples]), err)
			}
			in := make([]int16, FrameSamples)
			pay := make([]byte, MaxPayload)
			for f := range 5 {
				tone(in, 500, 8000, SampleRate, f*FrameSamples)
				n, _ := enc.Encode(in, pay)
				_, _ = dec.Decode(pay[:n], pcm)
			}
			last := rms(pcm[:FrameSamples])
			var got []float64
			for range 4 {
				if n, err := dec.Conceal(pcm); err != nil || n != FrameSamples {
					t.Fatalf("conceal: %d, %v", n, err)
				}
				got = append(got, rms(pcm[:FrameSamples])/last)
			}
			if got[0] < 0.6 || got[0] > 1 || got[1] >= got[0] || got[2] >= got[1] || got[3] > 0.05 {
				t.Errorf("concealed frames at %.2f of the last frame's level; want a fade from about 0.8 to 0, then silence (but for the resampler's ringing)", got)
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	sum := []int32{0, 1000, -1000, limiterKnee, -limiterKnee, 40000, -40000, 100000, -100000, 6 * 32767, -6 * 32768}
	out := make([]int16, len(sum))
	limitInto(out, sum)
	for i := range 5 {
		if int32(out[i]) != sum[i] {
			t.Errorf("%d below the knee became %d; want it unchanged", sum[i], out[i])
		}
	}
	for i := 5; i < len(sum); i += 2 {
		if out[i] <= limiterKnee || out[i] == 32767 || out[i+1] != -out[i] {
			t.Errorf("%d, %d became %d, %d; want symmetric values between the knee and full scale, never reaching it", sum[i], sum[i+1], out[i], out[i+1])
		}
		if i+2 < len(sum) && out[i+2] <= out[i] {
			t.Errorf("limiting is not monotonic: %d → %d but %d → %d", sum[i], out[i], sum[i+2], out[i+2])
		}
	}
}

// The concealed frame continues a tone's waveform from where the last frame
// ended (a tone whose period does not divide 20 ms, so a plain repeat of the
// frame would jump).
func TestConcealmentContinuesTheWaveform(t *testing.T) {
	p := fadePLC{frame: 160}
	in := make([]int16, 160)
	tone(in, 330, 8000, 8000, 0)
	p.remember(in)
	out := make([]int16, 160)
	if _, err := p.conceal(out); err != nil {
		t.Fatal(err)
	}
	steady := maxStep(in)
	if jump := max(int(out[0])-int(in[159]), int(in[159])-int(out[0])); jump > steady+steady/4 {
		t.Errorf("the concealed frame starts %d away from the last sample; a 330 Hz tone moves at most %d per sample", jump, steady)
	}
	want := make([]int16, 160)
	tone(want, 330, 8000, 8000, 160)
	// Scale the truth by the fade (1 → 2/3 over the first frame) before comparing.
	for i := range want {
		want[i] = int16(float64(want[i]) * float64(3*160-i) / float64(3*160))
	}
	if s := snr(want, out); s < 15 {
		t.Errorf("the concealed frame matches the tone's continuation at %.1f dB SNR; want above 15 dB", s)
	}
}
