package webadmin

import "net/http"

// roomView is what a principal may see of a room: a viewer's PINs are masked.
func roomView(p Principal, r Room) Room {
	if !p.CanWrite() {
		return r.Masked()
	}
	return r
}

func (s *Server) apiListRooms(w http.ResponseWriter, r *http.Request) {
	page, err := pageParams(r)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	p := principal(r)
	rooms, total, err := s.store.ListRooms(r.Context(), p.OrganisationID, r.URL.Query().Get("q"), page)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	for i := range rooms {
		rooms[i] = roomView(p, rooms[i])
	}
	writeJSON(w, http.StatusOK, listBody[Room]{Items: rooms, Total: total})
}

func (s *Server) apiGetRoom(w http.ResponseWriter, r *http.Request) {
	p := principal(r)
	room, err := s.store.GetRoom(r.Context(), p.OrganisationID, r.PathValue("id"))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, roomView(p, room))
}

func (s *Server) apiCreateRoom(w http.ResponseWriter, r *http.Request) {
	var in RoomInput
	if err := decodeJSON(r, &in); err != nil {
		s.apiFail(w, r, err)
		return
	}
	room, err := s.store.CreateRoom(r.Context(), principal(r).OrganisationID, in)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/rooms/"+room.ID)
	writeJSON(w, http.StatusCreated, room)
}

func (s *Server) apiUpdateRoom(w http.ResponseWriter, r *http.Request) {
	var in RoomInput
	if err := decodeJSON(r, &in); err != nil {
		s.apiFail(w, r, err)
		return
	}
	room, err := s.store.UpdateRoom(r.Context(), principal(r).OrganisationID, r.PathValue("id"), in)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, room)
}

func (s *Server) apiDeleteRoom(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteRoom(r.Context(), principal(r).OrganisationID, r.PathValue("id")); err != nil {
		s.apiFail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
