package sipcall

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"

	"github.com/bifrost-video/bifrost/bridge/video"
)

var update = flag.Bool("update", false, "rewrite the golden SDP answers under testdata/golden")

// TestGoldenAnswers answers every captured offer under the shared testdata
// (real Cisco, Poly, Yealink, baresip, Chromium…) and compares the answer
// with testdata/golden/<name>.answer; go test -run TestGoldenAnswers
// -update rewrites them. Beyond the bytes it checks what an offerer checks:
// the answer parses, keeps the m-lines in order with their media and
// proto, answers audio with one codec, answers video (H.264 only, one
// format) exactly where the offer has H.264 on its main video stream, and
// sets port 0 on everything else. An offer we refuse gets its 488
// Warning in the golden file instead.
func TestGoldenAnswers(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedTestdata, "sip", "*.s[id]p"))
	if len(files) == 0 {
		t.Skip("shared SIP fixtures not found at " + sharedTestdata)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			got := goldenAnswer(t, fixtureBody(t, path))
			golden := filepath.Join("testdata", "golden", name+".answer")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("answer differs from %s (-update rewrites it):\n got:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

// goldenAnswer negotiates offer as the server does and checks the answer.
func goldenAnswer(t *testing.T, body []byte) []byte {
	t.Helper()
	offer, err := parseSDP(body)
	if err != nil {
		return fmt.Appendf(nil, "refused: %v\n", err)
	}
	m, err := negotiateOffer(offer)
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) {
			return fmt.Appendf(nil, "refused: %d Warning %d %s\n", se.Code, se.WarnCode, se.WarnText)
		}
		return fmt.Appendf(nil, "refused: %v\n", err)
	}
	local := localMedia{Addr: netip.MustParseAddr("192.0.2.10"), Port: 40000, SessionID: 7, Version: 1}
	v, hasVideo := negotiateVideo(offer, video.DefaultCeiling)
	if hasVideo {
		local.Video = &localVideo{Media: v, Port: 40002, Ceiling: video.DefaultCeiling}
	}
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
		switch {
		case i == m.Index:
			if am.MediaName.Port.Value != local.Port || len(am.MediaName.Formats) != 1+len(m.Events) {
				t.Errorf("audio m-line %s: want port %d, the codec and %d telephone-events", am.MediaName.String(), local.Port, len(m.Events))
			}
		case hasVideo && i == v.Index:
		case am.MediaName.Port.Value != 0:
			t.Errorf("m-line %d (%s) port = %d, want 0", i, om.MediaName.Media, am.MediaName.Port.Value)
		}
	}

	offeredH264 := -1
	for i, om := range offer.MediaDescriptions {
		content, _ := om.Attribute("content")
		if om.MediaName.Media == "video" && om.MediaName.Port.Value != 0 && offeredH264 < 0 &&
			!strings.Contains(content, "slides") && hasRTPMap(om.Attributes, "H264/90000") {
			if _, ok := rtpProfile(om.MediaName.Protos); ok {
				offeredH264 = i
			}
		}
	}
	if hasVideo != (offeredH264 >= 0) || (hasVideo && v.Index != offeredH264) {
		t.Errorf("video answered on m-line %d (%v); the offer has H.264 main video on m-line %d", v.Index, hasVideo, offeredH264)
	}
	if hasVideo {
		am := ans.MediaDescriptions[v.Index]
		if len(am.MediaName.Formats) != 1 || am.MediaName.Port.Value != 40002 || !hasRTPMap(am.Attributes, "H264/90000") {
			t.Errorf("video m-line %s: want port 40002 and one H.264 format", am.MediaName.String())
		}
		if a, ok := am.Attribute("fmtp"); !ok || !strings.Contains(a, "profile-level-id=") {
			t.Errorf("video fmtp %q: want a profile-level-id", a)
		}
	}
	return raw
}

func hasRTPMap(attrs []sdpAttribute, enc string) bool {
	return slices.ContainsFunc(attrs, func(a sdpAttribute) bool {
		_, e, _ := strings.Cut(a.Value, " ")
		return a.Key == "rtpmap" && strings.EqualFold(strings.TrimSpace(e), enc)
	})
}

type sdpAttribute = sdp.Attribute
