package media

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// MixerConfig configures a Mixer; the zero value is usable.
type MixerConfig struct {
	// MaxSpeakers is how many of the loudest ports are mixed; 0 means 3.
	MaxSpeakers int
	// SpeechThreshold is the level in dBov above which a port counts as
	// speaking; 0 means -50. A room of at most MaxSpeakers unmuted ports
	// mixes anyone above openRoomThreshold (-80) instead (speaker.go).
	SpeechThreshold float64
	// Clock paces the 20 ms tick; nil means the system clock.
	Clock Clock
	// Logger receives the mixer's rare log lines (never per packet); nil
	// means slog.Default().
	Logger *slog.Logger
	// OnActiveSpeaker is called with the new dominant speaker when it
	// changes. It runs on the mixer goroutine after the tick, holding no
	// lock: it must return quickly and must not call Mixer.Close.
	OnActiveSpeaker func(PortID)
	// Jitter bounds each port's jitter buffer.
	Jitter JitterConfig
	// Encoder tunes the encoders (Opus bitrate, FEC, DTX).
	Encoder EncoderOptions
	// OpusComplexity is the complexity (1 to 10) of the mixer's Opus
	// encoders where the port's encoder options leave it 0; 0 means
	// DefaultMixerOpusComplexity. It is the mixer's capacity knob: encoding
	// is most of a room's CPU (one encode per distinct mix), and libopus
	// 1.3 encodes 20 ms of speech in about 90, 115, 135, 160, 160, 205,
	// 275 and 370 µs at complexity 1, 2, 3, 4, 5, 6, 7 and 8–10 (one
	// EPYC core; a decode costs about 50 µs).
	OpusComplexity int
	// DecodeSilence turns off the silence gate: every Opus packet is
	// decoded, even the voice-inactive packets of ports nobody hears (see
	// silenceGate). It is for comparison; the gate is on by default.
	DecodeSilence bool
	// AlwaysWideband turns off narrowband mixing: a room of G.711 ports is
	// mixed at 48 kHz like any other (see narrow.go). It is for comparison;
	// rooms of G.711 ports are mixed at 8 kHz by default.
	AlwaysWideband bool
}

// DefaultMixerOpusComplexity is the mixer's Opus encoder complexity when
// none is configured. At 2, libopus keeps SILK's two-state delayed-decision
// quantiser and costs 0.7 of complexity 5 (which costs 0.45 of 8–10, where
// the tonality analysis and four states start); complexity 1 drops the
// delayed decision for a further 0.8.
const DefaultMixerOpusComplexity = 2

// silenceRepeatTicks is how long (200 ms) a room's shared Opus stream
// encodes digital silence before its encoder is rested: by then libopus
// has settled (its packets of silence differ only in their noise seed and
// range-coder tail, 35–36 bytes at 32 kbit/s), and sending the last one
// again until someone speaks costs nothing, where encoding it costs as much
// as encoding speech. An idle room then costs its ports' jitter buffers and
// packet inspections only.
const silenceRepeatTicks = 10

// Timing of speaker selection, in 20 ms ticks.
const (
	speakerHangoverTicks = 20  // a speaker stays mixed 400 ms after falling silent
	activeLeadTicks      = 50  // a new dominant speaker must lead for 1 s
	speakerSwapMargin    = 6.0 // dB by which a newcomer must beat the weakest speaker
	smoothAlpha          = 20.0 / 300.0
)

