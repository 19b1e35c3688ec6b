package media

// Cheap evidence of silence in an Opus packet, read without decoding it.
//
// An Opus packet in SILK-only or hybrid mode (RFC 6716 §3.1, configurations
// 0–15) starts each of its frames, after the TOC byte, with the SILK layer's
// header bits: one voice activity detection (VAD) flag per SILK frame,
// then the LBRR (in-band FEC) flag, for the mid channel and, in stereo, for
// the side channel (RFC 6716 §4.2.3). They are the first symbols of the
// frame's range coder, each coded with probability one half, so reading
// them costs a range decoder's initialisation and a few shifts. The flag is
// the sender's encoder's own speech decision, the one its DTX acts on
// (RFC 6716 §2.1.9): a frame it marks inactive is a frame a sender with DTX
// would not have sent at all. CELT-only packets carry no such flag.

// opusActivity is what a packet says about the voice in it.
type opusActivity uint8

const (
	// opusUnknown: the packet carries no VAD flag (CELT-only) or could not
	// be parsed; it must be decoded.
	opusUnknown opusActivity = iota
	// opusVoice: some SILK frame of the packet is marked voice-active.
	opusVoice
	// opusInactive: every SILK frame of the packet is marked inactive, or
	// the packet is DTX (RFC 7587 §3.1.3): frames of at most one byte.
	opusInactive
)

// opusFrameSamples48 is the duration of one frame of each TOC configuration
// (RFC 6716 §3.1, Table 2) in 48 kHz samples.
var opusFrameSamples48 = [32]int{
	480, 960, 1920, 2880, // SILK NB 10, 20, 40, 60 ms
	480, 960, 1920, 2880, // SILK MB
	480, 960, 1920, 2880, // SILK WB
	480, 960, // hybrid SWB 10, 20 ms
	480, 960, // hybrid FB
	120, 240, 480, 960, // CELT NB 2.5, 5, 10, 20 ms
	120, 240, 480, 960, // CELT WB
	120, 240, 480, 960, // CELT SWB
	120, 240, 480, 960, // CELT FB
}

// maxOpusFrames is the most frames one packet may hold (RFC 6716 §3.2.5:
// at most 120 ms, so 48 frames of 2.5 ms).
const maxOpusFrames = 48

// inspectOpus reads payload's TOC byte, its framing (RFC 6716 §3.2) and the
// VAD flags of each frame. samples is the packet's duration in 48 kHz
// samples; it is 0 when the packet is malformed (then activity is
// opusUnknown and the decoder gets to say what is wrong). A packet whose
// frames are all of at most one byte is DTX: inactive.
func inspectOpus(payload []byte) (samples int, activity opusActivity) {
	if len(payload) == 0 {
		return 0, opusUnknown
	}
	toc := payload[0]
	config := int(toc >> 3)
	stereo := toc&0x04 != 0
	per := opusFrameSamples48[config]
	var frames [maxOpusFrames][]byte
	count := 0
	body := payload[1:]
	switch toc & 0x03 {
	case 0: // one frame
		frames[0] = body
		count = 1
	case 1: // two frames of equal size
		if len(body)%2 != 0 {
			return 0, opusUnknown
		}
		h := len(body) / 2
		frames[0], frames[1] = body[:h], body[h:]
		count = 2
	case 2: // two frames, the first one's length coded
		l, k := opusFrameLength(body)
		if k == 0 || l > len(body)-k {
			return 0, opusUnknown
		}
		frames[0], frames[1] = body[k:k+l], body[k+l:]
		count = 2
	case 3: // an arbitrary number of frames
		if len(body) < 1 {
			return 0, opusUnknown
		}
		ch := body[0]
		body = body[1:]
		count = int(ch & 0x3f)
		if count == 0 || count*per > 6*FrameSamples {
			return 0, opusUnknown
		}
		if ch&0x40 != 0 { // padding: 255 means 254 and another length byte
			pad := 0
			for {
				if len(body) == 0 {
					return 0, opusUnknown
				}
				b := int(body[0])
				body = body[1:]
				if b == 255 {
					pad += 254
					continue
				}
				pad += b
				break
			}
			if pad > len(body) {
				return 0, opusUnknown
			}
			body = body[:len(body)-pad]
		}
		if ch&0x80 != 0 { // VBR: count-1 lengths, the last frame takes the rest
			var lens [maxOpusFrames]int
			for i := range count - 1 {
				l, k := opusFrameLength(body)
				if k == 0 {
					return 0, opusUnknown
				}
				lens[i] = l
				body = body[k:]
			}
			for i := range count - 1 {
				if lens[i] > len(body) {
					return 0, opusUnknown
				}
				frames[i] = body[:lens[i]]
				body = body[lens[i]:]
			}
			frames[count-1] = body
		} else { // CBR: equal sizes
			if len(body)%count != 0 {
				return 0, opusUnknown
			}
			l := len(body) / count
			for i := range count {
				frames[i] = body[i*l : (i+1)*l]
			}
		}
	}
	samples = count * per
	if samples > 6*FrameSamples {
		return 0, opusUnknown
	}
	// A frame of at most one byte decodes as concealment (libopus
	// opus_decode_frame): it is what DTX sends (a TOC byte alone).
	dtx := true
	for _, f := range frames[:count] {
		if len(f) > 1 {
			dtx = false
		}
	}
	if dtx {
		return samples, opusInactive
	}
	if config >= 16 { // CELT-only: no VAD flag
		return samples, opusUnknown
	}
	// SILK frames per Opus frame: one per 20 ms, at least one (RFC 6716
	// §4.2.2).
	silkFrames := max(1, per/FrameSamples)
	for _, f := range frames[:count] {
		if len(f) > 1 && silkVoiceActive(f, silkFrames, stereo) {
			return samples, opusVoice
		}
	}
	return samples, opusInactive
}

