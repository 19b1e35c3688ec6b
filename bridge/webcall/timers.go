package webcall

import "sync/atomic"

// timers accounts for the periodic timers every leg runs, so that the
// benchmarks can show that none of them fires faster than it should for a
// participant who only listens: the session's own tickers count their
// ticks; pion's RTCP report loops run at reportInterval on every leg; the
// NACK generator's loop runs at nackInterval only on legs whose camera
// sent (lazyInterceptor), and nackLoops counts those; pion's TWCC feedback
// loop ticks (10 Hz) only once a camera's packet arrived, and audio does not
// carry the TWCC extension.
type timers struct {
	rate, keepalive atomic.Uint64
	nackLoops       atomic.Int64
}

// TimerStats is a snapshot of the per-leg timers of a Server's live and
// past legs.
type TimerStats struct {
	// RateTicks and KeepaliveTicks are how often the sessions' two tickers
	// fired so far: the camera cap and tile fit (every second) and the
	// WebSocket ping (every 20 s).
	RateTicks, KeepaliveTicks uint64
	// NACKLoops is how many legs run a NACK generator now, each ticking
	// NACKHz times a second; legs that never received camera video run
	// none.
	NACKLoops int
	NACKHz    float64
	// ReportHz is the rate of the RTCP sender and receiver report loops,
	// one of each on every leg.
	ReportHz float64
}

// Timers returns the per-leg timer counts so far.
func (s *Server) Timers() TimerStats {
	return TimerStats{
		RateTicks:      s.timers.rate.Load(),
		KeepaliveTicks: s.timers.keepalive.Load(),
		NACKLoops:      int(s.timers.nackLoops.Load()),
		NACKHz:         float64(1e9) / float64(nackInterval),
		ReportHz:       float64(1e9) / float64(reportInterval),
	}
}
