package video

// H.264 NAL unit types (ITU-T H.264 Table 7-1) and the RTP packetization
// types of RFC 6184 §5.2.
const (
	NALSlice  = 1  // coded slice of a non-IDR picture
	NALIDR    = 5  // coded slice of an IDR picture
	NALSEI    = 6  // supplemental enhancement information
	NALSPS    = 7  // sequence parameter set
	NALPPS    = 8  // picture parameter set
	NALAUD    = 9  // access unit delimiter
	NALSTAPA  = 24 // single-time aggregation packet, RFC 6184 §5.7.1
	NALSTAPB  = 25
	NALMTAP16 = 26
	NALMTAP24 = 27
	NALFUA    = 28 // fragmentation unit, RFC 6184 §5.8
	NALFUB    = 29
)

// PayloadInfo is what one H.264 RTP payload carries, as far as switching
// needs to know.
type PayloadInfo struct {
	// IDR: the payload holds an IDR slice, or starts one (FU-A start bit).
	IDR bool
	// SPS and PPS: the payload holds a sequence or picture parameter set.
	SPS, PPS bool
	// FragmentStart and FragmentEnd: the payload is the first or last FU-A
	// fragment of a NAL unit. Single NAL units and STAP-A are both.
	FragmentStart, FragmentEnd bool
}

// Keyframe reports whether a receiver may start decoding at this payload:
// it begins an IDR access unit, either with its parameter sets or with the
// first fragment of the IDR slice itself.
func (i PayloadInfo) Keyframe() bool {
	return i.SPS || (i.IDR && i.FragmentStart)
}

// Inspect reads one H.264 RTP payload (RFC 6184 §5.6–5.8, non-interleaved
// mode: single NAL unit, STAP-A and FU-A) and says what it carries. It does
// not allocate. A malformed payload returns an error and what was read
// before the fault.
func Inspect(payload []byte) (PayloadInfo, error) {
	var info PayloadInfo
	err := NALUnits(payload, func(typ uint8, _ []byte) {
		switch typ {
		case NALIDR:
			info.IDR = true
		case NALSPS:
			info.SPS = true
		case NALPPS:
			info.PPS = true
		}
	})
	if err != nil {
		return info, err
	}
	info.FragmentStart, info.FragmentEnd = true, true
	if payload[0]&0x1f == NALFUA {
		info.FragmentStart = payload[1]&0x80 != 0
		info.FragmentEnd = payload[1]&0x40 != 0
		if !info.FragmentStart {
			// A continuation: the unit started in an earlier packet.
			info.IDR, info.SPS, info.PPS = false, false, false
		}
	}
	return info, nil
}

// NALUnits calls fn for each NAL unit in one H.264 RTP payload: once for a
// single NAL unit packet, once per aggregated unit of a STAP-A (RFC 6184
// §5.7.1), and once for an FU-A fragment (RFC 6184 §5.8) with the type of
// the fragmented unit and nal set to the fragment's payload (without the
// FU indicator and header). nal aliases payload. It does not allocate.
func NALUnits(payload []byte, fn func(typ uint8, nal []byte)) error {
	if len(payload) < 1 {
		return ErrShortPayload
	}
	if payload[0]&0x80 != 0 {
		return ErrForbiddenBit
	}
	typ := payload[0] & 0x1f
	switch {
	case typ >= 1 && typ <= 23:
		fn(typ, payload)
		return nil
	case typ == NALSTAPA:
		rest := payload[1:]
		if len(rest) == 0 {
			return ErrShortPayload
		}
		for len(rest) > 0 {
			if len(rest) < 2 {
				return ErrShortPayload
			}
			n := int(rest[0])<<8 | int(rest[1])
			rest = rest[2:]
			if n == 0 || n > len(rest) {
				return ErrShortPayload
			}
			nal := rest[:n]
			rest = rest[n:]
			if nal[0]&0x80 != 0 {
				return ErrForbiddenBit
			}
			fn(nal[0]&0x1f, nal)
		}
		return nil
	case typ == NALFUA:
		if len(payload) < 2 {
			return ErrShortPayload
		}
		fn(payload[1]&0x1f, payload[2:])
		return nil
	case typ == 0, typ >= 30:
		// Reserved (RFC 6184 Table 1): receivers ignore them.
		return nil
	default:
		return ErrUnsupportedNAL
	}
}
