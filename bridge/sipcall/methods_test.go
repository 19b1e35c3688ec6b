package sipcall

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestAllowMatchesRouting(t *testing.T) {
	for _, m := range splitList(allowHeader) {
		method := sip.RequestMethod(m)
		t.Run(m+" is allowed, so it is neither refused with 405 nor unknown", func(t *testing.T) {
			if r, ok := refusals[method]; ok && r.code == sip.StatusMethodNotAllowed {
				t.Errorf("%s is in Allow but refused with 405", m)
			}
			if method != sip.OPTIONS && method != sip.ACK && method != sip.INVITE {
				if _, ok := refusals[method]; !ok {
					t.Errorf("%s is in Allow but would get 501", m)
				}
			}
		})
	}
	for method, r := range refusals {
		if r.code == sip.StatusMethodNotAllowed && containsFold(splitList(allowHeader), string(method)) {
			t.Errorf("%s is refused with 405 but listed in Allow", method)
		}
	}
}
