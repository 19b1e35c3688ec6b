package sipcall

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"
)

// noPT is a payload type no packet carries: the audio of a leg whose late
// offer awaits its answer.
const noPT = 128

// onInvite handles an INVITE: a new call into a room, or a re-INVITE in
// one of our dialogs.
//
// A new call gets 100 Trying, then the room of the request URI's user is
// resolved (404), the offer negotiated (415, 400, 488) or ours built for
// a late offer, a port pair allocated (503), the leg admitted (486 full,
// 403 locked), and 200 with SDP sent; the handler returns once the ACK
// came. A CANCEL before the 200 gets 200 and the INVITE 487 from sipgo's
// transaction layer; the call is then torn down.
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.onReinvite(req, tx)
		return
	}
	if s.cfg.Rooms == nil {
		s.refuseInvite(req, tx.Respond)
		return
	}
	if s.refuseUnsupported(req, tx.Respond) {
		return
	}
	timer, err := s.negotiateTimer(req)
	if err != nil {
		s.send(req, s.statusResponse(req, err), tx.Respond)
		return
	}
	sess, err := s.dialogs.ReadInvite(req, tx)
	if err != nil {
		s.send(req, s.statusResponse(req, statusError(400, "Bad Request", err)), tx.Respond)
		return
	}
	_ = tx.Respond(sip.NewResponseFromRequest(req, 100, "Trying", nil))

	c, body, err := s.setupCall(req, sess)
	if err != nil {
		if !errors.Is(err, errCanceled) {
			_ = sess.WriteResponse(s.stamp(s.statusResponse(sess.InviteRequest, err)))
		}
		return
	}
	res := sip.NewResponseFromRequest(sess.InviteRequest, 200, "OK", body)
	res.AppendHeader(s.contactFor(req, c.local.Addr))
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(sip.NewHeader("Allow", allowHeader))
	res.AppendHeader(sip.NewHeader("Supported", supportedHeader))
	for _, h := range timer.headers() {
		res.AppendHeader(h)
	}
	if s.cfg.beforeAnswer != nil {
		s.cfg.beforeAnswer(c)
	}
	// WriteResponse sends the 200 and retransmits it until the ACK
	// (RFC 3261 §13.3.1.4); it fails when a CANCEL won the race or no ACK
	// came. A CANCEL landing after admit looked and before the 200 reaches
	// the transaction is seen too: sipgo answered it 487 and its
	// transaction refuses our 200 at once with ErrTransactionCanceled.
	c.sent200 = true
	err = sess.WriteResponse(s.stamp(res))
	close(c.answered)
	if err != nil {
		if sess.Context().Err() != nil || errors.Is(err, sip.ErrTransactionCanceled) {
			c.end(bridge.EndHungUp, 487, false)
			return
		}
		c.log.Info("sip call not acknowledged", "error", err)
		c.end(bridge.EndError, 408, true)
		return
	}
	if c.participant() == nil {
		// Late offer: the ACK brought the answer; admit now, and hang up
		// with BYE if the room refuses, as a 200 cannot be taken back.
		if err := s.admit(c); err != nil {
			code := 500
			var se *StatusError
			if errors.As(err, &se) {
				code = se.Code
			}
			c.end(bridge.EndRejected, code, true)
			return
		}
	}
	c.mu.Lock()
	c.info.AnsweredAt = s.cfg.Now()
	c.mu.Unlock()
	if !c.isEnded() {
		// Not for a call hung up while the 200 awaited its ACK.
		c.armTimer(timer)
	}
	c.log.Info("sip call answered", "room_id", string(c.room.ID), "codec", c.AudioCodec().String())
}

