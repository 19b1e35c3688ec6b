package directory

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// decodeAll decodes every message of a response stream, copying what it
// reads, and returns the first error other than a clean end.
func decodeAll(b []byte) ([]ldapMessage, error) {
	br := berReader{r: bufio.NewReader(bytes.NewReader(b))}
	var out []ldapMessage
	var m ldapMessage
	for {
		err := br.next(&m)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		c := m
		c.attrs = nil
		for _, a := range m.attrs {
			c.attrs = append(c.attrs, ldapAttr{name: a.name, vals: append([]string(nil), a.vals...)})
		}
		out = append(out, c)
	}
}

func TestDecodeSlapdResponses(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "ldap", "slapd-responses.ber"))
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := decodeAll(raw)
	if err != nil {
		t.Fatalf("decoding what slapd sent: %v", err)
	}
	var entries, pages, lastCookies int
	var anne *ldapMessage
	for i, m := range msgs {
		switch m.op {
		case tagSearchResEntry:
			entries++
			if strings.HasPrefix(m.dn, "cn=Anne Berg,") {
				anne = &msgs[i]
			}
		case tagSearchResDone:
			if m.res.code != 0 {
				t.Errorf("search done with result %d (%s)", m.res.code, m.res.diagnostic)
			}
			if m.paged {
				pages++
				if len(m.cookie) == 0 {
					lastCookies++
				}
			}
		}
	}
	if msgs[0].op != tagBindResponse || msgs[0].res.code != 0 {
		t.Errorf("first message: %+v, want a successful bind response", msgs[0])
	}
	if pages == 0 || lastCookies == 0 || lastCookies > pages {
		t.Errorf("%d paged results, %d of them last pages", pages, lastCookies)
	}
	if anne == nil {
		t.Fatalf("no entry for Anne Berg among %d entries", entries)
	}
	rec := &ldapRecord{dn: anne.dn, attrs: anne.attrs}
	if got := rec.Values("labeleduri"); len(got) != 2 || !strings.HasPrefix(got[0], "sip:") {
		t.Errorf("Anne Berg's labeledURI: %q, want her SIP and H.323 URIs", got)
	}
	if got := rec.Values("displayname"); len(got) != 1 || got[0] != "Anne Berg" {
		t.Errorf("Anne Berg's displayName: %q", got)
	}
	// Every cut of the stream short of a message's end is an error, never
	// a panic or a message made up of what is missing.
	ends := 0
	for n := range len(raw) {
		ms, err := decodeAll(raw[:n])
		if err == nil {
			ends++
			if len(ms) == len(msgs) {
				t.Fatalf("a stream cut at %d of %d bytes decoded to every message", n, len(raw))
			}
		}
	}
	if ends != len(msgs) {
		t.Errorf("%d cuts fell between messages, want %d", ends, len(msgs))
	}
}

func TestDecodeRejectsMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"not a sequence", []byte{0x04, 0x00}},
		{"indefinite length", []byte{0x30, 0x80, 0, 0}},
		{"a length past the message", []byte{0x30, 0x05, 0x02, 0x09, 0x01}},
		{"a message ID of nine bytes", []byte{0x30, 0x0b, 0x02, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"a request where a response belongs", []byte{0x30, 0x05, 0x02, 0x01, 0x01, 0x42, 0x00}},
		{"an entry whose attribute list is an octet string", []byte{0x30, 0x09, 0x02, 0x01, 0x02, 0x64, 0x04, 0x04, 0x00, 0x04, 0x00}},
		{"a message beyond the size limit", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeAll(tc.b); err == nil {
				t.Errorf("% x decoded without an error", tc.b)
			}
		})
	}
}

func FuzzLDAPResponses(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join("testdata", "ldap", "slapd-responses.ber"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	// Each message alone too.
	for rest := raw; len(rest) > 0; {
		_, _, next, err := tlv(rest)
		if err != nil {
			break
		}
		f.Add(rest[:len(rest)-len(next)])
		rest = next
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, _ := decodeAll(b)
		for _, m := range msgs {
			for _, a := range m.attrs {
				if len(a.name) > len(b) {
					t.Fatalf("attribute name longer than the input")
				}
			}
		}
	})
}
