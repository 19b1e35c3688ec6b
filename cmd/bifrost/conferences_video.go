package main

import (
	"fmt"
	"strings"

	"github.com/bifrost-video/bifrost/bridge"
)

// videoLabel says, for the live conference page, what video a participant
// sends: its codec and picture size ("H264 1280×720"), the codec alone
// until its first sequence parameter set ("H264, no picture yet"), or
// "none".
func videoLabel(p bridge.ParticipantView) string {
	if p.VideoCodec == "" {
		return "none"
	}
	codec, _, _ := strings.Cut(p.VideoCodec, "/") // H264/90000: the clock rate says nothing here
	if p.VideoWidth == 0 || p.VideoHeight == 0 {
		return codec + ", no picture yet"
	}
	return fmt.Sprintf("%s %d×%d", codec, p.VideoWidth, p.VideoHeight)
}
