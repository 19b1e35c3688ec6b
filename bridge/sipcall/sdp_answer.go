package sipcall

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// localMedia is our side of a session description.
type localMedia struct {
	// Addr is the address announced in c= and o=; Port our RTP port.
	Addr netip.Addr
	Port int
	// SessionID and Version fill o= (RFC 4566 §5.2); Version goes up with
	// each new description in a dialog (RFC 3264 §8).
	SessionID uint64
	Version   uint64
	// Video is our video stream, nil when the call has none.
	Video *localVideo
}

// sdpUsername is the o= username of our descriptions.
const sdpUsername = "bifrost"

// newDescription returns the session-level part of our descriptions.
func newDescription(l localMedia) *sdp.SessionDescription {
	netType, addrType := "IN", "IP4"
	if l.Addr.Is6() && !l.Addr.Is4In6() {
		addrType = "IP6"
	}
	addr := l.Addr.Unmap().String()
	return &sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: sdpUsername, SessionID: l.SessionID, SessionVersion: l.Version,
			NetworkType: netType, AddressType: addrType, UnicastAddress: addr,
		},
		SessionName: "Bifrost",
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: netType, AddressType: addrType, Address: &sdp.Address{Address: addr},
		},
		TimeDescriptions: []sdp.TimeDescription{{Timing: sdp.Timing{}}},
	}
}

// buildAnswer answers offer (RFC 3264 §6): the chosen audio stream gets our
// port, the codec chosen and every telephone-event rate offered; every
// other m-line, in the same order and with the same format list, gets port
// 0, so nothing is dropped and the call still connects.
func buildAnswer(offer *sdp.SessionDescription, m audioMedia, l localMedia) ([]byte, error) {
	sd := newDescription(l)
	for i, om := range offer.MediaDescriptions {
		if vd := l.Video.answerFor(i); vd != nil {
			sd.MediaDescriptions = append(sd.MediaDescriptions, vd)
			continue
		}
		if i != m.Index {
			sd.MediaDescriptions = append(sd.MediaDescriptions, rejectedMedia(om))
			continue
		}
		sd.MediaDescriptions = append(sd.MediaDescriptions, audioDescription(m, l, m.Profile))
	}
	return sd.Marshal()
}

// rejectedMedia answers an m-line we do not take: port 0, same media, proto
// and formats (RFC 3264 §6).
func rejectedMedia(om *sdp.MediaDescription) *sdp.MediaDescription {
	formats := om.MediaName.Formats
	if len(formats) == 0 {
		// A format list is mandatory in the m= syntax; an offer that
		// omitted it gets the wildcard back.
		formats = []string{"*"}
	}
	return &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media:   om.MediaName.Media,
		Port:    sdp.RangedPort{Value: 0},
		Protos:  om.MediaName.Protos,
		Formats: append([]string(nil), formats...),
	}}
}

// audioDescription is our audio m-line for m.
func audioDescription(m audioMedia, l localMedia, profile string) *sdp.MediaDescription {
	md := &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media:  "audio",
		Port:   sdp.RangedPort{Value: l.Port},
		Protos: splitProfile(profile),
	}}
	addCodec(md, m.PT, m.Codec.String(), codecFmtp(m.Codec))
	for _, e := range m.Events {
		addCodec(md, e.PT, "telephone-event/"+strconv.Itoa(e.ClockRate), eventFmtp(e))
	}
	md.Attributes = append(md.Attributes, sdp.NewAttribute("ptime", "20"))
	if m.RTCPMux {
		md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute("rtcp-mux"))
	} else {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtcp", strconv.Itoa(l.Port+1)))
	}
	md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute(m.Direction.String()))
	return md
}

// addCodec appends a format with its rtpmap and optional fmtp.
func addCodec(md *sdp.MediaDescription, pt uint8, rtpmap, fmtpValue string) {
	p := strconv.Itoa(int(pt))
	md.MediaName.Formats = append(md.MediaName.Formats, p)
	md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", p+" "+rtpmap))
	if fmtpValue != "" {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("fmtp", p+" "+fmtpValue))
	}
}

