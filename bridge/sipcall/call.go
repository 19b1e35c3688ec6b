package sipcall

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bifrost-video/bifrost/bridge"
	"github.com/bifrost-video/bifrost/bridge/media"
	"github.com/emiago/sipgo"
)

// byeTimeout bounds how long ending a call waits for the answer to its BYE.
const byeTimeout = 5 * time.Second

// call is one SIP dialog into a room: the dialog, its media session and
// the bridge participant. It is the bridge's Leg.
var _ bridge.Leg = (*call)(nil)

// call is one SIP dialog into a room: the dialog, its media session and
// the bridge participant.
type call struct {
	srv   *Server
	log   *slog.Logger
	sess  *sipgo.DialogServerSession
	id    string // the dialog ID
	room  bridge.RoomInfo
	media *mediaSession
	video *videoSession // nil without H.264 video (video_leg.go)
	// videoOn is false once a renegotiation refused the video.
	videoOn atomic.Bool

	part atomic.Pointer[Participant]

	mu   sync.Mutex
	info bridge.LegInfo
	// endReason and endCode are what end was called with, for a
	// participant admitted after end already ran; both are set by end
	// under mu, with ended closed, and part is stored under mu, so one of
	// the two always sees the other (see setParticipant).
	endReason bridge.EndReason
	endCode   int
	// sent200 records that the 200 was handed to the transaction, so a BYE
	// may follow (sipgo drops it if a CANCEL won: a BYE then gets 481); it is
	// written before answered is closed and read after.
	sent200   bool
	local     localMedia
	lateOffer bool // our offer (late offer, re-INVITE without SDP) awaits its answer in the ACK
	timer     sessionTimer
	expiry    *time.Timer
	// reackCh is closed by the ACK of the re-INVITE 2xx being
	// retransmitted, nil when none is.
	reackCh chan struct{}

	endOnce sync.Once
	ended   chan struct{}
	// answered is closed when the INVITE's final response is settled: the
	// 200 acknowledged, or the transaction over. A BYE waits for it
	// (RFC 3261 §15: no BYE before the ACK), and so does anything reading
	// the dialog's response.
	answered chan struct{}
}

// participant returns the bridge participant, or nil before admission.
func (c *call) participant() Participant {
	if p := c.part.Load(); p != nil {
		return *p
	}
	return nil
}

// Info describes the call for the observer.
func (c *call) Info() bridge.LegInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.info
}

// AudioCodec is the negotiated codec; the zero value while a late offer
// awaits its answer (the leg is admitted only after it).
func (c *call) AudioCodec() media.AudioCodec {
	return c.media.currentMedia().Codec
}

// SendAudio sends one encoded 20 ms frame to the caller.
func (c *call) SendAudio(payload []byte) { c.media.send(payload) }

// EncoderOptions are the peer's wishes for the Opus it receives from us
// (RFC 7587 §6.1: usedtx, useinbandfec), for the bridge to honour where
// it encodes for this leg alone. It is not part of bridge.Leg; the bridge
// may look for it with a type assertion.
func (c *call) EncoderOptions() media.EncoderOptions {
	m := c.media.currentMedia()
	if m.Codec != codecOpus {
		return media.EncoderOptions{}
	}
	return media.EncoderOptions{OpusDTX: m.OpusDTX, OpusNoFEC: !m.OpusFEC}
}

// Quality returns the media statistics so far.
func (c *call) Quality() bridge.Quality { return c.media.quality() }

// Hangup ends the call from the bridge's side with a BYE. It returns at
// once; the call then tells the participant it left.
func (c *call) Hangup(reason bridge.EndReason, code int) {
	c.srv.background.Go(func() { c.end(reason, code, true) })
}

// end ends the call once: it stops the session timer and the media,
// tells the participant, with bye sends a BYE (once the 200 is
// acknowledged, RFC 3261 §15) and waits (bounded) for its answer, and
// forgets the dialog last, so a late ACK still finds it.
func (c *call) end(reason bridge.EndReason, code int, bye bool) {
	c.endOnce.Do(func() {
		c.mu.Lock()
		close(c.ended)
		c.endReason, c.endCode = reason, code
		if c.expiry != nil {
			c.expiry.Stop()
		}
		p := c.participant()
		c.mu.Unlock()
		c.media.close()
		c.closeVideo()
		if p != nil {
			p.Leave(reason, code)
		}
		c.log.Info("sip call ended", "reason", string(reason), "code", code)
		// No BYE for a call whose INVITE got a final error response instead
		// of the 200 (RFC 3261 §15: BYE ends a dialog the 2xx established).
		if bye && c.awaitAnswered() && c.sent200 {
			ctx, cancel := context.WithTimeout(context.Background(), byeTimeout)
			defer cancel()
			if err := c.sess.Bye(ctx); err != nil {
				c.log.Debug("sip bye failed", "error", err)
			}
		}
		c.srv.forget(c)
	})
}

// setParticipant stores the participant the bridge admitted c as. If end
// already ran (the bridge hung up before Admit returned, or the caller did),
// end found no participant to tell: setParticipant tells it instead, with
// end's reason, and reports false.
func (c *call) setParticipant(p Participant) bool {
	c.mu.Lock()
	c.part.Store(&p)
	ended := c.isEnded()
	reason, code := c.endReason, c.endCode
	c.mu.Unlock()
	if ended {
		p.Leave(reason, code)
		return false
	}
	return true
}

// awaitAnswered waits until the INVITE's final response is settled and
// reports whether it was; a server shutting down does not wait for ACKs
// that may never come (closing the transactions ends the INVITE).
func (c *call) awaitAnswered() bool {
	select {
	case <-c.answered:
		return true
	case <-c.srv.closing:
		select {
		case <-c.answered:
			return true
		default:
			return false
		}
	}
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
