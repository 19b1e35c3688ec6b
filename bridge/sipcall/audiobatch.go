package sipcall

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"
	"unsafe"

	"github.com/bifrost-video/bifrost/bridge/media"
	"golang.org/x/sys/unix"
)

// Audio legs read their sockets in batches, on a beat, instead of with a
// blocking reader goroutine per socket.
//
// A G.711 leg receives 50 datagrams a second. Read one at a time by a
// goroutine parked in Go's network poller, every datagram costs a thread
// wake-up (the poller's epoll_wait returns), a goroutine switch and two
// receive syscalls (the datagram and the EAGAIN after it): profiled with
// 30 callers, the receive path cost more than the mixing. Here a leg's
// sockets are kept out of Go's poller; one goroutine per port pool (the
// audioPoller) wakes once per 20 ms frame, just before the mixer's tick,
// asks its own epoll instance which sockets hold datagrams (one syscall
// for all of them) and drains each with recvmmsg, non-blocking, up to
// audioBatch datagrams a call. The same beat runs every leg's RTCP reports
// and RTP inactivity check, which had a goroutine and a ticker each. The
// kernel stamps each datagram's arrival (SO_TIMESTAMPNS), so interarrival
// jitter (RFC 3550 §6.4.1, §A.8) is measured as before and not as the
// beat; the time of the drain stands in only where 20 ms do not matter
// (the RTP inactivity timeout).
//
// The beat adds no latency the mixer would not add: a datagram waits for
// the next drain, which comes just before the next tick that could play
// it.

// audioPollInterval is the poller's beat: one frame.
const audioPollInterval = media.FrameDuration

// audioPollLead is how long before each 20 ms mark of the wall clock a
// poller without a beat drains.
const audioPollLead = 2 * time.Millisecond

// audioBatch is how many datagrams one recvmmsg takes: a 20 ms leg has one
// or two waiting; more after a stall.
const audioBatch = 8

// audioEvents is how many ready sockets one epoll_wait reports; more wait
// for the next call in the same drain.
const audioEvents = 128

// audioSocket is one UDP socket of a leg's audio (the RTP or the RTCP
// port), opened non-blocking outside Go's network poller so that a datagram
// wakes nothing. Writes and reads hold mu shared, close holds it exclusive:
// a file descriptor is never used after it is closed (and possibly
// reused by another socket).
type audioSocket struct {
	port   int
	family int

	mu     sync.RWMutex
	fd     int
	closed bool
}

// openAudioSocket binds a UDP socket to host:port (the zero Addr binds
// every interface, IPv4 and IPv6 when the system has IPv6) with arrival
// timestamps on.
func openAudioSocket(host netip.Addr, port int) (*audioSocket, error) {
	family := unix.AF_INET6
	if host.Is4() || host.Is4In6() {
		family = unix.AF_INET
		host = host.Unmap()
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil && family == unix.AF_INET6 && !host.IsValid() {
		// No IPv6 on this system: every IPv4 interface then.
		family = unix.AF_INET
		fd, err = unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	}
	if err != nil {
		return nil, fmt.Errorf("sipcall: audio socket: %w", err)
	}
	var sa unix.Sockaddr
	if family == unix.AF_INET6 {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 0)
		sa6 := &unix.SockaddrInet6{Port: port}
		if host.IsValid() {
			sa6.Addr = host.As16()
		}
		sa = sa6
	} else {
		sa4 := &unix.SockaddrInet4{Port: port}
		if host.IsValid() {
			sa4.Addr = host.As4()
		}
		sa = sa4
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("sipcall: audio socket: SO_TIMESTAMPNS: %w", err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		_ = unix.Close(fd)
		return nil, fmt.Errorf("sipcall: audio socket: bind port %d: %w", port, err)
	}
	return &audioSocket{port: port, family: family, fd: fd}, nil
}

// sockaddr is a reusable destination of sendto, so that a send allocates
// nothing.
type sockaddr struct {
	v4 unix.RawSockaddrInet4
	v6 unix.RawSockaddrInet6
}

// set fills the destination for a socket of family and returns it with
// its length, or nil when the address cannot be reached from such a
// socket.
func (a *sockaddr) set(family int, to netip.AddrPort) (unsafe.Pointer, uintptr) {
	addr := to.Addr()
	switch {
	case family == unix.AF_INET && addr.Unmap().Is4():
		a.v4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: htons(to.Port()), Addr: addr.Unmap().As4()}
		return unsafe.Pointer(&a.v4), unsafe.Sizeof(a.v4)
	case family == unix.AF_INET6:
		a.v6 = unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: htons(to.Port()), Addr: addr.As16()}
		return unsafe.Pointer(&a.v6), unsafe.Sizeof(a.v6)
	}
	return nil, 0
}

