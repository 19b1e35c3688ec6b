package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
)

// videoFramesNow is each call's count of video frames received so far.
func videoFramesNow(l *sipLoad) []uint64 {
	var out []uint64
	for _, c := range l.snapshot() {
		n := uint64(0)
		if s := c.stream.Load(); s != nil {
			if vs, ok := s.video.(*videoStream); ok {
				vs.sw.mu.Lock()
				n = vs.sw.frames
				vs.sw.mu.Unlock()
			}
		}
		out = append(out, n)
	}
	return out
}

func TestLoadVideoCallersSeeTheTalkerAndSwitchAtItsKeyframe(t *testing.T) {
	room := bridge.RoomInfo{ID: "room-video", OrganisationID: "org", Name: "Video", Alias: "4321"}
	tb := startBridge(t, room)
	// Three callers talk in turns of 2 s for 9 s: the bridge's speaker
	// detection (a lead of about a second) switches the video a few times.
	l, wait := startLoad(t, "--target", tb.uri(room.Alias), "--callers", "3", "--rate", "20",
		"--duration", "9s", "--codec", "pcmu", "--video", "h264", "--talk-turn", "2s")
	eventually(t, 20*time.Second, "three callers in the mix", func() bool { return tb.joined(room.ID, "") == 3 })
	eachGrows(t, "each caller to receive 15 more video frames with all three in", func() []uint64 { return videoFramesNow(l) }, 15)
	r := wait()
	var out bytes.Buffer
	_ = r.write(&out)
	t.Logf("bifrost-load's table:\n%s", out.String())
	if r.Joined != 3 || r.Failed != 0 {
		t.Fatalf("%d joined, %d failed (%v); want 3 joined", r.Joined, r.Failed, r.Failures)
	}
	if r.Video == nil || r.Video.Calls != 3 {
		t.Fatalf("video totals %+v; want three calls with video", r.Video)
	}
	for i, res := range r.Results {
		v := res.Video
		if v.FramesSent == 0 || v.KeyframesSent == 0 {
			t.Errorf("call %d sent %d frames, %d keyframes; want both", i+1, v.FramesSent, v.KeyframesSent)
		}
		if v.FramesReceived == 0 {
			t.Errorf("call %d received no video frame", i+1)
		}
		if v.Gaps != 0 || v.RX.Lost != 0 {
			t.Errorf("call %d saw %d sequence gaps and lost %d packets; want a continuous stream", i+1, v.Gaps, v.RX.Lost)
		}
	}
	if r.Video.Switches == 0 {
		t.Fatal("no receiver saw a switch of source; want the talker rotation to switch the video")
	}
	if r.Video.GapsAtSwitch != 0 || r.Video.WithoutKeyframe != 0 {
		t.Errorf("%d switches with a sequence gap, %d not at a keyframe; want none", r.Video.GapsAtSwitch, r.Video.WithoutKeyframe)
	}
	if r.Video.FromTalk[1] <= 0 || r.Video.FromRequest[1] <= 0 {
		t.Errorf("switch latency p95 from the talker change %s, from the keyframe request %s; want both measured",
			r.Video.FromTalk[1], r.Video.FromRequest[1])
	}
	if !bytes.Contains(out.Bytes(), []byte("keyframe request → keyframe p50")) {
		t.Errorf("the table has no switch latency row:\n%s", out.String())
	}
}
