package pbldap

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/directory/phonebook"
	"github.com/bifrost-video/bifrost/internal/benchtab"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

var (
	benchFirst = []string{"Åse", "Bjørn", "Kari", "Per", "Ingrid", "Örjan", "张", "Thomas", "Hanne", "Eirik", "Silje", "Marius"}
	benchLast  = []string{"Nilsen", "Østby", "Berg", "Hansen", "Lindqvist", "Söderberg", "Wei", "OBrien", "Øvrebø", "Aasen", "Dahl", "Lund", "Eira"}
)

// fillBench writes n published people into 20 folders of a new organisation:
// "First Last<k>" with a SIP address and a phone number.
func fillBench(b *testing.B, db *sqlx.DB, n int) string {
	b.Helper()
	org := newOrg(b, db, "Bench")
	var folders []string
	if err := db.Select(&folders, `INSERT INTO directory_folders (organisation_id, name)
		SELECT $1, 'Site' || lpad(g::text, 2, '0') FROM generate_series(0, 19) g RETURNING id`, org); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`
		INSERT INTO directory_entries (organisation_id, folder_id, kind, display_name, published, search_addresses)
		SELECT $1, ($2::uuid[])[1 + g % 20], 'person',
			($3::text[])[1 + g % 12] || ' ' || ($4::text[])[1 + (g / 12) % 13] || (g / 156)::text,
			true, 'u' || g || '@video.example +4721' || lpad(g::text, 6, '0')
		FROM generate_series(0, $5 - 1) g`, org, folders, benchFirst, benchLast, n); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`
		INSERT INTO directory_addresses (organisation_id, entry_id, position, kind, label, value)
		SELECT organisation_id, id, 0, 'sip', '', split_part(search_addresses, ' ', 1) FROM directory_entries WHERE organisation_id = $1
		UNION ALL
		SELECT organisation_id, id, 1, 'tel', 'phone', split_part(search_addresses, ' ', 2) FROM directory_entries WHERE organisation_id = $1`, org); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`ANALYZE directory_entries; ANALYZE directory_addresses`); err != nil {
		b.Fatal(err)
	}
	return org
}

