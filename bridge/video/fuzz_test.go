package video

import (
	"path/filepath"
	"testing"
)

// FuzzInspect feeds arbitrary RTP payloads to the H.264 depacketiser and
// keyframe detector: no input may crash them, and the parameter sets kept
// from any input must make a STAP-A that reads back as SPS and PPS.
func FuzzInspect(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "h264", "*.hex"))
	for _, name := range files {
		f.Add(payload(f, filepath.Base(name)))
	}
	if len(files) == 0 {
		f.Fatal("no seeds in testdata/h264")
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		info, err := Inspect(p)
		if err == nil && info.IDR && !info.FragmentStart {
			t.Fatalf("IDR reported for a continuation fragment: %+v", info)
		}
		var s ParamSets
		s.Observe(p)
		if s.Complete() {
			got, err := Inspect(s.AppendSTAPA(nil))
			if err != nil || !got.SPS || !got.PPS {
				t.Fatalf("STAP-A of kept parameter sets reads as %+v, %v", got, err)
			}
		}
	})
}

// FuzzH264Fmtp feeds arbitrary a=fmtp values to the H.264 parameter parser
// and the answer under the default ceiling: a supported offer's answer
// reads back as supported, with a level no higher than the ceiling's.
func FuzzH264Fmtp(f *testing.F) {
	for _, s := range []string{"profile-level-id=42e01f;packetization-mode=1", "profile-level-id=42800d;max-mbps=245000;max-fs=8160;max-br=5000",
		"profile-level-id=640028;level-asymmetry-allowed=1", "max-fps=3000;sar=13", "profile-level-id=42f00b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseH264Fmtp(s)
		if err != nil || !p.Supported() {
			return
		}
		a := p.Answer(DefaultCeiling)
		back, err := ParseH264Fmtp(a.Fmtp())
		if err != nil || !back.Supported() || levelRank(back.ProfileLevelID) > levelRank(ProfileLevelID{ProfileBaseline, 0, DefaultCeiling.level()}) {
			t.Fatalf("answer %q to %q reads back as %+v, %v", a.Fmtp(), s, back, err)
		}
	})
}
