package cdr

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// Anonymiser clears one more kind of usage data of an organisation once it is
// older than the organisation's retention: the directory's phonebook request log
// plugs in here. Run changes (or, with dryRun, counts) the rows of orgID older
// than cutoff, idempotently and safely alongside another run, and returns how
// many it changed.
type Anonymiser struct {
	Name string // a word for reports and the audit summary, e.g. "phonebook_requests"
	Run  func(ctx context.Context, db *sqlx.DB, orgID string, cutoff time.Time, dryRun bool) (int64, error)
}

// Retention anonymises call records (and, through Extra, other usage data)
// older than each organisation's usage_retention.
type Retention struct {
	DB *sqlx.DB
	// BatchSize is how many rows one transaction anonymises. Default 20000.
	BatchSize int
	// Extra are the anonymisers of other packages' usage data.
	Extra []Anonymiser
	// Now is the clock (anonymised_at). Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// RetentionReport says what one run changed (or would change) per organisation.
type RetentionReport struct {
	AsOf          time.Time        `json:"as_of"`
	DryRun        bool             `json:"dry_run"`
	Organisations []OrgRetention   `json:"organisations"`
	Totals        map[string]int64 `json:"totals"`
}

// OrgRetention is one organisation's part of a RetentionReport.
type OrgRetention struct {
	OrganisationID string           `json:"organisation_id"`
	Cutoff         time.Time        `json:"cutoff"`
	Counts         map[string]int64 `json:"counts"`
}

// identifyingColumns are the cdr_legs columns that identify a participant;
// anonymisation sets them to NULL. Everything else (times, duration, codecs,
// quality, protocol, room) stays.
var identifyingColumns = []string{"display_name", "remote_uri", "remote_ip", "remote_port", "user_agent", "call_id"}

// Run anonymises, for every organisation, the legs that started at or before
// asOf minus the organisation's usage_retention, marks its conferences of that
// age anonymised, and drops sink events queued that long ago; then runs Extra.
// It records one audit entry per organisation that had anything to change.
// With dryRun it only counts.
func (r *Retention) Run(ctx context.Context, asOf time.Time, dryRun bool) (RetentionReport, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	batch := r.BatchSize
	if batch <= 0 {
		batch = 20000
	}
	rep := RetentionReport{AsOf: asOf, DryRun: dryRun, Totals: map[string]int64{}}
	var orgs []struct {
		ID     string    `db:"id"`
		Cutoff time.Time `db:"cutoff"`
	}
	if err := r.DB.SelectContext(ctx, &orgs, `SELECT id, $1::timestamptz - usage_retention AS cutoff FROM organisations ORDER BY id`, asOf); err != nil {
		return rep, fmt.Errorf("cdr: retention: organisations: %w", err)
	}
	for _, o := range orgs {
		counts := map[string]int64{}
		var err error
		if dryRun {
			counts["legs"], err = r.count(ctx, `SELECT count(*) FROM cdr_legs WHERE organisation_id = $1 AND anonymised_at IS NULL AND started_at <= $2`, o.ID, o.Cutoff)
			if err == nil {
				counts["conferences"], err = r.count(ctx, `SELECT count(*) FROM cdr_conferences WHERE organisation_id = $1 AND anonymised_at IS NULL AND started_at <= $2`, o.ID, o.Cutoff)
			}
			if err == nil {
				counts["sink_events"], err = r.count(ctx, `SELECT count(*) FROM cdr_sink_queue q JOIN cdr_sinks s ON s.id = q.sink_id WHERE s.organisation_id = $1 AND q.created_at <= $2`, o.ID, o.Cutoff)
			}
		} else {
			counts["legs"], err = r.batches(ctx, batch, `
				UPDATE cdr_legs SET display_name = NULL, remote_uri = NULL, remote_ip = NULL, remote_port = NULL,
					user_agent = NULL, call_id = NULL, anonymised_at = $4
				WHERE ctid = ANY(ARRAY(
					SELECT ctid FROM cdr_legs
					WHERE organisation_id = $1 AND anonymised_at IS NULL AND started_at <= $2
					LIMIT $3 FOR UPDATE SKIP LOCKED))`, o.ID, o.Cutoff, batch, now())
			if err == nil {
				counts["conferences"], err = r.batches(ctx, batch, `
					WITH b AS (
						SELECT id FROM cdr_conferences
						WHERE organisation_id = $1 AND anonymised_at IS NULL AND started_at <= $2
						LIMIT $3 FOR UPDATE SKIP LOCKED
					)
					UPDATE cdr_conferences c SET anonymised_at = $4 FROM b WHERE c.id = b.id`, o.ID, o.Cutoff, batch, now())
			}
			if err == nil {
				counts["sink_events"], err = r.batches(ctx, batch, `
					WITH b AS (
						SELECT q.sink_id, q.seq FROM cdr_sink_queue q JOIN cdr_sinks s ON s.id = q.sink_id
						WHERE s.organisation_id = $1 AND q.created_at <= $2
						LIMIT $3 FOR UPDATE OF q SKIP LOCKED
					)
					DELETE FROM cdr_sink_queue q USING b WHERE q.sink_id = b.sink_id AND q.seq = b.seq`,
					o.ID, o.Cutoff, batch)
			}
		}
		for _, a := range r.Extra {
			if err != nil {
				break
			}
			counts[a.Name], err = a.Run(ctx, r.DB, o.ID, o.Cutoff, dryRun)
		}
		if err != nil {
			return rep, fmt.Errorf("cdr: retention of organisation %s: %w", o.ID, err)
		}
		var total int64
		for k, n := range counts {
			rep.Totals[k] += n
			total += n
		}
		rep.Organisations = append(rep.Organisations, OrgRetention{OrganisationID: o.ID, Cutoff: o.Cutoff, Counts: counts})
		if total == 0 || dryRun {
			continue
		}
		summary := map[string]any{"as_of": asOf, "cutoff": o.Cutoff}
		for k, n := range counts {
			summary[k] = n
		}
		if err := audit.Record(ctx, r.DB, audit.Entry{OrganisationID: o.ID, Action: "cdr.anonymise", ObjectType: "organisation", ObjectID: o.ID, Summary: summary}); err != nil {
			return rep, err
		}
		if r.Logger != nil {
			r.Logger.Info("cdr: anonymised usage data", "organisation_id", o.ID, "cutoff", o.Cutoff, "legs", counts["legs"])
		}
	}
	return rep, nil
}

func (r *Retention) count(ctx context.Context, query string, args ...any) (int64, error) {
	var n int64
	err := r.DB.GetContext(ctx, &n, query, args...)
	return n, err
}

// batches runs a statement that changes at most batch rows until it changes
// none, each run its own transaction so locks stay short, and returns the sum.
func (r *Retention) batches(ctx context.Context, batch int, query string, args ...any) (int64, error) {
	var total int64
	for {
		res, err := r.DB.ExecContext(ctx, query, args...)
		if err != nil {
			return total, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, err
		}
		total += n
		if n < int64(batch) {
			return total, nil
		}
	}
}
