package sipcall

import (
	"testing"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/media"
)

func TestCallConnectsAndHangsUp(t *testing.T) {
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, nil)
	ua := newTestUA(t)

	sess, res := ua.invite(s.Server, "1234", ua.defaultOffer())
	if res.StatusCode != 200 {
		t.Fatalf("INVITE = %d %s, want 200", res.StatusCode, res.Reason)
	}
	if err := sess.Ack(ua.ctx()); err != nil {
		t.Fatalf("ACK: %v", err)
	}
	remote, m := answerAddr(t, res)
	t.Run("the answer takes PCMU and telephone-event", func(t *testing.T) {
		if m.Codec != codecPCMU || len(m.Events) != 1 {
			t.Errorf("answer = %v with %d events, want PCMU and telephone-event", m.Codec, len(m.Events))
		}
		if tag, _ := res.To().Params.Get("tag"); tag == "" || res.Contact() == nil {
			t.Errorf("200 without To tag or Contact: %s", res.String())
		}
	})
	p := rooms.last()
	if p == nil {
		t.Fatal("no participant admitted")
	}
	t.Run("the caller's audio reaches the participant", func(t *testing.T) {
		ua.rtp.send(int(remote.Port()), 0, 1, 160, []byte{0xff, 0xfe})
		waitFor(t, "audio at the participant", func() bool { a, _, _, _, _ := p.state(); return a == 1 })
	})
	t.Run("the bridge's audio reaches the caller", func(t *testing.T) {
		p.leg.SendAudio([]byte{1, 2, 3})
		h, payload := ua.rtp.read()
		if h.PT != 0 || string(payload) != "\x01\x02\x03" {
			t.Errorf("caller got PT %d %v, want PCMU with our payload", h.PT, payload)
		}
	})
	t.Run("the leg describes the caller", func(t *testing.T) {
		info := p.leg.Info()
		if info.Protocol != bridge.ProtocolSIP || info.Transport != "udp" || info.UserAgent != "bifrost-test-ua" ||
			info.CallID == "" || !info.RemoteAddr.IsValid() || info.AudioCodec != "PCMU/8000" {
			t.Errorf("info = %+v", info)
		}
	})
	t.Run("BYE from the caller ends the leg as hung up", func(t *testing.T) {
		if err := sess.Bye(ua.ctx()); err != nil {
			t.Fatalf("BYE: %v", err)
		}
		waitFor(t, "the participant to leave", func() bool { _, _, left, _, _ := p.state(); return left })
		if _, _, _, reason, _ := p.state(); reason != bridge.EndHungUp {
			t.Errorf("reason = %s, want hung_up", reason)
		}
		waitFor(t, "the call to be forgotten", func() bool { return s.ActiveCalls() == 0 })
	})
	t.Run("RTP packets are counted both ways", func(t *testing.T) {
		for _, dir := range []string{"in", "out"} {
			if got := counterValue(t, s.reg, "bifrost_sip_rtp_packets_total", map[string]string{"direction": dir}); got != 1 {
				t.Errorf("rtp_packets_total{%s} = %v, want 1", dir, got)
			}
		}
	})
}

func TestCallOpusWishes(t *testing.T) {
	rooms := &fakeRooms{}
	s := startCallServer(t, rooms, nil)
	ua := newTestUA(t)
	sess, _, p := connect(t, s.Server, rooms, ua, ua.offer("m=audio $PORT RTP/AVP 96", "a=rtpmap:96 opus/48000/2", "a=fmtp:96 usedtx=1"))
	opts := p.leg.(interface{ EncoderOptions() media.EncoderOptions }).EncoderOptions()
	if !opts.OpusDTX || !opts.OpusNoFEC {
		t.Errorf("options = %+v, want DTX (usedtx=1) and no FEC (no useinbandfec)", opts)
	}
	_ = sess.Bye(ua.ctx())
}
