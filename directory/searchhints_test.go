package directory

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// hintsOf returns the organisation's search start bounds by character.
func hintsOf(t *testing.T, db *sqlx.DB, org string) map[string]string {
	t.Helper()
	var rows []struct {
		Ch    string `db:"ch"`
		First string `db:"first_sort"`
	}
	if err := db.Select(&rows, `SELECT ch, first_sort FROM directory_search_hints WHERE organisation_id = $1`, org); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.Ch] = r.First
	}
	return out
}

// exactHints computes what the rebuild must leave for ASCII entries (where
// folding is lower-casing): per character of name and SIP address, but for
// digits, the space and . @ + - _, the first 32 characters of the smallest
// lower-case name holding it.
func exactHints(es []Entry) map[string]string {
	out := map[string]string{}
	for _, e := range es {
		sortName := strings.ToLower(e.DisplayName)
		text := sortName
		for _, a := range e.Addresses {
			text += " " + strings.ToLower(a.Value)
		}
		for _, r := range text {
			if strings.ContainsRune("0123456789 .@+-_", r) {
				continue
			}
			b := sortName[:min(len(sortName), 32)]
			if cur, ok := out[string(r)]; !ok || b < cur {
				out[string(r)] = b
			}
		}
	}
	return out
}

// searchAll pages through every match of text with a small page and count
// limit, so that the walk in name order from the text's start bound is what
// finds them.
func searchAll(t *testing.T, s *Store, org, text string) []string {
	t.Helper()
	var got []string
	for off := 0; ; off += 3 {
		p, err := s.Search(ctxT(t), org, Query{Text: text, Limit: 3, Offset: off, CountLimit: 1})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, names(p.Entries)...)
		if len(p.Entries) < 3 {
			return got
		}
	}
}

// TestRebuildSearchHints loosens bounds by renames and deletions, rebuilds
// them, and checks that each is exact again (which the triggers alone do not
// give), that the removed names leave no trace, that another organisation's
// bounds are untouched and that every search returns what it did before.
func TestRebuildSearchHints(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := ctxT(t)
	s := NewStore(db, nil)
	org := newOrg(t, db, "Nordfjord")
	other := newOrg(t, db, "Other")
	if _, err := s.CreateEntry(ctx, other, Entry{DisplayName: "Aa Zyx", Addresses: []Address{{Kind: AddressSIP, Value: "aa@o.example"}}}); err != nil {
		t.Fatal(err)
	}
	otherHints := hintsOf(t, db, other)

	var all []Entry
	mk := func(name, sip string) Entry {
		t.Helper()
		e, err := s.CreateEntry(ctx, org, Entry{DisplayName: name, Addresses: []Address{{Kind: AddressSIP, Value: sip}}})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
		return e
	}
	for _, n := range []string{"Kari Nilsen", "Per Berg", "Silje Dahl", "Thomas Lund", "Marius Hansen", "Zoe Quist", "Zara Whyte", "Yngve Ask"} {
		mk(n, strings.ToLower(strings.ReplaceAll(n, " ", "."))+"@video.example")
	}
	// Names that sort first and hold rare letters; renamed or deleted below,
	// they leave the bounds of z, y, q, w and x far too low.
	aaron := mk("Aaron Zwyx", "aaron@video.example")
	abel := mk("Abel Qyx", "abel@video.example")
	renamed := "Odd Moen"
	if _, err := s.UpdateEntry(ctx, org, aaron.ID, EntryPatch{DisplayName: &renamed}); err != nil {
		t.Fatal(err)
	}
	all[len(all)-2].DisplayName = renamed
	if err := s.DeleteEntry(ctx, org, abel.ID); err != nil {
		t.Fatal(err)
	}
	all = all[:len(all)-1]

	queries := []string{"z", "y", "q", "w", "x", "zo", "quist", "n", "e", "video", "aa", "moen", "abel"}
	before := map[string][]string{}
	for _, q := range queries {
		before[q] = searchAll(t, s, org, q)
	}
	want := exactHints(all)
	loose := hintsOf(t, db, org)
	for _, ch := range []string{"z", "w", "y", "q", "x"} {
		if !(loose[ch] < want[ch]) {
			t.Fatalf("bound of %q before the rebuild is %q, want one looser than %q (the test's premise)", ch, loose[ch], want[ch])
		}
	}

	if err := s.RebuildSearchHints(ctx, org); err != nil {
		t.Fatal(err)
	}
	if got := hintsOf(t, db, org); !maps.Equal(got, want) {
		t.Errorf("bounds after the rebuild:\n got %v\nwant %v", got, want)
	}
	if got := hintsOf(t, db, other); !maps.Equal(got, otherHints) {
		t.Errorf("another organisation's bounds changed:\n got %v\nwant %v", got, otherHints)
	}
	for _, q := range queries {
		if got := searchAll(t, s, org, q); !slices.Equal(got, before[q]) {
			t.Errorf("Search(%q) after the rebuild:\n got %q\nwant %q", q, got, before[q])
		}
	}
	var exp []string
	for _, e := range all {
		if strings.Contains(strings.ToLower(e.DisplayName+" "+e.Addresses[0].Value), "z") {
			exp = append(exp, e.DisplayName)
		}
	}
	slices.SortFunc(exp, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	if got := searchAll(t, s, org, "z"); !slices.Equal(got, exp) {
		t.Errorf("Search(z): got %q, want %q", got, exp)
	}
	// Idempotent: a second rebuild changes nothing.
	if err := s.RebuildSearchHints(ctx, org); err != nil {
		t.Fatal(err)
	}
	if got := hintsOf(t, db, org); !maps.Equal(got, want) {
		t.Errorf("bounds after a second rebuild: got %v, want %v", got, want)
	}
}

// TestRebuildSearchHintsWaitsForWriters: an entry added by a transaction that
// is still open when the rebuild starts must not be left behind a raised
// bound. The rebuild waits for that transaction and then sees its entry.
func TestRebuildSearchHintsWaitsForWriters(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := ctxT(t)
	s := NewStore(db, nil)
	org := newOrg(t, db, "Nordfjord")
	for _, n := range []string{"Kari Nilsen", "Per Berg", "Zoe Kvist"} {
		if _, err := s.CreateEntry(ctx, org, Entry{DisplayName: n, Addresses: []Address{{Kind: AddressSIP, Value: "x@video.example"}}}); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck // committed below
	if _, err := tx.Exec(`INSERT INTO directory_entries (organisation_id, display_name, published, search_addresses)
		VALUES ($1, 'Aase Kvist', true, 'aase@video.example')`, org); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.RebuildSearchHints(ctx, org) }()
	waitFor(t, "the rebuild to wait for a lock", func() bool {
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM pg_stat_activity
			WHERE wait_event_type = 'Lock' AND query LIKE '%directory_search_hints_rebuild%' AND pid <> pg_backend_pid()`); err != nil {
			t.Fatal(err)
		}
		return n > 0
	})
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := hintsOf(t, db, org)["v"]; got != "aase kvist" {
		t.Errorf("bound of v after the rebuild: %q, want %q (the entry committed while it waited)", got, "aase kvist")
	}
	if got := searchAll(t, s, org, "kvist"); !slices.Equal(got, []string{"Aase Kvist", "Zoe Kvist"}) {
		t.Errorf("Search(kvist): %q", got)
	}
}

// waitFor polls cond until it holds, failing the test (naming what it waited
// for) when the test's context ends first.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("gave up waiting for %s", what)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
