package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// g711Capacity is the subject of mix_g711_capacity: a real bridge in this
// process with callers G.711 participants placed by bifrost-load (a child
// process), measured in the steady state — from all joined for seconds —
// as process CPU per participant-second.
func g711Capacity(t *tools, callers int, seconds float64) benchtab.Harness {
	return func(ctx context.Context, size float64) (benchtab.Sample, error) {
		bin, err := t.bifrostLoad(ctx)
		if err != nil {
			return benchtab.Sample{}, err
		}
		tb, err := startBridge()
		if err != nil {
			return benchtab.Sample{}, err
		}
		defer tb.Close()
		d := time.Duration(max(0.5, seconds*size) * float64(time.Second))
		n := callers
		if size < 0.5 {
			n = min(callers, 4)
		}
		dir, err := t.scratchDir()
		if err != nil {
			return benchtab.Sample{}, err
		}
		load, err := startChild(ctx, dir, bin, "sip", "--target", tb.target(), "--callers", itoa(n),
			"--codec", "pcmu", "--rate", "50", "--duration", (d + time.Minute).String(), "--progress", "0")
		if err != nil {
			return benchtab.Sample{}, err
		}
		if err := waitFor(ctx, 30*time.Second, fmt.Sprintf("%d callers in the mix", n), func() bool { return tb.joined() == n }); err != nil {
			_ = load.cmd.Process.Kill()
			_ = load.wait()
			return benchtab.Sample{}, err
		}
		cpu0, t0 := benchtab.ProcessCPU(), time.Now()
		time.Sleep(d) // the measurement window: the bridge works, this goroutine sleeps
		cpu1, t1 := benchtab.ProcessCPU(), time.Now()
		// Interrupted, bifrost-load hangs up every call and exits 0.
		_ = load.cmd.Process.Signal(os.Interrupt)
		if err := load.wait(); err != nil {
			return benchtab.Sample{}, err
		}
		return benchtab.Sample{Work: float64(n) * t1.Sub(t0).Seconds(), CPU: max(cpu1-cpu0, 1)}, nil
	}
}
