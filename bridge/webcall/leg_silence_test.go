package webcall

import (
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/media"
)

// The mix goes out without Opus DTX: libopus's speech detector takes a
// steady sound for noise and DTX then cuts it to a frame every 400 ms
// (leg.go).
func TestTheMixIsNotAskedForDTX(t *testing.T) {
	if eo, ok := any(&leg{}).(bridge.EncoderOptionser); ok && eo.EncoderOptions().OpusDTX {
		t.Error("the leg asks the mixer for Opus DTX")
	}
}

// The mixer hands a silent room's last packet on again and again; a
// browser gets every silenceRefresh-th of them, the timestamps run on
// (RFC 3550 §5.1) and the first packet after the skip is marked. Sound is
// never skipped, however small its packets.
func TestSendAudioSkipsTheMixersRepeatsOfSilence(t *testing.T) {
	track, err := webrtc.NewTrackLocalStaticRTP(opusCodec, "mix", "test")
	if err != nil {
		t.Fatal(err)
	}
	l := &leg{mix: track}
	frame := uint32(media.Opus.SamplesPerFrame())
	for i := range 30 { // sound: every packet differs
		l.SendAudio([]byte{0x78, byte(i), 1})
	}
	if got := l.sent.Load(); got != 30 {
		t.Fatalf("%d of 30 packets of sound sent; want every one", got)
	}
	silence := []byte{0x78, 0xff, 0xfe, 0x01}
	for range 1 + 4*silenceRefresh { // the first, then 80 repeats
		l.SendAudio(silence)
	}
	if got, want := l.sent.Load(), uint64(30+1+4); got != want {
		t.Errorf("%d packets sent after 80 repeats of silence; want %d (the first and one every %d)", got, want, silenceRefresh)
	}
	if l.apkt.Marker {
		t.Error("a refresh of silence is marked; want the marker only where sound resumes")
	}
	l.SendAudio([]byte{0x78, 7, 7}) // sound again
	if !l.apkt.Marker {
		t.Error("the first packet after skipped silence is not marked (RFC 3551 §4.1)")
	}
	if got, want := l.ats, frame*(30+1+4*silenceRefresh+1); got != want {
		t.Errorf("timestamp %d after %d frames; want %d: skipped frames advance it", got, 30+1+4*silenceRefresh+1, want)
	}
	if got, want := l.aseq, uint16(30+1+4+1); got != want {
		t.Errorf("sequence number %d; want %d: skipped frames do not advance it", got, want)
	}
}
