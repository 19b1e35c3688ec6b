package bridge

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// value gathers reg and returns the value of the series name (with the label
// value lv if not empty), or -1 if absent.
func value(t *testing.T, reg *prometheus.Registry, name, lv string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if lv != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != lv) {
				continue
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

func TestMetricsCountRoomsParticipantsAndPINFailures(t *testing.T) {
	h := newHarness(t, Config{})
	reg := prometheus.NewRegistry()
	h.b.metrics = newMetrics(reg, h.b.log)

	p, _, _ := h.admit(openRoom(), "alice")
	room2 := pinRoom("1234", "")
	room2.ID = "room-2"
	q, _, _ := h.admit(room2, "bob")
	if got := value(t, reg, "bifrost_bridge_active_rooms", ""); got != 2 {
		t.Errorf("active rooms %v; want 2", got)
	}
	if got := value(t, reg, "bifrost_bridge_participants", "sip"); got != 2 {
		t.Errorf("sip participants %v; want 2", got)
	}
	keys(q, "9#")
	h.clock.Advance(tick, tick)
	waitFor(t, "the PIN failure to count", func() bool { return value(t, reg, "bifrost_bridge_pin_failures_total", "") == 1 })
	p.Leave(EndHungUp, 0)
	q.Leave(EndHungUp, 0)
	if got := value(t, reg, "bifrost_bridge_active_rooms", ""); got != 0 {
		t.Errorf("active rooms after everyone left %v; want 0", got)
	}
	if got := value(t, reg, "bifrost_bridge_participants", "sip"); got != 0 {
		t.Errorf("sip participants after everyone left %v; want 0", got)
	}
	if err := h.b.Lock(context.Background(), "x", true); err == nil {
		t.Error("locking a conference that ended: no error")
	}
}

// TestMixerTickOverrunsAreCountedAcrossConferences reads the mixers' counters
// through Prometheus: live mixers are read when scraped, and a closed mixer's
// counts stay in the totals, so the counters never go down.
func TestMixerTickOverrunsAreCountedAcrossConferences(t *testing.T) {
	h := newHarness(t, Config{})
	reg := prometheus.NewRegistry()
	h.b.metrics = newMetrics(reg, h.b.log)
	if got := value(t, reg, "bifrost_bridge_mixer_tick_overruns_total", ""); got != 0 {
		t.Errorf("overruns before any conference %v; want 0", got)
	}

	p, _, _ := h.admit(openRoom(), "alice")
	h.mixer(0).setStats(500, 3)
	if got := value(t, reg, "bifrost_bridge_mixer_tick_overruns_total", ""); got != 3 {
		t.Errorf("overruns of the live mixer %v; want 3", got)
	}
	if got := value(t, reg, "bifrost_bridge_mixer_ticks_total", ""); got != 500 {
		t.Errorf("ticks of the live mixer %v; want 500", got)
	}
	p.Leave(EndHungUp, 0)
	waitFor(t, "the first mixer to close", func() bool { m := h.mixer(0); m.mu.Lock(); defer m.mu.Unlock(); return m.closed })

	q, _, _ := h.admit(openRoom(), "bob") // a new conference, a new mixer
	h.mixer(1).setStats(100, 2)
	waitFor(t, "the closed mixer's counts to be kept", func() bool {
		return value(t, reg, "bifrost_bridge_mixer_tick_overruns_total", "") == 5
	})
	if got := value(t, reg, "bifrost_bridge_mixer_ticks_total", ""); got != 600 {
		t.Errorf("ticks of both mixers %v; want 600", got)
	}
	q.Leave(EndHungUp, 0)
}

// The ticks mixed at 8 kHz (every participant G.711) are counted across
// conferences like the other mixer counters: live and closed mixers.
func TestMixerNarrowTicksAreCounted(t *testing.T) {
	h := newHarness(t, Config{})
	reg := prometheus.NewRegistry()
	h.b.metrics = newMetrics(reg, h.b.log)
	setNarrow := func(m *fakeMixer, ticks, narrow uint64) {
		m.mu.Lock()
		m.stats = media.MixerStats{Ticks: ticks, NarrowTicks: narrow}
		m.mu.Unlock()
	}
	p, _, _ := h.admit(openRoom(), "alice")
	setNarrow(h.mixer(0), 500, 400)
	if got := value(t, reg, "bifrost_bridge_mixer_narrow_ticks_total", ""); got != 400 {
		t.Errorf("narrow ticks of the live mixer %v; want 400", got)
	}
	p.Leave(EndHungUp, 0)
	waitFor(t, "the first mixer to close", func() bool { m := h.mixer(0); m.mu.Lock(); defer m.mu.Unlock(); return m.closed })
	q, _, _ := h.admit(openRoom(), "bob")
	setNarrow(h.mixer(1), 100, 30)
	if got := value(t, reg, "bifrost_bridge_mixer_narrow_ticks_total", ""); got != 430 {
		t.Errorf("narrow ticks of both mixers %v; want 430", got)
	}
	q.Leave(EndHungUp, 0)
}
