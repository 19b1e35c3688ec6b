package webadmin

import "net/http"

// OrganisationInput is the body of PATCH /api/v1/organisation: the settings
// an organisation's admin may change. Absent fields are left as they are.
type OrganisationInput struct {
	TimeZone *string `json:"time_zone"`
}

func (s *Server) apiGetOrganisation(w http.ResponseWriter, r *http.Request) {
	o, err := s.store.GetOrganisation(r.Context(), principal(r).OrganisationID)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, o)
}

func (s *Server) apiUpdateOrganisation(w http.ResponseWriter, r *http.Request) {
	var in OrganisationInput
	if err := decodeJSON(r, &in); err != nil {
		s.apiFail(w, r, err)
		return
	}
	id := principal(r).OrganisationID
	if in.TimeZone != nil {
		if _, err := s.store.SetTimeZone(r.Context(), id, *in.TimeZone); err != nil {
			s.apiFail(w, r, err)
			return
		}
	}
	s.apiGetOrganisation(w, r)
}
