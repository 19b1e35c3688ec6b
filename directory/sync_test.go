package directory

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/audit"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// fixtureSource is the source PROTOCOLS.md §6 describes for the fixture.
func fixtureSource(url string) SourceInput {
	return SourceInput{
		Source: Source{
			Name:    "Nordfjord AD",
			URL:     url,
			BindDN:  "uid=svc-videosync,ou=Service Accounts," + fixtureSuffix,
			BaseDNs: []string{"ou=People," + fixtureSuffix, "ou=Rooms," + fixtureSuffix},
			Filter:  "(&(objectClass=inetOrgPerson)(labeledURI=*))",
			Folders: FolderMapping{Mode: "ou", Root: fixtureSuffix},
		},
		BindPassword: "videosync-test-only",
	}
}

// directoryRows renders the organisation's published directory like
// expected/sync-small.tsv without its key column: kind, folder, name, sip,
// h323, phone, mobile.
func directoryRows(t testing.TB, db *sqlx.DB, org string) []string {
	t.Helper()
	s := NewStore(db, nil)
	fs, err := s.Folders(context.Background(), org)
	if err != nil {
		t.Fatal(err)
	}
	paths := FolderPaths(fs)
	p, err := s.Search(context.Background(), org, Query{PublishedOnly: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, e := range p.Entries {
		folder := ""
		if e.FolderID != nil {
			folder = paths[*e.FolderID]
		}
		col := map[string][]string{}
		for _, a := range e.Addresses {
			k := string(a.Kind)
			if a.Kind == AddressTel {
				k = a.Label
			}
			col[k] = append(col[k], a.Value)
		}
		j := func(k string) string { return strings.Join(col[k], "|") }
		rows = append(rows, strings.Join([]string{string(e.Kind), folder, e.DisplayName, j("sip"), j("h323"), j("phone"), j("mobile")}, "\t"))
	}
	sort.Strings(rows)
	return rows
}

// expectedRows reads expected/sync-small.tsv without its key column.
func expectedRows(t testing.TB) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir, "expected", "sync-small.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []string
	sc := bufio.NewScanner(f)
	header := true
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if header {
			header = false
			continue
		}
		cols := strings.Split(line, "\t")
		for len(cols) < 8 {
			cols = append(cols, "")
		}
		rows = append(rows, strings.Join(cols[1:8], "\t"))
	}
	sort.Strings(rows)
	return rows
}

func diffRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if slices.Equal(got, want) {
		return
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("%s: missing row %q", what, w)
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			t.Errorf("%s: unexpected row %q", what, g)
		}
	}
}

type syncFixture struct {
	db     *sqlx.DB
	org    string
	store  *Store
	syncer *Syncer
	ldap   *slapd
	src    Source
}

func newSyncFixture(t *testing.T, mod func(*SourceInput)) *syncFixture {
	t.Helper()
	sl := startSlapd(t)
	sl.LDAPAdd(filepath.Join(fixtureDir, "ldap", "nordfjord-small.ldif"))
	db := pgtest.New(t)
	org := newOrg(t, db, "Nordfjord Kraft AS")
	st := NewStore(db, nil)
	in := fixtureSource(sl.URL)
	if mod != nil {
		mod(&in)
	}
	src, err := st.CreateSource(ctxT(t), org, in, testKey)
	if err != nil {
		t.Fatal(err)
	}
	return &syncFixture{db: db, org: org, store: st, syncer: NewSyncer(st, testKey, nil), ldap: sl, src: src}
}

func (f *syncFixture) run(t *testing.T, opts SyncOptions) (Report, error) {
	t.Helper()
	return f.syncer.Run(ctxT(t), f.org, f.src.ID, opts)
}

func (f *syncFixture) mustRun(t *testing.T, opts SyncOptions) Report {
	t.Helper()
	rep, err := f.run(t, opts)
	if err != nil {
		t.Fatalf("sync: %v (report %+v)", err, rep)
	}
	return rep
}

