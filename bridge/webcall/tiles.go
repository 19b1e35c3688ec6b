package webcall

import "github.com/bifrost-video/bifrost/bridge"

// tiles decides which sources' video a browser receives: every other
// participant that sends video, up to max, the most recent active speakers
// first. It is the track bookkeeping of one session; its owner (the
// session's goroutine) applies the changes it returns to the PeerConnection
// and renegotiates. It is not safe for concurrent use.
type tiles struct {
	max int
	// shown are the sources that have a track, in no particular order.
	shown map[bridge.ParticipantID]bool
	// known are the sources seen sending video (shown or not), ordered by
	// how recently they were the active speaker, most recent first; sources
	// that never spoke follow in order of arrival.
	known []bridge.ParticipantID
}

// change is what the session must do to its PeerConnection.
type change struct {
	add    []bridge.ParticipantID
	remove []bridge.ParticipantID
}

func (c change) empty() bool { return len(c.add) == 0 && len(c.remove) == 0 }

func newTiles(max int) *tiles {
	return &tiles{max: max, shown: make(map[bridge.ParticipantID]bool)}
}

// seen records that source sends video (its first packet reached the leg).
func (t *tiles) seen(source bridge.ParticipantID) change {
	if t.index(source) >= 0 {
		return change{}
	}
	t.known = append(t.known, source)
	return t.settle()
}

// speaker records that source is the active speaker now.
func (t *tiles) speaker(source bridge.ParticipantID) change {
	i := t.index(source)
	if i < 0 {
		return change{} // no video from it (yet): nothing to show
	}
	copy(t.known[1:i+1], t.known[:i])
	t.known[0] = source
	return t.settle()
}

// setMax changes the cap (the browser's downlink cannot take more tiles,
// or can take more again).
func (t *tiles) setMax(max int) change {
	if max == t.max {
		return change{}
	}
	t.max = max
	return t.settle()
}

// left records that source left the room.
func (t *tiles) left(source bridge.ParticipantID) change {
	i := t.index(source)
	if i < 0 {
		return change{}
	}
	t.known = append(t.known[:i], t.known[i+1:]...)
	var c change
	if t.shown[source] {
		delete(t.shown, source)
		c.remove = append(c.remove, source)
	}
	s := t.settle()
	c.add = s.add
	c.remove = append(c.remove, s.remove...)
	return c
}

// settle makes shown the first max of known.
func (t *tiles) settle() change {
	var c change
	want := make(map[bridge.ParticipantID]bool, t.max)
	for i, s := range t.known {
		if i >= t.max {
			break
		}
		want[s] = true
	}
	for _, s := range t.known {
		if t.shown[s] && !want[s] {
			delete(t.shown, s)
			c.remove = append(c.remove, s)
		}
	}
	for _, s := range t.known {
		if want[s] && !t.shown[s] {
			t.shown[s] = true
			c.add = append(c.add, s)
		}
	}
	return c
}

func (t *tiles) index(source bridge.ParticipantID) int {
	for i, s := range t.known {
		if s == source {
			return i
		}
	}
	return -1
}
