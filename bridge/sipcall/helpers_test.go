package sipcall

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"
)

// waitTimeout bounds every wait for the server in these tests.
const waitTimeout = 5 * time.Second

// logBuffer collects log output safely from any goroutine, including sipgo's
// after the test ends, and prints it when the test fails.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testLogger returns a Debug logger whose output is shown if t fails.
func testLogger(t testing.TB) (*slog.Logger, *logBuffer) {
	t.Helper()
	b := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", b.String())
		}
	})
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// testServer is a Server listening on 127.0.0.1:0 for one test.
type testServer struct {
	*Server
	reg *prometheus.Registry
	log *logBuffer
}

// startServer starts a Server on addr (127.0.0.1:0 when empty) and closes it
// when the test ends.
func startServer(t testing.TB, addr string) *testServer {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	logger, buf := testLogger(t)
	reg := prometheus.NewRegistry()
	s, err := NewServer(Config{Addr: addr, Domain: "video.example"}, logger, reg)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Listen(t.Context()); err != nil {
		t.Fatalf("Listen: %v", err)
	}
	return &testServer{Server: s, reg: reg, log: buf}
}

// newClient returns a sipgo client closed when the test ends.
func newClient(t testing.TB) *sipgo.Client {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("bifrost-test"))
	if err != nil {
		t.Fatalf("NewUA: %v", err)
	}
	t.Cleanup(func() { _ = ua.Close() })
	c, err := sipgo.NewClient(ua)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// newRequest builds a request for the server over transport ("UDP" or "TCP").
func newRequest(t testing.TB, s *Server, method sip.RequestMethod, transport string) *sip.Request {
	t.Helper()
	var addr net.Addr = s.UDPAddr()
	if transport == "TCP" {
		addr = s.TCPAddr()
	}
	host, port, err := sip.ParseAddr(addr.String())
	if err != nil {
		t.Fatalf("server address %s: %v", addr, err)
	}
	req := sip.NewRequest(method, sip.Uri{Scheme: "sip", User: "room", Host: host, Port: port})
	req.SetTransport(transport)
	return req
}

// do sends req and waits for its final response.
func do(t testing.TB, c *sipgo.Client, req *sip.Request) *sip.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	res, err := c.Do(ctx, req)
	if err != nil {
		t.Fatalf("%s over %s: no final response: %v", req.Method, req.Transport(), err)
	}
	return res
}

// counterValue returns the value of the counter name with labels in reg, or
// 0 when no such series exists.
func counterValue(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range m.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
