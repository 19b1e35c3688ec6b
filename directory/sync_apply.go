package directory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// batchWriter writes a run's changes, a batch at a time, in the run's
// transaction. It is used by one goroutine at a time.
type batchWriter struct {
	tx      *sqlx.Tx
	src     Source
	folders map[string]string // the organisation's folders by path, with those made so far
	now     time.Time
	pw      *progressWriter
	ids     *idSeq // IDs of added entries; nil: made on first use
}

// folderID returns the ID of the folder at path (made by ensureFolders), nil
// for the root.
func (bw *batchWriter) folderID(path string) *string {
	if path == "" {
		return nil
	}
	id := bw.folders[path]
	return &id
}

// ensureFolders makes the folders the batch's entries need that do not exist
// yet, parents first.
func (bw *batchWriter) ensureFolders(ctx context.Context, p *plan) error {
	var paths []string
	need := func(path string) {
		if _, ok := bw.folders[path]; !ok && path != "" {
			paths = append(paths, path)
		}
	}
	for _, me := range p.add {
		need(me.folder)
	}
	for _, u := range p.update {
		need(u.me.folder)
	}
	slices.Sort(paths)
	paths = slices.Compact(paths)
	for _, path := range paths {
		parts := strings.Split(path, "/")
		for i := range parts {
			sub := strings.Join(parts[:i+1], "/")
			if _, ok := bw.folders[sub]; ok {
				continue
			}
			var parent *string
			if i > 0 {
				id := bw.folders[strings.Join(parts[:i], "/")]
				parent = &id
			}
			var id string
			if err := bw.tx.GetContext(ctx, &id, `
				INSERT INTO directory_folders (organisation_id, parent_id, name, source_id, source_key, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id`, bw.src.OrganisationID, parent, parts[i], bw.src.ID, sub, bw.now); err != nil {
				return fmt.Errorf("directory: sync folder %s: %w", sub, err)
			}
			bw.folders[sub] = id
		}
	}
	return nil
}

// updateChunk is how many entries one UPDATE statement of a sync changes.
const updateChunk = 2000

// write makes a batch's folders, updates and additions.
func (bw *batchWriter) write(ctx context.Context, p *plan) error {
	if err := bw.ensureFolders(ctx, p); err != nil {
		return err
	}
	tx, org, now := bw.tx, bw.src.OrganisationID, bw.now
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
			if f := bw.folderID(me.folder); f != nil {
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
			ids, folderIDs, kinds, names, titles, depts, orgs, dns, addrs, now, bw.src.ID); err != nil {
			return fmt.Errorf("directory: sync update: %w", err)
		}
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
		if bw.ids == nil {
			bw.ids = newIDSeq(now)
		}
		for _, me := range p.add {
			id := bw.ids.next()
			if _, err := stmt.ExecContext(ctx, id, org, bw.folderID(me.folder), string(me.kind), me.name, me.title, me.department,
				me.organisation, bw.src.ID, me.key, me.dn, true, searchAddresses(me.addrs), now, now); err != nil {
				stmt.Close()
				return fmt.Errorf("directory: sync add %s: %w", me.dn, err)
			}
			addrRows = append(addrRows, addrRow{id, me.addrs})
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
	bw.pw.update(ctx, false, func(pr *Progress) { pr.Applied += len(p.add) + len(p.update) })
	return nil
}

// finish removes the entries the source no longer holds and the folders it
// made that are now empty, records the run and commits.
func (y *Syncer) finish(ctx context.Context, tx *sqlx.Tx, bw *batchWriter, remove []string, opts SyncOptions, rep *Report) error {
	src := bw.src
	org := src.OrganisationID
	if len(remove) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM directory_entries WHERE source_id = $1 AND id = ANY($2::uuid[])`, src.ID, pq.StringArray(remove)); err != nil {
			return fmt.Errorf("directory: sync remove: %w", err)
		}
		bw.pw.update(ctx, false, func(pr *Progress) { pr.Applied += len(remove) })
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
