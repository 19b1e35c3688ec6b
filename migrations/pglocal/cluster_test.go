package pglocal

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// testDir returns a fresh 0755 directory under os.TempDir() (t.TempDir() is
// 0700, which the postgres OS user cannot pass when the tests run as root),
// removed when the test ends, after any cluster in it is stopped.
func testDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "bifrost-pglocal-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("remove %s: %v", dir, err)
		}
	})
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// openCluster opens the cluster in dir and stops it when the test ends. A
// missing PostgreSQL skips the test, unless CI=true.
func openCluster(t *testing.T, dir string) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Open(ctx, Options{Dir: dir, Fast: true})
	if errors.Is(err, ErrNotFound) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return c
}

func connect(t *testing.T, c *Cluster, dbname string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", c.URL(dbname))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec1(t *testing.T, db *sql.DB, query string) {
	t.Helper()
	if _, err := db.Exec(query); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func countRows(t *testing.T, c *Cluster) int {
	t.Helper()
	db := connect(t, c, "keep")
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM kept`).Scan(&n); err != nil {
		t.Fatalf("count rows: %v", err)
	}
	db.Close()
	return n
}

func TestOpenStartReuseStop(t *testing.T) {
	t.Parallel()
	dir := testDir(t)
	c := openCluster(t, dir)
	if !c.Started() || !c.Running() {
		t.Fatalf("first Open: Started() = %v, Running() = %v, want both true", c.Started(), c.Running())
	}
	if got, want := c.SocketDir(), filepath.Join(dir, "run"); got != want {
		t.Errorf("SocketDir() = %s, want %s", got, want)
	}
	ctx := context.Background()
	if err := c.EnsureDatabase(ctx, "keep"); err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureDatabase(ctx, "keep"); err != nil {
		t.Fatalf("EnsureDatabase on an existing database: %v", err)
	}
	db := connect(t, c, "keep")
	exec1(t, db, `CREATE TABLE kept (n int)`)
	exec1(t, db, `INSERT INTO kept VALUES (1)`)
	db.Close()

	t.Run("Open while running reuses the server and keeps the data", func(t *testing.T) {
		again := openCluster(t, dir)
		if again.Started() {
			t.Error("Started() = true, want false for a reused server")
		}
		if n := countRows(t, again); n != 1 {
			t.Errorf("rows = %d, want 1", n)
		}
	})
	t.Run("Stop then Open starts it again with the data", func(t *testing.T) {
		if err := c.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if c.Running() {
			t.Fatal("Running() = true after Stop")
		}
		if err := c.Stop(ctx); err != nil {
			t.Fatalf("Stop when stopped: %v", err)
		}
		again := openCluster(t, dir)
		if !again.Started() {
			t.Error("Started() = false, want true")
		}
		if n := countRows(t, again); n != 1 {
			t.Errorf("rows = %d, want 1", n)
		}
	})
	t.Run("Start restarts a stopped cluster", func(t *testing.T) {
		if err := c.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if !c.Started() || !c.Running() {
			t.Errorf("Started() = %v, Running() = %v, want both true", c.Started(), c.Running())
		}
	})
	t.Run("a database name that needs quoting is created", func(t *testing.T) {
		if err := c.EnsureDatabase(ctx, `Bifrost "odd" name`); err != nil {
			t.Fatal(err)
		}
		if err := connect(t, c, `Bifrost "odd" name`).Ping(); err != nil {
			t.Fatal(err)
		}
	})
}

func postmasterPID(t *testing.T, c *Cluster) int {
	t.Helper()
	pf, ok := readPidFile(c.dataDir)
	if !ok || pf.pid <= 0 {
		t.Fatal("no postmaster.pid")
	}
	return pf.pid
}

func TestOpenRecoversFromKilledPostmaster(t *testing.T) {
	t.Parallel()
	dir := testDir(t)
	c := openCluster(t, dir)
	pid := postmasterPID(t, c)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the killed postmaster to exit", func() bool { return !isPostmaster(pid, c.dataDir) })

	again := openCluster(t, dir)
	if !again.Started() {
		t.Error("Started() = false, want true")
	}
	if err := connect(t, again, "postgres").Ping(); err != nil {
		t.Fatalf("query after recovery: %v", err)
	}
}

func TestOpenRecoversFromPIDOfAnotherProcess(t *testing.T) {
	t.Parallel()
	dir := testDir(t)
	c := openCluster(t, dir)
	pidFile := filepath.Join(c.dataDir, "postmaster.pid")
	stale, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}

	sleep := exec.Command("sleep", "600")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sleep.Process.Kill(); _ = sleep.Wait() })

	for _, tt := range []struct {
		name string
		pid  int
	}{
		{"a sleep process", sleep.Process.Pid},
		{"the test process itself", os.Getpid()},
	} {
		t.Run("the PID belongs to "+tt.name, func(t *testing.T) {
			if err := c.Stop(context.Background()); err != nil {
				t.Fatal(err)
			}
			lines := strings.SplitN(string(stale), "\n", 2)
			if err := os.WriteFile(pidFile, []byte(strconv.Itoa(tt.pid)+"\n"+lines[1]), 0o600); err != nil {
				t.Fatal(err)
			}
			if c.Running() {
				t.Fatal("Running() = true with a non-postgres PID")
			}
			again := openCluster(t, dir)
			if !again.Started() {
				t.Error("Started() = false, want true")
			}
			if err := connect(t, again, "postgres").Ping(); err != nil {
				t.Fatalf("query: %v", err)
			}
		})
	}
}

func TestOpenLongDirUsesShortSocketDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(testDir(t), strings.Repeat("long-", 20), "postgres")
	c := openCluster(t, dir)
	t.Cleanup(func() { os.RemoveAll(c.SocketDir()) })
	if filepath.Dir(c.SocketDir()) != filepath.Clean(os.TempDir()) {
		t.Errorf("SocketDir() = %s, want a directory in %s", c.SocketDir(), os.TempDir())
	}
	if err := connect(t, c, "postgres").Ping(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenAncestorNotTraversable(t *testing.T) {
	t.Parallel()
	closed := filepath.Join(testDir(t), "closed")
	if err := os.Mkdir(closed, 0o755); err != nil {
		t.Fatal(err)
	}
	// No x for anyone: as root, the postgres user (other) cannot pass; as
	// another user, the owner cannot.
	if err := os.Chmod(closed, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(closed, 0o755) })

	_, err := Open(context.Background(), Options{Dir: filepath.Join(closed, "cluster")})
	if errors.Is(err, ErrNotFound) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err == nil {
		t.Fatal("Open succeeded, want an error naming the directory")
	}
	if !strings.Contains(err.Error(), "directory "+closed+" is not traversable") || !strings.Contains(err.Error(), "chmod") {
		t.Errorf("err = %v, want it to name %s and the chmod fix", err, closed)
	}
}

// waitFor polls cond until it holds, failing the test after 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
