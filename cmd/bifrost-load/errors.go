package main

import "errors"

// Errors of the load generator.
var (
	errBadAnswer = errors.New("bad SDP answer")
	errHungUp    = errors.New("the bridge hung up")
	errNoMedia   = errors.New("no RTP from the bridge")
	errUsage     = errors.New("usage")

	errVideoDeclined = errors.New("the bridge declined video")
)
