package phonebook

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// bulkBook has n contacts, alternately in the root and in folder "Sub".
func bulkBook(n int) *Book {
	sub := "sub"
	fs := []directory.Folder{{ID: sub, Name: "Sub"}}
	es := make([]directory.Entry, n)
	for i := range es {
		es[i] = directory.Entry{ID: fmt.Sprintf("%06d", i), DisplayName: fmt.Sprintf("Person %06d", i),
			Addresses: []directory.Address{{Kind: directory.AddressSIP, Value: fmt.Sprintf("sip:p%d@x.example", i)}}}
		if i%2 == 1 {
			es[i].FolderID = &sub
		}
	}
	return NewBook(fs, es)
}

// TestContactsPageIsTheSliceOfEveryContact: a page of the whole book or of a
// folder's view is that part of the full list, however it is cut.
func TestContactsPageIsTheSliceOfEveryContact(t *testing.T) {
	b := bulkBook(101)
	for _, v := range []View{b.View("", "All"), b.View("Sub", "Sub"), b.View("Nope", "None")} {
		var all []*Contact
		for i := range b.contacts {
			c := &b.contacts[i]
			if v.root >= 0 && c.pre >= b.folders[v.root].pre && c.pre < b.folders[v.root].end {
				all = append(all, c)
			}
		}
		for _, r := range [][2]int{{0, 0}, {0, 10}, {5, 32}, {90, 32}, {0, 1000}, {200, 5}, {-3, 4}} {
			got, total := v.ContactsPage(r[0], r[1])
			from := min(max(r[0], 0), len(all))
			want := all[from:min(len(all), from+r[1])]
			if total != len(all) || !slices.Equal(got, want) {
				t.Errorf("view %q page %v: %d contacts of %d, want %d of %d", v.Title, r, len(got), total, len(want), len(all))
			}
		}
	}
}

// TestUnpagedAnswersAreBounded: GetPhonebooks and the whole Yealink
// phonebook, which have no paging, answer the first MaxBulkContacts
// contacts of a bigger book, say so in the log, and the request log keeps
// how many there were. GetPhonebooks says it is not the last page (see
// TestGetPhonebooksPages).
func TestUnpagedAnswersAreBounded(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Big")
	book := bulkBook(MaxBulkContacts + 7)
	tokens := NewTokens(db, nil)
	_, token, err := tokens.Create(ctxT(t), org, TokenInput{}, "")
	if err != nil {
		t.Fatal(err)
	}
	cache := NewCache(func(context.Context, string) (*Book, error) { return book, nil }, nil, time.Hour, nil, nil)
	defer cache.Close()
	var logged bytes.Buffer
	var reqs []Request
	srv := NewServer(Config{}, Deps{Tokens: tokens, Cache: cache, Logger: slog.New(slog.NewTextHandler(&logged, nil)),
		Log: logFunc(func(r Request) { reqs = append(reqs, r) })}).Handler()

	req := httptest.NewRequest(http.MethodPost, "/pb/"+token+TMSPath, strings.NewReader(
		`<s:Envelope xmlns:s="`+SOAPEnvelopeNS+`"><s:Body><GetPhonebooks xmlns="`+TMSNS+`"/></s:Body></s:Envelope>`))
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	env := parseTMS(t, w.Body.String())
	if w.Code != 200 || env.Body.Get == nil || len(env.Body.Get.Result.Catalogs) != 1 {
		t.Fatalf("GetPhonebooks: HTTP %d", w.Code)
	}
	if n := len(env.Body.Get.Result.Catalogs[0].Entries); n != MaxBulkContacts {
		t.Errorf("GetPhonebooks sent %d entries, want the first %d", n, MaxBulkContacts)
	}
	if r := env.Body.Get.Result; r.IsLast != "false" || r.NoOfEntries != MaxBulkContacts+7 {
		t.Errorf("GetPhonebooks cut at %d: IsLast %s, NoOfEntries %d; want false and %d", MaxBulkContacts, r.IsLast, r.NoOfEntries, MaxBulkContacts+7)
	}

	w = httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/pb/"+token+YealinkBookPath, nil))
	if n := strings.Count(w.Body.String(), "<Unit "); w.Code != 200 || n != MaxBulkContacts {
		t.Errorf("Yealink phonebook: HTTP %d with %d units, want %d", w.Code, n, MaxBulkContacts)
	}
	if n := strings.Count(logged.String(), "answered with part of the contacts") + strings.Count(logged.String(), "answered with the first contacts only"); n != 2 {
		t.Errorf("%d log lines say the answer was cut, want 2:\n%s", n, logged.String())
	}
	if len(reqs) != 2 || reqs[0].Total != MaxBulkContacts+7 || reqs[0].ResultCount != MaxBulkContacts || reqs[1].Total != MaxBulkContacts+7 {
		t.Errorf("request log %+v", reqs)
	}
}

