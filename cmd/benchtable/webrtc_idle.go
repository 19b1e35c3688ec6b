package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bifrost-video/bifrost/bridge/webcall"
	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// idleSample is one round of idle_participant: per participant (or bare
// PeerConnection) and second, the process's CPU and goroutine wake-ups;
// per participant, the resident memory.
type idleSample struct {
	units        float64 // participants (or PeerConnections)
	seconds      float64
	cpu          time.Duration
	rss, wakeups float64
	// fastestHz is the rate of the fastest per-participant timer.
	fastestHz float64
}

// idleRounds runs each round of idle_participant once and hands its three
// measures (CPU, RSS, wake-ups) to the three rows, so that the table has
// them from the same participants without joining them three times.
type idleRounds struct {
	mu       sync.Mutex
	subject  func(ctx context.Context, size float64) (idleSample, error)
	rounds   []idleSample
	consumed map[string]int
}

func newIdleRounds(run func(ctx context.Context, size float64) (idleSample, error)) *idleRounds {
	return &idleRounds{subject: run, consumed: map[string]int{}}
}

// harness is the Harness of one row (named by row): its n-th call gets the
// n-th round, run on first demand.
func (r *idleRounds) harness(row string, pick func(idleSample) benchtab.Sample) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		n := r.consumed[row]
		if n >= len(r.rounds) {
			s, err := r.subject(ctx, size)
			if err != nil {
				return benchtab.Sample{}, err
			}
			r.rounds = append(r.rounds, s)
		}
		r.consumed[row] = n + 1
		return pick(r.rounds[n]), nil
	}
}

func idleCPU(s idleSample) benchtab.Sample {
	return benchtab.Sample{Work: s.units * s.seconds, CPU: max(s.cpu, 1)}
}

func idleRSS(s idleSample) benchtab.Sample {
	return benchtab.Sample{Work: s.units, CPU: 1, Quantity: max(s.rss, 1)}
}

func idleTicker(s idleSample) benchtab.Sample {
	return benchtab.Sample{Work: s.units, CPU: 1, Quantity: max(s.fastestHz*s.units, 1e-9)}
}

func idleWakeups(s idleSample) benchtab.Sample {
	return benchtab.Sample{Work: s.units * s.seconds, CPU: 1, Quantity: max(s.wakeups, 1)}
}

// idleParticipants is the subject of idle_participant: a real bridge with
// its WebRTC server in this process and n peers of `bifrost-load webrtc
// --idle` in a child process (joined, muted, sending nothing, no video).
// The RSS they add, and in a window of seconds the process's CPU and
// goroutine wake-ups, per participant.
func idleParticipants(t *tools, n int, seconds float64) func(ctx context.Context, size float64) (idleSample, error) {
	return func(ctx context.Context, size float64) (idleSample, error) {
		n := n
		if size < 0.5 {
			n = min(n, 4)
		}
		w, err := startWebRTCBridge()
		if err != nil {
			return idleSample{}, err
		}
		defer w.Close()
		rss0, err := rssBytes()
		if err != nil {
			return idleSample{}, err
		}
		peers, err := startPeers(ctx, t, w, "--peers", itoa(n), "--idle")
		if err != nil {
			return idleSample{}, err
		}
		if err := waitFor(ctx, 60*time.Second, fmt.Sprintf("%d idle WebRTC participants", n), func() bool {
			_, received := w.srv.Packets()
			return w.joined() == n && received == 0
		}); err != nil {
			_ = peers.cmd.Process.Kill()
			_ = peers.wait()
			return idleSample{}, err
		}
		time.Sleep(2 * time.Second) // the last DTLS handshakes and first reports
		d := time.Duration(max(0.5, seconds*size) * float64(time.Second))
		timers0 := w.srv.Timers()
		cpu0, wake0, t0 := benchtab.ProcessCPU(), wakeups(), time.Now()
		time.Sleep(d)
		cpu1, wake1, t1 := benchtab.ProcessCPU(), wakeups(), time.Now()
		timers1 := w.srv.Timers()
		rss1, err := rssBytes()
		if err != nil {
			return idleSample{}, err
		}
		if err := stopPeers(peers); err != nil {
			return idleSample{}, err
		}
		s := idleSample{units: float64(n), seconds: t1.Sub(t0).Seconds(), cpu: cpu1 - cpu0, rss: rss1 - rss0, wakeups: wake1 - wake0}
		s.fastestHz = fastestTimer(timers0, timers1, s.units, s.seconds)
		return s, nil
	}
}

