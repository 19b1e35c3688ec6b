package media

import "sync/atomic"

// silenceGate stands in front of a port's Opus decoder and skips decoding
// the packets of a participant nobody hears: while the port is idle (not a
// mixed speaker and not fading in or out of the mix), a packet its sender's
// encoder marked as voice-inactive, or a DTX packet (inspectOpus), is not
// decoded and counts as 20 ms of silence. The mixer never needs those
// samples, and a sender with DTX on would not have sent them at all.
//
// Packets that carry voice, that carry no VAD flag (CELT-only), or that
// arrive while the port is mixed are decoded as before, so speech onset is
// decoded in the tick its first packet is played out. The decoder's state
// stays valid across a skipped run: when it resumes, it first runs what a
// lost run ends with (RFC 6716 §4.4 / libopus: in-band FEC of the previous
// frame from the resuming packet, concealment when there is none), then
// decodes the packet, exactly as after a burst of loss.
//
// Mixer goroutine only.
type silenceGate struct {
	dec *opusDecoder

	// idle is set by the mixer before each fill: the port's samples are not
	// mixed this tick, only measured.
	idle bool
	// stale: packets were skipped since the decoder last ran.
	stale bool
	// resumed: the decoder ran again after a skip during this fill; the
	// frame's level is a fresh measurement after a gap, not a continuation.
	resumed bool
	// decoded: the decoder ran during this fill (the mixer clears it); when
	// it did not, the frame is silence and its level need not be measured.
	decoded bool

	skips   *atomic.Uint64 // the mixer's count of skipped decodes
	scratch [FrameSamples]int16
}

func newSilenceGate(dec *opusDecoder, skips *atomic.Uint64) *silenceGate {
	return &silenceGate{dec: dec, skips: skips}
}

func (g *silenceGate) Codec() AudioCodec { return Opus }

// skip writes n samples of silence and leaves the decoder behind.
func (g *silenceGate) skip(pcm48 []int16, n int) (int, error) {
	clear(pcm48[:n])
	g.stale = true
	g.skips.Add(1)
	return n, nil
}

// resume runs the decoder across the skipped run before it decodes payload.
func (g *silenceGate) resume(payload []byte) {
	g.stale = false
	g.resumed = true
	_, _ = g.dec.DecodeFEC(payload, g.scratch[:])
}

// ran notes that the decoder ran during this fill.
func (g *silenceGate) ran() { g.decoded = true }

// Decode decodes payload unless the port is idle and payload is silence.
func (g *silenceGate) Decode(payload []byte, pcm48 []int16) (int, error) {
	if g.idle {
		if n, act := inspectOpus(payload); act == opusInactive && n <= len(pcm48) {
			return g.skip(pcm48, n)
		}
	}
	if g.stale && len(payload) > 0 {
		g.resume(payload)
	}
	g.ran()
	return g.dec.Decode(payload, pcm48)
}

// Conceal stands in for a lost packet; an idle port's stand-in is silence.
func (g *silenceGate) Conceal(pcm48 []int16) (int, error) {
	if g.idle {
		if len(pcm48) < FrameSamples {
			return 0, ErrShortBuffer
		}
		return g.skip(pcm48, FrameSamples)
	}
	if g.stale {
		// Concealment is the decoder's answer to a gap: it catches up.
		g.stale = false
		g.resumed = true
	}
	g.ran()
	return g.dec.Conceal(pcm48)
}

// DecodeFEC rebuilds the frame before next; for an idle port whose next
// packet is silence, the frame is silence.
func (g *silenceGate) DecodeFEC(next []byte, pcm48 []int16) (int, error) {
	if g.idle {
		if _, act := inspectOpus(next); act == opusInactive {
			if len(pcm48) < FrameSamples {
				return 0, ErrShortBuffer
			}
			return g.skip(pcm48, FrameSamples)
		}
	}
	if g.stale {
		// The FEC (or concealment) of a lost frame is itself how a
		// decoder resumes after a gap.
		g.stale = false
		g.resumed = true
	}
	g.ran()
	return g.dec.DecodeFEC(next, pcm48)
}

func (g *silenceGate) Close() error { return g.dec.Close() }