func (f *syncFixture) entryID(t *testing.T, name string) string {
	t.Helper()
	var id string
	if err := f.db.Get(&id, `SELECT id FROM directory_entries WHERE organisation_id = $1 AND display_name = $2`, f.org, name); err != nil {
		t.Fatalf("entry %q: %v", name, err)
	}
	return id
}

func TestSyncAgainstSlapd(t *testing.T) {
	f := newSyncFixture(t, func(in *SourceInput) { in.GuardMaxDeletes = 2; in.PageSize = 4 })
	want := expectedRows(t)

	// First sync: exactly expected/sync-small.tsv.
	rep := f.mustRun(t, SyncOptions{})
	diffRows(t, "first sync", directoryRows(t, f.db, f.org), want)
	if rep.Status != RunOK || rep.Added != 19 || rep.Removed != 0 || rep.Read != 19 {
		t.Errorf("first report: %+v", rep)
	}
	// A second run with nothing changed changes nothing.
	rep = f.mustRun(t, SyncOptions{})
	if rep.Unchanged != 19 || rep.Added+rep.Updated+rep.Moved+rep.Removed != 0 {
		t.Errorf("second report: %+v", rep)
	}

	anne, kari, ingrid := f.entryID(t, "Anne Berg"), f.entryID(t, "Kari Nordmann (vikar)"), f.entryID(t, "Ingrid Solberg")
	// Changes in the server: a rename (new RDN and display name), a move to
	// another OU, a deletion and an address removed.
	f.ldap.LDAPModify(`dn: cn=Ingrid Solberg,ou=Oslo,ou=People,dc=nordfjord,dc=example
changetype: modrdn
newrdn: cn=Ingrid Solberg Lie
deleteoldrdn: 1

dn: cn=Ingrid Solberg Lie,ou=Oslo,ou=People,dc=nordfjord,dc=example
changetype: modify
replace: displayName
displayName: Ingrid Solberg Lie

dn: cn=Kari Nordmann (vikar),ou=Oslo,ou=People,dc=nordfjord,dc=example
changetype: modrdn
newrdn: cn=Kari Nordmann (vikar)
deleteoldrdn: 1
newsuperior: ou=Bergen,ou=People,dc=nordfjord,dc=example

dn: cn=Thomas O'Brien,ou=Oslo,ou=People,dc=nordfjord,dc=example
changetype: delete

dn: cn=Anne Berg,ou=Oslo,ou=People,dc=nordfjord,dc=example
changetype: modify
delete: labeledURI
labeledURI: h323:anne.berg H323
`)
	want2 := slices.Clone(want)
	replace := func(old, new string) {
		i := slices.Index(want2, old)
		if i < 0 {
			t.Fatalf("expected row %q not in the fixture", old)
		}
		if new == "" {
			want2 = slices.Delete(want2, i, i+1)
		} else {
			want2[i] = new
		}
	}
	replace("person\tPeople/Oslo\tIngrid Solberg\tingrid.solberg@video.nordfjord.example\t\t+47 21 99 10 03\t+47 900 10 003",
		"person\tPeople/Oslo\tIngrid Solberg Lie\tingrid.solberg@video.nordfjord.example\t\t+47 21 99 10 03\t+47 900 10 003")
	replace("person\tPeople/Oslo\tKari Nordmann (vikar)\tkari.nordmann@video.nordfjord.example\t\t+47 21 99 10 05\t",
		"person\tPeople/Bergen\tKari Nordmann (vikar)\tkari.nordmann@video.nordfjord.example\t\t+47 21 99 10 05\t")
	replace("person\tPeople/Oslo\tThomas O'Brien\tthomas.obrien@video.nordfjord.example\t\t+47 21 99 10 12\t", "")
	replace("person\tPeople/Oslo\tAnne Berg\tanne.berg@video.nordfjord.example\tanne.berg\t+47 21 99 10 01\t+47 900 10 001",
		"person\tPeople/Oslo\tAnne Berg\tanne.berg@video.nordfjord.example\t\t+47 21 99 10 01\t+47 900 10 001")
	sort.Strings(want2)

	// A dry run reports the changes and makes none.
	rep = f.mustRun(t, SyncOptions{DryRun: true})
	if rep.Updated != 2 || rep.Moved != 1 || rep.Removed != 1 || !rep.DryRun {
		t.Errorf("dry run report: %+v", rep)
	}
	diffRows(t, "after a dry run", directoryRows(t, f.db, f.org), want)

	rep = f.mustRun(t, SyncOptions{})
	if rep.Updated != 2 || rep.Moved != 1 || rep.Removed != 1 || rep.Added != 0 {
		t.Errorf("report after the changes: %+v", rep)
	}
	diffRows(t, "after the changes", directoryRows(t, f.db, f.org), want2)
	for name, id := range map[string]string{"Anne Berg": anne, "Kari Nordmann (vikar)": kari, "Ingrid Solberg Lie": ingrid} {
		if got := f.entryID(t, name); got != id {
			t.Errorf("%s changed ID from %s to %s: the key must be entryUUID, not the DN", name, id, got)
		}
	}

	// The deletion guard: 3 deletions with a limit of 2 are refused…
	f.ldap.LDAPModify(`dn: cn=Line Pedersen,ou=Tromsø,ou=People,dc=nordfjord,dc=example
changetype: delete

dn: cn=Silje Aasen,ou=Bergen,ou=People,dc=nordfjord,dc=example
changetype: delete

dn: cn=Eirik Bergseth,ou=Bergen,ou=People,dc=nordfjord,dc=example
changetype: delete
`)
	rep, err := f.run(t, SyncOptions{})
	if !errors.Is(err, ErrGuarded) || rep.Status != RunGuarded || rep.Removed != 3 {
		t.Fatalf("guarded run: %v, %+v", err, rep)
	}
	diffRows(t, "after a guarded run", directoryRows(t, f.db, f.org), want2)
	// …until an admin confirms, once.
	if err := f.store.ConfirmGuard(ctxT(t), f.org, f.src.ID); err != nil {
		t.Fatal(err)
	}
	rep = f.mustRun(t, SyncOptions{})
	if rep.Removed != 3 || rep.Status != RunOK {
		t.Errorf("confirmed run: %+v", rep)
	}
	if got := len(directoryRows(t, f.db, f.org)); got != len(want2)-3 {
		t.Errorf("after the confirmed run: %d entries, want %d", got, len(want2)-3)
	}
	src, _ := f.store.Source(ctxT(t), f.org, f.src.ID)
	if src.GuardConfirmed {
		t.Error("the confirmation should be used up by the run")
	}
	runs, err := f.store.Runs(ctxT(t), f.org, f.src.ID, 100)
	if err != nil || len(runs) != 6 || runs[0].Status != RunOK || runs[1].Status != RunGuarded || !runs[3].DryRun {
		t.Errorf("run history: %v %+v", err, runs)
	}
	rows, _, _ := audit.List(ctxT(t), f.db, audit.Filter{OrganisationID: f.org, Action: "directory.ldap_sync"})
	if len(rows) != 4 {
		t.Errorf("audited syncs: %d, want 4 (dry and refused runs change nothing)", len(rows))
	}
}

