package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/bifrost-video/bifrost/migrations"
	"github.com/bifrost-video/bifrost/migrations/pglocal"
)

// EnvURL names the environment variable with an admin URL of an existing
// server to use instead of a private cluster.
const EnvURL = "BIFROST_TEST_DATABASE_URL"

// setupTimeout bounds starting the cluster and migrating the template.
const setupTimeout = 2 * time.Minute

// server is the PostgreSQL server of this test process.
type server struct {
	dir      string           // private cluster directory; "" with EnvURL
	cluster  *pglocal.Cluster // nil with EnvURL
	adminURL string           // URL of a database to run CREATE/DROP DATABASE from
	admin    *sqlx.DB         // connection pool on adminURL
	template string           // migrated template database
	missing  error            // PostgreSQL is not installed
	err      error            // setup failed
	urlFor   func(string) string
}

var (
	mainRan atomic.Bool
	once    sync.Once
	srv     *server
)

// Main runs the package's tests and then drops the template database and
// stops and removes the private cluster, if they were created. Use:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m *testing.M) int {
	mainRan.Store(true)
	code := m.Run()
	if err := shutdown(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// New returns a connection to a fresh database with every migration applied.
// The connection is closed and the database dropped when the test ends.
func New(t testing.TB) *sqlx.DB {
	t.Helper()
	return open(t, newDatabase(t, true))
}

// NewURL is New for tests that need a URL, e.g. to run the bifrost binary
// with BIFROST_DATABASE_URL.
func NewURL(t testing.TB) string {
	t.Helper()
	return newDatabase(t, true)
}

// NewEmpty returns a connection to a fresh database without any migration
// applied, for tests of the migration runner itself.
func NewEmpty(t testing.TB) *sqlx.DB {
	t.Helper()
	return open(t, newDatabase(t, false))
}

// NewEmptyURL is NewEmpty for tests that need a URL.
func NewEmptyURL(t testing.TB) string {
	t.Helper()
	return newDatabase(t, false)
}

// Cluster returns the process's private cluster, started on first use, for
// tests that stop and restart PostgreSQL. It skips the test when
// BIFROST_TEST_DATABASE_URL points pgtest at another server.
func Cluster(t testing.TB) *pglocal.Cluster {
	t.Helper()
	s := get(t)
	if s.cluster == nil {
		t.Skipf("pgtest: %s is set; this test needs the private cluster", EnvURL)
	}
	return s.cluster
}

func open(t testing.TB, dbURL string) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { db.Close() }) // runs before the drop registered earlier
	return db
}

// get returns the process's server, setting it up on first use, and skips
// or fails t when it is unusable.
func get(t testing.TB) *server {
	t.Helper()
	if !mainRan.Load() {
		t.Fatal("pgtest: TestMain missing: add func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) } to this test package, so that the private PostgreSQL cluster is stopped after the tests")
	}
	once.Do(func() { srv = setup() })
	switch {
	case srv.missing != nil && os.Getenv("CI") == "true":
		t.Fatalf("pgtest: %v (CI=true: a missing PostgreSQL is a failure)", srv.missing)
	case srv.missing != nil:
		t.Skipf("pgtest: %v", srv.missing)
	case srv.err != nil:
		t.Fatal(srv.err)
	}
	return srv
}

// newDatabase creates a database for t, from the migrated template when
// migrated is true, drops it when t ends, and returns its URL.
func newDatabase(t testing.TB, migrated bool) string {
	t.Helper()
	s := get(t)
	name := "bifrost_test_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	query := `CREATE DATABASE ` + pq.QuoteIdentifier(name)
	if migrated {
		query += ` TEMPLATE ` + pq.QuoteIdentifier(s.template)
	}
	if _, err := s.admin.ExecContext(ctx, query); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := dropDatabase(s.admin, name); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s.urlFor(name)
}

func dropDatabase(admin *sqlx.DB, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(name)+` WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

func setup() *server {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	s := &server{template: "bifrost_template_" + strconv.Itoa(os.Getpid())}
	if u := os.Getenv(EnvURL); u != "" {
		s.adminURL = u
		s.urlFor = func(name string) string { return withDatabase(u, name) }
	} else {
		dir, err := os.MkdirTemp("", "bifrost-pgtest-")
		if err == nil {
			s.dir = dir
			// MkdirTemp makes 0700; the postgres OS user must pass when
			// the tests run as root.
			err = os.Chmod(dir, 0o755)
		}
		if err != nil {
			s.err = fmt.Errorf("pgtest: %w", err)
			return s
		}
		c, err := pglocal.Open(ctx, pglocal.Options{Dir: dir, Fast: true})
		if errors.Is(err, pglocal.ErrNotFound) {
			s.missing = err
			return s
		}
		if err != nil {
			s.err = fmt.Errorf("pgtest: %w", err)
			return s
		}
		s.cluster = c
		s.adminURL = c.URL("postgres")
		s.urlFor = c.URL
	}

	admin, err := sqlx.Open("postgres", s.adminURL)
	if err != nil {
		s.err = fmt.Errorf("pgtest: %w", err)
		return s
	}
	s.admin = admin
	if err := s.createTemplate(ctx); err != nil {
		s.err = fmt.Errorf("pgtest: %w", err)
	}
	return s
}

// createTemplate creates the template database and migrates it. The
// connection to it is closed afterwards: a database with open connections
// cannot be a template.
func (s *server) createTemplate(ctx context.Context) error {
	if err := dropDatabase(s.admin, s.template); err != nil {
		return err
	}
	if _, err := s.admin.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(s.template)); err != nil {
		return fmt.Errorf("create template database: %w", err)
	}
	db, err := sqlx.Open("postgres", s.urlFor(s.template))
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := migrations.Apply(ctx, db); err != nil {
		return fmt.Errorf("migrate template database: %w", err)
	}
	return nil
}

// shutdown drops the template database and stops and removes the private
// cluster.
func shutdown() error {
	s := srv
	if s == nil {
		return nil
	}
	var errs []error
	if s.admin != nil {
		if s.cluster == nil { // a private cluster goes away whole
			if err := dropDatabase(s.admin, s.template); err != nil {
				errs = append(errs, err)
			}
		}
		s.admin.Close()
	}
	if s.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := s.cluster.Stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pgtest: clean up: %w", err)
	}
	return nil
}

// withDatabase returns the URL or key=value DSN u pointing at database name.
func withDatabase(u, name string) string {
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		if p, err := url.Parse(u); err == nil {
			p.Path = "/" + name
			p.RawPath = ""
			return p.String()
		}
	}
	// In a key=value DSN a later key wins.
	return u + " dbname='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(name) + "'"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}
