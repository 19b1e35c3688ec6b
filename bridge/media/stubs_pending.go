package media

import "fmt"

// G.722 and Opus land in later commits; until then they are unsupported.

func newOpusEncoder(EncoderOptions) (Encoder, error) {
	return nil, fmt.Errorf("%w: %s (not yet)", ErrUnsupportedCodec, Opus)
}

func newOpusDecoder() (Decoder, error) {
	return nil, fmt.Errorf("%w: %s (not yet)", ErrUnsupportedCodec, Opus)
}
