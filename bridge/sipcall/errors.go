package sipcall

import "errors"

var (
	// ErrClosed is returned by Listen after Close.
	ErrClosed = errors.New("sipcall: server closed")
	// ErrListening is returned by a second call to Listen.
	ErrListening = errors.New("sipcall: server already listening")
)
