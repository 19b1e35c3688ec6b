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
	if reg == nil {
		return m, nil
	}
	var err error
	if m.requests, err = register(reg, m.requests); err != nil {
		return nil, err
	}
	if m.responses, err = register(reg, m.responses); err != nil {
		return nil, err
	}
	return m, nil
}

// register registers c on reg, or returns the identical collector already
// registered there.
func register(reg prometheus.Registerer, c *prometheus.CounterVec) (*prometheus.CounterVec, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
			return existing, nil
		}
	}
	return nil, fmt.Errorf("sipcall: register metrics: %w", err)
}
