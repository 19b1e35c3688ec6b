package media

// Opus (RFC 6716) through a thin cgo binding of libopus (Debian libopus-dev).
// We encode mono at 48 kHz with the VOIP application, in-band FEC and
// optional DTX; RFC 7587 §7 lets a receiver of opus/48000/2 take mono.

/*
#cgo pkg-config: opus
#include <stdlib.h>
#include <string.h>
#include <opus.h>

// opus_encoder_ctl is variadic, which cgo cannot call: one wrapper per request.
static int bf_set_bitrate(OpusEncoder *e, opus_int32 v)   { return opus_encoder_ctl(e, OPUS_SET_BITRATE(v)); }
static int bf_set_fec(OpusEncoder *e, opus_int32 v)       { return opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(v)); }
static int bf_set_loss(OpusEncoder *e, opus_int32 v)      { return opus_encoder_ctl(e, OPUS_SET_PACKET_LOSS_PERC(v)); }
static int bf_set_dtx(OpusEncoder *e, opus_int32 v)       { return opus_encoder_ctl(e, OPUS_SET_DTX(v)); }
static int bf_set_complexity(OpusEncoder *e, opus_int32 v){ return opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(v)); }
static int bf_set_signal_voice(OpusEncoder *e)            { return opus_encoder_ctl(e, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)); }
*/
import "C"

import (
	"fmt"
	"unsafe"
)

func opusError(op string, code C.int) error {
	return fmt.Errorf("media: opus %s: %s", op, C.GoString(C.opus_strerror(code)))
}

// opusEncoder owns a libopus encoder state allocated in C memory. The state
// is position independent (opus.h), so it is allocated with its size and can
// be copied byte for byte from another encoder.
type opusEncoder struct {
	st   *C.OpusEncoder
	size C.int
}

func newOpusEncoder(opts EncoderOptions) (*opusEncoder, error) {
	size := C.opus_encoder_get_size(1)
	st := (*C.OpusEncoder)(C.malloc(C.size_t(size)))
	if st == nil {
		return nil, fmt.Errorf("media: opus encoder: out of memory")
	}
	e := &opusEncoder{st: st, size: size}
	if rc := C.opus_encoder_init(st, SampleRate, 1, C.OPUS_APPLICATION_VOIP); rc != C.OPUS_OK {
		_ = e.Close()
		return nil, opusError("encoder init", rc)
	}
	bitrate := opts.OpusBitrate
	if bitrate <= 0 {
		bitrate = 32000
	}
	loss := opts.OpusPacketLossPerc
	if loss <= 0 {
		loss = 5
	}
	complexity := opts.OpusComplexity
	if complexity <= 0 {
		complexity = 5
	}
	fec, dtx := 1, 0
	if opts.OpusNoFEC {
		fec = 0
	}
	if opts.OpusDTX {
		dtx = 1
	}
	for _, set := range []struct {
		name string
		rc   C.int
	}{
		{"bitrate", C.bf_set_bitrate(st, C.opus_int32(bitrate))},
		{"in-band FEC", C.bf_set_fec(st, C.opus_int32(fec))},
		{"packet loss", C.bf_set_loss(st, C.opus_int32(loss))},
		{"DTX", C.bf_set_dtx(st, C.opus_int32(dtx))},
		{"complexity", C.bf_set_complexity(st, C.opus_int32(complexity))},
		{"signal", C.bf_set_signal_voice(st)},
	} {
		if set.rc != C.OPUS_OK {
			_ = e.Close()
			return nil, opusError("set "+set.name, set.rc)
		}
	}
	return e, nil
}

func (e *opusEncoder) Codec() AudioCodec { return Opus }

func (e *opusEncoder) Encode(pcm48 []int16, dst []byte) (int, error) {
	if e.st == nil {
		return 0, ErrClosed
	}
	if len(pcm48) != FrameSamples {
		return 0, ErrFrameSize
	}
	if len(dst) == 0 {
		return 0, ErrShortBuffer
	}
	n := C.opus_encode(e.st, (*C.opus_int16)(unsafe.Pointer(&pcm48[0])), FrameSamples,
		(*C.uchar)(unsafe.Pointer(&dst[0])), C.opus_int32(len(dst)))
	if n < 0 {
		return 0, opusError("encode", n)
	}
	return int(n), nil
}

func (e *opusEncoder) copyStateFrom(src Encoder) bool {
	s, ok := src.(*opusEncoder)
	if !ok || s.st == nil || e.st == nil || s.size != e.size {
		return false
	}
	C.memcpy(unsafe.Pointer(e.st), unsafe.Pointer(s.st), C.size_t(e.size))
	return true
}

func (e *opusEncoder) Close() error {
	if e.st != nil {
		C.free(unsafe.Pointer(e.st))
		e.st = nil
	}
	return nil
}

// opusDecoder owns a libopus decoder: packet loss concealment comes from
// libopus, and a lost packet can be rebuilt from the FEC in the next one.
type opusDecoder struct {
	st *C.OpusDecoder
}

func newOpusDecoder() (*opusDecoder, error) {
	var rc C.int
	st := C.opus_decoder_create(SampleRate, 1, &rc)
	if rc != C.OPUS_OK || st == nil {
		return nil, opusError("decoder create", rc)
	}
	return &opusDecoder{st: st}, nil
}

func (d *opusDecoder) Codec() AudioCodec { return Opus }

func (d *opusDecoder) decode(payload []byte, pcm48 []int16, frame int, fec C.int) (int, error) {
	if d.st == nil {
		return 0, ErrClosed
	}
	if len(pcm48) < frame {
		return 0, ErrShortBuffer
	}
	var data *C.uchar
	if len(payload) > 0 {
		data = (*C.uchar)(unsafe.Pointer(&payload[0]))
	}
	n := C.opus_decode(d.st, data, C.opus_int32(len(payload)),
		(*C.opus_int16)(unsafe.Pointer(&pcm48[0])), C.int(frame), fec)
	if n < 0 {
		if n == C.OPUS_INVALID_PACKET {
			return 0, fmt.Errorf("%w: %w", ErrCorruptPayload, opusError("decode", n))
		}
		return 0, opusError("decode", n)
	}
	return int(n), nil
}

// Decode decodes one Opus packet (up to 120 ms).
func (d *opusDecoder) Decode(payload []byte, pcm48 []int16) (int, error) {
	if len(payload) == 0 {
		return 0, ErrCorruptPayload
	}
	return d.decode(payload, pcm48, min(len(pcm48), MaxFrameSamples), 0)
}

// Conceal runs libopus packet loss concealment for 20 ms.
func (d *opusDecoder) Conceal(pcm48 []int16) (int, error) {
	return d.decode(nil, pcm48, FrameSamples, 0)
}

// DecodeFEC rebuilds the 20 ms before next from next's in-band FEC; when
// next carries none, libopus conceals instead.
func (d *opusDecoder) DecodeFEC(next []byte, pcm48 []int16) (int, error) {
	return d.decode(next, pcm48, FrameSamples, 1)
}

func (d *opusDecoder) Close() error {
	if d.st != nil {
		C.opus_decoder_destroy(d.st)
		d.st = nil
	}
	return nil
}
