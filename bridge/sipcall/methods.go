package sipcall

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// Capabilities advertised in OPTIONS answers (RFC 3261 §11.2) and 405s.
// Each is the one place its list is written.
const (
	// allowHeader lists the methods we accept. Methods in it that reach us
	// outside a dialog or transaction we know get 481, the others are refused
	// with 405 or 501 (see refusals).
	allowHeader = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE"
	// acceptHeader lists the bodies we understand: SDP offers and answers,
	// DTMF in INFO (application/dtmf-relay and application/dtmf, as Cisco
	// and Polycom send them) and RFC 5168 fast update requests.
	acceptHeader = "application/sdp, application/dtmf-relay, application/dtmf, application/media_control+xml"
	// supportedHeader lists only the option tags we honour: session timers
	// (RFC 4028) and Replaces (RFC 3891).
	supportedHeader = "timer, replaces"
)

var supported = splitList(supportedHeader)

// refusal is the final response to a method we recognise but do not serve.
type refusal struct {
	code   int
	reason string
}

// refusals holds the answer to every method sipgo knows other than OPTIONS,
// ACK and INVITE, which have handlers of their own. Methods absent from it
// get 501 Not Implemented (RFC 3261 §21.5.2).
var refusals = map[sip.RequestMethod]refusal{
	// Allowed methods that only make sense inside a dialog or against a
	// pending transaction, and we have neither yet.
	// RFC 3261 §12.2.2 (BYE, INFO, UPDATE), §9.2 (CANCEL), RFC 3262 §3 (PRACK:
	// we never send reliable provisional responses, so none can match).
	sip.BYE:    {sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist"},
	sip.INFO:   {sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist"},
	sip.UPDATE: {sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist"},
	sip.CANCEL: {sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist"},
	sip.PRACK:  {sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist"},

	// Methods we understand but do not allow: 405 with Allow, RFC 3261
	// §8.2.1 and §21.4.6. We are no registrar, presence or messaging server,
	// and do not take transfers; NOTIFY only follows a SUBSCRIBE or REFER,
	// which we never send.
	sip.REGISTER:  {sip.StatusMethodNotAllowed, "Method Not Allowed"},
	sip.SUBSCRIBE: {sip.StatusMethodNotAllowed, "Method Not Allowed"},
	sip.NOTIFY:    {sip.StatusMethodNotAllowed, "Method Not Allowed"},
	sip.MESSAGE:   {sip.StatusMethodNotAllowed, "Method Not Allowed"},
	sip.PUBLISH:   {sip.StatusMethodNotAllowed, "Method Not Allowed"},
	sip.REFER:     {sip.StatusMethodNotAllowed, "Method Not Allowed"},
}

// methodLabel bounds the method label of the requests metric: methods
// outside the set sipgo knows become "other", so a peer sending made-up
// methods cannot grow the number of series.
func methodLabel(m sip.RequestMethod) string {
	switch m {
	case sip.OPTIONS, sip.INVITE, sip.ACK:
		return string(m)
	}
	if _, ok := refusals[m]; ok {
		return string(m)
	}
	return "other"
}

// unsupportedRequires returns the option tags of the request's Require
// headers that are not in supportedHeader (RFC 3261 §8.2.2.3).
func unsupportedRequires(req *sip.Request) []string {
	var out []string
	for _, h := range req.GetHeaders("Require") {
		for _, tag := range splitList(h.Value()) {
			if !containsFold(supported, tag) {
				out = append(out, tag)
			}
		}
	}
	return out
}

// splitList splits a comma-separated header value into trimmed, non-empty
// items.
func splitList(v string) []string {
	var out []string
	for item := range strings.SplitSeq(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// containsFold reports whether list holds s, ignoring case (option tags are
// compared case-insensitively, RFC 3261 §19.2).
func containsFold(list []string, s string) bool {
	for _, item := range list {
		if strings.EqualFold(item, s) {
			return true
		}
	}
	return false
}
