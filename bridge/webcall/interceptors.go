package webcall

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	rtcpreport "github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// The RTCP cadences of every leg, set here rather than left to pion's
// defaults so that the per-participant timers are ours to account for
// (timers.go).
const (
	// reportInterval is how often a leg sends sender and receiver reports
	// (RFC 3550 §6.2 allows any interval of 5 s or less for few members).
	reportInterval = time.Second
	// nackInterval is how often the NACK generator looks for missing
	// packets of the browser's camera (RFC 4585 §6.2.1); it runs only once
	// the camera's first packet arrived (lazyInterceptor).
	nackInterval = 100 * time.Millisecond
)

// registerInterceptors sets up the interceptors of every PeerConnection:
// NACK (generator and responder, video only), RTCP sender and receiver
// reports, and transport-wide congestion control feedback (video only) —
// pion's defaults, less its stats interceptor (nothing here reads GetStats; it
// costs a map update per packet) and with the NACK generator started
// lazily: pion's runs a 10 Hz ticker per PeerConnection from the start,
// which for an idle participant (no camera) is a wake-up for nothing.
func (s *Server) registerInterceptors(me *webrtc.MediaEngine, ir *interceptor.Registry) error {
	generator, err := nack.NewGeneratorInterceptor(nack.GeneratorInterval(nackInterval))
	if err != nil {
		return err
	}
	responder, err := nack.NewResponderInterceptor()
	if err != nil {
		return err
	}
	me.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack"}, webrtc.RTPCodecTypeVideo)
	me.RegisterFeedback(webrtc.RTCPFeedback{Type: "nack", Parameter: "pli"}, webrtc.RTPCodecTypeVideo)
	ir.Add(responder)
	ir.Add(&lazyFactory{inner: generator, wants: nacked, running: &s.timers.nackLoops})

	receiver, err := rtcpreport.NewReceiverInterceptor(rtcpreport.ReceiverInterval(reportInterval))
	if err != nil {
		return err
	}
	sender, err := rtcpreport.NewSenderInterceptor(rtcpreport.SenderInterval(reportInterval))
	if err != nil {
		return err
	}
	ir.Add(receiver)
	ir.Add(sender)
	if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
		return err
	}
	// Transport-wide congestion control feedback for the camera only:
	// browsers leave audio out of their send-side estimate unless told
	// otherwise, and on audio it would cost a hand-off to the feedback
	// goroutine per packet and, for a participant without a camera, a
	// 10 Hz feedback ticker.
	me.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, webrtc.RTPCodecTypeVideo)
	if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, webrtc.RTPCodecTypeVideo); err != nil {
		return err
	}
	twccSender, err := twcc.NewSenderInterceptor()
	if err != nil {
		return err
	}
	ir.Add(twccSender)
	return nil
}

// nacked reports whether a stream negotiated generic NACK (RFC 4585
// §4.2), which the generator serves.
func nacked(info *interceptor.StreamInfo) bool {
	for _, fb := range info.RTCPFeedback {
		if fb.Type == "nack" && fb.Parameter == "" {
			return true
		}
	}
	return false
}

// lazyFactory makes lazyInterceptors around inner's interceptors.
type lazyFactory struct {
	inner   interceptor.Factory
	wants   func(*interceptor.StreamInfo) bool
	running *atomic.Int64
}

// NewInterceptor implements interceptor.Factory.
func (f *lazyFactory) NewInterceptor(id string) (interceptor.Interceptor, error) {
	in, err := f.inner.NewInterceptor(id)
	if err != nil {
		return nil, err
	}
	return &lazyInterceptor{Interceptor: in, wants: f.wants, running: f.running}, nil
}

// lazyInterceptor holds back the RTCP writer of an interceptor that starts
// a periodic loop when it gets one (pion's NACK generator) until the first
// packet of a remote stream it serves (wants) arrives: a participant who
// never sends that stream never runs the loop.
type lazyInterceptor struct {
	interceptor.Interceptor
	wants   func(*interceptor.StreamInfo) bool
	running *atomic.Int64

	started atomic.Bool
	mu      sync.Mutex // guards writer and closed
	writer  interceptor.RTCPWriter
	closed  bool
}

// BindRTCPWriter keeps the writer for later; the wrapped interceptor
// would return it unchanged.
func (l *lazyInterceptor) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	l.mu.Lock()
	l.writer = w
	l.mu.Unlock()
	return w
}

// BindRemoteStream binds the stream to the wrapped interceptor and, for a
// stream it serves, starts it on the stream's first packet.
func (l *lazyInterceptor) BindRemoteStream(info *interceptor.StreamInfo, reader interceptor.RTPReader) interceptor.RTPReader {
	r := l.Interceptor.BindRemoteStream(info, reader)
	if !l.wants(info) {
		return r
	}
	return interceptor.RTPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		n, a, err := r.Read(b, a)
		if err == nil && !l.started.Load() {
			l.start()
		}
		return n, a, err
	})
}

func (l *lazyInterceptor) start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.writer == nil || l.started.Load() {
		return
	}
	l.started.Store(true)
	l.running.Add(1)
	l.Interceptor.BindRTCPWriter(l.writer)
}

// Close closes the wrapped interceptor, which stops its loop.
func (l *lazyInterceptor) Close() error {
	l.mu.Lock()
	if !l.closed && l.started.Load() {
		l.running.Add(-1)
	}
	l.closed = true
	l.mu.Unlock()
	return l.Interceptor.Close()
}
