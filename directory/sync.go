package directory

import (
	"context"
	"crypto/rand"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/bifrost-video/bifrost/internal/audit"
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
	// progressEvery is how often a run writes its progress at most.
	progressEvery time.Duration
}

// NewSyncer returns a syncer that decrypts bind passwords with key.
func NewSyncer(store *Store, key []byte, log *slog.Logger) *Syncer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Syncer{store: store, key: key, log: log, timeout: 2 * time.Minute, progressEvery: progressEvery}
}

// advisoryClass namespaces the sync's advisory locks ("LDAP").
const advisoryClass = 0x4c444150

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
	var w warnings
	mp, err := newMapper(src, &w)
	if err != nil {
		return err
	}
	reader := &ldapReader{src: src, password: password, attrs: mp.attributes(), timeout: y.timeout, afterPage: y.afterPage, workers: y.readWorkers}

	// Read and map everything first: a run that cannot read all of it changes nothing.
	readStart := time.Now()
	seen := map[string]int{}
	var want []mappedEntry
	err = reader.read(ctx, func(rec *ldapRecord) error {
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
	rep.ReadMS = time.Since(readStart).Milliseconds()
	if err != nil {
		rep.Warnings = w.list()
		return err
	}

	applyStart := time.Now()
	defer func() { rep.ApplyMS = time.Since(applyStart).Milliseconds() }()
	stored, folders, err := loadSourceState(ctx, conn, src)
	if err != nil {
		return err
	}
	plan := diff(src, want, stored, &w, rep)
	rep.Warnings = w.list()

	if n := len(stored); plan.removals() > 0 && !opts.Confirm && !src.GuardConfirmed {
		r := plan.removals()
		if src.GuardMaxDeletes > 0 && r > src.GuardMaxDeletes || src.GuardMaxPercent > 0 && r*100 > src.GuardMaxPercent*n {
			return fmt.Errorf("%w: the run would remove %d of %d entries (limit %d entries, %d %%); confirm it to apply",
				ErrGuarded, r, n, src.GuardMaxDeletes, src.GuardMaxPercent)
		}
	}
	if opts.DryRun {
		return nil
	}
	pw.update(ctx, true, func(p *Progress) {
		p.Read, p.Phase, p.ToApply = rep.Read, PhaseApplying, len(plan.add)+len(plan.update)+len(plan.remove)
	})
	return y.apply(ctx, conn, src, plan, folders, opts, rep, pw)
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

// plan is what a run changes.
type plan struct {
	add     []mappedEntry
	update  []update
	remove  []string // entry IDs
	folders []string // folder paths the kept entries need
}

type update struct {
	id        string
	me        mappedEntry // effective values (overridden fields kept)
	addrsDiff bool
}

func (p *plan) removals() int { return len(p.remove) }

// diff compares what the source holds now with what it held after the last
// run. Fields an admin overrode keep the stored value.
func diff(src Source, want []mappedEntry, stored map[string]*storedEntry, w *warnings, rep *Report) *plan {
	p := &plan{}
	keep := make(map[string]bool, len(want))
	needFolders := map[string]bool{}
	for _, me := range want {
		se := stored[me.key]
		if se != nil {
			me = withOverrides(me, se)
		}
		if !slices.ContainsFunc(me.addrs, func(a Address) bool { return a.Kind.Callable() }) {
			w.add("skipped, no callable address", me.dn)
			rep.Skipped++
			continue
		}
		if me.folder != "" {
			needFolders[me.folder] = true
		}
		if se == nil {
			p.add = append(p.add, me)
			rep.Added++
			continue
		}
		keep[me.key] = true
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
			continue
		}
		p.update = append(p.update, update{id: se.ID, me: me, addrsDiff: addrsDiff})
	}
	for key, se := range stored {
		if !keep[key] {
			p.remove = append(p.remove, se.ID)
		}
	}
	rep.Removed = len(p.remove)
	for f := range needFolders {
		p.folders = append(p.folders, f)
	}
	sort.Strings(p.folders)
	return p
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

// updateChunk is how many entries one UPDATE statement of a sync changes.
const updateChunk = 2000

// apply makes the plan's changes and records the run in one transaction.
func (y *Syncer) apply(ctx context.Context, conn *sqlx.Conn, src Source, p *plan, folders map[string]string, opts SyncOptions, rep *Report, pw *progressWriter) error {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("directory: sync begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit this is a no-op
	now := y.store.now()
	org := src.OrganisationID

	// Folders: every path the entries need, parents first.
	for _, path := range p.folders {
		parts := strings.Split(path, "/")
		for i := range parts {
			sub := strings.Join(parts[:i+1], "/")
			if _, ok := folders[sub]; ok {
				continue
			}
			var parent *string
			if i > 0 {
				id := folders[strings.Join(parts[:i], "/")]
				parent = &id
			}
			var id string
			if err := tx.GetContext(ctx, &id, `
				INSERT INTO directory_folders (organisation_id, parent_id, name, source_id, source_key, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, org, parent, parts[i], src.ID, sub, now); err != nil {
				return fmt.Errorf("directory: sync folder %s: %w", sub, err)
			}
			folders[sub] = id
		}
	}
	folderID := func(path string) *string {
		if path == "" {
			return nil
		}
		id := folders[path]
		return &id
	}

	if len(p.remove) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM directory_entries WHERE source_id = $1 AND id = ANY($2::uuid[])`, src.ID, pq.StringArray(p.remove)); err != nil {
			return fmt.Errorf("directory: sync remove: %w", err)
		}
		pw.update(ctx, false, func(pr *Progress) { pr.Applied += len(p.remove) })
	}
	type addrRow struct {
		entry string
		addrs []Address
	}
	var addrRows []addrRow
	var readdress []string
	// Updates go in chunks, each one statement (and one run of the search
	// hints trigger, migration 0006) rather than one per entry.
	for start := 0; start < len(p.update); start += updateChunk {
		chunk := p.update[start:min(start+updateChunk, len(p.update))]
		var ids, folderIDs, kinds, names, titles, depts, orgs, dns, addrs pq.StringArray
		for _, u := range chunk {
			me := u.me
			fid := ""
			if f := folderID(me.folder); f != nil {
				fid = *f
			}
			ids, folderIDs, kinds, names = append(ids, u.id), append(folderIDs, fid), append(kinds, string(me.kind)), append(names, me.name)
			titles, depts, orgs = append(titles, me.title), append(depts, me.department), append(orgs, me.organisation)
			dns, addrs = append(dns, me.dn), append(addrs, searchAddresses(me.addrs))
			if u.addrsDiff {
				readdress = append(readdress, u.id)
				addrRows = append(addrRows, addrRow{u.id, me.addrs})
			}
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE directory_entries e SET folder_id = nullif(u.folder_id, '')::uuid, kind = u.kind, display_name = u.name,
				title = u.title, department = u.department, organisation_name = u.org, source_dn = u.dn, updated_at = $10,
				published = true, search_addresses = u.addrs
			FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
				AS u (id, folder_id, kind, name, title, department, org, dn, addrs)
			WHERE e.id = u.id AND e.source_id = $11`,
			ids, folderIDs, kinds, names, titles, depts, orgs, dns, addrs, now, src.ID); err != nil {
			return fmt.Errorf("directory: sync update: %w", err)
		}
		pw.update(ctx, false, func(pr *Progress) { pr.Applied += len(chunk) })
	}
	if len(readdress) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM directory_addresses WHERE entry_id = ANY($1::uuid[])`, pq.StringArray(readdress)); err != nil {
			return fmt.Errorf("directory: sync addresses: %w", err)
		}
	}
	if len(p.add) > 0 {
		stmt, err := tx.PrepareContext(ctx, `COPY directory_entries (id, organisation_id, folder_id, kind, display_name,
			title, department, organisation_name, source_id, source_key, source_dn, published, search_addresses, created_at, updated_at) FROM STDIN`)
		if err != nil {
			return fmt.Errorf("directory: sync add: %w", err)
		}
		for _, me := range p.add {
			id := newUUID()
			if _, err := stmt.ExecContext(ctx, id, org, folderID(me.folder), string(me.kind), me.name, me.title, me.department,
				me.organisation, src.ID, me.key, me.dn, true, searchAddresses(me.addrs), now, now); err != nil {
				stmt.Close()
				return fmt.Errorf("directory: sync add %s: %w", me.dn, err)
			}
			addrRows = append(addrRows, addrRow{id, me.addrs})
			pw.update(ctx, false, func(pr *Progress) { pr.Applied++ })
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			stmt.Close()
			return fmt.Errorf("directory: sync add: %w", err)
		}
		if err := stmt.Close(); err != nil {
			return fmt.Errorf("directory: sync add: %w", err)
		}
	}
	if len(addrRows) > 0 {
		stmt, err := tx.PrepareContext(ctx, `COPY directory_addresses (organisation_id, entry_id, position, kind, label, value) FROM STDIN`)
		if err != nil {
			return fmt.Errorf("directory: sync addresses: %w", err)
		}
		for _, r := range addrRows {
			for i, a := range r.addrs {
				if _, err := stmt.ExecContext(ctx, org, r.entry, i, string(a.Kind), a.Label, a.Value); err != nil {
					stmt.Close()
					return fmt.Errorf("directory: sync addresses: %w", err)
				}
			}
		}
		if _, err := stmt.ExecContext(ctx); err != nil {
			stmt.Close()
			return fmt.Errorf("directory: sync addresses: %w", err)
		}
		if err := stmt.Close(); err != nil {
			return fmt.Errorf("directory: sync addresses: %w", err)
		}
	}
	// Folders this source made that are now empty go, innermost first.
	for {
		res, err := tx.ExecContext(ctx, `
			DELETE FROM directory_folders f WHERE f.source_id = $1
			AND NOT EXISTS (SELECT 1 FROM directory_entries e WHERE e.folder_id = f.id)
			AND NOT EXISTS (SELECT 1 FROM directory_folders c WHERE c.parent_id = f.id)`, src.ID)
		if err != nil {
			return fmt.Errorf("directory: sync empty folders: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			break
		}
	}
	if src.GuardConfirmed || opts.Confirm {
		if _, err := tx.ExecContext(ctx, `UPDATE ldap_sources SET guard_confirmed = false WHERE id = $1`, src.ID); err != nil {
			return fmt.Errorf("directory: sync guard: %w", err)
		}
	}
	rep.Status = RunOK
	rep.FinishedAt = y.store.now()
	rep.DurationMS = rep.FinishedAt.Sub(rep.StartedAt).Milliseconds()
	if err := recordRun(ctx, tx, org, rep); err != nil {
		return err
	}
	if err := audit.Record(ctx, tx, audit.Entry{OrganisationID: org, Action: "directory.ldap_sync", ObjectType: "ldap_source",
		ObjectID: src.ID, Summary: map[string]any{"run_id": rep.RunID, "added": rep.Added, "updated": rep.Updated,
			"moved": rep.Moved, "removed": rep.Removed, "skipped": rep.Skipped, "confirmed": opts.Confirm || src.GuardConfirmed}}); err != nil {
		return err
	}
	if y.beforeCommit != nil {
		y.beforeCommit()
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("directory: sync commit: %w", err)
	}
	return nil
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

// newUUID returns a random (version 4) UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
