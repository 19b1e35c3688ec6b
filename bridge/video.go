package bridge

import "github.com/pion/rtp"

// VideoMode says how a leg receives the room's video.
type VideoMode int

// The video modes.
const (
	// VideoNone: the leg carries no video (audio-only call, or no common
	// video codec). A leg that does not implement VideoLeg is VideoNone.
	VideoNone VideoMode = iota
	// VideoSwitched: the leg receives one video stream that shows the active
	// speaker (the speaker sees the previous speaker): SIP and H.323
	// endpoints. The bridge switches only on a keyframe of the new source and
	// rewrites sequence numbers and timestamps so that the leg's one outgoing
	// stream is continuous across switches.
	VideoSwitched
	// VideoForwarded: the leg receives every other participant's stream, each
	// as its own source (SFU forwarding), up to the leg's tile cap, active
	// speakers first: browsers.
	VideoForwarded
)

// VideoLeg is implemented by legs that negotiated video (H.264, RFC 6184).
// The bridge calls it from its own goroutines; none of its methods may block.
type VideoLeg interface {
	// VideoMode says how the leg receives video; VideoNone turns video off
	// for the leg (it may change after a re-INVITE).
	VideoMode() VideoMode
	// SendVideo sends one RTP packet of source's video toward the
	// participant. For a VideoSwitched leg, pkt's SequenceNumber and
	// Timestamp are already rewritten into the leg's one continuous outgoing
	// stream; the leg sets its own SSRC and payload type. For a
	// VideoForwarded leg, pkt is the source's packet as received and the leg
	// maps each source to a track of its own. pkt (and its payload) is valid
	// only during the call: the leg sends it at once or copies it.
	SendVideo(source ParticipantID, pkt *rtp.Packet)
	// RequestKeyframe asks the participant's endpoint for a keyframe of the
	// video it sends: RTCP PLI or FIR when negotiated (RFC 4585, RFC 5104),
	// otherwise SIP INFO picture_fast_update (RFC 5168). The bridge throttles
	// and deduplicates requests before calling it.
	RequestKeyframe()
}

// ReceiveVideo hands in one RTP packet of the participant's own video (the
// leg has decrypted it and checked its payload type). The bridge routes it to
// the other participants' legs. It does not block; pkt is not kept after it
// returns.
func (p *Participant) ReceiveVideo(pkt *rtp.Packet) {
	p.conf.receiveVideo(p, pkt)
}

// KeyframeRequested says that the participant's endpoint asked (RTCP PLI/FIR
// or SIP INFO) for a keyframe of the video it receives: of source's stream for
// a VideoForwarded leg, or of whatever it is shown now when source is empty
// (VideoSwitched legs). The bridge forwards the request to the source,
// throttled. It does not block.
func (p *Participant) KeyframeRequested(source ParticipantID) {
	p.conf.keyframeRequested(p, source)
}

// receiveVideo and keyframeRequested are the video router's entry points
// (video_router.go).
func (c *conference) receiveVideo(from *Participant, pkt *rtp.Packet) { c.video.receive(from, pkt) }

func (c *conference) keyframeRequested(from *Participant, source ParticipantID) {
	c.video.keyframeRequested(from, source)
}
