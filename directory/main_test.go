package directory

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/migrations/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// newOrg creates an organisation and returns its ID.
func newOrg(t testing.TB, db *sqlx.DB, name string) string {
	t.Helper()
	var id string
	if err := db.Get(&id, `INSERT INTO organisations (name) VALUES ($1) RETURNING id`, name); err != nil {
		t.Fatal(err)
	}
	return id
}

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// fixtureDir is the shared directory test data (PROTOCOLS.md, LDIF, expected files).
var fixtureDir = filepath.Join("..", "..", "..", "shared", "testdata", "directory")

func init() {
	// The worktree layout (/work/wt/NAME) and the main checkout (/work/main)
	// sit at different depths below /work/shared.
	for _, d := range []string{filepath.Join("..", "..", "shared", "testdata", "directory"), fixtureDir, "/work/shared/testdata/directory"} {
		if _, err := os.Stat(filepath.Join(d, "PROTOCOLS.md")); err == nil {
			fixtureDir = d
			return
		}
	}
}
