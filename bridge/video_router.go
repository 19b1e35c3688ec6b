package bridge

import (
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"github.com/bifrost-video/bifrost/bridge/video"
)

// videoRouter routes the video of one conference: the active speaker to
// every VideoSwitched leg (the speaker sees the previous one), every other
// source to each VideoForwarded leg up to its tile cap.
//
// Switching a VideoSwitched receiver to a new source waits for the new
// source's keyframe: the router asks the source for one (throttled per
// source) and keeps sending the old source until the keyframe's first packet
// arrives, then re-anchors the receiver's rewriter there so that its one
// outgoing stream stays continuous. If no keyframe comes within the switch
// timeout, it switches at the new source's next frame boundary anyway and
// the receiver's own keyframe request (forwarded to its new source) repairs
// the picture.
//
// Locks, in this order: mu guards the membership and the speaker order; a
// receiver's mu guards what it is shown and its rewriter and is held while
// calling its leg's SendVideo (which must not block, nor call back into the
// bridge); a source's srcMu guards its parameter sets and keyframe throttle.
// The packet path takes no lock of the router: it reads the members from an
// atomic snapshot, and each packet locks its source, then each receiver in
// turn; only a receiver switching to a source at an IDR without parameter
// sets also locks that source (receiver first) to copy them.
//
// Known limit: packets are forwarded as the source packetized them, so a
// receiver that negotiated packetization-mode 0 gets the FU-A and STAP-A
// of a mode 1 source (most decoders take them; baresip and linphonec do).
type videoRouter struct {
	clock         Clock
	log           *slog.Logger
	tiles         int
	switchTimeout time.Duration

	mu      sync.Mutex
	parts   map[ParticipantID]*videoPart
	order   []*videoPart // the most recent speaker first, then by arrival
	members atomic.Pointer[[]*videoPart]
}

// videoPart is one participant's video: as a source and as a receiver.
type videoPart struct {
	id   ParticipantID
	leg  VideoLeg
	mode VideoMode // at join; the leg's current mode is asked per packet

	// sending is set by the source's first packet: only legs that send
	// video are shown.
	sending atomic.Bool

	// As a source.
	srcMu      sync.Mutex
	params     video.ParamSets
	keyframes  video.Throttle
	prevMarker bool // the previous packet ended a frame
	started    bool
	// answered: the source sent a keyframe since it was last asked for
	// one, so no request of ours is on its way to be answered.
	answered bool

	// As a receiver.
	mu        sync.Mutex
	target    *videoPart // VideoSwitched: whom it should see
	current   *videoPart // VideoSwitched: whose packets it gets now
	askedAt   time.Time  // when the router last asked target for a keyframe
	pendingAt time.Time  // when target last changed
	rw        video.Rewriter
	out       rtp.Packet
	buf       []byte
	tileSet   []*videoPart // VideoForwarded: the sources it gets
}

func newVideoRouter(clock Clock, log *slog.Logger, cfg Config) *videoRouter {
	return &videoRouter{
		clock:         clock,
		log:           log,
		tiles:         cfg.VideoTiles,
		switchTimeout: cfg.VideoSwitchTimeout,
		parts:         make(map[ParticipantID]*videoPart),
	}
}

// add starts routing p's video, if its leg has any.
func (r *videoRouter) add(p *Participant) {
	vl, ok := p.leg.(VideoLeg)
	if !ok {
		return
	}
	mode := vl.VideoMode()
	if mode == VideoNone {
		return
	}
	vp := &videoPart{id: p.id, leg: vl, mode: mode, buf: make([]byte, 0, 1500)}
	r.mu.Lock()
	if _, dup := r.parts[p.id]; dup {
		r.mu.Unlock()
		return
	}
	r.parts[p.id] = vp
	r.order = append(r.order, vp)
	r.publishLocked()
	p.video.Store(vp)
	asks := r.retargetLocked()
	r.mu.Unlock()
	r.ask(asks)
}

// remove stops routing p's video. A packet already on its way may still
// reach p's leg once.
func (r *videoRouter) remove(p *Participant) {
	vp := p.video.Swap(nil)
	if vp == nil {
		return
	}
	r.mu.Lock()
	delete(r.parts, vp.id)
	r.order = slices.DeleteFunc(r.order, func(o *videoPart) bool { return o == vp })
	r.publishLocked()
	for _, rv := range r.order {
		rv.mu.Lock()
		if rv.current == vp {
			rv.current = nil
		}
		rv.mu.Unlock()
	}
	asks := r.retargetLocked()
	r.mu.Unlock()
	r.ask(asks)
}

