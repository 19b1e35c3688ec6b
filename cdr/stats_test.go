package cdr

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestDailyStats(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	org := newOrg(t, db, "Acme")
	other := newOrg(t, db, "Other")
	w := openWriter(t, db, Config{})
	day := t0.Truncate(24 * time.Hour) // 2026-03-02
	// Day 1: alice 10:00–10:10 and bob 10:05–10:15 overlap (peak 2); bob
	// lost 5 % of his packets. carol calls alone at 12:00.
	submitOne(w, mustCall(org, t0, "alice", 0))
	b := mustCall(org, t0.Add(5*time.Minute), "bob", 0)
	b.le.Quality.PacketsLost, b.le.Quality.PacketsReceived = 500, 9500
	submitOne(w, b)
	submitOne(w, mustCall(org, t0.Add(2*time.Hour), "carol", 0))
	// Day 2 at 23:55 to day 3 at 00:25: day 3 has no call but one open leg.
	late := day.Add(24*time.Hour + 23*time.Hour + 55*time.Minute)
	submitOne(w, mustCall(org, late, "dave", 30*time.Minute))
	// Another organisation's busy day must not show.
	for _, n := range []string{"m1", "m2", "m3"} {
		submitOne(w, mustCall(other, t0, n, 0))
	}
	flush(t, w, "the calls")

	stats, err := DailyStats(context.Background(), db, org, day, day.Add(4*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	leg := (10*time.Minute - time.Second).Minutes() // answered a second after start
	want := []DayStats{
		{Day: day, Calls: 3, Minutes: 3 * leg, PeakConcurrent: 2, LossyLegs: 1},
		{Day: day.Add(24 * time.Hour), Calls: 1, Minutes: (30*time.Minute - time.Second).Minutes(), PeakConcurrent: 1},
		{Day: day.Add(48 * time.Hour), PeakConcurrent: 1},
		{Day: day.Add(72 * time.Hour)},
	}
	if len(stats) != len(want) {
		t.Fatalf("got %d days %+v, want %d", len(stats), stats, len(want))
	}
	for i, w := range want {
		g := stats[i]
		if !g.Day.Equal(w.Day) || g.Calls != w.Calls || math.Abs(g.Minutes-w.Minutes) > 1e-6 ||
			g.PeakConcurrent != w.PeakConcurrent || g.LossyLegs != w.LossyLegs {
			t.Errorf("day %d: got %+v, want %+v", i, g, w)
		}
	}
	if s := stats[0].LossyShare(); math.Abs(s-100.0/3) > 1e-9 {
		t.Errorf("lossy share of day 1 = %v, want 33.3", s)
	}

	t.Run("a range that starts mid-call counts the open leg", func(t *testing.T) {
		s, err := DailyStats(context.Background(), db, org, day.Add(48*time.Hour), day.Add(49*time.Hour))
		if err != nil || len(s) != 1 || s[0].PeakConcurrent != 1 || s[0].Calls != 0 {
			t.Errorf("got %+v, %v; want one day, peak 1, no calls started", s, err)
		}
	})
	t.Run("a reversed range is an error", func(t *testing.T) {
		if _, err := DailyStats(context.Background(), db, org, day, day); err == nil {
			t.Error("no error")
		}
	})
	t.Run("days of the organisation's time zone", func(t *testing.T) {
		if _, err := db.Exec(`UPDATE organisations SET time_zone = 'Europe/Oslo' WHERE id = $1`, org); err != nil {
			t.Fatal(err)
		}
		oslo, _ := time.LoadLocation("Europe/Oslo")
		d := func(m time.Month, day int) time.Time { return time.Date(2026, m, day, 0, 0, 0, 0, oslo) }
		s, err := DailyStats(context.Background(), db, org, d(3, 2), d(3, 6))
		if err != nil {
			t.Fatal(err)
		}
		// dave called at 23:55 UTC on 3 March: 00:55 on 4 March in Oslo.
		want := []DayStats{{Day: d(3, 2), Calls: 3, PeakConcurrent: 2}, {Day: d(3, 3)}, {Day: d(3, 4), Calls: 1, PeakConcurrent: 1}, {Day: d(3, 5)}}
		if len(s) != len(want) {
			t.Fatalf("got %+v, want %d days", s, len(want))
		}
		for i, w := range want {
			if g := s[i]; !g.Day.Equal(w.Day) || g.Day.Location().String() != "Europe/Oslo" || g.Calls != w.Calls || g.PeakConcurrent != w.PeakConcurrent {
				t.Errorf("Oslo day %d: got %+v (at %s), want %+v", i, g, g.Day, w)
			}
		}
		// Summer time starts on 29 March: that day has 23 hours, and the
		// next starts at 22:00 UTC.
		s, err = DailyStats(context.Background(), db, org, d(3, 28), d(3, 31))
		if err != nil || len(s) != 3 || !s[2].Day.Equal(time.Date(2026, 3, 29, 22, 0, 0, 0, time.UTC)) {
			t.Errorf("over the change to summer time: %+v %v", s, err)
		}
	})
}

// oneCall is the events of one call, as call returns them.
type oneCall struct {
	cs ConferenceStart
	ls LegStart
	lq LegQuality
	le LegEnd
	ce ConferenceEnd
}

// mustCall is call with a length other than ten minutes when d > 0.
func mustCall(org string, at time.Time, name string, d time.Duration) oneCall {
	var c oneCall
	c.cs, c.ls, c.lq, c.le, c.ce = call(org, at, name)
	if d > 0 {
		c.le.EndedAt, c.ce.EndedAt = at.Add(d), at.Add(d)
	}
	return c
}

func submitOne(w *Writer, c oneCall) { submitCall(w, c.cs, c.ls, c.lq, c.le, c.ce) }

func TestRooms(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	org := newOrg(t, db, "Acme")
	other := newOrg(t, db, "Other")
	room := func(o, name string) string {
		var id string
		if err := db.Get(&id, `INSERT INTO rooms (organisation_id, name, alias) VALUES ($1, $2, $3) RETURNING id`, o, name, fmt.Sprint(uuidN.Add(1))); err != nil { // an alias is digits only
			t.Fatal(err)
		}
		return id
	}
	board, lobby, theirs := room(org, "Board"), room(org, "lobby"), room(other, "Theirs")
	room(org, "Unused") // no records: not offered
	for _, c := range []struct{ o, r, name string }{{org, lobby, "lobby"}, {org, board, "Board"}, {org, board, "Board"}, {other, theirs, "Theirs"}} {
		db.MustExec(`INSERT INTO cdr_conferences (id, organisation_id, room_id, room_name, started_at) VALUES ($1, $2, $3, $4, $5)`,
			uuid(1), c.o, c.r, c.name, t0)
	}
	db.MustExec(`INSERT INTO cdr_conferences (id, organisation_id, room_name, started_at) VALUES ($1, $2, 'ad hoc', $3)`, uuid(1), org, t0)
	got, err := Rooms(context.Background(), db, org)
	want := []RoomRef{{board, "Board"}, {lobby, "lobby"}}
	if err != nil || len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("rooms %+v, %v; want %+v (by name, once each, only with records, only this organisation's)", got, err, want)
	}
}
