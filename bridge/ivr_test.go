package bridge

import (
	"context"
	"testing"
	"time"
)

func pinRoom(host, guest string) RoomInfo {
	r := openRoom()
	r.HostPIN, r.GuestPIN = host, guest
	return r
}

// keys hands each digit of s to p.
func keys(p *Participant, s string) {
	for _, d := range s {
		p.ReceiveDigit(d)
	}
}

func TestPINEntryGivesTheRoleOfThePINKeyed(t *testing.T) {
	for _, tc := range []struct {
		name        string
		host, guest string
		keyed       string
		want        Role
	}{
		{"the host PIN makes a host", "1234", "5678", "1234#", RoleHost},
		{"the guest PIN makes a guest", "1234", "5678", "5678#", RoleGuest},
		{"with only a host PIN, # alone makes a guest", "1234", "", "#", RoleGuest},
		{"with only a host PIN, the host PIN makes a host", "1234", "", "1234#", RoleHost},
		{"with only a guest PIN, it makes a host", "", "5678", "5678#", RoleHost},
		{"a wrong PIN, then the right one", "1234", "5678", "99#5678#", RoleGuest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			p, leg, err := h.admit(pinRoom(tc.host, tc.guest), "alice")
			if err != nil {
				t.Fatal(err)
			}
			h.clock.Advance(time.Second, tick) // part of the prompt
			if leg.frames() < 40 {
				t.Fatalf("%d frames of prompt sent in 1 s; want 50", leg.frames())
			}
			if p.Joined() {
				t.Fatal("joined the mix before entering the PIN")
			}
			keys(p, tc.keyed)
			h.clock.Advance(10*time.Second, tick) // wrong-PIN and joining prompts
			waitFor(t, "alice to join the mix", p.Joined)
			if p.Role() != tc.want {
				t.Errorf("role %q; want %q", p.Role(), tc.want)
			}
			if len(leg.hungUp()) != 0 {
				t.Errorf("hung up: %v", leg.hungUp())
			}
		})
	}
}

func TestThreeWrongPINsHangUp(t *testing.T) {
	h := newHarness(t, Config{})
	p, leg, _ := h.admit(pinRoom("1234", "5678"), "mallory")
	for _, pin := range []string{"1111#", "#", "12345#"} {
		keys(p, pin)
		h.clock.Advance(5*time.Second, tick)
	}
	waitFor(t, "mallory to be hung up", func() bool { return len(leg.hungUp()) == 1 })
	if got := leg.hungUp()[0]; got.reason != EndRejected || got.code != 403 {
		t.Errorf("hangup %+v; want rejected 403", got)
	}
	if p.Joined() {
		t.Error("mallory joined the mix")
	}
	waitFor(t, "the conference to end", func() bool { return len(h.obs.all()) == 4 })
	ev := h.obs.all()
	if start := ev[1].(LegStart); start.Role != "" {
		t.Errorf("LegStart role %q; want none for a leg that never got past the PIN", start.Role)
	}
	if end := ev[2].(LegEnd); end.Reason != EndRejected || end.ErrorCode != 403 {
		t.Errorf("LegEnd %+v; want rejected 403", end)
	}
}

func TestPINEntryTimesOut(t *testing.T) {
	t.Run("silence counts as a wrong attempt", func(t *testing.T) {
		h := newHarness(t, Config{PINDigitTimeout: 2 * time.Second, PINTimeout: time.Hour})
		_, leg, _ := h.admit(pinRoom("1234", ""), "alice")
		h.clock.Advance(60*time.Second, tick)
		waitFor(t, "alice to be hung up", func() bool { return len(leg.hungUp()) == 1 })
		if got := leg.hungUp()[0]; got.reason != EndRejected {
			t.Errorf("hangup %+v; want rejected after three silent attempts", got)
		}
	})
	t.Run("the overall timeout ends the call", func(t *testing.T) {
		h := newHarness(t, Config{PINTimeout: 5 * time.Second})
		p, leg, _ := h.admit(pinRoom("1234", ""), "alice")
		keys(p, "1")
		h.clock.Advance(6*time.Second, tick)
		waitFor(t, "alice to be hung up", func() bool { return len(leg.hungUp()) == 1 })
		if got := leg.hungUp()[0]; got.reason != EndTimeout {
			t.Errorf("hangup %+v; want timeout", got)
		}
	})
	t.Run("a pause after digits submits them", func(t *testing.T) {
		h := newHarness(t, Config{PINDigitTimeout: 2 * time.Second})
		p, _, _ := h.admit(pinRoom("1234", ""), "alice")
		keys(p, "1234")
		h.clock.Advance(6*time.Second, tick)
		waitFor(t, "alice to join", p.Joined)
	})
}

