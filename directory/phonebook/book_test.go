package phonebook

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/directory"
)

// TestSearchFindsWhatContainsFinds compares the indexed search with a plain
// strings.Contains over every name, for needles of every length, in several
// scripts, in every folder subtree.
func TestSearchFindsWhatContainsFinds(t *testing.T) {
	names := []string{"Åsa Lindqvist", "Örjan Söderberg", "Øystein Karlsen", "张伟 (Zhang Wei)", "Anne Berg", "Berg, Marius",
		"Bergen – Bryggen", "Thomas O'Brien", "Hanne Øvrebø", "ÅSE ÅSEN", "a", "ab", "Oslo – R&D Lab", "Kari Nordmann (vikar)"}
	// Enough similar names that a search narrows its candidates through
	// several trigrams.
	for i := 0; i < 400; i++ {
		names = append(names, fmt.Sprintf("%s %s %03d", []string{"Per", "Åse", "Hanne"}[i%3], []string{"Hansen", "Berg", "Øvrebø", "Persen"}[i%4], i))
	}
	p, c := "p", "c"
	fs := []directory.Folder{{ID: p, Name: "People"}, {ID: c, Name: "Child", ParentID: &p}}
	var es []directory.Entry
	for i, n := range names {
		var f *string
		switch i % 3 {
		case 1:
			f = &p
		case 2:
			f = &c
		}
		es = append(es, directory.Entry{ID: fmt.Sprintf("%04d", i), FolderID: f, DisplayName: n,
			Addresses: []directory.Address{{Kind: directory.AddressSIP, Value: "sip:x@y"}}})
	}
	b := NewBook(fs, es)
	needles := map[string]bool{"per hansen": true, "hansen 01": true, "persen 3": true, "åse berg": true, "e b": true, "*": true, ")(": true, `\`: true, `"`: true, "\x01": true, "ÅS": true, "øvre": true, "伟": true, "张伟 (": true}
	for _, n := range names[:14] {
		l := []rune(strings.ToLower(n))
		for i := range l {
			for j := i + 1; j <= len(l) && j-i <= 5; j++ {
				needles[string(l[i:j])] = true
			}
		}
	}
	for _, folder := range []string{"", "c_p", "c_c"} {
		v := b.View("", "T")
		for needle := range needles {
			if strings.TrimSpace(needle) == "" {
				continue
			}
			res := v.Search(Query{FolderID: folder, Text: needle, Limit: MaxLimit})
			var got []string
			for _, it := range res.Items {
				got = append(got, it.Contact.Name)
			}
			var want []string
			for _, c := range b.contacts {
				inFolder := folder == "" || folder == "c_p" && (c.folder == 1 || c.folder == 2) || folder == "c_c" && c.folder == 2
				if inFolder && strings.Contains(c.lower, strings.ToLower(strings.TrimSpace(needle))) {
					want = append(want, c.Name)
				}
			}
			if strings.Join(got, "|") != strings.Join(want, "|") || res.Total != len(want) {
				t.Errorf("folder %q, search %q: got %q (total %d), want %q", folder, needle, got, res.Total, want)
			}
		}
	}
}

// TestCaseSensitiveSearchAndUnknownFolders covers CaseSensitiveSearch=true,
// a SearchPath that names no folder and a view of a missing folder.
func TestCaseSensitiveSearchAndUnknownFolders(t *testing.T) {
	es := []directory.Entry{
		{ID: "1", DisplayName: "Åsa Berg", Addresses: []directory.Address{{Kind: directory.AddressSIP, Value: "a@x"}}},
		{ID: "2", DisplayName: "Bergen", Addresses: []directory.Address{{Kind: directory.AddressH323, Value: "bergen"}}},
		{ID: "3", DisplayName: "No address"},
	}
	v := NewBook(nil, es).View("", "T")
	got := func(r Result) string {
		var n []string
		for _, it := range r.Items {
			n = append(n, it.Contact.Name)
		}
		return strings.Join(n, "|")
	}
	if g := got(v.Search(Query{Text: "berg", CaseSensitive: true})); g != "" {
		t.Errorf("case-sensitive berg: %q, want nothing", g)
	}
	if g := got(v.Search(Query{Text: "Berg ", CaseSensitive: true})); g != "Bergen|Åsa Berg" {
		t.Errorf("case-sensitive Berg: %q", g)
	}
	if g := got(v.Search(Query{Text: "åsa"})); g != "Åsa Berg" {
		t.Errorf("åsa finds %q, want Åsa Berg (simple case folding)", g)
	}
	if g := got(v.Search(Query{Text: "address"})); g != "" {
		t.Errorf("an entry without an address was found: %q", g)
	}
	if r := v.Search(Query{FolderID: "c_nope"}); r.FolderExists || len(r.Items) != 0 || r.Total != 0 {
		t.Errorf("unknown folder: %+v", r)
	}
	if r := NewBook(nil, es).View("Gone/Folder", "T").Search(Query{}); r.FolderExists || len(r.Items) != 0 {
		t.Errorf("view of a missing folder: %+v", r)
	}
}

// TestSearchPagesAsTheListOfMatches: a search paging forwards (counting its
// matches, keeping only the page's) answers what paging through the full
// list of matches gives, from every start Id, inclusive or not.
func TestSearchPagesAsTheListOfMatches(t *testing.T) {
	b := bulkBook(300)
	v := b.View("", "All")
	ids := []string{"", "c_sub", "e_nope", RootID}
	for i := range b.contacts {
		if i%7 == 0 {
			ids = append(ids, b.contacts[i].ID)
		}
	}
	for _, text := range []string{"1", "00", "person 0", "29", "zz"} {
		for _, folder := range []string{"", "c_sub"} {
			fi, _ := v.folder(folder)
			list := b.match(text, false, b.folders[fi].pre, b.folders[fi].end)
			for _, id := range ids {
				for _, incl := range []bool{false, true} {
					for _, limit := range []int{1, 7, 50} {
						got := v.Search(Query{FolderID: folder, Text: text, StartFromID: id, Inclusive: incl, Limit: limit})
						start := 0
						if id != "" {
							p, exact := b.position(list, id)
							start = p
							if exact && !incl {
								start++
							}
						}
						start = min(start, len(list))
						end := min(start+limit, len(list))
						var want []string
						for _, k := range list[start:end] {
							want = append(want, b.item(k).ID())
						}
						var gotIDs []string
						for _, it := range got.Items {
							gotIDs = append(gotIDs, it.ID())
						}
						if !slices.Equal(gotIDs, want) || got.Total != len(list) || got.IsFirst != (start == 0) || got.IsLast != (end >= len(list)) {
							t.Fatalf("text %q folder %q from %q incl %v limit %d: %v total %d first %v last %v; want %v total %d",
								text, folder, id, incl, limit, gotIDs, got.Total, got.IsFirst, got.IsLast, want, len(list))
						}
					}
				}
			}
		}
	}
}
