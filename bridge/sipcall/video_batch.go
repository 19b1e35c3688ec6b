package sipcall

import (
	"sync"
	"sync/atomic"
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
// non-empty is marked dirty, and whoever marks it afterwards checks busy;
// if no reader is inside a batch it flushes itself, otherwise that reader
// flushes every dirty session when its batch ends (end decrements busy
// before it flushes).
type videoOut struct {
	busy  atomic.Int32 // readers inside a batch
	mu    sync.Mutex
	dirty []*videoSession
	spare []*videoSession // the previous dirty list, reused
}

// begin says a reader starts handling a batch.
func (o *videoOut) begin() { o.busy.Add(1) }

// end says the reader's batch is handled: every dirty session is sent.
func (o *videoOut) end() {
	o.busy.Add(-1)
	o.flush()
}

// mark records that s's queue became non-empty; it must be called
// without s.mu held.
func (o *videoOut) mark(s *videoSession) {
	o.mu.Lock()
	o.dirty = append(o.dirty, s)
	o.mu.Unlock()
	if o.busy.Load() == 0 {
		o.flush()
	}
}

// batching reports whether a reader is inside a batch, so that a send
// may queue.
func (o *videoOut) batching() bool { return o != nil && o.busy.Load() > 0 }

// flush sends the queues of every dirty session.
func (o *videoOut) flush() {
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
