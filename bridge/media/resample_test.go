package media

import (
	"fmt"
	"testing"
)

// A tone above the lower rate's Nyquist frequency must be removed before
// decimation, not folded back into the band as an alias; a tone in the pass
// band must come through at unity gain.
func TestResamplerRejectsAliases(t *testing.T) {
	tests := []struct {
		from, to     int
		pass, reject float64 // Hz
	}{
		{48000, 8000, 1000, 6000},   // 6 kHz would alias to 2 kHz
		{48000, 8000, 3000, 4700},   // just past the transition band: alias at 3.3 kHz
		{48000, 16000, 2000, 11000}, // would alias to 5 kHz
		{48000, 16000, 6000, 8700},  // would alias to 7.3 kHz
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d to %d Hz", tt.from, tt.to), func(t *testing.T) {
			gain := func(freq float64) float64 {
				r := NewResampler(tt.from, tt.to)
				in := make([]int16, FrameSamples)
				out := make([]int16, FrameSamples)
				var all []int16
				for f := range 10 {
					tone(in, freq, 16000, tt.from, f*FrameSamples)
					n := r.Process(in, out)
					all = append(all, out[:n]...)
				}
				steady := all[len(all)/2:]
				alias := freq
				if freq > float64(tt.to)/2 {
					alias = float64(tt.to) - freq
				}
				return power(steady, alias, tt.to) - power(make16(16000, freq, tt.from), freq, tt.from)
			}
			if g := gain(tt.pass); g < -1 || g > 1 {
				t.Errorf("a %.0f Hz tone passes with gain %.2f dB; want within ±1 dB", tt.pass, g)
			}
			if g := gain(tt.reject); g > -50 {
				t.Errorf("a %.0f Hz tone aliases at %.1f dB; want below -50 dB", tt.reject, g)
			}
		})
	}
}

func make16(amp, freq float64, rate int) []int16 {
	s := make([]int16, 4*FrameSamples)
	tone(s, freq, amp, rate, 0)
	return s
}

// Interpolation reproduces a pass-band tone and leaves no image above the
// original Nyquist frequency.
func TestResamplerInterpolates(t *testing.T) {
	for _, from := range []int{8000, 16000} {
		t.Run(fmt.Sprintf("%d to 48000 Hz", from), func(t *testing.T) {
			r := NewResampler(from, SampleRate)
			n := FrameSamples * from / SampleRate
			in := make([]int16, n)
			out := make([]int16, FrameSamples)
			var all []int16
			for f := range 10 {
				tone(in, 1000, 16000, from, f*n)
				all = append(all, out[:r.Process(in, out)]...)
			}
			steady := all[len(all)/2:]
			ref := power(make16(16000, 1000, SampleRate), 1000, SampleRate)
			if g := power(steady, 1000, SampleRate) - ref; g < -1 || g > 1 {
				t.Errorf("1 kHz passes with gain %.2f dB; want within ±1 dB", g)
			}
			image := float64(from) - 1000
			if g := power(steady, image, SampleRate) - ref; g > -50 {
				t.Errorf("the image at %.0f Hz is at %.1f dB; want below -50 dB", image, g)
			}
		})
	}
}
