package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/sipcall"
)

// benchRoom is the room every bridge harness dials: no PIN, no waiting.
var benchRoom = bridge.RoomInfo{ID: "bench", OrganisationID: "bench", Name: "Bench", Alias: "1234"}

// testBridge is a bridge and its SIP server in this process on 127.0.0.1,
// wired as `bifrost serve` wires them, with benchRoom as its only room.
type testBridge struct {
	b      *bridge.Bridge
	srv    *sipcall.Server
	cancel context.CancelFunc
}

func startBridge() (*testBridge, error) {
	log := slog.New(slog.DiscardHandler)
	resolver := bridge.ResolverFunc(func(_ context.Context, alias string) (bridge.RoomInfo, error) {
		if alias == benchRoom.Alias {
			return benchRoom, nil
		}
		return bridge.RoomInfo{}, fmt.Errorf("alias %q: %w", alias, bridge.ErrRoomNotFound)
	})
	base := 30000 + 1000*rand.IntN(20)
	cfg := bridge.Config{RTPPortMin: base, RTPPortMax: base + 999}
	b := bridge.New(cfg, bridge.Deps{Resolver: resolver, Logger: log})
	srv, err := sipcall.NewServer(sipcall.Config{Addr: "127.0.0.1:0", Rooms: sipcall.BridgeRooms(b), Media: cfg}, log, nil)
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Listen(ctx); err != nil {
		cancel()
		_ = b.Close()
		return nil, err
	}
	return &testBridge{b: b, srv: srv, cancel: cancel}, nil
}

func (tb *testBridge) Close() {
	_ = tb.srv.Close()
	_ = tb.b.Close()
	tb.cancel()
}

// target is the SIP URI of benchRoom.
func (tb *testBridge) target() string {
	return "sip:" + benchRoom.Alias + "@" + tb.srv.UDPAddr().String()
}

// joined counts the participants in benchRoom's mix.
func (tb *testBridge) joined() int {
	n := 0
	for _, c := range tb.b.Conferences(context.Background()) {
		for _, p := range c.Participants {
			if c.RoomID == benchRoom.ID && p.State == bridge.ParticipantJoined {
				n++
			}
		}
	}
	return n
}

// participants counts benchRoom's participants in any state.
func (tb *testBridge) participants() int {
	n := 0
	for _, c := range tb.b.Conferences(context.Background()) {
		if c.RoomID == benchRoom.ID {
			n += len(c.Participants)
		}
	}
	return n
}

// freePort is a UDP port free on 127.0.0.1 a moment ago.
func freePort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
