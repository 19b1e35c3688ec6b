package bridge

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Deps are the collaborators of a Bridge. Resolver is required; the others
// have defaults (NopObserver, a discarding logger, no metrics, the system clock).
type Deps struct {
	Resolver Resolver
	Observer CallObserver
	Logger   *slog.Logger
	Registry prometheus.Registerer
	Clock    Clock
}

// Bridge holds the live conferences: one per room that has participants. Legs
// of any protocol resolve the dialled alias with Resolve and enter a room with
// Admit; the admin reads and controls conferences through Conferences, Mute,
// Kick and Lock.
type Bridge struct {
	cfg      Config
	resolver Resolver
	observer CallObserver
	log      *slog.Logger
	clock    Clock
	metrics  *metrics

	newMixer   mixerFactory
	newEncoder encoderFactory

	mu     sync.Mutex
	rooms  map[RoomID]*conference // the live conference of each room
	closed bool

	subMu sync.Mutex
	subs  map[int]func(RoomEvent)
	subN  int

	wg        sync.WaitGroup // conference and lobby goroutines
	closeOnce sync.Once

	beat frameBeat // paces the mixers (mixer_media.go)
}

// New returns a Bridge for cfg (zero settings take their defaults). It panics
// if deps.Resolver is nil, a programming error.
func New(cfg Config, deps Deps) *Bridge {
	if deps.Resolver == nil {
		panic("bridge: New without a Resolver")
	}
	if deps.Observer == nil {
		deps.Observer = NopObserver{}
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Clock == nil {
		deps.Clock = SystemClock{}
	}
	b := &Bridge{
		cfg:        cfg.withDefaults(),
		resolver:   deps.Resolver,
		observer:   deps.Observer,
		log:        deps.Logger,
		clock:      deps.Clock,
		rooms:      make(map[RoomID]*conference),
		subs:       make(map[int]func(RoomEvent)),
		newEncoder: mediaEncoder,
	}
	b.newMixer = b.mediaMixer
	b.metrics = newMetrics(deps.Registry, deps.Logger)
	return b
}

// Resolve returns the room that alias (a numeric alias or a name alias) dials,
// or an error wrapping ErrRoomNotFound.
func (b *Bridge) Resolve(ctx context.Context, alias string) (RoomInfo, error) {
	room, err := b.resolver.ResolveRoom(ctx, alias)
	if err != nil {
		return RoomInfo{}, err
	}
	return room, nil
}

// Admit enters leg into room's conference, starting the conference if the room
// has none, and returns at once with the participant in the lobby. If the room
// has a PIN the bridge then plays the spoken prompt through leg.SendAudio and
// collects the digits the leg hands to Participant.ReceiveDigit; otherwise (and
// once the PIN is right, and a host present if guests wait for one) it joins
// the participant to the mix. Admit fails with ErrRoomFull when the conference
// has room.MaxParticipants participants (those in the lobby included), with
// ErrRoomLocked when an admin locked it and with ErrClosed during shutdown.
func (b *Bridge) Admit(ctx context.Context, room RoomInfo, leg Leg) (*Participant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := b.clock.Now()
	info := leg.Info() // outside our locks: the leg may take its own
	codec := leg.AudioCodec()

	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, ErrClosed
	}
	c := b.rooms[room.ID]
	started := c == nil
	if started {
		c = newConference(b, room, now)
	}
	c.mu.Lock()
	if c.locked {
		c.mu.Unlock()
		b.mu.Unlock()
		b.metrics.rejected.WithLabelValues("locked").Inc()
		return nil, ErrRoomLocked
	}
	if room.MaxParticipants > 0 && len(c.parts) >= room.MaxParticipants {
		c.mu.Unlock()
		b.mu.Unlock()
		b.metrics.rejected.WithLabelValues("full").Inc()
		return nil, ErrRoomFull
	}
	if started {
		b.rooms[room.ID] = c
		c.conferenceStarted()
		b.wg.Add(1)
		go c.run(b.clock.NewTicker(b.cfg.QualityInterval))
	}
	c.room = room // the latest settings apply to this caller's PIN and cap
	p := newParticipant(c, leg, info, codec, now)
	c.arrivals++
	p.seq = c.arrivals
	c.parts[p.id] = p
	if len(c.parts) > c.peak {
		c.peak = len(c.parts)
	}
	b.wg.Add(1)
	c.mu.Unlock()
	b.mu.Unlock()

	b.metrics.admitted.WithLabelValues(string(p.info.Protocol)).Inc()
	b.metrics.participants.WithLabelValues(string(p.info.Protocol)).Inc()
	p.log.Info("admitted to the lobby", "has_pin", room.HostPIN != "" || room.GuestPIN != "")
	// The lobby's player is made here, not on its goroutine, so that its ticker
	// exists when Admit returns (tests advance a fake clock right after).
	var pl *player
	var plErr error
	if room.HostPIN != "" || room.GuestPIN != "" {
		pl, plErr = newPlayer(b, p)
	}
	go p.lobby(pl, plErr)
	return p, nil
}

// Close hangs up every leg (EndShutdown), ends every conference and waits for
// the bridge's goroutines. Participants whose legs have not left yet leave with
// EndShutdown; their later Leave calls do nothing. Close is idempotent. Close
// the protocol servers first, so that legs end with their own reasons.
func (b *Bridge) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		var all []*Participant
		for _, c := range b.rooms {
			c.mu.Lock()
			for _, p := range c.parts {
				all = append(all, p)
			}
			c.mu.Unlock()
		}
		b.mu.Unlock()
		for _, p := range all {
			p.conf.hangup(p, EndShutdown, 0)
			p.Leave(EndShutdown, 0)
		}
		b.wg.Wait()
		b.metrics.unregister()
	})
	return nil
}

// Subscribe registers fn for the room events of every conference (joins,
// leaves, active speaker changes, mutes, locks) and returns a function that
// removes it. fn is called from the conference's event goroutine, in order for
// each conference; it must not block.
func (b *Bridge) Subscribe(fn func(RoomEvent)) (unsubscribe func()) {
	b.subMu.Lock()
	defer b.subMu.Unlock()
	b.subN++
	n := b.subN
	b.subs[n] = fn
	return func() {
		b.subMu.Lock()
		defer b.subMu.Unlock()
		delete(b.subs, n)
	}
}

func (b *Bridge) publish(ev RoomEvent) {
	b.subMu.Lock()
	fns := make([]func(RoomEvent), 0, len(b.subs))
	for _, fn := range b.subs {
		fns = append(fns, fn)
	}
	b.subMu.Unlock()
	for _, fn := range fns {
		fn(ev)
	}
}

// newUUID returns a random (version 4) UUID, RFC 9562 §5.4.
func newUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:]) // crypto/rand.Read never fails (Go 1.24+)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
