package media

import "sync"

// Narrowband mixing. When every port of a room is G.711 (PCMU or PCMA:
// 8 kHz, ITU-T G.711), the mixer mixes at 8 kHz: ports decode straight to
// 8 kHz PCM, the mix and each speaker's mix-minus are summed at 8 kHz, and
// the encoders compand them straight to G.711. Nothing is resampled. When a
// wideband port (Opus, G.722) is in the room, the mixer works at 48 kHz as
// before; the room changes rate at the tick the port joins, and back at the
// tick after it has left (its fade-out is mixed at 48 kHz), so a room of
// telephone callers that a browser visited costs again what it cost before.
//
// The two paths are aligned in time so the change is seamless (no click, no
// gap, no repeated or skipped audio). At 48 kHz a G.711 input goes through
// the 8→48 kHz interpolator and the 48→8 kHz decimator, each a linear-phase
// FIR filter of 192 taps at 48 kHz (Resampler): 95.5 samples of delay each,
// together 31.8 samples at 8 kHz. The narrow path delays by the same,
// rounded to 16 + 16 samples at 8 kHz, in the same two places:
//
//   - at the input, a port mixed at 8 kHz contributes its decoded frame
//     delayed by narrowDelay samples, taken from the interpolator's history
//     (which the port keeps current at either rate, so a change of rate
//     finds it ready);
//   - at the output, a G.711 encoder given 8 kHz frames (encodeNarrow)
//     delays them by narrowDelay samples. On a change of rate it converts
//     its history: from 48 kHz, the decimator's history is sampled every
//     sixth sample; to 48 kHz, the decimator's history is rebuilt from the
//     8 kHz history with the 8→48 kHz interpolator's filter. The history
//     only shapes the first milliseconds of the first frame.
//
// What remains is a difference of a sixth of an 8 kHz sample between the
// two delays (31.8 against 32 samples): 7.5° of phase at 1 kHz. Going to
// 48 kHz, the encoder fades over 2 ms from what its delay line held (the
// narrow path's next 16 samples) into the decimator's output, so that step
// is spread; going to 8 kHz, the delay line rebuilt from the decimator's
// history already sits between the two.
//
// Prompts and tones the bridge plays (bridge/prompts, the PIN IVR) are
// encoded by an Encoder of their own from 48 kHz PCM, outside the mixer, so
// they do not depend on the room's rate.

// narrowFrame is the number of 8 kHz samples in a 20 ms frame.
const narrowFrame = FrameSamples / 6

// narrowDelay is each half of the narrow path's delay in 8 kHz samples: the
// group delay of the 8↔48 kHz filters (95.5 samples at 48 kHz), rounded.
const narrowDelay = 16

// narrowHist is how many 8 kHz input samples a G.711 encoder keeps in
// narrow mode: its delay line, and what the interpolator needs to rebuild
// the decimator's history (191 samples at 48 kHz, 32 at 8 kHz, and the
// interpolator's 32 taps before them).
const narrowHist = 64

// narrowRoom reports whether this tick's ports can all be mixed at 8 kHz.
// Mixer goroutine only.
func (m *Mixer) narrowRoom() bool {
	if m.cfg.AlwaysWideband {
		return false
	}
	for _, p := range m.snap {
		if _, ok := p.native.(*g711Decoder); !ok {
			return false
		}
	}
	return true
}

// narrowInput makes p.pcm[:narrowFrame], this tick's 8 kHz frame delayed by
// narrowDelay samples, when the port is mixed, and keeps the interpolator's
// history current either way, so that the port can be mixed at 48 kHz at the
// next tick without a seam. p.native is a *g711Decoder.
func (p *Port) narrowInput(mixed bool) {
	up := p.native.upsampler()
	if mixed {
		// The history holds the last len(hist) input samples, the newest last.
		h := up.hist[len(up.hist)-narrowDelay:]
		for i, v := range h {
			p.pcm[i] = int16(v) // exact: the history holds int16 samples
		}
		copy(p.pcm[narrowDelay:narrowFrame], p.nat[:narrowFrame-narrowDelay])
	}
	up.Feed(p.nat[:narrowFrame])
}

