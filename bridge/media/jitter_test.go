package media

import (
	"runtime"
	"testing"
	"unsafe"
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

// buffers is how many payload buffers the jitter buffer holds, in slots and
// on its free list.
func (j *jitterBuffer) buffers() int {
	n := len(j.free)
	for i := range j.slots {
		if j.slots[i].data != nil {
			n++
		}
	}
	return n
}

// A new buffer holds no payload storage; it takes a buffer per frame only
// when frames arrive, and a buffer of the payload's size class.
func TestJitterBufferGrowsOnDemand(t *testing.T) {
	j := newJitterBuffer(JitterConfig{MinDepth: 1})
	if n := j.buffers(); n != 0 {
		t.Fatalf("a new buffer holds %d payload buffers; want 0", n)
	}
	j.push(1, 0, make([]byte, 160))
	j.push(2, 0, make([]byte, 1000))
	if n := j.buffers(); n != 2 {
		t.Fatalf("after two pushes %d payload buffers; want 2", n)
	}
	if c := cap(j.slots[1].data); c != jitterSmallPayload {
		t.Errorf("a 160-byte payload got a buffer of %d bytes; want %d", c, jitterSmallPayload)
	}
	if c := cap(j.slots[2].data); c != MaxPayload {
		t.Errorf("a 1000-byte payload got a buffer of %d bytes; want %d", c, MaxPayload)
	}
}

// After a long silence a burst of frames (a sender's queue flushed at once)
// fills the ring: every frame plays, in order, and the storage it took is
// given back within a shrink window or two once the stream is steady again.
func TestJitterBufferBurstAfterLongIdle(t *testing.T) {
	j := newJitterBuffer(JitterConfig{MinDepth: 1})
	seq := uint16(100)
	for range 20 {
		j.push(seq, 0, []byte{byte(seq)})
		seq++
		drain(j, 1)
	}
	for range 3000 { // a minute of silence
		j.pop()
	}
	const burst = jitterSlots - 1
	for i := range burst {
		if !j.push(seq+uint16(i), 0, []byte{byte(seq + uint16(i))}) {
			t.Fatalf("burst packet %d was dropped", i)
		}
	}
	if n := j.buffers(); n < burst {
		t.Fatalf("%d payload buffers hold a burst of %d frames", n, burst)
	}
	got := drain(j, burst)
	for i, b := range got {
		if want := byte(seq + uint16(i)); b != want {
			t.Fatalf("frame %d of the burst played %d; want %d (all: %v)", i, b, want, got)
		}
	}
	seq += burst
	for range 2 * jitterShrinkWindow {
		j.push(seq, 0, []byte{byte(seq)})
		seq++
		j.pop()
	}
	if n := j.buffers(); n > 3 {
		t.Errorf("%d payload buffers kept two shrink windows after the burst; want at most 3", n)
	}
	if st := j.snapshot(); st.Late != 0 || st.Lost != 0 || st.Overflowed != 0 {
		t.Errorf("late %d, lost %d, overflowed %d; want none", st.Late, st.Lost, st.Overflowed)
	}
}

// Frames that arrive out of order while the buffer is taking new storage
// (each push needs a buffer it has never had) still play in sequence order,
// and frames reordered after the storage shrank back play in order too.
func TestJitterBufferReordersAcrossGrowth(t *testing.T) {
	j := newJitterBuffer(JitterConfig{MinDepth: 8, MaxDepth: 8})
	order := []uint16{0, 3, 7, 1, 2, 6, 4, 5, 11, 8, 10, 9} // the first sets the start
	for _, s := range order {
		j.push(s, 0, []byte{byte(s)})
	}
	got := drain(j, len(order))
	for i, b := range got {
		if b != byte(i) {
			t.Fatalf("played %v; want 0 to %d in order", got, len(order)-1)
		}
	}
	// Steady arrival lets the storage shrink, then a reordered run again.
	seq := uint16(len(order))
	for range 2 * jitterShrinkWindow {
		j.push(seq, 0, []byte{byte(seq)})
		seq++
		j.pop()
	}
	before := j.buffers()
	base := seq
	for _, d := range []uint16{2, 0, 5, 1, 4, 3, 9, 6, 8, 7} {
		j.push(base+d, 0, []byte{byte(base + d)})
	}
	if j.buffers() <= before {
		t.Fatalf("storage did not grow for a reordered run (%d buffers before, %d after)", before, j.buffers())
	}
	held := j.snapshot().Buffered
	var played []byte
	for _, b := range drain(j, held+8) {
		if b != 0 {
			played = append(played, b)
		}
	}
	for i := 1; i < len(played); i++ {
		if played[i] != played[i-1]+1 {
			t.Fatalf("after growth played %v; want consecutive frames", played)
		}
	}
	if len(played) == 0 || played[len(played)-1] != byte(base+9) {
		t.Fatalf("after growth played %v; want up to %d", played, byte(base+9))
	}
}

// In the steady state (one push, one pop per tick) the buffer reuses the
// payload buffer the last pop freed: no allocation per packet.
func TestJitterBufferSteadyStateDoesNotAllocate(t *testing.T) {
	for _, size := range []int{160, 80, MaxPayload} {
		j := newJitterBuffer(JitterConfig{MinDepth: 2})
		payload := make([]byte, size)
		seq := uint16(0)
		step := func() {
			j.push(seq, uint32(seq)*160, payload)
			seq++
			j.pop()
		}
		for range 10 {
			step()
		}
		if a := testing.AllocsPerRun(1000, step); a > 0 {
			t.Errorf("%d-byte payloads: %.2f allocations per packet; want 0", size, a)
		}
	}
}

// oldJitterSlots is the storage the buffer allocated up front before it grew
// on demand: a ring of full-size frames. It is the reference the memory test
// and benchmark compare with.
type oldJitterSlots [jitterSlots]struct {
	used bool
	seq  uint16
	ts   uint32
	n    int
	data [MaxPayload]byte
}

// retainedPerBuffer is the heap each of n jitter buffers keeps after setup,
// measured with runtime.MemStats around building them.
func retainedPerBuffer(n int, setup func(*jitterBuffer)) float64 {
	keep := make([]*jitterBuffer, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range keep {
		keep[i] = newJitterBuffer(JitterConfig{})
		setup(keep[i])
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(keep)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// An idle participant's jitter buffer holds about 2 KiB (its ring), and one that
// received a talk spurt and went quiet holds a few frames' storage more —
// against the 83 KiB of a ring of full-size frames.
func TestJitterBufferIdleMemory(t *testing.T) {
	old := float64(unsafe.Sizeof(oldJitterSlots{}))
	idle := retainedPerBuffer(1000, func(*jitterBuffer) {})
	spurt := retainedPerBuffer(1000, func(j *jitterBuffer) {
		for s := range uint16(50) {
			j.push(s, 0, make([]byte, 160))
			j.pop()
		}
		for range 100 {
			j.pop()
		}
	})
	t.Logf("bytes per jitter buffer: idle %.0f, after a talk spurt %.0f; ring of full-size frames %.0f", idle, spurt, old)
	if idle > old/20 {
		t.Errorf("an idle jitter buffer retains %.0f bytes; want under %.0f (1/20 of the full ring)", idle, old/20)
	}
	if spurt > old/10 {
		t.Errorf("a jitter buffer after a talk spurt retains %.0f bytes; want under %.0f (1/10 of the full ring)", spurt, old/10)
	}
}

// BenchmarkJitterBufferIdleMemory reports the heap one idle jitter buffer
// retains (B/buffer) next to the reference, the storage of a ring of
// full-size frames that the buffer allocated up front before (ref-B/buffer),
// and their ratio.
func BenchmarkJitterBufferIdleMemory(b *testing.B) {
	old := float64(unsafe.Sizeof(oldJitterSlots{}))
	var idle float64
	for range b.N {
		idle = retainedPerBuffer(1000, func(*jitterBuffer) {})
	}
	b.ReportMetric(idle, "B/buffer")
	b.ReportMetric(old, "ref-B/buffer")
	b.ReportMetric(idle/old, "ratio")
}
