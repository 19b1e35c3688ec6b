package sipcall

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/pion/sdp/v3"
)

// parseSDP parses a session description, turning pion's errors and panics
// on hostile input into ErrBadSDP.
func parseSDP(body []byte) (sd *sdp.SessionDescription, err error) {
	defer func() {
		if r := recover(); r != nil {
			sd, err = nil, fmt.Errorf("%w: %v", ErrBadSDP, r)
		}
	}()
	sd = &sdp.SessionDescription{}
	if err := sd.UnmarshalString(string(body)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSDP, err)
	}
	return sd, nil
}

// negotiateOffer picks the audio stream of an offer and, in our order of
// preference, the codec we answer it with (RFC 3264 §6), under the
// preferred SRTP policy. The error is a *StatusError: 488 with a Warning
// when nothing fits (RFC 3261 §20.43).
func negotiateOffer(sd *sdp.SessionDescription) (audioMedia, error) {
	return negotiateOfferWith(sd, audioPreference, bridge.SRTPPreferred)
}

// negotiateOfferWith is negotiateOffer over the codecs prefs, in order,
// under an SRTP policy (see mediaSecurity). A re-offer in a dialog passes
// the codec in use only: the bridge does not change a leg's codec
// mid-call. Where both are offered, an encrypted stream wins over a plain
// one, then the better codec.
func negotiateOfferWith(sd *sdp.SessionDescription, prefs []audioCodec, policy bridge.SRTPPolicy) (audioMedia, error) {
	sessionDir := directionOf(sd.Attributes, sendRecv)
	sawAudio, sawRTP := false, false
	var secErr error
	var best audioMedia
	worst := 2 * len(prefs)
	bestScore := worst
	for i, md := range sd.MediaDescriptions {
		if !strings.EqualFold(md.MediaName.Media, "audio") || md.MediaName.Port.Value == 0 {
			continue
		}
		sawAudio = true
		profile, ok := rtpProfile(md.MediaName.Protos)
		if !ok {
			continue
		}
		sawRTP = true
		m, rank, ok := chooseAudio(md, prefs)
		if !ok {
			continue
		}
		score := rank
		if score >= bestScore {
			continue
		}
		keys, err := mediaSecurity(md, profile, policy)
		if err != nil {
			secErr = err
			continue
		}
		if keys == nil {
			score += len(prefs)
			if score >= bestScore {
				continue
			}
		}
		m.Index, m.Profile, m.SRTP = i, profile, keys
		m.Direction = directionOf(md.Attributes, sessionDir).mirror()
		m.Remote, m.RemoteRTCP, m.RTCPMux = remoteAddrs(sd, md)
		best, bestScore = m, score
		if score == 0 {
			break
		}
	}
	switch {
	case !sawAudio:
		return audioMedia{}, notAcceptable(warnMediaTypeUnavailable, "Media type not available", ErrNoAudio)
	case !sawRTP:
		return audioMedia{}, notAcceptable(warnIncompatibleTransport, "Incompatible transport protocol", ErrUnsupportedTransport)
	case bestScore == worst && secErr != nil:
		return audioMedia{}, secErr
	case bestScore == worst:
		return audioMedia{}, notAcceptable(warnIncompatibleFormat, "Incompatible media format", ErrNoCommonCodec)
	}
	return best, nil
}

// rtpProfile reports whether protos is RTP we speak: "RTP/AVP",
// "RTP/AVPF", or their SRTP forms "RTP/SAVP" and "RTP/SAVPF" (RFC 3711,
// RFC 5124) keyed by SDES; it returns the profile as written.
// DTLS-SRTP ("UDP/TLS/RTP/SAVPF") is for browsers, not here.
func rtpProfile(protos []string) (string, bool) {
	p := strings.Join(protos, "/")
	switch strings.ToUpper(p) {
	case "RTP/AVP", "RTP/AVPF", "RTP/SAVP", "RTP/SAVPF":
		return p, true
	}
	return "", false
}

// chooseAudio returns the most preferred codec of md, its rank in prefs
// and every telephone-event format offered.
func chooseAudio(md *sdp.MediaDescription, prefs []audioCodec) (audioMedia, int, bool) {
	maps := rtpmaps(md)
	var m audioMedia
	rank := len(prefs)
	for _, f := range md.MediaName.Formats {
		n, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		pt := uint8(n)
		c, ok := maps[pt]
		if !ok {
			if c, ok = staticAudio[pt]; !ok {
				continue
			}
		}
		if strings.EqualFold(c.Name, "telephone-event") {
			if !hasEventRate(m.Events, c.ClockRate) {
				m.Events = append(m.Events, eventPT{PT: pt, ClockRate: c.ClockRate, Fmtp: fmtp(md, pt)})
			}
			continue
		}
		for r, want := range prefs[:rank] {
			if codecMatches(c, want) {
				m.Codec, m.PT, rank = want, pt, r
				break
			}
		}
	}
	if rank == len(prefs) {
		return audioMedia{}, rank, false
	}
	m.PtimeMS = 20
	if v, ok := md.Attribute("ptime"); ok {
		if p, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && p > 0 && p <= 200 {
			m.PtimeMS = p
		}
	}
	if m.Codec == codecOpus {
		params := fmtpParams(fmtp(md, m.PT))
		m.OpusFEC = params["useinbandfec"] == "1"
		m.OpusDTX = params["usedtx"] == "1"
	}
	return m, rank, true
}

