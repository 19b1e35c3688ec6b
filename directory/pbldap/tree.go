package pbldap

import (
	"sort"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/bifrost-video/bifrost/directory"
)

// folderNode is a folder in the tree a bound client sees; the root stands
// for the base DN.
type folderNode struct {
	id       string // "" for the organisation's root
	name     string
	dn       string
	children []*folderNode
}

// tree is the visible part of an organisation's folders: the Scope's folder
// (or the organisation's root) as the base DN, and everything below it.
type tree struct {
	root *folderNode
	byID map[string]*folderNode // only nodes inside the scope
}

// buildTree arranges the folders below baseDN. A scope folder that no longer
// exists leaves an empty tree.
func buildTree(folders []directory.Folder, scopeFolder *string, baseDN string) *tree {
	all := map[string]*folderNode{"": {id: ""}}
	for _, f := range folders {
		all[f.ID] = &folderNode{id: f.ID, name: f.Name}
	}
	for _, f := range folders {
		parent := ""
		if f.ParentID != nil {
			parent = *f.ParentID
		}
		if p, ok := all[parent]; ok && parent != f.ID {
			p.children = append(p.children, all[f.ID])
		}
	}
	root := all[""]
	if scopeFolder != nil {
		if root = all[*scopeFolder]; root == nil {
			root = &folderNode{id: *scopeFolder} // deleted since: nothing to see
		}
	}
	t := &tree{root: root, byID: map[string]*folderNode{}}
	root.dn = baseDN
	var walk func(n *folderNode)
	walk = func(n *folderNode) {
		if _, seen := t.byID[n.id]; seen {
			return // a cycle in the data; show each folder once
		}
		t.byID[n.id] = n
		sort.Slice(n.children, func(i, j int) bool {
			return strings.ToLower(n.children[i].name) < strings.ToLower(n.children[j].name)
		})
		for _, c := range n.children {
			if _, seen := t.byID[c.id]; seen {
				continue
			}
			c.dn = "ou=" + ldap.EscapeDN(c.name) + "," + n.dn
			walk(c)
		}
	}
	walk(root)
	return t
}

// subtree returns n and every folder below it, parents first.
func (n *folderNode) subtree() []*folderNode {
	out := []*folderNode{n}
	seen := map[*folderNode]bool{n: true}
	for i := 0; i < len(out); i++ {
		for _, c := range out[i].children {
			if !seen[c] { // a parent cycle in the data lists each folder once
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out
}

// folderOf returns the visible folder an entry is in, or nil when the entry
// lies outside the scope.
func (t *tree) folderOf(e *directory.Entry) *folderNode {
	id := ""
	if e.FolderID != nil {
		id = *e.FolderID
	}
	return t.byID[id]
}

// entryDN is the DN of an entry in folder n.
func entryDN(n *folderNode, id string) string { return "uid=" + ldap.EscapeDN(id) + "," + n.dn }

// target is what a DN names.
type target struct {
	node    *folderNode // the folder, or the entry's folder
	entryID string      // set when the DN names an entry
}

// resolve finds what dn names below base. It returns the LDAP result code and
// the matched DN when it names nothing (RFC 4511 §4.1.9).
func (t *tree) resolve(dn string, base *ldap.DN) (target, uint16, string) {
	d, err := ldap.ParseDN(dn)
	if err != nil {
		return target{}, ldap.LDAPResultInvalidDNSyntax, ""
	}
	extra := len(d.RDNs) - len(base.RDNs)
	if extra < 0 || !(&ldap.DN{RDNs: d.RDNs[extra:]}).EqualFold(base) {
		return target{}, ldap.LDAPResultNoSuchObject, ""
	}
	n := t.root
	for i := extra - 1; i >= 0; i-- {
		rdn := d.RDNs[i]
		if len(rdn.Attributes) != 1 {
			return target{}, ldap.LDAPResultNoSuchObject, n.dn
		}
		typ, val := strings.ToLower(rdn.Attributes[0].Type), rdn.Attributes[0].Value
		switch {
		case typ == "ou":
			var next *folderNode
			for _, c := range n.children {
				if strings.EqualFold(c.name, val) {
					next = c
					break
				}
			}
			if next == nil {
				return target{}, ldap.LDAPResultNoSuchObject, n.dn
			}
			n = next
		case (typ == "uid" || typ == "userid") && i == 0:
			return target{node: n, entryID: val}, ldap.LDAPResultSuccess, ""
		default:
			return target{}, ldap.LDAPResultNoSuchObject, n.dn
		}
	}
	return target{node: n}, ldap.LDAPResultSuccess, ""
}
