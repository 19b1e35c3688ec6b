package bridge

// CheckPIN says whether pin, typed whole into a form (a browser's join page)
// rather than keyed digit by digit, admits to room, and with which role: the
// same rules as the PIN IVR with the entry ended by # (checkPIN). The
// comparison takes constant time. Legs that collect the PIN themselves refuse
// a wrong one before Admit, then hand the right one to the IVR through
// Participant.ReceiveDigit followed by '#'.
func CheckPIN(room RoomInfo, pin string) (Role, bool) {
	if room.HostPIN == "" && room.GuestPIN == "" {
		return RoleHost, true
	}
	return checkPIN(room, pin, true)
}
