package sipcall

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/video"
)

// A call is a VideoSwitched leg when it negotiated H.264.
var _ bridge.VideoLeg = (*call)(nil)

// videoParticipant is what a participant with video also takes; the
// bridge's Participant implements it.
type videoParticipant interface {
	ReceiveVideo(pkt *rtp.Packet)
	KeyframeRequested(source bridge.ParticipantID)
}

// fastUpdateTimeout bounds the wait for the answer to our INFO.
const fastUpdateTimeout = 5 * time.Second

// pictureFastUpdate is the RFC 5168 §3 body asking for a keyframe.
const pictureFastUpdate = `<?xml version="1.0" encoding="utf-8" ?>
<media_control>
  <vc_primitive>
    <to_encoder>
      <picture_fast_update/>
    </to_encoder>
  </vc_primitive>
</media_control>
`

// startVideo negotiates the offer's video and opens its socket pair. A
// call without H.264 video, or whose video ports could not be allocated,
// stays audio-only: its video m-lines are answered with port 0. The video
// is encrypted under the call's policy, and always when the audio is
// (audio: its keys; see videoPolicy).
//
// Without an offer (offer nil) the video goes into our late offer, with
// keys of its own as the audio's policy asks, and the answer in the ACK
// decides (takeVideoAnswerLocked).
func (s *Server) startVideo(c *call, offer *sdp.SessionDescription, src netip.AddrPort, audio *sdesKeys) {
	if s.cfg.DisableVideo {
		return
	}
	var v videoMedia
	var sec cryptoOffer
	if offer == nil {
		v = offerVideo(s.cfg.VideoMax)
		var err error
		if sec, err = newCryptoOffer(c.policy); err != nil {
			c.log.Warn("sip call: no keys for video, audio only", "error", err)
			return
		}
		v.Profile = strings.Join(sec.protos(), "/")
	} else {
		var ok bool
		if v, ok = negotiateVideo(offer, s.cfg.VideoMax, offeredVideoSecurity(c.policy, audio)); !ok {
			return
		}
	}
	crypto, err := cryptoFor(v.SRTP, nil)
	if err != nil {
		c.log.Warn("sip call: no SRTP context for video, audio only", "error", err)
		return
	}
	vs, err := newVideoSession(s.pool, mediaConfig{
		Latch: !s.cfg.DisableLatching, Signalling: src.Addr(), Now: s.cfg.Now, Log: c.log, Crypto: crypto,
	}, s.cfg.VideoMax, v, videoEvents{
		packet: func(pkt *rtp.Packet) {
			if p, ok := c.participant().(videoParticipant); ok {
				p.ReceiveVideo(pkt)
			}
		},
		keyframeRequested: func() {
			if p, ok := c.participant().(videoParticipant); ok {
				p.KeyframeRequested("")
			}
		},
		fastUpdate: func() { s.background.Go(c.sendFastUpdate) },
		limitKbps:  func() int { return s.roomVideoLimit(c.room.ID, c) },
		out:        &s.videoOut,
	})
	if err != nil {
		c.log.Warn("sip call: no ports for video, audio only", "error", err)
		return
	}
	c.video = vs
	c.videoKeys = v.SRTP
	c.videoOn.Store(true)
	c.local.Video = &localVideo{Media: v, Port: vs.localPort(), Ceiling: s.cfg.VideoMax, Offering: offer == nil, Crypto: sec}
	c.info.VideoCodec = "H264/90000"
}

// takeVideoAnswerLocked reads the answer to our offer's video (late offer,
// re-INVITE without SDP): H.264 in one of the formats we offered, keyed
// as we offered (acceptCryptoAnswer), starts the stream; a refusal (port
// 0, no video m-line, another codec, crypto we did not offer, plain video
// while the audio, whose keys are audio, is encrypted) turns video off for
// the call. The caller holds c.mu.
func (c *call) takeVideoAnswerLocked(answer *sdp.SessionDescription, audio *sdesKeys) {
	lv := c.local.Video
	if c.video == nil || lv == nil {
		return
	}
	offered := lv.Crypto
	if !lv.Offering {
		offered = keepKeys(lv.Media.SRTP, lv.Media.Profile)
	}
	v, ok := negotiateVideo(answer, lv.Ceiling, answeredVideoSecurity(offered, c.policy, audio))
	if !ok || v.Index != lv.Media.Index || (v.PT != lv.Media.PT && !(lv.Offering && v.PT == ptH264Mode0)) {
		c.videoOffLocked()
		return
	}
	if err := c.applyVideoKeysLocked(v.SRTP); err != nil {
		c.log.Warn("sip call: no SRTP context for video, video off", "error", err)
		c.videoOffLocked()
		return
	}
	// The answer's fmtp says what the peer decodes; what it may send us
	// stays what we offered.
	v.Answer = lv.Media.Answer
	v.Answer.PacketizationMode = v.Offered.PacketizationMode
	lv.Media, lv.Offering = v, false
	c.video.update(v)
}

