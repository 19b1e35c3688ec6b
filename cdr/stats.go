package cdr

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
	// The IANA zones organisations choose, built in: a host without a tz
	// database (a slim container) still knows them.
	_ "time/tzdata"

	"github.com/jmoiron/sqlx"
)

// LossThresholdPercent is the packet loss above which a leg counts as lossy in
// the daily statistics (the admin's "share of legs with loss > 2 %").
const LossThresholdPercent = 2.0

// DayStats is one day of an organisation's usage, a day of its time zone.
type DayStats struct {
	Day time.Time `db:"day" json:"day"` // midnight in the organisation's time zone
	// Calls is the number of legs (participants' calls) started that day.
	Calls int `db:"calls" json:"calls"`
	// Minutes is the connected time of the legs started that day.
	Minutes float64 `db:"minutes" json:"minutes"`
	// PeakConcurrent is the most legs of the organisation open at one instant
	// of the day, counting legs that started on an earlier day.
	PeakConcurrent int `db:"peak_concurrent" json:"peak_concurrent"`
	// LossyLegs is how many of the day's legs lost more than
	// LossThresholdPercent of their packets.
	LossyLegs int `db:"lossy_legs" json:"lossy_legs"`
}

// LossyShare is the percentage of the day's legs that were lossy (0 without legs).
func (d DayStats) LossyShare() float64 {
	if d.Calls == 0 {
		return 0
	}
	return 100 * float64(d.LossyLegs) / float64(d.Calls)
}

// maxStatsDays bounds a statistics query (a year and a bit).
const maxStatsDays = 400

// DailyStats returns one DayStats per day of org from the day of from up to
// to (exclusive; a day that to falls inside counts whole). Days are those of
// the organisation's time zone (organisations.time_zone), so a day may have 23
// or 25 hours. A day with no calls has zeros. A leg still open counts as open
// until to.
func DailyStats(ctx context.Context, db sqlx.QueryerContext, org string, from, to time.Time) ([]DayStats, error) {
	if org == "" {
		return nil, errors.New("cdr: statistics without an organisation")
	}
	loc, err := Location(ctx, db, org)
	if err != nil {
		return nil, err
	}
	from = midnight(from.In(loc))
	if t := midnight(to.In(loc)); t.Equal(to) {
		to = t
	} else {
		to = t.AddDate(0, 0, 1) // the day holding to counts whole
	}
	if !to.After(from) {
		return nil, errors.New("cdr: statistics need from before to")
	}
	if to.Sub(from) > maxStatsDays*24*time.Hour {
		return nil, fmt.Errorf("cdr: statistics over more than %d days", maxStatsDays)
	}
	// Peak concurrency is a sweep: +1 at each leg's start, -1 at its end,
	// and a 0 marker at each midnight so a day inherits the legs still open
	// from the day before. Ends sort before starts at the same instant, so
	// back-to-back calls do not overlap.
	stats := []DayStats{}
	err = sqlx.SelectContext(ctx, db, &stats, dailyStatsSQL, org, from, to, LossThresholdPercent, loc.String())
	if err != nil {
		return nil, fmt.Errorf("cdr: daily statistics: %w", err)
	}
	for i := range stats {
		stats[i].Day = stats[i].Day.In(loc)
	}
	return stats, nil
}

// midnight is the start of t's day in t's location.
func midnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// Location returns org's time zone (organisations.time_zone): the days of
// its statistics and the times its admins read. A name this Go's tz database
// lacks is UTC.
func Location(ctx context.Context, db sqlx.QueryerContext, org string) (*time.Location, error) {
	var name string
	if err := sqlx.GetContext(ctx, db, &name, `SELECT time_zone FROM organisations WHERE id = $1::uuid`, org); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("cdr: time zone of the organisation: %w", err)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC, nil
	}
	return loc, nil
}

// RoomRef is a room that has call records, for a filter's choice list.
type RoomRef struct {
	ID   string `db:"id" json:"id"`
	Name string `db:"name" json:"name"`
}

// Rooms returns the rooms of org that have conference records, by name.
func Rooms(ctx context.Context, db sqlx.QueryerContext, org string) ([]RoomRef, error) {
	rooms := []RoomRef{}
	err := sqlx.SelectContext(ctx, db, &rooms, `
		SELECT DISTINCT ON (lower(room_name), room_id) room_id::text AS id, room_name AS name
		FROM cdr_conferences WHERE organisation_id = $1::uuid AND room_id IS NOT NULL
		ORDER BY lower(room_name), room_id`, org)
	if err != nil {
		return nil, fmt.Errorf("cdr: rooms: %w", err)
	}
	return rooms, nil
}

// dailyStatsSQL is DailyStats' query: $1 organisation, $2 from, $3 to (both
// midnight in the zone), $4 the loss threshold in percent, $5 the time zone.
// Days step by calendar day in the zone (d AT TIME ZONE $5), not by 24 hours.
var dailyStatsSQL = `
		WITH days AS (
			SELECT d AT TIME ZONE $5 AS day
			FROM generate_series(($2::timestamptz AT TIME ZONE $5), ($3::timestamptz AT TIME ZONE $5) - interval '1 day', interval '1 day') AS d
		), legs AS (
			SELECT l.started_at, coalesce(l.ended_at, $3::timestamptz) AS ended_at, l.duration,
				(` + lossExpr + `) > $4 AS lossy
			FROM cdr_legs l
			WHERE l.organisation_id = $1::uuid AND l.started_at < $3 AND (l.ended_at IS NULL OR l.ended_at > $2)
		), ev AS (
			SELECT greatest(started_at, $2::timestamptz) AS t, 1 AS d FROM legs
			UNION ALL SELECT ended_at, -1 FROM legs WHERE ended_at < $3
			UNION ALL SELECT day, 0 FROM days
		), run AS (
			SELECT t, sum(d) OVER (ORDER BY t, d ROWS UNBOUNDED PRECEDING) AS open FROM ev
		), peak AS (
			SELECT date_trunc('day', t AT TIME ZONE $5) AT TIME ZONE $5 AS day, max(open) AS peak
			FROM run WHERE t >= $2 AND t < $3 GROUP BY 1
		), daily AS (
			SELECT date_trunc('day', started_at AT TIME ZONE $5) AT TIME ZONE $5 AS day, count(*) AS calls,
				coalesce(sum(extract(epoch FROM duration)), 0) / 60 AS minutes, count(*) FILTER (WHERE lossy) AS lossy
			FROM legs WHERE started_at >= $2 GROUP BY 1
		)
		SELECT days.day, coalesce(daily.calls, 0) AS calls, coalesce(daily.minutes, 0)::float8 AS minutes,
			coalesce(peak.peak, 0) AS peak_concurrent, coalesce(daily.lossy, 0) AS lossy_legs
		FROM days LEFT JOIN daily USING (day) LEFT JOIN peak USING (day)
		ORDER BY days.day`
