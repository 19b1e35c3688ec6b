package directory

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/internal/audit"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func names(es []Entry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.DisplayName)
	}
	return out
}

func TestStoreFoldersEntriesAndSearch(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := ctxT(t)
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	s := NewStore(db, clock.Now)
	org := newOrg(t, db, "Nordfjord")
	other := newOrg(t, db, "Other")

	people, err := s.CreateFolder(ctx, org, Folder{Name: "People"})
	if err != nil {
		t.Fatal(err)
	}
	oslo, err := s.CreateFolder(ctx, org, Folder{Name: "Oslo", ParentID: &people.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateFolder(ctx, org, Folder{Name: "Oslo", ParentID: &people.ID}); !errors.Is(err, ErrConflict) {
		t.Errorf("a sibling of the same name: %v, want ErrConflict", err)
	}
	if _, err := s.CreateFolder(ctx, org, Folder{Name: "a/b"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("a name with a slash: %v, want ErrInvalid", err)
	}
	if _, err := s.UpdateFolder(ctx, org, people.ID, FolderPatch{ParentID: ptr(&oslo.ID)}); !errors.Is(err, ErrInvalid) {
		t.Errorf("moving a folder below its child: %v, want ErrInvalid", err)
	}
	if _, err := s.CreateFolder(ctx, other, Folder{Name: "X", ParentID: &people.ID}); !errors.Is(err, ErrNotFound) {
		t.Errorf("another organisation's parent: %v, want ErrNotFound", err)
	}

	mk := func(name string, folder *string, as ...Address) Entry {
		t.Helper()
		e, err := s.CreateEntry(ctx, org, Entry{DisplayName: name, FolderID: folder, Addresses: as})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	hanne := mk("Hanne Øvrebø", &oslo.ID, Address{Kind: AddressSIP, Value: "hanne.ovrebo@video.example"}, Address{Kind: AddressTel, Value: "+47 55 99 20 08", Label: "phone"})
	mk("Thomas O'Brien", &oslo.ID, Address{Kind: AddressH323, Value: "thomas.obrien"})
	mk("Per Olsen", &oslo.ID, Address{Kind: AddressTel, Value: "+47 21 99 10 10"})
	mk("张伟 (Zhang Wei)", nil, Address{Kind: AddressSIP, Value: "sip:zhang.wei@partner.example"})
	mk("R&D 100% _lab_", nil, Address{Kind: AddressSIP, Value: "lab@video.example"})
	if _, err := s.CreateEntry(ctx, other, Entry{DisplayName: "Hanne Other", Addresses: []Address{{Kind: AddressSIP, Value: "h@o.example"}}}); err != nil {
		t.Fatal(err)
	}

	search := func(q Query) []string {
		t.Helper()
		p, err := s.Search(ctx, org, q)
		if err != nil {
			t.Fatal(err)
		}
		return names(p.Entries)
	}
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"accents and case are ignored", Query{Text: "OVREBO"}, []string{"Hanne Øvrebø"}},
		{"accented text finds accented names", Query{Text: "øvre"}, []string{"Hanne Øvrebø"}},
		{"a match anywhere in the name counts", Query{Text: "brien"}, []string{"Thomas O'Brien"}},
		{"a match in an address counts", Query{Text: "partner.example"}, []string{"张伟 (Zhang Wei)"}},
		{"digits find phone numbers written with spaces", Query{Text: "2199 1010"}, []string{"Per Olsen"}},
		{"CJK names are found", Query{Text: "张"}, []string{"张伟 (Zhang Wei)"}},
		{"LIKE wildcards are literal", Query{Text: "100%"}, []string{"R&D 100% _lab_"}},
		{"underscore is literal", Query{Text: "_lab"}, []string{"R&D 100% _lab_"}},
		{"another organisation's entries are not found", Query{Text: "Hanne"}, []string{"Hanne Øvrebø"}},
		{"published drops entries without a callable address", Query{FolderID: &oslo.ID, PublishedOnly: true}, []string{"Hanne Øvrebø", "Thomas O'Brien"}},
		{"the root holds entries without a folder", Query{InRoot: true}, []string{"R&D 100% _lab_", "张伟 (Zhang Wei)"}},
		{"paging returns the next page", Query{Limit: 2, Offset: 2}, []string{"R&D 100% _lab_", "Thomas O'Brien"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := search(tt.q); !slices.Equal(got, tt.want) {
				t.Errorf("Search(%+v) = %q, want %q", tt.q, got, tt.want)
			}
		})
	}
	p, _ := s.Search(ctx, org, Query{Limit: 2})
	if p.Total != 5 {
		t.Errorf("total = %d, want 5", p.Total)
	}
	pub, err := s.PublishedEntries(ctx, org, &oslo.ID)
	if err != nil || !slices.Equal(names(pub), []string{"Hanne Øvrebø", "Thomas O'Brien"}) {
		t.Errorf("PublishedEntries = %q, %v", names(pub), err)
	}

	got, err := s.GetEntry(ctx, org, hanne.ID)
	if err != nil || len(got.Addresses) != 2 || got.Addresses[1].Label != "phone" || got.DisplayName != "Hanne Øvrebø" {
		t.Errorf("GetEntry = %+v, %v", got, err)
	}
	if _, err := s.GetEntry(ctx, other, hanne.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("another organisation's entry: %v, want ErrNotFound", err)
	}
	if _, err := s.GetEntry(ctx, org, "not-a-uuid"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a malformed ID: %v, want ErrNotFound", err)
	}
	if err := s.DeleteFolder(ctx, org, oslo.ID); !errors.Is(err, ErrFolderNotEmpty) {
		t.Errorf("deleting a folder with entries: %v, want ErrFolderNotEmpty", err)
	}
	title := "Økonomikonsulent"
	up, err := s.UpdateEntry(ctx, org, hanne.ID, EntryPatch{Title: &title})
	if err != nil || up.Title != title || len(up.Overridden) != 0 {
		t.Errorf("UpdateEntry of a manual entry = %+v, %v (a manual entry has no overridden fields)", up, err)
	}
	if err := s.DeleteEntry(ctx, org, hanne.ID); err != nil {
		t.Fatal(err)
	}
	rows, _, err := audit.List(ctx, db, audit.Filter{OrganisationID: org, Action: "directory."})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range rows {
		actions = append(actions, r.Action)
	}
	for _, want := range []string{"directory.folder_create", "directory.entry_create", "directory.entry_update", "directory.entry_delete"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit log lacks %s: %q", want, actions)
		}
	}
}

func ptr[T any](v T) *T { return &v }
