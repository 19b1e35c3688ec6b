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
// Video (video.go, video_router.go) is routed, never decoded: legs that
// implement VideoLeg hand in H.264 RTP with Participant.ReceiveVideo. A
// VideoSwitched leg (SIP) gets the active speaker, the speaker the previous
// one, in one continuous rewritten stream, switched at the new source's
// keyframe (bridge/video); a VideoForwarded leg (WebRTC) gets every other
// source as received, up to Config.VideoTiles, speakers first. Keyframe
// requests go to the sources throttled.
//
// Concurrency: each conference serialises the operations that change its mix
// (join, leave, mute) and calls out (CallObserver, Leg.Hangup, room event
// subscribers) from one goroutine of its own, in the order the changes
// happened; the audio path (ReceiveAudio, the mixer's sink) takes no lock of
// this package.
package bridge
