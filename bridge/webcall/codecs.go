package webcall

import (
	"github.com/pion/webrtc/v4"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// Payload types the server offers (browsers follow the offerer's).
const (
	ptOpus = 111
	ptH264 = 102
)

// h264Fmtp is the only video format: H.264 constrained baseline level 3.1,
// packetization-mode 1 (RFC 6184 §8.1), what SIP endpoints send too.
const h264Fmtp = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"

var (
	opusCodec = webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: uint32(media.Opus.ClockRate), Channels: 2,
		SDPFmtpLine: "minptime=10;useinbandfec=1",
	}
	h264Codec = webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeH264, ClockRate: 90000, SDPFmtpLine: h264Fmtp,
		RTCPFeedback: []webrtc.RTCPFeedback{
			{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"},
			{Type: "nack"}, {Type: "nack", Parameter: "pli"},
		},
	}
)

// registerCodecs registers Opus and H.264 only: nothing that would need
// transcoding to meet a SIP endpoint.
func registerCodecs(me *webrtc.MediaEngine) error {
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: opusCodec, PayloadType: ptOpus}, webrtc.RTPCodecTypeAudio); err != nil {
		return err
	}
	return me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: h264Codec, PayloadType: ptH264}, webrtc.RTPCodecTypeVideo)
}
