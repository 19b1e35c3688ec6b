package sipcall

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

func TestServerAnswersOptions(t *testing.T) {
	s := startServer(t, "")
	c := newClient(t)
	for _, transport := range []string{"UDP", "TCP"} {
		t.Run("over "+transport+" it answers 200 with its capabilities", func(t *testing.T) {
			res := do(t, c, newRequest(t, s.Server, sip.OPTIONS, transport))
			if res.StatusCode != sip.StatusOK {
				t.Fatalf("status = %d %s, want 200", res.StatusCode, res.Reason)
			}
			allow := headerValue(res, "Allow")
			for _, m := range []string{"INVITE", "OPTIONS", "ACK", "BYE", "CANCEL"} {
				if !containsFold(splitList(allow), m) {
					t.Errorf("Allow = %q, want it to list %s", allow, m)
				}
			}
			if got := headerValue(res, "Accept"); !strings.Contains(got, "application/sdp") {
				t.Errorf("Accept = %q, want application/sdp in it", got)
			}
			if got := headerValue(res, "Supported"); got != supportedHeader {
				t.Errorf("Supported = %q, want %q", got, supportedHeader)
			}
			if got := headerValue(res, "Server"); got != DefaultUserAgent {
				t.Errorf("Server = %q, want %q", got, DefaultUserAgent)
			}
			if tag, _ := res.To().Params.Get("tag"); tag == "" {
				t.Errorf("To = %q, want a tag", res.To().Value())
			}
		})
	}

	t.Run("each request is counted by method and transport", func(t *testing.T) {
		for _, transport := range []string{"udp", "tcp"} {
			got := counterValue(t, s.reg, "bifrost_sip_requests_total",
				map[string]string{"method": "OPTIONS", "transport": transport})
			if got != 1 {
				t.Errorf("requests_total{OPTIONS,%s} = %v, want 1", transport, got)
			}
		}
		if got := counterValue(t, s.reg, "bifrost_sip_responses_total", map[string]string{"code": "200"}); got != 2 {
			t.Errorf("responses_total{200} = %v, want 2", got)
		}
	})

	t.Run("each request is logged once at debug without its body", func(t *testing.T) {
		log := s.log.String()
		n := 0
		for line := range strings.Lines(log) {
			if strings.Contains(line, `msg="sip request"`) && strings.Contains(line, "method=OPTIONS") {
				n++
			}
		}
		if n != 2 {
			t.Errorf("found %d request log lines for 2 OPTIONS, log:\n%s", n, log)
		}
	})
}

func TestServerRefusesWhatItDoesNotServe(t *testing.T) {
	s := startServer(t, "")
	c := newClient(t)
	tests := []struct {
		name      string
		method    sip.RequestMethod
		edit      func(*sip.Request)
		want      int
		wantAllow bool
	}{
		{name: "a new INVITE is temporarily unavailable", method: sip.INVITE, want: 480},
		{name: "a re-INVITE has no dialog", method: sip.INVITE, edit: withToTag, want: 481},
		{name: "REGISTER is not allowed, we are no registrar", method: sip.REGISTER, want: 405, wantAllow: true},
		{name: "SUBSCRIBE is not allowed", method: sip.SUBSCRIBE, want: 405, wantAllow: true},
		{name: "NOTIFY is not allowed", method: sip.NOTIFY, want: 405, wantAllow: true},
		{name: "MESSAGE is not allowed", method: sip.MESSAGE, want: 405, wantAllow: true},
		{name: "PUBLISH is not allowed", method: sip.PUBLISH, want: 405, wantAllow: true},
		{name: "REFER is not allowed", method: sip.REFER, want: 405, wantAllow: true},
		{name: "BYE outside a dialog has no dialog", method: sip.BYE, want: 481},
		{name: "BYE in an unknown dialog has no dialog", method: sip.BYE, edit: withToTag, want: 481},
		{name: "INFO outside a dialog has no dialog", method: sip.INFO, want: 481},
		{name: "UPDATE outside a dialog has no dialog", method: sip.UPDATE, want: 481},
		{name: "PRACK matches no reliable provisional response", method: sip.PRACK, want: 481},
		{name: "CANCEL matching no transaction has no transaction", method: sip.CANCEL, want: 481},
		{name: "an unknown method is not implemented", method: "FOO", want: 501},
		{name: "OPTIONS requiring an unknown extension is a bad extension", method: sip.OPTIONS,
			edit: func(r *sip.Request) { r.AppendHeader(sip.NewHeader("Require", "timer, 100rel")) }, want: 420},
		{name: "OPTIONS requiring only supported extensions is answered", method: sip.OPTIONS,
			edit: func(r *sip.Request) { r.AppendHeader(sip.NewHeader("Require", "timer")) }, want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, s.Server, tt.method, "UDP")
			if tt.edit != nil {
				tt.edit(req)
			}
			res := do(t, c, req)
			if res.StatusCode != tt.want {
				t.Fatalf("status = %d %s, want %d", res.StatusCode, res.Reason, tt.want)
			}
			if allow := headerValue(res, "Allow"); tt.wantAllow && allow != allowHeader {
				t.Errorf("Allow = %q, want %q", allow, allowHeader)
			}
			if tt.want == 420 {
				if got := headerValue(res, "Unsupported"); got != "100rel" {
					t.Errorf("Unsupported = %q, want 100rel", got)
				}
			}
			if got := headerValue(res, "Server"); got != DefaultUserAgent {
				t.Errorf("Server = %q, want %q", got, DefaultUserAgent)
			}
		})
	}

	t.Run("made-up methods share one metric series", func(t *testing.T) {
		got := counterValue(t, s.reg, "bifrost_sip_requests_total",
			map[string]string{"method": "other", "transport": "udp"})
		if got != 1 {
			t.Errorf("requests_total{other,udp} = %v, want 1", got)
		}
	})
}

