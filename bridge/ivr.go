package bridge

import (
	"context"
	"time"

	"github.com/bifrost-video/bifrost/bridge/media"
	"github.com/bifrost-video/bifrost/bridge/prompts"
)

// lobby takes a participant from admission to the mix: the PIN IVR when the
// room has a PIN, the wait for a host when guests must wait for one. It runs on
// its own goroutine and ends when the participant joins the mix, is hung up or
// leaves.
func (p *Participant) lobby(pl *player, plErr error) {
	c := p.conf
	defer c.b.wg.Done()
	defer close(p.lobbyDone)
	ctx := p.lobbyCtx

	c.mu.Lock()
	room := c.room
	c.mu.Unlock()

	if room.HostPIN == "" && room.GuestPIN == "" {
		// No PIN: everyone is a host (so nobody waits for one).
		c.decideRole(p, RoleHost)
		c.join(p)
		return
	}
	if plErr != nil {
		p.log.Error("cannot play the PIN prompt", "codec", p.codec.String(), "err", plErr)
		c.hangup(p, EndError, 488)
		return
	}
	defer pl.stop()

	role, ok := p.enterPIN(ctx, pl, room)
	if !ok {
		return
	}
	c.decideRole(p, role)
	if !pl.play(ctx, prompts.Joining) {
		return
	}
	if role == RoleGuest && room.GuestsWaitForHost && !p.waitForHost(ctx, pl) {
		return
	}
	c.join(p)
}

// entryEnd says how a PIN entry ended.
type entryEnd int

const (
	entryHash      entryEnd = iota // # pressed
	entryPause                     // digits, then no more for PINDigitTimeout
	entryNothing                   // no digit for PINDigitTimeout after the prompt
	entryExpired                   // the overall PIN timeout passed
	entryCancelled                 // the participant left
)

// enterPIN runs the PIN IVR (prompt, digits, # to finish, PINAttempts tries)
// and returns the role the PIN gives. On failure it has asked the leg to hang
// up (EndRejected 403 after the last wrong PIN, EndTimeout 408 when entry took
// too long) and returns false. PINs and entered digits are never logged.
func (p *Participant) enterPIN(ctx context.Context, pl *player, room RoomInfo) (Role, bool) {
	cfg := p.conf.b.cfg
	prompt := prompts.EnterPIN
	if room.GuestPIN == "" {
		prompt = prompts.EnterHostPIN
	}
	deadline := p.conf.b.clock.Now().Add(cfg.PINTimeout)
	for attempt := 1; attempt <= cfg.PINAttempts; attempt++ {
		entered, end := p.collectPIN(ctx, pl, prompt, deadline)
		switch end {
		case entryCancelled:
			return "", false
		case entryExpired:
			p.log.Info("PIN entry timed out", "attempt", attempt)
			p.conf.hangup(p, EndTimeout, 408)
			return "", false
		}
		if role, ok := checkPIN(room, entered, end == entryHash); ok {
			p.log.Info("PIN accepted", "attempt", attempt, "role", string(role))
			return role, true
		}
		p.conf.b.metrics.pinFailures.Inc()
		p.log.Info("PIN wrong", "attempt", attempt, "of", cfg.PINAttempts, "nothing_entered", end == entryNothing)
		if attempt < cfg.PINAttempts && !pl.play(ctx, prompts.WrongPIN) {
			return "", false
		}
	}
	if pl.play(ctx, prompts.Goodbye) {
		p.conf.hangup(p, EndRejected, 403)
	}
	return "", false
}

