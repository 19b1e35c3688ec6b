package cdr

import (
	"context"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// BenchmarkDailyStats computes 90 days of statistics over 100 000 legs (one
// every 77 s, ten minutes each, so about eight overlap) and reports the time
// next to a bare per-day count and sum of the same rows in the same run
// (ref-ns/op), and their ratio: the peak-concurrency sweep is the extra cost.
func BenchmarkDailyStats(b *testing.B) {
	db := pgtest.New(b)
	org := newOrg(b, db, "Acme")
	conf := uuid(1)
	from := t0.Add(-90 * day).Truncate(day)
	db.MustExec(`INSERT INTO cdr_conferences (id, organisation_id, room_name, started_at) VALUES ($1, $2, 'Main', $3)`, conf, org, from)
	db.MustExec(`
		INSERT INTO cdr_legs (id, conference_id, organisation_id, direction, protocol, started_at, ended_at, duration, packets_received, packets_lost)
		SELECT gen_random_uuid(), $1, $2, 'in', 'sip', $3::timestamptz + i * interval '77 seconds',
			$3::timestamptz + i * interval '77 seconds' + interval '10 minutes', interval '10 minutes', 1000, i % 50
		FROM generate_series(0, 99999) AS i`, conf, org, from)
	db.MustExec(`VACUUM ANALYZE cdr_legs`)
	ctx := context.Background()
	to := from.Add(90 * day)
	var ref, stats time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		var rows []struct {
			Day     time.Time `db:"day"`
			Calls   int       `db:"calls"`
			Minutes float64   `db:"minutes"`
		}
		if err := db.SelectContext(ctx, &rows, `SELECT date_trunc('day', started_at) AS day, count(*) AS calls,
				sum(extract(epoch FROM duration))::float8 / 60 AS minutes
			FROM cdr_legs WHERE organisation_id = $1 AND started_at >= $2 AND started_at < $3 GROUP BY 1`, org, from, to); err != nil {
			b.Fatal(err)
		}
		ref += time.Since(start)
		start = time.Now()
		s, err := DailyStats(ctx, db, org, from, to)
		stats += time.Since(start)
		if err != nil || len(s) != 90 || s[10].PeakConcurrent < 7 {
			b.Fatalf("%d days, %v (day 10: %+v)", len(s), err, s[min(10, len(s)-1)])
		}
	}
	b.ReportMetric(float64(ref.Nanoseconds())/float64(b.N), "ref-ns/op")
	b.ReportMetric(float64(stats)/float64(ref), "ratio")
}
