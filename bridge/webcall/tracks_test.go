package webcall

import (
	"context"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/bifrost-video/bifrost/bridge"
)

// legOf returns the leg of the browser whose participant ID is id.
func (r *rig) legOf(t *testing.T, id string) *leg {
	t.Helper()
	var found *leg
	eventually(t, 5*time.Second, "the session of "+id, func() bool {
		r.srv.mu.Lock()
		defer r.srv.mu.Unlock()
		for _, m := range r.srv.byConf {
			for se := range m {
				if string(se.part.ID()) == id { // set before track: safe under mu
					found = se.leg
					return true
				}
			}
		}
		return false
	})
	return found
}

// feed plays the video router: it hands l packets of source's video until
// ctx ends.
func feed(ctx context.Context, l *leg, source string) {
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 1234}, Payload: []byte{0x65, 0x88, 0x84, 0x00}}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		pkt.SequenceNumber++
		pkt.Timestamp += 900
		l.SendVideo(bridge.ParticipantID(source), &pkt)
	}
}

// TestVideoTracksFollowJoinsAndLeaves: a source's first packet gives the
// browser a track of its own (stream ID = the source's participant ID); the
// source's departure removes it; all by renegotiation on the same
// PeerConnection, never a reconnect.
func TestVideoTracksFollowJoinsAndLeaves(t *testing.T) {
	r := newRig(t, Config{MaxTiles: 1}, testRoom)
	a, b, c := dial(t, r, "1234"), dial(t, r, "1234"), dial(t, r, "1234")
	a.join("Ada", "", 440)
	b.join("Brian", "", 660)
	la := r.legOf(t, a.id)
	eventually(t, 10*time.Second, "Ada connected", func() bool { return a.pc.ConnectionState() == webrtc.PeerConnectionStateConnected })

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go feed(ctx, la, b.id)
	eventually(t, 10*time.Second, "Ada to receive Brian's video on a track of its own", func() bool {
		_, _, _, streams, _ := a.snapshot()
		return streams[b.id] > 10
	})

	c.join("Cleo", "", 880)
	go feed(ctx, la, c.id)
	// The cap is one tile: Cleo's video waits until she speaks or Brian goes.
	time.Sleep(300 * time.Millisecond) // give a wrong track time to appear
	if _, _, _, streams, _ := a.snapshot(); streams[c.id] != 0 {
		t.Fatalf("Ada receives Cleo's video over the cap of one tile: %v", streams)
	}
	b.send(map[string]any{"type": "leave"})
	eventually(t, 10*time.Second, "Ada to get Cleo's video in Brian's place", func() bool {
		_, _, _, streams, _ := a.snapshot()
		return streams[c.id] > 10
	})
	if n := len(*la.outs.Load()); n != 1 {
		t.Errorf("Ada's leg has %d video tracks, want 1", n)
	}
	c.send(map[string]any{"type": "leave"})
	eventually(t, 10*time.Second, "Cleo's track removed", func() bool { return len(*la.outs.Load()) == 0 })
	eventually(t, 10*time.Second, "Ada to answer 4 offers (initial, Brian's track, Cleo for Brian, Cleo gone)", func() bool {
		_, _, offers, _, _ := a.snapshot()
		return offers >= 4
	})
	_, _, _, _, states := a.snapshot()
	for _, s := range states {
		if s != webrtc.PeerConnectionStateConnecting && s != webrtc.PeerConnectionStateConnected {
			t.Errorf("Ada's connection went %s: renegotiation must not reconnect", s)
		}
	}
}

// TestPoorDownlinkLosesTiles: when a browser's REMB says its link carries
// one tile's bitrate, it keeps one tile (the most recent speaker's); when
// the link recovers, the others come back.
func TestPoorDownlinkLosesTiles(t *testing.T) {
	r := newRig(t, Config{MaxTiles: 3, TileBitrate: 500_000}, testRoom)
	a, b, c := dial(t, r, "1234"), dial(t, r, "1234"), dial(t, r, "1234")
	a.join("Ada", "", 440)
	b.join("Brian", "", 660)
	c.join("Cleo", "", 880)
	la := r.legOf(t, a.id)
	eventually(t, 15*time.Second, "Ada to get both others' video", func() bool { return len(*la.outs.Load()) == 2 })
	la.remb.Store(600_000) // room for one tile of 500 kbit/s
	eventually(t, 10*time.Second, "Ada down to one tile", func() bool { return len(*la.outs.Load()) == 1 })
	la.remb.Store(3_000_000)
	eventually(t, 10*time.Second, "Ada back to two tiles", func() bool { return len(*la.outs.Load()) == 2 })
}
