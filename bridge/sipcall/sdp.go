package sipcall

import (
	"net/netip"
	"strings"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// audioCodec names an RTP audio format: its encoding name as written in
// a=rtpmap, its RTP clock rate and its channel count; String gives
// "opus/48000/2", "PCMU/8000" (the a=rtpmap form, RFC 4566 §6).
type audioCodec = media.AudioCodec

// The audio codecs we negotiate, in our order of preference. G.722's RTP
// clock is 8000 Hz although it samples at 16 kHz (RFC 3551 §4.5.2); Opus
// is always signalled as 48000/2 (RFC 7587 §7).
var (
	codecOpus = media.Opus
	codecG722 = media.G722
	codecPCMU = media.PCMU
	codecPCMA = media.PCMA

	audioPreference = []audioCodec{codecOpus, codecG722, codecPCMU, codecPCMA}
)

// Payload types of our own offers (late offer): the static ones of RFC
// 3551 §6 and dynamic ones for Opus and telephone-event.
const (
	ptPCMU     = 0
	ptPCMA     = 8
	ptG722     = 9
	ptOpus     = 111
	ptEvent8k  = 101
	ptEvent48k = 110
)

// staticAudio holds the RFC 3551 §6 static payload types we support, for
// offers that list them without a=rtpmap.
var staticAudio = map[uint8]audioCodec{ptPCMU: codecPCMU, ptPCMA: codecPCMA, ptG722: codecG722}

// direction is an SDP stream direction (RFC 4566 §6, RFC 3264 §6.1).
type direction uint8

// The stream directions. The zero value is sendrecv, the default when an
// SDP names none.
const (
	sendRecv direction = iota
	sendOnly
	recvOnly
	inactive
)

// String gives the attribute name.
func (d direction) String() string {
	switch d {
	case sendOnly:
		return "sendonly"
	case recvOnly:
		return "recvonly"
	case inactive:
		return "inactive"
	}
	return "sendrecv"
}

// mirror returns the direction an answer takes to an offer in d: an offer
// to send only is answered receive only and so on (RFC 3264 §6.1).
func (d direction) mirror() direction {
	switch d {
	case sendOnly:
		return recvOnly
	case recvOnly:
		return sendOnly
	}
	return d
}

// parseDirection reads a direction attribute name.
func parseDirection(key string) (direction, bool) {
	switch strings.ToLower(key) {
	case "sendrecv":
		return sendRecv, true
	case "sendonly":
		return sendOnly, true
	case "recvonly":
		return recvOnly, true
	case "inactive":
		return inactive, true
	}
	return sendRecv, false
}

// eventPT is a telephone-event payload type (RFC 4733 §7.1.1) at one clock
// rate.
type eventPT struct {
	PT        uint8
	ClockRate int
	Fmtp      string
}

// audioMedia is the outcome of an offer/answer exchange for the audio
// stream: what we send and receive, and where.
type audioMedia struct {
	// Index is the position of the audio m-line in the offer.
	Index int
	// Profile is the transport protocol as offered: "RTP/AVP",
	// "RTP/AVPF", "RTP/SAVP" or "RTP/SAVPF".
	Profile string
	// SRTP holds the SDES keys when the stream is encrypted, nil for
	// plain RTP (see sdp_crypto.go).
	SRTP *sdesKeys
	// Codec and PT are the codec both sides use and its payload type.
	Codec audioCodec
	PT    uint8
	// Events are the telephone-event payload types, one per clock rate
	// offered.
	Events []eventPT
	// Remote and RemoteRTCP are where the peer receives RTP and RTCP; an
	// invalid address means not known yet (c=0.0.0.0, a host name, a late
	// offer before the ACK). Symmetric RTP corrects them.
	Remote     netip.AddrPort
	RemoteRTCP netip.AddrPort
	// RTCPMux is set when RTP and RTCP share the port (RFC 5761).
	RTCPMux bool
	// PtimeMS is the packet duration the peer asked for; we send 20 ms
	// frames and record it for the record.
	PtimeMS int
	// Direction is ours: the mirror of the peer's.
	Direction direction
	// OpusFEC and OpusDTX are the peer's decoder preferences for what we
	// send: in-band FEC and discontinuous transmission (RFC 7587 §6.1).
	OpusFEC bool
	OpusDTX bool
}

// sends reports whether a party in direction d sends media.
func (d direction) sends() bool { return d == sendRecv || d == sendOnly }

// receives reports whether a party in direction d receives media.
func (d direction) receives() bool { return d == sendRecv || d == recvOnly }