func TestSyncFailingMidRunChangesNothing(t *testing.T) {
	f := newSyncFixture(t, func(in *SourceInput) { in.PageSize = 3 })
	f.mustRun(t, SyncOptions{})
	before := directoryRows(t, f.db, f.org)
	f.ldap.LDAPModify(`dn: cn=Anne Berg,ou=Oslo,ou=People,dc=nordfjord,dc=example
changetype: delete
`)
	f.syncer.afterPage = func(page int) {
		if page == 2 {
			f.ldap.Kill()
		}
	}
	rep, err := f.run(t, SyncOptions{})
	if err == nil || rep.Status != RunFailed || rep.Error == "" {
		t.Fatalf("run with slapd stopped mid-search: %v, %+v", err, rep)
	}
	diffRows(t, "after a failed run", directoryRows(t, f.db, f.org), before)
	runs, _ := f.store.Runs(ctxT(t), f.org, f.src.ID, 1)
	if len(runs) != 1 || runs[0].Status != RunFailed {
		t.Errorf("the failed run is not recorded: %+v", runs)
	}
	// With the server gone altogether, the run fails at once, too.
	f.syncer.afterPage = nil
	if _, err := f.run(t, SyncOptions{}); err == nil {
		t.Error("a run against a stopped server succeeded")
	}
	diffRows(t, "after a run against a stopped server", directoryRows(t, f.db, f.org), before)
}

