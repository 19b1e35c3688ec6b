package media

import (
	"fmt"
	"math"
)

// A Resampler converts 16-bit mono PCM between two rates whose ratio is an
// integer (8, 16 and 48 kHz here) with a polyphase FIR low-pass filter: a
// Kaiser-windowed sinc (β = 7, about 70 dB stop-band rejection) whose cut-off
// sits just under the lower rate's Nyquist frequency, so that tones above it
// are removed before decimation instead of folding back as aliases, and
// interpolation images are removed after zero-stuffing. It keeps the input
// history between calls, so consecutive frames join without a seam. It is not
// safe for concurrent use.
type Resampler struct {
	factor int       // L (up) or M (down)
	up     bool      // interpolating
	taps   int       // taps per phase
	h      []float32 // polyphase coefficients: h[p*taps+i]
	hist   []float32 // the last taps*factor-1 (down) or taps-1 (up) input samples
	buf    []float32 // hist followed by the current input
	// passthrough for equal rates
	same bool
}

// NewResampler returns a resampler from one rate to another; the larger must
// be an integer multiple of the smaller. It panics otherwise: the rates are
// the package's own constants, never outside input.
func NewResampler(from, to int) *Resampler {
	if from == to {
		return &Resampler{same: true}
	}
	r := &Resampler{}
	high, low := from, to
	r.up = to > from
	if r.up {
		high, low = to, from
	}
	if high%low != 0 {
		panic(fmt.Sprintf("media: no integer ratio between %d and %d Hz", from, to))
	}
	r.factor = high / low
	// Taps per phase: more for the smaller ratio, whose transition band is
	// narrower in absolute terms relative to the high rate.
	r.taps = 32
	cutoff := 0.4875 // of the low rate: 3900 Hz at 8 kHz
	if r.factor <= 3 {
		r.taps = 48
		cutoff = 0.47 // 7520 Hz at 16 kHz
	}
	n := r.factor * r.taps
	proto := kaiserSinc(n, cutoff/float64(r.factor), 7)
	gain := 1.0
	if r.up {
		gain = float64(r.factor)
	}
	// Normalise the DC gain, then split into phases.
	var sum float64
	for _, v := range proto {
		sum += v
	}
	r.h = make([]float32, n)
	if r.up {
		// Output phase p uses proto[p + i*L] against x[k-i].
		for p := 0; p < r.factor; p++ {
			for i := 0; i < r.taps; i++ {
				r.h[p*r.taps+i] = float32(proto[p+i*r.factor] * gain / sum)
			}
		}
		r.hist = make([]float32, r.taps-1)
	} else {
		for i, v := range proto {
			r.h[i] = float32(v / sum)
		}
		r.hist = make([]float32, n-1)
	}
	r.buf = make([]float32, len(r.hist)+MaxFrameSamples)
	return r
}

// kaiserSinc designs an n-tap low-pass prototype with cut-off fc (cycles per
// sample) windowed by a Kaiser window of shape beta.
func kaiserSinc(n int, fc, beta float64) []float64 {
	h := make([]float64, n)
	mid := float64(n-1) / 2
	i0b := besselI0(beta)
	for i := range h {
		x := float64(i) - mid
		s := 2 * fc
		if x != 0 {
			s = math.Sin(2*math.Pi*fc*x) / (math.Pi * x)
		}
		r := x / mid
		w := besselI0(beta*math.Sqrt(max(0, 1-r*r))) / i0b
		h[i] = s * w
	}
	return h
}

// besselI0 is the zeroth-order modified Bessel function of the first kind,
// by its power series.
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < 1e-12*sum {
			break
		}
	}
	return sum
}

// OutLen is the number of output samples Process gives for n input samples.
func (r *Resampler) OutLen(n int) int {
	switch {
	case r.same:
		return n
	case r.up:
		return n * r.factor
	default:
		return n / r.factor
	}
}

// Process resamples in into out and returns the number of samples written. For
// decimation len(in) should be a multiple of the factor (a 20 ms frame always
// is); a remainder is dropped. It panics if out is shorter than OutLen(len(in))
// or in longer than MaxFrameSamples, both programming errors.
func (r *Resampler) Process(in []int16, out []int16) int {
	if r.same {
		return copy(out, in)
	}
	nh := len(r.hist)
	buf := r.buf[:nh+len(in)]
	copy(buf, r.hist)
	for i, s := range in {
		buf[nh+i] = float32(s)
	}
	var n int
	if r.up {
		n = len(in) * r.factor
		out = out[:n]
		L, T := r.factor, r.taps
		for k := range in {
			// x[k-i] is buf[nh+k-i]; window w[j] = buf[k+j] with i = T-1-j.
			w := buf[k : k+T]
			for p := 0; p < L; p++ {
				hp := r.h[p*T : p*T+T]
				var acc float32
				for i, c := range hp {
					acc += c * w[T-1-i]
				}
				out[k*L+p] = clip16(acc)
			}
		}
	} else {
		n = len(in) / r.factor
		out = out[:n]
		N := len(r.h)
		for k := range n {
			// y[k] = Σ h[j] x[kM - j]; x[m] is buf[nh+m].
			w := buf[k*r.factor+nh+1-N : k*r.factor+nh+1]
			var acc float32
			for j, c := range r.h {
				acc += c * w[N-1-j]
			}
			out[k] = clip16(acc)
		}
	}
	copy(r.hist, buf[len(buf)-nh:])
	return n
}

// Feed takes input into the history without producing output: for a
// stream whose output is not needed this tick, so the next Process joins
// without a seam at a fraction of the cost.
func (r *Resampler) Feed(in []int16) {
	if r.same {
		return
	}
	nh := len(r.hist)
	if len(in) >= nh {
		for i, s := range in[len(in)-nh:] {
			r.hist[i] = float32(s)
		}
		return
	}
	copy(r.hist, r.hist[len(in):])
	for i, s := range in {
		r.hist[nh-len(in)+i] = float32(s)
	}
}

// Reset forgets the input history.
func (r *Resampler) Reset() { clear(r.hist) }

// copyStateFrom takes over another resampler's history (same rates).
func (r *Resampler) copyStateFrom(o *Resampler) {
	copy(r.hist, o.hist)
}

// clip16 rounds and saturates a sample to int16.
func clip16(v float32) int16 {
	if v >= 32767 {
		return 32767
	}
	if v <= -32768 {
		return -32768
	}
	if v < 0 {
		return int16(v - 0.5)
	}
	return int16(v + 0.5)
}
