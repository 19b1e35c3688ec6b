package bridge

// RoomID identifies a virtual meeting room: the rooms.id UUID of the store, as text.
type RoomID string

// OrganisationID identifies the tenant a room belongs to (organisations.id).
type OrganisationID string

// ConferenceID identifies one conference: a room from its first participant's
// arrival to its last one's departure. The bridge generates it (a UUID), so call
// records can be written and replayed idempotently.
type ConferenceID string

// ParticipantID identifies one participant's presence in a conference (a call
// leg). The bridge generates it (a UUID).
type ParticipantID string

// Protocol is how a participant reached the bridge.
type Protocol string

// The protocols of participants.
const (
	ProtocolSIP    Protocol = "sip"
	ProtocolWebRTC Protocol = "webrtc"
	ProtocolH323   Protocol = "h323"
)

// Direction says who placed the call.
type Direction string

// The directions of a call leg.
const (
	DirectionIn  Direction = "in"  // the participant called the bridge
	DirectionOut Direction = "out" // the bridge called the participant
)

// Role is what a participant may do in a room; a room with a host PIN gives
// the host role to those who key it.
type Role string

// The roles of participants.
const (
	RoleHost  Role = "host"
	RoleGuest Role = "guest"
)

// Encryption says how a leg's media is protected.
type Encryption string

// The media encryptions.
const (
	EncryptionNone     Encryption = "none"
	EncryptionSRTPSDES Encryption = "srtp-sdes" // SRTP keyed in SDP (RFC 4568)
	EncryptionDTLSSRTP Encryption = "dtls-srtp" // SRTP keyed by DTLS (RFC 5764)
)

// EndReason says why a leg ended.
type EndReason string

// The reasons a leg ends.
const (
	EndHungUp        EndReason = "hung_up"        // the participant hung up
	EndKicked        EndReason = "kicked"         // an admin removed the participant
	EndTimeout       EndReason = "timeout"        // no media, or a session timer or PIN entry expired
	EndError         EndReason = "error"          // a protocol or media error; LegEnd.ErrorCode says which
	EndRejected      EndReason = "rejected"       // refused before joining: wrong PIN, room full or locked
	EndShutdown      EndReason = "shutdown"       // the bridge stopped gracefully
	EndBridgeRestart EndReason = "bridge_restart" // the bridge died with the leg open; set when it starts again
)