// renegotiateVideoLocked applies a re-offer (hold, resume, a new address,
// new keys) to the call's video; audio is the keys the re-offer's audio
// gets. The stream keeps its payload type and session; its keys change
// when the peer changes its own (RFC 4568 §7.1.4), as the audio's do. A
// re-offer without H.264 video, or with plain video where the video or
// the audio is encrypted (no downgrade mid-call), gets port 0 and stops
// our sending. The caller holds c.mu.
func (c *call) renegotiateVideoLocked(offer *sdp.SessionDescription, audio *sdesKeys) {
	if c.video == nil {
		return
	}
	policy := c.policy.Or(bridge.SRTPPreferred)
	if c.videoKeys != nil {
		policy = bridge.SRTPRequired
	}
	v, ok := negotiateVideo(offer, c.srv.cfg.VideoMax, offeredVideoSecurity(policy, audio))
	if !ok {
		c.videoOffLocked()
		return
	}
	if samePeerKeys(c.videoKeys, v.SRTP) {
		v.SRTP = c.videoKeys // the peer kept its keys: ours stay too
	}
	if err := c.applyVideoKeysLocked(v.SRTP); err != nil {
		c.log.Warn("sip call: no SRTP context for video, video off", "error", err)
		c.videoOffLocked()
		return
	}
	c.local.Video = &localVideo{Media: v, Port: c.video.localPort(), Ceiling: c.srv.cfg.VideoMax}
	c.videoOn.Store(true)
	c.info.VideoCodec = "H264/90000"
	c.video.update(v)
}

// videoOffLocked turns the call's video off after a renegotiation
// refused it: port 0 in our descriptions, nothing sent. The caller holds
// c.mu.
func (c *call) videoOffLocked() {
	c.local.Video = nil
	c.info.VideoCodec = ""
	c.videoOn.Store(false)
	c.video.update(videoMedia{Direction: inactive})
}

// applyVideoKeysLocked installs the video's SRTP layer for k when it
// differs from the keys in use (a new context under an old key would
// reuse key stream, RFC 3711 §9.1). The caller holds c.mu.
func (c *call) applyVideoKeysLocked(k *sdesKeys) error {
	if sameKeys(c.videoKeys, k) {
		return nil
	}
	crypto, err := cryptoFor(k, c.video.crypto.load())
	if err != nil {
		return err
	}
	c.video.crypto.store(crypto)
	c.videoKeys = k
	c.log.Info("sip video keys changed", "encrypted", k != nil)
	return nil
}

// closeVideo stops the video session, if any.
func (c *call) closeVideo() {
	if c.video != nil {
		c.video.close()
	}
}

// VideoMode is VideoSwitched with H.264 negotiated, else VideoNone.
func (c *call) VideoMode() bridge.VideoMode {
	if c.video == nil || !c.videoOn.Load() {
		return bridge.VideoNone
	}
	return bridge.VideoSwitched
}

// SendVideo sends one packet of the bridge's switched stream to the caller.
func (c *call) SendVideo(_ bridge.ParticipantID, pkt *rtp.Packet) {
	if c.video != nil {
		c.video.send(pkt)
	}
}

// RequestKeyframe asks the caller's endpoint for a keyframe.
func (c *call) RequestKeyframe() {
	if c.video != nil {
		c.video.requestKeyframe()
	}
}

// sendFastUpdate sends SIP INFO picture_fast_update (RFC 5168) in the
// dialog and waits, bounded, for its answer.
func (c *call) sendFastUpdate() {
	if c.isEnded() || !c.awaitAnswered() {
		return
	}
	contact := c.sess.InviteRequest.Contact()
	if contact == nil {
		return
	}
	req := sip.NewRequest(sip.INFO, contact.Address)
	req.SetTransport(c.sess.InviteRequest.Transport())
	req.AppendHeader(sip.NewHeader("Content-Type", "application/media_control+xml"))
	req.SetBody([]byte(pictureFastUpdate))
	ctx, cancel := context.WithTimeout(context.Background(), fastUpdateTimeout)
	defer cancel()
	if _, err := c.sess.Do(ctx, req); err != nil {
		c.log.Debug("sip info picture_fast_update failed", "error", err)
	}
}

// onMediaControl takes an INFO application/media_control+xml body: a
// picture_fast_update (RFC 5168 §3) asks for a keyframe of what we send.
func (c *call) onMediaControl(body []byte) {
	if !bytes.Contains(body, []byte("picture_fast_update")) {
		return
	}
	if p, ok := c.participant().(videoParticipant); ok {
		p.KeyframeRequested("")
	}
}

// videoCeiling returns the configured ceiling or the default.
func videoCeiling(c video.Ceiling) video.Ceiling {
	if c.Kbps == 0 {
		return video.DefaultCeiling
	}
	return c
}
