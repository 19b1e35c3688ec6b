package bridge

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// fakeClock is a Clock whose time moves only when the test advances it. Its
// tickers deliver synchronously: Advance returns once every due tick has been
// received, so a goroutine driven by a ticker moves in step with the test.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	tickers []*fakeTicker
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTicker(d time.Duration) Ticker {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTicker{c: make(chan time.Time), stopped: make(chan struct{}), every: d, next: c.now.Add(d)}
	c.tickers = append(c.tickers, t)
	return t
}

// Advance moves time forward by d in steps of at most step, delivering the
// ticks that fall due.
func (c *fakeClock) Advance(d, step time.Duration) {
	for d > 0 {
		s := min(step, d)
		d -= s
		c.mu.Lock()
		c.now = c.now.Add(s)
		now := c.now
		live := c.tickers[:0]
		for _, t := range c.tickers {
			select {
			case <-t.stopped:
			default:
				live = append(live, t)
			}
		}
		c.tickers = live
		due := append([]*fakeTicker(nil), live...)
		c.mu.Unlock()
		for _, t := range due {
			for !t.next.After(now) {
				t.next = t.next.Add(t.every)
				select {
				case t.c <- now:
				case <-t.stopped:
				}
			}
		}
	}
}

type fakeTicker struct {
	c        chan time.Time
	stopped  chan struct{}
	stopOnce sync.Once
	every    time.Duration
	next     time.Time
}

func (t *fakeTicker) C() <-chan time.Time { return t.c }
func (t *fakeTicker) Stop()               { t.stopOnce.Do(func() { close(t.stopped) }) }

// fakeLeg is a Leg that records what the bridge does to it. When leaveOnHangup
// is set it leaves at once when hung up, as a real leg does after its BYE.
type fakeLeg struct {
	info  LegInfo
	codec media.AudioCodec

	mu      sync.Mutex
	sent    int
	hangups []hangup
	p       *Participant
	quality Quality

	leaveOnHangup bool
	keep          bool     // keep copies of what SendAudio got
	payloads      [][]byte // with keep
}

type hangup struct {
	reason EndReason
	code   int
}

func (l *fakeLeg) Info() LegInfo                { return l.info }
func (l *fakeLeg) AudioCodec() media.AudioCodec { return l.codec }
func (l *fakeLeg) SendAudio(payload []byte) {
	l.mu.Lock()
	l.sent++
	if l.keep {
		l.payloads = append(l.payloads, append([]byte(nil), payload...))
	}
	l.mu.Unlock()
}

func (l *fakeLeg) received() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][]byte(nil), l.payloads...)
}
func (l *fakeLeg) Hangup(reason EndReason, code int) {
	l.mu.Lock()
	l.hangups = append(l.hangups, hangup{reason, code})
	p, leave := l.p, l.leaveOnHangup
	l.mu.Unlock()
	if leave && p != nil {
		go p.Leave(reason, code)
	}
}
func (l *fakeLeg) Quality() Quality {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.quality
}

func (l *fakeLeg) frames() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sent
}

func (l *fakeLeg) hungUp() []hangup {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]hangup(nil), l.hangups...)
}

// fakeMixer records ports; it mixes nothing.
type fakeMixer struct {
	mu        sync.Mutex
	ports     map[ParticipantID]*fakePort
	closed    bool
	onSpeaker func(ParticipantID)
	stats     media.MixerStats // what Stats reports
}

func (m *fakeMixer) Stats() media.MixerStats { m.mu.Lock(); defer m.mu.Unlock(); return m.stats }

func (m *fakeMixer) setStats(ticks, overruns uint64) {
	m.mu.Lock()
	m.stats = media.MixerStats{Ticks: ticks, Overruns: overruns}
	m.mu.Unlock()
}

type fakePort struct {
	mu     sync.Mutex
	muted  bool
	closed bool
	pushed int
}

