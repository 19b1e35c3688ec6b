package sipcall

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// connect places a call to room 1234 with body and acknowledges it.
func connect(t *testing.T, s *Server, rooms *fakeRooms, ua *testUA, body []byte, headers ...sip.Header) (*sipgo.DialogClientSession, *sip.Response, *fakeParticipant) {
	t.Helper()
	sess, res := ua.invite(s, "1234", body, headers...)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE = %d %s, want 200", res.StatusCode, res.Reason)
	}
	if err := sess.Ack(ua.ctx()); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	waitFor(t, "the participant", func() bool { return rooms.last() != nil })
	return sess, res, rooms.last()
}

func TestCallCancel(t *testing.T) {
	t.Run("a CANCEL while the bridge admits gets 487 and leaves nothing behind", func(t *testing.T) {
		entered := make(chan struct{}, 1)
		rooms := &fakeRooms{admitHook: func(ctx context.Context) {
			entered <- struct{}{}
			<-ctx.Done()
		}}
		s := startCallServer(t, rooms, nil)
		ua := newTestUA(t)
		host, port, _ := sip.ParseAddr(s.UDPAddr().String())
		ctx, cancel := context.WithCancel(t.Context())
		sess, err := ua.dialog.Invite(ctx, sip.Uri{Scheme: "sip", User: "1234", Host: host, Port: port}, ua.defaultOffer(),
			sip.NewHeader("Content-Type", "application/sdp"))
		if err != nil {
			t.Fatal(err)
		}
		go func() { <-entered; cancel() }()
		err = sess.WaitAnswer(ctx, sipgo.AnswerOptions{})
		if !errors.Is(err, context.Canceled) || sess.InviteResponse == nil || sess.InviteResponse.StatusCode != 487 {
			t.Fatalf("WaitAnswer = %v, response %v; want cancelled with 487", err, sess.InviteResponse)
		}
		waitFor(t, "no calls and no ports", func() bool { return s.ActiveCalls() == 0 && s.pool.inUse() == 0 })
		if p := rooms.last(); p != nil {
			if _, _, left, _, code := p.state(); !left || code != 487 {
				t.Errorf("participant left %v code %d, want left with 487", left, code)
			}
		}
	})

	t.Run("CANCELs racing the 200 end in a clean state every time", func(t *testing.T) {
		rooms := &fakeRooms{admitHook: func(context.Context) {
			time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
		}}
		s := startCallServer(t, rooms, nil)
		ua := newTestUA(t)
		host, port, _ := sip.ParseAddr(s.UDPAddr().String())
		for i := range 8 {
			ctx, cancel := context.WithCancel(t.Context())
			sess, err := ua.dialog.Invite(ctx, sip.Uri{Scheme: "sip", User: "1234", Host: host, Port: port}, ua.defaultOffer(),
				sip.NewHeader("Content-Type", "application/sdp"))
			if err != nil {
				t.Fatal(err)
			}
			time.AfterFunc(time.Duration(rand.IntN(4000))*time.Microsecond, cancel)
			_ = sess.WaitAnswer(ctx, sipgo.AnswerOptions{})
			res := sess.InviteResponse
			switch {
			case res != nil && res.StatusCode == 200:
				// The 200 won: the caller acknowledges and hangs up.
				bg, stop := context.WithTimeout(context.Background(), waitTimeout)
				_ = sess.WriteAck(bg, newAck(sess))
				_ = sess.Bye(bg)
				stop()
			case res != nil && res.StatusCode == 487:
			case res != nil && res.StatusCode == 100:
				// Cancelled before any answer came and sipgo gave up waiting.
			default:
				t.Fatalf("iteration %d: final response %v, want 200 or 487", i, res)
			}
			cancel()
			waitFor(t, "no calls and no ports", func() bool { return s.ActiveCalls() == 0 && s.pool.inUse() == 0 })
		}
		rooms.mu.Lock()
		defer rooms.mu.Unlock()
		for _, p := range rooms.admitted {
			if _, _, left, _, _ := p.state(); !left {
				t.Errorf("participant %s never left", p.id)
			}
		}
	})
}

