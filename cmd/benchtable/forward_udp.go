package main

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"

	"github.com/bifrost-video/bifrost/internal/benchtab"
)

// The forwarding rows' traffic: H.264 RTP of videoPayload bytes of payload
// (a full-size slice packet, as BenchmarkVideoFanout sends), sent in
// bursts — the packets of one frame — at a fixed pace.
const (
	videoPayload = 1100
	// batchSize is how many datagrams one recvmmsg or sendmmsg moves at
	// most in the references (the issue's ×32).
	batchSize = 32
	// socketBuffer is the receive buffer of every harness socket, so that
	// a burst is queued rather than dropped while its reader waits for the
	// CPU (GOMAXPROCS is 1 while measuring).
	socketBuffer = 4 << 20
)

// pace is how a sender spaces its packets: burst packets every interval,
// for seconds (scaled by the run's size).
type pace struct {
	burst    int
	interval time.Duration
	seconds  float64
}

// packets is how many packets a round of size sends: at least two bursts.
func (p pace) packets(size float64) int {
	bursts := max(2, int(p.seconds*size*float64(time.Second)/float64(p.interval)))
	return bursts * p.burst
}

// listenUDP is a socket on 127.0.0.1 with a large receive buffer.
func listenUDP() (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	_ = c.SetReadBuffer(socketBuffer)
	_ = c.SetWriteBuffer(socketBuffer)
	return c, nil
}

func addrOf(c *net.UDPConn) netip.AddrPort { return c.LocalAddr().(*net.UDPAddr).AddrPort() }

// newBatch is n messages of one buffer each, of size bytes.
func newBatch(n, size int) []ipv4.Message {
	ms := make([]ipv4.Message, n)
	for i := range ms {
		ms[i].Buffers = [][]byte{make([]byte, size)}
	}
	return ms
}

// drain reads everything that arrives at a socket, in batches, on a
// thread of its own whose CPU time it measures: the harness's receivers,
// whose cost is not the forwarder's.
type drain struct {
	conn     *net.UDPConn
	got      atomic.Int64
	stopping atomic.Bool
	cpu      time.Duration
	done     chan struct{}
}

func startDrain(conn *net.UDPConn) *drain {
	d := &drain{conn: conn, done: make(chan struct{})}
	go d.run()
	return d
}

