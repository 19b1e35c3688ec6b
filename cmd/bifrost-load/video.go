package main

import (
	"fmt"
	"time"
)

// A VideoSource is a call's synthetic video stream. The pacer calls Tick
// every 20 ms on its goroutine; the source sends the frames due by then on
// the video m-line's own socket. KeyframeRequested is called, from the
// source's receiving goroutine or the SIP server's, on an RTCP PLI or FIR
// (RFC 4585 §6.3.1, RFC 5104 §4.3.1) or a SIP INFO picture_fast_update
// (RFC 5168): the source answers with an IDR at once.
type VideoSource interface {
	Tick(now time.Time)
	KeyframeRequested()
	Close() error
}

// videoKinds are the values of --video.
var videoKinds = []string{"h264"}

// checkVideo refuses a --video that is not "" (no video) or one of
// videoKinds.
func checkVideo(kind string) error {
	switch kind {
	case "", "h264":
		return nil
	}
	return fmt.Errorf("%w: --video %q: want one of %v", errUsage, kind, videoKinds)
}
