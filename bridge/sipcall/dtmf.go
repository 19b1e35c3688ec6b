package sipcall

import (
	"bufio"
	"bytes"
	"fmt"
	"mime"
	"strconv"
	"strings"
)

// dtmfDecoder turns RFC 4733 telephone-event payloads into digits. An
// event is sent as several packets sharing one RTP timestamp, and its end
// packet three times (RFC 4733 §2.5.1.4); the decoder reports each event
// once, on its first packet, so a lost end packet costs nothing.
type dtmfDecoder struct {
	have   bool
	lastTS uint32
}

// decode reads one telephone-event payload with RTP timestamp ts. It
// returns the digit when the packet starts a new event, and false for the
// repeats of one already reported and for events that are no DTMF digit
// we take (A-D, flash, tones).
func (d *dtmfDecoder) decode(ts uint32, payload []byte) (rune, bool, error) {
	// RFC 4733 §2.3: event (8 bits), E, R, volume (6), duration (16).
	if len(payload) < 4 {
		return 0, false, ErrBadDTMF
	}
	if d.have && ts == d.lastTS {
		return 0, false, nil
	}
	d.have, d.lastTS = true, ts
	r, ok := eventDigit(payload[0])
	return r, ok, nil
}

// eventDigit maps an RFC 4733 §3.2 DTMF event code to its digit: 0-9, *
// (10) and # (11). A-D (12-15) are not digits a participant can key.
func eventDigit(code byte) (rune, bool) {
	switch {
	case code <= 9:
		return rune('0' + code), true
	case code == 10:
		return '*', true
	case code == 11:
		return '#', true
	}
	return 0, false
}

// parseDTMFInfo reads the digit of an INFO body: application/dtmf-relay
// ("Signal=5\r\nDuration=160", Cisco) or application/dtmf ("5", Polycom,
// or its event code "11" for #). Other types are a 415 *StatusError.
func parseDTMFInfo(contentType string, body []byte) (rune, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, statusError(415, "Unsupported Media Type", fmt.Errorf("%w: content type %q", ErrUnsupportedBody, contentType))
	}
	switch mt {
	case "application/dtmf-relay":
		sc := bufio.NewScanner(bytes.NewReader(body))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				return infoDigit(strings.TrimSpace(v))
			}
		}
		return 0, fmt.Errorf("%w: dtmf-relay body without Signal", ErrBadDTMF)
	case "application/dtmf":
		return infoDigit(strings.TrimSpace(string(body)))
	}
	return 0, statusError(415, "Unsupported Media Type", fmt.Errorf("%w: %s", ErrUnsupportedBody, mt))
}

// infoDigit reads a digit given as itself or as its event code.
func infoDigit(s string) (rune, error) {
	if len(s) == 1 {
		switch c := s[0]; {
		case c >= '0' && c <= '9', c == '*', c == '#':
			return rune(c), nil
		}
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 10 && n <= 11 {
		r, _ := eventDigit(byte(n))
		return r, nil
	}
	return 0, fmt.Errorf("%w: signal %q", ErrBadDTMF, s)
}
