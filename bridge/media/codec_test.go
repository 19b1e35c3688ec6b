package media

import "testing"

// TestAudioCodecString checks that a codec is named as in an a=rtpmap line
// (RFC 4566 §6), the form sipcall writes into SDP and call records: the
// channel count only when above one.
func TestAudioCodecString(t *testing.T) {
	for _, tt := range []struct {
		codec AudioCodec
		want  string
	}{
		{PCMU, "PCMU/8000"},
		{PCMA, "PCMA/8000"},
		{G722, "G722/8000"},
		{Opus, "opus/48000/2"},
		{AudioCodec{Name: "L16", ClockRate: 16000}, "L16/16000"},
		{AudioCodec{Name: "L16", ClockRate: 44100, Channels: 1}, "L16/44100"},
	} {
		if got := tt.codec.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.codec, got, tt.want)
		}
	}
}
