package bridge

import "context"

// RoomInfo is what the bridge needs to know about a room when someone dials it.
type RoomInfo struct {
	ID             RoomID
	OrganisationID OrganisationID
	Name           string
	// Alias is the numeric alias (e.g. "1234"); NameAlias the optional dialable
	// name (e.g. "board.room").
	Alias     string
	NameAlias string
	// HostPIN and GuestPIN are the room's PINs; empty means none. A room with only
	// a host PIN lets guests in without one; a room with a guest PIN asks everyone.
	HostPIN  string
	GuestPIN string
	// MaxParticipants caps the conference; 0 means no cap.
	MaxParticipants int
	// GuestsWaitForHost keeps guests in a waiting state, hearing a prompt, until a
	// host is present.
	GuestsWaitForHost bool
	// SRTP is the room's SRTP policy; empty means the system default.
	SRTP SRTPPolicy
}

// Resolver finds the room a dialled alias belongs to. cmd/bifrost adapts the store
// to it.
type Resolver interface {
	// ResolveRoom returns the room whose numeric alias or name alias (compared
	// case-insensitively) is alias, or an error wrapping ErrRoomNotFound.
	ResolveRoom(ctx context.Context, alias string) (RoomInfo, error)
}

// ResolverFunc adapts a function to Resolver.
type ResolverFunc func(ctx context.Context, alias string) (RoomInfo, error)

// ResolveRoom calls f.
func (f ResolverFunc) ResolveRoom(ctx context.Context, alias string) (RoomInfo, error) {
	return f(ctx, alias)
}
