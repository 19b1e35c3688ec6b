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

// cryptoOffer is the SDES part of an offer of ours: our crypto lines, each
// with its own fresh key, on RTP/SAVP (Secure) or best-effort RTP/AVP.
// The zero value offers plain RTP.
type cryptoOffer struct {
	Secure bool
	Lines  []sdesKeys
}

// offeredSuites are the suites of our offers, in our preference:
// AEAD_AES_128_GCM first (RFC 7714 §14.2: one AES pass and a GHASH instead
// of AES-CM plus HMAC-SHA1, the cheapest per packet on CPUs with AES
// instructions, and a stronger tag), then the two every SDES endpoint
// implements (RFC 4568 §6.2), which endpoints without GCM pick.
var offeredSuites = []string{"AEAD_AES_128_GCM", "AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32"}

// newCryptoOffer is the crypto of our offer for a new call under policy:
// none when off; best-effort RTP/AVP with crypto when preferred, so that
// endpoints without SRTP still answer; RTP/SAVP when required.
func newCryptoOffer(policy bridge.SRTPPolicy) (cryptoOffer, error) {
	if policy == bridge.SRTPOff {
		return cryptoOffer{}, nil
	}
	o := cryptoOffer{Secure: policy == bridge.SRTPRequired}
	for i, name := range offeredSuites {
		suite, _ := suiteByName(name)
		key, err := newMasterKey(suite)
		if err != nil {
			return cryptoOffer{}, statusError(500, "Server Internal Error", err)
		}
		o.Lines = append(o.Lines, sdesKeys{Tag: uint32(i + 1), Suite: suite, Local: key})
	}
	return o, nil
}

// keepCryptoOffer is the crypto of a re-offer in a call using current:
// the keys in use, so that nothing changes unless the peer changes its
// own (RFC 4568 §7.1.4); plain for a plain call.
func keepCryptoOffer(current audioMedia) cryptoOffer {
	return keepKeys(current.SRTP, current.Profile)
}

// protos are the m= proto tokens of the offer.
func (o cryptoOffer) protos() []string {
	if o.Secure {
		return []string{"RTP", "SAVP"}
	}
	return []string{"RTP", "AVP"}
}

// attributes are the offer's a=crypto lines.
func (o cryptoOffer) attributes() []sdp.Attribute {
	var out []sdp.Attribute
	for i := range o.Lines {
		out = append(out, sdp.NewAttribute("crypto", answerCrypto(&o.Lines[i])))
	}
	return out
}

// acceptCryptoAnswer reads the crypto of the peer's answer md to our
// offer: the line must carry one of our tags with its suite (RFC 4568
// §7.1.3); its key is the peer's and ours is the one we offered under the
// tag. An answer without crypto to crypto we offered is plain RTP, unless
// we offered RTP/SAVP or SRTP is required.
func acceptCryptoAnswer(md *sdp.MediaDescription, offer cryptoOffer, policy bridge.SRTPPolicy) (*sdesKeys, error) {
	if len(offer.Lines) == 0 {
		if profile, _ := rtpProfile(md.MediaName.Protos); isSecureProfile(profile) {
			return nil, notAcceptable(warnIncompatibleTransport, "Incompatible transport protocol", ErrUnsupportedTransport)
		}
		return nil, nil
	}
	for _, attr := range md.Attributes {
		if attr.Key != "crypto" {
			continue
		}
		a, err := parseCrypto(attr.Value)
		if err != nil {
			return nil, notAcceptable(warnIncompatibleTransport, "Malformed crypto attribute", err)
		}
		for _, line := range offer.Lines {
			if line.Tag != a.Tag || line.Suite.Name != a.Suite {
				continue
			}
			_, params, err := acceptCrypto(a)
			if err != nil {
				return nil, notAcceptable(warnIncompatibleTransport, "Unsupported crypto attribute", err)
			}
			k := line
			k.Remote, k.Params = a.Keys, params
			return &k, nil
		}
		return nil, notAcceptable(warnIncompatibleTransport, "Crypto attribute not offered", ErrBadCrypto)
	}
	if offer.Secure || policy == bridge.SRTPRequired {
		return nil, notAcceptable(warnIncompatibleTransport, "SRTP required", ErrSRTPRequired)
	}
	return nil, nil
}

// addCrypto appends to our answered m-line md the a=crypto line answering
// k, the outcome of mediaSecurity for the offered m-line; nothing for
// plain RTP. Any RTP m-line (audio, video) is secured with these two
// calls and a mediaCrypto on its socket.
func addCrypto(md *sdp.MediaDescription, k *sdesKeys) {
	if k != nil {
		md.Attributes = append(md.Attributes, sdp.NewAttribute("crypto", answerCrypto(k)))
	}
}
