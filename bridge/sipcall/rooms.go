package sipcall

import (
	"context"

	"github.com/bifrost-video/bifrost/bridge"
)

// Rooms is what SIP calls need of the bridge: finding the room a dialled
// alias names and admitting a leg into it. BridgeRooms adapts a
// *bridge.Bridge; tests pass a fake.
type Rooms interface {
	// Resolve returns the room of alias, the user part of the request
	// URI, or an error wrapping bridge.ErrRoomNotFound.
	Resolve(ctx context.Context, alias string) (bridge.RoomInfo, error)
	// Admit puts leg into room and returns at once; errors wrapping
	// bridge.ErrRoomFull or bridge.ErrRoomLocked refuse the call.
	Admit(ctx context.Context, room bridge.RoomInfo, leg bridge.Leg) (Participant, error)
}

// Participant is the bridge's side of an admitted leg: what
// *bridge.Participant offers a leg.
type Participant interface {
	ID() bridge.ParticipantID
	// ReceiveAudio takes one received RTP payload; it copies what it keeps.
	ReceiveAudio(seq uint16, ts uint32, payload []byte)
	// ReceiveDigit takes one DTMF digit: '0'-'9', '*', '#'.
	ReceiveDigit(d rune)
	// Leave reports that the leg ended; it is idempotent.
	Leave(reason bridge.EndReason, code int)
}

// BridgeRooms adapts the bridge to Rooms.
func BridgeRooms(b *bridge.Bridge) Rooms { return bridgeRooms{b} }

type bridgeRooms struct{ b *bridge.Bridge }

func (r bridgeRooms) Resolve(ctx context.Context, alias string) (bridge.RoomInfo, error) {
	return r.b.Resolve(ctx, alias)
}

func (r bridgeRooms) Admit(ctx context.Context, room bridge.RoomInfo, leg bridge.Leg) (Participant, error) {
	p, err := r.b.Admit(ctx, room, leg)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// BeforeMix lets the legs' audio poller drain on the bridge's frame beat,
// just before the mixers tick (audiobatch.go).
func (r bridgeRooms) BeforeMix(hook func()) (remove func()) { return r.b.BeforeMix(hook) }