func TestServerSurvivesGarbage(t *testing.T) {
	const marker = "SECRET-BODY-MARKER"
	s := startServer(t, "")
	c := newClient(t)

	t.Run("a garbage datagram is dropped and the next OPTIONS answered", func(t *testing.T) {
		conn, err := net.Dial("udp", s.UDPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write([]byte("\x01\x02 not sip\r\n\r\n" + marker)); err != nil {
			t.Fatal(err)
		}
		// Valid SIP start line, broken headers.
		if _, err := conn.Write([]byte("INVITE sip:a@b SIP/2.0\r\nVia: ;;;\r\nCSeq: x\r\n\r\nv=0 " + marker)); err != nil {
			t.Fatal(err)
		}
		if res := do(t, c, newRequest(t, s.Server, sip.OPTIONS, "UDP")); res.StatusCode != sip.StatusOK {
			t.Fatalf("status = %d, want 200", res.StatusCode)
		}
	})

	t.Run("a TCP connection sending garbage is closed and a new one answered", func(t *testing.T) {
		conn, err := net.Dial("tcp", s.TCPAddr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.Write([]byte("not sip at all\r\n\r\n" + marker)); err != nil {
			t.Fatal(err)
		}
		if err := conn.SetReadDeadline(time.Now().Add(waitTimeout)); err != nil {
			t.Fatal(err)
		}
		if n, err := conn.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Fatalf("read from the garbage connection = %d, %v; want EOF", n, err)
		}
		if res := do(t, c, newRequest(t, s.Server, sip.OPTIONS, "TCP")); res.StatusCode != sip.StatusOK {
			t.Fatalf("status = %d, want 200", res.StatusCode)
		}
	})

	// sipgo quotes the first line of an unparseable message in its error;
	// what follows must not be logged.
	t.Run("no message body reaches the log", func(t *testing.T) {
		if log := s.log.String(); strings.Contains(log, marker) {
			t.Errorf("log contains message content:\n%s", log)
		}
	})
}

func TestServerClose(t *testing.T) {
	t.Run("Close is idempotent and frees the ports", func(t *testing.T) {
		first := startServer(t, "")
		addr := first.UDPAddr().String()
		if first.TCPAddr().String() != addr {
			t.Fatalf("UDP on %s but TCP on %s, want the same port", addr, first.TCPAddr())
		}
		for i := range 2 {
			if err := first.Close(); err != nil {
				t.Fatalf("Close #%d: %v", i+1, err)
			}
		}
		if err := first.Listen(t.Context()); !errors.Is(err, ErrClosed) {
			t.Fatalf("Listen after Close = %v, want ErrClosed", err)
		}

		second := startServer(t, addr)
		c := newClient(t)
		for _, transport := range []string{"UDP", "TCP"} {
			if res := do(t, c, newRequest(t, second.Server, sip.OPTIONS, transport)); res.StatusCode != sip.StatusOK {
				t.Fatalf("%s status = %d, want 200", transport, res.StatusCode)
			}
		}
	})

	t.Run("Close without Listen succeeds", func(t *testing.T) {
		s, err := NewServer(Config{}, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if s.UDPAddr() != nil || s.TCPAddr() != nil {
			t.Errorf("addresses = %v, %v; want nil before Listen", s.UDPAddr(), s.TCPAddr())
		}
	})

	t.Run("a second Listen is refused", func(t *testing.T) {
		s := startServer(t, "")
		if err := s.Listen(t.Context()); !errors.Is(err, ErrListening) {
			t.Fatalf("second Listen = %v, want ErrListening", err)
		}
	})
}

func TestServerListenErrors(t *testing.T) {
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()

	tests := []struct {
		name     string
		addr     string
		wantText string
	}{
		{"a taken UDP port is reported", udp.LocalAddr().String(), "listen udp"},
		{"a taken TCP port is reported", tcp.Addr().String(), "listen tcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewServer(Config{Addr: tt.addr}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			err = s.Listen(t.Context())
			if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("Listen = %v, want %q and EADDRINUSE", err, tt.wantText)
			}
			if s.UDPAddr() != nil {
				t.Errorf("UDPAddr = %v after a failed Listen, want nil", s.UDPAddr())
			}
		})
	}
}

func TestNewServerSharesRegistry(t *testing.T) {
	a := startServer(t, "")
	if _, err := NewServer(Config{}, nil, a.reg); err != nil {
		t.Fatalf("second NewServer on the same registry: %v", err)
	}
}

// withToTag makes req look like a request inside a dialog.
func withToTag(req *sip.Request) {
	params := sip.NewParams()
	params.Add("tag", "not-ours")
	req.AppendHeader(&sip.ToHeader{Address: req.Recipient, Params: params})
}

// headerValue returns the value of the first header called name, or "".
func headerValue(res *sip.Response, name string) string {
	if h := res.GetHeader(name); h != nil {
		return h.Value()
	}
	return ""
}