// A Mixer is a conference audio mixer. Every 20 ms it takes one frame from
// each port, chooses the loudest MaxSpeakers unmuted ports (with hangover and
// a swap margin, so speakers do not flap), and sends each speaker the mix of
// the other speakers, encoded with the speaker's own encoder. All other ports
// hear the same mix of all speakers, encoded once per codec and shared: the
// cost grows with codecs and speakers, not with listeners.
//
// Encoder state across the shared/personal switch: a listener follows the
// shared stream of its codec until it becomes a speaker. At that moment its
// personal encoder takes a copy of the shared encoder's state (resampler
// history, G.722 predictors, the libopus state, which is position
// independent), so the far-end decoder sees one continuous stream. When it
// stops speaking it returns to the shared stream, whose state has diverged
// from its personal one: a G.722 or Opus decoder re-converges within a few
// milliseconds, heard at most as a faint blip under a fade of the speaker's
// own contribution, which starts and stops with a 20 ms ramp.
//
// Work follows the talkers. An Opus port that is neither mixed nor fading
// does not decode the packets its sender marked voice-inactive (the
// silenceGate); the first voice-active packet is decoded, measured afresh
// and can be mixed in the tick it is played out. When nobody has been
// mixed for silenceRepeatTicks, the shared Opus streams repeat their last
// packet of silence instead of encoding. Encoding is the rest of a room's
// CPU: MixerConfig.OpusComplexity is its knob.
//
// A room whose ports are all G.711 is mixed at 8 kHz, without resampling;
// it changes to 48 kHz at the tick a wideband port joins (narrow.go).
type Mixer struct {
	cfg    MixerConfig
	logger *slog.Logger

	mu     sync.Mutex // guards ports, byID, closed and Port.removed
	ports  []*Port
	byID   map[PortID]*Port
	closed bool

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	ticks, overruns atomic.Uint64
	skipped         atomic.Uint64 // Opus packets the silence gate did not decode
	skippedEnc      atomic.Uint64 // silent shared frames sent again, not encoded
	narrowTicks     atomic.Uint64 // ticks mixed at 8 kHz
	lastTick        atomic.Int64  // ns

	// Owned by the mixer goroutine.
	snap       []*Port
	groups     []*codecGroup
	sum        [FrameSamples]int32
	tmp        [FrameSamples]int16
	active     *Port
	challenger *Port
	challenge  int
	notify     PortID
	notified   bool
}

// codecGroup is the shared stream of one codec and encoder options.
type codecGroup struct {
	codec  AudioCodec
	opts   EncoderOptions
	enc    Encoder
	out    [MaxPayload]byte
	n      int
	needed bool
	quiet  int // consecutive ticks this stream encoded digital silence
	err    bool
}

// NewMixer starts a mixer; Close stops it.
func NewMixer(cfg MixerConfig) *Mixer {
	if cfg.MaxSpeakers <= 0 {
		cfg.MaxSpeakers = 3
	}
	if cfg.SpeechThreshold == 0 {
		cfg.SpeechThreshold = -50
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.OpusComplexity <= 0 {
		cfg.OpusComplexity = DefaultMixerOpusComplexity
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Mixer{
		cfg:    cfg,
		logger: cfg.Logger,
		byID:   make(map[PortID]*Port),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	ticker := cfg.Clock.NewTicker(FrameDuration)
	go m.run(ticker)
	return m
}

// AddPort adds a port that decodes and encodes codec. sink is called every
// 20 ms on the mixer goroutine with the encoded mix for this port; the
// payload is valid only during the call, and sink must not block (send or
// copy at once).
func (m *Mixer) AddPort(id PortID, codec AudioCodec, sink func(payload []byte)) (*Port, error) {
	return m.AddPortWith(id, codec, m.cfg.Encoder, sink)
}

// AddPortWith is AddPort with the port's own encoder options, for a peer
// that asked for something else than the mixer's default (Opus DTX or FEC
// per RFC 7587 §6.1 usedtx and useinbandfec). Listeners share one encoded
// stream per codec and options. With Opus DTX, a payload of 2 bytes or fewer
// is libopus saying the frame need not be transmitted (opus.h, OPUS_SET_DTX):
// the leg may skip it, advancing its RTP timestamp.
func (m *Mixer) AddPortWith(id PortID, codec AudioCodec, opts EncoderOptions, sink func(payload []byte)) (*Port, error) {
	if opts.OpusComplexity <= 0 {
		opts.OpusComplexity = m.cfg.OpusComplexity
	}
	dec, err := NewDecoder(codec)
	if err != nil {
		return nil, fmt.Errorf("media: add port %s: %w", id, err)
	}
	if od, ok := dec.(*opusDecoder); ok && !m.cfg.DecodeSilence {
		dec = newSilenceGate(od, &m.skipped)
	}
	enc, err := NewEncoderWith(codec, opts)
	if err != nil {
		_ = dec.Close()
		return nil, fmt.Errorf("media: add port %s: %w", id, err)
	}
	p := &Port{
		id:     id,
		m:      m,
		codec:  codec,
		opts:   opts,
		sink:   sink,
		jb:     newJitterBuffer(m.cfg.Jitter),
		dec:    dec,
		enc:    enc,
		env:    -127,
		smooth: -127,
	}
	p.fec, _ = dec.(FECDecoder)
	p.frameN = FrameSamples
	if nd, ok := dec.(nativeDecoder); ok {
		p.native = nd
		p.frameN = nd.rate() / 50
	}
	p.level.Store(mathFloat64bits(-127))
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		_ = dec.Close()
		_ = enc.Close()
		return nil, ErrClosed
	}
	if _, dup := m.byID[id]; dup {
		_ = dec.Close()
		_ = enc.Close()
		return nil, ErrDuplicatePort
	}
	m.byID[id] = p
	m.ports = append(m.ports, p)
	return p, nil
}

// Port returns the port with the given ID, if present.
func (m *Mixer) Port(id PortID) (*Port, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.byID[id]
	return p, ok
}

// Len returns the number of ports.
func (m *Mixer) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.byID)
}

