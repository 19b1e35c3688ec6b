package phonebook

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/internal/benchtab"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// fillDirectory writes n published people in 20 folders straight into the
// directory's tables (migration 0005): a sync of that many takes minutes,
// and what is measured here is reading.
func fillDirectory(b *testing.B, db *sqlx.DB, org string, n int) {
	b.Helper()
	for _, q := range []string{
		`INSERT INTO directory_folders (organisation_id, name) SELECT $1, 'Site' || lpad(s::text, 2, '0') FROM generate_series(0, 19) s WHERE $2 > 0`,
		`WITH f AS (SELECT id, row_number() OVER (ORDER BY name) - 1 AS k FROM directory_folders WHERE organisation_id = $1)
		INSERT INTO directory_entries (organisation_id, folder_id, display_name, published, search_addresses)
		SELECT $1, f.id,
			(ARRAY['Åse','Bjørn','Kari','Per','Ingrid','Örjan','张','Thomas','Hanne','Eirik','Silje','Marius'])[i % 12 + 1] || ' ' ||
			(ARRAY['Nilsen','Østby','Berg','Hansen','Lindqvist','Söderberg','Wei','O''Brien','Øvrebø','Aasen','Dahl','Lund','Eira'])[(i / 12) % 13 + 1] ||
			' ' || lpad(i::text, 6, '0'),
			true, 'u' || lpad(i::text, 6, '0') || '@video.example'
		FROM generate_series(0, $2 - 1) i JOIN f ON f.k = i % 20`,
		`INSERT INTO directory_addresses (organisation_id, entry_id, position, kind, value)
		SELECT $1, e.id, p.pos, p.kind, CASE p.kind WHEN 'sip' THEN 'sip:' || e.search_addresses ELSE split_part(e.search_addresses, '@', 1) END
		FROM directory_entries e, (VALUES (0, 'sip'), (1, 'h323')) p(pos, kind) WHERE e.organisation_id = $1 AND $2 > 0`,
	} {
		if _, err := db.Exec(q, org, n); err != nil {
			b.Fatal(err)
		}
	}
	_, err := db.Exec(`ANALYZE directory_entries; ANALYZE directory_addresses`)
	if err != nil {
		b.Fatal(err)
	}
}

// measured is what measure saw: calls per second, the median and 99th
// percentile latency, and the process CPU time (getrusage: every thread,
// the clients' included) per call.
type measured struct {
	perSec   float64
	p50, p99 time.Duration
	cpu      time.Duration
}

// measure runs op from clients goroutines until n calls are done, after
// a warm-up of n/10 calls that is not measured (new HTTP connections, cold
// caches: what a running server has behind it).
func measure(b *testing.B, clients, n int, op func(i int) error) measured {
	b.Helper()
	for k := range n / 10 {
		if err := op(k); err != nil {
			b.Fatal(err)
		}
	}
	cpu0 := benchtab.ProcessCPU()
	lat := make([]time.Duration, n)
	var next sync.Mutex
	i := 0
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				k := i
				i++
				next.Unlock()
				if k >= n {
					return
				}
				t0 := time.Now()
				if err := op(k); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
				lat[k] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	cpu := benchtab.ProcessCPU() - cpu0
	slices.Sort(lat)
	return measured{perSec: float64(n) / elapsed.Seconds(), p50: lat[n/2], p99: lat[n*99/100], cpu: cpu / time.Duration(n)}
}

