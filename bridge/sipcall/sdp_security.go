package sipcall

import (
	"strings"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/pion/sdp/v3"
)

// isSecureProfile reports whether profile is an SRTP profile (RTP/SAVP,
// RTP/SAVPF), which carries no media without a crypto line we take.
func isSecureProfile(profile string) bool {
	p := strings.ToUpper(profile)
	return p == "RTP/SAVP" || p == "RTP/SAVPF"
}

// mediaSecurity decides how the offered m-line md is protected under
// policy, and returns our SDES keys for it, nil for plain RTP, or the 488
// that refuses the m-line:
//
//   - RTP/SAVP(F) takes the first a=crypto line we support (RFC 4568
//     §7.1.2), or is refused when there is none or SRTP is off;
//   - RTP/AVP(F) with a=crypto ("best effort" SRTP, as Cisco sends) is
//     encrypted when a line fits and the policy allows, else plain, and
//     answered in RTP/AVP with our crypto line;
//   - plain RTP is refused when SRTP is required.
func mediaSecurity(md *sdp.MediaDescription, profile string, policy bridge.SRTPPolicy) (*sdesKeys, error) {
	secure := isSecureProfile(profile)
	if policy == bridge.SRTPOff {
		if secure {
			return nil, notAcceptable(warnIncompatibleTransport, "SRTP is turned off here", ErrSRTPOff)
		}
		// Answering without a=crypto declines every offered line.
		return nil, nil
	}
	k, ok, _, err := chooseCrypto(md)
	if err != nil {
		return nil, statusError(500, "Server Internal Error", err)
	}
	if ok {
		return &k, nil
	}
	if secure {
		return nil, notAcceptable(warnIncompatibleTransport, "No supported SRTP crypto-suite", ErrUnsupportedCrypto)
	}
	if policy == bridge.SRTPRequired {
		return nil, notAcceptable(warnIncompatibleTransport, "SRTP required", ErrSRTPRequired)
	}
	return nil, nil
}
