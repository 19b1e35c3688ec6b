package benchtab

import (
	"context"
	"strings"
	"testing"
)

func TestCountRowsReportTheSubjectsCountPerUnitWithoutAReference(t *testing.T) {
	counts := []float64{30, 10, 20} // per 10 units: 3, 1, 2
	round := 0
	h := func(context.Context, float64) (Sample, error) {
		c := counts[round]
		round++
		return Sample{Work: 10, Count: c}, nil
	}
	res := Run(context.Background(), Config{Rounds: 3, Smoke: true}, []Metric{
		{Name: "allocs", Kind: Count, Unit: "allocs/packet", Subject: h, Target: Target{AtMost: true, Value: 0}},
		{Name: "none", Kind: Count, Unit: "allocs/packet", Subject: func(context.Context, float64) (Sample, error) {
			return Sample{Work: 5}, nil
		}, Target: Target{AtMost: true, Value: 0}},
	})
	if r := res[0]; r.Err != nil || r.SubjectCost != 2 || r.Ratio != 2 || r.Verdict() != "not met" {
		t.Errorf("count row: cost %v, ratio %v, verdict %q, err %v; want the median 2, ratio 2, not met", r.SubjectCost, r.Ratio, r.Verdict(), r.Err)
	}
	if r := res[1]; r.Err != nil || r.Ratio != 0 || r.Verdict() != "met" {
		t.Errorf("zero count row: ratio %v, verdict %q, err %v; want 0 and met", r.Ratio, r.Verdict(), r.Err)
	}
	var b strings.Builder
	if err := WriteTable(&b, res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "| 0 allocs/packet | — ") {
		t.Errorf("table does not show a zero count and no reference:\n%s", b.String())
	}
}