// opusFrameLength decodes a frame length of RFC 6716 §3.2.1: one byte below
// 252, or two bytes (first + 4·second). k is the number of bytes read, 0
// when b is too short.
func opusFrameLength(b []byte) (l, k int) {
	switch {
	case len(b) == 0:
		return 0, 0
	case b[0] < 252:
		return int(b[0]), 1
	case len(b) < 2:
		return 0, 0
	default:
		return int(b[0]) + 4*int(b[1]), 2
	}
}

// silkVoiceActive reads the header bits of one Opus frame's SILK layer
// (RFC 6716 §4.2.3) and reports whether any VAD flag is set: the mid
// channel's n flags, its LBRR flag, and in stereo the side channel's n
// flags.
func silkVoiceActive(frame []byte, n int, stereo bool) bool {
	var rd rangeDecoder
	rd.init(frame)
	for range n {
		if rd.bit() {
			return true
		}
	}
	if !stereo {
		return false
	}
	rd.bit() // the mid channel's LBRR flag
	for range n {
		if rd.bit() {
			return true
		}
	}
	return false
}

// rangeDecoder is the start of the range decoder of RFC 6716 §4.1: enough
// to read symbols coded with probability one half (ec_dec_bit_logp with
// logp 1). Past the end of the frame it reads zeros, as §4.1.2 says.
type rangeDecoder struct {
	buf []byte
	pos int
	rng uint32
	val uint32
	rem uint32
}

func (d *rangeDecoder) byte() uint32 {
	if d.pos < len(d.buf) {
		b := d.buf[d.pos]
		d.pos++
		return uint32(b)
	}
	return 0
}

// init is RFC 6716 §4.1.1.
func (d *rangeDecoder) init(buf []byte) {
	d.buf, d.pos = buf, 0
	d.rng = 128
	d.rem = d.byte()
	d.val = 127 - d.rem>>1
	d.normalize()
}

// normalize is RFC 6716 §4.1.2.1.
func (d *rangeDecoder) normalize() {
	for d.rng <= 1<<23 {
		d.rng <<= 8
		sym := d.rem
		d.rem = d.byte()
		sym = (sym<<8 | d.rem) >> 1
		d.val = ((d.val << 8) + (255 &^ sym)) & (1<<31 - 1)
	}
}

// bit decodes one symbol of probability one half (RFC 6716 §4.1.3.2,
// ec_dec_bit_logp with logp 1).
func (d *rangeDecoder) bit() bool {
	s := d.rng >> 1
	one := d.val < s
	if one {
		d.rng = s
	} else {
		d.val -= s
		d.rng -= s
	}
	d.normalize()
	return one
}