// codecFmtp gives our format parameters for c: for Opus, that our decoder
// takes in-band FEC (RFC 7587 §6.1).
func codecFmtp(c audioCodec) string {
	if c == codecOpus {
		return "useinbandfec=1"
	}
	return ""
}

// eventFmtp gives the events we take: the offer's list, else the DTMF
// digits 0-15 (RFC 4733 §2.4.1).
func eventFmtp(e eventPT) string {
	if e.Fmtp != "" {
		return e.Fmtp
	}
	return "0-15"
}

// splitProfile turns "RTP/AVP" into its m= proto tokens.
func splitProfile(p string) []string {
	for i := range len(p) {
		if p[i] == '/' {
			return []string{p[:i], p[i+1:]}
		}
	}
	return []string{p}
}

// buildOffer is our offer for an INVITE that came without one (late offer,
// RFC 3261 §13.2.1): codecs (ourOffer: every codec we take, in our order
// of preference; in a dialog, the one in use) with telephone-event at
// 8000 and 48000 Hz, on RTP/AVP.
func buildOffer(l localMedia, dir direction, codecs []offeredCodec) ([]byte, error) {
	sd := newDescription(l)
	md := &sdp.MediaDescription{MediaName: sdp.MediaName{
		Media: "audio", Port: sdp.RangedPort{Value: l.Port}, Protos: []string{"RTP", "AVP"},
	}}
	for _, c := range codecs {
		addCodec(md, c.PT, c.Codec.String(), codecFmtp(c.Codec))
	}
	addCodec(md, ptEvent48k, "telephone-event/48000", "0-15")
	addCodec(md, ptEvent8k, "telephone-event/8000", "0-15")
	md.Attributes = append(md.Attributes,
		sdp.NewAttribute("ptime", "20"),
		sdp.NewAttribute("rtcp", strconv.Itoa(l.Port+1)),
		sdp.NewPropertyAttribute(dir.String()))
	sd.MediaDescriptions = []*sdp.MediaDescription{md}
	if vd := l.Video.offerDescription(); vd != nil {
		sd.MediaDescriptions = append(sd.MediaDescriptions, vd)
	}
	return sd.Marshal()
}

// offeredCodec is a codec of our own offers with its payload type.
type offeredCodec struct {
	PT    uint8
	Codec audioCodec
}

// ourOffer lists the codecs of our offers in preference order.
var ourOffer = []offeredCodec{{ptOpus, codecOpus}, {ptG722, codecG722}, {ptPCMU, codecPCMU}, {ptPCMA, codecPCMA}}

// negotiateAnswer reads the peer's answer to our offer (RFC 3264 §7): the
// first audio stream it accepted and the codec it chose among prefs, the
// codecs we offered.
func negotiateAnswer(sd *sdp.SessionDescription, prefs []audioCodec) (audioMedia, error) {
	// Our offer has one m-line, so the answer's first is the audio.
	if len(sd.MediaDescriptions) == 0 {
		return audioMedia{}, notAcceptable(warnMediaTypeUnavailable, "Media type not available", ErrNoAudio)
	}
	md := sd.MediaDescriptions[0]
	if !strings.EqualFold(md.MediaName.Media, "audio") || md.MediaName.Port.Value == 0 {
		return audioMedia{}, notAcceptable(warnMediaTypeUnavailable, "Media type not available", ErrNoAudio)
	}
	profile, ok := rtpProfile(md.MediaName.Protos)
	if !ok {
		return audioMedia{}, notAcceptable(warnIncompatibleTransport, "Incompatible transport protocol", ErrUnsupportedTransport)
	}
	m, _, ok := chooseAudio(md, prefs)
	if !ok {
		return audioMedia{}, notAcceptable(warnIncompatibleFormat, "Incompatible media format", ErrNoCommonCodec)
	}
	m.Profile = profile
	// In an answer the direction is the peer's, which we mirror: its
	// sendonly means we only receive.
	m.Direction = directionOf(md.Attributes, directionOf(sd.Attributes, sendRecv)).mirror()
	m.Remote, m.RemoteRTCP, m.RTCPMux = remoteAddrs(sd, md)
	return m, nil
}
