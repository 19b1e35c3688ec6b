// Package media is a stand-in with the contract's API, so that package bridge
// builds before the media branch is merged. DELETE this file when merging
// branch media (it replaces it entirely).
package media

import (
	"errors"
	"fmt"
)

// AudioCodec is an audio codec as negotiated.
type AudioCodec struct {
	Name                string
	ClockRate, Channels int
}

// String gives "opus/48000/2", "PCMU/8000".
func (c AudioCodec) String() string {
	if c.Channels > 1 {
		return fmt.Sprintf("%s/%d/%d", c.Name, c.ClockRate, c.Channels)
	}
	return fmt.Sprintf("%s/%d", c.Name, c.ClockRate)
}

// The codecs.
var (
	Opus = AudioCodec{"opus", 48000, 2}
	G722 = AudioCodec{"G722", 8000, 1}
	PCMU = AudioCodec{"PCMU", 8000, 1}
	PCMA = AudioCodec{"PCMA", 8000, 1}
)

// FrameSamples is 20 ms at 48 kHz.
const FrameSamples = 960

// Encoder encodes 20 ms frames.
type Encoder interface {
	Encode(pcm48 []int16, dst []byte) (int, error)
}

// NewEncoder is not available in the stand-in.
func NewEncoder(c AudioCodec) (Encoder, error) { return nil, errors.New("media: stand-in") }

// PortID names a mixer port.
type PortID string

// MixerConfig configures a Mixer.
type MixerConfig struct {
	MaxSpeakers     int
	OnActiveSpeaker func(PortID)
}

// Mixer is the stand-in mixer.
type Mixer struct{}

// NewMixer returns a stand-in.
func NewMixer(cfg MixerConfig) *Mixer { return &Mixer{} }

// AddPort fails in the stand-in.
func (m *Mixer) AddPort(id PortID, codec AudioCodec, sink func(payload []byte)) (*Port, error) {
	return nil, errors.New("media: stand-in")
}

// Close does nothing.
func (m *Mixer) Close() {}

// Port is a stand-in port.
type Port struct{}

// Push does nothing.
func (p *Port) Push(seq uint16, ts uint32, payload []byte) {}

// SetMuted does nothing.
func (p *Port) SetMuted(bool) {}

// Close does nothing.
func (p *Port) Close() {}
