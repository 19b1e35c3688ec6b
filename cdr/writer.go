package cdr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// File names in Config.SpoolDir.
const (
	// tailSpoolName holds events callers spilled because the queue was full or
	// the writer was spooling; they come after everything else.
	tailSpoolName = "cdr.spool"
	// headSpoolName holds events the writer took from its queue but could not
	// store; they come before the tail spool.
	headSpoolName = "cdr-head.spool"
	// rejectedName keeps events PostgreSQL refused (bad data), for a person.
	rejectedName = "cdr-rejected.spool"
)

// openRecoveryTimeout bounds how long Open spends replaying the previous run's
// spool before it hands the rest to the writer goroutine.
const openRecoveryTimeout = 30 * time.Second

// Writer stores call events durably and asynchronously. Its Submit methods never
// block: an event goes into a bounded queue, or, when the queue is full or the
// database unreachable, is appended to a spool file in the data directory. A
// single goroutine stores queued events in batches, replays the spools in order
// once the database is back, and marks open legs alive. Order is kept:
//
//	events stored < head spool < queue < tail spool
//
// Events of the previous run left in the spools are replayed before anything
// else; then the legs the previous run left open are closed (bridge_restart).
type Writer struct {
	cfg Config
	db  *sqlx.DB

	ch       chan Event
	stop     chan struct{}
	done     chan struct{}
	flushReq chan chan struct{}
	once     sync.Once

	mu       sync.Mutex // guards spilling, closed and tail
	spilling bool       // callers append to tail instead of the queue
	closed   bool
	tail     *spool

	// Owned by the writer goroutine.
	head      *spool
	rejected  *spool
	tailOff   int64 // replayed up to here
	recoverAt int64 // the tail's size at Open: events of the previous run
	recovered bool  // the previous run's open legs are closed
	open      map[string]struct{}
	waiters   []chan struct{}

	stored, spooled, rejectedN atomic.Int64
}

// Stats are the writer's counters since Open.
type Stats struct {
	Stored   int64 // events written to PostgreSQL
	Spooled  int64 // events written to a spool file
	Rejected int64 // events PostgreSQL refused, kept in cdr-rejected.spool
}

// Open opens the spools in cfg.SpoolDir and starts the writer. Close stops it.
func Open(db *sqlx.DB, cfg Config) (*Writer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(cfg.SpoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("cdr: spool directory: %w", err)
	}
	w := &Writer{
		cfg:      cfg,
		db:       db,
		ch:       make(chan Event, cfg.QueueSize),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		flushReq: make(chan chan struct{}),
		open:     map[string]struct{}{},
		spilling: true, // until the previous run is recovered
	}
	var err error
	if w.tail, err = openSpool(filepath.Join(cfg.SpoolDir, tailSpoolName)); err != nil {
		return nil, err
	}
	if w.head, err = openSpool(filepath.Join(cfg.SpoolDir, headSpoolName)); err != nil {
		w.tail.close()
		return nil, err
	}
	if w.rejected, err = openSpool(filepath.Join(cfg.SpoolDir, rejectedName)); err != nil {
		w.tail.close()
		w.head.close()
		return nil, err
	}
	w.recoverAt = w.tail.size
	if !w.head.empty() || !w.tail.empty() {
		cfg.Logger.Info("cdr: replaying the spool of the previous run", "head_bytes", w.head.size, "tail_bytes", w.tail.size)
	}
	// Recover now when the database answers, so that new events take the
	// queue from the start; otherwise the writer goroutine keeps trying while
	// events go to the spool.
	ctx, cancel := context.WithTimeout(context.Background(), openRecoveryTimeout)
	w.replay(ctx)
	cancel()
	go w.run()
	return w, nil
}

