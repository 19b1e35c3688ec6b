package webcall

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the signalling messages a browser sends.
const (
	// MaxMessageSize bounds one WebSocket message: an SDP answer with a few
	// dozen m-lines fits many times over.
	MaxMessageSize = 64 << 10
	// MaxNameLength bounds a display name, in characters.
	MaxNameLength = 64
	// maxPINLength bounds a PIN, in digits (the bridge's own limit is 32).
	maxPINLength = 16
	// maxCandidateLength bounds one ICE candidate line (RFC 8839 §5.1).
	maxCandidateLength = 512
)

// MessageType names a signalling message.
type MessageType string

// The messages a browser sends.
const (
	TypeJoin      MessageType = "join"
	TypeAnswer    MessageType = "answer"
	TypeCandidate MessageType = "candidate"
	TypeMute      MessageType = "mute"
	TypeLeave     MessageType = "leave"
)

// The messages the server sends.
const (
	TypeJoined       MessageType = "joined"
	TypeOffer        MessageType = "offer"
	TypeParticipants MessageType = "participants"
	TypeSpeaker      MessageType = "speaker"
	TypeError        MessageType = "error"
	TypeBye          MessageType = "bye"
)

// Code is the machine-readable reason of an error message; the join page
// shows its own text for each.
type Code string

// The error codes.
const (
	CodeWrongPIN     Code = "wrong_pin"
	CodeRoomNotFound Code = "room_not_found"
	CodeRoomLocked   Code = "room_locked"
	CodeRoomFull     Code = "room_full"
	CodeBadMessage   Code = "bad_message"
	CodeOutOfOrder   Code = "out_of_order"
	CodeShuttingDown Code = "shutting_down"
	CodeInternal     Code = "internal"
)

// Message is one signalling message from the browser, decoded and validated
// by Decode. Only the fields of its Type are set.
type Message struct {
	Type MessageType `json:"type"`
	// join
	Name string `json:"name,omitempty"`
	PIN  string `json:"pin,omitempty"`
	// answer
	SDP string `json:"sdp,omitempty"`
	// candidate (RTCIceCandidateInit); an empty Candidate is the end of
	// candidates.
	Candidate     string  `json:"candidate,omitempty"`
	SDPMid        *string `json:"sdp_mid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdp_mline_index,omitempty"`
	// mute: the browser's own state, true = muted / camera off.
	Audio bool `json:"audio,omitempty"`
	Video bool `json:"video,omitempty"`
}

// Decode parses and validates one message from a browser. Any problem is an
// error wrapping ErrBadMessage (or ErrTooLarge) that says what is wrong; the
// message's content (a PIN) is never part of it.
func Decode(data []byte) (Message, error) {
	if len(data) > MaxMessageSize {
		return Message{}, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxMessageSize)
	}
	if !utf8.Valid(data) {
		return Message{}, fmt.Errorf("%w: not UTF-8", ErrBadMessage)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Message
	if err := dec.Decode(&m); err != nil {
		return Message{}, fmt.Errorf("%w: %s", ErrBadMessage, jsonProblem(err))
	}
	if dec.More() {
		return Message{}, fmt.Errorf("%w: more than one JSON value", ErrBadMessage)
	}
	if err := m.validate(); err != nil {
		return Message{}, fmt.Errorf("%w: %s", ErrBadMessage, err)
	}
	return m, nil
}

// jsonProblem describes a JSON error without quoting the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at offset %d", se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("field %q has the wrong type", te.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ")
	}
	return "invalid JSON"
}