// newAck is the ACK for a dialog's 2xx.
func newAck(sess *sipgo.DialogClientSession) *sip.Request {
	ack := sip.NewRequest(sip.ACK, sess.InviteResponse.Contact().Address)
	ack.AppendHeader(sess.InviteRequest.From())
	to := *sess.InviteResponse.To()
	ack.AppendHeader(&to)
	ack.AppendHeader(sess.InviteRequest.CallID())
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: sess.InviteRequest.CSeq().SeqNo, MethodName: sip.ACK})
	return ack
}

func TestCallHangupByBridge(t *testing.T) {
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, nil)
	ua := newTestUA(t)
	_, _, p := connect(t, s.Server, rooms, ua, ua.defaultOffer())
	p.leg.Hangup(bridge.EndKicked, 0)
	select {
	case bye := <-ua.byes:
		if bye.CallID().Value() != p.leg.Info().CallID {
			t.Errorf("BYE for call %s, want %s", bye.CallID().Value(), p.leg.Info().CallID)
		}
	case <-time.After(waitTimeout):
		t.Fatal("no BYE reached the caller")
	}
	waitFor(t, "the participant to leave", func() bool { _, _, left, _, _ := p.state(); return left })
	if _, _, _, reason, _ := p.state(); reason != bridge.EndKicked {
		t.Errorf("reason = %s, want kicked", reason)
	}
}

func TestCallLateOffer(t *testing.T) {
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, nil)
	ua := newTestUA(t)
	sess, res := ua.invite(s.Server, "1234", nil)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE without SDP = %d, want 200 with our offer", res.StatusCode)
	}
	offer, err := parseSDP(res.Body())
	if err != nil || len(offer.MediaDescriptions) != 2 { // audio, then H.264 video (video_late_test.go)
		t.Fatalf("our offer: %v\n%s", err, res.Body())
	}
	if rooms.last() != nil {
		t.Fatal("admitted before the answer came")
	}
	ourPort := offer.MediaDescriptions[0].MediaName.Port.Value
	answer := ua.offer("m=audio $PORT RTP/AVP 9 101", "a=rtpmap:9 G722/8000", "a=rtpmap:101 telephone-event/8000")
	ack := sip.NewRequest(sip.ACK, res.Contact().Address)
	ack.SetBody(answer)
	ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	if err := sess.WriteAck(ua.ctx(), ack); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "admission after the ACK", func() bool { return rooms.last() != nil })
	p := rooms.last()
	if got := p.leg.AudioCodec().String(); got != "G722/8000" {
		t.Errorf("codec = %s, want G722/8000 from the answer", got)
	}
	p.leg.SendAudio([]byte{5})
	if h, _ := ua.rtp.read(); h.PT != 9 {
		t.Errorf("caller got PT %d, want 9", h.PT)
	}
	ua.rtp.send(ourPort, 9, 1, 0, []byte{1})
	waitFor(t, "audio", func() bool { a, _, _, _, _ := p.state(); return a == 1 })
	_ = sess.Bye(ua.ctx())
}

