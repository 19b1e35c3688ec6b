package sipcall

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// mediaCrypto is the protection layer at a media socket: a media session
// passes every RTP and RTCP packet through it on the way out and on the
// way in. plainCrypto passes them unchanged; srtpCrypto is SRTP/SRTCP
// (RFC 3711). Each method writes into dst's capacity when it can and
// returns the packet to use; the plain layer returns pkt itself.
// Implementations are safe for concurrent use.
type mediaCrypto interface {
	protectRTP(dst, pkt []byte) ([]byte, error)
	unprotectRTP(dst, pkt []byte) ([]byte, error)
	protectRTCP(dst, pkt []byte) ([]byte, error)
	unprotectRTCP(dst, pkt []byte) ([]byte, error)
	// encrypted reports whether media is protected, for LegInfo.
	encrypted() bool
}

// srtpOverhead is the most SRTP/SRTCP adds to a packet: a 16-byte tag,
// the 4-byte SRTCP index and an MKI (RFC 3711 §3.1, §3.4).
const srtpOverhead = 16 + 4 + maxMKILen

// plainCrypto is plain RTP.
type plainCrypto struct{}

func (plainCrypto) protectRTP(_, pkt []byte) ([]byte, error)    { return pkt, nil }
func (plainCrypto) unprotectRTP(_, pkt []byte) ([]byte, error)  { return pkt, nil }
func (plainCrypto) protectRTCP(_, pkt []byte) ([]byte, error)   { return pkt, nil }
func (plainCrypto) unprotectRTCP(_, pkt []byte) ([]byte, error) { return pkt, nil }
func (plainCrypto) encrypted() bool                             { return false }

// srtpCrypto is SRTP keyed by SDES: one pion context for what we send,
// under our key, and one for what we receive, under the peer's.
type srtpCrypto struct {
	tx, rx *srtpDirection
	// local is our master key and salt, which tx protects with.
	local []byte
}

// srtpDirection is one pion context. A context is one-way and not safe
// for concurrent use, hence its mutex; the headers are reused so that
// steady state allocates nothing. Layers share a direction whose key did
// not change (see cryptoFor).
type srtpDirection struct {
	mu      sync.Mutex
	ctx     *srtp.Context
	rtpHdr  rtp.Header
	rtcpHdr rtcp.Header
}

// replayWindow is the SRTP replay window in packets when the peer gave
// no WSH (RFC 3711 §3.3.2 asks for at least 64).
const replayWindow = 128

// newSRTPCrypto builds the contexts for k; prev, when not nil, is the
// layer in use, whose send context is kept if our key is the same.
func newSRTPCrypto(k *sdesKeys, prev *srtpCrypto) (*srtpCrypto, error) {
	window := max(k.Params.WSH, replayWindow)
	var common []srtp.ContextOption
	if k.Params.UnencryptedSRTP {
		common = append(common, srtp.SRTPNoEncryption())
	}
	if k.Params.UnencryptedSRTCP {
		common = append(common, srtp.SRTCPNoEncryption())
	}
	kl := k.Suite.KeyLen
	c := &srtpCrypto{local: k.Local}
	if prev != nil && bytes.Equal(prev.local, k.Local) {
		// A new context under our old key would start its packet index
		// again and reuse key stream (RFC 3711 §9.1): keep the old one.
		c.tx = prev.tx
	} else {
		tx, err := srtp.CreateContext(k.Local[:kl], k.Local[kl:], k.Suite.Profile, common...)
		if err != nil {
			return nil, fmt.Errorf("sipcall: srtp send context: %w", err)
		}
		c.tx = &srtpDirection{ctx: tx}
	}
	first := k.Remote[0]
	rxOpts := append([]srtp.ContextOption{
		srtp.SRTPReplayProtection(window), srtp.SRTCPReplayProtection(window),
	}, common...)
	if first.MKI != nil {
		rxOpts = append(rxOpts, srtp.MasterKeyIndicator(first.MKI))
	}
	rx, err := srtp.CreateContext(first.Material[:kl], first.Material[kl:], k.Suite.Profile, rxOpts...)
	if err != nil {
		return nil, fmt.Errorf("sipcall: srtp receive context: %w", err)
	}
	for _, more := range k.Remote[1:] {
		if err := rx.AddCipherForMKI(more.MKI, more.Material[:kl], more.Material[kl:]); err != nil {
			return nil, fmt.Errorf("sipcall: srtp receive key: %w", err)
		}
	}
	c.rx = &srtpDirection{ctx: rx}
	return c, nil
}

func (c *srtpCrypto) protectRTP(dst, pkt []byte) ([]byte, error) {
	d := c.tx
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx.EncryptRTP(dst, pkt, &d.rtpHdr)
}

