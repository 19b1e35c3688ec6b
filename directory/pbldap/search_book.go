package pbldap

import (
	"github.com/go-ldap/ldap/v3"

	"github.com/bifrost-video/bifrost/directory/phonebook"
)

// runBook is run over the organisation's book in memory (Options.Books): the
// folders in scope, then the entries, in the book's order. Where the filter
// names a text every matching entry has in its name or an address, the book
// narrows the candidates to those; the filter is still evaluated exactly on
// each.
// A paged search's cursor counts positions in that candidate sequence, which
// is the same for every page while the book is (a reload between pages may
// shift it by an entry, as a change did in the store).
func (s *searcher) runBook(baseDN string) error {
	c, req := s.c, s.req
	b, err := c.srv.books.Book(s.ctx, c.scope.OrganisationID)
	if err != nil {
		return err
	}
	t := c.srv.trees.get(b, c.scope, c.srv.cfg.BaseDN)
	tg, code, matched := t.resolve(baseDN, c.srv.base)
	if code != ldap.LDAPResultSuccess {
		s.res.code, s.res.matched = code, matched
		return nil
	}
	if tg.entryID != "" {
		e, ok := b.DirectoryEntry(tg.entryID)
		if !ok || t.folderOf(e) != tg.node {
			s.res.code, s.res.matched = ldap.LDAPResultNoSuchObject, tg.node.dn
			return nil
		}
		if req.scope != 0 && req.scope != 2 || s.cur.folder > 0 {
			return nil // one level below an entry: nothing
		}
		le := personEntry(entryDN(tg.node, e.ID), e)
		if req.filter.matches(le) {
			if _, err := s.emit(le, cursor{}); err != nil {
				return err
			}
		}
		return nil
	}
	nodes, stop, err := s.folders(t, tg)
	if stop || err != nil || req.scope == 0 {
		if err == nil && !stop {
			s.done()
		}
		return err
	}

	// Which folders' entries are in scope: one folder (one level, or a
	// subtree without sub-folders), a subtree, or every visible one.
	one := req.scope == 1 || len(tg.node.children) == 0
	var within map[*folderNode]bool
	if !one && tg.node != t.root {
		within = map[*folderNode]bool{}
		for _, n := range tg.node.subtree() {
			within[n] = true
		}
	}
	// The filter is evaluated on the attributes it names; only a match is
	// built whole, with its DN.
	need := req.filter.attrs()
	for pos, e := range b.DirectoryEntries(req.filter.bookText(), s.cur.offset) {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		n := t.folderOf(e)
		if n == nil || one && n != tg.node || within != nil && !within[n] {
			continue
		}
		if !req.filter.matches(personAttrs("", e, need)) {
			continue
		}
		le := personEntry(entryDN(n, e.ID), e)
		if stop, err := s.emit(le, cursor{folder: len(nodes), offset: pos}); stop || err != nil {
			return err
		}
	}
	s.done()
	return nil
}

// folders sends the folder entries in scope that match, from the cursor's
// folder on, and returns the folders the scope lists; stop is set when a
// limit ended the search.
func (s *searcher) folders(t *tree, tg target) (nodes []*folderNode, stop bool, err error) {
	switch s.req.scope {
	case 0:
		nodes = []*folderNode{tg.node}
	case 1:
		nodes = tg.node.children
	case 2:
		nodes = tg.node.subtree()
	}
	for i := s.cur.folder; i < len(nodes); i++ {
		if err := s.ctx.Err(); err != nil {
			return nil, false, err
		}
		n := nodes[i]
		le := folderEntry(n.dn, n.name)
		if n == t.root {
			le = s.c.srv.baseEntry()
		}
		if !s.req.filter.matches(le) {
			continue
		}
		if stop, err := s.emit(le, cursor{folder: i}); stop || err != nil {
			return nil, true, err
		}
	}
	return nodes, false, nil
}

var _ Books = (*phonebook.Cache)(nil)
