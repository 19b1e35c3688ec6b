package media

// fadePLC conceals lost frames of codecs without their own concealment
// (G.711, G.722): it repeats the last good 20 ms frame with a gain falling
// linearly from 1 to 0 over plcFadeFrames frames, then gives silence. The
// repetition bridges a single loss without a gap; the fade keeps a burst from
// becoming a buzz.
type fadePLC struct {
	last   [FrameSamples]int16
	have   bool
	missed int // consecutive frames concealed
}

// plcFadeFrames is how many concealed frames it takes to fade to silence (60 ms).
const plcFadeFrames = 3

func (p *fadePLC) remember(pcm []int16) {
	if len(pcm) >= FrameSamples {
		copy(p.last[:], pcm[len(pcm)-FrameSamples:])
		p.have = true
	}
	p.missed = 0
}

func (p *fadePLC) conceal(pcm48 []int16) (int, error) {
	if len(pcm48) < FrameSamples {
		return 0, ErrShortBuffer
	}
	out := pcm48[:FrameSamples]
	if !p.have || p.missed >= plcFadeFrames {
		clear(out)
		p.missed++
		return FrameSamples, nil
	}
	const total = plcFadeFrames * FrameSamples
	start := p.missed * FrameSamples
	for i, s := range p.last {
		g := total - (start + i) // remaining fade, total..1
		out[i] = int16(int(s) * g / total)
	}
	p.missed++
	return FrameSamples, nil
}
