package sipcall

import (
	"github.com/pion/sdp/v3"

	"github.com/bifrost-video/bifrost/bridge"
)

// videoSecurity decides how a candidate video m-line md on profile is
// protected: its SDES keys, nil for plain RTP, or an error that declines
// the m-line (the call goes on with audio).
type videoSecurity func(md *sdp.MediaDescription, profile string) (*sdesKeys, error)

// videoPolicy is the SRTP policy of a call's video: the call's, but
// required when the audio is encrypted (audio keys not nil), so that a
// call is never half encrypted. An offer with SRTP audio and plain video
// gets its video declined: the participants were told, by the SRTP of
// their audio, that the call is protected.
func videoPolicy(policy bridge.SRTPPolicy, audio *sdesKeys) bridge.SRTPPolicy {
	if audio != nil {
		return bridge.SRTPRequired
	}
	return policy
}

// offeredVideoSecurity takes the keys of a video m-line in an offer under
// the call's policy and its audio's keys (see videoPolicy): the same three
// cases as the audio's (mediaSecurity), with keys of the video's own, as
// RFC 4568 §6.1 asks for each media stream.
func offeredVideoSecurity(policy bridge.SRTPPolicy, audio *sdesKeys) videoSecurity {
	policy = videoPolicy(policy, audio)
	return func(md *sdp.MediaDescription, profile string) (*sdesKeys, error) {
		return mediaSecurity(md, profile, policy)
	}
}

// answeredVideoSecurity reads the keys of the video m-line of an answer
// to our offer, whose video crypto was offer (acceptCryptoAnswer), under
// the call's policy and its audio's keys.
func answeredVideoSecurity(offer cryptoOffer, policy bridge.SRTPPolicy, audio *sdesKeys) videoSecurity {
	policy = videoPolicy(policy, audio)
	return func(md *sdp.MediaDescription, _ string) (*sdesKeys, error) {
		k, err := acceptCryptoAnswer(md, offer, policy)
		if err == nil && k == nil && policy == bridge.SRTPRequired {
			err = ErrSRTPRequired
		}
		return k, err
	}
}

// keepKeys is the crypto of a re-offer of a stream on profile using k:
// the keys in use, so that nothing changes unless the peer changes its
// own (RFC 4568 §7.1.4); plain for a plain stream.
func keepKeys(k *sdesKeys, profile string) cryptoOffer {
	if k == nil {
		return cryptoOffer{}
	}
	return cryptoOffer{Secure: isSecureProfile(profile), Lines: []sdesKeys{*k}}
}
