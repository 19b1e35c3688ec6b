//go:build linux && (amd64 || arm64)

package sipcall

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsghdr is struct mmsghdr of recvmmsg(2) and sendmmsg(2) on 64-bit
// Linux: a msghdr and the byte count the kernel fills in.
type mmsghdr struct {
	hdr unix.Msghdr
	n   uint32
	_   [4]byte
}

// udpBatch moves several datagrams per system call on one UDP socket:
// recvmmsg(2) to read what has arrived, sendmmsg(2) to write what is due
// for one destination. It goes through the socket's RawConn, so a read
// or write that would block waits in Go's poller like any other. Its
// buffers are its own and reused: it allocates nothing per call. A
// udpBatch is used by one goroutine at a time.
type udpBatch struct {
	rc    syscall.RawConn
	hdrs  []mmsghdr
	iovs  []unix.Iovec            // one per message reading, two writing
	names []unix.RawSockaddrInet6 // the largest sockaddr we meet
	to    unix.RawSockaddrInet6   // the destination of write
	toLen uint32
	// inet6 says the socket is AF_INET6 (dual-stack when bound to the
	// unspecified address): IPv4 destinations are then v4-mapped.
	inet6 bool

	// The call in progress: how many messages, and its result.
	count int
	n     int
	errno syscall.Errno
	// recvFn and sendFn are bound once: passing a method value to the
	// RawConn on every call would allocate.
	recvFn, sendFn func(fd uintptr) bool
}

// newUDPBatch prepares batches of up to size datagrams on conn.
func newUDPBatch(conn *net.UDPConn, size int) (*udpBatch, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil, err
	}
	b := &udpBatch{
		rc:    rc,
		hdrs:  make([]mmsghdr, size),
		iovs:  make([]unix.Iovec, 2*size), // a head and a body per message when writing
		names: make([]unix.RawSockaddrInet6, size),
	}
	var domain int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		domain, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
	}); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, serr
	}
	b.inet6 = domain == unix.AF_INET6
	b.recvFn, b.sendFn = b.recv, b.send
	return b, nil
}

// read waits for datagrams and reads as many as have arrived, up to
// len(bufs), into bufs: sizes and froms get each one's length and
// source. It returns how many it read.
func (b *udpBatch) read(bufs [][]byte, sizes []int, froms []netip.AddrPort) (int, error) {
	k := min(len(bufs), len(b.hdrs))
	for i := range k {
		b.iovs[i].Base = unsafe.SliceData(bufs[i])
		b.iovs[i].SetLen(cap(bufs[i]))
		h := &b.hdrs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Namelen = unix.SizeofSockaddrInet6
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
		h.Control, h.Controllen, h.Flags = nil, 0, 0
		b.hdrs[i].n = 0
	}
	b.count = k
	if err := b.rc.Read(b.recvFn); err != nil {
		return 0, err
	}
	if b.errno != 0 {
		return 0, b.errno
	}
	for i := range b.n {
		sizes[i] = int(b.hdrs[i].n)
		froms[i] = sockaddrAddrPort(&b.names[i])
	}
	return b.n, nil
}

func (b *udpBatch) recv(fd uintptr) bool {
	for {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(b.count), 0, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // nothing yet: wait in the poller
		}
		b.n, b.errno = int(r), e
		return true
	}
}

// write sends pkts to to, as few system calls as the kernel allows, each
// datagram gathered from its head and body. A datagram the kernel
// refuses (an unreachable destination) is dropped like a failed write;
// write then carries on with the rest. It returns how many were sent.
func (b *udpBatch) write(pkts []outPacket, to netip.AddrPort) (int, error) {
	if !b.setDestination(to) {
		return 0, syscall.EAFNOSUPPORT
	}
	sent := 0
	for len(pkts) > 0 {
		k := min(len(pkts), len(b.hdrs))
		for i := range k {
			iov := b.iovs[2*i : 2*i+2]
			iov[0].Base = unsafe.SliceData(pkts[i].head)
			iov[0].SetLen(len(pkts[i].head))
			h := &b.hdrs[i].hdr
			h.SetIovlen(1)
			if body := pkts[i].body; len(body) > 0 {
				iov[1].Base = unsafe.SliceData(body)
				iov[1].SetLen(len(body))
				h.SetIovlen(2)
			}
			h.Name = (*byte)(unsafe.Pointer(&b.to))
			h.Namelen = b.toLen
			h.Iov = &iov[0]
			h.Control, h.Controllen, h.Flags = nil, 0, 0
		}
		b.count = k
		if err := b.rc.Write(b.sendFn); err != nil {
			return sent, err
		}
		switch {
		case b.errno != 0:
			pkts = pkts[1:] // the first was refused: drop it
		default:
			sent += b.n
			pkts = pkts[b.n:]
		}
	}
	return sent, nil
}

func (b *udpBatch) send(fd uintptr) bool {
	for {
		r, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(b.count), 0, 0, 0)
		switch e {
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false // the socket buffer is full: wait in the poller
		}
		b.n, b.errno = int(r), e
		return true
	}
}

// setDestination writes to as the sockaddr of the next write: IPv4 as
// sockaddr_in on an AF_INET socket, anything else as sockaddr_in6 (IPv4
// v4-mapped, RFC 4291 §2.5.5.2).
func (b *udpBatch) setDestination(to netip.AddrPort) bool {
	b.to = unix.RawSockaddrInet6{}
	addr := to.Addr()
	switch {
	case !b.inet6 && (addr.Is4() || addr.Is4In6()):
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&b.to))
		sa.Family = unix.AF_INET
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], to.Port())
		sa.Addr = addr.Unmap().As4()
		b.toLen = unix.SizeofSockaddrInet4
	case b.inet6 && addr.IsValid():
		b.to.Family = unix.AF_INET6
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&b.to.Port))[:], to.Port())
		b.to.Addr = addr.As16()
		b.toLen = unix.SizeofSockaddrInet6
	default:
		return false
	}
	return true
}

// sockaddrAddrPort reads the source of a received datagram.
func sockaddrAddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), port)
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), port)
	}
	return netip.AddrPort{}
}
