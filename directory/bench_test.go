package directory

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/benchtab"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

var (
	benchFirst = []string{"Åse", "Bjørn", "Kari", "Per", "Ingrid", "Örjan", "张", "Thomas", "Hanne", "Eirik", "Silje", "Marius"}
	benchLast  = []string{"Nilsen", "Østby", "Berg", "Hansen", "Lindqvist", "Söderberg", "Wei", "O'Brien", "Øvrebø", "Aasen", "Dahl", "Lund", "Eira"}
)

// benchLDIF writes n generated people in 20 OUs below ou=People, shaped like
// the fixture (labeledURI SIP and H.323 addresses, phone, mobile).
func benchLDIF(t testing.TB, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("generated-%d.ldif", n))
	var b strings.Builder
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	fmt.Fprintf(&b, "dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: nordfjord\no: Nordfjord\n\n", fixtureSuffix)
	fmt.Fprintf(&b, "dn: ou=People,%s\nobjectClass: organizationalUnit\nou: People\n\n", fixtureSuffix)
	for s := 0; s < 20; s++ {
		fmt.Fprintf(&b, "dn: ou=Site%02d,ou=People,%s\nobjectClass: organizationalUnit\nou: Site%02d\n\n", s, fixtureSuffix, s)
	}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s %s %06d", benchFirst[i%len(benchFirst)], benchLast[(i/len(benchFirst))%len(benchLast)], i)
		fmt.Fprintf(&b, "dn: uid=u%06d,ou=Site%02d,ou=People,%s\nobjectClass: inetOrgPerson\ncn:: %s\nsn: S%d\nuid: u%06d\ndisplayName:: %s\n"+
			"title: Engineer\nemployeeType: Employee\ntelephoneNumber: +47 21 %02d %02d %02d\nmobile: +47 900 %05d\n"+
			"labeledURI: sip:u%06d@video.nordfjord.example SIP\nlabeledURI: h323:u%06d H323\n\n",
			i, i%20, fixtureSuffix, b64(name), i, i, b64(name), i/10000, (i/100)%100, i%100, i%100000, i, i)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// BenchmarkSync100k: a first sync of 100 000 generated entries from slapd,
// next to ldapsearch dumping the same entries (same filter, attributes and
// page size) in the same run. Reported: sync-s, ldapsearch-s and their ratio.
func BenchmarkSync100k(b *testing.B) { benchSync(b, 100000) }

// BenchmarkSync20k is BenchmarkSync100k on 20 000 entries, for iterating.
func BenchmarkSync20k(b *testing.B) { benchSync(b, 20000) }

