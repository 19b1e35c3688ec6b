package sipcall

import (
	"bytes"
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/srtp/v3"
)

// policyRooms is fakeRooms whose room has an SRTP policy of its own.
type policyRooms struct {
	*fakeRooms
	policy bridge.SRTPPolicy
}

func (r policyRooms) Resolve(ctx context.Context, alias string) (bridge.RoomInfo, error) {
	room, err := r.fakeRooms.Resolve(ctx, alias)
	room.SRTP = r.policy
	return room, err
}

// sdesCaller is the caller's side of SDES: its key, and the contexts for
// its media once our answer gave ours.
type sdesCaller struct {
	key      []byte
	enc, dec *srtp.Context
}

func newSDESCaller(t *testing.T) *sdesCaller {
	t.Helper()
	s, _ := suiteByName("AES_CM_128_HMAC_SHA1_80")
	key, err := newMasterKey(s)
	if err != nil {
		t.Fatal(err)
	}
	c := &sdesCaller{key: key}
	if c.enc, err = srtp.CreateContext(key[:16], key[16:], s.Profile); err != nil {
		t.Fatal(err)
	}
	return c
}

// cryptoLine is the caller's a=crypto line.
func (c *sdesCaller) cryptoLine(tag string) string {
	return "a=crypto:" + tag + " AES_CM_128_HMAC_SHA1_80 inline:" + stdB64(c.key) + "|2^31"
}

// takeAnswer reads our key from an answer and keys the caller's
// decryption with it; it returns our key.
func (c *sdesCaller) takeAnswer(t *testing.T, body []byte) []byte {
	t.Helper()
	sd, err := parseSDP(body)
	if err != nil {
		t.Fatal(err)
	}
	for _, md := range sd.MediaDescriptions {
		for _, a := range md.Attributes {
			if a.Key != "crypto" {
				continue
			}
			ca, err := parseCrypto(a.Value)
			if err != nil {
				t.Fatalf("our a=crypto %q: %v", a.Value, err)
			}
			k := ca.Keys[0].Material
			if c.dec, err = srtp.CreateContext(k[:16], k[16:], srtp.ProtectionProfileAes128CmHmacSha1_80); err != nil {
				t.Fatal(err)
			}
			return k
		}
	}
	t.Fatalf("answer without a=crypto:\n%s", body)
	return nil
}