func (d *drain) run() {
	defer close(d.done)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := benchtab.ThreadCPU()
	defer func() { d.cpu = benchtab.ThreadCPU() - t0 }()
	pc := ipv4.NewPacketConn(d.conn)
	ms := newBatch(batchSize, 2048)
	for {
		n, err := pc.ReadBatch(ms, 0)
		if err != nil {
			if d.stopping.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		d.got.Add(int64(n))
	}
}

// stop ends the drain and returns its thread's CPU time.
func (d *drain) stop() time.Duration {
	d.stopping.Store(true)
	_ = d.conn.SetReadDeadline(time.Now())
	<-d.done
	_ = d.conn.SetReadDeadline(time.Time{})
	return d.cpu
}

// settle waits until the drain has want packets or has received nothing
// for a while (the rest were lost); it returns what arrived.
func (d *drain) settle(want int64) int64 {
	last, quiet := d.got.Load(), 0
	for last < want && quiet < 10 {
		time.Sleep(10 * time.Millisecond)
		n := d.got.Load()
		if n == last {
			quiet++
		} else {
			last, quiet = n, 0
		}
	}
	return d.got.Load()
}

// sender sends paced bursts from one socket to dsts (each burst to each
// destination), with sendmmsg, on a thread of its own whose CPU time it
// measures: the harness's sources, whose cost is not the forwarder's.
type sender struct {
	pc   *ipv4.PacketConn
	dsts []*net.UDPAddr
	ms   []ipv4.Message
	// fill writes packet i of the stream into buf and returns it (with
	// SRTP, protected); it runs on the sender's thread.
	fill func(i int, buf []byte) ([]byte, error)
}

func newSender(conn *net.UDPConn, fill func(i int, buf []byte) ([]byte, error), dsts ...netip.AddrPort) *sender {
	s := &sender{pc: ipv4.NewPacketConn(conn), fill: fill}
	for _, d := range dsts {
		s.dsts = append(s.dsts, net.UDPAddrFromAddrPort(d))
	}
	s.ms = newBatch(batchSize, 2048)
	return s
}

// run sends packets packets numbered from first, paced by p, and returns
// the CPU time its thread took.
func (s *sender) run(p pace, first, packets int) (time.Duration, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := benchtab.ThreadCPU()
	start := time.Now()
	bufs := make([][]byte, p.burst)
	for i := range bufs {
		bufs[i] = make([]byte, 2048)
	}
	for b := 0; b*p.burst < packets; b++ {
		if wait := time.Until(start.Add(time.Duration(b) * p.interval)); wait > 0 {
			time.Sleep(wait)
		}
		n := min(p.burst, packets-b*p.burst)
		pkts := make([][]byte, 0, n)
		for i := range n {
			pkt, err := s.fill(first+b*p.burst+i, bufs[i][:cap(bufs[i])])
			if err != nil {
				return 0, err
			}
			pkts = append(pkts, pkt)
		}
		if err := s.send(pkts); err != nil {
			return 0, err
		}
	}
	return benchtab.ThreadCPU() - t0, nil
}

// send writes pkts to every destination in batches of up to batchSize.
func (s *sender) send(pkts [][]byte) error {
	k := 0
	flush := func() error {
		for sent := 0; sent < k; {
			n, err := s.pc.WriteBatch(s.ms[sent:k], 0)
			if err != nil {
				return fmt.Errorf("sendmmsg: %w", err)
			}
			sent += n
		}
		k = 0
		return nil
	}
	for _, d := range s.dsts {
		for _, p := range pkts {
			s.ms[k].Buffers[0] = p
			s.ms[k].Addr = d
			k++
			if k == len(s.ms) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// echo is the reference forwarder: it reads what arrives at in with
// recvmmsg, batchSize at a time, and writes each batch on to to with one
// sendmmsg, from a goroutine of its own until in is closed.
func echo(in *net.UDPConn, to netip.AddrPort) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		pc := ipv4.NewPacketConn(in)
		rx := newBatch(batchSize, 2048)
		tx := make([]ipv4.Message, batchSize)
		dst := net.UDPAddrFromAddrPort(to)
		for {
			n, err := pc.ReadBatch(rx, 0)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			for i := range n {
				tx[i].Buffers = [][]byte{rx[i].Buffers[0][:rx[i].N]}
				tx[i].Addr = dst
			}
			for sent := 0; sent < n; {
				m, err := pc.WriteBatch(tx[sent:n], 0)
				if err != nil {
					break
				}
				sent += m
			}
		}
	}()
	return func() { <-done }
}

// videoPacket writes H.264 RTP packet i of a stream into buf: a non-IDR
// slice (an IDR for packet 0, which switches the receivers to it),
// burst packets per frame, the marker on each frame's last.
func videoPacket(i, burst int, buf []byte) []byte {
	frame := i / burst
	buf = buf[:12+videoPayload]
	buf[0] = 0x80
	buf[1] = 96
	if i%burst == burst-1 {
		buf[1] |= 0x80
	}
	buf[2], buf[3] = byte(i>>8), byte(i)
	ts := uint32(frame * 3000)
	buf[4], buf[5], buf[6], buf[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
	buf[8], buf[9], buf[10], buf[11] = 0, 0, 0x12, 0x34
	buf[12] = 0x41 // NAL type 1: a slice of a non-IDR picture
	if i == 0 {
		buf[12] = 0x65 // NAL type 5: an IDR slice
	}
	for j := 13; j < len(buf); j++ {
		buf[j] = byte(j)
	}
	return buf
}

// closeAll closes every socket.
func closeAll(conns ...*net.UDPConn) {
	for _, c := range conns {
		if c != nil {
			_ = c.Close()
		}
	}
}

// cpuOf is the forwarder's share of a window: the process's CPU minus the
// harness's own threads', at least a microsecond (a round too short to
// register on getrusage's clock is not free work).
func cpuOf(process time.Duration, harness ...time.Duration) time.Duration {
	for _, h := range harness {
		process -= h
	}
	return max(process, time.Microsecond)
}
