// Package media is the audio core of the bridge: codecs (G.711 µ-law and A-law,
// G.722 and Opus), resampling between 8, 16 and 48 kHz, a jitter buffer with
// packet loss concealment, and the conference mixer with active-speaker
// detection.
//
// Internally all audio is 48 kHz mono signed 16-bit PCM in 20 ms frames
// ([FrameSamples] samples). Decoders produce it, encoders consume it, and the
// [Mixer] sums it once per 20 ms tick.
//
// The package is a leaf: it must not import any other package of the module
// (bridge imports it, never the reverse), and it knows nothing of SIP, SDP,
// RTP sockets or storage. Legs hand in RTP payloads with their sequence
// number and timestamp ([Port.Push]) and receive encoded payloads from the
// mixer through a sink function.
package media