func (c *sdesCaller) send(t *testing.T, ua *testUA, to netip.AddrPort, seq uint16, payload []byte) {
	t.Helper()
	b := make([]byte, 12+len(payload))
	putRTP(b, rtpHeader{PT: 0, Seq: seq, TS: uint32(seq) * 160, SSRC: ua.rtp.ssrc})
	copy(b[12:], payload)
	enc, err := c.enc.EncryptRTP(nil, b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ua.rtp.conn.WriteToUDPAddrPort(enc, to); err != nil {
		t.Fatal(err)
	}
}

func (c *sdesCaller) read(t *testing.T, ua *testUA) []byte {
	t.Helper()
	buf := make([]byte, maxPacket)
	_ = ua.rtp.conn.SetReadDeadline(time.Now().Add(waitTimeout))
	n, err := ua.rtp.conn.Read(buf)
	if err != nil {
		t.Fatalf("no SRTP from the bridge: %v", err)
	}
	plain, err := c.dec.DecryptRTP(nil, buf[:n], nil)
	if err != nil {
		t.Fatalf("cannot decrypt the bridge's SRTP: %v", err)
	}
	_, payload, _ := parseRTP(plain)
	return payload
}

func TestCallSRTP(t *testing.T) {
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, nil)
	ua := newTestUA(t)
	caller := newSDESCaller(t)
	sess, res, p := connect(t, s.Server, rooms, ua,
		ua.offer("m=audio $PORT RTP/SAVP 0 101", "a=rtpmap:101 telephone-event/8000", caller.cryptoLine("1")))
	ours := caller.takeAnswer(t, res.Body())
	bridgeRTP, _ := answerAddr(t, res)
	leg := p.leg.(*call)

	t.Run("the answer is RTP/SAVP with our own key under the offer's tag", func(t *testing.T) {
		body := string(res.Body())
		if !strings.Contains(body, "m=audio ") || !strings.Contains(body, " RTP/SAVP 0 101") || !strings.Contains(body, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:") {
			t.Errorf("answer:\n%s", body)
		}
		if bytes.Equal(ours, caller.key) {
			t.Error("we answered with the caller's key")
		}
	})
	t.Run("the leg reports SRTP to the observer", func(t *testing.T) {
		if got := leg.Info().Encryption; got != bridge.EncryptionSRTPSDES {
			t.Errorf("Encryption = %q, want %q", got, bridge.EncryptionSRTPSDES)
		}
	})
	t.Run("media flows both ways, encrypted", func(t *testing.T) {
		caller.send(t, ua, bridgeRTP, 1, []byte("hello"))
		waitFor(t, "the caller's decrypted audio", func() bool { a, _, _, _, _ := p.state(); return a >= 1 })
		leg.SendAudio([]byte("welcome"))
		if got := caller.read(t, ua); string(got) != "welcome" {
			t.Errorf("caller decrypted %q", got)
		}
	})

	do := func(t *testing.T, body []byte) *sip.Response {
		t.Helper()
		req := sip.NewRequest(sip.INVITE, res.Contact().Address)
		req.SetBody(body)
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		r, err := sess.Do(ua.ctx(), req)
		if err != nil {
			t.Fatalf("re-INVITE: %v", err)
		}
		if r.StatusCode == 200 {
			_ = sess.WriteAck(ua.ctx(), newAckFor(sess, r))
		}
		return r
	}
	t.Run("a re-INVITE with the same crypto keeps our key", func(t *testing.T) {
		r := do(t, ua.offer("m=audio $PORT RTP/SAVP 0 101", "a=rtpmap:101 telephone-event/8000", caller.cryptoLine("1"), "a=sendrecv"))
		if r.StatusCode != 200 {
			t.Fatalf("re-INVITE = %d", r.StatusCode)
		}
		if k := caller.takeAnswer(t, r.Body()); !bytes.Equal(k, ours) {
			t.Error("our key changed although the caller's did not")
		}
	})
	t.Run("a re-INVITE with new keys rekeys both directions", func(t *testing.T) {
		next := newSDESCaller(t)
		r := do(t, ua.offer("m=audio $PORT RTP/SAVP 0 101", "a=rtpmap:101 telephone-event/8000", next.cryptoLine("2")))
		if r.StatusCode != 200 {
			t.Fatalf("re-INVITE = %d", r.StatusCode)
		}
		k := next.takeAnswer(t, r.Body())
		if bytes.Equal(k, ours) {
			t.Fatal("our key stayed although the caller rekeyed")
		}
		before, _, _, _, _ := p.state()
		next.send(t, ua, bridgeRTP, 2, []byte("rekeyed"))
		waitFor(t, "audio under the new keys", func() bool { a, _, _, _, _ := p.state(); return a > before })
		leg.SendAudio([]byte("again"))
		if got := next.read(t, ua); string(got) != "again" {
			t.Errorf("caller decrypted %q under our new key", got)
		}
	})
	t.Run("a re-INVITE to plain RTP is refused: no downgrade mid-call", func(t *testing.T) {
		r := do(t, ua.offer("m=audio $PORT RTP/AVP 0 101", "a=rtpmap:101 telephone-event/8000"))
		if r.StatusCode != 488 {
			t.Fatalf("re-INVITE = %d, want 488", r.StatusCode)
		}
		if got := leg.Info().Encryption; got != bridge.EncryptionSRTPSDES {
			t.Errorf("Encryption after the refused downgrade = %q", got)
		}
	})
	t.Run("no key reaches the log, even at debug level", func(t *testing.T) {
		log := s.log.String()
		for _, k := range [][]byte{caller.key, ours} {
			if enc := stdB64(k); strings.Contains(log, enc[:20]) {
				t.Errorf("the log holds key material %s...", enc[:20])
			}
		}
		if strings.Contains(log, "inline:") {
			t.Error("the log holds an a=crypto key parameter")
		}
	})
}

func TestCallSRTPPolicy(t *testing.T) {
	caller := newSDESCaller(t)
	tests := []struct {
		name    string
		system  bridge.SRTPPolicy
		room    bridge.SRTPPolicy
		offer   func(ua *testUA) []byte
		want    int
		warning string
		enc     bridge.Encryption
	}{
		{"the system requiring SRTP refuses a plain offer with 488 and a Warning", bridge.SRTPRequired, "",
			func(ua *testUA) []byte { return ua.defaultOffer() }, 488, `Warning: 302 video.example "SRTP required"`, ""},
		{"a room requiring SRTP refuses a plain offer under a preferring system", bridge.SRTPPreferred, bridge.SRTPRequired,
			func(ua *testUA) []byte { return ua.defaultOffer() }, 488, `Warning: 302 video.example "SRTP required"`, ""},
		{"a room requiring SRTP takes Cisco's best-effort SRTP, encrypted", "", bridge.SRTPRequired,
			func(ua *testUA) []byte { return ua.offer("m=audio $PORT RTP/AVP 0", caller.cryptoLine("0")) }, 200, "", bridge.EncryptionSRTPSDES},
		{"a room with SRTP off answers best-effort SRTP in plain", bridge.SRTPRequired, bridge.SRTPOff,
			func(ua *testUA) []byte { return ua.offer("m=audio $PORT RTP/AVP 0", caller.cryptoLine("0")) }, 200, "", bridge.EncryptionNone},
		{"a room with SRTP off refuses an SRTP-only offer", "", bridge.SRTPOff,
			func(ua *testUA) []byte { return ua.offer("m=audio $PORT RTP/SAVP 0", caller.cryptoLine("1")) }, 488, "Warning: 302", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rooms := &fakeRooms{}
			s := startCallServer(t, policyRooms{rooms, tt.room}, func(c *Config) { c.SRTP = tt.system })
			ua := newTestUA(t)
			sess, res := ua.invite(s.Server, "1234", tt.offer(ua))
			if res.StatusCode != tt.want {
				t.Fatalf("INVITE = %d %s, want %d", res.StatusCode, res.Reason, tt.want)
			}
			if !strings.Contains(res.String(), tt.warning) {
				t.Errorf("response lacks %q:\n%s", tt.warning, res.String())
			}
			if tt.want != 200 {
				return
			}
			_ = sess.Ack(ua.ctx())
			waitFor(t, "the participant", func() bool { return rooms.last() != nil })
			if got := rooms.last().leg.(*call).Info().Encryption; got != tt.enc {
				t.Errorf("Encryption = %q, want %q", got, tt.enc)
			}
			if tt.enc == bridge.EncryptionNone && strings.Contains(string(res.Body()), "a=crypto") {
				t.Errorf("a plain answer carries a=crypto:\n%s", res.Body())
			}
			_ = sess.Bye(ua.ctx())
		})
	}
}

