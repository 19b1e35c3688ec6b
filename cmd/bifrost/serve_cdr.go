package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/cdr"
)

// PrivacyConfig is the YAML shape of the daily privacy jobs.
type PrivacyConfig struct {
	// InactiveAdminsAfter deletes admin accounts with no login for this long;
	// 0 turns it off.
	InactiveAdminsAfter time.Duration `yaml:"inactive_admins_after"`
}

// cdrHooks are the other packages' parts of the privacy work: the directory
// adds its SubjectSource (entries, addresses, phonebook log) and Anonymiser
// (phonebook request log) here; main.go's commands and serve's daily job use them.
func cdrHooks() cdr.Hooks {
	return cdr.Hooks{
		Sources:     []cdr.SubjectSource{loginThrottleSource, directorySource, phonebookSource}, // privacy_directory.go, privacy_phonebook.go
		Anonymisers: []cdr.Anonymiser{phonebookAnonymiser},                                      // privacy_phonebook.go
	}
}

// loginThrottleSource covers the web admin's failed sign-in counts, kept per
// e-mail address (login_throttle, migration 0003).
var loginThrottleSource = cdr.SubjectSource{
	Name: "login_throttle",
	Export: func(ctx context.Context, q sqlx.QueryerContext, _ string, s cdr.Subject) (any, int, error) {
		rows := []json.RawMessage{}
		err := sqlx.SelectContext(ctx, q, &rows, `SELECT to_jsonb(t) FROM login_throttle t WHERE kind = 'account' AND subject IN ($1, $2)`, s.Lower, s.Email)
		return rows, len(rows), err
	},
	Erase: func(ctx context.Context, tx *sqlx.Tx, _ string, s cdr.Subject) (int64, error) {
		res, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE kind = 'account' AND subject IN ($1, $2)`, s.Lower, s.Email)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	},
}

// cdrRuntime is what serve runs of package cdr: the call record writer, the
// event sink delivery and the daily privacy jobs.
type cdrRuntime struct {
	writer   *cdr.Writer
	delivery *cdr.Delivery
	jobs     *cdr.Jobs
}

// startCDR starts the writer (which first replays the spool of the previous
// run and closes the legs it left open), sink delivery and the daily jobs.
func (e *env) startCDR(db *sqlx.DB) (*cdrRuntime, error) {
	dir, err := e.ensureDataDir()
	if err != nil {
		return nil, err
	}
	log := e.log.With("component", "cdr")
	key, err := e.SecretKey()
	if err != nil {
		return nil, err
	}
	w, err := cdr.Open(db, cdr.Config{SpoolDir: filepath.Join(dir, "cdr"), Now: e.Now, Logger: log})
	if err != nil {
		return nil, err
	}
	rt := &cdrRuntime{
		writer:   w,
		delivery: &cdr.Delivery{DB: db, Key: key, Now: e.Now, Logger: log},
		jobs: &cdr.Jobs{DB: db, Retention: &cdr.Retention{DB: db, Now: e.Now, Logger: log, Extra: cdrHooks().Anonymisers},
			InactiveAdminsAfter: e.cfg.Privacy.InactiveAdminsAfter, Now: e.Now, Logger: log},
	}
	rt.delivery.Start()
	rt.jobs.Start()
	return rt, nil
}

// observer is the bridge.CallObserver to pass as bridge.Deps.Observer.
func (rt *cdrRuntime) observer() bridge.CallObserver { return newCallObserver(rt.writer) }

// close stops the jobs and delivery and flushes the writer (spooling what the
// database does not take). Call it after the bridge is closed, so that the
// legs it ends on shutdown are recorded.
func (rt *cdrRuntime) close() error {
	return errors.Join(rt.jobs.Close(), rt.delivery.Close(), rt.writer.Close())
}
