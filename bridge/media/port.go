package media

import (
	"math"
	"sync"
	"sync/atomic"
)

// PortID identifies a port of a mixer: the bridge uses its participant ID.
type PortID string

// A Port is one participant's connection to the mixer: RTP payloads go in
// through Push, and every 20 ms the mixer hands the port's sink the encoded
// mix of the other speakers. Push, SetMuted, Level, Stats and Close are safe
// for concurrent use.
type Port struct {
	id    PortID
	m     *Mixer
	codec AudioCodec
	opts  EncoderOptions
	sink  func(payload []byte)

	mu     sync.Mutex // guards jb and closed
	jb     *jitterBuffer
	closed bool

	sinkMu     sync.Mutex // held while the sink runs; Close waits on it
	sinkClosed bool

	muted atomic.Bool
	spk   atomic.Bool   // mirrors speaker for Speaking
	level atomic.Uint64 // float64 bits: smoothed level in dBov

	removed bool // set under m.mu by Close

	// Owned by the mixer goroutine.
	dec      Decoder
	fec      FECDecoder
	enc      Encoder // personal encoder, used while the port contributes
	personal bool    // enc is the stream this port's listener follows
	gone     bool    // tick-local copy of removed
	scratch  [MaxPayload]byte
	next     [MaxPayload]byte
	fifo     [MaxFrameSamples + FrameSamples]int16
	fifoN    int
	native   nativeDecoder       // dec, when it decodes below 48 kHz
	frameN   int                 // samples in 20 ms at the decoding rate
	nat      [FrameSamples]int16 // this tick's input at the decoding rate
	pcm      [FrameSamples]int16 // this tick's input at 48 kHz, when mixed
	contrib  [FrameSamples]int16 // this tick's contribution to the mix (ramped)
	isContr  bool
	gain     float32 // contribution gain at the end of the last tick
	env      float64 // fast-attack, slow-release level in dBov (mix selection)
	smooth   float64 // ~300 ms average level in dBov (active speaker)
	speaker  bool
	hangover int
	out      [MaxPayload]byte
}

// ID returns the port's ID.
func (p *Port) ID() PortID { return p.id }

// Codec returns the codec the port decodes and encodes.
func (p *Port) Codec() AudioCodec { return p.codec }

// Push hands in one received RTP payload with its RTP sequence number and
// timestamp. The port copies what it keeps; payload may be reused at once.
// Late, duplicate and oversized packets are counted and dropped.
func (p *Port) Push(seq uint16, ts uint32, payload []byte) {
	p.mu.Lock()
	if !p.closed {
		p.jb.push(seq, ts, payload)
	}
	p.mu.Unlock()
}

// SetMuted mutes or unmutes the port's contribution to the mix. A muted port
// still hears the room.
func (p *Port) SetMuted(muted bool) { p.muted.Store(muted) }

// Muted reports whether the port is muted.
func (p *Port) Muted() bool { return p.muted.Load() }

// Level returns the port's received audio level averaged over about 300 ms,
// in dBov (RFC 6464 §3 scale): 0 is full scale, -127 silence.
func (p *Port) Level() float64 { return math.Float64frombits(p.level.Load()) }

// Speaking reports whether the port is currently one of the mixed speakers.
// It is for tests and diagnostics and may lag a tick.
func (p *Port) Speaking() bool { return p.spk.Load() }

// Stats returns the jitter buffer's counters.
func (p *Port) Stats() JitterStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.jb.snapshot()
}

// Close removes the port from the mixer. Its voice fades out of the mix over
// the next tick (no click); once Close returns the sink is not called again.
// Close is idempotent. It must not be called from the port's own sink.
func (p *Port) Close() {
	p.sinkMu.Lock()
	p.sinkClosed = true
	p.sinkMu.Unlock()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.m.removePort(p)
}

// deliver calls the sink unless the port is closed.
func (p *Port) deliver(payload []byte) {
	p.sinkMu.Lock()
	if !p.sinkClosed {
		p.sink(payload)
	}
	p.sinkMu.Unlock()
}

// fill decodes from the jitter buffer until a whole 20 ms frame is
// available, at the codec's native rate for G.711 and G.722, and moves it into
// p.nat. Mixer goroutine only.
func (p *Port) fill() {
	frame := p.frameN
	for p.fifoN < frame {
		p.mu.Lock()
		res, payload, next := p.jb.pop()
		var n1, n2 int
		switch res {
		case popFrame:
			n1 = copy(p.scratch[:], payload)
		case popLost:
			if next != nil && p.fec != nil {
				n2 = copy(p.next[:], next)
			}
		}
		p.mu.Unlock()
		dst := p.fifo[p.fifoN:]
		var n int
		var err error
		switch res {
		case popNothing:
			clear(dst[:frame])
			n = frame
		case popFrame:
			n, err = p.decode(p.scratch[:n1], dst)
			if err != nil {
				n, err = p.conceal(dst)
			}
		case popLost:
			if n2 > 0 {
				n, err = p.fec.DecodeFEC(p.next[:n2], dst)
				if err == nil {
					p.countRecovered()
				}
			}
			if n2 == 0 || err != nil {
				n, err = p.conceal(dst)
				p.countConcealed()
			}
		}
		if err != nil || (n == 0 && res != popFrame) {
			clear(dst[:frame])
			n = frame
		}
		p.fifoN += n
	}
	copy(p.nat[:frame], p.fifo[:frame])
	p.fifoN = copy(p.fifo[:], p.fifo[frame:p.fifoN])
}

func (p *Port) decode(payload []byte, dst []int16) (int, error) {
	if p.native != nil {
		return p.native.decodeNative(payload, dst)
	}
	return p.dec.Decode(payload, dst)
}

func (p *Port) conceal(dst []int16) (int, error) {
	if p.native != nil {
		return p.native.concealNative(dst)
	}
	return p.dec.Conceal(dst)
}

// upsample makes p.pcm, this tick's frame at 48 kHz, when the port is mixed;
// otherwise it only keeps the upsampler's history current.
func (p *Port) upsample(mixed bool) {
	switch {
	case p.native == nil:
		if mixed {
			copy(p.pcm[:], p.nat[:])
		}
	case mixed:
		if d, ok := p.native.(*g711Decoder); ok {
			d.upsample(p.nat[:p.frameN], p.pcm[:])
			break
		}
		p.native.upsampler().Process(p.nat[:p.frameN], p.pcm[:])
	default:
		p.native.upsampler().Feed(p.nat[:p.frameN])
	}
}

func (p *Port) countRecovered() {
	p.mu.Lock()
	p.jb.stats.Recovered++
	p.mu.Unlock()
}

func (p *Port) countConcealed() {
	p.mu.Lock()
	p.jb.stats.Concealed++
	p.mu.Unlock()
}

// frameLevel is the RMS level of a frame in dBov, floored at -127.
func frameLevel(pcm []int16) float64 {
	var e int64
	for _, s := range pcm {
		e += int64(s) * int64(s)
	}
	if e == 0 {
		return -127
	}
	rms := math.Sqrt(float64(e) / float64(len(pcm)))
	return max(-127, 20*math.Log10(rms/32768))
}
