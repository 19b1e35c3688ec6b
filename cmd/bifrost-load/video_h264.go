package main

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"time"
)

// The synthetic H.264 stream: 720p Constrained Baseline at about 1 Mbit/s
// and 30 frames a second, packetised as RFC 6184 packetization-mode 1. The
// NAL unit headers, parameter sets and slice headers are valid H.264
// (ITU-T H.264 §7.3); the slice data is filler, since nobody decodes it:
// the bridge forwards without decoding, and the load generator's receivers
// only read the tag each frame carries.
const (
	videoClockRate = 90000
	videoFPS       = 30
	frameInterval  = time.Second / videoFPS
	tsPerFrame     = videoClockRate / videoFPS
	// maxVideoPayload bounds every RTP payload (FU-A fragments included).
	maxVideoPayload = 1200
	// pFrameBytes and idrFrameBytes are the slice sizes: a 720p call at
	// about 1 Mbit/s with a keyframe every few seconds (on request).
	pFrameBytes   = 3900
	idrFrameBytes = 25000
	// maxFrameCatchUp is how many frames one tick sends after a late tick
	// before skipping ahead.
	maxFrameCatchUp = 3
	// log2MaxFrameNum is the SPS's log2_max_frame_num (minus 4, plus 4):
	// frame_num is an 8-bit field of the slice header.
	log2MaxFrameNum = 8
)

// NAL unit types and header bytes (ITU-T H.264 Table 7-1; RFC 6184 §5.2).
const (
	nalSlice = 1
	nalIDR   = 5
	nalSEI   = 6
	nalSPS   = 7
	nalPPS   = 8
	nalSTAPA = 24
	nalFUA   = 28

	// nal_ref_idc 3 for parameter sets and IDR, 2 for reference P slices.
	hdrSPS   = 3<<5 | nalSPS
	hdrPPS   = 3<<5 | nalPPS
	hdrIDR   = 3<<5 | nalIDR
	hdrP     = 2<<5 | nalSlice
	hdrSEI   = nalSEI
	hdrSTAPA = 3<<5 | nalSTAPA
)

// A frame tag names the source and the frame in the stream's own bytes,
// which the bridge forwards untouched while it rewrites SSRC, sequence
// number and timestamp: a magic, the source's id and the frame number as
// five 7-bit groups each with the high bit set, and a flags byte. No byte
// of it is zero, so it never needs emulation prevention (H.264 §7.4.1).
const (
	tagLen     = 4 + 5 + 5 + 1
	tagScan    = 64 // how far into a NAL unit the receiver looks for it
	tagKeyflag = 0x01
)

var tagMagic = [4]byte{'B', 'f', 'L', 'd'}

// seiUUID is the uuid_iso_iec_11578 of our user_data_unregistered SEI
// (H.264 §D.1.6), no byte of it zero.
var seiUUID = [16]byte{0xb1, 0xf7, 0x05, 0x7a, 0x1d, 0x4c, 0x4e, 0x2b, 0x9a, 0x61, 0x3e, 0xc8, 0x52, 0x17, 0xd9, 0x6f}

// frameTag is what a frame's tag says.
type frameTag struct {
	Source   uint32
	Frame    uint32
	Keyframe bool
}

// putTag writes t at b[:tagLen].
func putTag(b []byte, t frameTag) {
	copy(b, tagMagic[:])
	put7(b[4:9], t.Source)
	put7(b[9:14], t.Frame)
	b[14] = 0x80
	if t.Keyframe {
		b[14] |= tagKeyflag
	}
}

func put7(b []byte, v uint32) {
	for i := range 5 {
		b[4-i] = 0x80 | byte(v&0x7f)
		v >>= 7
	}
}

func get7(b []byte) (uint32, bool) {
	var v uint32
	for _, c := range b[:5] {
		if c&0x80 == 0 {
			return 0, false
		}
		v = v<<7 | uint32(c&0x7f)
	}
	return v, true
}

