// Command benchtable prints the table of `make bench`: every performance
// metric of issue 10, its subject and its reference measured alternately in
// the same run (internal/benchtab), the ratio, the target and the verdict.
//
//	go run ./cmd/benchtable [-rounds 5] [-size 1] [-only REGEXP] [-cpuprofile FILE]
//
// The rows, each against a reference this command measures itself (the
// README's Performance section says what each compares):
//
//   - forward_plain, forward_srtp: SIP→SIP H.264 packets forwarded per
//     CPU-second by a real bridge and SIP server ÷ a batched raw UDP echo
//     (forward*.go).
//   - fanout_marginal: the extra CPU per extra receiver packet, N = 50 and
//     200 ÷ a raw sendmmsg's per-packet cost (forward_fanout.go).
//   - webrtc_leg: the bridge's CPU per packet its WebRTC legs deliver ÷ two
//     bare pion PeerConnections (webrtc_leg.go, webrtc.go).
//   - allocs_per_packet: heap allocations per forwarded packet
//     (forward_allocs.go).
//   - mix_opus, mix_opus_vs_naive: CPU per 20 ms tick of an Opus room in
//     bridge/media's mixer ÷ the libopus work it needs, and its participants
//     per core ÷ one decoder and one encoder per participant (mix.go).
//   - mix_g711_capacity: G.711 participants per core of a real bridge ÷ the
//     loopback UDP ceiling (capacity.go, udp.go).
//   - switch_latency: talker change → the new talker's keyframe at the
//     receivers ÷ two frame intervals plus a PLI round trip (switch.go).
//   - sip_cpu_per_call: Bifrost's CPU per call ÷ SIPp's own UAS's, the
//     same SIPp UAC scenario (testdata/uac_call.xml) at the same rate
//     (sipp.go).
//   - idle_participant: CPU, RSS, wake-ups and the fastest timer per idle
//     browser ÷ a bare pion PeerConnection (webrtc_idle.go).
//
// With -size below 1 every harness runs briefly: that is the smoke test
// `make test` runs (it asserts that each harness yields a number, never a
// timing).
package main