func TestGuestsWaitForTheHost(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	room := pinRoom("1234", "")
	room.GuestsWaitForHost = true
	guest, guestLeg, _ := h.admit(room, "guest")
	keys(guest, "#")
	h.clock.Advance(30*time.Second, tick)
	if guest.Joined() {
		t.Fatal("the guest joined the mix before any host")
	}
	v, _ := h.b.Conference(ctx, guest.ConferenceID())
	if v.Participants[0].State != ParticipantWaiting || v.Participants[0].Role != RoleGuest {
		t.Errorf("guest in the admin view %+v; want a waiting guest", v.Participants[0])
	}
	before := guestLeg.frames()
	h.clock.Advance(time.Second, tick)
	if guestLeg.frames()-before < 40 {
		t.Errorf("waiting guest got %d frames in 1 s; want the prompt or silence every 20 ms", guestLeg.frames()-before)
	}

	host, _, _ := h.admit(room, "host")
	keys(host, "1234#")
	h.clock.Advance(5*time.Second, tick)
	waitFor(t, "the host to join", host.Joined)
	waitFor(t, "the guest to join after the host", guest.Joined)
}

func TestADigitTypedDuringThePromptInterruptsIt(t *testing.T) {
	h := newHarness(t, Config{})
	p, _, _ := h.admit(pinRoom("1234", ""), "alice")
	keys(p, "1234#")
	h.clock.Advance(2*time.Second, tick) // less than the 6 s prompt + 1.7 s "joining"
	waitFor(t, "alice to join", p.Joined)
}

func TestDigitsOtherThanDTMFAreIgnored(t *testing.T) {
	h := newHarness(t, Config{})
	p, _, _ := h.admit(pinRoom("1234", ""), "alice")
	keys(p, "1x2A3 4#")
	h.clock.Advance(3*time.Second, tick)
	waitFor(t, "alice to join", p.Joined)
	if p.Role() != RoleHost {
		t.Errorf("role %q; want host", p.Role())
	}
}

func TestPINCompareIsExact(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		eq   bool
	}{{"1234", "1234", true}, {"1234", "12345", false}, {"", "", true}, {"0000", "000", false}} {
		if got := pinEqual(tc.a, tc.b); got != tc.eq {
			t.Errorf("pinEqual(%q, %q) = %v; want %v", tc.a, tc.b, got, tc.eq)
		}
	}
}

func TestLeavingDuringThePromptStopsIt(t *testing.T) {
	h := newHarness(t, Config{})
	p, leg, _ := h.admit(pinRoom("1234", ""), "alice")
	h.clock.Advance(time.Second, tick)
	p.Leave(EndHungUp, 0)
	sent := leg.frames()
	h.clock.Advance(time.Second, tick)
	if got := leg.frames(); got != sent {
		t.Errorf("%d frames sent after Leave returned; want none", got-sent)
	}
}

func TestAParticipantMutedInTheLobbyJoinsMuted(t *testing.T) {
	h := newHarness(t, Config{})
	p, _, _ := h.admit(pinRoom("1234", ""), "alice")
	if err := h.b.Mute(context.Background(), p.ConferenceID(), p.ID(), true); err != nil {
		t.Fatal(err)
	}
	keys(p, "1234#")
	h.clock.Advance(3*time.Second, tick)
	waitFor(t, "alice to join", p.Joined)
	if !h.mixer(0).port(p.ID()).muted {
		t.Error("alice joined the mix unmuted")
	}
}
