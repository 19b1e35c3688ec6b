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
// With --video h264 every call also offers H.264 (RFC 6184) and sends a
// synthetic 720p-sized stream at 30 fps and about 1 Mbit/s from the same
// pacer: valid parameter sets and slice headers, filler slice data, FU-A
// fragments of at most 1200 bytes, and in every frame a tag naming its
// source and number (the bridge rewrites SSRC, sequence numbers and
// timestamps, not payloads). A PLI, FIR or SIP INFO picture_fast_update is
// answered at once with SPS, PPS and an IDR. The callers talk in turns
// (--talk-turn), so the bridge switches the video each of them sees; the
// receivers count frames, sequence gaps and switches, and time each switch
// from the talker change and from the bridge's keyframe request
// (--switch-log writes them one per line).
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
