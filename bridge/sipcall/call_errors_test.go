package sipcall

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/emiago/sipgo/sip"
)

func TestCallRefusals(t *testing.T) {
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, nil)
	ua := newTestUA(t)
	tests := []struct {
		name      string
		user      string
		admitErr  error
		body      func() []byte
		headers   []sip.Header
		want      int
		wantInRes string
	}{
		{name: "an unknown room is 404", user: "9999", want: 404},
		{name: "an empty user is 404", user: "", want: 404},
		{name: "a full room is 486", user: "1234", admitErr: fmt.Errorf("x: %w", bridge.ErrRoomFull), want: 486},
		{name: "a locked room is 403", user: "1234", admitErr: bridge.ErrRoomLocked, want: 403},
		{name: "a failing bridge is 503 with Retry-After", user: "1234", admitErr: fmt.Errorf("db down"), want: 503, wantInRes: "Retry-After"},
		{name: "no common codec is 488 with Warning 305", user: "1234",
			body: func() []byte { return ua.offer("m=audio $PORT RTP/AVP 18", "a=rtpmap:18 G729/8000") },
			want: 488, wantInRes: `Warning: 305 video.example "Incompatible media format"`},
		{name: "SRTP only is 488 with Warning 302", user: "1234",
			body: func() []byte { return ua.offer("m=audio $PORT RTP/SAVP 0") },
			want: 488, wantInRes: "Warning: 302"},
		{name: "broken SDP is 400", user: "1234",
			body: func() []byte { return []byte("v=0\r\nthis is not SDP\r\n") }, want: 400},
		{name: "a session interval below Min-SE is 422 with Min-SE", user: "1234",
			headers: []sip.Header{sip.NewHeader("Session-Expires", "30"), sip.NewHeader("Supported", "timer")},
			want:    422, wantInRes: "Min-SE: 90"},
		{name: "an unknown required extension is 420", user: "1234",
			headers: []sip.Header{sip.NewHeader("Require", "100rel")}, want: 420},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rooms.setAdmitErr(tt.admitErr)
			defer rooms.setAdmitErr(nil)
			body := ua.defaultOffer()
			if tt.body != nil {
				body = tt.body()
			}
			_, res := ua.invite(s.Server, tt.user, body, tt.headers...)
			if res.StatusCode != tt.want {
				t.Fatalf("INVITE = %d %s, want %d", res.StatusCode, res.Reason, tt.want)
			}
			if !strings.Contains(res.String(), tt.wantInRes) {
				t.Errorf("response lacks %q:\n%s", tt.wantInRes, res.String())
			}
		})
	}
	t.Run("refused calls hold no ports", func(t *testing.T) {
		waitFor(t, "no calls", func() bool { return s.ActiveCalls() == 0 })
		if n := s.pool.inUse(); n != 0 {
			t.Errorf("%d port pairs still in use", n)
		}
	})

	t.Run("a body that is not SDP is 415 with Accept", func(t *testing.T) {
		req := newRequest(t, s.Server, sip.INVITE, "UDP")
		req.Recipient.User = "1234"
		req.AppendHeader(sip.NewHeader("Contact", "<sip:caller@127.0.0.1:5999>"))
		req.AppendHeader(sip.NewHeader("Content-Type", "text/plain"))
		req.SetBody([]byte("hello"))
		res := do(t, newClient(t), req)
		if res.StatusCode != 415 || headerValue(res, "Accept") != acceptHeader {
			t.Fatalf("INVITE = %d, Accept %q; want 415 with Accept", res.StatusCode, headerValue(res, "Accept"))
		}
	})
}

func TestCallPortsExhausted(t *testing.T) {
	rooms := &fakeRooms{}
	pool := testPool(t, 1)
	s := startCallServer(t, rooms, func(c *Config) {
		c.Media.RTPPortMin, c.Media.RTPPortMax = pool.min, pool.max
	})
	ua := newTestUA(t)
	first, res := ua.invite(s.Server, "1234", ua.defaultOffer())
	if res.StatusCode != 200 {
		t.Fatalf("first INVITE = %d, want 200", res.StatusCode)
	}
	_ = first.Ack(ua.ctx())
	_, res = ua.invite(s.Server, "1234", ua.defaultOffer())
	if res.StatusCode != 503 {
		t.Fatalf("second INVITE with one port pair = %d, want 503", res.StatusCode)
	}
	if err := first.Bye(ua.ctx()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the ports to be released", func() bool { return s.pool.inUse() == 0 })
	third, res := ua.invite(s.Server, "1234", ua.defaultOffer())
	if res.StatusCode != 200 {
		t.Fatalf("INVITE after the first call ended = %d, want 200", res.StatusCode)
	}
	_ = third.Ack(ua.ctx())
	_ = third.Bye(ua.ctx())
}
