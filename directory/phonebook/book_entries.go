package phonebook

import (
	"iter"
	"math"
	"slices"
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

// DirectoryEntries yields the published entries whose display name or one
// of whose addresses in its search form (see addressForms) contains text
// (case-insensitive; "" every entry), in the book's order, each with its
// position in that sequence, starting at position from: a position is
// where a later call continues (LDAP's paging).
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
		// Both lists ascend: merge them, once each.
		names := b.match(text, false, 0, math.MaxInt)
		addrs := b.matchAddresses(strings.ToLower(text))
		pos := 0
		for j, k := 0, 0; j < len(names) || k < len(addrs); pos++ {
			var i int
			switch {
			case k == len(addrs) || j < len(names) && ^names[j] < addrs[k]:
				i = ^names[j]
				j++
			case j == len(names) || addrs[k] < ^names[j]:
				i = addrs[k]
				k++
			default: // both
				i = addrs[k]
				j++
				k++
			}
			if pos >= from && !yield(pos, b.contacts[i].entry) {
				return
			}
		}
	}
}

// matchAddresses returns the contacts (ascending) one of whose address
// search forms contains needle (lower case).
func (b *Book) matchAddresses(needle string) []int {
	var out []int
	for at := 0; at < len(b.addrHay); {
		j := strings.Index(b.addrHay[at:], needle)
		if j < 0 {
			break
		}
		pos := int32(at + j)
		i, found := slices.BinarySearch(b.addrOffs, pos)
		if !found {
			i--
		}
		for i+1 < len(b.addrOffs) && b.addrOffs[i+1] == b.addrOffs[i] {
			i++ // contacts without addresses share an offset
		}
		if i >= len(b.contacts) {
			break
		}
		out = append(out, i)
		at = int(b.addrOffs[i+1])
	}
	return out
}

// addressForms writes e's addresses as an address search finds them, each
// followed by NUL: SIP without its scheme and H.323 without "h323:", lower
// case; numbers (E.164, telephone) as their digits alone.
func addressForms(w *strings.Builder, e *directory.Entry) {
	if e == nil {
		return
	}
	for _, a := range e.Addresses {
		switch a.Kind {
		case directory.AddressSIP, directory.AddressH323:
			w.WriteString(strings.ToLower(route(a).DialString))
		default:
			for _, r := range a.Value {
				if r >= '0' && r <= '9' {
					w.WriteRune(r)
				}
			}
		}
		w.WriteByte(0)
	}
}
