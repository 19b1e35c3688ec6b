package cdr

import "errors"

// Sentinel errors of the package.
var (
	// ErrNotFound is returned when an organisation, sink or record does not exist.
	ErrNotFound = errors.New("cdr: not found")
	// ErrClosed is returned by a Writer used after Close.
	ErrClosed = errors.New("cdr: writer closed")
	// ErrCorruptSpool is returned when a spool frame fails its checksum or is
	// truncated; the frames before it are intact.
	ErrCorruptSpool = errors.New("cdr: corrupt spool frame")
	// ErrConfirm is returned by destructive operations called without confirmation.
	ErrConfirm = errors.New("cdr: refusing without --confirm")
	// ErrBadEvent is returned for an event that can never be stored (unknown kind,
	// missing IDs, a leg of an unknown conference).
	ErrBadEvent = errors.New("cdr: bad event")
)
