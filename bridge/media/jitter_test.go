package media

import (
	"testing"
)

// drain pops n frames and returns the first payload byte of each (0 for a
// concealed or silent frame).
func drain(j *jitterBuffer, n int) []byte {
	var got []byte
	for range n {
		res, p, _ := j.pop()
		if res == popFrame {
			got = append(got, p[0])
		} else {
			got = append(got, 0)
		}
	}
	return got
}

func TestJitterBufferReorders(t *testing.T) {
	j := newJitterBuffer(JitterConfig{MinDepth: 3})
	for _, s := range []uint16{65534, 0, 65535, 1} { // out of order across the wrap
		j.push(s, 0, []byte{byte(s + 3)})
	}
	got := drain(j, 4)
	want := []byte{1, 2, 3, 4}
	if string(got) != string(want) {
		t.Errorf("played %v; want %v", got, want)
	}
}

func TestJitterBufferDropsLateAndDuplicate(t *testing.T) {
	j := newJitterBuffer(JitterConfig{MinDepth: 1})
	j.push(10, 0, []byte{10})
	j.push(10, 0, []byte{99})
	drain(j, 1)
	j.push(9, 0, []byte{9})   // its turn has passed
	j.push(10, 0, []byte{10}) // already played
	st := j.snapshot()
	if st.Duplicate != 1 || st.Late != 2 {
		t.Errorf("duplicate %d, late %d; want 1 and 2", st.Duplicate, st.Late)
	}
}

func TestJitterBufferReportsLossWithTheNextPacket(t *testing.T) {
	j := newJitterBuffer(JitterConfig{MinDepth: 1})
	j.push(1, 0, []byte{1})
	j.push(3, 0, []byte{3})
	if res, _, _ := j.pop(); res != popFrame {
		t.Fatalf("first pop %v; want a frame", res)
	}
	res, _, next := j.pop()
	if res != popLost || len(next) != 1 || next[0] != 3 {
		t.Fatalf("second pop %v with next %v; want a loss with packet 3 for FEC", res, next)
	}
	if j.snapshot().Lost != 1 {
		t.Errorf("lost %d; want 1", j.snapshot().Lost)
	}
}

func TestJitterBufferAdaptsDepth(t *testing.T) {
	j := newJitterBuffer(JitterConfig{MinDepth: 1, MaxDepth: 6})
	// Packet k is sent at tick k and arrives up to 4 ticks later: with a
	// depth of one frame, packets miss their turn and the depth grows.
	delay := []int{0, 4, 1, 3, 0, 2}
	arrivals := map[int][]uint16{}
	for k := range 600 {
		at := k + delay[k%len(delay)]
		arrivals[at] = append(arrivals[at], uint16(k))
	}
	for tick := range 600 {
		for _, s := range arrivals[tick] {
			j.push(s, 0, []byte{1})
		}
		j.pop()
	}
	seq := uint16(600)
	grown := j.snapshot()
	if grown.Depth < 3 {
		t.Fatalf("depth %d after bursty arrival; want at least 3", grown.Depth)
	}
	// Steady arrival: the depth shrinks back within a few windows.
	for range 6 * jitterShrinkWindow {
		j.push(seq, 0, []byte{1})
		seq++
		j.pop()
	}
	if st := j.snapshot(); st.Depth >= grown.Depth {
		t.Errorf("depth %d after steady arrival; want below %d", st.Depth, grown.Depth)
	}
}

func TestJitterBufferResetsOnAJump(t *testing.T) {
	j := newJitterBuffer(JitterConfig{MinDepth: 1})
	j.push(100, 0, []byte{1})
	drain(j, 1)
	j.push(30000, 0, []byte{2})
	if got := drain(j, 1); got[0] != 2 {
		t.Errorf("after a sequence jump played %v; want the new stream's packet", got)
	}
}

// A sender in discontinuous transmission sends nothing in silence and
// resumes with the next sequence number: the buffer conceals the gap, does
// not deepen, and plays the first packet after the gap at once.
func TestJitterBufferDTX(t *testing.T) {
	j := newJitterBuffer(JitterConfig{MinDepth: 1})
	seq := uint16(0)
	for range 50 {
		j.push(seq, uint32(seq)*960, []byte{1})
		seq++
		j.pop()
	}
	for range 100 {
		if res, _, _ := j.pop(); res != popLost {
			t.Fatalf("a tick in the silence gave %v; want concealment", res)
		}
	}
	j.push(seq, uint32(seq+100)*960, []byte{2})
	if res, p, _ := j.pop(); res != popFrame || p[0] != 2 {
		t.Fatalf("the first packet after the silence did not play at once: %v", res)
	}
	if st := j.snapshot(); st.Depth != 1 || st.Lost != 0 {
		t.Errorf("after DTX silence: depth %d, lost %d; want 1 and 0", st.Depth, st.Lost)
	}
}
