package directory

import (
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// TestPublishedAllAndVersion reads every published entry in one go and sees
// the directory's fingerprint change with every kind of change, and only then.
func TestPublishedAllAndVersion(t *testing.T) {
	db := pgtest.New(t)
	org, other := newOrg(t, db, "Alpha"), newOrg(t, db, "Beta")
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st := NewStore(db, clk.Now)
	ctx := ctxT(t)
	version := func() string {
		t.Helper()
		v, err := st.Version(ctx, org)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	v0 := version()
	f, err := st.CreateFolder(ctx, org, Folder{Name: "Oslo"})
	if err != nil {
		t.Fatal(err)
	}
	v1 := version()
	clk.t = clk.t.Add(time.Second)
	anne, err := st.CreateEntry(ctx, org, Entry{FolderID: &f.ID, Kind: KindPerson, DisplayName: "Anne Berg", Addresses: []Address{
		{Kind: AddressSIP, Value: "sip:anne@x"}, {Kind: AddressTel, Label: "phone", Value: "+47 1"}, {Kind: AddressH323, Value: "anne"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateEntry(ctx, org, Entry{Kind: KindPerson, DisplayName: "No Address"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateEntry(ctx, other, Entry{Kind: KindPerson, DisplayName: "Bob", Addresses: []Address{{Kind: AddressSIP, Value: "sip:bob@x"}}}); err != nil {
		t.Fatal(err)
	}
	v2 := version()
	if v2 != version() {
		t.Error("the version changed without a change")
	}
	es, err := st.PublishedAll(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].ID != anne.ID || es[0].FolderID == nil || *es[0].FolderID != f.ID || len(es[0].Addresses) != 3 ||
		es[0].Addresses[0].Kind != AddressSIP || es[0].Addresses[1].Label != "phone" || es[0].Addresses[2].Value != "anne" {
		t.Fatalf("published entries: %+v", es)
	}
	clk.t = clk.t.Add(time.Second)
	name := "Anne Berg-Lie"
	if _, err := st.UpdateEntry(ctx, org, anne.ID, EntryPatch{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	v3 := version()
	if err := st.DeleteEntry(ctx, org, anne.ID); err != nil {
		t.Fatal(err)
	}
	v4 := version()
	seen := map[string]bool{}
	for _, v := range []string{v0, v1, v2, v3, v4} {
		if seen[v] {
			t.Errorf("versions repeat: %q", []string{v0, v1, v2, v3, v4})
		}
		seen[v] = true
	}
}
