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

// FuzzParseImport feeds the CSV import: any input gives rows or an error,
// never a crash, and every row without an error is a valid entry.
func FuzzParseImport(f *testing.F) {
	f.Add("id,name,kind,title,department,organisation,folder,addresses\n,\"Smith, \"\"Bob\"\"\",person,'=1+1,,,Øst/Vest,\"sip: bob@x\ntel mobile: +47 1\"\n")
	f.Add("name\nHanne Øvrebø\n\"unterminated\n")
	f.Add("\ufeffName,Kind\nx,robot\n,person\n")
	f.Add("id,name\n00000000-0000-4000-8000-000000000001,Known\n")
	f.Fuzz(func(t *testing.T, text string) {
		rows, err := parseImport(strings.NewReader(text), func(id string) (directory.Entry, error) {
			if id == "00000000-0000-4000-8000-000000000001" {
				return directory.Entry{ID: id}, nil
			}
			return directory.Entry{}, directory.ErrNotFound
		})
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.Error != "" {
				continue
			}
			if strings.TrimSpace(r.Entry.DisplayName) == "" || !r.Entry.Kind.Valid() || (r.Action != "add" && r.Action != "update") {
				t.Fatalf("%q: row %+v", text, r)
			}
		}
	})
}
