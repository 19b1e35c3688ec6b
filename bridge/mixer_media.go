package bridge

import (
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
)

// mediaMixer adapts *media.Mixer to audioMixer.
type mediaMixer struct{ m *media.Mixer }

// mediaMixer builds a conference's mixer from package media, paced by the
// bridge's clock.
func (b *Bridge) mediaMixer(maxSpeakers int, onSpeaker func(ParticipantID)) audioMixer {
	return mediaMixer{media.NewMixer(media.MixerConfig{
		MaxSpeakers:     maxSpeakers,
		Clock:           mediaClock{b.clock},
		Logger:          b.log.With("component", "mixer"),
		OnActiveSpeaker: func(id media.PortID) { onSpeaker(ParticipantID(id)) },
	})}
}

func (m mediaMixer) AddPort(id ParticipantID, codec media.AudioCodec, opts media.EncoderOptions, sink func([]byte)) (audioPort, error) {
	port, err := m.m.AddPortWith(media.PortID(id), codec, opts, sink)
	if err != nil {
		return nil, err
	}
	return port, nil
}

func (m mediaMixer) Close() { m.m.Close() }

// Stats returns the mixer's counters (metrics_mixer.go).
func (m mediaMixer) Stats() media.MixerStats { return m.m.Stats() }

// mediaClock gives the mixer the bridge's clock.
type mediaClock struct{ c Clock }

func (m mediaClock) NewTicker(d time.Duration) media.Ticker { return m.c.NewTicker(d) }

func mediaEncoder(c media.AudioCodec) (media.Encoder, error) { return media.NewEncoder(c) }
