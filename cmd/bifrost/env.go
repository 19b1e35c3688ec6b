package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"

	"github.com/bifrost-video/bifrost/migrations"
	"github.com/bifrost-video/bifrost/migrations/pglocal"
)

// env is the cli.Env of a command: configuration, logger, and the database opened
// on first use — the private cluster of the data directory when no database URL is
// configured (reusing it while serve runs, starting it for the command's duration
// otherwise).
type env struct {
	cfg     Config
	log     *slog.Logger
	stdout  io.Writer
	db      *sqlx.DB
	cluster *pglocal.Cluster
	dataDir string
}

func newEnv(cfg Config, log *slog.Logger, stdout io.Writer) *env {
	return &env{cfg: cfg, log: log, stdout: stdout}
}

func (e *env) Stdout() io.Writer    { return e.stdout }
func (e *env) Logger() *slog.Logger { return e.log }
func (e *env) Now() time.Time       { return time.Now() }

// DB opens the database once and brings its schema up to date (or refuses, see
// checkSchema).
func (e *env) DB(ctx context.Context) (*sqlx.DB, error) {
	if e.db != nil {
		return e.db, nil
	}
	db, err := e.open(ctx)
	if err != nil {
		return nil, err
	}
	e.db = db
	if err := e.checkSchema(ctx, e.cfg.AutoMigrate); err != nil {
		return nil, err
	}
	return db, nil
}

// open connects to the configured database or to the private cluster.
func (e *env) open(ctx context.Context) (*sqlx.DB, error) {
	dsn := e.cfg.DatabaseURL
	where := redactURL(dsn)
	if dsn == "" {
		dir, err := e.ensureDataDir()
		if err != nil {
			return nil, err
		}
		c, err := pglocal.Open(ctx, pglocal.Options{Dir: filepath.Join(dir, "postgres"), Logger: e.log})
		if err != nil {
			return nil, fmt.Errorf("private database: %w", err)
		}
		e.cluster = c
		if err := c.EnsureDatabase(ctx, "bifrost"); err != nil {
			return nil, fmt.Errorf("private database: %w", err)
		}
		dsn = c.URL("bifrost")
		where = "the private cluster in " + filepath.Join(dir, "postgres")
		if c.Started() {
			e.log.Info("started the private PostgreSQL cluster", "dir", filepath.Join(dir, "postgres"))
		}
	}
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", where, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("database %s is unreachable: %w", where, err)
	}
	db.SetMaxOpenConns(20)
	// Keep as many idle as may be open: with database/sql's default of 2,
	// concurrent phonebook searches opened a new PostgreSQL connection for
	// most queries (LDAP searches/s 25 → 92 with this, directory/pbldap).
	db.SetMaxIdleConns(20)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// checkSchema compares the database's schema with this binary's: a newer schema is
// refused; an older one is migrated when auto is set, refused otherwise.
func (e *env) checkSchema(ctx context.Context, auto bool) error {
	current, latest, err := migrations.Status(ctx, e.db)
	if err != nil {
		return err
	}
	switch {
	case current > latest:
		return fmt.Errorf("%w: the database is at version %d, this bifrost knows up to %d; run a newer bifrost", migrations.ErrSchemaTooNew, current, latest)
	case current < latest && !auto:
		return fmt.Errorf("database schema is at version %d, this bifrost needs %d: run `bifrost migrate` (auto_migrate is off)", current, latest)
	case current < latest:
		applied, err := migrations.Apply(ctx, e.db)
		if err != nil {
			return err
		}
		for _, m := range applied {
			e.log.Info("applied migration", "version", m.Version, "name", m.Name)
		}
	}
	return nil
}

// DataDir implements cli.Env.
func (e *env) DataDir() (string, error) { return e.ensureDataDir() }

// SecretKey implements cli.Env: the configured key, or the one kept in the data
// directory, generated on first use.
func (e *env) SecretKey() ([]byte, error) {
	if e.cfg.SecretKey != "" {
		return decodeKey(e.cfg.SecretKey)
	}
	dir, err := e.ensureDataDir()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		return decodeKey(strings.TrimSpace(string(b)))
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) { // another process made it first
		b, rerr := os.ReadFile(path)
		if rerr != nil {
			return nil, rerr
		}
		return decodeKey(strings.TrimSpace(string(b)))
	}
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	e.log.Info("generated a secret key; back it up with the database", "path", path)
	return key, f.Sync()
}

// decodeKey reads a 32-byte key written in hex or base64.
func decodeKey(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == 32 {
		return b, nil
	}
	return nil, errors.New("want 32 bytes written as 64 hex digits or base64")
}

// ensureDataDir creates the data directory (readable by the postgres user, who
// must traverse it when we run as root) and returns its absolute path.
func (e *env) ensureDataDir() (string, error) {
	if e.dataDir != "" {
		return e.dataDir, nil
	}
	dir, err := e.cfg.absDataDir()
	if err != nil {
		return "", fmt.Errorf("data_dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("data_dir: %w", err)
	}
	e.dataDir = dir
	return dir, nil
}

// close closes the database. The private cluster is stopped by serve, which owns
// it, and by a command that started it itself while no serve is running.
func (e *env) close(isServe bool) error {
	var err error
	if e.db != nil {
		err = e.db.Close()
		e.db = nil
	}
	if e.cluster == nil {
		return err
	}
	if isServe || (e.cluster.Started() && !serveRunning(e.dataDir)) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if serr := e.cluster.Stop(ctx); serr != nil {
			err = errors.Join(err, fmt.Errorf("stop private database: %w", serr))
		} else {
			e.log.Info("stopped the private PostgreSQL cluster")
		}
	}
	e.cluster = nil
	return err
}

var dsnPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)

// redactURL hides the password of a database URL or key=value DSN for messages.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return dsnPassword.ReplaceAllString(s, "${1}xxxxx")
}
