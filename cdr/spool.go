package cdr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// A spool is an append-only file of events kept in the data directory while
// PostgreSQL is unreachable or the writer's queue is full. Each frame is
//
//	length  uint32, big endian: the payload's length in bytes
//	crc     uint32, big endian: CRC-32C (Castagnoli) of the payload
//	payload the event as JSON
//
// A frame cut short by a crash is ignored (it was never acknowledged to
// anyone: the writer fsyncs before it forgets events it holds in memory).
type spool struct {
	path  string
	f     *os.File
	size  int64 // bytes in the file, written or not yet synced
	dirty bool  // written since the last sync
}

const (
	frameHeader = 8
	// maxFrame bounds one event's JSON; anything larger is corruption.
	maxFrame = 1 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// openSpool opens (creating) the spool file at path.
func openSpool(path string) (*spool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("cdr: spool: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cdr: spool: %w", err)
	}
	return &spool{path: path, f: f, size: st.Size()}, nil
}

// appendFrame writes one frame at the end of the file. It does not sync.
func (s *spool) appendFrame(payload []byte) error {
	if len(payload) > maxFrame {
		return fmt.Errorf("cdr: spool: event of %d bytes is larger than %d", len(payload), maxFrame)
	}
	buf := make([]byte, frameHeader+len(payload))
	binary.BigEndian.PutUint32(buf[0:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(buf[4:8], crc32.Checksum(payload, castagnoli))
	copy(buf[frameHeader:], payload)
	if _, err := s.f.WriteAt(buf, s.size); err != nil {
		return fmt.Errorf("cdr: spool: write: %w", err)
	}
	s.size += int64(len(buf))
	s.dirty = true
	return nil
}

// sync flushes what was appended to stable storage.
func (s *spool) sync() error {
	if !s.dirty {
		return nil
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("cdr: spool: fsync: %w", err)
	}
	s.dirty = false
	return nil
}

// empty reports whether the spool holds no frame.
func (s *spool) empty() bool { return s.size == 0 }

// truncate empties the spool once everything in it is stored.
func (s *spool) truncate() error {
	if err := s.f.Truncate(0); err != nil {
		return fmt.Errorf("cdr: spool: truncate: %w", err)
	}
	s.size = 0
	s.dirty = true
	return s.sync()
}

// read returns up to max frames' payloads between offsets off and to, and the
// offset after them. A frame cut short at to ends the read without error; a bad
// length or checksum returns ErrCorruptSpool with the frames before it.
func (s *spool) read(off, to int64, max int) (payloads [][]byte, next int64, err error) {
	next = off
	r := io.NewSectionReader(s.f, off, to-off)
	var hdr [frameHeader]byte
	for len(payloads) < max {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return payloads, next, nil
			}
			return payloads, next, fmt.Errorf("cdr: spool: read: %w", err)
		}
		p, err := decodeFrame(hdr, r)
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return payloads, next, nil // torn last frame
		}
		if err != nil {
			return payloads, next, fmt.Errorf("%w at offset %d: %v", ErrCorruptSpool, next, err)
		}
		payloads = append(payloads, p)
		next += int64(frameHeader + len(p))
	}
	return payloads, next, nil
}

// decodeFrame reads the payload announced by hdr from r and checks it.
func decodeFrame(hdr [frameHeader]byte, r io.Reader) ([]byte, error) {
	n := binary.BigEndian.Uint32(hdr[0:4])
	if n > maxFrame {
		return nil, fmt.Errorf("frame length %d larger than %d", n, maxFrame)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return nil, err
	}
	if crc32.Checksum(p, castagnoli) != binary.BigEndian.Uint32(hdr[4:8]) {
		return nil, errors.New("checksum mismatch")
	}
	return p, nil
}

// decodeFrames splits a whole spool image into payloads, for tests and fuzzing.
func decodeFrames(data []byte) ([][]byte, error) {
	var out [][]byte
	for len(data) > 0 {
		if len(data) < frameHeader {
			return out, nil
		}
		var hdr [frameHeader]byte
		copy(hdr[:], data)
		n := binary.BigEndian.Uint32(hdr[0:4])
		if n > maxFrame {
			return out, fmt.Errorf("%w: frame length %d", ErrCorruptSpool, n)
		}
		if uint64(len(data)-frameHeader) < uint64(n) {
			return out, nil // torn
		}
		p := data[frameHeader : frameHeader+int(n)]
		if crc32.Checksum(p, castagnoli) != binary.BigEndian.Uint32(hdr[4:8]) {
			return out, fmt.Errorf("%w: checksum mismatch", ErrCorruptSpool)
		}
		out = append(out, p)
		data = data[frameHeader+int(n):]
	}
	return out, nil
}

// quarantine moves a corrupt spool aside (keeping it for a person to look at)
// and starts an empty one.
func (s *spool) quarantine(suffix string) (string, error) {
	aside := s.path + ".corrupt-" + suffix
	if err := os.Rename(s.path, aside); err != nil {
		return "", fmt.Errorf("cdr: spool: quarantine: %w", err)
	}
	s.f.Close()
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return aside, fmt.Errorf("cdr: spool: %w", err)
	}
	s.f, s.size, s.dirty = f, 0, false
	return aside, nil
}

func (s *spool) close() error {
	err := s.sync()
	return errors.Join(err, s.f.Close())
}
