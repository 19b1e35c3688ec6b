package main

import (
	"testing"

	"github.com/bifrost-video/bifrost/bridge/video"
)

func TestSIPVideoMaxIsParsed(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want video.Ceiling
		off  bool
		bad  bool
	}{
		{"", video.DefaultCeiling, false, false},
		{"720p30", video.DefaultCeiling, false, false},
		{"1080p30@4000k", video.Ceiling{Width: 1920, Height: 1080, FPS: 30, Kbps: 4000}, false, false},
		{"off", video.Ceiling{}, true, false},
		{"hd", video.Ceiling{}, false, true},
	} {
		c, off, err := SIPConfig{VideoMax: tt.in}.video()
		if (err != nil) != tt.bad || c != tt.want || off != tt.off {
			t.Errorf("video_max %q = %+v off %v err %v; want %+v off %v bad %v", tt.in, c, off, err, tt.want, tt.off, tt.bad)
		}
	}
	env := map[string]string{"BIFROST_SIP_VIDEO_MAX": "bogus"}
	if _, err := loadConfig("", func(k string) string { return env[k] }); err == nil {
		t.Error("a bad BIFROST_SIP_VIDEO_MAX passed validation")
	}
	env["BIFROST_SIP_VIDEO_MAX"] = "360p15"
	cfg, err := loadConfig("", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if sc := cfg.sipcallVideo(cfg.sipcall()); sc.VideoMax.Height != 360 || sc.DisableVideo {
		t.Errorf("sipcall config %+v; want the 360p15 ceiling", sc.VideoMax)
	}
}
