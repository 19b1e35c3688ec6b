// Package cli is the small command framework of the bifrost binary: a command tree
// that each package contributes to, and the environment every command runs in.
//
// It is deliberately dependency-light (the standard library's flag package and sqlx).
// It must not import any other package of this module.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Env is what a command gets from the binary: the same database and configuration as
// `bifrost serve` uses, an output stream and a clock.
type Env interface {
	// DB opens (once) and returns the migrated database.
	DB(ctx context.Context) (*sqlx.DB, error)
	// Stdout is where a command prints its result (tokens, JSON, tables).
	Stdout() io.Writer
	// Logger is the process logger; it never carries secrets.
	Logger() *slog.Logger
	// Now is the injected clock.
	Now() time.Time
	// DataDir is the absolute data directory (created if missing).
	DataDir() (string, error)
	// SecretKey is the 32-byte key that encrypts secrets at rest (LDAP bind
	// passwords): secret_key from the configuration, or one generated on first use
	// and kept in <data_dir>/secret.key.
	SecretKey() ([]byte, error)
}

// Command is one subcommand, possibly with subcommands of its own
// (`bifrost org create`).
type Command struct {
	Name    string
	Summary string // one line, shown by `bifrost help`
	Usage   string // argument synopsis, e.g. "--org NAME --email E"
	// Run executes a leaf command; args are what follows the command's name.
	Run func(ctx context.Context, env Env, args []string) error
	Sub []*Command
}

// ErrUsage marks an error caused by how the command was called; the binary prints
// the usage with it and exits with status 2.
var ErrUsage = errors.New("usage")

// UsageError returns an error wrapping ErrUsage with a message.
func UsageError(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, a...))
}

// Find walks args down the command tree and returns the deepest command named by
// them, the path of names it took, and the remaining arguments.
func Find(root []*Command, args []string) (cmd *Command, path []string, rest []string) {
	cmds := root
	rest = args
	for len(rest) > 0 {
		var next *Command
		for _, c := range cmds {
			if c.Name == rest[0] {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		cmd, path, rest = next, append(path, next.Name), rest[1:]
		cmds = next.Sub
		if len(cmds) == 0 {
			break
		}
	}
	return cmd, path, rest
}

// WriteHelp prints the command tree, one line per leaf command.
func WriteHelp(w io.Writer, prog string, root []*Command) {
	type line struct{ name, summary string }
	var lines []line
	var walk func(prefix string, cmds []*Command)
	walk = func(prefix string, cmds []*Command) {
		for _, c := range cmds {
			name := strings.TrimSpace(prefix + " " + c.Name)
			if c.Run != nil {
				usage := name
				if c.Usage != "" {
					usage += " " + c.Usage
				}
				lines = append(lines, line{usage, c.Summary})
			}
			walk(name, c.Sub)
		}
	}
	walk("", root)
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].name < lines[j].name })
	fmt.Fprintf(w, "Usage: %s [--config FILE] COMMAND [ARGS]\n\nCommands:\n", prog)
	for _, l := range lines {
		fmt.Fprintf(w, "  %s\n      %s\n", l.name, l.summary)
	}
}

// FlagSet returns a flag set for a command that reports errors instead of exiting
// and prints nothing by itself.
func FlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// Parse parses args into fs and turns a flag error into a usage error.
// Positional arguments are returned.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		return nil, UsageError("%v", err)
	}
	return fs.Args(), nil
}

// MultiFlag is a repeatable string flag (`--base-dn A --base-dn B`).
type MultiFlag []string

func (m *MultiFlag) String() string { return strings.Join(*m, ",") }

// Set appends a value.
func (m *MultiFlag) Set(v string) error { *m = append(*m, v); return nil }

// Merge joins command trees contributed by several packages: commands of the
// same name at the same level become one, their subcommands merged in turn (so
// webadmin's `org create` and cdr's `org delete` share `org`). A leaf named
// twice is a programming error and panics.
func Merge(trees ...[]*Command) []*Command {
	var out []*Command
	byName := map[string]*Command{}
	for _, tree := range trees {
		for _, c := range tree {
			prev, ok := byName[c.Name]
			if !ok {
				cp := *c
				out = append(out, &cp)
				byName[c.Name] = &cp
				continue
			}
			if prev.Run != nil || c.Run != nil {
				panic(fmt.Sprintf("cli: command %q defined twice", c.Name))
			}
			if prev.Summary == "" {
				prev.Summary = c.Summary
			}
			prev.Sub = Merge(prev.Sub, c.Sub)
		}
	}
	return out
}