// writeTo sends one datagram to `to` through dst, a buffer of the
// caller's. A full socket buffer drops the datagram, as the network
// would.
//
// The socket is non-blocking, so the send is a raw system call: the
// goroutine keeps its P, which the runtime would otherwise hand to another
// thread whenever a send outlasted a sysmon tick (20 µs, as a loopback
// send that wakes its receiver can), at the cost of a thread wake-up.
func (s *audioSocket) writeTo(b []byte, to netip.AddrPort, dst *sockaddr) error {
	if len(b) == 0 {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errAudioClosed
	}
	sa, salen := dst.set(s.family, to)
	if sa == nil {
		return fmt.Errorf("sipcall: cannot send to %s from this socket", to)
	}
	for {
		_, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(s.fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
			unix.MSG_DONTWAIT, uintptr(sa), salen)
		switch errno {
		case 0:
			return nil
		case unix.EINTR:
			continue
		default:
			return errno
		}
	}
}

// close closes the socket once; it waits for a read or write in progress.
func (s *audioSocket) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		_ = unix.Close(s.fd)
	}
}

// errAudioClosed is a write to a closed audio socket.
var errAudioClosed = errors.New("sipcall: audio socket closed")

// mmsghdr (struct mmsghdr of recvmmsg(2)) is declared in udpbatch_linux.go.

// rxBatch is the receive side's buffers, owned by the poller goroutine and
// shared by every socket it drains: nothing per packet is allocated.
type rxBatch struct {
	msgs  [audioBatch]mmsghdr
	iov   [audioBatch]unix.Iovec
	names [audioBatch]unix.RawSockaddrInet6
	ctrl  [audioBatch][64]byte
	bufs  [audioBatch][maxPacket]byte
	plain [maxPacket]byte
}

// datagram is one received datagram of a batch, valid until the next read.
type datagram struct {
	b    []byte
	from netip.AddrPort
	// at is when the kernel received it; zero when it did not say.
	at time.Time
}

// read takes up to audioBatch waiting datagrams from s without blocking
// and returns how many it took (0 when none waited). Like writeTo, it is a
// raw system call: it never blocks.
func (r *rxBatch) read(s *audioSocket) (int, error) {
	for i := range r.msgs {
		r.iov[i].Base = &r.bufs[i][0]
		r.iov[i].SetLen(maxPacket)
		h := &r.msgs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Namelen = uint32(unsafe.Sizeof(r.names[i]))
		h.Iov = &r.iov[i]
		h.SetIovlen(1)
		h.Control = &r.ctrl[i][0]
		h.SetControllen(len(r.ctrl[i]))
		h.Flags = 0
		r.msgs[i].n = 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, errAudioClosed
	}
	for {
		n, _, errno := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&r.msgs[0])),
			uintptr(len(r.msgs)), unix.MSG_DONTWAIT, 0, 0)
		switch errno {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, nil
		default:
			return 0, errno
		}
	}
}

// datagram returns the i-th datagram of the last read.
func (r *rxBatch) datagram(i int) datagram {
	m := &r.msgs[i]
	d := datagram{b: r.bufs[i][:min(int(m.n), maxPacket)]}
	switch sa := &r.names[i]; sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		d.from = netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), ntohs(sa4.Port))
	case unix.AF_INET6:
		d.from = netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), ntohs(sa.Port))
	}
	d.at = arrivalStamp(r.ctrl[i][:min(int(m.hdr.Controllen), len(r.ctrl[i]))])
	return d
}

// ntohs reads a port in network byte order from its in-memory uint16.
func ntohs(p uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&p))
	return uint16(b[0])<<8 | uint16(b[1])
}

// htons is a port as its in-memory uint16 in network byte order.
func htons(p uint16) uint16 {
	var v uint16
	b := (*[2]byte)(unsafe.Pointer(&v))
	b[0], b[1] = byte(p>>8), byte(p)
	return v
}

