package bridge

import "github.com/bifrost-video/bifrost/bridge/media"

// mediaMixer adapts *media.Mixer to audioMixer.
type mediaMixer struct{ m *media.Mixer }

// mediaMixer builds a conference's mixer from package media.
func (b *Bridge) mediaMixer(maxSpeakers int, onSpeaker func(ParticipantID)) audioMixer {
	return mediaMixer{media.NewMixer(media.MixerConfig{
		MaxSpeakers:     maxSpeakers,
		OnActiveSpeaker: func(id media.PortID) { onSpeaker(ParticipantID(id)) },
	})}
}

func (m mediaMixer) AddPort(id ParticipantID, codec media.AudioCodec, sink func([]byte)) (audioPort, error) {
	port, err := m.m.AddPort(media.PortID(id), codec, sink)
	if err != nil {
		return nil, err
	}
	return port, nil
}

func (m mediaMixer) Close() { m.m.Close() }

func mediaEncoder(c media.AudioCodec) (media.Encoder, error) { return media.NewEncoder(c) }
