package webcall

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/bifrost-video/bifrost/bridge"
)

var testRoom = bridge.RoomInfo{ID: "room-1", OrganisationID: "org-1", Name: "Board room", Alias: "1234"}

func TestTwoBrowsersHearEachOther(t *testing.T) {
	r := newRig(t, Config{}, testRoom)
	a, b := dial(t, r, "1234"), dial(t, r, "1234")
	a.join("Ada", "", 440)
	b.join("Brian", "", 660)
	eventually(t, 15*time.Second, "both to hear the other's tone in their mix", func() bool {
		ra, _, _, _, _ := a.snapshot()
		rb, _, _, _, _ := b.snapshot()
		return ra > 1000 && rb > 1000
	})
	ps := r.participants()
	if len(ps) != 2 {
		t.Fatalf("%d participants, want 2", len(ps))
	}
	for _, p := range ps {
		if p.Protocol != bridge.ProtocolWebRTC || p.Encryption != bridge.EncryptionDTLSSRTP || p.AudioCodec != "opus/48000/2" {
			t.Errorf("participant %+v: want webrtc, dtls-srtp, opus", p)
		}
	}
}

func TestWrongPINIsRefusedAndTheRightOneAdmits(t *testing.T) {
	room := bridge.RoomInfo{ID: "room-pin", OrganisationID: "org-1", Name: "PIN room", Alias: "5678", HostPIN: "2468", GuestPIN: "1357"}
	r := newRig(t, Config{}, room)
	c := dial(t, r, "5678")
	c.send(map[string]any{"type": "join", "name": "Eve", "pin": "1111"})
	if m := c.next("error"); m["code"] != string(CodeWrongPIN) {
		t.Fatalf("wrong PIN: %v, want code wrong_pin", m)
	}
	if n := len(r.participants()); n != 0 {
		t.Fatalf("%d participants after a wrong PIN, want 0", n)
	}
	c.join("Eve", "1357", 440)
	eventually(t, 10*time.Second, "the guest to be in the mix", func() bool {
		ps := r.participants()
		return len(ps) == 1 && ps[0].State == bridge.ParticipantJoined && ps[0].Role == bridge.RoleGuest
	})
}

func TestThreeWrongPINsCloseTheConnection(t *testing.T) {
	room := bridge.RoomInfo{ID: "room-pin", OrganisationID: "org-1", Name: "PIN room", Alias: "5678", HostPIN: "2468"}
	r := newRig(t, Config{}, room)
	c := dial(t, r, "5678")
	for i := 0; i < maxPINTries; i++ {
		c.send(map[string]any{"type": "join", "name": "Eve", "pin": "1111"})
		if m := c.next("error"); m["code"] != string(CodeWrongPIN) {
			t.Fatalf("try %d: %v, want wrong_pin", i+1, m)
		}
	}
	c.closed()
}

func TestProtocolErrors(t *testing.T) {
	r := newRig(t, Config{}, testRoom)
	tests := []struct {
		name, send string
		code       Code
	}{
		{"answer before join", `{"type":"answer","sdp":"v=0\r\n"}`, CodeOutOfOrder},
		{"mute before join", `{"type":"mute","audio":true}`, CodeOutOfOrder},
		{"not JSON", `hello`, CodeBadMessage},
		{"unknown type", `{"type":"dance"}`, CodeBadMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, r, "1234")
			c.sendRaw(tt.send)
			if m := c.next("error"); m["code"] != string(tt.code) {
				t.Fatalf("got %v, want code %s", m, tt.code)
			}
			c.closed()
		})
	}
	t.Run("unknown room", func(t *testing.T) {
		c := dial(t, r, "9999")
		c.send(map[string]any{"type": "join", "name": "Ada"})
		if m := c.next("error"); m["code"] != string(CodeRoomNotFound) {
			t.Fatalf("got %v, want room_not_found", m)
		}
		c.closed()
	})
	t.Run("second join", func(t *testing.T) {
		c := dial(t, r, "1234")
		c.send(map[string]any{"type": "join", "name": "Ada"})
		c.next("joined")
		c.send(map[string]any{"type": "join", "name": "Ada"})
		if m := c.next("error"); m["code"] != string(CodeOutOfOrder) {
			t.Fatalf("got %v, want out_of_order", m)
		}
		c.closed()
		eventually(t, 5*time.Second, "the room to be empty", func() bool { return len(r.participants()) == 0 })
	})
	t.Run("answer without an offer", func(t *testing.T) {
		c := dial(t, r, "1234")
		c.join("Ada", "", 440) // answers the one offer
		eventually(t, 5*time.Second, "the first offer answered", func() bool {
			_, _, offers, _, _ := c.snapshot()
			return offers == 1
		})
		c.send(map[string]any{"type": "answer", "sdp": "v=0\r\n"})
		// The answer loop reads the socket now: look at the last error.
		eventually(t, 5*time.Second, "an out_of_order error", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.last["error"] != nil && c.last["error"]["code"] == string(CodeOutOfOrder)
		})
	})
}

