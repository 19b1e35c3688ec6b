package main

import (
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/directory"
)

// FuzzParseAddresses feeds the entry form's address lines: bad input is an
// error naming the line, never a crash, and what parses writes back to lines
// that parse to the same addresses.
func FuzzParseAddresses(f *testing.F) {
	for _, s := range []string{"sip: alice@example.com\ntel mobile: +47 912 34 567", "h323: 10.0.0.1", "e164:4721991001", "fax: 1", ":", "tel  : x", "sip:sip:bob@x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		as, err := parseAddresses(text)
		if err != nil {
			if !strings.Contains(err.Error(), "line ") {
				t.Fatalf("%q: %v", text, err)
			}
			return
		}
		lines := make([]string, 0, len(as))
		for _, a := range as {
			if !a.Kind.Valid() || a.Value == "" {
				t.Fatalf("%q gave %+v", text, a)
			}
			lines = append(lines, addressLine(a))
		}
		again, err := parseAddresses(strings.Join(lines, "\n"))
		if err != nil || len(again) != len(as) {
			t.Fatalf("%q: round trip %v %+v", text, err, again)
		}
		for i := range as {
			if again[i] != (directory.Address{Kind: as[i].Kind, Label: as[i].Label, Value: as[i].Value}) {
				t.Fatalf("%q: %+v became %+v", text, as[i], again[i])
			}
		}
	})
}
