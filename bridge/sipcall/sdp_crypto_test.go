package sipcall

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/pion/sdp/v3"
)

// checkAnswerCrypto checks the crypto of our answered audio m-line am to
// the offered om: exactly one a=crypto line, with the tag and suite of
// the line we took, a key of the suite's length that is not the
// offerer's; none when we answer plain RTP.
func checkAnswerCrypto(t *testing.T, om, am *sdp.MediaDescription, m audioMedia) {
	t.Helper()
	var lines []string
	for _, a := range am.Attributes {
		if a.Key == "crypto" {
			lines = append(lines, a.Value)
		}
	}
	if m.SRTP == nil {
		if len(lines) != 0 {
			t.Errorf("plain answer carries a=crypto %q", lines)
		}
		return
	}
	if len(lines) != 1 {
		t.Fatalf("answer has %d a=crypto lines, want 1", len(lines))
	}
	a, err := parseCrypto(lines[0])
	if err != nil {
		t.Fatalf("our a=crypto %q does not parse: %v", lines[0], err)
	}
	suite, _, err := acceptCrypto(a)
	if err != nil {
		t.Fatalf("our a=crypto %q is not acceptable: %v", lines[0], err)
	}
	if a.Tag != m.SRTP.Tag || suite.Name != m.SRTP.Suite.Name {
		t.Errorf("answered tag %d %s, want the offer's %d %s", a.Tag, suite.Name, m.SRTP.Tag, m.SRTP.Suite.Name)
	}
	for _, k := range m.SRTP.Remote {
		if bytes.Equal(a.Keys[0].Material, k.Material) {
			t.Errorf("we answered the offerer's own key")
		}
	}
	offeredTag := false
	for _, oa := range om.Attributes {
		if oa.Key == "crypto" && strings.HasPrefix(oa.Value, lines[0][:strings.IndexByte(lines[0], ' ')+1]) {
			offeredTag = true
		}
	}
	if !offeredTag {
		t.Errorf("answered tag %d was not offered", a.Tag)
	}
}

