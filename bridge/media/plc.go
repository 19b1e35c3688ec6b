package media

import "math"

// fadePLC conceals lost frames of codecs without their own concealment
// (G.711, G.722), in the manner of G.711 Appendix I: it finds the pitch
// period of the last good 20 ms frame by autocorrelation and continues the
// waveform by repeating its last period, so voiced speech and tones carry on
// without a jump at the frame edge, with a gain falling linearly from 1 to 0
// over plcFadeFrames frames, then silence. The repetition bridges a single
// loss without a gap; the fade keeps a burst from becoming a buzz. It works at
// the codec's own rate: frame is the number of samples in 20 ms.
type fadePLC struct {
	frame  int
	last   [FrameSamples]int16
	have   bool
	missed int // consecutive frames concealed
	period int // pitch period of last, found at the first loss
	pos    int // position in the repeated period
}

// pitch finds the lag between 2.5 and 15 ms (400 to 67 Hz) at which the last
// frame best matches itself (normalised autocorrelation over its second half).
func (p *fadePLC) pitch() int {
	n := p.frame
	lo, hi := n/8, n*3/4 // 2.5 ms, 15 ms
	best, bestLag := -1.0, hi
	x := p.last[:n]
	w := n / 4 // compare the last quarter with its lagged copy
	for lag := lo; lag <= hi && lag+w <= n; lag++ {
		var xy, yy float64
		for i := n - w; i < n; i++ {
			a, b := float64(x[i]), float64(x[i-lag])
			xy += a * b
			yy += b * b
		}
		if yy == 0 {
			continue
		}
		if c := xy / math.Sqrt(yy); c > best {
			best, bestLag = c, lag
		}
	}
	return bestLag
}

// plcFadeFrames is how many concealed frames it takes to fade to silence (60 ms).
const plcFadeFrames = 3

func (p *fadePLC) remember(pcm []int16) {
	if len(pcm) >= p.frame {
		copy(p.last[:p.frame], pcm[len(pcm)-p.frame:])
		p.have = true
	}
	p.missed = 0
}

// conceal writes one frame and returns its length.
func (p *fadePLC) conceal(dst []int16) (int, error) {
	if len(dst) < p.frame {
		return 0, ErrShortBuffer
	}
	out := dst[:p.frame]
	if !p.have || p.missed >= plcFadeFrames {
		clear(out)
		p.missed++
		return p.frame, nil
	}
	if p.missed == 0 {
		p.period = p.pitch()
		p.pos = 0
	}
	total := plcFadeFrames * p.frame
	start := p.missed * p.frame
	base := p.frame - p.period
	for i := range out {
		g := total - (start + i) // remaining fade, total..1
		out[i] = int16(int(p.last[base+p.pos]) * g / total)
		if p.pos++; p.pos == p.period {
			p.pos = 0
		}
	}
	p.missed++
	return p.frame, nil
}

// A nativeDecoder decodes at its codec's own rate below 48 kHz. The mixer
// decodes every port this way, measures its level there, and runs the
// upsampler in full only for the ports it mixes; for the others it only
// feeds the upsampler's history, so a listener costs a decode, not a
// resampling.
type nativeDecoder interface {
	Decoder
	// rate is the codec's sampling rate.
	rate() int
	// decodeNative is Decode without the upsampling.
	decodeNative(payload []byte, pcm []int16) (int, error)
	// concealNative is Conceal without the upsampling.
	concealNative(pcm []int16) (int, error)
	// upsampler turns native-rate output into 48 kHz, keeping its history.
	upsampler() *Resampler
}
