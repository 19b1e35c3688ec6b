package bridge

import "github.com/bifrost-video/bifrost/bridge/media"

// audioMixer is what a conference needs of its audio mixer: mixer_media.go
// adapts *media.Mixer to it, and the unit tests give a fake.
type audioMixer interface {
	// AddPort adds a participant to the mix: the mixer calls sink every 20 ms
	// with the participant's encoded mix of the others.
	// opts are the peer's wishes for what it receives (Opus DTX, FEC).
	AddPort(id ParticipantID, codec media.AudioCodec, opts media.EncoderOptions, sink func(payload []byte)) (audioPort, error)
	// Close stops the mixer and waits for its goroutine.
	Close()
}

// audioPort is one participant's place in the mix.
type audioPort interface {
	// Push hands in one received RTP payload; the port copies what it keeps.
	Push(seq uint16, ts uint32, payload []byte)
	SetMuted(muted bool)
	Close()
}

// mixerFactory builds a conference's mixer; onSpeaker is called with the new
// active speaker and must not block.
type mixerFactory func(maxSpeakers int, onSpeaker func(ParticipantID)) audioMixer

// encoderFactory builds the encoder the IVR plays prompts through.
type encoderFactory func(media.AudioCodec) (media.Encoder, error)
