package sipcall

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/bifrost-video/bifrost/bridge/video"
)

// videoFeedback is the RTCP feedback (RFC 4585 §4.2) both sides agreed on
// for a video stream.
type videoFeedback struct {
	NACK  bool // generic NACK, RFC 4585 §6.2.1
	PLI   bool // picture loss indication, RFC 4585 §6.3.1
	FIR   bool // full intra request, RFC 5104 §3.5.1.1
	TMMBR bool // temporary maximum media bit rate, RFC 5104 §3.5.4
	REMB  bool // receiver estimated maximum bit rate (draft-alvestrand-rmcat-remb)
}

// videoMedia is the outcome of an offer/answer exchange for the main video
// stream: the H.264 format both sides use, its feedback, and where.
type videoMedia struct {
	// Index is the position of the video m-line in the offer.
	Index   int
	Profile string
	PT      uint8
	// Offered is the peer's format: what it can decode (Offered.Effective
	// are its limits); Answer is ours, under the configured ceiling.
	Offered video.H264Params
	Answer  video.H264Params
	FB      videoFeedback
	// PeerKbps is the peer's b=TIAS (or b=AS) for what it receives, 0 if
	// it gave none.
	PeerKbps   int
	Remote     netip.AddrPort
	RemoteRTCP netip.AddrPort
	RTCPMux    bool
	Direction  direction
	// ContentMain: the offer labelled the stream a=content:main (RFC
	// 4796); the answer says so too.
	ContentMain bool
}

// h264Rank orders the H.264 formats of one m-line: packetization mode 1
// first (RFC 6184 §6.3: no NAL unit size limit from the MTU), then the
// profile every endpoint decodes (Constrained Baseline, Baseline, Main,
// High).
func h264Rank(p video.H264Params) int {
	r := 0
	if p.PacketizationMode != 1 {
		r += 10
	}
	switch {
	case p.ProfileLevelID.ConstrainedBaseline():
	case p.ProfileLevelID.ProfileIDC == video.ProfileBaseline:
		r++
	case p.ProfileLevelID.ProfileIDC == video.ProfileMain:
		r += 2
	default:
		r += 3
	}
	return r
}

// negotiateVideo picks the main video stream of an offer and its best
// H.264 format (RFC 6184 §8.2.2), answered under ceiling. ok is false when
// the offer has no video we take: no video m-line, none on RTP/AVP(F),
// H.264 not offered (H.263, H.261, VP8 and proprietary codecs are declined)
// or only as content (a=content:slides, answered port 0 in this version).
func negotiateVideo(sd *sdp.SessionDescription, ceiling video.Ceiling) (videoMedia, bool) {
	sessionDir := directionOf(sd.Attributes, sendRecv)
	for i, md := range sd.MediaDescriptions {
		if !strings.EqualFold(md.MediaName.Media, "video") || md.MediaName.Port.Value == 0 {
			continue
		}
		content, _ := md.Attribute("content")
		if content != "" && !containsFold(splitList(content), "main") {
			continue // slides, speaker, sl, alt: content sharing, not yet
		}
		profile, ok := rtpProfile(md.MediaName.Protos)
		if !ok {
			continue
		}
		v, ok := chooseH264(md)
		if !ok {
			continue
		}
		v.Index, v.Profile = i, profile
		v.Answer = v.Offered.Answer(ceiling)
		v.FB = feedbackOf(md, v.PT)
		v.PeerKbps = bandwidthKbps(md)
		v.Direction = directionOf(md.Attributes, sessionDir).mirror()
		v.Remote, v.RemoteRTCP, v.RTCPMux = remoteAddrs(sd, md)
		v.ContentMain = content != ""
		return v, true
	}
	return videoMedia{}, false
}

// chooseH264 returns the best supported H.264 format of md.
func chooseH264(md *sdp.MediaDescription) (videoMedia, bool) {
	maps := rtpmaps(md)
	var best videoMedia
	bestRank := -1
	for _, f := range md.MediaName.Formats {
		n, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		c, ok := maps[uint8(n)]
		if !ok || !strings.EqualFold(c.Name, "H264") || c.ClockRate != video.ClockRate {
			continue
		}
		p, err := video.ParseH264Fmtp(fmtp(md, uint8(n)))
		if err != nil || !p.Supported() {
			continue
		}
		if r := h264Rank(p); bestRank < 0 || r < bestRank {
			best, bestRank = videoMedia{PT: uint8(n), Offered: p}, r
		}
	}
	return best, bestRank >= 0
}

// feedbackOf reads the a=rtcp-fb attributes for pt or * (RFC 4585 §4.2).
func feedbackOf(md *sdp.MediaDescription, pt uint8) videoFeedback {
	var fb videoFeedback
	want := strconv.Itoa(int(pt))
	for _, a := range md.Attributes {
		if a.Key != "rtcp-fb" {
			continue
		}
		fields := strings.Fields(strings.ToLower(a.Value))
		if len(fields) < 2 || (fields[0] != want && fields[0] != "*") {
			continue
		}
		switch strings.Join(fields[1:], " ") {
		case "nack":
			fb.NACK = true
		case "nack pli":
			fb.PLI = true
		case "ccm fir":
			fb.FIR = true
		case "ccm tmmbr":
			fb.TMMBR = true
		case "ccm fir tmmbr", "ccm tmmbr fir":
			// Polycom writes two ccm messages on one line.
			fb.FIR, fb.TMMBR = true, true
		case "goog-remb":
			fb.REMB = true
		}
	}
	return fb
}