func (m *Mixer) removePort(p *Port) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p.removed {
		return
	}
	p.removed = true
	if m.byID[p.id] == p {
		delete(m.byID, p.id)
	}
}

// Close stops the mixer goroutine, waits for it, and releases every port's
// codecs. It is idempotent; ports' sinks are not called after it returns.
func (m *Mixer) Close() {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		close(m.stop)
		<-m.done
		m.mu.Lock()
		ports := m.ports
		m.ports = nil
		clear(m.byID)
		m.mu.Unlock()
		for _, p := range ports {
			p.release()
		}
		for _, g := range m.groups {
			_ = g.enc.Close()
		}
	})
}

func (p *Port) release() {
	p.sinkMu.Lock()
	p.sinkClosed = true
	p.sinkMu.Unlock()
	_ = p.dec.Close()
	_ = p.enc.Close()
}

// MixerStats counts the mixer's work, for metrics.
type MixerStats struct {
	Ticks    uint64        // 20 ms frames mixed
	Overruns uint64        // ticks that took longer than 20 ms of real time
	LastTick time.Duration // how long the last tick took
	// SkippedDecodes counts the Opus packets of unheard ports that the
	// silence gate did not decode.
	SkippedDecodes uint64
	// RepeatedSilence counts the shared Opus frames of a silent room that
	// were sent again instead of encoded (silenceRepeatTicks).
	RepeatedSilence uint64
	// NarrowTicks counts the ticks mixed at 8 kHz, every port being G.711
	// (narrow.go).
	NarrowTicks uint64
}

// Stats returns the mixer's counters; it is safe for concurrent use.
func (m *Mixer) Stats() MixerStats {
	return MixerStats{
		Ticks:    m.ticks.Load(),
		Overruns: m.overruns.Load(),
		LastTick: time.Duration(m.lastTick.Load()),

		SkippedDecodes:  m.skipped.Load(),
		RepeatedSilence: m.skippedEnc.Load(),
		NarrowTicks:     m.narrowTicks.Load(),
	}
}

type processedTicker interface{ processed() }

func (m *Mixer) run(t Ticker) {
	defer close(m.done)
	defer t.Stop()
	ack, _ := t.(processedTicker)
	for {
		select {
		case <-m.stop:
			return
		case <-t.C():
			start := time.Now()
			m.tick()
			d := time.Since(start)
			m.ticks.Add(1)
			m.lastTick.Store(int64(d))
			if d > FrameDuration {
				m.overruns.Add(1)
			}
			if ack != nil {
				ack.processed()
			}
		}
	}
}

