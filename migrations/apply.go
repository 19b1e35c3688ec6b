package migrations

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// lockKey is the PostgreSQL advisory lock key that serialises Apply across
// processes sharing one database ("bifrost" + "migr" in ASCII). Advisory
// locks are per database, so migrating two databases of one server at once
// does not contend.
const lockKey int64 = 0x62696672_6d696772

// Apply applies every pending migration, in order, each in its own
// transaction that also records it in schema_version. It holds a PostgreSQL
// session advisory lock for the whole run so two processes migrating at once
// do not collide: the second waits, then finds nothing to do. It returns the
// migrations it applied.
//
// If the database records a version newer than Latest, Apply returns an error
// wrapping ErrSchemaTooNew and changes nothing.
func Apply(ctx context.Context, db *sqlx.DB) ([]Migration, error) {
	return apply(ctx, db, all)
}

// Status reports the database's current schema version (0 when
// schema_version does not exist yet) and Latest.
func Status(ctx context.Context, db *sqlx.DB) (current, latest int, err error) {
	current, err = currentVersion(ctx, db)
	if err != nil {
		return 0, 0, err
	}
	return current, Latest(), nil
}

// queryer is what currentVersion needs from a *sqlx.DB, *sqlx.Conn or
// *sqlx.Tx.
type queryer interface {
	GetContext(ctx context.Context, dest any, query string, args ...any) error
}

func currentVersion(ctx context.Context, q queryer) (int, error) {
	var exists bool
	if err := q.GetContext(ctx, &exists, `SELECT to_regclass('schema_version') IS NOT NULL`); err != nil {
		return 0, fmt.Errorf("migrations: look for schema_version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int
	if err := q.GetContext(ctx, &v, `SELECT coalesce(max(version), 0) FROM schema_version`); err != nil {
		return 0, fmt.Errorf("migrations: read schema_version: %w", err)
	}
	return v, nil
}

func apply(ctx context.Context, db *sqlx.DB, ms []Migration) (applied []Migration, err error) {
	// A session advisory lock belongs to one connection: take one out of the
	// pool for the whole run.
	conn, err := db.Connx(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: connect: %w", err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("migrations: take the migration lock: %w", err)
	}
	defer func() {
		// Unlock even when ctx is done; if that fails, discard the
		// connection, which ends the session and so releases the lock,
		// rather than return a locked connection to the pool.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, uerr := conn.ExecContext(uctx, `SELECT pg_advisory_unlock($1)`, lockKey); uerr != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			if err == nil {
				err = fmt.Errorf("migrations: release the migration lock: %w", uerr)
			}
		}
		_ = conn.Close()
	}()

	current, err := currentVersion(ctx, conn)
	if err != nil {
		return nil, err
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].Version
	}
	if current > latest {
		return nil, fmt.Errorf("%w: database at version %d, newest known %d", ErrSchemaTooNew, current, latest)
	}

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
	version    int PRIMARY KEY,
	name       text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`); err != nil {
		return nil, fmt.Errorf("migrations: create schema_version: %w", err)
	}
	var done []int
	if err := conn.SelectContext(ctx, &done, `SELECT version FROM schema_version`); err != nil {
		return nil, fmt.Errorf("migrations: read schema_version: %w", err)
	}
	isDone := make(map[int]bool, len(done))
	for _, v := range done {
		isDone[v] = true
	}

	for _, m := range ms {
		if isDone[m.Version] {
			continue
		}
		if err := applyOne(ctx, conn, m); err != nil {
			return applied, err
		}
		applied = append(applied, m)
	}
	return applied, nil
}

func applyOne(ctx context.Context, conn *sqlx.Conn, m Migration) error {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrations: %04d_%s: begin: %w", m.Version, m.Name, err)
	}
	// The SQL has no arguments, so lib/pq sends it with the simple query
	// protocol, which runs a file of several statements.
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return errors.Join(
			fmt.Errorf("migrations: %04d_%s: %w", m.Version, m.Name, err),
			ignoreDone(tx.Rollback()))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
		return errors.Join(
			fmt.Errorf("migrations: %04d_%s: record: %w", m.Version, m.Name, err),
			ignoreDone(tx.Rollback()))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrations: %04d_%s: commit: %w", m.Version, m.Name, err)
	}
	return nil
}

// ignoreDone drops the error a rollback returns when the transaction already
// ended (for example because ctx was cancelled).
func ignoreDone(err error) error {
	if err == nil || errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
