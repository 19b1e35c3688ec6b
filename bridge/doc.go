// Package bridge owns virtual meeting rooms, their participants and the media core
// that mixes audio and switches video between them.
//
// Protocol legs (bridge/sipcall, later bridge/webcall and bridge/h323call) join rooms
// through this package; storage reaches it only through the small interfaces it
// declares (a Resolver for dialled aliases, a CallObserver for call records), which
// cmd/bifrost adapts. It must not import migrations, directory, cdr or webadmin.
//
// A leg resolves the dialled alias with Bridge.Resolve and enters the room with
// Bridge.Admit, handing over a Leg (what the bridge may do to the call). The
// first participant starts the room's conference (a fresh ConferenceID); the
// last one's Participant.Leave ends it. A participant waits in the lobby while
// the PIN IVR (ivr.go) plays spoken prompts (bridge/prompts) through the leg's
// codec and collects DTMF, and, as a guest in a room whose guests wait for the
// host, until a host is in; then it joins the conference's mixer
// (bridge/media), which sends it every 20 ms the mix of the others.
//
// Concurrency: each conference serialises the operations that change its mix
// (join, leave, mute) and calls out (CallObserver, Leg.Hangup, room event
// subscribers) from one goroutine of its own, in the order the changes
// happened; the audio path (ReceiveAudio, the mixer's sink) takes no lock of
// this package.
package bridge
