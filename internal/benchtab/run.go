package benchtab

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"
)

// Config sets how a Runner measures.
type Config struct {
	// Rounds is how many rounds each of subject and reference run; fewer
	// than 5 is raised to 5 (the minimum), except in a smoke run.
	Rounds int
	// Procs is GOMAXPROCS during the measurement; 0 means 1, so "per core"
	// means one core.
	Procs int
	// Size scales every harness's round; 0 means 1. A smoke run uses a
	// small size: each harness runs briefly and still yields a number.
	Size float64
	// Smoke allows fewer than 5 rounds: the run shows that every harness
	// works and yields a number, not what the numbers are.
	Smoke bool
	// Progress, when set, is told about each finished round (for a live
	// line on stderr); it must not block.
	Progress func(metric string, round int, subject bool, s Sample)
}

// A Result is one measured (or skipped) row.
type Result struct {
	Metric Metric
	// SubjectCost and ReferenceCost are the medians of the rounds' CPU
	// seconds per unit of work.
	SubjectCost, ReferenceCost float64
	// SubjectRounds and ReferenceRounds are every round's cost, in order.
	SubjectRounds, ReferenceRounds []float64
	// Ratio is subject ÷ reference in the row's kind (cost or capacity).
	Ratio float64
	// Err is why the row has no ratio: ErrNotBuilt, or a harness's error.
	Err error
}

// Verdict is what the table's last column says.
func (r Result) Verdict() string {
	switch {
	case errors.Is(r.Err, ErrNotBuilt):
		return "not built yet"
	case r.Err != nil:
		return "error: " + r.Err.Error()
	case r.Metric.Target.Met(r.Ratio):
		return "met"
	}
	return "not met"
}

// Run measures each metric in turn and returns their results in order. A
// harness's error ends that row only. Cancelling ctx ends the run; the rows
// not measured get ctx's error.
func Run(ctx context.Context, cfg Config, metrics []Metric) []Result {
	if cfg.Rounds < 5 && !cfg.Smoke {
		cfg.Rounds = 5
	}
	cfg.Rounds = max(cfg.Rounds, 1)
	if cfg.Procs <= 0 {
		cfg.Procs = 1
	}
	if cfg.Size <= 0 {
		cfg.Size = 1
	}
	prev := runtime.GOMAXPROCS(cfg.Procs)
	defer runtime.GOMAXPROCS(prev)
	out := make([]Result, 0, len(metrics))
	for _, m := range metrics {
		out = append(out, runOne(ctx, cfg, m))
	}
	return out
}

// runOne runs subject and reference alternately, swapping which goes first
// every round so that neither always meets a warm or a cold machine.
func runOne(ctx context.Context, cfg Config, m Metric) Result {
	r := Result{Metric: m}
	if m.NotBuilt != "" {
		r.Err = fmt.Errorf("%w: %s", ErrNotBuilt, m.NotBuilt)
		return r
	}
	if m.Kind == Count {
		return runCount(ctx, cfg, m)
	}
	if m.Subject == nil || m.Reference == nil {
		r.Err = fmt.Errorf("%w: no harness", ErrNotBuilt)
		return r
	}
	for round := range cfg.Rounds {
		order := []bool{true, false}
		if round%2 == 1 {
			order = []bool{false, true}
		}
		for _, subject := range order {
			if err := ctx.Err(); err != nil {
				r.Err = err
				return r
			}
			h := m.Reference
			if subject {
				h = m.Subject
			}
			s, err := measure(ctx, h, cfg.Size)
			if err != nil {
				which := "reference"
				if subject {
					which = "subject"
				}
				r.Err = fmt.Errorf("%s: %w", which, err)
				return r
			}
			if cfg.Progress != nil {
				cfg.Progress(m.Label(), round, subject, s)
			}
			cost := s.CPU.Seconds() / s.Work
			if m.Kind == Quantity {
				cost = s.Quantity / s.Work
			}
			if subject {
				r.SubjectRounds = append(r.SubjectRounds, cost)
			} else {
				r.ReferenceRounds = append(r.ReferenceRounds, cost)
			}
		}
	}
	r.SubjectCost = Median(r.SubjectRounds)
	r.ReferenceCost = Median(r.ReferenceRounds)
	r.Ratio = ratio(m.Kind, r.SubjectCost, r.ReferenceCost)
	return r
}

// runCount runs a Count row's subject for the rounds; its value and ratio
// are the median of the rounds' Count ÷ Work.
func runCount(ctx context.Context, cfg Config, m Metric) Result {
	r := Result{Metric: m}
	if m.Subject == nil {
		r.Err = fmt.Errorf("%w: no harness", ErrNotBuilt)
		return r
	}
	for round := range cfg.Rounds {
		if err := ctx.Err(); err != nil {
			r.Err = err
			return r
		}
		s, err := measure(ctx, m.Subject, cfg.Size)
		if err != nil {
			r.Err = fmt.Errorf("subject: %w", err)
			return r
		}
		if cfg.Progress != nil {
			cfg.Progress(m.Label(), round, true, s)
		}
		r.SubjectRounds = append(r.SubjectRounds, s.Count/s.Work)
	}
	r.SubjectCost = Median(r.SubjectRounds)
	r.Ratio = r.SubjectCost
	return r
}

// measure runs one round of h and fills in the process CPU time it took
// when the harness did not measure its own.
func measure(ctx context.Context, h Harness, size float64) (Sample, error) {
	runtime.GC() // the previous round's garbage is not this round's cost
	before := ProcessCPU()
	s, err := h(ctx, size)
	after := ProcessCPU()
	if err != nil {
		return s, err
	}
	if s.Work <= 0 {
		return s, ErrNoWork
	}
	if s.CPU == 0 {
		s.CPU = after - before
	}
	if s.CPU <= 0 {
		// getrusage ticks are coarse on some kernels; a round too short
		// to register is a harness sized too small, not free work.
		s.CPU = time.Microsecond
	}
	return s, nil
}

// ratio is subject ÷ reference: of costs for Cost rows, of capacities
// (units per CPU-second, the inverse of cost) for Capacity rows.
func ratio(k Kind, subjectCost, referenceCost float64) float64 {
	if subjectCost <= 0 || referenceCost <= 0 {
		return 0
	}
	if k == Capacity {
		return referenceCost / subjectCost
	}
	return subjectCost / referenceCost
}

// Median is the median of xs (the mean of the middle two for an even
// count); 0 for none. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
