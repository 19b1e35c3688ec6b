package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/cdr"
)

// TestPrivacyFindsDirectoryEntries checks that a subject access request finds
// a person's phonebook entries by name, SIP address or phone number (written
// differently than stored), that erasure deletes exactly those entries with
// their addresses, and that another organisation's entries stay out of both.
func TestPrivacyFindsDirectoryEntries(t *testing.T) {
	t.Parallel()
	e := newDirEnv(t)
	ctx := context.Background()
	mk := func(token, name string, addrs ...map[string]any) string {
		t.Helper()
		st, m, body := e.do(t, token, "POST", "/api/v1/directory/entries", map[string]any{"display_name": name, "title": "Engineer", "addresses": addrs})
		if st != 201 {
			t.Fatalf("create %q: %d %s", name, st, body)
		}
		return m["id"].(string)
	}
	hanne := mk(e.adminA, "Hanne Øvrebø", map[string]any{"kind": "sip", "value": "sip:Hanne.Ovrebo@Acme.example"},
		map[string]any{"kind": "tel", "label": "mobile", "value": "+47 912 34 567"})
	other := mk(e.adminA, "Ola Nordmann", map[string]any{"kind": "sip", "value": "ola@acme.example"})
	mk(e.adminB, "Hanne Øvrebø", map[string]any{"kind": "sip", "value": "hanne.ovrebo@acme.example"})

	p := &cdr.Privacy{DB: e.db, Sources: cdrHooks().Sources}
	for _, subject := range []string{"hanne.ovrebo@acme.example", "sip:hanne.ovrebo@acme.example", "+4791234567", "HANNE ØVREBØ"} {
		s, err := cdr.ParseSubject(subject)
		if err != nil {
			t.Fatal(err)
		}
		exp, err := p.Export(ctx, e.orgA, s)
		if err != nil {
			t.Fatalf("export %q: %v", subject, err)
		}
		b, _ := json.Marshal(exp.Other["directory_entries"])
		if !strings.Contains(string(b), hanne) || !strings.Contains(string(b), "+47 912 34 567") || strings.Contains(string(b), other) || strings.Count(string(b), `"display_name"`) != 1 {
			t.Errorf("export of %q: %s", subject, b)
		}
	}

	s, _ := cdr.ParseSubject("hanne.ovrebo@acme.example")
	counts, err := p.Erase(ctx, e.orgA, s)
	if err != nil || counts["directory_entries"] != 1 {
		t.Fatalf("erase: %v %v", counts, err)
	}
	if st, _, _ := e.do(t, e.adminA, "GET", "/api/v1/directory/entries/"+hanne, nil); st != 404 {
		t.Errorf("the erased entry: %d", st)
	}
	var left int
	if err := e.db.Get(&left, `SELECT count(*) FROM directory_addresses WHERE entry_id = $1`, hanne); err != nil || left != 0 {
		t.Errorf("%d addresses left of the erased entry (%v)", left, err)
	}
	if st, _, _ := e.do(t, e.adminA, "GET", "/api/v1/directory/entries/"+other, nil); st != 200 {
		t.Errorf("another person's entry after the erasure: %d", st)
	}
	_, m, _ := e.do(t, e.adminB, "GET", "/api/v1/directory/entries?q=ovrebo", nil)
	if m["total"] != float64(1) {
		t.Errorf("organisation B's entry after A's erasure: %v", m)
	}
}
