package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// Scheduler runs every enabled source whose interval has passed since its last
// (non-dry) run. Several bridge nodes may each run one: the advisory lock of
// a run makes the others skip that source.
type Scheduler struct {
	syncer *Syncer
	now    func() time.Time
	poll   time.Duration
	log    *slog.Logger

	once   sync.Once
	cancel context.CancelFunc
	done   chan struct{}
}

// NewScheduler returns a scheduler that looks for due sources every poll
// interval (a minute if 0), with the syncer's store clock.
func NewScheduler(syncer *Syncer, poll time.Duration, log *slog.Logger) *Scheduler {
	if poll <= 0 {
		poll = time.Minute
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{syncer: syncer, now: syncer.store.now, poll: poll, log: log}
}

// Start runs the scheduler in the background until Close.
func (sc *Scheduler) Start(ctx context.Context) {
	ctx, sc.cancel = context.WithCancel(ctx)
	sc.done = make(chan struct{})
	go func() {
		defer close(sc.done)
		t := time.NewTicker(sc.poll)
		defer t.Stop()
		for {
			if _, err := sc.RunDue(ctx); err != nil && ctx.Err() == nil {
				sc.log.Error("ldap scheduler", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Close stops the scheduler and waits for a running sync to end. It is
// idempotent.
func (sc *Scheduler) Close() error {
	sc.once.Do(func() {
		if sc.cancel != nil {
			sc.cancel()
			<-sc.done
		}
	})
	return nil
}

// RunDue runs, one after another, every source that is due at the clock's
// now, and returns their reports. A source another process is syncing is
// skipped.
func (sc *Scheduler) RunDue(ctx context.Context) ([]Report, error) {
	var due []struct {
		ID  string `db:"id"`
		Org string `db:"organisation_id"`
	}
	err := sc.syncer.store.db.SelectContext(ctx, &due, `
		SELECT s.id, s.organisation_id FROM ldap_sources s
		WHERE s.enabled AND s.sync_interval IS NOT NULL
		AND coalesce((SELECT max(r.started_at) FROM ldap_sync_runs r WHERE r.source_id = s.id AND NOT r.dry_run), '-infinity') + s.sync_interval <= $1
		ORDER BY s.organisation_id, s.name`, sc.now())
	if err != nil {
		return nil, fmt.Errorf("directory: due sources: %w", err)
	}
	ctx = audit.WithActor(ctx, audit.Actor{Kind: audit.ActorSystem, Name: "ldap-sync"})
	var reps []Report
	for _, d := range due {
		if ctx.Err() != nil {
			return reps, ctx.Err()
		}
		rep, err := sc.syncer.Run(ctx, d.Org, d.ID, SyncOptions{})
		if errors.Is(err, ErrSyncRunning) {
			continue
		}
		reps = append(reps, rep) // a failed or guarded run is in its report
	}
	return reps, nil
}
