package main

import "github.com/bifrost-video/bifrost/internal/benchtab"

// forwardPlain is the forward_plain row: SIP→SIP plain RTP video
// forwarded packets per CPU-second ÷ a batched raw UDP echo's.
func forwardPlain() benchtab.Metric {
	return benchtab.Metric{
		Name: "forward_plain", Variant: "16k pkt/s", Kind: benchtab.Capacity, Unit: "packets",
		Subject:   forwardBridge(false, forwardPace),
		Reference: forwardEcho(forwardPace),
		Target:    benchtab.Target{Value: 0.5},
	}
}

// forwardSRTP is the forward_srtp row: the same with SRTP
// (AEAD_AES_128_GCM) on both legs, ÷ the same plain echo.
func forwardSRTP() benchtab.Metric {
	return benchtab.Metric{
		Name: "forward_srtp", Variant: "16k pkt/s GCM", Kind: benchtab.Capacity, Unit: "packets",
		Subject:   forwardBridge(true, forwardPace),
		Reference: forwardEcho(forwardPace),
		Target:    benchtab.Target{Value: 0.4},
	}
}

// fanoutMarginal is the fanout_marginal row at n receivers: extra CPU
// per extra subscriber packet ÷ a raw sendmmsg's CPU per packet.
func fanoutMarginal(n int) benchtab.Metric {
	return benchtab.Metric{
		Name: "fanout_marginal", Variant: "N=" + itoa(n), Kind: benchtab.Cost, Unit: "packet",
		Subject:   fanoutBridge(n, fanoutPace),
		Reference: sendmmsgCost(n, fanoutPace),
		Target:    benchtab.Target{AtMost: true, Value: 1.5},
	}
}

// allocsPerPacket is the allocs_per_packet row: heap allocations per
// forwarded packet in the steady state, SRTP on both legs.
func allocsPerPacket() benchtab.Metric {
	return benchtab.Metric{
		Name: "allocs_per_packet", Variant: "SRTP", Kind: benchtab.Count, Unit: "allocs/packet",
		Subject: allocsBridge(true),
		Target:  benchtab.Target{AtMost: true, Value: 0},
	}
}
