// Package sipcall owns Bifrost's SIP legs: the SIP user agent built on
// github.com/emiago/sipgo, its UDP, TCP and TLS listeners (tls.go: SIP
// over TLS, SIPS Contacts per RFC 5630), and calls into rooms.
//
// A call is an INVITE dialog (RFC 3261) whose request-URI user names a
// room: the offer is negotiated with pion/sdp (sdp_offer.go, sdp_answer.go;
// RFC 3264; the first audio stream and the main H.264 video stream are
// taken, every other m-line, content and BFCP included, is answered with
// port 0), the leg gets an RTP/RTCP port pair and a media session
// (media.go, rtcp.go: RFC 3550 reports, symmetric RTP, inactivity timeout;
// dtmf.go: RFC 4733 and INFO digits), and is admitted into the room through
// Rooms, which the bridge satisfies (BridgeRooms).
//
// Video (sdp_video.go, video*.go): H.264 (RFC 6184) answered under a
// configured ceiling (Config.VideoMax, default 720p30 at 1.5 Mbit/s:
// profile-level-id and max-* parameters, b=AS and b=TIAS), packetization
// mode 1 preferred, rtcp-fb as offered. A video leg is a
// bridge.VideoSwitched leg: a second port pair, the bridge's rewritten
// stream sent with our SSRC, SR/RR, PLI/FIR (RFC 4585, RFC 5104) or SIP INFO
// picture_fast_update (RFC 5168) both ways, NACK retransmission and
// TMMBR/REMB. Golden answers to the shared real-world offers live under
// testdata/golden (go test -run TestGoldenAnswers -update rewrites them). Inside the dialog it takes ACK (with the
// answer to a late offer), BYE, CANCEL before the answer, re-INVITE and
// UPDATE (hold, resume, address change, RFC 4028 session refresh), INFO
// and OPTIONS. Refusals are *StatusError values that carry their SIP
// status (404 unknown room, 486 full, 403 locked, 488 with a Warning, 503
// when the port range is exhausted).
//
// Requests outside our dialogs get the status RFC 3261 prescribes (see
// methods.go); OPTIONS is answered in and out of dialogs (RFC 3261 §11).
//
// Media is encrypted with SRTP keyed by SDES (RFC 4568) when the endpoint
// offers it: sdp_crypto.go parses and answers a=crypto lines (outside
// input, fuzzed), sdp_security.go applies the SRTP policy (required,
// preferred, off; the room's, else Config.SRTP) to RTP/SAVP(F) and to
// Cisco's best-effort RTP/AVP with crypto, and srtp.go is the protection
// layer every RTP and RTCP packet of a media session passes through
// (mediaCrypto, swapped when a re-INVITE changes keys). The video m-line
// is keyed the same way with keys of its own (sdp_video_security.go), and
// must be whenever the audio is: plain video next to SRTP audio is
// declined, and LegInfo.Encryption says srtp-sdes only when every active
// stream is encrypted. Keys are never logged: sdesKeys prints its suite
// only.
//
// sipcall imports bridge and bridge/media and must not import storage
// packages (migrations, directory, cdr) nor webadmin: what a call needs
// from storage arrives through the bridge.
package sipcall
