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
