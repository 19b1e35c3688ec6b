package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// videoTotals are the video rows of the final table: every call's video
// added up, and the switches the callers saw.
type videoTotals struct {
	Calls                                   int
	Sent, Received, Expected, Lost          uint64
	FramesSent, FramesReceived              uint64
	KeyframesSent, KeyRequests              uint64
	Switches, GapsAtSwitch, WithoutKeyframe uint64
	Gaps                                    uint64
	// FromTalk: talker change (the new talker's first loud packet) to the
	// first packet of its keyframe at a receiver; it includes the
	// bridge's speaker detection. FromRequest: the bridge's keyframe
	// request reaching the new talker to that first packet.
	FromTalk, FromRequest [2]time.Duration // p50, p95
}

// newVideoTotals adds up the calls' video; nil when no call had any.
func newVideoTotals(results []callResult) *videoTotals {
	var t videoTotals
	var talk, req []time.Duration
	for _, res := range results {
		v := res.Video
		if v.Sent == 0 && v.RX.Received == 0 {
			continue
		}
		t.Calls++
		t.Sent += v.Sent
		t.Received += v.RX.Received
		t.Expected += v.RX.Expected
		t.Lost += v.RX.Lost
		t.FramesSent += v.FramesSent
		t.FramesReceived += v.FramesReceived
		t.KeyframesSent += v.KeyframesSent
		t.KeyRequests += v.KeyRequests
		t.Switches += v.Switches
		t.GapsAtSwitch += v.GapsAtSwitch
		t.WithoutKeyframe += v.WithoutKeyframe
		t.Gaps += v.Gaps
		talk = append(talk, v.FromTalk...)
		req = append(req, v.FromRequest...)
	}
	if t.Calls == 0 {
		return nil
	}
	slices.Sort(talk)
	slices.Sort(req)
	t.FromTalk = [2]time.Duration{percentile(talk, 50), percentile(talk, 95)}
	t.FromRequest = [2]time.Duration{percentile(req, 50), percentile(req, 95)}
	return &t
}

// LossPercent is the video packets lost of those expected.
func (t *videoTotals) LossPercent() float64 {
	return lossPercent(t.Lost, t.Expected)
}

// write adds the video rows to the table.
func (t *videoTotals) write(b *strings.Builder, row func(k, format string, a ...any)) {
	row("video", "%d calls with H.264", t.Calls)
	row("v packets", "%d sent, %d received", t.Sent, t.Received)
	row("v frames", "%d sent (%d keyframes, on %d requests), %d received", t.FramesSent, t.KeyframesSent, t.KeyRequests, t.FramesReceived)
	row("v loss", "%.2f%% (%d of %d expected), %d sequence gaps", t.LossPercent(), t.Lost, t.Expected, t.Gaps)
	row("switches", "%d seen by receivers, %d with a sequence gap, %d not at a keyframe", t.Switches, t.GapsAtSwitch, t.WithoutKeyframe)
	if t.Switches > 0 {
		row("switch", "talker change → keyframe p50 %s, p95 %s (with the bridge's speaker detection)", fmtMS1(t.FromTalk[0]), fmtMS1(t.FromTalk[1]))
		row("", "keyframe request → keyframe p50 %s, p95 %s (%s frame intervals at p95)", fmtMS1(t.FromRequest[0]), fmtMS1(t.FromRequest[1]),
			fmt.Sprintf("%.2f", float64(t.FromRequest[1])/float64(frameInterval)))
	}
}

func fmtMS1(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// videoProgress is the video part of the progress line: "" without video.
func (l *sipLoad) videoProgress() string {
	if l.video == nil {
		return ""
	}
	var sent, recv, switches, gaps uint64
	for i := range l.video.streams {
		v := l.video.streams[i].Load()
		if v == nil {
			continue
		}
		sent += v.sent.Load()
		recv += v.rx.snapshot().Received
		v.sw.mu.Lock()
		switches += v.sw.switches
		gaps += v.sw.gaps
		v.sw.mu.Unlock()
	}
	return fmt.Sprintf("  |  video sent %d, received %d, switches %d, gaps %d", sent, recv, switches, gaps)
}
