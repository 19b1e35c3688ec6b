package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// report is the outcome of a run: the table printed at the end.
type report struct {
	legTotals
	Calls     int
	LateTicks uint64
	ByeErrors uint64
	Elapsed   time.Duration
	Results   []callResult
	// Video is nil for a run without --video.
	Video *videoTotals
}

func newReport(calls []*call, late, byeErrors uint64, elapsed time.Duration) *report {
	r := &report{Calls: len(calls), LateTicks: late, ByeErrors: byeErrors, Elapsed: elapsed}
	for _, c := range calls {
		res := c.res
		r.Results = append(r.Results, res)
		r.add(res.Joined, res.JoinTime, res.Err, res.Sent, res.RX, res.JitterMS)
	}
	r.finish()
	r.Video = newVideoTotals(r.Results)
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
