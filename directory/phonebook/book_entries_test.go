package phonebook

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/directory"
)

// TestDirectoryEntriesFindNamesAndAddresses compares DirectoryEntries with
// a plain scan: an entry is there when its lower-case name, a SIP or H.323
// address without its scheme, or a number's digits contain the text, in the
// book's order, from every position.
func TestDirectoryEntriesFindNamesAndAddresses(t *testing.T) {
	var es []directory.Entry
	for i := 0; i < 120; i++ {
		as := []directory.Address{{Kind: directory.AddressSIP, Value: fmt.Sprintf("sip:User%d@Video.example", i)}}
		if i%3 == 0 {
			as = append(as, directory.Address{Kind: directory.AddressH323, Value: fmt.Sprintf("h323:room%d", i)},
				directory.Address{Kind: directory.AddressTel, Label: "phone", Value: fmt.Sprintf("+47 21 99 %02d %02d", i%100, i%7)})
		}
		if i%5 == 0 {
			as = append(as, directory.Address{Kind: directory.AddressE164, Value: fmt.Sprintf("+4790%04d", i)},
				directory.Address{Kind: directory.AddressTel, Label: "mobile", Value: fmt.Sprintf("(+47) 900-%03d", i)})
		}
		es = append(es, directory.Entry{ID: fmt.Sprintf("%04d", i), DisplayName: fmt.Sprintf("Person %d Berg", i), Addresses: as})
	}
	b := NewBook(nil, es)
	forms := func(c *Contact) string {
		var w strings.Builder
		addressForms(&w, c.entry)
		return w.String()
	}
	for _, text := range []string{"", "berg", "user1", "USER1@video", "room3", "4721990", "900012", "90001", "0", "x", "son 1", "@"} {
		var want []string
		for i := range b.contacts {
			c := &b.contacts[i]
			if text == "" || strings.Contains(c.lower, strings.ToLower(text)) || strings.Contains(forms(c), strings.ToLower(text)) {
				want = append(want, c.EntryID)
			}
		}
		for _, from := range []int{0, 1, 17, len(want), len(want) + 3} {
			var got []string
			next := from
			for pos, e := range b.DirectoryEntries(text, from) {
				if pos != next {
					t.Fatalf("%q from %d: position %d, want %d", text, from, pos, next)
				}
				next++
				got = append(got, e.ID)
			}
			w := want[min(from, len(want)):]
			if !slices.Equal(got, w) && !(len(got) == 0 && len(w) == 0) {
				t.Errorf("%q from %d:\n got %v\nwant %v", text, from, got, w)
			}
		}
	}
}
