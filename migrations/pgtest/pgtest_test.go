package pgtest

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/migrations"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestNewTimings comes first so that its first New sets the server up; it
// logs how long that and later calls take (see go test -v).
func TestNewTimings(t *testing.T) {
	start := time.Now()
	New(t)
	first := time.Since(start)
	var later []time.Duration
	for range 5 {
		start := time.Now()
		New(t)
		later = append(later, time.Since(start))
	}
	t.Logf("first New (cluster init + start + migrate template + copy): %v; later New: %v", first, later)
}

func TestNewWithoutTestMainFailsWithAdvice(t *testing.T) {
	mainRan.Store(false)
	defer mainRan.Store(true)
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		New(tb)
	}()
	<-done
	if want := "pgtest: TestMain missing: add func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }"; len(tb.msg) < len(want) || tb.msg[:len(want)] != want {
		t.Errorf("message = %q, want it to start with %q", tb.msg, want)
	}
}

// fatalTB records the message of Fatal and Fatalf.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatal(args ...any) {
	f.msg = fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func version(t *testing.T, db *sqlx.DB) int {
	t.Helper()
	current, _, err := migrations.Status(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	return current
}

func TestNewGivesSeparateMigratedDatabases(t *testing.T) {
	t.Parallel()
	a, b := New(t), New(t)
	if v := version(t, a); v != migrations.Latest() {
		t.Errorf("schema version = %d, want %d", v, migrations.Latest())
	}
	if _, err := a.Exec(`INSERT INTO organisations (name) VALUES ('Example')`); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.Get(&n, `SELECT count(*) FROM organisations`); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the second database sees %d organisations of the first, want 0", n)
	}
}

func TestNewDropsTheDatabaseWhenTheTestEnds(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("a test using a database", func(t *testing.T) {
		db := New(t)
		if err := db.Get(&name, `SELECT current_database()`); err != nil {
			t.Fatal(err)
		}
	})
	var exists bool
	if err := srv.admin.Get(&exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s still exists", name)
	}
}

func TestNewURL(t *testing.T) {
	t.Parallel()
	db, err := sqlx.Open("postgres", NewURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v := version(t, db); v != migrations.Latest() {
		t.Errorf("schema version = %d, want %d", v, migrations.Latest())
	}
}

func TestNewEmpty(t *testing.T) {
	t.Parallel()
	if v := version(t, NewEmpty(t)); v != 0 {
		t.Errorf("schema version = %d, want 0", v)
	}
}

func TestClusterIsRunning(t *testing.T) {
	t.Parallel()
	if c := Cluster(t); !c.Running() {
		t.Error("Cluster(t).Running() = false")
	}
}

func TestWithDatabase(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"a URL gets its path replaced", "postgres://admin:pw@db.example:5433/postgres?sslmode=disable", "postgres://admin:pw@db.example:5433/bifrost_test_1?sslmode=disable"},
		{"a URL without a path gets one", "postgresql://admin@localhost", "postgresql://admin@localhost/bifrost_test_1"},
		{"a key=value DSN gets a dbname that overrides", "host=/run/postgresql dbname=postgres", "host=/run/postgresql dbname=postgres dbname='bifrost_test_1'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := withDatabase(tt.in, "bifrost_test_1"); got != tt.want {
				t.Errorf("withDatabase = %q, want %q", got, tt.want)
			}
		})
	}
}