// scanTag looks for a tag in the first tagScan bytes of a NAL unit.
func scanTag(nal []byte) (frameTag, bool) {
	end := min(len(nal), tagScan+tagLen)
	for i := 0; i+tagLen <= end; i++ {
		if nal[i] != tagMagic[0] || [4]byte(nal[i:i+4]) != tagMagic {
			continue
		}
		src, ok1 := get7(nal[i+4:])
		fr, ok2 := get7(nal[i+9:])
		if ok1 && ok2 && nal[i+14]&0x80 != 0 {
			return frameTag{Source: src, Frame: fr, Keyframe: nal[i+14]&tagKeyflag != 0}, true
		}
	}
	return frameTag{}, false
}

// findTag reads the frame tag of one received H.264 RTP payload (RFC 6184
// §5.6 single NAL unit, §5.7.1 STAP-A, §5.8 FU-A start fragment). A
// payload without one (a continuation fragment, the bridge's own parameter
// sets, someone else's stream) gives false; hostile input gives false,
// never a panic. It allocates nothing.
func findTag(payload []byte) (frameTag, bool) {
	if len(payload) < 2 || payload[0]&0x80 != 0 {
		return frameTag{}, false
	}
	switch typ := payload[0] & 0x1f; {
	case typ >= 1 && typ <= 23:
		return scanTag(payload[1:])
	case typ == nalSTAPA:
		rest := payload[1:]
		for len(rest) >= 2 {
			n := int(binary.BigEndian.Uint16(rest))
			rest = rest[2:]
			if n == 0 || n > len(rest) {
				break
			}
			if t, ok := scanTag(rest[1:n]); ok {
				return t, true
			}
			rest = rest[n:]
		}
	case typ == nalFUA:
		if payload[1]&0x80 != 0 { // S: the start of the unit
			return scanTag(payload[2:])
		}
	}
	return frameTag{}, false
}

// bitWriter writes the bits of H.264 syntax elements (H.264 §7.2) into a
// fixed buffer; it allocates nothing.
type bitWriter struct {
	b []byte
	n int // bits written
}

func (w *bitWriter) u(v uint32, bits int) {
	for i := bits - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.b[w.n/8] = 0
		}
		if v>>uint(i)&1 != 0 {
			w.b[w.n/8] |= 0x80 >> uint(w.n%8)
		}
		w.n++
	}
}

// ue writes an unsigned Exp-Golomb code (H.264 §9.1).
func (w *bitWriter) ue(v uint32) {
	x := v + 1
	bits := 0
	for y := x; y > 0; y >>= 1 {
		bits++
	}
	w.u(0, bits-1)
	w.u(x, bits)
}

// se writes a signed Exp-Golomb code (H.264 §9.1.1).
func (w *bitWriter) se(v int32) {
	if v > 0 {
		w.ue(uint32(2*v - 1))
	} else {
		w.ue(uint32(-2 * v))
	}
}

// trailing writes rbsp_trailing_bits (H.264 §7.3.2.11) and returns the
// bytes written.
func (w *bitWriter) trailing() int {
	w.u(1, 1)
	for w.n%8 != 0 {
		w.u(0, 1)
	}
	return w.n / 8
}

// Picture size: 1280×720 in 16×16 macroblocks.
const (
	widthMBs  = 1280 / 16
	heightMBs = 720 / 16
)

// buildSPS returns the sequence parameter set (H.264 §7.3.2.1.1): profile
// 66 with constraint_set0..2 (42e0, Constrained Baseline), level 3.1 (1f),
// frame_num of log2MaxFrameNum bits, picture order count type 2, one
// reference frame, 1280×720 progressive, no VUI.
func buildSPS() []byte {
	b := make([]byte, 32)
	b[0] = hdrSPS
	w := bitWriter{b: b[1:]}
	w.u(66, 8)
	w.u(0xe0, 8)
	w.u(31, 8)
	w.ue(0)                   // seq_parameter_set_id
	w.ue(log2MaxFrameNum - 4) // log2_max_frame_num_minus4
	w.ue(2)                   // pic_order_cnt_type
	w.ue(1)                   // max_num_ref_frames
	w.u(0, 1)                 // gaps_in_frame_num_value_allowed_flag
	w.ue(widthMBs - 1)        // pic_width_in_mbs_minus1
	w.ue(heightMBs - 1)       // pic_height_in_map_units_minus1
	w.u(1, 1)                 // frame_mbs_only_flag
	w.u(1, 1)                 // direct_8x8_inference_flag
	w.u(0, 1)                 // frame_cropping_flag
	w.u(0, 1)                 // vui_parameters_present_flag
	return b[:1+w.trailing()]
}

