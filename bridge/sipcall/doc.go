// Package sipcall owns Bifrost's SIP legs: the SIP user agent built on
// github.com/emiago/sipgo, its UDP, TCP and TLS listeners (tls.go: SIP
// over TLS, SIPS Contacts per RFC 5630), and calls into rooms.
//
// A call is an INVITE dialog (RFC 3261) whose request-URI user names a
// room: the offer is negotiated with pion/sdp (sdp_offer.go, sdp_answer.go;
// RFC 3264, audio only for now, other m-lines answered with port 0), the
// leg gets an RTP/RTCP port pair and a media session (media.go, rtcp.go:
// RFC 3550 reports, symmetric RTP, inactivity timeout; dtmf.go: RFC 4733
// and INFO digits), and is admitted into the room through Rooms, which the
// bridge satisfies (BridgeRooms). Inside the dialog it takes ACK (with the
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
// (mediaCrypto, swapped when a re-INVITE changes keys). Keys are never
// logged: sdesKeys prints its suite only.
//
// sipcall imports bridge and bridge/media and must not import storage
// packages (migrations, directory, cdr) nor webadmin: what a call needs
// from storage arrives through the bridge.
package sipcall