// tick mixes one 20 ms frame.
func (m *Mixer) tick() {
	m.mu.Lock()
	m.snap = append(m.snap[:0], m.ports...)
	for _, p := range m.snap {
		p.gone = p.removed
	}
	m.mu.Unlock()

	for _, p := range m.snap {
		gate, _ := p.dec.(*silenceGate)
		leftover := p.fifoN > 0 // decoded samples from an earlier tick
		if gate != nil {
			gate.idle = !p.speaker && p.gain == 0
			gate.decoded = false
		}
		p.fill()
		lvl := -127.0 // the level of silence (frameLevel)
		if gate == nil || gate.decoded || leftover {
			lvl = frameLevel(p.nat[:p.frameN])
		}
		if gate != nil && gate.resumed {
			// The first measurement after skipped silence: the envelope
			// decayed over samples that were not measured, so it starts
			// afresh and speech onset is selected in this tick.
			gate.resumed = false
			p.env = max(p.env, lvl)
		}
		if lvl > p.env {
			p.env += 0.5 * (lvl - p.env)
		} else {
			p.env += smoothAlpha * (lvl - p.env)
		}
		p.smooth += smoothAlpha * (lvl - p.smooth)
		p.level.Store(mathFloat64bits(p.smooth))
	}
	m.selectSpeakers()

	// The rate of this tick's mix: 8 kHz when every port is G.711.
	narrow := m.narrowRoom()
	frame := FrameSamples
	if narrow {
		frame = narrowFrame
		m.narrowTicks.Add(1)
	}
	sum, tmp := m.sum[:frame], m.tmp[:frame]

	// Contributions, ramped so joining and leaving the mix never clicks.
	clear(sum)
	silent := true // nobody contributes: the mix is digital silence
	for _, p := range m.snap {
		var target float32
		if p.speaker {
			target = 1
		}
		p.isContr = p.gain > 0 || target > 0
		if narrow {
			p.narrowInput(p.isContr)
		} else {
			p.upsample(p.isContr)
		}
		if !p.isContr {
			continue
		}
		if !p.personal && !p.gone {
			// The port leaves the shared stream: its personal encoder
			// continues from the shared encoder's state as of the last
			// frame the listener received, i.e. before this tick's encode.
			if c, ok := p.enc.(stateCopier); ok {
				c.copyStateFrom(m.group(p.codec, p.opts).enc)
			}
			p.personal = true
		}
		silent = false
		contrib := p.contrib[:frame]
		rampInto(contrib, p.pcm[:frame], p.gain, target)
		p.gain = target
		for i, s := range contrib {
			sum[i] += int32(s)
		}
	}

	// The shared stream of each codec some listener needs.
	for _, g := range m.groups {
		g.needed = false
	}
	for _, p := range m.snap {
		if !p.gone && !p.isContr {
			m.group(p.codec, p.opts).needed = true
		}
	}
	limitInto(tmp, sum)
	for _, g := range m.groups {
		if !g.needed || !silent {
			g.quiet = 0
		}
		if !g.needed {
			continue
		}
		if silent && g.quiet >= silenceRepeatTicks && g.n > 0 && (!g.opts.OpusDTX || g.n <= 2) && g.codec.Is(Opus) {
			// The room has been silent for a while: the encoder has
			// settled on silence, and its last packet stands for the
			// next. With DTX only a DTX packet is repeated.
			m.skippedEnc.Add(1)
			continue
		}
		if silent {
			g.quiet++
		}
		n, err := encode(g.enc, tmp, g.out[:], narrow)
		g.n = n
		if err != nil {
			g.n = 0
			if !g.err {
				m.logger.Error("media: shared encoder failed", "codec", g.codec.String(), "err", err)
				g.err = true
			}
		}
	}

	// Deliver.
	for _, p := range m.snap {
		if p.gone {
			continue
		}
		if !p.isContr {
			p.personal = false
			g := m.group(p.codec, p.opts)
			if g.n > 0 {
				p.deliver(g.out[:g.n])
			}
			continue
		}
		contrib := p.contrib[:frame]
		for i, s := range contrib {
			sum[i] -= int32(s)
		}
		limitInto(tmp, sum)
		for i, s := range contrib {
			sum[i] += int32(s)
		}
		n, err := encode(p.enc, tmp, p.out[:], narrow)
		if err == nil && n > 0 {
			p.deliver(p.out[:n])
		}
	}

	// Drop the ports that closed; their fade-out was mixed above.
	removed := false
	for _, p := range m.snap {
		if p.gone {
			removed = true
		}
	}
	if removed {
		m.mu.Lock()
		kept := m.ports[:0]
		for _, p := range m.ports {
			if !p.removed || !p.gone {
				kept = append(kept, p)
			}
		}
		clear(m.ports[len(kept):])
		m.ports = kept
		m.mu.Unlock()
		for _, p := range m.snap {
			if p.gone {
				if m.active == p {
					m.active = nil
				}
				if m.challenger == p {
					m.challenger = nil
				}
				p.release()
			}
		}
	}
	m.updateActive()
	if m.notified {
		m.notified = false
		if m.cfg.OnActiveSpeaker != nil {
			m.cfg.OnActiveSpeaker(m.notify)
		}
	}
}

