package sipcall

import (
	"context"
	"net/netip"

	"github.com/bifrost-video/bifrost/bridge"
)

// Rooms is what SIP calls need of the bridge: finding the room a dialled
// alias names and admitting a leg into it. cmd/bifrost passes the
// *bridge.Bridge through an adapter; tests pass a fake.
type Rooms interface {
	// Resolve returns the room of alias, the user part of the request
	// URI, or an error wrapping bridge.ErrRoomNotFound.
	Resolve(ctx context.Context, alias string) (bridge.RoomInfo, error)
	// Admit puts leg into room and returns at once; errors wrapping
	// bridge.ErrRoomFull or bridge.ErrRoomLocked refuse the call.
	Admit(ctx context.Context, room bridge.RoomInfo, leg Leg) (Participant, error)
}

// Participant is the bridge's side of an admitted leg.
type Participant interface {
	ID() bridge.ParticipantID
	// ReceiveAudio takes one received RTP payload; it copies what it keeps.
	ReceiveAudio(seq uint16, ts uint32, payload []byte)
	// ReceiveDigit takes one DTMF digit: '0'-'9', '*', '#'.
	ReceiveDigit(d rune)
	// Leave reports that the leg ended; it is idempotent.
	Leave(reason bridge.EndReason, code int)
}

// Leg is what a SIP call gives the bridge (the contract's bridge.Leg).
type Leg interface {
	// Info describes the call for the observer.
	Info() LegInfo
	// AudioCodecName is the negotiated codec, e.g. "G722/8000".
	AudioCodecName() string
	// SendAudio sends one encoded 20 ms frame to the participant; it
	// never blocks and does not keep payload.
	SendAudio(payload []byte)
	// Hangup ends the call from the bridge's side (BYE); it never blocks.
	// The leg then calls Participant.Leave.
	Hangup(reason bridge.EndReason, code int)
	// Quality returns the media statistics so far.
	Quality() bridge.Quality
}

// LegInfo describes a SIP leg: the fields of bridge.LegStart a leg knows.
// DisplayName, RemoteURI, RemoteAddr, UserAgent and CallID are personal
// data.
type LegInfo struct {
	Protocol    bridge.Protocol
	Transport   string
	DisplayName string
	RemoteURI   string
	RemoteAddr  netip.AddrPort
	UserAgent   string
	CallID      string
	AudioCodec  string
	VideoCodec  string
	Encryption  bridge.Encryption
}