// collectPIN plays prompt and collects digits until #, a pause after digits, no
// digit at all, or the overall deadline. A digit stops the prompt (barge-in).
func (p *Participant) collectPIN(ctx context.Context, pl *player, prompt prompts.Name, deadline time.Time) (string, entryEnd) {
	pcm, _ := prompts.PCM48(prompt) // embedded: cannot fail (tested)
	digitTimeout := p.conf.b.cfg.PINDigitTimeout
	var entry [maxPINDigits + 1]byte
	n := 0
	pos := 0
	var last time.Time // when the prompt ended or the last digit came
	for {
		now, ok := pl.tick(ctx)
		if !ok {
			return "", entryCancelled
		}
		if !now.Before(deadline) {
			return "", entryExpired
		}
	digits:
		for {
			select {
			case d := <-p.digits:
				pos = len(pcm) // barge-in
				last = now
				if d == '#' {
					return string(entry[:n]), entryHash
				}
				if n < len(entry) {
					entry[n] = byte(d)
					n++
				}
			default:
				break digits
			}
		}
		if pos < len(pcm) {
			pl.send(pcm[pos : pos+prompts.FrameSamples])
			pos += prompts.FrameSamples
			if pos >= len(pcm) {
				last = now
			}
			continue
		}
		pl.send(nil)
		if now.Sub(last) >= digitTimeout {
			if n > 0 {
				return string(entry[:n]), entryPause
			}
			return "", entryNothing
		}
	}
}

// waitForHost plays the "waiting for the host" prompt, then silence for
// WaitPromptInterval, over again, until a host joins the mix. It returns false
// if the participant left first.
func (p *Participant) waitForHost(ctx context.Context, pl *player) bool {
	present, joined := p.conf.hostPresent()
	if present {
		return true
	}
	p.log.Info("waiting for the host")
	pcm, _ := prompts.PCM48(prompts.WaitForHost)
	silence := int(p.conf.b.cfg.WaitPromptInterval / (20 * time.Millisecond))
	for {
		for i := 0; i < len(pcm)/prompts.FrameSamples+silence; i++ {
			select {
			case <-joined:
				return true
			default:
			}
			if _, ok := pl.tick(ctx); !ok {
				return false
			}
			p.drainDigits()
			if off := i * prompts.FrameSamples; off < len(pcm) {
				pl.send(pcm[off : off+prompts.FrameSamples])
			} else {
				pl.send(nil)
			}
		}
	}
}

func (p *Participant) drainDigits() {
	for {
		select {
		case <-p.digits:
		default:
			return
		}
	}
}

// player paces prompts to the leg: one encoded 20 ms frame per tick, through
// an encoder of the leg's codec, silence when there is nothing to say.
type player struct {
	enc     media.Encoder
	ticker  Ticker
	leg     Leg
	buf     []byte
	silence []int16
}

func newPlayer(b *Bridge, p *Participant) (*player, error) {
	enc, err := b.newEncoder(p.codec)
	if err != nil {
		return nil, err
	}
	return &player{
		enc:     enc,
		ticker:  b.clock.NewTicker(20 * time.Millisecond),
		leg:     p.leg,
		buf:     make([]byte, media.MaxPayload),
		silence: make([]int16, prompts.FrameSamples),
	}, nil
}

// tick waits for the next 20 ms tick; false when ctx ends first.
func (pl *player) tick(ctx context.Context) (time.Time, bool) {
	select {
	case <-ctx.Done():
		return time.Time{}, false
	case now := <-pl.ticker.C():
		return now, true
	}
}

// send encodes one frame (nil: silence) and sends it to the leg.
func (pl *player) send(pcm []int16) {
	if pcm == nil {
		pcm = pl.silence
	}
	n, err := pl.enc.Encode(pcm, pl.buf)
	if err != nil || n == 0 {
		return
	}
	pl.leg.SendAudio(pl.buf[:n])
}

// play plays a whole prompt, ignoring digits; false if ctx ended first.
func (pl *player) play(ctx context.Context, name prompts.Name) bool {
	pcm, _ := prompts.PCM48(name)
	for off := 0; off < len(pcm); off += prompts.FrameSamples {
		if _, ok := pl.tick(ctx); !ok {
			return false
		}
		pl.send(pcm[off : off+prompts.FrameSamples])
	}
	return true
}

func (pl *player) stop() {
	pl.ticker.Stop()
	_ = pl.enc.Close()
}
