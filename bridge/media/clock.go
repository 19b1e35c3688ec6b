package media

import "time"

// A Clock makes the tickers that pace the mixer; tests inject a ManualClock.
type Clock interface {
	NewTicker(d time.Duration) Ticker
}

// A Ticker delivers ticks on C until stopped.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// SystemClock is the real clock.
type SystemClock struct{}

// NewTicker returns a time.Ticker.
func (SystemClock) NewTicker(d time.Duration) Ticker { return systemTicker{time.NewTicker(d)} }

type systemTicker struct{ t *time.Ticker }

func (s systemTicker) C() <-chan time.Time { return s.t.C }
func (s systemTicker) Stop()               { s.t.Stop() }

// ManualClock is a Clock for tests: its tickers tick only when Tick is called,
// and Tick returns once the mixer has finished processing that tick, so a
// test can step the mixer frame by frame without sleeping.
type ManualClock struct {
	c   chan time.Time
	ack chan struct{}
	now time.Time
}

// NewManualClock returns a ManualClock starting at an arbitrary fixed time.
func NewManualClock() *ManualClock {
	return &ManualClock{
		c:   make(chan time.Time),
		ack: make(chan struct{}),
		now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// NewTicker returns the clock's single ticker; d is ignored (every Tick is one period).
func (m *ManualClock) NewTicker(time.Duration) Ticker { return manualTicker{m} }

// Tick delivers one tick and waits until the mixer has processed it.
func (m *ManualClock) Tick() {
	m.now = m.now.Add(FrameDuration)
	m.c <- m.now
	<-m.ack
}

// TickN delivers n ticks, each processed before the next.
func (m *ManualClock) TickN(n int) {
	for range n {
		m.Tick()
	}
}

type manualTicker struct{ m *ManualClock }

func (t manualTicker) C() <-chan time.Time { return t.m.c }
func (t manualTicker) Stop()               {}
func (t manualTicker) processed()          { t.m.ack <- struct{}{} }

// FrameDuration is the mixer's tick: one 20 ms frame.
const FrameDuration = 20 * time.Millisecond
