package main

import (
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// notBuilt is what the rows of issue 10 that measure issue 7's and 8's
// work wait for.
const (
	needsVideo = "needs the SIP video forwarding of issue 7"
	needsSRTP  = "needs SRTP on SIP legs (issue 7)"
)

// metrics are the rows of the table, in the order.
func metrics(t *tools) []benchtab.Metric {
	call := sipCall{calls: 30, rate: 10, pause: time.Second}
	rows := []benchtab.Metric{
		{Name: "forward_plain", Target: benchtab.Target{Value: 0.5}, NotBuilt: needsVideo},
		{Name: "forward_srtp", Target: benchtab.Target{Value: 0.4}, NotBuilt: needsSRTP},
		{Name: "fanout_marginal", Target: benchtab.Target{AtMost: true, Value: 1.5}, NotBuilt: needsVideo},
		{Name: "webrtc_leg", Kind: benchtab.Cost, Unit: "pkt", Subject: webrtcLeg(t, 5), Reference: barePeerConnections(5), Target: benchtab.Target{AtMost: true, Value: 1.2}},
		{Name: "allocs_per_packet", Target: benchtab.Target{AtMost: true, Value: 0}, NotBuilt: needsVideo},
	}
	for _, n := range []int{10, 50} {
		rows = append(rows, benchtab.Metric{
			Name: "mix_opus", Variant: "N=" + itoa(n), Kind: benchtab.Cost, Unit: "tick",
			Subject:   mixerRoom(media.Opus, n, 500),
			Reference: codecWork(media.Opus, n, talkers+1, 500),
			Target:    benchtab.Target{AtMost: true, Value: 1.3},
		}, benchtab.Metric{
			Name: "mix_opus_vs_naive", Variant: "N=" + itoa(n), Kind: benchtab.Capacity, Unit: "rooms",
			Subject:   perRoomSecond(mixerRoom(media.Opus, n, 500)),
			Reference: perRoomSecond(codecWork(media.Opus, n, n, 500)),
			Target:    benchtab.Target{Value: 3, Also: "participants per core vs one encoder per participant"},
		})
	}
	rows = append(rows,
		benchtab.Metric{
			Name: "mix_g711_capacity", Variant: "N=30", Kind: benchtab.Capacity, Unit: "participants",
			Subject:   g711Capacity(t, 30, 3),
			Reference: udpCeiling(150),
			Target:    benchtab.Target{Value: 0.5},
		},
		benchtab.Metric{Name: "switch_latency", Target: benchtab.Target{AtMost: true, Value: 2, Also: "frame intervals + one PLI round trip, p95"}, NotBuilt: needsVideo},
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