// idleBare is the reference of idle_participant: n pairs of bare pion
// PeerConnections in this process, each with an Opus track, connected and
// sending nothing; per PeerConnection (2n of them), as idleParticipants
// measures.
func idleBare(n int, seconds float64) func(ctx context.Context, size float64) (idleSample, error) {
	return func(ctx context.Context, size float64) (idleSample, error) {
		n := n
		if size < 0.5 {
			n = min(n, 4)
		}
		api, err := pionAPI()
		if err != nil {
			return idleSample{}, err
		}
		rss0, err := rssBytes()
		if err != nil {
			return idleSample{}, err
		}
		pairs := make([]*barePair, 0, n)
		defer func() {
			for _, p := range pairs {
				p.Close()
			}
		}()
		for range n {
			p, err := newBarePair(ctx, api, false)
			if err != nil {
				return idleSample{}, err
			}
			pairs = append(pairs, p)
		}
		time.Sleep(2 * time.Second)
		d := time.Duration(max(0.5, seconds*size) * float64(time.Second))
		cpu0, wake0 := benchtab.ProcessCPU(), wakeups()
		time.Sleep(d)
		cpu1, wake1 := benchtab.ProcessCPU(), wakeups()
		rss1, err := rssBytes()
		if err != nil {
			return idleSample{}, err
		}
		return idleSample{units: float64(2 * n), seconds: d.Seconds(), cpu: cpu1 - cpu0, rss: rss1 - rss0, wakeups: wake1 - wake0}, nil
	}
}

// fourHzTickers is the reference of idle_participant's wake-ups: n
// goroutines each woken by its own ticker at 4 Hz, the fastest a
// per-participant ticker may run. A subject at or below it per
// participant has no per-participant ticker faster than 4 Hz (each such
// ticker alone would wake the process more often).
func fourHzTickers(n int, seconds float64) func(ctx context.Context, size float64) (idleSample, error) {
	return func(ctx context.Context, size float64) (idleSample, error) {
		n := n
		if size < 0.5 {
			n = min(n, 4)
		}
		d := time.Duration(max(0.5, seconds*size) * float64(time.Second))
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var ticks atomic.Uint64
		for range n {
			wg.Go(func() {
				t := time.NewTicker(250 * time.Millisecond)
				defer t.Stop()
				for {
					select {
					case <-stop:
						return
					case <-t.C:
						ticks.Add(1)
					}
				}
			})
		}
		time.Sleep(300 * time.Millisecond)
		cpu0, wake0, ticks0, t0 := benchtab.ProcessCPU(), wakeups(), ticks.Load(), time.Now()
		time.Sleep(d)
		cpu1, wake1, ticks1, t1 := benchtab.ProcessCPU(), wakeups(), ticks.Load(), time.Now()
		close(stop)
		wg.Wait()
		s := idleSample{units: float64(n), seconds: t1.Sub(t0).Seconds(), cpu: cpu1 - cpu0, wakeups: wake1 - wake0}
		s.fastestHz = float64(ticks1-ticks0) / (s.units * s.seconds)
		return s, nil
	}
}

// idleParticipantRows are idle_participant's rows, all from the same
// rounds of 20 participants: CPU, RSS and goroutine wake-ups per idle
// participant ÷ a bare pion PeerConnection, and the fastest per-participant
// timer ÷ a 4 Hz ticker.
func idleParticipantRows(t *tools) []benchtab.Metric {
	const n, seconds = 20, 4
	subject := newIdleRounds(idleParticipants(t, n, seconds))
	bare := newIdleRounds(idleBare(n, seconds))
	tickers := newIdleRounds(fourHzTickers(n, seconds))
	return []benchtab.Metric{
		{
			Name: "idle_participant", Variant: "CPU", Kind: benchtab.Cost, Unit: "participant-s",
			Subject: subject.harness("cpu", idleCPU), Reference: bare.harness("cpu", idleCPU),
			Target: benchtab.Target{AtMost: true, Value: 1.2},
		},
		{
			Name: "idle_participant", Variant: "RSS", Kind: benchtab.Quantity, Quantity: "B", Unit: "participant",
			Subject: subject.harness("rss", idleRSS), Reference: bare.harness("rss", idleRSS),
			Target: benchtab.Target{AtMost: true, Value: 1.2},
		},
		{
			Name: "idle_participant", Variant: "wake-ups", Kind: benchtab.Quantity, Quantity: "wake-ups", Unit: "participant-s",
			Subject: subject.harness("wakeups", idleWakeups), Reference: bare.harness("wakeups", idleWakeups),
			Target: benchtab.Target{AtMost: true, Value: 1.2, Also: "goroutines run, sampled by the runtime (/sched/latencies)"},
		},
		{
			Name: "idle_participant", Variant: "ticker", Kind: benchtab.Quantity, Quantity: "Hz", Unit: "participant",
			Subject: subject.harness("ticker", idleTicker), Reference: tickers.harness("ticker", idleTicker),
			Target: benchtab.Target{AtMost: true, Value: 1, Also: "÷ a 4 Hz ticker: no per-participant ticker faster than 4 Hz"},
		},
	}
}

// fastestTimer is the rate of the fastest per-participant timer of the
// WebRTC server between two snapshots, over units participants and
// seconds: the sessions' own tickers as they counted their ticks, the NACK
// generators that run (none for participants without a camera) and the
// RTCP report loops (one of each per leg).
func fastestTimer(a, b webcall.TimerStats, units, seconds float64) float64 {
	per := units * seconds
	return max(
		float64(b.RateTicks-a.RateTicks)/per,
		float64(b.KeepaliveTicks-a.KeepaliveTicks)/per,
		float64(b.NACKLoops)*b.NACKHz/units,
		b.ReportHz,
	)
}
