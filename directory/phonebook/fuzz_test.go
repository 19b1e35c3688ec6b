package phonebook

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseTMSRequest feeds the SOAP request parser arbitrary bodies, seeded
// with the real requests of soap/requests/: it never panics, every error is
// one of the sentinel kinds, and what it accepts renders as a well-formed
// answer.
func FuzzParseTMSRequest(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(fixtureDir, "soap", "requests", "*.xml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "Search")
		f.Add(b, "")
	}
	f.Add([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`), "Search")
	f.Add([]byte(`<s:Envelope xmlns:s="`+SOAPEnvelopeNS+`"><s:Body><GetPhonebooks xmlns="`+TMSNS+`"/></s:Body></s:Envelope>`), "GetPhonebooks")
	book := NewBook(nil, nil).View("", "Fuzz & <Co>")
	f.Fuzz(func(t *testing.T, body []byte, action string) {
		req, err := ParseTMSRequest(body, action)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnknownOperation) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			var b bytes.Buffer
			WriteFault(&b, "Client", err.Error())
			wellFormed(t, b.Bytes())
			return
		}
		if req.Operation != OpSearch && req.Operation != OpGetPhonebooks {
			t.Fatalf("accepted operation %q", req.Operation)
		}
		res := book.Search(Query{FolderID: req.SearchPath, Text: req.SearchString, Limit: req.MaxResult,
			StartFromID: req.StartFromID, EndAtID: req.EndAtID, Inclusive: req.Inclusive})
		var b bytes.Buffer
		WriteSearchResponse(&b, res)
		wellFormed(t, b.Bytes())
	})
}

func wellFormed(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() == "EOF" {
				return
			}
			t.Fatalf("answer is not well-formed XML: %v\n%s", err, b)
		}
	}
}
