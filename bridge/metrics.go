package bridge

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the bridge's Prometheus series.
type metrics struct {
	reg          prometheus.Registerer
	collectors   []prometheus.Collector
	rooms        prometheus.Gauge
	participants *prometheus.GaugeVec
	admitted     *prometheus.CounterVec
	rejected     *prometheus.CounterVec
	pinFailures  prometheus.Counter
	mixers       *mixerCollector // metrics_mixer.go
}

// newMetrics creates the series and registers them on reg, which may be nil.
// A registration error (a second Bridge on one registry) is logged, not fatal:
// the series then simply are not exported.
func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	m := &metrics{
		reg: reg,
		rooms: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "bifrost", Subsystem: "bridge", Name: "active_rooms",
			Help: "Rooms with a live conference.",
		}),
		participants: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "bifrost", Subsystem: "bridge", Name: "participants",
			Help: "Participants in live conferences (PIN entry and waiting included), by protocol.",
		}, []string{"protocol"}),
		admitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "bifrost", Subsystem: "bridge", Name: "participants_admitted_total",
			Help: "Legs admitted to a conference, by protocol.",
		}, []string{"protocol"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "bifrost", Subsystem: "bridge", Name: "admissions_rejected_total",
			Help: "Legs refused by a conference, by reason (full, locked).",
		}, []string{"reason"}),
		pinFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "bifrost", Subsystem: "bridge", Name: "pin_failures_total",
			Help: "Wrong or missing PIN entries.",
		}),
		mixers: newMixerCollector(),
	}
	m.collectors = []prometheus.Collector{m.rooms, m.participants, m.admitted, m.rejected, m.pinFailures, m.mixers}
	if reg != nil {
		for _, c := range m.collectors {
			if err := reg.Register(c); err != nil {
				log.Warn("bridge metrics not registered", "err", err)
			}
		}
	}
	return m
}

// unregister removes the series from the registry (Close).
func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}
