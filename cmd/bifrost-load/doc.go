// Command bifrost-load is a load generator for a Bifrost bridge, for
// operators sizing a deployment and for the project's performance work.
//
//	bifrost-load sip --target sip:1234@bridge.example --callers 50 --codec opus --duration 60s
//
// places N SIP calls as a user agent client (sipgo): an INVITE with an SDP
// offer for one codec and telephone-event, the ACK, then for each call an
// RTP stream of synthetic, speech-like audio (talk spurts, syllables, a
// moving pitch and formants) encoded once at start with the bridge's own
// encoders (bridge/media: Opus through libopus, G.722, G.711), DTMF PIN
// entry as RFC 4733 telephone-events when --pin is given, RTCP sender and
// receiver reports (RFC 3550 §6.4) and the BYE at the end. It receives what
// the bridge sends back and keeps receiver statistics per call: packets,
// loss (RFC 3550 A.3) and interarrival jitter (RFC 3550 A.8).
//
// Once a second it prints a progress line to stderr; at the end a table to
// stdout: calls joined and failed, packets sent and received, loss, jitter,
// join time p50/p99. The exit status is 1 when more calls failed than
// --max-failures (default 0), 2 on a usage error.
//
// Efficiency: all calls' senders run on one goroutine paced by one shared
// 20 ms ticker; each call has one goroutine that reads its socket. Nothing
// is allocated per packet, so one core drives hundreds of calls.
//
// Video (--video h264, answering PLI/FIR and INFO picture_fast_update with
// an IDR) plugs in through the VideoSource interface once the bridge's SIP
// video lands; today the flag says it is not built yet.
//
//	bifrost-load webrtc --url https://bridge.example/join/1234 --peers 20 [--video]
//
// joins N pion WebRTC peers through the join page's signalling WebSocket
// (bridge/webcall's protocol): join, the bridge's offers answered,
// candidates trickled, then Opus from the shared audio loop (one talker at
// a time, in turns; the others send encoded silence) and with --video a
// synthetic H.264 camera (RFC 6184 FU-A, about 1 Mbit/s) answering PLI and
// FIR with an IDR. The peers share one pion API and one 20 ms pacer
// (webrtc_run.go); each reads the mix with the same receiver statistics as
// a SIP call, and counts video and keyframe-after-switch (a new active
// speaker whose video it did not receive, to that track's first
// keyframe). --idle peers join muted and send nothing.
package main
