// Command bifrost is the Bifrost video bridge: one binary that serves SIP and
// WebRTC calls into virtual meeting rooms, the endpoint phonebook, call records and
// the web admin. `bifrost help` lists its subcommands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/bifrost-video/bifrost/cdr"
	"github.com/bifrost-video/bifrost/directory"
	"github.com/bifrost-video/bifrost/internal/audit"
	"github.com/bifrost-video/bifrost/internal/cli"
	"github.com/bifrost-video/bifrost/webadmin"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
}

// commands is the command tree; each file of this package (and later each domain
// package) contributes its commands here.
func commands() []*cli.Command {
	own := []*cli.Command{
		serveCommand(),
		migrateCommand(),
		versionCommand(),
	}
	return cli.Merge(own, webadmin.Commands(), directory.Commands(), cdr.CommandsWith(cdrHooks()), phonebookCommands()) // serve_phonebook.go
}

// run is main without the process: it parses global flags, loads the
// configuration, finds the command and runs it. It returns the exit status:
// 0 success, 1 failure (one line on stderr), 2 wrong usage.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	global := flag.NewFlagSet("bifrost", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	configPath := global.String("config", getenv("BIFROST_CONFIG"), "YAML configuration file")
	if err := global.Parse(args); err != nil {
		fmt.Fprintf(stderr, "bifrost: %v\n", err)
		cli.WriteHelp(stderr, "bifrost", commands())
		return 2
	}
	args = global.Args()
	if len(args) == 0 {
		args = []string{"serve"}
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		cli.WriteHelp(stdout, "bifrost", commands())
		return 0
	}
	cmd, path, rest := cli.Find(commands(), args)
	if cmd == nil || cmd.Run == nil {
		fmt.Fprintf(stderr, "bifrost: unknown command %q\n", args[0])
		cli.WriteHelp(stderr, "bifrost", commands())
		return 2
	}
	cfg, err := loadConfig(*configPath, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "bifrost: %v\n", err)
		return 1
	}
	logger := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if path[0] != "serve" {
		// Everything a command changes is audited as done by the CLI.
		ctx = audit.WithActor(ctx, audit.Actor{Kind: audit.ActorCLI, Name: "cli"})
	}
	env := newEnv(cfg, logger, stdout)
	err = cmd.Run(ctx, env, rest)
	if cerr := env.close(path[0] == "serve"); err == nil {
		err = cerr
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, cli.ErrUsage):
		fmt.Fprintf(stderr, "bifrost %s: %v\nusage: bifrost %s %s\n", joinPath(path), err, joinPath(path), cmd.Usage)
		return 2
	default:
		fmt.Fprintf(stderr, "bifrost: %v\n", err)
		return 1
	}
}

func joinPath(path []string) string {
	s := ""
	for i, p := range path {
		if i > 0 {
			s += " "
		}
		s += p
	}
	return s
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	level, _ := parseLevel(cfg.Log.Level)
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
