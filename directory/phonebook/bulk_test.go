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
// how many there were.
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

	w = httptest.NewRecorder()
	srv.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/pb/"+token+YealinkBookPath, nil))
	if n := strings.Count(w.Body.String(), "<Unit "); w.Code != 200 || n != MaxBulkContacts {
		t.Errorf("Yealink phonebook: HTTP %d with %d units, want %d", w.Code, n, MaxBulkContacts)
	}
	if n := strings.Count(logged.String(), "answered with the first contacts only"); n != 2 {
		t.Errorf("%d log lines say the answer was cut, want 2:\n%s", n, logged.String())
	}
	if len(reqs) != 2 || reqs[0].Total != MaxBulkContacts+7 || reqs[0].ResultCount != MaxBulkContacts || reqs[1].Total != MaxBulkContacts+7 {
		t.Errorf("request log %+v", reqs)
	}
}

type logFunc func(Request)

func (f logFunc) Log(r Request) { f(r) }
