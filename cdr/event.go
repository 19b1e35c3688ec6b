package cdr

import (
	"fmt"
	"net/netip"
	"time"
)

// EventKind names what an Event reports.
type EventKind string

// The kinds of events the writer stores.
const (
	KindConferenceStarted EventKind = "conference_started"
	KindConferenceEnded   EventKind = "conference_ended"
	KindLegStarted        EventKind = "leg_started"
	KindLegQuality        EventKind = "leg_quality"
	KindLegEnded          EventKind = "leg_ended"
)

// ConferenceStart reports that a room got its first participant.
type ConferenceStart struct {
	ID             string    `json:"id"`
	OrganisationID string    `json:"organisation_id"`
	RoomID         string    `json:"room_id,omitempty"`
	RoomName       string    `json:"room_name"`
	StartedAt      time.Time `json:"started_at"`
	HasPIN         bool      `json:"has_pin"`
}

// ConferenceEnd reports that a room's last participant left.
type ConferenceEnd struct {
	ID               string    `json:"id"`
	EndedAt          time.Time `json:"ended_at"`
	PeakParticipants int       `json:"peak_participants"`
	WasLocked        bool      `json:"was_locked"`
}

// LegStart reports a participant joining a conference. DisplayName, RemoteURI,
// RemoteAddr, UserAgent and CallID are personal data.
type LegStart struct {
	ID             string         `json:"id"`
	ConferenceID   string         `json:"conference_id"`
	OrganisationID string         `json:"organisation_id"`
	RoomID         string         `json:"room_id,omitempty"`
	Direction      string         `json:"direction"`
	Protocol       string         `json:"protocol"`
	Transport      string         `json:"transport"`
	DisplayName    string         `json:"display_name"`
	RemoteURI      string         `json:"remote_uri"`
	RemoteAddr     netip.AddrPort `json:"remote_addr"`
	UserAgent      string         `json:"user_agent"`
	CallID         string         `json:"call_id,omitempty"`
	Role           string         `json:"role"`
	AudioCodec     string         `json:"audio_codec"`
	VideoCodec     string         `json:"video_codec,omitempty"`
	Encryption     string         `json:"encryption"`
	StartedAt      time.Time      `json:"started_at"`
	AnsweredAt     time.Time      `json:"answered_at"`
}

// Quality is a leg's media statistics, cumulative since the leg started.
type Quality struct {
	PacketsSent     uint64        `json:"packets_sent"`
	PacketsReceived uint64        `json:"packets_received"`
	PacketsLost     uint64        `json:"packets_lost"`
	JitterAvg       time.Duration `json:"jitter_avg"`
	JitterMax       time.Duration `json:"jitter_max"`
	RTTAvg          time.Duration `json:"rtt_avg"`
	RTTMax          time.Duration `json:"rtt_max"`
	BitrateIn       int           `json:"bitrate_in"`
	BitrateOut      int           `json:"bitrate_out"`
}

// LegQuality is a periodic quality report of a leg.
type LegQuality struct {
	ID           string    `json:"id"`
	ConferenceID string    `json:"conference_id"`
	At           time.Time `json:"at"`
	Quality      Quality   `json:"quality"`
}

// LegEnd reports a participant leaving, with the final statistics. Empty
// codecs and encryption keep the values of LegStart.
type LegEnd struct {
	ID           string    `json:"id"`
	ConferenceID string    `json:"conference_id"`
	EndedAt      time.Time `json:"ended_at"`
	Reason       string    `json:"reason"`
	ErrorCode    int       `json:"error_code,omitempty"`
	AudioCodec   string    `json:"audio_codec,omitempty"`
	VideoCodec   string    `json:"video_codec,omitempty"`
	Encryption   string    `json:"encryption,omitempty"`
	Quality      Quality   `json:"quality"`
}

// Event is one call event as the writer queues, spools and stores it: exactly
// one of the pointers is set, the one Kind names.
type Event struct {
	Kind            EventKind        `json:"kind"`
	ConferenceStart *ConferenceStart `json:"conference_start,omitempty"`
	ConferenceEnd   *ConferenceEnd   `json:"conference_end,omitempty"`
	LegStart        *LegStart        `json:"leg_start,omitempty"`
	LegQuality      *LegQuality      `json:"leg_quality,omitempty"`
	LegEnd          *LegEnd          `json:"leg_end,omitempty"`
}

// validate reports whether e is well formed: the pointer Kind names is set.
func (e *Event) validate() error {
	ok := false
	switch e.Kind {
	case KindConferenceStarted:
		ok = e.ConferenceStart != nil && e.ConferenceStart.ID != "" && e.ConferenceStart.OrganisationID != ""
	case KindConferenceEnded:
		ok = e.ConferenceEnd != nil && e.ConferenceEnd.ID != ""
	case KindLegStarted:
		ok = e.LegStart != nil && e.LegStart.ID != "" && e.LegStart.ConferenceID != "" && e.LegStart.OrganisationID != ""
	case KindLegQuality:
		ok = e.LegQuality != nil && e.LegQuality.ID != ""
	case KindLegEnded:
		ok = e.LegEnd != nil && e.LegEnd.ID != ""
	}
	if !ok {
		return fmt.Errorf("%w: %q without its record or IDs", ErrBadEvent, e.Kind)
	}
	return nil
}
