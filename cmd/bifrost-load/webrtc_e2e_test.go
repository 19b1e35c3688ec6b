package main

// End-to-end runs of `bifrost-load webrtc` against an in-process bridge
// with its WebRTC server (bridge/webcall) behind an HTTP server, wired as
// `bifrost serve` wires them.

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/webcall"
)

// startWebRTC puts a webcall server on tb's bridge and returns the join
// page URL of alias.
func startWebRTC(t *testing.T, tb *testBridge, alias string) string {
	t.Helper()
	return startWebRTCWith(t, tb, alias, webcall.Config{})
}

func startWebRTCWith(t *testing.T, tb *testBridge, alias string, cfg webcall.Config) string {
	t.Helper()
	cfg.UDPAddr = "127.0.0.1:0"
	srv, err := webcall.NewServer(cfg, webcall.Deps{Bridge: tb.b, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		hs.CloseClientConnections()
		_ = srv.Close()
		hs.Close()
	})
	return hs.URL + "/join/" + alias
}

// startWebRTCLoad starts a run of `bifrost-load webrtc` with args in the
// background; wait returns its report.
func startWebRTCLoad(t *testing.T, args ...string) (l *webrtcLoad, wait func() *webrtcReport) {
	t.Helper()
	cfg, err := parseWebRTCFlags(append(args, "--progress", "0"), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	l, err = newWebRTCLoad(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.close)
	done := make(chan *webrtcReport, 1)
	go func() { done <- l.run(t.Context(), os.Stderr) }()
	return l, func() *webrtcReport {
		select {
		case r := <-done:
			return r
		case <-time.After(60 * time.Second):
			t.Fatal("the run did not end within 60 s")
			return nil
		}
	}
}

// mixReceived is each peer's count of mix packets received so far.
func mixReceived(l *webrtcLoad) []uint64 {
	var out []uint64
	for _, p := range l.snapshot() {
		out = append(out, p.rx.snapshot().Received)
	}
	return out
}

func TestWebRTCPeersJoinHearTheMixAndLoseNothing(t *testing.T) {
	room := bridge.RoomInfo{ID: "room-webrtc", OrganisationID: "org", Name: "Load", Alias: "1234"}
	tb := startBridge(t, room)
	page := startWebRTC(t, tb, room.Alias)
	l, wait := startWebRTCLoad(t, "--url", page, "--peers", "3", "--rate", "20", "--duration", "4s", "--talk", "1s")
	eventually(t, 30*time.Second, "three peers in the mix", func() bool { return tb.joined(room.ID, "") == 3 })
	before := mixReceived(l)
	eventually(t, 20*time.Second, "each peer to receive 25 more mix packets with all three in", func() bool {
		now := mixReceived(l)
		if len(now) != 3 {
			return false
		}
		for i := range before {
			if now[i] < before[i]+25 {
				return false
			}
		}
		return true
	})
	// Loss is judged from here, all three in and media flowing: a packet
	// the bridge wrote while a peer's DTLS-SRTP was still being set up is
	// not the steady state this test is about (the table counts it).
	var lostBefore []uint64
	for _, p := range l.snapshot() {
		lostBefore = append(lostBefore, p.rx.snapshot().Lost)
	}
	r := wait()
	var out bytes.Buffer
	_ = r.write(&out)
	t.Logf("bifrost-load's table:\n%s", out.String())
	if r.Peers != 3 || r.Joined != 3 || r.Failed != 0 {
		t.Fatalf("%d peers, %d joined, %d failed (%v); want 3 joined and none failed", r.Peers, r.Joined, r.Failed, r.Failures)
	}
	for i, res := range r.Results {
		if res.RX.Received == 0 || res.RX.Lost != lostBefore[i] {
			t.Errorf("peer %d received %d mix packets and lost %d once all were in (%d in all); want some and none lost",
				i+1, res.RX.Received, res.RX.Lost-lostBefore[i], res.RX.Lost)
		}
		if res.Sent == 0 {
			t.Errorf("peer %d sent nothing", i+1)
		}
	}
	if r.JoinP50 <= 0 || r.JoinP99 < r.JoinP50 {
		t.Errorf("join time p50 %s, p99 %s; want both measured", r.JoinP50, r.JoinP99)
	}
	eventually(t, 10*time.Second, "the bridge to end three legs", func() bool { return len(tb.ended()) == 3 })
	for _, e := range tb.ended() {
		if e.Reason != bridge.EndHungUp {
			t.Errorf("leg %s ended %q; want a normal hang-up (our leave)", e.ID, e.Reason)
		}
		if e.Quality.PacketsReceived == 0 {
			t.Errorf("the bridge received no RTP on leg %s", e.ID)
		}
	}
}

func TestWebRTCVideoPeersReceiveEachOthersCamera(t *testing.T) {
	room := bridge.RoomInfo{ID: "room-webrtc-video", OrganisationID: "org", Name: "Video", Alias: "4321"}
	tb := startBridge(t, room)
	page := startWebRTC(t, tb, room.Alias)
	l, wait := startWebRTCLoad(t, "--url", page, "--peers", "2", "--rate", "20", "--duration", "4s", "--video")
	eventually(t, 30*time.Second, "both peers to receive video", func() bool {
		ps := l.snapshot()
		return len(ps) == 2 && ps[0].videoIn.Load() > 0 && ps[1].videoIn.Load() > 0
	})
	r := wait()
	var out bytes.Buffer
	_ = r.write(&out)
	t.Logf("bifrost-load's table:\n%s", out.String())
	if r.Joined != 2 || r.Failed != 0 {
		t.Fatalf("%d joined, %d failed (%v); want 2 joined", r.Joined, r.Failed, r.Failures)
	}
	if !strings.Contains(out.String(), "keyframe") {
		t.Errorf("the table has no keyframe-after-switch row:\n%s", out.String())
	}
}

// With one tile, each browser is shown the active speaker only: every
// change of talker is a switch to a source the peer did not receive, which
// the bridge answers with a keyframe request to the new speaker's camera.
func TestWebRTCMeasuresKeyframeAfterSwitch(t *testing.T) {
	room := bridge.RoomInfo{ID: "room-webrtc-switch", OrganisationID: "org", Name: "Switch", Alias: "2468"}
	tb := startBridge(t, room)
	page := startWebRTCWith(t, tb, room.Alias, webcall.Config{MaxTiles: 1})
	l, wait := startWebRTCLoad(t, "--url", page, "--peers", "3", "--rate", "20", "--duration", "15s", "--video", "--talk", "1500ms")
	eventually(t, 40*time.Second, "a keyframe after a switch of speaker", func() bool {
		for _, p := range l.snapshot() {
			p.mu.Lock()
			n := len(p.kfs)
			p.mu.Unlock()
			if n > 0 {
				return true
			}
		}
		return false
	})
	r := wait()
	var out bytes.Buffer
	_ = r.write(&out)
	t.Logf("bifrost-load's table:\n%s", out.String())
	if r.Failed != 0 || r.Switches == 0 || r.KeyframeP50 <= 0 || r.KeyframeP95 < r.KeyframeP50 {
		t.Errorf("%d failed, %d switches, keyframe p50 %s p95 %s; want switches measured and none failed", r.Failed, r.Switches, r.KeyframeP50, r.KeyframeP95)
	}
}

func TestWebRTCExitsNonZeroWhenPeersFail(t *testing.T) {
	room := bridge.RoomInfo{ID: "room-webrtc-x", OrganisationID: "org", Name: "X", Alias: "1234", GuestPIN: "1357"}
	tb := startBridge(t, room)
	page := startWebRTC(t, tb, room.Alias)
	base := strings.TrimSuffix(page, "/join/1234")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"a URL that is no join page is a usage error", []string{"--url", base + "/nowhere/1234", "--peers", "2"}, exitUsage, ""},
		{"a wrong URL fails every peer", []string{"--url", base + "/join/1234/extra", "--peers", "2"}, exitFailures, "2× WebSocket refused: HTTP 404"},
		{"an unknown room fails every peer", []string{"--url", base + "/join/9999", "--peers", "2"}, exitFailures, "2× join refused: room_not_found"},
		{"a wrong PIN fails every peer", []string{"--url", page, "--peers", "1", "--pin", "0000", "--timeout", "5s"}, exitFailures, "1× join refused: wrong_pin"},
		{"failures within --max-failures exit 0", []string{"--url", base + "/join/9999", "--peers", "2", "--max-failures", "2"}, exitOK, "2 failed"},
		{"a server that is not there fails every peer", []string{"--url", "http://127.0.0.1:1/join/1234", "--peers", "2"}, exitFailures, "2× WebSocket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"webrtc", "--progress", "0", "--duration", "1s", "--rate", "20"}, tt.args...)
			code := run(t.Context(), args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit status %d; want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.want) {
				t.Errorf("the table lacks %q:\n%s", tt.want, stdout.String())
			}
		})
	}
}