// codecMatches reports whether an offered format is the codec want. Names
// compare case-insensitively; the channel count defaults to one except for
// Opus, always signalled with two (RFC 7587 §7).
func codecMatches(offered, want audioCodec) bool {
	if !strings.EqualFold(offered.Name, want.Name) || offered.ClockRate != want.ClockRate {
		return false
	}
	if want == codecOpus {
		return true
	}
	return offered.Channels <= 1
}

// hasEventRate reports whether events has a format at rate.
func hasEventRate(events []eventPT, rate int) bool {
	for _, e := range events {
		if e.ClockRate == rate {
			return true
		}
	}
	return false
}

// rtpmaps reads the a=rtpmap attributes of md (RFC 4566 §6). When a
// payload type is mapped twice, as some endpoints do, the first wins.
func rtpmaps(md *sdp.MediaDescription) map[uint8]audioCodec {
	out := make(map[uint8]audioCodec, len(md.MediaName.Formats))
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		ptStr, enc, ok := strings.Cut(strings.TrimSpace(a.Value), " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(ptStr, 10, 7)
		if err != nil {
			continue
		}
		if _, dup := out[uint8(n)]; dup {
			continue
		}
		parts := strings.Split(strings.TrimSpace(enc), "/")
		if len(parts) < 2 {
			continue
		}
		rate, err := strconv.Atoi(parts[1])
		if err != nil || rate <= 0 {
			continue
		}
		ch := 1
		if len(parts) > 2 {
			if ch, err = strconv.Atoi(parts[2]); err != nil || ch < 1 {
				continue
			}
		}
		out[uint8(n)] = audioCodec{Name: parts[0], ClockRate: rate, Channels: ch}
	}
	return out
}

// fmtp returns the format parameters of payload type pt, or "".
func fmtp(md *sdp.MediaDescription, pt uint8) string {
	prefix := strconv.Itoa(int(pt)) + " "
	for _, a := range md.Attributes {
		if a.Key == "fmtp" && strings.HasPrefix(a.Value, prefix) {
			return strings.TrimSpace(a.Value[len(prefix):])
		}
	}
	return ""
}

// fmtpParams splits "a=1; b=2" into a map with lower-case keys.
func fmtpParams(s string) map[string]string {
	out := map[string]string{}
	for kv := range strings.SplitSeq(s, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if k != "" {
			out[strings.ToLower(k)] = strings.TrimSpace(v)
		}
	}
	return out
}

// directionOf returns the direction attribute among attrs, or def.
func directionOf(attrs []sdp.Attribute, def direction) direction {
	for _, a := range attrs {
		if d, ok := parseDirection(a.Key); ok {
			return d
		}
	}
	return def
}

// remoteAddrs returns where the peer receives RTP and RTCP for md: c= at
// media level, else at session level (RFC 4566 §5.7), a=rtcp (RFC 3605)
// or the next port up, or the RTP port with rtcp-mux (RFC 5761 §5.1.3).
// An unspecified or unparseable address (c=0.0.0.0 on hold, a host name)
// is returned invalid.
func remoteAddrs(sd *sdp.SessionDescription, md *sdp.MediaDescription) (rtp, rtcp netip.AddrPort, mux bool) {
	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	var addr netip.Addr
	if ci != nil && ci.Address != nil {
		host, _, _ := strings.Cut(ci.Address.Address, "/")
		if a, err := netip.ParseAddr(host); err == nil && !a.IsUnspecified() {
			addr = a.Unmap()
		}
	}
	port := md.MediaName.Port.Value
	if port <= 0 || port > 65535 {
		return netip.AddrPort{}, netip.AddrPort{}, false
	}
	_, mux = md.Attribute("rtcp-mux")
	rtcpPort, rtcpAddr := port+1, addr
	if mux {
		rtcpPort = port
	} else if v, ok := md.Attribute("rtcp"); ok {
		fields := strings.Fields(v)
		if len(fields) > 0 {
			if p, err := strconv.Atoi(fields[0]); err == nil && p > 0 && p <= 65535 {
				rtcpPort = p
			}
		}
		if len(fields) == 4 {
			if a, err := netip.ParseAddr(fields[3]); err == nil && !a.IsUnspecified() {
				rtcpAddr = a.Unmap()
			}
		}
	}
	if rtcpPort > 65535 {
		rtcpPort = port
	}
	if !addr.IsValid() {
		return netip.AddrPort{}, netip.AddrPort{}, mux
	}
	return netip.AddrPortFrom(addr, uint16(port)), netip.AddrPortFrom(rtcpAddr, uint16(rtcpPort)), mux
}
