package media

import "errors"

// Sentinel errors of the media core.
var (
	// ErrUnsupportedCodec is returned for a codec this package cannot encode or decode.
	ErrUnsupportedCodec = errors.New("media: unsupported codec")
	// ErrShortBuffer is returned when a destination buffer cannot hold the result.
	ErrShortBuffer = errors.New("media: destination buffer too short")
	// ErrFrameSize is returned when an encoder is not given exactly one 20 ms frame.
	ErrFrameSize = errors.New("media: PCM input is not one 20 ms frame of 960 samples")
	// ErrCorruptPayload is returned for a payload a decoder cannot make sense of.
	ErrCorruptPayload = errors.New("media: corrupt payload")
	// ErrClosed is returned by operations on a closed mixer, port, encoder or decoder.
	ErrClosed = errors.New("media: closed")
	// ErrDuplicatePort is returned by AddPort for an ID the mixer already has.
	ErrDuplicatePort = errors.New("media: duplicate port ID")
)
