package sipcall

import (
	"slices"
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
// Lending: a reader inside a batch lends its read buffer (begin). A
// plain packet whose payload lies in it is queued without a copy of that
// payload: our header and the reader's payload leave as two parts of one
// datagram (outPacket). This holds because only the reader itself
// forwards what it read, during its batch (the bridge's ReceiveVideo and
// SendVideo are synchronous, on the reader's goroutine), and the reader
// remembers every session that queued such a packet (lender.touched) and
// writes what is left in their queues before its end returns, waiting
// for any flush of them in progress (the session's lock). No lock is held
// across sessions: readers of different rooms flush in parallel.
type videoOut struct {
	busy    atomic.Int32 // readers inside a batch
	batches atomic.Uint64
	mu      sync.Mutex
	dirty   []*videoSession
	spare   []*videoSession // the previous dirty list, reused

	lendMu sync.Mutex
	lent   []*lender // the readers inside a batch
}

// lender is a reader's read buffer, lent while the reader handles a
// batch read into it.
type lender struct {
	lo, hi uintptr // the buffer's address range, [lo, hi)
	// batch names the batch in progress, unique in the server.
	batch uint64
	// touched are the sessions that queued a packet of this batch
	// without a copy; only the reader's goroutine uses it.
	touched []*videoSession
}

// newLender prepares the lending of buf, which must stay allocated.
func newLender(buf []byte) *lender {
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	return &lender{lo: lo, hi: lo + uintptr(len(buf))}
}

// begin says a reader starts handling a batch read into l's buffer,
// which it does not touch again before end.
func (o *videoOut) begin(l *lender) {
	o.busy.Add(1)
	l.batch = o.batches.Add(1)
	o.lendMu.Lock()
	o.lent = append(o.lent, l)
	o.lendMu.Unlock()
}

// end says the reader's batch is handled: every dirty session is sent,
// with every packet that points into l's buffer, which is then the
// reader's again.
func (o *videoOut) end(l *lender) {
	o.busy.Add(-1)
	o.flush()
	for i, s := range l.touched {
		s.mu.Lock()
		s.flushLocked()
		s.mu.Unlock()
		l.touched[i] = nil
	}
	l.touched = l.touched[:0]
	o.lendMu.Lock()
	if i := slices.Index(o.lent, l); i >= 0 {
		last := len(o.lent) - 1
		o.lent[i] = o.lent[last]
		o.lent[last] = nil
		o.lent = o.lent[:last]
	}
	o.lendMu.Unlock()
}

// lenderOf returns the reader inside a batch whose buffer holds b, nil
// if none does: a queued packet may point at b until that batch ends.
func (o *videoOut) lenderOf(b []byte) *lender {
	if o == nil || len(b) == 0 || o.busy.Load() == 0 {
		return nil
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	hi := lo + uintptr(len(b))
	o.lendMu.Lock()
	defer o.lendMu.Unlock()
	for _, l := range o.lent {
		if lo >= l.lo && hi <= l.hi {
			return l
		}
	}
	return nil
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