func TestCallLateOfferSRTP(t *testing.T) {
	tests := []struct {
		name    string
		policy  bridge.SRTPPolicy
		profile string // of our offer
		answer  func(ua *testUA, c *sdesCaller) []byte
		enc     bridge.Encryption
		bye     bool // the answer is refused: BYE
	}{
		{"preferred offers best-effort SRTP; an answer taking tag 2 encrypts", bridge.SRTPPreferred, "RTP/AVP",
			func(ua *testUA, c *sdesCaller) []byte { return ua.offer("m=audio $PORT RTP/AVP 0", c.cryptoLine("2")) },
			bridge.EncryptionSRTPSDES, false},
		{"preferred offers best-effort SRTP; a plain answer stays plain", bridge.SRTPPreferred, "RTP/AVP",
			func(ua *testUA, c *sdesCaller) []byte { return ua.offer("m=audio $PORT RTP/AVP 0") },
			bridge.EncryptionNone, false},
		{"required offers RTP/SAVP; a plain answer is hung up", bridge.SRTPRequired, "RTP/SAVP",
			func(ua *testUA, c *sdesCaller) []byte { return ua.offer("m=audio $PORT RTP/SAVP 0") },
			"", true},
		{"an answer with a tag we did not offer is hung up", bridge.SRTPPreferred, "RTP/AVP",
			func(ua *testUA, c *sdesCaller) []byte { return ua.offer("m=audio $PORT RTP/AVP 0", c.cryptoLine("7")) },
			"", true},
		{"off offers plain RTP", bridge.SRTPOff, "RTP/AVP",
			func(ua *testUA, c *sdesCaller) []byte { return ua.offer("m=audio $PORT RTP/AVP 0") },
			bridge.EncryptionNone, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rooms := &fakeRooms{}
			s := startCallServer(t, rooms, func(c *Config) { c.SRTP = tt.policy })
			ua := newTestUA(t)
			caller := newSDESCaller(t)
			sess, res := ua.invite(s.Server, "1234", nil)
			if res.StatusCode != 200 {
				t.Fatalf("INVITE without SDP = %d", res.StatusCode)
			}
			body := string(res.Body())
			if !strings.Contains(body, " "+tt.profile+" ") {
				t.Errorf("our offer is not on %s:\n%s", tt.profile, body)
			}
			if crypto := strings.Contains(body, "a=crypto:1 AEAD_AES_128_GCM inline:") && strings.Contains(body, "a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:") &&
				strings.Contains(body, "a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:"); crypto == (tt.policy == bridge.SRTPOff) {
				t.Errorf("our offer's crypto lines (policy %s):\n%s", tt.policy, body)
			}
			ack := sip.NewRequest(sip.ACK, res.Contact().Address)
			ack.SetBody(tt.answer(ua, caller))
			ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			if err := sess.WriteAck(ua.ctx(), ack); err != nil {
				t.Fatal(err)
			}
			if tt.bye {
				select {
				case <-ua.byes:
				case <-time.After(waitTimeout):
					t.Fatal("no BYE for an unusable answer")
				}
				waitFor(t, "the refused call to be gone", func() bool { return s.ActiveCalls() == 0 })
				return
			}
			waitFor(t, "admission after the ACK", func() bool { return rooms.last() != nil })
			leg := rooms.last().leg.(*call)
			if got := leg.Info().Encryption; got != tt.enc {
				t.Fatalf("Encryption = %q, want %q", got, tt.enc)
			}
			if tt.enc == bridge.EncryptionSRTPSDES {
				// Our key is the one offered under tag 2.
				sd, _ := parseSDP(res.Body())
				for _, a := range sd.MediaDescriptions[0].Attributes {
					if a.Key == "crypto" && strings.HasPrefix(a.Value, "2 ") {
						ca, _ := parseCrypto(a.Value)
						k := ca.Keys[0].Material
						caller.dec, _ = srtp.CreateContext(k[:16], k[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
					}
				}
				leg.SendAudio([]byte("secret"))
				if got := caller.read(t, ua); string(got) != "secret" {
					t.Errorf("caller decrypted %q", got)
				}
			}
			_ = sess.Bye(ua.ctx())
		})
	}
}
