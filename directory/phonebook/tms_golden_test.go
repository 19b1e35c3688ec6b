package phonebook

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/bifrost-video/bifrost/directory"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/tms-answers.golden")

// goldenBook is a small book with what escaping and rendering must get
// right: markup characters, control characters, invalid UTF-8, empty names,
// every kind of route, nested folders.
func goldenBook() *Book {
	p, c, e := "p", "c", "e"
	fs := []directory.Folder{{ID: p, Name: "People & <Co>"}, {ID: c, Name: `Child "quoted"`, ParentID: &p}, {ID: e, Name: "Empty"}}
	names := []string{"Anne Berg", "Berg, Marius", "O'Brien <ceo> & co", "Tab\there", "ctl\x01\x1f", "bad\xff utf8", "", "张伟 (Zhang Wei)",
		"Øvrebø \"Hanne\"", "Room > 1", "A&amp;B", "\uFFFE nonchar"}
	var es []directory.Entry
	for i, n := range names {
		var f *string
		switch i % 3 {
		case 1:
			f = &p
		case 2:
			f = &c
		}
		as := []directory.Address{{Kind: directory.AddressSIP, Value: fmt.Sprintf("sip:u%d@x.example", i)}}
		if i%2 == 0 {
			as = append(as, directory.Address{Kind: directory.AddressH323, Value: fmt.Sprintf("h323:u<%d>&", i)})
		}
		if i%4 == 0 {
			as = append(as, directory.Address{Kind: directory.AddressE164, Value: fmt.Sprintf("+47 21 99 10 %02d", i)})
		}
		if i == 5 {
			as = []directory.Address{{Kind: directory.AddressE164, Value: "555"}}
		}
		es = append(es, directory.Entry{ID: fmt.Sprintf("%04d", i), FolderID: f, DisplayName: n, Addresses: as})
	}
	return NewBook(fs, es)
}

// TestTMSAnswersAreByteIdentical renders Search and GetPhonebooks answers of
// a fixed book and compares them byte for byte with the answers the
// renderer gave before its fragments were kept per book
// (testdata/tms-answers.golden, written by the earlier renderer).
func TestTMSAnswersAreByteIdentical(t *testing.T) {
	b := goldenBook()
	var out bytes.Buffer
	for _, title := range []string{"Nordfjord & Co", ""} {
		v := b.View("", title)
		for _, q := range []Query{
			{}, {FolderID: "c_p"}, {FolderID: "c_c"}, {FolderID: "c_nope"}, {Text: "berg"}, {Text: "e"}, {Text: "&"},
			{Text: "e", Limit: 2}, {Text: "e", Limit: 2, StartFromID: "e_0001"}, {Limit: 1, EndAtID: "e_0004", Inclusive: true},
		} {
			// Twice: the second answer comes from the kept fragments.
			for range 2 {
				fmt.Fprintf(&out, "\n== Search %+v\n", q)
				WriteSearchResponse(&out, v.Search(q))
			}
		}
		for range 2 {
			out.WriteString("\n== GetPhonebooks\n")
			WriteGetPhonebooksResponse(&out, v, v.Contacts())
		}
	}
	sub := b.View("People & <Co>/Child \"quoted\"", "Sub")
	out.WriteString("\n== GetPhonebooks sub\n")
	WriteGetPhonebooksResponse(&out, sub, sub.Contacts())
	fmt.Fprintf(&out, "\n== Search sub\n")
	WriteSearchResponse(&out, sub.Search(Query{}))
	out.WriteString("\n== Fault\n")
	WriteFault(&out, "Client", "bad <input> & \x01")

	path := filepath.Join("testdata", "tms-answers.golden")
	if *updateGolden {
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		got, wantS := out.String(), string(want)
		i := 0
		for i < len(got) && i < len(wantS) && got[i] == wantS[i] {
			i++
		}
		t.Fatalf("answers differ from %s at byte %d:\ngot  …%.200q\nwant …%.200q", path, i, got[i:], wantS[i:])
	}
}
