package pbldap

import (
	"context"
	"sync"

	"github.com/bifrost-video/bifrost/directory/phonebook"
)

// Books gives an organisation's phonebook in memory: phonebook.Cache, the
// one query layer TMS, Yealink and Cisco IP phones answer from. With Books,
// the server answers from the same snapshot and never asks the database
// while a client searches.
type Books interface {
	Book(ctx context.Context, orgID string) (*phonebook.Book, error)
}

// treeCache keeps the tree of each organisation's book and scope: a tree is
// built once per book (directory version), not per search.
type treeCache struct {
	mu    sync.Mutex
	trees map[treeKey]cachedTree
}

type treeKey struct{ org, folder string }

type cachedTree struct {
	book *phonebook.Book
	t    *tree
}

// get returns the tree of book b seen from scope's folder below baseDN.
func (tc *treeCache) get(b *phonebook.Book, sc Scope, baseDN string) *tree {
	k := treeKey{org: sc.OrganisationID}
	if sc.FolderID != nil {
		k.folder = *sc.FolderID
	}
	tc.mu.Lock()
	c, ok := tc.trees[k]
	tc.mu.Unlock()
	if ok && c.book == b {
		return c.t
	}
	t := buildTree(b.DirectoryFolders(), sc.FolderID, baseDN)
	tc.mu.Lock()
	if tc.trees == nil || len(tc.trees) > 10000 {
		tc.trees = map[treeKey]cachedTree{} // many organisations: start over rather than grow
	}
	tc.trees[k] = cachedTree{book: b, t: t}
	tc.mu.Unlock()
	return t
}
