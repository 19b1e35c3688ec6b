package sipcall

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"

	"github.com/bifrost-video/bifrost/bridge"
)

// videoLines are the lines of an H.264 video m-line on the peer's port
// with rtcp-mux (so that our SRTCP comes back to the same socket), proto
// profile and the extra lines (a=crypto) given.
func videoLines(p *rtpPeer, profile string, extra ...string) []string {
	return append([]string{
		"m=video " + itoa(int(p.addr().Port())) + " " + profile + " 96", "a=rtpmap:96 H264/90000",
		"a=fmtp:96 profile-level-id=42e01f;packetization-mode=1", "a=rtcp-fb:96 nack pli", "a=rtcp-mux",
	}, extra...)
}

// answerKeys returns, per m-line of an SDP answer, the key of its a=crypto
// line, nil for none, and each m-line's port.
func answerKeys(t *testing.T, body []byte) (keys [][]byte, ports []int) {
	t.Helper()
	sd, err := parseSDP(body)
	if err != nil {
		t.Fatalf("answer: %v\n%s", err, body)
	}
	for _, md := range sd.MediaDescriptions {
		var key []byte
		for _, a := range md.Attributes {
			if a.Key != "crypto" {
				continue
			}
			ca, err := parseCrypto(a.Value)
			if err != nil {
				t.Fatalf("our a=crypto %q: %v", a.Value, err)
			}
			if key != nil {
				t.Errorf("m-line %s answers two crypto lines", md.MediaName.String())
			}
			key = ca.Keys[0].Material
		}
		keys = append(keys, key)
		ports = append(ports, md.MediaName.Port.Value)
	}
	return keys, ports
}

