package sipcall

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/srtp/v3"
)

// srtpPeer is the far end of an SRTP leg: an rtpPeer that encrypts with
// its own key (the one it offered) and decrypts with ours (the answer's).
type srtpPeer struct {
	*rtpPeer
	enc, dec *srtp.Context
}

// newSRTPPeer negotiates suite between a peer and us: the peer's key goes
// into the returned sdesKeys as the offer's, ours is fresh.
func newSRTPPeer(t *testing.T, suite string) (*srtpPeer, *sdesKeys) {
	t.Helper()
	s, ok := suiteByName(suite)
	if !ok {
		t.Fatalf("no suite %s", suite)
	}
	theirs, err := newMasterKey(s)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := newMasterKey(s)
	if err != nil {
		t.Fatal(err)
	}
	k := &sdesKeys{Tag: 1, Suite: s, Remote: []sdesKey{{Material: theirs}}, Local: ours}
	p := &srtpPeer{rtpPeer: newRTPPeer(t)}
	p.enc, err = srtp.CreateContext(theirs[:s.KeyLen], theirs[s.KeyLen:], s.Profile)
	if err != nil {
		t.Fatal(err)
	}
	p.dec, err = srtp.CreateContext(ours[:s.KeyLen], ours[s.KeyLen:], s.Profile)
	if err != nil {
		t.Fatal(err)
	}
	return p, k
}

// sendSRTP sends one encrypted RTP packet to port.
func (p *srtpPeer) sendSRTP(port int, pt uint8, seq uint16, ts uint32, payload []byte) {
	p.t.Helper()
	b := make([]byte, 12+len(payload))
	putRTP(b, rtpHeader{PT: pt, Seq: seq, TS: ts, SSRC: p.ssrc})
	copy(b[12:], payload)
	enc, err := p.enc.EncryptRTP(nil, b, nil)
	if err != nil {
		p.t.Fatal(err)
	}
	if _, err := p.conn.WriteToUDPAddrPort(enc, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))); err != nil {
		p.t.Fatal(err)
	}
}

// readSRTP returns the next packet as it came on the wire and decrypted.
func (p *srtpPeer) readSRTP() (wire []byte, h rtpHeader, payload []byte) {
	p.t.Helper()
	buf := make([]byte, maxPacket)
	_ = p.conn.SetReadDeadline(time.Now().Add(waitTimeout))
	n, err := p.conn.Read(buf)
	if err != nil {
		p.t.Fatalf("peer got no SRTP: %v", err)
	}
	plain, err := p.dec.DecryptRTP(nil, buf[:n], nil)
	if err != nil {
		p.t.Fatalf("peer cannot decrypt what we sent: %v", err)
	}
	h, payload, err = parseRTP(plain)
	if err != nil {
		p.t.Fatalf("decrypted packet is no RTP: %v", err)
	}
	return buf[:n], h, payload
}