// TestSyncFailingAfterWritesChangesNothing: the pipeline has written
// batches of the run's changes (updates, additions, a new folder) when the
// server goes away; the run fails and the directory is as before it.
func TestSyncFailingAfterWritesChangesNothing(t *testing.T) {
	f := newSyncFixture(t, func(in *SourceInput) { in.PageSize = 3 })
	f.mustRun(t, SyncOptions{})
	before := directoryRows(t, f.db, f.org)
	// Every person gets a new title, so every page brings updates to write
	// whatever order the server returns them in.
	f.ldap.LDAPModify(retitleAll(t, "Ny tittel"))
	f.ldap.LDAPModify(`dn: cn=Anne Berg,ou=Oslo,ou=People,dc=nordfjord,dc=example
changetype: modify
replace: displayName
displayName: Anne Berg-Ny
`)
	// A new entry in a new OU: a new folder, too.
	f.ldap.LDAPModify(`dn: ou=Testby,ou=People,dc=nordfjord,dc=example
changetype: add
objectClass: organizationalUnit
ou: Testby

dn: cn=Ny Person,ou=Testby,ou=People,dc=nordfjord,dc=example
changetype: add
objectClass: inetOrgPerson
cn: Ny Person
sn: Person
displayName: Ny Person
labeledURI: sip:ny.person@video.nordfjord.example SIP
`)
	var mu sync.Mutex
	written := 0
	f.syncer.batchSize = 1
	f.syncer.readWorkers = 1
	f.syncer.afterBatch = func(n int) {
		mu.Lock()
		written = n
		mu.Unlock()
	}
	var kill sync.Once
	f.syncer.afterPage = func(page int) {
		if page < 3 {
			return
		}
		// Pages 1-3 queued updates; the reader waits here until two of them
		// are in the database, then the server dies before the next page.
		kill.Do(func() {
			waitFor(t, "two batches written", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return written >= 2
			})
			f.ldap.Kill()
		})
	}
	rep, err := f.run(t, SyncOptions{})
	if err == nil || rep.Status != RunFailed {
		t.Fatalf("run with slapd stopped after batches were written: %v, %+v", err, rep)
	}
	mu.Lock()
	n := written
	mu.Unlock()
	if n < 2 {
		t.Fatalf("%d batches written before the failure, want at least 2 (the test proves nothing)", n)
	}
	diffRows(t, "after a run failing after writes", directoryRows(t, f.db, f.org), before)
	var folders int
	if err := f.db.Get(&folders, `SELECT count(*) FROM directory_folders WHERE organisation_id = $1 AND name = 'Testby'`, f.org); err != nil || folders != 0 {
		t.Errorf("a failed run left %d new folders (%v)", folders, err)
	}
}

func TestSyncBadBindPasswordChangesNothing(t *testing.T) {
	f := newSyncFixture(t, func(in *SourceInput) { in.BindPassword = "wrong" })
	rep, err := f.run(t, SyncOptions{})
	if err == nil || rep.Status != RunFailed || !strings.Contains(rep.Error, "bind") {
		t.Fatalf("a refused bind: %v, %+v", err, rep)
	}
	if rows := directoryRows(t, f.db, f.org); len(rows) != 0 {
		t.Errorf("a refused bind stored %d entries", len(rows))
	}
}

func TestSyncRunsOfOneSourceNeverOverlap(t *testing.T) {
	f := newSyncFixture(t, func(in *SourceInput) { in.PageSize = 5 })
	var once sync.Once
	var second error
	f.syncer.afterPage = func(int) {
		once.Do(func() { _, second = f.syncer.Run(context.Background(), f.org, f.src.ID, SyncOptions{}) })
	}
	f.mustRun(t, SyncOptions{})
	if !errors.Is(second, ErrSyncRunning) {
		t.Errorf("a second run during the first: %v, want ErrSyncRunning", second)
	}
}

