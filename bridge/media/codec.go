package media

import (
	"fmt"
	"strconv"
	"strings"
)

// SampleRate is the rate of the package's internal PCM: 48 kHz.
const SampleRate = 48000

// FrameSamples is the number of internal samples in one 20 ms frame.
const FrameSamples = SampleRate / 50

// MaxFrameSamples is the largest number of 48 kHz samples one payload can decode
// to: 120 ms, the longest Opus packet (RFC 6716 §3.2.5). Decode buffers of this
// size never fail with ErrShortBuffer.
const MaxFrameSamples = 6 * FrameSamples

// MaxPayload is the largest encoded 20 ms frame any encoder of this package
// produces; a destination buffer of this size is always large enough.
const MaxPayload = 1275 // RFC 6716 §3.4 (R2): the largest Opus frame

// AudioCodec names an RTP audio codec the way SDP's a=rtpmap does
// (RFC 4566 §6): encoding name, RTP clock rate and channel count.
type AudioCodec struct {
	Name      string
	ClockRate int
	Channels  int
}

// The audio codecs the media core encodes and decodes, in the bridge's order of
// preference.
var (
	// Opus is RFC 7587: always signalled as opus/48000/2; we send and accept mono.
	Opus = AudioCodec{Name: "opus", ClockRate: 48000, Channels: 2}
	// G722 is ITU-T G.722 at 64 kbit/s. Its RTP clock is 8000 although it samples
	// at 16 kHz, an error in the original specification kept for compatibility
	// (RFC 3551 §4.5.2).
	G722 = AudioCodec{Name: "G722", ClockRate: 8000, Channels: 1}
	// PCMU is ITU-T G.711 µ-law (RFC 3551 §4.5.14).
	PCMU = AudioCodec{Name: "PCMU", ClockRate: 8000, Channels: 1}
	// PCMA is ITU-T G.711 A-law (RFC 3551 §4.5.14).
	PCMA = AudioCodec{Name: "PCMA", ClockRate: 8000, Channels: 1}
)

// String gives the codec as written in an a=rtpmap line (RFC 4566 §6), the
// one form used in logs, the admin view and call records: "opus/48000/2",
// "G722/8000", "PCMU/8000". The channel count appears only when above one,
// since RFC 4566 §6 makes one channel the default.
func (c AudioCodec) String() string {
	if c.Channels > 1 {
		return c.Name + "/" + strconv.Itoa(c.ClockRate) + "/" + strconv.Itoa(c.Channels)
	}
	return c.Name + "/" + strconv.Itoa(c.ClockRate)
}

// Is reports whether c and o are the same codec, comparing encoding names
// without regard to case (RFC 4566 §6: names are case-insensitive).
func (c AudioCodec) Is(o AudioCodec) bool {
	return strings.EqualFold(c.Name, o.Name) && c.ClockRate == o.ClockRate
}

// SamplesPerFrame is the number of RTP timestamp units in a 20 ms frame of c.
func (c AudioCodec) SamplesPerFrame() int { return c.ClockRate / 50 }

// An Encoder turns 20 ms frames of 48 kHz mono PCM into RTP payloads of one
// codec. It is stateful (resampler history, ADPCM predictors, Opus state) and
// not safe for concurrent use.
type Encoder interface {
	// Codec is the codec the encoder produces.
	Codec() AudioCodec
	// Encode encodes exactly FrameSamples samples into dst and returns the
	// payload length. A dst of MaxPayload bytes is always large enough.
	Encode(pcm48 []int16, dst []byte) (int, error)
	// Close releases the encoder's resources; it is idempotent.
	Close() error
}

// A Decoder turns RTP payloads of one codec into 48 kHz mono PCM. It is
// stateful and not safe for concurrent use.
type Decoder interface {
	// Codec is the codec the decoder accepts.
	Codec() AudioCodec
	// Decode decodes one payload into pcm48 and returns the number of samples
	// written (FrameSamples for a 20 ms packet). A pcm48 of MaxFrameSamples
	// is always large enough.
	Decode(payload []byte, pcm48 []int16) (int, error)
	// Conceal writes one 20 ms frame standing in for a lost packet (packet
	// loss concealment) and returns FrameSamples.
	Conceal(pcm48 []int16) (int, error)
	// Close releases the decoder's resources; it is idempotent.
	Close() error
}

// A FECDecoder can recover a lost packet from the forward error correction
// data carried in the packet that follows it (Opus in-band FEC, RFC 6716
// §2.1.7).
type FECDecoder interface {
	Decoder
	// DecodeFEC writes 20 ms standing in for the packet before next, using
	// the redundancy in next, and returns FrameSamples.
	DecodeFEC(next []byte, pcm48 []int16) (int, error)
}

// stateCopier is implemented by encoders whose state can be copied from
// another encoder of the same codec, so a listener moved from the shared
// stream to a personal one continues the stream its decoder has been
// following.
type stateCopier interface {
	copyStateFrom(src Encoder) bool
}

// NewEncoder returns an encoder for c with the package defaults (Opus: 32
// kbit/s, VOIP application, in-band FEC, no DTX).
func NewEncoder(c AudioCodec) (Encoder, error) {
	return NewEncoderWith(c, EncoderOptions{})
}

// EncoderOptions tunes encoders; the zero value gives the defaults.
type EncoderOptions struct {
	// OpusBitrate is the Opus target bitrate in bit/s; 0 means 32000.
	OpusBitrate int
	// OpusDTX turns on Opus discontinuous transmission (RFC 7587 §3.1.3).
	OpusDTX bool
	// OpusNoFEC turns off Opus in-band forward error correction.
	OpusNoFEC bool
	// OpusPacketLossPerc is the expected packet loss in percent the Opus FEC
	// is sized for; 0 means 5.
	OpusPacketLossPerc int
	// OpusComplexity is the encoder's complexity, 1 to 10; 0 means 5, which
	// keeps wideband speech quality while halving the CPU of complexity 10.
	OpusComplexity int
}

// NewEncoderWith returns an encoder for c with the given options.
func NewEncoderWith(c AudioCodec, opts EncoderOptions) (Encoder, error) {
	switch {
	case c.Is(PCMU):
		return newG711Encoder(PCMU), nil
	case c.Is(PCMA):
		return newG711Encoder(PCMA), nil
	case c.Is(G722):
		return newG722Encoder(), nil
	case c.Is(Opus):
		e, err := newOpusEncoder(opts)
		if err != nil {
			return nil, err
		}
		return e, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupportedCodec, c)
}

// NewDecoder returns a decoder for c.
func NewDecoder(c AudioCodec) (Decoder, error) {
	switch {
	case c.Is(PCMU):
		return newG711Decoder(PCMU), nil
	case c.Is(PCMA):
		return newG711Decoder(PCMA), nil
	case c.Is(G722):
		return newG722Decoder(), nil
	case c.Is(Opus):
		d, err := newOpusDecoder()
		if err != nil {
			return nil, err
		}
		return d, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupportedCodec, c)
}