func TestParseCrypto(t *testing.T) {
	const key80 = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz" // 30 bytes
	tests := []struct {
		name  string
		value string
		// err is the parse or accept error wanted; nil: accepted.
		err    error
		suite  string
		keys   int
		mki    []byte
		params sdesParams
	}{
		{name: "a plain AES-CM-80 line is taken", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80, suite: "AES_CM_128_HMAC_SHA1_80", keys: 1},
		{name: "AES-CM-32 with a 2^31 lifetime is taken", value: "2 AES_CM_128_HMAC_SHA1_32 inline:" + key80 + "|2^31", suite: "AES_CM_128_HMAC_SHA1_32", keys: 1},
		{name: "a decimal lifetime of 2^48 is taken", value: "2 AES_CM_128_HMAC_SHA1_32 inline:" + key80 + "|281474976710656", suite: "AES_CM_128_HMAC_SHA1_32", keys: 1},
		{name: "a lifetime we would outlive is declined", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "|2^20", err: ErrUnsupportedCrypto},
		{name: "a lifetime beyond SRTP's 2^48 is declined", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "|2^50", err: ErrUnsupportedCrypto},
		{name: "an MKI becomes its bytes", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "|2^31|258:2", suite: "AES_CM_128_HMAC_SHA1_80", keys: 1, mki: []byte{1, 2}},
		{name: "an MKI without a lifetime is taken", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "|1:4", suite: "AES_CM_128_HMAC_SHA1_80", keys: 1, mki: []byte{0, 0, 0, 1}},
		{name: "an MKI value too big for its length is malformed", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "|256:1", err: ErrBadCrypto},
		{name: "an MKI length of 0 is malformed", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "|1:0", err: ErrBadCrypto},
		{name: "two keys with MKIs are taken", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "|2^31|1:1;inline:" + key80 + "|2^31|2:1", suite: "AES_CM_128_HMAC_SHA1_80", keys: 2, mki: []byte{1}},
		{name: "two keys without MKI are malformed", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + ";inline:" + key80, err: ErrBadCrypto},
		{name: "UNENCRYPTED_SRTCP is honoured", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + "|2^48 UNENCRYPTED_SRTCP", suite: "AES_CM_128_HMAC_SHA1_80", keys: 1, params: sdesParams{UnencryptedSRTCP: true}},
		{name: "UNENCRYPTED_SRTP is honoured", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + " UNENCRYPTED_SRTP", suite: "AES_CM_128_HMAC_SHA1_80", keys: 1, params: sdesParams{UnencryptedSRTP: true}},
		{name: "a window size hint is honoured", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + " WSH=256", suite: "AES_CM_128_HMAC_SHA1_80", keys: 1, params: sdesParams{WSH: 256}},
		{name: "KDR=0 is the default and taken", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + " KDR=0", suite: "AES_CM_128_HMAC_SHA1_80", keys: 1},
		{name: "a key derivation rate is declined", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + " KDR=24", err: ErrUnsupportedCrypto},
		{name: "UNAUTHENTICATED_SRTP is declined", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + " UNAUTHENTICATED_SRTP", err: ErrUnsupportedCrypto},
		{name: "FEC_KEY is declined", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + " FEC_KEY=inline:" + key80, err: ErrUnsupportedCrypto},
		{name: "an unknown parameter is declined", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + " FOO=1", err: ErrUnsupportedCrypto},
		{name: "an unknown parameter marked optional is ignored", value: "1 AES_CM_128_HMAC_SHA1_80 inline:" + key80 + " -FOO=1", suite: "AES_CM_128_HMAC_SHA1_80", keys: 1},
		{name: "AES-GCM-128 with its 28-byte key is taken", value: "3 AEAD_AES_128_GCM inline:" + b64(28), suite: "AEAD_AES_128_GCM", keys: 1},
		{name: "AES-GCM-256 with its 44-byte key is taken", value: "4 AEAD_AES_256_GCM inline:" + b64(44), suite: "AEAD_AES_256_GCM", keys: 1},
		{name: "AES-256-CM with its 46-byte key is taken", value: "5 AES_256_CM_HMAC_SHA1_80 inline:" + b64(46), suite: "AES_256_CM_HMAC_SHA1_80", keys: 1},
		{name: "a key of the wrong length is malformed", value: "3 AEAD_AES_128_GCM inline:" + key80, err: ErrBadCrypto},
		{name: "an unknown suite is declined", value: "1 AES_192_CM_HMAC_SHA1_80 inline:" + key80, err: ErrUnsupportedCrypto},
		{name: "a key that is not base64 is malformed", value: "1 AES_CM_128_HMAC_SHA1_80 inline:!!!!", err: ErrBadCrypto},
		{name: "a method other than inline is malformed", value: "1 AES_CM_128_HMAC_SHA1_80 uri:https://x", err: ErrBadCrypto},
		{name: "a missing key is malformed", value: "1 AES_CM_128_HMAC_SHA1_80", err: ErrBadCrypto},
		{name: "a tag of ten digits is malformed", value: "1234567890 AES_CM_128_HMAC_SHA1_80 inline:" + key80, err: ErrBadCrypto},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := parseCrypto(tt.value)
			var suite cryptoSuite
			var params sdesParams
			if err == nil {
				suite, params, err = acceptCrypto(a)
			}
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if suite.Name != tt.suite || len(a.Keys) != tt.keys || !bytes.Equal(a.Keys[0].MKI, tt.mki) || params != tt.params {
				t.Errorf("got %s, %d keys, MKI %v, %+v; want %s, %d, %v, %+v", suite.Name, len(a.Keys), a.Keys[0].MKI, params,
					tt.suite, tt.keys, tt.mki, tt.params)
			}
		})
	}
}

// b64 is n bytes of key material in base64.
func b64(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return strings.TrimRight(stdB64(b), "=")
}

