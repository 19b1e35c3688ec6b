package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// annexB is frames of the synthetic stream as an H.264 Annex B byte
// stream (start codes, ITU-T H.264 §B.1), the first a keyframe.
func annexB(frames int) []byte {
	bs := sharedBitstream()
	sc := []byte{0, 0, 0, 1}
	var out []byte
	var sei [40]byte
	var start [64]byte
	for f := range frames {
		key := f == 0
		tag := frameTag{Source: 1, Frame: uint32(f), Keyframe: key}
		size := pFrameBytes
		if key {
			out = append(append(out, sc...), bs.sps...)
			out = append(append(out, sc...), bs.pps...)
			out = append(append(out, sc...), sei[:putSEI(sei[:], tag)]...)
			size = idrFrameBytes
		}
		n := putSliceStart(start[:], key, uint32(f), 0, tag)
		out = append(append(out, sc...), start[:n]...)
		out = append(out, bs.filler[:size-n]...)
	}
	return out
}

// TestVideoBitstreamReadsAsH264InFFprobe has FFmpeg's parser read the
// synthetic stream: its parameter sets and slice headers must say what
// the SDP offers (Constrained Baseline, level 3.1) at 1280×720. The
// slice data is filler, which the decoder rightly refuses; nobody
// decodes it.
func TestVideoBitstreamReadsAsH264InFFprobe(t *testing.T) {
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ffprobe not on PATH; install the Debian package ffmpeg (make deps)")
		}
		t.Skip("ffprobe not on PATH; install the Debian package ffmpeg")
	}
	name := filepath.Join(t.TempDir(), "synthetic.h264")
	if err := os.WriteFile(name, annexB(10), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ffprobe, "-v", "quiet", "-f", "h264", "-show_entries",
		"stream=codec_name,profile,level,width,height", "-of", "compact", name).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	want := "stream|codec_name=h264|profile=Constrained Baseline|width=1280|height=720|level=31"
	if got := strings.TrimSpace(string(out)); got != want {
		t.Errorf("ffprobe reads the stream as %q; want %q", got, want)
	}
}
