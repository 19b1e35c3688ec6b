package pglocal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

const (
	// port only names the socket file (.s.PGSQL.5432); there is no TCP.
	port = 5432
	// maxSocketPath is the longest socket file path used inside Dir; a Unix
	// socket path is limited to 107 bytes on Linux.
	maxSocketPath = 100
	// startTimeout bounds pg_ctl start and stop, in seconds; crash recovery
	// after a kill -9 fits in it.
	startTimeout = 60
	confFile     = "bifrost.conf"
)

// Options configure Open.
type Options struct {
	// Dir is the cluster directory, e.g. <data_dir>/postgres; it is created
	// if missing. It holds data/ (PGDATA), log/postgresql.log and run/ (the
	// socket directory).
	Dir string
	// Logger receives one line per initdb, start and stop. Nil discards.
	Logger *slog.Logger
	// Fast trades durability for speed, for tests: fsync, synchronous_commit
	// and full_page_writes are off. A crash of the machine may then lose or
	// corrupt the cluster.
	Fast bool
}

// Cluster is a private PostgreSQL cluster in a directory. Its methods are
// safe for concurrent use.
type Cluster struct {
	dir     string
	dataDir string
	logFile string
	binDir  string
	fast    bool
	user    serverUser
	logger  *slog.Logger

	mu        sync.Mutex
	started   bool
	socketDir string
	port      int
}

// Open initialises the cluster if opts.Dir holds none and starts it unless
// it is already running, in which case it is reused.
//
// The server listens on no TCP address, only on a Unix socket in Dir/run, or,
// when that path would be too long for a Unix socket, in
// os.TempDir()/bifrost-pg-<hash of Dir>. A postmaster.pid left by a server
// that was killed (its PID is gone or now belongs to another program) is
// removed so that the start succeeds; PostgreSQL's crash recovery does the
// rest. When a start fails, the error includes the end of the server log,
// Dir/log/postgresql.log.
func Open(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("pglocal: Options.Dir is empty")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	binDir, err := findBinDir(exec.LookPath, debianLibDir)
	if err != nil {
		return nil, err
	}
	u, err := lookupServerUser()
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		dir:     dir,
		dataDir: filepath.Join(dir, "data"),
		logFile: filepath.Join(dir, "log", "postgresql.log"),
		binDir:  binDir,
		fast:    opts.Fast,
		user:    u,
		logger:  logger.With("pg_dir", dir),
		port:    port,
	}
	c.socketDir = socketDirFor(dir)
	if err := c.prepareDirs(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(ctx); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// socketDirFor returns Dir/run, or a short directory under os.TempDir()
// derived from a hash of dir when a socket path inside Dir would be too long.
func socketDirFor(dir string) string {
	sd := filepath.Join(dir, "run")
	if len(filepath.Join(sd, ".s.PGSQL."+strconv.Itoa(port))) <= maxSocketPath {
		return sd
	}
	sum := sha256.Sum256([]byte(dir))
	return filepath.Join(os.TempDir(), "bifrost-pg-"+hex.EncodeToString(sum[:8]))
}

// prepareDirs creates Dir, its log directory and the socket directory,
// hands them to the server user, and checks that user can reach them.
func (c *Cluster) prepareDirs() error {
	if err := c.user.checkTraversable(c.dir); err != nil {
		return err
	}
	for _, d := range []string{c.dir, filepath.Dir(c.logFile), c.socketDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("pglocal: %w", err)
		}
		if err := c.user.chown(d); err != nil {
			return err
		}
		if err := c.user.checkTraversable(d); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) initdb(ctx context.Context) error {
	args := []string{"-D", c.dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8"}
	if c.fast {
		args = append(args, "--no-sync")
	}
	out, err := c.user.command(ctx, c.dir, filepath.Join(c.binDir, "initdb"), append(args, "--locale=C.UTF-8")...).CombinedOutput()
	if err != nil && bytes.Contains(out, []byte("locale")) {
		// A system without the C.UTF-8 locale.
		out, err = c.user.command(ctx, c.dir, filepath.Join(c.binDir, "initdb"), append(args, "--no-locale")...).CombinedOutput()
	}
	if err != nil {
		return fmt.Errorf("pglocal: initdb %s: %w\n%s", c.dataDir, err, tail(out, 20))
	}
	f, err := os.OpenFile(filepath.Join(c.dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	_, err = fmt.Fprintf(f, "\n# Written by Bifrost (package pglocal) at every start.\ninclude_if_exists = '%s'\n", confFile)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	c.logger.Info("postgres cluster initialised", "bin_dir", c.binDir)
	return nil
}

// writeConf writes the settings Bifrost owns, read by postgresql.conf's
// include_if_exists.
func (c *Cluster) writeConf() error {
	var b strings.Builder
	fmt.Fprintf(&b, "listen_addresses = ''\n")
	fmt.Fprintf(&b, "port = %d\n", port)
	fmt.Fprintf(&b, "unix_socket_directories = '%s'\n", strings.ReplaceAll(c.socketDir, "'", "''"))
	if c.fast {
		b.WriteString("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
	}
	p := filepath.Join(c.dataDir, confFile)
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	return c.user.chown(p)
}

// Start starts the server unless it is running. Open calls it; call it
// yourself only to restart a cluster after Stop.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()

	if pf, ok := readPidFile(c.dataDir); ok {
		if isPostmaster(pf.pid, c.dataDir) {
			if pf.socketDir != "" {
				c.socketDir = pf.socketDir
			}
			if pf.port != 0 {
				c.port = pf.port
			}
			c.started = false
			c.logger.Info("postgres already running, reused", "pid", pf.pid)
			return c.waitReady(ctx)
		}
		c.logger.Warn("removing stale postmaster.pid", "pid", pf.pid)
		if err := c.removeStale(); err != nil {
			return err
		}
	}
	c.socketDir = socketDirFor(c.dir)
	c.port = port
	if err := c.writeConf(); err != nil {
		return err
	}

	// After a kill -9 of the postmaster, its children may hold the old
	// shared memory for a moment and the new server refuses to start; they
	// exit as soon as they notice, so try again for a while.
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, err := c.pgctl(ctx, "start", "-l", c.logFile)
		if err == nil {
			break
		}
		logTail := c.logTail(20)
		if strings.Contains(logTail, "pre-existing shared memory block") && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		return fmt.Errorf("pglocal: start postgres in %s: %w\n%s\nlast lines of %s:\n%s", c.dir, err, bytes.TrimSpace(out), c.logFile, logTail)
	}
	c.started = true
	c.logger.Info("postgres started", "socket_dir", c.socketDir)
	return nil
}

// removeStale removes the lock files of a server that is no longer running.
func (c *Cluster) removeStale() error {
	for _, p := range []string{
		filepath.Join(c.dataDir, "postmaster.pid"),
		filepath.Join(c.socketDir, ".s.PGSQL."+strconv.Itoa(port)+".lock"),
		filepath.Join(c.socketDir, ".s.PGSQL."+strconv.Itoa(port)),
	} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("pglocal: remove stale lock: %w", err)
		}
	}
	return nil
}

// waitReady waits until a running server accepts connections.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout*time.Second)
	defer cancel()
	for {
		pf, ok := readPidFile(c.dataDir)
		if ok && (pf.status == "ready" || pf.status == "standby") {
			return nil
		}
		if !ok || !isPostmaster(pf.pid, c.dataDir) {
			return fmt.Errorf("pglocal: postgres in %s stopped while starting\nlast lines of %s:\n%s", c.dir, c.logFile, c.logTail(20))
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("pglocal: wait for postgres in %s to accept connections: %w", c.dir, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop stops the server (pg_ctl stop -m fast), waiting for it to exit. It
// does nothing if the server is not running.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running() {
		return nil
	}
	if out, err := c.pgctl(ctx, "stop", "-m", "fast"); err != nil {
		return fmt.Errorf("pglocal: stop postgres in %s: %w\n%s", c.dir, err, bytes.TrimSpace(out))
	}
	c.logger.Info("postgres stopped")
	return nil
}

func (c *Cluster) pgctl(ctx context.Context, action string, args ...string) ([]byte, error) {
	args = append([]string{action, "-D", c.dataDir, "-w", "-s", "-t", strconv.Itoa(startTimeout)}, args...)
	return c.user.command(ctx, c.dir, filepath.Join(c.binDir, "pg_ctl"), args...).CombinedOutput()
}

// Running reports whether the cluster's server is running.
func (c *Cluster) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.running()
}

func (c *Cluster) running() bool {
	pf, ok := readPidFile(c.dataDir)
	return ok && isPostmaster(pf.pid, c.dataDir)
}

// Started reports whether the last Open or Start started the server; false
// means it reused one already running.
func (c *Cluster) Started() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.started
}

