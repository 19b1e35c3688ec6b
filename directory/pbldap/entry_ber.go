package pbldap

// Search result entries are most of what the server writes, one per entry
// sent; they are encoded here by hand, straight into a reused buffer,
// instead of through a go-asn1-ber packet tree (a packet per value, each
// re-encoded as its parent grows). The bytes are the same DER the packets
// give (entry_ber_test.go holds them to it).

// The BER identifiers (X.690 §8.1.2) of a SearchResultEntry's parts.
const (
	berInteger     = 0x02
	berOctetString = 0x04
	berSequence    = 0x30
	berSet         = 0x31
	berEntry       = 0x64 // [APPLICATION 4] constructed: SearchResultEntry
)

// appendSearchEntry appends the LDAPMessage of message id holding the
// SearchResultEntry (RFC 4511 §4.5.2) of dn with attrs (their types only
// when typesOnly): envelope(id, searchEntry(dn, attrs, typesOnly)).
func appendSearchEntry(dst []byte, id int64, dn string, attrs []attribute, typesOnly bool) []byte {
	list := 0
	for _, a := range attrs {
		list += tlvLen(attrLen(a, typesOnly))
	}
	entry := tlvLen(len(dn)) + tlvLen(list)
	msg := tlvLen(intLen(id)) + tlvLen(entry)

	dst = appendHeader(dst, berSequence, msg)
	dst = appendHeader(dst, berInteger, intLen(id))
	for n := intLen(id); n > 0; n-- {
		dst = append(dst, byte(id>>(8*(n-1))))
	}
	dst = appendHeader(dst, berEntry, entry)
	dst = appendString(dst, dn)
	dst = appendHeader(dst, berSequence, list)
	for _, a := range attrs {
		dst = appendHeader(dst, berSequence, attrLen(a, typesOnly))
		dst = appendString(dst, a.name)
		set := 0
		if !typesOnly {
			for _, v := range a.values {
				set += tlvLen(len(v))
			}
		}
		dst = appendHeader(dst, berSet, set)
		if !typesOnly {
			for _, v := range a.values {
				dst = appendString(dst, v)
			}
		}
	}
	return dst
}

// attrLen is the content length of a PartialAttribute's SEQUENCE.
func attrLen(a attribute, typesOnly bool) int {
	set := 0
	if !typesOnly {
		for _, v := range a.values {
			set += tlvLen(len(v))
		}
	}
	return tlvLen(len(a.name)) + tlvLen(set)
}

func appendString(dst []byte, s string) []byte {
	dst = appendHeader(dst, berOctetString, len(s))
	return append(dst, s...)
}

// appendHeader appends an identifier octet and a definite length in its
// shortest form (X.690 §8.1.3).
func appendHeader(dst []byte, id byte, n int) []byte {
	dst = append(dst, id)
	if n <= 127 {
		return append(dst, byte(n))
	}
	k := lenBytes(n)
	dst = append(dst, 0x80|byte(k))
	for ; k > 0; k-- {
		dst = append(dst, byte(n>>(8*(k-1))))
	}
	return dst
}

// tlvLen is the encoded size of a one-octet identifier, a length and n
// content octets.
func tlvLen(n int) int {
	if n <= 127 {
		return 2 + n
	}
	return 2 + lenBytes(n) + n
}

// lenBytes is how many octets n takes unsigned.
func lenBytes(n int) int {
	k := 1
	for n > 255 {
		k++
		n >>= 8
	}
	return k
}

// intLen is how many octets an INTEGER's two's complement content takes
// (X.690 §8.3.2: the shortest).
func intLen(i int64) int {
	n := 1
	for i > 127 {
		n++
		i >>= 8
	}
	for i < -128 {
		n++
		i >>= 8
	}
	return n
}
