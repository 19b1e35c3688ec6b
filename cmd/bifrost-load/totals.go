package main

import (
	"fmt"
	"io"
	"slices"
	"time"
)

// legTotals are the columns the sip and webrtc tables share: how many
// joined and failed (and why), the audio packets, loss and jitter, and the
// join time percentiles.
type legTotals struct {
	Joined, Failed   int
	Sent, Received   uint64 // RTP of ours; the bridge's
	Expected, Lost   uint64 // of the bridge's (RFC 3550 A.3)
	JitterMeanMS     float64
	JitterMaxMS      float64
	JoinP50, JoinP99 time.Duration
	// Failures counts the legs by why they failed.
	Failures map[string]int

	joins      []time.Duration
	withJitter int
}

// add counts one leg's outcome.
func (t *legTotals) add(joined bool, joinTime time.Duration, err error, sent uint64, rx rxSnapshot, jitterMS float64) {
	if t.Failures == nil {
		t.Failures = map[string]int{}
	}
	if joined {
		t.Joined++
		t.joins = append(t.joins, joinTime)
	}
	if err != nil {
		t.Failed++
		t.Failures[err.Error()]++
	}
	t.Sent += sent
	t.Received += rx.Received
	t.Expected += rx.Expected
	t.Lost += rx.Lost
	if rx.Received > 1 {
		t.JitterMeanMS += jitterMS
		t.JitterMaxMS = max(t.JitterMaxMS, jitterMS)
		t.withJitter++
	}
}

// finish turns the sums into the mean jitter and the join percentiles.
func (t *legTotals) finish() {
	if t.Failures == nil {
		t.Failures = map[string]int{}
	}
	if t.withJitter > 0 {
		t.JitterMeanMS /= float64(t.withJitter)
	}
	slices.Sort(t.joins)
	t.JoinP50, t.JoinP99 = percentile(t.joins, 50), percentile(t.joins, 99)
}

// LossPercent is the bridge's packets lost of those expected, over every leg.
func (t *legTotals) LossPercent() float64 { return lossPercent(t.Lost, t.Expected) }

// printProgress prints line() every interval until stop is closed (never
// when interval ≤ 0), then closes done.
func printProgress(w io.Writer, every time.Duration, line func() string, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	if every <= 0 {
		<-stop
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			fmt.Fprintln(w, line())
		}
	}
}
