package video

import "time"

// ClockRate is the RTP clock rate of video (RFC 6184 §8.2.1: 90 kHz).
const ClockRate = 90000

// lateWindow is how many packets after a switch a late packet of the new
// source from before the switch point is still recognised and dropped.
const lateWindow = 1024

// Rewriter turns the packets of a succession of source streams into one
// continuous outgoing stream for one receiver (RFC 3550 §5.1): each time the
// source changes, it anchors new offsets so that the outgoing sequence number
// follows the highest one sent by exactly one and the outgoing timestamp
// moves on by the wall-clock time elapsed since that packet (at least one
// tick), so the receiver's decoder and jitter buffer see neither a gap nor a
// jump back. Within one source the offsets are constant: the source's own
// reordering and losses pass through unchanged. Sequence numbers and
// timestamps wrap around modulo 2^16 and 2^32.
//
// To send a packet of its own ahead of the switch packet (parameter sets
// before an IDR), the caller rewrites it as the new source's packet seq-1
// right after Switch; the switch packet then follows it by one.
//
// The zero Rewriter starts its outgoing stream at the first source's own
// numbers. It does not allocate.
type Rewriter struct {
	started bool
	anchor  bool // re-anchor on the next packet
	ssrc    uint32
	seqOff  uint16
	tsOff   uint32
	floor   uint16 // the source's first sequence number after the anchor
	guard   int    // packets left during which those before floor are dropped
	lastSeq uint16 // highest outgoing sequence number sent
	lastTS  uint32 // outgoing timestamp of the packet with lastSeq
	lastAt  time.Time
}

// Switch says that the next packet comes from a new source: it re-anchors
// the offsets even if the new source has the same SSRC as the old one.
func (w *Rewriter) Switch() { w.anchor = true }

// Rewrite returns the outgoing sequence number and timestamp of a packet of
// the current source received at now. A packet with another SSRC than the
// previous one starts a new source, as after Switch. ok is false for a late
// packet of the source from before the point where it was switched to: it
// must not be sent (its number would collide with the previous source's).
func (w *Rewriter) Rewrite(ssrc uint32, seq uint16, ts uint32, now time.Time) (outSeq uint16, outTS uint32, ok bool) {
	switch {
	case !w.started:
		w.started = true
		w.ssrc = ssrc
		w.anchor = false
		w.seqOff, w.tsOff = 0, 0
		w.lastSeq, w.lastTS, w.lastAt = seq-1, ts, now
		w.floor, w.guard = seq, lateWindow
	case w.anchor || ssrc != w.ssrc:
		w.anchor = false
		w.ssrc = ssrc
		step := uint32(1)
		if d := now.Sub(w.lastAt); d > 0 {
			step = max(1, uint32(d.Microseconds()*ClockRate/1_000_000))
		}
		w.seqOff = w.lastSeq + 1 - seq
		w.tsOff = w.lastTS + step - ts
		w.floor, w.guard = seq, lateWindow
	}
	if w.guard > 0 {
		if int16(seq-w.floor) < 0 {
			return 0, 0, false
		}
		w.guard--
	}
	outSeq, outTS = seq+w.seqOff, ts+w.tsOff
	if int16(outSeq-w.lastSeq) > 0 {
		w.lastSeq, w.lastTS, w.lastAt = outSeq, outTS, now
	}
	return outSeq, outTS, true
}

// Last returns the highest outgoing sequence number, its timestamp and when
// it was sent; ok is false before the first packet.
func (w *Rewriter) Last() (seq uint16, ts uint32, at time.Time, ok bool) {
	return w.lastSeq, w.lastTS, w.lastAt, w.started
}
