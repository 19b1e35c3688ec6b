package bridge

import (
	"crypto/sha256"
	"crypto/subtle"
)

// maxPINDigits bounds a PIN entry; longer entries are wrong.
const maxPINDigits = 32

// pinEqual compares an entered PIN with a room's PIN in constant time: both are
// hashed first, so neither the content nor the length of the PIN shows in the
// time taken.
func pinEqual(entered, pin string) bool {
	a := sha256.Sum256([]byte(entered))
	b := sha256.Sum256([]byte(pin))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// checkPIN decides the role an entry gives in room: the host PIN makes a host,
// the guest PIN a guest. In a room with only a host PIN, guests join by pressing
// # alone (hash true, nothing entered), as on Pexip. In a room with only a guest
// PIN, whoever knows it is a host: there is no other way to be one. Both PINs
// are always compared, so the time taken does not say which one matched.
func checkPIN(room RoomInfo, entered string, hash bool) (Role, bool) {
	host := room.HostPIN != "" && pinEqual(entered, room.HostPIN)
	guest := room.GuestPIN != "" && pinEqual(entered, room.GuestPIN)
	switch {
	case host:
		return RoleHost, true
	case guest && room.HostPIN == "":
		return RoleHost, true
	case guest:
		return RoleGuest, true
	case room.GuestPIN == "" && room.HostPIN != "" && entered == "" && hash:
		return RoleGuest, true
	}
	return "", false
}