// measureOpen offers op at rate calls per second for n calls: an open
// loop, as independent endpoints ask. Call k starts at its scheduled time
// (Poisson arrivals: exponential gaps, a fixed seed), in its own goroutine,
// whether or not earlier calls have been answered, and its latency is timed
// from that scheduled time, not from when it actually started: a server
// (or a harness) that falls behind sees its lag in the figures instead of
// hiding it by asking less ("coordinated omission"). lag is the 99th
// percentile of how late the harness started calls, which wall-clock
// timers on a loaded machine make non-zero; it is part of p99 already.
func measureOpen(b *testing.B, n int, rate float64, op func(i int) error) (m measured, lag time.Duration) {
	b.Helper()
	rng := rand.New(rand.NewPCG(5, 2026))
	sched := make([]time.Duration, n)
	var at float64
	for k := range sched {
		at += rng.ExpFloat64() / rate
		sched[k] = time.Duration(at * float64(time.Second))
	}
	lat := make([]time.Duration, n)
	lags := make([]time.Duration, n)
	var wg sync.WaitGroup
	var errOnce sync.Once
	var firstErr error
	cpu0 := benchtab.ProcessCPU()
	start := time.Now()
	for k := range n {
		if d := sched[k] - time.Since(start); d > 0 {
			time.Sleep(d)
		}
		lags[k] = max(time.Since(start)-sched[k], 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := op(k); err != nil {
				errOnce.Do(func() { firstErr = err })
				return
			}
			lat[k] = time.Since(start) - sched[k]
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	cpu := benchtab.ProcessCPU() - cpu0
	slices.Sort(lat)
	slices.Sort(lags)
	return measured{perSec: float64(n) / elapsed.Seconds(), p50: lat[n/2], p99: lat[n*99/100], cpu: cpu / time.Duration(n)}, lags[n*99/100]
}

func (m measured) report(b *testing.B, prefix string) {
	b.ReportMetric(m.perSec, prefix+"-req/s")
	b.ReportMetric(float64(m.p50.Microseconds())/1000, prefix+"-p50-ms")
	b.ReportMetric(float64(m.p99.Microseconds())/1000, prefix+"-p99-ms")
	b.ReportMetric(float64(m.cpu.Microseconds()), prefix+"-cpu-us/op")
}

// BenchmarkTMSSearch100k: TMS Search requests over HTTP (token lookup, SOAP
// parse, query, answer, request log) against a directory of 100 000
// entries, each kind of request (a search string, a folder browse)
// measured two ways, next to directory.Search called directly with the
// same question and the in-memory query layer alone, in the same run.
//
// Closed loop (tms-, query-, ref-): 8 clients each send their next request
// when the previous answer arrives, as fast as they can. This gives the
// throughput (tms-req/s: what the server answers with both cores busy) and
// CPU per request; its p50/p99 are mostly queueing, 8 requests in flight
// on 2 cores (the clients, in this process, included), so a closed-loop
// p99 is about 4 service times plus GC and scheduling and grows with the
// number of clients, not with what one endpoint waits.
//
// Open loop (open-): requests arrive on a schedule, Poisson at half the
// closed-loop throughput just measured (open-offered-req/s), each started
// whether or not earlier ones were answered and timed from its scheduled
// start (measureOpen), so queueing behind other requests still counts.
// This is what an endpoint sees: endpoints are independent, each sends
// one request when a user presses a key, seconds apart, and a site's
// endpoints together make an arrival stream, not 8 clients in lockstep.
// The aim (p99 < 5 ms for a search string, < 2 ms for a folder browse) is
// judged on open-p99-ms at that offered load; the closed-loop figures
// stay next to it, for throughput and for comparison with earlier runs.
//
// Both loops post with endpointClient, a minimal HTTP/1.1 client: the
// clients stand for endpoints on other machines, and net/http's client in
// this process cost more CPU and garbage than the server it measured.
//
// On a shared, loaded machine the wall-clock figures are noise (the
// open-lag-p99-ms metric shows how late the harness itself started
// requests); cpu-us/op is not.
func BenchmarkTMSSearch100k(b *testing.B) {
	const n, clients, calls = 100000, 8, 1000
	db := pgtest.New(b)
	org := newOrg(b, db, "Bench")
	fillDirectory(b, db, org, n)
	e := newEnv(b, db, Config{})
	token := e.newToken(b, org, TokenInput{})
	e.tokens.CacheFor(5 * time.Second) // as serve runs it
	st := directory.NewStore(db, nil)
	ctx := context.Background()
	// Warm the book (the first request loads it).
	t0 := time.Now()
	if _, err := e.cache.Book(ctx, org); err != nil {
		b.Fatal(err)
	}
	load := time.Since(t0)
	site07 := e.folderID(b, token, "Site07")
	var site07Dir string
	if err := db.Get(&site07Dir, `SELECT id FROM directory_folders WHERE organisation_id = $1 AND name = 'Site07'`, org); err != nil {
		b.Fatal(err)
	}
	searches := []string{"berg", "øvrebø 01", "per hansen", "0421", "lindqvist 09999", "xyz"}
	client := newEndpointClient(strings.TrimPrefix(e.srv.URL, "http://"), "/pb/"+token+TMSPath, `"`+TMSNS+`Search"`)
	defer client.close()
	post := client.post
	book, err := e.cache.Book(ctx, org)
	if err != nil {
		b.Fatal(err)
	}
	view := book.View("", "Bench")
	for _, k := range []struct {
		name string
		tms  func(i int) string
		book func(i int) Query
		ref  func(i int) directory.Query
	}{
		{"search", func(i int) string { return searchBody("", searches[i%len(searches)], 50, "") },
			func(i int) Query { return Query{Text: searches[i%len(searches)], Limit: 50} },
			func(i int) directory.Query {
				return directory.Query{Text: searches[i%len(searches)], PublishedOnly: true, Limit: 50}
			}},
		{"browse", func(i int) string { return searchBody(site07, "", 50, "") },
			func(i int) Query { return Query{FolderID: site07, Limit: 50} },
			func(i int) directory.Query {
				return directory.Query{FolderID: &site07Dir, PublishedOnly: true, Limit: 50}
			}},
	} {
		b.Run(k.name, func(b *testing.B) {
			var tms, open, query, ref measured
			var lag time.Duration
			for it := 0; it < b.N; it++ {
				tms = measure(b, clients, calls, func(i int) error { return post(k.tms(i)) })
				open, lag = measureOpen(b, calls, tms.perSec/2, func(i int) error { return post(k.tms(i)) })
				query = measure(b, clients, calls, func(i int) error { view.Search(k.book(i)); return nil })
				ref = measure(b, clients, calls, func(i int) error {
					_, err := st.Search(ctx, org, k.ref(i))
					return err
				})
			}
			b.ReportMetric(load.Seconds(), "load-100k-s")
			query.report(b, "query")
			tms.report(b, "tms")
			b.ReportMetric(tms.perSec/2, "open-offered-req/s")
			b.ReportMetric(float64(open.p50.Microseconds())/1000, "open-p50-ms")
			b.ReportMetric(float64(open.p99.Microseconds())/1000, "open-p99-ms")
			b.ReportMetric(float64(open.cpu.Microseconds()), "open-cpu-us/op")
			b.ReportMetric(float64(lag.Microseconds())/1000, "open-lag-p99-ms")
			ref.report(b, "ref")
		})
	}
}

// endpointClient posts SOAP requests as an endpoint does: HTTP/1.1 on
// kept-alive connections, a request written in one piece, the answer read
// by its Content-Length (or chunks). It stands for endpoints on other machines; in
// this process it should cost little, since its CPU and garbage are shared
// with the server's (net/http's client costs several times the server's
// own work on a browse). An open loop's overlapping requests take idle
// connections or dial new ones.
type endpointClient struct {
	addr, path, action string
	idle               chan *endpointConn
}

type endpointConn struct {
	c   net.Conn
	r   *bufio.Reader
	buf []byte
}

func newEndpointClient(addr, path, action string) *endpointClient {
	return &endpointClient{addr: addr, path: path, action: action, idle: make(chan *endpointConn, 256)}
}

// post sends body and reads the answer, which must be 200 with a
// Content-Length.
func (ec *endpointClient) post(body string) error {
	var c *endpointConn
	select {
	case c = <-ec.idle:
	default:
		nc, err := net.Dial("tcp", ec.addr)
		if err != nil {
			return err
		}
		c = &endpointConn{c: nc, r: bufio.NewReaderSize(nc, 64<<10)}
	}
	if err := c.roundTrip(ec, body); err != nil {
		c.c.Close()
		return err
	}
	select {
	case ec.idle <- c:
	default:
		c.c.Close()
	}
	return nil
}

func (c *endpointConn) roundTrip(ec *endpointClient, body string) error {
	c.buf = append(c.buf[:0], "POST "...)
	c.buf = append(c.buf, ec.path...)
	c.buf = append(c.buf, " HTTP/1.1\r\nHost: "...)
	c.buf = append(c.buf, ec.addr...)
	c.buf = append(c.buf, "\r\nContent-Type: text/xml; charset=utf-8\r\nSOAPAction: "...)
	c.buf = append(c.buf, ec.action...)
	c.buf = append(c.buf, "\r\nContent-Length: "...)
	c.buf = strconv.AppendInt(c.buf, int64(len(body)), 10)
	c.buf = append(c.buf, "\r\n\r\n"...)
	c.buf = append(c.buf, body...)
	if _, err := c.c.Write(c.buf); err != nil {
		return err
	}
	status, err := c.r.ReadSlice('\n')
	if err != nil {
		return err
	}
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 200 ")) {
		return fmt.Errorf("answer %q", bytes.TrimSpace(status))
	}
	length, chunked := -1, false
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			break
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		switch {
		case !ok:
		case strings.EqualFold(string(k), "Content-Length"):
			if length, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return err
			}
		case strings.EqualFold(string(k), "Transfer-Encoding"):
			chunked = strings.EqualFold(string(bytes.TrimSpace(v)), "chunked")
		}
	}
	switch {
	case chunked:
		return c.discardChunks()
	case length < 0:
		return fmt.Errorf("an answer without Content-Length")
	}
	_, err = c.r.Discard(length)
	return err
}