func TestMediaSessionSRTP(t *testing.T) {
	for _, suite := range []string{"AES_CM_128_HMAC_SHA1_80", "AES_CM_128_HMAC_SHA1_32", "AEAD_AES_128_GCM", "AEAD_AES_256_GCM"} {
		t.Run(suite, func(t *testing.T) {
			peer, keys := newSRTPPeer(t, suite)
			crypto, err := cryptoFor(keys, nil)
			if err != nil {
				t.Fatal(err)
			}
			var r recorder
			m := g722Media(peer.addr())
			m.SRTP = keys
			m.RemoteRTCP = peer.rtcpAddr()
			s := newTestSession(t, mediaConfig{Crypto: crypto, RTCPInterval: 50 * time.Millisecond}, m, &r)

			t.Run("what the peer encrypts reaches the call in the clear", func(t *testing.T) {
				peer.sendSRTP(s.localPort(), 9, 100, 0, []byte("hello"))
				waitFor(t, "the decrypted payload", func() bool { a, _, _ := r.count(); return a == 1 })
				r.mu.Lock()
				defer r.mu.Unlock()
				if string(r.payloads[0]) != "hello" {
					t.Errorf("payload = %q, want hello", r.payloads[0])
				}
			})
			t.Run("a tampered or plain packet is dropped", func(t *testing.T) {
				peer.send(s.localPort(), 9, 101, 160, []byte("plain"))
				peer.sendSRTP(s.localPort(), 9, 102, 320, []byte("after"))
				waitFor(t, "the next encrypted payload", func() bool { a, _, _ := r.count(); return a == 2 })
				r.mu.Lock()
				defer r.mu.Unlock()
				if string(r.payloads[1]) != "after" {
					t.Errorf("second payload = %q, want the encrypted one only", r.payloads[1])
				}
			})
			t.Run("what we send is encrypted with our key and decrypts at the peer", func(t *testing.T) {
				payload := bytes.Repeat([]byte("tone"), 20)
				s.send(payload)
				wire, h, got := peer.readSRTP()
				if !bytes.Equal(got, payload) || h.PT != 9 {
					t.Errorf("peer decrypted PT %d %q", h.PT, got)
				}
				if bytes.Contains(wire, payload[:8]) {
					t.Error("the payload is in the clear on the wire")
				}
			})
			t.Run("our RTCP reports are SRTCP the peer decrypts", func(t *testing.T) {
				buf := make([]byte, maxPacket)
				_ = peer.rtcp.SetReadDeadline(time.Now().Add(waitTimeout))
				n, err := peer.rtcp.Read(buf)
				if err != nil {
					t.Fatalf("no RTCP: %v", err)
				}
				plain, err := peer.dec.DecryptRTCP(nil, buf[:n], nil)
				if err != nil {
					t.Fatalf("peer cannot decrypt our RTCP: %v", err)
				}
				if _, err := rtcp.Unmarshal(plain); err != nil {
					t.Fatalf("decrypted RTCP does not parse: %v", err)
				}
			})
		})
	}
}

func TestMediaSessionRekey(t *testing.T) {
	peer, keys := newSRTPPeer(t, "AES_CM_128_HMAC_SHA1_80")
	crypto, err := cryptoFor(keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	var r recorder
	m := g722Media(peer.addr())
	m.SRTP = keys
	s := newTestSession(t, mediaConfig{Crypto: crypto}, m, &r)
	peer.sendSRTP(s.localPort(), 9, 1, 0, []byte("old"))
	waitFor(t, "audio under the first keys", func() bool { a, _, _ := r.count(); return a == 1 })

	// A re-INVITE brings new keys: the peer's and, in our answer, ours.
	peer2, keys2 := newSRTPPeer(t, "AES_CM_128_HMAC_SHA1_80")
	peer2.rtpPeer = peer.rtpPeer
	if sameKeys(keys, keys2) {
		t.Fatal("different keys compare the same")
	}
	crypto2, err := cryptoFor(keys2, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.setCrypto(crypto2)
	peer.sendSRTP(s.localPort(), 9, 2, 160, []byte("stale"))
	peer2.sendSRTP(s.localPort(), 9, 3, 320, []byte("new"))
	waitFor(t, "audio under the new keys", func() bool { a, _, _ := r.count(); return a == 2 })
	r.mu.Lock()
	got := string(r.payloads[1])
	r.mu.Unlock()
	if got != "new" {
		t.Errorf("after rekey got %q, want only the packet under the new key", got)
	}
	s.send([]byte("to the new key"))
	if _, _, p := peer2.readSRTP(); string(p) != "to the new key" {
		t.Errorf("peer decrypted %q under our new key", p)
	}
}

func TestRekeyKeepsTheSendContextUnderTheSameKey(t *testing.T) {
	_, keys := newSRTPPeer(t, "AES_CM_128_HMAC_SHA1_80")
	first, err := cryptoFor(keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The peer answers our re-offer with new parameters but we keep our
	// key: a fresh send context would reuse key stream.
	same := *keys
	same.Params.UnencryptedSRTCP = true
	second, err := cryptoFor(&same, first)
	if err != nil {
		t.Fatal(err)
	}
	if second.(*srtpCrypto).tx != first.(*srtpCrypto).tx {
		t.Error("a new send context under our unchanged key")
	}
	// A fresh key of ours gets a fresh context.
	fresh := same
	if fresh.Local, err = newMasterKey(fresh.Suite); err != nil {
		t.Fatal(err)
	}
	third, err := cryptoFor(&fresh, second)
	if err != nil {
		t.Fatal(err)
	}
	if third.(*srtpCrypto).tx == second.(*srtpCrypto).tx {
		t.Error("the send context survived a new key of ours")
	}
}