// epollReady asks epfd which sockets are ready, without waiting
// (epoll_pwait(2) with a zero timeout, a raw system call: it never
// blocks).
func epollReady(epfd int, events []unix.EpollEvent) (int, error) {
	for {
		n, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])),
			uintptr(len(events)), 0, 0, 0)
		switch errno {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		default:
			return 0, errno
		}
	}
}

// arrivalStamp finds the SO_TIMESTAMPNS control message (socket(7)) in
// the control data of a datagram; zero time when there is none.
func arrivalStamp(ctrl []byte) time.Time {
	hdrLen := unix.CmsgLen(0)
	for len(ctrl) >= hdrLen {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&ctrl[0]))
		l := int(h.Len)
		if l < hdrLen || l > len(ctrl) {
			return time.Time{}
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SO_TIMESTAMPNS && l-hdrLen >= int(unsafe.Sizeof(unix.Timespec{})) {
			ts := (*unix.Timespec)(unsafe.Pointer(&ctrl[hdrLen]))
			return time.Unix(int64(ts.Sec), int64(ts.Nsec))
		}
		next := unix.CmsgSpace(l - hdrLen)
		if next > len(ctrl) {
			return time.Time{}
		}
		ctrl = ctrl[next:]
	}
	return time.Time{}
}

// audioPoller drains the audio sockets of every leg of a port pool once
// per 20 ms frame. With a beat (the bridge's BeforeMix), it drains on the
// bridge's frame beat just before the mixers tick; without one (tests with
// a fake bridge), on a goroutine and ticker of its own. It runs while at
// least one session is registered: the first registration starts it and
// the last unregistration stops it and waits.
type audioPoller struct {
	// beat, when set before the first registration, registers a hook
	// to run just before every mix and returns its remover.
	beat func(hook func()) (remove func())

	mu       sync.Mutex
	targets  map[int32]pollTarget // by file descriptor
	sessions []*mediaSession
	run      *pollRun
}

// useBeat makes the poller drain on the bridge's frame beat when rooms is
// the bridge (it offers BeforeMix).
func (p *audioPoller) useBeat(rooms Rooms) {
	if b, ok := rooms.(interface{ BeforeMix(func()) func() }); ok {
		p.beat = b.BeforeMix
	}
}

// pollTarget is a registered socket: whose, and which of its two.
type pollTarget struct {
	s    *mediaSession
	rtcp bool
}

// pollRun is one lifetime of the poller: its epoll instance, its buffers,
// and either its beat hook or its goroutine.
type pollRun struct {
	epfd   int
	unhook func()
	stop   chan struct{}
	done   chan struct{}

	rx       rxBatch
	events   [audioEvents]unix.EpollEvent
	targets  []pollTarget
	sessions []*mediaSession
}

// register adds a session's two sockets to the poller, starting it if it
// is not running.
func (p *audioPoller) register(s *mediaSession) error {
	p.mu.Lock()
	ended, err := p.registerLocked(s)
	p.mu.Unlock()
	if ended != nil {
		ended.end()
	}
	return err
}

// registerLocked is register under p.mu; a failure that left no session
// returns the run for the caller to end.
func (p *audioPoller) registerLocked(s *mediaSession) (*pollRun, error) {
	if p.run == nil {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			return nil, fmt.Errorf("sipcall: audio poller: %w", err)
		}
		run := &pollRun{epfd: epfd}
		if p.targets == nil {
			p.targets = make(map[int32]pollTarget)
		}
		if p.beat != nil {
			run.unhook = p.beat(func() { p.pass(run) })
		} else {
			run.stop, run.done = make(chan struct{}), make(chan struct{})
			go p.loop(run)
		}
		p.run = run
	}
	for _, t := range []pollTarget{{s, false}, {s, true}} {
		sock := t.socket()
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(sock.fd)}
		if err := unix.EpollCtl(p.run.epfd, unix.EPOLL_CTL_ADD, sock.fd, &ev); err != nil {
			return p.unregisterLocked(s), fmt.Errorf("sipcall: audio poller: %w", err)
		}
		p.targets[int32(sock.fd)] = t
	}
	p.sessions = append(p.sessions, s)
	return nil, nil
}

