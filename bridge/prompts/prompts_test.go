package prompts

import (
	"math"
	"testing"
)

func TestEveryPromptIsSpeechOfAPlausibleLength(t *testing.T) {
	for _, n := range All {
		t.Run(string(n), func(t *testing.T) {
			pcm, err := PCM48(n)
			if err != nil {
				t.Fatal(err)
			}
			if len(pcm)%FrameSamples != 0 {
				t.Errorf("%d samples: not a whole number of 20 ms frames", len(pcm))
			}
			secs := float64(len(pcm)) / 48000
			if secs < 0.5 || secs > 10 {
				t.Errorf("prompt lasts %.2f s; want between 0.5 and 10 s", secs)
			}
			// Speech, not silence: a clearly audible RMS level.
			var sum float64
			for _, s := range pcm {
				sum += float64(s) * float64(s)
			}
			rms := math.Sqrt(sum / float64(len(pcm)))
			if rms < 300 {
				t.Errorf("RMS level %.0f; want speech (above 300)", rms)
			}
		})
	}
}

func TestUnknownPromptIsAnError(t *testing.T) {
	if _, err := PCM48("no_such_prompt"); err == nil {
		t.Fatal("PCM48 of an unknown prompt: no error")
	}
}

// TestUpsamplingKeepsATone checks the 16 → 48 kHz filter: a 1 kHz tone keeps its
// level and frequency (Goertzel at 48 kHz) and gains no image at 15 kHz.
func TestUpsamplingKeepsATone(t *testing.T) {
	in := make([]int16, sourceRate) // one second
	for i := range in {
		in[i] = int16(10000 * math.Sin(2*math.Pi*1000*float64(i)/sourceRate))
	}
	out := upsample3(in)[upTaps:] // skip the filter's start-up
	tone := goertzel(out, 1000, 48000)
	image := goertzel(out, 15000, 48000) // 16 kHz − 1 kHz: the first image
	if tone < 0.9*10000 || tone > 1.1*10000 {
		t.Errorf("1 kHz amplitude after upsampling %.0f; want about 10000", tone)
	}
	if image > 0.01*tone {
		t.Errorf("15 kHz image amplitude %.0f; want below 1%% of the tone (%.0f)", image, tone)
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
	p := s1*s1 + s2*s2 - c*s1*s2
	return 2 * math.Sqrt(p) / float64(len(x))
}
