package sipcall

import (
	"errors"
	"fmt"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/emiago/sipgo/sip"
)

// onReinvite answers a re-INVITE (RFC 3261 §14.2): hold and resume, an
// address change or a session refresh. An offer is answered in the 200;
// without one, the 200 carries our offer and the ACK the answer.
func (s *Server) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		s.refuseInvite(req, tx.Respond)
		return
	}
	if err := c.sess.ReadRequest(req, tx); err != nil {
		s.send(req, s.statusResponse(req, statusError(500, "Server Internal Error", err)), tx.Respond)
		return
	}
	timer, err := s.negotiateTimer(req)
	if err != nil {
		s.send(req, s.statusResponse(req, err), tx.Respond)
		return
	}
	body, err := c.renegotiate(req, true)
	if err != nil {
		s.send(req, s.statusResponse(req, err), tx.Respond)
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(s.contactFor(req, c.local.Addr))
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	for _, h := range timer.headers() {
		res.AppendHeader(h)
	}
	s.send(req, res, tx.Respond)
	c.armTimer(timer)
	if !sip.IsReliable(req.Transport()) {
		c.retransmit(res, tx)
	}
}

// retransmit resends a re-INVITE's 2xx over an unreliable transport until
// its ACK arrives, at T1 doubling up to T2, for at most 64*T1 (RFC 3261
// §13.3.1.4); the transaction layer leaves this to us (RFC 6026).
func (c *call) retransmit(res *sip.Response, tx sip.ServerTransaction) {
	acked := make(chan struct{})
	c.mu.Lock()
	c.reackCh = acked
	c.mu.Unlock()
	c.srv.background.Go(func() {
		interval := sip.T1
		giveUp := time.NewTimer(64 * sip.T1)
		defer giveUp.Stop()
		for {
			t := time.NewTimer(interval)
			select {
			case <-acked:
				t.Stop()
				return
			case <-c.ended:
				t.Stop()
				return
			case <-giveUp.C:
				t.Stop()
				return
			case <-t.C:
				if err := tx.Respond(res); err != nil {
					return
				}
				interval = min(2*interval, sip.T2)
			}
		}
	})
}

// onUpdate answers UPDATE (RFC 3311): an offer is answered at once; an
// UPDATE without one refreshes the session (RFC 4028 §9).
func (s *Server) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		s.refuse(req, tx.Respond)
		return
	}
	timer, err := s.negotiateTimer(req)
	if err != nil {
		s.send(req, s.statusResponse(req, err), tx.Respond)
		return
	}
	body, err := c.renegotiate(req, false)
	if err != nil {
		s.send(req, s.statusResponse(req, err), tx.Respond)
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(s.contactFor(req, c.local.Addr))
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	for _, h := range timer.headers() {
		res.AppendHeader(h)
	}
	s.send(req, res, tx.Respond)
	c.armTimer(timer)
}

// renegotiate handles the body of a re-INVITE or UPDATE: an offer is
// negotiated against the codec in use and applied to the media (hold,
// resume, new address); no offer in a re-INVITE (invite) makes ours.
// It returns the SDP of the 200, or nil for an UPDATE without offer.
func (c *call) renegotiate(req *sip.Request, invite bool) ([]byte, error) {
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	raw, err := sessionBody(ct, req.Body())
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	current := c.media.currentMedia()
	if raw == nil {
		if !invite {
			return nil, nil
		}
		c.local.Version++
		c.lateOffer = true
		return buildOffer(c.local, sendRecv, []offeredCodec{{PT: current.PT, Codec: current.Codec}})
	}
	sd, err := parseSDP(raw)
	if err != nil {
		return nil, statusError(400, "Bad Request", err)
	}
	m, err := negotiateOfferWith(sd, []audioCodec{current.Codec})
	if err != nil {
		return nil, err
	}
	c.local.Version++
	c.renegotiateVideoLocked(sd)
	body, err := buildAnswer(sd, m, c.local)
	if err != nil {
		return nil, fmt.Errorf("sipcall: build SDP: %w", err)
	}
	c.media.update(m)
	c.log.Info("sip media renegotiated", "direction", m.Direction.String())
	return body, nil
}

// onAck confirms a dialog (RFC 3261 §13.3.1.4). When our 200 carried an
// offer, the ACK carries the answer: it sets the codec and where the
// media goes, or ends the call with BYE when unusable (§13.2.1).
func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		s.log.Debug("sip ack outside our dialogs")
		return // an ACK gets no response
	}
	c.mu.Lock()
	if c.reackCh != nil {
		close(c.reackCh)
		c.reackCh = nil
	}
	c.mu.Unlock()
	if err := c.takeAnswer(req); err != nil {
		c.log.Info("sip call: unusable answer in ACK", "error", err)
		_ = c.sess.ReadAck(req, tx)
		s.background.Go(func() { c.end(bridge.EndError, 488, true) })
		return
	}
	if err := c.sess.ReadAck(req, tx); err != nil {
		c.log.Debug("sip ack not taken", "error", err)
	}
}

// takeAnswer applies the answer an ACK carries to our offer, if one was
// pending.
func (c *call) takeAnswer(req *sip.Request) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.lateOffer {
		return nil
	}
	c.lateOffer = false
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	raw, err := sessionBody(ct, req.Body())
	if err != nil {
		return err
	}
	if raw == nil {
		return fmt.Errorf("%w: ACK without the answer to our offer", ErrBadSDP)
	}
	sd, err := parseSDP(raw)
	if err != nil {
		return err
	}
	prefs := audioPreference
	if c.info.AudioCodec != "" {
		prefs = []audioCodec{c.media.currentMedia().Codec}
	}
	m, err := negotiateAnswer(sd, prefs)
	if err != nil {
		return err
	}
	c.info.AudioCodec = m.Codec.String()
	c.media.update(m)
	c.takeVideoAnswerLocked(sd)
	return nil
}

// onBye ends the call the BYE belongs to (RFC 3261 §15.1.2).
func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		s.refuse(req, tx.Respond)
		return
	}
	if err := c.sess.ReadBye(req, tx); err != nil {
		s.send(req, s.statusResponse(req, statusError(500, "Server Internal Error", err)), tx.Respond)
		return
	}
	s.metrics.responses.WithLabelValues("200").Inc()
	c.end(bridge.EndHungUp, 0, false)
}

// onInfo takes DTMF in INFO (application/dtmf-relay, application/dtmf) to
// the participant; fast update requests (RFC 5168) are accepted and, until
// video exists, ignored.
func (s *Server) onInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := s.lookup(req)
	if c == nil {
		s.refuse(req, tx.Respond)
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	if len(req.Body()) == 0 || ct == "application/media_control+xml" {
		c.onMediaControl(req.Body())
		s.reply(req, 200, "OK", tx.Respond)
		return
	}
	d, err := parseDTMFInfo(ct, req.Body())
	if err != nil {
		var se *StatusError
		if !errors.As(err, &se) {
			err = statusError(400, "Bad Request", err)
		}
		s.send(req, s.statusResponse(req, err), tx.Respond)
		return
	}
	if p := c.participant(); p != nil {
		p.ReceiveDigit(d)
	}
	s.reply(req, 200, "OK", tx.Respond)
}
