package benchtab

import (
	"context"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"
	"time"
)

// spin burns about n iterations of arithmetic and returns a value the
// compiler cannot drop.
func spin(n int) float64 {
	x := 1.0
	for i := range n {
		x = math.Sqrt(x + float64(i))
	}
	return x
}

var sink float64

func TestRunComparesSubjectAndReferenceByTheirMedianCost(t *testing.T) {
	var order []string
	// The subject does twice the work per unit of the reference.
	subject := func(_ context.Context, size float64) (Sample, error) {
		order = append(order, "s")
		sink += spin(int(2e6 * size))
		return Sample{Work: 1}, nil
	}
	reference := func(_ context.Context, size float64) (Sample, error) {
		order = append(order, "r")
		sink += spin(int(1e6 * size))
		return Sample{Work: 1}, nil
	}
	res := Run(context.Background(), Config{Rounds: 5}, []Metric{{
		Name: "spin", Kind: Cost, Unit: "op", Subject: subject, Reference: reference,
		Target: Target{AtMost: true, Value: 100},
	}})
	if len(res) != 1 {
		t.Fatalf("got %d results; want 1", len(res))
	}
	r := res[0]
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if len(r.SubjectRounds) != 5 || len(r.ReferenceRounds) != 5 {
		t.Errorf("rounds: subject %d, reference %d; want 5 each", len(r.SubjectRounds), len(r.ReferenceRounds))
	}
	if got := strings.Join(order, ""); got != "srrssrrssr" {
		t.Errorf("order of rounds %q; want them alternating, the first swapped every round", got)
	}
	// Twice the work is more CPU, whatever the machine's noise; the exact
	// ratio is not asserted.
	if r.Ratio <= 1 {
		t.Errorf("ratio %.2f; want above 1 for a subject doing twice the reference's work", r.Ratio)
	}
	if r.Verdict() != "met" {
		t.Errorf("verdict %q; want met", r.Verdict())
	}
}

func TestCapacityRatioIsSubjectUnitsPerCoreOverReferences(t *testing.T) {
	if got := ratio(Capacity, 2, 1); got != 0.5 {
		t.Errorf("capacity ratio of a subject costing twice the reference = %v; want 0.5", got)
	}
	if got := ratio(Cost, 2, 1); got != 2 {
		t.Errorf("cost ratio of a subject costing twice the reference = %v; want 2", got)
	}
}

func TestHarnessCPUIsUsedWhenTheHarnessReportsIt(t *testing.T) {
	child := func(context.Context, float64) (Sample, error) {
		return Sample{Work: 4, CPU: 8 * time.Millisecond}, nil
	}
	res := Run(context.Background(), Config{}, []Metric{{Name: "child", Subject: child, Reference: child}})
	if r := res[0]; r.SubjectCost != 0.002 || r.ReferenceCost != 0.002 || r.Ratio != 1 {
		t.Errorf("costs %v and %v, ratio %v; want 2 ms per unit each and ratio 1", r.SubjectCost, r.ReferenceCost, r.Ratio)
	}
}

func TestRunFixesGOMAXPROCSAndRestoresIt(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	var during int
	h := func(context.Context, float64) (Sample, error) {
		during = runtime.GOMAXPROCS(0)
		return Sample{Work: 1, CPU: time.Millisecond}, nil
	}
	Run(context.Background(), Config{Procs: 1}, []Metric{{Name: "p", Subject: h, Reference: h}})
	if during != 1 {
		t.Errorf("GOMAXPROCS during the run = %d; want 1", during)
	}
	if after := runtime.GOMAXPROCS(0); after != before {
		t.Errorf("GOMAXPROCS after the run = %d; want it restored to %d", after, before)
	}
}

func TestRowsThatCannotRunSayWhy(t *testing.T) {
	failing := func(context.Context, float64) (Sample, error) { return Sample{}, errors.New("sipp: exit status 1") }
	idle := func(context.Context, float64) (Sample, error) { return Sample{}, nil }
	ok := func(context.Context, float64) (Sample, error) { return Sample{Work: 1, CPU: time.Millisecond}, nil }
	res := Run(context.Background(), Config{}, []Metric{
		{Name: "forward_plain", NotBuilt: "needs issue 7"},
		{Name: "broken", Subject: failing, Reference: ok},
		{Name: "idle", Subject: ok, Reference: idle},
	})
	want := []string{"not built yet", "error: subject: sipp: exit status 1", "error: reference: " + ErrNoWork.Error()}
	for i, w := range want {
		if got := res[i].Verdict(); got != w {
			t.Errorf("%s: verdict %q; want %q", res[i].Metric.Name, got, w)
		}
	}
}

func TestWriteTablePrintsOneAlignedRowPerMetric(t *testing.T) {
	res := []Result{
		{Metric: Metric{Name: "mix_opus", Variant: "N=10", Kind: Cost, Unit: "tick", Target: Target{AtMost: true, Value: 1.3}},
			SubjectCost: 300e-6, ReferenceCost: 250e-6, Ratio: 1.2},
		{Metric: Metric{Name: "mix_g711_capacity", Kind: Capacity, Unit: "participants", Target: Target{Value: 0.5}},
			SubjectCost: 1e-3, ReferenceCost: 250e-6, Ratio: 0.25},
		{Metric: Metric{Name: "forward_plain", Target: Target{Value: 0.5}}, Err: ErrNotBuilt},
	}
	var b strings.Builder
	if err := WriteTable(&b, res); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("%d lines; want header, rule and 3 rows:\n%s", len(lines), out)
	}
	for _, want := range []string{
		"| metric ", "| mix_opus N=10 ", "300.0 µs/tick", "250.0 µs/tick", "| 1.20 ", "≤ 1.3", "| met ",
		"1000 participants/core", "4000 participants/core", "| 0.25 ", "≥ 0.5", "| not met ",
		"| forward_plain ", "| not built yet ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	width := len([]rune(lines[0]))
	for _, l := range lines {
		if len([]rune(l)) != width {
			t.Errorf("row %q is %d wide; want every row %d wide", l, len([]rune(l)), width)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := Median(tt.xs); got != tt.want {
			t.Errorf("Median(%v) = %v; want %v", tt.xs, got, tt.want)
		}
	}
}

func TestProcessCPUAdvancesWithWork(t *testing.T) {
	before := ProcessCPU()
	sink += spin(2e7)
	if after := ProcessCPU(); after <= before {
		t.Errorf("ProcessCPU went from %v to %v over CPU-bound work; want it to advance", before, after)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before = ThreadCPU()
	sink += spin(2e7)
	if after := ThreadCPU(); after <= before {
		t.Errorf("ThreadCPU went from %v to %v over CPU-bound work; want it to advance", before, after)
	}
}
