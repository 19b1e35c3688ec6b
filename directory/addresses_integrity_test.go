package directory

import (
	"errors"
	"testing"

	"github.com/lib/pq"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// TestAddressesBelongToEntries checks what the statement triggers of
// migration 0013 keep from the foreign key they replaced: no address without
// its entry, and an entry's addresses go with it however it goes.
func TestAddressesBelongToEntries(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	ctx := ctxT(t)
	s := NewStore(db, nil)
	org := newOrg(t, db, "Nordfjord")
	other := newOrg(t, db, "Other")
	countAddrs := func(orgID string) int {
		t.Helper()
		var n int
		if err := db.Get(&n, `SELECT count(*) FROM directory_addresses WHERE organisation_id = $1`, orgID); err != nil {
			t.Fatal(err)
		}
		return n
	}
	mk := func(orgID, name string) Entry {
		t.Helper()
		e, err := s.CreateEntry(ctx, orgID, Entry{DisplayName: name, Addresses: []Address{
			{Kind: AddressSIP, Value: name + "@video.example"}, {Kind: AddressTel, Value: "+47 55 99 20 08", Label: "phone"}}})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}

	t.Run("an address of a missing entry is refused as a foreign key violation", func(t *testing.T) {
		e := mk(org, "kari")
		_, err := db.Exec(`INSERT INTO directory_addresses (organisation_id, entry_id, position, kind, value)
			VALUES ($1, $2, 5, 'sip', 'a@b'), ($1, 'c4ca4238-a0b9-2382-0dcc-509a6f75849b', 0, 'sip', 'x@y')`, org, e.ID)
		var pqErr *pq.Error
		if !errors.As(err, &pqErr) || pqErr.Code != "23503" {
			t.Fatalf("insert: %v, want a foreign key violation (23503)", err)
		}
		if got, err := s.GetEntry(ctx, org, e.ID); err != nil || len(got.Addresses) != 2 {
			t.Errorf("the entry after the refused insert: %v %+v, want its two addresses", err, got.Addresses)
		}
		_, err = db.Exec(`UPDATE directory_addresses SET entry_id = 'c4ca4238-a0b9-2382-0dcc-509a6f75849b' WHERE entry_id = $1`, e.ID)
		if !errors.As(err, &pqErr) || pqErr.Code != "23503" {
			t.Errorf("moving addresses to a missing entry: %v, want a foreign key violation (23503)", err)
		}
	})

	t.Run("deleting an entry deletes its addresses and no others", func(t *testing.T) {
		a, b := mk(org, "per"), mk(org, "ingrid")
		before := countAddrs(org)
		if err := s.DeleteEntry(ctx, org, a.ID); err != nil {
			t.Fatal(err)
		}
		if got := countAddrs(org); got != before-2 {
			t.Errorf("addresses after deleting one entry: %d, want %d", got, before-2)
		}
		if got, err := s.GetEntry(ctx, org, b.ID); err != nil || len(got.Addresses) != 2 {
			t.Errorf("the other entry: %v %+v, want its two addresses", err, got.Addresses)
		}
	})

	t.Run("deleting an organisation deletes its entries' addresses", func(t *testing.T) {
		mk(other, "åse")
		if countAddrs(other) != 2 {
			t.Fatal("no addresses to delete")
		}
		if _, err := db.Exec(`DELETE FROM organisations WHERE id = $1`, other); err != nil {
			t.Fatal(err)
		}
		if got := countAddrs(other); got != 0 {
			t.Errorf("addresses of a deleted organisation: %d, want 0", got)
		}
		if countAddrs(org) == 0 {
			t.Error("the other organisation's addresses went too")
		}
	})

	t.Run("deleting an LDAP source deletes its entries' addresses", func(t *testing.T) {
		src, err := s.CreateSource(ctx, org, SourceInput{Source: Source{Name: "ad", URL: "ldap://127.0.0.1:1", BaseDNs: []string{"dc=x"}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var id string
		if err := db.Get(&id, `INSERT INTO directory_entries (organisation_id, display_name, source_id, source_key)
			VALUES ($1, 'Synced', $2, 'k1') RETURNING id`, org, src.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO directory_addresses (organisation_id, entry_id, position, kind, value) VALUES ($1, $2, 0, 'sip', 's@x')`, org, id); err != nil {
			t.Fatal(err)
		}
		before := countAddrs(org)
		if err := s.DeleteSource(ctx, org, src.ID); err != nil {
			t.Fatal(err)
		}
		if got := countAddrs(org); got != before-1 {
			t.Errorf("addresses after deleting the source: %d, want %d", got, before-1)
		}
	})
}
