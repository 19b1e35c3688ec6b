package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// ptH264 is the dynamic payload type we offer H.264 as.
const ptH264 = 96

// appendVideoOffer appends the video m-line of our offer to an offer that
// buildOffer wrote: H.264 Constrained Baseline level 3.1 in
// packetization-mode 1 (RFC 6184 §8.1), generic NACK and PLI (RFC 4585
// §4.2) and FIR (RFC 5104 §7.1), RTCP multiplexed on the RTP port when
// the answer accepts it (RFC 5761) and on the same port anyway (RFC 3605).
func appendVideoOffer(offer []byte, port uint16) []byte {
	var b strings.Builder
	b.Write(offer)
	fmt.Fprintf(&b, "m=video %d RTP/AVP %d\r\n", port, ptH264)
	fmt.Fprintf(&b, "b=AS:%d\r\n", 1500)
	fmt.Fprintf(&b, "a=rtpmap:%d H264/%d\r\n", ptH264, videoClockRate)
	fmt.Fprintf(&b, "a=fmtp:%d profile-level-id=42e01f;packetization-mode=1\r\n", ptH264)
	for _, fb := range []string{"nack", "nack pli", "ccm fir"} {
		fmt.Fprintf(&b, "a=rtcp-fb:%d %s\r\n", ptH264, fb)
	}
	fmt.Fprintf(&b, "a=rtcp:%d\r\na=rtcp-mux\r\na=sendrecv\r\n", port)
	return []byte(b.String())
}

// videoAnswer is what we use of the video m-line of the bridge's answer.
type videoAnswer struct {
	Remote     netip.AddrPort
	RemoteRTCP netip.AddrPort
	PT         uint8
	// PLI and FIR: the feedback the bridge accepted; without either it
	// asks for keyframes by SIP INFO (RFC 5168).
	PLI, FIR bool
}

// parseVideoAnswer reads the first video stream of an SDP answer. It
// refuses an answer that declined video (port 0 or no m-line) or answered
// another codec than H.264. Hostile input gives an error, never a panic.
func parseVideoAnswer(body []byte) (v videoAnswer, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = videoAnswer{}, fmt.Errorf("%w: %v", errBadAnswer, r)
		}
	}()
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return videoAnswer{}, fmt.Errorf("%w: %v", errBadAnswer, err)
	}
	for _, md := range sd.MediaDescriptions {
		if !strings.EqualFold(md.MediaName.Media, "video") {
			continue
		}
		port := md.MediaName.Port.Value
		if port <= 0 || port > 65535 {
			return videoAnswer{}, errVideoDeclined
		}
		ci := md.ConnectionInformation
		if ci == nil {
			ci = sd.ConnectionInformation
		}
		if ci == nil || ci.Address == nil {
			return videoAnswer{}, fmt.Errorf("%w: no c= line for video", errBadAnswer)
		}
		host, _, _ := strings.Cut(ci.Address.Address, "/")
		ip, perr := netip.ParseAddr(host)
		if perr != nil || ip.IsUnspecified() {
			return videoAnswer{}, fmt.Errorf("%w: video c= address %q", errBadAnswer, ci.Address.Address)
		}
		v.Remote = netip.AddrPortFrom(ip.Unmap(), uint16(port))
		v.RemoteRTCP = netip.AddrPortFrom(ip.Unmap(), uint16(min(port+1, 65535)))
		if _, mux := md.Attribute("rtcp-mux"); mux {
			v.RemoteRTCP = v.Remote
		} else if a, ok := md.Attribute("rtcp"); ok {
			if f := strings.Fields(a); len(f) > 0 {
				if p, err := strconv.Atoi(f[0]); err == nil && p > 0 && p <= 65535 {
					v.RemoteRTCP = netip.AddrPortFrom(v.Remote.Addr(), uint16(p))
				}
			}
		}
		found := false
		for _, f := range md.MediaName.Formats {
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 || n > 127 {
				continue
			}
			if name, rate := rtpmapOf(md, f); strings.EqualFold(name, "H264") && rate == videoClockRate {
				v.PT, found = uint8(n), true
				break
			}
		}
		if !found {
			return videoAnswer{}, fmt.Errorf("%w: H.264 not in the video answer", errBadAnswer)
		}
		for _, a := range md.Attributes {
			if a.Key != "rtcp-fb" {
				continue
			}
			fields := strings.Fields(strings.ToLower(a.Value))
			if len(fields) < 2 || (fields[0] != strconv.Itoa(int(v.PT)) && fields[0] != "*") {
				continue
			}
			switch strings.Join(fields[1:], " ") {
			case "nack pli":
				v.PLI = true
			case "ccm fir":
				v.FIR = true
			}
		}
		return v, nil
	}
	return videoAnswer{}, errVideoDeclined
}
