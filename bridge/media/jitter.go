package media

// The jitter buffer holds received RTP payloads in sequence-number order and
// releases one per 20 ms tick. It reorders, drops duplicates and packets that
// arrive after their turn, and adapts its depth: it grows by one frame each
// time a packet arrives just after its turn was concealed (the network's
// jitter exceeds the depth), pausing playout to refill, and shrinks by one
// frame when, over a window of jitterShrinkWindow ticks, it always held at
// least two frames. An empty buffer (a late packet, or a sender in DTX) is
// concealed without skipping ahead. Sequence numbers are
// compared with RFC 3550 §A.1 serial arithmetic, so wrap-around is seamless.
//
// Storage grows on demand. The ring of slots holds only each frame's
// sequence number, timestamp and a payload buffer; the payload buffers come
// from a free list owned by the buffer and are allocated the first time
// more frames are held at once than ever before. An idle port (a browser
// that has not spoken, a muted endpoint) therefore holds its ring of 2 KiB,
// not the 64 × MaxPayload bytes (83 KiB) a ring of full-size frames would.
// In the steady state a frame's buffer goes back to the free list when it
// plays and the next push takes it again: no allocation per packet. At the
// end of each shrink window the free list is trimmed to what the window's
// fullest moment needed plus one, so the memory of a burst is returned once
// the burst is over, and never more than jitterSlots buffers exist.
//
// It is not safe for concurrent use; Port guards it with its mutex.

// jitterSlots is the ring size: 64 frames (1.28 s at 20 ms).
const jitterSlots = 64

// jitterSmallPayload is the capacity of a payload buffer for a payload that
// fits in it: 40 ms of G.711 (320 bytes), 20 ms of G.722 or of Opus up to
// 128 kbit/s. A larger payload gets a buffer of MaxPayload bytes.
const jitterSmallPayload = 320

// jitterShrinkWindow is the number of ticks observed before the depth shrinks (5 s).
const jitterShrinkWindow = 250

// jitterResetGap is how far a sequence number may jump, forward or back,
// before the buffer treats it as a new stream (sender restart, SSRC change).
const jitterResetGap = 1000

// JitterConfig bounds the jitter buffer's depth in 20 ms frames.
type JitterConfig struct {
	// MinDepth is the smallest target depth; 0 means 1 (20 ms).
	MinDepth int
	// MaxDepth is the largest target depth; 0 means 10 (200 ms).
	MaxDepth int
}

func (c JitterConfig) withDefaults() JitterConfig {
	if c.MinDepth <= 0 {
		c.MinDepth = 1
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = 10
	}
	c.MaxDepth = min(c.MaxDepth, jitterSlots/2)
	c.MinDepth = min(c.MinDepth, c.MaxDepth)
	return c
}

type jitterSlot struct {
	used bool
	seq  uint16
	ts   uint32
	data []byte // the payload, in a buffer from the free list; nil when unused
}

// JitterStats counts what the buffer did with the packets it was given.
type JitterStats struct {
	Received   uint64 // packets pushed
	Late       uint64 // dropped: arrived after their turn to play
	Duplicate  uint64 // dropped: already held
	Lost       uint64 // never arrived in time; concealed
	Underruns  uint64 // ticks with nothing to play while the stream was running
	Resets     uint64 // sequence jumps treated as a new stream
	Depth      int    // current target depth in frames
	Oversize   uint64 // dropped: payload larger than MaxPayload
	Discarded  uint64 // dropped to shrink the depth
	Buffered   int    // frames held now
	Recovered  uint64 // lost frames recovered from the next packet's FEC
	Concealed  uint64 // frames produced by concealment
	Overflowed uint64 // dropped: too far ahead of playout for the ring
}

type jitterBuffer struct {
	cfg     JitterConfig
	slots   [jitterSlots]jitterSlot
	started bool   // a first packet has arrived
	playing bool   // the fill reached the target depth
	played  bool   // playout has begun once
	next    uint16 // the sequence number to play next
	count   int    // slots used
	target  int
	minSeen int      // the smallest count seen in this shrink window
	maxSeen int      // the largest count seen in this shrink window
	free    [][]byte // payload buffers not in use (len 0), for the next push
	ticks   int
	stats   JitterStats
}

func newJitterBuffer(cfg JitterConfig) *jitterBuffer {
	cfg = cfg.withDefaults()
	return &jitterBuffer{cfg: cfg, target: cfg.MinDepth, minSeen: jitterSlots}
}

// seqDiff is a-b as a signed distance (RFC 3550 §A.1).
func seqDiff(a, b uint16) int { return int(int16(a - b)) }

// store puts a copy of payload in slot s, in a buffer from the free list
// (allocating one only when none is large enough).
func (j *jitterBuffer) store(s *jitterSlot, payload []byte) {
	var buf []byte
	for i := len(j.free) - 1; i >= 0; i-- {
		if cap(j.free[i]) >= len(payload) {
			buf = j.free[i]
			last := len(j.free) - 1
			j.free[i] = j.free[last]
			j.free[last] = nil
			j.free = j.free[:last]
			break
		}
	}
	if buf == nil {
		if last := len(j.free) - 1; last >= 0 {
			// Only smaller buffers are free: this one replaces one of
			// them, so no more than jitterSlots buffers ever exist.
			j.free[last] = nil
			j.free = j.free[:last]
		}
		size := MaxPayload
		if len(payload) <= jitterSmallPayload {
			size = jitterSmallPayload
		}
		buf = make([]byte, 0, size)
	}
	s.data = append(buf[:0], payload...)
	s.used = true
}

