package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// TestSmokeEveryHarnessYieldsANumber is the CI-sized run of `make bench`:
// every row that can be measured today runs one brief round of subject and
// reference and must yield a ratio. It asserts no timing: what the numbers
// are is `make bench`'s business.
func TestSmokeEveryHarnessYieldsANumber(t *testing.T) {
	if _, err := exec.LookPath("sipp"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sipp not on PATH; install the Debian package sip-tester (make deps)")
		}
		t.Skip("sipp not on PATH (sip_cpu_per_call needs it); install the Debian package sip-tester")
	}
	module, err := findModule()
	if err != nil {
		t.Fatal(err)
	}
	tl := &tools{dir: t.TempDir(), module: module}
	rows := metrics(tl)
	results := benchtab.Run(context.Background(), benchtab.Config{Rounds: 1, Size: 0.02, Smoke: true}, rows)
	var table strings.Builder
	_ = benchtab.WriteTable(&table, results)
	t.Logf("smoke table (one brief round each; the numbers mean nothing):\n%s", table.String())
	measured := 0
	for _, r := range results {
		switch {
		case r.Metric.NotBuilt != "":
			t.Errorf("%s: not built yet (%s); every row of the issue is built now", r.Metric.Label(), r.Metric.NotBuilt)
		case r.Err != nil:
			t.Errorf("%s: %v", r.Metric.Label(), r.Err)
		case r.Metric.Kind == benchtab.Count:
			if len(r.SubjectRounds) == 0 { // a count of 0 is a number
				t.Errorf("%s: no round measured", r.Metric.Label())
			}
			measured++
		case r.Ratio <= 0 || r.SubjectCost <= 0 || r.ReferenceCost <= 0:
			t.Errorf("%s: subject %v, reference %v, ratio %v; want a number for each", r.Metric.Label(), r.SubjectCost, r.ReferenceCost, r.Ratio)
		default:
			measured++
		}
	}
	for _, want := range []string{"forward_plain", "forward_srtp", "fanout_marginal N=50", "fanout_marginal N=200", "webrtc_leg",
		"allocs_per_packet", "mix_opus N=10", "mix_opus N=50", "mix_g711_capacity", "switch_latency", "sip_cpu_per_call",
		"idle_participant CPU", "idle_participant RSS", "idle_participant wake-ups", "idle_participant ticker"} {
		if !strings.Contains(table.String(), "| "+want) {
			t.Errorf("the table has no %s row", want)
		}
	}
	if measured != len(results) {
		t.Errorf("%d of %d rows measured; want every one", measured, len(results))
	}
}

func TestRunRefusesABadFilter(t *testing.T) {
	var out, errs strings.Builder
	if code := run(context.Background(), []string{"-only", "("}, &out, &errs); code != 2 {
		t.Errorf("exit status %d for -only \"(\"; want 2", code)
	}
}
