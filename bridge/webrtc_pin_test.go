package bridge

import "testing"

func TestCheckPIN(t *testing.T) {
	both := RoomInfo{HostPIN: "2468", GuestPIN: "1357"}
	hostOnly := RoomInfo{HostPIN: "2468"}
	guestOnly := RoomInfo{GuestPIN: "1357"}
	tests := []struct {
		room RoomInfo
		pin  string
		role Role
		ok   bool
	}{
		{RoomInfo{}, "", RoleHost, true},
		{RoomInfo{}, "999", RoleHost, true}, // no PIN asked: whatever was typed
		{both, "2468", RoleHost, true},
		{both, "1357", RoleGuest, true},
		{both, "", "", false},
		{both, "1111", "", false},
		{hostOnly, "2468", RoleHost, true},
		{hostOnly, "", RoleGuest, true}, // guests come in without one
		{hostOnly, "1111", "", false},
		{guestOnly, "1357", RoleHost, true},
		{guestOnly, "", "", false},
	}
	for _, tt := range tests {
		role, ok := CheckPIN(tt.room, tt.pin)
		if role != tt.role || ok != tt.ok {
			t.Errorf("CheckPIN(%+v, %q) = %q, %v; want %q, %v", tt.room, tt.pin, role, ok, tt.role, tt.ok)
		}
	}
}
