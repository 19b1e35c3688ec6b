package bridge

import "time"

// RoomEventKind says what happened in a conference.
type RoomEventKind string

// The kinds of room events.
const (
	EventConferenceStarted RoomEventKind = "conference_started"
	EventConferenceEnded   RoomEventKind = "conference_ended"
	EventParticipantJoined RoomEventKind = "participant_joined" // entered the mix (past PIN and lobby)
	EventParticipantLeft   RoomEventKind = "participant_left"
	EventActiveSpeaker     RoomEventKind = "active_speaker" // ParticipantID is the new speaker; empty: nobody
	EventMuted             RoomEventKind = "muted"          // Muted says which way
	EventLocked            RoomEventKind = "locked"         // Locked says which way
)

// RoomEvent is something that happened in a live conference; video switching and
// the admin's live view follow them through Bridge.Subscribe.
type RoomEvent struct {
	Kind           RoomEventKind
	At             time.Time
	OrganisationID OrganisationID
	RoomID         RoomID
	ConferenceID   ConferenceID
	ParticipantID  ParticipantID // for participant and speaker events
	Muted          bool          // for EventMuted
	Locked         bool          // for EventLocked
}
