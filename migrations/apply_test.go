package migrations_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/migrations"
	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func status(t *testing.T, db *sqlx.DB) (current, latest int) {
	t.Helper()
	current, latest, err := migrations.Status(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	return current, latest
}

func versionsOf(ms []migrations.Migration) []int {
	var vs []int
	for _, m := range ms {
		vs = append(vs, m.Version)
	}
	return vs
}

func recorded(t *testing.T, db *sqlx.DB) []int {
	t.Helper()
	var vs []int
	if err := db.Select(&vs, `SELECT version FROM schema_version ORDER BY version`); err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestApplyFreshDatabase(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := pgtest.NewEmpty(t)
	if cur, latest := status(t, db); cur != 0 || latest != migrations.Latest() {
		t.Fatalf("Status before = (%d, %d), want (0, %d)", cur, latest, migrations.Latest())
	}

	applied, err := migrations.Apply(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := versionsOf(applied), versionsOf(migrations.All()); !slices.Equal(got, want) {
		t.Errorf("applied %v, want %v", got, want)
	}
	if cur, latest := status(t, db); cur != migrations.Latest() || latest != migrations.Latest() {
		t.Errorf("Status after = (%d, %d), want (%d, %d)", cur, latest, migrations.Latest(), migrations.Latest())
	}

	t.Run("applying again applies nothing", func(t *testing.T) {
		applied, err := migrations.Apply(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 0 {
			t.Errorf("applied %v, want nothing", versionsOf(applied))
		}
		if got, want := recorded(t, db), versionsOf(migrations.All()); !slices.Equal(got, want) {
			t.Errorf("schema_version holds %v, want %v", got, want)
		}
	})
	t.Run("the advisory lock is released", func(t *testing.T) {
		var got bool
		if err := db.Get(&got, `SELECT pg_try_advisory_lock($1)`, migrations.LockKey); err != nil {
			t.Fatal(err)
		}
		if !got {
			t.Error("the migration lock is still held after Apply")
		}
	})
}

func TestApplyRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	newer := migrations.Latest() + 1
	for _, tt := range []struct {
		name string
		db   func(t *testing.T) *sqlx.DB
	}{
		{"a migrated database", func(t *testing.T) *sqlx.DB { return pgtest.New(t) }},
		{"a database with only schema_version", func(t *testing.T) *sqlx.DB {
			db := pgtest.NewEmpty(t)
			if _, err := db.Exec(`CREATE TABLE schema_version (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
				t.Fatal(err)
			}
			return db
		}},
	} {
		t.Run(tt.name+" is left unchanged", func(t *testing.T) {
			db := tt.db(t)
			if _, err := db.Exec(`INSERT INTO schema_version (version, name) VALUES ($1, 'from_the_future')`, newer); err != nil {
				t.Fatal(err)
			}
			before := recorded(t, db)
			tablesBefore := tables(t, db)

			applied, err := migrations.Apply(t.Context(), db)
			if !errors.Is(err, migrations.ErrSchemaTooNew) {
				t.Fatalf("Apply error = %v, want ErrSchemaTooNew", err)
			}
			if len(applied) != 0 {
				t.Errorf("applied %v, want nothing", versionsOf(applied))
			}
			if got := recorded(t, db); !slices.Equal(got, before) {
				t.Errorf("schema_version = %v, want %v", got, before)
			}
			if got := tables(t, db); !slices.Equal(got, tablesBefore) {
				t.Errorf("tables = %v, want %v", got, tablesBefore)
			}
			if cur, _ := status(t, db); cur != newer {
				t.Errorf("Status current = %d, want %d", cur, newer)
			}
		})
	}
}

func tables(t *testing.T, db *sqlx.DB) []string {
	t.Helper()
	var names []string
	if err := db.Select(&names, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`); err != nil {
		t.Fatal(err)
	}
	return names
}

func TestConcurrentApplyRunsEachMigrationOnce(t *testing.T) {
	t.Parallel()
	// Besides the real migrations, slow ones that fail if run twice, so that
	// the two runs overlap.
	ms := migrations.All()
	next := migrations.Latest() + 1
	for i := range 3 {
		ms = append(ms, migrations.Migration{
			Version: next + i,
			Name:    "slow",
			SQL:     "-- test\nSELECT pg_sleep(0.1);\nCREATE TABLE slow_" + string(rune('a'+i)) + " (n int);",
		})
	}
	for _, tt := range []struct {
		name string
		run  func(ctx context.Context, db *sqlx.DB) ([]migrations.Migration, error)
		want []migrations.Migration
	}{
		{"Apply", migrations.Apply, migrations.All()},
		{"a longer list", func(ctx context.Context, db *sqlx.DB) ([]migrations.Migration, error) {
			return migrations.ApplyList(ctx, db, ms)
		}, ms},
	} {
		t.Run(tt.name+" from two processes applies each migration exactly once", func(t *testing.T) {
			url := pgtest.NewEmptyURL(t)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			var (
				wg      sync.WaitGroup
				results [2][]migrations.Migration
				errs    [2]error
			)
			for i := range 2 {
				// A pool each, like two bridge nodes.
				db, err := sqlx.Open("postgres", url)
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				wg.Go(func() { results[i], errs[i] = tt.run(ctx, db) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
			}
			// The lock is held for the whole run: one applies everything,
			// the other waits and then finds nothing to do.
			first, second := versionsOf(results[0]), versionsOf(results[1])
			if len(first) == 0 {
				first, second = second, first
			}
			if want := versionsOf(tt.want); !slices.Equal(first, want) || len(second) != 0 {
				t.Errorf("the two runs applied %v and %v, want %v and nothing", first, second, want)
			}
			db := sqlx.MustOpen("postgres", url)
			defer db.Close()
			if got, want := recorded(t, db), versionsOf(tt.want); !slices.Equal(got, want) {
				t.Errorf("schema_version = %v, want %v", got, want)
			}
		})
	}
}

func TestFailedMigrationIsRolledBack(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t)
	ms := append(migrations.All(), migrations.Migration{
		Version: migrations.Latest() + 1,
		Name:    "broken",
		SQL:     "-- test\nCREATE TABLE half_done (n int);\nSELECT no_such_function();",
	})
	applied, err := migrations.ApplyList(t.Context(), db, ms)
	if err == nil {
		t.Fatal("Apply succeeded with a broken migration")
	}
	if got, want := versionsOf(applied), versionsOf(migrations.All()); !slices.Equal(got, want) {
		t.Errorf("applied %v, want %v", got, want)
	}
	if cur, _ := status(t, db); cur != migrations.Latest() {
		t.Errorf("current version = %d, want %d", cur, migrations.Latest())
	}
	if slices.Contains(tables(t, db), "half_done") {
		t.Error("the broken migration's table exists: it was not rolled back")
	}
}
