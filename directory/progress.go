package directory

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// The phases of a running sync.
const (
	// PhaseReading: searching the LDAP server and mapping its entries.
	PhaseReading = "reading"
	// PhaseApplying: writing the changes in the run's transaction.
	PhaseApplying = "applying"
)

// Progress is how far a running sync is. The run's own transaction shows
// nothing until it commits, so a running sync writes its progress through
// another connection (table ldap_sync_progress) every progressEvery, and any
// process — the admin page, the API, the CLI — reads it with
// Store.Progress.
type Progress struct {
	SourceID string `json:"source_id" db:"source_id"`
	DryRun   bool   `json:"dry_run" db:"dry_run"`
	Phase    string `json:"phase" db:"phase"` // PhaseReading or PhaseApplying
	// Read is the entries the searches returned so far.
	Read int `json:"read" db:"read"`
	// ToApply is the additions, updates and removals the run makes (known
	// once reading is done); Applied is how many of them are written so far.
	ToApply   int       `json:"to_apply" db:"to_apply"`
	Applied   int       `json:"applied" db:"applied"`
	StartedAt time.Time `json:"started_at" db:"started_at"`
	ElapsedMS int64     `json:"elapsed_ms" db:"-"`
}

// Progress returns the progress of the source's running sync; ok is false
// when none is running. A row left by a process that died is not a running
// sync: only a run that still holds the source's advisory lock counts.
func (s *Store) Progress(ctx context.Context, orgID, sourceID string) (p Progress, ok bool, err error) {
	err = s.db.GetContext(ctx, &p, `
		SELECT p.source_id, p.dry_run, p.phase, p.read, p.to_apply, p.applied, p.started_at
		FROM ldap_sync_progress p
		WHERE p.organisation_id = $1 AND p.source_id = $2
		AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid = $3::int4::oid AND l.objid = hashtext(p.source_id::text)::oid AND l.objsubid = 2)`,
		orgID, sourceID, advisoryClass)
	if isNoRows(err) {
		return Progress{}, false, nil
	}
	if err != nil {
		return Progress{}, false, notFound(err, "sync progress")
	}
	p.ElapsedMS = max(s.now().Sub(p.StartedAt).Milliseconds(), 0)
	return p, true, nil
}

// progressEvery is how often a running sync writes its progress at most.
const progressEvery = 250 * time.Millisecond

// progressWriter writes one run's progress. Writing is best effort: a failed
// write is logged and the run goes on.
type progressWriter struct {
	store *Store
	org   string
	every time.Duration
	log   *slog.Logger

	mu      sync.Mutex
	p       Progress
	written time.Time
}

func newProgressWriter(s *Store, org, sourceID string, dryRun bool, started time.Time, every time.Duration, log *slog.Logger) *progressWriter {
	return &progressWriter{store: s, org: org, every: every, log: log,
		p: Progress{SourceID: sourceID, DryRun: dryRun, Phase: PhaseReading, StartedAt: started}}
}

// update changes the progress with fn and writes it when progressEvery has
// passed since the last write, or at once with force (a new phase).
func (w *progressWriter) update(ctx context.Context, force bool, fn func(*Progress)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fn(&w.p)
	if !force && time.Since(w.written) < w.every {
		return
	}
	w.written = time.Now()
	_, err := w.store.db.ExecContext(ctx, `
		INSERT INTO ldap_sync_progress (source_id, organisation_id, dry_run, phase, read, to_apply, applied, started_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
		ON CONFLICT (source_id) DO UPDATE SET dry_run = excluded.dry_run, phase = excluded.phase, read = excluded.read,
			to_apply = excluded.to_apply, applied = excluded.applied, started_at = excluded.started_at, updated_at = now()`,
		w.p.SourceID, w.org, w.p.DryRun, w.p.Phase, w.p.Read, w.p.ToApply, w.p.Applied, w.p.StartedAt)
	if err != nil && ctx.Err() == nil {
		w.log.Warn("ldap sync: writing progress failed", "err", err)
	}
}

// done removes the run's progress (with a fresh context: the run's may be
// cancelled).
func (w *progressWriter) done(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := w.store.db.ExecContext(ctx, `DELETE FROM ldap_sync_progress WHERE source_id = $1`, w.p.SourceID); err != nil {
		w.log.Warn("ldap sync: removing progress failed", "err", err)
	}
}