func (c *srtpCrypto) unprotectRTP(dst, pkt []byte) ([]byte, error) {
	d := c.rx
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx.DecryptRTP(dst, pkt, &d.rtpHdr)
}

func (c *srtpCrypto) protectRTCP(dst, pkt []byte) ([]byte, error) {
	d := c.tx
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx.EncryptRTCP(dst, pkt, &d.rtcpHdr)
}

func (c *srtpCrypto) unprotectRTCP(dst, pkt []byte) ([]byte, error) {
	d := c.rx
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx.DecryptRTCP(dst, pkt, &d.rtcpHdr)
}

func (c *srtpCrypto) encrypted() bool { return true }

// cryptoFor returns the layer for a negotiated stream: SRTP when it has
// SDES keys, plain otherwise. prev is the layer in use, nil for a new
// stream.
func cryptoFor(k *sdesKeys, prev mediaCrypto) (mediaCrypto, error) {
	if k == nil {
		return plainCrypto{}, nil
	}
	old, _ := prev.(*srtpCrypto)
	return newSRTPCrypto(k, old)
}

// cryptoSlot holds a stream's current layer. A re-INVITE that changes
// keys swaps it while the readers run; each packet uses the layer it
// loaded. The zero value is plain.
type cryptoSlot struct {
	p atomic.Pointer[cryptoBox]
}

type cryptoBox struct{ c mediaCrypto }

// load returns the current layer.
func (s *cryptoSlot) load() mediaCrypto {
	if b := s.p.Load(); b != nil {
		return b.c
	}
	return plainCrypto{}
}

// store makes c the current layer.
func (s *cryptoSlot) store(c mediaCrypto) { s.p.Store(&cryptoBox{c}) }

// samePeerKeys reports whether next keeps the peer's side of old: the
// same suite, parameters and keys (with their MKIs), or plain on both. A
// re-offer that does keeps our key too (RFC 4568 §7.1.4).
func samePeerKeys(old, next *sdesKeys) bool {
	if old == nil || next == nil {
		return old == nil && next == nil
	}
	if old.Suite != next.Suite || old.Params != next.Params || len(old.Remote) != len(next.Remote) {
		return false
	}
	for i := range old.Remote {
		if !bytes.Equal(old.Remote[i].Material, next.Remote[i].Material) || !bytes.Equal(old.Remote[i].MKI, next.Remote[i].MKI) {
			return false
		}
	}
	return true
}

// sameKeys reports whether next uses exactly the keys of old, both
// sides. Contexts are rebuilt only when keys change: a new context under
// an old key would restart the packet index and reuse key stream
// (RFC 3711 §9.1).
func sameKeys(old, next *sdesKeys) bool {
	if !samePeerKeys(old, next) {
		return false
	}
	return old == nil || bytes.Equal(old.Local, next.Local)
}

// setCrypto swaps the session's protection layer (a re-INVITE with new
// keys, RFC 4568 §7.1.4); packets in flight finish with the old one.
func (s *mediaSession) setCrypto(c mediaCrypto) { s.crypto.store(c) }

// encryptionLocked is what LegInfo.Encryption says of the call with
// audio keys audio: SRTP only when every active stream is encrypted, the
// audio and the video while it is on; a half-encrypted call is "none", as
// its video goes in clear. The caller holds c.mu (or owns c alone).
func (c *call) encryptionLocked(audio *sdesKeys) bridge.Encryption {
	if audio == nil || (c.video != nil && c.videoOn.Load() && c.videoKeys == nil) {
		return bridge.EncryptionNone
	}
	return bridge.EncryptionSRTPSDES
}

// renegotiationPolicy is the policy for a re-offer in c: an encrypted
// call stays encrypted, as a downgrade to plain RTP mid-call would expose
// media the participants believe protected.
func (c *call) renegotiationPolicy(current audioMedia) bridge.SRTPPolicy {
	if current.SRTP != nil {
		return bridge.SRTPRequired
	}
	// A plain call may start encrypting when a re-offer brings keys and
	// the policy allows it.
	return c.policy.Or(bridge.SRTPPreferred)
}

// applyKeys installs the protection layer for m when its keys differ
// from those in use, and records the leg's encryption, audio and video
// (the video's keys are applied first). c.mu is held.
func (c *call) applyKeys(m audioMedia) error {
	if !sameKeys(c.media.currentMedia().SRTP, m.SRTP) {
		crypto, err := cryptoFor(m.SRTP, c.media.crypto.load())
		if err != nil {
			return statusError(500, "Server Internal Error", err)
		}
		c.media.setCrypto(crypto)
		c.log.Info("sip media keys changed", "encrypted", m.SRTP != nil)
	}
	c.info.Encryption = c.encryptionLocked(m.SRTP)
	return nil
}
