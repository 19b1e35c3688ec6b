package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// callState is where a call is, for the progress line.
type callState int32

const (
	stateConnecting callState = iota // INVITE sent, or keying the PIN
	stateInCall                      // joined, media flowing
	stateDone                        // ended as planned
	stateFailed                      // ended in failure
)

// call is one of the calls the load generator places.
type call struct {
	id     int
	state  atomic.Int32
	stream atomic.Pointer[stream] // set while media flows
	res    callResult             // written by the call's goroutine before it ends
}

func (c *call) setState(s callState) { c.state.Store(int32(s)) }
func (c *call) getState() callState  { return callState(c.state.Load()) }

// callResult is how a call went.
type callResult struct {
	Joined   bool
	JoinTime time.Duration // INVITE to 200 OK, or to the PIN's last digit
	Err      error         // why it failed; nil for a good call
	Status   int           // the SIP status of a refused INVITE
	Sent     uint64
	RX       rxSnapshot
	JitterMS float64
	Video    videoResult
}

// runCall places one call and keeps it up for the configured duration
// after joining. It returns when the call is over; ctx cancelled ends it
// early (with a BYE) without counting as a failure.
func (l *sipLoad) runCall(ctx context.Context, c *call) (res callResult) {
	conn, err := listenStream(l.localIP)
	if err != nil {
		return callResult{Err: fmt.Errorf("RTP socket: %w", err)}
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	offer := buildOffer(netip.AddrPortFrom(l.localIP, uint16(port)), l.cfg.Codec, rand.Uint64()>>2)
	var vconn *net.UDPConn // the video m-line's own socket
	if l.video != nil {
		if vconn, err = listenStream(l.localIP); err != nil {
			_ = conn.Close()
			return callResult{Err: fmt.Errorf("video RTP socket: %w", err)}
		}
		offer = appendVideoOffer(offer, uint16(vconn.LocalAddr().(*net.UDPAddr).Port))
		defer func() {
			if c.stream.Load() == nil {
				_ = vconn.Close() // the call ended before its media started
			}
		}()
	}

	t0 := time.Now()
	// Past the timeout or on interrupt, an INVITE with a provisional
	// response is CANCELled (RFC 3261 §9.1); one with none is abandoned at
	// once rather than after Timer B's 32 s.
	ictx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	var provisional atomic.Bool
	giveUp := func() {
		if provisional.Load() {
			cancel(fmt.Errorf("no answer within %s", l.cfg.Timeout))
		} else {
			cancel(sipgo.WaitAnswerForceCancelErr)
		}
	}
	timer := time.AfterFunc(l.cfg.Timeout, giveUp)
	stopOnInterrupt := context.AfterFunc(ctx, giveUp)
	sess, err := l.dialogs.Invite(ictx, l.cfg.Target, offer, sip.NewHeader("Content-Type", "application/sdp"))
	if err == nil {
		err = sess.WaitAnswer(ictx, sipgo.AnswerOptions{OnResponse: func(r *sip.Response) error {
			if r.IsProvisional() {
				provisional.Store(true)
			}
			return nil
		}})
	}
	timedOut := !timer.Stop()
	stopOnInterrupt()
	cancel(nil)
	if err != nil {
		_ = conn.Close()
		if sess != nil {
			_ = sess.Close()
		}
		var de *sipgo.ErrDialogResponse
		if errors.As(err, &de) {
			return callResult{Err: fmt.Errorf("INVITE refused: %d %s", de.Res.StatusCode, de.Res.Reason), Status: de.Res.StatusCode}
		}
		if ctx.Err() != nil {
			return callResult{Err: fmt.Errorf("INVITE: %w", ctx.Err())}
		}
		if timedOut {
			return callResult{Err: fmt.Errorf("INVITE: no answer within %s", l.cfg.Timeout)}
		}
		return callResult{Err: fmt.Errorf("INVITE: %s", strings.ReplaceAll(err.Error(), "\n", "; "))}
	}
	defer sess.Close()
	ans, aerr := parseAnswer(sess.InviteResponse.Body(), l.cfg.Codec)
	var vans videoAnswer
	if aerr == nil && vconn != nil {
		vans, aerr = parseVideoAnswer(sess.InviteResponse.Body())
	}
	if err := sess.Ack(ctx); err != nil {
		_ = conn.Close()
		return callResult{Err: fmt.Errorf("ACK: %w", err)}
	}
	if aerr != nil {
		_ = conn.Close()
		l.bye(sess)
		return callResult{Err: aerr}
	}

	cname := fmt.Sprintf("bifrost-load-%d@%s", c.id, l.localIP)
	var vs *videoStream
	var video VideoSource
	if vconn != nil {
		vs = newVideoStream(l.video, c.id, vconn, vans, cname)
		l.video.streams[c.id].Store(vs)
		video = vs
	}
	s := newStream(conn, l.loop, ans, cname, l.start, video)
	if l.video != nil {
		s.id, s.talk = c.id, l.video.talk
	}
	l.pacer.add(s)
	c.stream.Store(s)
	callID := sess.InviteRequest.CallID().Value()
	l.byCallID.Store(callID, s)
	defer func() {
		l.byCallID.Delete(callID)
		l.pacer.remove(s)
		s.sendBye()
		s.close()
		res.Sent = s.sent.Load()
		res.RX = s.rx.snapshot()
		res.JitterMS = s.jitterMS(res.RX)
		if vs != nil {
			res.Video = vs.result()
		}
		if res.Err == nil && res.RX.Received == 0 {
			res.Err = errNoMedia
		}
	}()

	hungUp := sess.Context().Done()
	if l.cfg.PIN != "" {
		if err := l.keyPIN(ctx, s, hungUp); err != nil {
			if !errors.Is(err, errHungUp) {
				l.bye(sess)
			}
			return callResult{Err: err}
		}
	}
	res.Joined, res.JoinTime = true, time.Since(t0)
	c.setState(stateInCall)

	stay := time.NewTimer(l.cfg.Duration)
	defer stay.Stop()
	select {
	case <-stay.C:
	case <-ctx.Done():
	case <-hungUp:
		res.Err = errHungUp
		return res
	}
	l.bye(sess)
	return res
}

// keyPIN waits for the bridge's PIN prompt (its first RTP) and keys the
// PIN and # as RFC 4733 telephone-events.
func (l *sipLoad) keyPIN(ctx context.Context, s *stream, hungUp <-chan struct{}) error {
	wait := time.NewTimer(l.cfg.Timeout)
	defer wait.Stop()
	select {
	case <-s.firstRTP:
	case <-hungUp:
		return fmt.Errorf("%w before the PIN prompt", errHungUp)
	case <-ctx.Done():
		return ctx.Err()
	case <-wait.C:
		return fmt.Errorf("%w within %s: no PIN prompt", errNoMedia, l.cfg.Timeout)
	}
	done, err := s.sendDigits(l.cfg.PIN + "#")
	if err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-hungUp:
		return fmt.Errorf("%w while the PIN was keyed", errHungUp)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// bye ends the dialog, waiting at most the timeout for the 200 (outside
// the run's context, which may be what ended the call).
func (l *sipLoad) bye(sess *sipgo.DialogClientSession) {
	ctx, cancel := context.WithTimeout(context.Background(), l.cfg.Timeout)
	defer cancel()
	if err := sess.Bye(ctx); err != nil {
		l.byeErrors.Add(1)
		l.log.Debug("BYE failed", "call_id", sess.InviteRequest.CallID().Value(), "error", err)
	}
}