// decryptFor is the context that decrypts what we send under key.
func decryptFor(t *testing.T, key []byte) *srtp.Context {
	t.Helper()
	c, err := srtp.CreateContext(key[:16], key[16:], srtp.ProtectionProfileAes128CmHmacSha1_80)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sendVideoSRTP sends one H.264 packet encrypted under enc (plain when nil)
// from p to the bridge's video port.
func sendVideoSRTP(t *testing.T, p *rtpPeer, enc *srtp.Context, port int, seq uint16, payload []byte) {
	t.Helper()
	b := make([]byte, 12+len(payload))
	putRTP(b, rtpHeader{PT: 96, Seq: seq, TS: uint32(seq) * 3000, SSRC: p.ssrc})
	copy(b[12:], payload)
	if enc != nil {
		var err error
		if b, err = enc.EncryptRTP(nil, b, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.conn.WriteToUDPAddrPort(b, localhost(port)); err != nil {
		t.Fatal(err)
	}
}

// readVideo reads from p the next datagram for which keep is true.
func readVideo(t *testing.T, p *rtpPeer, keep func([]byte) bool) []byte {
	t.Helper()
	buf := make([]byte, 2048)
	deadline := time.Now().Add(waitTimeout)
	for {
		_ = p.conn.SetReadDeadline(deadline)
		n, err := p.conn.Read(buf)
		if err != nil {
			t.Fatalf("nothing more from the bridge's video: %v", err)
		}
		if keep(buf[:n]) {
			return append([]byte(nil), buf[:n]...)
		}
	}
}

// idr is an H.264 IDR slice (NAL type 5) as a single NAL unit packet,
// long enough that its bytes would show in clear.
var idr = append([]byte{0x65}, bytes.Repeat([]byte("keyframe "), 8)...)

// TestVideoSRTPBothWays: an RTP/SAVP offer with H.264 video gets crypto on
// both m-lines, each with a key of its own, and the video flows encrypted
// both ways: the endpoint's SRTP reaches the bridge (its plain RTP does
// not), the bridge's stream and its keyframe requests (SRTCP) decrypt
// under the key of our video m-line and carry no clear bytes.
func TestVideoSRTPBothWays(t *testing.T) {
	rooms := &videoRooms{}
	s := startCallServer(t, rooms, nil)
	ua := newTestUA(t)
	audioKey, videoKey := newSDESCaller(t), newSDESCaller(t)
	vp := newRTPPeer(t)
	offer := ua.offer(append([]string{"m=audio $PORT RTP/SAVP 0", audioKey.cryptoLine("1")},
		videoLines(vp, "RTP/SAVP", videoKey.cryptoLine("1"))...)...)
	sess, res := ua.invite(s.Server, "1234", offer)
	if res.StatusCode != 200 {
		t.Fatalf("INVITE = %d; want 200", res.StatusCode)
	}
	_ = sess.Ack(ua.ctx())
	waitFor(t, "the participant", func() bool { rooms.mu.Lock(); defer rooms.mu.Unlock(); return len(rooms.parts) == 1 })
	p := rooms.last()
	leg := p.leg.(*call)

	keys, ports := answerKeys(t, res.Body())
	if len(keys) != 2 || keys[0] == nil || keys[1] == nil || ports[1] == 0 {
		t.Fatalf("answer does not take audio and video with crypto on both:\n%s", res.Body())
	}
	if bytes.Equal(keys[0], keys[1]) || bytes.Equal(keys[1], videoKey.key) || bytes.Equal(keys[1], audioKey.key) {
		t.Error("our video key is not a key of its own")
	}
	if !strings.Contains(string(res.Body()), "m=video "+itoa(ports[1])+" RTP/SAVP 96") {
		t.Errorf("video is not answered RTP/SAVP:\n%s", res.Body())
	}
	if got := leg.Info().Encryption; got != bridge.EncryptionSRTPSDES {
		t.Errorf("Encryption = %q, want %q", got, bridge.EncryptionSRTPSDES)
	}
	if leg.VideoMode() != bridge.VideoSwitched {
		t.Fatalf("video mode %v; want switched", leg.VideoMode())
	}

	t.Run("the endpoint's SRTP video reaches the bridge, plain RTP does not", func(t *testing.T) {
		sendVideoSRTP(t, vp, nil, ports[1], 1, idr)
		sendVideoSRTP(t, vp, videoKey.enc, ports[1], 2, idr)
		waitFor(t, "the decrypted keyframe", func() bool { return p.keyframesReceived() >= 1 })
		if n, _ := p.counts(); n != 1 {
			t.Errorf("%d packets reached the bridge; want the encrypted one only", n)
		}
	})
	dec := decryptFor(t, keys[1])
	t.Run("the bridge's video is SRTP under our video key", func(t *testing.T) {
		leg.SendVideo("", &rtp.Packet{Header: rtp.Header{Marker: true, SequenceNumber: 7, Timestamp: 9000}, Payload: idr})
		wire := readVideo(t, vp, func(b []byte) bool { return !isRTCP(b) })
		if bytes.Contains(wire, idr[1:20]) {
			t.Error("the video went out in clear")
		}
		plain, err := dec.DecryptRTP(nil, wire, nil)
		if err != nil {
			t.Fatalf("cannot decrypt the bridge's video under our video key: %v", err)
		}
		h, payload, _ := parseRTP(plain)
		if h.PT != 96 || h.Seq != 7 || !bytes.Equal(payload, idr) {
			t.Errorf("decrypted PT %d seq %d payload %q", h.PT, h.Seq, payload)
		}
	})
	t.Run("our keyframe request is SRTCP", func(t *testing.T) {
		leg.RequestKeyframe()
		var pli *rtcp.PictureLossIndication
		readVideo(t, vp, func(b []byte) bool {
			if !isRTCP(b) {
				return false
			}
			plain, err := dec.DecryptRTCP(nil, b, nil)
			if err != nil {
				t.Fatalf("cannot decrypt the bridge's RTCP: %v", err)
			}
			pkts, err := rtcp.Unmarshal(plain)
			if err != nil {
				t.Fatalf("decrypted RTCP: %v", err)
			}
			for _, pkt := range pkts {
				if p, ok := pkt.(*rtcp.PictureLossIndication); ok {
					pli = p
				}
			}
			return pli != nil
		})
		if pli.MediaSSRC != vp.ssrc {
			t.Errorf("PLI for SSRC %x; want the endpoint's %x", pli.MediaSSRC, vp.ssrc)
		}
	})

	reinvite := func(t *testing.T, body []byte) *sip.Response {
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
	t.Run("a re-INVITE with new video keys rekeys the video only", func(t *testing.T) {
		next := newSDESCaller(t)
		r := reinvite(t, ua.offer(append([]string{"m=audio $PORT RTP/SAVP 0", audioKey.cryptoLine("1")},
			videoLines(vp, "RTP/SAVP", next.cryptoLine("1"))...)...))
		if r.StatusCode != 200 {
			t.Fatalf("re-INVITE = %d", r.StatusCode)
		}
		k, _ := answerKeys(t, r.Body())
		if !bytes.Equal(k[0], keys[0]) {
			t.Error("our audio key changed although the caller's did not")
		}
		if k[1] == nil || bytes.Equal(k[1], keys[1]) {
			t.Fatal("our video key stayed although the caller rekeyed its video")
		}
		before, _ := p.counts()
		sendVideoSRTP(t, vp, next.enc, ports[1], 3, idr)
		waitFor(t, "video under the new keys", func() bool { n, _ := p.counts(); return n > before })
		leg.SendVideo("", &rtp.Packet{Header: rtp.Header{SequenceNumber: 8, Timestamp: 12000}, Payload: idr})
		wire := readVideo(t, vp, func(b []byte) bool { return !isRTCP(b) })
		if _, err := decryptFor(t, k[1]).DecryptRTP(nil, wire, nil); err != nil {
			t.Errorf("cannot decrypt our video under our new key: %v", err)
		}
	})
	t.Run("a re-INVITE with plain video turns video off: no downgrade", func(t *testing.T) {
		r := reinvite(t, ua.offer(append([]string{"m=audio $PORT RTP/SAVP 0", audioKey.cryptoLine("1")},
			videoLines(vp, "RTP/AVP")...)...))
		if r.StatusCode != 200 {
			t.Fatalf("re-INVITE = %d", r.StatusCode)
		}
		if _, ports := answerKeys(t, r.Body()); ports[1] != 0 {
			t.Errorf("plain video was taken in an encrypted call:\n%s", r.Body())
		}
		if leg.VideoMode() != bridge.VideoNone || leg.Info().Encryption != bridge.EncryptionSRTPSDES {
			t.Errorf("video %v, encryption %q; want none and srtp-sdes (the audio, the only stream left)", leg.VideoMode(), leg.Info().Encryption)
		}
	})
}

// TestVideoSRTPMixedOffers: the video is encrypted whenever the audio is,
// and LegInfo.Encryption says srtp-sdes only when every stream taken is.
func TestVideoSRTPMixedOffers(t *testing.T) {
	audioKey, videoKey := newSDESCaller(t), newSDESCaller(t)
	for _, tt := range []struct {
		name         string
		policy       bridge.SRTPPolicy
		audio        []string
		video        func(vp *rtpPeer) []string
		audioCrypto  bool
		videoTaken   bool
		videoCrypto  bool
		wantEncrypts bridge.Encryption
	}{
		{"Cisco's best effort on both: both encrypted", bridge.SRTPPreferred,
			[]string{"m=audio $PORT RTP/AVP 0", audioKey.cryptoLine("1")},
			func(vp *rtpPeer) []string { return videoLines(vp, "RTP/AVP", videoKey.cryptoLine("1")) },
			true, true, true, bridge.EncryptionSRTPSDES},
		{"SRTP audio, plain video: the video is declined", bridge.SRTPPreferred,
			[]string{"m=audio $PORT RTP/SAVP 0", audioKey.cryptoLine("1")},
			func(vp *rtpPeer) []string { return videoLines(vp, "RTP/AVP") },
			true, false, false, bridge.EncryptionSRTPSDES},
		{"plain audio, best-effort video: half encrypted is none", bridge.SRTPPreferred,
			[]string{"m=audio $PORT RTP/AVP 0"},
			func(vp *rtpPeer) []string { return videoLines(vp, "RTP/AVP", videoKey.cryptoLine("1")) },
			false, true, true, bridge.EncryptionNone},
		{"SRTP off: SAVP video declined, best-effort audio plain", bridge.SRTPOff,
			[]string{"m=audio $PORT RTP/AVP 0", audioKey.cryptoLine("1")},
			func(vp *rtpPeer) []string { return videoLines(vp, "RTP/SAVP", videoKey.cryptoLine("1")) },
			false, false, false, bridge.EncryptionNone},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rooms := &videoRooms{}
			s := startCallServer(t, rooms, func(c *Config) { c.SRTP = tt.policy })
			ua := newTestUA(t)
			vp := newRTPPeer(t)
			sess, res := ua.invite(s.Server, "1234", ua.offer(append(tt.audio, tt.video(vp)...)...))
			if res.StatusCode != 200 {
				t.Fatalf("INVITE = %d; want 200", res.StatusCode)
			}
			_ = sess.Ack(ua.ctx())
			waitFor(t, "the participant", func() bool { rooms.mu.Lock(); defer rooms.mu.Unlock(); return len(rooms.parts) == 1 })
			leg := rooms.last().leg.(*call)
			keys, ports := answerKeys(t, res.Body())
			if (keys[0] != nil) != tt.audioCrypto || (ports[1] != 0) != tt.videoTaken || (keys[1] != nil) != tt.videoCrypto {
				t.Errorf("audio crypto %v, video taken %v with crypto %v; want %v, %v, %v:\n%s",
					keys[0] != nil, ports[1] != 0, keys[1] != nil, tt.audioCrypto, tt.videoTaken, tt.videoCrypto, res.Body())
			}
			if got := leg.Info().Encryption; got != tt.wantEncrypts {
				t.Errorf("Encryption = %q, want %q", got, tt.wantEncrypts)
			}
		})
	}
}

// TestLateOfferVideoSRTP: our late offer keys the video as the audio, with
// keys of its own; the answer's video must be keyed as we offered while
// its audio is encrypted, or the video is turned off.
func TestLateOfferVideoSRTP(t *testing.T) {
	for _, tt := range []struct {
		name      string
		videoKey  bool // the answer's video takes our tag 2 (AES_CM_128_HMAC_SHA1_80)
		audioKey  bool
		wantVideo bridge.VideoMode
		wantEnc   bridge.Encryption
	}{
		{"an answer keying both is encrypted with video", true, true, bridge.VideoSwitched, bridge.EncryptionSRTPSDES},
		{"plain video next to SRTP audio turns video off", false, true, bridge.VideoNone, bridge.EncryptionSRTPSDES},
		{"plain audio next to SRTP video is not encrypted", true, false, bridge.VideoSwitched, bridge.EncryptionNone},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rooms := &videoRooms{}
			s := startCallServer(t, rooms, nil)
			ua := newTestUA(t)
			vp := newRTPPeer(t)
			sess, res := ua.invite(s.Server, "1234", nil)
			if res.StatusCode != 200 {
				t.Fatalf("INVITE without SDP = %d", res.StatusCode)
			}
			ours := ourOfferKeys(t, res.Body())
			if len(ours) != 6 {
				t.Fatalf("our offer has %d crypto lines; want three on audio and three on video:\n%s", len(ours), res.Body())
			}
			for i := range ours {
				for j := range i {
					if bytes.Equal(ours[i], ours[j]) {
						t.Errorf("crypto lines %d and %d of our offer share a key", j, i)
					}
				}
			}
			if !strings.Contains(string(res.Body()), "m=video ") || strings.Count(string(res.Body()), " RTP/AVP ") != 2 {
				t.Errorf("our offer is not best-effort SRTP on audio and video:\n%s", res.Body())
			}
			audio := []string{"m=audio $PORT RTP/AVP 0"}
			if tt.audioKey {
				audio = append(audio, newSDESCaller(t).cryptoLine("2"))
			}
			var video []string
			if tt.videoKey {
				video = videoLines(vp, "RTP/AVP", newSDESCaller(t).cryptoLine("2"))
			} else {
				video = videoLines(vp, "RTP/AVP")
			}
			ackWith(t, ua, sess, res, ua.offer(append(audio, video...)...))
			waitFor(t, "admission after the ACK", func() bool { rooms.mu.Lock(); defer rooms.mu.Unlock(); return len(rooms.parts) == 1 })
			leg := rooms.last().leg.(*call)
			if leg.VideoMode() != tt.wantVideo || leg.Info().Encryption != tt.wantEnc {
				t.Errorf("video %v, encryption %q; want %v, %q", leg.VideoMode(), leg.Info().Encryption, tt.wantVideo, tt.wantEnc)
			}
		})
	}
}

// ourOfferKeys returns the keys of every a=crypto line of our offer.
func ourOfferKeys(t *testing.T, body []byte) [][]byte {
	t.Helper()
	var keys [][]byte
	for _, line := range strings.Split(string(body), "\r\n") {
		v, ok := strings.CutPrefix(line, "a=crypto:")
		if !ok {
			continue
		}
		ca, err := parseCrypto(v)
		if err != nil {
			t.Fatalf("our a=crypto %q: %v", v, err)
		}
		keys = append(keys, ca.Keys[0].Material)
	}
	return keys
}

// ackWith sends the ACK carrying answer, the answer to our late offer.
func ackWith(t *testing.T, ua *testUA, sess *sipgo.DialogClientSession, res *sip.Response, answer []byte) {
	t.Helper()
	ack := sip.NewRequest(sip.ACK, res.Contact().Address)
	ack.SetBody(answer)
	ack.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	if err := sess.WriteAck(ua.ctx(), ack); err != nil {
		t.Fatal(err)
	}
}