func (m *Message) validate() error {
	switch m.Type {
	case TypeJoin:
		name := strings.TrimSpace(m.Name)
		if name == "" {
			return fmt.Errorf("join needs a name")
		}
		if n := utf8.RuneCountInString(name); n > MaxNameLength {
			return fmt.Errorf("name has %d characters, the limit is %d", n, MaxNameLength)
		}
		for _, r := range name {
			if unicode.IsControl(r) || r == utf8.RuneError {
				return fmt.Errorf("name contains a control character")
			}
		}
		m.Name = name
		if len(m.PIN) > maxPINLength {
			return fmt.Errorf("PIN longer than %d digits", maxPINLength)
		}
		for i := 0; i < len(m.PIN); i++ {
			if m.PIN[i] < '0' || m.PIN[i] > '9' {
				return fmt.Errorf("PIN must be digits only")
			}
		}
		return m.only("name", "pin")
	case TypeAnswer:
		if !strings.HasPrefix(m.SDP, "v=0") {
			return fmt.Errorf("answer needs an SDP starting with v=0")
		}
		return m.only("sdp")
	case TypeCandidate:
		if len(m.Candidate) > maxCandidateLength {
			return fmt.Errorf("candidate longer than %d bytes", maxCandidateLength)
		}
		if m.Candidate != "" && !strings.HasPrefix(m.Candidate, "candidate:") {
			return fmt.Errorf("candidate must begin with \"candidate:\"")
		}
		if m.Candidate != "" && m.SDPMid == nil && m.SDPMLineIndex == nil {
			return fmt.Errorf("candidate needs sdp_mid or sdp_mline_index")
		}
		if m.SDPMid != nil && len(*m.SDPMid) > 32 {
			return fmt.Errorf("sdp_mid longer than 32 bytes")
		}
		return m.only("candidate", "sdp_mid", "sdp_mline_index")
	case TypeMute:
		return m.only("audio", "video")
	case TypeLeave:
		return m.only()
	case "":
		return fmt.Errorf("no type")
	}
	return fmt.Errorf("unknown type %q", truncate(string(m.Type), 32))
}

// only checks that no field outside allowed (by JSON name) is set.
func (m *Message) only(allowed ...string) error {
	set := map[string]bool{
		"name":            m.Name != "",
		"pin":             m.PIN != "",
		"sdp":             m.SDP != "",
		"candidate":       m.Candidate != "",
		"sdp_mid":         m.SDPMid != nil,
		"sdp_mline_index": m.SDPMLineIndex != nil,
		"audio":           m.Audio,
		"video":           m.Video,
	}
	for _, a := range allowed {
		delete(set, a)
	}
	for _, f := range []string{"name", "pin", "sdp", "candidate", "sdp_mid", "sdp_mline_index", "audio", "video"} {
		if set[f] {
			return fmt.Errorf("%s does not take %s", m.Type, f)
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Outgoing messages.

// ICEServer is a STUN or TURN server handed to the browser
// (RTCIceServer).
type ICEServer struct {
	URLs       []string `json:"urls" yaml:"urls"`
	Username   string   `json:"username,omitempty" yaml:"username"`
	Credential string   `json:"credential,omitempty" yaml:"credential"`
}

type joinedMsg struct {
	Type       MessageType `json:"type"`
	ID         string      `json:"id"`
	Room       string      `json:"room"`
	Role       string      `json:"role"`
	ICEServers []ICEServer `json:"ice_servers"`
}

type sdpMsg struct {
	Type MessageType `json:"type"`
	SDP  string      `json:"sdp"`
}

// Peer is one participant as the browser's participant list shows it.
type Peer struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Protocol string `json:"protocol"`
	Muted    bool   `json:"muted"`
	Video    bool   `json:"video"`
	Self     bool   `json:"self,omitempty"`
}

type participantsMsg struct {
	Type          MessageType `json:"type"`
	Participants  []Peer      `json:"participants"`
	ActiveSpeaker string      `json:"active_speaker"`
}

type speakerMsg struct {
	Type MessageType `json:"type"`
	ID   string      `json:"id"`
}

type errorMsg struct {
	Type    MessageType `json:"type"`
	Code    Code        `json:"code"`
	Message string      `json:"message"`
}

type byeMsg struct {
	Type   MessageType `json:"type"`
	Reason string      `json:"reason"`
}
