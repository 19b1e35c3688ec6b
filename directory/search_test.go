package directory

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// TestSearchMatchesThatSortLate pages through searches whose matches all sort
// after most entries (the walk in name order starts at the text's bound,
// migration 0006), with a small CountLimit so that the walk is what finds the
// page, and compares every page with the matches computed here. Renames and
// deletions lower the bounds; the results stay the same.
func TestSearchMatchesThatSortLate(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := ctxT(t)
	s := NewStore(db, nil)
	org := newOrg(t, db, "Nordfjord")
	other := newOrg(t, db, "Other")

	var all []Entry
	for i := range 60 {
		name := fmt.Sprintf("Kari Nilsen %02d", i)
		switch i % 4 {
		case 1:
			name = fmt.Sprintf("张伟 %02d", i)
		case 2:
			name = fmt.Sprintf("Åse Østby %02d", i)
		}
		e, err := s.CreateEntry(ctx, org, Entry{DisplayName: name, Addresses: []Address{{Kind: AddressSIP, Value: fmt.Sprintf("u%02d@video.example", i)}}})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
	}
	// Another organisation's entries sort first and must neither match nor
	// move the bounds.
	if _, err := s.CreateEntry(ctx, other, Entry{DisplayName: "Aaron 张 ostby", Addresses: []Address{{Kind: AddressSIP, Value: "a@o.example"}}}); err != nil {
		t.Fatal(err)
	}

	check := func(text string, want func(Entry) bool) {
		t.Helper()
		var exp []string
		for _, e := range all {
			if want(e) {
				exp = append(exp, e.DisplayName)
			}
		}
		slices.SortFunc(exp, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
		for _, countLimit := range []int{3, 1000, -1} { // -1: count all
			var got []string
			for off := 0; off < len(exp)+4; off += 4 {
				p, err := s.Search(ctx, org, Query{Text: text, Limit: 4, Offset: off, CountLimit: countLimit})
				if err != nil {
					t.Fatal(err)
				}
				wantTotal := len(exp)
				if countLimit > 0 {
					wantTotal = min(wantTotal, countLimit)
				}
				if p.Total != wantTotal {
					t.Errorf("Search(%q, offset %d, count limit %d): total %d, want %d", text, off, countLimit, p.Total, wantTotal)
				}
				got = append(got, names(p.Entries)...)
			}
			if !slices.Equal(got, exp) {
				t.Errorf("Search(%q), count limit %d, paged:\n got %q\nwant %q", text, countLimit, got, exp)
			}
		}
	}
	has := func(sub string) func(Entry) bool {
		return func(e Entry) bool { return strings.Contains(strings.ToLower(e.DisplayName), sub) }
	}
	check("张", has("张"))
	check("伟 0", has("伟 0"))
	check("OSTBY", has("østby"))
	check("ø", func(Entry) bool { return true }) // folds to o: every address has "video"
	check("n", func(e Entry) bool {
		return strings.Contains(strings.ToLower(e.DisplayName+" "+e.Addresses[0].Value), "n")
	})
	check("u05@", func(e Entry) bool { return e.Addresses[0].Value == "u05@video.example" })

	// Rename the first 张 entry to sort first, delete the first Østby one:
	// the bounds fall, the deleted name goes.
	first := all[1]
	renamed := "Aa 张伟"
	if _, err := s.UpdateEntry(ctx, org, first.ID, EntryPatch{DisplayName: &renamed}); err != nil {
		t.Fatal(err)
	}
	all[1].DisplayName = renamed
	if err := s.DeleteEntry(ctx, org, all[2].ID); err != nil {
		t.Fatal(err)
	}
	gone := strings.ToLower(all[2].DisplayName)
	all = slices.Delete(all, 2, 3)
	check("张", has("张"))
	check("østby", has("østby"))
	var leaked int
	if err := db.Get(&leaked, `SELECT count(*) FROM directory_search_hints WHERE first_sort = left($1, 32)`, gone); err != nil {
		t.Fatal(err)
	}
	if leaked != 0 {
		t.Errorf("the deleted entry's name %q is still a search hint", gone)
	}
}

// TestSearchTakesWildcardsLiterally: LIKE's wildcards and escape character in
// a search text match only themselves, and folding (accents, case) still
// applies around them.
func TestSearchTakesWildcardsLiterally(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := ctxT(t)
	s := NewStore(db, nil)
	org := newOrg(t, db, "Nordfjord")
	for _, n := range []string{"Møte_Rom", "MøteXRom", "100% Øst", "1000 Øst", `Back\slash`, "Backslash"} {
		if _, err := s.CreateEntry(ctx, org, Entry{DisplayName: n, Addresses: []Address{{Kind: AddressSIP, Value: "room@video.example"}}}); err != nil {
			t.Fatal(err)
		}
	}
	for text, want := range map[string][]string{
		"mote_rom": {"Møte_Rom"},
		"0% ØST":   {"100% Øst"},
		`k\s`:      {`Back\slash`},
		"_":        {"Møte_Rom"},
		"%":        {"100% Øst"},
	} {
		p, err := s.Search(ctx, org, Query{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if got := names(p.Entries); !slices.Equal(got, want) || p.Total != len(want) {
			t.Errorf("Search(%q): %q (total %d), want %q", text, got, p.Total, want)
		}
	}
}
