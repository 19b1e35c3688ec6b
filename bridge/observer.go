package bridge

import (
	"net/netip"
	"time"
)

// CallObserver hears about conferences and legs as they start, report quality
// and end; cmd/bifrost adapts the cdr package to it. Implementations must return
// quickly and never block: the bridge calls them from its signalling and media
// goroutines. Calls for one conference arrive in order: ConferenceStarted, then
// each leg's LegStarted, LegQuality… and LegEnded, then ConferenceEnded.
type CallObserver interface {
	ConferenceStarted(ConferenceStart)
	ConferenceEnded(ConferenceEnd)
	LegStarted(LegStart)
	LegQuality(LegQuality)
	LegEnded(LegEnd)
}

// ConferenceStart reports that a room got its first participant.
type ConferenceStart struct {
	ID             ConferenceID
	OrganisationID OrganisationID
	RoomID         RoomID
	RoomName       string
	StartedAt      time.Time
	HasPIN         bool // the room asks for a host or guest PIN
}

// ConferenceEnd reports that a room's last participant left.
type ConferenceEnd struct {
	ID               ConferenceID
	EndedAt          time.Time
	PeakParticipants int
	WasLocked        bool // an admin locked the conference at some point
}

// LegStart reports a participant joining a conference. DisplayName, RemoteURI,
// RemoteAddr, UserAgent and CallID identify a person: they are personal data.
// Of them only CallID is logged (see LegInfo).
type LegStart struct {
	ID             ParticipantID
	ConferenceID   ConferenceID
	OrganisationID OrganisationID
	RoomID         RoomID
	Direction      Direction
	Protocol       Protocol
	Transport      string // "udp", "tcp", "tls", "wss"…
	DisplayName    string
	RemoteURI      string // e.g. "sip:alice@example.com"
	RemoteAddr     netip.AddrPort
	UserAgent      string
	CallID         string // the SIP Call-ID; empty for other protocols
	Role           Role
	AudioCodec     string // e.g. "opus/48000/2", "PCMU/8000"
	VideoCodec     string // e.g. "H264/90000"; empty without video
	Encryption     Encryption
	StartedAt      time.Time // when the call arrived
	AnsweredAt     time.Time // when the bridge answered it
}

// Quality is a leg's media statistics, cumulative since the leg started.
type Quality struct {
	PacketsSent     uint64
	PacketsReceived uint64
	PacketsLost     uint64 // as reported by the remote side (RTCP RR) and seen locally
	JitterAvg       time.Duration
	JitterMax       time.Duration
	RTTAvg          time.Duration
	RTTMax          time.Duration
	BitrateIn       int // bits per second, averaged over the last report interval
	BitrateOut      int
}

// LegQuality is a periodic quality report of a leg.
type LegQuality struct {
	ID           ParticipantID
	ConferenceID ConferenceID
	At           time.Time
	Quality      Quality
}

// LegEnd reports a participant leaving, with the final statistics.
type LegEnd struct {
	ID           ParticipantID
	ConferenceID ConferenceID
	EndedAt      time.Time
	Reason       EndReason
	ErrorCode    int // for EndError and EndRejected: the SIP status or protocol code
	// AudioCodec, VideoCodec and Encryption are the final values when they
	// changed during the call (e.g. video added by re-INVITE); empty if not.
	AudioCodec string
	VideoCodec string
	Encryption Encryption
	Quality    Quality
}

// NopObserver is a CallObserver that ignores everything.
type NopObserver struct{}

// ConferenceStarted does nothing.
func (NopObserver) ConferenceStarted(ConferenceStart) {}

// ConferenceEnded does nothing.
func (NopObserver) ConferenceEnded(ConferenceEnd) {}

// LegStarted does nothing.
func (NopObserver) LegStarted(LegStart) {}

// LegQuality does nothing.
func (NopObserver) LegQuality(LegQuality) {}

// LegEnded does nothing.
func (NopObserver) LegEnded(LegEnd) {}
