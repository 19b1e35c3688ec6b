package cdr

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// Jobs runs the daily privacy work: anonymisation of usage data older than
// each organisation's retention and, when InactiveAdminsAfter is set, deletion
// of admin accounts unused that long.
type Jobs struct {
	DB        *sqlx.DB
	Retention *Retention
	// InactiveAdminsAfter deletes admin and viewer accounts with no login for
	// this long; 0 turns it off. The DPA's figure is 12 months.
	InactiveAdminsAfter time.Duration
	// Interval between runs; default 24h. The first run is at Start.
	Interval time.Duration
	Now      func() time.Time
	Logger   *slog.Logger

	stop      chan struct{}
	done      chan struct{}
	startOnce sync.Once
	stopOnce  sync.Once
}

// RunOnce runs every job once, as the system actor, and logs the outcome.
func (j *Jobs) RunOnce(ctx context.Context) error {
	now := time.Now
	if j.Now != nil {
		now = j.Now
	}
	log := j.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx = audit.WithActor(ctx, audit.Actor{Kind: audit.ActorSystem, Name: "cdr daily job"})
	at := now()
	if j.Retention != nil {
		rep, err := j.Retention.Run(ctx, at, false)
		if err != nil {
			log.Error("cdr: anonymisation", "err", err)
			return err
		}
		log.Info("cdr: anonymisation done", "legs", rep.Totals["legs"], "conferences", rep.Totals["conferences"])
	}
	if j.InactiveAdminsAfter > 0 {
		n, err := DeleteInactiveAdmins(ctx, j.DB, at, j.InactiveAdminsAfter)
		if err != nil {
			log.Error("cdr: inactive admins", "err", err)
			return err
		}
		if n > 0 {
			log.Info("cdr: deleted inactive admin accounts", "users", n)
		}
	}
	return nil
}

// Start runs the jobs now and then every Interval until Close.
func (j *Jobs) Start() {
	j.startOnce.Do(func() {
		interval := j.Interval
		if interval <= 0 {
			interval = 24 * time.Hour
		}
		j.stop, j.done = make(chan struct{}), make(chan struct{})
		go func() {
			defer close(j.done)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				select {
				case <-j.stop:
					cancel()
				case <-ctx.Done():
				}
			}()
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				_ = j.RunOnce(ctx)
				select {
				case <-j.stop:
					return
				case <-t.C:
				}
			}
		}()
	})
}

// Close stops the jobs, cancelling a run in progress, and waits. It is
// idempotent.
func (j *Jobs) Close() error {
	j.stopOnce.Do(func() {
		if j.stop != nil {
			close(j.stop)
		}
	})
	if j.done != nil {
		<-j.done
	}
	return nil
}
