package bridge

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// mixerStatser is a mixer that counts its work (mediaMixer does; the unit
// tests' fakes may).
type mixerStatser interface {
	Stats() media.MixerStats
}

// mixerCollector exports the conferences' mixer counters: ticks mixed and
// tick overruns (a 20 ms frame that took longer than 20 ms to mix: the CPU
// cannot keep up and participants hear gaps), and the ticks mixed at 8 kHz
// because every participant of the room was G.711 (no resampling: the
// cheap case). It reads the live mixers when scraped and keeps the final
// counts of closed ones, so the series only grow.
type mixerCollector struct {
	ticks, overruns, narrow *prometheus.Desc

	mu                                     sync.Mutex
	live                                   map[mixerStatser]struct{}
	closedTicks, closedOvers, closedNarrow uint64
}

func newMixerCollector() *mixerCollector {
	return &mixerCollector{
		ticks: prometheus.NewDesc("bifrost_bridge_mixer_ticks_total",
			"20 ms audio frames mixed by the conferences' mixers.", nil, nil),
		overruns: prometheus.NewDesc("bifrost_bridge_mixer_tick_overruns_total",
			"Mixer ticks that took longer than their 20 ms: the bridge is short of CPU and participants hear gaps.", nil, nil),
		narrow: prometheus.NewDesc("bifrost_bridge_mixer_narrow_ticks_total",
			"20 ms audio frames mixed at 8 kHz without resampling, every participant of the room being G.711.", nil, nil),
		live: make(map[mixerStatser]struct{}),
	}
}

// started adds a conference's mixer; one without counters is ignored.
func (m *mixerCollector) started(a audioMixer) {
	s, ok := a.(mixerStatser)
	if !ok {
		return
	}
	m.mu.Lock()
	m.live[s] = struct{}{}
	m.mu.Unlock()
}

// closed keeps the final counts of a mixer that has been closed.
func (m *mixerCollector) closed(a audioMixer) {
	s, ok := a.(mixerStatser)
	if !ok {
		return
	}
	st := s.Stats()
	m.mu.Lock()
	if _, ok := m.live[s]; ok {
		delete(m.live, s)
		m.closedTicks += st.Ticks
		m.closedOvers += st.Overruns
		m.closedNarrow += st.NarrowTicks
	}
	m.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (m *mixerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.ticks
	ch <- m.overruns
	ch <- m.narrow
}

// Collect implements prometheus.Collector.
func (m *mixerCollector) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	ticks, overs, narrow := m.closedTicks, m.closedOvers, m.closedNarrow
	for s := range m.live {
		st := s.Stats()
		ticks += st.Ticks
		overs += st.Overruns
		narrow += st.NarrowTicks
	}
	m.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(m.ticks, prometheus.CounterValue, float64(ticks))
	ch <- prometheus.MustNewConstMetric(m.overruns, prometheus.CounterValue, float64(overs))
	ch <- prometheus.MustNewConstMetric(m.narrow, prometheus.CounterValue, float64(narrow))
}
