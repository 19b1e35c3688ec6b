package pbldap

import (
	"bytes"
	"strings"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// TestSearchEntryEncodingIsTheSameAsThePackets holds the hand encoder to
// the go-asn1-ber packets it replaced: the same bytes for short and long
// values, long forms of every length, many attributes, typesOnly, and
// message IDs around the octet boundaries.
func TestSearchEntryEncodingIsTheSameAsThePackets(t *testing.T) {
	long := strings.Repeat("x", 300)
	huge := strings.Repeat("y", 70000)
	entries := []struct {
		dn    string
		attrs []attribute
	}{
		{"", nil},
		{"ou=phonebook,o=bifrost", []attribute{{name: "objectClass", values: []string{"top", "organizationalUnit"}}}},
		{"uid=1,ou=Oslo,ou=phonebook,o=bifrost", []attribute{{name: "cn", values: []string{"Anne Berg"}}, {name: "empty"},
			{name: "telephoneNumber", values: []string{"+47 21 99 10 01", "", long}}}},
		{long, []attribute{{name: long, values: []string{huge}}}},
	}
	var many []attribute
	for i := 0; i < 40; i++ {
		many = append(many, attribute{name: "description", values: []string{strings.Repeat("z", i*5)}})
	}
	entries = append(entries, struct {
		dn    string
		attrs []attribute
	}{"uid=many", many})
	for _, e := range entries {
		for _, typesOnly := range []bool{false, true} {
			for _, id := range []int64{0, 1, 127, 128, 255, 256, 32767, 32768, 1<<31 - 1} {
				want := envelope(id, searchEntry(e.dn, e.attrs, typesOnly)).Bytes()
				got := appendSearchEntry(nil, id, e.dn, e.attrs, typesOnly)
				if !bytes.Equal(got, want) {
					t.Errorf("dn %.20q, %d attributes, typesOnly %v, id %d: %d bytes differ from the packets' %d",
						e.dn, len(e.attrs), typesOnly, id, len(got), len(want))
				}
			}
		}
	}
}

// searchEntry is a SearchResultEntry (RFC 4511 §4.5.2) as packets: what
// appendSearchEntry replaced, the reference it is held to.
func searchEntry(dn string, attrs []attribute, typesOnly bool) *ber.Packet {
	p := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationSearchResultEntry, nil, "")
	p.AppendChild(octets(dn))
	list := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	for _, a := range attrs {
		seq := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
		seq.AppendChild(octets(a.name))
		set := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSet, nil, "")
		if !typesOnly {
			for _, v := range a.values {
				set.AppendChild(octets(v))
			}
		}
		seq.AppendChild(set)
		list.AppendChild(seq)
	}
	p.AppendChild(list)
	return p
}
