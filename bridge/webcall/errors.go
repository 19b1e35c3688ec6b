package webcall

import "errors"

// Errors of decoding a signalling message.
var (
	// ErrBadMessage: the message is not one JSON object of a known type with
	// valid fields.
	ErrBadMessage = errors.New("webcall: bad signalling message")
	// ErrTooLarge: the message is larger than MaxMessageSize.
	ErrTooLarge = errors.New("webcall: signalling message too large")
)

// ErrClosed is returned by Server methods after Close.
var ErrClosed = errors.New("webcall: server closed")
