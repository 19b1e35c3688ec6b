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

	"github.com/emiago/sipgo/sip"
)

const usage = `usage: bifrost-load COMMAND [flags]

Commands:
  sip      place SIP calls into a room (bifrost-load sip -h for its flags)
  webrtc   join WebRTC peers to a room (bifrost-load webrtc -h for its flags)
`

// Exit statuses.
const (
	exitOK       = 0
	exitFailures = 1 // more calls failed than --max-failures, or the run could not start
	exitUsage    = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// sipgo's own log lines (transport bookkeeping at close) are not the
	// operator's business; failures reach the final table.
	sip.SetDefaultLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	switch args[0] {
	case "sip":
		return runSIPCommand(ctx, args[1:], stdout, stderr, log)
	case "webrtc":
		return runWebRTCCommand(ctx, args[1:], stdout, stderr, log)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "bifrost-load: unknown command %q\n%s", args[0], usage)
	return exitUsage
}

func runSIPCommand(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) int {
	cfg, err := parseSIPFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "bifrost-load sip: %v\n", err)
		return exitUsage
	}
	rep, err := runSIP(ctx, cfg, stderr, log)
	if err != nil {
		fmt.Fprintf(stderr, "bifrost-load sip: %v\n", err)
		if errors.Is(err, errUsage) {
			return exitUsage
		}
		return exitFailures
	}
	if err := rep.write(stdout); err != nil {
		return exitFailures
	}
	if rep.Failed > cfg.MaxFailures {
		fmt.Fprintf(stderr, "bifrost-load sip: %d calls failed, more than --max-failures %d\n", rep.Failed, cfg.MaxFailures)
		return exitFailures
	}
	return exitOK
}
