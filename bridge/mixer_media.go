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
		Clock:           mediaClock{b.clock},
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

// mediaClock gives the mixer the bridge's clock. On the system clock the
// mixer ticks on the marks of the wall clock that are multiples of its
// period (every 20 ms since the Unix epoch): the SIP legs drain their
// sockets just before those marks (sipcall's audiobatch.go), so every tick
// finds the datagrams that arrived before it and the process wakes once
// per frame for the drain and once for the mix.
type mediaClock struct{ c Clock }

func (m mediaClock) NewTicker(d time.Duration) media.Ticker {
	if _, ok := m.c.(SystemClock); ok && d > 0 {
		return newGridTicker(d)
	}
	return m.c.NewTicker(d)
}

// gridTicker is a time.Ticker moved, at its first tick, onto the
// multiples of its period since the Unix epoch.
type gridTicker struct {
	t *time.Ticker

	mu      sync.Mutex
	align   *time.Timer
	stopped bool
}

func newGridTicker(d time.Duration) *gridTicker {
	g := &gridTicker{t: time.NewTicker(d)}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.align = time.AfterFunc(untilMark(d), func() { g.moveToGrid(d) })
	return g
}

// gridSlack is how far after a mark a late alignment timer may still
// move the ticker; later, it waits for the next mark.
const gridSlack = time.Millisecond

func (g *gridTicker) moveToGrid(d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	if late := d - untilMark(d); late > gridSlack && late < d {
		g.align = time.AfterFunc(untilMark(d), func() { g.moveToGrid(d) })
		return
	}
	g.t.Reset(d)
}

// untilMark is how long until the next multiple of d since the Unix epoch.
func untilMark(d time.Duration) time.Duration {
	return d - time.Duration(time.Now().UnixNano())%d
}

func (g *gridTicker) C() <-chan time.Time { return g.t.C }

func (g *gridTicker) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = true
	g.align.Stop()
	g.t.Stop()
}

func mediaEncoder(c media.AudioCodec) (media.Encoder, error) { return media.NewEncoder(c) }