func benchSync(b *testing.B, n int) {
	sl := newSlapd(b)
	sl.Slapadd(benchLDIF(b, n))
	sl.Start()
	db := pgtest.New(b)
	org := newOrg(b, db, "Bench")
	st := NewStore(db, nil)
	in := SourceInput{Source: Source{Name: "bench", URL: sl.URL, BaseDNs: []string{"ou=People," + fixtureSuffix},
		Filter: "(&(objectClass=inetOrgPerson)(labeledURI=*))", PageSize: 1000, Folders: FolderMapping{Mode: "ou", Root: fixtureSuffix}}}
	src, err := st.CreateSource(context.Background(), org, in, nil)
	if err != nil {
		b.Fatal(err)
	}
	var w warnings
	mp, _ := newMapper(src, &w)
	attrs := mp.attributes()
	y := NewSyncer(st, nil, nil)
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer devnull.Close()
	var syncTime, refTime time.Duration
	var readMS int64
	// CPU time, steadier than wall-clock time on a shared machine: the sync's
	// (this process, slapd, the database's backends) next to ldapsearch's
	// (the child, slapd).
	var dbName string
	if err := db.Get(&dbName, `SELECT current_database()`); err != nil {
		b.Fatal(err)
	}
	slapdCPU := func() time.Duration { return procCPU("slapd", sl.URL) }
	pgCPU := func() time.Duration { return procCPU("postgres: ", " "+dbName+" ") }
	var syncCPU, refCPU, goCPU, pgCPUs, slapdCPUs time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := db.Exec(`DELETE FROM directory_entries WHERE source_id = $1`, src.ID); err != nil {
			b.Fatal(err)
		}
		args := append([]string{"-x", "-LLL", "-H", sl.URL, "-b", "ou=People," + fixtureSuffix, "-E", "pr=1000/noprompt", in.Filter}, attrs...)
		cmd := exec.Command("ldapsearch", args...)
		cmd.Stdout = devnull
		sl0 := slapdCPU()
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("ldapsearch: %v", err)
		}
		refTime += time.Since(start)
		refCPU += benchtab.ChildCPU(cmd.ProcessState) + slapdCPU() - sl0
		b.StartTimer()
		sl0, pg0, me0 := slapdCPU(), pgCPU(), benchtab.ProcessCPU()
		start = time.Now()
		rep, err := y.Run(context.Background(), org, src.ID, SyncOptions{})
		syncTime += time.Since(start)
		sl1, pg1, me1 := slapdCPU(), pgCPU(), benchtab.ProcessCPU()
		slapdCPUs, pgCPUs, goCPU = slapdCPUs+sl1-sl0, pgCPUs+pg1-pg0, goCPU+me1-me0
		syncCPU += sl1 - sl0 + pg1 - pg0 + me1 - me0
		if err != nil || rep.Added != n {
			b.Fatalf("sync: %v %+v", err, rep)
		}
		readMS += rep.ReadMS
	}
	// The read alone (a dry run, nothing to apply after the sync above), on
	// one connection and on readWorkers connections.
	for _, w := range []int{1, readWorkers} {
		y.readWorkers = w
		if _, err := db.Exec(`DELETE FROM directory_entries WHERE source_id = $1`, src.ID); err != nil {
			b.Fatal(err)
		}
		rep, err := y.Run(context.Background(), org, src.ID, SyncOptions{DryRun: true})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(rep.ReadMS)/1000, fmt.Sprintf("read-%dconn-s", w))
	}
	b.ReportMetric(syncTime.Seconds()/float64(b.N), "sync-s")
	b.ReportMetric(refTime.Seconds()/float64(b.N), "ldapsearch-s")
	b.ReportMetric(float64(syncTime)/float64(refTime), "ratio")
	b.ReportMetric(float64(readMS)/1000/float64(b.N), "read-s")
	b.ReportMetric(syncCPU.Seconds()/float64(b.N), "sync-cpu-s")
	b.ReportMetric(refCPU.Seconds()/float64(b.N), "ldapsearch-cpu-s")
	b.ReportMetric(float64(syncCPU)/float64(refCPU), "cpu-ratio")
	// Where the sync's CPU time went.
	b.ReportMetric(goCPU.Seconds()/float64(b.N), "sync-go-cpu-s")
	b.ReportMetric(pgCPUs.Seconds()/float64(b.N), "sync-pg-cpu-s")
	b.ReportMetric(slapdCPUs.Seconds()/float64(b.N), "sync-slapd-cpu-s")
}

// BenchmarkSearch100k: directory searches (a page of 20) over 100 000
// entries, p50 and p99, next to the p50 of fetching one entry by its ID, in
// the same run; the connection's first search is reported on its own. The store runs on one connection so that, with the server on
// this machine, the CPU time its backend spends per search is read too
// (/proc/PID/schedstat): on a loaded machine, where wall-clock latency is
// mostly waiting for a core, that is the steadier figure.
func BenchmarkSearch100k(b *testing.B) {
	db, org := searchBenchDB(b)
	ctx := context.Background()
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	serverCPU := backendCPU(b, db)
	st := NewStore(db, nil)
	queries := []string{"berg", "østby", "ostby", "ÅSE NIL", "012345", "+47 21 0123", "u04711@video", "zzzz", "Thomas O'Brien 0", "张", "Øvrebø 09", "n", "hansen 0999"}
	var lat, ref, cpu, refCPU []time.Duration
	perQuery := map[string][]time.Duration{}
	perQueryCPU := map[string][]time.Duration{}
	// The connection's first search loads what a backend keeps for the
	// next ones (the functions' compiled code, the unaccent rules, the
	// tables' and indexes' descriptions): a pool's connections pay it once,
	// so it is reported alone and not in the percentiles.
	c0, start := serverCPU(), time.Now()
	if _, err := st.Search(ctx, org, Query{Text: "first", PublishedOnly: true, Limit: 20}); err != nil {
		b.Fatal(err)
	}
	first, firstCPU := time.Since(start), serverCPU()-c0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, q := range queries {
			c0, start := serverCPU(), time.Now()
			if _, err := st.Search(ctx, org, Query{Text: q, PublishedOnly: true, Limit: 20}); err != nil {
				b.Fatal(err)
			}
			d, c := time.Since(start), serverCPU()-c0
			lat, cpu = append(lat, d), append(cpu, c)
			perQuery[q], perQueryCPU[q] = append(perQuery[q], d), append(perQueryCPU[q], c)
		}
		c0, start := serverCPU(), time.Now()
		if _, err := st.GetEntry(ctx, org, "c4ca4238-a0b9-2382-0dcc-509a6f75849b"); err != nil {
			b.Fatal(err)
		}
		ref, refCPU = append(ref, time.Since(start)), append(refCPU, serverCPU()-c0)
	}
	b.StopTimer()
	var log strings.Builder
	for _, q := range queries {
		fmt.Fprintf(&log, "\n%-20q p50 %6.2f ms  max %6.2f ms  server CPU p50 %6.3f ms", q, pct(perQuery[q], 50), pct(perQuery[q], 100), pct(perQueryCPU[q], 50))
	}
	b.Log(log.String())
	b.ReportMetric(pct(lat, 50), "p50-ms")
	b.ReportMetric(pct(lat, 99), "p99-ms")
	b.ReportMetric(pct(ref, 50), "ref-get-p50-ms")
	b.ReportMetric(pct(cpu, 50), "cpu-p50-ms")
	b.ReportMetric(pct(cpu, 99), "cpu-p99-ms")
	b.ReportMetric(pct(refCPU, 50), "ref-get-cpu-p50-ms")
	b.ReportMetric(float64(first)/float64(time.Millisecond), "first-search-ms")
	b.ReportMetric(float64(firstCPU)/float64(time.Millisecond), "first-search-cpu-ms")
}