// release empties slot s and returns its buffer to the free list. The
// buffer's contents stay valid until the next store.
func (j *jitterBuffer) release(s *jitterSlot) {
	if s.data != nil {
		j.free = append(j.free, s.data[:0])
	}
	s.data = nil
	s.used = false
}

// trim drops the free buffers beyond what the fullest moment of the last
// shrink window needed, plus one, so the memory of a burst is given back.
func (j *jitterBuffer) trim() {
	keep := max(0, j.maxSeen+1-j.count)
	if len(j.free) > keep {
		clear(j.free[keep:])
		j.free = j.free[:keep]
	}
}

func (j *jitterBuffer) reset() {
	for i := range j.slots {
		if j.slots[i].used {
			j.release(&j.slots[i])
		}
	}
	j.count = 0
	j.started = false
	j.playing = false
	j.played = false
	j.stats.Resets++
}

// push stores a copy of payload. It reports whether the packet was kept.
func (j *jitterBuffer) push(seq uint16, ts uint32, payload []byte) bool {
	j.stats.Received++
	if len(payload) > MaxPayload {
		j.stats.Oversize++
		return false
	}
	if !j.started {
		j.started = true
		j.next = seq
	}
	d := seqDiff(seq, j.next)
	if d > jitterResetGap || d < -jitterResetGap {
		j.reset()
		j.started = true
		j.next = seq
		d = 0
	}
	if d < 0 {
		j.stats.Late++
		if d >= -j.cfg.MaxDepth {
			// It missed its turn by a little: the network's jitter exceeds
			// the depth. Deepen the buffer (playout pauses to refill it).
			j.grow()
		}
		return false
	}
	if d >= jitterSlots {
		// Far ahead but not a new stream: playout fell behind (a burst after a
		// stall). Skip forward so this packet fits, dropping what is older.
		j.stats.Overflowed++
		for seqDiff(seq, j.next) >= jitterSlots {
			s := &j.slots[j.next%jitterSlots]
			if s.used && s.seq == j.next {
				j.release(s)
				j.count--
			}
			j.next++
		}
	}
	s := &j.slots[seq%jitterSlots]
	if s.used {
		if s.seq == seq {
			j.stats.Duplicate++
			return false
		}
		// A stale occupant (cannot be played any more): replace it.
		j.release(s)
		j.count--
	}
	j.store(s, payload)
	s.seq = seq
	s.ts = ts
	j.count++
	j.maxSeen = max(j.maxSeen, j.count)
	return true
}

// popResult says what the tick should do.
type popResult int

const (
	popNothing popResult = iota // not started or still filling: play silence
	popFrame                    // a payload to decode
	popLost                     // the next frame is missing: conceal (FEC from next if given)
)

// pop releases the next frame. For popFrame, payload aliases the frame's
// buffer (back on the free list) and is valid until the next push; the caller copies it before unlocking. For
// popLost, next is the following packet's payload when held (for FEC), else nil.
func (j *jitterBuffer) pop() (res popResult, payload, next []byte) {
	if !j.started {
		return popNothing, nil, nil
	}
	if !j.playing {
		if j.count < j.target {
			if j.played {
				return popLost, nil, nil // refilling after growth: conceal
			}
			return popNothing, nil, nil
		}
		j.played = true
		j.playing = true
		// Start at the oldest held packet.
		for i := 0; i < jitterSlots; i++ {
			s := &j.slots[(j.next+uint16(i))%jitterSlots]
			if s.used && s.seq == j.next+uint16(i) {
				j.next += uint16(i)
				break
			}
		}
	}
	j.adapt()
	if j.count == 0 {
		// Underrun: nothing to play. Conceal without moving on, so a
		// packet that is merely late plays next, and a sender in
		// discontinuous transmission (RFC 7587 §3.1.3: no packets in
		// silence, sequence numbers contiguous) resumes at once. Only
		// packets that arrive after their turn deepen the buffer.
		j.stats.Underruns++
		return popLost, nil, nil
	}
	s := &j.slots[j.next%jitterSlots]
	seq := j.next
	j.next++
	if s.used && s.seq == seq {
		payload := s.data
		j.release(s)
		j.count--
		return popFrame, payload, nil
	}
	j.stats.Lost++
	n := &j.slots[j.next%jitterSlots]
	if n.used && n.seq == j.next {
		return popLost, nil, n.data
	}
	return popLost, nil, nil
}

// grow deepens the buffer by one frame and pauses playout until it refills.
func (j *jitterBuffer) grow() {
	if j.target < j.cfg.MaxDepth {
		j.target++
		j.playing = false
	}
	j.minSeen = jitterSlots
	j.ticks = 0
}

// adapt shrinks the depth when the buffer has held more than it needed for a
// whole window, by discarding the oldest frame.
func (j *jitterBuffer) adapt() {
	j.minSeen = min(j.minSeen, j.count)
	j.ticks++
	if j.ticks < jitterShrinkWindow {
		return
	}
	if j.minSeen >= 2 && j.count > j.cfg.MinDepth {
		s := &j.slots[j.next%jitterSlots]
		if s.used && s.seq == j.next {
			j.release(s)
			j.count--
		}
		j.next++
		j.stats.Discarded++
		if j.target > j.cfg.MinDepth {
			j.target--
		}
	}
	j.trim()
	j.ticks = 0
	j.minSeen = jitterSlots
	j.maxSeen = j.count
}

func (j *jitterBuffer) snapshot() JitterStats {
	s := j.stats
	s.Depth = j.target
	s.Buffered = j.count
	return s
}
