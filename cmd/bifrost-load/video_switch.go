package main

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// videoRun is what the calls of one run share for video: the talk
// rotation, the streams by call number (so that a receiver can look up
// when a source was last asked for a keyframe), and the switch log.
type videoRun struct {
	start   time.Time
	talk    *talkSchedule // nil: no rotation
	streams []atomic.Pointer[videoStream]

	logMu sync.Mutex
	log   io.Writer // nil: no switch log
}

func newVideoRun(start time.Time, callers int, talk *talkSchedule, log io.Writer) *videoRun {
	return &videoRun{start: start, talk: talk, streams: make([]atomic.Pointer[videoStream], callers+1), log: log}
}

// stream is the video stream of call id, nil if none (yet).
func (r *videoRun) stream(id uint32) *videoStream {
	if int(id) >= len(r.streams) {
		return nil
	}
	return r.streams[id].Load()
}

// A switch seen at a receiver: the first packet of another source than
// the one it was shown.
type switchEvent struct {
	At          time.Time
	Receiver    uint32
	From, To    uint32
	Keyframe    bool          // the first packet of To starts a keyframe
	Gap         bool          // the sequence numbers jumped at the switch
	FromTalk    time.Duration // since the talker changed; -1 unknown
	FromRequest time.Duration // since the bridge asked To for a keyframe; -1 unknown
}

// logSwitch writes one line of the switch log: Unix nanoseconds,
// receiver, from, to, keyframe (0/1), gap (0/1), then both latencies in
// microseconds (-1 unknown).
func (r *videoRun) logSwitch(e switchEvent) {
	if r.log == nil {
		return
	}
	r.logMu.Lock()
	defer r.logMu.Unlock()
	fmt.Fprintf(r.log, "%d %d %d %d %d %d %d %d\n", e.At.UnixNano(), e.Receiver, e.From, e.To,
		b01(e.Keyframe), b01(e.Gap), micros(e.FromTalk), micros(e.FromRequest))
}

func b01(b bool) int {
	if b {
		return 1
	}
	return 0
}

func micros(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return d.Microseconds()
}

// switchStats is what a receiver observed of the bridge's switched video
// stream: frames, sequence gaps, and each switch of source. The receiving
// goroutine updates it; reports read it.
type switchStats struct {
	mu          sync.Mutex
	have        bool
	lastSeq     uint16
	frames      uint64 // packets with the marker: ends of frames
	keyframes   uint64 // tagged keyframe starts
	gaps        uint64 // sequence numbers that did not follow the last one
	gapSinceTag bool
	source      uint32 // the source shown; 0 before the first tag

	switches, gapsAtSwitch, withoutKeyframe uint64
	fromTalk, fromRequest                   []time.Duration
}

// packet takes one RTP packet of the bridge's video stream to receiver v.
func (s *switchStats) packet(v *videoStream, seq uint16, marker bool, payload []byte, now time.Time) {
	tag, tagged := findTag(payload)
	s.mu.Lock()
	if s.have && seq != s.lastSeq+1 {
		// The bridge's one outgoing stream is continuous across switches;
		// a jump is loss on the way, or a switch that left a hole.
		if d := seq - s.lastSeq; d > 1 && d < maxDropout { // not a duplicate, not late
			s.gaps++
			s.gapSinceTag = true
		}
	}
	if !s.have || seq-s.lastSeq < maxDropout {
		s.lastSeq = seq
	}
	s.have = true
	if marker {
		s.frames++
	}
	var ev switchEvent
	switched := false
	if tagged {
		if tag.Keyframe {
			s.keyframes++
		}
		if tag.Source != s.source && s.source != 0 {
			switched = true
			ev = switchEvent{At: now, Receiver: v.id, From: s.source, To: tag.Source, Keyframe: tag.Keyframe, Gap: s.gapSinceTag, FromTalk: -1, FromRequest: -1}
			if t := v.run.talk; t != nil {
				if at := t.lastChange.Load(); at != 0 && at <= now.UnixNano() {
					ev.FromTalk = time.Duration(now.UnixNano() - at)
				}
			}
			if src := v.run.stream(tag.Source); src != nil {
				if at := src.lastKeyRequest.Load(); at != 0 && at <= now.UnixNano() {
					ev.FromRequest = time.Duration(now.UnixNano() - at)
				}
			}
			s.switches++
			if ev.Gap {
				s.gapsAtSwitch++
			}
			if !ev.Keyframe {
				s.withoutKeyframe++
			}
			s.fromTalk = appendKnown(s.fromTalk, ev.FromTalk)
			s.fromRequest = appendKnown(s.fromRequest, ev.FromRequest)
		}
		s.source = tag.Source
		s.gapSinceTag = false
	}
	s.mu.Unlock()
	if switched {
		v.run.logSwitch(ev)
	}
}

func appendKnown(ds []time.Duration, d time.Duration) []time.Duration {
	if d < 0 {
		return ds
	}
	return append(ds, d)
}

// videoResult is one call's video, for the final table.
type videoResult struct {
	Sent, FramesSent, KeyframesSent, KeyRequests uint64
	RX                                           rxSnapshot
	FramesReceived, KeyframesReceived, Gaps      uint64
	Switches, GapsAtSwitch, WithoutKeyframe      uint64
	FromTalk, FromRequest                        []time.Duration
}

// result is the stream's totals; call it once the stream is closed.
func (v *videoStream) result() videoResult {
	v.sw.mu.Lock()
	defer v.sw.mu.Unlock()
	return videoResult{
		Sent: v.sent.Load(), FramesSent: v.framesSent.Load(), KeyframesSent: v.keysSent.Load(), KeyRequests: v.keyRequests.Load(),
		RX:             v.rx.snapshot(),
		FramesReceived: v.sw.frames, KeyframesReceived: v.sw.keyframes, Gaps: v.sw.gaps,
		Switches: v.sw.switches, GapsAtSwitch: v.sw.gapsAtSwitch, WithoutKeyframe: v.sw.withoutKeyframe,
		FromTalk: append([]time.Duration(nil), v.sw.fromTalk...), FromRequest: append([]time.Duration(nil), v.sw.fromRequest...),
	}
}
