package sipcall

import (
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// respondFunc sends a final response within the request's server
// transaction. It is sip.ServerTransaction.Respond in production and a
// recorder in tests and the fuzz target.
type respondFunc func(*sip.Response) error

// route registers the handlers on the sipgo server. sipgo passes requests
// whose method has no handler, including names it does not know such as
// FOO, to the no-route handler with their transaction like any other.
func (s *Server) route() {
	s.uas.OnRequest(sip.OPTIONS, s.transactional(s.handlerFor(sip.OPTIONS)))
	for method := range refusals {
		s.uas.OnRequest(method, s.transactional(s.handlerFor(method)))
	}
	// Calls and the requests inside their dialogs; outside a dialog of
	// ours these fall back to the refusals.
	s.uas.OnRequest(sip.INVITE, s.inDialog(s.onInvite))
	s.uas.OnRequest(sip.ACK, s.inDialog(s.onAck))
	s.uas.OnRequest(sip.BYE, s.inDialog(s.onBye))
	s.uas.OnRequest(sip.INFO, s.inDialog(s.onInfo))
	s.uas.OnRequest(sip.UPDATE, s.inDialog(s.onUpdate))
	s.uas.OnNoRoute(s.transactional(s.notImplemented))
}

// handlerFor returns the handler for requests of method.
func (s *Server) handlerFor(method sip.RequestMethod) func(*sip.Request, respondFunc) {
	switch method {
	case sip.OPTIONS:
		return s.answerOptions
	case sip.ACK:
		return s.absorbAck
	case sip.INVITE:
		return s.refuseInvite
	}
	if _, ok := refusals[method]; ok {
		return s.refuse
	}
	return s.notImplemented
}

// transactional adapts a handler to sipgo's, counting it in the in-flight
// handlers Close waits for. After Close requests are dropped unanswered.
func (s *Server) transactional(h func(*sip.Request, respondFunc)) func(*sip.Request, sip.ServerTransaction) {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return
		}
		s.handling.Add(1)
		s.mu.Unlock()
		defer s.handling.Done()

		s.serve(req, tx.Respond, h)
	}
}

// serve logs and counts req, then runs h. It is the one entry point for
// requests, shared by the sipgo handlers and the fuzz target.
func (s *Server) serve(req *sip.Request, respond respondFunc, h func(*sip.Request, respondFunc)) {
	transport := strings.ToLower(req.Transport())
	callID := ""
	if c := req.CallID(); c != nil {
		callID = c.Value()
	}
	// The Call-ID is logged, the source address is not: see bridge.LegInfo.
	s.log.Debug("sip request", "method", string(req.Method), "call_id", callID, "transport", transport)
	s.metrics.requests.WithLabelValues(methodLabel(req.Method), transport).Inc()
	h(req, respond)
}

// answerOptions answers OPTIONS, in or out of a dialog, with our
// capabilities. RFC 3261 §11.2.
func (s *Server) answerOptions(req *sip.Request, respond respondFunc) {
	if s.refuseUnsupported(req, respond) {
		return
	}
	res := sip.NewResponseFromRequest(req, sip.StatusOK, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowHeader))
	res.AppendHeader(sip.NewHeader("Accept", acceptHeader))
	res.AppendHeader(sip.NewHeader("Supported", supportedHeader))
	s.send(req, res, respond)
}

// absorbAck never answers: an ACK gets no response (RFC 3261 §17.1.1.3).
// ACKs to our non-2xx final responses are absorbed by sipgo's INVITE server
// transaction and never reach us; the ones that do acknowledge a 2xx we
// never sent.
func (s *Server) absorbAck(*sip.Request, respondFunc) {}

// refuseInvite answers INVITE until calls into rooms exist.
//
// A new call gets 480 Temporarily Unavailable (RFC 3261 §21.4.18) without
// Retry-After: the request is well-formed and will be served by a later
// version, so the refusal must read as temporary. 404 would tell the caller
// (and any proxy caching it) that the address does not exist, which is the
// answer reserved for an unknown room once rooms exist, and 503 would make
// RFC 3263 proxies fail the whole server over. A re-INVITE (To tag present)
// can only be for a dialog we do not have: 481 (RFC 3261 §12.2.2).
func (s *Server) refuseInvite(req *sip.Request, respond respondFunc) {
	if s.refuseUnsupported(req, respond) {
		return
	}
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.reply(req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", respond)
		return
	}
	s.reply(req, sip.StatusTemporarilyUnavailable, "Temporarily Unavailable", respond)
}

// refuse answers a method listed in refusals. 405 carries Allow, as RFC 3261
// §21.4.6 requires.
func (s *Server) refuse(req *sip.Request, respond respondFunc) {
	r := refusals[req.Method]
	if r.code == sip.StatusMethodNotAllowed {
		res := sip.NewResponseFromRequest(req, r.code, r.reason, nil)
		res.AppendHeader(sip.NewHeader("Allow", allowHeader))
		s.send(req, res, respond)
		return
	}
	// CANCEL is exempt from Require checks (RFC 3261 §8.2.2.3).
	if req.Method != sip.CANCEL && s.refuseUnsupported(req, respond) {
		return
	}
	s.reply(req, r.code, r.reason, respond)
}

// notImplemented answers a method we do not recognise. RFC 3261 §21.5.2.
func (s *Server) notImplemented(req *sip.Request, respond respondFunc) {
	s.reply(req, sip.StatusNotImplemented, "Not Implemented", respond)
}

// refuseUnsupported answers 420 Bad Extension, listing the offending option
// tags in Unsupported, when the request requires an extension we do not
// support (RFC 3261 §8.2.2.3). It reports whether it answered.
func (s *Server) refuseUnsupported(req *sip.Request, respond respondFunc) bool {
	tags := unsupportedRequires(req)
	if len(tags) == 0 {
		return false
	}
	res := sip.NewResponseFromRequest(req, sip.StatusBadExtension, "Bad Extension", nil)
	res.AppendHeader(sip.NewHeader("Unsupported", strings.Join(tags, ", ")))
	s.send(req, res, respond)
	return true
}

// reply sends a bare final response.
func (s *Server) reply(req *sip.Request, code int, reason string, respond respondFunc) {
	s.send(req, sip.NewResponseFromRequest(req, code, reason, nil), respond)
}

// send stamps res with our Server header (RFC 3261 §20.35), counts it and
// sends it.
func (s *Server) send(req *sip.Request, res *sip.Response, respond respondFunc) {
	res.AppendHeader(sip.NewHeader("Server", s.cfg.UserAgent))
	s.metrics.responses.WithLabelValues(strconv.Itoa(res.StatusCode)).Inc()
	if err := respond(res); err != nil {
		s.log.Debug("sip response not sent", "method", string(req.Method),
			"code", res.StatusCode, "error", err)
	}
}
