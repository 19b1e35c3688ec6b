//go:build !(linux && (amd64 || arm64))

package sipcall

import (
	"net"
	"net/netip"
)

// udpBatch is, where recvmmsg(2) and sendmmsg(2) are not wired up (see
// udpbatch_linux.go), one datagram per system call behind the same API.
type udpBatch struct {
	conn *net.UDPConn
	// joined is where write puts a datagram of two parts together.
	joined []byte
}

func newUDPBatch(conn *net.UDPConn, _ int) (*udpBatch, error) { return &udpBatch{conn: conn}, nil }

// read reads one datagram into bufs[0].
func (b *udpBatch) read(bufs [][]byte, sizes []int, froms []netip.AddrPort) (int, error) {
	n, from, err := b.conn.ReadFromUDPAddrPort(bufs[0][:cap(bufs[0])])
	if err != nil {
		return 0, err
	}
	sizes[0], froms[0] = n, from
	return 1, nil
}

// write sends pkts to to one by one; a refused one is dropped.
func (b *udpBatch) write(pkts []outPacket, to netip.AddrPort) (int, error) {
	sent := 0
	for _, p := range pkts {
		d := p.head
		if len(p.body) > 0 {
			b.joined = append(append(b.joined[:0], p.head...), p.body...)
			d = b.joined
		}
		if _, err := b.conn.WriteToUDPAddrPort(d, to); err == nil {
			sent++
		}
	}
	return sent, nil
}