// Submit queues e. It never blocks and never fails: when the queue is full, or
// while the writer is spooling, e is appended to the spool file instead. After
// Close it logs and drops e.
func (w *Writer) Submit(e Event) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.cfg.Logger.Error("cdr: event after close dropped", "kind", e.Kind)
		return
	}
	if !w.spilling {
		select {
		case w.ch <- e:
			return
		default:
			w.spilling = true
			w.cfg.Logger.Warn("cdr: queue full, spooling events", "queue", cap(w.ch))
		}
	}
	if err := appendEvent(w.tail, &e); err != nil {
		// The disk failed too: there is nowhere left to keep it.
		w.cfg.Logger.Error("cdr: event lost", "kind", e.Kind, "err", err)
		return
	}
	w.spooled.Add(1)
}

// ConferenceStarted submits a conference start.
func (w *Writer) ConferenceStarted(c ConferenceStart) {
	w.Submit(Event{Kind: KindConferenceStarted, ConferenceStart: &c})
}

// ConferenceEnded submits a conference end.
func (w *Writer) ConferenceEnded(c ConferenceEnd) {
	w.Submit(Event{Kind: KindConferenceEnded, ConferenceEnd: &c})
}

// LegStarted submits a leg start.
func (w *Writer) LegStarted(l LegStart) { w.Submit(Event{Kind: KindLegStarted, LegStart: &l}) }

// LegQuality submits a quality report.
func (w *Writer) LegQuality(q LegQuality) { w.Submit(Event{Kind: KindLegQuality, LegQuality: &q}) }

// LegEnded submits a leg end.
func (w *Writer) LegEnded(l LegEnd) { w.Submit(Event{Kind: KindLegEnded, LegEnd: &l}) }

// Stats returns the writer's counters.
func (w *Writer) Stats() Stats {
	return Stats{Stored: w.stored.Load(), Spooled: w.spooled.Load(), Rejected: w.rejectedN.Load()}
}

// Flush waits until every event submitted before it is stored in PostgreSQL
// (or refused as bad data), or ctx ends.
func (w *Writer) Flush(ctx context.Context) error {
	reply := make(chan struct{})
	select {
	case w.flushReq <- reply:
	case <-w.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-reply:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the writer: it stores what is queued (or spools it when the
// database is unreachable), fsyncs the spools and waits for its goroutine. It
// is idempotent.
func (w *Writer) Close() error {
	w.once.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
		close(w.stop)
	})
	<-w.done
	return nil
}

func appendEvent(s *spool, e *Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("cdr: encode event: %w", err)
	}
	return s.appendFrame(b)
}

