package directory

import "testing"

func TestSplitSimpleRDN(t *testing.T) {
	for _, tc := range []struct {
		dn, parent string
		ok         bool
	}{
		{"uid=u000001,ou=Site01,ou=People,dc=nordfjord,dc=example", "ou=Site01,ou=People,dc=nordfjord,dc=example", true},
		{"cn=Åse Øvrebø,ou=Oslo,dc=x", "ou=Oslo,dc=x", true},
		{"cn=O\\, Brien,ou=Oslo,dc=x", "", false},
		{"cn=\"A, B\",ou=Oslo,dc=x", "", false},
		{"cn=A+uid=b,ou=Oslo,dc=x", "", false},
		{"cn= padded,ou=Oslo,dc=x", "", false},
		{"cn=#04,ou=Oslo,dc=x", "", false},
		{"1cn=a,ou=Oslo,dc=x", "", false},
		{"=a,dc=x", "", false},
		{"cn=,dc=x", "", false},
		{"dc=example", "", false},
	} {
		parent, ok := splitSimpleRDN(tc.dn)
		if parent != tc.parent || ok != tc.ok {
			t.Errorf("splitSimpleRDN(%q) = %q, %v; want %q, %v", tc.dn, parent, ok, tc.parent, tc.ok)
		}
	}
}

// TestFolderOfCached checks that the folder paths cached by parent DN are
// those a fresh parse gives, and that entries outside the root are warned
// about each time.
func TestFolderOfCached(t *testing.T) {
	src := Source{KeyAttribute: "entryUUID", Folders: FolderMapping{Mode: "ou", Root: "dc=nordfjord,dc=example"}}
	var w warnings
	cached, err := newMapper(src, &w)
	if err != nil {
		t.Fatal(err)
	}
	dns := []string{
		"uid=a,ou=Oslo,ou=People,dc=nordfjord,dc=example",
		"uid=b,ou=Oslo,ou=People,dc=nordfjord,dc=example",
		"cn=Kari Nordmann (vikar),ou=Oslo,ou=People,dc=nordfjord,dc=example",
		"cn=O\\, Brien,ou=Bergen,ou=People,dc=nordfjord,dc=example",
		"uid=c,ou=Bergen,ou=People,dc=nordfjord,dc=example",
		"uid=d,ou=A\\2FB,dc=nordfjord,dc=example",
		"uid=e,dc=nordfjord,dc=example",
		"uid=f,ou=Elsewhere,dc=other",
		"uid=g,ou=Elsewhere,dc=other",
	}
	for _, dn := range dns {
		var fw warnings
		fresh, _ := newMapper(src, &fw)
		want := fresh.folderOf(&ldapRecord{dn: dn})
		if got := cached.folderOf(&ldapRecord{dn: dn}); got != want {
			t.Errorf("folder of %q: %q, want %q", dn, got, want)
		}
	}
	if got := w.count["outside the folder root, put in the root folder"]; got != 2 {
		t.Errorf("%d warnings for entries outside the root, want 2", got)
	}
	if len(cached.ouFolders) != 4 {
		t.Errorf("cached %d parents, want 4: %v", len(cached.ouFolders), cached.ouFolders)
	}
}
