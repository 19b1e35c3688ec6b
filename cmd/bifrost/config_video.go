package main

import (
	"fmt"
	"strings"

	"github.com/bifrost-video/bifrost/bridge/sipcall"
	"github.com/bifrost-video/bifrost/bridge/video"
)

// video returns the ceiling of sip.video_max, and whether video is off.
// sip.video_max is the most video any endpoint may send, declared in every
// answer so that all endpoints of a room decode each other without
// transcoding: "720p30" (the default, at 1.5 Mbit/s), "1080p30@4000k";
// "off" answers video with port 0.
func (s SIPConfig) video() (video.Ceiling, bool, error) {
	switch v := strings.TrimSpace(s.VideoMax); v {
	case "":
		return video.DefaultCeiling, false, nil
	case "off":
		return video.Ceiling{}, true, nil
	default:
		c, err := video.ParseCeiling(v)
		if err != nil {
			return video.Ceiling{}, false, fmt.Errorf("sip.video_max: %w", err)
		}
		return c, false, nil
	}
}

// sipcallVideo sets the video fields of sc from sip.video_max (validated
// by then).
func (c Config) sipcallVideo(sc sipcall.Config) sipcall.Config {
	sc.VideoMax, sc.DisableVideo, _ = c.SIP.video()
	return sc
}