func (w *Writer) run() {
	defer close(w.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	retry := time.NewTicker(w.cfg.RetryInterval)
	defer retry.Stop()
	syncT := time.NewTicker(w.cfg.SyncInterval)
	defer syncT.Stop()
	hb := time.NewTicker(w.cfg.HeartbeatInterval)
	defer hb.Stop()

	w.replay(ctx)
	batch := make([]Event, 0, w.cfg.BatchSize)
	for {
		select {
		case e := <-w.ch:
			batch = append(batch[:0], e)
			for len(batch) < w.cfg.BatchSize {
				select {
				case e := <-w.ch:
					batch = append(batch, e)
					continue
				default:
				}
				break
			}
			w.storeQueued(ctx, batch)
		case <-retry.C:
			w.replay(ctx)
		case <-syncT.C:
			w.syncTail()
		case <-hb.C:
			w.heartbeat(ctx)
		case reply := <-w.flushReq:
			w.waiters = append(w.waiters, reply)
			w.replay(ctx)
		case <-w.stop:
			w.shutdown(ctx)
			return
		}
		w.notifyFlushed()
	}
}

// notifyFlushed answers the Flush calls once nothing is queued or spooled.
func (w *Writer) notifyFlushed() {
	if len(w.waiters) == 0 || len(w.ch) > 0 || !w.head.empty() {
		return
	}
	w.mu.Lock()
	idle := !w.spilling
	w.mu.Unlock()
	if !idle {
		return
	}
	for _, r := range w.waiters {
		close(r)
	}
	w.waiters = nil
}

// storeQueued stores events taken from the queue: into PostgreSQL, or, when
// the head spool already holds earlier events or the database is unreachable,
// at the end of the head spool.
func (w *Writer) storeQueued(ctx context.Context, batch []Event) {
	if w.head.empty() {
		err := w.store(ctx, batch)
		if err == nil {
			return
		}
		w.cfg.Logger.Warn("cdr: database unreachable, spooling events", "err", err)
		w.mu.Lock()
		w.spilling = true
		w.mu.Unlock()
	}
	for i := range batch {
		if err := appendEvent(w.head, &batch[i]); err != nil {
			w.cfg.Logger.Error("cdr: event lost", "kind", batch[i].Kind, "err", err)
			continue
		}
		w.spooled.Add(1)
	}
	if err := w.head.sync(); err != nil {
		w.cfg.Logger.Error("cdr: spool", "err", err)
	}
}

// store writes batch to PostgreSQL. Events PostgreSQL refuses are set aside in
// the rejected spool and do not hold up the others. It returns an error only
// when the database is unreachable; nothing of batch is stored then.
func (w *Writer) store(ctx context.Context, batch []Event) error {
	if len(batch) == 0 {
		return nil
	}
	err := applyBatch(ctx, w.db, w.cfg.Node, batch)
	if err == nil {
		w.stored.Add(int64(len(batch)))
		w.track(batch)
		return nil
	}
	if !isDataError(err) {
		return err
	}
	// One bad event: store the others one by one.
	for i := range batch {
		err := applyBatch(ctx, w.db, w.cfg.Node, batch[i:i+1])
		switch {
		case err == nil:
			w.stored.Add(1)
			w.track(batch[i : i+1])
		case isDataError(err):
			w.reject(&batch[i], err)
		default:
			// Unreachable half way: the first i are stored, and storing
			// them again is a no-op; report the whole batch as not stored.
			return err
		}
	}
	return nil
}

func (w *Writer) reject(e *Event, err error) {
	w.rejectedN.Add(1)
	w.cfg.Logger.Error("cdr: event refused by the database, kept in "+rejectedName, "kind", e.Kind, "err", err)
	if aerr := appendEvent(w.rejected, e); aerr == nil {
		_ = w.rejected.sync()
	}
}

// track keeps the set of open legs the heartbeat marks alive.
func (w *Writer) track(batch []Event) {
	for i := range batch {
		switch batch[i].Kind {
		case KindLegStarted:
			w.open[batch[i].LegStart.ID] = struct{}{}
		case KindLegEnded:
			delete(w.open, batch[i].LegEnd.ID)
		}
	}
}

// replay stores the spooled events in order — the head spool, then the tail
// spool — and stops spooling when both are empty. Before the events this run
// added to the tail it closes the legs the previous run left open.
func (w *Writer) replay(ctx context.Context) {
	w.mu.Lock()
	spilling := w.spilling
	w.mu.Unlock()
	if !spilling {
		return
	}
	// Whatever is still queued came before the tail spool.
	for len(w.ch) > 0 {
		batch := make([]Event, 0, w.cfg.BatchSize)
		for len(batch) < w.cfg.BatchSize && len(w.ch) > 0 {
			batch = append(batch, <-w.ch)
		}
		w.storeQueued(ctx, batch)
	}
	if !w.head.empty() {
		if ok := w.replaySpool(ctx, w.head, 0, w.head.size, nil); !ok {
			return
		}
		if err := w.head.truncate(); err != nil {
			w.cfg.Logger.Error("cdr: spool", "err", err)
			return
		}
	}
	if !w.recovered {
		if !w.replaySpool(ctx, w.tail, w.tailOff, w.recoverAt, &w.tailOff) {
			return
		}
		n, err := closeCrashed(ctx, w.db, w.cfg.Node)
		if err != nil {
			w.cfg.Logger.Warn("cdr: close legs of the previous run", "err", err)
			return
		}
		if n > 0 {
			w.cfg.Logger.Info("cdr: closed legs the previous run left open", "legs", n, "reason", "bridge_restart")
		}
		w.recovered = true
	}
	for {
		w.mu.Lock()
		size := w.tail.size
		if w.tailOff >= size {
			err := w.tail.truncate()
			if err == nil {
				w.tailOff = 0
				w.spilling = false
			}
			w.mu.Unlock()
			if err != nil {
				w.cfg.Logger.Error("cdr: spool", "err", err)
			} else {
				w.cfg.Logger.Debug("cdr: spool replayed")
			}
			return
		}
		// The file may grow while we read below; frames before size are
		// complete, because callers write them whole under mu.
		w.mu.Unlock()
		if !w.replaySpool(ctx, w.tail, w.tailOff, size, &w.tailOff) {
			return
		}
	}
}

// replaySpool stores the frames of s between from and to. It advances *off (if
// not nil) past what it stored and returns false when the database became
// unreachable.
func (w *Writer) replaySpool(ctx context.Context, s *spool, from, to int64, off *int64) bool {
	pos := from
	for pos < to {
		payloads, next, err := s.read(pos, to, w.cfg.BatchSize)
		if err != nil {
			w.cfg.Logger.Error("cdr: spool corrupt; the rest is set aside", "err", err)
			if len(payloads) == 0 {
				w.setAside(s)
				return true
			}
		}
		if len(payloads) == 0 {
			break // torn frame at the end
		}
		batch := make([]Event, 0, len(payloads))
		for _, p := range payloads {
			var e Event
			if err := json.Unmarshal(p, &e); err != nil {
				w.rejectRaw(p, err)
				continue
			}
			batch = append(batch, e)
		}
		if err := w.store(ctx, batch); err != nil {
			w.cfg.Logger.Debug("cdr: replay paused, database unreachable", "err", err)
			return false
		}
		pos = next
		if off != nil {
			*off = pos
		}
	}
	if off != nil {
		*off = max(*off, to)
	}
	return true
}

func (w *Writer) rejectRaw(p []byte, err error) {
	w.rejectedN.Add(1)
	w.cfg.Logger.Error("cdr: undecodable spooled event, kept in "+rejectedName, "err", err)
	if aerr := w.rejected.appendFrame(p); aerr == nil {
		_ = w.rejected.sync()
	}
}

// setAside moves a corrupt spool away and forgets its content.
func (w *Writer) setAside(s *spool) {
	if s == w.tail {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.tailOff, w.recoverAt = 0, 0
	}
	aside, err := s.quarantine(strconv.FormatInt(w.cfg.Now().Unix(), 10))
	w.cfg.Logger.Error("cdr: corrupt spool set aside", "path", aside, "err", err)
}

func (w *Writer) syncTail() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.tail.sync(); err != nil {
		w.cfg.Logger.Error("cdr: spool", "err", err)
	}
}

func (w *Writer) heartbeat(ctx context.Context) {
	w.mu.Lock()
	spilling := w.spilling
	w.mu.Unlock()
	if spilling || len(w.open) == 0 {
		return
	}
	ids := make([]string, 0, len(w.open))
	for id := range w.open {
		ids = append(ids, id)
	}
	if err := heartbeat(ctx, w.db, ids, w.cfg.Now()); err != nil {
		w.cfg.Logger.Warn("cdr: heartbeat", "err", err)
	}
}

// shutdown stores or spools what is queued, tries the spools once more and
// closes the files.
func (w *Writer) shutdown(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for len(w.ch) > 0 {
		batch := make([]Event, 0, w.cfg.BatchSize)
		for len(batch) < w.cfg.BatchSize && len(w.ch) > 0 {
			batch = append(batch, <-w.ch)
		}
		w.storeQueued(ctx, batch)
	}
	w.replay(ctx)
	w.notifyFlushed()
	w.mu.Lock()
	err := errors.Join(w.tail.close(), w.head.close(), w.rejected.close())
	w.mu.Unlock()
	if err != nil {
		w.cfg.Logger.Error("cdr: close spools", "err", err)
	}
}
