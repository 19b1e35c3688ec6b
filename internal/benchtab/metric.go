package benchtab

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// A Sample is what one round of a harness did: how many units of work
// (packets, ticks, calls, participant-seconds) and, when the harness
// measured it itself (a child process's CPU), the CPU time they took.
type Sample struct {
	// Work is the units of work done in the round; it must be positive.
	Work float64
	// CPU is the CPU time the work took. Zero means the runner's own
	// measure: the process's CPU time over the round (ProcessCPU).
	CPU time.Duration
	// Count is what a Count row counts over the work (heap allocations);
	// other rows leave it zero.
	Count float64
	// Quantity is what a Quantity row measures instead of CPU time
	// (bytes of memory, wake-ups), over Work.
	Quantity float64
}

// A Harness runs one round of a subject or a reference. size is the
// runner's scale, 1 for a full run and smaller for a smoke run: a harness
// multiplies its round length (packets, ticks, seconds) by it.
type Harness func(ctx context.Context, size float64) (Sample, error)

// Kind says how a row's subject and reference are compared.
type Kind int

const (
	// Cost rows compare CPU per unit of work: ratio = subject ÷ reference,
	// lower is better.
	Cost Kind = iota
	// Capacity rows compare units of work per CPU-second (participants per
	// core): ratio = subject ÷ reference, higher is better.
	Capacity
	// Count rows report a number per unit of work that is not a time and
	// has no reference (heap allocations per packet): the ratio is the
	// subject's Sample.Count ÷ Work itself; Reference may be nil.
	Count
	// Quantity rows compare something other than CPU time per unit of
	// work (Sample.Quantity, named by Metric.Quantity: bytes of RSS,
	// wake-ups): ratio = subject ÷ reference, lower is better.
	Quantity
)

// A Target is the bound a row's ratio must meet: "≤ 1.3" or "≥ 0.5".
type Target struct {
	// AtMost says the ratio must be at most Value; otherwise at least.
	AtMost bool
	Value  float64
	// Also is a further condition the table prints but the ratio does not
	// decide ("no failed call", "≥ 3× one encoder per participant").
	Also string
}

// Met reports whether ratio meets the target.
func (t Target) Met(ratio float64) bool {
	if t.AtMost {
		return ratio <= t.Value
	}
	return ratio >= t.Value
}

// String renders the target as the table shows it.
func (t Target) String() string {
	op := "≥"
	if t.AtMost {
		op = "≤"
	}
	s := op + " " + strconv.FormatFloat(t.Value, 'g', -1, 64)
	if t.Also != "" {
		s += "; " + t.Also
	}
	return s
}

// A Metric is one row of the table: a subject, the reference it is divided
// by, and the target the ratio must meet.
type Metric struct {
	// Name is the metric as the issue names it (mix_opus, sip_cpu_per_call).
	Name string
	// Variant distinguishes rows of one metric (N=10, N=50).
	Variant string
	Kind    Kind
	// Unit names one unit of work ("tick", "call", "participant").
	Unit string
	// Quantity names what a Quantity row measures ("B", "wake-ups").
	Quantity  string
	Subject   Harness
	Reference Harness
	Target    Target
	// NotBuilt, when set, says why the row cannot be measured yet; the
	// harnesses are then not run.
	NotBuilt string
}

// Label is the metric's name with its variant.
func (m Metric) Label() string {
	if m.Variant == "" {
		return m.Name
	}
	return m.Name + " " + m.Variant
}

// value renders a cost per unit as the row's kind shows it.
func (m Metric) value(costPerUnit float64) string {
	if m.Kind == Count {
		return fmt.Sprintf("%.3g %s", costPerUnit, m.Unit)
	}
	if costPerUnit <= 0 {
		return "—"
	}
	switch m.Kind {
	case Capacity:
		return fmt.Sprintf("%.0f %s/core", 1/costPerUnit, m.Unit)
	case Quantity:
		if m.Quantity == "B" {
			return fmt.Sprintf("%.0f KiB/%s", costPerUnit/1024, m.Unit)
		}
		return fmt.Sprintf("%.3g %s/%s", costPerUnit, m.Quantity, m.Unit)
	}
	return formatDuration(time.Duration(costPerUnit*float64(time.Second))) + "/" + m.Unit
}

func formatDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d >= time.Microsecond:
		return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
	}
	return fmt.Sprintf("%d ns", d.Nanoseconds())
}
