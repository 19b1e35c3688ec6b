package cdr

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// benchLegs is how many legs BenchmarkAnonymise works on: 1 000 000, or
// BIFROST_BENCH_LEGS.
func benchLegs() int {
	if n, err := strconv.Atoi(os.Getenv("BIFROST_BENCH_LEGS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// BenchmarkAnonymise anonymises a million legs (generated with generate_series)
// and reports the time next to a bare UPDATE … SET col = NULL of the same rows
// on the same freshly vacuumed table in the same run (rolled back), and their
// ratio. The aim is a ratio of at most 1.5.
func BenchmarkAnonymise(b *testing.B) {
	db := pgtest.New(b)
	org := newOrg(b, db, "Acme")
	n := benchLegs()
	seedLegs(b, db, org, n, t0.Add(-100*day))
	ctx := context.Background()
	vacuum := func() {
		if _, err := db.Exec(`VACUUM ANALYZE cdr_legs`); err != nil {
			b.Fatal(err)
		}
	}
	var bare, anon time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if _, err := db.Exec(`UPDATE cdr_legs SET display_name = 'Person', remote_uri = 'sip:p@example.com', remote_ip = '192.0.2.1',
			remote_port = 5060, user_agent = 'Cisco/CE', call_id = 'call', anonymised_at = NULL WHERE anonymised_at IS NOT NULL`); err != nil {
			b.Fatal(err)
		}
		vacuum()
		tx := db.MustBegin()
		start := time.Now()
		if _, err := tx.Exec(`UPDATE cdr_legs SET display_name = NULL, remote_uri = NULL, remote_ip = NULL, remote_port = NULL,
			user_agent = NULL, call_id = NULL, anonymised_at = now() WHERE organisation_id = $1`, org); err != nil {
			b.Fatal(err)
		}
		bare += time.Since(start)
		_ = tx.Rollback()
		vacuum()
		b.StartTimer()

		start = time.Now()
		rep, err := (&Retention{DB: db}).Run(ctx, t0, false)
		anon += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if rep.Totals["legs"] != int64(n) {
			b.Fatalf("anonymised %d legs, want %d", rep.Totals["legs"], n)
		}
	}
	b.ReportMetric(anon.Seconds()/float64(b.N), "anonymise_s")
	b.ReportMetric(bare.Seconds()/float64(b.N), "bare_update_s")
	b.ReportMetric(anon.Seconds()/bare.Seconds(), "ratio")
	b.ReportMetric(float64(n), "legs")
}

// BenchmarkWriterThroughput stores whole calls (five events each) through the
// writer and reports events per second next to a reference: the same number of
// bare single-row INSERTs into cdr_legs in one transaction, in the same run.
func BenchmarkWriterThroughput(b *testing.B) {
	db := pgtest.New(b)
	org := newOrg(b, db, "Acme")
	w := openWriter(b, db, Config{})
	const calls = 2000
	type ev struct {
		cs ConferenceStart
		ls LegStart
		lq LegQuality
		le LegEnd
		ce ConferenceEnd
	}
	var total, ref time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		evs := make([]ev, calls)
		for i := range evs {
			evs[i].cs, evs[i].ls, evs[i].lq, evs[i].le, evs[i].ce = call(org, t0, "alice")
		}
		// Reference: one INSERT per leg, one transaction.
		conf := uuid(7)
		if _, err := db.Exec(`INSERT INTO cdr_conferences (id, organisation_id, started_at) VALUES ($1, $2, $3)`, conf, org, t0); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		tx := db.MustBegin()
		for range calls * 5 {
			if _, err := tx.Exec(`INSERT INTO cdr_legs (id, conference_id, organisation_id, direction, protocol, display_name, started_at)
				VALUES (gen_random_uuid(), $1, $2, 'in', 'sip', 'x', $3)`, conf, org, t0); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		ref += time.Since(start)
		b.StartTimer()

		start = time.Now()
		for _, e := range evs {
			submitCall(w, e.cs, e.ls, e.lq, e.le, e.ce)
		}
		flush(b, w, "the calls")
		total += time.Since(start)
	}
	events := float64(b.N * calls * 5)
	b.ReportMetric(events/total.Seconds(), "events/s")
	b.ReportMetric(events/ref.Seconds(), "ref_inserts/s")
}

// BenchmarkSubmit measures what the bridge pays per event: Submit into the
// queue, with the writer draining it; once the queue is full (the writer stores
// far fewer events per second than Submit takes) the events go to the spool
// file, and spooled/op says which share did.
func BenchmarkSubmit(b *testing.B) {
	db := pgtest.New(b)
	org := newOrg(b, db, "Acme")
	w := openWriter(b, db, Config{QueueSize: 1 << 16})
	_, _, lq, _, _ := call(org, t0, "alice")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		w.LegQuality(lq)
	}
	b.StopTimer()
	b.ReportMetric(float64(w.Stats().Spooled)/float64(b.N), "spooled/op")
}