// bandwidthKbps returns md's b=TIAS in kbit/s (RFC 3890), else its b=AS
// (RFC 4566 §5.8), else 0.
func bandwidthKbps(md *sdp.MediaDescription) int {
	as := 0
	for _, b := range md.Bandwidth {
		switch strings.ToUpper(b.Type) {
		case "TIAS":
			return int(b.Bandwidth / 1000)
		case "AS":
			as = int(b.Bandwidth)
		}
	}
	return as
}

// videoDescription is our video m-line for v on port, under ceiling: the
// chosen H.264 format with our fmtp, b=AS and b=TIAS at the ceiling's bit
// rate (what we want to receive), the feedback both sides support, and
// RTCP on the next port or muxed as offered.
func videoDescription(v videoMedia, port int, ceiling video.Ceiling) *sdp.MediaDescription {
	md := &sdp.MediaDescription{
		MediaName: sdp.MediaName{Media: "video", Port: sdp.RangedPort{Value: port}, Protos: splitProfile(v.Profile)},
		Bandwidth: []sdp.Bandwidth{
			{Type: "AS", Bandwidth: uint64(ceiling.Kbps)},
			{Type: "TIAS", Bandwidth: uint64(ceiling.Kbps) * 1000},
		},
	}
	addCodec(md, v.PT, "H264/90000", v.Answer.Fmtp())
	pt := strconv.Itoa(int(v.PT))
	for _, fb := range []struct {
		on  bool
		val string
	}{{v.FB.NACK, "nack"}, {v.FB.PLI, "nack pli"}, {v.FB.FIR, "ccm fir"}, {v.FB.TMMBR, "ccm tmmbr"}, {v.FB.REMB, "goog-remb"}} {
		if fb.on {
			md.Attributes = append(md.Attributes, sdp.NewAttribute("rtcp-fb", pt+" "+fb.val))
		}
	}
	if v.ContentMain {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("content", "main"))
	}
	if v.RTCPMux {
		md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute("rtcp-mux"))
	} else {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtcp", strconv.Itoa(port+1)))
	}
	md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute(v.Direction.String()))
	return md
}

// localVideo is our side of the video stream: the negotiated video and our
// RTP port, for buildAnswer and buildOffer.
type localVideo struct {
	Media   videoMedia
	Port    int
	Ceiling video.Ceiling
	// Offering: our late offer, not negotiated yet; it offers H.264 in
	// both packetization modes.
	Offering bool
}

// Payload types of the H.264 formats of our own offers.
const (
	ptH264Mode1 = 96
	ptH264Mode0 = 97
)

// offerVideo is the video of our late offer: Constrained Baseline (what
// every endpoint decodes) at the ceiling, every feedback we take, on m-line
// 1 after the audio.
func offerVideo(ceiling video.Ceiling) videoMedia {
	p := video.H264Params{ProfileLevelID: video.ProfileLevelID{ProfileIDC: video.ProfileBaseline, IOP: 0xe0, LevelIDC: 31}, PacketizationMode: 1}
	return videoMedia{
		Index: 1, Profile: "RTP/AVP", PT: ptH264Mode1, Offered: p, Answer: p.Answer(ceiling),
		FB:        videoFeedback{NACK: true, PLI: true, FIR: true, TMMBR: true},
		Direction: sendRecv,
	}
}

// offerDescription is our video m-line in an offer: the format in use
// (re-INVITE without SDP), or both packetization modes in a late offer.
func (lv *localVideo) offerDescription() *sdp.MediaDescription {
	if lv == nil {
		return nil
	}
	md := videoDescription(lv.Media, lv.Port, lv.Ceiling)
	if lv.Offering {
		mode0 := lv.Media.Answer
		mode0.PacketizationMode = 0
		md.MediaName.Formats = append(md.MediaName.Formats, strconv.Itoa(ptH264Mode0))
		// After the mode 1 format's rtpmap and fmtp, which videoDescription
		// writes first.
		md.Attributes = slices.Insert(md.Attributes, 2,
			sdp.NewAttribute("rtpmap", strconv.Itoa(ptH264Mode0)+" H264/90000"),
			sdp.NewAttribute("fmtp", strconv.Itoa(ptH264Mode0)+" "+mode0.Fmtp()))
		for _, fb := range []string{"nack", "nack pli", "ccm fir", "ccm tmmbr"} {
			md.Attributes = append(md.Attributes, sdp.NewAttribute("rtcp-fb", strconv.Itoa(ptH264Mode0)+" "+fb))
		}
	}
	return md
}

// answerFor returns our answer to the offer's m-line i if it is our video
// stream, else nil.
func (lv *localVideo) answerFor(i int) *sdp.MediaDescription {
	if lv == nil || i != lv.Media.Index {
		return nil
	}
	return videoDescription(lv.Media, lv.Port, lv.Ceiling)
}
