package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// webrtcReport is the outcome of a `bifrost-load webrtc` run: the table
// printed at the end.
type webrtcReport struct {
	legTotals     // Received, Expected, Lost: the mix's packets
	Peers         int
	VideoReceived uint64
	// Keyframe-after-switch: speaker changes to a source not shown, until
	// its first keyframe arrived.
	Switches         int
	KeyframeP50      time.Duration
	KeyframeP95      time.Duration
	LateTicks        uint64
	Elapsed          time.Duration
	Results          []peerResult
	withVideoColumns bool
}

func newWebRTCReport(peers []*peer, late uint64, elapsed time.Duration) *webrtcReport {
	r := &webrtcReport{Peers: len(peers), LateTicks: late, Elapsed: elapsed}
	var kfs []time.Duration
	for _, p := range peers {
		res := p.res
		r.withVideoColumns = r.withVideoColumns || p.l.cfg.Video
		r.Results = append(r.Results, res)
		r.add(res.Joined, res.JoinTime, res.Err, res.Sent, res.RX, res.JitterMS)
		r.VideoReceived += res.VideoIn
		kfs = append(kfs, res.Keyframe...)
	}
	r.finish()
	slices.Sort(kfs)
	r.Switches = len(kfs)
	r.KeyframeP50, r.KeyframeP95 = percentile(kfs, 50), percentile(kfs, 95)
	return r
}

// write prints the final table.
func (r *webrtcReport) write(w io.Writer) error {
	var b strings.Builder
	row := func(k, format string, a ...any) { fmt.Fprintf(&b, "%-11s "+format+"\n", append([]any{k}, a...)...) }
	row("peers", "%d started, %d joined, %d failed (in %s)", r.Peers, r.Joined, r.Failed, r.Elapsed.Round(100*time.Millisecond))
	row("packets", "%d sent, %d received (the mix)", r.Sent, r.Received)
	row("loss", "%.2f%% (%d of %d expected)", r.LossPercent(), r.Lost, r.Expected)
	row("jitter", "%.1f ms mean, %.1f ms worst peer (RFC 3550 A.8)", r.JitterMeanMS, r.JitterMaxMS)
	row("join time", "p50 %s, p99 %s (WebSocket to media connected)", fmtMS(r.JoinP50), fmtMS(r.JoinP99))
	if r.withVideoColumns {
		row("video", "%d packets received", r.VideoReceived)
		row("keyframe", "p50 %s, p95 %s after %d switches to a source not shown", fmtMS(r.KeyframeP50), fmtMS(r.KeyframeP95), r.Switches)
	}
	row("late ticks", "%d (the sender fell behind; above 0, this machine is the limit, not the bridge)", r.LateTicks)
	reasons := make([]string, 0, len(r.Failures))
	for k := range r.Failures {
		reasons = append(reasons, k)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if r.Failures[reasons[i]] != r.Failures[reasons[j]] {
			return r.Failures[reasons[i]] > r.Failures[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	for _, k := range reasons {
		row("failed", "%d× %s", r.Failures[k], k)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
