package pbldap

import (
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/bifrost-video/bifrost/directory"
)

func TestTreeResolvesTheDNsItMakes(t *testing.T) {
	p := func(s string) *string { return &s }
	folders := []directory.Folder{
		{ID: "people", Name: "People"},
		{ID: "oslo", Name: "Oslo", ParentID: p("people")},
		{ID: "rnd", Name: "R&D, Lab #1 +x", ParentID: p("oslo")},
		{ID: "rooms", Name: "Rooms"},
	}
	base, err := ldap.ParseDN(DefaultBaseDN)
	if err != nil {
		t.Fatal(err)
	}
	tr := buildTree(folders, nil, DefaultBaseDN)
	for id, n := range tr.byID {
		tg, code, _ := tr.resolve(n.dn, base)
		if code != ldap.LDAPResultSuccess || tg.node != n || tg.entryID != "" {
			t.Errorf("folder %q: DN %q resolves to %+v, code %d", id, n.dn, tg, code)
		}
		dn := entryDN(n, "e-1")
		if tg, code, _ := tr.resolve(dn, base); code != ldap.LDAPResultSuccess || tg.node != n || tg.entryID != "e-1" {
			t.Errorf("entry DN %q resolves to %+v, code %d", dn, tg, code)
		}
	}
	if got := tr.byID["rnd"].dn; got != `ou=R&D\, Lab #1 \+x,ou=Oslo,ou=People,`+DefaultBaseDN {
		t.Errorf("escaped DN %q", got)
	}
	if _, code, matched := tr.resolve("ou=Bergen,ou=People,"+DefaultBaseDN, base); code != ldap.LDAPResultNoSuchObject || matched != "ou=People,"+DefaultBaseDN {
		t.Errorf("unknown folder: code %d, matched %q", code, matched)
	}
	if _, code, _ := tr.resolve("uid=x,uid=y,"+DefaultBaseDN, base); code != ldap.LDAPResultNoSuchObject {
		t.Errorf("uid in the middle: code %d", code)
	}

	scoped := buildTree(folders, p("oslo"), DefaultBaseDN)
	if scoped.root.id != "oslo" || len(scoped.byID) != 2 || scoped.byID["people"] != nil {
		t.Errorf("scoped tree: root %q, %d folders", scoped.root.id, len(scoped.byID))
	}
	if scoped.folderOf(&directory.Entry{}) != nil {
		t.Error("an entry in the organisation's root is visible to a folder scope")
	}
	gone := buildTree(folders, p("deleted"), DefaultBaseDN)
	if len(gone.root.children) != 0 || gone.folderOf(&directory.Entry{FolderID: p("oslo")}) != nil {
		t.Error("a deleted scope folder shows something")
	}
	// A parent cycle in the data does not hang.
	cyclic := buildTree([]directory.Folder{{ID: "a", Name: "A", ParentID: p("b")}, {ID: "b", Name: "B", ParentID: p("a")}}, p("a"), DefaultBaseDN)
	if len(cyclic.byID) != 2 || len(cyclic.root.subtree()) != 2 || cyclic.root.dn != DefaultBaseDN {
		t.Errorf("cycle: %d folders, subtree %d", len(cyclic.byID), len(cyclic.root.subtree()))
	}
}
