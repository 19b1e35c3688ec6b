package sipcall

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/emiago/sipgo"
)

// byeTimeout bounds how long ending a call waits for the answer to its BYE.
const byeTimeout = 5 * time.Second

// call is one SIP dialog into a room: the dialog, its media session and
// the bridge participant. It is the bridge's Leg.
type call struct {
	srv   *Server
	log   *slog.Logger
	sess  *sipgo.DialogServerSession
	id    string // the dialog ID
	room  bridge.RoomInfo
	media *mediaSession

	part atomic.Pointer[Participant]

	mu        sync.Mutex
	info      LegInfo
	local     localMedia
	lateOffer bool // our offer (late offer, re-INVITE without SDP) awaits its answer in the ACK
	timer     sessionTimer
	expiry    *time.Timer

	endOnce sync.Once
	ended   chan struct{}
}

// participant returns the bridge participant, or nil before admission.
func (c *call) participant() Participant {
	if p := c.part.Load(); p != nil {
		return *p
	}
	return nil
}

// Info describes the call for the observer.
func (c *call) Info() LegInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info
}

// AudioCodecName is the negotiated codec, e.g. "G722/8000"; empty while a
// late offer awaits its answer.
func (c *call) AudioCodecName() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info.AudioCodec
}

// SendAudio sends one encoded 20 ms frame to the caller.
func (c *call) SendAudio(payload []byte) { c.media.send(payload) }

// Quality returns the media statistics so far.
func (c *call) Quality() bridge.Quality { return c.media.quality() }

// Hangup ends the call from the bridge's side with a BYE. It returns at
// once; the call then tells the participant it left.
func (c *call) Hangup(reason bridge.EndReason, code int) {
	c.srv.background.Go(func() { c.end(reason, code, true) })
}

// end ends the call once: it stops the session timer and the media,
// forgets the dialog, tells the participant, and with bye sends a BYE and
// waits (bounded) for its answer.
func (c *call) end(reason bridge.EndReason, code int, bye bool) {
	c.endOnce.Do(func() {
		close(c.ended)
		c.mu.Lock()
		if c.expiry != nil {
			c.expiry.Stop()
		}
		c.mu.Unlock()
		c.srv.forget(c)
		c.media.close()
		if p := c.participant(); p != nil {
			p.Leave(reason, code)
		}
		c.log.Info("sip call ended", "reason", string(reason), "code", code)
		if bye {
			ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
			defer cancel()
			if err := c.sess.Bye(ctx); err != nil {
				c.log.Debug("sip bye failed", "error", err)
			}
		}
	})
}

// isEnded reports whether end ran.
func (c *call) isEnded() bool {
	select {
	case <-c.ended:
		return true
	default:
		return false
	}
}
