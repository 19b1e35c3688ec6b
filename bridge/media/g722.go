package media

// ITU-T G.722 (09/2012) sub-band ADPCM at 64 kbit/s (mode 1): a quadrature
// mirror filter splits 16 kHz audio into a 0–4 kHz and a 4–8 kHz band, each
// decimated to 8 kHz; the lower band is coded with 6 bits per sample, the
// upper with 2, each by adaptive differential PCM with a two-pole six-zero
// predictor (§3 transmit, §4 receive; the block names in comments are the
// recommendation's). All arithmetic is the recommendation's fixed point.

// g722QMF holds half of the 24 symmetric QMF coefficients (Table 11, §3.2).
var g722QMF = [12]int{3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11}

// Lower sub-band quantiser decision levels (Table 14), in units of the scale factor.
var g722Q6 = [30]int{
	0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650,
	714, 786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919,
}

// Lower sub-band codes for negative (iln) and positive (ilp) differences, by interval.
var (
	g722ILN = [31]int{0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4}
	g722ILP = [31]int{0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32}
)

// Inverse quantisers: 4-bit for the lower band's predictor (INVQAL), 6-bit for
// its output (INVQBL), 2-bit for the upper band (INVQAH).
var (
	g722QM4 = [16]int{0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0}
	g722QM6 = [64]int{
		-136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
		-7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
		24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
		4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
	}
	g722QM2 = [4]int{-7408, -1616, 7408, 1616}
)

// Scale factor adaptation: log multipliers (LOGSCL, LOGSCH) and the inverse
// log table (SCALEL, SCALEH).
var (
	g722WL   = [8]int{-60, -30, 58, 172, 334, 538, 1198, 3042}
	g722RL42 = [16]int{0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0}
	g722WH   = [3]int{0, -214, 798}
	g722RH2  = [4]int{2, 1, 2, 1}
	g722IHN  = [3]int{0, 1, 0}
	g722IHP  = [3]int{0, 3, 2}
	g722ILB  = [32]int{
		2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
		2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
	}
)

// sat16 saturates to the 16-bit range (the recommendation's limiter).
func sat16(v int) int {
	if v > 32767 {
		return 32767
	}
	if v < -32768 {
		return -32768
	}
	return v
}

// g722Band is the ADPCM state of one sub-band.
type g722Band struct {
	s, sp, sz int    // signal estimate, its pole and zero parts
	r         [3]int // reconstructed signal history
	a, ap     [3]int // pole coefficients (a1, a2) and their update
	p         [3]int // partially reconstructed signal history
	d         [7]int // quantised difference history
	b, bp     [7]int // zero coefficients and their update
	nb        int    // log scale factor
	det       int    // scale factor
}

// adapt is the recommendation's block 4: reconstruct, update the pole and
// zero predictor coefficients, and predict the next sample (RECONS, PARREC,
// UPPOL2, UPPOL1, UPZERO, DELAYA, FILTEP, FILTEZ, PREDIC).
func (b *g722Band) adapt(d int) {
	b.d[0] = d
	b.r[0] = sat16(b.s + d)
	b.p[0] = sat16(b.sz + d)

	// UPPOL2
	sg0, sg1, sg2 := b.p[0]>>15, b.p[1]>>15, b.p[2]>>15
	wd1 := sat16(b.a[1] * 4)
	wd2 := wd1
	if sg0 == sg1 {
		wd2 = -wd1
	}
	wd2 = min(wd2, 32767)
	wd3 := -128
	if sg0 == sg2 {
		wd3 = 128
	}
	wd3 += wd2 >> 7
	wd3 += (b.a[2] * 32512) >> 15
	b.ap[2] = max(-12288, min(12288, wd3))

	// UPPOL1
	wd1 = -192
	if sg0 == sg1 {
		wd1 = 192
	}
	wd2 = (b.a[1] * 32640) >> 15
	b.ap[1] = sat16(wd1 + wd2)
	lim := sat16(15360 - b.ap[2])
	b.ap[1] = max(-lim, min(lim, b.ap[1]))

	// UPZERO
	step := 128
	if d == 0 {
		step = 0
	}
	sgd := d >> 15
	for i := 1; i < 7; i++ {
		w := -step
		if b.d[i]>>15 == sgd {
			w = step
		}
		b.bp[i] = sat16(w + (b.b[i]*32640)>>15)
	}

	// DELAYA
	for i := 6; i > 0; i-- {
		b.d[i] = b.d[i-1]
		b.b[i] = b.bp[i]
	}
	for i := 2; i > 0; i-- {
		b.r[i] = b.r[i-1]
		b.p[i] = b.p[i-1]
		b.a[i] = b.ap[i]
	}

	// FILTEP
	wd1 = (b.a[1] * sat16(b.r[1]+b.r[1])) >> 15
	wd2 = (b.a[2] * sat16(b.r[2]+b.r[2])) >> 15
	b.sp = sat16(wd1 + wd2)

	// FILTEZ
	sz := 0
	for i := 6; i > 0; i-- {
		sz += (b.b[i] * sat16(b.d[i]+b.d[i])) >> 15
	}
	b.sz = sat16(sz)

	// PREDIC
	b.s = sat16(b.sp + b.sz)
}