// narrowEncoder is an Encoder that can also take 8 kHz frames: the G.711
// encoder in a room mixed at 8 kHz.
type narrowEncoder interface {
	// encodeNarrow encodes narrowFrame samples of 8 kHz PCM.
	encodeNarrow(pcm8 []int16, dst []byte) (int, error)
}

// encodeNarrow compands an 8 kHz frame, delayed by narrowDelay samples so it
// keeps time with Encode's decimator.
func (e *g711Encoder) encodeNarrow(pcm8 []int16, dst []byte) (int, error) {
	if len(pcm8) != narrowFrame {
		return 0, ErrFrameSize
	}
	if len(dst) < narrowFrame {
		return 0, ErrShortBuffer
	}
	if !e.narrow {
		e.enterNarrow()
	}
	copy(e.pcm8[:narrowDelay], e.hist8[narrowHist-narrowDelay:])
	copy(e.pcm8[narrowDelay:], pcm8[:narrowFrame-narrowDelay])
	copy(e.hist8[:], pcm8[narrowFrame-narrowHist:])
	compand(e.table, e.pcm8[:], dst)
	return narrowFrame, nil
}

// enterNarrow builds the 8 kHz history from the decimator's 48 kHz history:
// sample i of hist8 sits 6·(narrowHist-i) samples at 48 kHz before the
// frame. The decimator's history reaches back 191 samples, 32 at 8 kHz:
// enough for the delay line; the older half is needed only to leave narrow
// mode again, after the next encodeNarrow has refilled it.
func (e *g711Encoder) enterNarrow() {
	h := e.down.hist // the last len(h) samples at 48 kHz, the newest last
	n := len(h)
	for i := range e.hist8 {
		j := min(max(n-6*(narrowHist-i), 0), n-1)
		e.hist8[i] = clip16(h[j])
	}
	e.narrow = true
}

// crossfade fades dst in from from, linearly over len(dst) samples:
// dst[i] becomes from[i] weighted by (n-i)/(n+1) plus dst[i] by (i+1)/(n+1).
func crossfade(dst, from []int16) {
	n := float32(len(dst) + 1)
	for i := range dst {
		w := float32(i+1) / n
		dst[i] = clip16(float32(from[i])*(1-w) + float32(dst[i])*w)
	}
}

// narrowUp is the 8→48 kHz interpolator whose coefficients leaveNarrow
// uses (read only: its Process is never called).
var narrowUp = sync.OnceValue(func() *Resampler { return NewResampler(8000, SampleRate) })

// leaveNarrow rebuilds the decimator's 48 kHz history, given the first
// 48 kHz frame: it is what the 8→48 kHz interpolator makes of the 8 kHz
// history followed by the frame's first narrowDelay samples taken every
// sixth (the interpolator looks ahead by its group delay), read out one
// group delay late, so that it keeps time with the frame.
func (e *g711Encoder) leaveNarrow(pcm48 []int16) {
	var ext [narrowHist + narrowDelay]float32
	for i, v := range e.hist8 {
		ext[i] = float32(v)
	}
	for i := range narrowDelay {
		ext[narrowHist+i] = float32(pcm48[6*i])
	}
	up := narrowUp()
	L, T := up.factor, up.taps
	h := e.down.hist
	n := len(h)
	for j := range h {
		// ext[q] sits 6·(narrowHist-q) samples at 48 kHz before the frame,
		// history sample j n-j samples before it; the interpolator's
		// output m stands for ext at (m-95.5)/6.
		m := 6*narrowHist - (n - j) + (L*T)/2
		k, ph := m/L, m%L
		var acc float32
		for i, c := range up.h[ph*T : ph*T+T] {
			acc += c * ext[k-i]
		}
		h[j] = acc
	}
	e.narrow = false
}
