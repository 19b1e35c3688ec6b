package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// maxCatchUp is how many 20 ms frames a stream sends in one tick to catch
// up after a late tick; beyond that it skips ahead (the bridge's jitter
// buffer conceals the gap).
const maxCatchUp = 3

// pacer sends every call's media from one goroutine on one 20 ms ticker:
// a call costs no goroutine and no timer of its own for sending. The
// streams are ticked under the pacer's mutex, so remove returns only once
// the pacer no longer touches the stream.
type pacer struct {
	mu      sync.Mutex
	streams []*stream
	start   time.Time

	late atomic.Uint64 // ticks more than a frame late

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func newPacer() *pacer {
	p := &pacer{start: time.Now(), stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

// frameAt is the pacer's frame number at t.
func (p *pacer) frameAt(t time.Time) int64 { return int64(t.Sub(p.start) / frameDuration) }

// add starts pacing s from the current frame.
func (p *pacer) add(s *stream) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s.tx.baseFrame = p.frameAt(time.Now())
	p.streams = append(p.streams, s)
}

// remove stops pacing s; once it returns the pacer no longer touches s.
func (p *pacer) remove(s *stream) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.streams {
		if x == s {
			last := len(p.streams) - 1
			p.streams[i] = p.streams[last]
			p.streams[last] = nil
			p.streams = p.streams[:last]
			return
		}
	}
}

func (p *pacer) run() {
	defer close(p.done)
	t := time.NewTicker(frameDuration)
	defer t.Stop()
	prev := time.Now()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			frame := p.frameAt(now)
			p.mu.Lock()
			if now.Sub(prev) > frameDuration*3/2 && len(p.streams) > 0 {
				p.late.Add(1)
			}
			prev = now
			for _, s := range p.streams {
				s.tick(now, frame)
			}
			p.mu.Unlock()
		}
	}
}

// Close stops the pacer and waits for it; it is idempotent.
func (p *pacer) Close() error {
	p.once.Do(func() { close(p.stop) })
	<-p.done
	return nil
}