// searchBenchDB fills a database with 100 000 entries (names from benchFirst
// and benchLast, a SIP address and a phone number each) in one organisation
// and one entry in another, rebuilds the first one's search hints, and
// returns the database and the first organisation's ID.
func searchBenchDB(b *testing.B) (*sqlx.DB, string) {
	b.Helper()
	db := pgtest.New(b)
	org := newOrg(b, db, "Bench")
	newOrg(b, db, "Other")
	firsts, lasts := "{"+strings.Join(quoteAll(benchFirst), ",")+"}", "{"+strings.Join(quoteAll(benchLast), ",")+"}"
	if _, err := db.Exec(`
		INSERT INTO directory_entries (id, organisation_id, display_name, published, search_addresses)
		SELECT md5(i::text)::uuid, $1, ($2::text[])[1 + i % 12] || ' ' || ($3::text[])[1 + (i / 12) % 13] || ' ' || lpad(i::text, 6, '0'),
			true, 'u' || lpad(i::text, 6, '0') || '@video.nordfjord.example +4721' || lpad(i::text, 6, '0')
		FROM generate_series(0, 99999) i`, org, firsts, lasts); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`
		INSERT INTO directory_addresses (organisation_id, entry_id, position, kind, label, value)
		SELECT $1, md5(i::text)::uuid, p, CASE p WHEN 0 THEN 'sip' ELSE 'tel' END, CASE p WHEN 0 THEN '' ELSE 'phone' END,
			CASE p WHEN 0 THEN 'u' || lpad(i::text, 6, '0') || '@video.nordfjord.example' ELSE '+47 21 ' || lpad(i::text, 6, '0') END
		FROM generate_series(0, 99999) i, generate_series(0, 1) p`, org); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
	// What follows a large change (a sync's): exact start bounds and the
	// organisation's common trigrams (migration 0014).
	if err := NewStore(db, nil).RebuildSearchHints(context.Background(), org); err != nil {
		b.Fatal(err)
	}
	return db, org
}

// backendCPU returns a function reading the CPU time the PostgreSQL backend
// of db's one connection has used, or one that returns 0 when that backend is
// not a process of this machine (a remote BIFROST_TEST_DATABASE_URL).
func backendCPU(b *testing.B, db *sqlx.DB) func() time.Duration {
	b.Helper()
	var pid int
	if err := db.Get(&pid, `SELECT pg_backend_pid()`); err != nil {
		b.Fatal(err)
	}
	path := fmt.Sprintf("/proc/%d/schedstat", pid)
	read := func() time.Duration {
		raw, err := os.ReadFile(path)
		if err != nil {
			return 0
		}
		ns, _ := strconv.ParseInt(strings.Fields(string(raw))[0], 10, 64)
		return time.Duration(ns)
	}
	if read() == 0 {
		b.Logf("no server CPU figures: %s is not readable", path)
	}
	return read
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	return out
}

func pct(ds []time.Duration, p int) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return float64(s[(len(s)-1)*p/100]) / float64(time.Millisecond)
}
