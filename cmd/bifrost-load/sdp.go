package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/bifrost-video/bifrost/bridge/media"
	"github.com/pion/sdp/v3"
)

// Payload types we offer: the static ones of RFC 3551 §6 for G.711 and
// G.722, dynamic ones for Opus and telephone-event.
const (
	ptPCMU  = 0
	ptG722  = 9
	ptOpus  = 111
	ptEvent = 101
)

// offerPT is the payload type we offer for codec.
func offerPT(c media.AudioCodec) uint8 {
	switch {
	case c.Is(media.Opus):
		return ptOpus
	case c.Is(media.G722):
		return ptG722
	case c.Is(media.PCMA):
		return 8
	}
	return ptPCMU
}

// buildOffer is an SDP offer (RFC 3264 §5) of one audio stream at addr with
// codec and telephone-event at the codec's RTP clock (RFC 4733 §7.1.1),
// RTCP multiplexed on the RTP port when the answer accepts it (RFC 5761)
// and on the same port anyway (a=rtcp, RFC 3605), so one socket carries
// everything.
func buildOffer(addr netip.AddrPort, codec media.AudioCodec, sessionID uint64) []byte {
	pt := offerPT(codec)
	ip := "IP4"
	if addr.Addr().Is6() {
		ip = "IP6"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "v=0\r\no=bifrost-load %d 1 IN %s %s\r\ns=bifrost-load\r\nc=IN %s %s\r\nt=0 0\r\n",
		sessionID, ip, addr.Addr(), ip, addr.Addr())
	fmt.Fprintf(&b, "m=audio %d RTP/AVP %d %d\r\n", addr.Port(), pt, ptEvent)
	fmt.Fprintf(&b, "a=rtpmap:%d %s\r\n", pt, codec)
	if codec.Is(media.Opus) {
		fmt.Fprintf(&b, "a=fmtp:%d useinbandfec=1\r\n", pt)
	}
	fmt.Fprintf(&b, "a=rtpmap:%d telephone-event/%d\r\na=fmtp:%d 0-15\r\n", ptEvent, codec.ClockRate, ptEvent)
	fmt.Fprintf(&b, "a=rtcp:%d\r\na=rtcp-mux\r\na=ptime:20\r\na=sendrecv\r\n", addr.Port())
	return []byte(b.String())
}

// answer is what we use of the bridge's SDP answer.
type answer struct {
	Remote     netip.AddrPort // where to send RTP
	RemoteRTCP netip.AddrPort // where to send RTCP
	PT         uint8          // the audio payload type the bridge chose
	Codec      media.AudioCodec
	EventPT    uint8 // telephone-event at the codec's clock; 0 when not answered
	HasEvent   bool
}

// parseAnswer reads the first audio stream of an SDP answer. It refuses
// an answer without a usable address or without the codec we offered
// (RFC 3264 §6.1: the answer may only hold what was offered). Hostile
// input gives an error, never a panic.
func parseAnswer(body []byte, codec media.AudioCodec) (a answer, err error) {
	defer func() {
		if r := recover(); r != nil {
			a, err = answer{}, fmt.Errorf("%w: %v", errBadAnswer, r)
		}
	}()
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(string(body)); err != nil {
		return answer{}, fmt.Errorf("%w: %v", errBadAnswer, err)
	}
	for _, md := range sd.MediaDescriptions {
		if !strings.EqualFold(md.MediaName.Media, "audio") {
			continue
		}
		port := md.MediaName.Port.Value
		if port <= 0 || port > 65535 {
			return answer{}, fmt.Errorf("%w: audio stream rejected (port %d)", errBadAnswer, port)
		}
		ci := md.ConnectionInformation
		if ci == nil {
			ci = sd.ConnectionInformation
		}
		if ci == nil || ci.Address == nil {
			return answer{}, fmt.Errorf("%w: no c= line", errBadAnswer)
		}
		host, _, _ := strings.Cut(ci.Address.Address, "/")
		ip, perr := netip.ParseAddr(host)
		if perr != nil || ip.IsUnspecified() {
			return answer{}, fmt.Errorf("%w: c= address %q", errBadAnswer, ci.Address.Address)
		}
		a.Remote = netip.AddrPortFrom(ip.Unmap(), uint16(port))
		a.RemoteRTCP = netip.AddrPortFrom(ip.Unmap(), uint16(min(port+1, 65535)))
		if _, mux := md.Attribute("rtcp-mux"); mux {
			a.RemoteRTCP = a.Remote
		} else if v, ok := md.Attribute("rtcp"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				if p, err := strconv.Atoi(f[0]); err == nil && p > 0 && p <= 65535 {
					a.RemoteRTCP = netip.AddrPortFrom(a.Remote.Addr(), uint16(p))
				}
			}
		}
		found := false
		for _, f := range md.MediaName.Formats {
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 || n > 127 {
				continue
			}
			name, rate := rtpmapOf(md, f)
			switch {
			case strings.EqualFold(name, "telephone-event"):
				if rate == codec.ClockRate {
					a.EventPT, a.HasEvent = uint8(n), true
				}
			case !found && strings.EqualFold(name, codec.Name) && rate == codec.ClockRate:
				a.PT, a.Codec, found = uint8(n), codec, true
			}
		}
		if !found {
			return answer{}, fmt.Errorf("%w: %s not in the answer", errBadAnswer, codec)
		}
		return a, nil
	}
	return answer{}, fmt.Errorf("%w: no audio stream", errBadAnswer)
}

// rtpmapOf is the encoding name and clock rate of format f: its a=rtpmap,
// or for a static payload type without one, RFC 3551 §6's table.
func rtpmapOf(md *sdp.MediaDescription, f string) (string, int) {
	for _, at := range md.Attributes {
		if at.Key != "rtpmap" {
			continue
		}
		pt, rest, ok := strings.Cut(at.Value, " ")
		if !ok || pt != f {
			continue
		}
		parts := strings.Split(strings.TrimSpace(rest), "/")
		rate := 0
		if len(parts) > 1 {
			rate, _ = strconv.Atoi(parts[1])
		}
		return parts[0], rate
	}
	switch f {
	case "0":
		return "PCMU", 8000
	case "8":
		return "PCMA", 8000
	case "9":
		return "G722", 8000
	}
	return "", 0
}
