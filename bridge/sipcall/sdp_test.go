package sipcall

import (
	"bytes"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"
)

// fixtureBody returns the SDP of a captured message or SDP file under the
// shared testdata.
func fixtureBody(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".sdp") {
		return data
	}
	msg, err := sip.NewParser().ParseSIP(data)
	if err != nil {
		// Some captures lack Content-Length; take what follows the
		// header block.
		_, body, ok := bytes.Cut(data, []byte("\r\n\r\n"))
		if !ok {
			t.Fatalf("%s: %v", path, err)
		}
		return body
	}
	ct := ""
	if h := msg.(interface{ GetHeader(string) sip.Header }).GetHeader("Content-Type"); h != nil {
		ct = h.Value()
	}
	body, err := sessionBody(ct, msg.Body())
	if err != nil {
		t.Fatalf("%s: body: %v", path, err)
	}
	return body
}

func TestNegotiateRealEndpoints(t *testing.T) {
	// want is the audio codec chosen and the a=crypto tag answered (-1:
	// plain RTP), or the Warning code of the 488.
	tests := map[string]struct {
		codec string
		tag   int
		warn  int
	}{
		"aver-evc130-200ok.sip":                        {codec: "G722/8000", tag: -1},
		"aver-evc130-invite.sip":                       {codec: "G722/8000", tag: -1},
		"baresip-1.0.0-srtp-sdes-invite.sip":           {codec: "opus/48000/2", tag: 1},   // RTP/SAVP
		"chromium-156-headless-loopback-answer.sdp":    {warn: warnIncompatibleTransport}, // DTLS-SRTP
		"chromium-156-headless-simulcast-offer.sdp":    {warn: warnIncompatibleTransport},
		"cisco-e20-tenc4.1.6-200ok.sip":                {codec: "G722/8000", tag: -1},
		"cisco-jabbervideo-mcx4.3-invite-via-vcs.sip":  {codec: "PCMU/8000", tag: -1},
		"cisco-te4.1.1-invite-via-vcs-srtp-bfcp.sip":   {codec: "G722/8000", tag: 0}, // best-effort SRTP on RTP/AVP
		"generic-video-endpoint-h224.sdp":              {codec: "PCMU/8000", tag: -1},
		"huawei-viewpoint9000-200ok.sip":               {codec: "G722/8000", tag: -1},
		"huawei-viewpoint9000-invite.sip":              {codec: "G722/8000", tag: -1},
		"microsoft-lync-invite.sip":                    {codec: "G722/8000", tag: 2},   // a=cryptoscale is not a=crypto; tag 2 has an MKI
		"pexip-pexep-invite-udp-bfcp.sip":              {warn: warnIncompatibleFormat}, // AAC-LD only
		"polycom-hdx8000-2.5-200ok.sip":                {codec: "G722/8000", tag: -1},
		"polycom-hdx8000-2.5-ipv6-invite.sip":          {codec: "G722/8000", tag: -1},
		"polycom-hdx8000-bfcp-c-only.sdp":              {codec: "G722/8000", tag: -1},
		"polycom-hdx8000-bfcp-c-s.sdp":                 {codec: "G722/8000", tag: -1},
		"polycom-hdx8000-bfcp-s-only.sdp":              {codec: "G722/8000", tag: -1},
		"polycom-realpresence-group-srtp-bfcp-svc.sdp": {codec: "G722/8000", tag: 1}, // lifetime 2^31
		"sony-xg77-invite.sip":                         {codec: "G722/8000", tag: -1},
		"yealink-vc400-30.10-200ok.sip":                {codec: "G722/8000", tag: -1},
		"yealink-vc400-30.10-invite.sip":               {codec: "G722/8000", tag: -1},
	}
	files, _ := filepath.Glob(filepath.Join(sharedTestdata, "sip", "*.s[id]p"))
	if len(files) == 0 {
		t.Skip("shared SIP fixtures not found at " + sharedTestdata)
	}
	for _, path := range files {
		name := filepath.Base(path)
		want, ok := tests[name]
		if !ok {
			t.Errorf("%s has no expectation in this table: add one", name)
			continue
		}
		t.Run(name+" is answered as a user expects", func(t *testing.T) {
			offer, err := parseSDP(fixtureBody(t, path))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			m, err := negotiateOffer(offer)
			if want.warn != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.Code != 488 || se.WarnCode != want.warn {
					t.Fatalf("negotiate = %+v, %v; want 488 with Warning %d", m, err, want.warn)
				}
				return
			}
			if err != nil {
				t.Fatalf("negotiate: %v", err)
			}
			if got := m.Codec.String(); got != want.codec {
				t.Errorf("codec = %s, want %s", got, want.codec)
			}
			gotTag := -1
			if m.SRTP != nil {
				gotTag = int(m.SRTP.Tag)
			}
			if gotTag != want.tag {
				t.Errorf("crypto tag = %d, want %d (-1: plain)", gotTag, want.tag)
			}
			checkAnswer(t, offer, m)
		})
	}
}

// checkAnswer builds the answer to offer and checks it the way the
// offerer will: parseable, the same m-lines in the same order, port 0 and
// the same formats on all but the audio stream, and the chosen codec with
// every telephone-event rate on that one.
func checkAnswer(t *testing.T, offer *sdp.SessionDescription, m audioMedia) {
	t.Helper()
	local := localMedia{Addr: netip.MustParseAddr("192.0.2.10"), Port: 40000, SessionID: 7, Version: 1}
	raw, err := buildAnswer(offer, m, local)
	if err != nil {
		t.Fatalf("buildAnswer: %v", err)
	}
	ans, err := parseSDP(raw)
	if err != nil {
		t.Fatalf("our answer does not parse: %v\n%s", err, raw)
	}
	if len(ans.MediaDescriptions) != len(offer.MediaDescriptions) {
		t.Fatalf("answer has %d m-lines, offer %d:\n%s", len(ans.MediaDescriptions), len(offer.MediaDescriptions), raw)
	}
	for i, om := range offer.MediaDescriptions {
		am := ans.MediaDescriptions[i]
		if am.MediaName.Media != om.MediaName.Media || !slices.Equal(am.MediaName.Protos, om.MediaName.Protos) {
			t.Errorf("m-line %d = %s, offer %s", i, am.MediaName.String(), om.MediaName.String())
		}
		if i == m.Index {
			if am.MediaName.Port.Value != local.Port || am.MediaName.Formats[0] != strconv.Itoa(int(m.PT)) {
				t.Errorf("audio m-line = %s, want port %d and PT %d first", am.MediaName.String(), local.Port, m.PT)
			}
			if len(am.MediaName.Formats) != 1+len(m.Events) {
				t.Errorf("audio formats = %v, want the codec and %d telephone-event", am.MediaName.Formats, len(m.Events))
			}
			checkAnswerCrypto(t, om, am, m)
			continue
		}
		if am.MediaName.Port.Value != 0 {
			t.Errorf("m-line %d (%s) port = %d, want 0", i, om.MediaName.Media, am.MediaName.Port.Value)
		}
		if len(om.MediaName.Formats) > 0 && !slices.Equal(am.MediaName.Formats, om.MediaName.Formats) {
			t.Errorf("rejected m-line %d formats = %v, want the offer's %v", i, am.MediaName.Formats, om.MediaName.Formats)
		}
	}
}