// discardChunks reads a chunked body (RFC 9112 §7.1) to its end: what a
// server that does not set Content-Length sends past 2 KiB.
func (c *endpointConn) discardChunks() error {
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		size, _, _ := bytes.Cut(bytes.TrimSpace(line), []byte(";"))
		n, err := strconv.ParseInt(string(size), 16, 64)
		if err != nil {
			return fmt.Errorf("chunk size %q: %w", size, err)
		}
		if n == 0 {
			for { // trailer fields, then the empty line
				line, err := c.r.ReadSlice('\n')
				if err != nil {
					return err
				}
				if len(bytes.TrimSpace(line)) == 0 {
					return nil
				}
			}
		}
		if _, err := c.r.Discard(int(n) + 2); err != nil { // the chunk and its CRLF
			return err
		}
	}
}

func (ec *endpointClient) close() {
	for {
		select {
		case c := <-ec.idle:
			c.c.Close()
		default:
			return
		}
	}
}

// BenchmarkBookSearch100k measures the in-memory query layer alone (no
// database, no HTTP) over 100 000 generated entries in 20 folders: a search
// string and a folder browse, each next to a plain loop calling
// strings.Contains on every lower-case name (the naive reference), in the
// same run.
func BenchmarkBookSearch100k(b *testing.B) {
	first := []string{"Åse", "Bjørn", "Kari", "Per", "Ingrid", "Örjan", "张", "Thomas", "Hanne", "Eirik", "Silje", "Marius"}
	last := []string{"Nilsen", "Østby", "Berg", "Hansen", "Lindqvist", "Söderberg", "Wei", "O'Brien", "Øvrebø", "Aasen", "Dahl", "Lund", "Eira"}
	var fs []directory.Folder
	for s := 0; s < 20; s++ {
		fs = append(fs, directory.Folder{ID: fmt.Sprintf("f%02d", s), Name: fmt.Sprintf("Site%02d", s)})
	}
	es := make([]directory.Entry, 100000)
	lower := make([]string, len(es))
	for i := range es {
		name := fmt.Sprintf("%s %s %06d", first[i%12], last[(i/12)%13], i)
		f := fs[i%20].ID
		es[i] = directory.Entry{ID: fmt.Sprintf("%08d", i), FolderID: &f, DisplayName: name,
			Addresses: []directory.Address{{Kind: directory.AddressSIP, Value: fmt.Sprintf("sip:u%06d@video.example", i)}}}
		lower[i] = strings.ToLower(name)
	}
	v := NewBook(fs, es).View("", "Bench")
	searches := []string{"berg", "øvrebø 01", "per hansen", "0421", "lindqvist 09999", "xyz"}
	b.Run("search", func(b *testing.B) {
		i := 0
		for b.Loop() {
			v.Search(Query{Text: searches[i%len(searches)], Limit: 50})
			i++
		}
	})
	b.Run("search-naive-reference", func(b *testing.B) {
		i := 0
		for b.Loop() {
			n, s := 0, strings.ToLower(searches[i%len(searches)])
			for _, l := range lower {
				if strings.Contains(l, s) {
					n++
				}
			}
			i++
		}
	})
	b.Run("browse", func(b *testing.B) {
		for b.Loop() {
			v.Search(Query{FolderID: "c_f07", Limit: 50})
		}
	})
}