func TestCallInDialog(t *testing.T) {
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, nil)
	ua := newTestUA(t)
	sess, res, p := connect(t, s.Server, rooms, ua, ua.defaultOffer())
	ourRTP, _ := answerAddr(t, res)
	leg := p.leg.(*call)

	do := func(t *testing.T, method sip.RequestMethod, ct string, body []byte, headers ...sip.Header) *sip.Response {
		t.Helper()
		req := sip.NewRequest(method, res.Contact().Address)
		if body != nil {
			req.SetBody(body)
			req.AppendHeader(sip.NewHeader("Content-Type", ct))
		}
		for _, h := range headers {
			req.AppendHeader(h)
		}
		r, err := sess.Do(ua.ctx(), req)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		return r
	}

	t.Run("a re-INVITE with sendonly holds: we answer recvonly and send nothing", func(t *testing.T) {
		r := do(t, sip.INVITE, "application/sdp", ua.offer("m=audio $PORT RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000", "a=sendonly"))
		if r.StatusCode != 200 || !strings.Contains(string(r.Body()), "a=recvonly") {
			t.Fatalf("re-INVITE = %d\n%s; want 200 with recvonly", r.StatusCode, r.Body())
		}
		_ = sess.WriteAck(ua.ctx(), newAckFor(sess, r))
		if m := leg.media.currentMedia(); m.Direction != recvOnly {
			t.Errorf("direction = %s, want recvonly", m.Direction)
		}
	})
	t.Run("a re-INVITE with sendrecv resumes", func(t *testing.T) {
		r := do(t, sip.INVITE, "application/sdp", ua.defaultOffer())
		if r.StatusCode != 200 || !strings.Contains(string(r.Body()), "a=sendrecv") {
			t.Fatalf("re-INVITE = %d\n%s; want 200 with sendrecv", r.StatusCode, r.Body())
		}
		_ = sess.WriteAck(ua.ctx(), newAckFor(sess, r))
		p.leg.SendAudio([]byte{9})
		if _, payload := ua.rtp.read(); payload[0] != 9 {
			t.Errorf("caller got %v after resuming", payload)
		}
	})
	t.Run("a re-offer without our codec is 488 and the call goes on", func(t *testing.T) {
		r := do(t, sip.INVITE, "application/sdp", ua.offer("m=audio $PORT RTP/AVP 8"))
		if r.StatusCode != 488 {
			t.Fatalf("re-INVITE switching codec = %d, want 488", r.StatusCode)
		}
		if s.ActiveCalls() != 1 {
			t.Error("the call ended")
		}
	})
	t.Run("an UPDATE without body refreshes the session", func(t *testing.T) {
		r := do(t, sip.UPDATE, "", nil, sip.NewHeader("Session-Expires", "120;refresher=uac"), sip.NewHeader("Supported", "timer"))
		if r.StatusCode != 200 || !strings.Contains(headerValue(r, "Session-Expires"), "120") {
			t.Fatalf("UPDATE = %d, Session-Expires %q; want 200 with 120", r.StatusCode, headerValue(r, "Session-Expires"))
		}
	})
	t.Run("an UPDATE with an offer is answered", func(t *testing.T) {
		r := do(t, sip.UPDATE, "application/sdp", ua.offer("m=audio $PORT RTP/AVP 0", "a=inactive"))
		if r.StatusCode != 200 || !strings.Contains(string(r.Body()), "a=inactive") {
			t.Fatalf("UPDATE = %d\n%s; want 200 with inactive", r.StatusCode, r.Body())
		}
	})
	t.Run("INFO dtmf-relay and dtmf reach the participant", func(t *testing.T) {
		if r := do(t, sip.INFO, "application/dtmf-relay", []byte("Signal=4\r\nDuration=160\r\n")); r.StatusCode != 200 {
			t.Fatalf("INFO = %d", r.StatusCode)
		}
		if r := do(t, sip.INFO, "application/dtmf", []byte("#")); r.StatusCode != 200 {
			t.Fatalf("INFO = %d", r.StatusCode)
		}
		if _, d, _, _, _ := p.state(); d != "4#" {
			t.Errorf("digits = %q, want 4#", d)
		}
	})
	t.Run("an INFO with a broken DTMF body is 400, another type 415", func(t *testing.T) {
		if r := do(t, sip.INFO, "application/dtmf-relay", []byte("Duration=1")); r.StatusCode != 400 {
			t.Errorf("INFO = %d, want 400", r.StatusCode)
		}
		if r := do(t, sip.INFO, "text/plain", []byte("x")); r.StatusCode != 415 {
			t.Errorf("INFO = %d, want 415", r.StatusCode)
		}
	})
	t.Run("OPTIONS in the dialog is answered", func(t *testing.T) {
		if r := do(t, sip.OPTIONS, "", nil); r.StatusCode != 200 {
			t.Errorf("OPTIONS = %d", r.StatusCode)
		}
	})
	t.Run("RFC 4733 digits reach the participant", func(t *testing.T) {
		r := do(t, sip.UPDATE, "application/sdp", ua.defaultOffer())
		if r.StatusCode != 200 {
			t.Fatalf("UPDATE = %d", r.StatusCode)
		}
		ua.rtp.send(int(ourRTP.Port()), 101, 50, 8000, []byte{7, 0x8a, 0, 160})
		ua.rtp.send(int(ourRTP.Port()), 101, 51, 8000, []byte{7, 0x8a, 0, 160})
		waitFor(t, "digit 7", func() bool { _, d, _, _, _ := p.state(); return d == "4#7" })
	})
	_ = sess.Bye(ua.ctx())
}

