package main

// End-to-end runs of bifrost-load against an in-process bridge and SIP
// server, wired as `bifrost serve` wires them (cmd/bifrost's
// e2e_bridge_test.go), with the rooms given by a ResolverFunc.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/sipcall"
)

// testBridge is a bridge with its SIP server on 127.0.0.1.
type testBridge struct {
	b   *bridge.Bridge
	srv *sipcall.Server

	mu   sync.Mutex
	ends []bridge.LegEnd
}

func (tb *testBridge) ConferenceStarted(bridge.ConferenceStart) {}
func (tb *testBridge) ConferenceEnded(bridge.ConferenceEnd)     {}
func (tb *testBridge) LegStarted(bridge.LegStart)               {}
func (tb *testBridge) LegQuality(bridge.LegQuality)             {}
func (tb *testBridge) LegEnded(e bridge.LegEnd) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.ends = append(tb.ends, e)
}

func (tb *testBridge) ended() []bridge.LegEnd {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]bridge.LegEnd(nil), tb.ends...)
}

func startBridge(t *testing.T, rooms ...bridge.RoomInfo) *testBridge {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("BIFROST_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	resolver := bridge.ResolverFunc(func(_ context.Context, alias string) (bridge.RoomInfo, error) {
		for _, r := range rooms {
			if r.Alias == alias {
				return r, nil
			}
		}
		return bridge.RoomInfo{}, fmt.Errorf("alias %q: %w", alias, bridge.ErrRoomNotFound)
	})
	base := 43000 + 200*rand.IntN(40)
	media := bridge.Config{RTPPortMin: base, RTPPortMax: base + 199}
	tb := &testBridge{}
	tb.b = bridge.New(media, bridge.Deps{Resolver: resolver, Observer: tb, Logger: log})
	srv, err := sipcall.NewServer(sipcall.Config{Addr: "127.0.0.1:0", Rooms: sipcall.BridgeRooms(tb.b), Media: media}, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Listen(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	tb.srv = srv
	t.Cleanup(func() {
		_ = srv.Close()
		_ = tb.b.Close()
		cancel()
	})
	return tb
}

func (tb *testBridge) uri(alias string) string {
	return fmt.Sprintf("sip:%s@%s", alias, tb.srv.UDPAddr())
}

// joined counts the room's participants in the mix.
func (tb *testBridge) joined(room bridge.RoomID, role bridge.Role) int {
	n := 0
	for _, c := range tb.b.Conferences(context.Background()) {
		if c.RoomID != room {
			continue
		}
		for _, p := range c.Participants {
			if p.State == bridge.ParticipantJoined && (role == "" || p.Role == role) {
				n++
			}
		}
	}
	return n
}

// eventually polls cond every 20 ms until it holds, failing after limit
// with what it waited for. Not a timing assertion: limit only bounds a hang.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// startLoad starts a run of `bifrost-load sip` with args in the
// background; wait returns its report.
func startLoad(t *testing.T, args ...string) (l *sipLoad, wait func() *report) {
	t.Helper()
	cfg, err := parseSIPFlags(append(args, "--progress", "0"), os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	l, err = newSIPLoad(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.close)
	done := make(chan *report, 1)
	go func() { done <- l.run(t.Context(), os.Stderr) }()
	return l, func() *report {
		select {
		case r := <-done:
			return r
		case <-time.After(60 * time.Second):
			t.Fatal("the run did not end within 60 s")
			return nil
		}
	}
}

// receivedNow is each call's count of audio packets received so far.
// eachGrows waits until every caller's count, as now reads them, has grown
// by at least by since the call.
func eachGrows(t *testing.T, what string, now func() []uint64, by uint64) {
	t.Helper()
	before := now()
	eventually(t, 20*time.Second, what, func() bool {
		cur := now()
		for i := range before {
			if cur[i] < before[i]+by {
				return false
			}
		}
		return true
	})
}

func receivedNow(l *sipLoad) []uint64 {
	var out []uint64
	for _, c := range l.snapshot() {
		if s := c.stream.Load(); s != nil {
			out = append(out, s.rx.snapshot().Received)
		} else {
			out = append(out, 0)
		}
	}
	return out
}

func TestLoadCallersJoinHearTheMixAndLoseNothing(t *testing.T) {
	for _, codec := range []string{"pcmu", "g722", "opus"} {
		t.Run("three "+codec+" callers for 3 s", func(t *testing.T) {
			room := bridge.RoomInfo{ID: bridge.RoomID("room-" + codec), OrganisationID: "org", Name: "Load", Alias: "1234"}
			tb := startBridge(t, room)
			l, wait := startLoad(t, "--target", tb.uri(room.Alias), "--callers", "3", "--rate", "20",
				"--duration", "3s", "--codec", codec)
			eventually(t, 20*time.Second, "three callers in the mix", func() bool { return tb.joined(room.ID, "") == 3 })
			// With all three in, each must go on receiving: the mix of the
			// other two (25 packets is half a second of it).
			eachGrows(t, "each caller to receive 25 more packets with all three in", func() []uint64 { return receivedNow(l) }, 25)
			r := wait()
			var out bytes.Buffer
			_ = r.write(&out)
			t.Logf("bifrost-load's table:\n%s", out.String())
			if r.Calls != 3 || r.Joined != 3 || r.Failed != 0 {
				t.Fatalf("%d calls, %d joined, %d failed (%v); want 3 joined and none failed", r.Calls, r.Joined, r.Failed, r.Failures)
			}
			for i, res := range r.Results {
				if res.RX.Received == 0 || res.RX.Lost != 0 {
					t.Errorf("call %d received %d packets and lost %d; want some and none lost", i+1, res.RX.Received, res.RX.Lost)
				}
			}
			if r.JoinP50 <= 0 || r.JoinP99 < r.JoinP50 {
				t.Errorf("join time p50 %s, p99 %s; want both measured", r.JoinP50, r.JoinP99)
			}
			eventually(t, 10*time.Second, "the bridge to end three legs", func() bool { return len(tb.ended()) == 3 })
			for _, e := range tb.ended() {
				if e.Reason != bridge.EndHungUp {
					t.Errorf("leg %s ended %q; want a normal hang-up (our BYE)", e.ID, e.Reason)
				}
				if e.Quality.PacketsReceived == 0 {
					t.Errorf("the bridge received no RTP on leg %s", e.ID)
				}
			}
		})
	}
}

func TestLoadKeysThePINAsTelephoneEvents(t *testing.T) {
	room := bridge.RoomInfo{ID: "room-pin", OrganisationID: "org", Name: "PIN", Alias: "5678", HostPIN: "2468", GuestPIN: "1357"}
	tb := startBridge(t, room)
	// Each caller stays 10 s after keying its PIN, so the two overlap in the
	// room however far apart a loaded machine lets their prompts start.
	_, wait := startLoad(t, "--target", tb.uri(room.Alias), "--callers", "2", "--rate", "20",
		"--duration", "10s", "--codec", "pcmu", "--pin", "1357")
	eventually(t, 30*time.Second, "both callers admitted as guests by their PIN", func() bool {
		return tb.joined(room.ID, bridge.RoleGuest) == 2
	})
	r := wait()
	if r.Joined != 2 || r.Failed != 0 {
		t.Fatalf("%d joined, %d failed (%v); want 2 joined", r.Joined, r.Failed, r.Failures)
	}
}

func TestLoadExitsNonZeroWhenCallsFail(t *testing.T) {
	room := bridge.RoomInfo{ID: "room-x", OrganisationID: "org", Name: "X", Alias: "1234"}
	tb := startBridge(t, room)
	// A socket that swallows every INVITE: a bridge that is down or
	// firewalled without an ICMP answer.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	tests := []struct {
		name     string
		target   string
		args     []string
		wantCode int
		want     string
		wantErr  string // in stderr
	}{
		{"an unknown room fails every call", tb.uri("9999"), []string{"--callers", "2", "--duration", "1s", "--rate", "20"}, exitFailures, "2× INVITE refused: 404", ""},
		{"failures within --max-failures exit 0", tb.uri("9999"), []string{"--callers", "2", "--duration", "1s", "--rate", "20", "--max-failures", "2"}, exitOK, "2 failed", ""},
		{"a target that never answers fails after --timeout", "sip:1234@" + silent.LocalAddr().String(), []string{"--callers", "1", "--timeout", "1s", "--progress", "200ms"}, exitFailures, "1× INVITE: no answer within 1s",
			"calls 0 in, 1 connecting, 0 failed, 0 done"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"sip", "--target", tt.target, "--progress", "0"}, tt.args...)
			code := run(t.Context(), args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit status %d; want %d\nstdout:\n%s\nstderr:\n%s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.want) {
				t.Errorf("the table lacks %q:\n%s", tt.want, stdout.String())
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr lacks the progress line %q:\n%s", tt.wantErr, stderr.String())
			}
		})
	}
}
