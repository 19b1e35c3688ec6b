package media

import (
	"math/bits"
	"sync"
)

// ITU-T G.711 (11/88): 8-bit logarithmic companding of 8 kHz PCM, µ-law
// (North America, Japan) and A-law (elsewhere). The arithmetic below is the
// segment/mantissa form of the recommendation's tables and is bit-exact with
// them.

// muLawBias is added to the magnitude before segment search (G.711 µ-law, 33 in
// 14-bit units, 0x84 in 16-bit units).
const muLawBias = 0x84

// muLawClip is the largest magnitude µ-law encodes without overflow.
const muLawClip = 32635

// EncodeMuLaw compands one 16-bit linear sample to a µ-law byte.
func EncodeMuLaw(s int16) byte {
	v := int(s)
	var sign byte
	if v < 0 {
		v = -v
		sign = 0x80
	}
	if v > muLawClip {
		v = muLawClip
	}
	v += muLawBias
	exp := bits.Len(uint(v)) - 8 // v is in [0x84, 0x7fff]: segment 0..7
	mant := (v >> (exp + 3)) & 0x0f
	return ^(sign | byte(exp<<4) | byte(mant))
}

// DecodeMuLaw expands a µ-law byte to a 16-bit linear sample.
func DecodeMuLaw(u byte) int16 {
	u = ^u
	t := (int(u&0x0f) << 3) + muLawBias
	t <<= (u & 0x70) >> 4
	if u&0x80 != 0 {
		return int16(muLawBias - t)
	}
	return int16(t - muLawBias)
}

// EncodeALaw compands one 16-bit linear sample to an A-law byte (even bits
// inverted, as transmitted).
func EncodeALaw(s int16) byte {
	v := int(s) >> 3 // 13-bit
	mask := byte(0xd5)
	if v < 0 {
		mask = 0x55
		v = -v - 1
	}
	if v > 0xfff {
		return 0x7f ^ mask
	}
	seg := bits.Len(uint(v) >> 5) // 0 for v < 32, then one per doubling
	var a byte
	if seg < 2 {
		a = byte(seg<<4) | byte((v>>1)&0x0f)
	} else {
		a = byte(seg<<4) | byte((v>>seg)&0x0f)
	}
	return a ^ mask
}

// DecodeALaw expands an A-law byte to a 16-bit linear sample.
func DecodeALaw(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0f) << 4
	seg := (a & 0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t += 0x108
		t <<= seg - 1
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

// Decode tables, built once: expanding is a lookup.
var muLawTable, aLawTable [256]int16

func init() {
	for i := range 256 {
		muLawTable[i] = DecodeMuLaw(byte(i))
		aLawTable[i] = DecodeALaw(byte(i))
	}
}

// encodeTables are the compressing direction as lookups, one byte per 16-bit
// sample (64 KiB per law), indexed by the sample's bits as a uint16. They
// are built on first use, so a process without G.711 legs never pays for
// them.
type encodeTables struct{ mu, a [1 << 16]byte }

var g711EncodeTables = sync.OnceValue(func() *encodeTables {
	t := new(encodeTables)
	for i := range 1 << 16 {
		t.mu[i] = EncodeMuLaw(int16(uint16(i)))
		t.a[i] = EncodeALaw(int16(uint16(i)))
	}
	return t
})

// compand encodes pcm to dst through table, one byte per sample.
func compand(table *[1 << 16]byte, pcm []int16, dst []byte) {
	dst = dst[:len(pcm)]
	for i, s := range pcm {
		dst[i] = table[uint16(s)]
	}
}

// g711Encoder resamples 48 kHz to 8 kHz and compands.
type g711Encoder struct {
	codec AudioCodec
	alaw  bool
	table *[1 << 16]byte
	down  *Resampler
	pcm8  [FrameSamples / 6]int16
}

func newG711Encoder(c AudioCodec) *g711Encoder {
	e := &g711Encoder{codec: c, alaw: c.Is(PCMA), table: &g711EncodeTables().mu, down: NewResampler(SampleRate, 8000)}
	if e.alaw {
		e.table = &g711EncodeTables().a
	}
	return e
}

func (e *g711Encoder) Codec() AudioCodec { return e.codec }

func (e *g711Encoder) Encode(pcm48 []int16, dst []byte) (int, error) {
	if len(pcm48) != FrameSamples {
		return 0, ErrFrameSize
	}
	if len(dst) < len(e.pcm8) {
		return 0, ErrShortBuffer
	}
	n := e.down.Process(pcm48, e.pcm8[:])
	compand(e.table, e.pcm8[:n], dst)
	return n, nil
}

func (e *g711Encoder) copyStateFrom(src Encoder) bool {
	s, ok := src.(*g711Encoder)
	if !ok || s.alaw != e.alaw {
		return false
	}
	e.down.copyStateFrom(s.down)
	return true
}

func (e *g711Encoder) Close() error { return nil }

// g711Decoder expands, resamples 8 kHz to 48 kHz, and conceals loss by
// repeating the last frame with a fade-out.
type g711Decoder struct {
	codec AudioCodec
	table *[256]int16
	up    *Resampler
	pcm8  [MaxFrameSamples / 6]int16
	plc   fadePLC
}

func newG711Decoder(c AudioCodec) *g711Decoder {
	d := &g711Decoder{codec: c, table: &muLawTable, up: NewResampler(8000, SampleRate), plc: fadePLC{frame: 160}}
	if c.Is(PCMA) {
		d.table = &aLawTable
	}
	return d
}

func (d *g711Decoder) Codec() AudioCodec     { return d.codec }
func (d *g711Decoder) rate() int             { return 8000 }
func (d *g711Decoder) upsampler() *Resampler { return d.up }

func (d *g711Decoder) decodeNative(payload []byte, pcm8 []int16) (int, error) {
	if len(payload) > len(d.pcm8) {
		return 0, ErrCorruptPayload
	}
	if len(pcm8) < len(payload) {
		return 0, ErrShortBuffer
	}
	for i, b := range payload {
		pcm8[i] = d.table[b]
	}
	d.plc.remember(pcm8[:len(payload)])
	return len(payload), nil
}

func (d *g711Decoder) concealNative(pcm8 []int16) (int, error) { return d.plc.conceal(pcm8) }

func (d *g711Decoder) Decode(payload []byte, pcm48 []int16) (int, error) {
	if len(pcm48) < 6*len(payload) {
		return 0, ErrShortBuffer
	}
	n, err := d.decodeNative(payload, d.pcm8[:])
	if err != nil {
		return 0, err
	}
	return d.up.Process(d.pcm8[:n], pcm48), nil
}

func (d *g711Decoder) Conceal(pcm48 []int16) (int, error) {
	if len(pcm48) < FrameSamples {
		return 0, ErrShortBuffer
	}
	n, _ := d.concealNative(d.pcm8[:])
	return d.up.Process(d.pcm8[:n], pcm48), nil
}

func (d *g711Decoder) Close() error { return nil }
