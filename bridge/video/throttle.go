package video

import "time"

// DefaultKeyframeInterval is the least time between two keyframe requests
// sent to one source: an encoder needs a few frames to produce an IDR, and
// requests within that time only make it send several.
const DefaultKeyframeInterval = 300 * time.Millisecond

// Throttle deduplicates and throttles the keyframe requests sent to one
// source (RFC 4585 §3.5.2 asks the same of PLI senders; RFC 5104 §4.3.1.2
// of FIR): at most one request goes out per interval, whoever asked. A
// request that arrives within the interval is not dropped but remembered and
// sent once the interval has passed (Due), unless the source sent a keyframe
// meanwhile (Satisfied). The zero Throttle uses DefaultKeyframeInterval.
type Throttle struct {
	Interval time.Duration
	last     time.Time
	sent     bool
	pending  bool
}

func (t *Throttle) interval() time.Duration {
	if t.Interval > 0 {
		return t.Interval
	}
	return DefaultKeyframeInterval
}

// Request records a request at now and reports whether it should be sent
// at once.
func (t *Throttle) Request(now time.Time) bool {
	if !t.sent || now.Sub(t.last) >= t.interval() {
		t.sent, t.last, t.pending = true, now, false
		return true
	}
	t.pending = true
	return false
}

// Due reports whether a request held back is to be sent now, and if so
// records it as sent.
func (t *Throttle) Due(now time.Time) bool {
	if !t.pending || now.Sub(t.last) < t.interval() {
		return false
	}
	t.last, t.pending = now, false
	return true
}

// Satisfied says the source sent a keyframe: a request held back is dropped.
func (t *Throttle) Satisfied() { t.pending = false }
