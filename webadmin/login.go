package webadmin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/audit"
)

// Sign-in throttling: after AccountFailures failed sign-ins for one account, or
// IPFailures from one address, within ThrottleWindow, further attempts are refused
// for ThrottleLockout — even with the right password.
const (
	AccountFailures = 5
	IPFailures      = 20
	ThrottleWindow  = 15 * time.Minute
	ThrottleLockout = 15 * time.Minute
)

// Login checks email and password for a sign-in from ip. It returns the user,
// ErrBadCredentials, or a ThrottledError while the account or the address is
// locked out. A successful sign-in clears the account's failures and is audited.
func (s *Store) Login(ctx context.Context, email, password, ip string) (User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	host := ip
	if h, _, err := net.SplitHostPort(ip); err == nil {
		host = h
	}
	subjects := [][2]string{{"account", email}, {"ip", host}}
	if until, err := s.lockedUntil(ctx, subjects); err != nil {
		return User{}, err
	} else if !until.IsZero() {
		return User{}, &ThrottledError{Until: until}
	}
	u, err := s.UserByEmail(ctx, email)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return User{}, err
	}
	if errors.Is(err, ErrNotFound) {
		// Spend the same time as for a real account, so timing does not tell
		// which e-mail addresses have one.
		s.dummyOnce.Do(func() { s.dummyHash, _ = HashPassword("bifrost dummy", s.params) })
		if err := s.verifyPassword(ctx, password, s.dummyHash); err != nil && !errors.Is(err, ErrPasswordMismatch) {
			return User{}, err
		}
		return User{}, s.fail(ctx, subjects)
	}
	if err := s.verifyPassword(ctx, password, u.PasswordHash); err != nil {
		if !errors.Is(err, ErrPasswordMismatch) {
			return User{}, err
		}
		return User{}, s.fail(ctx, subjects)
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_login_at = $2 WHERE id = $1`, u.ID, s.now()); err != nil {
			return notFound("login", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_throttle WHERE kind = 'account' AND subject = $1`, email); err != nil {
			return notFound("login", err)
		}
		org := ""
		if u.OrganisationID != nil {
			org = *u.OrganisationID
		}
		actx := audit.WithActor(ctx, audit.Actor{Kind: audit.ActorUser, ID: u.ID, Name: u.Email, IP: ip})
		return audit.Record(actx, tx, audit.Entry{OrganisationID: org, Action: "user.login", ObjectType: "user", ObjectID: u.ID})
	})
	return u, err
}

// lockedUntil returns the latest lock-out end among subjects that is still in
// the future, or the zero time.
func (s *Store) lockedUntil(ctx context.Context, subjects [][2]string) (time.Time, error) {
	var until time.Time
	for _, sub := range subjects {
		var t *time.Time
		err := s.db.GetContext(ctx, &t, `SELECT locked_until FROM login_throttle WHERE kind = $1 AND subject = $2`, sub[0], sub[1])
		if err != nil {
			if e := notFound("throttle", err); e == ErrNotFound {
				continue
			} else {
				return time.Time{}, e
			}
		}
		if t != nil && t.After(s.now()) && t.After(until) {
			until = *t
		}
	}
	return until, nil
}

// fail counts a failed sign-in against every subject, locks out those over their
// limit, and returns ErrBadCredentials (or a ThrottledError when this failure
// locked one out).
func (s *Store) fail(ctx context.Context, subjects [][2]string) error {
	now := s.now()
	var locked time.Time
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, sub := range subjects {
			limit := AccountFailures
			if sub[0] == "ip" {
				limit = IPFailures
			}
			var row struct {
				Failures int       `db:"failures"`
				Start    time.Time `db:"window_start"`
			}
			err := tx.GetContext(ctx, &row, `INSERT INTO login_throttle (kind, subject, failures, window_start) VALUES ($1, $2, 1, $3)
				ON CONFLICT (kind, subject) DO UPDATE SET
					failures = CASE WHEN login_throttle.window_start <= $4 THEN 1 ELSE login_throttle.failures + 1 END,
					window_start = CASE WHEN login_throttle.window_start <= $4 THEN $3 ELSE login_throttle.window_start END,
					locked_until = CASE WHEN login_throttle.window_start <= $4 THEN NULL ELSE login_throttle.locked_until END
				RETURNING failures, window_start`, sub[0], sub[1], now, now.Add(-ThrottleWindow))
			if err != nil {
				return fmt.Errorf("webadmin: throttle: %w", err)
			}
			if row.Failures >= limit {
				until := now.Add(ThrottleLockout)
				if _, err := tx.ExecContext(ctx, `UPDATE login_throttle SET locked_until = $3, failures = 0, window_start = $4
					WHERE kind = $1 AND subject = $2`, sub[0], sub[1], until, now); err != nil {
					return fmt.Errorf("webadmin: throttle: %w", err)
				}
				locked = until
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !locked.IsZero() {
		return &ThrottledError{Until: locked}
	}
	return ErrBadCredentials
}
