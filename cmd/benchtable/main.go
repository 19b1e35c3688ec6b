package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/bifrost-video/bifrost/internal/benchtab"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the command without the process; it returns the exit status: 0
// when the table was printed (whatever the verdicts), 1 when a harness
// failed, 2 on a usage error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	rounds := fs.Int("rounds", 5, "rounds of subject and reference each (at least 5, except with -size below 1)")
	size := fs.Float64("size", 1, "scale of every round (1 = full); below 0.5 for a quick smoke run (fewer callers, rounds may be fewer than 5)")
	procs := fs.Int("procs", 1, "GOMAXPROCS while measuring")
	only := fs.String("only", "", "measure only the metrics matching this regular expression")
	loadBin := fs.String("load-bin", "", "the bifrost-load binary (default: built from this module)")
	quiet := fs.Bool("q", false, "no progress on stderr")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (both subject and reference) to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var filter *regexp.Regexp
	if *only != "" {
		var err error
		if filter, err = regexp.Compile(*only); err != nil {
			fmt.Fprintf(stderr, "benchtable: -only: %v\n", err)
			return 2
		}
	}
	module, err := findModule()
	if err != nil {
		fmt.Fprintf(stderr, "benchtable: %v\n", err)
		return 2
	}
	dir, err := os.MkdirTemp("", "benchtable-")
	if err != nil {
		fmt.Fprintf(stderr, "benchtable: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	t := &tools{dir: dir, module: module, loadBin: *loadBin}

	var rows []benchtab.Metric
	for _, m := range metrics(t) {
		if filter == nil || filter.MatchString(m.Label()) {
			rows = append(rows, m)
		}
	}
	cfg := benchtab.Config{Rounds: *rounds, Procs: *procs, Size: *size, Smoke: *size < 0.5}
	if !cfg.Smoke {
		cfg.Rounds = max(cfg.Rounds, 5)
	}
	if !*quiet {
		cfg.Progress = func(metric string, round int, subject bool, s benchtab.Sample) {
			which := "reference"
			if subject {
				which = "subject"
			}
			fmt.Fprintf(stderr, "benchtable: %-24s round %d %-9s %8.3f ms CPU for %g units\n",
				metric, round+1, which, float64(s.CPU)/float64(time.Millisecond), s.Work)
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "benchtable: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "benchtable: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	results := benchtab.Run(ctx, cfg, rows)
	fmt.Fprintf(stdout, "Bifrost performance table — %s, %s, %d CPUs (GOMAXPROCS %d while measuring), %s, median of %d rounds, %s\n\n",
		start.UTC().Format("2006-01-02 15:04 UTC"), cpuModel(), runtime.NumCPU(), max(1, *procs), runtime.Version(),
		cfg.Rounds, time.Since(start).Round(time.Second))
	if err := benchtab.WriteTable(stdout, results); err != nil {
		return 1
	}
	for _, r := range results {
		if r.Err != nil && r.Metric.NotBuilt == "" {
			return 1
		}
	}
	return 0
}

// cpuModel is the processor's name from /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
