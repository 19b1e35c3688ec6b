// Command benchtable prints the table of `make bench`: every performance
// metric of issue 10, its subject and its reference measured alternately in
// the same run (internal/benchtab), the ratio, the target and the verdict.
//
//	go run ./cmd/benchtable [-rounds 5] [-size 1] [-only REGEXP]
//
// The rows measured today:
//
//   - mix_g711_capacity: G.711 participants per core of a real bridge
//     (bridge + bridge/sipcall in this process, callers placed by
//     bifrost-load in a child process, whose CPU is not counted) ÷ the UDP
//     ceiling: 50 receives and 50 sends of a 172-byte datagram per
//     participant-second on loopback.
//   - mix_opus: CPU per 20 ms tick of an Opus room in bridge/media's mixer
//     (3 talkers, N = 10 and 50) ÷ the libopus work such a room needs: a
//     decode of every participant's packet (the mixer measures everyone to
//     find the talkers) and four encodes (each talker's personal mix and
//     the listeners' shared one). mix_opus_vs_naive compares the mixer's
//     participants per core with one decoder and one encoder per
//     participant (target ≥ 3).
//   - sip_cpu_per_call: Bifrost's CPU per call ÷ SIPp's own UAS's, the
//     same SIPp UAC scenario (testdata/uac_call.xml) at the same rate.
//
// The rows that need the bridge's video, SRTP and WebRTC work (issues 7
// and 8) are listed as "not built yet". With -size below 1 every harness
// runs briefly: that is the smoke test `make test` runs (it asserts that
// each harness yields a number, never a timing).
package main
