// Package clitest runs a package's CLI commands in tests: a cli.Env on a test
// database with a captured output, and Run, which finds a command and runs it as
// the audited actor "cli", as the bifrost binary does.
package clitest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/bifrost-video/bifrost/internal/audit"
	"github.com/bifrost-video/bifrost/internal/cli"
)

// Env is a cli.Env for tests. Zero fields mean: the wall clock, no data
// directory and no secret key (both then answer an error).
type Env struct {
	Database *sqlx.DB
	Out      bytes.Buffer
	Clock    func() time.Time
	Dir      string
	Key      []byte
}

var _ cli.Env = (*Env)(nil)

// DB returns the test database.
func (e *Env) DB(context.Context) (*sqlx.DB, error) { return e.Database, nil }

// Stdout is the captured output.
func (e *Env) Stdout() io.Writer { return &e.Out }

// Logger discards.
func (e *Env) Logger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Now is Clock, or the wall clock.
func (e *Env) Now() time.Time {
	if e.Clock != nil {
		return e.Clock()
	}
	return time.Now()
}

// DataDir is Dir.
func (e *Env) DataDir() (string, error) {
	if e.Dir == "" {
		return "", errors.New("clitest: no data dir in this test")
	}
	return e.Dir, nil
}

// SecretKey is Key.
func (e *Env) SecretKey() ([]byte, error) {
	if e.Key == nil {
		return nil, errors.New("clitest: no secret key in this test")
	}
	return e.Key, nil
}

// Run finds args in cmds and runs the command as the CLI actor on env, after
// clearing env.Out; it returns what the command printed and its error. A
// command that does not exist fails the test.
func Run(t testing.TB, cmds []*cli.Command, env *Env, args ...string) (string, error) {
	t.Helper()
	cmd, _, rest := cli.Find(cmds, args)
	if cmd == nil || cmd.Run == nil {
		t.Fatalf("no command %q", args)
	}
	env.Out.Reset()
	ctx := audit.WithActor(t.Context(), audit.Actor{Kind: audit.ActorCLI, Name: "cli"})
	err := cmd.Run(ctx, env, rest)
	return env.Out.String(), err
}