// unregister removes a session's sockets; the last one stops the poller
// and waits for it. The session's sockets must still be open.
func (p *audioPoller) unregister(s *mediaSession) {
	p.mu.Lock()
	run := p.unregisterLocked(s)
	p.mu.Unlock()
	if run != nil {
		run.end()
	}
}

// end stops the run, waits until it is not draining, and closes its
// epoll instance.
func (run *pollRun) end() {
	if run.unhook != nil {
		run.unhook()
	} else {
		close(run.stop)
		<-run.done
	}
	_ = unix.Close(run.epfd)
}

// unregisterLocked removes s's sockets and, when none is left, detaches
// the run for the caller to end.
func (p *audioPoller) unregisterLocked(s *mediaSession) *pollRun {
	for fd, t := range p.targets {
		if t.s == s {
			if p.run != nil {
				_ = unix.EpollCtl(p.run.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
			}
			delete(p.targets, fd)
		}
	}
	for i, o := range p.sessions {
		if o == s {
			p.sessions = slices.Delete(p.sessions, i, i+1)
			break
		}
	}
	if len(p.targets) > 0 || p.run == nil {
		return nil
	}
	run := p.run
	p.run = nil
	return run
}

func (t pollTarget) socket() *audioSocket {
	if t.rtcp {
		return t.s.rtcp
	}
	return t.s.rtp
}

// loop is the poller goroutine of a run without a beat.
func (p *audioPoller) loop(run *pollRun) {
	defer close(run.done)
	// Start on the phase, or as near as a loaded machine allows: a timer
	// that fired late tries again at the next one.
	phase := time.NewTimer(untilPhase(time.Now(), audioPollInterval, -audioPollLead))
	for {
		select {
		case <-run.stop:
			phase.Stop()
			return
		case <-phase.C:
		}
		next := untilPhase(time.Now(), audioPollInterval, -audioPollLead)
		if late := audioPollInterval - next; late <= audioPollLead/2 || late >= audioPollInterval {
			break
		}
		phase.Reset(next)
	}
	tick := time.NewTicker(audioPollInterval)
	defer tick.Stop()
	for {
		select {
		case <-run.stop:
			return
		case <-tick.C:
		}
		p.pass(run)
	}
}

// pass drains every socket that holds datagrams, then runs every
// session's timers.
func (p *audioPoller) pass(run *pollRun) {
	// Until epoll reports fewer ready sockets than it could, more may be
	// waiting.
	for {
		n, err := epollReady(run.epfd, run.events[:])
		if err != nil || n <= 0 {
			break
		}
		run.targets = run.targets[:0]
		p.mu.Lock()
		for _, ev := range run.events[:n] {
			if t, ok := p.targets[ev.Fd]; ok {
				run.targets = append(run.targets, t)
			}
		}
		p.mu.Unlock()
		for i, t := range run.targets {
			t.s.drain(&run.rx, t.rtcp)
			run.targets[i] = pollTarget{}
		}
		if n < len(run.events) {
			break
		}
	}
	now := time.Now()
	p.mu.Lock()
	run.sessions = append(run.sessions[:0], p.sessions...)
	p.mu.Unlock()
	for i, s := range run.sessions {
		s.timers(now)
		run.sessions[i] = nil
	}
}

// untilPhase is how long from now until the next instant that lies offset
// after a multiple of period since the Unix epoch.
func untilPhase(now time.Time, period, offset time.Duration) time.Duration {
	d := (time.Duration(now.UnixNano()) - offset) % period
	if d < 0 {
		d += period
	}
	return period - d
}

// allocateAudio is allocate for an audio leg: the pair is opened as
// audioSockets, outside Go's network poller, for the audio poller to drain.
func (p *portPool) allocateAudio() (rtp, rtcp *audioSocket, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range p.size() {
		port := p.next
		p.next += 2
		if p.next+1 > p.max {
			p.next = p.min
		}
		if p.used[port] {
			continue
		}
		rtp, err := openAudioSocket(p.host, port)
		if err != nil {
			continue
		}
		rtcp, err := openAudioSocket(p.host, port+1)
		if err != nil {
			rtp.close()
			continue
		}
		p.used[port] = true
		return rtp, rtcp, nil
	}
	return nil, nil, fmt.Errorf("%w: %d pairs in %d-%d", ErrPortsExhausted, p.size(), p.min, p.max)
}