// TestGetPhonebooksPages: a phonebook bigger than MaxBulkContacts is
// answered by GetPhonebooks in pages. The first says it is not the last
// (IsLast false on the last entry, the catalog and the result) and counts
// every contact (NoOfEntries); asking again with StartFromId = the last
// entry's Id, as a client pages Search (PROTOCOLS.md §1.7), gives the
// rest, the last page saying so. The pages together are every contact of
// the token's view, once each, in order: for the whole book and for a
// token limited to a folder.
func TestGetPhonebooksPages(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Big")
	const n = 2*MaxBulkContacts + 3 // the folder "Sub" holds MaxBulkContacts + 1
	book := bulkBook(n)
	tokens := NewTokens(db, nil)
	cache := NewCache(func(context.Context, string) (*Book, error) { return book, nil }, nil, time.Hour, nil, nil)
	defer cache.Close()
	srv := NewServer(Config{}, Deps{Tokens: tokens, Cache: cache}).Handler()
	get := func(token, startFrom string) tmsResult {
		t.Helper()
		body := `<s:Envelope xmlns:s="` + SOAPEnvelopeNS + `"><s:Body><GetPhonebooks xmlns="` + TMSNS + `">` +
			`<SystemIdentifier><SystemName>room</SystemName></SystemIdentifier><Routing>None</Routing>`
		if startFrom != "" {
			body += `<StartFromId>` + startFrom + `</StartFromId><RangeInclusive>false</RangeInclusive>`
		}
		body += `</GetPhonebooks></s:Body></s:Envelope>`
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/pb/"+token+TMSPath, strings.NewReader(body)))
		env := parseTMS(t, w.Body.String())
		if w.Code != 200 || env.Body.Get == nil || len(env.Body.Get.Result.Catalogs) != 1 {
			t.Fatalf("GetPhonebooks from %q: HTTP %d", startFrom, w.Code)
		}
		return env.Body.Get.Result
	}
	for _, tt := range []struct {
		folder string
		want   []string // every contact's Id in order
	}{
		{"", nil},
		{"Sub", nil},
	} {
		v := book.View(tt.folder, "")
		for _, c := range v.Contacts() {
			tt.want = append(tt.want, c.ID)
		}
		tok, token, err := tokens.Create(ctxT(t), org, TokenInput{}, "")
		if err != nil {
			t.Fatal(err)
		}
		if tt.folder != "" {
			// A folder token of a book that is not in the database: its
			// path is set directly.
			if _, err := db.Exec(`UPDATE phonebook_tokens SET folder_path = $1 WHERE id = $2`, tt.folder, tok.ID); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		startFrom := ""
		for page := 0; ; page++ {
			if page > 3 {
				t.Fatalf("view %q: more than 3 pages", tt.folder)
			}
			r := get(token, startFrom)
			c := r.Catalogs[0]
			if r.NoOfEntries != len(tt.want) || c.NoOfEntries != len(tt.want) {
				t.Errorf("view %q page %d: NoOfEntries %d and %d, want %d", tt.folder, page, r.NoOfEntries, c.NoOfEntries, len(tt.want))
			}
			if first := fmt.Sprint(page == 0); r.IsFirst != first || c.IsFirst != first {
				t.Errorf("view %q page %d: IsFirst %s and %s, want %s", tt.folder, page, r.IsFirst, c.IsFirst, first)
			}
			if len(c.Entries) == 0 || len(c.Entries) > MaxBulkContacts {
				t.Fatalf("view %q page %d: %d entries", tt.folder, page, len(c.Entries))
			}
			for i, e := range c.Entries {
				got = append(got, e.ID)
				if e.IsFirst != fmt.Sprint(i == 0) || e.IsLast != fmt.Sprint(i == len(c.Entries)-1) {
					t.Fatalf("view %q page %d entry %d of %d: IsFirst %s, IsLast %s", tt.folder, page, i, len(c.Entries), e.IsFirst, e.IsLast)
				}
			}
			done := len(got) == len(tt.want)
			if last := fmt.Sprint(done); r.IsLast != last || c.IsLast != last {
				t.Fatalf("view %q page %d after %d of %d contacts: IsLast %s and %s, want %s", tt.folder, page, len(got), len(tt.want), r.IsLast, c.IsLast, last)
			}
			if done {
				break
			}
			startFrom = c.Entries[len(c.Entries)-1].ID
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("view %q: the pages hold %d contacts, not the view's %d in order", tt.folder, len(got), len(tt.want))
		}
	}
}

// TestContactPosition: where GetPhonebooks continues, for Ids of the
// view, of another folder, of the previous book and unknown ones.
func TestContactPosition(t *testing.T) {
	old := bulkBook(10)
	b := bulkBook(8) // contacts 8 and 9 vanished
	b.prev = old
	all, sub := b.View("", ""), b.View("Sub", "")
	for _, tt := range []struct {
		v         View
		id        string
		inclusive bool
		want      int
	}{
		{all, "e_000003", false, 4},
		{all, "e_000003", true, 3},
		{all, "e_000009", false, 8}, // vanished: after the 8 that sort before it
		{all, "e_999999", false, 8}, // unknown: the end
		{all, "c_sub", false, 0},    // a folder: the start
		{sub, "e_000003", false, 2}, // 1 and 3 are Sub's
		{sub, "e_000004", false, 2}, // not Sub's: after Sub's 1 and 3
		{sub, "e_000004", true, 2},
		{sub, "e_000009", false, 4}, // vanished: Sub's 1, 3, 5, 7 before it
	} {
		if got := tt.v.ContactPosition(tt.id, tt.inclusive); got != tt.want {
			t.Errorf("view at %q: ContactPosition(%s, %v) = %d, want %d", tt.v.Path(""), tt.id, tt.inclusive, got, tt.want)
		}
	}
}

type logFunc func(Request)

func (f logFunc) Log(r Request) { f(r) }
