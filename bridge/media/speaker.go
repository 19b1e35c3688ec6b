package media

import "math"

func mathFloat64bits(f float64) uint64 { return math.Float64bits(f) }

// openRoomThreshold (dBov) is the speech threshold of a room with a place
// in the mix for every unmuted port: below a quiet microphone's noise, above
// digital silence and a DTX pause (which keep a silent room's encoder
// resting).
const openRoomThreshold = -80.0

// selectSpeakers updates which ports are mixed. A port qualifies when it is
// unmuted, present and its fast-attack level is above the speech threshold.
// A speaker that stops qualifying keeps its place for speakerHangoverTicks
// (pauses between words do not drop it); free places go to the loudest
// qualifying ports; when all places are taken a newcomer replaces the weakest
// speaker only if it is louder by speakerSwapMargin dB.
//
// A room of at most MaxSpeakers unmuted ports has a place for everyone, so
// there the threshold is openRoomThreshold instead: a browser's echo
// canceller turns its user down by 20 dB and more while the far end talks
// (double talk), which at the speech threshold would drop a speaking user
// out of a two- or three-party call altogether. Mixer goroutine only.
func (m *Mixer) selectSpeakers() {
	th := m.cfg.SpeechThreshold
	open := 0
	for _, p := range m.snap {
		if !p.gone && !p.muted.Load() {
			open++
		}
	}
	if open <= m.cfg.MaxSpeakers {
		th = min(th, openRoomThreshold)
	}
	count := 0
	for _, p := range m.snap {
		if !p.speaker {
			continue
		}
		switch {
		case p.gone || p.muted.Load():
			p.speaker = false
		case p.env >= th:
			p.hangover = speakerHangoverTicks
		default:
			p.hangover--
			if p.hangover <= 0 {
				p.speaker = false
			}
		}
		if p.speaker {
			count++
		}
	}
	for count < m.cfg.MaxSpeakers {
		c := m.loudestCandidate(th)
		if c == nil {
			break
		}
		c.speaker = true
		c.hangover = speakerHangoverTicks
		count++
	}
	if count >= m.cfg.MaxSpeakers {
		if c := m.loudestCandidate(th); c != nil {
			var weakest *Port
			for _, p := range m.snap {
				if p.speaker && (weakest == nil || p.env < weakest.env) {
					weakest = p
				}
			}
			if weakest != nil && c.env > weakest.env+speakerSwapMargin {
				weakest.speaker = false
				c.speaker = true
				c.hangover = speakerHangoverTicks
			}
		}
	}
	for _, p := range m.snap {
		p.spk.Store(p.speaker)
	}
}

func (m *Mixer) loudestCandidate(th float64) *Port {
	var best *Port
	for _, p := range m.snap {
		if p.speaker || p.gone || p.muted.Load() || p.env < th {
			continue
		}
		if best == nil || p.env > best.env {
			best = p
		}
	}
	return best
}

// updateActive tracks the dominant speaker: the first port to speak becomes
// it; another port takes over only after its ~300 ms average level has led
// the current one's for activeLeadTicks consecutive ticks (1 s). A silent
// dominant speaker stays dominant until someone else speaks, so video does
// not switch to nobody. Mixer goroutine only.
func (m *Mixer) updateActive() {
	th := m.cfg.SpeechThreshold
	var best *Port
	for _, p := range m.snap {
		if p.gone || p.muted.Load() || p == m.active || p.smooth < th {
			continue
		}
		if best == nil || p.smooth > best.smooth {
			best = p
		}
	}
	if m.active == nil || m.active.muted.Load() {
		if best != nil && best != m.active {
			m.setActive(best)
		}
		return
	}
	if best == nil || best.smooth <= m.active.smooth {
		m.challenger, m.challenge = nil, 0
		return
	}
	if best != m.challenger {
		m.challenger, m.challenge = best, 0
	}
	m.challenge++
	if m.challenge >= activeLeadTicks {
		m.setActive(best)
	}
}

func (m *Mixer) setActive(p *Port) {
	m.active = p
	m.challenger, m.challenge = nil, 0
	m.notify = p.id
	m.notified = true
}
