package media

// fadePLC conceals lost frames of codecs without their own concealment
// (G.711, G.722): it repeats the last good 20 ms frame with a gain falling
// linearly from 1 to 0 over plcFadeFrames frames, then gives silence. The
// repetition bridges a single loss without a gap; the fade keeps a burst from
// becoming a buzz. It works at the codec's own rate: frame is the number of
// samples in 20 ms.
type fadePLC struct {
	frame  int
	last   [FrameSamples]int16
	have   bool
	missed int // consecutive frames concealed
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
	total := plcFadeFrames * p.frame
	start := p.missed * p.frame
	for i, s := range p.last[:p.frame] {
		g := total - (start + i) // remaining fade, total..1
		out[i] = int16(int(s) * g / total)
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
