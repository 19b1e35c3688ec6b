package pbldap

import (
	"encoding/binary"
	"hash/fnv"
	"strings"
)

// cursor is where a paged search (RFC 2696) continues: the index of the next
// folder to look at, the offset of the next directory entry in the store's
// order, and how many entries earlier pages sent. The cookie carries it with
// a fingerprint of the search, so a cookie only continues the search that
// made it. It holds no data: the next page re-reads the store, within the
// bound client's scope; a change between pages may shift it by an entry.
type cursor struct {
	folder, offset, sent int
}

func fingerprint(sc Scope, req *searchRequest) uint64 {
	h := fnv.New64a()
	folder := ""
	if sc.FolderID != nil {
		folder = *sc.FolderID
	}
	for _, s := range []string{sc.OrganisationID, folder, strings.ToLower(req.baseDN), string(rune('0' + req.scope)),
		req.filter.String(), strings.ToLower(strings.Join(req.attrs, ",")), map[bool]string{true: "t", false: "f"}[req.typesOnly]} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func (c cursor) cookie(fp uint64) []byte {
	b := binary.BigEndian.AppendUint64(nil, fp)
	b = binary.AppendUvarint(b, uint64(c.folder))
	b = binary.AppendUvarint(b, uint64(c.offset))
	return binary.AppendUvarint(b, uint64(c.sent))
}

// parseCookie reads a cookie of the search with fingerprint fp.
func parseCookie(b []byte, fp uint64) (cursor, bool) {
	if len(b) < 8 || binary.BigEndian.Uint64(b) != fp {
		return cursor{}, false
	}
	b = b[8:]
	var vals [3]int
	for i := range vals {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > 1<<31 {
			return cursor{}, false
		}
		vals[i] = int(v)
		b = b[n:]
	}
	if len(b) != 0 {
		return cursor{}, false
	}
	return cursor{folder: vals[0], offset: vals[1], sent: vals[2]}, true
}
