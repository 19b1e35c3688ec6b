package main

import (
	"context"
	"fmt"
	"net"
	"time"
)

// videoRoom is the set-up of the forwarding rows: a real bridge and SIP
// server in this process, and real SIP dialogs (sipgo) with H.264 video
// into its room: one source call whose video the harness sends from src,
// and receiver calls whose video the bridge sends to dst.
type videoRoom struct {
	tb       *testBridge
	ua       *videoUA
	src, dst *net.UDPConn
	in       *videoCall
	outs     []*videoCall
}

// startVideoRoom places the source call and receivers receiver calls, with
// SRTP (AEAD_AES_128_GCM) on every leg when srtp is set, and waits until
// all are in the room.
func startVideoRoom(ctx context.Context, srtp bool, receivers int) (r *videoRoom, err error) {
	r = &videoRoom{}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if r.tb, err = startBridge(); err != nil {
		return nil, err
	}
	if r.ua, err = newVideoUA(); err != nil {
		return nil, err
	}
	if r.src, err = listenUDP(); err != nil {
		return nil, err
	}
	if r.dst, err = listenUDP(); err != nil {
		return nil, err
	}
	if r.in, err = r.ua.call(ctx, r.tb.target(), addrOf(r.src), srtp); err != nil {
		return nil, fmt.Errorf("source call: %w", err)
	}
	for i := range receivers {
		o, err := r.ua.call(ctx, r.tb.target(), addrOf(r.dst), srtp)
		if err != nil {
			return nil, fmt.Errorf("receiver call %d: %w", i+1, err)
		}
		r.outs = append(r.outs, o)
	}
	err = waitFor(ctx, 10*time.Second+time.Duration(receivers)*100*time.Millisecond,
		fmt.Sprintf("%d calls in the room", receivers+1), func() bool { return r.tb.joined() == receivers+1 })
	return r, err
}

// Close hangs up the calls and stops the bridge; it may be called on a
// room whose set-up failed part way.
func (r *videoRoom) Close() {
	if r.ua != nil {
		for _, o := range r.outs {
			r.ua.hangup(o)
		}
		if r.in != nil {
			r.ua.hangup(r.in)
		}
		r.ua.Close()
	}
	if r.src != nil {
		r.src.Close()
	}
	if r.dst != nil {
		r.dst.Close()
	}
	if r.tb != nil {
		r.tb.Close()
	}
}
