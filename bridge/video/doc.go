// Package video is the bridge's H.264 video plumbing, below the router: it
// reads H.264 RTP payloads (RFC 6184) without decoding them, rewrites one
// receiver's outgoing stream so that it stays continuous across source
// switches, throttles keyframe requests, and intersects H.264 capabilities
// (profile-level-id and the max-* parameters, RFC 6184 §8.1) for SDP.
//
// Everything here works on RTP payloads and header fields handed in by the
// caller: no sockets, no goroutines, no allocation per packet in steady
// state. Types are not safe for concurrent use unless they say so; the
// router guards them with its own locks.
//
// The package is a leaf: it must not import bridge, bridge/sipcall or any
// storage package.
package video