func TestRoomFullAndLocked(t *testing.T) {
	room := testRoom
	room.MaxParticipants = 1
	r := newRig(t, Config{}, room)
	a, b := dial(t, r, "1234"), dial(t, r, "1234")
	a.join("Ada", "", 440)
	b.send(map[string]any{"type": "join", "name": "Brian"})
	if m := b.next("error"); m["code"] != string(CodeRoomFull) {
		t.Fatalf("got %v, want room_full", m)
	}
	confs := r.b.Conferences(t.Context())
	if err := r.b.Lock(t.Context(), confs[0].ID, true); err != nil {
		t.Fatal(err)
	}
	a.send(map[string]any{"type": "leave"})
	a.closed()
	// The conference ended with Ada's departure, and with it the lock: Brian
	// may now try again and gets in.
	b.join("Brian", "", 660)
}

// TestReconnectionIsANewParticipant: a browser whose socket drops has left;
// it comes back with a new join, and the other browser does not reconnect.
func TestReconnectionIsANewParticipant(t *testing.T) {
	r := newRig(t, Config{}, testRoom)
	a, b := dial(t, r, "1234"), dial(t, r, "1234")
	a.join("Ada", "", 440)
	b.join("Brian", "", 660)
	eventually(t, 15*time.Second, "Ada to hear Brian", func() bool { rms, _, _, _, _ := a.snapshot(); return rms > 1000 })
	oldID := b.id
	b.ws.CloseNow()
	eventually(t, 10*time.Second, "Brian to have left", func() bool { return len(r.participants()) == 1 })
	b2 := dial(t, r, "1234")
	b2.join("Brian", "", 660)
	if b2.id == oldID {
		t.Errorf("the rejoined browser kept its participant ID %s", oldID)
	}
	eventually(t, 10*time.Second, "Ada's list to show the new Brian", func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		m := a.last["participants"]
		if m == nil {
			return false
		}
		for _, p := range m["participants"].([]any) {
			if p.(map[string]any)["id"] == b2.id {
				return true
			}
		}
		return false
	})
	eventually(t, 15*time.Second, "Ada to receive the new Brian's video", func() bool {
		_, _, _, streams, _ := a.snapshot()
		return streams[b2.id] > 10
	})
	_, _, _, _, states := a.snapshot()
	for _, s := range states {
		if s != webrtc.PeerConnectionStateConnecting && s != webrtc.PeerConnectionStateConnected {
			t.Errorf("Ada's connection went %s: she must not reconnect", s)
		}
	}
}

// TestBrowsersReceiveEachOthersVideoThroughTheRouter: with the bridge's
// video router, each browser's camera reaches the other as a track of its
// own, named by the sender's participant ID.
func TestBrowsersReceiveEachOthersVideoThroughTheRouter(t *testing.T) {
	r := newRig(t, Config{}, testRoom)
	a, b := dial(t, r, "1234"), dial(t, r, "1234")
	a.join("Ada", "", 440)
	b.join("Brian", "", 660)
	eventually(t, 15*time.Second, "each to receive the other's video", func() bool {
		_, _, _, sa, _ := a.snapshot()
		_, _, _, sb, _ := b.snapshot()
		return sa[b.id] > 25 && sb[a.id] > 25
	})
	_, _, _, sa, _ := a.snapshot()
	if sa[a.id] != 0 {
		t.Errorf("Ada receives her own video: %v", sa)
	}
}

// TestICETCPFallback: a browser that cannot use UDP connects over the ICE-TCP
// port and hears the room.
func TestICETCPFallback(t *testing.T) {
	r := newRig(t, Config{TCPAddr: "127.0.0.1:0"}, testRoom)
	a, b := dial(t, r, "1234"), dial(t, r, "1234")
	b.tcpOnly = true
	a.join("Ada", "", 440)
	b.join("Brian", "", 660)
	eventually(t, 20*time.Second, "Brian, on TCP only, to hear Ada", func() bool {
		rms, _, _, _, _ := b.snapshot()
		return rms > 1000
	})
	pair, err := b.pc.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil || pair.Local.Protocol != webrtc.ICEProtocolTCP {
		t.Errorf("Brian's selected pair %v (%v); want TCP", pair, err)
	}
}

// TestQualityFromTheLeg: the leg reports packets both ways and bitrates.
func TestQualityFromTheLeg(t *testing.T) {
	r := newRig(t, Config{}, testRoom)
	a, b := dial(t, r, "1234"), dial(t, r, "1234")
	a.join("Ada", "", 440)
	b.join("Brian", "", 660)
	eventually(t, 15*time.Second, "Ada to hear Brian", func() bool { rms, _, _, _, _ := a.snapshot(); return rms > 1000 })
	l := r.legOf(t, a.id)
	var q bridge.Quality
	eventually(t, 10*time.Second, "Ada's leg to report packets and bitrates both ways", func() bool {
		time.Sleep(200 * time.Millisecond) // Quality's bitrates are since the previous call
		q = l.Quality()
		return q.PacketsSent > 0 && q.PacketsReceived > 0 && q.BitrateIn > 0 && q.BitrateOut > 0
	})
	t.Logf("quality %+v", q)
}
