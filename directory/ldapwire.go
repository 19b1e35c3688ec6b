package directory

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// The sync reads LDAP responses with this small decoder rather than
// go-asn1-ber's packet tree, which allocated a node, a buffer and a
// description per element and was ~43 % of the sync's Go CPU time. A message
// is read whole into a reused buffer and copied once into one string; the DN
// and every value of an entry are substrings of it.

// errBER is the error of a response that is not valid BER for LDAP.
var errBER = errors.New("directory: ldap: malformed response")

// maxLDAPMessage bounds one response message: an entry with a large photo
// is far below it; a length beyond it is a broken or hostile server.
const maxLDAPMessage = 16 << 20

// BER tags of LDAP responses, RFC 4511 §4.1.1 and §4.2-4.12 (class and
// constructed bits included).
const (
	tagInteger     = 0x02
	tagOctetString = 0x04
	tagEnumerated  = 0x0a
	tagBoolean     = 0x01
	tagSequence    = 0x30
	tagSet         = 0x31

	tagBindResponse     = 0x61 // [APPLICATION 1]
	tagSearchResEntry   = 0x64 // [APPLICATION 4]
	tagSearchResDone    = 0x65 // [APPLICATION 5]
	tagSearchResRef     = 0x73 // [APPLICATION 19]
	tagExtendedResponse = 0x78 // [APPLICATION 24]
	tagControls         = 0xa0 // [0] in LDAPMessage
	tagReferral         = 0xa3 // [3] in LDAPResult
)

// ldapMessage is one decoded response: its message ID, the tag of its
// protocolOp and, as needed, the result, the entry or the controls. Strings
// point into one copy of the message.
type ldapMessage struct {
	id  int64
	op  byte
	res ldapResult
	// For a SearchResultEntry.
	dn    string
	attrs []ldapAttr
	// cookie is the paged results cookie (RFC 2696) of a SearchResultDone,
	// nil when the control is absent.
	cookie []byte
	paged  bool
}

// ldapResult is an LDAPResult, RFC 4511 §4.1.9.
type ldapResult struct {
	code       int64
	matchedDN  string
	diagnostic string
}

// ldapAttr is one PartialAttribute of an entry, RFC 4511 §4.1.7.
type ldapAttr struct {
	name string
	vals []string
}

// berReader reads LDAP messages from a stream, reusing its buffers.
type berReader struct {
	r    *bufio.Reader
	buf  []byte
	vals []string // backing array of the current entry's values
}

