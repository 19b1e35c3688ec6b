package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// sipLoad is one run of `bifrost-load sip`: a SIP user agent shared by
// every call, the shared pacer, and the calls.
type sipLoad struct {
	cfg     sipConfig
	log     *slog.Logger
	localIP netip.Addr
	start   time.Time

	ua      *sipgo.UserAgent
	sipConn net.PacketConn
	served  bool // the user agent serves sipConn and closes it
	dialogs *sipgo.DialogClientCache
	pacer   *pacer
	loop    *audioLoop
	video   *videoRun // nil without --video
	// switchLog is the --switch-log file, closed after the pacer.
	switchLog *os.File

	mu        sync.Mutex // guards calls, which the launcher appends to
	calls     []*call
	byeErrors atomic.Uint64
	byCallID  sync.Map // Call-ID → *stream, for in-dialog INFO
	closeOnce sync.Once
}

// runSIP places the calls of cfg, prints progress to stderr every
// cfg.Progress, and returns the calls' results once every call has ended.
func runSIP(ctx context.Context, cfg sipConfig, stderr io.Writer, log *slog.Logger) (*report, error) {
	l, err := newSIPLoad(cfg, log)
	if err != nil {
		return nil, err
	}
	defer l.close()
	return l.run(ctx, stderr), nil
}

// newSIPLoad checks cfg, encodes the audio loop and starts the user agent
// and the pacer; close releases them.
func newSIPLoad(cfg sipConfig, log *slog.Logger) (*sipLoad, error) {
	if err := checkVideo(cfg.Video); err != nil {
		return nil, err
	}
	l := &sipLoad{cfg: cfg, log: log, start: time.Now()}
	if err := l.open(); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

// run places the calls at the configured rate and waits for them all.
func (l *sipLoad) run(ctx context.Context, stderr io.Writer) *report {
	var wg sync.WaitGroup
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go printProgress(stderr, l.cfg.Progress, l.progressLine, stopProgress, progressDone)

	atRate(ctx, l.cfg.Callers, l.cfg.Rate, func(i int) {
		c := &call{id: i + 1}
		l.mu.Lock()
		l.calls = append(l.calls, c)
		l.mu.Unlock()
		wg.Go(func() {
			c.res = l.runCall(ctx, c)
			if c.res.Err != nil {
				c.setState(stateFailed)
			} else {
				c.setState(stateDone)
			}
		})
	})
	wg.Wait()
	close(stopProgress)
	<-progressDone
	return newReport(l.snapshot(), l.pacer.late.Load(), l.byeErrors.Load(), time.Since(l.start))
}

// open encodes the audio loop and starts the user agent and the pacer.
func (l *sipLoad) open() error {
	loop, err := newAudioLoop(l.cfg.Codec)
	if err != nil {
		return err
	}
	l.loop = loop
	if l.cfg.Video != "" {
		var talk *talkSchedule
		if l.cfg.TalkTurn > 0 {
			if talk, err = newTalkSchedule(l.cfg.Codec, l.start, l.cfg.TalkTurn, l.cfg.Callers); err != nil {
				return err
			}
		}
		var log io.Writer
		if l.cfg.SwitchLog != "" {
			if l.switchLog, err = os.Create(l.cfg.SwitchLog); err != nil {
				return fmt.Errorf("--switch-log: %w", err)
			}
			log = l.switchLog
		}
		l.video = newVideoRun(l.start, l.cfg.Callers, talk, log)
	}
	l.localIP = l.cfg.LocalIP
	if !l.localIP.IsValid() {
		if l.localIP, err = routeTo(l.cfg.Target); err != nil {
			return err
		}
	}
	l.ua, err = sipgo.NewUA(sipgo.WithUserAgent("bifrost-load"))
	if err != nil {
		return fmt.Errorf("SIP user agent: %w", err)
	}
	srv, err := sipgo.NewServer(l.ua)
	if err != nil {
		return fmt.Errorf("SIP server: %w", err)
	}
	l.sipConn, err = net.ListenPacket("udp", netip.AddrPortFrom(l.localIP, 0).String())
	if err != nil {
		return fmt.Errorf("SIP socket: %w", err)
	}
	port := l.sipConn.LocalAddr().(*net.UDPAddr).Port
	client, err := sipgo.NewClient(l.ua, sipgo.WithClientHostname(l.localIP.String()), sipgo.WithClientPort(port))
	if err != nil {
		return fmt.Errorf("SIP client: %w", err)
	}
	l.dialogs = sipgo.NewDialogClientCache(client, sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: "bifrost-load", Host: l.localIP.String(), Port: port},
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := l.dialogs.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		}
	})
	ok := func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	}
	srv.OnUpdate(ok)
	srv.OnOptions(ok)
	srv.OnInfo(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
		if id := req.CallID(); id != nil {
			l.info(id.Value(), req.Body())
		}
	})
	l.served = true
	go func() { _ = srv.ServeUDP(l.sipConn) }()
	l.pacer = newPacer()
	return nil
}

// close stops the pacer and the user agent; it is idempotent.
func (l *sipLoad) close() {
	l.closeOnce.Do(func() {
		if l.pacer != nil {
			_ = l.pacer.Close()
		}
		if l.ua != nil {
			_ = l.ua.Close()
		}
		if l.switchLog != nil {
			_ = l.switchLog.Close()
		}
		if l.sipConn != nil && !l.served {
			_ = l.sipConn.Close()
		}
	})
}

// info takes the body of an in-dialog INFO: a picture_fast_update (RFC
// 5168 §3, the XML media control of SIP video endpoints) is a keyframe
// request for the call's video source.
func (l *sipLoad) info(callID string, body []byte) {
	v, ok := l.byCallID.Load(callID)
	if !ok {
		return
	}
	s := v.(*stream)
	if s.video != nil && bytes.Contains(body, []byte("picture_fast_update")) {
		s.video.KeyframeRequested()
	}
}

// routeTo is the local address the system routes to target's host from
// (a UDP "connect" sends nothing).
func routeTo(target sip.Uri) (netip.Addr, error) {
	port := target.Port
	if port == 0 {
		port = 5060
	}
	c, err := net.Dial("udp", net.JoinHostPort(target.Host, strconv.Itoa(port)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("no route to %s: %w", target.Host, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap(), nil
}

// snapshot is the calls placed so far.
func (l *sipLoad) snapshot() []*call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*call(nil), l.calls...)
}

// progressLine sums the calls' states and counters now.
func (l *sipLoad) progressLine() string {
	var n [4]int
	var sent, recv, exp, lost uint64
	var jit float64
	var withJit int
	for _, c := range l.snapshot() {
		n[c.getState()]++
		if s := c.stream.Load(); s != nil {
			sent += s.sent.Load()
			snap := s.rx.snapshot()
			recv += snap.Received
			exp += snap.Expected
			lost += snap.Lost
			if snap.Received > 1 {
				jit += s.jitterMS(snap)
				withJit++
			}
		}
	}
	loss := 0.0
	if exp > 0 {
		loss = 100 * float64(lost) / float64(exp)
	}
	if withJit > 0 {
		jit /= float64(withJit)
	}
	return fmt.Sprintf("bifrost-load: %4.0fs  calls %d in, %d connecting, %d failed, %d done  |  RTP sent %d, received %d, loss %.2f%%, jitter %.1f ms  |  late ticks %d%s",
		time.Since(l.start).Seconds(), n[stateInCall], n[stateConnecting], n[stateFailed], n[stateDone],
		sent, recv, loss, jit, l.pacer.late.Load(), l.videoProgress())
}
