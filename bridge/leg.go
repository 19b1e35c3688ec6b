package bridge

import (
	"net/netip"
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// Leg is what a protocol leg (a SIP call, later a WebRTC or H.323 one) gives the
// bridge. The bridge calls it from its own goroutines; none of its methods may
// block.
type Leg interface {
	// Info describes the call for the admin view and the call records. The
	// bridge calls it when the leg is admitted and again when it ends (codecs
	// may change during a call).
	Info() LegInfo
	// AudioCodec is the negotiated audio codec: the one the payloads given to
	// SendAudio and Participant.ReceiveAudio are encoded with.
	AudioCodec() media.AudioCodec
	// SendAudio sends one encoded 20 ms frame toward the participant. payload is
	// valid only during the call: the leg sends it at once or copies it. It must
	// not block.
	SendAudio(payload []byte)
	// Hangup asks the leg to end the call (an admin kicked the participant, the
	// PIN was wrong three times, the bridge shuts down). code is the protocol
	// status that best says why (e.g. 403 for a wrong PIN), 0 if none. It must
	// not block; the leg ends the call and then calls Participant.Leave itself.
	Hangup(reason EndReason, code int)
	// Quality returns the leg's media statistics, cumulative since it started.
	Quality() Quality
}

// EncoderOptionser is implemented by legs whose peer asked for particular
// encoder settings for what it receives (Opus DTX and in-band FEC, RFC 7587
// §6.1); the bridge encodes the leg's mix with them. Legs without it get the
// mixer's defaults.
type EncoderOptionser interface {
	EncoderOptions() media.EncoderOptions
}

// LegInfo describes a call: the fields of LegStart that the leg knows.
// DisplayName, RemoteURI, RemoteAddr and UserAgent identify a person: they are
// personal data and appear only in the admin view and the call records, never
// in logs. CallID is personal data in the call records too (it links a record
// to the endpoint's own logs) but it is logged, as call_id on each call's
// child logger (STYLE.md): it is a random token the caller's user agent chose
// (RFC 3261 §8.1.1.4), not a secret, since it authorises nothing, and finding a
// call in endpoints' logs and packet captures needs it. Logs are kept under
// the same retention as usage data. PINs, passwords and tokens are never
// logged.
type LegInfo struct {
	Protocol    Protocol
	Direction   Direction // DirectionIn when empty
	Transport   string    // "udp", "tcp", "tls", "wss"…
	DisplayName string
	RemoteURI   string // e.g. "sip:alice@example.com"
	RemoteAddr  netip.AddrPort
	UserAgent   string
	CallID      string // the SIP Call-ID; empty for other protocols
	// AudioCodec and VideoCodec are the negotiated codecs as "opus/48000/2",
	// "H264/90000"; AudioCodec empty means Leg.AudioCodec().String().
	AudioCodec string
	VideoCodec string
	Encryption Encryption // EncryptionNone when empty
	// StartedAt is when the call arrived and AnsweredAt when it was answered;
	// zero means the time of Admit.
	StartedAt  time.Time
	AnsweredAt time.Time
}
