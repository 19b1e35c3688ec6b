// Package media is the audio core of the bridge: codecs (G.711 µ-law and A-law,
// G.722 and Opus), resampling between 8, 16 and 48 kHz, a jitter buffer with
// packet loss concealment, and the conference mixer with active-speaker
// detection.
//
// Internally all audio is 48 kHz mono signed 16-bit PCM in 20 ms frames
// ([FrameSamples] samples). Decoders produce it, encoders consume it, and the
// [Mixer] sums it once per 20 ms tick. Inside the mixer, G.711 and G.722 are
// decoded at their own rate and upsampled only for the ports being mixed;
// a room whose ports are all G.711 is mixed at 8 kHz and not resampled at
// all, changing to 48 kHz and back without a seam as wideband ports come
// and go (narrow.go). Each port's jitter buffer takes payload storage as
// packets need it, so an idle port costs a few kilobytes.
// Opus packets of ports nobody hears are decoded only when their sender's
// encoder marked them voice-active (the SILK VAD flags, read without
// decoding: opus_packet.go, silence_gate.go), and a silent room's shared
// encoder rests, so a room's CPU follows its talkers, not its size.
//
// G.711 (ITU-T G.711) and G.722 (ITU-T G.722, bit-exact with FFmpeg's
// adpcm_g722 in both directions) are written in Go. Opus is a thin cgo
// binding of libopus found through pkg-config (Debian libopus-dev), so the
// package needs cgo.
//
// Concurrency: a Mixer runs one goroutine, started by NewMixer and stopped
// (and waited for) by Close. Port methods may be called from any goroutine;
// sinks and OnActiveSpeaker run on the mixer goroutine and must not block.
// Encoders and decoders are not safe for concurrent use.
//
// The package is a leaf: it must not import any other package of the module
// (bridge imports it, never the reverse), and it knows nothing of SIP, SDP,
// RTP sockets or storage. Legs hand in RTP payloads with their sequence
// number and timestamp ([Port.Push]) and receive encoded payloads from the
// mixer through a sink function.
package media
