package media

import (
	"math"
	"testing"
)

// tone fills dst with a sine of freq Hz at amplitude amp, sampled at rate,
// continuing from sample index start.
func tone(dst []int16, freq float64, amp float64, rate int, start int) {
	for i := range dst {
		dst[i] = int16(amp * math.Sin(2*math.Pi*freq*float64(start+i)/float64(rate)))
	}
}

// power is the Goertzel power of freq in pcm, normalised so a full-scale sine
// gives about 0 dB; it returns dB.
func power(pcm []int16, freq float64, rate int) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	for _, x := range pcm {
		s0 := float64(x)/32768 + c*s1 - s2
		s2, s1 = s1, s0
	}
	p := s1*s1 + s2*s2 - c*s1*s2
	n := float64(len(pcm))
	return 10 * math.Log10(p/(n*n/4)+1e-20)
}

// snr is the signal-to-noise ratio in dB of got against want.
func snr(want, got []int16) float64 {
	var sig, noise float64
	for i := range want {
		d := float64(want[i]) - float64(got[i])
		sig += float64(want[i]) * float64(want[i])
		noise += d * d
	}
	return 10 * math.Log10(sig/(noise+1e-9))
}

// bestLagSNR is the SNR of got against want after aligning got by the delay
// (0..maxLag samples) that maximises it, for codecs with a group delay.
func bestLagSNR(t *testing.T, want, got []int16, maxLag int) (float64, int) {
	t.Helper()
	best, lag := math.Inf(-1), 0
	for l := 0; l <= maxLag && l < len(got); l++ {
		n := min(len(want), len(got)-l)
		if s := snr(want[:n], got[l:l+n]); s > best {
			best, lag = s, l
		}
	}
	return best, lag
}
