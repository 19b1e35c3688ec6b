package sipcall

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned by Listen after Close.
	ErrClosed = errors.New("sipcall: server closed")
	// ErrListening is returned by a second call to Listen.
	ErrListening = errors.New("sipcall: server already listening")

	// ErrBadSDP reports a session description we cannot parse.
	ErrBadSDP = errors.New("sipcall: malformed SDP")
	// ErrNoAudio reports an offer without an audio stream.
	ErrNoAudio = errors.New("sipcall: no audio stream offered")
	// ErrNoCommonCodec reports an offer whose audio codecs we do not
	// support.
	ErrNoCommonCodec = errors.New("sipcall: no common audio codec")
	// ErrUnsupportedTransport reports audio offered only over a transport
	// protocol we do not speak (DTLS-SRTP, or SRTP without a crypto line
	// we support).
	ErrUnsupportedTransport = errors.New("sipcall: unsupported media transport")
	// ErrBadCrypto reports an a=crypto attribute we cannot parse or that
	// breaks RFC 4568's rules.
	ErrBadCrypto = errors.New("sipcall: malformed a=crypto")
	// ErrUnsupportedCrypto reports an a=crypto attribute with a suite or
	// parameter we do not implement (RFC 4568 §6: the line is declined).
	ErrUnsupportedCrypto = errors.New("sipcall: unsupported a=crypto")
	// ErrSRTPRequired reports a plain RTP offer where the policy requires
	// SRTP.
	ErrSRTPRequired = errors.New("sipcall: SRTP required")
	// ErrSRTPOff reports an SRTP-only offer where the policy turns SRTP
	// off.
	ErrSRTPOff = errors.New("sipcall: SRTP turned off")
	// ErrUnsupportedBody reports a body type we cannot read.
	ErrUnsupportedBody = errors.New("sipcall: unsupported body type")
	// ErrPortsExhausted reports that the RTP port range has no free pair.
	ErrPortsExhausted = errors.New("sipcall: rtp ports exhausted")
	// ErrBadDTMF reports a DTMF body or event we cannot read.
	ErrBadDTMF = errors.New("sipcall: malformed DTMF")

	// errCanceled reports that the caller cancelled the INVITE while we
	// set the call up; sipgo's transaction layer already answered 487.
	errCanceled = errors.New("sipcall: invite cancelled")
	// errHungUp reports that the bridge hung the call up while admitting
	// it, before the 200 went out.
	errHungUp = errors.New("sipcall: call hung up by the bridge while admitted")
	// errRTP reports a datagram that is no RTP packet (RFC 3550 §5.1).
	errRTP = errors.New("sipcall: malformed RTP packet")
	// errIntervalTooSmall is the 422 of RFC 4028 §6.
	errIntervalTooSmall = errors.New("sipcall: session interval too small")
)

// StatusError is an error that knows the SIP final response it calls for,
// e.g. 404 for an unknown room or 488 for an offer without a common codec.
type StatusError struct {
	// Code and Reason are the response's status line.
	Code   int
	Reason string
	// WarnCode and WarnText, when WarnCode is not zero, go into a Warning
	// header (RFC 3261 §20.43), e.g. 305 "Incompatible media format".
	WarnCode int
	WarnText string
	// Err is the cause.
	Err error
}

// Error describes the status and the cause.
func (e *StatusError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("sipcall: %d %s", e.Code, e.Reason)
	}
	return fmt.Sprintf("sipcall: %d %s: %v", e.Code, e.Reason, e.Err)
}

// Unwrap returns the cause.
func (e *StatusError) Unwrap() error { return e.Err }

// statusError wraps err into a StatusError with code and reason.
func statusError(code int, reason string, err error) *StatusError {
	return &StatusError{Code: code, Reason: reason, Err: err}
}

// Warning codes of RFC 3261 §20.43 that negotiation failures carry.
const (
	warnIncompatibleTransport = 302
	warnMediaTypeUnavailable  = 304
	warnIncompatibleFormat    = 305
)

// notAcceptable returns the 488 for a failed negotiation with its Warning.
func notAcceptable(warn int, text string, err error) *StatusError {
	return &StatusError{Code: 488, Reason: "Not Acceptable Here", WarnCode: warn, WarnText: text, Err: err}
}
