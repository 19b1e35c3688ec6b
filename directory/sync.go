package directory

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/jmoiron/sqlx"
)

// Report is what a sync run did, or in a dry run would do. It is stored in
// ldap_sync_runs and printed by `bifrost ldap sync`.
type Report struct {
	RunID      int64     `json:"run_id"`
	SourceID   string    `json:"source_id"`
	Source     string    `json:"source"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	DurationMS int64     `json:"duration_ms"`
	DryRun     bool      `json:"dry_run"`
	Status     string    `json:"status"` // ok, failed, guarded
	Read       int       `json:"read"`   // entries the searches returned
	Added      int       `json:"added"`
	Updated    int       `json:"updated"`
	Moved      int       `json:"moved"`
	Removed    int       `json:"removed"`
	Skipped    int       `json:"skipped"` // read but not published (no name, key or callable address)
	Unchanged  int       `json:"unchanged"`
	Warnings   []string  `json:"warnings"`
	Error      string    `json:"error,omitempty"`
	// Where the time went: reading and mapping LDAP, applying in PostgreSQL.
	ReadMS  int64 `json:"read_ms"`
	ApplyMS int64 `json:"apply_ms"`
}

// The statuses of a run.
const (
	RunOK      = "ok"
	RunFailed  = "failed"
	RunGuarded = "guarded"
)

// SyncOptions change one run.
type SyncOptions struct {
	// DryRun computes the report and changes nothing in the directory.
	DryRun bool
	// Confirm lets this run pass the deletion guard.
	Confirm bool
}

// Syncer runs LDAP syncs. Runs of one source never overlap, whichever process
// starts them: each holds a PostgreSQL advisory lock for its source.
type Syncer struct {
	store   *Store
	key     []byte
	log     *slog.Logger
	timeout time.Duration
	// afterPage, when set (tests), runs after each LDAP page is handled.
	afterPage func(page int)
	// beforeCommit, when set (tests), runs when an applied run has written
	// everything and is about to commit.
	beforeCommit func()
	// readWorkers overrides readWorkers (benchmarks).
	readWorkers int
	// batchSize overrides applyBatch (tests).
	batchSize int
	// afterBatch, when set (tests), runs after the pipeline wrote a batch.
	afterBatch func(batch int)
	// progressEvery is how often a run writes its progress at most.
	progressEvery time.Duration
	// rebuildHintsAfter is how many removed, updated or moved entries make
	// an applied run rebuild its organisation's search start bounds
	// (Store.RebuildSearchHints) once it has committed: deletes and
	// renames only ever loosen them.
	rebuildHintsAfter int
}

// rebuildHintsAfter is Syncer.rebuildHintsAfter's default.
const rebuildHintsAfter = 500

// NewSyncer returns a syncer that decrypts bind passwords with key.
func NewSyncer(store *Store, key []byte, log *slog.Logger) *Syncer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Syncer{store: store, key: key, log: log, timeout: 2 * time.Minute, progressEvery: progressEvery,
		rebuildHintsAfter: rebuildHintsAfter}
}

// advisoryClass namespaces the sync's advisory locks ("LDAP").
const advisoryClass = 0x4c444150

// advisoryOrgClass namespaces the lock an applied run holds for its
// organisation while its transaction lasts ("LDAO").
const advisoryOrgClass = 0x4c44414f

// Run syncs one source and returns its report. A run that fails — bind
// refused, server down mid-search, timeout, size limit — changes nothing; a
// run the deletion guard stops changes nothing and returns ErrGuarded. Both
// are recorded with their report.
func (y *Syncer) Run(ctx context.Context, orgID, sourceID string, opts SyncOptions) (Report, error) {
	s := y.store
	src, err := s.Source(ctx, orgID, sourceID)
	if err != nil {
		return Report{}, err
	}
	rep := Report{SourceID: src.ID, Source: src.Name, StartedAt: s.now(), DryRun: opts.DryRun, Warnings: []string{}}
	log := y.log.With("org_id", orgID, "ldap_source", src.Name, "dry_run", opts.DryRun)

	conn, err := s.db.Connx(ctx)
	if err != nil {
		return rep, fmt.Errorf("directory: sync: %w", err)
	}
	defer conn.Close()
	var locked bool
	if err := conn.GetContext(ctx, &locked, `SELECT pg_try_advisory_lock($1, hashtext($2))`, advisoryClass, src.ID); err != nil {
		return rep, fmt.Errorf("directory: sync lock: %w", err)
	}
	if !locked {
		return rep, ErrSyncRunning
	}
	defer unlock(conn, src.ID)
	pw := newProgressWriter(s, orgID, src.ID, opts.DryRun, rep.StartedAt, y.progressEvery, log)
	pw.update(ctx, true, func(*Progress) {})
	defer pw.done(ctx)

	runErr := y.run(ctx, conn, src, opts, &rep, pw)
	rep.FinishedAt = s.now()
	rep.DurationMS = rep.FinishedAt.Sub(rep.StartedAt).Milliseconds()
	switch {
	case runErr == nil:
		rep.Status = RunOK
	case errors.Is(runErr, ErrGuarded):
		rep.Status = RunGuarded
		rep.Error = runErr.Error()
	default:
		rep.Status = RunFailed
		rep.Error = runErr.Error()
		rep.Added, rep.Updated, rep.Moved, rep.Removed, rep.Unchanged = 0, 0, 0, 0, 0
	}
	if runErr != nil || opts.DryRun {
		// An applied run records its report in its own transaction; these
		// record it alone (with a fresh context: the caller's may be cancelled).
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := recordRun(rctx, conn, orgID, &rep); err != nil {
			log.Error("ldap sync: recording the run failed", "err", err)
		}
	}
	if runErr == nil && !opts.DryRun && rep.Removed+rep.Updated+rep.Moved >= y.rebuildHintsAfter {
		// After the commit, in its own transaction; a failure costs search
		// speed, not results, so the run still counts as done.
		if err := s.RebuildSearchHints(context.WithoutCancel(ctx), orgID); err != nil {
			log.Error("ldap sync: rebuilding the search start bounds failed", "err", err)
		}
	} else if runErr == nil && !opts.DryRun && rep.Added >= y.rebuildHintsAfter {
		// Additions keep the start bounds exact (their trigger only lowers
		// them), but they change which trigrams are common and leave the
		// trigram index's pending list long (RefreshSearchTrigrams).
		if err := s.RefreshSearchTrigrams(context.WithoutCancel(ctx), orgID); err != nil {
			log.Error("ldap sync: refreshing the common search trigrams failed", "err", err)
		}
	}
	log.Info("ldap sync", "status", rep.Status, "read", rep.Read, "added", rep.Added, "updated", rep.Updated,
		"moved", rep.Moved, "removed", rep.Removed, "skipped", rep.Skipped, "warnings", len(rep.Warnings), "err", rep.Error)
	return rep, runErr
}

func unlock(conn *sqlx.Conn, sourceID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, advisoryClass, sourceID); err != nil {
		// A connection that may still hold the lock must not go back to the pool.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// storedEntry is an entry of the source as the directory holds it.
type storedEntry struct {
	Entry
	path string
}

func (y *Syncer) run(ctx context.Context, conn *sqlx.Conn, src Source, opts SyncOptions, rep *Report, pw *progressWriter) error {
	password := ""
	if src.HasPassword {
		var sealed []byte
		if err := conn.GetContext(ctx, &sealed, `SELECT bind_password_enc FROM ldap_sources WHERE id = $1`, src.ID); err != nil {
			return fmt.Errorf("directory: bind password: %w", err)
		}
		var err error
		if password, err = openSecret(y.key, sealed, secretAAD(src.ID)); err != nil {
			return err
		}
	}
	var w, dw warnings // the mapping's warnings, then the diff's
	mp, err := newMapper(src, &w)
	if err != nil {
		return err
	}
	defer func() { rep.Warnings = append(w.list(), dw.list()...) }()

	// What the source synced last time. An applied run reads it in its
	// transaction, which holds everything it writes until it commits: a run
	// that cannot read everything, or that the deletion guard stops, rolls
	// back and changes nothing.
	var q sqlx.QueryerContext = conn
	var tx *sqlx.Tx
	if !opts.DryRun {
		if tx, err = conn.BeginTxx(ctx, nil); err != nil {
			return fmt.Errorf("directory: sync begin: %w", err)
		}
		defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
		q = tx
		// Applied runs of one organisation's sources take turns: the
		// transaction spans the LDAP read and keeps the organisation's
		// search-hint rows locked, so two at once could deadlock.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, advisoryOrgClass, src.OrganisationID); err != nil {
			return fmt.Errorf("directory: sync organisation lock: %w", err)
		}
	}
	applyStart := time.Now()
	stored, folders, err := loadSourceState(ctx, q, src)
	if err != nil {
		return err
	}
	d := newDiffer(src, stored, &dw, rep)
	var bw *batchWriter
	if tx != nil {
		bw = &batchWriter{tx: tx, src: src, folders: folders, now: y.store.now(), pw: pw}
	}
	rep.ApplyMS = time.Since(applyStart).Milliseconds()

	reader := &ldapReader{src: src, password: password, attrs: mp.attributes(), timeout: y.timeout, afterPage: y.afterPage, workers: y.readWorkers}
	readStart := time.Now()
	var whole *plan
	if bw != nil && disjointBases(src.BaseDNs) {
		// The pipeline: while the searches read page N+1, the changes of
		// page N are written. No entry can come twice (the bases do not
		// overlap), so each is diffed and queued as it comes.
		err = y.readPipelined(ctx, reader, mp, d, bw, rep, pw)
	} else {
		// A dry run, or bases that overlap (the same entry twice, the later
		// one wins): read and map everything first, then diff.
		whole, err = y.readAll(ctx, reader, mp, d, rep, pw)
	}
	rep.ReadMS = time.Since(readStart).Milliseconds()
	if err != nil {
		return err
	}

	applyStart = time.Now()
	defer func() { rep.ApplyMS += time.Since(applyStart).Milliseconds() }()
	remove := d.removals()
	if n := len(stored); len(remove) > 0 && !opts.Confirm && !src.GuardConfirmed {
		r := len(remove)
		if src.GuardMaxDeletes > 0 && r > src.GuardMaxDeletes || src.GuardMaxPercent > 0 && r*100 > src.GuardMaxPercent*n {
			return fmt.Errorf("%w: the run would remove %d of %d entries (limit %d entries, %d %%); confirm it to apply",
				ErrGuarded, r, n, src.GuardMaxDeletes, src.GuardMaxPercent)
		}
	}
	if opts.DryRun {
		return nil
	}
	pw.update(ctx, true, func(p *Progress) {
		p.Read, p.Phase, p.ToApply = rep.Read, PhaseApplying, d.added+d.updated+len(remove)
	})
	if whole != nil {
		if err := bw.write(ctx, whole); err != nil {
			return err
		}
	}
	rep.Warnings = append(w.list(), dw.list()...)
	return y.finish(ctx, tx, bw, remove, opts, rep)
}

// applyBatch is how many changed entries the pipeline writes at a time.
const applyBatch = 1000

// readPipelined reads, maps and diffs the source's entries and hands their
// changes to a writer goroutine in batches of applyBatch, through a bounded
// queue: the searches go on while the database writes. A failed write stops
// the read; a failed read leaves the writes to the caller's rollback.
func (y *Syncer) readPipelined(ctx context.Context, reader *ldapReader, mp *mapper, d *differ, bw *batchWriter, rep *Report, pw *progressWriter) error {
	rctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	queue := make(chan *plan, 4)
	written := make(chan error, 1)
	go func() {
		var err error
		n := 0
		for p := range queue {
			if err == nil {
				if err = bw.write(ctx, p); err != nil {
					stop(err)
				} else if n++; y.afterBatch != nil {
					y.afterBatch(n)
				}
			}
		}
		written <- err
	}()
	batch := applyBatch
	if y.batchSize > 0 {
		batch = y.batchSize
	}
	seen := make(map[string]struct{})
	cur := &plan{}
	send := func() error {
		select {
		case queue <- cur:
			cur = &plan{}
			return nil
		case <-rctx.Done():
			return context.Cause(rctx)
		}
	}
	err := reader.read(rctx, func(rec *ldapRecord) error {
		rep.Read++
		pw.update(ctx, false, func(p *Progress) { p.Read = rep.Read })
		me, ok := mp.mapRecord(rec)
		if !ok {
			rep.Skipped++
			return nil
		}
		if _, dup := seen[me.key]; dup {
			// Disjoint bases cannot return an entry twice; a server that
			// does gets its first copy kept.
			d.w.add("skipped, returned twice", me.dn)
			return nil
		}
		seen[me.key] = struct{}{}
		d.next(me, cur)
		if len(cur.add)+len(cur.update) >= batch {
			return send()
		}
		return nil
	})
	if err == nil && len(cur.add)+len(cur.update) > 0 {
		err = send()
	}
	close(queue)
	werr := <-written
	if werr != nil {
		return werr
	}
	if err != nil {
		return err
	}
	return nil
}

// readAll reads and maps every entry, then diffs them in one plan.
func (y *Syncer) readAll(ctx context.Context, reader *ldapReader, mp *mapper, d *differ, rep *Report, pw *progressWriter) (*plan, error) {
	seen := map[string]int{}
	var want []mappedEntry
	err := reader.read(ctx, func(rec *ldapRecord) error {
		rep.Read++
		pw.update(ctx, false, func(p *Progress) { p.Read = rep.Read })
		me, ok := mp.mapRecord(rec)
		if !ok {
			rep.Skipped++
			return nil
		}
		if i, dup := seen[me.key]; dup {
			want[i] = me // overlapping base DNs: the same entry twice
			return nil
		}
		seen[me.key] = len(want)
		want = append(want, me)
		return nil
	})
	if err != nil {
		return nil, err
	}
	p := &plan{}
	for _, me := range want {
		d.next(me, p)
	}
	return p, nil
}

// disjointBases reports whether no base DN is another's ancestor or equal to
// it, so that no entry lies below two of them.
func disjointBases(bases []string) bool {
	dns := make([]*ldap.DN, len(bases))
	for i, b := range bases {
		dn, err := ldap.ParseDN(b)
		if err != nil {
			return false
		}
		dns[i] = dn
	}
	for i := range dns {
		for j := range dns {
			if i != j && (dns[i].EqualFold(dns[j]) || dns[i].AncestorOfFold(dns[j])) {
				return false
			}
		}
	}
	return true
}

// loadSourceState returns the entries the source synced last time, with
// their addresses and folder paths, and the organisation's folders by path.
func loadSourceState(ctx context.Context, q sqlx.QueryerContext, src Source) (map[string]*storedEntry, map[string]string, error) {
	var fs []Folder
	if err := sqlx.SelectContext(ctx, q, &fs, `SELECT `+folderColumns+` FROM directory_folders WHERE organisation_id = $1`, src.OrganisationID); err != nil {
		return nil, nil, fmt.Errorf("directory: load folders: %w", err)
	}
	paths := FolderPaths(fs)
	byPath := make(map[string]string, len(paths))
	for id, p := range paths {
		byPath[p] = id
	}
	var es []Entry
	if err := sqlx.SelectContext(ctx, q, &es, `SELECT `+entryColumns+` FROM directory_entries WHERE source_id = $1`, src.ID); err != nil {
		return nil, nil, fmt.Errorf("directory: load entries: %w", err)
	}
	out := make(map[string]*storedEntry, len(es))
	byID := make(map[string]*storedEntry, len(es))
	for _, e := range es {
		se := &storedEntry{Entry: e}
		se.Addresses = []Address{}
		if e.FolderID != nil {
			se.path = paths[*e.FolderID]
		}
		out[*e.SourceKey] = se
		byID[e.ID] = se
	}
	rows, err := q.QueryxContext(ctx, `
		SELECT a.entry_id, a.kind, a.label, a.value FROM directory_addresses a JOIN directory_entries e ON e.id = a.entry_id
		WHERE e.source_id = $1 ORDER BY a.entry_id, a.position`, src.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("directory: load addresses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a Address
		if err := rows.Scan(&id, &a.Kind, &a.Label, &a.Value); err != nil {
			return nil, nil, fmt.Errorf("directory: load addresses: %w", err)
		}
		if se := byID[id]; se != nil {
			se.Addresses = append(se.Addresses, a)
		}
	}
	return out, byPath, rows.Err()
}

// plan is a batch of what a run changes.
type plan struct {
	add    []mappedEntry
	update []update
}

type update struct {
	id        string
	me        mappedEntry // effective values (overridden fields kept)
	addrsDiff bool
}

// differ compares what the source holds now, one entry at a time, with what
// it held after the last run. Fields an admin overrode keep the stored value.
type differ struct {
	src    Source
	stored map[string]*storedEntry
	keep   map[string]bool
	w      *warnings
	rep    *Report
	// added and updated count the entries queued (updated includes moves).
	added, updated int
}

func newDiffer(src Source, stored map[string]*storedEntry, w *warnings, rep *Report) *differ {
	return &differ{src: src, stored: stored, keep: make(map[string]bool, len(stored)), w: w, rep: rep}
}

// next diffs one entry, counts it in the report and adds its change, if
// any, to p.
func (d *differ) next(me mappedEntry, p *plan) {
	rep := d.rep
	se := d.stored[me.key]
	if se != nil {
		me = withOverrides(me, se)
	}
	if !slices.ContainsFunc(me.addrs, func(a Address) bool { return a.Kind.Callable() }) {
		d.w.add("skipped, no callable address", me.dn)
		rep.Skipped++
		return
	}
	if se == nil {
		p.add = append(p.add, me)
		rep.Added++
		d.added++
		return
	}
	d.keep[me.key] = true
	moved := se.path != me.folder
	changed := se.DisplayName != me.name || se.Kind != me.kind || se.Title != me.title || se.Department != me.department ||
		se.OrganisationName != me.organisation
	addrsDiff := !slices.Equal(se.Addresses, me.addrs)
	// A new DN alone (a renamed RDN) is an update; with a move it is part of the move.
	dnOnly := se.SourceDN != me.dn && !moved
	if moved {
		rep.Moved++
	}
	if changed || addrsDiff || dnOnly {
		rep.Updated++
	}
	if !moved && !changed && !addrsDiff && !dnOnly {
		rep.Unchanged++
		return
	}
	p.update = append(p.update, update{id: se.ID, me: me, addrsDiff: addrsDiff})
	d.updated++
}

// removals returns the IDs of the stored entries the run did not see, and
// counts them in the report. Call it once, after the last next.
func (d *differ) removals() []string {
	var out []string
	for key, se := range d.stored {
		if !d.keep[key] {
			out = append(out, se.ID)
		}
	}
	d.rep.Removed = len(out)
	return out
}
func withOverrides(me mappedEntry, se *storedEntry) mappedEntry {
	for _, f := range se.Overridden {
		switch f {
		case FieldName:
			me.name = se.DisplayName
		case FieldKind:
			me.kind = se.Kind
		case FieldTitle:
			me.title = se.Title
		case FieldDepartment:
			me.department = se.Department
		case FieldOrganisation:
			me.organisation = se.OrganisationName
		case FieldFolder:
			me.folder = se.path
		case FieldAddresses:
			me.addrs = slices.Clone(se.Addresses)
		}
	}
	return me
}

// recordRun stores a run's report and sets its RunID.
func recordRun(ctx context.Context, q sqlx.QueryerContext, orgID string, rep *Report) error {
	if rep.Status == "" {
		rep.Status = RunFailed
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("directory: run report: %w", err)
	}
	err = sqlx.GetContext(ctx, q, &rep.RunID, `
		INSERT INTO ldap_sync_runs (organisation_id, source_id, started_at, finished_at, dry_run, status, added, updated, moved, removed, skipped, error, report)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		orgID, rep.SourceID, rep.StartedAt, rep.FinishedAt, rep.DryRun, rep.Status, rep.Added, rep.Updated, rep.Moved,
		rep.Removed, rep.Skipped, rep.Error, body)
	if err != nil {
		return fmt.Errorf("directory: record run: %w", err)
	}
	return nil
}

// Runs returns a source's latest run reports, newest first.
func (s *Store) Runs(ctx context.Context, orgID, sourceID string, limit int) ([]Report, error) {
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	var rows []struct {
		ID     int64  `db:"id"`
		Report []byte `db:"report"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, report FROM ldap_sync_runs WHERE organisation_id = $1 AND source_id = $2
		ORDER BY started_at DESC, id DESC LIMIT $3`, orgID, sourceID, limit); err != nil {
		return nil, notFound(err, "runs")
	}
	out := make([]Report, 0, len(rows))
	for _, r := range rows {
		var rep Report
		if err := json.Unmarshal(r.Report, &rep); err != nil {
			return nil, fmt.Errorf("directory: run %d: %w", r.ID, err)
		}
		rep.RunID = r.ID
		out = append(out, rep)
	}
	return out, nil
}
