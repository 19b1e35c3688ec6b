package bridge

import "errors"

// Errors of joining a room. Protocol legs map them to their own answers (SIP 404,
// 486, 403; WebRTC error codes).
var (
	ErrRoomNotFound = errors.New("bridge: room not found")
	ErrRoomFull     = errors.New("bridge: room full")
	ErrRoomLocked   = errors.New("bridge: room locked")
	ErrWrongPIN     = errors.New("bridge: wrong PIN")
)

// Errors of the admin controls and of a bridge that is shutting down.
var (
	ErrConferenceNotFound  = errors.New("bridge: conference not found")
	ErrParticipantNotFound = errors.New("bridge: participant not found")
	ErrClosed              = errors.New("bridge: shutting down")
)
