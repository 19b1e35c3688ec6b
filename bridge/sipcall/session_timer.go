package sipcall

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/emiago/sipgo/sip"
)

// sessionTimer is the negotiated session timer of a dialog (RFC 4028).
type sessionTimer struct {
	// Interval is the session interval; zero means no timer.
	Interval time.Duration
	// Refresher is "uac" (the caller refreshes) or "uas" (we do).
	Refresher string
	// Required says the caller supports timers, so our 2xx carries
	// Require: timer (RFC 4028 §9).
	Required bool
}

// negotiateTimer reads Session-Expires, Min-SE and Supported of a request
// (RFC 4028 §9). A Session-Expires below our Min-SE is a 422 *StatusError
// the caller answers with our Min-SE. A caller supporting timers without
// naming an interval gets ours, refreshed by itself.
func (s *Server) negotiateTimer(req *sip.Request) (sessionTimer, error) {
	supports := false
	for _, h := range req.GetHeaders("Supported") {
		if containsFold(splitList(h.Value()), "timer") {
			supports = true
		}
	}
	var st sessionTimer
	h := req.GetHeader("Session-Expires")
	if h == nil {
		h = req.GetHeader("x") // the compact form
	}
	if h == nil {
		if !supports {
			return sessionTimer{}, nil
		}
		return sessionTimer{Interval: s.cfg.SessionExpires, Refresher: "uac", Required: true}, nil
	}
	val, params, _ := strings.Cut(h.Value(), ";")
	secs, err := strconv.Atoi(strings.TrimSpace(val))
	if err != nil || secs <= 0 {
		return sessionTimer{}, statusError(400, "Bad Request", fmt.Errorf("sipcall: Session-Expires %q", h.Value()))
	}
	st.Interval = time.Duration(secs) * time.Second
	if st.Interval < s.cfg.MinSE {
		return sessionTimer{}, statusError(422, "Session Interval Too Small", errIntervalTooSmall)
	}
	st.Refresher = "uac"
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(k, "refresher") && strings.EqualFold(strings.TrimSpace(v), "uas") {
			st.Refresher = "uas"
		}
	}
	if !supports {
		// A caller without timer support cannot refresh (§9): we do.
		st.Refresher = "uas"
	}
	st.Required = supports
	return st, nil
}

// headers are the Session-Expires and Require of our 2xx.
func (st sessionTimer) headers() []sip.Header {
	if st.Interval == 0 {
		return nil
	}
	out := []sip.Header{sip.NewHeader("Session-Expires",
		strconv.Itoa(int(st.Interval/time.Second))+";refresher="+st.Refresher)}
	if st.Required {
		out = append(out, sip.NewHeader("Require", "timer"))
	}
	return out
}

// armTimer (re)starts the session timer of c after a refresh. When the
// caller refreshes, a missing refresh ends the call at the interval less
// min(32 s, interval/3) (RFC 4028 §10); when we refresh, we send an UPDATE
// at half the interval (§10).
func (c *call) armTimer(st sessionTimer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer = st
	if c.expiry != nil {
		c.expiry.Stop()
		c.expiry = nil
	}
	if st.Interval == 0 {
		return
	}
	if st.Refresher == "uas" {
		c.expiry = time.AfterFunc(st.Interval/2, func() { c.srv.background.Go(c.refresh) })
		return
	}
	c.expiry = time.AfterFunc(st.Interval-min(32*time.Second, st.Interval/3), func() {
		c.log.Info("sip session timer expired: no refresh from the caller")
		c.srv.background.Go(func() { c.end(bridge.EndTimeout, 0, true) })
	})
}

// refresh sends our session refresh, an UPDATE without body (RFC 4028
// §7.4 via RFC 3311), and ends the call when it fails.
func (c *call) refresh() {
	if !c.awaitAnswered() || c.isEnded() {
		return
	}
	c.mu.Lock()
	st := c.timer
	c.mu.Unlock()
	req := sip.NewRequest(sip.UPDATE, c.sess.InviteRequest.Contact().Address)
	req.AppendHeader(sip.NewHeader("Session-Expires", strconv.Itoa(int(st.Interval/time.Second))+";refresher=uas"))
	req.AppendHeader(sip.NewHeader("Supported", supportedHeader))
	from := c.sess.InviteRequest.To().AsFrom()
	req.AppendHeader(&from)
	ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
	defer cancel()
	res, err := c.sess.Do(ctx, req)
	if err != nil || !res.IsSuccess() {
		c.log.Info("sip session refresh failed", "error", err)
		c.end(bridge.EndTimeout, 0, true)
		return
	}
	c.armTimer(st)
}