// scaleLow updates the lower band's scale factor from its 4-bit code (LOGSCL, SCALEL).
func (b *g722Band) scaleLow(ril int) {
	nb := (b.nb*32512)>>15 + g722WL[g722RL42[ril]]
	b.nb = max(0, min(18432, nb))
	b.det = g722Scale(b.nb, 8)
}

// scaleHigh updates the upper band's scale factor from its 2-bit code (LOGSCH, SCALEH).
func (b *g722Band) scaleHigh(ih int) {
	nb := (b.nb*32512)>>15 + g722WH[g722RH2[ih]]
	b.nb = max(0, min(22528, nb))
	b.det = g722Scale(b.nb, 10)
}

func g722Scale(nb, shift int) int {
	w1 := (nb >> 6) & 31
	w2 := shift - (nb >> 11)
	var w3 int
	if w2 < 0 {
		w3 = g722ILB[w1] << -w2
	} else {
		w3 = g722ILB[w1] >> w2
	}
	return w3 << 2
}

// g722State is one direction's codec state: both bands and the QMF history.
type g722State struct {
	band [2]g722Band
	x    [24]int
}

func (s *g722State) init() {
	*s = g722State{}
	s.band[0].det = 32
	s.band[1].det = 8
}

// encode codes 16 kHz PCM (an even number of samples) into one byte per pair.
func (s *g722State) encode(pcm16 []int16, dst []byte) int {
	n := 0
	for j := 0; j+1 < len(pcm16); j += 2 {
		// Transmit QMF (§3.2).
		copy(s.x[:22], s.x[2:])
		s.x[22] = int(pcm16[j])
		s.x[23] = int(pcm16[j+1])
		sumOdd, sumEven := 0, 0
		for i := range 12 {
			sumOdd += s.x[2*i] * g722QMF[i]
			sumEven += s.x[2*i+1] * g722QMF[11-i]
		}
		xl := (sumEven + sumOdd) >> 14
		xh := (sumEven - sumOdd) >> 14

		// Lower band: SUBTRA, QUANTL (§3.3).
		lo := &s.band[0]
		el := sat16(xl - lo.s)
		wd := el
		if el < 0 {
			wd = -(el + 1)
		}
		i := 1
		for ; i < 30; i++ {
			if wd < (g722Q6[i]*lo.det)>>12 {
				break
			}
		}
		il := g722ILP[i]
		if el < 0 {
			il = g722ILN[i]
		}
		ril := il >> 2
		dl := (lo.det * g722QM4[ril]) >> 15 // INVQAL
		lo.scaleLow(ril)
		lo.adapt(dl)

		// Upper band: SUBTRA, QUANTH (§3.4).
		hi := &s.band[1]
		eh := sat16(xh - hi.s)
		wd = eh
		if eh < 0 {
			wd = -(eh + 1)
		}
		mih := 1
		if wd >= (564*hi.det)>>12 {
			mih = 2
		}
		ih := g722IHP[mih]
		if eh < 0 {
			ih = g722IHN[mih]
		}
		dh := (hi.det * g722QM2[ih]) >> 15 // INVQAH
		hi.scaleHigh(ih)
		hi.adapt(dh)

		dst[n] = byte(ih<<6 | il)
		n++
	}
	return n
}

