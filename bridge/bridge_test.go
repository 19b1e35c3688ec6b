package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
)

const tick = 20 * time.Millisecond

func openRoom() RoomInfo {
	return RoomInfo{ID: "room-1", OrganisationID: "org-1", Name: "Board", Alias: "1234"}
}

// kinds names the observer calls in order, e.g. "ConferenceStarted".
func kinds(events []any) []string {
	var out []string
	for _, e := range events {
		out = append(out, fmt.Sprintf("%T", e)[len("bridge."):])
	}
	return out
}

func TestARoomWithoutPINJoinsCallersToTheMixAsHosts(t *testing.T) {
	h := newHarness(t, Config{})
	p, _, err := h.admit(openRoom(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alice to join the mix", p.Joined)
	if p.Role() != RoleHost {
		t.Errorf("role %q; want host (a room without PIN makes everyone host)", p.Role())
	}
	if h.mixer(0).port(p.ID()) == nil {
		t.Fatal("no mixer port for alice")
	}
	p.ReceiveAudio(1, 160, []byte{0xff})
	if got := h.mixer(0).port(p.ID()).pushed; got != 1 {
		t.Errorf("mixer port got %d payloads; want 1", got)
	}
	p.Leave(EndHungUp, 0)
	p.Leave(EndError, 500) // idempotent: ignored
	waitFor(t, "the conference to end", func() bool { return len(h.obs.all()) == 4 })
	got := kinds(h.obs.all())
	want := []string{"ConferenceStart", "LegStart", "LegEnd", "ConferenceEnd"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("observer calls %v; want %v", got, want)
	}
	ev := h.obs.all()
	start, leg, end := ev[0].(ConferenceStart), ev[1].(LegStart), ev[2].(LegEnd)
	if leg.ConferenceID != start.ID || end.ID != leg.ID || leg.ID != p.ID() {
		t.Errorf("IDs do not line up: conference %s, leg %+v, end %+v", start.ID, leg, end)
	}
	if leg.DisplayName != "alice" || leg.AudioCodec != media.PCMU.String() || leg.Role != RoleHost || leg.Direction != DirectionIn {
		t.Errorf("LegStart %+v; want alice, PCMU, host, in", leg)
	}
	if end.Reason != EndHungUp || end.ErrorCode != 0 {
		t.Errorf("LegEnd reason %q code %d; want hung_up 0", end.Reason, end.ErrorCode)
	}
	if ce := ev[3].(ConferenceEnd); ce.PeakParticipants != 1 || ce.ID != start.ID {
		t.Errorf("ConferenceEnd %+v; want peak 1 of conference %s", ce, start.ID)
	}
	waitFor(t, "the mixer to close", func() bool { m := h.mixer(0); m.mu.Lock(); defer m.mu.Unlock(); return m.closed })
	if !h.mixer(0).port(p.ID()).closed {
		t.Error("alice's mixer port is still open after she left")
	}
	if n := len(h.b.Conferences(context.Background())); n != 0 {
		t.Errorf("%d conferences listed after the last participant left; want 0", n)
	}
}

func TestANewConferenceStartsWhenTheRoomFillsAgain(t *testing.T) {
	h := newHarness(t, Config{})
	p1, _, _ := h.admit(openRoom(), "alice")
	first := p1.ConferenceID()
	p1.Leave(EndHungUp, 0)
	p2, _, err := h.admit(openRoom(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	if p2.ConferenceID() == first {
		t.Errorf("bob joined the ended conference %s; want a new one", first)
	}
}

func TestAdmitRefusesAFullRoomCountingTheLobby(t *testing.T) {
	h := newHarness(t, Config{})
	room := openRoom()
	room.MaxParticipants = 2
	room.GuestPIN = "1111" // keeps both in the lobby
	for _, name := range []string{"a", "b"} {
		if _, _, err := h.admit(room, name); err != nil {
			t.Fatalf("admit %s: %v", name, err)
		}
	}
	if _, _, err := h.admit(room, "c"); !errors.Is(err, ErrRoomFull) {
		t.Fatalf("third caller in a room for 2: err %v; want ErrRoomFull", err)
	}
}

func TestALockedConferenceRefusesNewcomersUntilUnlocked(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	p, _, _ := h.admit(openRoom(), "alice")
	if err := h.b.Lock(ctx, p.ConferenceID(), true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.admit(openRoom(), "bob"); !errors.Is(err, ErrRoomLocked) {
		t.Fatalf("bob into a locked room: err %v; want ErrRoomLocked", err)
	}
	if v, _ := h.b.Conference(ctx, p.ConferenceID()); !v.Locked {
		t.Error("the admin view does not show the conference locked")
	}
	if err := h.b.Lock(ctx, p.ConferenceID(), false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.admit(openRoom(), "bob"); err != nil {
		t.Fatalf("bob after unlock: %v", err)
	}
	if err := h.b.Lock(ctx, "no-such-conference", true); !errors.Is(err, ErrConferenceNotFound) {
		t.Errorf("locking an unknown conference: err %v; want ErrConferenceNotFound", err)
	}
}

func TestAdminMutesAndKicks(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	var mu sync.Mutex
	var events []RoomEvent
	defer h.b.Subscribe(func(e RoomEvent) { mu.Lock(); events = append(events, e); mu.Unlock() })()

	alice, _, _ := h.admit(openRoom(), "alice")
	bob, bobLeg, _ := h.admit(openRoom(), "bob")
	waitFor(t, "both to join", func() bool { return alice.Joined() && bob.Joined() })
	conf := alice.ConferenceID()

	if err := h.b.Mute(ctx, conf, bob.ID(), true); err != nil {
		t.Fatal(err)
	}
	if !h.mixer(0).port(bob.ID()).muted {
		t.Error("bob's mixer port is not muted")
	}
	v, _ := h.b.Conference(ctx, conf)
	if len(v.Participants) != 2 || v.Participants[0].DisplayName != "alice" || !v.Participants[1].Muted {
		t.Errorf("admin view %+v; want alice then bob (muted)", v.Participants)
	}
	if v.Participants[1].State != ParticipantJoined || v.Participants[1].AudioCodec != media.PCMU.String() || v.Participants[1].Protocol != ProtocolSIP {
		t.Errorf("bob in the admin view %+v; want joined, PCMU, sip", v.Participants[1])
	}

	if err := h.b.Kick(ctx, conf, bob.ID()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob to be hung up and leave", func() bool {
		v, _ := h.b.Conference(ctx, conf)
		return len(bobLeg.hungUp()) == 1 && len(v.Participants) == 1
	})
	if got := bobLeg.hungUp()[0]; got.reason != EndKicked {
		t.Errorf("bob hung up with %q; want kicked", got.reason)
	}
	if err := h.b.Kick(ctx, conf, bob.ID()); !errors.Is(err, ErrParticipantNotFound) {
		t.Errorf("kicking bob twice: err %v; want ErrParticipantNotFound", err)
	}

	h.mixer(0).onSpeaker(alice.ID())
	waitFor(t, "the active speaker event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range events {
			if e.Kind == EventActiveSpeaker && e.ParticipantID == alice.ID() {
				return true
			}
		}
		return false
	})
	if v, _ := h.b.Conference(ctx, conf); v.ActiveSpeaker != alice.ID() {
		t.Errorf("active speaker %q; want alice", v.ActiveSpeaker)
	}
	mu.Lock()
	var seen []RoomEventKind
	for _, e := range events {
		seen = append(seen, e.Kind)
	}
	mu.Unlock()
	want := []RoomEventKind{EventConferenceStarted, EventParticipantJoined, EventParticipantJoined, EventMuted, EventParticipantLeft, EventActiveSpeaker}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("room events %v; want %v", seen, want)
	}
}

func TestQualityIsReportedEveryIntervalBetweenStartAndEnd(t *testing.T) {
	h := newHarness(t, Config{QualityInterval: time.Second})
	p, leg, _ := h.admit(openRoom(), "alice")
	waitFor(t, "alice to join", p.Joined)
	leg.mu.Lock()
	leg.quality = Quality{PacketsReceived: 50}
	leg.mu.Unlock()
	h.clock.Advance(3*time.Second, time.Second)
	p.Leave(EndTimeout, 0)
	waitFor(t, "the conference to end", func() bool { return len(h.obs.all()) == 7 })
	got := kinds(h.obs.all())
	want := []string{"ConferenceStart", "LegStart", "LegQuality", "LegQuality", "LegQuality", "LegEnd", "ConferenceEnd"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("observer calls %v; want %v", got, want)
	}
	if q := h.obs.all()[2].(LegQuality); q.Quality.PacketsReceived != 50 || q.ID != p.ID() {
		t.Errorf("quality report %+v; want alice's 50 packets", q)
	}
}

func TestCloseHangsUpEveryoneAndEndsConferences(t *testing.T) {
	h := newHarness(t, Config{})
	_, a, _ := h.admit(openRoom(), "alice")
	room2 := openRoom()
	room2.ID, room2.GuestPIN = "room-2", "9"
	_, b, _ := h.admit(room2, "bob") // in the PIN lobby
	a.leaveOnHangup, b.leaveOnHangup = false, false
	if err := h.b.Close(); err != nil {
		t.Fatal(err)
	}
	_ = h.b.Close()
	for _, l := range []*fakeLeg{a, b} {
		if got := l.hungUp(); len(got) != 1 || got[0].reason != EndShutdown {
			t.Errorf("%s hangups %v; want one shutdown", l.info.DisplayName, got)
		}
	}
	ends := 0
	for _, e := range h.obs.all() {
		if _, ok := e.(ConferenceEnd); ok {
			ends++
		}
	}
	if ends != 2 {
		t.Errorf("%d conferences ended; want 2", ends)
	}
	if _, _, err := h.admit(openRoom(), "carol"); !errors.Is(err, ErrClosed) {
		t.Errorf("admit after Close: err %v; want ErrClosed", err)
	}
}

// TestConcurrentJoinsAndLeavesKeepTheBooks runs many callers in and out of two
// rooms at once (under -race) and checks every conference started ended, and
// every leg that started ended, in order.
func TestConcurrentJoinsAndLeavesKeepTheBooks(t *testing.T) {
	h := newHarness(t, Config{})
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			room := openRoom()
			if i%2 == 1 {
				room.ID = "room-2"
			}
			p, _, err := h.admit(room, fmt.Sprintf("caller%d", i))
			if err != nil {
				t.Error(err)
				return
			}
			if i%3 == 0 {
				_ = h.b.Mute(context.Background(), p.ConferenceID(), p.ID(), true)
			}
			p.Leave(EndHungUp, 0)
		}()
	}
	wg.Wait()
	_ = h.b.Close()
	open := map[ConferenceID]bool{}
	legs := map[ParticipantID]ConferenceID{}
	for _, e := range h.obs.all() {
		switch e := e.(type) {
		case ConferenceStart:
			open[e.ID] = true
		case LegStart:
			if !open[e.ConferenceID] {
				t.Errorf("leg started in conference %s that is not open", e.ConferenceID)
			}
			legs[e.ID] = e.ConferenceID
		case LegEnd:
			if _, ok := legs[e.ID]; !ok {
				t.Errorf("leg %s ended without starting", e.ID)
			}
			delete(legs, e.ID)
		case ConferenceEnd:
			for id, c := range legs {
				if c == e.ID {
					t.Errorf("conference %s ended before its leg %s", e.ID, id)
				}
			}
			delete(open, e.ID)
		}
	}
	if len(open) != 0 || len(legs) != 0 {
		t.Errorf("left open: %d conferences, %d legs", len(open), len(legs))
	}
}