// encode encodes one frame of the mix: at 48 kHz through Encode, or at
// 8 kHz (narrow) through the G.711 encoder's encodeNarrow.
func encode(enc Encoder, pcm []int16, dst []byte, narrow bool) (int, error) {
	if narrow {
		return enc.(narrowEncoder).encodeNarrow(pcm, dst)
	}
	return enc.Encode(pcm, dst)
}

// group returns the shared stream of codec and options, creating it on first use.
func (m *Mixer) group(c AudioCodec, opts EncoderOptions) *codecGroup {
	for _, g := range m.groups {
		if (g.codec == c || g.codec.Is(c)) && (g.opts == opts || !c.Is(Opus)) {
			return g
		}
	}
	enc, err := NewEncoderWith(c, opts)
	if err != nil {
		// AddPort created an encoder of this codec already; this cannot fail.
		panic(fmt.Sprintf("media: shared encoder for %s: %v", c, err))
	}
	g := &codecGroup{codec: c, opts: opts, enc: enc}
	m.groups = append(m.groups, g)
	return g
}

// rampInto writes src scaled by a gain moving linearly from g0 to g1 across
// the frame.
func rampInto(dst, src []int16, g0, g1 float32) {
	if g0 == 1 && g1 == 1 {
		copy(dst, src)
		return
	}
	step := (g1 - g0) / float32(len(src))
	g := g0
	for i, s := range src {
		g += step
		dst[i] = int16(float32(s) * g)
	}
}

// limiterKnee is where the soft limiter starts bending the sum (-2.5 dBFS).
const limiterKnee = 24576

// limitInto converts the 32-bit sum to 16 bits through a soft knee: below
// the knee samples pass unchanged; above it the excess e is compressed to
// R·e/(R+e) with R the headroom to full scale, a curve with unit slope at the
// knee that approaches full scale without reaching it, so a loud sum of
// several speakers is never hard-clipped.
func limitInto(dst []int16, sum []int32) {
	const r = 32767 - limiterKnee
	for i, v := range sum {
		switch {
		case v > limiterKnee:
			e := int64(v - limiterKnee)
			dst[i] = int16(limiterKnee + r*e/(r+e))
		case v < -limiterKnee:
			e := int64(-v - limiterKnee)
			dst[i] = int16(-(limiterKnee + r*e/(r+e)))
		default:
			dst[i] = int16(v)
		}
	}
}