// Dir returns the cluster directory.
func (c *Cluster) Dir() string { return c.dir }

// SocketDir returns the directory of the server's Unix socket.
func (c *Cluster) SocketDir() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.socketDir
}

// URL returns a lib/pq (and libpq) connection URL for database dbname over
// the Unix socket, as user postgres, e.g.
// postgres://postgres@/bifrost?host=%2Ftmp%2Fx%2Frun&port=5432&sslmode=disable.
func (c *Cluster) URL(dbname string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	q := url.Values{}
	q.Set("host", c.socketDir)
	q.Set("port", strconv.Itoa(c.port))
	q.Set("sslmode", "disable")
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Path: "/" + dbname, RawQuery: q.Encode()}
	return u.String()
}

// EnsureDatabase creates database name unless it exists.
func (c *Cluster) EnsureDatabase(ctx context.Context, name string) error {
	db, err := sql.Open("postgres", c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return fmt.Errorf("pglocal: look for database %q: %w", name, err)
	}
	if exists {
		return nil
	}
	_, err = db.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name))
	if err != nil && pq.As(err, pqerror.DuplicateDatabase) == nil {
		return fmt.Errorf("pglocal: create database %q: %w", name, err)
	}
	return nil
}

// logTail returns the last n lines of the server log.
func (c *Cluster) logTail(n int) string {
	b, err := os.ReadFile(c.logFile)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return string(tail(b, n))
}

func tail(b []byte, n int) []byte {
	b = bytes.TrimRight(b, "\n")
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			n--
			if n == 0 {
				return b[i+1:]
			}
		}
	}
	return b
}
