package media

import "testing"

// The mixer's Opus complexity applies to every port whose options leave it
// unset; a port's own setting wins.
func TestMixerOpusComplexity(t *testing.T) {
	tests := []struct {
		name      string
		cfg, port int
		want      int
	}{
		{"the default", 0, 0, DefaultMixerOpusComplexity},
		{"the mixer's setting", 7, 0, 7},
		{"the port's own setting", 7, 9, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMixer(MixerConfig{Clock: NewManualClock(), OpusComplexity: tt.cfg})
			defer m.Close()
			p, err := m.AddPortWith("p", Opus, EncoderOptions{OpusComplexity: tt.port}, func([]byte) {})
			if err != nil {
				t.Fatal(err)
			}
			if p.opts.OpusComplexity != tt.want {
				t.Errorf("complexity %d; want %d", p.opts.OpusComplexity, tt.want)
			}
		})
	}
}
