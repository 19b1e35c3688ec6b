// Package webcall lets browsers join the bridge's rooms over WebRTC (issue 8).
//
// Each browser opens one WebSocket (github.com/coder/websocket) to the server
// and, once admitted, one RTCPeerConnection (pion/webrtc v4). The server is
// ICE-lite (RFC 8445 §2.5): all media of all browsers arrives on one UDP port
// (pion's UDP mux), with one TCP port as the fallback for networks that block
// UDP (ICE-TCP, RFC 6544); a configured public address is announced in place of
// the local one (1:1 NAT). Media is always DTLS-SRTP (RFC 5764, RFC 8827).
//
// # Media
//
// Audio: the browser sends Opus (RFC 7587) and receives the room's N−1 mix as
// one Opus track, made by the same mixer SIP legs use. Video: H.264 constrained
// baseline, packetization-mode 1 (RFC 6184) only, so that browser and SIP video
// meet without transcoding. The browser's camera goes to the bridge through
// Participant.ReceiveVideo; every other participant's video comes back as a
// track of its own (the leg is a VideoForwarded bridge.VideoLeg), up to a cap of
// tiles with the active speakers first. A browser's PLI or FIR (RFC 4585
// §6.3.1, RFC 5104 §4.3.1) on a track becomes Participant.KeyframeRequested of
// that track's source, and the bridge's RequestKeyframe becomes a PLI to the
// browser. Transport-wide congestion control feedback (draft-holmer-rmcat-
// transport-wide-cc-extensions-01) is sent for the browser's camera, so its
// encoder adapts to its uplink, and a REMB (draft-alvestrand-rmcat-remb-03)
// every second caps its camera at Config.TileBitrate. The browser's own REMB
// estimates its downlink: when that carries fewer tiles of TileBitrate than
// it is shown, it gets fewer tiles (active speakers first) until the link
// recovers, so a poor link degrades instead of freezing every picture.
//
// # Cost per participant
//
// A silent room's mix (the mixer's repeated packet of silence) goes out as
// a packet every 400 ms; the mix never goes out with Opus DTX (leg.go says
// why).
// A session has one timer of its own (1 s: camera cap and tiles, and every
// 20th tick the WebSocket ping); each PeerConnection has pion's RTCP report
// loops (1 s) and, only once its camera sent, the NACK generator and TWCC
// feedback loops (10 Hz). Server.Timers and Server.Packets expose the
// counts the benchmarks (cmd/benchtable's webrtc_leg and idle_participant)
// read.
//
// # Signalling protocol
//
// Every WebSocket message is one JSON object with a "type". The server makes
// every offer (it owns the set of tracks), so there is never glare. In order:
//
//	browser → server  {"type":"join","name":"Ada","pin":"1234"}
//	server → browser  {"type":"joined","id":"<participant id>","room":"Board room",
//	                   "ice_servers":[{"urls":["turn:turn.example:3478"],"username":"…","credential":"…"}]}
//	server → browser  {"type":"offer","sdp":"v=0…"}        (again whenever tracks change)
//	browser → server  {"type":"answer","sdp":"v=0…"}       (one per offer)
//	browser → server  {"type":"candidate","candidate":"candidate:…","sdp_mid":"0","sdp_mline_index":0}
//	server → browser  {"type":"participants","participants":[{"id":"…","name":"…","protocol":"sip",
//	                   "muted":false,"video":true}],"active_speaker":"…"}
//	server → browser  {"type":"speaker","id":"…"}           (active speaker; "" when nobody)
//	browser → server  {"type":"mute","audio":true,"video":false}
//	browser → server  {"type":"leave"}
//	server → browser  {"type":"error","code":"wrong_pin","message":"…"}
//	server → browser  {"type":"bye","reason":"kicked"}      (then the server closes)
//
// The server's offers carry all its ICE candidates (it is ICE-lite with host
// candidates only, gathered at once); the browser trickles its own. Error codes
// are the Code constants (wrong_pin, room_not_found, room_locked, room_full,
// bad_message, out_of_order, shutting_down, internal). After wrong_pin,
// room_full and room_locked the connection stays open and the browser may send
// another join (three wrong PINs end it); after any other error the server
// closes it. When the media connection fails the server closes the socket
// without a bye. A browser whose WebSocket drops has left the room: it reconnects
// with a new join and becomes a new participant, and nobody else reconnects.
// Each track's stream ID (a=msid) is the participant ID of its source, which
// the participants message names.
package webcall
