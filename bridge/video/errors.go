package video

import "errors"

// Errors of the H.264 payload and parameter parsers.
var (
	// ErrShortPayload: an RTP payload or aggregated NAL unit is cut short.
	ErrShortPayload = errors.New("video: h264 payload too short")
	// ErrForbiddenBit: a NAL unit header has its forbidden_zero_bit set
	// (RFC 6184 §5.3).
	ErrForbiddenBit = errors.New("video: h264 forbidden_zero_bit set")
	// ErrUnsupportedNAL: a packetization type this bridge does not take
	// (STAP-B, MTAP16, MTAP24, FU-B: interleaved mode, RFC 6184 §5.7).
	ErrUnsupportedNAL = errors.New("video: unsupported h264 packetization type")
	// ErrProfileLevelID: profile-level-id is not six hex digits.
	ErrProfileLevelID = errors.New("video: malformed profile-level-id")
)
