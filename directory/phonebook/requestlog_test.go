package phonebook

import (
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

// TestRequestLogIsBoundedWhileTheDatabaseIsAway logs into a database that
// does not answer: Log never blocks, memory stays bounded (the oldest rows
// are dropped and counted) and Close returns.
func TestRequestLogIsBoundedWhileTheDatabaseIsAway(t *testing.T) {
	db, err := sqlx.Open("postgres", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	l := NewRequestLog(db, RequestLogConfig{FlushInterval: time.Millisecond, BatchSize: 5, MaxPending: 10}, nil)
	for i := 0; i < 1000; i++ {
		l.Log(Request{At: time.Now(), OrganisationID: "00000000-0000-0000-0000-000000000000", Protocol: ProtocolTMS})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Dropped() != 1000 || l.Written() != 0 {
		t.Errorf("dropped %d, written %d; want 1000 and 0", l.Dropped(), l.Written())
	}
	l.Log(Request{}) // after Close: dropped, no panic
	if l.Dropped() != 1001 {
		t.Errorf("a request logged after Close: dropped %d", l.Dropped())
	}
}

// TestRequestLogWritesEverythingOnClose logs many requests and closes at
// once: nothing is lost, and rows the database refuses (an organisation
// that is gone, text with NUL and invalid UTF-8) do not hold up the others.
func TestRequestLogWritesEverythingOnClose(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Alpha")
	l := NewRequestLog(db, RequestLogConfig{FlushInterval: time.Hour, BatchSize: 100}, nil)
	for i := 0; i < 950; i++ {
		l.Log(Request{At: time.Now(), OrganisationID: org, Protocol: ProtocolYealink, SearchString: "a\x00b\xff"})
	}
	l.Log(Request{At: time.Now(), OrganisationID: "00000000-0000-0000-0000-000000000000", Protocol: ProtocolTMS})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM phonebook_requests WHERE search_string = 'ab' || chr(65533)`); err != nil || n != 950 {
		t.Errorf("%d rows written (%v), want 950", n, err)
	}
	if l.Written() != 950 || l.Dropped() != 1 {
		t.Errorf("written %d, dropped %d; want 950 and 1", l.Written(), l.Dropped())
	}
}

// TestRequestLogKeepsABurstBeyondItsQueue logs more requests at once than
// the queue holds, faster than the writer takes them: the log is usage data,
// so every one is written, none dropped.
func TestRequestLogKeepsABurstBeyondItsQueue(t *testing.T) {
	db := pgtest.New(t)
	org := newOrg(t, db, "Alpha")
	l := NewRequestLog(db, RequestLogConfig{FlushInterval: time.Hour, BatchSize: 1000}, nil)
	const n = 3 * queueSize
	for i := 0; i < n; i++ {
		l.Log(Request{At: time.Now(), OrganisationID: org, Protocol: ProtocolTMS, ResultCount: i})
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	var rows, distinct int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT result_count) FROM phonebook_requests`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != n || distinct != n || l.Dropped() != 0 {
		t.Errorf("%d rows (%d distinct) written, %d dropped; want all %d written", rows, distinct, l.Dropped(), n)
	}
}