func TestNegotiateSRTPPolicy(t *testing.T) {
	head := "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
	const crypto = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
	plain := "m=audio 5004 RTP/AVP 0\r\n"
	savp := "m=audio 5004 RTP/SAVP 0\r\n" + crypto
	bestEffort := "m=audio 5004 RTP/AVP 0\r\n" + crypto
	tests := []struct {
		name    string
		policy  bridge.SRTPPolicy
		body    string
		encrypt bool
		err     error // a 488 wrapping it
	}{
		{"required refuses plain RTP", bridge.SRTPRequired, plain, false, ErrSRTPRequired},
		{"required takes SRTP", bridge.SRTPRequired, savp, true, nil},
		{"required takes best-effort SRTP, encrypted", bridge.SRTPRequired, bestEffort, true, nil},
		{"required refuses best-effort SRTP with no suite we know", bridge.SRTPRequired,
			"m=audio 5004 RTP/AVP 0\r\na=crypto:1 F8_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n", false, ErrSRTPRequired},
		{"preferred takes plain RTP", bridge.SRTPPreferred, plain, false, nil},
		{"preferred encrypts SRTP", bridge.SRTPPreferred, savp, true, nil},
		{"preferred encrypts best-effort SRTP", bridge.SRTPPreferred, bestEffort, true, nil},
		{"preferred answers best-effort SRTP with no suite we know in plain", bridge.SRTPPreferred,
			"m=audio 5004 RTP/AVP 0\r\na=crypto:1 F8_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n", false, nil},
		{"preferred picks the encrypted of two audio lines", bridge.SRTPPreferred, plain + savp, true, nil},
		{"off answers best-effort SRTP in plain", bridge.SRTPOff, bestEffort, false, nil},
		{"off refuses SRTP only", bridge.SRTPOff, savp, false, ErrSRTPOff},
		{"off takes the plain of two audio lines", bridge.SRTPOff, savp + plain, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd, err := parseSDP([]byte(head + tt.body))
			if err != nil {
				t.Fatal(err)
			}
			m, err := negotiateOfferWith(sd, audioPreference, tt.policy)
			if tt.err != nil {
				var se *StatusError
				if !errors.As(err, &se) || se.Code != 488 || se.WarnCode != warnIncompatibleTransport || !errors.Is(err, tt.err) {
					t.Fatalf("negotiate = %v, want 488 with Warning 302 wrapping %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (m.SRTP != nil) != tt.encrypt {
				t.Fatalf("encrypted = %v, want %v", m.SRTP != nil, tt.encrypt)
			}
			raw, err := buildAnswer(sd, m, localMedia{Addr: netip.MustParseAddr("192.0.2.10"), Port: 40000, SessionID: 1, Version: 1})
			if err != nil {
				t.Fatal(err)
			}
			ans, err := parseSDP(raw)
			if err != nil {
				t.Fatal(err)
			}
			om, am := sd.MediaDescriptions[m.Index], ans.MediaDescriptions[m.Index]
			if got, want := strings.Join(am.MediaName.Protos, "/"), strings.Join(om.MediaName.Protos, "/"); got != want {
				t.Errorf("answered profile %s, want the offer's %s", got, want)
			}
			checkAnswerCrypto(t, om, am, m)
		})
	}
}

func TestFreshKeysPerLeg(t *testing.T) {
	sd, err := parseSDP(fixtureBody(t, sharedTestdata+"/sip/baresip-1.0.0-srtp-sdes-invite.sip"))
	if err != nil {
		t.Skip(err)
	}
	a, err := negotiateOffer(sd)
	if err != nil {
		t.Fatal(err)
	}
	b, err := negotiateOffer(sd)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.SRTP.Local, b.SRTP.Local) {
		t.Fatal("two negotiations of the same offer got the same key of ours")
	}
	if s := a.SRTP.String(); strings.Contains(s, stdB64(a.SRTP.Local)[:8]) {
		t.Fatalf("String() shows key material: %s", s)
	}
}