func (p *fakePort) Push(uint16, uint32, []byte) { p.mu.Lock(); p.pushed++; p.mu.Unlock() }
func (p *fakePort) SetMuted(m bool)             { p.mu.Lock(); p.muted = m; p.mu.Unlock() }
func (p *fakePort) Close()                      { p.mu.Lock(); p.closed = true; p.mu.Unlock() }

func (m *fakeMixer) AddPort(id ParticipantID, _ media.AudioCodec, _ media.EncoderOptions, _ func([]byte)) (audioPort, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("fake mixer closed")
	}
	p := &fakePort{}
	m.ports[id] = p
	return p, nil
}

func (m *fakeMixer) Close() { m.mu.Lock(); m.closed = true; m.mu.Unlock() }

func (m *fakeMixer) port(id ParticipantID) *fakePort {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ports[id]
}

// fakeEncoder "encodes" a frame to one byte: 1 for sound, 0 for silence.
type fakeEncoder struct{}

func (fakeEncoder) Codec() media.AudioCodec { return media.PCMU }
func (fakeEncoder) Close() error            { return nil }

func (fakeEncoder) Encode(pcm []int16, dst []byte) (int, error) {
	dst[0] = 0
	for _, s := range pcm {
		if s != 0 {
			dst[0] = 1
			break
		}
	}
	return 1, nil
}

// recorder is a CallObserver that keeps every call in order.
type recorder struct {
	mu     sync.Mutex
	events []any
}

func (r *recorder) add(e any) { r.mu.Lock(); r.events = append(r.events, e); r.mu.Unlock() }

func (r *recorder) ConferenceStarted(e ConferenceStart) { r.add(e) }
func (r *recorder) ConferenceEnded(e ConferenceEnd)     { r.add(e) }
func (r *recorder) LegStarted(e LegStart)               { r.add(e) }
func (r *recorder) LegQuality(e LegQuality)             { r.add(e) }
func (r *recorder) LegEnded(e LegEnd)                   { r.add(e) }

func (r *recorder) all() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]any(nil), r.events...)
}

// harness is a Bridge on fakes.
type harness struct {
	t     testing.TB
	b     *Bridge
	clock *fakeClock
	obs   *recorder
	mu    sync.Mutex
	mixes []*fakeMixer
}

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, clock: newFakeClock(), obs: &recorder{}}
	h.b = New(cfg, Deps{
		Resolver: ResolverFunc(func(context.Context, string) (RoomInfo, error) { return RoomInfo{}, ErrRoomNotFound }),
		Observer: h.obs,
		Clock:    h.clock,
	})
	h.b.newEncoder = func(media.AudioCodec) (media.Encoder, error) { return fakeEncoder{}, nil }
	h.b.newMixer = func(_ int, onSpeaker func(ParticipantID)) audioMixer {
		m := &fakeMixer{ports: make(map[ParticipantID]*fakePort), onSpeaker: onSpeaker}
		h.mu.Lock()
		h.mixes = append(h.mixes, m)
		h.mu.Unlock()
		return m
	}
	t.Cleanup(func() { _ = h.b.Close() })
	return h
}

func (h *harness) mixer(i int) *fakeMixer {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.mixes[i]
}

// admit admits a new fake SIP leg to room.
func (h *harness) admit(room RoomInfo, name string) (*Participant, *fakeLeg, error) {
	h.t.Helper()
	leg := &fakeLeg{info: LegInfo{Protocol: ProtocolSIP, Transport: "udp", DisplayName: name,
		RemoteURI: "sip:" + name + "@example.com", CallID: name + "-call"}, codec: media.PCMU, leaveOnHangup: true}
	p, err := h.b.Admit(context.Background(), room, leg)
	if err == nil {
		leg.mu.Lock()
		leg.p = p
		leg.mu.Unlock()
	}
	return p, leg, err
}

// waitFor polls cond until it holds, failing the test after a generous while
// with what it waited for. It is not a timing assertion: it only bounds a hang.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
