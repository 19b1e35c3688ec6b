package main

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// talkSchedule makes the callers talk in turn so that the bridge switches
// its video: during turn k of --talk-turn each, caller k mod N + 1 sends
// continuous speech and every other caller a noise floor at -60 dBov. The
// bridge's active speaker detection follows (after its own lead time) and
// asks the new talker for a keyframe.
type talkSchedule struct {
	start   time.Time
	period  time.Duration
	callers int
	speech  *audioLoop // talking without pauses
	quiet   *audioLoop // the noise floor only

	// lastChange is when the last talker started talking (Unix
	// nanoseconds; 0 before the first): the "talker change" a switch's
	// latency counts from.
	lastChange atomic.Int64
}

// newTalkSchedule encodes the two loops with codec.
func newTalkSchedule(codec media.AudioCodec, start time.Time, period time.Duration, callers int) (*talkSchedule, error) {
	t := &talkSchedule{start: start, period: period, callers: callers}
	for _, l := range []struct {
		dst   **audioLoop
		secs  int
		talks func(float64) bool
	}{
		{&t.speech, 4, func(float64) bool { return true }},
		{&t.quiet, 1, func(float64) bool { return false }},
	} {
		enc, err := media.NewEncoder(codec)
		if err != nil {
			return nil, fmt.Errorf("encoder for %s: %w", codec, err)
		}
		loop, err := encodeLoop(codec, enc, synthesise(l.secs*media.SampleRate, l.talks))
		_ = enc.Close()
		if err != nil {
			return nil, err
		}
		*l.dst = loop
	}
	return t, nil
}

// talker is the number of the call whose turn it is at now.
func (t *talkSchedule) talker(now time.Time) int {
	turn := int(now.Sub(t.start) / t.period)
	return turn%t.callers + 1
}

// frame is the audio payload the call sends at loop position pos, talking
// or not.
func (t *talkSchedule) frame(talking bool, pos int) []byte {
	l := t.quiet
	if talking {
		l = t.speech
	}
	return l.frames[pos%len(l.frames)]
}
