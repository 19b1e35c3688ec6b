package bridge

import (
	"sync"
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// mediaMixer adapts *media.Mixer to audioMixer.
type mediaMixer struct{ m *media.Mixer }

// mediaMixer builds a conference's mixer from package media, paced by the
// bridge's clock.
func (b *Bridge) mediaMixer(maxSpeakers int, onSpeaker func(ParticipantID)) audioMixer {
	return mediaMixer{media.NewMixer(media.MixerConfig{
		MaxSpeakers:     maxSpeakers,
		OpusComplexity:  b.cfg.OpusComplexity,
		Clock:           mediaClock{b.clock, &b.beat},
		Logger:          b.log.With("component", "mixer"),
		OnActiveSpeaker: func(id media.PortID) { onSpeaker(ParticipantID(id)) },
	})}
}

func (m mediaMixer) AddPort(id ParticipantID, codec media.AudioCodec, opts media.EncoderOptions, sink func([]byte)) (audioPort, error) {
	port, err := m.m.AddPortWith(media.PortID(id), codec, opts, sink)
	if err != nil {
		return nil, err
	}
	return port, nil
}

func (m mediaMixer) Close() { m.m.Close() }

// Stats returns the mixer's counters (metrics_mixer.go).
func (m mediaMixer) Stats() media.MixerStats { return m.m.Stats() }

// mediaClock gives the mixer the bridge's clock. On the system clock every
// mixer of the bridge ticks on the bridge's frame beat (frameBeat), after
// the hooks registered with BeforeMix: the SIP legs drain their sockets
// there, so each tick finds every datagram that arrived before it, and the
// process wakes once per frame for all of it.
type mediaClock struct {
	c    Clock
	beat *frameBeat
}

func (m mediaClock) NewTicker(d time.Duration) media.Ticker {
	if _, ok := m.c.(SystemClock); ok && d == media.FrameDuration && m.beat != nil {
		return m.beat.newTicker()
	}
	return m.c.NewTicker(d)
}

// BeforeMix registers hook to run on the bridge's frame beat, every 20 ms,
// just before the mixers tick (on the system clock; with another clock,
// hook runs every 20 ms on its own). It returns a function that removes
// the hook and waits until it is not running. hook must return quickly
// and must not call BeforeMix or the remove function.
func (b *Bridge) BeforeMix(hook func()) (remove func()) {
	return b.beat.addHook(hook)
}

// frameBeat is one 20 ms timer for a whole bridge: on each beat it runs
// the BeforeMix hooks, then ticks every mixer. It runs while it has a hook
// or a ticker.
type frameBeat struct {
	mu      sync.Mutex
	hooks   map[int]func()
	nextID  int
	tickers map[*beatTicker]struct{}
	stop    chan struct{}
	done    chan struct{}
	// running is held while the hooks run, so that removing one waits.
	running sync.Mutex
}

// beatTicker is a mixer's ticker on the beat: like time.Ticker, it drops a
// tick the mixer is not ready for.
type beatTicker struct {
	b *frameBeat
	c chan time.Time
}

func (t *beatTicker) C() <-chan time.Time { return t.c }
func (t *beatTicker) Stop()               { t.b.remove(func() { delete(t.b.tickers, t) }) }

func (fb *frameBeat) newTicker() *beatTicker {
	t := &beatTicker{b: fb, c: make(chan time.Time, 1)}
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if fb.tickers == nil {
		fb.tickers = make(map[*beatTicker]struct{})
	}
	fb.tickers[t] = struct{}{}
	fb.startLocked()
	return t
}

func (fb *frameBeat) addHook(hook func()) (remove func()) {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if fb.hooks == nil {
		fb.hooks = make(map[int]func())
	}
	id := fb.nextID
	fb.nextID++
	fb.hooks[id] = hook
	fb.startLocked()
	var once sync.Once
	return func() {
		once.Do(func() {
			fb.remove(func() { delete(fb.hooks, id) })
			// A beat that took the hook before it was removed is over
			// once running is free.
			fb.running.Lock()
			//lint:ignore SA2001 an empty critical section waits for the beat in progress
			fb.running.Unlock()
		})
	}
}

// remove applies del under the lock and stops the beat when nothing is
// left, waiting for it.
func (fb *frameBeat) remove(del func()) {
	fb.mu.Lock()
	del()
	var stop, done chan struct{}
	if len(fb.hooks) == 0 && len(fb.tickers) == 0 && fb.stop != nil {
		stop, done = fb.stop, fb.done
		fb.stop, fb.done = nil, nil
	}
	fb.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

func (fb *frameBeat) startLocked() {
	if fb.stop != nil {
		return
	}
	fb.stop, fb.done = make(chan struct{}), make(chan struct{})
	go fb.run(fb.stop, fb.done)
}

func (fb *frameBeat) run(stop, done chan struct{}) {
	defer close(done)
	tick := time.NewTicker(media.FrameDuration)
	defer tick.Stop()
	var (
		hooks   []func()
		tickers []*beatTicker
	)
	for {
		var now time.Time
		select {
		case <-stop:
			return
		case now = <-tick.C:
		}
		fb.mu.Lock()
		hooks, tickers = hooks[:0], tickers[:0]
		for _, h := range fb.hooks {
			hooks = append(hooks, h)
		}
		for t := range fb.tickers {
			tickers = append(tickers, t)
		}
		fb.running.Lock()
		fb.mu.Unlock()
		for _, h := range hooks {
			h()
		}
		fb.running.Unlock()
		for i, t := range tickers {
			select {
			case t.c <- now:
			default:
			}
			tickers[i] = nil
		}
		clear(hooks)
	}
}

func mediaEncoder(c media.AudioCodec) (media.Encoder, error) { return media.NewEncoder(c) }