func TestSyncKeepsOverriddenFields(t *testing.T) {
	f := newSyncFixture(t, nil)
	f.mustRun(t, SyncOptions{})
	id := f.entryID(t, "Anne Berg")
	name := "Anne Berg (CEO)"
	e, err := f.store.UpdateEntry(ctxT(t), f.org, id, EntryPatch{DisplayName: &name})
	if err != nil || !slices.Equal([]string(e.Overridden), []string{FieldName}) {
		t.Fatalf("override: %+v, %v", e, err)
	}
	f.ldap.LDAPModify(`dn: cn=Anne Berg,ou=Oslo,ou=People,dc=nordfjord,dc=example
changetype: modify
replace: telephoneNumber
telephoneNumber: +47 21 99 10 99
-
replace: displayName
displayName: Anne B.
`)
	f.mustRun(t, SyncOptions{})
	got, err := f.store.GetEntry(ctxT(t), f.org, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName != name {
		t.Errorf("overridden name became %q", got.DisplayName)
	}
	if !slices.ContainsFunc(got.Addresses, func(a Address) bool { return a.Value == "+47 21 99 10 99" }) {
		t.Errorf("a field not overridden was not synced: %+v", got.Addresses)
	}
}

func TestSourceUpdateAndPreview(t *testing.T) {
	f := newSyncFixture(t, nil)
	got, warns, err := f.syncer.Preview(ctxT(t), f.org, f.src.ID, 3)
	if err != nil || len(got) != 3 {
		t.Fatalf("Preview: %v, %d entries", err, len(got))
	}
	if got[0].Key == "" || got[0].Name == "" || !strings.HasPrefix(got[0].Folder, "People/") || len(warns) == 0 {
		t.Errorf("preview entry: %+v, warnings %q", got[0], warns)
	}
	if rows := directoryRows(t, f.db, f.org); len(rows) != 0 {
		t.Errorf("a preview stored %d entries", len(rows))
	}

	in := fixtureSource(f.ldap.URL)
	in.BindPassword = "" // keep the stored one
	in.Enabled = true
	in.Folders = FolderMapping{Mode: "attr", Attr: "l"}
	in.Mapping = Mapping{"name": "$cn$"}
	src, err := f.store.UpdateSource(ctxT(t), f.org, f.src.ID, in, testKey, false)
	if err != nil || !src.HasPassword || src.Folders.Mode != "attr" {
		t.Fatalf("UpdateSource: %v %+v", err, src)
	}
	f.mustRun(t, SyncOptions{})
	var folder string
	if err := f.db.Get(&folder, `SELECT f.name FROM directory_entries e JOIN directory_folders f ON f.id = e.folder_id WHERE e.display_name = 'Berg, Marius'`); err != nil || folder != "Oslo" {
		t.Errorf("entry named by cn in folder by l: %q, %v", folder, err)
	}
	in.Mapping = Mapping{"name": "$cn"}
	if _, err := f.store.UpdateSource(ctxT(t), f.org, f.src.ID, in, testKey, false); !errors.Is(err, ErrInvalid) {
		t.Errorf("a bad template on update: %v", err)
	}
	if _, err := f.store.UpdateSource(ctxT(t), newOrg(t, f.db, "Other"), f.src.ID, fixtureSource(f.ldap.URL), testKey, false); !errors.Is(err, ErrNotFound) {
		t.Errorf("another organisation's source: %v", err)
	}
	in.Mapping = nil
	in.BindDN = ""
	if _, err := f.store.UpdateSource(ctxT(t), f.org, f.src.ID, in, testKey, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.run(t, SyncOptions{}); err != nil {
		t.Errorf("anonymous read works on the scratch server: %v", err)
	}
}

// TestSyncProgress watches a run from outside, as the admin page does: while
// it reads, Progress reports the entries read so far; while it applies, what
// it has written of what it will; after it, nothing. A row left behind by a
// process that died is not reported as a running sync.
func TestSyncProgress(t *testing.T) {
	f := newSyncFixture(t, func(in *SourceInput) { in.PageSize = 4 })
	f.syncer.progressEvery = 0 // every change is written
	f.syncer.readWorkers = 1   // pages one after another (some sub-range pages are empty)
	ctx := ctxT(t)
	var reading, applying []Progress
	watch := func(into *[]Progress) {
		p, ok, err := f.store.Progress(ctx, f.org, f.src.ID)
		if err != nil || !ok {
			t.Errorf("progress of a running sync: %v, %v", ok, err)
		}
		*into = append(*into, p)
	}
	f.syncer.afterPage = func(int) { watch(&reading) }
	f.syncer.beforeCommit = func() { watch(&applying) }
	rep := f.mustRun(t, SyncOptions{})

	if len(reading) < 2 {
		t.Fatalf("progress seen on %d pages, want every page", len(reading))
	}
	for i, p := range reading {
		if p.Phase != PhaseReading || p.SourceID != f.src.ID || p.DryRun || p.StartedAt.IsZero() || p.ElapsedMS < 0 {
			t.Errorf("page %d: progress %+v", i+1, p)
		}
		if i > 0 && p.Read < reading[i-1].Read {
			t.Errorf("page %d: read %d, after %d on the page before", i+1, p.Read, reading[i-1].Read)
		}
	}
	if last := reading[len(reading)-1]; last.Read != rep.Read || reading[0].Read >= last.Read {
		t.Errorf("read after the first page %d and the last %d, the report says %d", reading[0].Read, last.Read, rep.Read)
	}
	if len(applying) != 1 || applying[0].Phase != PhaseApplying || applying[0].ToApply != rep.Added || applying[0].Applied != rep.Added {
		t.Errorf("progress before commit: %+v, want applying %d of %d", applying, rep.Added, rep.Added)
	}
	if p, ok, err := f.store.Progress(ctx, f.org, f.src.ID); ok || err != nil {
		t.Errorf("progress after the run: %+v, %v, %v", p, ok, err)
	}
	other := newOrg(t, f.db, "Other")
	if _, ok, _ := f.store.Progress(ctx, other, f.src.ID); ok {
		t.Error("another organisation sees the source's progress")
	}

	// A process that died mid-run left its row; no lock is held.
	if _, err := f.db.Exec(`INSERT INTO ldap_sync_progress (source_id, organisation_id, phase, read, started_at, updated_at)
		VALUES ($1, $2, 'reading', 7, now(), now())`, f.src.ID, f.org); err != nil {
		t.Fatal(err)
	}
	if p, ok, err := f.store.Progress(ctx, f.org, f.src.ID); ok || err != nil {
		t.Errorf("a dead run's progress: %+v, %v, %v", p, ok, err)
	}
}

// TestSyncOverlappingBases: with one base DN below another every entry of the
// inner one comes twice; the run stores it once, as with disjoint bases.
func TestSyncOverlappingBases(t *testing.T) {
	f := newSyncFixture(t, func(in *SourceInput) {
		in.BaseDNs = append(in.BaseDNs, "ou=Oslo,ou=People,"+fixtureSuffix)
	})
	rep := f.mustRun(t, SyncOptions{})
	diffRows(t, "first sync with overlapping bases", directoryRows(t, f.db, f.org), expectedRows(t))
	if rep.Added != len(expectedRows(t)) {
		t.Errorf("added %d, want %d", rep.Added, len(expectedRows(t)))
	}
}

func TestDisjointBases(t *testing.T) {
	for _, c := range []struct {
		bases []string
		want  bool
	}{
		{[]string{"ou=People,dc=x"}, true},
		{[]string{"ou=People,dc=x", "ou=Rooms,dc=x"}, true},
		{[]string{"ou=People,dc=x", "OU=people, DC=X"}, false},
		{[]string{"ou=Oslo,ou=People,dc=x", "ou=People,dc=x"}, false},
		{[]string{"ou=People,dc=x", "ou=Oslo,ou=People,dc=x"}, false},
		{[]string{"not a dn", "ou=People,dc=x"}, false},
	} {
		if got := disjointBases(c.bases); got != c.want {
			t.Errorf("disjointBases(%q) = %v, want %v", c.bases, got, c.want)
		}
	}
}

// TestSyncRebuildsLooseSearchHints: a run that removes entries leaves the
// search start bounds loose (the triggers only move them down); a run with
// enough removals, updates or moves rebuilds them exactly after committing.
func TestSyncRebuildsLooseSearchHints(t *testing.T) {
	f := newSyncFixture(t, nil)
	f.mustRun(t, SyncOptions{})
	exact := func() map[string]string {
		if err := f.store.RebuildSearchHints(ctxT(t), f.org); err != nil {
			t.Fatal(err)
		}
		return hintsOf(t, f.db, f.org)
	}

	f.syncer.rebuildHintsAfter = 1000
	f.ldap.LDAPModify("dn: cn=Anne Berg,ou=Oslo,ou=People,dc=nordfjord,dc=example\nchangetype: delete\n")
	f.mustRun(t, SyncOptions{})
	if loose := hintsOf(t, f.db, f.org); maps.Equal(loose, exact()) {
		t.Fatal("a removal below the threshold left exact bounds: this test cannot tell a rebuild from none")
	}

	f.syncer.rebuildHintsAfter = 1
	f.ldap.LDAPModify("dn: cn=Ingrid Solberg,ou=Oslo,ou=People,dc=nordfjord,dc=example\nchangetype: delete\n")
	if rep := f.mustRun(t, SyncOptions{}); rep.Removed != 1 {
		t.Fatalf("removed %d, want 1", rep.Removed)
	}
	got := hintsOf(t, f.db, f.org)
	if want := exact(); !maps.Equal(got, want) {
		t.Errorf("after a run at the threshold the bounds are not exact:\n got %v\nwant %v", got, want)
	}
}

// retitleAll is an LDIF that gives every person of the fixture a new title.
func retitleAll(t *testing.T, title string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, "ldap", "nordfjord-small.ldif"))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, rec := range strings.Split(string(b), "\n\n") {
		if !strings.Contains(rec, "\nobjectClass: inetOrgPerson") {
			continue
		}
		var dn []string // the dn line and its folded continuations
		for _, line := range strings.Split(rec, "\n") {
			if strings.HasPrefix(line, "dn:") || len(dn) > 0 && strings.HasPrefix(line, " ") {
				dn = append(dn, line)
			} else if len(dn) > 0 {
				break
			}
		}
		fmt.Fprintf(&out, "%s\nchangetype: modify\nreplace: title\ntitle: %s\n\n", strings.Join(dn, "\n"), title)
	}
	return out.String()
}

// TestSyncRefreshesCommonTrigramsAfterManyAdditions: a run that adds at
// least rebuildHintsAfter entries (a first sync) refreshes the
// organisation's common search trigrams; a smaller one leaves them.
func TestSyncRefreshesCommonTrigramsAfterManyAdditions(t *testing.T) {
	refreshed := func(f *syncFixture) bool {
		var n int
		if err := f.db.Get(&n, `SELECT count(*) FROM directory_search_common_trigrams WHERE organisation_id = $1`, f.org); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	small := newSyncFixture(t, nil)
	small.syncer.rebuildHintsAfter = 1000
	if rep := small.mustRun(t, SyncOptions{}); rep.Added == 0 || refreshed(small) {
		t.Fatalf("a first sync of %d entries, below the threshold, refreshed the common trigrams (or added nothing)", rep.Added)
	}
	big := newSyncFixture(t, nil)
	big.syncer.rebuildHintsAfter = 1
	if rep := big.mustRun(t, SyncOptions{}); !refreshed(big) {
		t.Fatalf("a first sync of %d entries, at the threshold, did not refresh the common trigrams", rep.Added)
	}
}