// newAckFor is the ACK for a re-INVITE's 2xx.
func newAckFor(sess *sipgo.DialogClientSession, res *sip.Response) *sip.Request {
	ack := sip.NewRequest(sip.ACK, res.Contact().Address)
	ack.AppendHeader(&sip.CSeqHeader{SeqNo: res.CSeq().SeqNo, MethodName: sip.ACK})
	return ack
}

func TestCallTimeouts(t *testing.T) {
	t.Run("no RTP for the timeout ends the call with BYE and EndTimeout", func(t *testing.T) {
		rooms := &fakeRooms{}
		s := startCallServer(t, rooms, func(c *Config) { c.RTPTimeout = 100 * time.Millisecond })
		ua := newTestUA(t)
		_, _, p := connect(t, s.Server, rooms, ua, ua.defaultOffer())
		select {
		case <-ua.byes:
		case <-time.After(waitTimeout):
			t.Fatal("no BYE after the RTP timeout")
		}
		waitFor(t, "the participant to leave", func() bool { _, _, left, _, _ := p.state(); return left })
		if _, _, _, reason, _ := p.state(); reason != bridge.EndTimeout {
			t.Errorf("reason = %s, want timeout", reason)
		}
	})
	t.Run("a session timer the caller does not refresh ends the call", func(t *testing.T) {
		rooms := &fakeRooms{}
		s := startCallServer(t, rooms, nil)
		ua := newTestUA(t)
		_, res, p := connect(t, s.Server, rooms, ua, ua.defaultOffer(),
			sip.NewHeader("Session-Expires", "90;refresher=uac"), sip.NewHeader("Supported", "timer"))
		if got := headerValue(res, "Session-Expires"); got != "90;refresher=uac" || headerValue(res, "Require") != "timer" {
			t.Fatalf("200 Session-Expires %q Require %q, want 90;refresher=uac and timer", got, headerValue(res, "Require"))
		}
		// Shorten the running timer as if 90 s had nearly passed.
		leg := p.leg.(*call)
		<-leg.answered
		waitFor(t, "the session timer armed after the ACK", func() bool {
			leg.mu.Lock()
			defer leg.mu.Unlock()
			return leg.expiry != nil
		})
		leg.armTimer(sessionTimer{Interval: 30 * time.Millisecond, Refresher: "uac"})
		waitFor(t, "the participant to leave", func() bool { _, _, left, _, _ := p.state(); return left })
		if _, _, _, reason, _ := p.state(); reason != bridge.EndTimeout {
			t.Errorf("reason = %s, want timeout", reason)
		}
	})
	t.Run("when we are the refresher we send UPDATE and the call goes on", func(t *testing.T) {
		rooms := &fakeRooms{}
		s := startCallServer(t, rooms, nil)
		ua := newTestUA(t)
		sess, res, p := connect(t, s.Server, rooms, ua, ua.defaultOffer(), sip.NewHeader("Session-Expires", "100"))
		if got := headerValue(res, "Session-Expires"); got != "100;refresher=uas" {
			t.Fatalf("Session-Expires %q, want 100;refresher=uas for a caller without timer support", got)
		}
		leg := p.leg.(*call)
		leg.refresh()
		if _, _, left, _, _ := p.state(); left {
			t.Error("the call ended after a successful refresh")
		}
		_ = sess.Bye(ua.ctx())
	})
}