// runConcurrent runs n operations on clients workers and returns the
// throughput and the 99th percentile latency.
func runConcurrent(b *testing.B, clients, n int, op func(worker, i int) error) (perSec float64, p99 time.Duration) {
	b.Helper()
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	start := time.Now()
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += clients {
				t0 := time.Now()
				if err := op(w, i); err != nil {
					errs <- err
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	return float64(n) / elapsed.Seconds(), all[min(len(all)-1, len(all)*99/100)]
}

// BenchmarkSearch100k: Poly-style name searches (prefix on displayName,
// givenName, sn, cn; size limit 200) from 8 concurrent LDAP clients over
// 100 000 entries: a server that asks the store for each search (searches/s,
// p99-ms), the same server answering from the phonebook's books in memory as
// serve runs it (book-…; book-cpu-us/op is process CPU per search, clients
// included), and the same texts through directory.Store.Search called
// directly (reference), measured in the same run. The LDAP clients
// (go-ldap) run in this process on the same CPUs as the server; server-mean-ms
// (the server's time per search) and store-mean-ms (its directory.Search
// calls) show where the time goes.
func BenchmarkSearch100k(b *testing.B) {
	const n, clients = 100000, 8
	db := pgtest.New(b)
	// Keep as many idle connections as clients: database/sql keeps 2 by
	// default, and a new PostgreSQL connection per search would be measured.
	db.SetMaxIdleConns(clients * 2)
	org := fillBench(b, db, n)
	store := directory.NewStore(db, nil)
	auth := AuthenticatorFunc(func(context.Context, string, string) (Scope, error) { return Scope{OrganisationID: org}, nil })
	var mu sync.Mutex
	var serverTime time.Duration
	var served int
	td := &timedDir{Directory: store}
	srv := startServer(b, Config{}, Options{Directory: td, Authenticator: auth, Log: func(l RequestLog) {
		mu.Lock()
		serverTime += l.Duration
		served++
		mu.Unlock()
	}})
	// The same server answering from the phonebook's books in memory, as
	// serve runs it.
	cache := phonebook.NewCache(phonebook.StoreLoader(store), phonebook.VersionOf(store), time.Hour, nil, nil)
	defer cache.Close()
	t0 := time.Now()
	if _, err := cache.Book(context.Background(), org); err != nil {
		b.Fatal(err)
	}
	load := time.Since(t0)
	bookSrv := startServer(b, Config{}, Options{Books: cache, Authenticator: auth})
	dial := func(url string) []*ldap.Conn {
		conns := make([]*ldap.Conn, clients)
		for i := range conns {
			c, err := ldap.DialURL(url)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { c.Close() })
			if err := c.Bind("cn=bench", "token"); err != nil {
				b.Fatal(err)
			}
			conns[i] = c
		}
		return conns
	}
	conns := dial("ldap://" + srv.Addr().String())
	bookConns := dial("ldap://" + bookSrv.Addr().String())
	// Texts a user types: a surname and the first digits of its number,
	// each matching 11–111 entries.
	var texts []string
	for i := 0; i < 64; i++ {
		texts = append(texts, fmt.Sprintf("%s%d", benchLast[i%len(benchLast)], 10+i*7%90))
	}
	ctx := context.Background()
	search := func(conns []*ldap.Conn) func(w, i int) error {
		return func(w, i int) error {
			x := ldap.EscapeFilter(texts[i%len(texts)])
			filter := fmt.Sprintf("(&(objectClass=inetOrgPerson)(|(displayName=%[1]s*)(givenName=%[1]s*)(sn=%[1]s*)(cn=%[1]s*)))", x)
			sr, err := conns[w].Search(ldap.NewSearchRequest(DefaultBaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 200, 0, false,
				filter, []string{"displayName", "telephoneNumber", "SIPIdentitySIPURI"}, nil))
			if err == nil && len(sr.Entries) == 0 {
				err = fmt.Errorf("%s: no entries", filter)
			}
			return err
		}
	}
	ldapOp, bookOp := search(conns), search(bookConns)
	refOp := func(_, i int) error {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := store.Search(cctx, org, directory.Query{Text: texts[i%len(texts)], PublishedOnly: true, Limit: 200})
		return err
	}
	// Warm every path (and PostgreSQL's cache) with every text first.
	runConcurrent(b, clients, len(texts), ldapOp)
	runConcurrent(b, clients, len(texts), refOp)
	runConcurrent(b, clients, len(texts), bookOp)
	mu.Lock()
	serverTime, served = 0, 0
	mu.Unlock()
	td.reset()
	// The reference first, then the server: neither runs on a colder cache.
	b.StopTimer()
	refRate, refP99 := runConcurrent(b, clients, b.N, refOp)
	b.StartTimer()
	ldapRate, ldapP99 := runConcurrent(b, clients, b.N, ldapOp)
	b.StopTimer()
	cpu0 := benchtab.ProcessCPU()
	bookRate, bookP99 := runConcurrent(b, clients, b.N, bookOp)
	bookCPU := benchtab.ProcessCPU() - cpu0
	b.ReportMetric(bookRate, "book-searches/s")
	b.ReportMetric(float64(bookP99.Microseconds())/1000, "book-p99-ms")
	b.ReportMetric(float64(bookCPU.Microseconds())/float64(b.N), "book-cpu-us/op")
	b.ReportMetric(load.Seconds(), "book-load-s")
	b.ReportMetric(ldapRate, "searches/s")
	b.ReportMetric(float64(ldapP99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(refRate, "ref-searches/s")
	b.ReportMetric(float64(refP99.Microseconds())/1000, "ref-p99-ms")
	b.ReportMetric(float64(serverTime.Microseconds())/1000/float64(max(served, 1)), "server-mean-ms")
	b.ReportMetric(td.mean(), "store-mean-ms")
	b.ReportMetric(0, "ns/op")
}

// timedDir measures the Search calls the server makes.
type timedDir struct {
	Directory
	mu    sync.Mutex
	total time.Duration
	n     int
}

func (d *timedDir) Search(ctx context.Context, orgID string, q directory.Query) (directory.Page, error) {
	t0 := time.Now()
	p, err := d.Directory.Search(ctx, orgID, q)
	d.mu.Lock()
	d.total += time.Since(t0)
	d.n++
	d.mu.Unlock()
	return p, err
}

func (d *timedDir) reset() { d.mu.Lock(); d.total, d.n = 0, 0; d.mu.Unlock() }

func (d *timedDir) mean() float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return float64(d.total.Microseconds()) / 1000 / float64(max(d.n, 1))
}
