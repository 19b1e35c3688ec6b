package sipcall

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
)

// portPool hands out RTP/RTCP port pairs from the bridge's range: RTP on
// an even port and RTCP on the odd one above it (RFC 3550 §11). A pair is
// bound when allocated, so a port some other program holds is skipped,
// and returned to the pool when its leg ends.
type portPool struct {
	host     netip.Addr // bound address; invalid means every interface
	min, max int        // first even port and last usable port

	mu   sync.Mutex
	next int
	used map[int]bool

	// audio drains the audio sockets of the pool's legs (audiobatch.go).
	audio audioPoller
}

// newPortPool returns a pool over [min, max] bound on host (the zero Addr
// binds every interface).
func newPortPool(host netip.Addr, min, max int) *portPool {
	if min%2 != 0 {
		min++
	}
	return &portPool{host: host, min: min, max: max, next: min, used: map[int]bool{}}
}

// size is the number of pairs in the pool.
func (p *portPool) size() int {
	if p.max < p.min+1 {
		return 0
	}
	return (p.max - p.min + 1) / 2
}

// allocate binds a free pair. It starts after the last pair handed out, so
// a port just released is not reused at once (late packets of the old call
// would land in the new one). With no pair free it returns
// ErrPortsExhausted.
func (p *portPool) allocate() (rtp, rtcp *net.UDPConn, err error) {
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
		rtp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.host, uint16(port))))
		if err != nil {
			continue
		}
		rtcp, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.host, uint16(port+1))))
		if err != nil {
			_ = rtp.Close()
			continue
		}
		p.used[port] = true
		return rtp, rtcp, nil
	}
	return nil, nil, fmt.Errorf("%w: %d pairs in %d-%d", ErrPortsExhausted, p.size(), p.min, p.max)
}

// release returns the pair starting at port to the pool.
func (p *portPool) release(port int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.used, port)
}

// inUse is the number of pairs allocated.
func (p *portPool) inUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.used)
}
