package main

import (
	"fmt"
	"time"
)

// A VideoSource is a call's synthetic video stream. The pacer calls Tick
// every 20 ms on its goroutine; the source writes the packets due by then
// through the call's PacketWriter (its own SSRC and payload type, on the
// video m-line's socket). KeyframeRequested is called, from the call's
// receiving goroutine or its signalling, on an RTCP PLI or FIR (RFC 4585
// §6.3.1, RFC 5104 §4.3.1) or a SIP INFO picture_fast_update (RFC 5168):
// the source answers with an IDR as its next frame.
//
// The H.264 source (RFC 6184 packetisation of a pre-encoded loop) lands
// with the bridge's SIP video (issue 7); until then newVideoSource refuses
// every kind.
type VideoSource interface {
	Tick(now time.Time)
	KeyframeRequested()
	Close() error
}

// A PacketWriter sends one RTP packet of a call's stream; it must not
// keep b.
type PacketWriter interface {
	WriteRTP(b []byte) error
}

// videoKinds are the values of --video.
var videoKinds = []string{"h264"}

// newVideoSource returns the source for kind ("" is no video).
func newVideoSource(kind string, _ PacketWriter) (VideoSource, error) {
	switch kind {
	case "":
		return nil, nil
	case "h264":
		return nil, fmt.Errorf("--video h264: %w (the synthetic H.264 stream needs the bridge's SIP video, issue 7)", errNotYet)
	}
	return nil, fmt.Errorf("%w: --video %q: want one of %v", errUsage, kind, videoKinds)
}
