package phonebook

import (
	"iter"
	"math"
	"strings"

	"github.com/bifrost-video/bifrost/directory"
)

// The book as directory data, for protocols that show more of an entry than
// a Contact holds (LDAP's attributes) and arrange the folders themselves
// (LDAP's tree of every folder). The entries are the book's contacts, in the
// book's order: LDAP answers from the same snapshot, and with the same
// entries, as TMS, Yealink and Cisco IP phones.

// DirectoryFolders returns the directory's folders the book was built from,
// every one (with contacts below it or not). The caller must not change
// them.
func (b *Book) DirectoryFolders() []directory.Folder { return b.dirFolders }

// DirectoryEntry returns the published entry with the directory ID id. The
// caller must not change it.
func (b *Book) DirectoryEntry(id string) (*directory.Entry, bool) {
	k, ok := b.byID["e_"+id]
	if !ok || k >= 0 {
		return nil, false
	}
	return b.contacts[^k].entry, true
}

// DirectoryEntries yields the published entries whose display name contains
// text (case-insensitive, as Query.Text; "" every entry), in the book's
// order, each with its position in that sequence, starting at position
// from: a position is where a later call continues (LDAP's paging).
func (b *Book) DirectoryEntries(text string, from int) iter.Seq2[int, *directory.Entry] {
	return func(yield func(int, *directory.Entry) bool) {
		from = max(from, 0)
		text = strings.ReplaceAll(text, "\x00", "")
		if text == "" {
			for i := from; i < len(b.contacts); i++ {
				if !yield(i, b.contacts[i].entry) {
					return
				}
			}
			return
		}
		list := b.match(text, false, 0, math.MaxInt)
		for i := from; i < len(list); i++ {
			if !yield(i, b.contacts[^list[i]].entry) {
				return
			}
		}
	}
}