// next reads and decodes the next message into m, replacing its contents.
func (br *berReader) next(m *ldapMessage) error {
	tag, err := br.r.ReadByte()
	if err != nil {
		return err
	}
	if tag != tagSequence {
		return fmt.Errorf("%w: message tag %#x", errBER, tag)
	}
	n, err := readLength(br.r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if n > maxLDAPMessage {
		return fmt.Errorf("%w: message of %d bytes", errBER, n)
	}
	if cap(br.buf) < n {
		br.buf = make([]byte, n)
	}
	b := br.buf[:n]
	if _, err := io.ReadFull(br.r, b); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	return br.decode(m, b)
}

// readLength reads a BER definite length (X.690 §8.1.3); LDAP forbids the
// indefinite form (RFC 4511 §5.1).
func readLength(r io.ByteReader) (int, error) {
	b, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	if b < 0x80 {
		return int(b), nil
	}
	k := int(b & 0x7f)
	if k == 0 || k > 4 {
		return 0, fmt.Errorf("%w: length form %#x", errBER, b)
	}
	n := 0
	for range k {
		if b, err = r.ReadByte(); err != nil {
			return 0, err
		}
		n = n<<8 | int(b)
	}
	return n, nil
}

// tlv splits the first element off b: its tag, its contents and the rest.
func tlv(b []byte) (tag byte, val, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, fmt.Errorf("%w: truncated element", errBER)
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, fmt.Errorf("%w: multi-byte tag", errBER)
	}
	n, i := int(b[1]), 2
	if n >= 0x80 {
		k := n & 0x7f
		if k == 0 || k > 4 || len(b) < 2+k {
			return 0, nil, nil, fmt.Errorf("%w: length form %#x", errBER, b[1])
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		i += k
	}
	if n < 0 || n > len(b)-i {
		return 0, nil, nil, fmt.Errorf("%w: element of %d bytes in %d", errBER, n, len(b)-i)
	}
	return tag, b[i : i+n], b[i+n:], nil
}

// expect is tlv that also checks the tag.
func expect(b []byte, want byte) (val, rest []byte, err error) {
	tag, val, rest, err := tlv(b)
	if err == nil && tag != want {
		err = fmt.Errorf("%w: tag %#x, want %#x", errBER, tag, want)
	}
	return val, rest, err
}

// berInt decodes a BER INTEGER or ENUMERATED of at most 8 bytes.
func berInt(v []byte) (int64, error) {
	if len(v) == 0 || len(v) > 8 {
		return 0, fmt.Errorf("%w: integer of %d bytes", errBER, len(v))
	}
	n := int64(int8(v[0]))
	for _, c := range v[1:] {
		n = n<<8 | int64(c)
	}
	return n, nil
}

// decode decodes the contents of an LDAPMessage, RFC 4511 §4.2.
func (br *berReader) decode(m *ldapMessage, b []byte) error {
	*m = ldapMessage{attrs: m.attrs[:0]}
	v, rest, err := expect(b, tagInteger)
	if err != nil {
		return err
	}
	if m.id, err = berInt(v); err != nil {
		return err
	}
	op, body, rest, err := tlv(rest)
	if err != nil {
		return err
	}
	m.op = op
	// One copy of the protocolOp: every string of the message is a
	// substring of it (sub).
	switch op {
	case tagSearchResEntry:
		return br.decodeEntry(m, body, string(body))
	case tagSearchResRef:
		return nil
	case tagSearchResDone, tagBindResponse, tagExtendedResponse:
		if err := decodeResult(&m.res, body, string(body)); err != nil {
			return err
		}
		if op == tagSearchResDone && len(rest) > 0 {
			return m.decodeControls(rest)
		}
		return nil
	}
	return fmt.Errorf("%w: unexpected protocol operation %#x", errBER, op)
}

// sub returns the substring of s (a copy of whole) that p, a subslice of
// whole, covers.
func sub(s string, whole, p []byte) string {
	if len(p) == 0 {
		return ""
	}
	// p and whole share their backing array's end, so their capacities
	// differ by p's offset.
	i := cap(whole) - cap(p)
	return s[i : i+len(p)]
}

// decodeEntry decodes a SearchResultEntry, RFC 4511 §4.5.2.
func (br *berReader) decodeEntry(m *ldapMessage, body []byte, s string) error {
	dn, rest, err := expect(body, tagOctetString)
	if err != nil {
		return err
	}
	m.dn = sub(s, body, dn)
	attrs, _, err := expect(rest, tagSequence)
	if err != nil {
		return err
	}
	// Count the values first, so that all of them share one backing array.
	total := 0
	for p := attrs; len(p) > 0; {
		a, next, err := expect(p, tagSequence)
		if err != nil {
			return err
		}
		_, a, err = expect(a, tagOctetString)
		if err != nil {
			return err
		}
		vals, _, err := expect(a, tagSet)
		if err != nil {
			return err
		}
		for len(vals) > 0 {
			if _, vals, err = expect(vals, tagOctetString); err != nil {
				return err
			}
			total++
		}
		p = next
	}
	if cap(br.vals) < total {
		br.vals = make([]string, 0, max(total, 2*cap(br.vals)))
	}
	all := br.vals[:0]
	for p := attrs; len(p) > 0; {
		a, next, _ := expect(p, tagSequence)
		name, a, _ := expect(a, tagOctetString)
		vals, _, _ := expect(a, tagSet)
		first := len(all)
		for len(vals) > 0 {
			var v []byte
			v, vals, _ = expect(vals, tagOctetString)
			all = append(all, sub(s, body, v))
		}
		m.attrs = append(m.attrs, ldapAttr{name: sub(s, body, name), vals: all[first:len(all):len(all)]})
		p = next
	}
	br.vals = all
	return nil
}

// decodeResult decodes the LDAPResult at the start of b, RFC 4511 §4.1.9.
func decodeResult(r *ldapResult, b []byte, s string) error {
	v, rest, err := expect(b, tagEnumerated)
	if err != nil {
		return err
	}
	if r.code, err = berInt(v); err != nil {
		return err
	}
	v, rest, err = expect(rest, tagOctetString)
	if err != nil {
		return err
	}
	r.matchedDN = sub(s, b, v)
	if v, _, err = expect(rest, tagOctetString); err != nil {
		return err
	}
	r.diagnostic = sub(s, b, v)
	return nil
}

// decodeControls finds the paged results control (RFC 2696 §2) among a
// message's controls (RFC 4511 §4.1.11) and keeps its cookie.
func (m *ldapMessage) decodeControls(b []byte) error {
	ctls, _, err := expect(b, tagControls)
	if err != nil {
		return err
	}
	for len(ctls) > 0 {
		var c []byte
		if c, ctls, err = expect(ctls, tagSequence); err != nil {
			return err
		}
		typ, c, err := expect(c, tagOctetString)
		if err != nil {
			return err
		}
		if string(typ) != controlPaging {
			continue
		}
		if tag, _, after, err := tlv(c); err == nil && tag == tagBoolean {
			c = after // criticality
		}
		val, _, err := expect(c, tagOctetString)
		if err != nil {
			return err
		}
		// realSearchControlValue ::= SEQUENCE { size INTEGER, cookie OCTET STRING }
		seq, _, err := expect(val, tagSequence)
		if err != nil {
			return err
		}
		if _, seq, err = expect(seq, tagInteger); err != nil {
			return err
		}
		cookie, _, err := expect(seq, tagOctetString)
		if err != nil {
			return err
		}
		m.cookie, m.paged = append([]byte(nil), cookie...), true
	}
	return nil
}

// controlPaging is the OID of the paged results control, RFC 2696 §2.
const controlPaging = "1.2.840.113556.1.4.319"
