package video

import (
	"errors"
	"testing"
)

func TestResolutionReadsRealSPSFromX264(t *testing.T) {
	for _, tt := range []struct {
		file string
		w, h int
	}{
		{"sps-high-320x240.hex", 320, 240},
		{"sps-high-1920x1080-cropped.hex", 1920, 1080},
		{"sps-baseline-640x360.hex", 640, 360},
	} {
		w, h, err := Resolution(payload(t, tt.file))
		if err != nil || w != tt.w || h != tt.h {
			t.Errorf("%s: %dx%d, %v; want %dx%d", tt.file, w, h, err, tt.w, tt.h)
		}
	}
	for _, bad := range [][]byte{nil, {0x67}, {0x68, 1, 2, 3}, {0x67, 0x42, 0, 0x1f}} {
		if _, _, err := Resolution(bad); !errors.Is(err, ErrBadSPS) {
			t.Errorf("Resolution(%x) = %v; want ErrBadSPS", bad, err)
		}
	}
}
