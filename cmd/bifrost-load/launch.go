package main

import (
	"context"
	"time"
)

// atRate calls start(i) for i = 0 … n-1, rate times a second (the first at
// once), until ctx ends: how both load generators place their calls and
// join their peers.
func atRate(ctx context.Context, n int, rate float64, start func(i int)) {
	interval := time.Duration(float64(time.Second) / rate)
	next := time.Now()
	for i := range n {
		if d := time.Until(next); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		if ctx.Err() != nil {
			return
		}
		next = next.Add(interval)
		start(i)
	}
}