// buildPPS returns the picture parameter set (H.264 §7.3.2.2): CAVLC, one
// slice group, one reference, deblocking control present.
func buildPPS() []byte {
	b := make([]byte, 16)
	b[0] = hdrPPS
	w := bitWriter{b: b[1:]}
	w.ue(0)   // pic_parameter_set_id
	w.ue(0)   // seq_parameter_set_id
	w.u(0, 1) // entropy_coding_mode_flag
	w.u(0, 1) // bottom_field_pic_order_in_frame_present_flag
	w.ue(0)   // num_slice_groups_minus1
	w.ue(0)   // num_ref_idx_l0_default_active_minus1
	w.ue(0)   // num_ref_idx_l1_default_active_minus1
	w.u(0, 1) // weighted_pred_flag
	w.u(0, 2) // weighted_bipred_idc
	w.se(0)   // pic_init_qp_minus26
	w.se(0)   // pic_init_qs_minus26
	w.se(0)   // chroma_qp_index_offset
	w.u(1, 1) // deblocking_filter_control_present_flag
	w.u(0, 1) // constrained_intra_pred_flag
	w.u(0, 1) // redundant_pic_cnt_present_flag
	return b[:1+w.trailing()]
}

// putSliceStart writes the start of a slice NAL unit into b: its header
// byte, the slice header (H.264 §7.3.3) of an IDR (I slice, idr_pic_id)
// or a P slice (frame_num), byte-aligned, then the frame's tag. It returns
// the length; b must hold 32 bytes.
func putSliceStart(b []byte, key bool, frameNum uint32, idrPicID uint32, tag frameTag) int {
	w := bitWriter{b: b[1:]}
	if key {
		b[0] = hdrIDR
		w.ue(0)                 // first_mb_in_slice
		w.ue(7)                 // slice_type: I, all slices
		w.ue(0)                 // pic_parameter_set_id
		w.u(0, log2MaxFrameNum) // frame_num: 0 in an IDR
		w.ue(idrPicID)          // idr_pic_id
		w.u(0, 1)               // no_output_of_prior_pics_flag
		w.u(0, 1)               // long_term_reference_flag
	} else {
		b[0] = hdrP
		w.ue(0)                                             // first_mb_in_slice
		w.ue(5)                                             // slice_type: P, all slices
		w.ue(0)                                             // pic_parameter_set_id
		w.u(frameNum%(1<<log2MaxFrameNum), log2MaxFrameNum) // frame_num
		w.u(0, 1)                                           // num_ref_idx_active_override_flag
		w.u(0, 1)                                           // ref_pic_list_modification_flag_l0
		w.u(0, 1)                                           // adaptive_ref_pic_marking_mode_flag
	}
	w.se(0) // slice_qp_delta
	w.ue(1) // disable_deblocking_filter_idc: off
	n := 1 + w.trailing()
	putTag(b[n:], tag)
	return n + tagLen
}

// putSEI writes a user_data_unregistered SEI message (H.264 §7.3.2.3,
// §D.1.6) carrying tag into b and returns its length (36 bytes).
func putSEI(b []byte, tag frameTag) int {
	b[0] = hdrSEI
	b[1] = 5                           // payloadType: user_data_unregistered
	b[2] = byte(len(seiUUID) + tagLen) // payloadSize
	copy(b[3:], seiUUID[:])
	putTag(b[3+len(seiUUID):], tag)
	n := 3 + len(seiUUID) + tagLen
	b[n] = 0x80 // rbsp_trailing_bits
	return n + 1
}

// videoBitstream is what every synthetic stream shares read-only: the
// parameter sets and the filler that stands for coded slice data.
type videoBitstream struct {
	sps, pps []byte
	filler   []byte // no zero byte, so no start code emulation
}

var sharedBitstream = sync.OnceValue(func() *videoBitstream {
	rng := rand.New(rand.NewPCG(3, 4))
	f := make([]byte, idrFrameBytes)
	for i := range f {
		f[i] = byte(1 + rng.IntN(255))
	}
	return &videoBitstream{sps: buildSPS(), pps: buildPPS(), filler: f}
})
