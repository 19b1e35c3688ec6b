package bridge

import (
	"fmt"
	"strings"
)

// SRTPPolicy says when a leg's media must, may or must not be encrypted
// with SRTP. The system sets a default; a room may override it.
type SRTPPolicy string

// The SRTP policies. The zero value means "the system default" on a room.
const (
	// SRTPRequired refuses calls that offer plain RTP only.
	SRTPRequired SRTPPolicy = "required"
	// SRTPPreferred encrypts whenever the endpoint offers it.
	SRTPPreferred SRTPPolicy = "preferred"
	// SRTPOff answers plain RTP, declining crypto; SRTP-only offers are
	// refused.
	SRTPOff SRTPPolicy = "off"
)

// ParseSRTPPolicy reads a policy name, case-insensitively; "" gives "",
// the system default.
func ParseSRTPPolicy(s string) (SRTPPolicy, error) {
	switch p := SRTPPolicy(strings.ToLower(strings.TrimSpace(s))); p {
	case "", SRTPRequired, SRTPPreferred, SRTPOff:
		return p, nil
	}
	return "", fmt.Errorf("bridge: srtp policy %q: want required, preferred or off", s)
}

// Or returns p, or def when p is the zero value.
func (p SRTPPolicy) Or(def SRTPPolicy) SRTPPolicy {
	if p == "" {
		return def
	}
	return p
}
