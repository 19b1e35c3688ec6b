package cdr

import (
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

type legRow struct {
	DisplayName  *string  `db:"display_name"`
	RemoteURI    *string  `db:"remote_uri"`
	RemoteIP     *string  `db:"remote_ip"`
	RemotePort   *int     `db:"remote_port"`
	UserAgent    *string  `db:"user_agent"`
	CallID       *string  `db:"call_id"`
	EndReason    *string  `db:"end_reason"`
	Duration     *string  `db:"duration"`
	AudioCodec   string   `db:"audio_codec"`
	VideoCodec   string   `db:"video_codec"`
	PacketsLost  int64    `db:"packets_lost"`
	JitterMaxMS  *float64 `db:"jitter_max_ms"`
	EndedAt      *time.Time
	AnonymisedAt *time.Time `db:"anonymised_at"`
}

func TestWriterStoresACall(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	org := newOrg(t, db, "Acme")
	w := openWriter(t, db, Config{})
	cs, ls, lq, le, ce := call(org, t0, "alice")
	submitCall(w, cs, ls, lq, le, ce)
	flush(t, w, "the call")

	var l legRow
	if err := db.Get(&l, `SELECT display_name, remote_uri, host(remote_ip) AS remote_ip, remote_port, user_agent, call_id,
		end_reason, duration::text, audio_codec, video_codec, packets_lost, jitter_max_ms, anonymised_at FROM cdr_legs WHERE id = $1`, ls.ID); err != nil {
		t.Fatal(err)
	}
	if *l.DisplayName != "alice" || *l.RemoteURI != "sip:alice@example.com" || *l.RemoteIP != "192.0.2.10" || *l.RemotePort != 5062 ||
		*l.UserAgent != "Cisco/CE 11.5" || *l.CallID != "abc@192.0.2.10" {
		t.Errorf("identity columns = %+v", l)
	}
	if *l.EndReason != "hung_up" || *l.Duration != "00:09:59" || l.AudioCodec != "PCMU/8000" || l.VideoCodec != "H264/90000" ||
		l.PacketsLost != 100 || *l.JitterMaxMS != 20 || l.AnonymisedAt != nil {
		t.Errorf("call columns = reason %v duration %v codecs %q %q lost %d jitter %v", *l.EndReason, *l.Duration, l.AudioCodec, l.VideoCodec, l.PacketsLost, *l.JitterMaxMS)
	}
	var peak int
	var ended time.Time
	if err := db.QueryRow(`SELECT peak_participants, ended_at FROM cdr_conferences WHERE id = $1`, cs.ID).Scan(&peak, &ended); err != nil {
		t.Fatal(err)
	}
	if peak != 1 || !ended.Equal(ce.EndedAt) {
		t.Errorf("conference peak %d ended %v, want 1 and %v", peak, ended, ce.EndedAt)
	}
	if s := w.Stats(); s.Stored != 5 || s.Rejected != 0 {
		t.Errorf("stats %+v, want 5 stored", s)
	}
}

func TestWriterReplaysAreNoOps(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	org := newOrg(t, db, "Acme")
	if _, err := db.Exec(`INSERT INTO cdr_sinks (organisation_id, name, url) VALUES ($1, 'siem', 'http://127.0.0.1:1/')`, org); err != nil {
		t.Fatal(err)
	}
	w := openWriter(t, db, Config{})
	cs, ls, lq, le, ce := call(org, t0, "alice")
	submitCall(w, cs, ls, lq, le, ce)
	flush(t, w, "the call")
	// The same events again, and a late quality report after the end.
	submitCall(w, cs, ls, lq, le, ce)
	lq.Quality.PacketsLost = 9999
	w.LegQuality(lq)
	flush(t, w, "the replay")

	if n := count(t, db, `SELECT count(*) FROM cdr_legs`); n != 1 {
		t.Errorf("%d legs, want 1", n)
	}
	if n := count(t, db, `SELECT packets_lost FROM cdr_legs`); n != 100 {
		t.Errorf("packets_lost %d after a late report, want the final 100", n)
	}
	if n := count(t, db, `SELECT count(*) FROM cdr_sink_queue`); n != 4 {
		t.Errorf("%d sink events queued, want 4 (conference and leg start and end, once each)", n)
	}
}

func TestWriterSetsBadEventsAside(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	org := newOrg(t, db, "Acme")
	w := openWriter(t, db, Config{})
	cs, ls, lq, le, ce := call(org, t0, "alice")
	orphan := ls
	orphan.ID, orphan.ConferenceID = uuid(9), uuid(9) // a leg of a conference never started
	w.ConferenceStarted(cs)
	w.LegStarted(orphan)
	w.Submit(Event{Kind: "nonsense"})
	w.LegStarted(ls)
	w.LegQuality(lq)
	w.LegEnded(le)
	w.ConferenceEnded(ce)
	flush(t, w, "the events")
	if s := w.Stats(); s.Rejected != 2 || s.Stored != 5 {
		t.Errorf("stats %+v, want 5 stored and 2 rejected", s)
	}
	if n := count(t, db, `SELECT count(*) FROM cdr_legs WHERE end_reason = 'hung_up'`); n != 1 {
		t.Errorf("%d ended legs, want 1", n)
	}
}

func TestWriterSpillsWhenTheQueueIsFull(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	org := newOrg(t, db, "Acme")
	w := openWriter(t, db, Config{QueueSize: 1, BatchSize: 7})
	const calls = 200
	for i := range calls {
		cs, ls, lq, le, ce := call(org, t0.Add(time.Duration(i)*time.Second), "alice")
		submitCall(w, cs, ls, lq, le, ce)
	}
	flush(t, w, "every call")
	if n := count(t, db, `SELECT count(*) FROM cdr_legs WHERE end_reason = 'hung_up' AND packets_lost = 100`); n != calls {
		t.Errorf("%d legs ended with their final quality, want %d", n, calls)
	}
	if s := w.Stats(); s.Spooled == 0 || s.Rejected != 0 {
		t.Errorf("stats %+v: want some spooled, none rejected", s)
	}
}
