package bridge

import (
	"log/slog"
	"sync"
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// conference is the live meeting of one room, from its first participant's
// arrival to its last one's departure.
//
// Locks, in this order: opMu serialises the operations that change who is in
// the mix (join, leave, mute) and is held across calls into the mixer; the
// Bridge's mu guards its map of rooms; mu guards the fields below it and is
// never held while calling out of the package. Calls out (observer, legs, room
// event subscribers) happen on the conference's own goroutine, run, in the
// order the state changed: callbacks are queued under mu.
type conference struct {
	b         *Bridge
	id        ConferenceID
	startedAt time.Time
	log       *slog.Logger
	mixer     audioMixer
	video     *videoRouter

	opMu sync.Mutex

	mu            sync.Mutex
	room          RoomInfo
	parts         map[ParticipantID]*Participant // in the lobby, waiting or joined
	hosts         int                            // hosts in the mix
	hostJoined    chan struct{}                  // closed when the first host joins the mix
	locked        bool
	wasLocked     bool
	peak          int
	activeSpeaker ParticipantID
	arrivals      uint64
	ended         bool
	queue         []func() // callbacks for run, in order
	wake          chan struct{}
	done          bool // run delivers the queue, then returns
}

func newConference(b *Bridge, room RoomInfo, now time.Time) *conference {
	c := &conference{
		b:          b,
		id:         ConferenceID(newUUID()),
		startedAt:  now,
		room:       room,
		parts:      make(map[ParticipantID]*Participant),
		hostJoined: make(chan struct{}),
		wake:       make(chan struct{}, 1),
	}
	c.log = b.log.With("room_id", string(room.ID), "conference_id", string(c.id))
	c.mixer = b.newMixer(b.cfg.MaxSpeakers, c.onActiveSpeaker)
	c.video = newVideoRouter(b.clock, c.log, b.cfg)
	b.metrics.mixers.started(c.mixer)
	return c
}

// enqueue queues fn for run. The caller holds c.mu.
func (c *conference) enqueue(fn func()) {
	c.queue = append(c.queue, fn)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// conferenceStarted queues the start of the conference. The caller holds c.mu.
func (c *conference) conferenceStarted() {
	start := ConferenceStart{
		ID:             c.id,
		OrganisationID: c.room.OrganisationID,
		RoomID:         c.room.ID,
		RoomName:       c.room.Name,
		StartedAt:      c.startedAt,
		HasPIN:         c.room.HostPIN != "" || c.room.GuestPIN != "",
	}
	c.b.metrics.rooms.Inc()
	c.log.Info("conference started")
	ev := c.event(EventConferenceStarted, "", start.StartedAt)
	c.enqueue(func() {
		c.b.observer.ConferenceStarted(start)
		c.b.publish(ev)
	})
}

// event returns a room event of this conference.
func (c *conference) event(kind RoomEventKind, p ParticipantID, at time.Time) RoomEvent {
	return RoomEvent{Kind: kind, At: at, OrganisationID: c.room.OrganisationID, RoomID: c.room.ID,
		ConferenceID: c.id, ParticipantID: p}
}

// run delivers the queued callbacks in order and reports every leg's quality
// each QualityInterval, until the conference has ended; then it closes the
// mixer.
func (c *conference) run(t Ticker) {
	defer c.b.wg.Done()
	defer t.Stop()
	live := make(map[ParticipantID]*Participant) // legs whose LegStarted was delivered
	for {
		select {
		case <-c.wake:
		case now := <-t.C():
			c.reportQuality(live, now)
		}
		for {
			c.mu.Lock()
			q := c.queue
			c.queue = nil
			done := c.done
			c.mu.Unlock()
			if len(q) == 0 {
				if done {
					c.mixer.Close()
					c.b.metrics.mixers.closed(c.mixer)
					return
				}
				break
			}
			for _, fn := range q {
				fn()
			}
			c.syncLive(live)
		}
	}
}

// syncLive brings run's set of legs to report on up to date.
func (c *conference) syncLive(live map[ParticipantID]*Participant) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range live {
		if _, ok := c.parts[id]; !ok {
			delete(live, id)
		}
	}
	for id, p := range c.parts {
		if p.legStarted {
			live[id] = p
		}
	}
}

// reportQuality sends each live leg's statistics to the observer.
func (c *conference) reportQuality(live map[ParticipantID]*Participant, now time.Time) {
	for _, p := range live {
		c.b.observer.LegQuality(LegQuality{ID: p.id, ConferenceID: c.id, At: now, Quality: p.leg.Quality()})
	}
}

// hangup asks p's leg to end the call, from run.
func (c *conference) hangup(p *Participant, reason EndReason, code int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.enqueue(func() { p.leg.Hangup(reason, code) })
}

// onActiveSpeaker is the mixer's callback: it records the speaker and queues a
// room event.
func (c *conference) onActiveSpeaker(id ParticipantID) {
	now := c.b.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended || c.activeSpeaker == id {
		return
	}
	if _, ok := c.parts[id]; !ok && id != "" {
		return
	}
	c.activeSpeaker = id
	ev := c.event(EventActiveSpeaker, id, now)
	c.enqueue(func() {
		c.video.setSpeaker(id)
		c.b.publish(ev)
	})
}

// join puts p, admitted with its role decided, into the mix. It returns false
// if p left meanwhile or the mixer refused it (then the leg is hung up).
func (c *conference) join(p *Participant) bool {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	c.mu.Lock()
	if p.state == stateLeft {
		c.mu.Unlock()
		return false
	}
	muted := p.muted
	c.mu.Unlock()

	var opts media.EncoderOptions
	if l, ok := p.leg.(EncoderOptionser); ok {
		opts = l.EncoderOptions()
	}
	port, err := c.mixer.AddPort(p.id, p.codec, opts, p.leg.SendAudio)
	if err != nil {
		p.log.Error("joining the mix failed", "codec", p.codec.String(), "err", err)
		c.hangup(p, EndError, 500)
		return false
	}
	port.SetMuted(muted)
	c.video.add(p) // before Joined reports true
	now := c.b.clock.Now()
	c.mu.Lock()
	p.state = stateJoined
	p.joinedAt = now
	p.setPort(port)
	if p.role == RoleHost {
		c.hosts++
		if c.hosts == 1 {
			select {
			case <-c.hostJoined:
			default:
				close(c.hostJoined)
			}
		}
	}
	ev := c.event(EventParticipantJoined, p.id, now)
	c.enqueue(func() { c.b.publish(ev) })
	c.mu.Unlock()
	p.log.Info("joined the mix", "role", string(p.role), "codec", p.codec.String())
	return true
}

// hostPresent reports whether a host is in the mix, and returns a channel
// closed when the first host joins. Once a host has joined, the meeting has
// begun: guests arriving later join even if the host has left meanwhile.
func (c *conference) hostPresent() (bool, <-chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hosts > 0, c.hostJoined
}

// leave removes p; the last participant's departure ends the conference.
func (c *conference) leave(p *Participant, reason EndReason, code int) {
	c.opMu.Lock()
	defer c.opMu.Unlock()
	now := c.b.clock.Now()
	b := c.b
	b.mu.Lock()
	c.mu.Lock()
	port := p.takePort()
	if p.state == stateJoined && p.role == RoleHost {
		c.hosts--
	}
	p.state = stateLeft
	delete(c.parts, p.id)
	if !p.legStarted {
		c.legStarted(p) // a leg that never got past the PIN still gets its record
	}
	if c.activeSpeaker == p.id {
		c.activeSpeaker = ""
	}
	ended := len(c.parts) == 0
	if ended {
		c.ended = true
		c.done = true
		if b.rooms[c.room.ID] == c {
			delete(b.rooms, c.room.ID)
		}
	}
	startInfo := p.info
	leftEv := c.event(EventParticipantLeft, p.id, now)
	c.enqueue(func() {
		end := LegEnd{ID: p.id, ConferenceID: c.id, EndedAt: now, Reason: reason, Quality: p.leg.Quality()}
		if reason == EndError || reason == EndRejected {
			end.ErrorCode = code
		}
		final := p.leg.Info()
		if final.AudioCodec != "" && final.AudioCodec != startInfo.AudioCodec {
			end.AudioCodec = final.AudioCodec
		}
		if final.VideoCodec != startInfo.VideoCodec {
			end.VideoCodec = final.VideoCodec
		}
		if final.Encryption != "" && final.Encryption != startInfo.Encryption {
			end.Encryption = final.Encryption
		}
		b.observer.LegEnded(end)
		b.publish(leftEv)
	})
	if ended {
		end := ConferenceEnd{ID: c.id, EndedAt: now, PeakParticipants: c.peak, WasLocked: c.wasLocked}
		endEv := c.event(EventConferenceEnded, "", now)
		c.enqueue(func() {
			b.observer.ConferenceEnded(end)
			b.publish(endEv)
		})
	}
	c.mu.Unlock()
	b.mu.Unlock()

	if port != nil {
		port.Close()
	}
	c.video.remove(p)
	b.metrics.participants.WithLabelValues(string(p.info.Protocol)).Dec()
	p.log.Info("left", "reason", string(reason), "code", code)
	if ended {
		b.metrics.rooms.Dec()
		c.log.Info("conference ended", "peak_participants", c.peak)
	}
}

// legStarted decides nothing: it records that p's role is known (or that p is
// leaving without one) and queues LegStarted. The caller holds c.mu.
func (c *conference) legStarted(p *Participant) {
	p.legStarted = true
	start := LegStart{
		ID:             p.id,
		ConferenceID:   c.id,
		OrganisationID: c.room.OrganisationID,
		RoomID:         c.room.ID,
		Direction:      p.info.Direction,
		Protocol:       p.info.Protocol,
		Transport:      p.info.Transport,
		DisplayName:    p.info.DisplayName,
		RemoteURI:      p.info.RemoteURI,
		RemoteAddr:     p.info.RemoteAddr,
		UserAgent:      p.info.UserAgent,
		CallID:         p.info.CallID,
		Role:           p.role,
		AudioCodec:     p.info.AudioCodec,
		VideoCodec:     p.info.VideoCodec,
		Encryption:     p.info.Encryption,
		StartedAt:      p.info.StartedAt,
		AnsweredAt:     p.info.AnsweredAt,
	}
	c.enqueue(func() { c.b.observer.LegStarted(start) })
}

// decideRole records p's role, once the PIN (or its absence) has decided it,
// and queues LegStarted.
func (c *conference) decideRole(p *Participant, role Role) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.state == stateLeft || p.legStarted {
		return
	}
	p.role = role
	p.state = stateAdmitted
	c.legStarted(p)
}
