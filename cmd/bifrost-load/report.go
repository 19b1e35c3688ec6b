package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// report is the outcome of a run: the table printed at the end.
type report struct {
	Calls, Joined, Failed int
	Sent, Received        uint64
	Expected, Lost        uint64
	JitterMeanMS          float64
	JitterMaxMS           float64
	JoinP50, JoinP99      time.Duration
	LateTicks             uint64
	ByeErrors             uint64
	Elapsed               time.Duration
	// Failures counts the calls by why they failed.
	Failures map[string]int
	Results  []callResult
	// Video is nil for a run without --video.
	Video *videoTotals
}

func newReport(calls []*call, late, byeErrors uint64, elapsed time.Duration) *report {
	r := &report{Calls: len(calls), LateTicks: late, ByeErrors: byeErrors, Elapsed: elapsed, Failures: map[string]int{}}
	var joins []time.Duration
	withJitter := 0
	for _, c := range calls {
		res := c.res
		r.Results = append(r.Results, res)
		if res.Joined {
			r.Joined++
			joins = append(joins, res.JoinTime)
		}
		if res.Err != nil {
			r.Failed++
			r.Failures[res.Err.Error()]++
		}
		r.Sent += res.Sent
		r.Received += res.RX.Received
		r.Expected += res.RX.Expected
		r.Lost += res.RX.Lost
		if res.RX.Received > 1 {
			r.JitterMeanMS += res.JitterMS
			r.JitterMaxMS = max(r.JitterMaxMS, res.JitterMS)
			withJitter++
		}
	}
	if withJitter > 0 {
		r.JitterMeanMS /= float64(withJitter)
	}
	r.Video = newVideoTotals(r.Results)
	slices.Sort(joins)
	r.JoinP50, r.JoinP99 = percentile(joins, 50), percentile(joins, 99)
	return r
}

// percentile is the nearest-rank percentile p of sorted ds; 0 for none.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 · n)
	return sorted[max(rank, 1)-1]
}

// LossPercent is the packets lost of those expected, over every call.
func (r *report) LossPercent() float64 {
	return lossPercent(r.Lost, r.Expected)
}

// write prints the final table.
func (r *report) write(w io.Writer) error {
	var b strings.Builder
	row := func(k, format string, a ...any) { fmt.Fprintf(&b, "%-11s "+format+"\n", append([]any{k}, a...)...) }
	row("calls", "%d placed, %d joined, %d failed (in %s)", r.Calls, r.Joined, r.Failed, r.Elapsed.Round(100*time.Millisecond))
	row("packets", "%d sent, %d received", r.Sent, r.Received)
	row("loss", "%.2f%% (%d of %d expected)", r.LossPercent(), r.Lost, r.Expected)
	row("jitter", "%.1f ms mean, %.1f ms worst call (RFC 3550 A.8)", r.JitterMeanMS, r.JitterMaxMS)
	row("join time", "p50 %s, p99 %s", fmtMS(r.JoinP50), fmtMS(r.JoinP99))
	row("late ticks", "%d (the sender fell behind; above 0, this machine is the limit, not the bridge)", r.LateTicks)
	if r.Video != nil {
		r.Video.write(&b, row)
	}
	if r.ByeErrors > 0 {
		row("BYE errors", "%d", r.ByeErrors)
	}
	reasons := make([]string, 0, len(r.Failures))
	for k := range r.Failures {
		reasons = append(reasons, k)
	}
	sort.Slice(reasons, func(i, j int) bool { return r.Failures[reasons[i]] > r.Failures[reasons[j]] })
	for _, k := range reasons {
		row("failed", "%d× %s", r.Failures[k], k)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fmtMS(d time.Duration) string {
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

// lossPercent is lost of expected in percent; 0 when nothing was expected.
func lossPercent(lost, expected uint64) float64 {
	if expected == 0 {
		return 0
	}
	return 100 * float64(lost) / float64(expected)
}
