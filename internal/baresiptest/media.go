package baresiptest

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// ffmpeg runs ffmpeg quietly with args, failing the test on error.
func ffmpeg(t testing.TB, args ...string) {
	t.Helper()
	bin := Need(t, "ffmpeg", "ffmpeg")
	if out, err := exec.Command(bin, append([]string{"-loglevel", "error", "-y"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// ToneWAV writes dir/tone<hz>.wav, a 48 kHz mono sine at hz, secs long,
// and returns its path.
func ToneWAV(t testing.TB, dir string, hz, secs int) string {
	t.Helper()
	out := filepath.Join(dir, fmt.Sprintf("tone%d.wav", hz))
	ffmpeg(t, "-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=%d:sample_rate=48000", hz), "-t", strconv.Itoa(secs), "-ac", "1", out)
	return out
}

// ExprWAV writes path, a 48 kHz mono WAV secs long of the ffmpeg aevalsrc
// expression expr ("0" is silence; "'lt(t,20)*0.4*sin(2*PI*700*t)'" a tone
// for the first 20 s).
func ExprWAV(t testing.TB, path, expr string, secs int) string {
	t.Helper()
	ffmpeg(t, "-f", "lavfi", "-i", fmt.Sprintf("aevalsrc=%s:s=48000:d=%d", expr, secs), "-ac", "1", path)
	return path
}

// ColourClip writes path, an MJPEG AVI of one solid colour (an ffmpeg
// colour name), 320x240 at 15 frames/s, secs long, for baresip's avformat
// video source.
func ColourClip(t testing.TB, path, colour string, secs int) string {
	t.Helper()
	ffmpeg(t, "-f", "lavfi", "-i", "color=c="+colour+":size=320x240:rate=15", "-t", strconv.Itoa(secs),
		"-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p", path)
	return path
}