// setSpeaker moves the new active speaker to the front of the order and
// switches the receivers. An empty id (silence) changes nothing: the last
// speaker stays on screen.
func (r *videoRouter) setSpeaker(id ParticipantID) {
	if id == "" {
		return
	}
	r.mu.Lock()
	vp := r.parts[id]
	if vp == nil || (len(r.order) > 0 && r.order[0] == vp) {
		r.mu.Unlock()
		return
	}
	i := slices.Index(r.order, vp)
	copy(r.order[1:i+1], r.order[:i])
	r.order[0] = vp
	asks := r.retargetLocked()
	r.mu.Unlock()
	r.ask(asks)
}

// publishLocked refreshes the packet path's snapshot of the members. The
// caller holds r.mu.
func (r *videoRouter) publishLocked() {
	m := slices.Clone(r.order)
	r.members.Store(&m)
}

// retargetLocked decides whom each receiver sees and returns the sources to
// ask for a keyframe (those a receiver is switching to, or that entered a
// receiver's tiles). The caller holds r.mu.
func (r *videoRouter) retargetLocked() []*videoPart {
	now := r.clock.Now()
	var asks []*videoPart
	for _, rv := range r.order {
		switch rv.mode {
		case VideoSwitched:
			var t *videoPart
			for _, s := range r.order {
				if s != rv && s.sending.Load() {
					t = s
					break
				}
			}
			rv.mu.Lock()
			if t != rv.target {
				rv.target = t
				rv.pendingAt = now
				if t != nil && t != rv.current {
					rv.askedAt = now
					asks = append(asks, t)
				}
			}
			rv.mu.Unlock()
		case VideoForwarded:
			tiles := make([]*videoPart, 0, min(r.tiles, len(r.order)))
			for _, s := range r.order {
				if len(tiles) == r.tiles {
					break
				}
				if s != rv && s.sending.Load() {
					tiles = append(tiles, s)
				}
			}
			rv.mu.Lock()
			for _, s := range tiles {
				if !slices.Contains(rv.tileSet, s) {
					asks = append(asks, s)
				}
			}
			rv.tileSet = tiles
			rv.mu.Unlock()
		}
	}
	return asks
}

// ask sends each source a keyframe request for the receivers switching to
// it (or taking it into their tiles). The throttle holds such a request
// back only while an earlier one is unanswered, since the keyframe on its
// way serves the switch too; once the source has answered, the keyframe
// that came cannot serve a switch that begins after it, and waiting out
// the throttle interval would keep the receivers on the previous speaker
// for up to video.DefaultKeyframeInterval. Switches need no throttle of
// their own: the speaker detection's lead spaces them a second apart.
func (r *videoRouter) ask(srcs []*videoPart) {
	if len(srcs) == 0 {
		return
	}
	now := r.clock.Now()
	for i, s := range srcs {
		if slices.Contains(srcs[:i], s) {
			continue
		}
		r.requestKeyframeFor(s, now, true)
	}
}

// requestKeyframe asks src for a keyframe unless it was asked within the
// throttle interval (then the request is sent when the interval is over).
func (r *videoRouter) requestKeyframe(src *videoPart, now time.Time) {
	r.requestKeyframeFor(src, now, false)
}

// requestKeyframeFor is requestKeyframe; forSwitch lets an answered
// request not hold this one back (see ask).
func (r *videoRouter) requestKeyframeFor(src *videoPart, now time.Time, forSwitch bool) {
	src.srcMu.Lock()
	send := src.keyframes.Request(now)
	if !send && forSwitch && src.answered {
		// Restart the interval at this request.
		src.keyframes = video.Throttle{Interval: src.keyframes.Interval}
		send = src.keyframes.Request(now)
	}
	if send {
		src.answered = false
	}
	src.srcMu.Unlock()
	if send {
		src.leg.RequestKeyframe()
	}
}

