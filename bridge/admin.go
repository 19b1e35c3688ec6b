package bridge

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// ConferenceView is a snapshot of a live conference for the admin. It carries
// personal data (names and URIs of participants): show it only to the room's
// organisation.
type ConferenceView struct {
	ID             ConferenceID
	OrganisationID OrganisationID
	RoomID         RoomID
	RoomName       string
	StartedAt      time.Time
	Duration       time.Duration
	Locked         bool
	ActiveSpeaker  ParticipantID // empty when nobody speaks
	Participants   []ParticipantView
}

// ParticipantState is where a participant is, as the admin sees it.
type ParticipantState string

// The states of a participant.
const (
	ParticipantEnteringPIN ParticipantState = "entering_pin"
	ParticipantWaiting     ParticipantState = "waiting_for_host"
	ParticipantJoined      ParticipantState = "joined"
)

// ParticipantView is a snapshot of one participant for the admin.
type ParticipantView struct {
	ID          ParticipantID
	DisplayName string
	RemoteURI   string
	Protocol    Protocol
	Transport   string
	AudioCodec  string
	VideoCodec  string
	// VideoWidth and VideoHeight are the picture size of the video the
	// participant sends (Participant.VideoResolution), 0 before its first
	// sequence parameter set or without video.
	VideoWidth, VideoHeight int
	Encryption              Encryption
	Role                    Role // empty while entering the PIN
	State                   ParticipantState
	Muted                   bool
	Since                   time.Time // when it was admitted
	Duration                time.Duration
}

// Conferences returns every live conference, oldest first, with its
// participants in order of arrival.
func (b *Bridge) Conferences(ctx context.Context) []ConferenceView {
	now := b.clock.Now()
	b.mu.Lock()
	confs := make([]*conference, 0, len(b.rooms))
	for _, c := range b.rooms {
		confs = append(confs, c)
	}
	b.mu.Unlock()
	views := make([]ConferenceView, 0, len(confs))
	for _, c := range confs {
		if v, ok := c.view(now); ok {
			views = append(views, v)
		}
	}
	slices.SortFunc(views, func(a, b ConferenceView) int {
		if c := a.StartedAt.Compare(b.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(string(a.ID), string(b.ID))
	})
	return views
}

// Conference returns the live conference id, or ErrConferenceNotFound.
func (b *Bridge) Conference(ctx context.Context, id ConferenceID) (ConferenceView, error) {
	c, err := b.conference(id)
	if err != nil {
		return ConferenceView{}, err
	}
	v, ok := c.view(b.clock.Now())
	if !ok {
		return ConferenceView{}, ErrConferenceNotFound
	}
	return v, nil
}

// Mute mutes or unmutes a participant: while muted the others do not hear it.
// A participant muted before it joins the mix joins muted.
func (b *Bridge) Mute(ctx context.Context, id ConferenceID, pid ParticipantID, muted bool) error {
	c, err := b.conference(id)
	if err != nil {
		return err
	}
	c.opMu.Lock()
	defer c.opMu.Unlock()
	c.mu.Lock()
	p, ok := c.parts[pid]
	if !ok {
		c.mu.Unlock()
		return ErrParticipantNotFound
	}
	changed := p.muted != muted
	p.muted = muted
	if changed {
		ev := c.event(EventMuted, pid, b.clock.Now())
		ev.Muted = muted
		c.enqueue(func() { b.publish(ev) })
	}
	c.mu.Unlock()
	if r := p.port.Load(); r != nil {
		r.SetMuted(muted) // under opMu: mutes apply in order
	}
	if changed {
		p.log.Info("mute changed by admin", "muted", muted)
	}
	return nil
}

// Kick asks a participant's leg to hang up (EndKicked); the leg then leaves.
func (b *Bridge) Kick(ctx context.Context, id ConferenceID, pid ParticipantID) error {
	c, err := b.conference(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	p, ok := c.parts[pid]
	if ok {
		c.enqueue(func() { p.leg.Hangup(EndKicked, 0) })
	}
	c.mu.Unlock()
	if !ok {
		return ErrParticipantNotFound
	}
	p.log.Info("kicked by admin")
	return nil
}

// Lock locks or unlocks a conference: while locked, Admit refuses new
// participants with ErrRoomLocked. The lock ends with the conference.
func (b *Bridge) Lock(ctx context.Context, id ConferenceID, locked bool) error {
	c, err := b.conference(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	changed := c.locked != locked
	c.locked = locked
	if locked {
		c.wasLocked = true
	}
	if changed {
		ev := c.event(EventLocked, "", b.clock.Now())
		ev.Locked = locked
		c.enqueue(func() { b.publish(ev) })
	}
	c.mu.Unlock()
	if changed {
		c.log.Info("lock changed by admin", "locked", locked)
	}
	return nil
}

// conference finds a live conference by ID.
func (b *Bridge) conference(id ConferenceID) (*conference, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.rooms {
		if c.id == id {
			return c, nil
		}
	}
	return nil, ErrConferenceNotFound
}

// view snapshots the conference; false if it has ended.
func (c *conference) view(now time.Time) (ConferenceView, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return ConferenceView{}, false
	}
	v := ConferenceView{
		ID: c.id, OrganisationID: c.room.OrganisationID, RoomID: c.room.ID, RoomName: c.room.Name,
		StartedAt: c.startedAt, Duration: now.Sub(c.startedAt), Locked: c.locked, ActiveSpeaker: c.activeSpeaker,
		Participants: make([]ParticipantView, 0, len(c.parts)),
	}
	ps := make([]*Participant, 0, len(c.parts))
	for _, p := range c.parts {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b *Participant) int { return cmp.Compare(a.seq, b.seq) })
	for _, p := range ps {
		state := ParticipantEnteringPIN
		switch p.state {
		case stateAdmitted:
			state = ParticipantWaiting
		case stateJoined:
			state = ParticipantJoined
		}
		// srcMu, which VideoResolution takes, is a leaf lock: safe under
		// c.mu.
		w, h := p.VideoResolution()
		v.Participants = append(v.Participants, ParticipantView{
			ID: p.id, DisplayName: p.info.DisplayName, RemoteURI: p.info.RemoteURI,
			Protocol: p.info.Protocol, Transport: p.info.Transport, AudioCodec: p.info.AudioCodec,
			VideoCodec: p.info.VideoCodec, VideoWidth: w, VideoHeight: h, Encryption: p.info.Encryption, Role: p.role, State: state,
			Muted: p.muted, Since: p.since, Duration: now.Sub(p.since),
		})
	}
	return v, true
}