// decode turns each byte into two 16 kHz samples.
func (s *g722State) decode(codes []byte, pcm16 []int16) int {
	n := 0
	for _, c := range codes {
		il := int(c & 0x3f)
		ih := int(c >> 6)

		// Lower band: INVQBL for the output, INVQAL for the predictor (§4.3).
		lo := &s.band[0]
		rl := lo.s + (lo.det*g722QM6[il])>>15
		rl = max(-16384, min(16383, rl))
		ril := il >> 2
		dl := (lo.det * g722QM4[ril]) >> 15
		lo.scaleLow(ril)
		lo.adapt(dl)

		// Upper band (§4.4).
		hi := &s.band[1]
		dh := (hi.det * g722QM2[ih]) >> 15
		rh := max(-16384, min(16383, dh+hi.s))
		hi.scaleHigh(ih)
		hi.adapt(dh)

		// Receive QMF (§4.5).
		copy(s.x[:22], s.x[2:])
		s.x[22] = rl + rh
		s.x[23] = rl - rh
		out1, out2 := 0, 0
		for i := range 12 {
			out1 += s.x[2*i] * g722QMF[i]
			out2 += s.x[2*i+1] * g722QMF[11-i]
		}
		// out2 is the earlier of the two output samples.
		pcm16[n] = int16(sat16(out2 >> 11))
		pcm16[n+1] = int16(sat16(out1 >> 11))
		n += 2
	}
	return n
}

// G722Encode codes 16 kHz PCM with a fresh G.722 encoder: one byte per two
// samples. It is for tools and tests; the mixer uses NewEncoder(G722).
func G722Encode(pcm16 []int16) []byte {
	var s g722State
	s.init()
	out := make([]byte, len(pcm16)/2)
	return out[:s.encode(pcm16, out)]
}

// G722Decode decodes a G.722 stream with a fresh decoder to 16 kHz PCM.
func G722Decode(codes []byte) []int16 {
	var s g722State
	s.init()
	out := make([]int16, 2*len(codes))
	return out[:s.decode(codes, out)]
}

// g722Encoder adapts 48 kHz frames: resample to 16 kHz, then code.
type g722Encoder struct {
	st    g722State
	down  *Resampler
	pcm16 [FrameSamples / 3]int16
}

func newG722Encoder() *g722Encoder {
	e := &g722Encoder{down: NewResampler(SampleRate, 16000)}
	e.st.init()
	return e
}

func (e *g722Encoder) Codec() AudioCodec { return G722 }

func (e *g722Encoder) Encode(pcm48 []int16, dst []byte) (int, error) {
	if len(pcm48) != FrameSamples {
		return 0, ErrFrameSize
	}
	if len(dst) < len(e.pcm16)/2 {
		return 0, ErrShortBuffer
	}
	n := e.down.Process(pcm48, e.pcm16[:])
	return e.st.encode(e.pcm16[:n], dst), nil
}

func (e *g722Encoder) copyStateFrom(src Encoder) bool {
	s, ok := src.(*g722Encoder)
	if !ok {
		return false
	}
	e.st = s.st
	e.down.copyStateFrom(s.down)
	return true
}

func (e *g722Encoder) Close() error { return nil }

// g722Decoder decodes to 16 kHz, resamples to 48 kHz and conceals loss with
// a fading repeat.
type g722Decoder struct {
	st    g722State
	up    *Resampler
	pcm16 [MaxFrameSamples / 3]int16
	plc   fadePLC
}

func newG722Decoder() *g722Decoder {
	d := &g722Decoder{up: NewResampler(16000, SampleRate), plc: fadePLC{frame: 320}}
	d.st.init()
	return d
}

func (d *g722Decoder) Codec() AudioCodec     { return G722 }
func (d *g722Decoder) rate() int             { return 16000 }
func (d *g722Decoder) upsampler() *Resampler { return d.up }

func (d *g722Decoder) decodeNative(payload []byte, pcm16 []int16) (int, error) {
	if 2*len(payload) > len(d.pcm16) {
		return 0, ErrCorruptPayload
	}
	if len(pcm16) < 2*len(payload) {
		return 0, ErrShortBuffer
	}
	n := d.st.decode(payload, pcm16)
	d.plc.remember(pcm16[:n])
	return n, nil
}

func (d *g722Decoder) concealNative(pcm16 []int16) (int, error) { return d.plc.conceal(pcm16) }

func (d *g722Decoder) Decode(payload []byte, pcm48 []int16) (int, error) {
	if len(pcm48) < 6*len(payload) {
		return 0, ErrShortBuffer
	}
	n, err := d.decodeNative(payload, d.pcm16[:])
	if err != nil {
		return 0, err
	}
	return d.up.Process(d.pcm16[:n], pcm48), nil
}

func (d *g722Decoder) Conceal(pcm48 []int16) (int, error) {
	if len(pcm48) < FrameSamples {
		return 0, ErrShortBuffer
	}
	n, _ := d.concealNative(d.pcm16[:])
	return d.up.Process(d.pcm16[:n], pcm48), nil
}

func (d *g722Decoder) Close() error { return nil }
