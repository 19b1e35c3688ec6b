package sipcall

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts the requests reaching our handlers and the responses we
// send. Requests sipgo answers on its own (retransmissions, CANCELs matching
// an INVITE transaction, stateless 400s) are not counted.
type metrics struct {
	requests  *prometheus.CounterVec
	responses *prometheus.CounterVec
	// calls counts the calls in progress; rtpIn and rtpOut the RTP
	// packets of all legs (children resolved once: no allocation per
	// packet).
	calls  prometheus.Gauge
	rtpIn  prometheus.Counter
	rtpOut prometheus.Counter
}

// newMetrics builds the counters and registers them on reg, reusing
// counters a previous Server registered there. reg may be nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "bifrost",
			Subsystem: "sip",
			Name:      "requests_total",
			Help:      "SIP requests received, by method and transport.",
		}, []string{"method", "transport"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "bifrost",
			Subsystem: "sip",
			Name:      "responses_total",
			Help:      "SIP final responses sent, by status code.",
		}, []string{"code"}),
	}
	calls := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "bifrost",
		Subsystem: "sip",
		Name:      "calls_active",
		Help:      "SIP calls in progress.",
	}, nil)
	rtp := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "bifrost",
		Subsystem: "sip",
		Name:      "rtp_packets_total",
		Help:      "RTP packets of SIP legs, by direction (in: received and taken, out: sent).",
	}, []string{"direction"})
	if reg != nil {
		var err error
		if m.requests, err = register(reg, m.requests); err != nil {
			return nil, err
		}
		if m.responses, err = register(reg, m.responses); err != nil {
			return nil, err
		}
		if calls, err = register(reg, calls); err != nil {
			return nil, err
		}
		if rtp, err = register(reg, rtp); err != nil {
			return nil, err
		}
	}
	m.calls = calls.WithLabelValues()
	m.rtpIn = rtp.WithLabelValues("in")
	m.rtpOut = rtp.WithLabelValues("out")
	return m, nil
}

// register registers c on reg, or returns the identical collector already
// registered there.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	var zero C
	return zero, fmt.Errorf("sipcall: register metrics: %w", err)
}