// receive routes one packet of from's video.
func (r *videoRouter) receive(from *Participant, pkt *rtp.Packet) {
	src := from.video.Load()
	if src == nil || len(pkt.Payload) == 0 {
		return
	}
	info, err := video.Inspect(pkt.Payload)
	if err != nil {
		return // not H.264 we can route: nothing to forward
	}
	now := r.clock.Now()
	src.srcMu.Lock()
	if info.SPS || info.PPS {
		src.params.Observe(pkt.Payload)
	}
	frameStart := !src.started || src.prevMarker
	src.started = true
	src.prevMarker = pkt.Marker
	held := false
	if info.Keyframe() {
		src.keyframes.Satisfied()
		src.answered = true
	} else if held = src.keyframes.Due(now); held {
		src.answered = false
	}
	src.srcMu.Unlock()
	if held {
		src.leg.RequestKeyframe()
	}
	if !src.sending.Load() {
		src.sending.Store(true)
		r.mu.Lock()
		var asks []*videoPart
		if r.parts[src.id] == src {
			asks = r.retargetLocked()
		}
		r.mu.Unlock()
		r.ask(asks)
	}
	members := r.members.Load()
	if members == nil {
		return
	}
	for _, rv := range *members {
		if rv == src {
			continue
		}
		var ask bool
		switch rv.mode {
		case VideoSwitched:
			ask = r.deliverSwitched(rv, src, pkt, info, frameStart, now)
		case VideoForwarded:
			rv.mu.Lock()
			in := slices.Contains(rv.tileSet, src)
			rv.mu.Unlock()
			if in && rv.leg.VideoMode() == VideoForwarded {
				rv.leg.SendVideo(src.id, pkt)
			}
		}
		if ask {
			r.requestKeyframe(src, now)
		}
	}
}

// deliverSwitched hands one packet of src to a VideoSwitched receiver if src
// is what it shows, switching it over at src's keyframe. It reports whether
// src should be asked again for a keyframe (a pending switch waited a
// throttle interval without one).
func (r *videoRouter) deliverSwitched(rv, src *videoPart, pkt *rtp.Packet, info video.PayloadInfo, frameStart bool, now time.Time) (ask bool) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if rv.leg.VideoMode() != VideoSwitched {
		return false
	}
	switch src {
	case rv.current:
	case rv.target:
		timedOut := now.Sub(rv.pendingAt) >= r.switchTimeout
		if !info.Keyframe() && !(timedOut && frameStart) {
			if now.Sub(rv.askedAt) >= video.DefaultKeyframeInterval {
				rv.askedAt = now
				return true
			}
			return false
		}
		rv.current = src
		rv.rw.Switch()
		if info.IDR && !info.SPS {
			r.sendParamSets(rv, src, pkt, now)
		}
	default:
		return false
	}
	seq, ts, ok := rv.rw.Rewrite(pkt.SSRC, pkt.SequenceNumber, pkt.Timestamp, now)
	if !ok {
		return false
	}
	rv.out.Header = pkt.Header
	rv.out.SequenceNumber, rv.out.Timestamp = seq, ts
	rv.out.Payload = pkt.Payload
	rv.out.PaddingSize = 0
	rv.out.Padding = false
	rv.leg.SendVideo(src.id, &rv.out)
	return false
}

// sendParamSets sends src's SPS and PPS as one STAP-A ahead of the IDR pkt,
// for a receiver that switches to src at an IDR that does not carry them
// (RFC 6184 §8.4: parameter sets out of band or earlier in the stream). The
// caller holds rv.mu and has just called rv.rw.Switch.
func (r *videoRouter) sendParamSets(rv, src *videoPart, pkt *rtp.Packet, now time.Time) {
	src.srcMu.Lock()
	rv.buf = src.params.AppendSTAPA(rv.buf[:0])
	src.srcMu.Unlock()
	if len(rv.buf) == 0 {
		return
	}
	seq, ts, ok := rv.rw.Rewrite(pkt.SSRC, pkt.SequenceNumber-1, pkt.Timestamp, now)
	if !ok {
		return
	}
	rv.out.Header = pkt.Header
	rv.out.Marker = false
	rv.out.SequenceNumber, rv.out.Timestamp = seq, ts
	rv.out.Payload = rv.buf
	rv.out.PaddingSize = 0
	rv.out.Padding = false
	rv.leg.SendVideo(src.id, &rv.out)
}

// keyframeRequested forwards a receiver's keyframe request to the source it
// concerns: the one it is shown (VideoSwitched, source empty) or source.
func (r *videoRouter) keyframeRequested(from *Participant, source ParticipantID) {
	rv := from.video.Load()
	if rv == nil {
		return
	}
	var src *videoPart
	if source == "" {
		rv.mu.Lock()
		src = rv.current
		if src == nil {
			src = rv.target
		}
		rv.mu.Unlock()
	} else {
		r.mu.Lock()
		src = r.parts[source]
		r.mu.Unlock()
	}
	if src == nil || src == rv {
		return
	}
	r.requestKeyframe(src, r.clock.Now())
}

// VideoResolution returns the picture size of the video the participant
// sends, from the last sequence parameter set seen (0x0 before one, or
// without video): for the admin view.
func (p *Participant) VideoResolution() (width, height int) {
	vp := p.video.Load()
	if vp == nil {
		return 0, 0
	}
	vp.srcMu.Lock()
	defer vp.srcMu.Unlock()
	return vp.params.Resolution()
}
