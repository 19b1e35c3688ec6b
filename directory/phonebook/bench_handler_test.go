package phonebook

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/internal/benchtab"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// benchBook is the 100 000 generated people in 20 folders that
// BenchmarkBookSearch100k searches, each with a SIP and an H.323 address as
// fillDirectory writes them.
func benchBook() *Book {
	first := []string{"Åse", "Bjørn", "Kari", "Per", "Ingrid", "Örjan", "张", "Thomas", "Hanne", "Eirik", "Silje", "Marius"}
	last := []string{"Nilsen", "Østby", "Berg", "Hansen", "Lindqvist", "Söderberg", "Wei", "O'Brien", "Øvrebø", "Aasen", "Dahl", "Lund", "Eira"}
	var fs []directory.Folder
	for s := 0; s < 20; s++ {
		fs = append(fs, directory.Folder{ID: fmt.Sprintf("f%02d", s), Name: fmt.Sprintf("Site%02d", s)})
	}
	es := make([]directory.Entry, 100000)
	for i := range es {
		f := fs[i%20].ID
		es[i] = directory.Entry{ID: fmt.Sprintf("%08d", i), FolderID: &f, DisplayName: fmt.Sprintf("%s %s %06d", first[i%12], last[(i/12)%13], i),
			Addresses: []directory.Address{{Kind: directory.AddressSIP, Value: fmt.Sprintf("sip:u%06d@video.example", i)},
				{Kind: directory.AddressH323, Value: fmt.Sprintf("u%06d", i)}}}
	}
	return NewBook(fs, es)
}

// BenchmarkTMSHandler100k profiles one TMS Search end to end inside the
// server, without the network: token lookup (cached, as serve runs it),
// SOAP parse, query, rendering and the request log, through ServeHTTP with
// a recorder, over a book of 100 000 entries. Each kind of request runs next
// to the in-memory query alone (query-…), in the same run; cpu-us/op is the
// process CPU time (getrusage) per request, which a loaded machine does not
// inflate the way it inflates wall time.
func BenchmarkTMSHandler100k(b *testing.B) {
	db := pgtest.New(b)
	org := newOrg(b, db, "Bench")
	book := benchBook()
	tokens := NewTokens(db, nil).CacheFor(time.Hour)
	_, token, err := tokens.Create(context.Background(), org, TokenInput{}, "")
	if err != nil {
		b.Fatal(err)
	}
	cache := NewCache(func(context.Context, string) (*Book, error) { return book, nil }, nil, time.Hour, nil, nil)
	defer cache.Close()
	rl := NewRequestLog(db, RequestLogConfig{FlushInterval: 20 * time.Millisecond}, nil)
	defer rl.Close()
	h := NewServer(Config{}, Deps{Tokens: tokens, Cache: cache, Log: rl}).Handler()
	view := book.View("", "Bench")
	searches := []string{"berg", "øvrebø 01", "per hansen", "0421", "lindqvist 09999", "xyz"}
	kinds := []struct {
		name string
		body func(i int) string
		q    func(i int) Query
	}{
		{"search", func(i int) string { return searchBody("", searches[i%len(searches)], 50, "") },
			func(i int) Query { return Query{Text: searches[i%len(searches)], Limit: 50} }},
		{"browse", func(int) string { return searchBody("c_f07", "", 50, "") },
			func(int) Query { return Query{FolderID: "c_f07", Limit: 50} }},
	}
	for _, k := range kinds {
		bodies := make([]string, 6)
		for i := range bodies {
			bodies[i] = k.body(i)
		}
		b.Run("tms-"+k.name, func(b *testing.B) {
			i := 0
			cpu0 := benchtab.ProcessCPU()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/pb/"+token+TMSPath, strings.NewReader(bodies[i%len(bodies)]))
				req.Header.Set("SOAPAction", `"`+TMSNS+`Search"`)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("HTTP %d: %s", w.Code, w.Body)
				}
				i++
			}
			b.ReportMetric(float64((benchtab.ProcessCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
		})
		// handler-…: the same request through ServeHTTP with a writer that
		// keeps nothing (as a server's connection, which sends the bytes
		// on), so that B/op and allocs/op are the handler's own and not
		// the recorder's growing body.
		b.Run("handler-"+k.name, func(b *testing.B) {
			var w discardWriter
			var body strings.Reader
			tmpl := httptest.NewRequest(http.MethodPost, "/pb/"+token+TMSPath, nil)
			tmpl.Header.Set("SOAPAction", `"`+TMSNS+`Search"`)
			i := 0
			b.ReportAllocs()
			cpu0 := benchtab.ProcessCPU()
			for b.Loop() {
				body.Reset(bodies[i%len(bodies)])
				req, u := *tmpl, *tmpl.URL
				req.URL, req.Body = &u, io.NopCloser(&body)
				w.reset()
				h.ServeHTTP(&w, &req)
				if w.code != http.StatusOK || w.n == 0 {
					b.Fatalf("HTTP %d, %d bytes", w.code, w.n)
				}
				i++
			}
			b.ReportMetric(float64((benchtab.ProcessCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
		})
		b.Run("query-"+k.name, func(b *testing.B) {
			i := 0
			cpu0 := benchtab.ProcessCPU()
			for b.Loop() {
				view.Search(k.q(i))
				i++
			}
			b.ReportMetric(float64((benchtab.ProcessCPU()-cpu0).Microseconds())/float64(b.N), "cpu-us/op")
		})
	}
}

// discardWriter is an http.ResponseWriter that counts what is written and
// keeps one header map across requests.
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *discardWriter) reset() {
	if w.h == nil {
		w.h = http.Header{}
	}
	clear(w.h)
	w.code, w.n = 0, 0
}

func (w *discardWriter) Header() http.Header { return w.h }

func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	w.n += len(p)
	return len(p), nil
}