func TestCallOverTCP(t *testing.T) {
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, nil)
	c := newClient(t)
	req := newRequest(t, s.Server, sip.INVITE, "TCP")
	req.Recipient.User = "1234"
	req.AppendHeader(sip.NewHeader("Contact", "<sip:caller@127.0.0.1:5999;transport=tcp>"))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(offerSDP("v=0", "o=- 1 1 IN IP4 127.0.0.1", "s=-", "c=IN IP4 127.0.0.1", "t=0 0", "m=audio 5004 RTP/AVP 0"))
	res := do(t, c, req)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE over TCP = %d, want 200", res.StatusCode)
	}
	if ct := res.Contact(); ct == nil || !strings.Contains(ct.Value(), "transport=tcp") {
		t.Errorf("Contact = %v, want transport=tcp", res.Contact())
	}
	if p := rooms.last(); p == nil || p.leg.Info().Transport != "tcp" {
		t.Errorf("participant %v, want a tcp leg", p)
	}
	if err := c.WriteRequest(inDialogRequest(req, res, sip.ACK, req.CSeq().SeqNo)); err != nil {
		t.Fatal(err)
	}
	if bye := do(t, c, inDialogRequest(req, res, sip.BYE, req.CSeq().SeqNo+1)); bye.StatusCode != 200 {
		t.Errorf("BYE over TCP = %d, want 200", bye.StatusCode)
	}
	waitFor(t, "the call to end", func() bool { return s.ActiveCalls() == 0 })
}

func TestCallHungUpWhileAdmitted(t *testing.T) {
	// The bridge hangs the leg up before Admit returns (a room ending, a
	// kick racing the join): the call has ended before sip stored the
	// participant, so the participant must still be told to leave.
	rooms := &fakeRooms{admitLeg: func(leg bridge.Leg) {
		leg.Hangup(bridge.EndKicked, 0)
		waitFor(t, "the call to end", leg.(*call).isEnded)
	}}
	s := startCallServer(t, rooms, nil)
	ua := newTestUA(t)
	_, res := ua.invite(s.Server, "1234", ua.defaultOffer())
	if res.StatusCode != 480 {
		t.Errorf("INVITE = %d %s, want 480 (hung up before the 200)", res.StatusCode, res.Reason)
	}
	p := rooms.last()
	if p == nil {
		t.Fatal("no participant admitted")
	}
	if _, _, left, reason, _ := p.state(); !left || reason != bridge.EndKicked {
		t.Errorf("participant left %v reason %q, want left with %q", left, reason, bridge.EndKicked)
	}
	waitFor(t, "no calls and no ports", func() bool { return s.ActiveCalls() == 0 && s.pool.inUse() == 0 })
}

func TestCallCancelBetweenAdmitAndThe200(t *testing.T) {
	// The CANCEL lands after admit checked for one and before the 200
	// reaches the transaction: sipgo answers 487 and our 200 is never sent.
	// The participant must leave at once, not when a transaction waiting
	// for an ACK that cannot come times out (64*T1, 32 s).
	rooms := &fakeRooms{}
	cancelled := make(chan struct{})
	s := startCallServer(t, rooms, func(c *Config) {
		c.beforeAnswer = func(c *call) {
			close(cancelled)
			<-c.sess.Context().Done()
		}
	})
	ua := newTestUA(t)
	host, port, _ := sip.ParseAddr(s.UDPAddr().String())
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sess, err := ua.dialog.Invite(ctx, sip.Uri{Scheme: "sip", User: "1234", Host: host, Port: port}, ua.defaultOffer(),
		sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatal(err)
	}
	go func() { <-cancelled; cancel() }()
	err = sess.WaitAnswer(ctx, sipgo.AnswerOptions{})
	if !errors.Is(err, context.Canceled) || sess.InviteResponse == nil || sess.InviteResponse.StatusCode != 487 {
		t.Fatalf("WaitAnswer = %v, response %v; want cancelled with 487", err, sess.InviteResponse)
	}
	p := rooms.last()
	if p == nil {
		t.Fatal("no participant admitted")
	}
	waitFor(t, "the participant to leave with 487", func() bool {
		_, _, left, _, code := p.state()
		return left && code == 487
	})
	waitFor(t, "no calls and no ports", func() bool { return s.ActiveCalls() == 0 && s.pool.inUse() == 0 })
}
