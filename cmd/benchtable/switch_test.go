package main

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
)

func TestSwitchLatenciesPairEachSwitchWithTheRoomsLastTalkerChange(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Unix(1700000000, 0)
	room := bridge.RoomInfo{ID: "switch-1"}
	sb := &switchBridge{rooms: []bridge.RoomInfo{room}, from: t0, until: t0.Add(5 * time.Second), events: map[bridge.RoomID][]time.Time{
		room.ID: {t0.Add(-time.Second), t0.Add(2 * time.Second), t0.Add(4 * time.Second)},
	}}
	line := func(at time.Duration, gap int) string {
		return fmt.Sprintf("%d 1 2 3 1 %d 1500000 900\n", t0.Add(at).UnixNano(), gap)
	}
	log := line(-500*time.Millisecond, 0) + // before the count started: not counted
		line(2*time.Second+5*time.Millisecond, 0) +
		line(2*time.Second+7*time.Millisecond, 0) +
		line(4*time.Second+30*time.Millisecond, 1) +
		line(5*time.Second+500*time.Millisecond, 0) // the callers leaving: not counted
	if err := os.WriteFile(switchLogName(dir, room), []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	lat, gaps, err := sb.latencies(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{5 * time.Millisecond, 7 * time.Millisecond, 30 * time.Millisecond}
	if fmt.Sprint(lat) != fmt.Sprint(want) || gaps != 1 {
		t.Errorf("latencies %v, %d gaps; want %v and 1", lat, gaps, want)
	}
	if err := os.WriteFile(switchLogName(dir, room), []byte("12 x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sb.latencies(dir); err == nil {
		t.Error("a malformed switch log read without error")
	}
}
