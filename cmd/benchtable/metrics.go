package main

import (
	"time"

	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// metrics are the rows of the table, in the order.
func metrics(t *tools) []benchtab.Metric {
	call := sipCall{calls: 30, rate: 10, pause: time.Second}
	rows := []benchtab.Metric{
		forwardPlain(),
		forwardSRTP(),
		fanoutMarginal(50), fanoutMarginal(200),
		{Name: "webrtc_leg", Kind: benchtab.Cost, Unit: "pkt", Subject: webrtcLeg(t, 5), Reference: barePeerConnections(5), Target: benchtab.Target{AtMost: true, Value: 1.2}},
		allocsPerPacket(),
	}
	rows = append(rows, mixOpusRows()...)
	rows = append(rows,
		benchtab.Metric{
			Name: "mix_g711_capacity", Variant: "N=30", Kind: benchtab.Capacity, Unit: "participants",
			Subject:   g711Capacity(t, 30, 3),
			Reference: udpCeiling(150),
			Target:    benchtab.Target{Value: 0.5},
		},
		benchtab.Metric{
			Name: "switch_latency", Variant: "1000 switches", Kind: benchtab.Cost, Unit: "switch",
			Subject:   switchLatency(t, switchRun{rooms: 15, switches: 200, turn: 2 * time.Second}),
			Reference: pliRoundTrip(200),
			Target:    benchtab.Target{AtMost: true, Value: 1, Also: "p95 ÷ (2 frame intervals + one PLI round trip); zero sequence gaps"},
		},
		benchtab.Metric{
			Name: "sip_cpu_per_call", Variant: "10 cps", Kind: benchtab.Cost, Unit: "call",
			Subject:   sipCPUBifrost(t, call),
			Reference: sipCPUSIPp(t, call),
			Target:    benchtab.Target{AtMost: true, Value: 2, Also: "no failed call"},
		},
	)
	rows = append(rows, idleParticipantRows(t)...)
	return rows
}
