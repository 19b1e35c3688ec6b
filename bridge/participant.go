package bridge

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// participantState is where a participant is in its conference.
type participantState int

const (
	stateLobby    participantState = iota // PIN entry
	stateAdmitted                         // role decided; waiting for a host or about to join
	stateJoined                           // in the mix
	stateLeft
)

// digitBuffer bounds the DTMF digits queued for the IVR; more are dropped.
const digitBuffer = 32

// Participant is one leg's presence in a conference. The leg hands it received
// audio and DTMF digits and calls Leave when the call ends.
type Participant struct {
	id    ParticipantID
	conf  *conference
	leg   Leg
	info  LegInfo
	codec media.AudioCodec
	log   *slog.Logger
	since time.Time // when it was admitted
	seq   uint64    // order of arrival in the conference

	digits      chan rune
	port        atomic.Pointer[portRef]   // nil unless in the mix
	video       atomic.Pointer[videoPart] // nil unless its video is routed
	lobbyCancel context.CancelFunc
	lobbyCtx    context.Context
	lobbyDone   chan struct{}
	leaveOnce   sync.Once

	// Guarded by conf.mu.
	state      participantState
	role       Role
	muted      bool
	joinedAt   time.Time
	legStarted bool // LegStarted was queued
}

type portRef struct{ audioPort }

func newParticipant(c *conference, leg Leg, info LegInfo, codec media.AudioCodec, now time.Time) *Participant {
	if info.Direction == "" {
		info.Direction = DirectionIn
	}
	if info.Encryption == "" {
		info.Encryption = EncryptionNone
	}
	if info.AudioCodec == "" {
		info.AudioCodec = codec.String()
	}
	if info.StartedAt.IsZero() {
		info.StartedAt = now
	}
	if info.AnsweredAt.IsZero() {
		info.AnsweredAt = now
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Participant{
		id:          ParticipantID(newUUID()),
		conf:        c,
		leg:         leg,
		info:        info,
		codec:       codec,
		since:       now,
		digits:      make(chan rune, digitBuffer),
		lobbyCtx:    ctx,
		lobbyCancel: cancel,
		lobbyDone:   make(chan struct{}),
	}
	// No personal data in logs but the Call-ID (see LegInfo): the IDs and the
	// call's technical facts only.
	p.log = c.log.With("participant_id", string(p.id), "protocol", string(info.Protocol))
	if info.CallID != "" {
		p.log = p.log.With("call_id", info.CallID)
	}
	return p
}

// ID returns the participant's ID, a UUID.
func (p *Participant) ID() ParticipantID { return p.id }

// ConferenceID returns the ID of the conference the participant is in.
func (p *Participant) ConferenceID() ConferenceID { return p.conf.id }

// Role returns the participant's role: empty while the PIN is being entered.
func (p *Participant) Role() Role {
	p.conf.mu.Lock()
	defer p.conf.mu.Unlock()
	return p.role
}

// Joined reports whether the participant is in the mix (past the PIN and any
// wait for the host).
func (p *Participant) Joined() bool {
	p.conf.mu.Lock()
	defer p.conf.mu.Unlock()
	return p.state == stateJoined
}

// ReceiveAudio hands in one received RTP audio payload (encoded with the leg's
// AudioCodec). Before the participant joins the mix it is dropped; after, the
// mixer's jitter buffer keeps a copy. It does not block and does not allocate.
func (p *Participant) ReceiveAudio(seq uint16, ts uint32, payload []byte) {
	if r := p.port.Load(); r != nil {
		r.Push(seq, ts, payload)
	}
}

// ReceiveDigit hands in one DTMF digit ('0'–'9', '*', '#'; RFC 4733 events
// 0–11, or SIP INFO). The PIN IVR uses it; other characters and digits that
// arrive faster than the IVR takes them are dropped. It does not block.
func (p *Participant) ReceiveDigit(d rune) {
	if !(d >= '0' && d <= '9' || d == '*' || d == '#') {
		return
	}
	select {
	case p.digits <- d:
	default:
	}
}

// Leave removes the participant: the leg ended (BYE, timeout, error) or the
// bridge asked it to hang up. reason and code go to the CallObserver (code is
// kept for EndError and EndRejected). The last participant's departure ends
// the conference. Leave is idempotent: only the first call counts. After it
// returns the bridge no longer calls the leg's SendAudio, except possibly one
// frame of a mixer tick in flight.
func (p *Participant) Leave(reason EndReason, code int) {
	p.leaveOnce.Do(func() {
		p.lobbyCancel()
		<-p.lobbyDone
		p.conf.leave(p, reason, code)
	})
}

func (p *Participant) setPort(port audioPort) { p.port.Store(&portRef{port}) }

func (p *Participant) takePort() audioPort {
	if r := p.port.Swap(nil); r != nil {
		return r.audioPort
	}
	return nil
}