// setupCall does the work between 100 and 200: it returns the admitted
// call and the SDP of our 200 (answer or late offer), or the error whose
// status refuses the call.
func (s *Server) setupCall(req *sip.Request, sess *sipgo.DialogServerSession) (*call, []byte, error) {
	ctx := sess.Context()
	alias := req.Recipient.User
	if alias == "" {
		return nil, nil, statusError(404, "Not Found", bridge.ErrRoomNotFound)
	}
	room, err := s.cfg.Rooms.Resolve(ctx, alias)
	if ctx.Err() != nil {
		return nil, nil, errCanceled
	}
	if err != nil {
		return nil, nil, admissionError(err)
	}

	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	raw, err := sessionBody(ct, req.Body())
	if err != nil {
		return nil, nil, err
	}
	m := audioMedia{PT: noPT, Direction: sendRecv}
	offer := raw != nil
	var offerSD *sdp.SessionDescription
	if offer {
		sd, err := parseSDP(raw)
		if err != nil {
			return nil, nil, statusError(400, "Bad Request", err)
		}
		if m, err = negotiateOffer(sd); err != nil {
			return nil, nil, err
		}
		offerSD = sd
	}

	src := sourceAddr(req)
	local := s.localAddrFor(src.Addr())
	callID := ""
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	c := &call{
		srv:   s,
		log:   s.log.With("call_id", callID),
		sess:  sess,
		id:    sess.ID,
		room:  room,
		ended: make(chan struct{}),

		answered: make(chan struct{}),
	}
	c.info = legInfo(req, src, callID, s.cfg.Now())
	if offer {
		c.info.AudioCodec = m.Codec.String()
	}
	media, err := newMediaSession(s.pool, mediaConfig{
		Latch: !s.cfg.DisableLatching, Signalling: src.Addr(), Timeout: s.cfg.RTPTimeout, Now: s.cfg.Now, Log: c.log,
	}, m, mediaEvents{
		audio: func(seq uint16, ts uint32, payload []byte) {
			if p := c.participant(); p != nil {
				p.ReceiveAudio(seq, ts, payload)
			}
		},
		digit: func(d rune) {
			if p := c.participant(); p != nil {
				p.ReceiveDigit(d)
			}
		},
		timeout: func() {
			c.log.Info("sip call: no RTP", "timeout", s.cfg.RTPTimeout)
			s.background.Go(func() { c.end(bridge.EndTimeout, 0, true) })
		},
		packetIn:  s.metrics.rtpIn.Inc,
		packetOut: s.metrics.rtpOut.Inc,
	})
	if err != nil {
		return nil, nil, admissionError(err)
	}
	c.media = media
	c.local = localMedia{Addr: s.mediaAddr(local), Port: media.localPort(), SessionID: rand.Uint64() >> 1, Version: 1}
	s.startVideo(c, offerSD, src) // offerSD nil: video goes into our late offer

	var body []byte
	if offer {
		body, err = buildAnswer(offerSD, m, c.local)
	} else {
		c.lateOffer = true
		body, err = buildOffer(c.local, sendRecv, ourOffer)
	}
	if err != nil {
		media.close()
		c.closeVideo()
		return nil, nil, fmt.Errorf("sipcall: build SDP: %w", err)
	}

	s.register(c)
	if !offer {
		// The codec is known from the ACK only: the leg is admitted then.
		return c, body, nil
	}
	if err := s.admit(c); err != nil {
		close(c.answered)
		c.end(bridge.EndRejected, 0, false)
		return nil, nil, err
	}
	return c, body, nil
}

// admit hands c to the bridge. A CANCEL meanwhile makes the participant
// leave at once and returns errCanceled; the bridge hanging the call up
// meanwhile (Hangup before Admit returned) makes it leave too and returns
// a 480 StatusError, so no participant outlives its call.
func (s *Server) admit(c *call) error {
	ctx := c.sess.Context()
	p, err := s.cfg.Rooms.Admit(ctx, c.room, c)
	if err == nil && ctx.Err() != nil {
		p.Leave(bridge.EndHungUp, 487)
		return errCanceled
	}
	if err != nil {
		if ctx.Err() != nil {
			return errCanceled
		}
		return admissionError(err)
	}
	if !c.setParticipant(p) {
		return statusError(480, "Temporarily Unavailable", errHungUp)
	}
	return nil
}

// legInfo describes the caller from its INVITE.
func legInfo(req *sip.Request, src netip.AddrPort, callID string, now time.Time) bridge.LegInfo {
	info := bridge.LegInfo{
		Direction:  bridge.DirectionIn,
		StartedAt:  now,
		Protocol:   bridge.ProtocolSIP,
		Transport:  strings.ToLower(req.Transport()),
		RemoteAddr: src,
		CallID:     callID,
		Encryption: bridge.EncryptionNone,
	}
	if f := req.From(); f != nil {
		info.DisplayName = f.DisplayName
		info.RemoteURI = f.Address.String()
	}
	if h := req.GetHeader("User-Agent"); h != nil {
		info.UserAgent = h.Value()
	}
	return info
}
