package sipcall

import (
	"sync"
	"sync/atomic"
	"unsafe"
)

// videoQueue is how many packets a video session holds for one sendmmsg
// at most; a full queue is sent at once.
const videoQueue = 32

// videoReadBatch is how many datagrams a video session reads per
// recvmmsg: a frame's packets usually arrive together.
const videoReadBatch = 16

// videoOut batches the sending of a server's video sessions: while a
// video reader handles the packets of one read batch, what the bridge
// forwards to each receiver queues at that receiver's session, and each
// session's queue leaves in one sendmmsg when the batch is handled (a
// frame's packets to a receiver in one system call rather than one
// each). A packet sent while no reader is inside a batch (the bridge's
// other sources: WebRTC legs) leaves at once.
//
// The guarantee that nothing stays queued: a session whose queue becomes
// non-empty is marked dirty (under its own lock, so that it is in the
// dirty list for as long as its queue holds anything not being written),
// and whoever marks it afterwards checks busy; if no reader is inside a
// batch it flushes itself, otherwise that reader flushes every dirty
// session when its batch ends (end decrements busy before it flushes).
//
// Lending: a reader inside a batch lends its read buffers (lend). A
// plain packet whose payload lies in them is queued without a copy of
// that payload: our header and the reader's payload leave as two parts
// of one datagram (outPacket). This holds because only the reader itself
// forwards what it read, during its batch (the bridge's ReceiveVideo and
// SendVideo are synchronous), and its end returns only when every queue
// that may hold such a packet has been written: flushes are serialised
// (flushMu), so end's own flush waits for one that took such a queue
// before it.
type videoOut struct {
	busy  atomic.Int32 // readers inside a batch
	mu    sync.Mutex
	dirty []*videoSession
	spare []*videoSession // the previous dirty list, reused
	// flushMu is held by whoever writes the dirty sessions' queues.
	flushMu sync.Mutex

	lendMu sync.Mutex
	lent   []span // the read buffers of the readers inside a batch
}

// span is a buffer's address range, [lo, hi).
type span struct{ lo, hi uintptr }

// spanOf is the address range of b's bytes.
func spanOf(b []byte) span {
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return span{lo: lo, hi: lo + uintptr(len(b))}
}

// begin says a reader starts handling a batch read into buf, which it
// does not touch again before end.
func (o *videoOut) begin(buf []byte) {
	o.busy.Add(1)
	o.lendMu.Lock()
	o.lent = append(o.lent, spanOf(buf))
	o.lendMu.Unlock()
}

// end says the reader's batch read into buf is handled: every dirty
// session is sent, and buf is the reader's again.
func (o *videoOut) end(buf []byte) {
	o.busy.Add(-1)
	o.flush()
	sp := spanOf(buf)
	o.lendMu.Lock()
	for i, l := range o.lent {
		if l == sp {
			last := len(o.lent) - 1
			o.lent[i] = o.lent[last]
			o.lent = o.lent[:last]
			break
		}
	}
	o.lendMu.Unlock()
}

// lends reports whether b lies in the read buffer of a reader inside a
// batch, so that a queued packet may point at it until the batch ends.
func (o *videoOut) lends(b []byte) bool {
	if o == nil || len(b) == 0 || o.busy.Load() == 0 {
		return false
	}
	sp := spanOf(b)
	o.lendMu.Lock()
	defer o.lendMu.Unlock()
	for _, l := range o.lent {
		if sp.lo >= l.lo && sp.hi <= l.hi {
			return true
		}
	}
	return false
}

// markLocked records that s's queue became non-empty. The caller holds
// s.mu and, once it has released it, calls flushIfIdle.
func (o *videoOut) markLocked(s *videoSession) {
	o.mu.Lock()
	o.dirty = append(o.dirty, s)
	o.mu.Unlock()
}

// flushIfIdle flushes the dirty sessions when no reader is inside a
// batch (one that is flushes them when its batch ends). It must be
// called without any session's mu held.
func (o *videoOut) flushIfIdle() {
	if o.busy.Load() == 0 {
		o.flush()
	}
}

// batching reports whether a reader is inside a batch, so that a send
// may queue.
func (o *videoOut) batching() bool { return o != nil && o.busy.Load() > 0 }

// flush sends the queues of every dirty session.
func (o *videoOut) flush() {
	o.flushMu.Lock()
	defer o.flushMu.Unlock()
	o.mu.Lock()
	if len(o.dirty) == 0 {
		o.mu.Unlock()
		return
	}
	list := o.dirty
	o.dirty, o.spare = o.spare[:0], nil
	o.mu.Unlock()
	for i, s := range list {
		s.mu.Lock()
		s.flushLocked()
		s.mu.Unlock()
		list[i] = nil
	}
	o.mu.Lock()
	if o.spare == nil {
		o.spare = list[:0]
	}
	o.mu.Unlock()
}
