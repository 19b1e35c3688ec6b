package webadmin

import (
	"net"
	"net/http"
	"strconv"
	"strings"
)

// roomRow is a room as the list shows it, with how to reach it.
type roomRow struct {
	Room    Room
	SIPURI  string
	JoinURL string
}

type roomsData struct {
	Rooms []roomRow
	Query string
	Pager pager
}

type roomFormData struct {
	ID, Name string
	Fields   []field
	Wait     bool
	SRTP     []choice
}

// choice is one option of a select.
type choice struct {
	Value, Label string
	Selected     bool
}

// srtpChoices are the SRTP policies a room may take, current selected.
func srtpChoices(current string) []choice {
	out := []choice{
		{Value: "", Label: "System default"},
		{Value: "required", Label: "Required: refuse unencrypted calls"},
		{Value: "preferred", Label: "Preferred: encrypt when the endpoint offers it"},
		{Value: "off", Label: "Off: never encrypt"},
	}
	for i := range out {
		out[i].Selected = out[i].Value == current
	}
	return out
}

// SIPURI is the URI endpoints dial to reach a room (the numeric alias at the SIP
// domain, or at the host the admin was reached at).
func (s *Server) sipURI(r *http.Request, alias string) string {
	host := s.deps.SIPDomain
	if host == "" {
		host = r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			host = h
		}
	}
	return "sip:" + alias + "@" + host
}

// joinURL is the browser join link of a room.
func (s *Server) joinURL(r *http.Request, alias string) string {
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return base + "/join/" + alias
}

func (s *Server) pageRooms(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	page := pageOf(r)
	q := r.URL.Query().Get("q")
	rooms, total, err := s.store.ListRooms(r.Context(), p.OrganisationID, q, page)
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	d := roomsData{Query: q, Pager: makePager(r, page, len(rooms), total)}
	for _, room := range rooms {
		d.Rooms = append(d.Rooms, roomRow{Room: roomView(p, room), SIPURI: s.sipURI(r, room.Alias), JoinURL: s.joinURL(r, room.Alias)})
	}
	s.render(w, r, http.StatusOK, "rooms", "Rooms", "/admin/rooms", d)
}

func roomFields(room Room) []field {
	maxp := ""
	if room.MaxParticipants > 0 {
		maxp = strconv.Itoa(room.MaxParticipants)
	}
	return []field{
		{Name: "name", Label: "Name", Type: "text", Value: room.Name, Required: true},
		{Name: "alias", Label: "Numeric alias", Type: "text", Value: room.Alias, Required: true, Pattern: "[0-9]{1,20}",
			Hint: "What endpoints dial, e.g. 1234. Unique across the deployment."},
		{Name: "name_alias", Label: "Name alias", Type: "text", Value: room.NameAlias, Hint: "Optional dialable name, e.g. board.room."},
		{Name: "host_pin", Label: "Host PIN", Type: "text", Value: room.HostPIN, Pattern: "[0-9]{4,10}", Autocomplete: "off", Hint: "Optional, 4 to 10 digits."},
		{Name: "guest_pin", Label: "Guest PIN", Type: "text", Value: room.GuestPIN, Pattern: "[0-9]{4,10}", Autocomplete: "off", Hint: "Optional, 4 to 10 digits; different from the host PIN."},
		{Name: "max_participants", Label: "Maximum participants", Type: "number", Value: maxp, Hint: "Empty for no limit."},
		{Name: "owner", Label: "Owner", Type: "text", Value: room.Owner},
	}
}

// roomFromForm reads the room form. Every field is set, so an update replaces
// them all (an emptied PIN removes it).
func roomFromForm(r *http.Request) (RoomInput, Room, error) {
	v := func(k string) *string { s := strings.TrimSpace(r.PostFormValue(k)); return &s }
	in := RoomInput{Name: v("name"), Alias: v("alias"), NameAlias: v("name_alias"), HostPIN: v("host_pin"),
		GuestPIN: v("guest_pin"), Owner: v("owner"), GuestsWaitForHost: ptrTo(r.PostFormValue("guests_wait_for_host") != ""),
		SRTPPolicy: v("srtp_policy")}
	echo := Room{Name: *in.Name, Alias: *in.Alias, NameAlias: *in.NameAlias, HostPIN: *in.HostPIN, GuestPIN: *in.GuestPIN,
		Owner: *in.Owner, GuestsWaitForHost: *in.GuestsWaitForHost, SRTPPolicy: *in.SRTPPolicy}
	n := 0
	if m := strings.TrimSpace(r.PostFormValue("max_participants")); m != "" {
		var err error
		if n, err = strconv.Atoi(m); err != nil {
			return in, echo, invalid("max_participants", "must be a whole number")
		}
	}
	in.MaxParticipants = &n
	echo.MaxParticipants = n
	return in, echo, nil
}

func (s *Server) pageNewRoom(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "room_form", "New room", "/admin/rooms", roomFormData{Fields: roomFields(Room{}), SRTP: srtpChoices("")})
}

func (s *Server) pageCreateRoom(w http.ResponseWriter, r *http.Request) {
	in, echo, err := roomFromForm(r)
	if err == nil {
		var room Room
		room, err = s.store.CreateRoom(r.Context(), principal(r).OrganisationID, in)
		if err == nil {
			redirectFlash(w, r, "/admin/rooms", "Created room "+room.Name+" ("+room.Alias+").")
			return
		}
	}
	fields := roomFields(echo)
	if formError(fields, err) {
		s.render(w, r, http.StatusBadRequest, "room_form", "New room", "/admin/rooms", roomFormData{Fields: fields, Wait: echo.GuestsWaitForHost, SRTP: srtpChoices(echo.SRTPPolicy)})
		return
	}
	s.pageFail(w, r, err)
}

func (s *Server) pageEditRoom(w http.ResponseWriter, r *http.Request) {
	room, err := s.store.GetRoom(r.Context(), principal(r).OrganisationID, r.PathValue("id"))
	if err != nil {
		s.pageFail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "room_form", "Edit room", "/admin/rooms",
		roomFormData{ID: room.ID, Name: room.Name, Fields: roomFields(room), Wait: room.GuestsWaitForHost, SRTP: srtpChoices(room.SRTPPolicy)})
}

func (s *Server) pageUpdateRoom(w http.ResponseWriter, r *http.Request) {
	org, id := principal(r).OrganisationID, r.PathValue("id")
	if _, err := s.store.GetRoom(r.Context(), org, id); err != nil {
		s.pageFail(w, r, err)
		return
	}
	in, echo, err := roomFromForm(r)
	if err == nil {
		var room Room
		room, err = s.store.UpdateRoom(r.Context(), org, id, in)
		if err == nil {
			redirectFlash(w, r, "/admin/rooms", "Saved room "+room.Name+".")
			return
		}
	}
	fields := roomFields(echo)
	if formError(fields, err) {
		s.render(w, r, http.StatusBadRequest, "room_form", "Edit room", "/admin/rooms",
			roomFormData{ID: id, Name: echo.Name, Fields: fields, Wait: echo.GuestsWaitForHost, SRTP: srtpChoices(echo.SRTPPolicy)})
		return
	}
	s.pageFail(w, r, err)
}

func (s *Server) pageDeleteRoom(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteRoom(r.Context(), principal(r).OrganisationID, r.PathValue("id")); err != nil {
		s.pageFail(w, r, err)
		return
	}
	redirectFlash(w, r, "/admin/rooms", "Deleted the room.")
}
