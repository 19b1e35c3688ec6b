package bridge

import "testing"

// FuzzCheckPIN checks that only the exact host or guest PIN (or # alone in a
// room with only a host PIN) admits, whatever digits a caller keys.
func FuzzCheckPIN(f *testing.F) {
	f.Add("1234", "5678", "1234", true)
	f.Add("1234", "", "", true)
	f.Add("", "5678", "5678", false)
	f.Add("1234", "1234", "1234", true)
	f.Add("0000", "00000", "0000#", false)
	f.Fuzz(func(t *testing.T, host, guest, entered string, hash bool) {
		room := RoomInfo{HostPIN: host, GuestPIN: guest}
		role, ok := checkPIN(room, entered, hash)
		switch {
		case host != "" && entered == host:
			if !ok || role != RoleHost {
				t.Fatalf("host PIN gave %q %v", role, ok)
			}
		case guest != "" && entered == guest:
			if !ok {
				t.Fatal("guest PIN refused")
			}
		case host != "" && guest == "" && entered == "" && hash:
			if !ok || role != RoleGuest {
				t.Fatalf("# alone in a host-PIN room gave %q %v", role, ok)
			}
		default:
			if ok {
				t.Fatalf("entry %q admitted as %q to room host=%q guest=%q", entered, role, host, guest)
			}
		}
	})
}
